import Packets

/// What a VPC peering connection does to a packet routed to it (`pcx-…` in a route table of either VPC), and the
/// `Step` it records. AWS semantics (VPC Peering Guide, VPC-PG):
/// - a packet from one VPC's subnet leaves through that subnet's NACL outbound, crosses the connection, and the
///   peer VPC's local routing delivers it to the ENI that owns its destination: that subnet's NACL inbound, then
///   the ENI's security groups (`VPCNetwork.peeringTransit`);
/// - only an `active` connection carries traffic (a route to one in any other state is a blackhole);
/// - no transitive routing and no edge-to-edge routing (VPC-PG vpc-peering-basics, "Unsupported VPC peering
///   configurations"): the connection carries packets between the two VPCs' own addresses only. A packet for an
///   address outside the peer VPC's CIDR blocks (the internet through the peer's internet gateway or NAT gateway,
///   a third VPC peered with the peer, a network behind its VPN) is dropped here, and so is one whose source is
///   not an address of the sending VPC;
/// - each side routes on its own: the reply crosses only if the peer's route table has a route back to the
///   connection (else it dies at that table: "no route matches");
/// - an inter-Region connection adds `assumptions.interRegionPeeringLatency` one way; its MTU (8500) is recorded
///   in the model (`PeeringConnection.mtu`) and enforced (`VPCNetwork+LinkMTU.swift`);
/// - IPv6 crosses as IPv4 does when both VPCs have IPv6 CIDR blocks and the route tables send the peer's IPv6
///   block to the connection (VPC-PG vpc-peering-routing: "if the VPCs in the VPC peering connection have
///   associated IPv6 CIDR blocks, you can add routes that enable communication with the peer VPC over IPv6"):
///   an IPv6 packet's addresses are checked against the VPCs' IPv6 blocks, so a peer without one takes none
///   (its destination lies outside the peer), and the same rules against transit and edge-to-edge hold.
final class VPCPeering {
    /// What the connection decides for a packet.
    enum Verdict: Equatable {
        case crosses(toVPC: Int)
        case notActive
        /// The destination is not an address of the peer VPC (transitive or edge-to-edge).
        case destinationOutside(peerVPC: Int)
        /// The source is not an address of the sending VPC (edge-to-edge, from behind the sending VPC).
        case sourceOutside
        /// The sending VPC is neither side (a route table of a third VPC cannot name the connection; kept for
        /// a model built by hand).
        case notASide
    }

    let model: VPCModel
    /// Per connection: whether it carries traffic, its two VPCs, and the delay it adds one way.
    let active: [Bool]
    private let requester: [Int32]
    private let accepter: [Int32]
    let latency: [Int64]
    /// Per connection, its MTU (`PeeringConnection.mtu`: 8500 inter-Region, 9001 within a Region), and the
    /// smallest of them: a packet no bigger crosses every connection (`VPCNetwork+LinkMTU.swift`).
    let mtu: [Int]
    let smallestMTU: Int
    /// Each VPC's CIDR blocks, flat: VPC v's are `blocks[blockStart[v]..<blockStart[v + 1]]`.
    private let blocks: [IPv4CIDR]
    private let blockStart: [Int32]
    /// Each VPC's IPv6 CIDR blocks (few: at most five a VPC).
    private let blocks6: [[IPv6CIDR]]

    init(model: VPCModel, assumptions: Assumptions) {
        self.model = model
        active = model.peeringConnections.map(\.isActive)
        requester = model.peeringConnections.map { Int32($0.requesterVPC) }
        accepter = model.peeringConnections.map { Int32($0.accepterVPC) }
        latency = model.peeringConnections.map { $0.interRegion ? assumptions.interRegionPeeringLatency : 0 }
        mtu = model.peeringConnections.map(\.mtu)
        smallestMTU = mtu.min() ?? Int.max
        var blocks: [IPv4CIDR] = []
        var start: [Int32] = []
        for v in model.vpcs {
            start.append(Int32(blocks.count))
            blocks += v.cidrBlocks
        }
        start.append(Int32(blocks.count))
        self.blocks = blocks
        blockStart = start
        blocks6 = model.vpcs.map(\.ipv6CidrBlocks)
    }

    /// Whether `address` is in one of VPC `vpc`'s CIDR blocks.
    /// An IPv6 address (an `IPv6Token`) against the VPC's IPv6 blocks.
    @inline(__always)
    func vpc(_ vpc: Int, contains address: IPv4Address) -> Bool {
        if address.isIPv6Token {
            guard let a = address.ipv6 else { return false }
            return blocks6[vpc].contains { $0.contains(a) }
        }
        return blocks.withUnsafeBufferPointer { b in
            for i in Int(blockStart[vpc])..<Int(blockStart[vpc + 1]) where b[i].contains(address) { return true }
            return false
        }
    }

    /// What connection `k` does to a packet from `source` to `destination` sent into it from VPC `vpc`.
    @inline(__always)
    func verdict(_ k: Int, from vpc: Int, source: IPv4Address, destination: IPv4Address) -> Verdict {
        guard active[k] else { return .notActive }
        let (a, b) = (Int(requester[k]), Int(accepter[k]))
        let peer = a == vpc ? b : b == vpc ? a : -1
        guard peer >= 0 else { return .notASide }
        guard self.vpc(peer, contains: destination) else { return .destinationOutside(peerVPC: peer) }
        guard self.vpc(vpc, contains: source) else { return .sourceOutside }
        return .crosses(toVPC: peer)
    }

    /// The step connection `k` records for its verdict on a packet from VPC `vpc` (built only for a traced packet
    /// or a drop): "pcx-0a1b… (a-to-b) peering: requester vpc-… (app) ↔ accepter vpc-… (servers)".
    func step(_ k: Int, _ v: Verdict, from vpc: Int, source: IPv4Address, destination: IPv4Address) -> Step {
        let c = model.peeringConnections[k]
        switch v {
        case .crosses:
            return step(k, .forwarded, "requester \(model.vpcs[c.requesterVPC].display) ↔ accepter "
                            + "\(model.vpcs[c.accepterVPC].display)",
                        detail: c.interRegion ? "inter-Region \(c.requesterRegion) ↔ \(c.accepterRegion): "
                            + "\(formatDuration(latency[k])) one way, MTU \(c.mtu)" : nil)
        case .notActive:
            return step(k, .dropped, "status \(c.status)",
                        detail: "only an active peering connection carries traffic; routes to it are blackholes")
        case .destinationOutside(let peer):
            return step(k, .dropped, "\(destination) is not in \(model.vpcs[peer].display) (\(cidrs(peer, for: destination)))",
                        detail: "no transitive or edge-to-edge routing: a peering carries traffic between the two "
                            + "VPCs' own addresses only, never to the peer's internet gateway, NAT gateway, VPN or "
                            + "other peerings (VPC-PG: unsupported VPC peering configurations)")
        case .sourceOutside:
            return step(k, .dropped, "source \(source) is not in \(model.vpcs[vpc].display) (\(cidrs(vpc, for: source)))",
                        detail: "no edge-to-edge routing: only the VPC's own addresses cross a peering (VPC-PG: "
                            + "unsupported VPC peering configurations)")
        case .notASide:
            return step(k, .dropped, "\(model.vpcs[vpc].display) is neither side of \(c.id)")
        }
    }

    /// A packet that crossed connection `k` into VPC `peer` for an address no ENI there has.
    func undeliverableStep(_ k: Int, peer: Int, destination: IPv4Address) -> Step {
        step(k, .dropped, "no ENI has \(destination) in \(model.vpcs[peer].display)")
    }

    private func step(_ k: Int, _ action: Step.Action, _ rule: String, detail: String? = nil) -> Step {
        let c = model.peeringConnections[k]
        return Step(kind: .peering, component: c.id, componentDisplay: c.display, action: action, rule: rule,
                    detail: detail)
    }

    /// The VPC's blocks of the address's family ("no IPv6 CIDR block" for a VPC without one).
    private func cidrs(_ vpc: Int, for address: IPv4Address) -> String {
        guard address.isIPv6Token else { return model.vpcs[vpc].cidrBlocks.map(\.description).joined(separator: ", ") }
        let b = model.vpcs[vpc].ipv6CidrBlocks
        return b.isEmpty ? "no IPv6 CIDR block" : b.map(\.description).joined(separator: ", ")
    }
}

extension VPCNetwork {
    /// A packet in `subnet` whose route leads to peering connection `k`: its subnet's NACL outbound, the
    /// connection (`VPCPeering.verdict`), then the peer VPC's local routing to the ENI owning the destination and
    /// that ENI's subnet's NACL inbound; the ENI's security group decides after (`securityGroupAt`), as for a
    /// local route. Stateless, so memoized with the rest of the transit.
    func peeringTransit(_ k: Int, from subnet: Int, _ p: inout SimPacket, _ key: PacketKey,
                        securityGroupAt: inout Int) -> Transit {
        if let t = crossNACL(subnet, .outbound, &p, key) { return t }
        let vpc = Int(tables.subnets[subnet].vpc)
        let v = peering.verdict(k, from: vpc, source: key.source, destination: key.destination)
        guard case .crosses(let peer) = v else {
            return fail(&p, peering.step(k, v, from: vpc, source: key.source, destination: key.destination))
        }
        record(&p, peering.step(k, v, from: vpc, source: key.source, destination: key.destination))
        if p.wireLength > peering.mtu[k], let t = peeringTooBig(k, from: subnet, &p) { return t }
        var eni = eniByAddress[key.destination] ?? -1
        if eni >= 0, tables.subnets[Int(tables.enis[eni].subnet)].vpc != Int32(peer) {
            eni = model.eni(privateIP: key.destination, in: peer) ?? -1  // VPCs that overlap (not peered) share addresses
        }
        guard eni >= 0 else {
            return fail(&p, peering.undeliverableStep(k, peer: peer, destination: key.destination))
        }
        if var t = crossNACL(Int(tables.enis[eni].subnet), .inbound, &p, key) {
            t.rejectedAt = eni
            return t
        }
        // Addressed to a NAT gateway's own private address: the reply to a connection it translated (a private
        // NAT gateway whose subnet routes to the connection) terminates on its ENI in this VPC, so it crosses
        // like any packet for an ENI of the VPC, and the gateway translates it back or, for anything it has no
        // mapping for, drops it (`natReceive`). Edge-to-edge routing (VPC-PG vpc-peering-basics, "Edge to edge
        // routing through a gateway or private connection") is the use of a peer's gateway to reach beyond the
        // peer VPC: such a packet is addressed outside it (or comes from outside the sending VPC) and `verdict`
        // drops it. A NAT gateway has no security group.
        if tables.enis[eni].natGateway >= 0 {
            return Transit(next: .natGateway(Int(tables.enis[eni].natGateway), fromInside: false),
                           delay: assumptions.vpcHopLatency + peering.latency[k])
        }
        securityGroupAt = eni
        return Transit(next: .eni(eni), delay: assumptions.vpcHopLatency + peering.latency[k])
    }
}
