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
        /// When its last packet passed (ns): the idle timer is read lazily, at the next packet's lookup.
        var last: Int64 = 0
        /// UDP: a reply seen (1), then a packet from the opener after it (2): a stream (UdpStreamTimeout).
        var udpSeen: UInt8 = 0
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
    /// Each ENI's idle timeouts (`ConnectionTracking`), nanoseconds, and why its TCP one is what it is.
    private let timeouts: [IdleTimeouts]
    /// The table's size at which expired entries are swept out (lookups expire only the entries they meet).
    private var sweepAt = 4096
    /// Whether flows AWS does not track are left untracked (`Assumptions.sgUntrackedFlows`).
    private let untrackedFlows: Bool
    /// Per ENI, bit 0 TCP, bit 1 UDP (IPv4; bits 2 and 3 the same for IPv6): its groups together have an egress
    /// (`allEgress`) or ingress (`allIngress`) rule allowing that protocol on every port (0-65535) to or from
    /// 0.0.0.0/0 (::/0): the "corresponding rule in the other direction that permits all response traffic" of an
    /// untracked flow (`untracked`).
    private let allEgress: [UInt8]
    private let allIngress: [UInt8]
    /// Per ENI: AWS tracks its connections whatever its rules (`untracked`): a Lambda function's Hyperplane ENI,
    /// an interface endpoint's (EC2-UG security-group-connection-tracking, "Automatically tracked connections":
    /// "AWS Lambda (Hyperplane elastic network interfaces)", "AWS PrivateLink (interface VPC endpoints)").
    private let alwaysTracked: [Bool]
    /// Whether a connection of ENI `eni` with `remote` goes through a component through which AWS always tracks
    /// (a NAT gateway, an egress-only internet gateway, a transit gateway attachment, an interface endpoint): set
    /// by the network, which routes;
    /// nil (a table used on its own) for none.
    var throughTrackingComponent: ((_ eni: Int, _ remote: IPv4Address) -> Bool)?

    /// The tracked state the last `check` found expired: its idle timeout and when its last packet passed, for
    /// the step that follows the check.
    private var expired = (timeout: Int64(0), last: Int64(0), eni: 0, proto: IPProtocol.tcp)

    struct IdleTimeouts {
        var tcp, udp, udpStream, other: Int64
        /// Why the TCP timeout: the default, Nitro v6's, or the ENI's own (`connection_tracking`). (Not a String:
        /// the timeouts are read at every tracked packet, and plain data is read without retaining anything.)
        var tcpBasis: Basis

        enum Basis: UInt8 {
            case standard, nitroV6, eni
            var text: String { self == .standard ? "default" : self == .nitroV6 ? "Nitro v6" : "connection_tracking" }
        }

        @inline(__always)
        func of(_ proto: IPProtocol, udpStream stream: Bool) -> Int64 {
            proto == .tcp ? tcp : proto == .udp ? (stream ? udpStream : udp) : other
        }
    }

    init(_ model: VPCModel, assumptions a: Assumptions = Assumptions()) {
        self.model = model
        hasGroups = model.enis.map { !$0.securityGroups.isEmpty }
        untrackedFlows = a.sgUntrackedFlows
        allEgress = model.enis.map { Self.allPortsEverywhere(model, $0.securityGroups, .outbound) }
        allIngress = model.enis.map { Self.allPortsEverywhere(model, $0.securityGroups, .inbound) }
        alwaysTracked = model.enis.map { e in
            switch e.owner {
            case .lambda, .vpcEndpoint: true
            case .instance, .natGateway: false
            }
        }
        timeouts = model.enis.map { e in
            let c = e.connectionTracking
            let nitroV6: Bool
            if case .instance(let k) = e.owner { nitroV6 = model.instances[k].nitroV6 } else { nitroV6 = false }
            let s: Int64 = 1_000_000_000
            return IdleTimeouts(
                tcp: c.tcpEstablishedTimeout.map { Int64($0) * s }
                    ?? (nitroV6 ? a.sgTCPEstablishedTimeoutNitroV6 : a.sgTCPEstablishedTimeout),
                udp: c.udpTimeout.map { Int64($0) * s } ?? a.sgUDPTimeout,
                udpStream: c.udpStreamTimeout.map { Int64($0) * s } ?? a.sgUDPStreamTimeout,
                other: a.sgOtherTimeout,
                tcpBasis: c.tcpEstablishedTimeout != nil ? .eni : nitroV6 ? .nitroV6 : .standard)
        }
    }

    /// The verdict of `eni`'s groups on a packet leaving it (`.outbound`) or arriving at it (`.inbound`): a
    /// tracked connection's packet passes, a new one needs a rule and is then tracked. `marks`: the packet's TCP
    /// flags and sequence numbers, for following the connection's close.
    @inline(__always)
    func check(_ eni: Int, _ direction: Direction, _ key: PacketKey, _ marks: TCPSegmentMarks?, now: Int64,
               traced: Bool) -> Verdict {
        guard hasGroups[eni] else { return .pass }
        switch followTracked(eni, key, marks, now: now) {
        case .tracked: return Verdict(allowed: true, recorded: traced, reason: Self.trackedReason)
        case .untracked: return checkRules(eni, direction, key, marks?.flags, now: now, traced: traced, expired: false)
        case .expired: return checkRules(eni, direction, key, marks?.flags, now: now, traced: traced, expired: true)
        }
    }

    /// A verdict's `reason`: a tracked connection's packet; else no rule allowed it (`noRuleReason`; and its
    /// tracked state had expired: `expiredReason`), or the index of the group that did, with the rule's index in
    /// its list in `detail`.
    private static let trackedReason: Int32 = -2
    private static let noRuleReason: Int32 = -1
    private static let expiredReason: Int32 = -3

    /// A packet of no tracked connection (or of one whose state expired): the rules decide. A packet a rule
    /// allows is tracked anew, whichever its TCP flags (AWS tracks the flows its rules allow and documents no
    /// need for a SYN: a named simplification).
    @inline(never)
    private func checkRules(_ eni: Int, _ direction: Direction, _ key: PacketKey, _ flags: TCPFlags?, now: Int64,
                            traced: Bool, expired: Bool) -> Verdict {
        guard let (g, i) = SecurityGroupEvaluator.firstMatch(model, groups: model.enis[eni].securityGroups,
                                                             direction, key) else {
            return Verdict(allowed: false, recorded: true, reason: expired ? Self.expiredReason : Self.noRuleReason)
        }
        if untrackedFlows, untracked(eni, direction, key, flags) {
            return Verdict(allowed: true, recorded: traced, reason: Int32(g), detail: Int32(i) | Self.untrackedBit)
        }
        track(eni, key, now: now)
        return Verdict(allowed: true, recorded: traced, reason: Int32(g), detail: Int32(i))
    }

    /// Marks a verdict's `detail` (the rule's index): the rule allowed an untracked flow's packet.
    private static let untrackedBit: Int32 = 1 << 30

    /// Whether the flow of `key`, which a rule of `eni`'s groups allows `direction`, is one AWS does not track
    /// (EC2-UG security-group-connection-tracking, "Untracked connections"): "If a security group rule permits TCP
    /// or UDP flows for all traffic (0.0.0.0/0 or ::/0) and there is a corresponding rule in the other direction
    /// that permits all response traffic (0.0.0.0/0 or ::/0) for all ports (0-65535), then that flow of traffic
    /// is not tracked, unless it is part of an automatically tracked connection". Each family has its own rules:
    /// an IPv6 flow is untracked by `::/0` rules both ways, an IPv4 one by `0.0.0.0/0` ones. A SYN opens the flow and a
    /// SYN-ACK answers it; any other packet (UDP, TCP past its handshake), with no state to say which end opened
    /// the flow, is taken either way: as the opener's (a 0.0.0.0/0 rule `direction` permits it, every port is
    /// allowed back) or as a reply (a 0.0.0.0/0 rule the other way permits its reverse, every port is allowed
    /// `direction`); either way the rules let its packets through both ways. ICMP "is always tracked" (the page's
    /// example), and so is what goes through a NAT gateway, an egress-only internet gateway, a transit gateway
    /// attachment or an interface endpoint (the page's "Automatically tracked connections" list;
    /// `throughTrackingComponent`) and what a Lambda function's Hyperplane ENI carries (`alwaysTracked`). The
    /// groups of the ENI count together, as their rules do. An untracked flow's packets either way meet the rules,
    /// which allow them: no state is kept, so no idle timeout can expire it.
    @inline(__always)
    private func untracked(_ eni: Int, _ direction: Direction, _ key: PacketKey, _ flags: TCPFlags?) -> Bool {
        var bit: UInt8 = key.proto == .tcp ? 1 : key.proto == .udp ? 2 : 0
        guard bit != 0, !alwaysTracked[eni] else { return false }
        if key.source.isIPv6Token { bit <<= 2 }
        var this = (direction == .outbound ? allEgress[eni] : allIngress[eni]) & bit != 0
        var other = (direction == .outbound ? allIngress[eni] : allEgress[eni]) & bit != 0
        if let f = flags, f.contains(.syn) {
            if f.contains(.ack) { other = false } else { this = false }
        }
        guard this || other else { return false }
        return untrackedSlow(eni, direction, key, asOpener: other, asReply: this)
    }

    @inline(never)
    private func untrackedSlow(_ eni: Int, _ direction: Direction, _ key: PacketKey, asOpener: Bool,
                               asReply: Bool) -> Bool {
        let remote = direction == .outbound ? key.destination : key.source
        let opens = asOpener && permitsEverywhere(eni, direction, key, remote)
        guard opens || asReply && permitsEverywhere(eni, direction == .outbound ? .inbound : .outbound,
                                                    key.reversed, remote) else { return false }
        return !(throughTrackingComponent?(eni, remote) ?? false)
    }

    /// Whether a rule for 0.0.0.0/0 (for an IPv6 `remote`, ::/0) of `eni`'s groups permits `key` `direction`
    /// (`remote`: the far end).
    private func permitsEverywhere(_ eni: Int, _ direction: Direction, _ key: PacketKey, _ remote: IPv4Address) -> Bool {
        model.enis[eni].securityGroups.contains { g in
            if let address = remote.ipv6 {
                let rules = direction == .inbound ? model.securityGroups[g].ingressIPv6 : model.securityGroups[g].egressIPv6
                return rules.contains { Self.isEverywhere($0) && SecurityGroupEvaluator.matches6($0, key, peer: address) }
            }
            let rules = direction == .inbound ? model.securityGroups[g].ingress : model.securityGroups[g].egress
            return rules.contains { Self.isEverywhere($0) && SecurityGroupEvaluator.matches(model, $0, key, peer: remote) }
        }
    }

    /// A rule for 0.0.0.0/0.
    private static func isEverywhere(_ r: SecurityGroupRule) -> Bool {
        if case .cidr(let c) = r.peer { c.prefixLength == 0 } else { false }
    }

    /// A rule for ::/0.
    private static func isEverywhere(_ r: SecurityGroupIPv6Rule) -> Bool {
        if case .cidr(let c) = r.peer { c.prefixLength == 0 } else { false }
    }

    /// Bit 0 (TCP) and bit 1 (UDP): whether one of `groups` has a rule `direction` allowing the protocol on every
    /// port to or from 0.0.0.0/0 (a rule for all protocols allows both); bits 2 and 3 the same for ::/0.
    private static func allPortsEverywhere(_ model: VPCModel, _ groups: [Int], _ direction: Direction) -> UInt8 {
        var bits: UInt8 = 0
        func add(_ proto: ProtocolMatch, _ family: UInt8) {
            if proto.matches(.tcp) { bits |= 1 << family }
            if proto.matches(.udp) { bits |= 2 << family }
        }
        for g in groups {
            let rules = direction == .inbound ? model.securityGroups[g].ingress : model.securityGroups[g].egress
            for r in rules where isEverywhere(r) && (r.ports ?? .all).isAll { add(r.proto, 0) }
            let rules6 = direction == .inbound ? model.securityGroups[g].ingressIPv6 : model.securityGroups[g].egressIPv6
            for r in rules6 where isEverywhere(r) && (r.ports ?? .all).isAll { add(r.proto, 2) }
        }
        return bits
    }

    /// The step `eni`'s groups record for verdict `v` of their `check` on a packet with `key`.
    func step(_ eni: Int, _ direction: Direction, _ key: PacketKey, of v: Verdict) -> Step {
        switch v.reason {
        case Self.trackedReason:
            return trackedStep(eni, direction)
        case Self.noRuleReason, Self.expiredReason:
            let ports = key.hasPorts ? "\(key.destinationPort) " : ""
            var rule = direction == .outbound ? "no egress rule allows \(key.proto) \(ports)to \(key.destination)"
                : "no ingress rule allows \(key.proto) \(ports)from \(key.source)"
            if v.reason == Self.expiredReason { rule = expiryText(eni) + "; " + rule }
            return step(eni, direction, action: .denied, rule: rule)
        default:
            let g = Int(v.reason)
            let untracked = v.detail & Self.untrackedBit != 0
            return Step(kind: direction == .outbound ? .securityGroupEgress : .securityGroupIngress,
                        component: model.securityGroups[g].id, componentDisplay: model.securityGroups[g].display,
                        action: .allowed,
                        rule: SecurityGroupEvaluator.describe(model, group: g, direction,
                                                              index: Int(v.detail & ~Self.untrackedBit)),
                        detail: untracked ? "untracked flow: \(key.source.isIPv6Token ? "::/0" : "0.0.0.0/0") rules both "
                            + "ways, every port for the replies (EC2-UG security-group-connection-tracking)" : nil)
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
    ///
    /// A connection idle longer than its timeout (`IdleTimeouts`: by protocol, a UDP stream's own, the ENI's
    /// Nitro generation or `connection_tracking`) has no state any more: the entry goes at the lookup that finds
    /// it expired, silently (nothing is sent to either side), and the packet meets the rules as a new one
    /// (EC2 API ConnectionTrackingSpecification; GWLB-UG: Nitro v6 instances "silently drop connection state").
    @inline(__always)
    private func followTracked(_ eni: Int, _ key: PacketKey, _ marks: TCPSegmentMarks?, now: Int64) -> Lookup {
        let (canonical, forward) = Self.canonical(key)
        guard let slot = tracked.find(TrackedKey(key: canonical, eni: Int32(eni))) else { return .untracked }
        let entry = tracked.value(at: slot)
        let fromOpener = entry.pointee.openerForward == forward
        if key.proto == .udp, entry.pointee.udpSeen != 3 {
            entry.pointee.udpSeen |= fromOpener ? (entry.pointee.udpSeen & 1) << 1 : 1
        }
        let timeout = timeouts[eni].of(key.proto, udpStream: entry.pointee.udpSeen == 3)
        if now - entry.pointee.last > timeout { return expire(slot, eni, key.proto, timeout) }
        entry.pointee.last = max(entry.pointee.last, now)
        guard let m = marks else { return .tracked }
        if m.flags.contains(.rst) || entry.pointee.close.follow(m, fromA: fromOpener) {
            tracked.remove(at: slot)
        }
        return .tracked
    }

    enum Lookup { case tracked, untracked, expired }

    /// The tracked state in `slot` expired: it goes, and what it was is kept for the step (`expiryText`). Out of
    /// line: rare, and every packet's check inlines `followTracked`.
    @inline(never)
    private func expire(_ slot: Int, _ eni: Int, _ proto: IPProtocol, _ timeout: Int64) -> Lookup {
        expired = (timeout, tracked.value(at: slot).pointee.last, eni, proto)
        tracked.remove(at: slot)
        return .expired
    }

    /// How a step names a drop after expiry ("tracked state expired after 350 s idle (Nitro v6); no ingress rule …").
    static let expiredPrefix = "tracked state expired after "

    /// The expiry `check` just found, in words: "tracked state expired after 350 s idle (Nitro v6)".
    private func expiryText(_ eni: Int) -> String {
        let t = timeouts[eni]
        let basis: String
        switch expired.proto {
        case .tcp: basis = t.tcpBasis == .standard ? "" : " (\(t.tcpBasis.text))"
        case .udp: basis = expired.timeout == t.udpStream && t.udpStream != t.udp ? " (UDP stream)" : " (UDP)"
        default: basis = ""
        }
        return Self.expiredPrefix + "\(Self.seconds(expired.timeout)) s idle\(basis)"
    }

    private static func seconds(_ ns: Int64) -> String {
        ns % 1_000_000_000 == 0 ? String(ns / 1_000_000_000) : String(format: "%.3f", Double(ns) / 1e9)
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

    /// Starts tracking the connection `key` opens at `eni` at `now`. When the table has doubled since the last
    /// sweep, the entries idle past their timeout go first (lookups expire only the entries they meet): the
    /// table follows the connections alive, not every connection ever made.
    private func track(_ eni: Int, _ key: PacketKey, now: Int64) {
        if tracked.count >= sweepAt { sweep(now: now) }
        let (canonical, forward) = Self.canonical(key)
        tracked[TrackedKey(key: canonical, eni: Int32(eni))] = Tracked(openerForward: forward, last: now)
    }

    /// Removes every entry idle past its timeout at `now`.
    @inline(never)
    private func sweep(now: Int64) {
        var gone: [TrackedKey] = []
        tracked.forEach { k, v in
            if now - v.last > timeouts[Int(k.eni)].of(k.key.proto, udpStream: v.udpSeen == 3) { gone.append(k) }
        }
        for k in gone { tracked.removeValue(forKey: k) }
        sweepAt = max(4096, tracked.count * 2)
    }

    /// Starts tracking in `table` the connection `key` opens at `eni`.
    static func track(_ table: HashTable<TrackedKey, Tracked>, _ eni: Int, _ key: PacketKey) {
        let (canonical, forward) = Self.canonical(key)
        table[TrackedKey(key: canonical, eni: Int32(eni))] = Tracked(openerForward: forward)
    }

    /// A connection's key in one of its two directions, the same for both (the lower address and port as the
    /// source), so that a packet either way finds its entry in one lookup; `forward`: `key` is that direction.
    @inline(__always)
    static func canonical(_ key: PacketKey) -> (key: PacketKey, forward: Bool) {
        var key = key
        // An echo reply belongs to its request's connection (EC2-UG security-group-connection-tracking: ICMP is
        // tracked; the reply to an allowed ping passes): both are keyed as the request.
        // ICMPv6's echo reply (129) belongs to its request (128) the same way.
        if key.proto == .icmp, key.icmpCode == 0, key.icmpType == 0 || key.icmpType == 129 {
            key.icmpType = key.icmpType == 0 ? 8 : 128
        }
        let a = UInt64(key.source.rawValue) << 16 | UInt64(key.sourcePort)
        let b = UInt64(key.destination.rawValue) << 16 | UInt64(key.destinationPort)
        return a <= b ? (key, true) : (key.reversed, false)
    }
}

public struct SGDecision: Sendable, Equatable {
    /// The group and rule that allowed, or nil when nothing did.
    public var group: Int?
    public var rule: SecurityGroupRule?
    /// The IPv6 rule that allowed an IPv6 packet.
    public var rule6: SecurityGroupIPv6Rule? = nil
    public var allowed: Bool { rule != nil || rule6 != nil }
}

public enum SecurityGroupEvaluator {
    /// Security groups only allow; the rules of every group on the ENI are unioned (VPC-UG security-groups).
    /// Egress rules match the destination, ingress rules the source; a rule naming another group matches the
    /// private IPs of ENIs that carry it (VPC-UG security-group-rules).
    public static func evaluate(_ model: VPCModel, groups: [Int], _ direction: Direction,
                                _ key: PacketKey) -> SGDecision {
        guard let (g, i) = firstMatch(model, groups: groups, direction, key) else { return SGDecision(group: nil, rule: nil) }
        let rules = direction == .inbound ? model.securityGroups[g].ingress : model.securityGroups[g].egress
        if i >= rules.count {
            let rules6 = direction == .inbound ? model.securityGroups[g].ingressIPv6 : model.securityGroups[g].egressIPv6
            return SGDecision(group: g, rule: nil, rule6: rules6[i - rules.count])
        }
        return SGDecision(group: g, rule: rules[i])
    }

    /// The first group of `groups` (in order) with a rule allowing `key`, and that rule's index in the group's
    /// ingress or egress list (an IPv6 rule's: the list's count plus its index in `ingressIPv6`/`egressIPv6`);
    /// nil when none does. An IPv4 CIDR never matches an IPv6 packet, nor an IPv6 one an IPv4 packet (VPC-UG
    /// security-group-rules: a rule's source or destination is an IPv4 or an IPv6 CIDR block); a group
    /// reference matches either family's addresses of the ENIs in the group.
    @inline(__always)
    static func firstMatch(_ model: VPCModel, groups: [Int], _ direction: Direction,
                           _ key: PacketKey) -> (group: Int, index: Int)? {
        let peer = direction == .inbound ? key.source : key.destination
        for g in groups {
            let rules = direction == .inbound ? model.securityGroups[g].ingress : model.securityGroups[g].egress
            for (i, rule) in rules.enumerated() where matches(model, rule, key, peer: peer) { return (g, i) }
            if peer.isIPv6Token, let i = firstMatch6(model, group: g, direction, key, peer: peer) { return (g, rules.count + i) }
        }
        return nil
    }

    /// The index of group `g`'s first IPv6 rule allowing `key` (an IPv6 packet's), out of line.
    @inline(never)
    static func firstMatch6(_ model: VPCModel, group g: Int, _ direction: Direction, _ key: PacketKey,
                            peer: IPv4Address) -> Int? {
        guard let address = peer.ipv6 else { return nil }
        let rules = direction == .inbound ? model.securityGroups[g].ingressIPv6 : model.securityGroups[g].egressIPv6
        return rules.firstIndex { matches6($0, key, peer: address) }
    }

    /// Whether IPv6 rule `rule` allows `key`, an IPv6 packet whose far end is `address`.
    static func matches6(_ rule: SecurityGroupIPv6Rule, _ key: PacketKey, peer address: IPv6Address) -> Bool {
        // An IPv6 packet's ICMP is ICMPv6 (58), keyed `.icmp`: an `icmp` (1) rule never matches it.
        guard rule.proto != .number(.icmp) && rule.proto.matches(key.proto)
                || rule.proto == .number(.icmpv6) && key.proto == .icmp else { return false }
        if key.hasPorts, let ports = rule.ports, !ports.contains(key.destinationPort) { return false }
        if key.proto == .icmp {
            if let t = rule.icmpType, t != Int(key.icmpType) { return false }
            if let c = rule.icmpCode, c != Int(key.icmpCode) { return false }
        }
        switch rule.peer {
        case .cidr(let c): return c.contains(address)
        case .prefixList(_, let cidrs): return cidrs.contains { $0.contains(address) }
        }
    }

    static func matches(_ model: VPCModel, _ rule: SecurityGroupRule, _ key: PacketKey, peer: IPv4Address) -> Bool {
        guard rule.proto.matches(key.proto) else { return false }
        if key.hasPorts, let ports = rule.ports, !ports.contains(key.destinationPort) { return false }
        if key.proto == .icmp {
            // An ICMP rule's type and code (EC2 API: FromPort is the type, ToPort the code, -1 all).
            if let t = rule.icmpType, t != Int(key.icmpType) { return false }
            if let c = rule.icmpCode, c != Int(key.icmpCode) { return false }
        }
        switch rule.peer {
        case .cidr(let c): return !peer.isIPv6Token && c.contains(peer)
        case .prefixList(_, let cidrs): return !peer.isIPv6Token && cidrs.contains { $0.contains(peer) }
        case .securityGroup(let g):
            if peer.isIPv6Token {
                // The peer's address, looked up once (interning each ENI's took the token table's lock per ENI).
                guard let address = peer.ipv6 else { return false }
                return model.enis.contains { $0.ipv6Address == address && $0.securityGroups.contains(g) }
            }
            return model.enis.contains { $0.privateIP == peer && $0.securityGroups.contains(g) }
        }
    }

    /// Rule `index` of `firstMatch` as the console lists it.
    static func describe(_ model: VPCModel, group g: Int, _ direction: Direction, index i: Int) -> String {
        let rules = direction == .inbound ? model.securityGroups[g].ingress : model.securityGroups[g].egress
        if i < rules.count { return describe(model, group: g, direction, rules[i]) }
        let rules6 = direction == .inbound ? model.securityGroups[g].ingressIPv6 : model.securityGroups[g].egressIPv6
        return describe6(rules6[i - rules.count])
    }

    /// An IPv6 rule as the console lists it: "ALLOW tcp 22 ::/0".
    public static func describe6(_ rule: SecurityGroupIPv6Rule) -> String {
        var s = "ALLOW " + rule.proto.consoleName
        if case .number(let p) = rule.proto, p == .tcp || p == .udp { s += " " + (rule.ports ?? .all).description }
        if let t = rule.icmpType {
            s += " type \(t)"
            if let c = rule.icmpCode { s += " code \(c)" }
        }
        switch rule.peer {
        case .cidr(let c): s += " \(c)"
        case .prefixList(let id, _): s += " \(id)"
        }
        return s
    }

    /// The rule as the console lists it under the group's egress or ingress tab: "ALLOW tcp 443 0.0.0.0/0".
    public static func describe(_ model: VPCModel, group: Int, _ direction: Direction, _ rule: SecurityGroupRule) -> String {
        var s = "ALLOW " + rule.proto.consoleName
        if case .number(let p) = rule.proto, p == .tcp || p == .udp { s += " " + (rule.ports ?? .all).description }
        if let t = rule.icmpType {
            s += " type \(t)"
            if let c = rule.icmpCode { s += " code \(c)" }
        } else if let c = rule.icmpCode {
            s += " type all code \(c)"
        }
        switch rule.peer {
        case .cidr(let c): s += " \(c)"
        case .prefixList(let id, _): s += " \(id)"
        case .securityGroup(let g): s += " \(model.securityGroups[g].id)"
        }
        return s
    }
}


extension VPCNetwork {
    /// Whether a connection of `eni` with `remote` goes through a component through which AWS always tracks
    /// connections (EC2-UG security-group-connection-tracking, "Automatically tracked connections": egress-only
    /// internet gateways, NAT gateways, transit gateway attachments, interface endpoints, …): its subnet's route
    /// for `remote` leads to a NAT gateway, an egress-only internet gateway or a transit gateway, or `remote` is a
    /// NAT gateway's address (a connection a private NAT gateway translated) or an interface endpoint's. Asked
    /// only for a flow whose rules would leave it untracked.
    func throughTrackingComponent(_ eni: Int, _ remote: IPv4Address) -> Bool {
        if let r = eniByAddress[remote] {
            switch model.enis[r].owner {
            case .natGateway, .vpcEndpoint: return true
            case .instance, .lambda: break
            }
        }
        let rt = Int(tables.subnets[Int(tables.enis[eni].subnet)].routeTable)
        guard let route = routeTables.route(rt, remote) else { return false }
        return route.kind == .natGateway || route.kind == .transitGateway || route.kind == .egressOnlyInternetGateway
    }
}
