import Packets

/// Selective acknowledgment (RFC 2018) as Linux keeps it, for one connection: the segments received beyond a hole
/// (the out-of-order queue, tcp_data_queue_ofo) and the ranges the peer reported having (the sender's SACK
/// scoreboard). Both stay empty, and allocate nothing, unless a segment is lost: the modeled network does not
/// reorder, so a hole means a drop (a link too small, a rule, a queue).
struct TCPSACK {
    /// A segment received beyond rcv_nxt, its bytes copied (the network frees the packet's after delivery).
    struct Held {
        var seq: UInt32
        var bytes: [UInt8]
        var fin: Bool
        var end: UInt32 { seq &+ UInt32(bytes.count) }
    }

    /// Receive side: held segments in sequence order, none overlapping another.
    private(set) var held: [Held] = []
    /// The start of the block that holds the segment received last (RFC 2018 §4: reported first).
    private var latest: UInt32 = 0

    /// Send side: what the peer SACKed beyond snd_una, as sorted, disjoint [start, end) ranges.
    private(set) var sacked: [(start: UInt32, end: UInt32)] = []

    var holding: Bool { !held.isEmpty }

    // MARK: Receiving

    /// Keeps a segment that arrived beyond `rcvNxt` (a copy of what the held ones do not already cover).
    mutating func hold(seq: UInt32, payload: UnsafeRawBufferPointer, fin: Bool) {
        var seq = seq
        var bytes = Array(payload)
        // Trim what an earlier held segment covers, and drop one this one covers entirely.
        if let i = held.lastIndex(where: { seqLEQ($0.seq, seq) }), seqLT(seq, held[i].end) {
            let cut = Int(held[i].end &- seq)
            if cut >= bytes.count { latest = held[i].seq; return }
            bytes.removeFirst(cut)
            seq = held[i].end
        }
        let end = seq &+ UInt32(bytes.count)
        held.removeAll { seqLEQ(seq, $0.seq) && seqLEQ($0.end, end) }
        if let i = held.firstIndex(where: { seqLT(seq, $0.seq) }) {
            if seqLT(held[i].seq, end) { bytes.removeLast(Int(end &- held[i].seq)) }
            held.insert(Held(seq: seq, bytes: bytes, fin: fin && seqLEQ(end, held[i].seq)), at: i)
        } else {
            held.append(Held(seq: seq, bytes: bytes, fin: fin))
        }
        latest = seq
    }

    /// The held segments that now follow `rcvNxt` without a gap, in order, taken out of the queue (trimmed of
    /// what `rcvNxt` already covers).
    mutating func takeInOrder(rcvNxt: UInt32) -> [Held] {
        var out: [Held] = []
        var next = rcvNxt
        while let first = held.first, seqLEQ(first.seq, next) {
            held.removeFirst()
            guard seqLT(next, first.end) || (first.fin && first.end == next) else { continue }
            var h = first
            if seqLT(h.seq, next) { h.bytes.removeFirst(Int(next &- h.seq)); h.seq = next }
            next = h.end
            out.append(h)
            if h.fin { break }
        }
        return out
    }

    /// The SACK option Linux appends after the timestamps (tcp_options_write: NOP, NOP, kind 5): the held data
    /// as contiguous blocks, the one with the latest segment first, then the others by sequence, at most
    /// `maxBlocks` (3 beside timestamps, RFC 2018 §3).
    func appendOption(to o: inout TCPOptionBytes, maxBlocks: Int) {
        guard !held.isEmpty else { return }
        var blocks: [(UInt32, UInt32)] = []
        for h in held {
            if let last = blocks.last, last.1 == h.seq { blocks[blocks.count - 1].1 = h.end } else { blocks.append((h.seq, h.end)) }
        }
        if let i = blocks.firstIndex(where: { seqLEQ($0.0, latest) && seqLT(latest, $0.1) }), i > 0 {
            blocks.insert(blocks.remove(at: i), at: 0)
        }
        let n = min(blocks.count, maxBlocks)
        o.appendByte(1)
        o.appendByte(1)
        o.appendByte(5)
        o.appendByte(UInt8(2 + 8 * n))
        for (l, r) in blocks.prefix(n) {
            for v in [l, r] {
                o.appendByte(UInt8(v >> 24)); o.appendByte(UInt8(v >> 16 & 0xFF))
                o.appendByte(UInt8(v >> 8 & 0xFF)); o.appendByte(UInt8(v & 0xFF))
            }
        }
    }

    // MARK: Sending

    /// Records the blocks of a SACK option (those beyond `sndUna` and up to `sndMax`), merging with what is known.
    mutating func record(_ blocks: [SACKBlock], sndUna: UInt32, sndMax: UInt32) {
        for b in blocks {
            let s = seqLT(b.left, sndUna) ? sndUna : b.left
            guard seqLT(s, b.right), seqLEQ(b.right, sndMax) else { continue }
            var start = s, end = b.right
            sacked.removeAll { r in
                guard seqLEQ(r.start, end), seqLEQ(start, r.end) else { return false }
                if seqLT(r.start, start) { start = r.start }
                if seqLT(end, r.end) { end = r.end }
                return true
            }
            let i = sacked.firstIndex { seqLT(start, $0.start) } ?? sacked.count
            sacked.insert((start, end), at: i)
        }
    }

    /// Forgets what `sndUna` now acknowledges.
    mutating func acknowledged(to sndUna: UInt32) {
        guard !sacked.isEmpty else { return }
        sacked.removeAll { seqLEQ($0.end, sndUna) }
        if let f = sacked.first, seqLT(f.start, sndUna) { sacked[0].start = sndUna }
    }

    /// The end of the SACKed range that `seq` is in, if it is in one.
    func sackedEnd(at seq: UInt32) -> UInt32? {
        sacked.first { seqLEQ($0.start, seq) && seqLT(seq, $0.end) }?.end
    }

    /// The start of the first SACKed range after `seq`.
    func nextSacked(after seq: UInt32) -> UInt32? {
        sacked.first { seqLT(seq, $0.start) }?.start
    }

    mutating func reset() {
        held = []
        sacked = []
    }
}

/// Linux's timers as they show on the wire: kernel time counts in jiffies, and a timer fires on a tick of the timer
/// wheel, rounded up to the granularity of the wheel level its delay falls in.
enum LinuxTimers {
    /// A jiffy at CONFIG_HZ=250 (Debian's kernels, and the reference captures: delayed ACKs at 41–44 ms).
    static let jiffy: Int64 = 4_000_000

    /// When a timer armed at `now` for `delay` fires. usecs_to_jiffies rounds the delay up to whole jiffies;
    /// kernel/time/timer.c calc_wheel_index puts it on level n when the delay is at least LVL_START(n) =
    /// 63 << 3(n−1) jiffies, and calc_index rounds the expiry up to the level's granularity, 8^n jiffies, "to
    /// prevent [the timer] from firing early": ((expires >> 3n) + 1) << 3n. So a retransmission timer of 0.2 s
    /// fires 4–8 ms late, one of 27 s up to 2 s late — the drift the reference captures show.
    static func fireTime(now: Int64, delay: Int64) -> Int64 {
        let clk = now / jiffy
        let delta = max(1, (delay + jiffy - 1) / jiffy)
        var level: Int64 = 0
        while level < 8, delta >= (63 << (3 * level)) { level += 1 }
        let shift = 3 * level
        let bucket = (((clk + delta) >> shift) + 1) << shift
        return bucket * jiffy
    }
}
