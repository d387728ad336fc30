#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pcapng writer of our own (libpcap reads pcapng but cannot write it).
///
/// Layout (draft-ietf-opsawg-pcapng): one Section Header Block naming the application, one Interface
/// Description Block per capture point with `if_name`, `if_description` and `if_tsresol` = 9 (nanoseconds),
/// then Enhanced Packet Blocks, each optionally carrying `opt_comment` (Wireshark's `frame.comment`).
/// Blocks are written in the host's byte order, which the section header's byte-order magic records.
///
/// With `groupByInterface`, each interface's packets are spooled to a file of their own beside the output and
/// the file holds them interface by interface (each in time order). Wireshark's TCP reassembly assumes one
/// vantage point: the same stream seen at two capture points, interleaved in time, looks to it like
/// overlapping retransmissions ("New fragment overlaps old data"); grouped, it dissects every hop cleanly.
public final class PcapngWriter {
    public let path: String
    private var file: OutputFile?
    private var interfaces: [LinkType] = []
    /// Scratch space for one block, reused for every packet.
    private var scratch: UnsafeMutableRawPointer
    private var scratchCapacity: Int
    public private(set) var packetCount = 0
    private let groupByInterface: Bool
    private var spools: [UnsafeMutablePointer<FILE>?] = []
    private var spoolPaths: [String] = []
    private var spoolBuffers: [StreamBuffer] = []
    private let spoolBufferSize: Int
    private let direct: Bool
    /// Spools written with `O_DIRECT` (whole aligned buffers only, until `close`).
    private var directSpools: [Bool] = []

    public static let blockSHB: UInt32 = 0x0A0D_0D0A
    public static let blockIDB: UInt32 = 1
    public static let blockEPB: UInt32 = 6

    /// `spoolBufferSize`: stdio's buffer for each interface's spool file, with `groupByInterface`. `direct`: the
    /// file and the spools written without a copy into the page cache where the file system allows it
    /// (`OutputFile(direct:)`); the spools are then appended through this process rather than by the kernel.
    public init(path: String, application: String, hardware: String? = nil, os: String? = nil,
                groupByInterface: Bool = false, spoolBufferSize: Int = 1 << 18, direct: Bool = false) throws {
        self.path = path
        self.groupByInterface = groupByInterface
        self.spoolBufferSize = direct ? max(spoolBufferSize / DirectWrites.alignment, 2) * DirectWrites.alignment
            : spoolBufferSize
        self.direct = direct
        scratchCapacity = 1 << 16
        scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchCapacity, alignment: 8)
        // Direct: 8 MiB buffers, since the spools are appended at the end, when the run waits for each write to
        // reach the device (`hops 100000 all-hops`, alternated: 1.38–1.74 million/s against 1.26–1.60 with 1 MiB).
        file = try OutputFile(path: path, bufferSize: direct ? 8 << 20 : 1 << 20, direct: direct)
        var options: [(UInt16, [UInt8])] = []
        if let hardware { options.append((2, Array(hardware.utf8))) }  // shb_hardware
        if let os { options.append((3, Array(os.utf8))) }  // shb_os
        options.append((4, Array(application.utf8)))  // shb_userappl
        writeBlock(type: Self.blockSHB, options: options) { w in
            w.writeNative32(0x1A2B_3C4D)  // byte-order magic
            w.writeNative16(1)  // major
            w.writeNative16(0)  // minor
            w.writeNative32(0xFFFF_FFFF)  // section length: unspecified (-1)
            w.writeNative32(0xFFFF_FFFF)
        }
    }

    deinit {
        abandon()
        scratch.deallocate()
    }

    /// Declares a capture point; returns its interface id for `write`.
    @discardableResult
    public func addInterface(name: String, description: String, linkType: LinkType = .ethernet,
                             snapLength: UInt32 = 0) -> Int {
        writeBlock(type: Self.blockIDB,
                   options: [(2, Array(name.utf8)), (3, Array(description.utf8)), (9, [9])]) { w in
            w.writeNative16(UInt16(truncatingIfNeeded: linkType.rawValue))
            w.writeNative16(0)
            w.writeNative32(snapLength)
        }
        interfaces.append(linkType)
        if groupByInterface {
            let spool = "\(path).if\(interfaces.count - 1).\(getpid()).spool"
            spoolPaths.append(spool)
            let fp = TemporaryFiles.open(spool, "w+b")
            let d = fp.map { direct && DirectWrites.enable(fileno($0)) } ?? false
            directSpools.append(d)
            if let fp {
                spoolBuffers.append(StreamBuffer(fp, size: spoolBufferSize, alignment: d ? DirectWrites.alignment : 16))
                usedByOneThreadAtATime(fp)  // this thread's, or PcapWriterThread's from its start to its end
            }
            spools.append(fp)
        }
        return interfaces.count - 1
    }

    /// Appends one packet on `interface`; `timestamp` is nanoseconds since the Unix epoch.
    public func write(interface: Int, timestamp: Int64, data: UnsafeRawBufferPointer, originalLength: Int? = nil,
                      comment: String? = nil) {
        guard var comment else {
            write(interface: interface, timestamp: timestamp, data: data, originalLength: originalLength,
                  commentBytes: UnsafeRawBufferPointer(start: nil, count: 0))
            return
        }
        comment.withUTF8 {
            write(interface: interface, timestamp: timestamp, data: data, originalLength: originalLength,
                  commentBytes: UnsafeRawBufferPointer($0))
        }
    }

    /// As `write(interface:timestamp:data:originalLength:comment:)`, the comment given as UTF-8 bytes (none when
    /// empty).
    public func write(interface: Int, timestamp: Int64, data: UnsafeRawBufferPointer, originalLength: Int? = nil,
                      commentBytes: UnsafeRawBufferPointer) {
        precondition(interface >= 0 && interface < interfaces.count, "pcapng: undeclared interface \(interface)")
        let ts = UInt64(bitPattern: timestamp)
        // An option holds at most 65,535 bytes: a longer comment is cut at a UTF-8 character's start.
        var commentLength = commentBytes.count
        if commentLength > Int(UInt16.max) {
            commentLength = Int(UInt16.max)
            while commentLength > 0, commentBytes[commentLength] & 0xC0 == 0x80 { commentLength -= 1 }
        }
        let commentBytes = UnsafeRawBufferPointer(rebasing: commentBytes[0..<commentLength])
        let padded = (data.count + 3) & ~3
        let optionsLength = commentLength > 0 ? 4 + ((commentLength + 3) & ~3) + 4 : 0
        let total = 28 + padded + optionsLength + 4
        reserve(total)
        var w = NativeWriter(base: scratch)
        w.writeNative32(Self.blockEPB)
        w.writeNative32(UInt32(total))
        w.writeNative32(UInt32(interface))
        w.writeNative32(UInt32(truncatingIfNeeded: ts >> 32))
        w.writeNative32(UInt32(truncatingIfNeeded: ts))
        w.writeNative32(UInt32(data.count))
        w.writeNative32(UInt32(originalLength ?? data.count))
        w.write(data)
        w.zeros(padded - data.count)
        if commentLength > 0 {
            w.writeNative16(1)  // opt_comment
            w.writeNative16(UInt16(commentLength))
            w.write(commentBytes)
            w.zeros(((commentLength + 3) & ~3) - commentLength)
            w.writeNative32(0)  // opt_endofopt
        }
        w.writeNative32(UInt32(total))
        if groupByInterface {
            if let fp = spools[interface] {
                // A direct spool is given at most half its buffer at a time (`DirectWrites.write`).
                let piece = directSpools[interface] ? spoolBufferSize / 2 : w.count
                if let code = DirectWrites.write(UnsafeRawBufferPointer(start: scratch, count: w.count), in: piece,
                                                 to: fp), spoolError == nil {
                    spoolError = String(cString: strerror(code))
                }
            } else if spoolError == nil {
                spoolError = "a spool file beside it could not be created"
            }
        } else {
            file?.write(UnsafeRawBufferPointer(start: scratch, count: w.count))
        }
        packetCount += 1
    }

    public func write(interface: Int, timestamp: Int64, data: [UInt8], originalLength: Int? = nil,
                      comment: String? = nil) {
        data.withUnsafeBytes {
            write(interface: interface, timestamp: timestamp, data: $0, originalLength: originalLength, comment: comment)
        }
    }

    /// Flushes and moves the file into place; throws (and removes the partial file) if any write failed.
    public func close() throws {
        guard let file else { return }
        // Append each interface's spooled packets, interface by interface.
        for (i, fp) in spools.enumerated() {
            guard let fp else { continue }
            endDirectSpool(i, fp)  // its partial last buffer
            if ferror(fp) != 0, spoolError == nil { spoolError = "a spool file beside it could not be written" }
            guard spoolError == nil else { break }
            spoolError = file.append(contentsOf: fp)
        }
        removeSpools()
        self.file = nil
        if let spoolError {
            file.abandon()
            throw CaptureFileError(path: path, message: "write failed: \(spoolError)")
        }
        try file.commit()
    }

    /// Why writing a spool file failed (its errno, read on the thread that wrote).
    private var spoolError: String?

    /// Spool `i` back to writes through the page cache (before its last, partial buffer is flushed).
    private func endDirectSpool(_ i: Int, _ fp: UnsafeMutablePointer<FILE>) {
        guard directSpools[i] else { return }
        directSpools[i] = false
        DirectWrites.disable(fileno(fp))
    }

    private func removeSpools() {
        for (i, fp) in spools.enumerated() {
            guard let fp else { continue }
            endDirectSpool(i, fp)
            fclose(fp)
        }
        directSpools = []
        for b in spoolBuffers { b.free() }
        spoolBuffers = []
        for p in spoolPaths { TemporaryFiles.remove(p) }
        spools = []
        spoolPaths = []
    }

    /// Discards the file.
    public func abandon() {
        removeSpools()
        file?.abandon()
        file = nil
    }

    private func reserve(_ n: Int) {
        guard n > scratchCapacity else { return }
        scratch.deallocate()
        scratchCapacity = max(n, scratchCapacity * 2)
        scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchCapacity, alignment: 8)
    }

    private func writeBlock(type: UInt32, options: [(UInt16, [UInt8])], body: (inout NativeWriter) -> Void) {
        var optionBytes = 0
        for (_, v) in options { optionBytes += 4 + ((v.count + 3) & ~3) }
        if !options.isEmpty { optionBytes += 4 }
        reserve(4096 + optionBytes)
        var w = NativeWriter(base: scratch)
        w.writeNative32(type)
        w.writeNative32(0)  // total length, set below
        body(&w)
        for (code, value) in options {
            w.writeNative16(code)
            w.writeNative16(UInt16(value.count))
            value.withUnsafeBytes { w.write($0) }
            w.zeros(((value.count + 3) & ~3) - value.count)
        }
        if !options.isEmpty { w.writeNative32(0) }
        let total = w.count + 4
        w.writeNative32(UInt32(total))
        scratch.storeBytes(of: UInt32(total), toByteOffset: 4, as: UInt32.self)
        file?.write(UnsafeRawBufferPointer(start: scratch, count: w.count))
    }
}

/// Host-byte-order writes for pcapng blocks.
struct NativeWriter {
    let base: UnsafeMutableRawPointer
    var count = 0

    @inline(__always) mutating func writeNative16(_ v: UInt16) {
        base.storeBytes(of: v, toByteOffset: count, as: UInt16.self)
        count += 2
    }
    @inline(__always) mutating func writeNative32(_ v: UInt32) {
        base.storeBytes(of: v, toByteOffset: count, as: UInt32.self)
        count += 4
    }
    @inline(__always) mutating func write(_ raw: UnsafeRawBufferPointer) {
        if let src = raw.baseAddress, raw.count > 0 { (base + count).copyMemory(from: src, byteCount: raw.count) }
        count += raw.count
    }
    @inline(__always) mutating func zeros(_ n: Int) {
        if n > 0 { (base + count).initializeMemory(as: UInt8.self, repeating: 0, count: n) }
        count += n
    }
}
