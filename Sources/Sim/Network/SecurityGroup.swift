import Packets

/// The security groups of the ENIs: stateful filters, each ENI's groups allowing the union of their rules
/// (VPC-UG security-groups), egress rules matching the destination and ingress rules the source. A connection
/// a rule lets out (or in) is tracked at that ENI, and its packets either way pass without a rule
/// (EC2-UG security-group-connection-tracking): the reply to an allowed request always gets through the group
/// that let the request go. One table of tracked connections serves every ENI (an array of tables would retain
/// and release the ENI's table at each lookup). `check` is what the dispatcher calls for a packet leaving an ENI
/// (`.outbound`, egress) or arriving at one (`.inbound`, ingress), and `step` names the rule as the console
/// lists it under the group's tab ("sg-0ab… (lambda-sg) egress: ALLOW tcp 443 0.0.0.0/0").
final class SecurityGroup {
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

    /// Tracked connections, keyed by ENI and the connection's canonical key (`canonical`), with their close so
    /// far and whether the opener's direction is the canonical one.
    private let tracked = HashTable<TrackedKey, Tracked>()
    /// Whether each ENI has any group (a NAT gateway's ENI has none: nothing to check).
    private let hasGroups: [Bool]
    private let model: VPCModel

    init(_ model: VPCModel) {
        self.model = model
        hasGroups = model.enis.map { !$0.securityGroups.isEmpty }
    }

    /// The verdict of `eni`'s groups on a packet leaving it (`.outbound`) or arriving at it (`.inbound`): a
    /// tracked connection's packet passes, a new one needs a rule and is then tracked. `marks`: the packet's TCP
    /// flags and sequence numbers, for following the connection's close.
    @inline(__always)
    func check(_ eni: Int, _ direction: Direction, _ key: PacketKey, _ marks: TCPSegmentMarks?,
               traced: Bool) -> Verdict {
        guard hasGroups[eni] else { return .pass }
        if followTracked(eni, key, marks) {
            return Verdict(allowed: true, recorded: traced, reason: Self.trackedReason)
        }
        return checkRules(eni, direction, key, traced: traced)
    }

    /// A verdict's `reason`: a tracked connection's packet; else no rule allowed it (`noRuleReason`), or
    /// the index of the group that did, with the rule's index in its list in `detail`.
    private static let trackedReason: Int32 = -2
    private static let noRuleReason: Int32 = -1

    /// A packet of no tracked connection: the rules decide.
    @inline(never)
    private func checkRules(_ eni: Int, _ direction: Direction, _ key: PacketKey, traced: Bool) -> Verdict {
        let peer = direction == .inbound ? key.source : key.destination
        for g in model.enis[eni].securityGroups {
            let rules = direction == .inbound ? model.securityGroups[g].ingress : model.securityGroups[g].egress
            for (i, rule) in rules.enumerated() where SecurityGroupEvaluator.matches(model, rule, key, peer: peer) {
                track(eni, key)
                return Verdict(allowed: true, recorded: traced, reason: Int32(g), detail: Int32(i))
            }
        }
        return Verdict(allowed: false, recorded: true, reason: Self.noRuleReason)
    }

    /// The step `eni`'s groups record for verdict `v` of their `check` on a packet with `key`.
    func step(_ eni: Int, _ direction: Direction, _ key: PacketKey, of v: Verdict) -> Step {
        switch v.reason {
        case Self.trackedReason:
            return trackedStep(eni, direction)
        case Self.noRuleReason:
            let ports = key.hasPorts ? "\(key.destinationPort) " : ""
            let rule = direction == .outbound ? "no egress rule allows \(key.proto) \(ports)to \(key.destination)"
                : "no ingress rule allows \(key.proto) \(ports)from \(key.source)"
            return step(eni, direction, action: .denied, rule: rule)
        default:
            let g = Int(v.reason)
            let rules = direction == .inbound ? model.securityGroups[g].ingress : model.securityGroups[g].egress
            return Step(kind: direction == .outbound ? .securityGroupEgress : .securityGroupIngress,
                        component: model.securityGroups[g].id, componentDisplay: model.securityGroups[g].display,
                        action: .allowed,
                        rule: SecurityGroupEvaluator.describe(model, group: g, direction, rules[Int(v.detail)]))
        }
    }

    /// A step at the groups of `eni`, all of them named.
    func step(_ eni: Int, _ direction: Direction, action: Step.Action, rule: String) -> Step {
        let groups = model.enis[eni].securityGroups
        return Step(kind: direction == .outbound ? .securityGroupEgress : .securityGroupIngress,
                    component: groups.map { model.securityGroups[$0].id }.joined(separator: ","),
                    componentDisplay: groups.map { model.securityGroups[$0].display }.joined(separator: ", "),
                    action: action, rule: rule)
    }

    private func trackedStep(_ eni: Int, _ direction: Direction) -> Step {
        step(eni, direction, action: .allowed, rule: "tracked connection (reply or continuation)")
    }

    /// Whether `key` belongs to a connection tracked at `eni` (either way); follows its close. The entry goes
    /// when both FINs have been acknowledged, each by the other side (`TCPCloseState`: with the last ACK of a
    /// close one side began, with the second of the two ACKs when the FINs crossed), or with an RST. AWS documents
    /// idle timeouts for established tracked connections, not what happens at a close (EC2-UG
    /// security-group-connection-tracking; aws-semantics §1): the model frees the entry once the close is
    /// complete (memory follows open connections), never before its last packet.
    @inline(__always)
    private func followTracked(_ eni: Int, _ key: PacketKey, _ marks: TCPSegmentMarks?) -> Bool {
        Self.follow(tracked, eni, key, marks)
    }

    /// Whether `key` belongs to a connection `table` holds for `eni` (either way), following its close: the entry
    /// goes with an RST or when the close is complete. Security groups and stateful appliances track alike.
    @inline(__always)
    static func follow(_ table: HashTable<TrackedKey, Tracked>, _ eni: Int, _ key: PacketKey,
                       _ marks: TCPSegmentMarks?) -> Bool {
        let (canonical, forward) = Self.canonical(key)
        guard let slot = table.find(TrackedKey(key: canonical, eni: Int32(eni))) else { return false }
        guard let m = marks else { return true }
        let entry = table.value(at: slot)
        if m.flags.contains(.rst) || entry.pointee.close.follow(m, fromA: entry.pointee.openerForward == forward) {
            table.remove(at: slot)
        }
        return true
    }

    /// Whether `key` (either way) is a connection tracked at `eni`, changing nothing.
    func isTracked(_ eni: Int, _ key: PacketKey) -> Bool {
        tracked.find(TrackedKey(key: Self.canonical(key).key, eni: Int32(eni))) != nil
    }

    /// Connections tracked, over every ENI.
    var trackedConnections: Int { tracked.count }

    /// Starts tracking the connection `key` opens at `eni`.
    private func track(_ eni: Int, _ key: PacketKey) { Self.track(tracked, eni, key) }

    /// Starts tracking in `table` the connection `key` opens at `eni`.
    static func track(_ table: HashTable<TrackedKey, Tracked>, _ eni: Int, _ key: PacketKey) {
        let (canonical, forward) = Self.canonical(key)
        table[TrackedKey(key: canonical, eni: Int32(eni))] = Tracked(openerForward: forward)
    }

    /// A connection's key in one of its two directions, the same for both (the lower address and port as the
    /// source), so that a packet either way finds its entry in one lookup; `forward`: `key` is that direction.
    @inline(__always)
    private static func canonical(_ key: PacketKey) -> (key: PacketKey, forward: Bool) {
        let a = UInt64(key.source.rawValue) << 16 | UInt64(key.sourcePort)
        let b = UInt64(key.destination.rawValue) << 16 | UInt64(key.destinationPort)
        return a <= b ? (key, true) : (key.reversed, false)
    }
}

public struct SGDecision: Sendable, Equatable {
    /// The group and rule that allowed, or nil when nothing did.
    public var group: Int?
    public var rule: SecurityGroupRule?
    public var allowed: Bool { rule != nil }
}

public enum SecurityGroupEvaluator {
    /// Security groups only allow; the rules of every group on the ENI are unioned (VPC-UG security-groups).
    /// Egress rules match the destination, ingress rules the source; a rule naming another group matches the
    /// private IPs of ENIs that carry it (VPC-UG security-group-rules).
    public static func evaluate(_ model: VPCModel, groups: [Int], _ direction: Direction,
                                _ key: PacketKey) -> SGDecision {
        let peer = direction == .inbound ? key.source : key.destination
        for g in groups {
            let rules = direction == .inbound ? model.securityGroups[g].ingress : model.securityGroups[g].egress
            for rule in rules where matches(model, rule, key, peer: peer) {
                return SGDecision(group: g, rule: rule)
            }
        }
        return SGDecision(group: nil, rule: nil)
    }

    static func matches(_ model: VPCModel, _ rule: SecurityGroupRule, _ key: PacketKey, peer: IPv4Address) -> Bool {
        guard rule.proto.matches(key.proto) else { return false }
        if key.hasPorts, let ports = rule.ports, !ports.contains(key.destinationPort) { return false }
        switch rule.peer {
        case .cidr(let c): return c.contains(peer)
        case .prefixList(_, let cidrs): return cidrs.contains { $0.contains(peer) }
        case .securityGroup(let g):
            return model.enis.contains { $0.privateIP == peer && $0.securityGroups.contains(g) }
        }
    }

    /// The rule as the console lists it under the group's egress or ingress tab: "ALLOW tcp 443 0.0.0.0/0".
    public static func describe(_ model: VPCModel, group: Int, _ direction: Direction, _ rule: SecurityGroupRule) -> String {
        var s = "ALLOW " + rule.proto.consoleName
        if case .number(let p) = rule.proto, p == .tcp || p == .udp { s += " " + (rule.ports ?? .all).description }
        switch rule.peer {
        case .cidr(let c): s += " \(c)"
        case .prefixList(let id, _): s += " \(id)"
        case .securityGroup(let g): s += " \(model.securityGroups[g].id)"
        }
        return s
    }
}

