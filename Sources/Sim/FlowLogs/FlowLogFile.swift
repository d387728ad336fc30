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
    let tempPath: String
    private var out: UnsafeMutablePointer<FILE>?
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
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        tempPath = "\(dir).\(name).\(getpid()).tmp"
        buffers = Array(repeating: [], count: max(interfaces, 1))
        spoolPaths = Array(repeating: nil, count: max(interfaces, 1))
        guard let fp = TemporaryFiles.open(tempPath, "wb") else {
            throw CaptureFileError(path: path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        setvbuf(fp, nil, _IOFBF, 1 << 20)
        out = fp
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
            write(buffers[0], to: out)
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
        guard !finished, let fp = out else { return }
        write(buffers[0], to: fp)
        buffers[0] = []
        let chunk = 1 << 20
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 8)
        defer { scratch.deallocate() }
        for i in buffers.indices.dropFirst() {
            if let spool = spoolPaths[i], failed == nil {
                if let sp = fopen(spool, "rb") {
                    while failed == nil {
                        let n = fread(scratch, 1, chunk, sp)
                        if n > 0, fwrite(scratch, 1, n, fp) != n { failed = String(cString: strerror(errno)) }
                        if n < chunk {
                            if ferror(sp) != 0, failed == nil { failed = "cannot read back a spool file" }
                            break
                        }
                    }
                    fclose(sp)
                } else {
                    failed = "cannot read back a spool file: \(String(cString: strerror(errno)))"
                }
                TemporaryFiles.remove(spool)
                spoolPaths[i] = nil
            }
            write(buffers[i], to: fp)
            buffers[i] = []
        }
        out = nil
        finished = true
        let flushFailed = fflush(fp) != 0 || ferror(fp) != 0
        let flushErrno = errno
        if fclose(fp) != 0, failed == nil { failed = String(cString: strerror(errno)) }
        if flushFailed, failed == nil { failed = String(cString: strerror(flushErrno)) }
        if let failed {
            removeFiles()
            throw CaptureFileError(path: path, message: "write failed: \(failed)")
        }
        guard rename(tempPath, path) == 0 else {
            let why = String(cString: strerror(errno))
            removeFiles()
            throw CaptureFileError(path: path, message: "cannot move into place: \(why)")
        }
        TemporaryFiles.renamed(tempPath, to: path)
        removeFiles(temp: false)
    }

    /// Discards everything: the temporary file and every spool file.
    func abandon() {
        guard !finished else { return }
        finished = true
        if let fp = out { fclose(fp) }
        out = nil
        removeFiles()
    }

    private func removeFiles(temp: Bool = true) {
        if temp { TemporaryFiles.remove(tempPath) }
        for case let p? in spoolPaths { TemporaryFiles.remove(p) }
        spoolPaths = spoolPaths.map { _ in nil }
        buffers = buffers.map { _ in [] }
    }
}
