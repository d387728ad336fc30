#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Chunks of raw memory that one thread (the producer) fills and a thread of its own (the consumer) empties, in
/// the order they were filled: the hand-over `PcapWriterThread` (pcap records) and Sim's flow-log thread (packets
/// crossing ENIs) share.
///
/// The two threads share nothing but raw memory — the chunks, a mutex, a condition, counters and the consumer's
/// context pointer — so no Swift object is touched by both, which matters because release builds count references
/// non-atomically (`-assume-single-threaded`). Chunks are used in turn; the producer waits only when all of them
/// are queued. A `ChunkQueue` is a plain handle (one pointer): the producer's copy and the consumer's are the same
/// queue.
public struct ChunkQueue {
    private struct Shared {
        var mutex = pthread_mutex_t()
        var changed = pthread_cond_t()
        /// Chunks filled by the producer and chunks emptied by the consumer, since the start.
        var submitted = 0
        var consumed = 0
        var closed = false
        var chunks: UnsafeMutablePointer<UnsafeMutableRawPointer>
        var lengths: UnsafeMutablePointer<Int>
        var chunkCount: Int
        /// Chunks waiting before the producer wakes the consumer.
        var wakeAfter: Int
        /// What the consumer works with (its thread's argument is the queue itself).
        var context: UnsafeMutableRawPointer?
        var thread: pthread_t?
        var body: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?
    }

    private let shared: UnsafeMutablePointer<Shared>

    /// The consumer's thread runs `body(queue)`: typically a loop over `next()` and `consumed()` until `next()`
    /// returns nil. `context` is the consumer's, read back with `context`. `wakeAfter`: how many chunks wait before
    /// the producer wakes a sleeping consumer (1: at once; more, for a consumer that is usually faster than the
    /// producer, saves wake-ups; `submit`'s `behind` counts from half the chunks, so keep it below that where
    /// `behind` is used). Throws `error(status)` if the thread cannot start (nothing is left allocated then).
    public init(chunks: Int, chunkSize: Int, wakeAfter: Int = 1, context: UnsafeMutableRawPointer?,
                body: @escaping @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?,
                error: (String) -> Error) throws {
        let count = max(chunks, 2)
        let chunkPointers = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: count)
        for i in 0..<count { (chunkPointers + i).initialize(to: .allocate(byteCount: chunkSize, alignment: 8)) }
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: count)
        lengths.initialize(repeating: 0, count: count)
        shared = .allocate(capacity: 1)
        shared.initialize(to: Shared(chunks: chunkPointers, lengths: lengths, chunkCount: count,
                                     wakeAfter: min(max(wakeAfter, 1), count), context: context, body: body))
        pthread_mutex_init(&shared.pointee.mutex, nil)
        pthread_cond_init(&shared.pointee.changed, nil)
        var t = pthread_t()
        let status = pthread_create(&t, nil, { arg in
            // The producer (the simulation) is the one to keep running: on a machine with fewer cores than
            // threads, the consumers yield to it, and when they fall behind the producer waits for a free chunk
            // and they run. Lowering a thread's own priority needs no privilege; if it fails, nothing changes.
            // On Linux PRIO_PROCESS with 0 is the calling thread. Five more than the process's own nice value.
            #if canImport(Glibc)
            errno = 0
            let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            if errno == 0 {
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(19, current + 5))
            }
            #endif
            return arg!.assumingMemoryBound(to: Shared.self).pointee.body(arg)
        }, UnsafeMutableRawPointer(shared))
        guard status == 0 else {
            release()
            throw error(String(cString: strerror(status)))
        }
        shared.pointee.thread = t
    }

    /// The queue a consumer's thread was given as its argument.
    public init(threadArgument: UnsafeMutableRawPointer) {
        shared = threadArgument.assumingMemoryBound(to: Shared.self)
    }

    public var context: UnsafeMutableRawPointer? { shared.pointee.context }
    /// The chunk the producer fills first.
    public var firstChunk: UnsafeMutableRawPointer { shared.pointee.chunks[0] }

    // MARK: Producer

    /// Hands the chunk being filled (`length` bytes used) to the consumer and returns the next one to fill, once
    /// it is free, and whether the consumer is behind: at least half the chunks are still waiting for it.
    public func submit(length: Int) -> (next: UnsafeMutableRawPointer, behind: Bool) {
        pthread_mutex_lock(&shared.pointee.mutex)
        let s = shared.pointee.submitted
        let count = shared.pointee.chunkCount
        shared.pointee.lengths[s % count] = length
        shared.pointee.submitted = s + 1
        // The consumer is woken once `wakeAfter` chunks wait (and then empties all of them before it sleeps
        // again), not necessarily for each one: waking a thread on the other core is a futex call and, in a VM,
        // an inter-processor interrupt.
        if shared.pointee.submitted - shared.pointee.consumed >= shared.pointee.wakeAfter {
            pthread_cond_broadcast(&shared.pointee.changed)
        }
        while shared.pointee.submitted - shared.pointee.consumed >= count {
            pthread_cond_wait(&shared.pointee.changed, &shared.pointee.mutex)
        }
        let next = shared.pointee.chunks[(s + 1) % count]
        let behind = 2 * (shared.pointee.submitted - shared.pointee.consumed) >= count
        pthread_mutex_unlock(&shared.pointee.mutex)
        return (next, behind)
    }

    /// Hands over the last chunk (when `length` > 0), waits until the consumer has emptied every chunk and its
    /// thread has returned, and frees the queue. The handle is dead after.
    public func finish(length: Int) {
        if length > 0 { _ = submit(length: length) }
        pthread_mutex_lock(&shared.pointee.mutex)
        shared.pointee.closed = true
        pthread_cond_broadcast(&shared.pointee.changed)
        pthread_mutex_unlock(&shared.pointee.mutex)
        if let t = shared.pointee.thread { pthread_join(t, nil) }
        release()
    }

    private func release() {
        let s = shared.pointee
        for i in 0..<s.chunkCount { s.chunks[i].deallocate() }
        s.chunks.deallocate()
        s.lengths.deallocate()
        pthread_cond_destroy(&shared.pointee.changed)
        pthread_mutex_destroy(&shared.pointee.mutex)
        shared.deinitialize(count: 1)
        shared.deallocate()
    }

    // MARK: Consumer

    /// The next chunk to empty and its length, waiting for one; nil when the producer has finished and every
    /// chunk has been emptied.
    public func next() -> (chunk: UnsafeMutableRawPointer, length: Int)? {
        pthread_mutex_lock(&shared.pointee.mutex)
        defer { pthread_mutex_unlock(&shared.pointee.mutex) }
        while shared.pointee.consumed == shared.pointee.submitted, !shared.pointee.closed {
            pthread_cond_wait(&shared.pointee.changed, &shared.pointee.mutex)
        }
        if shared.pointee.consumed == shared.pointee.submitted { return nil }
        let k = shared.pointee.consumed % shared.pointee.chunkCount
        return (shared.pointee.chunks[k], shared.pointee.lengths[k])
    }

    /// The chunk `next()` gave is empty: the producer may fill it again.
    public func consumed() {
        pthread_mutex_lock(&shared.pointee.mutex)
        shared.pointee.consumed += 1
        pthread_cond_broadcast(&shared.pointee.changed)
        pthread_mutex_unlock(&shared.pointee.mutex)
    }
}
