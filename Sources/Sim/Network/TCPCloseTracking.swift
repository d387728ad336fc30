import Packets

/// What a stateful component on the path reads of a TCP segment to follow the connection's close: its flags,
/// the sequence number just past its data (a FIN's own number), and its acknowledgment number.
struct TCPSegmentMarks {
    var flags: TCPFlags
    var end: UInt32
    var ack: UInt32

    @inline(__always)
    init(_ t: TCPHeader, payload: Int) {
        flags = t.flags
        end = t.sequenceNumber &+ UInt32(truncatingIfNeeded: payload)
        ack = t.acknowledgmentNumber
    }

    init(flags: TCPFlags, end: UInt32, ack: UInt32) {
        self.flags = flags
        self.end = end
        self.ack = ack
    }
}

extension SimPacket {
    /// The close-following view of a TCP packet (nil for other protocols).
    @inline(__always)
    var closeMarks: TCPSegmentMarks? { tcp.map { TCPSegmentMarks($0, payload: payload.count) } }
}

/// The close of one TCP connection as a component on its path sees it (a security group's connection
/// tracking, a NAT gateway's mapping, a flow-log record's connection): closed once each side's FIN has been
/// acknowledged by the other side, whatever the order — one side first (FIN, ACK, FIN, ACK; or FIN, FIN+ACK,
/// ACK) or both at once (a simultaneous close: the FINs cross, FIN, FIN, ACK, ACK, RFC 9293 §3.6). The ACK
/// after both FINs is the end only in the first case: in the second it acknowledges one FIN of two.
/// The two sides are `a` and `b`, as the owner names them (the opener, the inside, the lower endpoint).
struct TCPCloseState {
    /// Each side's FIN sequence number, once seen.
    private var finA: UInt32 = 0
    private var finB: UInt32 = 0
    /// FIN seen from a (1), from b (2); a's FIN acknowledged by b (4), b's by a (8).
    private var bits: UInt8 = 0

    /// Whether either side has sent FIN.
    var finSeen: Bool { bits & 3 != 0 }

    /// Follows one segment from side a (`fromA`) or b; true when it completes the close (both FINs acknowledged).
    @inline(__always)
    mutating func follow(_ m: TCPSegmentMarks, fromA: Bool) -> Bool {
        if bits == 0, !m.flags.contains(.fin) { return false }  // the common case: no FIN yet
        return followClose(m, fromA: fromA)
    }

    @inline(never)
    private mutating func followClose(_ m: TCPSegmentMarks, fromA: Bool) -> Bool {
        let (mine, theirs): (UInt8, UInt8) = fromA ? (1, 2) : (2, 1)
        if m.flags.contains(.fin), bits & mine == 0 {
            bits |= mine
            if fromA { finA = m.end } else { finB = m.end }
        }
        // This segment acknowledges the other side's FIN if its ACK is past it.
        if m.flags.contains(.ack), bits & theirs != 0 {
            let fin = fromA ? finB : finA
            if Int32(bitPattern: m.ack &- fin) > 0 { bits |= theirs << 2 }
        }
        return bits == 15
    }
}
