import Packets

/// The capture point of each VPC peering connection (`CapturePoint.Component.peeringConnection`): the packets that
/// cross it, both ways (requester to accepter as outgoing). Crossing a peering connection is part of a subnet's
/// memoized transit (`peeringTransit`), not a node of its own, so the crossing is seen where every transit from a
/// subnet ends (`transitFromSubnet`): a packet whose route leads to a connection crosses it unless its own subnet's
/// NACL outbound or the connection dropped it; one the peer VPC's NACL or security group refuses has crossed.
extension VPCNetwork {
    @inline(never)
    func capturePeeringCrossing(_ subnet: Int, _ p: inout SimPacket, _ t: Transit) {
        guard p.flow < seenFlows, observer != nil else { return }
        let rt = Int(tables.subnets[subnet].routeTable)
        guard let r = routeTables.route(rt, p.ip.destination), r.kind == .peeringConnection else { return }
        if let d = drop(of: t), d.kind == .naclOutbound || d.kind == .peering { return }
        // One too big for the connection that an ICMP answers is captured where it is dropped, before the ICMP
        // (`peeringTooBig`).
        if let d = drop(of: t), d.kind == .pathMTU, let e = eniByAddress[p.ip.source], tables.enis[e].natGateway < 0 { return }
        capturePeering(Int(r.target), from: Int(tables.subnets[subnet].vpc), &p, comment(t))
    }

    /// `p` at peering connection `k`'s point, going from `vpc` to the other side: "across pcx-… from vpc-… to
    /// vpc-…; " and `then`.
    func capturePeering(_ k: Int, from vpc: Int, _ p: inout SimPacket, _ then: @autoclosure () -> String) {
        guard p.flow < seenFlows, observer != nil, k < pointOf.peering.count else { return }
        let pcx = model.peeringConnections[k]
        let to = vpc == pcx.requesterVPC ? pcx.accepterVPC : pcx.requesterVPC
        capture(point: pointOf.peering[k], &p, outgoing: vpc == pcx.requesterVPC,
                comment: "across \(pcx.id) from \(model.vpcs[vpc].id) to \(model.vpcs[to].id); " + then())
    }

    /// `capture(_:_:outgoing:comment:)` at a point given by its index.
    func capture(point: Int, _ p: inout SimPacket, outgoing: Bool, comment: @autoclosure () -> String) {
        guard p.flow < seenFlows, observer != nil else { return }
        if describesPackets {
            var text = comment()
            text.withUTF8 { u in
                withObserver { $0.seen(point: point, time: scheduler.now, packet: p, outgoing: outgoing,
                                       comment: UnsafeRawBufferPointer(u)) }
            }
        } else {
            withObserver { $0.seen(point: point, time: scheduler.now, packet: p, outgoing: outgoing,
                                   comment: UnsafeRawBufferPointer(start: nil, count: 0)) }
        }
    }
}
