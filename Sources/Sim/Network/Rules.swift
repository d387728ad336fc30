import Packets

/// The pure decisions of the VPC: route lookup, NACL and security-group evaluation. No state, no time.

/// What a rule check looks at in a packet.
public struct PacketKey: Sendable, Equatable, Hashable {
    public var proto: IPProtocol
    public var source: IPv4Address
    public var destination: IPv4Address
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// ICMP type and code (ports are zero for ICMP).
    public var icmpType: UInt8
    public var icmpCode: UInt8

    public init(proto: IPProtocol, source: IPv4Address, destination: IPv4Address, sourcePort: UInt16 = 0,
                destinationPort: UInt16 = 0, icmpType: UInt8 = 0, icmpCode: UInt8 = 0) {
        self.proto = proto
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.icmpType = icmpType
        self.icmpCode = icmpCode
    }

    /// Two words instead of seven fields: connection tracking hashes a key for every packet at every hop.
    @inline(__always)
    public func hash(into h: inout Hasher) {
        h.combine(addressWord)
        h.combine(portWord)
    }

    /// Inlined, and the fields compared as two words: the derived `==` was a call in every table lookup.
    @inline(__always)
    public static func == (a: PacketKey, b: PacketKey) -> Bool {
        a.addressWord == b.addressWord && a.portWord == b.portWord
    }
    @inline(__always) var addressWord: UInt64 { UInt64(source.rawValue) << 32 | UInt64(destination.rawValue) }
    @inline(__always) var portWord: UInt64 {
        UInt64(sourcePort) << 48 | UInt64(destinationPort) << 32 | UInt64(proto.rawValue) << 16 | UInt64(icmpType) << 8
            | UInt64(icmpCode)
    }

    /// The same flow seen from the other end.
    public var reversed: PacketKey {
        PacketKey(proto: proto, source: destination, destination: source, sourcePort: destinationPort,
                  destinationPort: sourcePort, icmpType: icmpType, icmpCode: icmpCode)
    }

    public var hasPorts: Bool { proto == .tcp || proto == .udp }

    public var description: String {
        hasPorts ? "\(proto) \(source):\(sourcePort) → \(destination):\(destinationPort)"
            : "\(proto) \(source) → \(destination)"
    }
}

public enum Direction: String, Sendable, Codable {
    case inbound, outbound
}

// MARK: Routes

public enum RouteLookup {
    /// Longest prefix match (VPC-UG VPC_Route_Tables). Among equal prefixes the first listed wins: the model
    /// holds static routes only, which AWS does not allow to duplicate.
    public static func match(_ table: RouteTable, _ destination: IPv4Address) -> Route? {
        matchIndex(compile(table), destination).map { table.routes[$0] }
    }

    /// A table's routes as (prefix, index in the table), longest prefix first and listed order among equal
    /// prefixes: the first that contains an address is the match. The hop pipeline compiles each table once.
    public static func compile(_ table: RouteTable) -> [(cidr: IPv4CIDR, index: Int)] {
        table.routes.enumerated().map { (cidr: $0.element.destination, index: $0.offset) }
            .sorted { a, b in
                a.cidr.prefixLength != b.cidr.prefixLength ? a.cidr.prefixLength > b.cidr.prefixLength : a.index < b.index
            }
    }

    /// The index of the matching route of a compiled table.
    @inline(__always)
    public static func matchIndex(_ compiled: [(cidr: IPv4CIDR, index: Int)], _ destination: IPv4Address) -> Int? {
        compiled.withUnsafeBufferPointer { routes in
            for r in routes where r.cidr.contains(destination) { return r.index }
            return nil
        }
    }
}

// MARK: Network ACLs

public struct NACLDecision: Sendable, Equatable {
    /// The matching rule, or nil for the implicit `*` DENY.
    public var rule: NACLRule?
    public var allowed: Bool { rule?.action == .allow }
}

public enum NACLEvaluator {
    /// Rules are evaluated lowest number first; the first match decides; nothing matching means the `*` DENY
    /// (VPC-UG vpc-network-acls). Inbound rules match the source address, outbound the destination.
    public static func evaluate(_ acl: NetworkACL, _ direction: Direction, _ key: PacketKey) -> NACLDecision {
        let rules = direction == .inbound ? acl.inbound : acl.outbound
        let peer = direction == .inbound ? key.source : key.destination
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

    /// As the console shows a rule: "#100 ALLOW tcp 443 0.0.0.0/0", or "* DENY all 0.0.0.0/0".
    public static func describe(_ rule: NACLRule?) -> String {
        guard let rule else { return "* DENY all 0.0.0.0/0" }
        var s = "#\(rule.number) \(rule.action == .allow ? "ALLOW" : "DENY") \(rule.proto.consoleName)"
        if case .number(let p) = rule.proto, p == .tcp || p == .udp {
            s += " " + (rule.ports ?? .all).description
        } else if case .number(let p) = rule.proto, p == .icmp {
            s += " type \(rule.icmpType.map { $0 < 0 ? "all" : String($0) } ?? "all")"
        }
        return s + " \(rule.cidr)"
    }
}

// MARK: Security groups

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

extension PacketKey: TableKey {
    /// The two words `hash(into:)` combines, folded into one for `HashTable`.
    @inline(__always) public var tableHash: UInt64 {
        (UInt64(source.rawValue) << 32 | UInt64(destination.rawValue))
            ^ (UInt64(sourcePort) << 48 | UInt64(destinationPort) << 32 | UInt64(proto.rawValue) << 16
                | UInt64(icmpType) << 8 | UInt64(icmpCode)) &* 0x9E37_79B9_7F4A_7C15
    }
}

extension IPv4Address: TableKey {
    @inline(__always) public var tableHash: UInt64 { UInt64(rawValue) }
}
