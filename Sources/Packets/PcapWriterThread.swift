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
/// The two threads share nothing but raw memory — the chunks, a mutex, a condition and counters — and the
/// libpcap dumpers (C pointers): no Swift object is touched by both, which matters because release builds count
/// references non-atomically (`-assume-single-threaded`). Chunks are used in turn; the caller waits only when all
/// of them are queued. `finish()` must run before any of the writers is closed or abandoned.
public final class PcapWriterThread {
    /// What the two threads share, at a fixed address.
    private struct Shared {
        var mutex = pthread_mutex_t()
        var changed = pthread_cond_t()
        /// Chunks filled by the caller and chunks written by the thread, since the start.
        var submitted = 0
        var written = 0
        var done = false
        /// Chunk i's bytes, its used length, and the dumpers records name by index.
        var chunks: UnsafeMutablePointer<UnsafeMutableRawPointer>
        var lengths: UnsafeMutablePointer<Int>
        var dumpers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        var chunkCount: Int
    }

    private static let chunkSize = 1 << 20
    private static let recordHeader = 16  // writer (Int32), caplen (UInt32), timestamp (Int64)
    private let shared: UnsafeMutablePointer<Shared>
    private var thread: pthread_t?
    /// The chunk being filled and how far.
    private var current: UnsafeMutableRawPointer
    private var used = 0
    /// Whether the thread is behind: at the last hand-over, at least half the chunks were waiting for it. Then
    /// the caller had better build frames itself (`append(writer:_:timestamp:)`) than hand over their parts:
    /// the two threads share the work, whichever has time.
    public private(set) var isBehind = false

    /// `writers[i]` receives the records `append(writer: i, …)` gives; nil entries take none.
    public init(writers: [PcapWriter?], chunks: Int = 8) throws {
        let count = max(chunks, 2)
        let chunkPointers = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: count)
        for i in 0..<count { (chunkPointers + i).initialize(to: .allocate(byteCount: Self.chunkSize, alignment: 8)) }
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: count)
        lengths.initialize(repeating: 0, count: count)
        let dumpers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: max(writers.count, 1))
        for (i, w) in writers.enumerated() { (dumpers + i).initialize(to: w?.dumperPointer) }
        shared = .allocate(capacity: 1)
        shared.initialize(to: Shared(chunks: chunkPointers, lengths: lengths, dumpers: dumpers, chunkCount: count))
        pthread_mutex_init(&shared.pointee.mutex, nil)
        pthread_cond_init(&shared.pointee.changed, nil)
        current = chunkPointers[0]
        var t = pthread_t()
        let status = pthread_create(&t, nil, { arg in
            PcapWriterThread.run(arg!.assumingMemoryBound(to: Shared.self))
            return nil
        }, UnsafeMutableRawPointer(shared))
        guard status == 0 else {
            // deinit frees the memory (no thread to finish).
            throw CaptureFileError(path: writers.compactMap { $0?.path }.first ?? "",
                                   message: "cannot start the capture writer thread: \(String(cString: strerror(status)))")
        }
        thread = t
    }

    deinit {
        finish()
        release()
    }

    private func release() {
        let s = shared.pointee
        for i in 0..<s.chunkCount { s.chunks[i].deallocate() }
        s.chunks.deallocate()
        s.lengths.deallocate()
        s.dumpers.deallocate()
        pthread_cond_destroy(&shared.pointee.changed)
        pthread_mutex_destroy(&shared.pointee.mutex)
        shared.deinitialize(count: 1)
        shared.deallocate()
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
        pthread_mutex_lock(&shared.pointee.mutex)
        let s = shared.pointee.submitted
        shared.pointee.lengths[s % shared.pointee.chunkCount] = used
        shared.pointee.submitted = s + 1
        pthread_cond_broadcast(&shared.pointee.changed)
        while shared.pointee.submitted - shared.pointee.written >= shared.pointee.chunkCount {
            pthread_cond_wait(&shared.pointee.changed, &shared.pointee.mutex)
        }
        current = shared.pointee.chunks[(s + 1) % shared.pointee.chunkCount]
        isBehind = 2 * (shared.pointee.submitted - shared.pointee.written) >= shared.pointee.chunkCount
        pthread_mutex_unlock(&shared.pointee.mutex)
        used = 0
    }

    /// Queues what is left, waits until the thread has written everything, and stops it. Idempotent.
    public func finish() {
        guard let t = thread else { return }
        thread = nil
        if used > 0 { submit() }
        pthread_mutex_lock(&shared.pointee.mutex)
        shared.pointee.done = true
        pthread_cond_broadcast(&shared.pointee.changed)
        pthread_mutex_unlock(&shared.pointee.mutex)
        pthread_join(t, nil)
    }

    /// The thread: writes queued chunks in order until told it is done and nothing is left.
    private static func run(_ shared: UnsafeMutablePointer<Shared>) {
        // Where frames are built: room for the largest record a chunk holds.
        let frame = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 8)
        defer { frame.deallocate() }
        while true {
            pthread_mutex_lock(&shared.pointee.mutex)
            while shared.pointee.written == shared.pointee.submitted, !shared.pointee.done {
                pthread_cond_wait(&shared.pointee.changed, &shared.pointee.mutex)
            }
            if shared.pointee.written == shared.pointee.submitted {
                pthread_mutex_unlock(&shared.pointee.mutex)
                return
            }
            let k = shared.pointee.written % shared.pointee.chunkCount
            let chunk = shared.pointee.chunks[k]
            let length = shared.pointee.lengths[k]
            let dumpers = shared.pointee.dumpers
            pthread_mutex_unlock(&shared.pointee.mutex)
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
            pthread_mutex_lock(&shared.pointee.mutex)
            shared.pointee.written += 1
            pthread_cond_broadcast(&shared.pointee.changed)
            pthread_mutex_unlock(&shared.pointee.mutex)
        }
    }
}

extension PcapWriter {
    /// The libpcap dumper, for `PcapWriterThread` (nil once closed).
    var dumperPointer: UnsafeMutableRawPointer? { dumper.map { UnsafeMutableRawPointer($0) } }
}
