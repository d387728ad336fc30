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

/// The nodes of the path where a packet is captured and processed.
enum PathNode {
    case eni(Int)
    case natGateway(Int, fromInside: Bool)
    case internetGateway(Int, toInternet: Bool)
    case outsideHost(Int)
}

/// Capture points, in path order: Lambda/instance ENIs, NAT gateways, internet gateways, outside hosts.
public struct CapturePoint: Sendable {
    public enum Component: Sendable, Equatable {
        case eni(Int)
        case natGateway(Int)
        case internetGateway(Int)
        case outsideHost(Int)
    }
    public var name: String
    public var component: Component
    public var componentID: String
    public var description: String
    /// The names that select it (`--capture`): its own and its component's id.
    public var names: [String] { [name, componentID] }
    /// This point's own MAC and the MAC of the next hop it talks to (the VPC router, the internet).
    public var localMAC: MACAddress
    public var peerMAC: MACAddress
}

/// The hop pipeline: security groups, NACLs, route tables, NAT gateways and internet gateways between ENIs
/// and outside hosts. Moves packets through virtual time; decisions follow aws-semantics.md.
public final class VPCNetwork {
    public let model: VPCModel
    public let assumptions: Assumptions
    let scheduler: Scheduler
    var rng: SplitMix64
    public private(set) var capturePoints: [CapturePoint] = []
    private var eniPoint: [Int?]
    private var natPoint: [Int] = []
    private var igwPoint: [Int] = []
    private var hostPoint: [Int] = []
    var nats: [NATGateway] = []
    /// `nats`, borrowed for the per-packet calls (an element of `nats` is retained and released at each use).
    private var natRefs: [Borrowed<NATGateway>] = []
    /// Each NAT gateway's idle-expiry event target (`natExpiryDue`).
    private var natTimers: [NATExpiryTimer] = []
    /// Public/Elastic IP → ENI, for the internet gateway's 1:1 NAT.
    private let publicToENI = AddressMap<Int>()
    /// Public ↔ private for the IGW's 1:1 NAT, including NAT gateways' secondary addresses.
    private let publicToPrivate = AddressMap<IPv4Address>()
    private let privateToPublic = AddressMap<IPv4Address>()
    /// Every private address an ENI answers to (primary and secondary), per VPC.
    let eniByAddress = AddressMap<Int>()
    private let hostByAddress = AddressMap<Int>()
    /// Whether each internet gateway is attached to a VPC.
    private var igwAttached: [Bool]
    /// Tracked connections (security groups are stateful per ENI), keyed by ENI and the connection's canonical
    /// key (`canonical`), with their close so far and whether the opener's direction is the canonical one. One
    /// table for every ENI: an array of tables would retain and release the ENI's table at each lookup.
    private let tracked = HashTable<TrackedKey, Tracked>()

    struct Tracked {
        /// Side a: the opener.
        var close = TCPCloseState()
        var openerForward: Bool
    }

    struct TrackedKey: TableKey {
        var key: PacketKey
        var eni: Int32
        @inline(__always) var tableHash: UInt64 { key.tableHash ^ (UInt64(UInt32(bitPattern: eni)) &* 0xC2B2_AE3D_27D4_EB4F) }
    }

    /// The model as plain data, for the reads of every packet.
    let tables: HopTables
    /// The peering connections' part (VPCPeering.swift).
    let peering: VPCPeering
    /// Half of each outside host's round trip.
    private let hostOneWay: [Int64]
    public var observer: NetworkObserver? {
        didSet {
            recorder = (observer as? RunRecorder).map(Borrowed.init)
            noteCapturedGateways()
        }
    }
    /// `observer` when it is a RunRecorder (every run of the tool), borrowed: calling the optional existential
    /// retained and released it for each packet at each ENI.
    private var recorder: Borrowed<RunRecorder>?

    /// Calls `body` with the observer, if any: a RunRecorder borrowed, any other as it is.
    @inline(__always)
    private func withObserver(_ body: (NetworkObserver) -> Void) {
        if let r = recorder { r { body($0) } } else if let o = observer { body(o) }
    }

    /// `observer.interface`, the flow logs' view of a packet crossing an ENI. `p` is lent (inout: by address; not
    /// changed), and so to a RunRecorder (`interface(eni:time:lent:egress:accepted:)`).
    @inline(__always)
    private func observeInterface(_ eni: Int, _ p: inout SimPacket, egress: Bool, accepted: Bool) {
        runDeferredDepartures()  // the flow logs see every packet in the order of events
        if let r = recorder {
            r { $0.interface(eni: eni, time: scheduler.now, lent: &p, egress: egress, accepted: accepted) }
        } else if let o = observer {
            o.interface(eni: eni, time: scheduler.now, packet: p, egress: egress, accepted: accepted)
        }
    }

    /// Where a packet arriving at an ENI's host (Lambda/instance) or at an outside host goes: the simulation's
    /// endpoints (called directly: a closure here was retained and released for every packet delivered), or
    /// these when set (tests).
    var simulation: Borrowed<Simulation>?
    public var deliverToENI: ((Int, SimPacket) -> Void)?
    public var deliverToHost: ((Int, SimPacket) -> Void)?
    /// Where packets to unknown public addresses go: nil drops them at the internet.
    public var unknownInternetDestination: ((IPv4Address) -> Int?)?

    public init(model: VPCModel, assumptions: Assumptions, scheduler: Scheduler, seed: UInt64) {
        self.model = model
        self.assumptions = assumptions
        self.scheduler = scheduler
        rng = SplitMix64(seed: seed ^ 0x4E41_5447_5754)  // "NATGWT": the NAT's own stream
        eniPoint = Array(repeating: nil, count: model.enis.count)
        tables = HopTables(model)
        peering = VPCPeering(model: model, assumptions: assumptions)
        hostOneWay = model.outsideHosts.map { $0.rtt / 2 }
        igwAttached = model.internetGateways.indices.map { g in model.vpcs.contains { $0.internetGateway == g } }
        for (i, n) in model.natGateways.enumerated() {
            nats.append(NATGateway(index: i, spec: n, address: model.enis[n.eni].privateIP))
            natRefs.append(Borrowed(nats[i]))
        }
        natTimers = model.natGateways.indices.map { NATExpiryTimer(nat: $0) }
        for (i, e) in model.enis.enumerated() {
            eniByAddress[e.privateIP] = i
            if let p = e.publicIP {
                publicToENI[p] = i
                publicToPrivate[p] = e.privateIP
                privateToPublic[e.privateIP] = p
            }
        }
        for n in model.natGateways {
            for (k, a) in n.secondaryPrivateIPs.enumerated() {
                eniByAddress[a] = n.eni
                if k < n.secondaryElasticIPs.count {
                    let p = n.secondaryElasticIPs[k]
                    publicToENI[p] = n.eni
                    publicToPrivate[p] = a
                    privateToPublic[a] = p
                }
            }
        }
        for (i, h) in model.outsideHosts.enumerated() { hostByAddress[h.address] = i }
        buildCapturePoints()
        noteCapturedGateways()
        scheduler.network = Borrowed(self)
        for t in natTimers { t.network = self }
    }

    private static func routerMAC(_ model: VPCModel, subnet: Int) -> MACAddress {
        MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("router|" + model.subnets[subnet].id) & 0xFF_FFFF_FFFF))
    }

    /// The points of `model` where packets are captured, in file order (a function of the model alone, so that
    /// `--capture` names are checked before a simulation is built).
    public static func capturePoints(of model: VPCModel) -> [CapturePoint] {
        var points: [CapturePoint] = []
        func add(_ name: String, _ c: CapturePoint.Component, _ id: String, _ desc: String, _ local: MACAddress,
                 _ peer: MACAddress) {
            let n = String(format2(points.count + 1)) + "-" + name
            points.append(CapturePoint(name: n, component: c, componentID: id, description: desc, localMAC: local,
                                       peerMAC: peer))
        }
        for (i, e) in model.enis.enumerated() {
            switch e.owner {
            case .lambda(let fs):
                let names = fs.map { model.lambdas[$0].name ?? "lambda" }.joined(separator: "+")
                add("lambda-\(safe(names))-\(e.id)", .eni(i), e.id,
                    "Lambda Hyperplane ENI \(e.id) (\(names)) \(e.privateIP) in \(model.subnets[e.subnet].display)",
                    e.mac, routerMAC(model, subnet: e.subnet))
            case .instance(let k):
                let inst = model.instances[k]
                add("instance-\(safe(inst.name ?? inst.id))-\(e.id)", .eni(i), e.id,
                    "EC2 instance \(inst.display) ENI \(e.id) \(e.privateIP) in \(model.subnets[e.subnet].display)",
                    e.mac, routerMAC(model, subnet: e.subnet))
            case .natGateway:
                break
            }
        }
        for (i, n) in model.natGateways.enumerated() {
            let e = model.enis[n.eni]
            add("nat-\(safe(n.name ?? n.id))-\(e.id)", .natGateway(i), n.id,
                "NAT gateway \(n.display) ENI \(e.id) \(e.privateIP) in \(model.subnets[n.subnet].display)",
                e.mac, routerMAC(model, subnet: n.subnet))
        }
        for (i, g) in model.internetGateways.enumerated() {
            let mac = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("igw|" + g.id) & 0xFF_FFFF_FFFF))
            let peer = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("internet|" + g.id) & 0xFF_FFFF_FFFF))
            add("igw-internet-side-\(g.id)", .internetGateway(i), g.id,
                "internet side of \(g.display): public addresses", mac, peer)
        }
        for (i, h) in model.outsideHosts.enumerated() {
            let gw = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("gw|" + h.id) & 0xFF_FFFF_FFFF))
            add("host-\(safe(h.id))", .outsideHost(i), h.id, "outside host \(h.id) \(h.address)", h.mac, gw)
        }
        return points
    }

    /// `capturePoints`, and which point each component's packets are captured at.
    private func buildCapturePoints() {
        capturePoints = Self.capturePoints(of: model)
        natPoint = Array(repeating: 0, count: model.natGateways.count)
        igwPoint = Array(repeating: 0, count: model.internetGateways.count)
        hostPoint = Array(repeating: 0, count: model.outsideHosts.count)
        for (k, p) in capturePoints.enumerated() {
            switch p.component {
            case .eni(let i): eniPoint[i] = k
            case .natGateway(let i): natPoint[i] = k
            case .internetGateway(let i): igwPoint[i] = k
            case .outsideHost(let i): hostPoint[i] = k
            }
        }
    }

    // MARK: Entry points

    /// A host behind an ENI (Lambda, instance) sends a packet. The packet goes into its slot for the flight at
    /// once and is worked on there (a packet is 184 bytes: each copy of it was a `memcpy`).
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
        let slot = takeSlot()
        let p = self.packet(slot)
        p.initialize(to: packet)
        p.pointee.id = id
        let key = p.pointee.key
        // Security group egress, stateful per ENI.
        if tables.enis[eni].hasSecurityGroups {
            if followTracked(eni, key, p.pointee.closeMarks) {
                record(&p.pointee, sgStep(eni, .securityGroupEgress, action: .allowed, rule: "tracked connection (reply or continuation)"))
            } else {
                let d = SecurityGroupEvaluator.evaluate(model, groups: model.enis[eni].securityGroups, .outbound, key)
                if let g = d.group, let rule = d.rule {
                    track(eni, key)
                    record(&p.pointee, Step(kind: .securityGroupEgress, component: model.securityGroups[g].id,
                                            componentDisplay: model.securityGroups[g].display, action: .allowed,
                                            rule: SecurityGroupEvaluator.describe(model, group: g, .outbound, rule)))
                } else {
                    let step = sgStep(eni, .securityGroupEgress, action: .denied,
                                    rule: "no egress rule allows \(key.proto) \(key.hasPorts ? "\(key.destinationPort) " : "")to \(key.destination)")
                    capture(.eni(eni), &p.pointee, outgoing: true, comment: "sent; dropped: " + step.text)
                    observeInterface(eni, &p.pointee, egress: true, accepted: false)
                    drop(p.pointee, step)
                    freeSlot(slot)
                    return
                }
            }
        }
        var transit = transitFromSubnet(Int(tables.enis[eni].subnet), &p.pointee, key: key)
        capture(.eni(eni), &p.pointee, outgoing: true,
                comment: cachedComment(.sent, eni, transit) { "sent; " + self.comment(transit) })
        logEgress(eni, &p.pointee, transit)
        transit.delay += queued
        carry(slot, transit)
    }

    /// An outside host sends a packet toward the internet (worked on in its slot, as `send(fromENI:_:)`).
    public func send(fromHost host: Int, _ packet: consuming SimPacket) {
        let id = packet.id
        send(fromHost: host, packet, id: id)
    }

    /// `send(fromHost:_:)` with the packet's serial number given apart.
    func send(fromHost host: Int, _ packet: consuming SimPacket, id: Int, queued: Int64 = 0) {
        let slot = takeSlot()
        let p = self.packet(slot)
        p.initialize(to: packet)
        p.pointee.id = id
        let oneWay = hostOneWay[host] + queued
        if let eni = publicToENI[p.pointee.ip.destination], let g = igwFor(eni: eni) {
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
        } else {
            let step = Step(kind: .internet, component: "internet", componentDisplay: "internet", action: .dropped,
                            rule: "no modeled host or public IP at \(p.pointee.ip.destination)")
            capture(.outsideHost(host), &p.pointee, outgoing: true, comment: "sent; dropped: " + step.text)
            drop(p.pointee, step)
            freeSlot(slot)
        }
    }

    // MARK: Steps (the path a traced packet records)

    private func routeStep(_ rt: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .route, component: model.routeTables[rt].id, componentDisplay: model.routeTables[rt].display,
             action: action, rule: rule, detail: detail)
    }

    private func natStep(_ n: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .natGateway, component: model.natGateways[n].id, componentDisplay: model.natGateways[n].display,
             action: action, rule: rule, detail: detail)
    }

    private func igwStep(_ g: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .internetGateway, component: model.internetGateways[g].id,
             componentDisplay: model.internetGateways[g].display, action: action, rule: rule, detail: detail)
    }

    /// A step at the security groups of `eni`, all of them named.
    private func sgStep(_ eni: Int, _ kind: Step.Kind, action: Step.Action, rule: String) -> Step {
        Step(kind: kind, component: sgIDs(model.enis[eni]), componentDisplay: sgDisplay(model.enis[eni]),
             action: action, rule: rule)
    }

    // MARK: Transit between nodes

    /// Where a comment that depends only on its component, the transit's next node and an address is made.
    enum CommentSite: UInt64 { case sent = 1, natDeparture, toInternet, fromInternet, hostSent }

    struct CommentKey: TableKey {
        var place: UInt64
        var address: UInt64
        var tableHash: UInt64 { place ^ (address &* 0x9E37_79B9_7F4A_7C15) }
    }

    /// Comments already made, by site, component, next node and address: most packets of a fleet get one of
    /// a few comments, built once. Transits that drop are not cached (their comments name rules). Bounded.
    private let comments = HashTable<CommentKey, String>()

    private func cachedComment(_ site: CommentSite, _ component: Int, _ t: Transit? = nil, address: IPv4Address? = nil,
                               _ make: () -> String) -> String {
        guard t?.dropped != true, component < 1 << 24 else { return make() }
        var next: UInt64 = 0
        switch t?.next {
        case .eni(let e)?: next = 1 << 32 | UInt64(e)
        case .natGateway(let n, let inside)?: next = 2 << 32 | UInt64(n) << 1 | (inside ? 1 : 0)
        case .internetGateway(let g, let toInternet)?: next = 3 << 32 | UInt64(g) << 1 | (toInternet ? 1 : 0)
        case .outsideHost(let h)?: next = 4 << 32 | UInt64(h)
        case nil: next = 0
        }
        let key = CommentKey(place: site.rawValue << 60 | UInt64(component) << 36 | next,
                             address: address.map { 1 << 32 | UInt64($0.rawValue) } ?? 0)
        if let i = comments.find(key) { return comments.value(at: i).pointee }
        let c = make()
        if comments.count < 1 << 16 { comments.insert(key, c) }
        return c
    }

    /// What a transit comes to, for capture comments (built only when a capture wants comments).
    private func comment(_ t: Transit) -> String {
        if let d = drop(of: t) { return "dropped: " + d.text }
        switch t.next {
        case .natGateway(let n, _): return "to \(model.natGateways[n].display)"
        case .eni(let e): return "to \(model.enis[e].id)"
        case .internetGateway(let g, _): return "to \(model.internetGateways[g].display)"
        case .outsideHost(let h): return "to \(model.outsideHosts[h].id)"
        case nil: return ""
        }
    }

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

    /// The steps of the transits that dropped a packet, while a handler uses them: emptied when the next top-level
    /// handling starts (a network event, or a send from outside the network's handlers).
    private var dropSteps: [Step] = []

    @inline(__always)
    private func drop(of t: Transit) -> Step? { t.dropIndex < 0 ? nil : dropSteps[Int(t.dropIndex)] }

    /// Forgets the steps of earlier transits; only where no handler holds a transit.
    @inline(__always)
    private func startHandling() {
        if !dropSteps.isEmpty { dropSteps.removeAll(keepingCapacity: true) }
    }

    /// A transit's stateless part (route, NACLs, the next node, up to a destination ENI's security group), by
    /// subnet and packet key: the model does not change during a run, so a connection's packets after its first
    /// each way find it here instead of walking the route table and two NACLs again. Direct-mapped and
    /// overwritten on collision (bounded memory, nothing to evict); only untraced packets that were not dropped.
    private struct TransitMemo {
        /// The packet key's two words (`PacketKey.addressWord`, `portWord`).
        var addresses: UInt64
        var ports: UInt64
        /// -1: an empty entry.
        var subnet: Int32
        /// The ENI whose security group still decides (-1: none).
        var securityGroupAt: Int32
        /// The transit's next node (`encode`) and delay: a memoized transit was not dropped.
        var next: UInt32
        var delay: Int32

        static let empty = TransitMemo(addresses: 0, ports: 0, subnet: -1, securityGroupAt: -1, next: 0, delay: 0)

        /// Kind in the top two bits, the flag (`fromInside`, `toInternet`) in the next, the index below; nil when
        /// an index does not fit (then the transit is not memoized).
        @inline(__always) static func encode(_ n: PathNode) -> UInt32? {
            let (kind, index, flag): (UInt32, Int, Bool)
            switch n {
            case .eni(let e): (kind, index, flag) = (0, e, false)
            case .natGateway(let g, let inside): (kind, index, flag) = (1, g, inside)
            case .internetGateway(let g, let out): (kind, index, flag) = (2, g, out)
            case .outsideHost(let h): (kind, index, flag) = (3, h, false)
            }
            guard index >= 0, index < 1 << 29 else { return nil }
            return kind << 30 | (flag ? 1 << 29 : 0) | UInt32(index)
        }

        @inline(__always) static func decode(_ v: UInt32) -> PathNode {
            let index = Int(v & (1 << 29 - 1))
            let flag = v & 1 << 29 != 0
            switch v >> 30 {
            case 0: return .eni(index)
            case 1: return .natGateway(index, fromInside: flag)
            case 2: return .internetGateway(index, toInternet: flag)
            default: return .outsideHost(index)
            }
        }
    }
    /// 16,384 entries of 32 bytes (512 KB), two to a cache line: at 4,096 a 10,000-flows-a-second fleet (some 700
    /// connections open, three entries each) lost a third of its lookups to collisions, 6.2 misses a flow where 3
    /// are first packets. Entries were 80 bytes until the fifteenth session (a transit and a `PacketKey` as they
    /// are): every entry straddled two cache lines, and the lookup's load was the engine's costliest instruction
    /// (perf: some 9% of `engine`'s samples on the compare after it).
    private static let memoBits = 14
    private static let memoSize = 1 << memoBits
    private let transitMemo: UnsafeMutablePointer<TransitMemo> = {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: VPCNetwork.memoSize * MemoryLayout<TransitMemo>.stride,
                                                   alignment: 64)
        let m = raw.bindMemory(to: TransitMemo.self, capacity: VPCNetwork.memoSize)
        m.initialize(repeating: .empty, count: VPCNetwork.memoSize)
        return m
    }()

    /// Everything between leaving `subnet` and arriving at the next node: route, NACLs, the destination ENI's
    /// security group. `key`: the packet's, when the caller has it (derived once per hop).
    func transitFromSubnet(_ subnet: Int, _ p: inout SimPacket, key known: PacketKey? = nil) -> Transit {
        let key = known ?? p.key
        var securityGroupAt = -1
        let t = memoizedTransit(subnet, &p, key, securityGroupAt: &securityGroupAt)
        if securityGroupAt >= 0, var deny = securityGroupIngress(securityGroupAt, &p, key) {
            deny.rejectedAt = securityGroupAt
            return deny
        }
        return t
    }

    /// `statelessTransit`, from the memo when the packet's connection has been this way before.
    @inline(__always)
    private func memoizedTransit(_ subnet: Int, _ p: inout SimPacket, _ key: PacketKey,
                                 securityGroupAt: inout Int) -> Transit {
        var t: Transit
        if p.traced {
            t = statelessTransit(subnet, &p, key, securityGroupAt: &securityGroupAt)
        } else {
            var h = key.tableHash ^ (UInt64(subnet) &* 0x9E37_79B9_7F4A_7C15)
            h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
            let m = transitMemo + Int(truncatingIfNeeded: h >> (64 - Self.memoBits))  // the top bits: memoSize entries
            if m.pointee.subnet == Int32(truncatingIfNeeded: subnet), m.pointee.addresses == key.addressWord,
               m.pointee.ports == key.portWord {
                t = Transit(next: TransitMemo.decode(m.pointee.next), delay: Int64(m.pointee.delay))
                securityGroupAt = Int(m.pointee.securityGroupAt)
            } else {
                t = statelessTransit(subnet, &p, key, securityGroupAt: &securityGroupAt)
                // Only what the entry holds exactly: a transit not dropped (its drop index and REJECT ENI are
                // unset then), whose next node, delay, subnet and ENI fit its fields.
                if !t.dropped, t.rejectedAt == nil, let node = t.next, let next = TransitMemo.encode(node),
                   let delay = Int32(exactly: t.delay), let sn = Int32(exactly: subnet),
                   let sg = Int32(exactly: securityGroupAt) {
                    m.pointee = TransitMemo(addresses: key.addressWord, ports: key.portWord, subnet: sn,
                                            securityGroupAt: sg, next: next, delay: delay)
                }
            }
        }
        return t
    }

    /// `transitFromSubnet` without the destination ENI's security group (stateful: `securityGroupAt` names the
    /// ENI whose group still decides).
    private func statelessTransit(_ subnet: Int, _ p: inout SimPacket, _ key: PacketKey,
                                  securityGroupAt: inout Int) -> Transit {
        let rtIndex = Int(tables.subnets[subnet].routeTable)
        let hop = assumptions.vpcHopLatency
        guard let r = tables.routes.route(rtIndex, p.ip.destination) else {
            return fail(&p, routeStep(rtIndex, action: .dropped,
                                 rule: "no route matches \(p.ip.destination)"))
        }
        if r.kind != .peering, r.kind != .notModeled, r.kind != .networkInterface {  // those record a step of their own
            record(&p, routeStep(rtIndex, action: .forwarded, rule: {
                let route = model.routeTables[rtIndex].routes[Int(r.index)]
                return "\(route.destination) → \(describe(route.target))"
            }()))
        }
        switch r.kind {
        case .local:
            let vpc = tables.subnets[subnet].vpc
            guard let eni = eniByAddress[p.ip.destination], tables.subnets[Int(tables.enis[eni].subnet)].vpc == vpc else {
                return fail(&p, routeStep(rtIndex, action: .dropped,
                                     rule: "\(r.cidr) → local", detail: "no ENI has \(p.ip.destination)"))
            }
            let dst = Int(tables.enis[eni].subnet)
            if var t = crossNACLs(from: subnet, to: dst, &p, key) {
                if drop(of: t)?.kind == .naclInbound { t.rejectedAt = eni }
                return t
            }
            if tables.enis[eni].natGateway >= 0 {
                return Transit(next: .natGateway(Int(tables.enis[eni].natGateway), fromInside: true), delay: hop)
            }
            securityGroupAt = eni
            return Transit(next: .eni(eni), delay: hop)
        case .natGateway:
            let n = Int(r.target)
            if var t = crossNACLs(from: subnet, to: Int(tables.natSubnet[n]), &p, key) {
                if drop(of: t)?.kind == .naclInbound { t.rejectedAt = Int(tables.natENI[n]) }
                return t
            }
            return Transit(next: .natGateway(n, fromInside: true), delay: hop)
        case .internetGateway:
            let g = Int(r.target)
            if let t = crossNACL(subnet, .outbound, &p, key) { return t }
            // The IGW's 1:1 NAT needs a public IP on the sending ENI (VPC-UG VPC_Internet_Gateway).
            let vpc = tables.subnets[subnet].vpc
            guard let eni = eniByAddress[p.ip.source], tables.subnets[Int(tables.enis[eni].subnet)].vpc == vpc,
                  let pub = privateToPublic[p.ip.source] else {
                let vpc = Int(vpc)
                let why: String
                if let eni = model.eni(privateIP: p.ip.source, in: vpc), case .lambda = model.enis[eni].owner {
                    why = "\(p.ip.source) is a Lambda Hyperplane ENI, which never has a public IP"
                } else if let eni = model.eni(privateIP: p.ip.source, in: vpc), case .natGateway(let n) = model.enis[eni].owner {
                    why = "\(model.natGateways[n].display) is a private NAT gateway (no Elastic IP)"
                } else {
                    why = "\(p.ip.source) has no public IP"
                }
                return fail(&p, igwStep(g, action: .dropped, rule: "no public IP for \(p.ip.source)", detail: why))
            }
            let src = p.ip.source
            record(&p, igwStep(g, action: .translated, rule: "1:1 NAT \(src) → \(pub)"))
            return Transit(next: .internetGateway(g, toInternet: true), delay: hop)
        case .peeringConnection:
            return peeringTransit(Int(r.target), from: subnet, &p, key, securityGroupAt: &securityGroupAt)
        case .networkInterface, .peering, .notModeled, .blackhole:
            break  // the model names what the route leads to
        }
        let route = model.routeTables[rtIndex].routes[Int(r.index)]
        switch route.target {
        case .local, .natGateway, .internetGateway, .peeringConnection:
            preconditionFailure("HopTables routes these")
        case .blackhole(let was):
            return fail(&p, routeStep(rtIndex, action: .dropped,
                                 rule: "\(route.destination) → blackhole",
                                 detail: was.map { "target \($0) no longer exists" }))
        case .networkInterface(let eni):
            return notModeled(&p, rtIndex, route, id: model.enis[eni].id,
                              what: "forwarding through a network interface")
        case .peering(let id), .notModeled(let id):
            return notModeled(&p, rtIndex, route, id: id, what: NotModeledTarget.kind(of: id) ?? "outside the model")
        }
    }

    /// A packet routed to a component the model does not have: it goes no further, and its flow ends
    /// `not-modeled` (`Simulation.notModeled`), not with a network verdict: the step is not a drop.
    private func notModeled(_ p: inout SimPacket, _ rt: Int, _ route: Route, id: String, what: String) -> Transit {
        let step = routeStep(rt, action: .notModeled, rule: "\(route.destination) → \(id)", detail: "\(what): not modeled")
        record(&p, step)
        dropSteps.append(step)
        let flow = p.flow
        if let s = simulation { s { $0.notModeled(flow: flow, NotModeledTarget.message(id, what: what)) } }
        return Transit(next: nil, delay: 0, dropIndex: Int32(dropSteps.count - 1))
    }

    /// Flow-log view of a packet leaving `eni` through `transit`: REJECT when its own subnet's NACL dropped it
    /// outbound; and an ingress REJECT on the ENI where the transit's drop is logged.
    /// `p` is lent (inout: by address; not changed).
    private func logEgress(_ eni: Int, _ p: inout SimPacket, _ t: Transit) {
        guard observer != nil else { return }
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
    private func crossNACLs(from a: Int, to b: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit? {
        guard a != b else { return nil }
        if let t = crossNACL(a, .outbound, &p, key) { return t }
        return crossNACL(b, .inbound, &p, key)
    }

    @inline(__always)
    func crossNACL(_ subnet: Int, _ direction: Direction, _ p: inout SimPacket, _ key: PacketKey) -> Transit? {
        let aclIndex = Int(tables.subnets[subnet].networkACL)
        let (allowed, rule) = tables.naclDecision(aclIndex, direction, key)
        if allowed, !p.traced { return nil }  // the common case: nothing to record
        return naclOutcome(aclIndex, direction, allowed, rule, &p)
    }

    /// A NACL's decision recorded (a traced packet), or its drop.
    @inline(never)
    private func naclOutcome(_ aclIndex: Int, _ direction: Direction, _ allowed: Bool, _ rule: Int,
                             _ p: inout SimPacket) -> Transit? {
        let step = Step(kind: direction == .inbound ? .naclInbound : .naclOutbound, component: model.networkACLs[aclIndex].id,
                        componentDisplay: model.networkACLs[aclIndex].display, action: allowed ? .allowed : .denied,
                        rule: NACLEvaluator.describe(tables.naclDecision(rule: rule).rule))
        if allowed {
            record(&p, step)
            return nil
        }
        return fail(&p, step)
    }

    /// Whether `key` belongs to a connection tracked at `eni` (either way); follows its close. The entry goes
    /// when both FINs have been acknowledged, each by the other side (`TCPCloseState`: with the last ACK of a
    /// close one side began, with the second of the two ACKs when the FINs crossed), or with an RST. AWS documents
    /// idle timeouts for established tracked connections, not what happens at a close (EC2-UG
    /// security-group-connection-tracking; aws-semantics §1): the model frees the entry once the close is
    /// complete (memory follows open connections), never before its last packet.
    private func followTracked(_ eni: Int, _ key: PacketKey, _ marks: TCPSegmentMarks?) -> Bool {
        let (canonical, forward) = Self.canonical(key)
        guard let slot = tracked.find(TrackedKey(key: canonical, eni: Int32(eni))) else { return false }
        guard let m = marks else { return true }
        let entry = tracked.value(at: slot)
        if m.flags.contains(.rst) || entry.pointee.close.follow(m, fromA: entry.pointee.openerForward == forward) {
            tracked.remove(at: slot)
        }
        return true
    }

    /// Connections the security groups track, over every ENI.
    var trackedConnections: Int { tracked.count }

    /// Starts tracking the connection `key` opens at `eni`.
    private func track(_ eni: Int, _ key: PacketKey) {
        let (canonical, forward) = Self.canonical(key)
        tracked[TrackedKey(key: canonical, eni: Int32(eni))] = Tracked(openerForward: forward)
    }

    /// A connection's key in one of its two directions, the same for both (the lower address and port as the
    /// source), so that a packet either way finds its entry in one lookup; `forward`: `key` is that direction.
    @inline(__always)
    private static func canonical(_ key: PacketKey) -> (key: PacketKey, forward: Bool) {
        let a = UInt64(key.source.rawValue) << 16 | UInt64(key.sourcePort)
        let b = UInt64(key.destination.rawValue) << 16 | UInt64(key.destinationPort)
        return a <= b ? (key, true) : (key.reversed, false)
    }

    private func securityGroupIngress(_ eni: Int, _ p: inout SimPacket, _ key: PacketKey) -> Transit? {
        guard tables.enis[eni].hasSecurityGroups else { return nil }
        if followTracked(eni, key, p.closeMarks) {
            record(&p, sgStep(eni, .securityGroupIngress, action: .allowed, rule: "tracked connection (reply or continuation)"))
            return nil
        }
        let d = SecurityGroupEvaluator.evaluate(model, groups: model.enis[eni].securityGroups, .inbound, key)
        if let g = d.group, let rule = d.rule {
            track(eni, key)
            record(&p, Step(kind: .securityGroupIngress, component: model.securityGroups[g].id,
                          componentDisplay: model.securityGroups[g].display, action: .allowed,
                          rule: SecurityGroupEvaluator.describe(model, group: g, .inbound, rule)))
            return nil
        }
        return fail(&p, sgStep(eni, .securityGroupIngress, action: .denied,
                             rule: "no ingress rule allows \(key.proto) \(key.hasPorts ? "\(key.destinationPort) " : "")from \(key.source)"))
    }

    // MARK: Arrival at nodes

    /// A new packet in `slot` (sent by an endpoint, or an RST a NAT gateway makes) leaves for its next hop, or is
    /// dropped (its slot freed).
    private func carry(_ slot: Int32, _ t: Transit) {
        if !t.dropped, let next = t.next {
            schedule(slot, &packet(slot).pointee, to: next, after: t.delay, carried: .max)
            return
        }
        if let step = drop(of: t) { drop(packet(slot).pointee, step) }
        freeSlot(slot)
    }

    /// The packet being handled (the one in slot `firing`) goes on to its next hop, or is dropped.
    @inline(__always)
    private func forward(_ p: inout SimPacket, _ t: Transit) {
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
    private func schedule(_ slot: Int32, _ p: inout SimPacket, to next: PathNode, after delay: Int64, carried: UInt64) {
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
        hops[Int(slot)] = Hop(node: next, reserved: reserved)
        scheduler.scheduleNetwork(after: delay, slot: slot, seq: seq)
        if reserve { hops[Int(slot)].reserved = scheduler.drawSequence() }
    }

    /// Where a packet in flight goes next (or, `departs`, that it leaves a NAT gateway after its processing
    /// time rather than arriving at `node`).
    struct Hop {
        var node: PathNode
        var departs = false
        var size = 0
        /// The sequence number reserved for the packet's arrival after this fusable hop (`schedule`); .max: none.
        var reserved = UInt64.max
    }

    /// Packets in flight, by slot, in chunks that never move (a handler holds its packet's address while an
    /// endpoint it delivers to sends new packets); a packet keeps its slot from hop to hop and is changed in
    /// place (translation, TTL): no copies between hops.
    private static let chunkShift = 10
    private var chunks = RawVec<UnsafeMutablePointer<SimPacket>>(capacity: 4)
    private var hops = RawVec<Hop>(capacity: 1 << VPCNetwork.chunkShift)
    private var inUse = RawVec<Bool>(capacity: 1 << VPCNetwork.chunkShift)
    private var freeSlots = RawVec<Int32>(capacity: 1 << VPCNetwork.chunkShift)
    /// The slot being handled, and whether its packet was sent on (else the slot is freed after the handler).
    private var firing: Int32 = -1
    private var forwarded = false
    /// The handled packet's reserved sequence number (`Hop.reserved`).
    private var firingReserved = UInt64.max

    deinit {
        commentText.free()
        transitMemo.deinitialize(count: VPCNetwork.memoSize)
        UnsafeMutableRawPointer(transitMemo).deallocate()
        deferredDepartures.free()
        for i in 0..<inUse.count where inUse[i] {
            packet(Int32(i)).pointee.payload.free()
            packet(Int32(i)).deinitialize(count: 1)
        }
        for c in 0..<chunks.count { chunks[c].deallocate() }
        chunks.free()
        hops.free()
        inUse.free()
        freeSlots.free()
    }

    @inline(__always)
    private func packet(_ slot: Int32) -> UnsafeMutablePointer<SimPacket> {
        chunks[Int(slot) >> Self.chunkShift] + (Int(slot) & ((1 << Self.chunkShift) - 1))
    }

    /// A free slot for a new packet in flight (its packet to be initialized by the caller).
    @inline(__always)
    private func takeSlot() -> Int32 {
        if freeSlots.isEmpty { addChunk() }
        let slot = freeSlots.popLast()!
        inUse[Int(slot)] = true
        return slot
    }

    @inline(never)
    private func addChunk() {
        let base = chunks.count << Self.chunkShift
        chunks.append(.allocate(capacity: 1 << Self.chunkShift))
        for i in (base..<base + (1 << Self.chunkShift)).reversed() {
            hops.append(Hop(node: .eni(0)))
            inUse.append(false)
            freeSlots.append(Int32(i))
        }
    }

    /// The packet in `slot` leaves the network (delivered or dropped): its payload and slot are freed.
    @inline(__always)
    private func freeSlot(_ slot: Int32) {
        let p = packet(slot)
        p.pointee.payload.free()
        p.deinitialize(count: 1)
        inUse[Int(slot)] = false
        freeSlots.append(slot)
    }

    /// Sends the packet being handled on to `hop`, a node never fused, in the slot it already has: with `seq`, a
    /// number reserved for its arrival (`firingReserved`), or .max for a new one.
    private func forward(to hop: Hop, after delay: Int64, seq: UInt64) {
        hops[Int(firing)] = hop
        forwarded = true
        scheduler.scheduleNetwork(after: delay, slot: firing, seq: seq)
    }

    /// Called by the scheduler when the packet in `slot` reaches its next hop.
    func fire(_ slot: Int32) {
        runDeferredDepartures()
        startHandling()
        let hop = hops[Int(slot)]
        firing = slot
        firingReserved = hop.reserved
        forwarded = false
        let p = packet(slot)
        if hop.departs {
            if case .natGateway(let n, let fromInside) = hop.node {
                natDepartNow(n, &p.pointee, fromInside: fromInside, size: hop.size)
            }
        } else {
            handle(hop.node, &p.pointee)
        }
        if !forwarded { freeSlot(slot) }  // the packet leaves the network: delivered or dropped
        firing = -1
        firingReserved = .max
    }

    private func handle(_ node: PathNode, _ p: inout SimPacket) {
        switch node {
        case .eni(let eni):
            record(&p, Step(kind: .delivered, component: model.enis[eni].id, componentDisplay: model.enis[eni].display,
                          action: .delivered, rule: "delivered to \(model.enis[eni].privateIP)"))
            endTrace(&p)
            capture(.eni(eni), &p, outgoing: false, comment: "received")
            observeInterface(eni, &p, egress: false, accepted: true)
            if let d = deliverToENI { d(eni, p) } else if let s = simulation { s { $0.deliver(&p, toENI: eni) } }
        case .natGateway(let n, let fromInside):
            natReceive(n, &p, fromInside: fromInside)
        case .internetGateway(let g, let toInternet):
            if toInternet { igwToInternet(g, &p) } else { igwFromInternet(g, &p) }
        case .outsideHost(let h):
            record(&p, Step(kind: .delivered, component: model.outsideHosts[h].id,
                          componentDisplay: model.outsideHosts[h].id, action: .delivered,
                          rule: "delivered to \(model.outsideHosts[h].address)"))
            endTrace(&p)
            capture(.outsideHost(h), &p, outgoing: false, comment: "received")
            if let d = deliverToHost { d(h, p) } else if let s = simulation { s { $0.deliver(&p, toHost: h) } }
        }
    }

    private func natReceive(_ n: Int, _ p: inout SimPacket, fromInside: Bool) {
        let nat = natRefs[n]
        let key = p.key
        let marks = p.closeMarks
        let size = Int(p.ip.totalLength)
        // (Runs fused departures due before this event, which set the gateway's `now` to their own time.)
        observeInterface(Int(tables.natENI[n]), &p, egress: false, accepted: true)
        nat { $0.now = scheduler.now }
        if fromInside {
            nat { $0.count {
                $0.packetsInFromSource += 1
                $0.bytesInFromSource += size
            } }
            let result = nat { $0.translateOutbound(key, tcp: marks, now: scheduler.now, assumptions: assumptions,
                                                    rng: &rng) }
            scheduleNATExpiry(n)
            switch result {
            case .translated(let natAddress, let port, _):
                // Captured as it arrived, then translated in place.
                capture(.natGateway(n, fromInside: true), &p, outgoing: false) {
                    natTranslationComment(&$0, "arrived from the private side; translated ", key.source, key.sourcePort,
                                          natAddress, port, n)
                }
                p.ip.source = natAddress
                setSourcePort(&p, port)
                if assumptions.natDecrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
                record(&p, natStep(n, action: .translated, rule: "\(key.source):\(key.sourcePort) → \(natAddress):\(port)"))
                if !fusesNATDeparture(n, p) || !fusedNATDeparture(n, &p, size: size) {
                    natDepart(n, fromInside: true, size: size)
                    // A fusable flow's departure keeps its place in the order of events (`schedule`).
                    if fusable(p) { hops[Int(firing)].reserved = scheduler.drawSequence() }
                }
            case .idleTimedOut(let last):
                let step = natStep(n, action: .dropped,
                                rule: "connection idle longer than \(assumptions.natIdleTimeout / 1_000_000_000) s "
                                    + "(its last packet at \(format3(Double(last) / 1e9)) s)",
                                detail: key.proto == .tcp ? "the NAT gateway answers with RST" : nil)
                natDrop(n, p, step, fromInside: true)
                if key.proto == .tcp, let t = p.tcp, !t.flags.contains(.rst) { natSendsReset(n, to: p, tcp: t) }
            case .portAllocationError:
                let step = natStep(n, action: .dropped,
                                rule: "ErrorPortAllocation",
                                detail: "\(assumptions.natConnectionsPerDestination) connections to \(key.destination):\(key.destinationPort) already")
                natDrop(n, p, step, fromInside: true)
            case .noMapping, .unsupportedProtocol:
                let step = natStep(n, action: .dropped,
                                rule: result.isUnsupported ? "protocol \(key.proto) is not supported (TCP, UDP, ICMP only)"
                                    : "no translation for \(key.description)")
                natDrop(n, p, step, fromInside: true)
            }
        } else {
            nat { $0.count {
                $0.packetsInFromDestination += 1
                $0.bytesInFromDestination += size
            } }
            switch nat({ $0.translateInbound(key, tcp: marks, now: scheduler.now, assumptions: assumptions) }) {
            case .translated(let to, let port, _):
                capture(.natGateway(n, fromInside: false), &p, outgoing: false) {
                    natTranslationComment(&$0, "arrived from the internet; translated ", key.destination,
                                          key.destinationPort, to, port, n)
                }
                p.ip.destination = to
                setDestinationPort(&p, port)
                if assumptions.natDecrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
                record(&p, natStep(n, action: .translated, rule: "\(key.destination):\(key.destinationPort) → \(to):\(port)"))
                natDepart(n, fromInside: false, size: size)
            case .noMapping:
                let step = natStep(n, action: .dropped,
                                rule: "no translation for \(key.description)")
                natDrop(n, p, step, fromInside: false)
            }
        }
    }

    /// Schedules NAT gateway `n`'s next idle expiry, unless an event is pending (it is never later than the one
    /// needed: a mapping's expiry only moves later). One event per gateway at a time.
    private func scheduleNATExpiry(_ n: Int) {
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

    /// A packet the NAT gateway itself drops: seen arriving at its ENI, counted in PacketsDropCount.
    private func natDrop(_ n: Int, _ p: SimPacket, _ step: Step, fromInside: Bool) {
        var p = p
        capture(.natGateway(n, fromInside: fromInside), &p, outgoing: false, comment: "dropped: " + step.text)
        natRefs[n]({ $0.count { $0.packetsDropCount += 1 } })
        drop(p, step)
    }

    /// The translated packet leaves the NAT gateway's ENI after the gateway's processing time.
    private func natDepart(_ n: Int, fromInside: Bool, size: Int) {
        forward(to: Hop(node: .natGateway(n, fromInside: fromInside), departs: true, size: size),
                after: assumptions.natProcessing, seq: .max)
    }

    private func natDepartNow(_ n: Int, _ out: inout SimPacket, fromInside: Bool, size: Int) {
        do {
            let t = transitFromSubnet(Int(tables.natSubnet[n]), &out)
            countDeparture(n, at: scheduler.now, fromInside: fromInside, size: size)
            capture(.natGateway(n, fromInside: fromInside), &out, outgoing: true,
                    comment: cachedComment(.natDeparture, n, t) { "translated by \(self.model.natGateways[n].id); " + self.comment(t) })
            logEgress(Int(tables.natENI[n]), &out, t)
            forward(&out, t)
        }
    }

    /// A packet leaving NAT gateway `n` at `time`, in its metrics (in its event, or deferred: `runDeferred`).
    @inline(__always)
    private func countDeparture(_ n: Int, at time: Int64, fromInside: Bool, size: Int) {
        let nat = natRefs[n]
        nat {
            $0.now = time
            if fromInside {
                $0.count {
                    $0.packetsOutToDestination += 1
                    $0.bytesOutToDestination += size
                }
            } else {
                $0.count {
                    $0.packetsOutToSource += 1
                    $0.bytesOutToSource += size
                }
            }
        }
    }

    /// The RST a NAT gateway sends to a client that uses a timed-out connection (VPC-UG
    /// nat-gateway-troubleshooting: "the NAT gateway returns a RST packet").
    private func natSendsReset(_ n: Int, to p: SimPacket, tcp: TCPHeader) {
        var ip = IPv4Header(source: p.ip.destination, destination: p.ip.source, proto: .tcp, ttl: 64)
        ip.identification = 0
        let rst = TCPHeader(sourcePort: tcp.destinationPort, destinationPort: tcp.sourcePort,
                            sequenceNumber: tcp.acknowledgmentNumber, acknowledgmentNumber: 0, flags: .rst, window: 0)
        let slot = takeSlot()
        let r = packet(slot)
        r.initialize(to: SimPacket(ip: ip, transport: .tcp(rst), flow: p.flow, fromClient: !p.fromClient))
        r.pointee.ip.totalLength = 40
        let spec = model.natGateways[n]
        let t = transitFromSubnet(spec.subnet, &r.pointee)
        capture(.natGateway(n, fromInside: false), &r.pointee, outgoing: true,
                comment: "RST from \(spec.id) (idle timeout); " + comment(t))
        logEgress(spec.eni, &r.pointee, t)
        carry(slot, t)
    }

    private func igwToInternet(_ g: Int, _ p: inout SimPacket) {
        let privateSource = p.ip.source
        guard igwAttached[g], let pub = privateToPublic[p.ip.source] else {
            // Checked in transit already; kept for a model whose IGW is not attached.
            let step = igwStep(g, action: .dropped,
                            rule: "no public IP for \(p.ip.source)")
            drop(p, step)
            return
        }
        translateToInternet(&p, publicAddress: pub)
        if let h = hostByAddress[p.ip.destination] {
            let oneWay = hostOneWay[h]
            let dst = p.ip.destination
            record(&p, Step(kind: .internet, component: "internet", componentDisplay: "internet", action: .forwarded,
                          rule: "to \(model.outsideHosts[h].id) (\(dst)), one way \(formatDuration(oneWay))"))
            capture(.internetGateway(g, toInternet: true), &p, outgoing: true,
                    comment: cachedComment(.toInternet, g, address: privateSource) {
                        "translated \(privateSource) → \(pub) by \(self.model.internetGateways[g].id); to the internet"
                    })
            crossInternet(&p)
            forward(to: Hop(node: .outsideHost(h)), after: oneWay, seq: firingReserved)
        } else if let eni = publicToENI[p.ip.destination], let back = igwFor(eni: eni), igwAttached[back] {
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
        let arrivedIP = p.ip
        guard let eni = publicToENI[p.ip.destination] else {
            let step = igwStep(g, action: .dropped,
                            rule: "no ENI has public IP \(p.ip.destination)")
            capture(.internetGateway(g, toInternet: false), &p, outgoing: false, comment: "dropped: " + step.text)
            drop(p, step)
            return
        }
        let before = p.ip.destination
        let t = igwInbound(g, &p, to: eni)
        // Captured as it arrived: its IP header put back for the capture (nothing else of it changed here).
        let translatedIP = p.ip
        p.ip = arrivedIP
        capture(.internetGateway(g, toInternet: false), &p, outgoing: false,
                comment: cachedComment(.fromInternet, g, t, address: before) {
                    "arrived from the internet; translated \(before) → \(translatedIP.destination) by "
                        + "\(self.model.internetGateways[g].id); " + self.comment(t)
                })
        p.ip = translatedIP
        if let r = t.rejectedAt { observeInterface(r, &p, egress: false, accepted: false) }
        forward(&p, t)
    }

    /// A packet from the internet (or sent back in by `igwHairpin`) to public address of `eni`, at internet
    /// gateway `g`: translated to the ENI's private address, then the ENI's subnet's NACL inbound (from the IGW
    /// the VPC's local route leads there) and, for an ENI that is not a NAT gateway's, its security group.
    private func igwInbound(_ g: Int, _ p: inout SimPacket, to eni: Int) -> Transit {
        let before = p.ip.destination
        translateFromInternet(&p, to: eni)
        let after = p.ip.destination
        record(&p, igwStep(g, action: .translated,
                      rule: "1:1 NAT \(before) → \(after)"))
        var t: Transit
        let key = p.key
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

    /// The internet gateway's 1:1 NAT of a packet leaving for the internet: its private source becomes `pub`.
    @inline(__always)
    private func translateToInternet(_ p: inout SimPacket, publicAddress pub: IPv4Address) {
        p.ip.source = pub
        if assumptions.igwDecrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
    }

    /// The internet gateway's 1:1 NAT of a packet from the internet to a public address of `eni`.
    @inline(__always)
    private func translateFromInternet(_ p: inout SimPacket, to eni: Int) {
        if assumptions.igwDecrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
        p.ip.destination = publicToPrivate[p.ip.destination] ?? model.enis[eni].privateIP
    }

    /// The routers between the internet gateway and an outside host, either way.
    @inline(__always)
    private func crossInternet(_ p: inout SimPacket) {
        p.ip.ttl = p.ip.ttl &- UInt8(clamping: assumptions.internetHops)
    }

    // MARK: Observation

    /// The steps of traced packets in flight, by slot (SimPacket.traceSlot); freed slots are reused.
    private var traceSteps: [[Step]] = []
    private var freeTraceSlots: [Int32] = []

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
    @inline(__always)
    /// `p` is lent (inout: by address; taken by value, the handled packet was copied to read its `traced`).
    private func endTrace(_ p: inout SimPacket) {
        guard p.traced else { return }
        var steps: [Step] = []
        if p.traceSlot >= 0 {
            swap(&steps, &traceSteps[Int(p.traceSlot)])
            freeTraceSlots.append(p.traceSlot)
        }
        observer?.traced(packet: p, steps: steps)
    }

    private func drop(_ p: SimPacket, _ step: Step) {
        if p.traced {
            var q = p
            endTrace(&q)
        }
        observer?.dropped(time: scheduler.now, packet: p, step: step)
    }

    /// Whether capture comments are wanted (pcapng); when not, they are never formatted.
    public var describesPackets = true

    /// Whether `observer.seen` wants packets of flows numbered `seenFlows` and up (generated flows, when nothing
    /// is captured: then only the explicit flows' ladders look at packets).
    public var seenFlows = Int.max

    /// `p` is lent (inout: by address, not copied unless it is captured; not changed).
    @inline(__always)
    private func capture(_ node: PathNode, _ p: inout SimPacket, outgoing: Bool, comment: @autoclosure () -> String) {
        guard p.flow < seenFlows, observer != nil, let point = capturePoint(node) else { return }
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
    private func capture(_ node: PathNode, _ p: inout SimPacket, outgoing: Bool,
                         writing write: (inout CommentText) -> Void) {
        guard p.flow < seenFlows, observer != nil, let point = capturePoint(node) else { return }
        commentText.clear()
        if describesPackets { write(&commentText) }
        let text = commentText.utf8
        withObserver { $0.seen(point: point, time: scheduler.now, packet: p, outgoing: outgoing, comment: text) }
    }

    /// Where `capture(_:_:outgoing:writing:)` writes its comments.
    private var commentText = CommentText()

    @inline(__always)
    private func capturePoint(_ node: PathNode) -> Int? {
        switch node {
        case .eni(let e): return eniPoint[e]
        case .natGateway(let n, _): return natPoint[n]
        case .internetGateway(let g, _): return igwPoint[g]
        case .outsideHost(let h): return hostPoint[h]
        }
    }

    // MARK: Fused hops

    /// Packets of flows numbered this and up (a run's generated flows: no ladder, no traced path) cross an
    /// internet gateway without an event of their own when nothing there can depend on what happens while they
    /// are on their way to it and nothing captures them there: the gateway's work (a static 1:1 translation, the
    /// stateless NACL of the subnet behind it) is done as the packet leaves the hop before, and the packet goes
    /// on to the hop after with the two delays added. Every packet, time and record is the same as with the
    /// gateway's own event, and so is the order of events: a fusable flow's packet keeps the sequence numbers of
    /// a fused hop when its hop is not fused (`schedule`), so the capture selection never changes the
    /// simulation. Int.max (the default) fuses nothing.
    ///
    /// A captured gateway keeps its event: its record would have to wait for its time and its place among the
    /// point's other records, which cost as much as the event it saves (tried: a capture deferred in time order
    /// took 300 instructions a record between keeping and merging it, against some 230 for the event).
    var fusesFlowsFrom = Int.max

    /// Whether capture point i's records are written (`--capture` may choose some; empty: all are); a point
    /// nobody writes needs no record, and its gateway's hop can be fused.
    public var capturesPoint: [Bool] = [] {
        didSet { noteCapturedGateways() }
    }

    /// Whether each internet gateway's and NAT gateway's capture point is written (for the flows `seenFlows` lets
    /// through).
    private var igwCaptured: [Bool] = []
    private var natCaptured: [Bool] = []

    private func noteCapturedGateways() {
        let captured = { (point: Int) in self.observer != nil && (point >= self.capturesPoint.count || self.capturesPoint[point]) }
        igwCaptured = igwPoint.map(captured)
        natCaptured = natPoint.map(captured)
    }

    /// Whether `p`'s crossing of internet gateway `g` may be fused (`fusesFlowsFrom`; the rest of the conditions
    /// in `fusedInternetGateway`): checked inline, as it is for every packet to or from a gateway.
    @inline(__always)
    private func fusesGateway(_ g: Int, _ p: SimPacket) -> Bool { fuses(p, capturedThere: igwCaptured[g]) }

    /// Whether a hop of `p` whose capture point is `capturedThere` may be fused.
    @inline(__always)
    private func fuses(_ p: SimPacket, capturedThere: Bool) -> Bool {
        fusesHops && fusable(p) && (p.flow >= seenFlows || !capturedThere)
    }

    /// Whether `p`'s flow is one whose hops may be fused (a generated flow's untraced packet): its packets keep
    /// the order of events of fused hops whether or not a hop is fused.
    @inline(__always)
    private func fusable(_ p: SimPacket) -> Bool { p.flow >= fusesFlowsFrom && !p.traced }

    /// False: no hop is fused, though fusable flows keep the order fused hops give (for tests: the outputs must be
    /// the same either way).
    var fusesHops = true

    /// The internet gateway `g`'s work for a packet that would arrive there `delay` from now, done now
    /// (`fusesFlowsFrom`; the caller has checked `fusesGateway`: a fusable flow, the gateway not captured).
    /// Returns where the packet goes next and after how long from now; nil, having changed nothing, when the
    /// gateway needs its own event: a packet the gateway or the NACL behind it drops, one whose next hop is a
    /// security group (stateful), one to an address no modeled host has.
    @inline(never)
    private func fusedInternetGateway(_ g: Int, toInternet: Bool, _ p: inout SimPacket,
                                      after delay: Int64) -> (PathNode, Int64)? {
        let delay = max(delay, 0)
        if toInternet {
            // As igwToInternet, for a packet to a modeled host.
            guard igwAttached[g], let pub = privateToPublic[p.ip.source],
                  let h = hostByAddress[p.ip.destination] else { return nil }
            translateToInternet(&p, publicAddress: pub)
            crossInternet(&p)
            return (.outsideHost(h), delay + max(hostOneWay[h], 0))
        }
        // As igwFromInternet, for a packet to a NAT gateway's address.
        guard let eni = publicToENI[p.ip.destination], tables.enis[eni].natGateway >= 0 else { return nil }
        let arrivedIP = p.ip
        translateFromInternet(&p, to: eni)
        let aclIndex = Int(tables.subnets[Int(tables.enis[eni].subnet)].networkACL)
        guard tables.naclDecision(aclIndex, .inbound, p.key).allowed else {
            p.ip = arrivedIP
            return nil
        }
        return (.natGateway(Int(tables.enis[eni].natGateway), fromInside: false),
                delay + max(assumptions.vpcHopLatency, 0))
    }

    // MARK: Fused NAT departures

    /// Whether the departure of `p` from NAT gateway `n` after its processing time may be worked out in the event
    /// of its arrival (`fusedNATDeparture`): a generated flow's untraced packet that nothing captures there.
    @inline(__always)
    private func fusesNATDeparture(_ n: Int, _ p: SimPacket) -> Bool { fuses(p, capturedThere: natCaptured[n]) }

    /// What a fused departure leaves for its own time (`time`, and `seq`, the sequence number its event would
    /// have had): the NAT gateway's count of bytes out (its metrics are per minute, and its peak of active
    /// connections is read as each packet is counted) and the flow logs' view of the packet leaving its ENI. Run
    /// in the order of events (`runDeferredDepartures`): before the next network event after it (the only events
    /// that change a NAT gateway's state) and before any flow-log observation after it (the only other reader),
    /// and at the end of the run, or of `Scheduler.run(until:)` for those due by its limit; the metrics and the flow
    /// logs are the same, to the byte, as with the departure's own event.
    private struct DeferredDeparture {
        var time: Int64
        var seq: UInt64
        var nat: Int32
        var size: Int32
        /// For the flow-log thread, when there is one.
        var observation: InterfaceObservation
    }
    /// Fused departures waiting for their time: all delayed by the same processing time, so in time order.
    private var deferredDepartures = RawVec<DeferredDeparture>(capacity: 64)
    private var deferredHead = 0
    /// The first waiting departure's time (.max: none), so that an event checks one number.
    private var nextDeferredDeparture: Int64 = .max

    /// A packet from a NAT gateway's private side, translated (`natReceive`), leaving the gateway: done now, its
    /// counts and flow-log record deferred to its time, when the way on is stateless (the public subnet's route
    /// and NACL: no security group to pass) and nothing drops it; then forwarded with the two delays added (and
    /// through the internet gateway too, when that is fused). False, having changed nothing, when the departure
    /// needs its event.
    private func fusedNATDeparture(_ n: Int, _ p: inout SimPacket, size: Int) -> Bool {
        // Interfaces observed by anything but the flow-log thread: the departure keeps its event.
        guard observer == nil || (recorder.map { r in r { !$0.otherInterfaceObservers } } ?? false) else { return false }
        var securityGroupAt = -1
        let t = memoizedTransit(Int(tables.natSubnet[n]), &p, p.key, securityGroupAt: &securityGroupAt)
        guard !t.dropped, securityGroupAt < 0, let next = t.next else { return false }
        let time = scheduler.now + max(assumptions.natProcessing, 0)
        deferredDepartures.append(DeferredDeparture(
            time: time, seq: scheduler.drawSequence(), nat: Int32(n), size: Int32(truncatingIfNeeded: size),
            observation: InterfaceObservation(eni: Int(tables.natENI[n]), time: time, packet: p, egress: true,
                                              accepted: true)))
        if nextDeferredDeparture == .max { nextDeferredDeparture = deferredDepartures[deferredHead].time }
        forwarded = true
        schedule(firing, &p, to: next, after: max(assumptions.natProcessing, 0) + t.delay, carried: .max)
        return true
    }

    /// Runs the fused departures due before the running event.
    @inline(__always)
    private func runDeferredDepartures() {
        if scheduler.now >= nextDeferredDeparture {
            runDeferred(before: scheduler.now, seq: scheduler.currentSeqKind >> 2)
        }
    }

    /// Runs the fused departures due at or before `time` (`Scheduler.run(until:)`: every event up to it has run,
    /// and every event after it is later).
    func runDeferredDepartures(upTo time: Int64) {
        if time >= nextDeferredDeparture { runDeferred(before: time, seq: .max) }
    }

    /// Runs every fused departure still waiting (at the end of a run).
    func runAllDeferredDepartures() {
        runDeferred(before: .max, seq: .max)
    }

    @inline(never)
    private func runDeferred(before time: Int64, seq: UInt64) {
        while deferredHead < deferredDepartures.count {
            let d = deferredDepartures.pointer(deferredHead)
            guard d.pointee.time < time || (d.pointee.time == time && d.pointee.seq < seq) else { break }
            countDeparture(Int(d.pointee.nat), at: d.pointee.time, fromInside: true, size: Int(d.pointee.size))
            if let r = recorder { r { $0.soleFlowLogThread?({ $0.observe(d.pointee.observation) }) } }
            deferredHead += 1
        }
        if deferredHead == deferredDepartures.count {
            deferredDepartures.removeAll()
            deferredHead = 0
            nextDeferredDeparture = .max
        } else {
            if deferredHead >= 4096 {
                deferredDepartures.removeFirst(deferredHead)
                deferredHead = 0
            }
            nextDeferredDeparture = deferredDepartures[deferredHead].time
        }
    }

    // MARK: Helpers

    private func igwFor(eni: Int) -> Int? {
        model.vpcs[model.subnets[model.enis[eni].subnet].vpc].internetGateway
    }

    private func sgIDs(_ e: ENI) -> String { e.securityGroups.map { model.securityGroups[$0].id }.joined(separator: ",") }
    private func sgDisplay(_ e: ENI) -> String {
        e.securityGroups.map { model.securityGroups[$0].display }.joined(separator: ", ")
    }

    func describe(_ t: Route.Target) -> String {
        switch t {
        case .local: return "local"
        case .internetGateway(let g): return model.internetGateways[g].id
        case .natGateway(let n): return model.natGateways[n].id
        case .networkInterface(let e): return model.enis[e].id
        case .peering(let p), .notModeled(let p): return p
        case .peeringConnection(let k): return model.peeringConnections[k].id
        case .blackhole: return "blackhole"
        }
    }

    private func setSourcePort(_ p: inout SimPacket, _ port: UInt16) {
        switch p.transport {
        case .tcp(var t): t.sourcePort = port; p.transport = .tcp(t)
        case .udp(var u): u.sourcePort = port; p.transport = .udp(u)
        default: break
        }
    }

    private func setDestinationPort(_ p: inout SimPacket, _ port: UInt16) {
        switch p.transport {
        case .tcp(var t): t.destinationPort = port; p.transport = .tcp(t)
        case .udp(var u): u.destinationPort = port; p.transport = .udp(u)
        default: break
        }
    }

    /// NAT metrics per gateway, in model order: totals, and per minute of virtual time (the minutes anything was
    /// counted in, by their number from the start).
    public var natMetrics: [NATMetrics] { nats.map(\.metrics) }
    public var natMetricsPerMinute: [[(minute: Int, metrics: NATMetrics)]] { nats.map(\.perMinute) }
}

extension NATGateway.OutboundResult {
    var isUnsupported: Bool { if case .unsupportedProtocol = self { return true } else { return false } }
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
