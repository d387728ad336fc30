import Packets

// MARK: Link MTUs of the components

/// The MTUs of the links a packet crosses inside AWS, and what each component does with a packet bigger than the
/// link it would leave by. AWS figures (EC2-UG network_mtu; TGW-UG transit-gateway-quotas#mtu-quotas; VPN-UG
/// vpn-limits):
/// - internet gateway: "traffic that flows through an internet gateway … up to 1500 bytes only" (`igw_mtu`);
/// - transit gateway: 8500 between VPCs ("packets with a size larger than 8500 bytes that arrive at the transit
///   gateway are dropped"), 1500 toward a VPN attachment; it answers with ICMP "fragmentation needed" for VPC
///   attachments since November 2024 (`tgw_sends_frag_needed`), and "enforces Maximum Segment Size (MSS)
///   clamping for all packets" (a SYN's MSS lowered to the link's MTU less 40);
/// - Site-to-Site VPN tunnel: inner MTU 1446 (`vpn_tunnel_mtu`), "does not support Path MTU Discovery": a bigger
///   packet is dropped and no ICMP is sent; SYNs crossing the tunnel have their MSS clamped to 1406;
/// - EC2-UG network_mtu: a packet over a link's MTU "is fragmented, or it is dropped if the Don't Fragment flag is
///   set in the IP header". Fragmenting is not modeled here: a packet without DF goes on whole
///   (`oversizeWithoutDF`, the one place that decides it).
///
/// A packet with DF set that is too big is dropped where it would cross the link, with a step of kind `path-mtu`
/// naming the component, and a capture comment "too big for link MTU 8500 (DF set): dropped; ICMP fragmentation
/// needed sent" (or "…; no ICMP (…)"). The ICMP (type 3 code 4, the link's MTU as next-hop MTU, built by
/// `fragmentationNeeded`) crosses the network back to the packet's source as any packet does: the NACLs and the
/// source's security group decide whether it arrives. The components have no address of their own in the model:
/// the ICMP comes from the VPC router address (the subnet's base address + 1) of the subnet it is sent into —
/// the transit gateway attachment's subnet, or the sending ENI's subnet for an internet gateway (a named
/// simplification, docs/scenarios.md). Each site costs the packets that fit one integer compare.
extension VPCNetwork {
    /// The branch point for a packet without DF bigger than a link's MTU: whether it was dealt with (fragmented
    /// or dropped) here. Fragmentation is not modeled yet: such a packet goes on whole (false).
    @inline(never)
    func oversizeWithoutDF(_ p: inout SimPacket, mtu: Int) -> Bool { false }

    /// The VPC router's address in `subnet` (its base address + 1), standing in for a component that has none;
    /// with `ipv6`, its IPv6 address (the subnet's /64 + 1, as a token) when the subnet has a /64.
    func routerAddress(_ subnet: Int, ipv6: Bool = false) -> IPv4Address {
        if ipv6, let c = model.subnets[subnet].ipv6Cidr {
            return IPv6Token.intern(IPv6Address(high: c.network.high, low: c.network.low &+ 1))
        }
        return IPv4Address(rawValue: model.subnets[subnet].cidr.network.rawValue &+ 1)
    }

    /// The step of `component` dropping `p`, too big for its link of `mtu` with DF set; `icmp`: where the ICMP
    /// goes, or why none is sent.
    func linkMTUDrop(_ component: String, _ display: String, mtu: Int, _ p: SimPacket, icmp: String) -> Step {
        Step(kind: .pathMTU, component: component, componentDisplay: "\(display) (link MTU \(mtu))", action: .dropped,
             rule: "link MTU \(mtu) < \(Self.tooBigPacket(p)); \(icmp)")
    }

    /// "too big for link MTU 8500 (DF set): dropped; ICMP fragmentation needed sent" (`icmpSent`), or "…; no ICMP
    /// (why)".
    static func tooBigComment(mtu: Int, icmpSent: Bool, why: String = "") -> String {
        "too big for link MTU \(mtu) (DF set): dropped; " + (icmpSent ? "ICMP fragmentation needed sent" : "no ICMP (\(why))")
    }

    /// `tooBigComment` for packet `p`: for an IPv6 one "too big for link MTU 1400 (IPv6: routers do not fragment):
    /// dropped; ICMPv6 packet too big sent".
    static func tooBigComment(mtu: Int, icmpSent: Bool, why: String = "", _ p: SimPacket) -> String {
        guard p.ip.source.isIPv6Token else { return tooBigComment(mtu: mtu, icmpSent: icmpSent, why: why) }
        return "too big for link MTU \(mtu) (IPv6: routers do not fragment): dropped; "
            + (icmpSent ? "ICMPv6 packet too big sent" : "no ICMPv6 (\(why))")
    }

    /// The capture comment for a transit that a link too small dropped (`linkMTUDrop`'s step): "too big for link
    /// MTU 8500 (DF set): dropped; ICMP fragmentation needed sent to 10.0.0.20 (pcx-…)" ("(IPv6: routers do not
    /// fragment)" for an IPv6 packet).
    static func tooBigComment(_ d: Step) -> String {
        let rule = d.rule
        guard rule.hasPrefix("link MTU "), let lt = rule.range(of: " < "), let semi = rule.range(of: "; ") else {
            return "dropped: " + d.text
        }
        let mtu = rule[rule.index(rule.startIndex, offsetBy: 9)..<lt.lowerBound]
        let why = rule[lt.upperBound...].hasPrefix("IPv6 ") ? "IPv6: routers do not fragment" : "DF set"
        return "too big for link MTU \(mtu) (\(why)): dropped; \(rule[semi.upperBound...]) (\(d.component))"
    }

    /// Lowers a TCP SYN's MSS option to `mtu` less the headers (40 bytes over IPv4, 60 over IPv6: `mss`; a
    /// component that clamps MSS); the checksum is filled when the packet is written. Returns the MSS it had when it
    /// was lowered.
    @inline(__always)
    func clampMSS(_ p: inout SimPacket, mtu: Int) -> UInt16? {
        guard case .tcp(var t) = p.transport, t.flags.contains(.syn) else { return nil }
        guard let was = t.optionBytes.clampMSS(to: UInt16(clamping: Self.mss(p, mtu: mtu))) else { return nil }
        p.transport = .tcp(t)
        return was
    }

    /// The MSS a link of `mtu` bytes leaves a segment of `p`'s family: the MTU less the IP and TCP headers.
    @inline(__always)
    static func mss(_ p: SimPacket, mtu: Int) -> Int { mtu - (p.ip.source.isIPv6Token ? 60 : 40) }

    /// The ICMP in a new slot, sent on by `t` (computed for it), after being captured at `node` leaving with
    /// `comment` (a drop's text appended by the caller's transit).
    func sendICMP(_ icmp: consuming SimPacket, at node: PathNode, _ t: Transit, comment: () -> String) {
        let slot = slots.take()
        let q = slots.packet(slot)
        q.initialize(to: icmp)
        q.pointee.id = simulation.map { s in s { $0.nextPacketID() } } ?? 0
        let dropComment = t.dropped ? icmpDropComment(t, q.pointee) : nil
        capture(node, &q.pointee, outgoing: true, comment: comment() + "; " + (dropComment ?? self.comment(t)))
        if let r = t.rejectedAt { observeInterface(r, &q.pointee, egress: false, accepted: false) }
        carry(slot, t)
    }

    /// An IPv6 packet too big for a link at `component` whose Packet Too Big would come from the IPv6 router
    /// address of a subnet that has no IPv6 block (`from`): a source the model does not have, so the flow ends
    /// `not-modeled`, naming both. Returns the step (not recorded).
    func ipv6TooBigWithoutSource(_ p: SimPacket, _ component: String, _ display: String, mtu: Int,
                                 _ from: String) -> Step {
        let size = p.wireLength
        let step = Step(kind: .pathMTU, component: component, componentDisplay: display, action: .notModeled,
                        rule: "IPv6 packet of \(size) bytes > MTU \(mtu)",
                        detail: "a Packet Too Big from \(from): not modeled")
        let flow = p.flow
        if let s = simulation {
            s { $0.notModeled(flow: flow, "an IPv6 packet of \(size) bytes too big for \(component) (MTU \(mtu)), whose "
                              + "Packet Too Big would come from \(from)") }
        }
        return step
    }

    // MARK: Transit gateway

    /// The MTU of the link a transit gateway sends a packet out by, to attachment `to`: 1500 toward a VPN
    /// attachment, 8500 otherwise (TGW-UG transit-gateway-quotas#mtu-quotas).
    @inline(__always)
    func tgwLinkMTU(to: Int) -> Int {
        model.tgwAttachments[to].vpnConnection != nil ? 1500 : TransitGateway.mtu
    }

    /// A packet that arrived at a transit gateway through attachment ENI `e` (of attachment `a`) is bigger than the
    /// link to attachment `to` (`mtu`). With DF set it is dropped (packets-lost-mtu-exceeded in the gateway's flow
    /// logs) and, with `tgw_sends_frag_needed`, ICMP type 3 code 4 goes back to its source out through the same
    /// ENI: that subnet's route table and NACLs, the source's subnet's NACL inbound and its security group.
    /// Returns whether the packet was dropped.
    @inline(never)
    func tgwTooBig(_ e: Int, from a: Int, to: Int, mtu: Int, _ p: inout SimPacket) -> Bool {
        // IPv6 routers never fragment (RFC 8200 §5): an IPv6 packet too big is dropped whatever it says, and the
        // Packet Too Big goes back from the attachment subnet's IPv6 router address (`not-modeled` when that subnet
        // has no IPv6 block and the gateway would send one).
        let v6 = p.ip.source.isIPv6Token
        guard p.ip.dontFragment || v6 else { return oversizeWithoutDF(&p, mtu: mtu) }
        let tgw = model.transitGateways[model.tgwAttachments[a].transitGateway]
        let subnet = Int(transitGateways.enis[e].subnet)
        if v6, model.subnets[subnet].ipv6Cidr == nil, assumptions.tgwSendsFragNeeded {
            let step = ipv6TooBigWithoutSource(p, tgw.id, "\(tgw.display) (link MTU \(mtu))", mtu: mtu,
                                               "an attachment subnet without an IPv6 block")
            record(&p, step)
            drop(p, step)
            return true
        }
        let sends = assumptions.tgwSendsFragNeeded
        let why = "tgw_sends_frag_needed false"
        let from = routerAddress(subnet, ipv6: v6)
        let step = linkMTUDrop(tgw.id, tgw.display, mtu: mtu, p,
                               icmp: sends ? "\(Self.tooBigICMPName(p)) sent to \(p.ip.source)" : "no ICMP (\(why))")
        record(&p, step)
        tgwLog(&p, from: a, srcENI: e, to: to, dstENI: -1, lost: .mtuExceeded)
        let comment = "arrived through \(tgwDisplay(eni: e)); " + Self.tooBigComment(mtu: mtu, icmpSent: sends, why: why, p)
        capture(.transitGateway(e), &p, outgoing: false, comment: comment)
        drop(p, step)
        guard sends else { return true }
        var icmp = Self.fragmentationNeeded(quoting: p, from: from, mtu: mtu)
        var t = transitFromSubnet(subnet, &icmp)
        t.delay += assumptions.tgwProcessing
        // It leaves the gateway through attachment `a`'s ENI: the gateway's flow logs' egress record there, and
        // that ENI's own VPC flow-log record (`tgwLogEgress`).
        if let r = tgwFlowLogs, r.logs(model.tgwAttachments[a].transitGateway) {
            r.sent(time: scheduler.now, packet: icmp, through: a, eni: e)
        }
        tgwLogEgress(e, &icmp, t)
        let name = Self.tooBigICMPName(p)
        sendICMP(icmp, at: .transitGateway(e), t) {
            "\(name) (MTU \(mtu)) from \(tgw.id) through \(tgwDisplay(eni: e))"
        }
        return true
    }

    // MARK: Site-to-Site VPN

    /// A packet bigger than VPN connection `c`'s tunnel (`vpn_tunnel_mtu`), either way: with DF set it is dropped
    /// and no ICMP is sent (VPN-UG vpn-limits: "does not support Path MTU Discovery"). Returns whether it was.
    @inline(never)
    func vpnTooBig(_ c: Int, toOnPrem: Bool, _ p: inout SimPacket) -> Bool {
        let mtu = assumptions.vpnTunnelMTU
        // IPv6 is never fragmented on the way (RFC 8200 section 5): dropped as a DF packet is.
        guard p.ip.dontFragment || p.ip.source.isIPv6Token else { return oversizeWithoutDF(&p, mtu: mtu) }
        let conn = model.vpnConnections[c]
        let why = "Site-to-Site VPN does not support Path MTU Discovery"
        let step = linkMTUDrop(conn.id, "\(conn.id) \(vpn.tunnel(c))", mtu: mtu, p, icmp: "no ICMP (\(why))")
        record(&p, step)
        capture(.vpnTunnel(c, toOnPrem: toOnPrem), &p, outgoing: toOnPrem,
                comment: Self.tooBigComment(mtu: mtu, icmpSent: false, why: "VPN does not support PMTUD"))
        drop(p, step)
        return true
    }

    // MARK: Internet gateway

    /// A packet leaving through internet gateway `g` (not yet translated) bigger than `igw_mtu`: with DF set it
    /// is dropped, and ICMP type 3 code 4 goes back to its private source from its subnet's VPC router address:
    /// that subnet's NACL inbound and the ENI's security group decide (a NAT gateway's ENI: to the gateway). An
    /// IPv6 packet is dropped whatever it says (routers never fragment IPv6, RFC 8200 §5) and an ICMPv6 Packet
    /// Too Big goes back from the subnet's IPv6 router address. Returns whether it was dropped.
    @inline(never)
    func igwTooBigLeaving(_ g: Int, _ p: inout SimPacket) -> Bool {
        let igw = model.internetGateways[g]
        return gatewayTooBigLeaving(igw.id, igw.display, .internetGateway(g, toInternet: true),
                                    back: .internetGateway(g, toInternet: false), &p)
    }

    /// `igwTooBigLeaving` at the gateway `id` (`display`), captured at `out` (the packet) and `back` (the ICMP):
    /// an internet gateway's or an egress-only internet gateway's (IPv6 only).
    func gatewayTooBigLeaving(_ id: String, _ display: String, _ out: PathNode, back: PathNode,
                              _ p: inout SimPacket) -> Bool {
        let mtu = assumptions.igwMTU
        let v6 = p.ip.source.isIPv6Token
        guard p.ip.dontFragment || v6 else { return oversizeWithoutDF(&p, mtu: mtu) }
        let source = p.ip.source
        let eni = eniByAddress[source]
        let step = linkMTUDrop(id, display, mtu: mtu, p,
                               icmp: eni == nil ? "no ICMP (no ENI has \(p.ip.source))"
                                   : "\(Self.tooBigICMPName(p)) sent to \(p.ip.source)")
        record(&p, step)
        let comment = Self.tooBigComment(mtu: mtu, icmpSent: eni != nil, why: "no ENI has \(source)", p)
        capture(out, &p, outgoing: true, comment: comment)
        drop(p, step)
        guard let eni else { return true }
        let subnet = Int(tables.enis[eni].subnet)
        var icmp = Self.fragmentationNeeded(quoting: p, from: routerAddress(subnet, ipv6: v6), mtu: mtu)
        let key = icmp.key
        var t: Transit
        if var deny = crossNACL(subnet, .inbound, &icmp, key)
            ?? (tables.enis[eni].natGateway >= 0 ? nil : securityGroupIngress(eni, &icmp, key)) {
            deny.rejectedAt = eni
            t = deny
        } else if tables.enis[eni].natGateway >= 0 {
            t = Transit(next: .natGateway(Int(tables.enis[eni].natGateway), fromInside: false),
                        delay: assumptions.vpcHopLatency)
        } else {
            t = Transit(next: .eni(eni), delay: assumptions.vpcHopLatency)
        }
        let name = Self.tooBigICMPName(p)
        sendICMP(icmp, at: back, t) { "\(name) (MTU \(mtu)) from \(id)" }
        return true
    }

    /// A packet from the internet bigger than `igw_mtu` at internet gateway `g`: with DF set it is dropped, and
    /// ICMP type 3 code 4 goes back to the outside host that sent it, from the address it was sent to (the
    /// gateway has none of its own); an IPv6 packet, DF or not, and an ICMPv6 Packet Too Big. Returns whether it
    /// was dropped.
    @inline(never)
    func igwTooBigArriving(_ g: Int, _ p: inout SimPacket) -> Bool {
        let igw = model.internetGateways[g]
        return gatewayTooBigArriving(igw.id, igw.display, .internetGateway(g, toInternet: false),
                                     back: .internetGateway(g, toInternet: true), &p)
    }

    /// `igwTooBigArriving` at the gateway `id` (`display`), captured at `at` (the packet) and `back` (the ICMP).
    func gatewayTooBigArriving(_ id: String, _ display: String, _ at: PathNode, back: PathNode,
                               _ p: inout SimPacket) -> Bool {
        let mtu = assumptions.igwMTU
        guard p.ip.dontFragment || p.ip.source.isIPv6Token else { return oversizeWithoutDF(&p, mtu: mtu) }
        let source = p.ip.source
        let h = hostByAddress[source]
        let step = linkMTUDrop(id, display, mtu: mtu, p,
                               icmp: h == nil ? "no ICMP (no modeled host at \(p.ip.source))"
                                   : "\(Self.tooBigICMPName(p)) sent to \(p.ip.source)")
        record(&p, step)
        let comment = "arrived from the internet; "
            + Self.tooBigComment(mtu: mtu, icmpSent: h != nil, why: "no modeled host at \(source)", p)
        capture(at, &p, outgoing: false, comment: comment)
        drop(p, step)
        guard let h else { return true }
        var icmp = Self.fragmentationNeeded(quoting: p, from: p.ip.destination, mtu: mtu)
        crossInternet(&icmp)
        let name = Self.tooBigICMPName(p)
        sendICMP(icmp, at: back, Transit(next: .outsideHost(h), delay: hostOneWay[h])) { "\(name) (MTU \(mtu)) from \(id)" }
        return true
    }
}

extension VPCNetwork {
    /// "MSS 1460 clamped to 1406; " for a SYN whose MSS the VPN tunnel lowered, else "".
    func mssClampComment(_ was: UInt16?, _ p: SimPacket) -> String {
        guard let was else { return "" }
        return "MSS \(was) clamped to \(Self.mss(p, mtu: assumptions.vpnTunnelMTU)); "
    }
}

// MARK: VPC peering

extension VPCNetwork {
    /// A packet from `subnet` crossing peering connection `k` is bigger than its MTU (8500 inter-Region: EC2-UG
    /// network_mtu). With DF set it is dropped, and ICMP type 3 code 4 goes back to its source from the sending
    /// subnet's VPC router address (AWS does not document who reports it; a named simplification): that subnet's
    /// NACL inbound (the ICMP comes from outside it) and the source ENI's security group decide. An IPv6 packet is
    /// dropped whatever it says (routers never fragment IPv6, RFC 8200 §5) and an ICMPv6 Packet Too Big goes back
    /// the same way from the sending subnet's IPv6 router address (`not-modeled` when that subnet has no IPv6
    /// block: a packet an appliance forwarded from elsewhere), as the transit gateway's does (`tgwTooBig`). Both are
    /// captured at the connection's point: the packet dropped, then the ICMP going back to the source's side (a
    /// NAT gateway's packet gets no ICMP, and a fused departure's trial transit captures nothing here).
    /// Returns the transit that drops the packet, nil when it goes on (no DF).
    @inline(never)
    func peeringTooBig(_ k: Int, from subnet: Int, _ p: inout SimPacket) -> Transit? {
        let mtu = peering.mtu[k]
        let v6 = p.ip.source.isIPv6Token
        guard p.ip.dontFragment || v6 else { return oversizeWithoutDF(&p, mtu: mtu) ? Transit(next: nil, delay: 0) : nil }
        let pcx = model.peeringConnections[k]
        let source = p.ip.source
        let eni = eniByAddress[source]
        if v6, model.subnets[subnet].ipv6Cidr == nil, eni != nil {
            return fail(&p, ipv6TooBigWithoutSource(p, pcx.id, "\(pcx.display) (link MTU \(mtu))", mtu: mtu,
                                                    "the sending subnet, which has no IPv6 block"))
        }
        let name = Self.tooBigICMPName(p)
        let t = fail(&p, linkMTUDrop(pcx.id, pcx.display, mtu: mtu, p,
                                     icmp: eni == nil ? "no ICMP (no ENI has \(source))"
                                         : "\(name) sent to \(source)"))
        // Without an ICMP the packet is captured where the transit ends (`capturePeeringCrossing`); with one, here,
        // before it.
        guard let eni, tables.enis[eni].natGateway < 0 else { return t }
        let vpc = Int(tables.subnets[subnet].vpc)
        capturePeering(k, from: vpc, &p, self.comment(t))
        var icmp = Self.fragmentationNeeded(quoting: p, from: routerAddress(subnet, ipv6: v6), mtu: mtu)
        let key = icmp.key
        var back = Transit(next: .eni(eni), delay: assumptions.vpcHopLatency)
        if var deny = crossNACL(Int(tables.enis[eni].subnet), .inbound, &icmp, key) ?? securityGroupIngress(eni, &icmp, key) {
            deny.rejectedAt = eni
            back = deny
        }
        let slot = slots.take()
        let q = slots.packet(slot)
        q.initialize(to: icmp)
        q.pointee.id = simulation.map { s in s { $0.nextPacketID() } } ?? 0
        let peer = vpc == pcx.requesterVPC ? pcx.accepterVPC : pcx.requesterVPC
        capturePeering(k, from: peer, &q.pointee, "\(name) (MTU \(mtu)) from \(pcx.id); "
                           + (back.dropped ? self.icmpDropComment(back, q.pointee) ?? self.comment(back) : self.comment(back)))
        if let r = back.rejectedAt { observeInterface(r, &q.pointee, egress: false, accepted: false) }
        carry(slot, back)
        return t
    }
}
