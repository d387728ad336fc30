import Packets

/// The network a scenario describes, resolved: every reference is an index into the model's arrays, so the
/// hop pipeline never looks anything up by name. Built by `ScenarioLoader`; read-only during a run.
public struct VPCModel: Sendable {
    public var vpcs: [VPC] = []
    public var subnets: [Subnet] = []
    public var routeTables: [RouteTable] = []
    public var networkACLs: [NetworkACL] = []
    public var securityGroups: [SecurityGroup] = []
    public var natGateways: [NATGatewaySpec] = []
    public var internetGateways: [InternetGatewaySpec] = []
    public var enis: [ENI] = []
    public var lambdas: [LambdaFunction] = []
    public var instances: [Instance] = []
    public var outsideHosts: [OutsideHost] = []

    public init() {}

    /// The subnet whose CIDR contains `address`, within `vpc`.
    public func subnet(containing address: IPv4Address, in vpc: Int) -> Int? {
        subnets.firstIndex { $0.vpc == vpc && $0.cidr.contains(address) }
    }

    /// The ENI with this private IP in `vpc`.
    public func eni(privateIP: IPv4Address, in vpc: Int) -> Int? {
        enis.firstIndex { $0.privateIP == privateIP && subnets[$0.subnet].vpc == vpc }
    }

    /// The route table a subnet uses: its explicit association, else its VPC's main table (VPC-UG
    /// VPC_Route_Tables: "a subnet without explicit association uses the main route table").
    public func routeTable(of subnet: Int) -> Int {
        subnets[subnet].routeTable ?? vpcs[subnets[subnet].vpc].mainRouteTable
    }

    /// The NACL a subnet uses: its explicit association, else its VPC's default NACL (VPC-UG vpc-network-acls).
    public func networkACL(of subnet: Int) -> Int {
        subnets[subnet].networkACL ?? vpcs[subnets[subnet].vpc].defaultNetworkACL
    }
}

/// Something with an AWS id and, optionally, a human name (its `Name` tag).
public protocol Named {
    var id: String { get }
    var name: String? { get }
}

extension Named {
    /// "acl-0a1b2c (public)" — the id, with the name when there is one.
    public var display: String { name.map { "\(id) (\($0))" } ?? id }
}

public struct VPC: Named, Sendable {
    public var id: String
    public var name: String?
    public var cidrBlocks: [IPv4CIDR]
    public var mainRouteTable: Int
    public var defaultNetworkACL: Int
    public var internetGateway: Int?
}

public struct Subnet: Named, Sendable {
    public var id: String
    public var name: String?
    public var vpc: Int
    public var cidr: IPv4CIDR
    public var availabilityZone: String
    /// Explicit associations; nil falls back to the VPC's main route table / default NACL.
    public var routeTable: Int?
    public var networkACL: Int?
}

public struct Route: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case local
        case internetGateway(Int)
        case natGateway(Int)
        case networkInterface(Int)
        /// A peering connection: its id (the far VPC is outside the model).
        case peering(String)
        /// A route whose target is gone (VPC-UG: state `blackhole`); `was` names the missing target if known.
        case blackhole(was: String?)
    }
    public var destination: IPv4CIDR
    public var target: Target
}

public struct RouteTable: Named, Sendable {
    public var id: String
    public var name: String?
    public var vpc: Int
    public var routes: [Route]
}

/// What protocols a NACL or security-group rule matches.
public enum ProtocolMatch: Sendable, Equatable {
    case all
    case number(IPProtocol)

    public func matches(_ p: IPProtocol) -> Bool {
        switch self {
        case .all: return true
        case .number(let n): return n == p
        }
    }

    /// As the console writes it: "All traffic" is "all"; otherwise "tcp", "udp", "icmp" or the number.
    public var consoleName: String {
        switch self {
        case .all: return "all"
        case .number(let p): return p.description
        }
    }
}

/// A port range; for ICMP rules, `icmpType`/`icmpCode` instead (-1 = any).
public struct PortRange: Sendable, Equatable {
    public var from: UInt16
    public var to: UInt16
    public init(_ from: UInt16, _ to: UInt16) {
        self.from = from
        self.to = to
    }
    public static let all = PortRange(0, 65535)
    @inline(__always) public func contains(_ p: UInt16) -> Bool { p >= from && p <= to }
    public var isAll: Bool { from == 0 && to == 65535 }
    public var description: String { from == to ? "\(from)" : "\(from)-\(to)" }
}

public struct NACLRule: Sendable, Equatable {
    public enum Action: String, Sendable { case allow, deny }
    /// 1–32766; the implicit last rule `*` is not stored.
    public var number: Int
    public var proto: ProtocolMatch
    /// For tcp/udp; nil means all ports.
    public var ports: PortRange?
    public var icmpType: Int?
    public var icmpCode: Int?
    public var cidr: IPv4CIDR
    public var action: Action
}

public struct NetworkACL: Named, Sendable {
    public var id: String
    public var name: String?
    public var vpc: Int
    public var isDefault: Bool
    /// Sorted by rule number, lowest first.
    public var inbound: [NACLRule]
    public var outbound: [NACLRule]
}

public struct SecurityGroupRule: Sendable, Equatable {
    public enum Peer: Sendable, Equatable {
        case cidr(IPv4CIDR)
        /// Matches the private IPs of ENIs carrying that group (VPC-UG security-group-rules).
        case securityGroup(Int)
        /// A managed prefix list, resolved to its CIDRs.
        case prefixList(id: String, cidrs: [IPv4CIDR])
    }
    public var proto: ProtocolMatch
    public var ports: PortRange?
    public var peer: Peer
    public var description: String?
}

public struct SecurityGroup: Named, Sendable {
    public var id: String
    public var name: String?
    public var vpc: Int
    public var ingress: [SecurityGroupRule]
    public var egress: [SecurityGroupRule]
}

public struct NATGatewaySpec: Named, Sendable {
    public enum Connectivity: String, Sendable { case `public`, `private` }
    public var id: String
    public var name: String?
    public var subnet: Int
    public var connectivity: Connectivity
    /// Its ENI in `VPCModel.enis` (carries the primary private IP and the Elastic IP).
    public var eni: Int
    /// Secondary private IPs, each another 55,000 connections per destination (up to 8 addresses in all).
    public var secondaryPrivateIPs: [IPv4Address]
    /// Elastic IPs for the secondary private IPs, in the same order (public NAT gateways).
    public var secondaryElasticIPs: [IPv4Address]
}

public struct InternetGatewaySpec: Named, Sendable {
    public var id: String
    public var name: String?
    public var vpc: Int?
}

public struct ENI: Named, Sendable {
    public enum Owner: Sendable, Equatable {
        /// A Hyperplane ENI shared by these Lambda functions (indices into `lambdas`).
        case lambda([Int])
        case instance(Int)
        case natGateway(Int)
    }
    public var id: String
    public var name: String?
    public var subnet: Int
    public var privateIP: IPv4Address
    public var publicIP: IPv4Address?
    public var securityGroups: [Int]
    public var owner: Owner
    public var mac: MACAddress
}

/// How a host's TCP stack behaves (issue "Match reality" adds more profiles).
public struct StackProfile: Sendable, Equatable {
    public var name: String
    /// Delays between SYN transmissions, in nanoseconds, until the connect fails.
    public var synRetransmitDelays: [Int64]
    /// Time after the last retransmission at which connect() fails.
    public var synGiveUpAfterLast: Int64
    public var ephemeralPorts: ClosedRange<UInt16>
    public var initialTTL: UInt8
    public var mss: UInt16
    public var windowScale: UInt8
    public var synWindow: UInt16

    /// Linux before 6.5: tcp_syn_retries 6, initial RTO 1 s doubling: SYNs at 0,1,3,7,15,31,63 s, the connect
    /// fails at 127 s (Documentation/networking/ip-sysctl.rst; net/ipv4/tcp_timer.c).
    public static let linux = StackProfile(
        name: "linux", synRetransmitDelays: [1, 2, 4, 8, 16, 32].map { $0 * 1_000_000_000 },
        synGiveUpAfterLast: 64_000_000_000, ephemeralPorts: 32768...60999, initialTTL: 64, mss: 1460,
        windowScale: 7, synWindow: 64240)
}

public struct LambdaFunction: Named, Sendable {
    public var id: String { name ?? "" }
    public var name: String?
    public var subnets: [Int]
    public var securityGroups: [Int]
    /// Function timeout in nanoseconds (Lambda-DG: default 3 s, max 900 s).
    public var timeout: Int64
    /// One Hyperplane ENI per subnet, in `subnets` order.
    public var enis: [Int]
}

public struct Instance: Named, Sendable {
    public var id: String
    public var name: String?
    public var eni: Int
    public var stack: StackProfile
}

/// What answers on a port of an outside host.
public enum PortBehaviour: Sendable, Equatable {
    /// A server that speaks the application ("sftp", "https", "tcp").
    case listen(app: String)
    /// RST,ACK to a SYN, as Linux does for a closed port.
    case closed
    /// Nothing answers (a firewall that drops).
    case silent
}

public struct OutsideHost: Named, Sendable {
    public var id: String { name ?? address.description }
    public var name: String?
    public var address: IPv4Address
    public var ports: [UInt16: PortBehaviour]
    public var otherPorts: PortBehaviour
    /// Round-trip time between the internet gateway and this host, nanoseconds.
    public var rtt: Int64
    public var stack: StackProfile
    public var mac: MACAddress

    public func behaviour(on port: UInt16) -> PortBehaviour { ports[port] ?? otherPorts }
}
