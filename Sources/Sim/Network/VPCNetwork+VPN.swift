import Packets

/// The dispatcher's part for virtual private gateways and Site-to-Site VPN connections (`VPNGateway`): into a
/// tunnel from a VPC route table or a transit gateway, out of it to an on-premises host; and back.
extension VPCNetwork {
    /// A packet leaving `subnet` by a route to virtual private gateway `g`: its subnet's NACL outbound (the
    /// gateway has no ENI, so nothing else of the VPC applies), then into the VPN connection whose routes hold
    /// its destination.
    func vgwEnter(_ subnet: Int, _ g: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit {
        if let t = crossNACL(subnet, .outbound, &p, key) { return t }
        let dst = p.ip.destination
        guard let c = vpn.connection(g, dst) else { return fail(&p, vpn.noConnection(g, dst)) }
        record(&p, vpn.intoConnection(g, c, dst))
        return Transit(next: .vpnTunnel(c, toOnPrem: true), delay: assumptions.vpcHopLatency)
    }

    /// An IPv6 packet routed to virtual private gateway `g`: its subnet's NACL outbound, then the gateway drops it.
    /// A virtual private gateway does not carry IPv6 over a Site-to-Site VPN (VPN-UG how_it_works, "Virtual
    /// private gateway": "Virtual private gateways do not support IPv6 for Site-to-Site VPN connections. If you
    /// need IPv6 support, use a transit gateway … for your VPN connection"): an AWS limit, not a gap of the model.
    func vgwRefusesIPv6(_ subnet: Int, _ g: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit {
        if let t = crossNACL(subnet, .outbound, &p, key) { return t }
        return fail(&p, vpn.step(gateway: g, action: .dropped, rule: "IPv6 to \(key.destination)",
                                 detail: "a virtual private gateway's Site-to-Site VPN connections carry IPv4 only; IPv6 over Site-to-Site VPN "
                                     + "needs a transit gateway (VPN-UG how_it_works)"))
    }

    /// An on-premises host sends a packet: to an address its customer gateway's VPN connections reach, into the
    /// tunnel (true); else it goes on as an outside host's packet does (false).
    func vpnFromHost(_ host: Int, _ slot: Int32, _ p: inout SimPacket, after oneWay: Int64) -> Bool {
        guard let cgw = vpn.customerGateway(ofHost: host) else { return false }
        guard let c = vpn.returnConnection(cgw: cgw, p.ip.destination) else {
            // Only a connection whose tunnels carry the other family reaches the destination: dropped there.
            guard let other = vpn.returnConnection(cgw: cgw, p.ip.destination, anyFamily: true),
                  let step = vpn.wrongFamily(other, p) else { return false }
            record(&p, step)
            capture(.outsideHost(host), &p, outgoing: true, comment: "sent; dropped: " + step.text)
            drop(p, step)
            slots.release(slot)
            return true
        }
        capture(.outsideHost(host), &p, outgoing: true,
                comment: "sent; to \(model.customerGateways[cgw].display) into \(model.vpnConnections[c].id)")
        schedule(slot, &p, to: .vpnTunnel(c, toOnPrem: false), after: oneWay, carried: .max)
        return true
    }

    /// A packet in the active tunnel of VPN connection `c`: toward the customer gateway and the on-premises host
    /// holding its destination, or from it into the VPC (or the transit gateway) on the Amazon side.
    func vpnTunnel(_ c: Int, toOnPrem: Bool, _ p: inout SimPacket) {
        // The tunnel's inner MTU, no Path MTU Discovery; SYNs' MSS clamped (VPCNetwork+LinkMTU.swift).
        // The same MTU for an IPv6 inner packet: VPN-UG cgw-best-practice gives one MTU per algorithm, and an MSS
        // 20 bytes smaller for IPv6 (1386 against 1406 with AES-GCM-16): the IPv6 header's extra 20 bytes.
        if p.wireLength > assumptions.vpnTunnelMTU, vpnTooBig(c, toOnPrem: toOnPrem, &p) { return }
        let clamped = clampMSS(&p, mtu: assumptions.vpnTunnelMTU)
        let clampComment = mssClampComment(clamped, p)
        let conn = model.vpnConnections[c]
        let cgw = model.customerGateways[conn.customerGateway]
        let dst = p.ip.destination
        if toOnPrem {
            guard let h = onPremByAddress[dst], model.outsideHosts[h].customerGateway == conn.customerGateway else {
                let step = vpn.step(connection: c, action: .dropped, rule: "no on-premises host at \(dst) behind \(cgw.display)")
                record(&p, step)
                capture(.vpnTunnel(c, toOnPrem: true), &p, outgoing: true, comment: "dropped: " + step.text)
                drop(p, step)
                return
            }
            record(&p, vpn.step(connection: c, action: .forwarded, rule: "\(vpn.tunnel(c)) → \(cgw.display)",
                                detail: "to \(model.outsideHosts[h].id) \(dst)"))
            capture(.vpnTunnel(c, toOnPrem: true), &p, outgoing: true,
                    comment: "into \(vpn.tunnel(c)) of \(conn.id) toward \(cgw.id); " + clampComment
                        + "to \(model.outsideHosts[h].id)")
            forward(to: Hop(node: .outsideHost(h)), after: hostOneWay[h], seq: firingReserved)
            return
        }
        record(&p, vpn.step(connection: c, action: .forwarded, rule: "\(cgw.display) → \(vpn.tunnel(c))"))
        switch conn.gateway {
        case .vpnGateway(let g):
            let t = vgwInbound(g, &p)
            capture(.vpnTunnel(c, toOnPrem: false), &p, outgoing: false,
                    comment: "from \(cgw.id) through \(vpn.tunnel(c)) to \(model.vpnGateways[g].id); "
                        + clampComment + comment(t))
            if let r = t.rejectedAt { observeInterface(r, &p, egress: false, accepted: false) }
            forward(&p, t)
        case .transitGateway(let a):
            tgwFromVPN(a, c, &p)
        }
    }

    /// A packet out of a tunnel at virtual private gateway `g`: the VPC's local route to the ENI holding its
    /// destination, that ENI's subnet's NACL inbound and its security groups (a NAT gateway's ENI: to the
    /// gateway, as a reply from outside).
    private func vgwInbound(_ g: Int, _ p: inout SimPacket) -> Transit {
        if let rt = gatewayRouteTables.table(ofVPNGateway: g), let routed = vgwIngressRouted(rt, &p) { return routed }
        let dst = p.ip.destination
        guard let vpc = model.vpnGateways[g].vpc, let eni = eniByAddress[dst],
              tables.subnets[Int(tables.enis[eni].subnet)].vpc == vpc else {
            return fail(&p, vpn.step(gateway: g, action: .dropped, rule: "no ENI has \(dst)",
                                     detail: "the VPC's local route leads only to its own addresses"))
        }
        record(&p, vpn.step(gateway: g, action: .forwarded, rule: "\(dst) → local",
                            detail: "into \(model.vpcs[vpc].display)"))
        let key = p.key, hop = assumptions.vpcHopLatency
        let nat = tables.enis[eni].natGateway
        if var deny = crossNACL(Int(tables.enis[eni].subnet), .inbound, &p, key)
            ?? (nat >= 0 ? nil : securityGroupIngress(eni, &p, key)) {
            deny.rejectedAt = eni
            return deny
        }
        if nat >= 0 { return Transit(next: .natGateway(Int(nat), fromInside: false), delay: hop) }
        return Transit(next: .eni(eni), delay: hop)
    }

    /// A packet out of a VPN tunnel at a virtual private gateway with gateway route table `rt` (VPC-UG
    /// gateway-route-tables): nil when its route is `local` (it goes on to its ENI), else the transit to the
    /// appliance ENI the route names (that subnet's NACL inbound, the ENI's security groups), or the drop. A
    /// Gateway Load Balancer endpoint is not modeled.
    private func vgwIngressRouted(_ rt: Int, _ p: inout SimPacket) -> Transit? {
        guard let r = routeTables.route(rt, p.ip.destination) else { return fail(&p, routeTables.noRoute(rt, p.ip.destination)) }
        switch r.kind {
        case .local:
            record(&p, routeTables.forwarded(rt, r))
            return nil
        case .networkInterface:
            let a = Int(r.target), key = p.key
            record(&p, routeTables.forwarded(rt, r))
            return toEdgeTarget(a, &p, key)
        default:
            if r.isIPv6 { return ipv6RouteEnd(&p, rt, r) }
            let route = model.routeTables[rt].routes[Int(r.index)]
            let id = RouteTable.describe(route.target, in: model)
            return notModeled(&p, rt, route, id: id, what: NotModeledTarget.kind(of: id) ?? "outside the model")
        }
    }

    /// A transit gateway sends a packet that arrived through attachment ENI `e` and matched route table `t`'s
    /// route into VPN connection `c` (its VPN attachment).
    func tgwIntoVPN(_ e: Int, _ t: Int, _ c: Int, _ p: inout SimPacket) {
        capture(.transitGateway(e), &p, outgoing: false,
                comment: "arrived through \(tgwDisplay(eni: e)); to \(model.vpnConnections[c].id) (vpn) by "
                    + model.tgwRouteTables[t].id)
        _ = clampMSS(&p, mtu: 1500)  // the VPN attachment's MTU at the gateway (TGW-UG transit-gateway-quotas)
        forward(&p, Transit(next: .vpnTunnel(c, toOnPrem: true), delay: assumptions.tgwProcessing))
    }

    /// A packet out of VPN connection `c`'s tunnel into its transit gateway through VPN attachment `a`: routed by
    /// the table associated with `a`, out through the destination attachment's ENI (the VPN attachment has no
    /// AZ: the attachment's ENI is chosen as for a packet from an AZ it has no subnet in, `tgw_cross_az`) or into
    /// another VPN connection.
    private func tgwFromVPN(_ a: Int, _ c: Int, _ p: inout SimPacket) {
        let tgw = transitGateways
        let dst = p.ip.destination
        // Built only when a capture wants its comment.
        func here() -> String {
            "from \(model.customerGateways[model.vpnConnections[c].customerGateway].id) through \(vpn.tunnel(c)) to "
                + model.tgwAttachments[a].id
        }
        func dropHere(_ step: Step) {
            record(&p, step)
            capture(.vpnTunnel(c, toOnPrem: false), &p, outgoing: false, comment: here() + "; dropped: " + step.text)
            drop(p, step)
        }
        let t = Int(tgw.association[a])
        guard t >= 0 else {
            tgwLog(&p, from: a, srcENI: -1, to: -1, dstENI: -1, lost: .noRoute)
            dropHere(tgw.step(attachment: a, action: .dropped, rule: "no route table association",
                              detail: "an attachment's packets are routed by its associated route table"))
            return
        }
        guard let r = tgw.route(t, dst) else {
            tgwLog(&p, from: a, srcENI: -1, to: -1, dstENI: -1, lost: .noRoute)
            dropHere(tgw.step(table: t, action: .dropped, rule: "no route matches \(dst)"))
            return
        }
        guard r.attachment >= 0 else {
            tgwLog(&p, from: a, srcENI: -1, to: -1, dstENI: -1, lost: .blackhole)
            dropHere(tgw.routed(t, r))
            return
        }
        record(&p, tgw.routed(t, r))
        // TGW-UG transit-gateway-quotas: the gateway "enforces Maximum Segment Size (MSS) clamping for all
        // packets", and traffic over a VPN connection has an MTU of 1500: a SYN from a VPN attachment is clamped to
        // 1460 whichever attachment it leaves by, as one into a VPN attachment is (`tgwIntoVPN`). (The tunnel has
        // clamped it to `vpn_tunnel_mtu` less 40 already, no more than 1460.)
        let clamped = clampMSS(&p, mtu: 1500)
        if let next = model.tgwAttachments[Int(r.attachment)].vpnConnection {
            tgwLog(&p, from: a, srcENI: -1, to: Int(r.attachment), dstENI: -1, lost: nil)
            if let step = vpn.wrongFamily(next, p) { return dropHere(step) }
            capture(.vpnTunnel(c, toOnPrem: false), &p, outgoing: false,
                    comment: here() + "; " + (clamped.map { "MSS \($0) clamped to 1460; " } ?? "")
                        + "to \(model.vpnConnections[next].id) by \(model.tgwRouteTables[t].id)")
            forward(&p, Transit(next: .vpnTunnel(next, toOnPrem: true), delay: assumptions.tgwProcessing))
            return
        }
        let key = p.key
        let out = tgw.egress(Int(r.attachment), zone: -1, key)
        tgwLog(&p, from: a, srcENI: -1, to: Int(r.attachment), dstENI: out.eni, lost: nil)
        record(&p, tgw.left(out.eni, out.choice, enteredIn: "the VPN attachment"))
        capture(.vpnTunnel(c, toOnPrem: false), &p, outgoing: false,
                comment: here() + "; to \(model.tgwAttachments[Int(r.attachment)].id) by \(model.tgwRouteTables[t].id)")
        var transit = transitFromSubnet(Int(tgw.enis[out.eni].subnet), &p, key: key)
        capture(.transitGateway(out.eni), &p, outgoing: true,
                comment: "left through \(tgwDisplay(eni: out.eni)); " + (clamped.map { "MSS \($0) clamped to 1460; " } ?? "")
                    + comment(transit))
        tgwLogEgress(out.eni, &p, transit)
        if let rj = transit.rejectedAt { observeInterface(rj, &p, egress: false, accepted: false) }
        transit.delay += assumptions.tgwProcessing
        forward(&p, transit)
    }
}
