import CPcap
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands the record writes of several `PcapWriter`s to a thread of their own: the caller copies each record into
/// a chunk of memory (a few hundred bytes, one copy) and goes on; the thread writes full chunks' records to the
/// streams libpcap opened for the files (stdio and the kernel's copy into the page cache, about half the cost of a
/// captured record), each as `pcap_dump` would but in one `fwrite` (`PcapRecordHeader`), in the order they were
/// filled, so every file gets the same bytes as when written directly.
///
/// It can also write a `PcapngWriter` (all-hops.pcapng): a record then carries the packet's pcapng interface and
/// comment, and the thread writes the same frame to the pcap and, as an Enhanced Packet Block, to the pcapng.
///
/// The two threads share nothing but a `ChunkQueue` (raw memory), the libpcap dumpers (C pointers) and the
/// `PcapngWriter`, which from `init` to `finish()` only the thread uses (release builds count references
/// non-atomically: the caller must not touch it meanwhile). The caller waits only when all the chunks are queued.
/// `finish()` must run before any of the writers is closed or abandoned.
public final class PcapWriterThread {
    private static let chunkSize = 1 << 20
    /// writer (Int16), flags (UInt16: `partsFlag`, `pcapngFlag`), count (UInt32), timestamp (Int64); with
    /// `pcapngFlag`, 8 more: the pcapng interface (Int32) and the comment's length (UInt32).
    private static let recordHeader = 16
    private static let pcapngHeader = 8
    private static let partsFlag: UInt16 = 1
    private static let pcapngFlag: UInt16 = 2
    /// The chunks; its context is `Context`.
    private var queue: ChunkQueue?
    private struct Context {
        /// Per writer, libpcap's stream for its file (nil: none).
        var streams: UnsafeMutablePointer<UnsafeMutablePointer<FILE>?>
        var pcapng: Unmanaged<PcapngWriter>?
        /// Per writer, the errno of its first failed write (0: none), read after the thread has ended.
        var errors: UnsafeMutablePointer<Int32>
    }
    /// The writers, for their failures at `finish()` (only this side touches them).
    private let writers: [PcapWriter?]
    private let context: UnsafeMutablePointer<Context>
    private let streams: UnsafeMutablePointer<UnsafeMutablePointer<FILE>?>
    /// The chunk being filled and how far.
    private var current: UnsafeMutableRawPointer
    private var used = 0
    /// Whether the thread is behind: at the last hand-over, at least half the chunks were waiting for it. Then
    /// the caller had better build frames itself (`append(writer:_:timestamp:)`) than hand over their parts:
    /// the two threads share the work, whichever has time.
    public private(set) var isBehind = false

    /// `writers[i]` receives the records `append(writer: i, …)` gives; nil entries take none (at most 32,767
    /// writers: a record names its writer in 16 bits). `pcapng`, retained by the caller
    /// (`Unmanaged.passRetained`, so that no strong reference of the caller's is released once the thread runs),
    /// receives the records appended with a pcapng interface; the thread releases it when it ends.
    public init(writers: [PcapWriter?], pcapng: Unmanaged<PcapngWriter>? = nil, chunks: Int = 8) throws {
        guard writers.count <= Int(Int16.max) else {
            pcapng?.release()
            throw CaptureFileError(path: writers.compactMap { $0?.path }.first ?? "",
                                   message: "\(writers.count) capture points: at most \(Int16.max) can be written at once")
        }
        streams = .allocate(capacity: max(writers.count, 1))
        for (i, w) in writers.enumerated() { (streams + i).initialize(to: w?.stream) }
        self.writers = writers
        let errors = UnsafeMutablePointer<Int32>.allocate(capacity: max(writers.count, 1))
        errors.initialize(repeating: 0, count: max(writers.count, 1))
        context = .allocate(capacity: 1)
        context.initialize(to: Context(streams: streams, pcapng: pcapng, errors: errors))
        do {
            queue = try ChunkQueue(chunks: chunks, chunkSize: Self.chunkSize, context: UnsafeMutableRawPointer(context),
                                   body: { arg in
                                       PcapWriterThread.run(ChunkQueue(threadArgument: arg!))
                                       return nil
                                   },
                                   error: { why in
                                       CaptureFileError(path: writers.compactMap { $0?.path }.first ?? "",
                                                        message: "cannot start the capture writer thread: \(why)")
                                   })
        } catch {
            context.pointee.pcapng?.release()
            context.pointee.errors.deallocate()
            context.deallocate()
            streams.deallocate()
            throw error
        }
        current = queue!.firstChunk
    }

    deinit {
        finish()
        context.pointee.errors.deallocate()
        context.deallocate()
        streams.deallocate()
    }

    /// Queues one record for writer `writer`: `data` (under 1 MiB) is copied. `timestamp` is nanoseconds since
    /// the Unix epoch.
    @inline(__always)
    public func append(writer: Int, _ data: UnsafeRawBufferPointer, timestamp: Int64) {
        let body = record(writer: writer, flags: 0, count: data.count, timestamp: timestamp)
        if let base = data.baseAddress { body.copyMemory(from: base, byteCount: data.count) }
    }

    /// As `append(writer:_:timestamp:)`, and the same frame to the pcapng on `interface`, with `comment`
    /// (UTF-8, copied).
    @inline(__always)
    public func append(writer: Int, _ data: UnsafeRawBufferPointer, timestamp: Int64, pcapngInterface interface: Int,
                       comment: UnsafeRawBufferPointer) {
        let body = record(writer: writer, flags: Self.pcapngFlag, count: data.count, timestamp: timestamp,
                          interface: interface, commentCount: comment.count)
        if let base = data.baseAddress { body.copyMemory(from: base, byteCount: data.count) }
        if let base = comment.baseAddress { (body + data.count).copyMemory(from: base, byteCount: comment.count) }
    }

    /// Queues one frame for writer `writer`, to be built on the thread from `parts` and `payload` (copied; the
    /// frame under 1 MiB): `Frame.write(to:parts:payload:)` gives the bytes. Building a frame (headers, lengths,
    /// checksums) costs as much as writing it, so this takes both off the caller's thread.
    @inline(__always)
    public func append(writer: Int, parts: FrameParts, payload: UnsafeRawBufferPointer, timestamp: Int64) {
        // The count is the payload's.
        let body = record(writer: writer, flags: Self.partsFlag, count: payload.count, timestamp: timestamp)
        body.initializeMemory(as: FrameParts.self, repeating: parts, count: 1)
        if let base = payload.baseAddress { (body + Self.partsBytes).copyMemory(from: base, byteCount: payload.count) }
    }

    /// As `append(writer:parts:payload:timestamp:)`, and the same frame to the pcapng on `interface`, with
    /// `comment` (UTF-8, copied).
    @inline(__always)
    public func append(writer: Int, parts: FrameParts, payload: UnsafeRawBufferPointer, timestamp: Int64,
                       pcapngInterface interface: Int, comment: UnsafeRawBufferPointer) {
        let body = record(writer: writer, flags: Self.partsFlag | Self.pcapngFlag, count: payload.count,
                          timestamp: timestamp, interface: interface, commentCount: comment.count)
        body.initializeMemory(as: FrameParts.self, repeating: parts, count: 1)
        if let base = payload.baseAddress { (body + Self.partsBytes).copyMemory(from: base, byteCount: payload.count) }
        if let base = comment.baseAddress {
            (body + Self.partsBytes + payload.count).copyMemory(from: base, byteCount: comment.count)
        }
    }

    /// FrameParts' size in a record, rounded up to 8 bytes (the payload follows it).
    private static let partsBytes = (MemoryLayout<FrameParts>.stride + 7) & ~7

    /// A record's size in a chunk: its header(s), FrameParts with `partsFlag`, `count` bytes and the comment,
    /// rounded up to 8 bytes.
    @inline(__always)
    private static func recordSize(flags: UInt16, count: Int, commentCount: Int) -> Int {
        (recordHeader + (flags & pcapngFlag != 0 ? pcapngHeader : 0) + (flags & partsFlag != 0 ? partsBytes : 0)
            + count + commentCount + 7) & ~7
    }

    /// Starts a record in the current chunk (handing the chunk over first when it has no room): writes its
    /// header(s) and returns where its body goes.
    @inline(__always)
    private func record(writer: Int, flags: UInt16, count: Int, timestamp: Int64, interface: Int = -1,
                        commentCount: Int = 0) -> UnsafeMutableRawPointer {
        precondition(queue != nil, "a record appended after finish()")
        let size = Self.recordSize(flags: flags, count: count, commentCount: commentCount)
        // Room too for the frame a record of parts becomes (the thread builds it in a chunk-sized buffer).
        precondition(size + (flags & Self.partsFlag != 0 ? FrameParts.maxHeaderBytes : 0) <= Self.chunkSize,
                     "a record larger than a chunk (1 MiB)")
        if used + size > Self.chunkSize { submit() }
        let r = current + used
        r.storeBytes(of: Int16(truncatingIfNeeded: writer), as: Int16.self)
        r.storeBytes(of: flags, toByteOffset: 2, as: UInt16.self)
        r.storeBytes(of: UInt32(truncatingIfNeeded: count), toByteOffset: 4, as: UInt32.self)
        r.storeBytes(of: timestamp, toByteOffset: 8, as: Int64.self)
        used += size
        guard flags & Self.pcapngFlag != 0 else { return r + Self.recordHeader }
        r.storeBytes(of: Int32(truncatingIfNeeded: interface), toByteOffset: Self.recordHeader, as: Int32.self)
        r.storeBytes(of: UInt32(truncatingIfNeeded: commentCount), toByteOffset: Self.recordHeader + 4, as: UInt32.self)
        return r + Self.recordHeader + Self.pcapngHeader
    }

    /// Hands the current chunk to the thread and waits, if need be, for the next one to be free.
    private func submit() {
        guard let queue else { return }
        (current, isBehind) = queue.submit(length: used)
        used = 0
    }

    /// Queues what is left, waits until the thread has written everything, and stops it. Idempotent.
    public func finish() {
        guard let q = queue else { return }
        queue = nil
        q.finish(length: used)
        used = 0
        for (i, w) in writers.enumerated() where context.pointee.errors[i] != 0 {
            w?.noteWriteFailure(context.pointee.errors[i])
        }
    }

    /// The thread: writes queued chunks in order until told it is done and nothing is left.
    private static func run(_ queue: ChunkQueue) {
        let context = queue.context!.assumingMemoryBound(to: Context.self)
        let streams = context.pointee.streams
        let errors = context.pointee.errors
        // Used without a strong reference (no retain or release on this thread but the last release).
        let pcapng = context.pointee.pcapng
        defer { pcapng?.release() }
        // Where frames are built, after room for their pcap record header: room for the largest record a chunk
        // holds.
        let frameBuffer = UnsafeMutableRawPointer.allocate(byteCount: PcapRecordHeader.size + chunkSize, alignment: 8)
        defer { frameBuffer.deallocate() }
        let frame = frameBuffer + PcapRecordHeader.size
        while let (chunk, length) = queue.next() {
            var offset = 0
            while offset < length {
                let r = chunk + offset
                let writer = Int(r.load(as: Int16.self))
                let flags = r.load(fromByteOffset: 2, as: UInt16.self)
                let count = Int(r.load(fromByteOffset: 4, as: UInt32.self))
                let timestamp = r.load(fromByteOffset: 8, as: Int64.self)
                let interface = flags & pcapngFlag != 0 ? Int(r.load(fromByteOffset: recordHeader, as: Int32.self)) : -1
                let commentCount = flags & pcapngFlag != 0
                    ? Int(r.load(fromByteOffset: recordHeader + 4, as: UInt32.self)) : 0
                let body = r + recordHeader + (flags & pcapngFlag != 0 ? pcapngHeader : 0)
                offset += recordSize(flags: flags, count: count, commentCount: commentCount)
                let stream = streams[writer]
                guard stream != nil || interface >= 0 else { continue }
                // The frame: the record's bytes, or built from its parts and payload.
                var bytes = body, caplen = count
                let comment = body + (flags & partsFlag != 0 ? partsBytes : 0) + count
                if flags & partsFlag != 0 {
                    var w = ByteWriter(base: frame, capacity: chunkSize)
                    Frame.write(to: &w, parts: body.load(as: FrameParts.self),
                                payload: UnsafeRawBufferPointer(start: body + partsBytes, count: count))
                    bytes = frame
                    caplen = w.count
                }
                if stream != nil, errors[writer] == 0, !PcapRecordHeader.holds(timestamp) {
                    errors[writer] = PcapRecordHeader.timestampOutOfRange  // refused, not wrapped
                }
                if let stream, errors[writer] == 0 {
                    // The record header goes in the 16 bytes before the frame (the record's own header, read
                    // above, or the room before `frame`), so that header and frame go to stdio in one call.
                    PcapRecordHeader.store(at: bytes - PcapRecordHeader.size, timestamp: timestamp, caplen: caplen)
                    errors[writer] = PcapRecordHeader.write(bytes - PcapRecordHeader.size, caplen: caplen, to: stream)
                }
                if interface >= 0, let pcapng {
                    pcapng._withUnsafeGuaranteedRef {
                        $0.write(interface: interface, timestamp: timestamp,
                                 data: UnsafeRawBufferPointer(start: bytes, count: caplen),
                                 commentBytes: UnsafeRawBufferPointer(start: comment, count: commentCount))
                    }
                }
            }
            queue.consumed()
        }
    }
}

/// A classic pcap record's header, as libpcap's `pcap_dump` writes it (sf-pcap.c, libpcap 1.10: `struct
/// pcap_sf_pkthdr`, four 32-bit fields in the host's byte order: seconds, the fraction (here nanoseconds, the file
/// being a nanosecond one), the captured length and the original length). `PcapWriterThread` writes a record as
/// one `fwrite` of header and frame, stored next to each other, to the stream libpcap opened (and wrote the file
/// header to, and closes), where `pcap_dump` makes two `fwrite` calls and an `ferror` check: the same bytes, with
/// half the stdio calls (about a third of the writer thread's work per record).
enum PcapRecordHeader {
    static let size = 16

    /// The failure of a record whose timestamp `holds` refuses, where an errno would be (errnos are positive).
    static let timestampOutOfRange: Int32 = -1
    static let timestampRangeText = "a packet's timestamp is outside 1970-01-01T00:00:00Z to 2038-01-19T03:14:07Z, "
        + "the times classic pcap's 32-bit seconds hold for every reader"

    /// Whether classic pcap can hold `timestamp` (ns since the Unix epoch) for every reader: its seconds are 32
    /// bits, which Wireshark reads as unsigned but libpcap as signed (`struct pcap_timeval`: a time after
    /// 2038-01-19 reads back as one before 1970). Writers refuse a record it cannot, rather than wrap it.
    @inline(__always)
    static func holds(_ timestamp: Int64) -> Bool {
        timestamp >= 0 && timestamp / 1_000_000_000 <= Int64(Int32.max)
    }

    /// Stores the header of a record of `caplen` bytes (captured whole) at `p`, its timestamp one that `holds`
    /// accepts.
    @inline(__always)
    static func store(at p: UnsafeMutableRawPointer, timestamp: Int64, caplen: Int) {
        p.storeBytes(of: UInt32(truncatingIfNeeded: timestamp / 1_000_000_000), as: UInt32.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: timestamp % 1_000_000_000), toByteOffset: 4, as: UInt32.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: caplen), toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: caplen), toByteOffset: 12, as: UInt32.self)
    }

    /// Writes the header at `p` and the `caplen` bytes after it to `stream`; returns 0, or the errno of the failed
    /// write (EIO when stdio gives none). After a failure the caller writes no more to the stream, as `pcap_dump`
    /// writes nothing to a stream in error.
    @inline(__always)
    static func write(_ p: UnsafeMutableRawPointer, caplen: Int, to stream: UnsafeMutablePointer<FILE>) -> Int32 {
        if fwrite(p, size + caplen, 1, stream) == 1 { return 0 }
        return errno == 0 ? EIO : errno
    }
}

/// Whether a stdio stream has seen a write fail (`ferror`, without the stream's lock where there is a function
/// for it).
@inline(__always)
func streamFailed(_ fp: UnsafeMutablePointer<FILE>) -> Bool {
    #if canImport(Glibc)
    return ferror_unlocked(fp) != 0
    #else
    return ferror(fp) != 0
    #endif
}
