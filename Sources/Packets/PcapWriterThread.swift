import CPcap
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands the libpcap writes of several `PcapWriter`s to a thread of their own: the caller copies each record into
/// a chunk of memory (a few hundred bytes, one copy) and goes on; the thread passes full chunks to `pcap_dump`
/// (libpcap's formatting, stdio and the kernel's copy into the page cache, about half the cost of a captured
/// record) in the order they were filled, so every file gets the same bytes as when written directly.
///
/// The two threads share nothing but a `ChunkQueue` (raw memory) and the libpcap dumpers (C pointers). The caller
/// waits only when all the chunks are queued. `finish()` must run before any of the writers is closed or
/// abandoned.
public final class PcapWriterThread {
    private static let chunkSize = 1 << 20
    private static let recordHeader = 16  // writer (Int32), caplen (UInt32), timestamp (Int64)
    /// The chunks; its context is the dumpers, by writer index.
    private var queue: ChunkQueue?
    private let dumpers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// The chunk being filled and how far.
    private var current: UnsafeMutableRawPointer
    private var used = 0
    /// Whether the thread is behind: at the last hand-over, at least half the chunks were waiting for it. Then
    /// the caller had better build frames itself (`append(writer:_:timestamp:)`) than hand over their parts:
    /// the two threads share the work, whichever has time.
    public private(set) var isBehind = false

    /// `writers[i]` receives the records `append(writer: i, …)` gives; nil entries take none.
    public init(writers: [PcapWriter?], chunks: Int = 8) throws {
        dumpers = .allocate(capacity: max(writers.count, 1))
        for (i, w) in writers.enumerated() { (dumpers + i).initialize(to: w?.dumperPointer) }
        do {
            queue = try ChunkQueue(chunks: chunks, chunkSize: Self.chunkSize, context: UnsafeMutableRawPointer(dumpers),
                                   body: { arg in
                                       PcapWriterThread.run(ChunkQueue(threadArgument: arg!))
                                       return nil
                                   },
                                   error: { why in
                                       CaptureFileError(path: writers.compactMap { $0?.path }.first ?? "",
                                                        message: "cannot start the capture writer thread: \(why)")
                                   })
        } catch {
            dumpers.deallocate()
            throw error
        }
        current = queue!.firstChunk
    }

    deinit {
        finish()
        dumpers.deallocate()
    }

    /// Queues one record for writer `writer`: `data` (under 1 MiB) is copied. `timestamp` is nanoseconds since
    /// the Unix epoch.
    @inline(__always)
    public func append(writer: Int, _ data: UnsafeRawBufferPointer, timestamp: Int64) {
        let body = record(tag: Int32(truncatingIfNeeded: writer), count: data.count, timestamp: timestamp)
        if let base = data.baseAddress { body.copyMemory(from: base, byteCount: data.count) }
    }

    /// Queues one frame for writer `writer`, to be built on the thread from `parts` and `payload` (copied; the
    /// frame under 1 MiB): `Frame.write(to:parts:payload:)` gives the bytes. Building a frame (headers, lengths,
    /// checksums) costs as much as writing it, so this takes both off the caller's thread.
    @inline(__always)
    public func append(writer: Int, parts: FrameParts, payload: UnsafeRawBufferPointer, timestamp: Int64) {
        // A negative tag marks a frame to build; the count is the payload's.
        let body = record(tag: -1 - Int32(truncatingIfNeeded: writer), count: payload.count, timestamp: timestamp)
        body.initializeMemory(as: FrameParts.self, repeating: parts, count: 1)
        if let base = payload.baseAddress { (body + Self.partsBytes).copyMemory(from: base, byteCount: payload.count) }
    }

    /// FrameParts' size in a record, rounded up to 8 bytes (the payload follows it).
    private static let partsBytes = (MemoryLayout<FrameParts>.stride + 7) & ~7

    /// A record's size in a chunk: its header, FrameParts when its tag is negative, `count` bytes, rounded up to
    /// 8 bytes.
    @inline(__always)
    private static func recordSize(tag: Int32, count: Int) -> Int {
        (recordHeader + (tag < 0 ? partsBytes : 0) + count + 7) & ~7
    }

    /// Starts a record in the current chunk (handing the chunk over first when it has no room): writes its
    /// header (tag: the writer, or -1 - the writer for a frame to build; count; timestamp) and returns where its
    /// body goes.
    @inline(__always)
    private func record(tag: Int32, count: Int, timestamp: Int64) -> UnsafeMutableRawPointer {
        precondition(queue != nil, "a record appended after finish()")
        let size = Self.recordSize(tag: tag, count: count)
        // Room too for the frame a record of parts becomes (the thread builds it in a chunk-sized buffer).
        precondition(size + (tag < 0 ? FrameParts.maxHeaderBytes : 0) <= Self.chunkSize,
                     "a record larger than a chunk (1 MiB)")
        if used + size > Self.chunkSize { submit() }
        let r = current + used
        r.storeBytes(of: tag, as: Int32.self)
        r.storeBytes(of: UInt32(truncatingIfNeeded: count), toByteOffset: 4, as: UInt32.self)
        r.storeBytes(of: timestamp, toByteOffset: 8, as: Int64.self)
        used += size
        return r + Self.recordHeader
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
    }

    /// The thread: writes queued chunks in order until told it is done and nothing is left.
    private static func run(_ queue: ChunkQueue) {
        let dumpers = queue.context!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        // Where frames are built: room for the largest record a chunk holds.
        let frame = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 8)
        defer { frame.deallocate() }
        while let (chunk, length) = queue.next() {
            var offset = 0
            while offset < length {
                let r = chunk + offset
                let tag = r.load(as: Int32.self)
                let count = Int(r.load(fromByteOffset: 4, as: UInt32.self))
                let timestamp = r.load(fromByteOffset: 8, as: Int64.self)
                let body = r + recordHeader
                offset += recordSize(tag: tag, count: count)
                guard let d = dumpers[Int(tag >= 0 ? tag : -1 - tag)] else { continue }
                // The frame: the record's bytes, or built from its parts and payload.
                var bytes = body, caplen = count
                if tag < 0 {
                    var w = ByteWriter(base: frame, capacity: chunkSize)
                    Frame.write(to: &w, parts: body.load(as: FrameParts.self),
                                payload: UnsafeRawBufferPointer(start: body + partsBytes, count: count))
                    bytes = frame
                    caplen = w.count
                }
                var header = pcap_pkthdr()
                header.ts.tv_sec = Int(timestamp / 1_000_000_000)
                header.ts.tv_usec = Int(timestamp % 1_000_000_000)  // nanoseconds, in a nanosecond file
                header.caplen = UInt32(caplen)
                header.len = UInt32(caplen)
                pcap_dump(d.assumingMemoryBound(to: UInt8.self), &header, bytes.assumingMemoryBound(to: UInt8.self))
            }
            queue.consumed()
        }
    }
}

extension PcapWriter {
    /// The libpcap dumper, for `PcapWriterThread` (nil once closed).
    var dumperPointer: UnsafeMutableRawPointer? { dumper.map { UnsafeMutableRawPointer($0) } }
}
