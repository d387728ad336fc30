import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A flow-log file that cannot be read: one line, `file: problem` or `file:line: problem`.
public struct FlowLogFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    /// 1-based line, or nil when the problem is the whole file.
    public var line: Int?
    public var message: String
    public var description: String { line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)" }
}

/// Reads a flow-log file line by line, 1 MiB at a time, as often as asked (the comparison reads a file twice: once
/// for every key's summary, once more for the lines of the keys that differ). A pipe or other file that cannot be
/// read twice is read into memory once.
public final class FlowLogFileReader {
    public let path: String
    /// The file's size when it is a regular file (for progress), else the bytes held in memory.
    public private(set) var size: Int
    private var held: [UInt8]?
    static let chunk = 1 << 20

    public init(path: String) throws(FlowLogFileError) {
        self.path = path
        self.size = 0
        let fd = try open()
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw error(errno) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw FlowLogFileError(path: path, message: "cannot read: Is a directory") }
        if (st.st_mode & S_IFMT) == S_IFREG {
            size = Int(st.st_size)
        } else {
            var all: [UInt8] = []
            try read(fd) { all.append(contentsOf: $0); return true }
            held = all
            size = all.count
        }
    }

    private func error(_ code: Int32) -> FlowLogFileError {
        FlowLogFileError(path: path, message: "cannot read: \(String(cString: strerror(code)))")
    }

    private func open() throws(FlowLogFileError) -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error(errno) }
        return fd
    }

    /// Reads `fd` to its end, or until `body` returns false.
    private func read(_ fd: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws(FlowLogFileError) -> Bool)
        throws(FlowLogFileError) {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.chunk)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(fd, buffer, Self.chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw error(errno)
            }
            if n == 0 { return }
            guard try body(UnsafeBufferPointer(start: buffer, count: n)) else { return }
        }
    }

    /// Calls `body` with each line (1-based number, bytes without the line break; split as `FlowLogParser.parse`
    /// splits text) and, every 64 Ki lines and at the end, `progress` with the bytes read so far. A line that is
    /// not UTF-8 is an error at its number. `body` returns false to stop.
    public func forEachLine(progress: ((Int) -> Void)? = nil,
                            _ body: (Int, UnsafeBufferPointer<UInt8>) -> Bool) throws(FlowLogFileError) {
        var n = 0
        var bad: Int?
        var stopped = false
        func line(_ l: UnsafeBufferPointer<UInt8>) {
            if stopped || bad != nil { return }
            n += 1
            if !Self.isUTF8(l) { bad = n; return }
            stopped = !body(n, l)
        }
        if let held {
            _ = held.withUnsafeBufferPointer { all in
                FlowLogParser.forEachLine(in: all) { l in
                    line(l)
                    if n & 0xFFFF == 0 { progress?(all.baseAddress!.distance(to: l.baseAddress!)) }
                }
            }
        } else {
            let fd = try open()
            defer { close(fd) }
            var carry: [UInt8] = []
            var done = 0
            try read(fd) { chunk in
                done += chunk.count
                if carry.isEmpty {
                    let left = FlowLogParser.forEachLine(in: chunk, final: false, line)
                    carry.append(contentsOf: chunk.suffix(left))
                } else {
                    // A line cut at the chunk's end: joined with the start of this chunk.
                    carry.append(contentsOf: chunk)
                    let left = carry.withUnsafeBufferPointer { FlowLogParser.forEachLine(in: $0, final: false, line) }
                    carry.removeFirst(carry.count - left)
                }
                progress?(done)
                return !stopped && bad == nil
            }
            if !stopped && bad == nil {
                _ = carry.withUnsafeBufferPointer { FlowLogParser.forEachLine(in: $0, final: true, line) }
            }
        }
        if stopped { return }
        if bad != nil { throw FlowLogFileError(path: path, line: bad, message: "not UTF-8 text") }
        progress?(size)
    }

    static func isUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for b in bytes where b >= 0x80 {
            var it = bytes.makeIterator()
            var d = UTF8()
            while true {
                switch d.decode(&it) {
                case .scalarValue: continue
                case .emptyInput: return true
                case .error: return false
                }
            }
        }
        return true
    }
}
