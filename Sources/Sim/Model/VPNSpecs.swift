import Packets

/// A virtual private gateway (VPN-UG how_it_works, "Virtual private gateway"): the VPN concentrator on the
/// Amazon side of Site-to-Site VPN connections, attached to one VPC. It has no ENI in the VPC.
public struct VPNGatewaySpec: Named, Sendable {
    public var id: String
    public var name: String?
    /// The VPC it is attached to; nil when detached (routes to it are then refused).
    public var vpc: Int?
    public var amazonSideASN: Int?
    /// Its VPN connections (`VPCModel.vpnConnections`), in file order.
    public var connections: [Int] = []
}

/// A customer gateway (VPN-UG how_it_works, "Customer gateway"): the device at the on-premises end of VPN
/// connections, known to AWS by its public IP address.
public struct CustomerGatewaySpec: Named, Sendable {
    public var id: String
    public var name: String?
    public var address: IPv4Address
    public var bgpASN: Int?
}

/// A Site-to-Site VPN connection between a virtual private gateway or a transit gateway (through a VPN
/// attachment) and a customer gateway. Its routes toward on-premises: static routes (static routing) or the
/// prefixes the customer gateway advertises over BGP (dynamic routing); both reach a route table that
/// propagates the gateway. Two tunnels, the active one carries the packets.
public struct VPNConnectionSpec: Named, Sendable {
    public enum Gateway: Sendable, Equatable {
        case vpnGateway(Int)
        /// Its transit gateway attachment (`VPCModel.tgwAttachments`) of type vpn.
        case transitGateway(attachment: Int)
    }
    public var id: String
    public var name: String?
    public var gateway: Gateway
    public var customerGateway: Int
    /// Static routing (EC2 CreateVpnConnection StaticRoutesOnly) or BGP.
    public var staticRoutesOnly: Bool
    public var staticRoutes: [IPv4CIDR]
    public var bgpPrefixes: [IPv4CIDR]
    /// The tunnels' outside (public) addresses on the AWS side, in order; `activeTunnel` indexes them.
    public var tunnelOutsideAddresses: [IPv4Address]
    public var activeTunnel: Int
    /// Whether the tunnel is also captured wrapped in ESP between its outside addresses (`ESPTunnelView`), in UDP
    /// port 4500 with `natTraversal`.
    public var espView = false
    public var natTraversal = false
    /// TunnelInsideIpVersion ipv6 (EC2 API VpnConnectionOptions: "Indicates whether the VPN tunnels process IPv4 or
    /// IPv6 traffic"; VPN-UG how_it_works: on a transit gateway only): the tunnels carry IPv6 packets and no IPv4
    /// ones, and its routes toward on-premises are IPv6 (`staticRoutes6`, `bgpPrefixes6`; the IPv4 lists empty).
    public var insideIPv6 = false
    public var staticRoutes6: [IPv6CIDR] = []
    public var bgpPrefixes6: [IPv6CIDR] = []

    /// The prefixes it routes toward the customer gateway: its static routes or its BGP prefixes.
    public var prefixes: [IPv4CIDR] { staticRoutesOnly ? staticRoutes : bgpPrefixes }
    public var prefixes6: [IPv6CIDR] { staticRoutesOnly ? staticRoutes6 : bgpPrefixes6 }
    /// "ipv4" or "ipv6", as the API writes TunnelInsideIpVersion.
    public var insideVersion: String { insideIPv6 ? "ipv6" : "ipv4" }
}

/// An on-premises network behind a customer gateway: its CIDR blocks; its hosts are outside hosts whose
/// `customerGateway` is this network's.
public struct OnPremNetworkSpec: Sendable {
    public var name: String
    public var customerGateway: Int
    public var cidrs: [IPv4CIDR]
    /// Its IPv6 blocks, reached through a connection whose tunnels carry IPv6.
    public var ipv6Cidrs: [IPv6CIDR] = []
}

extension VPCModel {
    /// The routes route table `t` receives from the virtual private gateways it propagates (VPC-UG
    /// VPC_Route_Tables, "Route propagation"): each VPN connection's static routes or BGP prefixes, longest
    /// prefix first, each prefix once (the first gateway and connection listed that brings it).
    public func propagatedRoutes(_ t: Int) -> [(cidr: IPv4CIDR, vpnGateway: Int)] {
        var out: [(cidr: IPv4CIDR, vpnGateway: Int)] = []
        for g in routeTables[t].propagatingVGWs {
            for c in vpnGateways[g].connections {
                for p in vpnConnections[c].prefixes where !out.contains(where: { $0.cidr == p }) {
                    out.append((p, g))
                }
            }
        }
        return out.enumerated().sorted { a, b in
            a.element.cidr.prefixLength != b.element.cidr.prefixLength
                ? a.element.cidr.prefixLength > b.element.cidr.prefixLength : a.offset < b.offset
        }.map(\.element)
    }

    /// The on-premises network holding `address` behind customer gateway `cgw`, if any.
    public func onPremNetwork(holding address: IPv4Address, behind cgw: Int) -> Int? {
        onPremNetworks.firstIndex { $0.customerGateway == cgw && $0.cidrs.contains { $0.contains(address) } }
    }
}
