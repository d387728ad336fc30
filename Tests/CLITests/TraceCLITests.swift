import Foundation
import TestSupport
import Testing

@Suite struct TraceCLITests {
    @Test func traceToAnUnknownPublicAddressReachesALinuxHostThere() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to", "8.8.8.8:443",
                            "--app", "https", "--out", out, "--expect", "ok"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("✔ trace"))
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(files.contains { $0.hasSuffix("host-8.8.8.8.pcap") })
        #expect(files.contains("report.json"))
    }

    @Test func traceFromAnIPFindsTheLambdaAndFailsItsExpectationWithExitOne() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl.yaml", "--from", "10.0.1.10", "--to", "sftp.example.com:22",
                            "--app", "sftp", "--out", out, "--expect", "ok"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("TIMEOUT"))
        #expect(r.stdout.contains("outbound: * DENY all 0.0.0.0/0"))
    }

    @Test func silentUnknownHostTimesOutAndClosedIsRefused() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let silent = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                                 "192.0.2.44:22", "--unknown-host", "silent", "--out", out, "--expect", "timeout"])
        #expect(silent.status == 0, "\(silent.stdout)")
        let closed = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                                 "192.0.2.44:22", "--unknown-host", "closed", "--out", out, "--expect", "refused"])
        #expect(closed.status == 0, "\(closed.stdout)")
    }

    /// The ad-hoc flow runs alone: the scenario's generators (60,000 flows here) do not run with it.
    @Test func traceRunsItsFlowAloneWithoutTheScenariosGenerators() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/nat-port-exhaustion.yaml", "--from", "uploader", "--to", "sftp.example.com:22",
                            "--app", "tcp", "--out", out, "--capture", "none", "--expect", "ok"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("✔ trace"))
        #expect(!r.stdout.contains("invocations"))
        #expect(r.stdout.contains("ConnectionAttemptCount 1,"))
    }

    @Test func unknownSourceIsInvalidInputWithOneLine() throws {
        let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl.yaml", "--from", "nobody", "--to", "sftp.example.com:22"])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("'nobody'"))
    }

    /// A negative `--size` crashed in the conversation's builder (a precondition), and a huge one in the
    /// allocation of its bytes; both are invalid input, refused before anything is written, in the words the
    /// scenario loader uses for a flow's `size`.
    @Test func sizeOutOfRangeIsInvalidInputWithOneLine() throws {
        for (size, message) in [("-5", "invalid size '-5' (expected bytes, e.g. 1234, 100KB, 2MB or 1MiB)"),
                                ("1073741825", "size '1073741825' is over 1 GiB (1073741824 bytes)")] {
            let out = makeTempDirectory("vpcsim-trace")
            let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                                "sftp.example.com:22", "--app", "sftp", "--size=\(size)", "--out", out])
            #expect(r.status == 2, "\(size): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
            #expect(r.stderr.hasPrefix("vpcsim: error: --size: \(message)"), "\(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
        }
    }

    static func report(_ out: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func flow(_ out: String) throws -> [String: Any] {
        let flows = try #require(try report(out)["flows"] as? [[String: Any]])
        return try #require(flows.first)
    }

    /// Without `--app`, the flow speaks what the destination declares listening on the port: SFTP against the
    /// story's SFTP port (a `tcp` echo there reported "ok" for a conversation sshd would never have).
    @Test func theDefaultAppIsWhatListensOnThePort() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                            "sftp.example.com:22", "--out", out, "--expect", "ok"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("  ✔ trace  lambda uploader → sftp.example.com:22  sftp   ok"), "\(r.stdout)")
        #expect(r.stdout.contains("  app sftp: what sftp.example.com declares listening on port 22\n"))
        let flow = try Self.flow(out)
        #expect(flow["app"] as? String == "sftp")
        #expect(flow["app_basis"] as? String == "what sftp.example.com declares listening on port 22")
        // The SSH banner crossed: the server spoke SSH, not an echo.
        let pcap = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first { $0.hasPrefix("04-host-") })
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/" + pcap))
        #expect(bytes.range(of: Data("SSH-2.0-OpenSSH".utf8)) != nil)
        // --app still names it, and then nothing is said about how it was chosen.
        let named = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                                "sftp.example.com:443", "--app", "https", "--out", out, "--quiet"])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(try Self.flow(out)["app"] as? String == "https")
        #expect(try Self.flow(out)["app_basis"] == nil)
    }

    /// Where the scenario declares nothing on the port (an instance declares no listeners), the port's usual
    /// application, else tcp; the report says it was assumed.
    @Test func anUndeclaredPortGetsItsUsualAppOrTcpAndTheReportSaysItWasAssumed() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let ssh = try vpcsim(["trace", "scenarios/inbound-to-instance.yaml", "--from", "uploader", "--to", "web:22",
                              "--out", out, "--expect", "ok"])
        #expect(ssh.status == 0, "\(ssh.stderr)")
        #expect(ssh.stdout.contains("  app sftp: assumed, port 22's usual application (the scenario declares no "
            + "application at web:22; --app names one)\n"), "\(ssh.stdout)")
        #expect(try Self.flow(out)["app"] as? String == "sftp")
        let other = try vpcsim(["trace", "scenarios/closed-port.yaml", "--from", "uploader", "--to",
                                "sftp.example.com:8080", "--out", out, "--expect", "refused"])
        #expect(other.status == 0, "\(other.stderr)")
        #expect(other.stdout.contains("  app tcp: assumed (sftp.example.com:8080 is closed in the scenario; --app names one)\n"),
                "\(other.stdout)")
        #expect(try Self.flow(out)["app"] as? String == "tcp")
    }

    /// `--size` is read as a flow's `size`: the same notations (1MB is 1,000,000 bytes, 1MiB 1,048,576).
    @Test func sizeTakesAFlowsNotation() throws {
        var packets: [String: [Int]] = [:]
        for size in ["1MB", "1000000", "1MiB"] {
            let out = makeTempDirectory("vpcsim-trace")
            let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                                "sftp.example.com:22", "--size", size, "--out", out, "--quiet", "--expect", "ok"])
            #expect(r.status == 0, "\(size): \(r.stderr)")
            let captures = try #require(try Self.report(out)["captures"] as? [[String: Any]])
            packets[size] = captures.compactMap { $0["packets"] as? Int }
        }
        #expect(packets["1MB"] == packets["1000000"])
        #expect((packets["1MiB"]?.first ?? 0) > (packets["1MB"]?.first ?? .max))
        let bad = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                              "sftp.example.com:22", "--size", "50XB"])
        CLIErrors.expectOneLineError(bad, "--size: invalid size '50XB' (expected bytes, e.g. 1234, 100KB, 2MB or 1MiB)")
    }

    /// `--client` and `--connect-timeout` as a flow's `client` and `connect_timeout`: OpenSSH has no timeout of its
    /// own (the Lambda's 30 s ends it), ssh2 gives up at 20 s, OpenSSH with ConnectTimeout=5 at 5 s.
    @Test func clientAndConnectTimeoutAreAFlowsClientAndConnectTimeout() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let base = ["trace", "scenarios/lambda-sftp-nacl.yaml", "--from", "uploader", "--to", "sftp.example.com:22",
                    "--out", out, "--quiet", "--expect", "timeout"]
        let ssh2 = try vpcsim(base)
        #expect(ssh2.stdout.contains("20.000 s  Timed out while waiting for handshake (ssh2 readyTimeout 20 s)"), "\(ssh2.stdout)")
        let openssh = try vpcsim(base + ["--client", "openssh"])
        #expect(openssh.stdout.contains("30.000 s  Task timed out after 30.00 seconds (Lambda timeout)"), "\(openssh.stdout)")
        let five = try vpcsim(base + ["--client", "openssh", "--connect-timeout", "5s"])
        #expect(five.stdout.contains(" 5.000 s  ssh: connect to host 203.0.113.22 port 22: Connection timed out"), "\(five.stdout)")
        for r in [ssh2, openssh, five] { #expect(r.status == 0, "\(r.stderr)") }
        CLIErrors.expectOneLineError(try vpcsim(base + ["--client", "putty"]),
                                     "--client: invalid client 'putty' (expected ssh2, openssh, paramiko, curl, plain)")
        CLIErrors.expectOneLineError(try vpcsim(base + ["--connect-timeout", "0"]),
                                     "--connect-timeout: invalid connect_timeout '0' (expected a duration such as 20s)")
    }

    /// `--hold` keeps the connection open, idle, after the exchange, as a flow's `hold`; `--source-port` fixes the
    /// client's port, as `source_port`.
    @Test func holdAndSourcePortAreAFlowsHoldAndSourcePort() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let base = ["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to", "sftp.example.com:22",
                    "--out", out, "--quiet", "--expect", "ok"]
        let plain = try vpcsim(base)
        #expect(plain.status == 0, "\(plain.stderr)")
        let short = try #require(try Self.flow(out)["elapsed_s"] as? Double)
        let held = try vpcsim(base + ["--hold", "10s", "--source-port", "40000"])
        #expect(held.status == 0, "\(held.stderr)")
        let flow = try Self.flow(out)
        let long = try #require(flow["elapsed_s"] as? Double)
        #expect(short < 1 && abs(long - short - 10) < 0.001, "\(short) \(long)")
        #expect(flow["client_port"] as? Int == 40000)
        CLIErrors.expectOneLineError(try vpcsim(base + ["--hold", "9000h"]),
                                     "--hold: hold '9000h' is over a year (8760h), the longest a duration in a scenario may be")
        CLIErrors.expectOneLineError(try vpcsim(base + ["--source-port", "70000"]),
                                     "--source-port: invalid source_port '70000' (expected 1-65535)")
        CLIErrors.expectOneLineError(try vpcsim(base + ["--request-size", "3 parsecs"]),
                                     "--request-size: invalid request_size '3 parsecs' (expected bytes, e.g. 1234, 100KB, 2MB or 1MiB)")
    }

    /// A hold that would run the trace past what classic pcap can hold is refused, as the loader refuses a
    /// scenario's flow: nothing is written.
    @Test func aHoldPastTheCaptureTimeRangeIsRefused() throws {
        let dir = makeTempDirectory("vpcsim-trace")
        let text = try String(contentsOfFile: repositoryRoot + "/scenarios/lambda-sftp-nacl-fixed.yaml", encoding: .utf8)
            .replacingOccurrences(of: "start_time: 2026-11-26T09:00:00Z", with: "start_time: 2037-06-01T00:00:00Z")
        try text.write(toFile: dir + "/late.yaml", atomically: true, encoding: .utf8)
        let r = try vpcsim(["trace", dir + "/late.yaml", "--from", "uploader", "--to", "sftp.example.com:22",
                            "--hold", "8000h", "--out", dir + "/out"])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.hasPrefix("vpcsim: error: the trace may last until 2038-"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }

    /// `--quiet` prints the flow's summary line only, as `run --quiet` does.
    @Test func quietPrintsTheSummaryLineOnly() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl.yaml", "--from", "uploader", "--to", "sftp.example.com:443",
                            "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("  ✔ trace  lambda uploader → sftp.example.com:443  https  ok"), "\(r.stdout)")
        #expect(r.stdout.split(separator: "\n").count == 1)
        #expect(FileManager.default.fileExists(atPath: out + "/report.txt"))
    }

    /// A missing argument is a usage error: exit 2, one line, as the README says.
    @Test func aMissingArgumentExitsTwoWithOneLine() throws {
        CLIErrors.expectOneLineError(try vpcsim(["trace", "scenarios/lambda-sftp-nacl.yaml", "--to", "sftp.example.com:22"]),
                                     "missing expected argument '--from <from>' (see 'vpcsim trace --help')")
    }

    /// `--steps`, `--keepalive` and `--server-alive-interval` are a flow's `steps`, `keepalive` and
    /// `server_alive_interval`: the 400 s pause of sftp-idle-nat-timeout loses the NAT gateway's mapping (reset),
    /// and either keepalive every 60 s keeps it (ok), as the scenario and its fixed twin show.
    @Test func stepsAndKeepalivesAreAFlowsStepsAndKeepalives() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let base = ["trace", "scenarios/sftp-idle-nat-timeout.yaml", "--from", "batch", "--to", "sftp.example.com:22",
                    "--client", "openssh", "--steps", "ls, idle 400s, put 1MB", "--out", out, "--quiet"]
        let idle = try vpcsim(base + ["--expect", "reset"])
        #expect(idle.status == 0, "\(idle.stdout)\(idle.stderr)")
        let flow = try Self.flow(out)
        #expect(flow["outcome"] as? String == "reset")
        #expect((flow["elapsed_s"] as? Double).map { $0 > 400 } == true, "\(flow)")
        for keepalive in [["--server-alive-interval", "60s"], ["--keepalive", "60s"],
                          ["--server-alive-interval", "60s", "--server-alive-count-max", "1"]] {
            let r = try vpcsim(base + keepalive + ["--expect", "ok"])
            #expect(r.status == 0, "\(keepalive): \(r.stdout)\(r.stderr)")
            #expect(try Self.flow(out)["outcome"] as? String == "ok", "\(keepalive)")
        }
    }

    /// The session options are checked as the scenario loader checks a flow's keys, each problem one line naming
    /// the option, exit 2, nothing written.
    @Test func badSessionOptionsAreInvalidInputWithOneLine() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let base = ["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to", "sftp.example.com:22",
                    "--out", out + "/o"]
        let cases: [([String], String)] = [
            (["--steps", "ls, jump, put 1MB"],
             "--steps: invalid step 'jump' (expected ls, put SIZE, get SIZE or idle DURATION, e.g. put 1MB or idle 400s)"),
            (["--steps", "ls,,put 1MB"],
             "--steps: invalid step '' (expected ls, put SIZE, get SIZE or idle DURATION, e.g. put 1MB or idle 400s)"),
            (["--steps", "put lots"],
             "--steps: invalid put size 'lots' (expected bytes, e.g. 1234, 100KB, 2MB or 1MiB)"),
            (["--steps", "idle 5000h, idle 5000h"],
             "--steps: the idle steps add up to over a year (8760h), the longest a duration in a scenario may be"),
            (["--steps", "ls", "--size", "5MB"], "--size and --steps together (a put step gives its size)"),
            (["--steps", "ls", "--app", "https"], "--steps is for app sftp, not https"),
            (["--server-alive-interval", "60s", "--app", "tcp"], "--server-alive-interval is for app sftp, not tcp"),
            (["--server-alive-count-max", "3"], "--server-alive-count-max needs --server-alive-interval"),
            (["--server-alive-interval", "60s", "--server-alive-count-max", "5000"],
             "--server-alive-count-max: invalid server_alive_count_max '5000' (expected 0-1000, e.g. 3)"),
            (["--server-alive-interval", "60s", "--hold", "10s"],
             "--hold with --server-alive-interval (write the pause as an idle step: --steps \"..., idle 120s\")"),
            (["--server-alive-interval", "0"],
             "--server-alive-interval: invalid server_alive_interval '0' (expected a duration such as 60s)"),
            (["--keepalive", "soon"], "--keepalive: invalid keepalive 'soon' (expected a duration such as 60s)"),
        ]
        for (options, message) in cases {
            CLIErrors.expectOneLineError(try vpcsim(base + options), message)
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/o"))
    }

    /// A `get` step downloads: the server's side of the capture carries the file, the client's only requests and
    /// ACKs.
    @Test func aGetStepDownloadsTheFile() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/sftp-idle-nat-timeout.yaml", "--from", "batch", "--to",
                            "sftp.example.com:22", "--client", "openssh", "--steps", "ls, get 2MB", "--out", out,
                            "--quiet", "--expect", "ok"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let host = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first { $0.hasPrefix("04-host") })
        func bytes(_ filter: String) throws -> Int {
            try TShark.fields(out + "/" + host, ["tcp.len"], filter: filter).compactMap { Int($0) }.reduce(0, +)
        }
        let down = try bytes("tcp.srcport == 22")
        let up = try bytes("tcp.dstport == 22")
        #expect(down > 2_000_000 && down < 2_100_000, "\(down)")
        #expect(up < 30_000, "\(up)")
        #expect(try TShark.problems(in: out + "/" + host).problems == [])
    }
}
