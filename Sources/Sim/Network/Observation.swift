import Packets

/// Observes what the network does, without the network knowing about files: capture taps and the trace
/// recorder implement this. Each packet is lent for the call: its payload's bytes (`PacketPayload`) are freed
/// when the packet leaves the network, so an observer that keeps a packet must copy the bytes it wants
/// (`payload.bytes`), not keep the packet's payload.
public protocol NetworkObserver: AnyObject {
    /// A packet seen at a capture point. `outgoing` is from the point's own side (the ENI or host sending).
    /// `comment`: what happened to it there, UTF-8 (empty when the network does not describe packets), valid
    /// during the call only.
    func seen(point: Int, time: Int64, packet: SimPacket, outgoing: Bool, comment: UnsafeRawBufferPointer)
    /// A packet dropped; `step` names the component and rule.
    func dropped(time: Int64, packet: SimPacket, step: Step)
    /// The recorded steps of a traced packet that reached its destination or was dropped.
    func traced(packet: SimPacket, steps: [Step])
    /// A packet crossing an ENI, as VPC Flow Logs see it: leaving it (`egress`) or arriving, and whether the
    /// security group and the subnet's NACL let it (ACCEPT) or not (REJECT). `packet` has the addresses in its
    /// IP header at that point (flow logs' pkt-srcaddr / pkt-dstaddr).
    func interface(eni: Int, time: Int64, packet: SimPacket, egress: Bool, accepted: Bool)
}

extension NetworkObserver {
    public func interface(eni: Int, time: Int64, packet: SimPacket, egress: Bool, accepted: Bool) {}
}

/// Where a comment that depends only on its component, the transit's next node and an address is made.
enum CommentSite: UInt64 { case sent = 1, natDeparture, toInternet, fromInternet, hostSent }

struct CommentKey: TableKey {
    var place: UInt64
    var address: UInt64
    var tableHash: UInt64 { place ^ (address &* 0x9E37_79B9_7F4A_7C15) }
}

/// What the dispatcher tells its observers: packets seen at capture points (with a comment saying what happened
/// there), drops, traced packets' steps, and packets crossing ENIs (the flow logs' view).
extension VPCNetwork {
    /// Calls `body` with the observer, if any: a RunRecorder borrowed, any other as it is.
    @inline(__always)
    func withObserver(_ body: (NetworkObserver) -> Void) {
        if let r = recorder { r { body($0) } } else if let o = observer { body(o) }
    }

    /// `observer.interface`, the flow logs' view of a packet crossing an ENI. `p` is lent (inout: by address; not
    /// changed), and so to a RunRecorder (`interface(eni:time:lent:egress:accepted:)`).
    @inline(__always)
    func observeInterface(_ eni: Int, _ p: inout SimPacket, egress: Bool, accepted: Bool) {
        runDeferredDepartures()  // the flow logs see every packet in the order of events
        if let r = recorder {
            r { $0.interface(eni: eni, time: scheduler.now, lent: &p, egress: egress, accepted: accepted) }
        } else if let o = observer {
            o.interface(eni: eni, time: scheduler.now, packet: p, egress: egress, accepted: accepted)
        }
    }

    /// Records a step of a traced packet; for the others the step is never even built (hot path).
    @inline(__always)
    func record(_ p: inout SimPacket, _ step: @autoclosure () -> Step) {
        guard p.traced else { return }
        if p.traceSlot < 0 {
            if let s = freeTraceSlots.popLast() {
                p.traceSlot = s
            } else {
                traceSteps.append([])
                p.traceSlot = Int32(traceSteps.count - 1)
            }
        }
        traceSteps[Int(p.traceSlot)].append(step())
    }

    /// A traced packet reached its destination or was dropped: the observer gets its steps.
    /// `p` is lent (inout: by address; taken by value, the handled packet was copied to read its `traced`).
    @inline(__always)
    func endTrace(_ p: inout SimPacket) {
        guard p.traced else { return }
        var steps: [Step] = []
        if p.traceSlot >= 0 {
            swap(&steps, &traceSteps[Int(p.traceSlot)])
            freeTraceSlots.append(p.traceSlot)
        }
        observer?.traced(packet: p, steps: steps)
    }

    func drop(_ p: SimPacket, _ step: Step) {
        if p.traced {
            var q = p
            endTrace(&q)
        }
        observer?.dropped(time: scheduler.now, packet: p, step: step)
    }

    /// `p` is lent (inout: by address, not copied unless it is captured; not changed).
    @inline(__always)
    func capture(_ node: PathNode, _ p: inout SimPacket, outgoing: Bool, comment: @autoclosure () -> String) {
        guard p.flow < seenFlows, observer != nil, let point = pointOf.point(node) else { return }
        if describesPackets {
            seen(point, &p, outgoing: outgoing, comment: comment())
        } else {
            withObserver { $0.seen(point: point, time: scheduler.now, packet: p, outgoing: outgoing,
                                   comment: UnsafeRawBufferPointer(start: nil, count: 0)) }
        }
    }

    /// The observer's `seen`, with `comment`'s bytes (out of line: the captures without comments stay small).
    @inline(never)
    private func seen(_ point: Int, _ p: inout SimPacket, outgoing: Bool, comment: String) {
        var text = comment
        text.withUTF8 { u in
            withObserver { $0.seen(point: point, time: scheduler.now, packet: p, outgoing: outgoing,
                                   comment: UnsafeRawBufferPointer(u)) }
        }
    }

    /// As `capture(_:_:outgoing:comment:)`, the comment written by `write` into `commentText` (bytes reused from
    /// packet to packet) rather than made a `String`: for the comments that name the packet's own addresses.
    @inline(__always)
    func capture(_ node: PathNode, _ p: inout SimPacket, outgoing: Bool, writing write: (inout CommentText) -> Void) {
        guard p.flow < seenFlows, observer != nil, let point = pointOf.point(node) else { return }
        commentText.clear()
        if describesPackets { write(&commentText) }
        let text = commentText.utf8
        withObserver { $0.seen(point: point, time: scheduler.now, packet: p, outgoing: outgoing, comment: text) }
    }

    /// Comments already made, by site, component, next node and address: most packets of a fleet get one of
    /// a few comments, built once. Transits that drop are not cached (their comments name rules). Bounded.
    func cachedComment(_ site: CommentSite, _ component: Int, _ t: Transit? = nil, address: IPv4Address? = nil,
                       _ make: () -> String) -> String {
        guard t?.dropped != true, component < 1 << 24 else { return make() }
        var next: UInt64 = 0
        switch t?.next {
        case .eni(let e)?: next = 1 << 32 | UInt64(e)
        case .natGateway(let n, let inside)?: next = 2 << 32 | UInt64(n) << 1 | (inside ? 1 : 0)
        case .internetGateway(let g, let toInternet)?: next = 3 << 32 | UInt64(g) << 1 | (toInternet ? 1 : 0)
        case .outsideHost(let h)?: next = 4 << 32 | UInt64(h)
        case .transitGateway(let e)?: next = 5 << 32 | UInt64(e)
        case .vpnTunnel(let c, let toOnPrem)?: next = 6 << 32 | UInt64(c) << 1 | (toOnPrem ? 1 : 0)
        case .egressOnlyInternetGateway(let g, let out)?: next = 7 << 32 | UInt64(g) << 1 | (out ? 1 : 0)
        case nil: next = 0
        }
        let key = CommentKey(place: site.rawValue << 60 | UInt64(component) << 36 | next,
                             address: address.map { 1 << 32 | UInt64($0.rawValue) } ?? 0)
        if let i = comments.find(key) { return comments.value(at: i).pointee }
        let c = make()
        if comments.count < 1 << 16 { comments.insert(key, c) }
        return c
    }
}
