import Foundation
import Packets

/// Where the committed fixtures live (Tests/Fixtures, and the reference captures in captures/reference), found
/// from this source file.
public enum Fixtures {
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()  // TestSupport
        url.deleteLastPathComponent()  // Tests
        return url.appendingPathComponent("Fixtures").path
    }()

    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// The real reference captures users compare against (captures/reference at the repository root, described
    /// with their sources and licences in captures/README.md).
    public static let referenceRoot = repositoryRoot + "/captures/reference"

    /// A file under captures/reference: `reference("linux-netns/ok/lambda-eth0.pcap")`.
    public static func reference(_ relative: String) -> String { referenceRoot + "/" + relative }

    /// Every .pcap/.pcapng under captures/reference, sorted.
    public static func allCaptures() -> [String] {
        let base = referenceRoot
        let e = FileManager.default.enumerator(atPath: base)
        var out: [String] = []
        while let f = e?.nextObject() as? String {
            if f.hasSuffix(".pcap") || f.hasSuffix(".pcapng") { out.append(base + "/" + f) }
        }
        return out.sorted()
    }

    /// The records of a capture file.
    public static func read(_ path: String) throws -> (LinkType, [CapturedPacket]) {
        let r = try CaptureReader(path: path)
        return (r.linkType, try r.readAll())
    }
}

/// The repository root (found from this source file).
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The built `vpcsim` executable: beside the test bundle, else in .build/debug.
public func vpcsimExecutable() -> String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vpcsim").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    return repositoryRoot + "/.build/debug/vpcsim"
}

/// Runs the vpcsim executable.
public func vpcsim(_ arguments: [String]) throws -> ProcessResult {
    try run(vpcsimExecutable(), arguments, cwd: repositoryRoot)
}

/// A fresh temporary directory per call, removed with everything in it when the test process exits (a run of
/// the suite left some 600 MB in the temporary directory), unless `VPCSIM_KEEP_TEST_DIRS` is set.
public func makeTempDirectory(_ label: String = "vpcsim-test") -> String {
    let dir = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    TestDirectories.shared.add(dir)
    return dir
}

/// The directories `makeTempDirectory` made in this process, removed at its exit.
final class TestDirectories: @unchecked Sendable {
    static let shared = TestDirectories()
    private let lock = NSLock()
    private var paths: [String] = []
    private var registered = false

    func add(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.append(path)
        if !registered, ProcessInfo.processInfo.environment["VPCSIM_KEEP_TEST_DIRS"] == nil {
            registered = true
            atexit { TestDirectories.shared.removeAll() }
        }
    }

    func removeAll() {
        lock.lock()
        let all = paths
        paths = []
        lock.unlock()
        for p in all { try? FileManager.default.removeItem(atPath: p) }
    }
}

/// Values computed once per key and shared by every test of the process that asks (a scenario's run, a
/// capture's tshark analysis): the first caller computes, concurrent callers of the same key wait for it, later
/// ones get the kept value, or the kept error. Callers must only read what a shared value names (its output
/// directory above all).
public final class OnceCache<Value>: @unchecked Sendable {
    private final class Entry {
        let lock = NSLock()
        var result: Result<Value, any Error>?
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]

    public init() {}

    public func value(_ key: String, compute: () throws -> Value) throws -> Value {
        try value(key, compute: compute) { $0 }
    }

    /// As `value(_:compute:)`, giving the caller `copy` of the kept value, made while the entry's lock is held: a
    /// caller that copies the kept value into storage of its own (bytes decoded afresh, strings made anew) shares
    /// no reference-counted storage with the other callers, as code built with `-assume-single-threaded` (whose
    /// reference counts are not atomic) needs.
    public func value<T>(_ key: String, compute: () throws -> Value, copy: (Value) throws -> T) throws -> T {
        lock.lock()
        let entry = entries[key] ?? Entry()
        entries[key] = entry
        lock.unlock()
        entry.lock.lock()
        defer { entry.lock.unlock() }
        if let result = entry.result { return try copy(try result.get()) }
        let result = Result { try compute() }
        entry.result = result
        return try copy(try result.get())
    }
}

public struct ProcessResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs a program to completion (PATH lookup through /usr/bin/env).
public func run(_ program: String, _ arguments: [String], cwd: String? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [program] + arguments
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe()
    // stderr goes to a file, so a chatty child never blocks on a full pipe while we drain stdout.
    let errPath = NSTemporaryDirectory() + "vpcsim-stderr-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    defer {
        try? errHandle.close()
        try? FileManager.default.removeItem(atPath: errPath)
    }
    p.standardOutput = out
    p.standardError = errHandle
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let errData = try Data(contentsOf: URL(fileURLWithPath: errPath))
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// A tool a test needs did not run, or failed: the test fails with this rather than pass on the tool's error.
public struct ToolError: Error, CustomStringConvertible {
    public var description: String
}

/// tshark with checksum validation on. Every check runs tshark (`problems` and `expertErrors` share one run per
/// unchanged file) and throws a `ToolError` when it is missing (CI installs it) or exits non-zero, so that a check
/// never passes on tshark's own failure.
public enum TShark {
    public static let checksumOptions = [
        "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
    ]

    /// Runs tshark; a missing tshark or a non-zero exit status throws.
    public static func run(_ arguments: [String]) throws -> ProcessResult {
        let r = try TestSupport.run("tshark", arguments)
        if r.status == 127 {
            throw ToolError(description: "tshark is not installed (exit 127): \(r.stderr)")
        }
        guard r.status == 0 else {
            throw ToolError(description: "tshark \(arguments.joined(separator: " ")) exited \(r.status): "
                + stderrLines(r.stderr).joined(separator: " "))
        }
        return r
    }

    /// Frames tshark flags as malformed or with a bad IP/TCP/UDP/ICMP/ICMPv6 checksum (empty when the file is clean),
    /// and the number of frames it read.
    public static func problems(in path: String, options: [String] = []) throws -> (frames: Int, problems: [String]) {
        let a = try analysis(of: path, options: options)
        return (a.frames, a.problems)
    }

    /// What one tshark pass over a file says: its frames, the frames flagged malformed or with a bad checksum
    /// (as `frame.number<TAB>Info` lines, then tshark's stderr lines), and the expert-info errors.
    struct Analysis {
        var frames: Int
        var problems: [String]
        var expertErrors: [String]
    }

    /// The fields `analysis` reads per frame; a frame is a problem when `_ws.malformed` is present or any checksum
    /// status is 0 (bad), as the display filter `_ws.malformed || ip.checksum.status == 0 || …` selects.
    static let analysisFields = ["frame.number", "_ws.malformed", "ip.checksum.status", "tcp.checksum.status",
                                 "udp.checksum.status", "icmp.checksum.status", "icmpv6.checksum.status",
                                 "icmpv6.type", "ipv6.plen", "_ws.col.Info"]

    /// An ICMPv6 error (types 1-4) quoting less of its packet than the packet is (RFC 4443 §2.4(c): what fits in
    /// 1280 bytes): tshark 4.0 checks the quoted TCP or UDP checksum over the bytes it has and calls it bad, for a
    /// Linux router's Packet Too Big as for the model's. The ICMPv6 checksum, which covers the quote, is still
    /// checked. The display filter of such frames (their expert errors are left out of `expertErrors`).
    public static let truncatedQuote = "icmpv6.type <= 4 && ipv6.plen#2 + 48 > ipv6.plen#1"

    /// Whether a row of `analysisFields` is such a frame with only its quoted segment's checksum bad.
    static func isTruncatedQuoteChecksum(_ cells: [Substring]) -> Bool {
        guard cells.count >= 9, let type = Int(cells[7].split(separator: ",").first ?? ""), (1...4).contains(type),
              cells[6] == "1", !cells[2].split(separator: ",").contains("0") else { return false }
        let plen = cells[8].split(separator: ",").compactMap { Int($0) }
        return plen.count >= 2 && plen[1] + 48 > plen[0]
    }

    /// `problems` and `expertErrors` of a file in one tshark run (`-T fields` for every frame, then the
    /// `-z expert,error` table), kept per path, options and file identity (inode, size, modification time): a
    /// test asking both questions of a capture, or asking again, costs one run; a file written again is read
    /// again. A failed run fails every check that shares it, so none passes on tshark's own failure.
    static func analysis(of path: String, options: [String]) throws -> Analysis {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let identity = [path] + options + [
            "\(attributes[.systemFileNumber] ?? "")", "\(attributes[.size] ?? "")",
            "\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)",
        ]
        return try analyses.value(identity.joined(separator: "\u{0}")) {
            try analyze(path, options: options)
        }
    }

    static let analyses = OnceCache<Analysis>()

    static func analyze(_ path: String, options: [String]) throws -> Analysis {
        var args = ["-n", "-r", path] + checksumOptions + options + ["-T", "fields"]
        for f in analysisFields { args += ["-e", f] }
        let r = try run(args + ["-z", "expert,error,!(\(truncatedQuote))"])
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        // Frame rows start with the frame number and a tab; the expert table follows them.
        let rows = lines.prefix { $0.first?.isNumber == true && $0.contains("\t") }
        var problems: [String] = []
        for row in rows {
            let cells = row.split(separator: "\t", omittingEmptySubsequences: false)
            let malformed = cells.count > 1 && !cells[1].isEmpty
            let badChecksum = cells.dropFirst(2).prefix(5).contains { $0.split(separator: ",").contains("0") }
                && !isTruncatedQuoteChecksum(cells)
            if malformed || badChecksum {
                let info = cells.dropFirst(analysisFields.count - 1).joined(separator: "\t")
                let line = "\(cells[0])\t\(info)"
                if !isResplitRetransmission(line) { problems.append(line) }
            }
        }
        problems += stderrLines(r.stderr)
        let expert = expertErrorLines(lines.dropFirst(rows.count).joined(separator: "\n"))
        return Analysis(frames: rows.count, problems: problems, expertErrors: expert)
    }

    /// tshark 4.0's reassembly error for a retransmission that splits an already reassembled PDU at other
    /// edges, as Linux does after a smaller path MTU (the segment too big goes again as two pieces, the second
    /// out of order to tshark's eye): the bytes are the same, and the real client of
    /// captures/reference/linux-netns-pmtud sends exactly these segments (docs/fidelity.md). Not a fault of the
    /// capture; every other reassembly error still is.
    public static let resplitRetransmission = "New fragment overlaps old data (retransmission?)"

    static func isResplitRetransmission(_ line: String) -> Bool {
        line.contains("[TCP Out-Of-Order]") && line.contains(resplitRetransmission)
    }

    /// Expert-info messages of severity error (tshark's own judgement of a frame).
    public static func expertErrors(in path: String, options: [String] = []) throws -> [String] {
        try analysis(of: path, options: options).expertErrors
    }

    /// The error lines of a `-z expert,error` table.
    static func expertErrorLines(_ stdout: String) -> [String] {
        var lines: [String] = []
        var inErrors = false
        for line in stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Errors (") { inErrors = true; continue }
            if inErrors, line.hasPrefix("Warns") || line.hasPrefix("Notes") || line.hasPrefix("Chats") { break }
            if inErrors, line.contains(where: { $0.isLetter }), !line.contains("Frequency"), !line.hasPrefix("="),
               !(line.contains("Malformed") && line.contains(resplitRetransmission)) {
                lines.append(line.trimmingCharacters(in: .whitespaces))
            }
        }
        return lines
    }

    /// One line per frame with the given fields, tab-separated.
    public static func fields(_ path: String, _ fields: [String], filter: String? = nil) throws -> [String] {
        var args = ["-n", "-r", path] + checksumOptions + ["-T", "fields"]
        for f in fields { args += ["-e", f] }
        if let filter { args += ["-Y", filter] }
        let r = try run(args)
        return r.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    static func stderrLines(_ s: String) -> [String] {
        s.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("Running as user") && !$0.isEmpty }
    }
}
