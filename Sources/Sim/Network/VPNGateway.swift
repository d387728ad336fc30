import Packets

/// Virtual private gateways and Site-to-Site VPN connections: the way between a VPC (or a transit gateway) and
/// an on-premises network behind a customer gateway (VPN-UG how_it_works).
///
/// A packet a VPC route table sends to a virtual private gateway (a static route to `vgw-…`, or a route the
/// table received by route propagation) leaves its subnet (that subnet's NACL outbound; the gateway has no ENI
/// in the VPC, so no other NACL or security group applies). The gateway sends it into the VPN connection whose
/// routes toward the customer gateway hold the destination — its static routes, or the prefixes the customer
/// gateway advertises over BGP — longest prefix first; none holds it: dropped at the gateway. The packet crosses
/// the connection's active tunnel (captured there: the inner packet) to the customer gateway and on to the
/// on-premises host. A transit gateway reaches a VPN connection the same way through its VPN attachment.
///
/// The way back: the customer gateway sends a packet for an address of the VPC its connection reaches (the
/// gateway's VPC, or a VPC attached to the transit gateway) into the tunnel; at the virtual private gateway the
/// VPC's local route leads it to the ENI holding the address, through that ENI's subnet's NACL inbound and its
/// security groups (a transit gateway routes it by the table associated with the VPN attachment).
///
/// The dispatcher (`VPCNetwork+VPN.swift`) asks `connection` for the tunnel a packet takes, `returnConnection`
/// for the way back, and records the steps made here.
final class VPNGateway {
    /// VPN-UG vpn-limits: "maximum transmission unit (MTU) … 1446 bytes" inside the tunnel, "maximum segment
    /// size (MSS) … 1406 bytes" (AES-GCM, without NAT-T). Named in the tunnel's capture and steps; the
    /// tunnel enforces the assumption `vpn_tunnel_mtu` (1446 unless overridden).
    static let innerMTU = 1446
    static let innerMSS = 1406

    /// Each gateway's routes toward its connections, longest prefix first: `routes[start[g]..<start[g + 1]]`.
    private let routes: [(cidr: IPv4CIDR, connection: Int32)]
    private let start: [Int32]
    /// Each outside host's customer gateway (-1: a host on the internet), looked up for every packet a host sends.
    private let customerGatewayOf: [Int32]
    private let model: VPCModel

    init(_ model: VPCModel) {
        self.model = model
        customerGatewayOf = model.outsideHosts.map { Int32($0.customerGateway ?? -1) }
        var routes: [(cidr: IPv4CIDR, connection: Int32)] = []
        var start: [Int32] = []
        for g in model.vpnGateways {
            start.append(Int32(routes.count))
            var mine: [(cidr: IPv4CIDR, connection: Int32)] = []
            for c in g.connections {
                for p in model.vpnConnections[c].prefixes { mine.append((p, Int32(c))) }
            }
            routes += mine.enumerated().sorted { a, b in
                a.element.cidr.prefixLength != b.element.cidr.prefixLength
                    ? a.element.cidr.prefixLength > b.element.cidr.prefixLength : a.offset < b.offset
            }.map(\.element)
        }
        start.append(Int32(routes.count))
        self.routes = routes
        self.start = start
    }

    /// The customer gateway outside host `host` sits behind, nil for a host on the internet.
    @inline(__always)
    func customerGateway(ofHost host: Int) -> Int? {
        let g = customerGatewayOf[host]
        return g < 0 ? nil : Int(g)
    }

    /// The VPN connection of gateway `g` whose routes hold `destination`, nil when none does.
    @inline(__always)
    func connection(_ g: Int, _ destination: IPv4Address) -> Int? {
        for i in Int(start[g])..<Int(start[g + 1]) where routes[i].cidr.contains(destination) {
            return Int(routes[i].connection)
        }
        return nil
    }

    /// The VPN connection of customer gateway `cgw` that reaches `destination`: the first listed whose virtual
    /// private gateway's VPC holds it, or whose transit gateway has a VPC attachment whose VPC holds it (an IPv6
    /// destination, an `IPv6Token`: in the VPC's IPv6 blocks). With `anyFamily` false, only a connection whose
    /// tunnels carry the destination's family (`VPNConnectionSpec.insideIPv6`).
    func returnConnection(cgw: Int, _ destination: IPv4Address, anyFamily: Bool = false) -> Int? {
        let v6 = destination.ipv6
        func holds(_ vpc: Int) -> Bool {
            if let v6 { return model.vpcs[vpc].ipv6CidrBlocks.contains { $0.contains(v6) } }
            return model.vpcs[vpc].cidrBlocks.contains { $0.contains(destination) }
        }
        return model.vpnConnections.indices.first { c in
            let conn = model.vpnConnections[c]
            guard conn.customerGateway == cgw, anyFamily || conn.insideIPv6 == (v6 != nil) else { return false }
            switch conn.gateway {
            case .vpnGateway(let g):
                guard let vpc = model.vpnGateways[g].vpc else { return false }
                return holds(vpc)
            case .transitGateway(let a):
                let tgw = model.tgwAttachments[a].transitGateway
                return model.transitGateways[tgw].attachments.contains { b in
                    let vpc = model.tgwAttachments[b].vpc
                    return vpc >= 0 && holds(vpc)
                }
            }
        }
    }

    /// The drop of packet `p` at connection `c` when its family is not the one the tunnels carry, nil when it is.
    /// EC2 API VpnConnectionOptions TunnelInsideIpVersion: "Indicates whether the VPN tunnels process IPv4 or IPv6
    /// traffic" — one family per connection; AWS does not say what becomes of a packet of the other (no ICMP, no
    /// counter documented): the model drops it at the connection, silently.
    func wrongFamily(_ c: Int, _ p: SimPacket) -> Step? {
        let conn = model.vpnConnections[c]
        let v6 = p.ip.destination.isIPv6Token
        guard v6 != conn.insideIPv6 else { return nil }
        return step(connection: c, action: .dropped,
                    rule: "\(v6 ? "IPv6" : "IPv4") to \(p.ip.destination): the tunnels carry \(conn.insideIPv6 ? "IPv6" : "IPv4")",
                    detail: "tunnel_inside_ip_version \(conn.insideVersion): a connection's tunnels process one address "
                        + "family (EC2 API VpnConnectionOptions TunnelInsideIpVersion)")
    }

    // MARK: Steps

    /// A step of virtual private gateway `g`.
    func step(gateway g: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .vpnGateway, component: model.vpnGateways[g].id, componentDisplay: model.vpnGateways[g].display,
             action: action, rule: rule, detail: detail)
    }

    /// A step of VPN connection `c` (its tunnel).
    func step(connection c: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .vpnConnection, component: model.vpnConnections[c].id,
             componentDisplay: model.vpnConnections[c].display, action: action, rule: rule, detail: detail)
    }

    /// "tunnel 1 (18.200.1.1)", the connection's active tunnel.
    func tunnel(_ c: Int) -> String {
        let conn = model.vpnConnections[c]
        let n = conn.activeTunnel + 1
        return conn.activeTunnel < conn.tunnelOutsideAddresses.count
            ? "tunnel \(n) (\(conn.tunnelOutsideAddresses[conn.activeTunnel]))" : "tunnel \(n)"
    }

    /// Gateway `g` sends a packet for `destination` into connection `c`: "172.16.0.0/16 → vpn-0abc (static)".
    func intoConnection(_ g: Int, _ c: Int, _ destination: IPv4Address) -> Step {
        let conn = model.vpnConnections[c]
        let prefix = conn.prefixes.filter { $0.contains(destination) }.max { $0.prefixLength < $1.prefixLength }
        return step(gateway: g, action: .forwarded,
                    rule: "\(prefix.map(\.description) ?? destination.description) → \(conn.id) "
                        + (conn.staticRoutesOnly ? "(static route)" : "(BGP)"),
                    detail: "to \(model.customerGateways[conn.customerGateway].display) through \(tunnel(c)); inner "
                        + "MTU \(Self.innerMTU), MSS \(Self.innerMSS)")
    }

    /// No connection of gateway `g` routes `destination`.
    func noConnection(_ g: Int, _ destination: IPv4Address) -> Step {
        step(gateway: g, action: .dropped, rule: "no VPN connection route matches \(destination)",
             detail: "its VPN connections route only their static routes or the prefixes their customer gateways "
                 + "advertise over BGP")
    }
}
