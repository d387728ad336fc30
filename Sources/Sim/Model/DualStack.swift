import Packets

// The IPv6 half of a dual-stack network, as the scenario describes it: VPC and subnet IPv6 blocks, IPv6 routes,
// egress-only internet gateways, NACL and security-group rules for IPv6 CIDRs, and the IPv6 addresses of ENIs and
// outside hosts. The model holds and checks it (`ScenarioBuilder+IPv6.swift`); IPv6 packets cross the network
// with their addresses as tokens (`IPv6Token`) and meet these rules and routes (`VPCNetwork+IPv6.swift`). The IPv4
// types are left as they are: nothing here is on the IPv4 packet path.

/// An egress-only internet gateway (VPC-UG egress-only-internet-gateway): lets IPv6 traffic out of its VPC to the
/// internet and the replies back in, and no connection opened from the internet. Stateful; IPv6 only.
public struct EgressOnlyInternetGatewaySpec: Named, Sendable {
    public var id: String
    public var name: String?
    public var vpc: Int
}

/// A route to an IPv6 destination. Its target is one an IPv4 route can have, or an egress-only internet gateway
/// (which only IPv6 routes take: EC2 API CreateRoute EgressOnlyInternetGatewayId, "IPv6 traffic only").
public struct IPv6Route: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case common(Route.Target)
        case egressOnlyInternetGateway(Int)
    }
    public var destination: IPv6CIDR
    public var target: Target
    /// The prefix list the route was made from, as `Route.prefixList`.
    public var prefixList: String? = nil
}

/// A network ACL entry for an IPv6 CIDR (EC2 API NetworkAclEntry Ipv6CidrBlock): a separate entry from any IPv4
/// one, numbered among them.
public struct NACLIPv6Rule: Sendable, Equatable {
    public var number: Int
    public var proto: ProtocolMatch
    public var ports: PortRange?
    public var icmpType: Int?
    public var icmpCode: Int?
    public var cidr: IPv6CIDR
    public var action: NACLRule.Action
}

/// A security-group rule for an IPv6 CIDR (EC2 API IpPermission Ipv6Ranges) or a prefix list of IPv6 entries.
public struct SecurityGroupIPv6Rule: Sendable, Equatable {
    public enum Peer: Sendable, Equatable {
        case cidr(IPv6CIDR)
        case prefixList(id: String, cidrs: [IPv6CIDR])
    }
    public var proto: ProtocolMatch
    public var ports: PortRange?
    public var peer: Peer
    public var description: String?
    public var icmpType: Int? = nil
    public var icmpCode: Int? = nil
}

extension IPv6Route.Target {
    /// The id a listing shows for the target ("eigw-0a1b…", "igw-…", "local").
    public func id(_ model: VPCModel) -> String {
        switch self {
        case .egressOnlyInternetGateway(let i): return model.egressOnlyInternetGateways[i].id
        case .common(let t):
            switch t {
            case .local: return "local"
            case .internetGateway(let i): return model.internetGateways[i].id
            case .natGateway(let i): return model.natGateways[i].id
            case .networkInterface(let i): return model.enis[i].id
            case .peeringConnection(let i): return model.peeringConnections[i].id
            case .peering(let id), .notModeled(let id): return id
            case .transitGateway(let i): return model.transitGateways[i].id
            case .blackhole(let was): return was ?? "blackhole"
            case .vpcEndpoint(let i): return model.vpcEndpoints[i].id
            case .vpnGateway(let i): return model.vpnGateways[i].id
            }
        }
    }
}

extension VPCModel {
    /// The model's IPv6 parts as the console lists them, one line each, in file order: VPC and subnet blocks,
    /// egress-only internet gateways, IPv6 routes, NACL entries ("acl-0a1 inbound #101 ALLOW tcp 22 ::/0") and
    /// security-group rules. Empty for an IPv4-only network.
    public var ipv6Listing: [String] {
        var out: [String] = []
        for v in vpcs where !v.ipv6CidrBlocks.isEmpty {
            out.append("\(v.display) IPv6 \(v.ipv6CidrBlocks.map(\.description).joined(separator: ", "))")
        }
        for s in subnets {
            guard let c = s.ipv6Cidr else { continue }
            out.append("\(s.display) IPv6 \(c)" + (s.hasIPv4 ? "" : " (IPv6-only)"))
        }
        for g in egressOnlyInternetGateways { out.append("\(g.display) egress-only internet gateway of \(vpcs[g.vpc].id)") }
        for t in routeTables {
            for r in t.ipv6Routes { out.append("\(t.display) route \(r.destination) → \(r.target.id(self))") }
        }
        for a in tgwAttachments where a.ipv6Support { out.append("\(a.display) IPv6 support (its VPC's IPv6 blocks propagate)") }
        for t in tgwRouteTables {
            for r in t.ipv6Routes {
                let target: String = switch r.target {
                case .attachment(let a): tgwAttachments[a].id
                case .blackhole: "blackhole"
                }
                out.append("\(t.display) route \(r.destination) → \(target)")
            }
        }
        for e in vpcEndpoints where e.dualStack { out.append("\(e.display) dual-stack (ip_address_type dualstack)") }
        for e in vpcEndpoints where !e.ipv6PrefixListCIDRs.isEmpty {
            out.append("\(e.display) IPv6 prefix list \(e.ipv6PrefixListID) "
                       + "(\(e.ipv6PrefixListCIDRs.map(\.description).joined(separator: ", "))) (ip_address_type \(e.ipAddressType))")
        }
        func rule(_ number: Int, _ action: NACLRule.Action, _ proto: ProtocolMatch, _ ports: PortRange?,
                  _ icmp: (Int?, Int?), _ cidr: IPv6CIDR) -> String {
            var what = proto.consoleName
            if let ports { what += " \(ports.description)" }
            if let t = icmp.0 { what += " type \(t)" }
            if let c = icmp.1 { what += " code \(c)" }
            return "#\(number) \(action.rawValue.uppercased()) \(what) \(cidr)"
        }
        for a in networkACLs {
            for r in a.inboundIPv6 {
                out.append("\(a.id) inbound " + rule(r.number, r.action, r.proto, r.ports, (r.icmpType, r.icmpCode), r.cidr))
            }
            for r in a.outboundIPv6 {
                out.append("\(a.id) outbound " + rule(r.number, r.action, r.proto, r.ports, (r.icmpType, r.icmpCode), r.cidr))
            }
        }
        for g in securityGroups {
            for (direction, rules) in [("ingress", g.ingressIPv6), ("egress", g.egressIPv6)] {
                for r in rules {
                    var what = r.proto.consoleName
                    if let p = r.ports { what += " \(p.description)" }
                    if let t = r.icmpType { what += " type \(t)" }
                    if let c = r.icmpCode { what += " code \(c)" }
                    switch r.peer {
                    case .cidr(let c): what += " \(c)"
                    case .prefixList(let id, _): what += " \(id)"
                    }
                    out.append("\(g.id) \(direction) ALLOW \(what)")
                }
            }
        }
        for e in enis {
            guard let a = e.ipv6Address else { continue }
            out.append("\(e.display) IPv6 \(a)")
        }
        for h in outsideHosts {
            guard let a = h.ipv6Address else { continue }
            out.append("host \(h.id) IPv6 \(a)")
        }
        return out
    }
}
