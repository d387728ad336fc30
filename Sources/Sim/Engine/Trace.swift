import Packets

/// What the network did with a packet at one step, as data: the component, what it decided, and the rule.
public struct Step: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case securityGroupEgress = "security-group-egress"
        case securityGroupIngress = "security-group-ingress"
        case naclOutbound = "nacl-outbound"
        case naclInbound = "nacl-inbound"
        case route
        case natGateway = "nat-gateway"
        case internetGateway = "internet-gateway"
        /// An egress-only internet gateway (`EgressOnlyInternetGateway`).
        case egressOnlyInternetGateway = "egress-only-internet-gateway"
        case internet
        /// An instance that forwards packets (a router or firewall appliance).
        case appliance
        case vpcEndpoint = "vpc-endpoint"
        case delivered
        /// A VPC peering connection (`VPCPeering`).
        case peering
        /// A transit gateway attachment (entering or leaving the gateway) and a TGW route table.
        case transitGateway = "transit-gateway"
        case transitGatewayRoute = "tgw-route"
        /// A virtual private gateway and a Site-to-Site VPN connection's tunnel (`VPNGateway`).
        case vpnGateway = "vpn-gateway"
        case vpnConnection = "vpn-connection"
        /// A link smaller than the packet (an outside host's `path_mtu`): the router before it drops a packet with
        /// DF set and sends ICMP "fragmentation needed" (`VPCNetwork+PathMTU.swift`).
        case pathMTU = "path-mtu"
    }
    public enum Action: String, Sendable, Codable {
        case allowed, denied, forwarded, translated, dropped, delivered
        /// Routed to a component the model does not have: the packet goes no further, and no network verdict
        /// is given.
        case notModeled = "not-modeled"
    }
    public var kind: Kind
    /// The component's id ("acl-0a1b…") and how people know it ("acl-0a1b… (public)").
    public var component: String
    public var componentDisplay: String
    public var action: Action
    /// The deciding rule as the console writes it.
    public var rule: String
    public var detail: String?

    public init(kind: Kind, component: String, componentDisplay: String, action: Action, rule: String,
                detail: String? = nil) {
        self.kind = kind
        self.component = component
        self.componentDisplay = componentDisplay
        self.action = action
        self.rule = rule
        self.detail = detail
    }

    /// One line for people: "acl-0a1b (public) outbound: * DENY all 0.0.0.0/0 → dropped".
    public var text: String {
        var s = "\(componentDisplay) \(kindLabel): \(rule)"
        if let detail { s += " (\(detail))" }
        if action == .denied || action == .dropped { s += " → DROPPED" }
        if action == .notModeled { s += " → NOT MODELED" }
        return s
    }

    var kindLabel: String {
        switch kind {
        case .securityGroupEgress: return "egress"
        case .securityGroupIngress: return "ingress"
        case .naclOutbound: return "outbound"
        case .naclInbound: return "inbound"
        case .route: return "route"
        case .natGateway: return "NAT"
        case .internetGateway: return "IGW"
        case .egressOnlyInternetGateway: return "EIGW"
        case .internet: return "internet"
        case .appliance: return "appliance"
        case .vpcEndpoint: return "endpoint"
        case .delivered: return "delivered"
        case .peering: return "peering"
        case .transitGateway: return "TGW"
        case .transitGatewayRoute: return "route"
        case .vpnGateway: return "VGW"
        case .vpnConnection: return "VPN"
        case .pathMTU: return "path MTU"
        }
    }

    public var isDrop: Bool { action == .denied || action == .dropped }
}

/// Where and why a flow's packets died.
public struct DropInfo: Sendable, Equatable {
    /// "nacl", "security-group", "route", "internet-gateway", "nat-gateway".
    public var kind: String
    public var component: String
    public var componentDisplay: String
    /// "inbound"/"outbound" for NACLs, "egress"/"ingress" for security groups, nil otherwise.
    public var direction: String?
    public var rule: String
    /// The first dropped packet, e.g. "tcp 10.0.0.5:1024 → 203.0.113.22:22 [SYN]".
    public var packet: String
    public var firstTime: Int64
    public var count: Int
    /// Of those packets, how many were fragments, and how many datagrams they were (counted by their first
    /// fragments): the report lists a datagram's fragments once ("3 datagrams (9 fragments)").
    public var fragments = 0
    public var datagrams = 0
    /// The first dropped packet's addresses and ports, and whether the flow's client sent it.
    public var key: PacketKey
    public var fromClient: Bool
    public var tcpFlags: TCPFlags?
}
