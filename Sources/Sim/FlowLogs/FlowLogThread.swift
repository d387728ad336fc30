import Packets

/// Runs a `FlowLogRecorder` on a thread of its own while the simulation goes on: what crosses each ENI is handed
/// over as plain data (`InterfaceObservation`, 32 bytes a packet) through a `ChunkQueue`, and the thread
/// aggregates, completes, formats and writes the records. The recorder sees the same packets in the same order
/// as when called directly, so `flow-logs.txt` is byte for byte the same; the simulation's thread no longer pays
/// for it (about a fifth of its time in a fleet run).
///
/// The recorder holds no storage shared with the simulation (its initializer copies what it keeps), and nothing
/// but this object touches it until `finish()` has returned: then it is the caller's again (`finish()`,
/// `records`).
public final class FlowLogThread: InterfaceObserver {
    private let chunkSize: Int
    private static let stride = MemoryLayout<InterfaceObservation>.stride
    private var queue: ChunkQueue?
    private var current: UnsafeMutableRawPointer
    private var used = 0
    /// Kept alive for the thread, which uses it without counting references.
    private let recorder: FlowLogRecorder

    public convenience init(recorder: FlowLogRecorder) throws { try self.init(recorder: recorder, chunkSize: 64 << 10) }

    /// `chunkSize`: bytes handed over at a time (tests make it tiny).
    init(recorder: FlowLogRecorder, chunkSize: Int) throws {
        self.recorder = recorder
        self.chunkSize = max(chunkSize, Self.stride)
        let q = try ChunkQueue(
            chunks: 16, chunkSize: self.chunkSize,
            // Woken once 8 of the 16 chunks wait, not for each (the thread is faster than the simulation and
            // sleeps between chunks): a wake-up per 64 KiB cost the simulation's thread some 2% of `flows off`
            // (perf: the kernel's `_raw_spin_unlock_irqrestore` in the futex wake, 595 samples against 92).
            wakeAfter: 8, context: Unmanaged.passUnretained(recorder).toOpaque(),
            body: { arg in
                let queue = ChunkQueue(threadArgument: arg!)
                Unmanaged<FlowLogRecorder>.fromOpaque(queue.context!)._withUnsafeGuaranteedRef { r in
                    while let (chunk, length) = queue.next() {
                        var offset = 0
                        while offset < length {
                            r.observe(chunk.load(fromByteOffset: offset, as: InterfaceObservation.self))
                            offset += FlowLogThread.stride
                        }
                        queue.consumed()
                    }
                }
                return nil
            },
            error: { why in CaptureFileError(path: "flow-logs.txt", message: "cannot start the flow-log thread: \(why)") })
        queue = q
        current = q.firstChunk
    }

    deinit { finish() }

    public func interface(eni: Int, time: Int64, packet: SimPacket, egress: Bool, accepted: Bool) {
        observe(InterfaceObservation(eni: eni, time: time, packet: packet, egress: egress, accepted: accepted))
    }

    /// Hands over one observation, already made (a fused NAT departure's, made before its time).
    @inline(__always)
    func observe(_ o: InterfaceObservation) {
        guard let queue else { return }
        if used + Self.stride > chunkSize {
            current = queue.submit(length: used).next
            used = 0
        }
        (current + used).storeBytes(of: o, as: InterfaceObservation.self)
        used += Self.stride
    }

    /// Hands over what is left and waits until the recorder has seen every packet; the recorder is the caller's
    /// again. Idempotent.
    public func finish() {
        guard let q = queue else { return }
        queue = nil
        q.finish(length: used)
        used = 0
    }
}
