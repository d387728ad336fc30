import Packets
import Testing

/// What the consumer saw: the first word of each chunk, in order, and the lengths (raw memory: the consumer's
/// thread touches no Swift object).
private struct Seen {
    var firstWords: UnsafeMutablePointer<Int>
    var lengths: UnsafeMutablePointer<Int>
    var count = 0
}

private struct QueueTestError: Error { let message: String }

@Suite("ChunkQueue")
struct ChunkQueueTests {
    /// Chunks handed over reach the consumer in order, each once, with its length, whether the producer wakes
    /// the consumer for every chunk or only once several wait; fewer chunks than `wakeAfter`, and a producer
    /// that fills every chunk before the consumer runs, included (`finish` wakes it).
    @Test("every chunk reaches the consumer once, in order, whatever wakeAfter", arguments: [
        (chunks: 4, wakeAfter: 1, submitted: 0), (4, 1, 1), (4, 1, 50), (4, 3, 2), (4, 3, 50), (16, 8, 5),
        (16, 8, 7), (16, 8, 200), (4, 99, 3), (4, 99, 40), (2, 0, 9),
    ])
    func handOver(chunks: Int, wakeAfter: Int, submitted: Int) throws {
        let seen = UnsafeMutablePointer<Seen>.allocate(capacity: 1)
        seen.initialize(to: Seen(firstWords: .allocate(capacity: max(submitted, 1)),
                                 lengths: .allocate(capacity: max(submitted, 1))))
        defer {
            seen.pointee.firstWords.deallocate()
            seen.pointee.lengths.deallocate()
            seen.deallocate()
        }
        let q = try ChunkQueue(chunks: chunks, chunkSize: 64, wakeAfter: wakeAfter,
                               context: UnsafeMutableRawPointer(seen), body: { arg in
                                   let queue = ChunkQueue(threadArgument: arg!)
                                   let s = queue.context!.assumingMemoryBound(to: Seen.self)
                                   while let (chunk, length) = queue.next() {
                                       s.pointee.firstWords[s.pointee.count] = chunk.load(as: Int.self)
                                       s.pointee.lengths[s.pointee.count] = length
                                       s.pointee.count += 1
                                       queue.consumed()
                                   }
                                   return nil
                               },
                               error: { QueueTestError(message: $0) })
        var chunk = q.firstChunk
        for i in 0..<submitted {
            chunk.storeBytes(of: i * 7, as: Int.self)
            if i == submitted - 1 { break }
            chunk = q.submit(length: 8 + i % 50).next
        }
        q.finish(length: submitted == 0 ? 0 : 8 + (submitted - 1) % 50)
        #expect(seen.pointee.count == submitted)
        for i in 0..<seen.pointee.count {
            #expect(seen.pointee.firstWords[i] == i * 7)
            #expect(seen.pointee.lengths[i] == 8 + i % 50)
        }
    }
}
