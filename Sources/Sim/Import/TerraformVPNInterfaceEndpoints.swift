import Foundation
import Packets

/// Site-to-Site VPN and interface VPC endpoints of a plan, as the AWS CLI describes them (describe-vpn-gateways,
/// describe-customer-gateways, describe-vpn-connections, describe-vpc-endpoints), for the AWS importer to model.
extension TerraformConverter {
    /// aws_vpn_gateway (+ aws_vpn_gateway_attachment), aws_customer_gateway, aws_vpn_connection (+
    /// aws_vpn_connection_route), and route propagation: `propagating_vgws` of aws_route_table /
    /// aws_default_route_table and aws_vpn_gateway_route_propagation. After the route tables (it adds their
    /// PropagatingVgws). A connection's tunnel outside addresses are known only after apply: invented in TEST-NET
    /// (listed). A BGP connection's prefixes are what the customer gateway advertises, which no plan holds: the
    /// connection is imported with none, and a warning says so. A connection to a transit gateway (transit_gateway_id,
    /// no vpn_gateway_id) becomes that gateway's VPN attachment (`tgwVPNAttachments`, made by
    /// `readTransitGateways`), whose id is the connection's transit_gateway_attachment_id (invented when known only
    /// after apply).
    mutating func readVPN() throws {
        var attachedTo: [String: String] = [:]
        for a in managed("aws_vpn_gateway_attachment") {
            handled.insert(a)
            if let g = try ref(a, "vpn_gateway_id", ["aws_vpn_gateway"]), let v = try ref(a, "vpc_id", ["aws_vpc"]) {
                attachedTo[g] = v
            }
        }
        for r in indices("aws_vpn_gateway") {
            handled.insert(r)
            let gid = id(r)
            var j: [String: Any] = ["VpnGatewayId": gid, "State": "available", "Type": "ipsec.1", "Tags": Self.tags(nameTag(r))]
            if let vpc = try nonEmpty(ref(r, "vpc_id", ["aws_vpc"])) ?? attachedTo[gid] {
                j["VpcAttachments"] = [["VpcId": vpc, "State": "attached"]]
            }
            // The provider's amazon_side_asn is a string ("64512").
            if let asn = w.string(r, "amazon_side_asn").flatMap({ Int($0) }) ?? w.int(r, [.key("amazon_side_asn")]) {
                j["AmazonSideAsn"] = asn
            }
            add("VpnGateways", j, r)
        }
        for r in indices("aws_customer_gateway") {
            handled.insert(r)
            var j: [String: Any] = ["CustomerGatewayId": id(r), "State": "available", "Type": "ipsec.1",
                                    "Tags": Self.tags(nameTag(r))]
            if let ip = w.string(r, "ip_address") { j["IpAddress"] = ip }
            if let asn = w.string(r, "bgp_asn") ?? w.int(r, [.key("bgp_asn")]).map(String.init) { j["BgpAsn"] = asn }
            add("CustomerGateways", j, r)
        }
        var staticRoutes: [String: [String]] = [:]
        for x in managed("aws_vpn_connection_route") {
            handled.insert(x)
            guard let c = try ref(x, "vpn_connection_id", ["aws_vpn_connection"]) else { continue }
            guard let d = w.string(x, "destination_cidr_block") else {
                warn(.missingReference, address(x), "a VPN connection route whose destination is known only after apply; left out")
                continue
            }
            staticRoutes[c, default: []].append(d)
        }
        for r in indices("aws_vpn_connection") {
            handled.insert(r)
            let cid = id(r)
            let tgw = try nonEmpty(ref(r, "transit_gateway_id", ["aws_ec2_transit_gateway"]))
            guard let vgw = try tgw.map({ _ in "" }) ?? nonEmpty(ref(r, "vpn_gateway_id", ["aws_vpn_gateway"])),
                  let cgw = try nonEmpty(ref(r, "customer_gateway_id", ["aws_customer_gateway"])) else {
                warn(.missingReference, address(r), "VPN connection whose virtual private gateway or customer gateway is not "
                     + "known (a Cloud WAN or unwired connection?); left out")
                continue
            }
            let staticOnly = w.bool(r, [.key("static_routes_only")]) ?? false
            // Routes AWS knows (prior_state's `routes`), then the plan's aws_vpn_connection_route resources.
            var routes: [String] = []
            for o in (w.value(r, [.key("routes")]) as? [Any]) ?? [] {
                if let d = (o as? [String: Any])?["destination_cidr_block"] as? String, !routes.contains(d) { routes.append(d) }
            }
            for d in staticRoutes[cid] ?? [] where !routes.contains(d) { routes.append(d) }
            if !staticOnly {
                warn(.missingReference, address(r), "BGP connection: the prefixes the customer gateway advertises are not in "
                         + "a plan; imported with none (give the connection bgp_prefixes in the scenario)")
            }
            var tunnels: [[String: Any]] = []
            for k in 1...2 {
                let ip = w.string(r, "tunnel\(k)_address").flatMap { $0.isEmpty ? nil : $0 }
                    ?? inventPublic(address(r) + ".tunnel\(k)_address")
                tunnels.append(["OutsideIpAddress": ip])
            }
            // tunnel_inside_ip_version (default ipv4), as describe-vpn-connections writes it.
            let inside = w.string(r, "tunnel_inside_ip_version").flatMap { $0.isEmpty ? nil : $0 } ?? "ipv4"
            var j: [String: Any] = ["VpnConnectionId": cid, "State": "available", "Type": "ipsec.1",
                                    "CustomerGatewayId": cgw,
                                    "Options": ["StaticRoutesOnly": staticOnly, "TunnelOptions": tunnels,
                                                "TunnelInsideIpVersion": inside],
                                    "Routes": routes.map { ["DestinationCidrBlock": $0, "Source": "Static", "State": "available"] },
                                    "Tags": Self.tags(nameTag(r))]
            if let tgw {
                // describe-vpn-connections names the transit gateway instead of a virtual private gateway.
                j["TransitGatewayId"] = tgw
                tgwVPNAttachments.append((tgw: tgw, attachment: implicitID(r, "transit_gateway_attachment_id", prefix: "tgw-attach-"),
                                          connection: cid, name: nameTag(r)))
            } else {
                j["VpnGatewayId"] = vgw
            }
            add("VpnConnections", j, r)
        }
        // Route propagation from a virtual private gateway into route tables.
        var propagating: [String: [String]] = [:]
        for t in indices("aws_route_table") + managed("aws_default_route_table") {
            guard !(w.value(t, [.key("propagating_vgws")]) as? [Any] ?? []).isEmpty || w.expression(t, [.key("propagating_vgws")]) != nil
            else { continue }
            let tid: String?
            if type(t) == "aws_default_route_table" {
                tid = try ref(t, "default_route_table_id", ["aws_route_table"])
            } else {
                tid = id(t)
            }
            guard let tid else { continue }
            for g in try refs(t, [.key("propagating_vgws")], ["aws_vpn_gateway"], what: "propagating_vgws")
            where !(propagating[tid] ?? []).contains(g) {
                propagating[tid, default: []].append(g)
            }
        }
        for p in managed("aws_vpn_gateway_route_propagation") {
            handled.insert(p)
            guard let g = try ref(p, "vpn_gateway_id", ["aws_vpn_gateway"]),
                  let t = try ref(p, "route_table_id", ["aws_route_table", "aws_default_route_table"]) else { continue }
            if !(propagating[t] ?? []).contains(g) { propagating[t, default: []].append(g) }
        }
        guard !propagating.isEmpty else { return }
        var tables = dump.items["RouteTables"] ?? []
        for k in tables.indices {
            guard let tid = tables[k].json.awsStr("RouteTableId"), let gs = propagating[tid] else { continue }
            var j = tables[k].json
            j["PropagatingVgws"] = gs.map { ["GatewayId": $0] }
            tables[k] = DumpItem(json: j, origin: tables[k].origin, tgwRouteTable: tables[k].tgwRouteTable)
        }
        dump.items["RouteTables"] = tables
    }

    func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }

    /// aws_vpc_endpoint of type Interface (+ aws_vpc_endpoint_subnet_association and
    /// aws_vpc_endpoint_security_group_association): its subnets, groups (none: the VPC's default group, as
    /// CreateVpcEndpoint does), service and `private_dns_enabled` (the provider's default is false). The ENIs
    /// AWS makes in its subnets are not in the plan: the scenario names and addresses them (listed as invented).
    /// Endpoints of a service that is not an AWS one (`com.amazonaws.<region>.<service>`: PrivateLink to an
    /// endpoint service) and Gateway Load Balancer endpoints are not modeled: listed as such.
    mutating func readInterfaceEndpoints() throws {
        var extraSubnets: [String: [String]] = [:], extraGroups: [String: [String]] = [:]
        for a in managed("aws_vpc_endpoint_subnet_association") {
            handled.insert(a)
            if let e = try ref(a, "vpc_endpoint_id", ["aws_vpc_endpoint"]), let s = try ref(a, "subnet_id", ["aws_subnet"]) {
                extraSubnets[e, default: []].append(s)
            }
        }
        for a in managed("aws_vpc_endpoint_security_group_association") {
            handled.insert(a)
            if let e = try ref(a, "vpc_endpoint_id", ["aws_vpc_endpoint"]),
               let g = try ref(a, "security_group_id", ["aws_security_group", "aws_default_security_group"]) {
                extraGroups[e, default: []].append(g)
            }
        }
        for r in indices("aws_vpc_endpoint") where w.string(r, "vpc_endpoint_type") == "Interface" {
            handled.insert(r)
            let eid = id(r)
            guard let vpc = try ref(r, "vpc_id", ["aws_vpc"]), let service = w.string(r, "service_name") else {
                warn(.missingReference, address(r), "an interface endpoint whose VPC or service is known only after apply; left out")
                continue
            }
            let parts = service.split(separator: ".", omittingEmptySubsequences: false)
            guard service.hasPrefix("com.amazonaws."), parts.count >= 4, AWSConverter.isDNSName(service) else {
                warn(.notModelled, address(r), "interface endpoint for \(service), not an AWS service (PrivateLink to an "
                     + "endpoint service is not modeled); left out")
                continue
            }
            var subnets = try refs(r, [.key("subnet_ids")], ["aws_subnet"], what: "subnet_ids")
            for s in extraSubnets[eid] ?? [] where !subnets.contains(s) { subnets.append(s) }
            var groups = try refs(r, [.key("security_group_ids")], ["aws_security_group", "aws_default_security_group"],
                                  what: "security_group_ids")
            for g in extraGroups[eid] ?? [] where !groups.contains(g) { groups.append(g) }
            if groups.isEmpty, let g = defaultSG[vpc] {
                // CreateVpcEndpoint: "If you do not specify a security group, the default security group for your
                // VPC is associated with the endpoint network interface."
                groups = [g]
            }
            // The AWS importer places the endpoint's ENIs by the dump's network interfaces; a plan has none.
            var j: [String: Any] = ["VpcEndpointId": eid, "VpcEndpointType": "Interface", "VpcId": vpc, "State": "available",
                                    "ServiceName": service, "SubnetIds": subnets, "Groups": groups.map { ["GroupId": $0] },
                                    "PrivateDnsEnabled": w.bool(r, [.key("private_dns_enabled")]) ?? false,
                                    "Tags": Self.tags(nameTag(r))]
            j["NetworkInterfaceIds"] = [String]()
            // ip_address_type (ipv4, dualstack, ipv6), read as describe-vpc-endpoints' IpAddressType.
            if let t = w.string(r, "ip_address_type") { j["IpAddressType"] = t }
            add("VpcEndpoints", j, r)
            interfaceEndpointAddress[eid] = address(r)
        }
    }
}
