import Packets

// MARK: Fused hops

/// Packets of flows numbered `fusesFlowsFrom` and up (a run's generated flows: no ladder, no traced path) cross
/// an internet gateway without an event of their own when nothing there can depend on what happens while they
/// are on their way to it and nothing captures them there: the gateway's work (a static 1:1 translation, the
/// stateless NACL of the subnet behind it) is done as the packet leaves the hop before, and the packet goes on to
/// the hop after with the two delays added. Every packet, time and record is the same as with the gateway's own
/// event, and so is the order of events: a fusable flow's packet keeps the sequence numbers of a fused hop when
/// its hop is not fused (`VPCNetwork.schedule`), so the capture selection never changes the simulation.
/// Int.max (the default) fuses nothing.
///
/// A captured gateway keeps its event: its record would have to wait for its time and its place among the point's
/// other records, which cost as much as the event it saves (tried: a capture deferred in time order took 300
/// instructions a record between keeping and merging it, against some 230 for the event).
///
/// The same holds for a NAT gateway's departure toward the internet (`fusedNATDeparture`): done in the event of
/// the packet's arrival, its metrics and flow-log record deferred to its own time (`DeferredDepartures`).
/// `fusesHops` false fuses nothing, though fusable flows keep the order fused hops give (for tests: the outputs
/// must be the same either way).
extension VPCNetwork {
    /// Whether each internet gateway's and NAT gateway's capture point is written (for the flows `seenFlows` lets
    /// through): `capturesPoint` may choose some (empty: all are); a point nobody writes needs no record, and its
    /// gateway's hop can be fused.
    func noteCapturedGateways() {
        let captured = { (point: Int) in self.observer != nil && (point >= self.capturesPoint.count || self.capturesPoint[point]) }
        igwCaptured = pointOf.igw.map(captured)
        natCaptured = pointOf.nat.map(captured)
    }

    /// Whether `p`'s crossing of internet gateway `g` may be fused (the rest of the conditions in
    /// `fusedInternetGateway`): checked inline, as it is for every packet to or from a gateway.
    @inline(__always)
    func fusesGateway(_ g: Int, _ p: SimPacket) -> Bool { fuses(p, capturedThere: igwCaptured[g]) }

    /// Whether a hop of `p` whose capture point is `capturedThere` may be fused.
    @inline(__always)
    private func fuses(_ p: SimPacket, capturedThere: Bool) -> Bool {
        fusesHops && fusable(p) && (p.flow >= seenFlows || !capturedThere)
    }

    /// Whether `p`'s flow is one whose hops may be fused (a generated flow's untraced packet): its packets keep
    /// the order of events of fused hops whether or not a hop is fused.
    @inline(__always)
    func fusable(_ p: SimPacket) -> Bool { p.flow >= fusesFlowsFrom && !p.traced }

    /// The internet gateway `g`'s work for a packet that would arrive there `delay` from now, done now (the caller
    /// has checked `fusesGateway`: a fusable flow, the gateway not captured). Returns where the packet goes next
    /// and after how long from now; nil, having changed nothing, when the gateway needs its own event: a packet
    /// the gateway or the NACL behind it drops, one whose next hop is a security group (stateful), one to an
    /// address no modeled host has.
    @inline(never)
    func fusedInternetGateway(_ g: Int, toInternet: Bool, _ p: inout SimPacket, after delay: Int64) -> (PathNode, Int64)? {
        let delay = max(delay, 0)
        guard p.wireLength <= assumptions.igwMTU else { return nil }  // too big: the gateway's own event
        if toInternet {
            // As igwToInternet, for a packet to a modeled host.
            guard internetGateways.attached[g], let pub = internetGateways.publicAddress(of: p.ip.source),
                  let h = hostByAddress[p.ip.destination] else { return nil }
            internetGateways.translateToInternet(&p, publicAddress: pub)
            crossInternet(&p)
            return (.outsideHost(h), delay + max(hostOneWay[h], 0))
        }
        // As igwFromInternet, for a packet to a NAT gateway's address. Not an ICMP (an error's quoted header is
        // translated too) nor a fragment (a first one's bytes change): both are put back as they came if the NACL
        // drops, which the header alone is not.
        guard let eni = internetGateways.publicToENI[p.ip.destination], tables.enis[eni].natGateway >= 0,
              !gatewayRouteTables.routes(g), p.ip.proto != .icmp, !p.ip.isFragment else { return nil }
        let arrivedIP = p.ip
        internetGateways.translateFromInternet(&p, to: eni)
        let acl = Int(tables.subnets[Int(tables.enis[eni].subnet)].networkACL)
        guard networkACLs.decision(acl, .inbound, p.key).allowed else {
            p.ip = arrivedIP
            return nil
        }
        return (.natGateway(Int(tables.enis[eni].natGateway), fromInside: false), delay + max(assumptions.vpcHopLatency, 0))
    }

    // MARK: Fused NAT departures

    /// Whether the departure of `p` from NAT gateway `n` after its processing time may be worked out in the event
    /// of its arrival (`fusedNATDeparture`): a generated flow's untraced packet that nothing captures there.
    @inline(__always)
    func fusesNATDeparture(_ n: Int, _ p: SimPacket) -> Bool { fuses(p, capturedThere: natCaptured[n]) }

    /// A packet from a NAT gateway's private side, translated (`natReceive`), leaving the gateway: done now, its
    /// counts and flow-log record deferred to its time, when the way on is stateless (the public subnet's route
    /// and NACL: no security group to pass) and nothing drops it; then forwarded with the two delays added (and
    /// through the internet gateway too, when that is fused). False, having changed nothing, when the departure
    /// needs its event.
    @inline(__always)
    func fusedNATDeparture(_ n: Int, _ p: inout SimPacket, size: Int) -> Bool {
        // Interfaces observed by anything but the flow-log thread: the departure keeps its event.
        guard observer == nil || (recorder.map { r in r { !$0.otherInterfaceObservers } } ?? false) else { return false }
        var securityGroupAt = -1
        let t = memoizedTransit(Int(tables.natSubnet[n]), &p, p.key, securityGroupAt: &securityGroupAt)
        // Nothing but `transitFromSubnet` captures a crossing of a peering connection; such a transit always ends
        // at a security group (`peeringTransit`) or drops, so a departure across one keeps its event and is
        // captured there (FusedNATPeeringTests). A transit gateway, a VPN tunnel or a service host is a node with
        // an event of its own, which captures and logs the packet on arrival.
        guard !t.dropped, securityGroupAt < 0, let next = t.next else { return false }
        let time = scheduler.now + max(assumptions.natProcessing, 0)
        deferred.append(DeferredDepartures.Departure(
            time: time, seq: scheduler.drawSequence(), nat: Int32(n), size: Int32(truncatingIfNeeded: size),
            observation: InterfaceObservation(eni: Int(tables.natENI[n]), time: time, packet: p, egress: true,
                                              accepted: true)))
        forwarded = true
        schedule(firing, &p, to: next, after: max(assumptions.natProcessing, 0) + t.delay, carried: .max)
        return true
    }

    /// Runs the fused departures due before the running event.
    @inline(__always)
    func runDeferredDepartures() {
        if scheduler.now >= deferred.next {
            runDeferred(before: scheduler.now, seq: scheduler.currentSeqKind >> 2)
        }
    }

    /// Runs the fused departures due at or before `time` (`Scheduler.run(until:)`: every event up to it has run,
    /// and every event after it is later).
    func runDeferredDepartures(upTo time: Int64) {
        if time >= deferred.next { runDeferred(before: time, seq: .max) }
    }

    /// Runs every fused departure still waiting (at the end of a run).
    func runAllDeferredDepartures() {
        runDeferred(before: .max, seq: .max)
    }

    @inline(never)
    private func runDeferred(before time: Int64, seq: UInt64) {
        while let d = deferred.first(before: time, seq: seq) {
            natRefs[Int(d.pointee.nat)]({ $0.countDeparture(at: d.pointee.time, fromInside: true, size: Int(d.pointee.size)) })
            if let r = recorder { r { $0.soleFlowLogThread?({ $0.observe(d.pointee.observation) }) } }
            deferred.removeFirst()
        }
    }
}

/// What a fused departure leaves for its own time (`time`, and `seq`, the sequence number its event would have
/// had): the NAT gateway's count of bytes out (its metrics are per minute, and its peak of active connections is
/// read as each packet is counted) and the flow logs' view of the packet leaving its ENI. Run in the order of
/// events (`VPCNetwork.runDeferredDepartures`): before the next network event after it (the only events that
/// change a NAT gateway's state) and before any flow-log observation after it (the only other reader), and at the
/// end of the run, or of `Scheduler.run(until:)` for those due by its limit; the metrics and the flow logs are the
/// same, to the byte, as with the departure's own event. Plain memory its owner frees (`free()`).
struct DeferredDepartures {
    struct Departure {
        var time: Int64
        var seq: UInt64
        var nat: Int32
        var size: Int32
        /// For the flow-log thread, when there is one.
        var observation: InterfaceObservation
    }
    /// Departures waiting for their time: all delayed by the same processing time, so in time order.
    private var queue = RawVec<Departure>(capacity: 64)
    private var head = 0
    /// The first waiting departure's time (.max: none), so that an event checks one number.
    private(set) var next: Int64 = .max

    mutating func append(_ d: Departure) {
        queue.append(d)
        if next == .max { next = queue[head].time }
    }

    /// The first waiting departure, if it is due before (`time`, `seq`).
    @inline(__always)
    func first(before time: Int64, seq: UInt64) -> UnsafeMutablePointer<Departure>? {
        guard head < queue.count else { return nil }
        let d = queue.pointer(head)
        return d.pointee.time < time || (d.pointee.time == time && d.pointee.seq < seq) ? d : nil
    }

    /// Forgets the first waiting departure (run).
    mutating func removeFirst() {
        head += 1
        if head == queue.count {
            queue.removeAll()
            head = 0
            next = .max
        } else {
            if head >= 4096 {
                queue.removeFirst(head)
                head = 0
            }
            next = queue[head].time
        }
    }

    func free() { queue.free() }
}
