#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a capture file could not be read or written.
public struct CaptureFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    /// 1-based index of the packet being read or written, when the problem concerns one.
    public var packet: Int?
    public var message: String

    public init(path: String, packet: Int? = nil, message: String) {
        self.path = path
        self.packet = packet
        self.message = message
    }

    /// Always one line (a path may hold a newline).
    public var description: String {
        if let packet { return escapingControlCharacters("\(path): packet \(packet): \(message)") }
        return escapingControlCharacters("\(path): \(message)")
    }
}

/// A file written under a temporary name and renamed into place only when complete, so that a failed or
/// abandoned write never leaves a half-written file under the final name. Buffered: streams to disk.
public final class OutputFile {
    public let path: String
    let tempPath: String
    private(set) var stream: UnsafeMutablePointer<FILE>?
    private(set) var failed: String?
    private var buffer: StreamBuffer?
    private let bufferSize: Int
    /// Full buffers go to the device without a copy into the page cache (`O_DIRECT`), until `endDirectWrites()`.
    public private(set) var writesDirect = false
    /// In direct mode, `write` hands stdio at most this much at a time (half the buffer), so that stdio only
    /// ever writes whole buffers from its own aligned one (a larger `fwrite` would be written in part straight
    /// from the caller's memory, which `O_DIRECT` refuses unless aligned).
    private var directPiece = Int.max

    /// `direct`: write whole buffers with `O_DIRECT` where the file system takes it (Linux; checked with one
    /// aligned write when the file is created, else the file is written as usual; `VPCSIM_NO_DIRECT_IO` in the
    /// environment turns it off). For the large streams (pcaps, flow-logs.txt): on this project's development
    /// VM a buffered write cost about 2 s of CPU per GB in the kernel (dd: 492 MB/s buffered against 2.9 GB/s
    /// direct), taken from the two cores the simulation shares with the writer threads. The bytes written are
    /// the same either way.
    public init(path: String, bufferSize: Int = 1 << 20, direct: Bool = false) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        tempPath = "\(dir).\(name).\(getpid()).tmp"
        self.bufferSize = bufferSize
        guard let fp = TemporaryFiles.open(tempPath, "wb") else {
            throw CaptureFileError(path: path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        let block = DirectWrites.alignment
        // At least 128 KiB: libpcap's and PcapWriterThread's `fwrite`s of a record (at most 65,535 bytes of IPv4,
        // its link header and 16 of record header) then never leave a buffer's worth over after filling it, which
        // stdio would write straight from the caller's memory, unaligned.
        if direct, bufferSize >= 1 << 17, DirectWrites.enable(fileno(fp)) {
            writesDirect = true
            let size = bufferSize / block * block
            directPiece = size / 2
            buffer = StreamBuffer(fp, size: size, alignment: block)
        } else {
            buffer = StreamBuffer(fp, size: bufferSize, alignment: 16)
        }
        stream = fp
    }

    /// Back to writes through the page cache, before a write that is not a whole aligned buffer: the last,
    /// partial one (`commit`, `PcapWriter.close`'s flush) or a spool appended by the kernel.
    public func endDirectWrites() {
        guard writesDirect, let fp = stream else { return }
        writesDirect = false
        directPiece = .max
        DirectWrites.disable(fileno(fp))
    }

    /// A write of the stream failed on another thread (`PcapWriterThread`'s libpcap writes): `code` is its errno,
    /// which the flush at `commit()` could no longer tell.
    func noteFailure(_ code: Int32) {
        if failed == nil { failed = String(cString: strerror(code)) }
    }

    /// A record could not be written for `reason` (a timestamp the format cannot hold): `commit()` fails.
    func noteFailure(reason: String) {
        if failed == nil { failed = reason }
    }

    @inline(__always)
    public func write(_ raw: UnsafeRawBufferPointer) {
        guard let fp = stream, raw.count > 0 else { return }
        guard raw.count <= directPiece else { return writePieces(raw) }
        if fwrite(raw.baseAddress, 1, raw.count, fp) != raw.count, failed == nil {
            failed = String(cString: strerror(errno))
        }
    }

    /// `write` in direct mode of more than `directPiece` bytes.
    private func writePieces(_ raw: UnsafeRawBufferPointer) {
        guard let fp = stream, let code = DirectWrites.write(raw, in: directPiece, to: fp), failed == nil else { return }
        failed = String(cString: strerror(code))
    }

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Appends the whole file open as `source` (a spool, flushed here): copied by the kernel where it can, else
    /// read through a buffer from its start. In direct mode it is read and written on as whole buffers (the
    /// kernel's copy would go through the page cache, the cost direct mode avoids). Returns why reading `source`
    /// failed, if it did; a failure to write is kept for `commit()`.
    public func append(contentsOf source: UnsafeMutablePointer<FILE>) -> String? {
        var info = stat()
        guard fflush(source) == 0, fstat(fileno(source), &info) == 0 else { return String(cString: strerror(errno)) }
        if !writesDirect, append(descriptor: fileno(source), count: Int(info.st_size)) { return nil }
        let chunk = max(1 << 20, bufferSize)  // a direct spool is read from the device: reads as large as the writes
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 8)
        defer { buffer.deallocate() }
        rewind(source)
        while true {
            let n = fread(buffer, 1, chunk, source)
            if n > 0 { write(UnsafeRawBufferPointer(start: buffer, count: n)) }
            if n < chunk { return ferror(source) != 0 ? "cannot read back a spool file" : nil }
        }
    }

    /// Appends the first `count` bytes of the file open as `descriptor`, copied by the kernel (`sendfile`: no
    /// trip through this process's memory). False, with nothing written, where the kernel cannot (then the
    /// caller copies them itself); true otherwise, a failure being kept for `commit()`.
    private func append(descriptor: Int32, count: Int) -> Bool {
        guard let fp = stream, count > 0 else { return true }
        #if canImport(Glibc)
        endDirectWrites()
        if fflush(fp) != 0 {
            if failed == nil { failed = String(cString: strerror(errno)) }
            return true
        }
        var offset = 0
        while offset < count {
            let n = sendfile(fileno(fp), descriptor, &offset, count - offset)
            let e = errno
            if n > 0 { continue }
            if n < 0, e == EINTR { continue }
            if n < 0, offset == 0, e == EINVAL || e == ENOSYS || e == EOPNOTSUPP { return false }
            if failed == nil { failed = n < 0 ? String(cString: strerror(e)) : "a spool file ended early" }
            return true
        }
        return true
        #else
        return false
        #endif
    }

    /// Flushes, closes (with `closeStream` when another library owns the stream) and renames into place.
    public func commit(closeStream: ((UnsafeMutablePointer<FILE>) -> Void)? = nil) throws {
        guard let fp = stream else { return }
        endDirectWrites()
        stream = nil
        let flushFailed = fflush(fp) != 0 || ferror(fp) != 0
        let flushErrno = errno
        if let closeStream { closeStream(fp) } else if fclose(fp) != 0, failed == nil {
            failed = String(cString: strerror(errno))
        }
        buffer?.free()
        buffer = nil
        if flushFailed, failed == nil { failed = String(cString: strerror(flushErrno)) }
        if let failed {
            TemporaryFiles.remove(tempPath)
            throw CaptureFileError(path: path, message: "write failed: \(failed)")
        }
        guard rename(tempPath, path) == 0 else {
            let why = String(cString: strerror(errno))
            TemporaryFiles.remove(tempPath)
            throw CaptureFileError(path: path, message: "cannot move into place: \(why)")
        }
        TemporaryFiles.renamed(tempPath, to: path)
    }

    /// Discards everything written.
    public func abandon(closeStream: ((UnsafeMutablePointer<FILE>) -> Void)? = nil) {
        guard let fp = stream else { return }
        endDirectWrites()  // the close's flush of a partial buffer: not refused, though discarded
        stream = nil
        if let closeStream { closeStream(fp) } else { fclose(fp) }
        buffer?.free()
        buffer = nil
        TemporaryFiles.remove(tempPath)
    }

    deinit { abandon() }
}

/// A stdio stream's buffer of our own: glibc's `setvbuf` ignores the size when it is not given a buffer and
/// allocates `st_blksize` (4 KiB here), so a "1 MiB" buffer without one meant a write(2) every 4 KiB. Freed
/// after the stream is closed.
struct StreamBuffer {
    private let base: UnsafeMutableRawPointer

    init(_ fp: UnsafeMutablePointer<FILE>, size: Int, alignment: Int) {
        base = .allocate(byteCount: size, alignment: alignment)
        setvbuf(fp, base.assumingMemoryBound(to: CChar.self), _IOFBF, size)
    }

    /// After `fclose`.
    func free() { base.deallocate() }
}

/// `O_DIRECT` on a file being written (Linux): writes go from the process's buffer to the device, with no copy
/// into the page cache. Each write must start at an aligned offset, from aligned memory, for an aligned length:
/// stdio's flushes of a full buffer of our own (aligned, a whole number of blocks long) are, as long as nothing
/// else is written (`OutputFile` turns it off before anything else).
enum DirectWrites {
    /// 4 KiB: the logical block size of current disks, a multiple of the older 512 bytes.
    static let alignment = 4096

    /// Turns `O_DIRECT` on for `fd`, a new empty file, if the file system takes it: checked with one aligned
    /// write of zeros at offset 0, then truncated away. False (the file as it was) where it does not.
    static func enable(_ fd: Int32) -> Bool {
        #if os(Linux)
        if getenv("VPCSIM_NO_DIRECT_IO") != nil { return false }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | __O_DIRECT) == 0 else { return false }
        let probe = UnsafeMutableRawPointer.allocate(byteCount: alignment, alignment: alignment)
        defer { probe.deallocate() }
        probe.initializeMemory(as: UInt8.self, repeating: 0, count: alignment)
        let written = pwrite(fd, probe, alignment, 0)
        let truncated = ftruncate(fd, 0) == 0
        guard written == alignment, truncated else {
            _ = fcntl(fd, F_SETFL, flags)
            return false
        }
        return true
        #else
        return false
        #endif
    }

    /// Writes `raw` to `fp` in pieces of at most `piece` bytes (half a direct stream's buffer: stdio then only
    /// ever flushes whole buffers of its own). The errno of the first piece that failed, or nil.
    static func write(_ raw: UnsafeRawBufferPointer, in piece: Int, to fp: UnsafeMutablePointer<FILE>) -> Int32? {
        var failure: Int32?
        var offset = 0
        while offset < raw.count {
            let n = min(piece, raw.count - offset)
            if fwrite(raw.baseAddress! + offset, 1, n, fp) != n, failure == nil { failure = errno }
            offset += n
        }
        return failure
    }

    static func disable(_ fd: Int32) {
        #if os(Linux)
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~__O_DIRECT) }
        #endif
    }
}

/// Writes `bytes` to `path` as the capture files are written: under a temporary name (registered with
/// `TemporaryFiles`), renamed into place when complete; nothing is left if a write fails.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let file = try OutputFile(path: path, bufferSize: 1 << 16)
    bytes.withUnsafeBytes { file.write($0) }
    try file.commit()
}
