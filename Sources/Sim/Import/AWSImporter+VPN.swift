import Packets

extension AWSConverter {
    /// describe-vpn-gateways, describe-customer-gateways, describe-vpn-connections: each available virtual
    /// private gateway attached to an imported VPC, each available customer gateway, and each available VPN
    /// connection between two of them. A connection's routes toward on-premises: its static routes (Routes,
    /// Source Static) when Options.StaticRoutesOnly, else (BGP) the prefixes its gateway propagates into the
    /// dump's route tables (routes of Origin EnableVgwRoutePropagation: describe-vpn-connections does not list
    /// what BGP learned). The active tunnel is the first whose VgwTelemetry Status is UP. Runs before the route
    /// tables (their PropagatingVgws and routes name the gateways).
    mutating func readVPN() {
        for (id, item) in unique("VpnGateways", idKey: "VpnGatewayId") {
            let j = item.json
            guard j.awsStr("State").map({ $0 == "available" }) ?? true else {
                warn(.inactive, id, "virtual private gateway is \(j.awsStr("State") ?? "?"); left out")
                continue
            }
            let attached = j.awsObjs("VpcAttachments").filter { $0.awsStr("State").map { $0 == "attached" } ?? true }
            guard let vpc = attached.compactMap({ $0.awsStr("VpcId") }).first(where: { vpcIndex[$0] != nil }) else {
                warn(.missingReference, id, "virtual private gateway is attached to no VPC of the dump; left out (routes to "
                     + "it stay not modelled)")
                continue
            }
            if let other = plan.vgws.first(where: { $0.vpc == vpc }) {
                // EC2 AttachVpnGateway: one virtual private gateway per VPC (the loader refuses a second).
                warn(.repaired, id, "\(vpc) already has virtual private gateway \(other.id); left out")
                continue
            }
            allIDs.insert(id)
            plan.vgws.append(.init(id: id, name: j.awsNameTag, vpc: vpc, asn: asn(j.awsInt("AmazonSideAsn"), id)))
        }
        for (id, item) in unique("CustomerGateways", idKey: "CustomerGatewayId") {
            let j = item.json
            guard j.awsStr("State").map({ $0 == "available" }) ?? true else {
                warn(.inactive, id, "customer gateway is \(j.awsStr("State") ?? "?"); left out")
                continue
            }
            guard let ip = j.awsStr("IpAddress").flatMap(IPv4Address.init) else {
                warn(.repaired, id, "customer gateway without an IPv4 IpAddress; left out")
                continue
            }
            allIDs.insert(id)
            plan.cgws.append(.init(id: id, name: j.awsNameTag, ip: ip, asn: asn(j.awsInt("BgpAsn"), id)))
        }
        // What each gateway propagates into the dump's route tables: the BGP connections' prefixes.
        var propagated: [String: [IPv4CIDR]] = [:]
        for item in dump["RouteTables"] {
            for r in item.json.awsObjs("Routes") where r.awsStr("Origin") == "EnableVgwRoutePropagation" {
                guard let g = r.awsStr("GatewayId"), let c = r.awsStr("DestinationCidrBlock").flatMap({ try? IPv4CIDR(parsing: $0) }),
                      !(propagated[g] ?? []).contains(c) else { continue }
                propagated[g, default: []].append(c)
            }
        }
        for (id, item) in unique("VpnConnections", idKey: "VpnConnectionId") {
            let j = item.json
            guard j.awsStr("State").map({ $0 == "available" }) ?? true else {
                warn(.inactive, id, "VPN connection is \(j.awsStr("State") ?? "?"); left out")
                continue
            }
            // A connection to a transit gateway: kept if its vpn attachment is imported (`readTransitGateways`).
            let tgw = j.awsStr("TransitGatewayId")
            let gateway = tgw == nil ? j.awsStr("VpnGatewayId") : ""
            guard let g = gateway, tgw != nil || plan.vgws.contains(where: { $0.id == g }),
                  let c = j.awsStr("CustomerGatewayId"), plan.cgws.contains(where: { $0.id == c }) else {
                warn(.missingReference, id, "VPN connection between \(tgw ?? j.awsStr("VpnGatewayId") ?? "?") and "
                     + "\(j.awsStr("CustomerGatewayId") ?? "?"), not both imported; left out")
                continue
            }
            let staticOnly = j.awsObj("Options")?.awsBool("StaticRoutesOnly") ?? false
            // Options.TunnelInsideIpVersion (default ipv4): the family its tunnels carry and its routes are of.
            let inside6 = j.awsObj("Options")?.awsStr("TunnelInsideIpVersion") == "ipv6"
            var statics: [IPv4CIDR] = [], statics6: [IPv6CIDR] = []
            for r in j.awsObjs("Routes") where (r.awsStr("State").map { $0 == "available" } ?? true) {
                guard let text = r.awsStr("DestinationCidrBlock") ?? r.awsStr("DestinationIpv6CidrBlock") else { continue }
                if inside6 {
                    guard let c = try? IPv6CIDR(parsing: text) else {
                        warn(.repaired, id, "static route \(text) of a connection whose tunnels carry IPv6: not an IPv6 "
                             + "CIDR; left out")
                        continue
                    }
                    if !statics6.contains(c) { statics6.append(c) }
                    continue
                }
                guard let cidr = cidr(text, id, "static route"), !statics.contains(cidr) else { continue }
                statics.append(cidr)
            }
            var bgp: [IPv4CIDR] = []
            if !staticOnly {
                bgp = tgw == nil ? propagated[g] ?? [] : []  // at a transit gateway: its route tables' (`addTGWRoute`)
                if !statics.isEmpty || !statics6.isEmpty {
                    warn(.repaired, id, "static routes of a BGP connection left out (the gateway's propagated routes are "
                         + "its prefixes)")
                }
            }
            let telemetry = j.awsObjs("VgwTelemetry")
            var tunnels = telemetry.compactMap { $0.awsStr("OutsideIpAddress").flatMap(IPv4Address.init) }
            if tunnels.isEmpty {
                tunnels = (j.awsObj("Options")?.awsObjs("TunnelOptions") ?? []).compactMap {
                    $0.awsStr("OutsideIpAddress").flatMap(IPv4Address.init)
                }
            }
            tunnels = Array(tunnels.prefix(2))
            let up = telemetry.firstIndex { $0.awsStr("Status") == "UP" } ?? 0
            allIDs.insert(id)
            plan.vpnConnections.append(.init(id: id, name: j.awsNameTag, vgw: g, cgw: c,
                                             staticOnly: staticOnly, staticRoutes: staticOnly ? statics : [],
                                             bgpPrefixes: bgp, tunnels: tunnels, activeTunnel: up < tunnels.count ? up : 0,
                                             tgw: tgw, insideIPv6: inside6, staticRoutes6: staticOnly ? statics6 : []))
        }
        counts.vpnConnections = plan.vpnConnections.count
    }

    /// An ASN the loader takes (1-4294967294), else nil with a warning.
    mutating func asn(_ value: Int?, _ id: String) -> Int? {
        guard let v = value else { return nil }
        guard (1...4_294_967_294).contains(v) else {
            warn(.repaired, id, "ASN \(v) is outside 1-4294967294; left out")
            return nil
        }
        return v
    }
}

extension ScenarioYAMLWriter {
    /// `vpn_gateways:`, `customer_gateways:` and `vpn_connections:` of an import (nothing when it has none).
    static func vpnSections(_ p: ImportPlan) -> [String] {
        var o: [String] = []
        func section(_ key: String, _ lines: [String]) {
            guard !lines.isEmpty else { return }
            o.append("")
            o.append("\(key):")
            o += lines
        }
        section("vpn_gateways", p.vgws.map { g in
            "  - {id: \(g.id)\(name(g.name)), vpc: \(g.vpc)\(g.asn.map { ", amazon_side_asn: \($0)" } ?? "")}"
        })
        let cgws = p.cgws.filter { c in p.vpnConnections.contains { $0.cgw == c.id } }
        section("customer_gateways", cgws.map { c in
            "  - {id: \(c.id)\(name(c.name)), ip_address: \(c.ip)\(c.asn.map { ", bgp_asn: \($0)" } ?? "")}"
        })
        section("vpn_connections", p.vpnConnections.map { c in
            var s = "  - {id: \(c.id)\(name(c.name)), " + (c.tgw == nil ? "vpn_gateway: \(c.vgw), " : "")
                + "customer_gateway: \(c.cgw), "
                + (c.insideIPv6 ? "tunnel_inside_ip_version: ipv6, " : "")
                + "static_routes_only: \(c.staticOnly)"
            let routes = c.insideIPv6 ? (c.staticOnly ? c.staticRoutes6 : c.bgpPrefixes6).map { quote($0.description) }
                : (c.staticOnly ? c.staticRoutes : c.bgpPrefixes).map(\.description)
            s += ", \(c.staticOnly ? "static_routes" : "bgp_prefixes"): [\(routes.joined(separator: ", "))]"
            if !c.tunnels.isEmpty {
                s += ", tunnels: [\(c.tunnels.map(\.description).joined(separator: ", "))], active_tunnel: \(c.activeTunnel + 1)"
            }
            return s + "}"
        })
        return o
    }
}
