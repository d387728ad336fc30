import Foundation

/// A plan's transit gateways, as the scenario's `transit_gateways` section holds them (the AWS CLI dump the rest of
/// the plan becomes has no place for them).
struct ImportedTransitGateway {
    struct Attachment {
        var id: String, name: String, vpc: String, subnets: [String], applianceMode: Bool
        var defaultAssociation: Bool, defaultPropagation: Bool
        /// `ipv6_support = "enable"`, kept when every subnet has an IPv6 block in the import.
        var ipv6Support = false
        /// A VPN attachment's Site-to-Site VPN connection (`vpc` empty, no subnets).
        var vpnConnection: String? = nil
    }
    struct RouteTable {
        var id: String, name: String
        var associations: [String] = [], propagations: [String] = []
        var routes: [(destination: String, target: String)] = []
    }
    var id: String, name: String
    var attachments: [Attachment] = []
    var routeTables: [RouteTable] = []

    static func quote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The `transit_gateways:` section.
    static func yaml(_ list: [ImportedTransitGateway]) -> String {
        guard !list.isEmpty else { return "" }
        var o = ["", "transit_gateways:"]
        for g in list {
            o += ["  - id: \(g.id)", "    name: \(quote(g.name))", "    attachments:"]
            for a in g.attachments {
                if let c = a.vpnConnection {
                    o.append("      - {id: \(a.id), name: \(quote(a.name)), type: vpn, vpn_connection: \(c)}")
                    continue
                }
                o.append("      - {id: \(a.id), name: \(quote(a.name)), vpc: \(a.vpc), subnets: [\(a.subnets.joined(separator: ", "))]"
                         + (a.applianceMode ? ", appliance_mode: true" : "") + (a.ipv6Support ? ", ipv6_support: true}" : "}"))
            }
            o.append("    route_tables:" + (g.routeTables.isEmpty ? " []" : ""))
            for t in g.routeTables {
                o += ["      - id: \(t.id)", "        name: \(quote(t.name))",
                      "        associations: [\(t.associations.joined(separator: ", "))]",
                      "        propagations: [\(t.propagations.joined(separator: ", "))]",
                      "        routes:" + (t.routes.isEmpty ? " []" : "")]
                for r in t.routes {
                    let d = r.destination.contains(":") ? quote(r.destination) : r.destination
                    o.append("          - {destination: \(d), target: \(r.target)}")
                }
            }
        }
        return o.joined(separator: "\n") + "\n"
    }
}

extension TerraformConverter {
    /// aws_ec2_transit_gateway with its VPC attachments (subnet_ids, appliance_mode_support), route tables, static
    /// routes, associations and propagations. With `default_route_table_association` / `_propagation` enabled (the
    /// default), AWS gives the gateway a default route table that each attachment is associated with / propagates
    /// to unless the attachment sets `transit_gateway_default_route_table_association` / `_propagation` to false
    /// (Terraform AWS provider docs, r/ec2_transit_gateway and r/ec2_transit_gateway_vpc_attachment; TGW-UG
    /// tgw-route-tables, "Default route table"); an explicit association takes the attachment instead. A VPN
    /// connection to the gateway is its VPN attachment (`readVPN`), named by the connection's
    /// transit_gateway_attachment_id or the aws_ec2_transit_gateway_vpn_attachment data source. Direct Connect and
    /// peering attachments are not modeled: their routes, associations and propagations are left out.
    mutating func readTransitGateways() throws -> [ImportedTransitGateway] {
        var out: [ImportedTransitGateway] = []
        var defaultTable: [String: String] = [:]  // tgw id → its default table, when one is enabled
        var defaults: [String: (association: Bool, propagation: Bool)] = [:]
        for r in indices("aws_ec2_transit_gateway") {
            handled.insert(r)
            let gid = id(r)
            let assoc = w.string(r, "default_route_table_association") != "disable"
            let prop = w.string(r, "default_route_table_propagation") != "disable"
            defaults[gid] = (assoc, prop)
            if assoc || prop {
                let known = w.string(r, "association_default_route_table_id") ?? w.string(r, "propagation_default_route_table_id")
                defaultTable[gid] = known ?? implicitID(r, "association_default_route_table_id", prefix: "tgw-rtb-")
            }
            out.append(ImportedTransitGateway(id: gid, name: nameTag(r)))
        }
        func gateway(_ id: String?) -> Int? { id.flatMap { g in out.firstIndex { $0.id == g } } }
        for a in managed("aws_ec2_transit_gateway_vpc_attachment") {
            handled.insert(a)
            let aid = id(a)
            guard let g = gateway(try ref(a, "transit_gateway_id", ["aws_ec2_transit_gateway"])) else {
                warn(.missingReference, address(a), "attachment of a transit gateway the plan does not hold; left out")
                continue
            }
            guard let vpc = try ref(a, "vpc_id", ["aws_vpc"]), vpcBlocks[vpc] != nil else {
                warn(.missingReference, address(a), "attachment of a VPC the import does not hold; left out")
                continue
            }
            let subnets = try refs(a, [.key("subnet_ids")], ["aws_subnet"], what: "subnet_ids")
                .filter { s in (dump.items["Subnets"] ?? []).contains { $0.json.awsStr("SubnetId") == s } }
            guard !subnets.isEmpty else {
                warn(.missingReference, address(a), "attachment whose subnets the import does not hold; left out")
                continue
            }
            // Ipv6Support gives the attachment's ENIs IPv6 addresses from their subnets (EC2 API
            // CreateTransitGatewayVpcAttachmentRequestOptions): kept when every subnet has an IPv6 block here.
            var ipv6 = w.string(a, "ipv6_support") == "enable"
            if ipv6, let s = subnets.first(where: { s in
                !(dump.items["Subnets"] ?? []).contains { $0.json.awsStr("SubnetId") == s && !$0.json.awsObjs("Ipv6CidrBlockAssociationSet").isEmpty }
            }) {
                warn(.repaired, address(a), "ipv6_support enabled but subnet \(s) has no IPv6 block in the import; imported "
                     + "without ipv6_support (its VPC's IPv6 blocks do not propagate)")
                ipv6 = false
            }
            out[g].attachments.append(.init(
                id: aid, name: nameTag(a), vpc: vpc, subnets: subnets,
                applianceMode: w.string(a, "appliance_mode_support") == "enable",
                defaultAssociation: w.bool(a, [.key("transit_gateway_default_route_table_association")]) ?? true,
                defaultPropagation: w.bool(a, [.key("transit_gateway_default_route_table_propagation")]) ?? true,
                ipv6Support: ipv6))
        }
        for v in tgwVPNAttachments {
            guard let g = gateway(v.tgw) else {
                warn(.missingReference, v.connection, "VPN connection to transit gateway \(v.tgw), which the plan does not "
                     + "hold; left out")
                continue
            }
            out[g].attachments.append(.init(id: v.attachment, name: v.name, vpc: "", subnets: [], applianceMode: false,
                                            defaultAssociation: true, defaultPropagation: true,
                                            vpnConnection: v.connection))
        }
        let attachmentTypes = ["aws_ec2_transit_gateway_vpc_attachment", "aws_vpn_connection",
                               "aws_ec2_transit_gateway_vpn_attachment"]
        func attachment(_ id: String?, in g: Int) -> String? {
            id.flatMap { x in out[g].attachments.contains { $0.id == x } ? x : nil }
        }
        var tableGateway: [String: Int] = [:]
        for t in managed("aws_ec2_transit_gateway_route_table") {
            handled.insert(t)
            let tid = id(t)
            guard let g = gateway(try ref(t, "transit_gateway_id", ["aws_ec2_transit_gateway"])) else { continue }
            tableGateway[tid] = g
            out[g].routeTables.append(.init(id: tid, name: nameTag(t)))
        }
        for (k, g) in out.enumerated() where defaultTable[g.id] != nil {
            let tid = defaultTable[g.id]!
            if tableGateway[tid] == nil {
                tableGateway[tid] = k
                out[k].routeTables.insert(.init(id: tid, name: "\(g.name).default_route_table"), at: 0)
            }
        }
        func table(_ r: Int) throws -> (g: Int, t: Int)? {
            guard let tid = try ref(r, "transit_gateway_route_table_id", ["aws_ec2_transit_gateway_route_table"]),
                  let g = tableGateway[tid], let t = out[g].routeTables.firstIndex(where: { $0.id == tid }) else { return nil }
            return (g, t)
        }
        var explicitlyAssociated = Set<String>()
        for x in managed("aws_ec2_transit_gateway_route_table_association") {
            handled.insert(x)
            guard let (g, t) = try table(x) else { continue }
            guard let a = attachment(try ref(x, "transit_gateway_attachment_id", attachmentTypes), in: g)
            else {
                warn(.notModelled, address(x), "association of an attachment that is not a modeled VPC or VPN attachment "
                     + "(Direct Connect, peering); left out")
                continue
            }
            guard explicitlyAssociated.insert(a).inserted else { continue }
            out[g].routeTables[t].associations.append(a)
        }
        for x in managed("aws_ec2_transit_gateway_route_table_propagation") {
            handled.insert(x)
            guard let (g, t) = try table(x) else { continue }
            guard let a = attachment(try ref(x, "transit_gateway_attachment_id", attachmentTypes), in: g)
            else {
                warn(.notModelled, address(x), "propagation of an attachment that is not a modeled VPC or VPN attachment "
                     + "(Direct Connect, peering); left out")
                continue
            }
            guard !out[g].routeTables[t].propagations.contains(a) else { continue }
            out[g].routeTables[t].propagations.append(a)
        }
        // The default route table's associations and propagations.
        for (k, g) in out.enumerated() {
            guard let tid = defaultTable[g.id], let t = g.routeTables.firstIndex(where: { $0.id == tid }) else { continue }
            for a in g.attachments {
                if defaults[g.id]!.association, a.defaultAssociation, !explicitlyAssociated.contains(a.id) {
                    explicitlyAssociated.insert(a.id)
                    out[k].routeTables[t].associations.append(a.id)
                }
                if defaults[g.id]!.propagation, a.defaultPropagation, !out[k].routeTables[t].propagations.contains(a.id) {
                    out[k].routeTables[t].propagations.append(a.id)
                }
            }
        }
        for x in managed("aws_ec2_transit_gateway_route") {
            handled.insert(x)
            guard let (g, t) = try table(x) else { continue }
            // An IPv6 destination is an IPv6 route of the table (the loader reads it as one).
            guard let dest = w.string(x, "destination_cidr_block") else { continue }
            let target: String
            if w.bool(x, [.key("blackhole")]) == true {
                target = "blackhole"
            } else if let a = attachment(try ref(x, "transit_gateway_attachment_id", attachmentTypes), in: g) {
                target = a
            } else {
                warn(.notModelled, address(x), "route \(dest) to an attachment that is not a modeled VPC or VPN attachment "
                     + "(Direct Connect, peering); left out")
                continue
            }
            guard !out[g].routeTables[t].routes.contains(where: { $0.destination == dest }) else { continue }
            out[g].routeTables[t].routes.append((dest, target))
        }
        // A static VPN connection's routes toward its customer gateway are the gateway's static routes to its
        // attachment (TGW-UG tgw-vpn-attachments: static routes are added to the transit gateway route table).
        var vpnRoutes: [String: [String]] = [:]
        for g in out {
            for t in g.routeTables {
                for r in t.routes {
                    guard let c = g.attachments.first(where: { $0.id == r.target })?.vpnConnection,
                          !(vpnRoutes[c] ?? []).contains(r.destination) else { continue }
                    vpnRoutes[c, default: []].append(r.destination)
                }
            }
        }
        if !vpnRoutes.isEmpty, var items = dump.items["VpnConnections"] {
            for k in items.indices {
                var j = items[k].json
                guard let c = j.awsStr("VpnConnectionId"), let routes = vpnRoutes[c],
                      (j["Options"] as? [String: Any])?["StaticRoutesOnly"] as? Bool == true else { continue }
                var list = (j["Routes"] as? [[String: Any]]) ?? []
                // The routes of the family its tunnels carry (tunnel_inside_ip_version).
                let inside6 = (j["Options"] as? [String: Any])?["TunnelInsideIpVersion"] as? String == "ipv6"
                for d in routes where d.contains(":") == inside6
                    && !list.contains(where: { $0["DestinationCidrBlock"] as? String == d }) {
                    list.append(["DestinationCidrBlock": d, "Source": "Static", "State": "available"])
                }
                j["Routes"] = list
                items[k] = DumpItem(json: j, origin: items[k].origin, tgwRouteTable: items[k].tgwRouteTable)
            }
            dump.items["VpnConnections"] = items
        }
        for (k, g) in out.enumerated() {
            out[k].attachments = g.attachments
            if g.attachments.isEmpty {
                warn(.notModelled, g.id, "transit gateway without a VPC attachment the import holds; routes to it are kept as "
                     + "not-modeled targets")
            }
        }
        return out.filter { !$0.attachments.isEmpty }
    }
}
