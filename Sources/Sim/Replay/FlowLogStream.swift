import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A flow-log file read once, front to back, line by line: plain text, or gzip (as S3 delivers flow logs:
/// `….log.gz`, recognized by its first two bytes, any number of gzip members one after another). Lines are split
/// as `FlowLogParser.forEachLine` splits them. Nothing but one chunk and an unfinished line is held in memory.
enum FlowLogStream {
    static let chunk = 1 << 20

    /// Calls `body` with each line (1-based number, bytes without the line break), and `progress` with the bytes
    /// of the file read so far (compressed bytes for gzip) after each chunk. A file that cannot be read, or gzip
    /// data that is corrupt or cut short, throws naming the file (and the line reached).
    static func forEachLine(path: String, progress: ((Int) -> Void)? = nil,
                            _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FlowLogFileError(path: path, message: "cannot read: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw FlowLogFileError(path: path, message: "cannot read: Is a directory")
        }
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { input.deallocate() }
        var lines = 0
        var carry: [UInt8] = []
        var bytesRead = 0
        // Splits `data` into lines, the unfinished last one kept in `carry` for the next piece.
        func feed(_ data: UnsafeBufferPointer<UInt8>) throws {
            func line(_ l: UnsafeBufferPointer<UInt8>) throws {
                lines += 1
                try body(lines, l)
            }
            var data = data
            if !carry.isEmpty {
                // The unfinished line ends at the first line break of `data`: only its bytes join it.
                guard let base = data.baseAddress, let nl = memchr(base, 0x0A, data.count) else {
                    carry.append(contentsOf: data)
                    return
                }
                let end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                carry.append(contentsOf: UnsafeBufferPointer(start: base, count: end + 1))
                let left = try carry.withUnsafeBufferPointer { try FlowLogParser.forEachLine(in: $0, final: false, line) }
                precondition(left == 0)
                carry.removeAll(keepingCapacity: true)
                data = UnsafeBufferPointer(rebasing: data[(end + 1)...])
            }
            let left = try FlowLogParser.forEachLine(in: data, final: false, line)
            carry.append(contentsOf: data.suffix(left))
        }
        func readChunk() throws -> Int {
            while true {
                let n = read(fd, input, chunk)
                if n < 0, errno == EINTR { continue }
                if n < 0 {
                    throw FlowLogFileError(path: path, line: lines + 1, message: "cannot read: \(String(cString: strerror(errno)))")
                }
                bytesRead += n
                return n
            }
        }
        var n = try readChunk()
        if n >= 2, input[0] == 0x1F, input[1] == 0x8B {
            try inflate(path: path, input: input, first: n, read: readChunk, lines: { lines }) { out in
                try feed(out)
                progress?(bytesRead)
            }
        } else {
            while n > 0 {
                try feed(UnsafeBufferPointer(start: input, count: n))
                progress?(bytesRead)
                n = try readChunk()
            }
        }
        // The last line, when the file does not end with a line break (an empty one is not a line).
        if !carry.isEmpty {
            try carry.withUnsafeBufferPointer { l in
                var e = l.count
                if e > 0, l[e - 1] == 0x0D { e -= 1 }
                lines += 1
                try body(lines, UnsafeBufferPointer(rebasing: l[0..<e]))
            }
        }
    }

    /// Inflates gzip data (its members one after another) read by `read` into `input`, `first` bytes there
    /// already, handing each piece of output to `out`.
    private static func inflate(path: String, input: UnsafeMutablePointer<UInt8>, first: Int, read: () throws -> Int,
                                lines: () -> Int, _ out: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var z = z_stream()
        // 15 + 32: a window of 2^15, a gzip (or zlib) header detected.
        guard inflateInit2_(&z, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FlowLogFileError(path: path, message: "cannot start gzip decompression")
        }
        defer { inflateEnd(&z) }
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { output.deallocate() }
        var available = first
        var ended = false  // the last member ended exactly at the end of the input
        func corrupt(_ why: String) -> FlowLogFileError {
            FlowLogFileError(path: path, line: lines() + 1, message: "gzip data \(why)")
        }
        while available > 0 {
            z.next_in = input
            z.avail_in = UInt32(available)
            while z.avail_in > 0 {
                z.next_out = output
                z.avail_out = UInt32(chunk)
                let r = CZlib.inflate(&z, Z_NO_FLUSH)
                let produced = chunk - Int(z.avail_out)
                if produced > 0 { try out(UnsafeBufferPointer(start: output, count: produced)) }
                ended = false
                switch r {
                case Z_OK, Z_BUF_ERROR:
                    continue
                case Z_STREAM_END:
                    ended = true
                    // Another member may follow (`cat a.gz b.gz`).
                    if z.avail_in > 0 { inflateReset(&z) }
                default:
                    let message = z.msg.map { String(cString: $0) } ?? "error \(r)"
                    throw corrupt("is corrupt (\(message))")
                }
            }
            available = try read()
        }
        if !ended { throw corrupt("is cut short (the file ends inside a gzip stream)") }
    }
}
