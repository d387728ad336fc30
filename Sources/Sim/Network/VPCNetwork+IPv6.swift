import Packets

// IPv6 on the hop pipeline. An IPv6 packet carries `IPv6Token`s for its addresses: routes, NACLs and security
// groups tell the family by them (each family meets only its own routes and rules), the internet gateway
// forwards IPv6 untranslated, and the egress-only internet gateway lets out what the VPC opens and in only its
// replies.
extension VPCNetwork {
    /// An IPv6 packet leaving through internet gateway `g` (its subnet's NACL passed it): not translated (VPC-UG
    /// VPC_Internet_Gateway: IPv6 addresses are global, the gateway does no NAT for them).
    func igwOutIPv6(_ g: Int, _ subnet: Int, _ p: inout SimPacket) -> Transit {
        let src = p.ip.source
        record(&p, internetGateways.step(g, action: .forwarded, rule: "IPv6 \(src) not translated"))
        return Transit(next: .internetGateway(g, toInternet: true), delay: assumptions.vpcHopLatency)
    }

    /// An IPv6 packet routed to egress-only internet gateway `e`: its subnet's NACL outbound, then the gateway
    /// (which tracks the connection when the packet reaches it: `eigwToInternet`).
    func eigwOut(_ e: Int, _ subnet: Int, _ rt: Int, _ r: CompiledRoutes.Route, _ p: inout SimPacket,
                 _ key: PacketKey) -> Transit {
        if let t = crossNACL(subnet, .outbound, &p, key) { return t }
        record(&p, egressOnlyGateways.step(e, action: .forwarded, rule: "outbound IPv6: connection tracked"))
        return Transit(next: .egressOnlyInternetGateway(e, toInternet: true), delay: assumptions.vpcHopLatency)
    }

    /// At egress-only internet gateway `e`, toward the internet: the connection tracked (or its idle time reset),
    /// then to the outside host with the destination address.
    func eigwToInternet(_ e: Int, _ p: inout SimPacket) {
        // The internet's 1500 bytes hold for IPv6 through an egress-only gateway as through an internet gateway
        // (EC2-UG network_mtu; `igw_mtu`).
        if p.wireLength > assumptions.igwMTU {
            let g = model.egressOnlyInternetGateways[e]
            _ = gatewayTooBigLeaving(g.id, g.display, .egressOnlyInternetGateway(e, toInternet: true),
                                     back: .egressOnlyInternetGateway(e, toInternet: false), &p)
            return
        }
        egressOnlyGateways.leaving(e, p.key, now: scheduler.now)
        guard let h = hostByAddress[p.ip.destination] else {
            drop(p, Step(kind: .internet, component: "internet", componentDisplay: "internet", action: .dropped,
                         rule: "no modeled host at \(p.ip.destination)"))
            return
        }
        let oneWay = hostOneWay[h]
        let dst = p.ip.destination
        record(&p, Step(kind: .internet, component: "internet", componentDisplay: "internet", action: .forwarded,
                        rule: "to \(model.outsideHosts[h].id) (\(dst)), one way \(formatDuration(oneWay))"))
        crossInternet(&p)
        forward(to: Hop(node: .outsideHost(h)), after: oneWay, seq: firingReserved)
    }

    /// The egress-only internet gateway an IPv6 packet from the internet arrives at: that of the destination
    /// ENI's VPC when the VPC has no internet gateway, or when the packet belongs to a connection that went out
    /// through it (its replies come back the way it left). Any other packet enters by the internet gateway, the
    /// VPC's way in from the internet (VPC-UG VPC_Internet_Gateway; subnet route tables route what leaves a
    /// subnet, not what enters the VPC), unless the assumption `ipv6_inbound_entry` is `subnet_route`: then the
    /// egress-only gateway also takes a packet whose destination's subnet routes the sender there. nil: the
    /// internet gateway takes it, or nothing does.
    func eigwInbound(_ p: inout SimPacket) -> Int? {
        guard let eni = eniByAddress[p.ip.destination] else { return nil }
        let subnet = Int(tables.enis[eni].subnet)
        let vpc = model.vpcs[Int(tables.subnets[subnet].vpc)]
        guard let e = vpc.egressOnlyInternetGateway else { return nil }
        if vpc.internetGateway == nil || egressOnlyGateways.tracks(e, p.key) { return e }
        guard assumptions.ipv6InboundEntry == .subnetRoute else { return nil }
        let route = routeTables.route(Int(tables.subnets[subnet].routeTable), p.ip.source)
        return route?.kind == .egressOnlyInternetGateway ? e : nil
    }

    /// At egress-only internet gateway `e`, from the internet: a packet of a connection opened from inside goes
    /// on to its ENI (that subnet's NACL inbound, the ENI's security groups); any other is dropped, naming the
    /// gateway (VPC-UG egress-only-internet-gateway: it "prevents the internet from initiating an IPv6
    /// connection with your instances").
    func eigwFromInternet(_ e: Int, _ p: inout SimPacket) {
        if p.wireLength > assumptions.igwMTU {
            let g = model.egressOnlyInternetGateways[e]
            _ = gatewayTooBigArriving(g.id, g.display, .egressOnlyInternetGateway(e, toInternet: false),
                                      back: .egressOnlyInternetGateway(e, toInternet: true), &p)
            return
        }
        let key = p.key
        guard egressOnlyGateways.admits(e, key, now: scheduler.now) || admitsRelatedICMPv6(e, p) else {
            let src = p.ip.source
            drop(p, egressOnlyGateways.step(e, action: .dropped, rule: "inbound IPv6 from \(src): no connection opened "
                                            + "from inside", detail: "an egress-only internet gateway lets in only "
                                            + "replies to connections the VPC opened"))
            return
        }
        record(&p, egressOnlyGateways.step(e, action: .forwarded, rule: "reply to a connection opened from inside"))
        guard let eni = eniByAddress[p.ip.destination] else {
            drop(p, egressOnlyGateways.step(e, action: .dropped, rule: "no ENI has \(p.ip.destination)"))
            return
        }
        var t = Transit(next: .eni(eni), delay: assumptions.vpcHopLatency)
        if var deny = crossNACL(Int(tables.enis[eni].subnet), .inbound, &p, key) ?? securityGroupIngress(eni, &p, key) {
            deny.rejectedAt = eni
            t = deny
        }
        if let r = t.rejectedAt { observeInterface(r, &p, egress: false, accepted: false) }
        forward(&p, t)
    }

    /// With `eigw_admits_related_icmpv6`: whether ICMPv6 error `p` quotes a connection egress-only internet
    /// gateway `e` tracks (one opened from inside; the quote is of a packet the inside sent).
    @inline(never)
    func admitsRelatedICMPv6(_ e: Int, _ p: SimPacket) -> Bool {
        guard assumptions.eigwAdmitsRelatedICMPv6, p.ip.proto == .icmpv6, let quoted = Self.quotedKey(p) else { return false }
        return egressOnlyGateways.admits(e, quoted, now: scheduler.now)
    }

    /// An IPv6 route the model does not follow: its flow ends `not-modeled`, naming the route and `what`.
    func notModeledRoute(_ p: inout SimPacket, _ rt: Int, _ r: CompiledRoutes.Route, what: String) -> Transit {
        let step = routeTables.step(rt, action: .notModeled, rule: routeTables.describe(rt, r), detail: "\(what): not modeled")
        record(&p, step)
        dropSteps.append(step)
        let flow = p.flow
        let id = model.routeTables[rt].ipv6Routes[Int(r.index)].target.id(model)
        if let s = simulation { s { $0.notModeled(flow: flow, NotModeledTarget.message(id, what: what)) } }
        return Transit(next: nil, delay: 0, dropIndex: Int32(dropSteps.count - 1))
    }

    /// Where an IPv6 route to a blackhole, a target outside the model or an ENI that does not forward ends.
    func ipv6RouteEnd(_ p: inout SimPacket, _ rt: Int, _ r: CompiledRoutes.Route) -> Transit {
        let route = model.routeTables[rt].ipv6Routes[Int(r.index)]
        switch route.target {
        case .common(.blackhole(let was)):
            return fail(&p, routeTables.step(rt, action: .dropped, rule: "\(route.destination) → blackhole",
                                             detail: was.map { "target \($0) no longer exists" }))
        case .common(.networkInterface):
            return notModeledRoute(&p, rt, r, what: "forwarding through a network interface")
        default:
            let id = route.target.id(model)
            return notModeledRoute(&p, rt, r, what: NotModeledTarget.kind(of: id) ?? "outside the model")
        }
    }
}
