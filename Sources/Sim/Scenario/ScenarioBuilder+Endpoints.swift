import Packets
import Yams

/// VPC endpoints (`vpc_endpoints:`).
extension ScenarioBuilder {
    /// Gateway endpoints: the service, the VPC, the route tables AWS adds the endpoint's routes to, and the
    /// Region's AWS-managed prefix list for the service with its CIDRs. An endpoint policy is accepted and not
    /// modeled (a warning says so).
    mutating func readVPCEndpoints(_ items: [Node]) throws -> [String] {
        var warnings: [String] = []
        for item in items {
            var f = try r.fields(item, what: "VPC endpoint", allowed: [
                "id", "name", "type", "service", "vpc", "route_tables", "prefix_list", "policy", "subnets",
                "security_groups", "private_dns", "private_ips", "network_interface_ids", "dns_name", "ip_address_type",
                "ipv6_prefix_list",
            ])
            let index = model.vpcEndpoints.count
            let (id, name) = try identify(&f, .vpcEndpoint, index: index)
            let typeNode = try f.require("type")
            let type = try r.word(typeNode, key: "type")
            guard type == "gateway" || type == "interface" else {
                if type == "gatewayloadbalancer" {
                    throw r.error(at: typeNode, "\(f.what): \(type) endpoints are not modeled (type gateway or "
                                  + "interface)")
                }
                throw r.error(at: typeNode, "invalid type '\(type)' (expected gateway or interface)")
            }
            let interfaceKeys = ["subnets", "security_groups", "private_dns", "private_ips", "network_interface_ids",
                                 "dns_name"]
            let gatewayKeys = ["route_tables", "prefix_list", "ipv6_prefix_list"]
            for key in (type == "gateway" ? interfaceKeys : gatewayKeys) where f.has(key) {
                throw r.error(at: f.keyNode(key), "\(f.what): \(key) is for \(type == "gateway" ? "interface" : "gateway") "
                              + "endpoints, not \(type)")
            }
            if type == "interface" {
                let vpc = try resolve(f.require("vpc"), .vpc, key: "vpc")
                let service = try r.word(f.require("service"), key: "service")
                if f.has("policy") {
                    warnings.append("\(id): its endpoint policy is not modeled; every request through it is allowed "
                                    + "(\(r.location(of: f.keyNode("policy")!)))")
                }
                // Subnets and security groups are read once they exist (`readInterfaceEndpoints`).
                model.vpcEndpoints.append(VPCEndpointSpec(
                    id: id, name: name, kind: .interface, service: service, vpc: vpc, routeTables: [], prefixListID: "",
                    prefixListCIDRs: [], hasPolicy: f.has("policy")))
                pendingInterfaceEndpoints.append((index, f))
                continue
            }
            let serviceNode = try f.require("service")
            let serviceText = try r.word(serviceNode, key: "service")
            // "s3", or the full service name "com.amazonaws.us-east-1.s3".
            let short = serviceText.hasPrefix("com.amazonaws.")
                ? String(serviceText.split(separator: ".").last ?? "") : serviceText
            // PrivateLink guide gateway-endpoints: gateway endpoints serve Amazon S3 and DynamoDB only.
            guard short == "s3" || short == "dynamodb" else {
                throw r.error(at: serviceNode, "invalid service '\(serviceText)' for a gateway endpoint (expected s3 "
                              + "or dynamodb)")
            }
            let vpc = try resolve(f.require("vpc"), .vpc, key: "vpc")
            var tables: [Int] = []
            if let n = f["route_tables"] {
                for (k, t) in try resolveList(n, .routeTable, key: "route_tables").enumerated() {
                    let tv = model.routeTables[t].vpc
                    guard tv == vpc else {
                        throw r.error(at: try r.list(n, key: "route_tables")[k], "route table "
                                      + "\(model.routeTables[t].id) is in \(model.vpcs[tv].id), but \(id) is in "
                                      + "\(model.vpcs[vpc].id)")
                    }
                    tables.append(t)
                }
            }
            let ipType = try readGatewayEndpointIPAddressType(f, vpc: vpc)
            if ipType != "ipv4" { ipv6GatewayEndpoints.append((index, f["ip_address_type"]!)) }
            var plID = "", cidrs: [IPv4CIDR] = []
            if ipType != "ipv6" {
                let list = try readPrefixList(try f.require("prefix_list"), key: "prefix_list")
                plID = list.id
                for (c, n) in zip(try list.cidrs.map { try r.cidr($0, key: "cidrs") }, list.cidrs) {
                    if let block = model.vpcs[vpc].cidrBlocks.first(where: { $0.overlaps(c) }) {
                        throw r.error(at: n, "prefix list \(plID) CIDR \(c) overlaps \(model.vpcs[vpc].id)'s CIDR \(block) "
                                      + "(a service's prefix list holds its public ranges)")
                    }
                    if cidrs.contains(c) { throw r.error(at: n, "prefix list \(plID) lists \(c) twice") }
                    cidrs.append(c)
                }
            } else if let k = f.keyNode("prefix_list") {
                throw r.error(at: k, "\(f.what): ip_address_type ipv6 adds only the service's IPv6 prefix list "
                              + "(ipv6_prefix_list); prefix_list does not apply")
            }
            var plID6 = "", cidrs6: [IPv6CIDR] = []
            if ipType != "ipv4" {
                guard let n = f["ipv6_prefix_list"] else {
                    throw r.error(at: f["ip_address_type"], "\(f.what): ip_address_type \(ipType) needs ipv6_prefix_list "
                                  + "(the service's IPv6 prefix list its route tables get)")
                }
                let list = try readPrefixList(n, key: "ipv6_prefix_list")
                plID6 = list.id
                for n in list.cidrs {
                    let c = try r.ipv6CIDR(n, key: "cidrs")
                    if let block = model.vpcs[vpc].ipv6CidrBlocks.first(where: { $0.overlaps(c) }) {
                        throw r.error(at: n, "prefix list \(plID6) CIDR \(c) overlaps \(model.vpcs[vpc].id)'s IPv6 block "
                                      + "\(block) (a service's prefix list holds its public ranges)")
                    }
                    if cidrs6.contains(c) { throw r.error(at: n, "prefix list \(plID6) lists \(c) twice") }
                    cidrs6.append(c)
                }
            }
            // PrivateLink guide gateway-endpoints: a route table cannot hold two endpoint routes to one service
            // (two endpoints for one service may serve one VPC, each with route tables of its own).
            for (k, other) in model.vpcEndpoints.enumerated() where other.vpc == vpc && other.service == short {
                if let t = tables.first(where: { other.routeTables.contains($0) }) {
                    let at = try f["route_tables"].map { try r.list($0, key: "route_tables") }?[tables.firstIndex(of: t)!]
                    throw r.error(at: at ?? item, "route table \(model.routeTables[t].id) already routes \(short) "
                                  + "through \(model.vpcEndpoints[k].id) (a table takes one endpoint per service)")
                }
            }
            let hasPolicy = f.has("policy")
            if hasPolicy {
                warnings.append("\(id): its endpoint policy is not modeled; every request through it is allowed "
                                + "(\(r.location(of: f.keyNode("policy")!)))")
            }
            model.vpcEndpoints.append(VPCEndpointSpec(
                id: id, name: name, kind: .gateway, service: short, vpc: vpc, routeTables: tables, prefixListID: plID,
                prefixListCIDRs: cidrs, ipAddressType: ipType, ipv6PrefixListID: plID6, ipv6PrefixListCIDRs: cidrs6,
                hasPolicy: hasPolicy))
        }
        return warnings
    }

    /// A gateway endpoint's `ip_address_type` (EC2 API CreateVpcEndpoint IpAddressType; PrivateLink guide
    /// gateway-endpoints, "IP address type"): ipv4 (the default), dualstack or ipv6; either of the last two needs
    /// an IPv6 block on the VPC, and `ipv6_prefix_list` applies to them only.
    private func readGatewayEndpointIPAddressType(_ f: YAMLFields, vpc: Int) throws -> String {
        let t = try f["ip_address_type"].map { try r.word($0, key: "ip_address_type") } ?? "ipv4"
        guard ["ipv4", "dualstack", "ipv6"].contains(t) else {
            throw r.error(at: f["ip_address_type"], "invalid ip_address_type '\(t)' (expected ipv4, dualstack or ipv6)")
        }
        if t == "ipv4", let k = f.keyNode("ipv6_prefix_list") {
            throw r.error(at: k, "\(f.what): ipv6_prefix_list needs ip_address_type dualstack or ipv6 (an ipv4 gateway "
                          + "endpoint adds only the service's IPv4 prefix list)")
        }
        if t != "ipv4", model.vpcs[vpc].ipv6CidrBlocks.isEmpty {
            throw r.error(at: f["ip_address_type"], "\(f.what): ip_address_type \(t) needs an IPv6 block on "
                          + "\(model.vpcs[vpc].id) (its ipv6_cidr)")
        }
        return t
    }

    /// PrivateLink guide gateway-endpoints, "IP address type": dualstack "is supported only if all selected subnets
    /// have both IPv4 and IPv6 address ranges", ipv6 "only if all selected subnets are IPv6 only subnets" — the
    /// subnets whose route table (their own, or their VPC's main table) is one of the endpoint's.
    func checkGatewayEndpointSubnets() throws {
        for (e, node) in ipv6GatewayEndpoints {
            let ep = model.vpcEndpoints[e]
            for s in model.subnets where ep.routeTables.contains(s.routeTable ?? model.vpcs[s.vpc].mainRouteTable) {
                let ok = ep.ipAddressType == "ipv6" ? !s.hasIPv4 : s.hasIPv4 && s.ipv6Cidr != nil
                guard ok else {
                    throw r.error(at: node, "VPC endpoint \(ep.id): ip_address_type \(ep.ipAddressType) needs "
                                  + (ep.ipAddressType == "ipv6" ? "IPv6-only subnets" : "dual-stack subnets")
                                  + " behind its route tables; \(s.id) is "
                                  + (s.ipv6Cidr == nil ? "IPv4-only" : s.hasIPv4 ? "dual-stack" : "IPv6-only"))
                }
            }
        }
    }

    /// A prefix list written `{id: pl-…, cidrs: [...]}`: its id and its CIDR nodes (at least one).
    func readPrefixList(_ node: Node, key: String) throws -> (id: String, cidrs: [Node]) {
        let pf = try r.fields(node, what: "prefix list", key: key, allowed: ["id", "cidrs"])
        let plNode = try pf.require("id")
        let plID = try r.word(plNode, key: "id")
        guard plID.hasPrefix("pl-"), plID.count > 3 else {
            throw r.error(at: plNode, "prefix list id '\(plID)' must start with 'pl-'")
        }
        let cidrNodes = try r.list(pf.require("cidrs"), key: "cidrs")
        guard !cidrNodes.isEmpty else { throw r.error(at: pf["cidrs"], "prefix list \(plID) has no CIDRs") }
        return (plID, cidrNodes)
    }

    /// The routes AWS adds for the gateway endpoints associated with table `t`, after its own: one per CIDR of
    /// the endpoint's prefix list (PrivateLink guide gateway-endpoints, "Routing": a route is added to each
    /// selected table, destination the service's prefix list, target the endpoint). Route priority (VPC-UG
    /// route-tables-priority): the longest prefix first, so a prefix-list CIDR beats a 0.0.0.0/0 route to a NAT
    /// or internet gateway and a more specific route beats it; among equal prefixes a static CIDR route beats a
    /// prefix-list route, so these come after the table's own routes (`RouteLookup.compile` keeps listed order
    /// among equal prefixes).
    /// The IPv6 routes AWS adds for the gateway endpoints of ip_address_type dualstack or ipv6 associated with
    /// table `t`: one per CIDR of the service's IPv6 prefix list (PrivateLink guide gateway-endpoints, "IP address
    /// type"), after the table's own, as `endpointRoutes`.
    func endpointRoutes6(of t: Int, after explicit: [IPv6Route]) -> [IPv6Route] {
        var out: [IPv6Route] = []
        for (e, ep) in model.vpcEndpoints.enumerated() where ep.routeTables.contains(t) {
            for c in ep.ipv6PrefixListCIDRs {
                if explicit.contains(where: { $0.destination == c && $0.target == .common(.vpcEndpoint(e)) }) { continue }
                out.append(IPv6Route(destination: c, target: .common(.vpcEndpoint(e)), prefixList: ep.ipv6PrefixListID))
            }
        }
        return out
    }

    func endpointRoutes(of t: Int, after explicit: [Route]) -> [Route] {
        var out: [Route] = []
        for (e, ep) in model.vpcEndpoints.enumerated() where ep.routeTables.contains(t) {
            for c in ep.prefixListCIDRs {
                // A route an import wrote out already (pl-… → vpce-…, one per CIDR).
                if explicit.contains(where: { $0.destination == c && $0.target == .vpcEndpoint(e) }) { continue }
                out.append(Route(destination: c, target: .vpcEndpoint(e), prefixList: ep.prefixListID))
            }
        }
        return out
    }
}
