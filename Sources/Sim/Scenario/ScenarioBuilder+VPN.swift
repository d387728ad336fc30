import Packets
import Yams

/// Virtual private gateways (`vpn_gateways:`), customer gateways (`customer_gateways:`), Site-to-Site VPN
/// connections (`vpn_connections:`) and the on-premises networks behind customer gateways (`onprem_networks:`,
/// with their hosts), read after the route tables (a table's `propagating_vgws:` names gateways) and before the
/// transit gateways (a VPN attachment names its connection).
extension ScenarioBuilder {
    mutating func readVPN(_ top: YAMLFields) throws {
        for item in try top.list("vpn_gateways") ?? [] {
            var f = try r.fields(item, what: "virtual private gateway", allowed: ["id", "name", "vpc", "amazon_side_asn"])
            let index = model.vpnGateways.count
            let (id, name) = try identify(&f, .vpnGateway, index: index)
            let vpc = try f["vpc"].map { try resolve($0, .vpc, key: "vpc") }
            if let vpc, let other = model.vpnGateways.first(where: { $0.vpc == vpc }) {
                // EC2 AttachVpnGateway: a VPC takes one virtual private gateway.
                throw r.error(at: f["vpc"], "\(model.vpcs[vpc].id) already has virtual private gateway \(other.id)")
            }
            let asn = try f.integer("amazon_side_asn", range: 1...4_294_967_294)
            model.vpnGateways.append(VPNGatewaySpec(id: id, name: name, vpc: vpc, amazonSideASN: asn))
        }
        for item in try top.list("customer_gateways") ?? [] {
            var f = try r.fields(item, what: "customer gateway", allowed: ["id", "name", "ip_address", "bgp_asn"])
            let index = model.customerGateways.count
            let (id, name) = try identify(&f, .customerGateway, index: index)
            let address = try r.address(f.require("ip_address"), key: "ip_address")
            let asn = try f.integer("bgp_asn", range: 1...4_294_967_294)
            model.customerGateways.append(CustomerGatewaySpec(id: id, name: name, address: address, bgpASN: asn))
        }
        for item in try top.list("vpn_connections") ?? [] { try readVPNConnection(item) }
        try readOnPremNetworks(top.list("onprem_networks") ?? [])
        for (t, node) in pendingPropagations {
            let rt = model.routeTables[t]
            for n in try r.list(node, key: "propagating_vgws") {
                let g = try resolve(n, .vpnGateway, key: "propagating_vgws")
                guard model.vpnGateways[g].vpc == rt.vpc else {
                    throw r.error(at: n, "\(model.vpnGateways[g].id) is not attached to \(model.vpcs[rt.vpc].id) of "
                                  + "route table \(rt.id)")
                }
                if model.routeTables[t].propagatingVGWs.contains(g) {
                    throw r.error(at: n, "\(model.vpnGateways[g].id) is listed twice")
                }
                model.routeTables[t].propagatingVGWs.append(g)
            }
        }
        try resolveVGWEdgeAssociations()
    }

    private mutating func readVPNConnection(_ item: Node) throws {
        var f = try r.fields(item, what: "VPN connection", allowed: [
            "id", "name", "vpn_gateway", "customer_gateway", "static_routes_only", "static_routes", "bgp_prefixes",
            "tunnels", "active_tunnel", "esp_view", "nat_traversal", "tunnel_inside_ip_version",
        ])
        let index = model.vpnConnections.count
        let (id, name) = try identify(&f, .vpnConnection, index: index)
        // Without vpn_gateway, a transit gateway's VPN attachment must name the connection (checked after them).
        var gateway = VPNConnectionSpec.Gateway.transitGateway(attachment: -1)
        if let n = f["vpn_gateway"] {
            let g = try resolve(n, .vpnGateway, key: "vpn_gateway")
            guard model.vpnGateways[g].vpc != nil else {
                throw r.error(at: n, "\(model.vpnGateways[g].id) is not attached to a VPC")
            }
            gateway = .vpnGateway(g)
        }
        let cgw = try resolve(f.require("customer_gateway"), .customerGateway, key: "customer_gateway")
        let inside6 = try readTunnelInsideVersion(f, onVGW: f.has("vpn_gateway"))
        // A connection's tunnels carry one address family (TunnelInsideIpVersion): its routes are of that family.
        func cidrs(_ key: String) throws -> (v4: [IPv4CIDR], v6: [IPv6CIDR]) {
            var v4: [IPv4CIDR] = [], v6: [IPv6CIDR] = []
            for n in try f.list(key) ?? [] {
                let c = try r.eitherCIDR(n, key: key)
                var text = "", isV6 = false, twice = false
                switch c {
                case .v4(let c4): (text, twice) = (c4.description, v4.contains(c4)); if !inside6 { v4.append(c4) }
                case .v6(let c6): (text, isV6, twice) = (c6.description, true, v6.contains(c6)); if inside6 { v6.append(c6) }
                }
                guard isV6 == inside6 else {
                    throw r.error(at: n, "VPN connection \(id) carries \(inside6 ? "IPv6" : "IPv4") inside its tunnels "
                                  + "(tunnel_inside_ip_version \(inside6 ? "ipv6" : "ipv4")): \(key) takes "
                                  + "\(inside6 ? "IPv6" : "IPv4") CIDRs, not \(text)")
                }
                if twice { throw r.error(at: n, "\(key) lists \(text) twice") }
            }
            return (v4, v6)
        }
        let statics = try cidrs("static_routes"), bgpBoth = try cidrs("bgp_prefixes")
        let bgp = bgpBoth.v4
        // EC2 CreateVpnConnection Options.StaticRoutesOnly: static routes, or the prefixes BGP brings.
        let staticOnly = try f.bool("static_routes_only") ?? (bgp.isEmpty && bgpBoth.v6.isEmpty)
        if staticOnly, !bgp.isEmpty || !bgpBoth.v6.isEmpty {
            throw r.error(at: f.keyNode("bgp_prefixes"), "VPN connection \(id) uses static routing "
                          + "(static_routes_only: true): bgp_prefixes does not apply")
        }
        if !staticOnly, !statics.v4.isEmpty || !statics.v6.isEmpty {
            throw r.error(at: f.keyNode("static_routes"), "VPN connection \(id) uses BGP (static_routes_only: false): "
                          + "static routes need static_routes_only: true")
        }
        var tunnels: [IPv4Address] = []
        if let n = f["tunnels"] {
            let list = try r.list(n, key: "tunnels")
            guard list.count <= 2 else { throw r.error(at: n, "a VPN connection has two tunnels, not \(list.count)") }
            tunnels = try list.map { try r.address($0, key: "tunnels") }
        }
        let active = (try f.integer("active_tunnel", range: 1...2) ?? 1) - 1
        let espView = try f.bool("esp_view") ?? false, natTraversal = try f.bool("nat_traversal") ?? false
        if natTraversal, !espView {
            throw r.error(at: f.keyNode("nat_traversal"), "nat_traversal applies to the ESP view (esp_view: true)")
        }
        if espView, active >= tunnels.count {
            throw r.error(at: f.keyNode("esp_view"), "the ESP view needs the active tunnel's outside address: give "
                          + "tunnels: [AWS address of tunnel 1, of tunnel 2]")
        }
        model.vpnConnections.append(VPNConnectionSpec(
            id: id, name: name, gateway: gateway, customerGateway: cgw, staticRoutesOnly: staticOnly,
            staticRoutes: statics.v4, bgpPrefixes: bgp, tunnelOutsideAddresses: tunnels, activeTunnel: active,
            espView: espView, natTraversal: natTraversal, insideIPv6: inside6, staticRoutes6: statics.v6,
            bgpPrefixes6: bgpBoth.v6))
        if case .vpnGateway(let g) = gateway { model.vpnGateways[g].connections.append(index) }
    }

    /// `tunnel_inside_ip_version`: ipv4 (the default, EC2 API VpnConnectionOptionsSpecification TunnelInsideIpVersion
    /// "Default: ipv4") or ipv6, which a connection to a virtual private gateway cannot take (VPN-UG how_it_works:
    /// "Virtual private gateways do not support IPv6 for Site-to-Site VPN connections").
    private func readTunnelInsideVersion(_ f: YAMLFields, onVGW: Bool) throws -> Bool {
        guard let n = f["tunnel_inside_ip_version"] else { return false }
        let v = try r.word(n, key: "tunnel_inside_ip_version")
        guard v == "ipv4" || v == "ipv6" else {
            throw r.error(at: n, "invalid tunnel_inside_ip_version '\(v)' (expected ipv4 or ipv6)")
        }
        if v == "ipv6", onVGW {
            throw r.error(at: n, "\(f.what): a virtual private gateway does not support IPv6 for Site-to-Site VPN "
                          + "connections (VPN-UG how_it_works); tunnel_inside_ip_version ipv6 needs a transit gateway's "
                          + "VPN attachment")
        }
        return v == "ipv6"
    }

    private mutating func readOnPremNetworks(_ items: [Node]) throws {
        var names: [String: Int] = [:]
        var addresses: [UInt32: String] = [:]
        for item in items {
            let f = try r.fields(item, what: "on-premises network", allowed: ["name", "customer_gateway", "cidrs", "hosts"])
            let nameNode = try f.require("name")
            let name = try r.word(nameNode, key: "name")
            if model.onPremNetworks.contains(where: { $0.name == name }) {
                throw r.error(at: nameNode, "duplicate on-premises network name '\(name)'")
            }
            let cgw = try resolve(f.require("customer_gateway"), .customerGateway, key: "customer_gateway")
            let cidrsNode = try f.require("cidrs")
            var cidrs: [IPv4CIDR] = [], cidrs6: [IPv6CIDR] = []
            for n in try r.list(cidrsNode, key: "cidrs") {
                switch try r.eitherCIDR(n, key: "cidrs") {
                case .v4(let c): cidrs.append(c)
                case .v6(let c): cidrs6.append(c)
                }
            }
            guard !cidrs.isEmpty || !cidrs6.isEmpty else {
                throw r.error(at: cidrsNode, "on-premises network \(name) has no cidrs")
            }
            for c in cidrs {
                if let v = model.vpcs.first(where: { $0.cidrBlocks.contains { $0.contains(c.network) || c.contains($0.network) } }) {
                    throw r.error(at: cidrsNode, "on-premises CIDR \(c) overlaps \(v.id) (overlapping networks over a "
                                  + "VPN are not modeled)")
                }
            }
            for c in cidrs6 {
                if let v = model.vpcs.first(where: { $0.ipv6CidrBlocks.contains { $0.overlaps(c) } }) {
                    throw r.error(at: cidrsNode, "on-premises CIDR \(c) overlaps \(v.id) (overlapping networks over a "
                                  + "VPN are not modeled)")
                }
            }
            model.onPremNetworks.append(OnPremNetworkSpec(name: name, customerGateway: cgw, cidrs: cidrs, ipv6Cidrs: cidrs6))
            let all = (cidrs.map(\.description) + cidrs6.map(\.description)).joined(separator: ", ")
            for h in try f.list("hosts") ?? [] {
                var host = try readOutsideHost(h, names: &names, addresses: &addresses, what: "on-premises host")
                if host.hasIPv4, !cidrs.contains(where: { $0.contains(host.address) }) {
                    throw r.error(at: h, "on-premises host \(host.id) \(host.address) is outside network \(name) (\(all))")
                }
                if let a = host.ipv6Address, !cidrs6.contains(where: { $0.contains(a) }) {
                    throw r.error(at: h, "on-premises host \(host.id) \(a) is outside network \(name) (\(all))")
                }
                host.customerGateway = cgw
                model.outsideHosts.append(host)
            }
        }
    }

    /// Every VPN connection without a virtual private gateway is bound by a transit gateway's VPN attachment.
    func checkVPNConnectionsBound(_ top: YAMLFields) throws {
        for c in model.vpnConnections where c.gateway == .transitGateway(attachment: -1) {
            throw r.error(at: top.keyNode("vpn_connections"), "VPN connection \(c.id) has neither a vpn_gateway nor "
                          + "a transit gateway attachment (type: vpn, vpn_connection: \(c.id))")
        }
    }

    /// A transit gateway's VPN attachment to connection `node` names: it must have no other gateway.
    mutating func bindVPNAttachment(_ node: Node, attachment a: Int) throws -> Int {
        let c = try resolve(node, .vpnConnection, key: "vpn_connection")
        guard model.vpnConnections[c].gateway == .transitGateway(attachment: -1) else {
            throw r.error(at: node, "VPN connection \(model.vpnConnections[c].id) already ends at "
                          + { switch model.vpnConnections[c].gateway {
                              case .vpnGateway(let g): return model.vpnGateways[g].id
                              case .transitGateway(let b): return model.tgwAttachments[b].id
                          } }())
        }
        model.vpnConnections[c].gateway = .transitGateway(attachment: a)
        return c
    }

    /// A VPC route's target that names a virtual private gateway of the scenario (by id or name): it must be
    /// attached to the table's VPC. nil: no such gateway.
    func vpnGatewayTarget(_ ref: String, node: Node, destination: IPv4CIDR, table rt: RouteTableSpec) throws
        -> Route.Target?
    {
        guard case .one(let g) = registry(.vpnGateway).find(ref) else { return nil }
        guard model.vpnGateways[g].vpc == rt.vpc else {
            throw r.error(at: node, "route target \(model.vpnGateways[g].id) is not attached to \(model.vpcs[rt.vpc].id) "
                          + "of route table \(rt.id)")
        }
        try requireOutsideVPC(destination, node: node, vpc: rt.vpc, target: model.vpnGateways[g].id)
        return .vpnGateway(g)
    }
}
