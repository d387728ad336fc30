import Foundation
import TestSupport
import Testing

/// The output directory: locked for a run (a second run into it fails at once), and what is wrong with a path
/// that cannot be one.
@Suite struct OutputDirectoryCLITests {
    /// A second run into a directory another run is writing fails at once, whatever the command; the lock is
    /// held here by this process, as a running vpcsim holds it.
    @Test func aSecondRunIntoALockedDirectoryFailsAtOnce() throws {
        let out = makeTempDirectory("vpcsim-locked")
        let fd = open(out + "/.vpcsim.lock", O_RDWR | O_CREAT, 0o644)
        try #require(fd >= 0)
        try #require(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let message = "\(out): another vpcsim run is writing into this directory (\(out)/.vpcsim.lock is locked)"
        CLIErrors.expectOneLineError(try vpcsim(["run", "scenarios/closed-port.yaml", "--out", out]), message)
        CLIErrors.expectOneLineError(try vpcsim(["trace", "scenarios/closed-port.yaml", "--from", "uploader", "--to",
                                                 "sftp.example.com:22", "--out", out]), message)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [".vpcsim.lock"])
        close(fd)
        let r = try vpcsim(["run", "scenarios/closed-port.yaml", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/report.json"))
        #expect(!FileManager.default.fileExists(atPath: out + "/.vpcsim.lock"), "removed when the run ends")
    }

    /// Two real runs at once into one directory: one writes it, the other fails at once with exit 2.
    @Test func twoConcurrentRunsIntoOneDirectoryDoNotMix() throws {
        let out = makeTempDirectory("vpcsim-concurrent")
        // The NAT exhaustion fleet with 3,000 flows (seconds for each run): the runs start together, so the second
        // to take the lock finds the first still writing.
        let fleet = try String(contentsOfFile: repositoryRoot + "/scenarios/nat-port-exhaustion.yaml", encoding: .utf8)
        let scenario = try CLIErrors.write(fleet.replacingOccurrences(of: "count: 60000", with: "count: 3000")
            .replacingOccurrences(of: "    expect: {min_ok: 55000, max_ok: 55000, dropped_at: public-nat}\n", with: ""), "fleet.yaml")
        var runs: [(process: Process, stderr: String)] = []
        for seed in 1...2 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: vpcsimExecutable())
            p.arguments = ["run", scenario, "--out", out, "--no-all-hops", "--capture", "none", "--quiet", "--seed", "\(seed)"]
            p.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
            let errPath = makeTempDirectory("vpcsim-concurrent-stderr") + "/stderr"
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            runs.append((p, errPath))
        }
        for r in runs { r.process.waitUntilExit() }
        let statuses = runs.map(\.process.terminationStatus)
        #expect(statuses.sorted() == [0, 2], "one run writes, the other fails at once")
        if let loser = statuses.firstIndex(of: 2) {
            #expect(try String(contentsOfFile: runs[loser].stderr, encoding: .utf8)
                == "vpcsim: error: \(out): another vpcsim run is writing into this directory (\(out)/.vpcsim.lock is locked)\n")
            let report = try String(contentsOfFile: out + "/report.json", encoding: .utf8)
            #expect(report.contains("\"seed\" : \(2 - loser),"), "the report is the run's that wrote the directory")
        }
    }

    @Test func anOutputPathBelowAFileOrThroughALinkLoopSaysWhatIsWrong() throws {
        let dir = makeTempDirectory("vpcsim-badout")
        _ = FileManager.default.createFile(atPath: dir + "/file", contents: Data("x".utf8))
        try FileManager.default.createSymbolicLink(atPath: dir + "/loop1", withDestinationPath: dir + "/loop2")
        try FileManager.default.createSymbolicLink(atPath: dir + "/loop2", withDestinationPath: dir + "/loop1")
        CLIErrors.expectOneLineError(try vpcsim(["run", "scenarios/closed-port.yaml", "--out", dir + "/file/sub"]),
                                     "\(dir)/file/sub: cannot create the output directory: \(dir)/file is a file, not a directory")
        CLIErrors.expectOneLineError(try vpcsim(["run", "scenarios/closed-port.yaml", "--out", dir + "/file"]),
                                     "\(dir)/file: cannot create the output directory: \(dir)/file is a file, not a directory")
        CLIErrors.expectOneLineError(try vpcsim(["run", "scenarios/closed-port.yaml", "--out", dir + "/loop1/x"]),
                                     "\(dir)/loop1/x: cannot create the output directory: \(dir)/loop1: too many levels of "
                                         + "symbolic links (a loop of links)")
    }

    /// captures/reference holds the reference captures: a scenario named `reference` (whose default output
    /// directory it would be) and an --out into it, however spelt, are refused before anything is written there;
    /// captures/reference-trace is another directory. Run in a directory of its own with a captures/reference of
    /// its own, so that a run that wrote would not touch the repository's.
    @Test func noRunWritesIntoTheReferenceCaptures() throws {
        let cwd = makeTempDirectory("vpcsim-reference")
        let reference = cwd + "/captures/reference"
        try FileManager.default.createDirectory(atPath: reference + "/linux-netns", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: reference + "/linux-netns/real.pcap", contents: Data("real".utf8))
        try FileManager.default.createSymbolicLink(atPath: cwd + "/link", withDestinationPath: reference)
        let closedPort = try String(contentsOfFile: repositoryRoot + "/scenarios/closed-port.yaml", encoding: .utf8)
        let scenario = cwd + "/reference.yaml"
        try closedPort.replacingOccurrences(of: "\nname: closed-port\n", with: "\n")
            .write(toFile: scenario, atomically: true, encoding: .utf8)
        let why = "captures/reference, which holds the reference captures and is never written by a run; choose "
            + "another with --out DIR"
        func vpcsimIn(_ arguments: [String]) throws -> ProcessResult { try run(vpcsimExecutable(), arguments, cwd: cwd) }

        CLIErrors.expectOneLineError(try vpcsimIn(["run", scenario, "--quiet"]),
                                     "\(scenario): the default output directory is \(why)")
        for out in ["captures/reference", "captures/reference/linux-netns", "./captures/x/../reference/new",
                    cwd + "/captures/reference/", "link/new"] {
            let inside = out.hasSuffix("reference") || out.hasSuffix("reference/") ? "" : "inside "
            CLIErrors.expectOneLineError(try vpcsimIn(["run", scenario, "--out", out, "--quiet"]),
                                         "\(out): not an output directory: it is \(inside)\(why)")
        }
        CLIErrors.expectOneLineError(try vpcsimIn(["trace", scenario, "--from", "uploader", "--to", "sftp.example.com:2222",
                                                   "--out", "captures/reference/trace", "--quiet"]),
                                     "captures/reference/trace: not an output directory: it is inside \(why)")
        let files = try FileManager.default.subpathsOfDirectory(atPath: reference).sorted()
        #expect(files == ["linux-netns", "linux-netns/real.pcap"], "nothing written into captures/reference")
        #expect(try String(contentsOfFile: reference + "/linux-netns/real.pcap", encoding: .utf8) == "real")

        let trace = try vpcsimIn(["trace", scenario, "--from", "uploader", "--to", "sftp.example.com:2222", "--quiet"])
        #expect(trace.status == 0, "\(trace.stderr)")
        #expect(FileManager.default.fileExists(atPath: cwd + "/captures/reference-trace/report.json"))
    }
}
