import Packets

/// An instance that forwards packets: a router or firewall appliance a route sends traffic to (its ENI or the
/// instance as the route's target), or a NAT instance's forwarding half. A packet that reaches an instance's ENI
/// addressed to someone else meets EC2's source/destination check first: on (the default), the ENI drops it ("the
/// instance must be the source or destination of any traffic it sends or receives", EC2-UG using-eni,
/// Source/destination checking); off, the instance's operating system decides (`Instance.Forwarding`): not a
/// router, it drops it; a router forwards it; a stateful firewall forwards the packets of connections it saw open
/// and drops a TCP segment whose connection's SYN it never saw — the return leg of an asymmetric path (the
/// instance keeps one connection table over all its interfaces). A forwarded packet leaves, one hop further
/// (TTL − 1), through the interface the instance's own routing picks (`egress`, `Assumptions.applianceEgress`:
/// by default the one whose subnet holds the destination, else the primary), past that interface's
/// source/destination check (on, it drops a packet whose source is not its address), its security groups'
/// egress, its subnet's route table and NACL. `check` is what the dispatcher calls; `step` names the instance and
/// the reason.
final class Appliance {
    /// Per ENI: the instance it belongs to (-1: none).
    private let instanceOf: [Int32]
    /// Per ENI of an instance: its source/destination check.
    private let checks: [Bool]
    /// Per ENI: its IPv6 address's token (`IPv6Token`), interned here, with the network, not per forwarded packet.
    private let ipv6Tokens: [IPv4Address?]
    /// Per instance: its ENIs' subnets' CIDR blocks and the ENIs, by device index, from `legStart[k]` to
    /// `legStart[k + 1]` (plain arrays: read for every forwarded packet).
    private let legStart: [Int32]
    private let legCIDR: [IPv4CIDR]
    private let legENI: [Int32]
    private let egressMode: Assumptions.ApplianceEgress
    /// Connections a stateful appliance saw open, by the instance's primary ENI and canonical key, with their
    /// close (tracked as security groups track theirs: `SecurityGroup.follow`).
    private let connections = HashTable<SecurityGroup.TrackedKey, SecurityGroup.Tracked>()
    private let model: VPCModel

    init(_ model: VPCModel, egress: Assumptions.ApplianceEgress = .connected) {
        self.model = model
        egressMode = egress
        ipv6Tokens = model.enis.map { $0.ipv6Address.map(IPv6Token.intern) }
        var owner = [Int32](repeating: -1, count: model.enis.count)
        var check = [Bool](repeating: true, count: model.enis.count)
        var start: [Int32] = [], cidrs: [IPv4CIDR] = [], enis: [Int32] = []
        for (k, i) in model.instances.enumerated() {
            start.append(Int32(enis.count))
            owner[i.eni] = Int32(k)
            check[i.eni] = i.sourceDestCheck
            cidrs.append(model.subnets[model.enis[i.eni].subnet].cidr)
            enis.append(Int32(i.eni))
            for (e, c) in zip(i.secondaryENIs, i.secondarySourceDestCheck) {
                owner[e] = Int32(k)
                check[e] = c
                cidrs.append(model.subnets[model.enis[e].subnet].cidr)
                enis.append(Int32(e))
            }
        }
        start.append(Int32(enis.count))
        instanceOf = owner
        checks = check
        legStart = start
        legCIDR = cidrs
        legENI = enis
    }

    /// The interface instance `eni`'s packet for `destination` leaves by (`Assumptions.applianceEgress`): the
    /// one whose subnet holds the destination (the connected route of a Linux instance with an interface in
    /// that subnet), else the primary (its default route, through eth0); or the one it arrived on.
    func egress(_ eni: Int, _ destination: IPv4Address) -> Int {
        let k = Int(instanceOf[eni])
        let from = Int(legStart[k]), to = Int(legStart[k + 1])
        if to - from == 1 || egressMode == .arrival { return eni }
        for j in from..<to where legCIDR[j].contains(destination) { return Int(legENI[j]) }
        return Int(legENI[from])
    }

    /// Whether instance `eni`'s has other interfaces (its steps then name the interface).
    private func hasSeveral(_ eni: Int) -> Bool {
        let k = Int(instanceOf[eni])
        return legStart[k + 1] - legStart[k] > 1
    }

    /// Interface `eni`'s source/destination check for a forwarded packet leaving it with `source` (nil when it
    /// lets it out): on, the interface sends only what it is the source of.
    func checkEgress(_ eni: Int, source: IPv4Address) -> Verdict? {
        guard checks[eni], source != model.enis[eni].privateIP,
              !source.isIPv6Token || ipv6Tokens[eni] != source else { return nil }
        return Self.drop(.sourceDestCheckEgress)
    }

    /// Whether `eni` is an instance's (and so may be sent packets for other addresses by a route).
    @inline(__always)
    func isInstance(_ eni: Int) -> Bool { instanceOf[eni] >= 0 }

    /// What decided, as a verdict's `reason` (`step(_:_:of:)` says it in words).
    enum Reason: Int32 {
        case sourceDestCheck, notARouter, router, nat, trackedConnection, noState, newConnection, ttlExceeded
        case sourceDestCheckEgress
    }

    /// What instance `eni`'s check and operating system do with a packet addressed to someone else.
    func check(_ eni: Int, _ key: PacketKey, _ marks: TCPSegmentMarks?, traced: Bool) -> Verdict {
        let instance = model.instances[Int(instanceOf[eni])]
        if checks[eni] { return Self.drop(.sourceDestCheck) }
        let tracking = instance.eni  // one connection table per instance, whichever interface a packet uses
        switch instance.forwarding {
        case .off:
            return Self.drop(.notARouter)
        case .router:
            return Verdict(allowed: true, recorded: traced, reason: Reason.router.rawValue)
        case .nat:
            return Self.drop(.nat)
        case .stateful:
            if SecurityGroup.follow(connections, tracking, key, marks) {
                return Verdict(allowed: true, recorded: traced, reason: Reason.trackedConnection.rawValue)
            }
            if key.proto == .tcp, let m = marks, !(m.flags.contains(.syn) && !m.flags.contains(.ack)) {
                return Self.drop(.noState)
            }
            SecurityGroup.track(connections, tracking, key)
            return Verdict(allowed: true, recorded: traced, reason: Reason.newConnection.rawValue)
        }
    }

    /// A router does not forward a packet whose TTL runs out (RFC 1812 5.3.1; the ICMP time exceeded it would
    /// send is not modeled): a routing loop through appliances ends there.
    static func ttlExceeded(_ ttl: UInt8) -> Verdict {
        Verdict(allowed: false, recorded: true, reason: Reason.ttlExceeded.rawValue, detail: Int32(ttl))
    }

    private static func drop(_ r: Reason) -> Verdict { Verdict(allowed: false, recorded: true, reason: r.rawValue) }

    /// The step instance `eni` records for verdict `v` on a packet with `key`.
    func step(_ eni: Int, _ key: PacketKey, of v: Verdict) -> Step {
        let instance = model.instances[Int(instanceOf[eni])]
        switch Reason(rawValue: v.reason)! {
        case .sourceDestCheck:
            return step(eni, action: .dropped,
                rule: "source/destination check\(of(eni)): \(key.destination) is not \(model.enis[eni].privateIP)",
                detail: "the ENI drops traffic for other addresses unless the check is off")
        case .sourceDestCheckEgress:
            return step(eni, action: .dropped,
                rule: "source/destination check\(of(eni)): source \(key.source) is not \(model.enis[eni].privateIP)",
                detail: "the ENI drops traffic it is not the source of unless the check is off")
        case .notARouter:
            return step(eni, action: .dropped, rule: "not a router",
                        detail: "the instance does not forward packets (forwarding: off)")
        case .router:
            return step(eni, action: .forwarded, rule: "forwarded (router)")
        case .nat:
            return step(eni, action: .notModeled, rule: "source NAT by \(instance.id)",
                        detail: "a NAT instance's translation: not modeled")
        case .trackedConnection:
            return step(eni, action: .forwarded, rule: "forwarded (connection it saw open)")
        case .noState:
            return step(eni, action: .dropped, rule: "no connection state for \(key.description)",
                        detail: "a stateful appliance drops a TCP segment of a connection whose SYN it did not see "
                            + "(asymmetric path)")
        case .newConnection:
            return step(eni, action: .forwarded, rule: "forwarded (new connection)")
        case .ttlExceeded:
            return step(eni, action: .dropped, rule: "TTL exceeded in transit",
                        detail: "TTL \(v.detail) at \(instance.id)")
        }
    }

    /// " of eni-…" for an interface of an instance with several, else "".
    private func of(_ eni: Int) -> String { hasSeveral(eni) ? " of \(model.enis[eni].id)" : "" }

    /// The id of instance `eni`'s instance.
    func instanceID(_ eni: Int) -> String { model.instances[Int(instanceOf[eni])].id }

    /// The step instance `eni` records.
    func step(_ eni: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        let instance = model.instances[Int(instanceOf[eni])]
        return Step(kind: .appliance, component: instance.id, componentDisplay: instance.display, action: action,
                    rule: rule, detail: detail)
    }
}
