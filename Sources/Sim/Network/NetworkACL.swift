import Packets

/// A network ACL: a stateless list of numbered rules at a subnet's boundary, inbound and outbound apart. Rules are
/// evaluated lowest number first, the first match decides, and nothing matching is the `*` DENY; inbound rules
/// match the source address, outbound the destination (VPC-UG vpc-network-acls). A packet is checked when it
/// leaves one subnet (outbound) and enters another (inbound), never within a subnet, and replies are checked as
/// requests are: there is no state. Every NACL of the model is compiled once into flat plain data for the scan of
/// every packet (`decision`); `check` is what the dispatcher calls, and `step` the step it records, naming the
/// deciding rule as the console shows it ("acl-0ab… (public) outbound: #100 ALLOW tcp 443 0.0.0.0/0").
final class NetworkACL {
    /// Each NACL's inbound (2·i) and outbound (2·i+1) rules, in evaluation order: list l's are
    /// `ruleStart[l]..<ruleStart[l + 1]`.
    let rules: [NACLRule]
    let ruleStart: [Int32]
    /// `rules`, compiled to 20 plain bytes each for the scan of every packet.
    let compiled: [CompiledNACLRule]
    /// The IPv6 entries (`inboundIPv6`, `outboundIPv6`), by list as `rules`: list l's are
    /// `rules6[rule6Start[l]..<rule6Start[l + 1]]`. An IPv6 packet (its addresses `IPv6Token`s) meets only these,
    /// an IPv4 packet only `rules`: `::/0` is an entry of its own, never `0.0.0.0/0` (VPC-UG vpc-network-acls,
    /// "Network ACL rules": a rule names an IPv4 or an IPv6 CIDR block).
    let rules6: [NACLIPv6Rule]
    let rule6Start: [Int32]
    private let model: VPCModel

    /// A decision's rule: the implicit `*` DENY of the IPv6 entries (`* DENY all ::/0`); an IPv6 entry's rule
    /// is `rules.count` plus its index in `rules6`.
    static let denyAllIPv6 = -2

    /// A NACL rule as the per-packet scan reads it: the CIDR as network and mask, no optionals.
    struct CompiledNACLRule {
        var network: UInt32
        var mask: UInt32
        /// 0...65535 for a rule without ports.
        var portFrom: UInt16
        var portTo: UInt16
        /// The protocol number, -1 for all.
        var proto: Int16
        /// -1 for any; a value no ICMP type or code has (over 255) never matches.
        var icmpType: Int16
        var icmpCode: Int16
        var allow: Bool

        init(_ r: NACLRule) {
            network = r.cidr.network.rawValue
            mask = IPv4CIDR.mask(r.cidr.prefixLength)
            portFrom = r.ports?.from ?? 0
            portTo = r.ports?.to ?? 65535
            switch r.proto {
            case .all: proto = -1
            case .number(let p): proto = Int16(p.rawValue)
            }
            icmpType = r.icmpType.map { $0 < 0 ? -1 : Int16(clamping: $0) } ?? -1
            icmpCode = r.icmpCode.map { $0 < 0 ? -1 : Int16(clamping: $0) } ?? -1
            allow = r.action == .allow
        }

        /// NACLEvaluator.matches, on the compiled form.
        @inline(__always)
        func matches(_ key: PacketKey, peer: IPv4Address) -> Bool {
            guard proto < 0 || proto == Int16(key.proto.rawValue), peer.rawValue & mask == network else { return false }
            if key.hasPorts, key.destinationPort < portFrom || key.destinationPort > portTo { return false }
            if key.proto == .icmp {
                if icmpType >= 0, icmpType != Int16(key.icmpType) { return false }
                if icmpCode >= 0, icmpCode != Int16(key.icmpCode) { return false }
            }
            return true
        }
    }

    init(_ model: VPCModel) {
        self.model = model
        var rules: [NACLRule] = []
        var ruleStart: [Int32] = []
        var rules6: [NACLIPv6Rule] = []
        var rule6Start: [Int32] = []
        for acl in model.networkACLs {
            for list in [acl.inbound, acl.outbound] {
                ruleStart.append(Int32(rules.count))
                rules += list
            }
            for list in [acl.inboundIPv6, acl.outboundIPv6] {
                rule6Start.append(Int32(rules6.count))
                rules6 += list
            }
        }
        ruleStart.append(Int32(rules.count))
        rule6Start.append(Int32(rules6.count))
        self.rules6 = rules6
        self.rule6Start = rule6Start
        self.rules = rules
        self.ruleStart = ruleStart
        compiled = rules.map(CompiledNACLRule.init)
    }

    /// NACL `acl`'s verdict on a packet crossing it `direction`: `.pass` (no step) for an allowed packet that is
    /// not traced, the common case; the step otherwise.
    @inline(__always)
    func check(_ acl: Int, _ direction: Direction, _ key: PacketKey, traced: Bool) -> Verdict {
        let (allowed, rule) = decision(acl, direction, key)
        return Verdict(allowed: allowed, recorded: traced || !allowed, reason: Int32(truncatingIfNeeded: rule))
    }

    /// The step NACL `acl` records for verdict `v` of its `check`.
    func step(_ acl: Int, _ direction: Direction, of v: Verdict) -> Step {
        step(acl, direction, allowed: v.allowed, rule: Int(v.reason))
    }

    /// The step NACL `acl` records for its decision (`rule`: an index in `rules`, -1 for the `*` DENY).
    @inline(never)
    func step(_ acl: Int, _ direction: Direction, allowed: Bool, rule: Int) -> Step {
        Step(kind: direction == .inbound ? .naclInbound : .naclOutbound, component: model.networkACLs[acl].id,
             componentDisplay: model.networkACLs[acl].display, action: allowed ? .allowed : .denied,
             rule: describe(rule: rule))
    }

    /// The deciding rule as the console shows it (`decision`'s rule index).
    func describe(rule: Int) -> String {
        if rule == Self.denyAllIPv6 { return NACLEvaluator.describe6(nil) }
        if rule >= rules.count { return NACLEvaluator.describe6(rules6[rule - rules.count]) }
        return NACLEvaluator.describe(decision(rule: rule).rule)
    }

    /// NACLEvaluator.evaluate over the compiled rules: the first match decides, none is the `*` DENY. Returns
    /// whether the packet is allowed and the deciding rule's index in `rules` (-1: the `*` DENY).
    @inline(__always)
    func decision(_ acl: Int, _ direction: Direction, _ key: PacketKey) -> (allowed: Bool, rule: Int) {
        let peer = direction == .inbound ? key.source : key.destination
        let list = 2 * acl + (direction == .inbound ? 0 : 1)
        if peer.isIPv6Token { return decision6(list, key, peer: peer) }
        return compiled.withUnsafeBufferPointer { r in
            ruleStart.withUnsafeBufferPointer { start in
                for i in Int(start[list])..<Int(start[list + 1]) where r[i].matches(key, peer: peer) {
                    return (r[i].allow, i)
                }
                return (false, -1)
            }
        }
    }

    /// `decision` for an IPv6 packet: the IPv6 entries of list `list`, out of line (the IPv4 scan stays small).
    @inline(never)
    private func decision6(_ list: Int, _ key: PacketKey, peer: IPv4Address) -> (allowed: Bool, rule: Int) {
        guard let address = peer.ipv6 else { return (false, Self.denyAllIPv6) }
        for i in Int(rule6Start[list])..<Int(rule6Start[list + 1])
        where NACLEvaluator.matches6(rules6[i], key, peer: address) {
            return (rules6[i].action == .allow, rules.count + i)
        }
        return (false, Self.denyAllIPv6)
    }

    /// The decision `naclDecision` came to, with its rule (an IPv4 one; nil for an IPv6 entry's).
    func decision(rule i: Int) -> NACLDecision { NACLDecision(rule: i < 0 || i >= rules.count ? nil : rules[i]) }
}

public struct NACLDecision: Sendable, Equatable {
    /// The matching rule, or nil for the implicit `*` DENY.
    public var rule: NACLRule?
    /// For an IPv6 packet: the matching IPv6 entry (`rule` is nil then), or nil for the `*` DENY of `::/0`.
    public var rule6: NACLIPv6Rule? = nil
    /// Whether the decision is on an IPv6 packet.
    public var isIPv6 = false
    public var allowed: Bool { isIPv6 ? rule6?.action == .allow : rule?.action == .allow }
    /// The deciding rule as the console shows it.
    public var described: String { isIPv6 ? NACLEvaluator.describe6(rule6) : NACLEvaluator.describe(rule) }
}

public enum NACLEvaluator {
    /// Rules are evaluated lowest number first; the first match decides; nothing matching means the `*` DENY
    /// (VPC-UG vpc-network-acls). Inbound rules match the source address, outbound the destination.
    public static func evaluate(_ acl: NetworkACLSpec, _ direction: Direction, _ key: PacketKey) -> NACLDecision {
        let rules = direction == .inbound ? acl.inbound : acl.outbound
        let peer = direction == .inbound ? key.source : key.destination
        if peer.isIPv6Token {
            let address = peer.ipv6 ?? .any
            let rule = (direction == .inbound ? acl.inboundIPv6 : acl.outboundIPv6).first { matches6($0, key, peer: address) }
            return NACLDecision(rule: nil, rule6: rule, isIPv6: true)
        }
        for rule in rules where matches(rule, key, peer: peer) {
            return NACLDecision(rule: rule)
        }
        return NACLDecision(rule: nil)
    }

    @inline(__always)
    static func matches(_ rule: NACLRule, _ key: PacketKey, peer: IPv4Address) -> Bool {
        guard rule.proto.matches(key.proto), rule.cidr.contains(peer) else { return false }
        if key.hasPorts, let ports = rule.ports, !ports.contains(key.destinationPort) { return false }
        if key.proto == .icmp {
            if let t = rule.icmpType, t >= 0, t != Int(key.icmpType) { return false }
            if let c = rule.icmpCode, c >= 0, c != Int(key.icmpCode) { return false }
        }
        return true
    }

    /// An IPv6 entry against an IPv6 packet's peer address (`matches` for `NACLIPv6Rule`). ICMPv6 entries
    /// (protocol 58) match the packet's ICMP type and code as ICMP ones do.
    static func matches6(_ rule: NACLIPv6Rule, _ key: PacketKey, peer: IPv6Address) -> Bool {
        // An IPv6 packet's ICMP is ICMPv6 (58), keyed `.icmp`: an `icmp` (1) entry never matches it.
        guard rule.proto != .number(.icmp) && rule.proto.matches(key.proto)
                || rule.proto == .number(.icmpv6) && key.proto == .icmp,
              rule.cidr.contains(peer) else { return false }
        if key.hasPorts, let ports = rule.ports, !ports.contains(key.destinationPort) { return false }
        if key.proto == .icmp || key.proto == .icmpv6 {
            if let t = rule.icmpType, t >= 0, t != Int(key.icmpType) { return false }
            if let c = rule.icmpCode, c >= 0, c != Int(key.icmpCode) { return false }
        }
        return true
    }

    /// An IPv6 entry as the console shows it: "#101 ALLOW all ::/0", or "* DENY all ::/0" for nil.
    public static func describe6(_ rule: NACLIPv6Rule?) -> String {
        guard let rule else { return "* DENY all ::/0" }
        var s = "#\(rule.number) \(rule.action == .allow ? "ALLOW" : "DENY") \(rule.proto.consoleName)"
        if case .number(let p) = rule.proto, p == .tcp || p == .udp {
            s += " " + (rule.ports ?? .all).description
        } else if case .number(let p) = rule.proto, p == .icmp || p == .icmpv6 {
            s += " type \(rule.icmpType.map { $0 < 0 ? "all" : String($0) } ?? "all")"
            if let c = rule.icmpCode, c >= 0 { s += " code \(c)" }
        }
        return s + " \(rule.cidr)"
    }

    /// As the console shows a rule: "#100 ALLOW tcp 443 0.0.0.0/0", or "* DENY all 0.0.0.0/0".
    public static func describe(_ rule: NACLRule?) -> String {
        guard let rule else { return "* DENY all 0.0.0.0/0" }
        var s = "#\(rule.number) \(rule.action == .allow ? "ALLOW" : "DENY") \(rule.proto.consoleName)"
        if case .number(let p) = rule.proto, p == .tcp || p == .udp {
            s += " " + (rule.ports ?? .all).description
        } else if case .number(let p) = rule.proto, p == .icmp {
            s += " type \(rule.icmpType.map { $0 < 0 ? "all" : String($0) } ?? "all")"
            if let c = rule.icmpCode, c >= 0 { s += " code \(c)" }
        }
        return s + " \(rule.cidr)"
    }
}

