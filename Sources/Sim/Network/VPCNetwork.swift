import Packets

/// The dispatcher of the hop pipeline: moves packets between the components of the path in virtual time —
/// from an ENI through its security group (`SecurityGroup`), its subnet's route table (`RouteTable`) and the
/// network ACLs at each subnet boundary (`NetworkACL`) to the next node: another ENI, a NAT gateway
/// (`NATGateway`), an internet gateway (`InternetGateway`) and the internet to an outside host, and back. The
/// components decide what happens to a packet and name the rule; the dispatcher carries the packet on, captures
/// it at each point (`CapturePoints.swift`), records the steps of traced packets and tells the observers
/// (`Observation.swift`). The machinery that makes this fast — packets kept in slots (`PacketSlots`), memoized
/// transits (`TransitMemo`), fused hops (`FusedHops.swift`) — changes no decision.
public final class VPCNetwork {
    public let model: VPCModel
    public let assumptions: Assumptions
    /// The assumptions the NAT gateways follow (`NATGateway.Settings`).
    let natSettings: NATGateway.Settings
    let scheduler: Scheduler
    var rng: SplitMix64
    public private(set) var capturePoints: [CapturePoint] = []
    var pointOf = CapturePointIndex()

    // MARK: Components

    let securityGroups: SecurityGroup
    let networkACLs: NetworkACL
    let routeTables: RouteTable
    let internetGateways: InternetGateway
    let appliances: Appliance
    let peering: VPCPeering
    let transitGateways: TransitGateway
    let endpoints: VPCEndpoint
    let vpn: VPNGateway
    let gatewayRouteTables: GatewayRouteTable
    let egressOnlyGateways: EgressOnlyInternetGateway
    var nats: [NATGateway] = []
    /// `nats`, borrowed for the per-packet calls (an element of `nats` is retained and released at each use).
    var natRefs: [Borrowed<NATGateway>] = []
    /// Each NAT gateway's idle-expiry event target (`natExpiryDue`).
    private var natTimers: [NATExpiryTimer] = []
    /// The model as plain data, for the reads of every packet.
    let tables: HopTables
    /// Every private address an ENI answers to (primary and secondary): the VPC's local routing.
    let eniByAddress = AddressMap<Int>()
    let hostByAddress = AddressMap<Int>()
    /// On-premises hosts, reached only through their customer gateways' VPN connections (not in `hostByAddress`).
    let onPremByAddress = AddressMap<Int>()
    /// Half of each outside host's round trip.
    let hostOneWay: [Int64]
    /// The MTU of the link in front of each outside host, 0 for none (`VPCNetwork+PathMTU.swift`).
    let hostPathMTU: [Int]

    // MARK: Observers (Observation.swift)

    public var observer: NetworkObserver? {
        didSet {
            recorder = (observer as? RunRecorder).map(Borrowed.init)
            noteCapturedGateways()
        }
    }
    /// `observer` when it is a RunRecorder (every run of the tool), borrowed: calling the optional existential
    /// retained and released it for each packet at each ENI.
    var recorder: Borrowed<RunRecorder>?
    /// Whether capture comments are wanted (pcapng); when not, they are never formatted.
    public var describesPackets = true
    /// Whether `observer.seen` wants packets of flows numbered `seenFlows` and up (generated flows, when nothing
    /// is captured: then only the explicit flows' ladders look at packets).
    public var seenFlows = Int.max
    /// Transit Gateway Flow Logs, when the scenario asks for them (`VPCNetwork+TGWFlowLogs.swift`).
    public var tgwFlowLogs: TGWFlowLogRecorder?
    /// The steps of traced packets in flight, by slot (SimPacket.traceSlot); freed slots are reused.
    var traceSteps: [[Step]] = []
    var freeTraceSlots: [Int32] = []
    /// Where `capture(_:_:outgoing:writing:)` writes its comments.
    var commentText = CommentText()
    /// Comments already made (`cachedComment`).
    let comments = HashTable<CommentKey, String>()

    /// Where a packet arriving at an ENI's host (Lambda/instance) or at an outside host goes: the simulation's
    /// endpoints (called directly: a closure here was retained and released for every packet delivered), or
    /// these when set (tests).
    var simulation: Borrowed<Simulation>?
    public var deliverToENI: ((Int, SimPacket) -> Void)?
    public var deliverToHost: ((Int, SimPacket) -> Void)?
    /// Where packets to unknown public addresses go: nil drops them at the internet.
    public var unknownInternetDestination: ((IPv4Address) -> Int?)?

    // MARK: Machinery (PacketSlots, TransitMemo, FusedHops.swift)

    var slots = PacketSlots()
    let memo = TransitMemo()
    /// The slot being handled, and whether its packet was sent on (else the slot is freed after the handler).
    var firing: Int32 = -1
    var forwarded = false
    /// The handled packet's reserved sequence number (`Hop.reserved`).
    var firingReserved = UInt64.max
    /// The steps of the transits that dropped a packet, while a handler uses them: emptied when the next top-level
    /// handling starts (a network event, or a send from outside the network's handlers).
    var dropSteps: [Step] = []
    /// Fused hops (FusedHops.swift): from which flow, whether at all, which points are written.
    var fusesFlowsFrom = Int.max
    var fusesHops = true
    public var capturesPoint: [Bool] = [] {
        didSet { noteCapturedGateways() }
    }
    var igwCaptured: [Bool] = []
    var natCaptured: [Bool] = []
    var deferred = DeferredDepartures()
    var reassembly = FragmentReassembly()
    /// When the pending reassembly expiry event fires (-1: none pending).
    var reassemblyExpiryAt: Int64 = -1

    public init(model: VPCModel, assumptions: Assumptions, scheduler: Scheduler, seed: UInt64) {
        self.model = model
        self.assumptions = assumptions
        natSettings = NATGateway.Settings(assumptions)
        reassembly.timeout = assumptions.fragmentReassemblyTimeout
        self.scheduler = scheduler
        rng = SplitMix64(seed: seed ^ 0x4E41_5447_5754)  // "NATGWT": the NAT's own stream
        tables = HopTables(model)
        securityGroups = SecurityGroup(model, assumptions: assumptions)
        networkACLs = NetworkACL(model)
        routeTables = RouteTable(model)
        internetGateways = InternetGateway(model, assumptions: assumptions)
        appliances = Appliance(model, egress: assumptions.applianceEgress)
        peering = VPCPeering(model: model, assumptions: assumptions)
        transitGateways = TransitGateway(model, assumptions: assumptions)
        endpoints = VPCEndpoint(model)
        vpn = VPNGateway(model)
        gatewayRouteTables = GatewayRouteTable(model)
        egressOnlyGateways = EgressOnlyInternetGateway(model, idleTimeout: assumptions.eigwIdleTimeout)
        hostOneWay = model.outsideHosts.map { $0.rtt / 2 }
        hostPathMTU = model.outsideHosts.map(\.pathMTU)
        for (i, n) in model.natGateways.enumerated() {
            nats.append(NATGateway(index: i, spec: n, address: model.enis[n.eni].privateIP))
            natRefs.append(Borrowed(nats[i]))
        }
        natTimers = model.natGateways.indices.map { NATExpiryTimer(nat: $0) }
        for (i, e) in model.enis.enumerated() { eniByAddress[e.privateIP] = i }
        for n in model.natGateways {
            for a in n.secondaryPrivateIPs { eniByAddress[a] = n.eni }
        }
        for (i, h) in model.outsideHosts.enumerated() {
            if h.customerGateway != nil { onPremByAddress[h.address] = i } else { hostByAddress[h.address] = i }
        }
        // IPv6 addresses, as their tokens (`IPv6Token`): ENIs answer to them as to their private IPv4 addresses,
        // outside hosts as to their public ones.
        for (i, e) in model.enis.enumerated() {
            if let a = e.ipv6Address { eniByAddress[IPv6Token.intern(a)] = i }
        }
        for (i, h) in model.outsideHosts.enumerated() {
            guard let a = h.ipv6Address else { continue }
            if h.customerGateway != nil { onPremByAddress[IPv6Token.intern(a)] = i } else { hostByAddress[IPv6Token.intern(a)] = i }
        }
        capturePoints = Self.capturePoints(of: model)
        pointOf = CapturePointIndex(capturePoints, model: model)
        noteCapturedGateways()
        scheduler.network = Borrowed(self)
        for t in natTimers { t.network = self }
        securityGroups.throughTrackingComponent = { [weak self] eni, remote in
            self?.throughTrackingComponent(eni, remote) ?? false
        }
    }

    deinit {
        commentText.free()
        memo.free()
        deferred.free()
        slots.free()
    }

    // MARK: Entry points

    /// A host behind an ENI (Lambda, instance) sends a packet. The packet goes into its slot for the flight at
    /// once and is worked on there.
    public func send(fromENI eni: Int, _ packet: consuming SimPacket) {
        let id = packet.id
        send(fromENI: eni, packet, id: id)
    }

    /// `send(fromENI:_:)` with the packet's serial number given apart (setting it in the caller's packet would
    /// copy the packet there).
    /// `queued`: how long the packet waits at its path's bottleneck (`HostEndpoint.send(_:rate:)`), added to its
    /// first hop's latency.
    func send(fromENI eni: Int, _ packet: consuming SimPacket, id: Int, queued: Int64 = 0) {
        if firing < 0 { startHandling() }
        let slot = slots.take()
        let p = slots.packet(slot)
        p.initialize(to: packet)
        p.pointee.id = id
        let key = p.pointee.key
        guard securityGroupEgress(eni, &p.pointee, key, p.pointee.closeMarks, "sent") else {
            slots.release(slot)
            return
        }
        var transit = transitFromSubnet(Int(tables.enis[eni].subnet), &p.pointee, key: key)
        if observer != nil { captureSent(eni, &p.pointee, transit) }
        logEgress(eni, &p.pointee, transit)
        transit.delay += queued
        carry(slot, transit)
    }

    /// The capture of a packet an ENI sends, out of line: every packet sent pays for the call only when something
    /// observes the network, and `send` stays small enough for the compiler to inline what it calls.
    @inline(never)
    private func captureSent(_ eni: Int, _ p: inout SimPacket, _ transit: Transit) {
        capture(.eni(eni), &p, outgoing: true, comment: cachedComment(.sent, eni, transit) { "sent; " + self.comment(transit) })
    }

    /// An outside host sends a packet toward the internet (worked on in its slot, as `send(fromENI:_:)`).
    public func send(fromHost host: Int, _ packet: consuming SimPacket) {
        let id = packet.id
        send(fromHost: host, packet, id: id)
    }

    /// `send(fromHost:_:)` with the packet's serial number given apart.
    func send(fromHost host: Int, _ packet: consuming SimPacket, id: Int, queued: Int64 = 0) {
        let slot = slots.take()
        let p = slots.packet(slot)
        p.initialize(to: packet)
        p.pointee.id = id
        if hostPathMTU[host] > 0, p.pointee.wireLength > hostPathMTU[host] {
            // IPv6: dropped whatever DF says (routers never fragment it) and a Packet Too Big sent back.
            if p.pointee.ip.dontFragment || p.pointee.ip.source.isIPv6Token {
                tooBigLeaving(host, &p.pointee)
            } else {
                fragmentLeaving(host, &p.pointee)
            }
            slots.release(slot)
            return
        }
        let oneWay = hostOneWay[host] + queued
        if vpnFromHost(host, slot, &p.pointee, after: oneWay) { return }
        // An IPv6 reply of a service behind a gateway endpoint: its address is no different from the one it has on
        // the internet, so the endpoint is asked first (`VPCEndpoint.gateway(holding:vpc:routeTable:)`).
        if p.pointee.ip.destination.isIPv6Token, let t = gatewayEndpointReturn(&p.pointee) {
            hostSendsThroughEndpoint(host, slot, &p.pointee, t, after: oneWay)
        } else if p.pointee.ip.destination.isIPv6Token, let e = eigwInbound(&p.pointee) {
            capture(.outsideHost(host), &p.pointee, outgoing: true,
                    comment: "sent; to \(model.egressOnlyInternetGateways[e].display)")
            crossInternet(&p.pointee)
            schedule(slot, &p.pointee, to: .egressOnlyInternetGateway(e, toInternet: false), after: oneWay, carried: .max)
        } else if let eni = internetGateways.publicToENI[p.pointee.ip.destination], let g = internetGateways.gateway(of: eni) {
            let dst = p.pointee.ip.destination
            record(&p.pointee, Step(kind: .internet, component: "internet", componentDisplay: "internet", action: .forwarded,
                                    rule: "\(dst) is a public address of \(model.internetGateways[g].display)"))
            capture(.outsideHost(host), &p.pointee, outgoing: true,
                    comment: cachedComment(.hostSent, g) { "sent; to \(self.model.internetGateways[g].display)" })
            crossInternet(&p.pointee)
            schedule(slot, &p.pointee, to: .internetGateway(g, toInternet: false), after: oneWay, carried: .max)
        } else if let other = hostByAddress[p.pointee.ip.destination] {
            capture(.outsideHost(host), &p.pointee, outgoing: true, comment: "sent; across the internet")
            schedule(slot, &p.pointee, to: .outsideHost(other), after: oneWay + hostOneWay[other], carried: .max)
        } else if let t = gatewayEndpointReturn(&p.pointee) {
            hostSendsThroughEndpoint(host, slot, &p.pointee, t, after: oneWay)
        } else {
            let step = Step(kind: .internet, component: "internet", componentDisplay: "internet", action: .dropped,
                            rule: "no modeled host or public IP at \(p.pointee.ip.destination)")
            capture(.outsideHost(host), &p.pointee, outgoing: true, comment: "sent; dropped: " + step.text)
            drop(p.pointee, step)
            slots.release(slot)
        }
    }

    /// Outside host `host`'s packet in `slot`, back into the VPC through a gateway endpoint by `t`.
    private func hostSendsThroughEndpoint(_ host: Int, _ slot: Int32, _ p: inout SimPacket, _ t: Transit,
                                          after oneWay: Int64) {
        var t = t
        t.delay += oneWay
        capture(.outsideHost(host), &p, outgoing: true, comment: "sent; " + comment(t))
        if let r = t.rejectedAt { observeInterface(r, &p, egress: false, accepted: false) }
        carry(slot, t)
    }

    // MARK: Transit between nodes

    /// Plain data (a transit is made for every packet at every hop): a drop's step waits in `dropSteps`.
    struct Transit {
        var next: PathNode?
        var delay: Int64
        /// The step that dropped the packet, as an index in `dropSteps`; -1: not dropped.
        var dropIndex: Int32 = -1
        /// The ENI where the drop is logged as an ingress REJECT (its subnet's NACL inbound or its security group).
        var rejectedAt: Int?
        @inline(__always) var dropped: Bool { dropIndex >= 0 }
    }

    @inline(__always)
    func drop(of t: Transit) -> Step? { t.dropIndex < 0 ? nil : dropSteps[Int(t.dropIndex)] }

    /// Forgets the steps of earlier transits; only where no handler holds a transit.
    @inline(__always)
    func startHandling() {
        if !dropSteps.isEmpty { dropSteps.removeAll(keepingCapacity: true) }
    }

    /// What a transit comes to, for capture comments (built only when a capture wants comments).
    func comment(_ t: Transit) -> String {
        if let d = drop(of: t) { return d.kind == .pathMTU ? Self.tooBigComment(d) : "dropped: " + d.text }
        switch t.next {
        case .natGateway(let n, _): return "to \(model.natGateways[n].display)"
        case .eni(let e): return "to \(model.enis[e].id)"
        case .internetGateway(let g, _): return "to \(model.internetGateways[g].display)"
        case .outsideHost(let h): return "to \(model.outsideHosts[h].id)"
        case .transitGateway(let e): return "to \(tgwDisplay(eni: e))"
        case .vpnTunnel(let c, let toOnPrem):
            return toOnPrem ? "to \(model.vpnConnections[c].id)" : "from \(model.vpnConnections[c].id)"
        case .egressOnlyInternetGateway(let g, _): return "to \(model.egressOnlyInternetGateways[g].display)"
        case nil: return ""
        }
    }

    /// Everything between leaving `subnet` and arriving at the next node: route, NACLs, the destination ENI's
    /// security group. `key`: the packet's, when the caller has it (derived once per hop).
    func transitFromSubnet(_ subnet: Int, _ p: inout SimPacket, key known: PacketKey? = nil) -> Transit {
        let key = known ?? p.key
        var securityGroupAt = -1
        var t = memoizedTransit(subnet, &p, key, securityGroupAt: &securityGroupAt)
        if securityGroupAt >= 0, var deny = securityGroupIngress(securityGroupAt, &p, key) {
            deny.rejectedAt = securityGroupAt
            t = deny
        }
        if !pointOf.peering.isEmpty { capturePeeringCrossing(subnet, &p, t) }
        return t
    }

    /// `statelessTransit`, from the memo when the packet's connection has been this way before.
    @inline(__always)
    func memoizedTransit(_ subnet: Int, _ p: inout SimPacket, _ key: PacketKey, securityGroupAt: inout Int) -> Transit {
        // A packet bigger than a peering connection's MTU is decided by its size: never from the memo.
        if p.traced || p.wireLength > peering.smallestMTU {
            return statelessTransit(subnet, &p, key, securityGroupAt: &securityGroupAt)
        }
        let m = memo.entry(subnet, key)
        if m.pointee.holds(subnet, key) {
            securityGroupAt = Int(m.pointee.securityGroupAt)
            return Transit(next: TransitMemo.decode(m.pointee.next), delay: Int64(m.pointee.delay))
        }
        let t = statelessTransit(subnet, &p, key, securityGroupAt: &securityGroupAt)
        // Only what the entry holds exactly: a transit not dropped (its drop index and REJECT ENI are unset then),
        // whose next node, delay, subnet and ENI fit its fields.
        if !t.dropped, t.rejectedAt == nil, let node = t.next, let next = TransitMemo.encode(node),
           let delay = Int32(exactly: t.delay), let sn = Int32(exactly: subnet), let sg = Int32(exactly: securityGroupAt) {
            m.pointee = TransitMemo.Entry(addresses: key.addressWord, ports: key.portWord, subnet: sn,
                                          securityGroupAt: sg, next: next, delay: delay)
        }
        return t
    }

    /// `transitFromSubnet` without the destination ENI's security group (stateful: `securityGroupAt` names the
    /// ENI whose group still decides). The subnet's route table says where the packet goes; the NACLs of the
    /// subnets it leaves and enters decide whether it gets there.
    private func statelessTransit(_ subnet: Int, _ p: inout SimPacket, _ key: PacketKey,
                                  securityGroupAt: inout Int) -> Transit {
        let rt = Int(tables.subnets[subnet].routeTable)
        let hop = assumptions.vpcHopLatency
        guard let r = routeTables.route(rt, p.ip.destination) else { return fail(&p, routeTables.noRoute(rt, p.ip.destination)) }
        if r.kind != .peering, r.kind != .notModeled, r.kind != .networkInterface {  // those record a step of their own
            record(&p, routeTables.forwarded(rt, r))
        }
        switch r.kind {
        case .local:
            // The VPC's local route: to the ENI that has the address, in the same VPC.
            let vpc = tables.subnets[subnet].vpc
            guard let eni = eniByAddress[p.ip.destination], tables.subnets[Int(tables.enis[eni].subnet)].vpc == vpc else {
                return fail(&p, routeTables.step(rt, action: .dropped, rule: routeTables.describe(rt, r),
                                                 detail: "no ENI has \(p.ip.destination)"))
            }
            let dst = Int(tables.enis[eni].subnet)
            if var t = crossNACLs(from: subnet, to: dst, &p, key) {
                if drop(of: t)?.kind == .naclInbound { t.rejectedAt = eni }
                return t
            }
            // Addressed to a NAT gateway's own IP: a reply to what it translated (a private NAT gateway's, back
            // from another network through a transit or virtual private gateway: VPC-UG nat-gateway-scenarios,
            // "communication between overlapping networks"), handled as arriving from the destination side.
            if tables.enis[eni].natGateway >= 0 {
                return Transit(next: .natGateway(Int(tables.enis[eni].natGateway), fromInside: false), delay: hop)
            }
            securityGroupAt = eni
            return Transit(next: .eni(eni), delay: hop)
        case .natGateway:
            // An IPv6 route to a NAT gateway (the loader keeps it within 64:ff9b::/96): NAT64 at the gateway
            // (VPC-UG nat-gateway-nat64-dns64; `nat64Outbound`), reached as IPv4 is.
            let n = Int(r.target)
            if var t = crossNACLs(from: subnet, to: Int(tables.natSubnet[n]), &p, key) {
                if drop(of: t)?.kind == .naclInbound { t.rejectedAt = Int(tables.natENI[n]) }
                return t
            }
            return Transit(next: .natGateway(n, fromInside: true), delay: hop)
        case .internetGateway:
            let g = Int(r.target)
            if let t = crossNACL(subnet, .outbound, &p, key) { return t }
            if p.ip.source.isIPv6Token { return igwOutIPv6(g, subnet, &p) }
            // The IGW's 1:1 NAT needs a public IP on the sending ENI (VPC-UG VPC_Internet_Gateway).
            let vpc = tables.subnets[subnet].vpc
            guard let eni = eniByAddress[p.ip.source], tables.subnets[Int(tables.enis[eni].subnet)].vpc == vpc,
                  let pub = internetGateways.publicAddress(of: p.ip.source) else {
                return fail(&p, internetGateways.noPublicAddress(g, source: p.ip.source, vpc: Int(vpc)))
            }
            let src = p.ip.source
            record(&p, internetGateways.step(g, action: .translated, rule: "1:1 NAT \(src) → \(pub)"))
            return Transit(next: .internetGateway(g, toInternet: true), delay: hop)
        case .networkInterface:
            // To an instance that may forward (`Appliance`), in the same VPC: as the local route to its ENI.
            let eni = Int(r.target)
            guard appliances.isInstance(eni), tables.subnets[Int(tables.enis[eni].subnet)].vpc == tables.subnets[subnet].vpc
            else { break }
            record(&p, routeTables.forwarded(rt, r))
            if var t = crossNACLs(from: subnet, to: Int(tables.enis[eni].subnet), &p, key) {
                if drop(of: t)?.kind == .naclInbound { t.rejectedAt = eni }
                return t
            }
            securityGroupAt = eni
            return Transit(next: .eni(eni), delay: hop)
        case .egressOnlyInternetGateway:
            return eigwOut(Int(r.target), subnet, rt, r, &p, key)
        case .vpnGateway where r.isIPv6:
            return vgwRefusesIPv6(subnet, Int(r.target), &p, key)
        case .peeringConnection:
            return peeringTransit(Int(r.target), from: subnet, &p, key, securityGroupAt: &securityGroupAt)
        case .transitGateway:
            return tgwEnter(subnet, Int(r.target), &p, key)
        case .vpcEndpoint:
            return gatewayEndpointTransit(Int(r.target), from: subnet, &p, key)
        case .vpnGateway:
            return vgwEnter(subnet, Int(r.target), &p, key)
        case .peering, .notModeled, .blackhole:
            break  // the model names what the route leads to
        }
        if r.isIPv6 { return ipv6RouteEnd(&p, rt, r) }
        let route = model.routeTables[rt].routes[Int(r.index)]
        switch route.target {
        case .local, .natGateway, .internetGateway, .peeringConnection, .transitGateway, .vpcEndpoint, .vpnGateway:
            preconditionFailure("CompiledRoutes routes these")
        case .blackhole(let was):
            return fail(&p, routeTables.step(rt, action: .dropped, rule: "\(route.destination) → blackhole",
                                             detail: was.map { "target \($0) no longer exists" }))
        case .networkInterface(let eni):
            return notModeled(&p, rt, route, id: model.enis[eni].id, what: "forwarding through a network interface")
        case .peering(let id), .notModeled(let id):
            return notModeled(&p, rt, route, id: id, what: NotModeledTarget.kind(of: id) ?? "outside the model")
        }
    }

    /// A packet routed to a component the model does not have: it goes no further, and its flow ends
    /// `not-modeled` (`Simulation.notModeled`), not with a network verdict: the step is not a drop.
    func notModeled(_ p: inout SimPacket, _ rt: Int, _ route: Route, id: String, what: String) -> Transit {
        let step = routeTables.step(rt, action: .notModeled, rule: "\(route.destination) → \(id)",
                                    detail: "\(what): not modeled")
        record(&p, step)
        dropSteps.append(step)
        let flow = p.flow
        if let s = simulation { s { $0.notModeled(flow: flow, NotModeledTarget.message(id, what: what)) } }
        return Transit(next: nil, delay: 0, dropIndex: Int32(dropSteps.count - 1))
    }

    /// Flow-log view of a packet leaving `eni` through `transit`: REJECT when its own subnet's NACL dropped it
    /// outbound; and an ingress REJECT on the ENI where the transit's drop is logged.
    /// `p` is lent (inout: by address; not changed).
    @inline(__always)
    func logEgress(_ eni: Int, _ p: inout SimPacket, _ t: Transit) {
        if observer != nil { logEgressObserved(eni, &p, t) }
    }

    @inline(never)
    private func logEgressObserved(_ eni: Int, _ p: inout SimPacket, _ t: Transit) {
        let rejected = drop(of: t).map {
            $0.kind == .naclOutbound && $0.component == model.networkACLs[model.networkACL(of: model.enis[eni].subnet)].id
        } ?? false
        observeInterface(eni, &p, egress: true, accepted: !rejected)
        if let r = t.rejectedAt { observeInterface(r, &p, egress: false, accepted: false) }
    }

    func fail(_ p: inout SimPacket, _ step: Step) -> Transit {
        record(&p, step)
        dropSteps.append(step)
        return Transit(next: nil, delay: 0, dropIndex: Int32(dropSteps.count - 1))
    }

    /// NACLs are evaluated when a packet leaves one subnet and enters another, not within a subnet
    /// (VPC-UG vpc-network-acls), for requests and replies alike: they are stateless.
    @inline(__always)
    private func crossNACLs(from a: Int, to b: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit? {
        guard a != b else { return nil }
        if let t = crossNACL(a, .outbound, &p, key) { return t }
        return crossNACL(b, .inbound, &p, key)
    }

    /// Subnet `subnet`'s NACL, crossed `direction`: nil when it lets the packet through.
    @inline(__always)
    func crossNACL(_ subnet: Int, _ direction: Direction, _ p: inout SimPacket, _ key: PacketKey) -> Transit? {
        let acl = Int(tables.subnets[subnet].networkACL)
        let v = networkACLs.check(acl, direction, key, traced: p.traced)
        return verdict(v, &p) { networkACLs.step(acl, direction, of: v) }
    }

    /// `eni`'s security groups (stateful), for a packet leaving it: whether they let it out. A packet they drop is
    /// captured at the ENI as `how` ("sent", "forwarded") and dropped, logged as an egress REJECT.
    @inline(__always)
    func securityGroupEgress(_ eni: Int, _ p: inout SimPacket, _ key: PacketKey, _ marks: TCPSegmentMarks?,
                             _ how: StaticString) -> Bool {
        let v = securityGroups.check(eni, .outbound, key, marks, now: scheduler.now, traced: p.traced)
        guard v.recorded else { return true }
        return securityGroupEgressRecorded(eni, &p, key, v, how)
    }

    /// `securityGroupEgress` for a verdict that records a step (a traced packet's, a drop's): out of line, so
    /// that the callers on every packet's path stay small enough for the compiler to inline their other calls.
    @inline(never)
    private func securityGroupEgressRecorded(_ eni: Int, _ p: inout SimPacket, _ key: PacketKey, _ v: Verdict,
                                             _ how: StaticString) -> Bool {
        let step = securityGroups.step(eni, .outbound, key, of: v)
        record(&p, step)
        if v.allowed { return true }
        capture(.eni(eni), &p, outgoing: true, comment: "\(how); dropped: " + step.text)
        observeInterface(eni, &p, egress: true, accepted: false)
        drop(p, step)
        return false
    }

    /// `eni`'s security groups, for a packet arriving: nil when they let it in.
    func securityGroupIngress(_ eni: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit? {
        let v = securityGroups.check(eni, .inbound, key, p.closeMarks, now: scheduler.now, traced: p.traced)
        if !v.allowed, key.proto == .icmp, let related = relatedICMP(eni, p) {
            record(&p, related)
            return nil
        }
        return verdict(v, &p) { securityGroups.step(eni, .inbound, key, of: v) }
    }

    /// A filter's verdict: its step recorded; nil when the packet goes on, else the transit that drops it.
    @inline(__always)
    private func verdict(_ v: Verdict, _ p: inout SimPacket, step: () -> Step) -> Transit? {
        guard v.recorded else { return nil }
        return recordedVerdict(v, &p, step: step)
    }

    /// `verdict` when it records a step: out of line (see `securityGroupEgressRecorded`).
    @inline(never)
    private func recordedVerdict(_ v: Verdict, _ p: inout SimPacket, step: () -> Step) -> Transit? {
        let step = step()
        if v.allowed {
            record(&p, step)
            return nil
        }
        return fail(&p, step)
    }

    // MARK: Moving packets

    /// A new packet in `slot` (sent by an endpoint, or an RST a NAT gateway makes) leaves for its next hop, or is
    /// dropped (its slot freed).
    @inline(__always)
    func carry(_ slot: Int32, _ t: Transit) {
        if !t.dropped, let next = t.next {
            schedule(slot, &slots.packet(slot).pointee, to: next, after: t.delay, carried: .max)
            return
        }
        if let step = drop(of: t) { drop(slots.packet(slot).pointee, step) }
        slots.release(slot)
    }

    /// The packet being handled (the one in slot `firing`) goes on to its next hop, or is dropped.
    @inline(__always)
    func forward(_ p: inout SimPacket, _ t: Transit) {
        if let step = drop(of: t) {
            drop(p, step)
            return
        }
        guard let next = t.next else { return }
        forwarded = true
        schedule(firing, &p, to: next, after: t.delay, carried: firingReserved)
    }

    /// Schedules the packet in `slot` to reach `next` `delay` from now, through a fused internet gateway when it
    /// can be (`fusesGateway`). A fusable flow's packets get the same place in the order of events whether or not
    /// a hop is fused (a capture selected at the hop keeps its event, and must not change the simulation): the
    /// arrival after a fusable hop has the sequence number drawn when the packet left for it (`carried`, .max
    /// when none was drawn yet), as the fused hop's next arrival has.
    @inline(__always)
    func schedule(_ slot: Int32, _ p: inout SimPacket, to next: PathNode, after delay: Int64, carried: UInt64) {
        var next = next
        var delay = delay
        var seq = carried  // the next arrival's, for a node never fused
        var reserved = UInt64.max
        var reserve = false
        if case .internetGateway(let g, let toInternet) = next, fusable(p) {
            if fusesGateway(g, p), let fused = fusedInternetGateway(g, toInternet: toInternet, &p, after: delay) {
                (next, delay) = fused
            } else {
                // The gateway's own event: a number of its own, and the one for the arrival after it.
                seq = .max
                reserved = carried
                reserve = carried == .max
            }
        }
        slots.setHop(slot, Hop(node: next, reserved: reserved))
        scheduler.scheduleNetwork(after: delay, slot: slot, seq: seq)
        if reserve { slots.setReserved(slot, scheduler.drawSequence()) }
    }

    /// Sends the packet being handled on to `hop`, a node never fused, in the slot it already has: with `seq`, a
    /// number reserved for its arrival (`firingReserved`), or .max for a new one.
    @inline(__always)
    func forward(to hop: Hop, after delay: Int64, seq: UInt64) {
        slots.setHop(firing, hop)
        forwarded = true
        scheduler.scheduleNetwork(after: delay, slot: firing, seq: seq)
    }

    /// Called by the scheduler when the packet in `slot` reaches its next hop.
    func fire(_ slot: Int32) {
        runDeferredDepartures()
        startHandling()
        let hop = slots.hop(slot)
        firing = slot
        firingReserved = hop.reserved
        forwarded = false
        let p = slots.packet(slot)
        if hop.departs {
            if case .natGateway(let n, let fromInside) = hop.node {
                natDepartNow(n, &p.pointee, fromInside: fromInside, size: hop.size)
            }
        } else {
            handle(hop.node, &p.pointee)
        }
        if !forwarded { slots.release(slot) }  // the packet leaves the network: delivered or dropped
        firing = -1
        firingReserved = .max
    }

    private func handle(_ node: PathNode, _ p: inout SimPacket) {
        switch node {
        case .eni(let eni):
            if p.ip.destination != tables.enis[eni].privateIP, appliances.isInstance(eni),
               !p.ip.destination.isIPv6Token || eniByAddress[p.ip.destination] != eni {
                applianceReceive(eni, &p)
                return
            }
            if p.ip.isFragment {
                eniReceivesFragment(eni, &p)
                return
            }
            if p.traced, let e = endpoints.interface(of: eni) { record(&p, endpoints.toInterfaceService(e, eni: eni)) }
            let dst = p.ip.destination
            record(&p, Step(kind: .delivered, component: model.enis[eni].id, componentDisplay: model.enis[eni].display,
                            action: .delivered,
                            rule: "delivered to \(dst.isIPv6Token ? dst : self.model.enis[eni].privateIP)"))
            endTrace(&p)
            capture(.eni(eni), &p, outgoing: false, comment: "received")
            observeInterface(eni, &p, egress: false, accepted: true)
            if let d = deliverToENI { d(eni, p) } else if let s = simulation { s { $0.deliver(&p, toENI: eni) } }
        case .natGateway(let n, let fromInside):
            natReceive(n, &p, fromInside: fromInside)
        case .internetGateway(let g, let toInternet):
            if toInternet { igwToInternet(g, &p) } else { igwFromInternet(g, &p) }
        case .outsideHost(let h):
            if hostPathMTU[h] > 0, p.wireLength > hostPathMTU[h], tooBigForPath(h, &p) { return }
            if p.ip.isFragment {
                hostReceivesFragment(h, &p)
                return
            }
            let dst = p.ip.destination
            record(&p, Step(kind: .delivered, component: model.outsideHosts[h].id,
                            componentDisplay: model.outsideHosts[h].id, action: .delivered,
                            rule: "delivered to \(dst.isIPv6Token ? dst : self.model.outsideHosts[h].address)"))
            endTrace(&p)
            capture(.outsideHost(h), &p, outgoing: false, comment: "received")
            if let d = deliverToHost { d(h, p) } else if let s = simulation { s { $0.deliver(&p, toHost: h) } }
        case .transitGateway(let e):
            tgwReceive(e, &p)
        case .vpnTunnel(let c, let toOnPrem):
            vpnTunnel(c, toOnPrem: toOnPrem, &p)
        case .egressOnlyInternetGateway(let g, let toInternet):
            if toInternet { eigwToInternet(g, &p) } else { eigwFromInternet(g, &p) }
        }
    }

    // MARK: Appliances

    /// A packet for another address at instance `eni` (a route sent it there): the instance's source/destination
    /// check and operating system decide (`Appliance`); forwarded, it leaves through the same ENI — its security
    /// group's egress, its subnet's route table and NACLs — one hop further.
    private func applianceReceive(_ eni: Int, _ p: inout SimPacket) {
        let key = p.key
        let marks = p.closeMarks
        var v = appliances.check(eni, key, marks, traced: p.traced)
        if v.allowed, p.ip.ttl <= 1 { v = Appliance.ttlExceeded(p.ip.ttl) }  // a routing loop through appliances ends here
        if !v.allowed {
            let step = appliances.step(eni, key, of: v)
            record(&p, step)
            if step.action == .notModeled {
                // No network verdict: the flow ends not-modeled, naming the instance.
                let flow = p.flow
                if let s = simulation { s { $0.notModeled(flow: flow, "forwarded by \(step.component) (NAT instance): not modeled") } }
                capture(.eni(eni), &p, outgoing: false, comment: step.text)
            } else {
                capture(.eni(eni), &p, outgoing: false, comment: "dropped: " + step.text)
                observeInterface(eni, &p, egress: false, accepted: false)
            }
            drop(p, step)
            return
        }
        if v.recorded { record(&p, appliances.step(eni, key, of: v)) }
        capture(.eni(eni), &p, outgoing: false,
                comment: "arrived for \(key.destination); forwarded by \(self.appliances.instanceID(eni))")
        observeInterface(eni, &p, egress: false, accepted: true)
        p.ip.ttl = p.ip.ttl &- 1
        // Out through the interface the instance's routing picks: that interface's check, security groups and subnet.
        let out = appliances.egress(eni, key.destination)
        if out != eni, let deny = appliances.checkEgress(out, source: key.source) {
            let step = appliances.step(out, key, of: deny)
            record(&p, step)
            capture(.eni(out), &p, outgoing: true, comment: "forwarded; dropped: " + step.text)
            observeInterface(out, &p, egress: true, accepted: false)
            drop(p, step)
            return
        }
        guard securityGroupEgress(out, &p, key, marks, "forwarded") else { return }
        let t = transitFromSubnet(Int(tables.enis[out].subnet), &p, key: key)
        capture(.eni(out), &p, outgoing: true, comment: "forwarded by \(self.appliances.instanceID(out)); " + self.comment(t))
        logEgress(out, &p, t)
        forward(&p, t)
    }

    // MARK: NAT gateways

    @inline(__always)  // one caller, `handle`, on every packet a NAT gateway receives
    private func natReceive(_ n: Int, _ p: inout SimPacket, fromInside: Bool) {
        let nat = natRefs[n]
        let key = p.key
        let size = Int(p.ip.totalLength)
        // (Runs fused departures due before this event, which set the gateway's `now` to their own time.)
        observeInterface(Int(tables.natENI[n]), &p, egress: false, accepted: true)
        if fromInside, key.source.isIPv6Token {
            nat64Outbound(n, &p, key)
            return
        }
        if p.ip.isFragment, natDropsFragment(n, &p, fromInside: fromInside) { return }
        if !fromInside, key.proto == .icmp, natTranslatesICMPError(n, &p) { return }
        let marks = p.closeMarks
        let settings = natSettings
        let outcome = nat { $0.receive(key, marks, size: size, fromInside: fromInside, now: scheduler.now,
                                       settings: settings, rng: &rng) }
        if fromInside { scheduleNATExpiry(n) }
        switch outcome {
        case .translated(let address, let port, let remote6):
            if remote6 != .any {
                nat64Inbound(n, &p, key, to: address, port: port, from: remote6)
                return
            }
            // Captured as it arrived, then translated in place.
            let (from, fromPort) = fromInside ? (key.source, key.sourcePort) : (key.destination, key.destinationPort)
            capture(.natGateway(n, fromInside: fromInside), &p, outgoing: false) {
                natTranslationComment(&$0, fromInside ? "arrived from the private side; translated "
                                          : "arrived from the internet; translated ", from, fromPort, address, port, n)
            }
            nat { $0.apply(address, port, to: &p, fromInside: fromInside, settings: settings) }
            record(&p, nat { $0.step(action: .translated, rule: "\(from):\(fromPort) → \(address):\(port)") })
            if !fromInside || !fusesNATDeparture(n, p) || !fusedNATDeparture(n, &p, size: size) {
                natDepart(n, fromInside: fromInside, size: size)
                // A fusable flow's departure keeps its place in the order of events (`schedule`).
                if fromInside, fusable(p) { slots.setReserved(firing, scheduler.drawSequence()) }
            }
        case .dropped(let why):
            let step = nat { $0.step(why, key, settings: settings) }
            let idle = why.idle
            capture(.natGateway(n, fromInside: fromInside), &p, outgoing: false, comment: "dropped: " + step.text)
            drop(p, step)
            if idle, key.proto == .tcp, let t = p.tcp, !t.flags.contains(.rst) { natSendsReset(n, to: p, tcp: t) }
        }
    }

    /// Schedules NAT gateway `n`'s next idle expiry, unless an event is pending (it is never later than the one
    /// needed: a mapping's expiry only moves later). One event per gateway at a time.
    func scheduleNATExpiry(_ n: Int) {
        let nat = natRefs[n]
        guard let t = nat({ $0.expiryEventAt < 0 ? $0.nextExpiry(timeout: assumptions.natIdleTimeout) : nil }) else {
            return
        }
        nat { $0.expiryEventAt = t }
        _ = scheduler.schedule(at: t, target: natTimers[n], tag: 0)
    }

    /// NAT gateway `n`'s idle mappings expire at their time, whether or not a packet comes: IdleTimeoutCount is
    /// counted in the minute a mapping expires (350 s after its last packet).
    func natExpiryDue(_ n: Int) {
        runDeferredDepartures()
        let now = scheduler.now
        let timeout = assumptions.natIdleTimeout
        natRefs[n]({ nat in
            nat.expiryEventAt = -1
            nat.now = now
            nat.expireIdle(now: now, timeout: timeout)
        })
        scheduleNATExpiry(n)
    }

    /// A NAT gateway's capture comment for a packet it translates: "<arrival>\(from):\(fromPort) → \(to):\(toPort)
    /// by \(id)".
    private func natTranslationComment(_ c: inout CommentText, _ arrival: StaticString, _ from: IPv4Address,
                                       _ fromPort: UInt16, _ to: IPv4Address, _ toPort: UInt16, _ n: Int) {
        c.append(arrival)
        c.append(from, port: fromPort)
        c.append(" → ")
        c.append(to, port: toPort)
        c.append(" by ")
        c.append(model.natGateways[n].id)
    }

    /// The translated packet leaves the NAT gateway's ENI after the gateway's processing time.
    func natDepart(_ n: Int, fromInside: Bool, size: Int) {
        forward(to: Hop(node: .natGateway(n, fromInside: fromInside), departs: true, size: size),
                after: assumptions.natProcessing, seq: .max)
    }

    private func natDepartNow(_ n: Int, _ out: inout SimPacket, fromInside: Bool, size: Int) {
        let t = transitFromSubnet(Int(tables.natSubnet[n]), &out)
        natRefs[n]({ $0.countDeparture(at: scheduler.now, fromInside: fromInside, size: size) })
        capture(.natGateway(n, fromInside: fromInside), &out, outgoing: true,
                comment: cachedComment(.natDeparture, n, t) { "translated by \(self.model.natGateways[n].id); " + self.comment(t) })
        logEgress(Int(tables.natENI[n]), &out, t)
        forward(&out, t)
    }

    /// The gateway's RST to a client that uses a timed-out connection, sent toward the client.
    func natSendsReset(_ n: Int, to p: SimPacket, tcp: TCPHeader) {
        let slot = slots.take()
        let r = slots.packet(slot)
        r.initialize(to: NATGateway.reset(answering: p, tcp: tcp))
        let spec = model.natGateways[n]
        let t = transitFromSubnet(spec.subnet, &r.pointee)
        capture(.natGateway(n, fromInside: false), &r.pointee, outgoing: true,
                comment: "RST from \(spec.id) (idle timeout); " + comment(t))
        logEgress(spec.eni, &r.pointee, t)
        carry(slot, t)
    }

    // MARK: VPC endpoints (VPCEndpoint.swift)

    /// A packet leaving `subnet` by a route to gateway endpoint `e`: the subnet's NACL outbound, then the service
    /// host at its destination, reached privately (its source stays the ENI's private address).
    private func gatewayEndpointTransit(_ e: Int, from subnet: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit {
        if let t = crossNACL(subnet, .outbound, &p, key) { return t }
        guard let h = hostByAddress[p.ip.destination] else { return fail(&p, endpoints.noService(e, p.ip.destination)) }
        let step = endpoints.toService(e, host: h, ipv6: p.ip.destination.isIPv6Token)
        record(&p, step)
        return Transit(next: .outsideHost(h), delay: assumptions.vpcHopLatency + hostOneWay[h])
    }

    /// A packet from a service host to a private address of an ENI whose VPC has a gateway endpoint holding the
    /// host's address: back through the endpoint, the ENI's subnet's NACL inbound and its security group (a NAT
    /// gateway's ENI: to the gateway, as a reply from outside). Nil when no such endpoint carries it. The
    /// caller adds the host's one-way time.
    private func gatewayEndpointReturn(_ p: inout SimPacket) -> Transit? {
        guard let eni = eniByAddress[p.ip.destination] else { return nil }
        let subnet = Int(tables.enis[eni].subnet)
        guard let e = endpoints.gateway(holding: p.ip.source, vpc: Int(tables.subnets[subnet].vpc),
                                        routeTable: Int(tables.subnets[subnet].routeTable)) else { return nil }
        let dst = p.ip.destination
        record(&p, endpoints.fromService(e, to: dst))
        let key = p.key, hop = assumptions.vpcHopLatency
        if var deny = crossNACL(subnet, .inbound, &p, key) ?? (tables.enis[eni].natGateway >= 0 ? nil
                                                              : securityGroupIngress(eni, &p, key)) {
            deny.rejectedAt = eni
            return deny
        }
        if tables.enis[eni].natGateway >= 0 {
            return Transit(next: .natGateway(Int(tables.enis[eni].natGateway), fromInside: false), delay: hop)
        }
        return Transit(next: .eni(eni), delay: hop)
    }

    // MARK: Internet gateways

    private func igwToInternet(_ g: Int, _ p: inout SimPacket) {
        if p.wireLength > assumptions.igwMTU, igwTooBigLeaving(g, &p) { return }
        let privateSource = p.ip.source
        guard internetGateways.attached[g], let pub = internetGateways.publicAddress(of: p.ip.source) else {
            // Checked in transit already; kept for a model whose IGW is not attached.
            drop(p, internetGateways.step(g, action: .dropped, rule: "no public IP for \(p.ip.source)"))
            return
        }
        internetGateways.translateToInternet(&p, publicAddress: pub)
        if let h = hostByAddress[p.ip.destination] {
            let oneWay = hostOneWay[h]
            let dst = p.ip.destination
            record(&p, Step(kind: .internet, component: "internet", componentDisplay: "internet", action: .forwarded,
                            rule: "to \(model.outsideHosts[h].id) (\(dst)), one way \(formatDuration(oneWay))"))
            capture(.internetGateway(g, toInternet: true), &p, outgoing: true,
                    comment: cachedComment(.toInternet, g, address: privateSource) {
                        privateSource.isIPv6Token
                            ? "IPv6, not translated, by \(self.model.internetGateways[g].id); to the internet"
                            : "translated \(privateSource) → \(pub) by \(self.model.internetGateways[g].id); to the internet"
                    })
            crossInternet(&p)
            forward(to: Hop(node: .outsideHost(h)), after: oneWay, seq: firingReserved)
        } else if let eni = internetGateways.publicToENI[p.ip.destination], let back = internetGateways.gateway(of: eni),
                  internetGateways.attached[back] {
            igwHairpin(g, &p, from: privateSource, to: eni, through: back)
        } else if let h = unknownInternetDestination?(p.ip.destination) {
            let oneWay = model.outsideHosts[h].rtt / 2
            capture(.internetGateway(g, toInternet: true), &p, outgoing: true,
                    comment: "translated \(privateSource) → \(pub) by \(model.internetGateways[g].id); to the internet")
            crossInternet(&p)
            forward(to: Hop(node: .outsideHost(h)), after: oneWay, seq: firingReserved)
        } else {
            let step = Step(kind: .internet, component: "internet", componentDisplay: "internet", action: .dropped,
                            rule: "no modeled host at \(p.ip.destination)")
            capture(.internetGateway(g, toInternet: true), &p, outgoing: true, comment: "dropped: " + step.text)
            drop(p, step)
        }
    }

    private func igwFromInternet(_ g: Int, _ p: inout SimPacket) {
        if p.wireLength > assumptions.igwMTU, igwTooBigArriving(g, &p) { return }
        let arrivedIP = p.ip
        guard let eni = internetGateways.publicToENI[p.ip.destination] else {
            let step = internetGateways.step(g, action: .dropped, rule: "no ENI has public IP \(p.ip.destination)")
            capture(.internetGateway(g, toInternet: false), &p, outgoing: false, comment: "dropped: " + step.text)
            drop(p, step)
            return
        }
        let before = p.ip.destination
        let t = igwInbound(g, &p, to: eni)
        // Captured as it arrived: its IP header put back for the capture (nothing else of it changed here).
        let translatedIP = p.ip
        let icmpDrop = t.dropped ? icmpDropComment(t, p) : nil
        let translatedKey = p.key
        p.ip = arrivedIP
        // A first fragment's bytes hold its transport header, rewritten with the translation: put back too.
        if p.ip.isFragment { p.refreshFirstFragment(from: translatedKey) }
        capture(.internetGateway(g, toInternet: false), &p, outgoing: false,
                comment: cachedComment(.fromInternet, g, t, address: before) {
                    before.isIPv6Token ? "arrived from the internet; IPv6, not translated; " + (icmpDrop ?? self.comment(t)) :
                    "arrived from the internet; translated \(before) → \(translatedIP.destination) by "
                        + "\(self.model.internetGateways[g].id); " + (icmpDrop ?? self.comment(t))
                })
        if p.ip.isFragment {
            let arrivedKey = p.key
            p.ip = translatedIP
            p.refreshFirstFragment(from: arrivedKey)
        }
        p.ip = translatedIP
        if let r = t.rejectedAt { observeInterface(r, &p, egress: false, accepted: false) }
        forward(&p, t)
    }

    /// A packet from the internet (or sent back in by `igwHairpin`) to public address of `eni`, at internet
    /// gateway `g`: translated to the ENI's private address, then the ENI's subnet's NACL inbound (from the IGW
    /// the VPC's local route leads there) and, for an ENI that is not a NAT gateway's, its security group.
    private func igwInbound(_ g: Int, _ p: inout SimPacket, to eni: Int) -> Transit {
        let before = p.ip.destination
        internetGateways.translateFromInternet(&p, to: eni)
        let after = p.ip.destination
        if p.ip.proto == .icmp { translateQuotedSource(&p, from: before, to: after) }
        record(&p, before.isIPv6Token ? internetGateways.step(g, action: .forwarded, rule: "IPv6 \(after) not translated")
                                      : internetGateways.step(g, action: .translated, rule: "1:1 NAT \(before) → \(after)"))
        var t: Transit
        let key = p.key
        if gatewayRouteTables.routes(g), let routed = ingressRouted(g, &p, key) { return routed }
        if let deny = crossNACL(Int(tables.enis[eni].subnet), .inbound, &p, key) {
            t = deny
            t.rejectedAt = eni
        } else if tables.enis[eni].natGateway >= 0 {
            t = Transit(next: .natGateway(Int(tables.enis[eni].natGateway), fromInside: false),
                        delay: assumptions.vpcHopLatency)
        } else if let deny = securityGroupIngress(eni, &p, key) {
            t = deny
            t.rejectedAt = eni
        } else {
            t = Transit(next: .eni(eni), delay: assumptions.vpcHopLatency)
        }
        return t
    }

    /// A packet entering through internet gateway `g`, translated, routed by the gateway's route table
    /// (`GatewayRouteTable`): nil when its route is `local` (it goes on to its ENI), else the transit to the
    /// appliance ENI the route names (that subnet's NACL inbound, the ENI's security groups), or the drop.
    private func ingressRouted(_ g: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit? {
        let rt = gatewayRouteTables.table(of: g)!
        guard let r = routeTables.route(rt, p.ip.destination) else { return fail(&p, routeTables.noRoute(rt, p.ip.destination)) }
        switch r.kind {
        case .local:
            record(&p, routeTables.forwarded(rt, r))
            return nil
        case .networkInterface:
            let a = Int(r.target)
            record(&p, routeTables.forwarded(rt, r))
            guard internetGateways.publicAddress(of: tables.enis[a].privateIP) != nil else {
                return fail(&p, gatewayRouteTables.noPublicAddress(g, table: rt, eni: a))
            }
            return toEdgeTarget(a, &p, key)
        default:
            // A Gateway Load Balancer endpoint, or an appliance outside the scenario.
            if r.isIPv6 { return ipv6RouteEnd(&p, rt, r) }
            let route = model.routeTables[rt].routes[Int(r.index)]
            let id = RouteTable.describe(route.target, in: model)
            return notModeled(&p, rt, route, id: id, what: NotModeledTarget.kind(of: id) ?? "outside the model")
        }
    }

    /// A packet a gateway route table sends to ENI `a` (an appliance's): into `a`'s subnet through its NACL, then
    /// through `a`'s security groups; a deny is an ingress REJECT at `a`.
    func toEdgeTarget(_ a: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit {
        if var deny = crossNACL(Int(tables.enis[a].subnet), .inbound, &p, key) ?? securityGroupIngress(a, &p, key) {
            deny.rejectedAt = a
            return deny
        }
        return Transit(next: .eni(a), delay: assumptions.vpcHopLatency)
    }

    /// A packet leaving through internet gateway `g` (translated already to its public source) whose
    /// destination is a public address of `eni` (an instance's public or Elastic IP, a NAT gateway's Elastic
    /// IP), behind internet gateway `back`. The gateway sends it back in, as it would a packet from the internet
    /// (VPC-UG VPC_Internet_Gateway: traffic to a public IP of the VPC goes out through the IGW and returns
    /// through it): the destination is translated to the ENI's private address, the source stays the public
    /// address it left with (so the ENI's security group, its subnet's NACL and its flow logs see that public
    /// address, never the sender's private one), and that NACL and security group decide. Replies come back
    /// the same way. Behind the same gateway it never reaches the internet: one record at the gateway shows it
    /// with both public addresses. Behind another VPC's gateway it crosses the internet (half of
    /// `internet_rtt_ms`).
    private func igwHairpin(_ g: Int, _ p: inout SimPacket, from privateSource: IPv4Address, to eni: Int,
                            through back: Int) {
        let publicSource = p.ip.source, dst = p.ip.destination
        let gid = model.internetGateways[g].id
        record(&p, Step(kind: .internet, component: "internet", componentDisplay: "internet", action: .forwarded,
                        rule: "\(dst) is a public address of \(model.internetGateways[back].display)"
                            + (back == g ? ": back in (hairpin)" : "")))
        guard back == g else {
            capture(.internetGateway(g, toInternet: true), &p, outgoing: true,
                    comment: "translated \(privateSource) → \(publicSource) by \(gid); to the internet")
            crossInternet(&p)
            forward(to: Hop(node: .internetGateway(back, toInternet: false)), after: assumptions.internetRTT / 2,
                    seq: firingReserved)
            return
        }
        let leftIP = p.ip
        let t = igwInbound(g, &p, to: eni)
        let translatedIP = p.ip
        p.ip = leftIP
        capture(.internetGateway(g, toInternet: true), &p, outgoing: true,
                comment: "translated \(privateSource) → \(publicSource) by \(gid); back in (hairpin): translated "
                    + "\(dst) → \(translatedIP.destination) by \(gid); " + comment(t))
        p.ip = translatedIP
        if let r = t.rejectedAt { observeInterface(r, &p, egress: false, accepted: false) }
        forward(&p, t)
    }

    /// The routers between the internet gateway and an outside host, either way.
    @inline(__always)
    func crossInternet(_ p: inout SimPacket) {
        p.ip.ttl = p.ip.ttl &- UInt8(clamping: assumptions.internetHops)
    }

    // MARK: Transit gateways (TransitGateway.swift)

    /// "tgw-attach-0abc (spoke) ENI in subnet-… (tgw-a) in us-east-1a".
    func tgwDisplay(eni e: Int) -> String {
        "\(transitGateways.attachmentDisplay(Int(transitGateways.enis[e].attachment))) ENI in "
            + transitGateways.describe(eni: e)
    }

    /// A packet leaving `subnet` by its route to transit gateway `g`: its subnet's NACL outbound, then in
    /// through the VPC's attachment ENI in the subnet's AZ, whose subnet's NACL inbound applies (TGW-UG
    /// tgw-nacls: even when it is the same subnet). No security group: the gateway's ENIs have none.
    private func tgwEnter(_ subnet: Int, _ g: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit {
        if let t = crossNACL(subnet, .outbound, &p, key) { return t }
        let vpc = Int(tables.subnets[subnet].vpc)
        guard let a = transitGateways.attachment(g, vpc: vpc) else {
            // The loader refuses such a route; kept for a model built otherwise.
            return fail(&p, routeTables.step(Int(tables.subnets[subnet].routeTable), action: .dropped,
                                             rule: "\(model.transitGateways[g].id) has no attachment in \(model.vpcs[vpc].id)"))
        }
        let zone = transitGateways.subnetZone[subnet]
        guard let e = transitGateways.eni(a, zone: zone) else {
            // TGW-UG transit-gateway-vpc-attachments: resources in an AZ without an attachment subnet cannot reach
            // the transit gateway.
            return fail(&p, transitGateways.step(attachment: a, action: .dropped,
                                                 rule: "no subnet in \(model.subnets[subnet].availabilityZone)",
                                                 detail: "resources in an AZ without an attachment subnet cannot "
                                                     + "reach the transit gateway"))
        }
        let s = Int(transitGateways.enis[e].subnet)
        if var t = crossNACL(s, .inbound, &p, key) {
            t.rejectedAt = tgwFlowLogInterface(e)  // an ingress REJECT at the attachment ENI
            return t
        }
        return Transit(next: .transitGateway(e), delay: assumptions.vpcHopLatency)
    }

    /// A packet at a transit gateway, arrived through attachment ENI `e`: routed by the route table associated
    /// with that attachment, out through the destination attachment's ENI (`TransitGateway.egress`), and on by the
    /// route table of that ENI's subnet (`transitFromSubnet`: the NACLs from that subnet to the next, the
    /// destination ENI's security group).
    private func tgwReceive(_ e: Int, _ p: inout SimPacket) {
        let tgw = transitGateways
        tgwObserveArrival(e, &p)
        let a = Int(tgw.enis[e].attachment)
        let dst = p.ip.destination
        let t = Int(tgw.association[a])
        guard t >= 0 else {
            tgwLog(&p, from: a, srcENI: e, to: -1, dstENI: -1, lost: .noRoute)
            tgwDrop(e, &p, tgw.step(attachment: a, action: .dropped, rule: "no route table association",
                                    detail: "an attachment's packets are routed by its associated route table"))
            return
        }
        guard let r = tgw.route(t, dst) else {
            tgwLog(&p, from: a, srcENI: e, to: -1, dstENI: -1, lost: .noRoute)
            tgwDrop(e, &p, tgw.step(table: t, action: .dropped, rule: "no route matches \(dst)"))
            return
        }
        guard r.attachment >= 0 else {
            tgwLog(&p, from: a, srcENI: e, to: -1, dstENI: -1, lost: .blackhole)
            tgwDrop(e, &p, tgw.routed(t, r))
            return
        }
        record(&p, tgw.routed(t, r))
        let mtu = tgwLinkMTU(to: Int(r.attachment))  // VPCNetwork+LinkMTU.swift
        if p.wireLength > mtu {
            if tgwTooBig(e, from: a, to: Int(r.attachment), mtu: mtu, &p) { return }
        }
        if let c = model.tgwAttachments[Int(r.attachment)].vpnConnection {
            tgwLog(&p, from: a, srcENI: e, to: Int(r.attachment), dstENI: -1, lost: nil)
            if let step = vpn.wrongFamily(c, p) { return tgwDrop(e, &p, step) }
            tgwIntoVPN(e, t, c, &p)
            return
        }
        let key = p.key
        let out = tgw.egress(Int(r.attachment), zone: tgw.enis[e].zone, key)
        record(&p, tgw.left(out.eni, out.choice, enteredIn: model.subnets[Int(tgw.enis[e].subnet)].availabilityZone))
        capture(.transitGateway(e), &p, outgoing: false,
                comment: "arrived through \(tgwDisplay(eni: e)); to \(model.tgwAttachments[Int(r.attachment)].id) by "
                    + model.tgwRouteTables[t].id)
        let clamped = clampMSS(&p, mtu: mtu)
        let clampedTo = Self.mss(p, mtu: mtu)
        var transit = transitFromSubnet(Int(tgw.enis[out.eni].subnet), &p, key: key)
        var lost: TGWFlowLogRecorder.Lost?
        if case .transitGateway? = transit.next, !transit.dropped {
            // Routed straight back into a transit gateway by the attachment subnet's own route table: a loop unless
            // the gateway routes it elsewhere. Each such turn costs a TTL, so a loop ends (AWS does not document
            // a transit gateway's TTL handling; packets that do not turn back keep theirs).
            if p.ip.ttl <= 1 {
                lost = .ttlExpired
                transit = fail(&p, tgw.step(attachment: Int(r.attachment), action: .dropped, rule: "TTL exceeded",
                                            detail: "routed back into the transit gateway until its TTL ran out"))
            } else {
                p.ip.ttl -= 1
            }
        }
        tgwLog(&p, from: a, srcENI: e, to: Int(r.attachment), dstENI: out.eni, lost: lost)
        capture(.transitGateway(out.eni), &p, outgoing: true,
                comment: "left through \(tgwDisplay(eni: out.eni)); " + (clamped.map { "MSS \($0) clamped to \(clampedTo); " } ?? "")
                    + comment(transit))
        tgwLogEgress(out.eni, &p, transit)
        if let rj = transit.rejectedAt { observeInterface(rj, &p, egress: false, accepted: false) }
        transit.delay += assumptions.tgwProcessing
        forward(&p, transit)
    }

    private func tgwDrop(_ e: Int, _ p: inout SimPacket, _ step: Step) {
        record(&p, step)
        capture(.transitGateway(e), &p, outgoing: false, comment: "arrived through \(tgwDisplay(eni: e)); dropped: " + step.text)
        drop(p, step)
    }

    // MARK: Results

    /// Connections the security groups track, over every ENI.
    var trackedConnections: Int { securityGroups.trackedConnections }

    /// NAT metrics per gateway, in model order: totals, and per minute of virtual time (the minutes anything was
    /// counted in, by their number from the start).
    public var natMetrics: [NATMetrics] { nats.map(\.metrics) }
    public var natMetricsPerMinute: [[(minute: Int, metrics: NATMetrics)]] { nats.map(\.perMinute) }
}

/// 64-bit FNV-1a: stable ids and MACs from names.
public func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in s.utf8 {
        h ^= UInt64(b)
        h &*= 0x0000_0100_0000_01B3
    }
    return h
}

func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

func safe(_ s: String) -> String {
    String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
}

/// "20 ms", "1.5 s", "350 µs".
public func formatDuration(_ ns: Int64) -> String {
    if ns >= 1_000_000_000 {
        let s = Double(ns) / 1e9
        return s == s.rounded() ? "\(Int(s)) s" : String(format3(s)) + " s"
    }
    if ns >= 1_000_000 { return "\(ns / 1_000_000) ms" }
    return "\(ns / 1000) µs"
}

func format3(_ v: Double) -> String {
    let scaled = (v * 1000).rounded()
    let i = Int(scaled)
    let whole = i / 1000
    let frac = abs(i % 1000)
    return "\(whole)." + String(repeating: "0", count: 3 - String(frac).count) + String(frac)
}
