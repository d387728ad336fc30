#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Packets

/// `flow-logs.txt`, written while the run goes on: lines are appended per ENI as records complete and the file
/// holds them ENI by ENI (model order), each ENI's lines in the order they were appended — as CloudWatch Logs keeps
/// them: "each network interface has a unique log stream in the log group" (EC2 API Reference CreateFlowLogs).
///
/// The first ENI's lines go straight to the output, written under a temporary name (`.flow-logs.txt.PID.tmp`);
/// every other ENI's are spooled to a file of their own beside it (`flow-logs.txt.eniN.PID.spool`) and appended
/// ENI by ENI when the run ends, then the whole is renamed into place — as `PcapngWriter(groupByInterface:)`
/// spools per interface and `OutputFile` renames. Memory stays bounded: lines wait in per-ENI buffers until
/// `budget` bytes are buffered in all, then every buffer is written out. A failed or abandoned file leaves
/// neither the output nor a spool file behind.
final class FlowLogFile {
    let path: String
    /// The file, under its temporary name until `commit()` (the first ENI's lines, then the spools appended).
    private var out: OutputFile?
    /// Lines not yet written, per ENI.
    private(set) var buffers: [[UInt8]]
    private var spoolPaths: [String?]
    private var buffered = 0
    private let budget: Int
    private var failed: String?
    private var finished = false

    init(path: String, header: String, interfaces: Int, budget: Int = 4 << 20) throws {
        self.path = path
        self.budget = budget
        buffers = Array(repeating: [], count: max(interfaces, 1))
        spoolPaths = Array(repeating: nil, count: max(interfaces, 1))
        out = try OutputFile(path: path, direct: true)
        buffers[0].append(contentsOf: header.utf8)
        buffers[0].append(0x0A)
    }

    deinit { abandon() }

    /// Appends one line for `eni`: `body` writes its bytes (newline included) into the ENI's buffer.
    @inline(__always)
    func append(eni: Int, _ body: (inout [UInt8]) -> Void) {
        let before = buffers[eni].count
        body(&buffers[eni])
        buffered += buffers[eni].count - before
        if buffered >= budget { spill() }
    }

    /// Writes every buffer out: the first ENI's to the output, the others to their spool files. Buffers keep their
    /// storage (up to twice the budget in all) so that refilling them does not fault in fresh pages every time.
    func spill() {
        var keptCapacity = 0
        for i in buffers.indices {
            if !buffers[i].isEmpty { writeOut(i) }
            let keep = keptCapacity + buffers[i].capacity <= 2 * budget
            if keep { keptCapacity += buffers[i].capacity }
            buffers[i].removeAll(keepingCapacity: keep)
        }
        buffered = 0
    }

    /// ENI `i`'s buffered lines: the first ENI's to the output, the others appended to their spool files.
    private func writeOut(_ i: Int) {
        if i == 0 {
            out?.write(buffers[0])
            return
        }
        guard failed == nil else { return }
        // Created ("wb": never appending to a file a killed run with the same pid left), then reopened to append.
        let opened: UnsafeMutablePointer<FILE>?
        if let known = spoolPaths[i] {
            opened = TemporaryFiles.reopen(known, "ab")
        } else {
            let spool = "\(path).eni\(i).\(getpid()).spool"
            opened = TemporaryFiles.open(spool, "wb")
            if opened != nil { spoolPaths[i] = spool }
        }
        if let fp = opened {
            write(buffers[i], to: fp)
            if fclose(fp) != 0, failed == nil { failed = String(cString: strerror(errno)) }
        } else {
            failed = "cannot spool beside the file: \(String(cString: strerror(errno)))"
        }
    }

    private func write(_ bytes: [UInt8], to fp: UnsafeMutablePointer<FILE>?) {
        guard failed == nil, let fp else { return }
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, fp) }
        if n != bytes.count { failed = String(cString: strerror(errno)) }
    }

    /// Appends the spooled ENIs in order, flushes, and renames the file into place; removes every spool file.
    /// Throws (leaving no file) if any write failed.
    func commit() throws {
        guard !finished, let out else { return }
        out.write(buffers[0])
        buffers[0] = []
        for i in buffers.indices.dropFirst() {
            if let spool = spoolPaths[i], failed == nil {
                if let sp = fopen(spool, "rb") {
                    failed = out.append(contentsOf: sp)
                    fclose(sp)
                } else {
                    failed = "cannot read back a spool file: \(String(cString: strerror(errno)))"
                }
                TemporaryFiles.remove(spool)
                spoolPaths[i] = nil
            }
            out.write(buffers[i])
            buffers[i] = []
        }
        self.out = nil
        finished = true
        defer { removeFiles() }
        if let failed {
            out.abandon()
            throw CaptureFileError(path: path, message: "write failed: \(failed)")
        }
        try out.commit()
    }

    /// Discards everything: the temporary file and every spool file.
    func abandon() {
        guard !finished else { return }
        finished = true
        out?.abandon()
        out = nil
        removeFiles()
    }

    /// Removes the spool files and empties the buffers.
    private func removeFiles() {
        for case let p? in spoolPaths { TemporaryFiles.remove(p) }
        spoolPaths = spoolPaths.map { _ in nil }
        buffers = buffers.map { _ in [] }
    }
}
