import Packets

/// The network a scenario describes, resolved: every reference is an index into the model's arrays, so the
/// hop pipeline never looks anything up by name. Built by `ScenarioLoader`; read-only during a run. The model is
/// data (`RouteTableSpec`, `NetworkACLSpec`, …: what the scenario says); what each component does to a packet is
/// in Network/, one file per component (`RouteTable`, `NetworkACL`, `SecurityGroup`, `NATGateway`,
/// `InternetGateway`).
public struct VPCModel: Sendable {
    public var vpcs: [VPC] = []
    public var subnets: [Subnet] = []
    public var routeTables: [RouteTableSpec] = []
    public var networkACLs: [NetworkACLSpec] = []
    public var securityGroups: [SecurityGroupSpec] = []
    public var natGateways: [NATGatewaySpec] = []
    public var internetGateways: [InternetGatewaySpec] = []
    public var enis: [ENI] = []
    public var lambdas: [LambdaFunction] = []
    public var instances: [Instance] = []
    public var outsideHosts: [OutsideHost] = []
    public var peeringConnections: [PeeringConnection] = []
    /// Transit gateways, their VPC attachments and their route tables (`TransitGatewaySpec`).
    public var transitGateways: [TransitGatewaySpec] = []
    public var tgwAttachments: [TGWAttachmentSpec] = []
    public var tgwRouteTables: [TGWRouteTableSpec] = []
    public var vpcEndpoints: [VPCEndpointSpec] = []
    /// Virtual private gateways, customer gateways, Site-to-Site VPN connections and the on-premises networks
    /// behind the customer gateways (`VPNGatewaySpec`).
    public var vpnGateways: [VPNGatewaySpec] = []
    public var customerGateways: [CustomerGatewaySpec] = []
    public var vpnConnections: [VPNConnectionSpec] = []
    public var onPremNetworks: [OnPremNetworkSpec] = []
    /// Egress-only internet gateways (`EgressOnlyInternetGatewaySpec`, DualStack.swift).
    public var egressOnlyInternetGateways: [EgressOnlyInternetGatewaySpec] = []

    public init() {}

    /// The active peering connection joining VPCs `a` and `b`, if any.
    public func activePeering(between a: Int, _ b: Int) -> Int? {
        peeringConnections.firstIndex { $0.isActive && $0.joins(a, b) }
    }

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

/// A VPC endpoint (VPC-UG privatelink/gateway-endpoints): a gateway endpoint for S3 or DynamoDB, reached by the
/// routes AWS adds to its route tables, one per CIDR of the service's AWS-managed prefix list; or an interface
/// endpoint (privatelink/create-interface-endpoint): an ENI in each of its subnets, with security groups, that the
/// service's DNS name resolves to inside the VPC when private DNS is on.
public struct VPCEndpointSpec: Named, Sendable {
    public enum Kind: String, Sendable { case gateway, interface }
    public var id: String
    public var name: String?
    public var kind: Kind
    /// "s3" or "dynamodb".
    public var service: String
    public var vpc: Int
    public var routeTables: [Int]
    /// The Region's AWS-managed prefix list for the service ("pl-63a5400a") and its CIDRs.
    public var prefixListID: String
    public var prefixListCIDRs: [IPv4CIDR]
    /// A gateway endpoint's IpAddressType (PrivateLink guide gateway-endpoints, "IP address type": "The IP address
    /// type determines which prefix list is associated with your route table"): `ipv4` adds the service's IPv4
    /// prefix list to its route tables, `dualstack` the IPv4 and the IPv6 one, `ipv6` the IPv6 one only. The IPv6
    /// prefix list ("pl-…", a list of its own: a prefix list has one address family) and its CIDRs; empty for ipv4.
    public var ipAddressType = "ipv4"
    public var ipv6PrefixListID = ""
    public var ipv6PrefixListCIDRs: [IPv6CIDR] = []
    /// Whether the scenario gave an endpoint policy (not modeled: every request is let through).
    public var hasPolicy: Bool
    /// Interface endpoints: the subnets, one endpoint ENI in each (same order, `VPCModel.enis`), the security
    /// groups of those ENIs, whether private DNS is on, and the service's DNS name
    /// ("secretsmanager.eu-west-1.amazonaws.com").
    public var subnets: [Int] = []
    public var enis: [Int] = []
    public var securityGroups: [Int] = []
    public var privateDNS = false
    public var dnsName = ""
    /// IpAddressType dualstack (EC2 API CreateVpcEndpoint): each ENI has an IPv6 address too, and private DNS
    /// answers AAAA with them as well as A (`ScenarioBuilder.applyAddressFamily`).
    public var dualStack = false

    /// The endpoint ENI a client in `zone` reaches by the private DNS name: the one in its AZ, else the first.
    public func eni(forZone zone: String?, _ model: VPCModel) -> Int? {
        enis.first { model.subnets[model.enis[$0].subnet].availabilityZone == zone } ?? enis.first
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
    /// Its IPv6 CIDR blocks (`ipv6_cidr`), empty for an IPv4-only VPC; its egress-only internet gateway.
    public var ipv6CidrBlocks: [IPv6CIDR] = []
    public var egressOnlyInternetGateway: Int? = nil
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
    /// Its IPv6 /64 (`ipv6_cidr`), nil for an IPv4-only subnet. An IPv6-only subnet (no `cidr`) has `hasIPv4`
    /// false and a `cidr` of 0.0.0.0/32 that holds nothing of its own (DualStack.swift).
    public var ipv6Cidr: IPv6CIDR? = nil
    public var hasIPv4 = true
    /// AssignIpv6AddressOnCreation: instances launched here get an IPv6 address without asking for one.
    public var assignIPv6OnCreation = false
    /// EnableDns64: "DNS queries made to the Amazon-provided DNS Resolver in this subnet should return synthetic
    /// IPv6 addresses for IPv4-only destinations" (EC2 API ModifySubnetAttribute): 64:ff9b::<IPv4> (`enable_dns64`).
    public var enableDNS64 = false
}

public struct Route: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case local
        case internetGateway(Int)
        case natGateway(Int)
        case networkInterface(Int)
        /// A peering connection of the model (`VPCModel.peeringConnections`): both of its VPCs are in the scenario.
        case peeringConnection(Int)
        /// A peering connection the scenario does not define: its id (the far VPC is outside the model). A flow
        /// routed here ends `not-modeled`.
        case peering(String)
        /// A transit gateway of the scenario (`transitGateways`), reached through the VPC's attachment.
        case transitGateway(Int)
        /// A target of a kind the model does not have (a transit gateway, virtual private gateway, VPC endpoint,
        /// carrier or local gateway, or an ENI or instance outside the scenario): its id. A flow routed here ends
        /// `not-modeled`, never with a network verdict.
        case notModeled(String)
        /// A route whose target is gone (VPC-UG: state `blackhole`); `was` names the missing target if known.
        case blackhole(was: String?)
        /// A gateway VPC endpoint of the scenario (`VPCModel.vpcEndpoints`).
        case vpcEndpoint(Int)
        /// A virtual private gateway of the scenario (`VPCModel.vpnGateways`), attached to the table's VPC.
        case vpnGateway(Int)
    }
    public var destination: IPv4CIDR
    public var target: Target
    /// The prefix list the route was made from ("pl-63a5400a"): AWS adds one route per gateway endpoint and
    /// route table whose destination is the service's prefix list; the model holds it as one route per CIDR.
    public var prefixList: String? = nil
}

/// Route targets outside the model, by id prefix: what each is called in messages.
public enum NotModeledTarget {
    public static let kinds: [(prefix: String, what: String)] = [
        ("pcx-", "VPC peering"), ("tgw-", "transit gateway"), ("vgw-", "virtual private gateway"),
        ("vpce-", "VPC endpoint"), ("cagw-", "carrier gateway"), ("lgw-", "local gateway"),
        ("eni-", "network interface outside the scenario"), ("i-", "instance outside the scenario"),
    ]

    /// "VPC peering" for "pcx-0123…"; nil for an id of no such kind.
    public static func kind(of id: String) -> String? { kinds.first { id.hasPrefix($0.prefix) }?.what }

    /// What a flow routed to `id` ends with: "routed to pcx-0123… (VPC peering): not modeled".
    public static func message(_ id: String, what: String? = nil) -> String {
        "routed to \(id) (\(what ?? kind(of: id) ?? "outside the model")): not modeled"
    }
}

/// A VPC peering connection between two VPCs of the model (VPC-PG what-is-vpc-peering). Each side routes to it
/// in its own route tables; it carries only packets between addresses of the two VPCs (no transitive routing, no
/// edge-to-edge routing: VPC-PG vpc-peering-basics, "Unsupported VPC peering configurations").
public struct PeeringConnection: Named, Sendable {
    /// The states AWS reports (EC2 API VpcPeeringConnectionStateReason); only `active` carries traffic.
    public static let statuses = ["active", "initiating-request", "pending-acceptance", "provisioning", "rejected",
                                  "failed", "expired", "deleting", "deleted"]
    public var id: String
    public var name: String?
    public var requesterVPC: Int
    public var accepterVPC: Int
    public var requesterRegion: String
    public var accepterRegion: String
    public var status: String

    public init(id: String, name: String? = nil, requesterVPC: Int, accepterVPC: Int, requesterRegion: String = "us-east-1",
                accepterRegion: String = "us-east-1", status: String = "active") {
        self.id = id
        self.name = name
        self.requesterVPC = requesterVPC
        self.accepterVPC = accepterVPC
        self.requesterRegion = requesterRegion
        self.accepterRegion = accepterRegion
        self.status = status
    }

    public var isActive: Bool { status == "active" }
    public var interRegion: Bool { requesterRegion != accepterRegion }
    /// The largest packet the connection carries: 9001 bytes within a Region, 8500 between Regions (EC2-UG
    /// network_mtu). Enforced where a packet crosses the connection (`VPCNetwork+LinkMTU.swift`).
    public var mtu: Int { interRegion ? 8500 : 9001 }

    public func joins(_ a: Int, _ b: Int) -> Bool {
        (requesterVPC == a && accepterVPC == b) || (requesterVPC == b && accepterVPC == a)
    }

    /// The VPC on the other side from `vpc`; nil when `vpc` is neither side.
    public func otherVPC(_ vpc: Int) -> Int? {
        vpc == requesterVPC ? accepterVPC : vpc == accepterVPC ? requesterVPC : nil
    }
}

/// A transit gateway (TGW-UG what-is-transit-gateway): a regional router between its attachments, routing
/// each packet by the TGW route table associated with the attachment it arrived through.
public struct TransitGatewaySpec: Named, Sendable {
    public var id: String
    public var name: String?
    /// Its attachments (`VPCModel.tgwAttachments`) and route tables (`VPCModel.tgwRouteTables`), in file order.
    public var attachments: [Int]
    public var routeTables: [Int]
}

/// A VPC attachment of a transit gateway: an ENI of the TGW in each of its subnets, at most one per AZ
/// (TGW-UG transit-gateway-vpc-attachments).
public struct TGWAttachmentSpec: Named, Sendable {
    public var id: String
    public var name: String?
    public var transitGateway: Int
    public var vpc: Int
    public var subnets: [Int]
    /// Appliance mode: a flow keeps one AZ of this attachment both ways, chosen by a flow hash, instead of AZ
    /// affinity.
    public var applianceMode: Bool
    /// The TGW route table it is associated with (at most one), nil for none.
    public var routeTable: Int?
    /// A VPN attachment's Site-to-Site VPN connection (`VPCModel.vpnConnections`); nil for a VPC attachment. A
    /// VPN attachment has no VPC (`vpc` is -1) and no subnets: packets reach it through the connection's tunnel.
    public var vpnConnection: Int? = nil
    /// A VPC attachment's ENI in each of its subnets, in `subnets` order: its id and private address (what VPC
    /// Flow Logs name it by: `FlowLogRecorder`).
    public var eniIDs: [String] = []
    public var eniAddresses: [IPv4Address] = []
    /// Ipv6Support (EC2 API CreateTransitGatewayVpcAttachmentRequestOptions): the attachment's ENIs get IPv6
    /// addresses and a propagation brings its VPC's IPv6 blocks; off, they do not propagate. "The setting does
    /// not filter IPv6 traffic": a static IPv6 route still carries IPv6 through the attachment.
    public var ipv6Support: Bool = false
}

/// A transit gateway route table: static routes (to an attachment, or blackhole) and the routes its
/// propagations bring (each propagating attachment's VPC CIDR blocks).
public struct TGWRouteTableSpec: Named, Sendable {
    public struct Route: Sendable, Equatable {
        public enum Target: Sendable, Equatable {
            case attachment(Int)
            case blackhole
        }
        public var destination: IPv4CIDR
        public var target: Target
    }
    public var id: String
    public var name: String?
    public var transitGateway: Int
    /// Static routes, as listed.
    public var routes: [Route]
    /// Attachments that propagate their VPC's CIDR blocks into this table.
    public var propagations: [Int]
    /// Static routes to IPv6 destinations, as listed (the same targets as `routes`).
    public var ipv6Routes: [IPv6Route] = []

    public struct IPv6Route: Sendable, Equatable {
        public var destination: IPv6CIDR
        public var target: Route.Target
    }
}

public struct RouteTableSpec: Named, Sendable {
    public var id: String
    public var name: String?
    public var vpc: Int
    public var routes: [Route]
    /// Virtual private gateways (`VPCModel.vpnGateways`) whose VPN connections' routes the table receives as
    /// propagated routes (EC2 EnableVgwRoutePropagation).
    public var propagatingVGWs: [Int] = []
    /// The internet gateway the table is associated with (an edge association: a gateway route table, VPC-UG
    /// gateway-route-tables), whose routes decide where traffic entering the VPC through that gateway goes.
    public var gateway: Int? = nil
    /// The virtual private gateway the table is associated with (an edge association, as `gateway`): its routes
    /// decide where traffic entering the VPC from the gateway's VPN connections goes.
    public var vpnGatewayEdge: Int? = nil
    /// Routes to IPv6 destinations, the implicit `local` ones first (`IPv6Route`, DualStack.swift).
    public var ipv6Routes: [IPv6Route] = []
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

public struct NetworkACLSpec: Named, Sendable {
    public var id: String
    public var name: String?
    public var vpc: Int
    public var isDefault: Bool
    /// Sorted by rule number, lowest first.
    public var inbound: [NACLRule]
    public var outbound: [NACLRule]
    /// Rules for IPv6 CIDRs, sorted by number; rule numbers are unique across both families in a direction.
    public var inboundIPv6: [NACLIPv6Rule] = []
    public var outboundIPv6: [NACLIPv6Rule] = []
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
    /// An icmp rule's type and code (EC2 API IpPermissions FromPort and ToPort for ICMP); nil: all.
    public var icmpType: Int? = nil
    public var icmpCode: Int? = nil
}

public struct SecurityGroupSpec: Named, Sendable {
    public var id: String
    public var name: String?
    public var vpc: Int
    public var ingress: [SecurityGroupRule]
    public var egress: [SecurityGroupRule]
    /// Rules for IPv6 CIDRs and IPv6 prefix lists (a security-group reference is in `ingress`/`egress`).
    public var ingressIPv6: [SecurityGroupIPv6Rule] = []
    public var egressIPv6: [SecurityGroupIPv6Rule] = []
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
        /// An interface VPC endpoint's ENI (`VPCModel.vpcEndpoints`): the service answers behind it.
        case vpcEndpoint(Int)
    }
    public var id: String
    public var name: String?
    public var subnet: Int
    public var privateIP: IPv4Address
    public var publicIP: IPv4Address?
    public var securityGroups: [Int]
    public var owner: Owner
    public var mac: MACAddress
    /// The ENI's connection-tracking timeouts (ConnectionTrackingSpecification); empty: the defaults.
    public var connectionTracking = ConnectionTracking()
    /// Its IPv6 address, nil for none. An ENI in an IPv6-only subnet has only this (its `privateIP` is 0.0.0.0).
    public var ipv6Address: IPv6Address? = nil
}

/// How a host's TCP stack behaves where it shows on the wire and in timing. Chosen per host (`stack:`).
public struct StackProfile: Sendable, Equatable {
    public enum SYNOptions: String, Sendable {
        /// MSS, SACK-permitted, timestamps, NOP, window scale (net/ipv4/tcp_output.c tcp_syn_options).
        case linux
        /// MSS, NOP, window scale, NOP, NOP, SACK-permitted; no timestamps (Windows' default).
        case windows
    }
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
    public var synOptions: SYNOptions
    /// TCP timestamps (RFC 7323) when the peer offers them too.
    public var timestamps: Bool
    /// Connection attempts repeated after an RST answers the SYN (Windows: 2, about 0.5 s apart).
    public var retriesAfterReset: Int
    public var retryAfterResetDelay: Int64

    static let second: Int64 = 1_000_000_000

    /// The stack on an interface of `mtu` bytes: the MSS it advertises is the MTU less the IPv4 and TCP headers
    /// (RFC 9293 §3.7.1; 9001 → 8961), and Linux's SYN window is the largest multiple of that MSS within 65535
    /// (tcp_select_initial_window: 64240 at 1460, 62727 at 8961).
    public func withMTU(_ mtu: Int) -> StackProfile {
        var p = self
        let mss = max(mtu - 40, 536)
        p.mss = UInt16(mss)
        p.synWindow = UInt16(65535 / mss * mss)
        return p
    }

    /// Linux before 6.5: tcp_syn_retries 6, initial RTO 1 s doubling: SYNs at 0,1,3,7,15,31,63 s, the connect
    /// fails at 127 s (Documentation/networking/ip-sysctl.rst; net/ipv4/tcp_timer.c).
    public static let linux = StackProfile(
        name: "linux", synRetransmitDelays: [1, 2, 4, 8, 16, 32].map { $0 * second },
        synGiveUpAfterLast: 64 * second, ephemeralPorts: 32768...60999, initialTTL: 64, mss: 1460,
        windowScale: 7, synWindow: 64240, synOptions: .linux, timestamps: true, retriesAfterReset: 0,
        retryAfterResetDelay: 0)

    /// Linux 6.5 and later with tcp_syn_linear_timeouts = 4: four retransmissions 1 s apart, then doubling:
    /// SYNs at 0,1,2,3,4,5,7,11,19,35,67 s, the connect fails at 131 s (ip-sysctl.rst).
    public static let linux65: StackProfile = {
        var p = linux
        p.name = "linux-6.5"
        p.synRetransmitDelays = [1, 1, 1, 1, 1, 2, 4, 8, 16, 32].map { $0 * second }
        return p
    }()

    /// Windows 10/11 and Server 2016+: initial RTO 3 s, TcpMaxConnectRetransmissions 2: SYNs at 0, 3, 9 s, the
    /// connect fails at 21 s; after an RST it tries twice more about 0.5 s apart (both seen in the public
    /// captures in captures/reference/public/timeout). Ports 49152–65535, TTL 128, no timestamps.
    public static let windows = StackProfile(
        name: "windows", synRetransmitDelays: [3, 6].map { $0 * second }, synGiveUpAfterLast: 12 * second,
        ephemeralPorts: 49152...65535, initialTTL: 128, mss: 1460, windowScale: 8, synWindow: 64240,
        synOptions: .windows, timestamps: false, retriesAfterReset: 2, retryAfterResetDelay: 500_000_000)

    /// The profiles a scenario can name.
    public static let all: [StackProfile] = [linux, linux65, windows]

    public static func named(_ name: String) -> StackProfile? {
        switch name {
        case "linux", "linux-pre-6.5": return linux
        case "linux-6.5", "linux-6.5+": return linux65
        case "windows": return windows
        default: return nil
        }
    }
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
    /// Lambda API VpcConfig Ipv6AllowedForDualStack: its ENIs have IPv6 addresses for outbound IPv6.
    public var ipv6AllowedForDualStack = false
}

public struct Instance: Named, Sendable {
    /// What the instance's operating system does with a packet addressed to someone else.
    public enum Forwarding: String, Sendable {
        /// Nothing: it is not a router (Linux's default, net.ipv4.ip_forward=0).
        case off
        /// Forwards every packet by its subnet's route table (ip_forward=1).
        case router
        /// A firewall: forwards the packets of connections it saw open, drops a TCP segment of a connection whose
        /// SYN it did not see (the return leg of an asymmetric path).
        case stateful
        /// A NAT instance: forwards with source NAT to its own address, which is not modeled (a flow through it
        /// ends `not-modeled`).
        case nat
    }
    public var id: String
    public var name: String?
    public var eni: Int
    public var stack: StackProfile
    /// EC2's source/destination check, on by default: the instance "must be the source or destination of any
    /// traffic it sends or receives" (EC2-UG using-eni, "Source/destination checking"); an appliance that
    /// forwards needs it off.
    public var sourceDestCheck = true
    public var forwarding = Forwarding.off
    /// Whether the instance is built on the Nitro v6 system (`nitro: v6`): its security groups' tracked TCP
    /// connections then time out after 350 s idle by default instead of 5 days (EC2 API
    /// ConnectionTrackingSpecification, TcpEstablishedTimeout).
    public var nitroV6 = false
    /// The interface MTU, bytes (`mtu:`; default `assumptions.instance_mtu`); `stack.mss` follows it.
    public var mtu = 9001
    /// The instance's other network interfaces (`network_interfaces:`), by device index (1, 2, …), each in a
    /// subnet of the primary's AZ, with its own security groups and source/destination check
    /// (`secondarySourceDestCheck`, the same order).
    public var secondaryENIs: [Int] = []
    public var secondarySourceDestCheck: [Bool] = []
}

/// What answers on a port of an outside host.
public enum PortBehaviour: Sendable, Equatable {
    /// A server that speaks the application ("sftp", "https", "tcp"); "hang" accepts and never speaks.
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
    /// The host's link, bits per second: the bottleneck of its flows unless the other end's is narrower
    /// (`bandwidth:`); 0: `assumptions.outside_host_bandwidth_mbps`.
    public var bandwidth: Int64 = 0
    /// An on-premises host's customer gateway (`VPCModel.customerGateways`): reached through that gateway's
    /// VPN connections, never across the internet; its `rtt` is the round trip between the AWS end of the
    /// tunnel and the host. nil for a host on the internet.
    public var customerGateway: Int? = nil
    /// The host's interface MTU (`mtu:`; default `assumptions.outside_host_mtu`); `stack.mss` follows it.
    public var mtu = 1500
    /// The MTU of the link in front of the host (`path_mtu:`, a PPPoE line or a VPN on the way); 0: none smaller
    /// than the host's own. A packet bigger than it with DF set is dropped by the router there, which sends ICMP
    /// "fragmentation needed" (type 3 code 4) with this MTU back to the sender (RFC 1191).
    public var pathMTU = 0
    /// Its IPv6 address (`ipv6:`), nil for none. A host with only an IPv6 address has `hasIPv4` false and an
    /// `address` of 0.0.0.0.
    public var ipv6Address: IPv6Address? = nil
    public var hasIPv4 = true

    public func behaviour(on port: UInt16) -> PortBehaviour { ports[port] ?? otherPorts }
}
