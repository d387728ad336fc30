// The only Swift file that talks to libpcap.
import CPcap
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a classic pcap file through libpcap: nanosecond timestamps (magic 0xa1b23c4d), one link type.
/// The file appears under its final name only when `close()` succeeds.
public final class PcapWriter {
    public let path: String
    public let linkType: LinkType
    private var file: OutputFile?
    private var pcap: OpaquePointer?
    private(set) var dumper: OpaquePointer?
    public private(set) var packetCount = 0
    /// Whether whole buffers go to the file with O_DIRECT (asked for, and the file system took it).
    public var writesDirect: Bool { file?.writesDirect ?? false }

    /// `bufferSize`: stdio's buffer (written out a buffer at a time). `direct`: whole buffers written without a
    /// copy into the page cache where the file system allows it (`OutputFile`).
    public init(path: String, linkType: LinkType = .ethernet, snapLength: Int = 262_144,
                bufferSize: Int = 1 << 20, direct: Bool = false) throws {
        self.path = path
        self.linkType = linkType
        let file = try OutputFile(path: path, bufferSize: bufferSize, direct: direct)
        guard let p = pcap_open_dead_with_tstamp_precision(Int32(linkType.rawValue), Int32(snapLength),
                                                           UInt32(PCAP_TSTAMP_PRECISION_NANO)) else {
            file.abandon()
            throw CaptureFileError(path: path, message: "libpcap cannot open a writer for \(linkType)")
        }
        // Used by this thread, then PcapWriterThread's (handed over through ChunkQueue's mutex), then this one
        // again to close it.
        usedByOneThreadAtATime(file.stream)
        guard let d = pcap_dump_fopen(p, file.stream) else {
            let why = String(cString: pcap_geterr(p))
            pcap_close(p)
            file.abandon()
            throw CaptureFileError(path: path, message: "libpcap: \(why)")
        }
        self.file = file
        pcap = p
        dumper = d
    }

    /// Appends one record. `timestamp` is nanoseconds since the Unix epoch. A timestamp classic pcap cannot hold
    /// (before 1970, after 2038-01-19T03:14:07Z) is refused, not wrapped: the file is not written and `close()` throws.
    @inline(__always)
    public func write(_ data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int? = nil) {
        guard let dumper else { return }
        guard PcapRecordHeader.holds(timestamp) else {
            if !failureNoted {
                failureNoted = true
                file?.noteFailure(reason: PcapRecordHeader.timestampRangeText)
            }
            return
        }
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(timestamp / 1_000_000_000)
        header.ts.tv_usec = Int(timestamp % 1_000_000_000)  // nanoseconds, in a nanosecond-precision file
        header.caplen = UInt32(data.count)
        header.len = UInt32(originalLength ?? data.count)
        packetCount += 1
        pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), &header,
                  data.baseAddress?.assumingMemoryBound(to: UInt8.self))
        if !failureNoted, let code = Self.writeFailure(of: dumper) {
            failureNoted = true
            file?.noteFailure(code)
        }
    }
    private var failureNoted = false

    public func write(_ data: [UInt8], timestamp: Int64, originalLength: Int? = nil) {
        data.withUnsafeBytes { write($0, timestamp: timestamp, originalLength: originalLength) }
    }

    /// libpcap's stream for the file (nil once closed), for `PcapWriterThread`, which appends records to it.
    var stream: UnsafeMutablePointer<FILE>? { dumper.flatMap { pcap_dump_file($0) } }

    /// The errno of a failed write on `dumper`'s stream, read while it still holds it (the flush at close could
    /// not tell); nil while no write failed.
    static func writeFailure(of dumper: OpaquePointer) -> Int32? {
        guard let fp = pcap_dump_file(dumper), streamFailed(fp) else { return nil }
        return errno == 0 ? EIO : errno
    }

    /// A write on `PcapWriterThread` failed with errno `code`: `close()` reports it.
    func noteWriteFailure(_ code: Int32) {
        if code == PcapRecordHeader.timestampOutOfRange {
            file?.noteFailure(reason: PcapRecordHeader.timestampRangeText)
        } else {
            file?.noteFailure(code)
        }
    }

    /// Flushes and moves the file into place. Throws if any write failed; the partial file is then removed.
    public func close() throws {
        guard let file, let dumper, let pcap else { return }
        self.file = nil
        self.dumper = nil
        self.pcap = nil
        file.endDirectWrites()  // the last buffer is partial
        if pcap_dump_flush(dumper) != 0 {
            // commit sees the stream's error state and reports it
        }
        defer { pcap_close(pcap) }
        try file.commit(closeStream: { _ in pcap_dump_close(dumper) })
    }

    /// Discards the file.
    public func abandon() {
        guard let file, let dumper, let pcap else { return }
        self.file = nil
        self.dumper = nil
        self.pcap = nil
        file.abandon(closeStream: { _ in pcap_dump_close(dumper) })
        pcap_close(pcap)
    }

    deinit { abandon() }
}

/// One record read from a capture file.
public struct CapturedPacket: Sendable {
    /// Nanoseconds since the Unix epoch.
    public var timestamp: Int64
    public var originalLength: Int
    public var data: [UInt8]
}

/// Reads pcap and pcapng files through libpcap, with nanosecond timestamps.
public final class CaptureReader {
    public let path: String
    public let linkType: LinkType
    private var pcap: OpaquePointer?
    public private(set) var packetsRead = 0
    /// A classic pcap, whose seconds field is unsigned 32 bits (to 2106) and which libpcap reads as signed.
    private var classic = true

    public static let supportedLinkTypes: [LinkType] = [.ethernet, .raw, .ipv4, .linuxSLL, .linuxSLL2, .nflog]

    public init(path: String) throws {
        self.path = path
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let p = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
            let text = String(decoding: errbuf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CaptureFileError(path: path, message: CaptureReader.clean(text))
        }
        pcap = p
        var magic: [UInt8] = [0, 0, 0, 0]
        if let f = fopen(path, "rb") {
            _ = fread(&magic, 1, 4, f)
            fclose(f)
        }
        classic = magic != [0x0A, 0x0D, 0x0D, 0x0A]
        // pcap_datalink gives a DLT value; DLT_RAW is 12 (14 on OpenBSD) where the file says LINKTYPE_RAW 101.
        let dlt = pcap_datalink(p)
        linkType = dlt == 12 || dlt == 14 ? .raw : LinkType(rawValue: UInt32(bitPattern: dlt))
        guard CaptureReader.supportedLinkTypes.contains(linkType) else {
            pcap_close(p)
            pcap = nil
            throw CaptureFileError(path: path, message: "unsupported link type \(linkType.rawValue) "
                + "(supported: Ethernet, raw IP, Linux SLL and SLL2, NFLOG)")
        }
    }

    /// The next record, or nil at the end of the file. A truncated or corrupt record throws.
    public func next() throws -> CapturedPacket? {
        guard let p = pcap else { return nil }
        var hdr: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        let rc = pcap_next_ex(p, &hdr, &data)
        switch rc {
        case 1:
            packetsRead += 1
            guard let hdr, let data else { return nil }
            let h = hdr.pointee
            // Nanoseconds since 1970 hold 1970 to 2262-04-11; a pcapng timestamp is 64 bits (and libpcap's
            // time_t turns one past 2^63 seconds negative): a time outside is refused, not let overflow here or
            // in the differences taken later. A classic pcap's seconds after 2038 are libpcap's negative ones.
            var seconds = Int64(h.ts.tv_sec)
            if classic, seconds < 0, seconds >= -(1 << 31) { seconds += 1 << 32 }
            let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            let (timestamp, overflowAgain) = ns.addingReportingOverflow(Int64(h.ts.tv_usec))
            guard seconds >= 0, !overflow, !overflowAgain else {
                throw CaptureFileError(path: path, packet: packetsRead, message: "timestamp \(UInt64(bitPattern: seconds)) s "
                    + "since 1970 is outside what vpcsim reads (1970 to 2262-04-11)")
            }
            let bytes = [UInt8](UnsafeBufferPointer(start: data, count: Int(h.caplen)))
            return CapturedPacket(timestamp: timestamp, originalLength: Int(h.len), data: bytes)
        case PCAP_ERROR_BREAK:  // -2: end of file
            return nil
        default:
            throw CaptureFileError(path: path, packet: packetsRead + 1,
                                   message: CaptureReader.clean(String(cString: pcap_geterr(p))))
        }
    }

    /// Every record in the file.
    public func readAll() throws -> [CapturedPacket] {
        var out: [CapturedPacket] = []
        while let pkt = try next() { out.append(pkt) }
        return out
    }

    public func close() {
        if let p = pcap { pcap_close(p) }
        pcap = nil
    }

    deinit { close() }

    private static func clean(_ message: String) -> String {
        message.isEmpty ? "unreadable capture" : message
    }
}

/// The libpcap version string, for reports.
public var libpcapVersion: String { String(cString: pcap_lib_version()) }

/// Tells stdio that the caller serializes the uses of `fp` (`__fsetlocking`, FSETLOCKING_BYCALLER): for a stream
/// one thread uses at a time (the threads handing it over through a mutex), so that stdio no longer takes and
/// releases the stream's lock, an atomic operation, in every call: `pcap_dump` makes two `fwrite` calls per record,
/// then `ferror`. Elsewhere than glibc, nothing changes. (Here because this file is the one that imports CPcap,
/// whose shim includes stdio_ext.h.)
func usedByOneThreadAtATime(_ fp: UnsafeMutablePointer<FILE>?) {
    #if canImport(Glibc)
    _ = __fsetlocking(fp, Int32(FSETLOCKING_BYCALLER))
    #endif
}
