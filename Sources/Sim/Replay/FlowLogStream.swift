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
        let source = try FlowLogSource(path: path)
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { input.deallocate() }
        var lines = 0
        var carry: [UInt8] = []
        func line(_ l: UnsafeBufferPointer<UInt8>) throws {
            lines += 1
            try body(lines, l)
        }
        while true {
            let n: Int
            do { n = try source.fill(input, chunk) } catch let e as FlowLogSource.Failure {
                throw FlowLogFileError(path: path, line: e.atLine ? lines + 1 : nil, message: e.message)
            }
            if n == 0 { break }
            var data = UnsafeBufferPointer(start: input, count: n)
            if !carry.isEmpty {
                // The unfinished line ends at the first line break of `data`: only its bytes join it.
                guard let nl = memchr(input, 0x0A, n) else {
                    carry.append(contentsOf: data)
                    progress?(source.bytesRead)
                    continue
                }
                let end = input.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                carry.append(contentsOf: UnsafeBufferPointer(start: input, count: end + 1))
                let left = try carry.withUnsafeBufferPointer { try FlowLogParser.forEachLine(in: $0, final: false, line) }
                precondition(left == 0)
                carry.removeAll(keepingCapacity: true)
                data = UnsafeBufferPointer(rebasing: data[(end + 1)...])
            }
            let left = try FlowLogParser.forEachLine(in: data, final: false, line)
            carry.append(contentsOf: data.suffix(left))
            progress?(source.bytesRead)
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
}

/// The bytes of a flow-log file, plain or gzip (inflated), handed out a buffer at a time by `fill`. A problem met
/// after some bytes were produced is kept for the next call, so that the caller sees every byte before it.
final class FlowLogSource {
    /// A file that cannot be read or inflated; `atLine`: the problem is at the line reached (the caller knows it).
    struct Failure: Error {
        var message: String
        var atLine: Bool
    }

    private let fd: Int32
    private let input: UnsafeMutablePointer<UInt8>
    private var available = 0
    private var first = true
    private var gzip = false
    private var z = z_stream()
    private var zStarted = false
    /// The last member ended exactly where the input ended so far.
    private var ended = false
    private var pending: Failure?
    private var done = false
    /// Bytes of the file read so far (compressed bytes for gzip).
    private(set) var bytesRead = 0

    init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FlowLogFileError(path: path, message: "cannot read: \(String(cString: strerror(errno)))") }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw FlowLogFileError(path: path, message: "cannot read: Is a directory")
        }
        input = UnsafeMutablePointer<UInt8>.allocate(capacity: FlowLogStream.chunk)
    }

    deinit {
        if zStarted { inflateEnd(&z) }
        input.deallocate()
        close(fd)
    }

    private func readInput() throws(Failure) -> Int {
        while true {
            let n = read(fd, input, FlowLogStream.chunk)
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw Failure(message: "cannot read: \(String(cString: strerror(errno)))", atLine: true) }
            bytesRead += n
            return n
        }
    }

    /// Puts up to `capacity` bytes of the file's content at `buffer`; 0 at its end.
    func fill(_ buffer: UnsafeMutablePointer<UInt8>, _ capacity: Int) throws(Failure) -> Int {
        if let p = pending {
            pending = nil
            done = true
            throw p
        }
        if done { return 0 }
        if first {
            first = false
            available = try readInput()
            gzip = available >= 2 && input[0] == 0x1F && input[1] == 0x8B
            if gzip {
                // 15 + 32: a window of 2^15, a gzip (or zlib) header detected.
                guard inflateInit2_(&z, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    throw Failure(message: "cannot start gzip decompression", atLine: false)
                }
                zStarted = true
                z.next_in = input
                z.avail_in = UInt32(available)
            }
        }
        if !gzip {
            if available > 0 {
                let n = min(available, capacity)
                buffer.update(from: input, count: n)
                if n < available { memmove(input, input + n, available - n) }
                available -= n
                return n
            }
            while true {
                let n = read(fd, buffer, capacity)
                if n < 0, errno == EINTR { continue }
                if n < 0 { throw Failure(message: "cannot read: \(String(cString: strerror(errno)))", atLine: true) }
                bytesRead += n
                if n == 0 { done = true }
                return n
            }
        }
        return try inflate(into: buffer, capacity)
    }

    private func inflate(into buffer: UnsafeMutablePointer<UInt8>, _ capacity: Int) throws(Failure) -> Int {
        var produced = 0
        func fail(_ f: Failure) throws(Failure) -> Int {
            if produced > 0 {
                pending = f
                return produced
            }
            done = true
            throw f
        }
        while produced < capacity {
            if z.avail_in == 0 {
                let n: Int
                do { n = try readInput() } catch { return try fail(error) }
                if n == 0 {
                    if !ended { return try fail(Failure(message: "gzip data is cut short (the file ends inside a gzip stream)", atLine: true)) }
                    done = produced == 0
                    return produced
                }
                z.next_in = input
                z.avail_in = UInt32(n)
            }
            z.next_out = buffer + produced
            z.avail_out = UInt32(capacity - produced)
            let r = CZlib.inflate(&z, Z_NO_FLUSH)
            let out = capacity - produced - Int(z.avail_out)
            produced += out
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
                return try fail(Failure(message: "gzip data is corrupt (\(message))", atLine: true))
            }
        }
        return produced
    }
}
