import Packets

/// Transit gateways in an AWS CLI dump (`transit_gateways:` of the scenario):
/// - describe-transit-gateways: the gateways;
/// - describe-transit-gateway-attachments: each attachment's type, resource and associated route table
///   (`Association`);
/// - describe-transit-gateway-vpc-attachments: a VPC attachment's subnets (`SubnetIds`, one per AZ) and appliance
///   mode (`Options.ApplianceModeSupport`); without it, the subnets of the attachment's ENIs
///   (describe-network-interfaces, `InterfaceType` transit_gateway);
/// - describe-transit-gateway-route-tables: the route tables;
/// - get-transit-gateway-route-table-propagations and search-transit-gateway-routes, one file per route table:
///   neither output names its route table, so the id is taken from the file's path (`AWSDump`). A propagated route
///   to a VPC attachment for one of its VPC's CIDR blocks is the propagation itself (inferred from the routes when
///   the table has no propagations file); every other route is imported as a static route.
/// VPC attachments, and VPN attachments whose Site-to-Site VPN connection is imported (describe-vpn-connections,
/// `TransitGatewayId`: `readVPN`), which become `type: vpn` attachments (a BGP connection's prefixes are the routes
/// the gateway's route tables propagate from the attachment). Another attachment (peering, Connect, Direct Connect
/// gateway, or VPN without its connection) is left out with a warning, and the routes to it become blackhole
/// routes.
extension ImportPlan {
    struct TGWAttachment {
        var id: String; var name: String?; var vpc: String; var subnets: [String]; var applianceMode: Bool
        /// A vpn attachment's connection (`vpc` empty, no subnets).
        var vpnConnection: String? = nil
        /// The attachment's ENI in each of `subnets` (describe-network-interfaces), when every one is in the dump.
        var eniIDs: [String] = []
        var eniAddresses: [IPv4Address] = []
        /// Options.Ipv6Support enable, kept when every kept subnet has an IPv6 block.
        var ipv6Support = false
    }
    struct TGWRoute { var destination: IPv4CIDR; var target: String; var note: String? }
    struct TGWRoute6 { var destination: IPv6CIDR; var target: String; var note: String? }
    struct TGWRouteTable {
        var id: String; var name: String?; var associations: [String]; var propagations: [String]; var routes: [TGWRoute]
        var routes6: [TGWRoute6] = []
    }
    struct TGW { var id: String; var name: String?; var attachments: [TGWAttachment]; var routeTables: [TGWRouteTable] }
}

extension AWSConverter {
    /// AWS states in which a transit gateway, attachment or route table carries traffic (or is about to).
    static let tgwLiveStates: Set<String> = ["available", "pending", "modifying"]

    mutating func readTransitGateways() {
        var gatewayOf: [String: Int] = [:]
        for (id, item) in unique("TransitGateways", idKey: "TransitGatewayId") {
            if let st = item.json.awsStr("State"), !Self.tgwLiveStates.contains(st) {
                warn(.inactive, id, "transit gateway is \(st); left out (routes to it are imported as blackhole)")
                continue
            }
            gatewayOf[id] = plan.tgws.count
            allIDs.insert(id)
            plan.tgws.append(.init(id: id, name: item.json.awsNameTag, attachments: [], routeTables: []))
        }
        guard !plan.tgws.isEmpty || !dump["TransitGatewayAttachments"].isEmpty || !dump["TransitGatewayVpcAttachments"].isEmpty
        else { return }

        // The subnets and options of VPC attachments, and the subnets of the gateway's ENIs, by attachment.
        var vpcAttachment: [String: [String: Any]] = [:]
        for (id, item) in unique("TransitGatewayVpcAttachments", idKey: "TransitGatewayAttachmentId") {
            vpcAttachment[id] = item.json
        }
        var eniSubnets: [String: [String]] = [:]
        var eniIn: [String: (id: String, ip: IPv4Address)] = [:]  // by "attachment|subnet"
        for item in dump["NetworkInterfaces"] where item.json.awsStr("InterfaceType") == "transit_gateway" {
            guard let d = item.json.awsStr("Description"), let a = AWSDump.lastID("tgw-attach-", in: d),
                  let s = item.json.awsStr("SubnetId") else { continue }
            eniSubnets[a, default: []].append(s)
            if let e = item.json.awsStr("NetworkInterfaceId"), let ip = item.json.awsStr("PrivateIpAddress").flatMap(IPv4Address.init) {
                eniIn["\(a)|\(s)"] = (e, ip)
            }
        }
        // Every attachment: describe-transit-gateway-attachments, else (VPC attachments only) the VPC attachments.
        var records: [(id: String, json: [String: Any])] = unique("TransitGatewayAttachments", idKey: "TransitGatewayAttachmentId")
            .map { ($0.id, $0.item.json) }
        for (id, json) in vpcAttachment.sorted(by: { $0.key < $1.key }) where !records.contains(where: { $0.id == id }) {
            var j = json
            j["ResourceType"] = "vpc"
            j["ResourceId"] = json["VpcId"]
            records.append((id, j))
        }
        var associationOf: [String: String] = [:]
        var imported: [String: (tgw: Int, vpc: String)] = [:]
        var notModelledAttachment: [String: String] = [:]
        for (id, j) in records {
            let type = j.awsStr("ResourceType") ?? "vpc"
            guard let tgw = j.awsStr("TransitGatewayId"), let g = gatewayOf[tgw] else {
                warn(.missingReference, id, "attachment of \(j.awsStr("TransitGatewayId") ?? "no transit gateway"), which "
                     + "is not in the dump (or was left out); left out")
                continue
            }
            if let st = j.awsStr("State"), !Self.tgwLiveStates.contains(st) {
                warn(.inactive, id, "\(type) attachment is \(st); left out (routes to it are imported as blackhole)")
                continue
            }
            if type == "vpn", let c = j.awsStr("ResourceId"),
               plan.vpnConnections.contains(where: { $0.id == c && $0.tgw == tgw }) {
                if let other = plan.tgws[g].attachments.first(where: { $0.vpnConnection == c }) {
                    warn(.duplicate, id, "\(c) is already attached to \(tgw) by \(other.id); left out")
                    continue
                }
                allIDs.insert(id)
                imported[id] = (g, "")
                plan.tgws[g].attachments.append(.init(id: id, name: j.awsNameTag, vpc: "", subnets: [], applianceMode: false,
                                                      vpnConnection: c))
                if let a = j.awsObj("Association"), let t = a.awsStr("TransitGatewayRouteTableId"),
                   a.awsStr("State").map({ $0 == "associated" || $0 == "associating" }) ?? true {
                    associationOf[id] = t
                }
                continue
            }
            guard type == "vpc" else {
                notModelledAttachment[id] = type
                if type == "vpn" {
                    warn(.missingReference, id, "vpn attachment of \(tgw)\(j.awsStr("ResourceId").map { " (" + $0 + ")" } ?? ""), "
                         + "whose VPN connection is not imported (add describe-vpn-connections and "
                         + "describe-customer-gateways); routes to it are imported as blackhole")
                } else {
                    warn(.notModelled, id, "\(type) attachment of \(tgw)\(j.awsStr("ResourceId").map { " (" + $0 + ")" } ?? "") "
                         + "is not modelled (only VPC and VPN attachments are); routes to it are imported as blackhole")
                }
                continue
            }
            let v = vpcAttachment[id]
            guard let vpc = j.awsStr("ResourceId") ?? v?.awsStr("VpcId"), vpcIndex[vpc] != nil else {
                warn(.missingReference, id, "attachment of \(j.awsStr("ResourceId") ?? "no VPC"), which is not in the dump; "
                     + "left out")
                continue
            }
            if let other = plan.tgws[g].attachments.first(where: { $0.vpc == vpc }) {
                warn(.duplicate, id, "\(vpc) is already attached to \(tgw) by \(other.id); left out")
                continue
            }
            let listed = v?.awsStrs("SubnetIds") ?? eniSubnets[id] ?? []
            guard !listed.isEmpty else {
                warn(.missingReference, id, "the attachment's subnets are not in the dump (add "
                     + "describe-transit-gateway-vpc-attachments); left out")
                continue
            }
            // TGW-UG transit-gateway-vpc-attachments: one subnet per Availability Zone, in the attached VPC.
            var subnets: [String] = []
            for s in listed {
                guard let si = subnetIndex[s], plan.subnets[si].vpc == vpc else {
                    warn(.missingReference, id, "subnet \(s) is not a subnet of \(vpc) in the dump; left out of the attachment")
                    continue
                }
                if plan.subnets[si].ipv6Only {
                    warn(.repaired, id, "subnet \(s) is IPv6-only; left out of the attachment (the model's attachment "
                         + "ENIs have IPv4 addresses)")
                    continue
                }
                if let o = subnets.first(where: { plan.subnets[subnetIndex[$0]!].az == plan.subnets[si].az }) {
                    warn(.repaired, id, "\(s) and \(o) are in the same AZ; \(s) left out of the attachment")
                    continue
                }
                subnets.append(s)
            }
            guard !subnets.isEmpty else { continue }
            let appliance = v?.awsObj("Options")?.awsStr("ApplianceModeSupport") == "enable"
            var ipv6 = v?.awsObj("Options")?.awsStr("Ipv6Support") == "enable"
            if ipv6, let s = subnets.first(where: { plan.subnets[subnetIndex[$0]!].ipv6 == nil }) {
                warn(.repaired, id, "Ipv6Support enabled but subnet \(s) has no imported IPv6 block; imported without "
                     + "ipv6_support (its VPC's IPv6 blocks do not propagate)")
                ipv6 = false
            }
            allIDs.insert(id)
            imported[id] = (g, vpc)
            // The ENIs' ids and addresses, so that flow logs name them as AWS does.
            let enis = subnets.compactMap { eniIn["\(id)|\($0)"] }
            plan.tgws[g].attachments.append(.init(id: id, name: j.awsNameTag ?? v?.awsNameTag, vpc: vpc, subnets: subnets,
                                                  applianceMode: appliance,
                                                  eniIDs: enis.count == subnets.count ? enis.map(\.id) : [],
                                                  eniAddresses: enis.count == subnets.count ? enis.map(\.ip) : [],
                                                  ipv6Support: ipv6))
            if let a = j.awsObj("Association"), let t = a.awsStr("TransitGatewayRouteTableId"),
               a.awsStr("State").map({ $0 == "associated" || $0 == "associating" }) ?? true {
                associationOf[id] = t
            }
        }
        // The gateway's ENIs of imported attachments are the attachments' (not left-over interfaces).
        for item in dump["NetworkInterfaces"] where item.json.awsStr("InterfaceType") == "transit_gateway" {
            if let e = item.json.awsStr("NetworkInterfaceId"), let d = item.json.awsStr("Description"),
               let a = AWSDump.lastID("tgw-attach-", in: d), imported[a] != nil {
                coveredENIs.insert(e)
            }
        }

        var tableFound: Set<String> = []
        for (id, item) in unique("TransitGatewayRouteTables", idKey: "TransitGatewayRouteTableId") {
            let j = item.json
            guard let tgw = j.awsStr("TransitGatewayId"), let g = gatewayOf[tgw] else {
                warn(.missingReference, id, "route table of \(j.awsStr("TransitGatewayId") ?? "no transit gateway"), which "
                     + "is not in the dump (or was left out); left out")
                continue
            }
            if let st = j.awsStr("State"), !Self.tgwLiveStates.contains(st) {
                warn(.inactive, id, "transit gateway route table is \(st); left out")
                continue
            }
            tableFound.insert(id)
            allIDs.insert(id)
            var table = ImportPlan.TGWRouteTable(id: id, name: j.awsNameTag, associations: [], propagations: [], routes: [])
            table.associations = plan.tgws[g].attachments.map(\.id).filter { associationOf[$0] == id }
            func ofThisGateway(_ a: String) -> Bool { imported[a]?.tgw == g }
            let propagationItems = dump["TransitGatewayRouteTablePropagations"].filter { $0.tgwRouteTable == id }
            for p in propagationItems {
                guard let a = p.json.awsStr("TransitGatewayAttachmentId"),
                      p.json.awsStr("State").map({ $0 == "enabled" || $0 == "enabling" }) ?? true else { continue }
                if ofThisGateway(a) {
                    if !table.propagations.contains(a) { table.propagations.append(a) }
                } else if notModelledAttachment[a] == nil {
                    warn(.missingReference, id, "propagation from \(a), which is not an imported attachment of \(tgw); left out")
                }
            }
            var routeTo: [IPv4CIDR: String] = [:]  // the table's static routes by destination (duplicates)
            for r in dump["Routes"] where r.tgwRouteTable == id {
                addTGWRoute(r.json, to: &table, routeTo: &routeTo, gateway: g, imported: imported, notModelled: notModelledAttachment,
                            inferPropagations: propagationItems.isEmpty)
            }
            plan.tgws[g].routeTables.append(table)
        }
        for id in Set(dump["Routes"].compactMap(\.tgwRouteTable) + dump["TransitGatewayRouteTablePropagations"].compactMap(\.tgwRouteTable))
            .sorted() where !tableFound.contains(id) {
            warn(.missingReference, id, "routes or propagations of a transit gateway route table that is not in the dump "
                 + "(add describe-transit-gateway-route-tables); left out")
        }
        for (a, t) in associationOf.sorted(by: { $0.key < $1.key }) where !tableFound.contains(t) {
            warn(.missingReference, a, "associated with \(t), which is not in the dump; imported without an association "
                 + "(packets arriving through it are dropped)")
        }
        // A static VPN connection's routes toward its customer gateway are the gateway's static routes to its
        // attachment (TGW-UG tgw-vpn-attachments: static routes are added to the transit gateway route table;
        // describe-vpn-connections lists none for it), as `import terraform` reads them.
        for t in plan.tgws {
            for table in t.routeTables {
                for r in table.routes {
                    guard let c = t.attachments.first(where: { $0.id == r.target })?.vpnConnection,
                          let k = plan.vpnConnections.firstIndex(where: { $0.id == c }), plan.vpnConnections[k].staticOnly,
                          !plan.vpnConnections[k].staticRoutes.contains(r.destination) else { continue }
                    plan.vpnConnections[k].staticRoutes.append(r.destination)
                }
                // The same for IPv6 routes to a static connection whose tunnels carry IPv6.
                for r in table.routes6 {
                    guard let c = t.attachments.first(where: { $0.id == r.target })?.vpnConnection,
                          let k = plan.vpnConnections.firstIndex(where: { $0.id == c }), plan.vpnConnections[k].staticOnly,
                          plan.vpnConnections[k].insideIPv6,
                          !plan.vpnConnections[k].staticRoutes6.contains(r.destination) else { continue }
                    plan.vpnConnections[k].staticRoutes6.append(r.destination)
                }
            }
        }
        // A connection to a transit gateway without an imported vpn attachment has nothing to carry it.
        let attachedVPN = Set(plan.tgws.flatMap { $0.attachments.compactMap(\.vpnConnection) })
        for c in plan.vpnConnections where c.tgw != nil && !attachedVPN.contains(c.id) {
            warn(.missingReference, c.id, "VPN connection to transit gateway \(c.tgw!) has no imported vpn attachment (add "
                 + "describe-transit-gateway-attachments); left out")
        }
        plan.vpnConnections.removeAll { $0.tgw != nil && !attachedVPN.contains($0.id) }
        counts.vpnConnections = plan.vpnConnections.count
        counts.transitGateways = plan.tgws.count
        counts.tgwAttachments = plan.tgws.reduce(0) { $0 + $1.attachments.filter { $0.vpnConnection == nil }.count }
    }

    /// One route of search-transit-gateway-routes (`Type` static or propagated; `State` active or blackhole).
    mutating func addTGWRoute(_ r: [String: Any], to table: inout ImportPlan.TGWRouteTable,
                              routeTo: inout [IPv4CIDR: String], gateway g: Int,
                              imported: [String: (tgw: Int, vpc: String)], notModelled: [String: String],
                              inferPropagations: Bool) {
        let id = table.id
        let state = r.awsStr("State") ?? "active"
        guard state == "active" || state == "blackhole" else { return }  // pending, deleting, deleted
        let attachments = r.awsObjs("TransitGatewayAttachments").compactMap { $0.awsStr("TransitGatewayAttachmentId") }
        let shown = attachments.first ?? "blackhole"
        var destinations: [(IPv4CIDR, String?)] = []
        if let v6 = r.awsStr("DestinationCidrBlock") ?? r.awsStr("DestinationIpv6CidrBlock"), v6.contains(":") {
            // An IPv6 route (search-transit-gateway-routes gives its destination in DestinationCidrBlock).
            guard let c = try? IPv6CIDR(parsing: v6) else {
                warn(.repaired, id, "route \(v6) → \(shown): not an IPv6 CIDR; left out")
                return
            }
            addTGWRoute6(c, state: state, attachments: attachments, propagated: r.awsStr("Type") == "propagated",
                         to: &table, gateway: g, imported: imported, notModelled: notModelled,
                         inferPropagations: inferPropagations)
            return
        }
        if let pl = r.awsStr("PrefixListId") {
            guard let cidrs = prefixLists[pl] else {
                warn(.missingReference, id, "route to prefix list \(pl) → \(shown) left out: its entries are not in the dump "
                     + "(add get-managed-prefix-list-entries --prefix-list-id \(pl))")
                return
            }
            destinations = cidrs.map { ($0, "from \(pl)") }
        } else if let c = cidr(r.awsStr("DestinationCidrBlock"), id, "route destination") {
            destinations = [(c, nil)]
        } else {
            warn(.repaired, id, "route without an IPv4 destination → \(shown) left out")
            return
        }
        let propagated = r.awsStr("Type") == "propagated"
        for (dest, origin) in destinations {
            var target: String, note: String? = origin
            if state == "blackhole" {
                target = "blackhole"
            } else if let a = attachments.first, let att = imported[a], att.tgw == g {
                if attachments.count > 1 {
                    warn(.approximated, id, "route \(dest) → \(attachments.joined(separator: ", ")) (equal-cost paths): "
                         + "imported to \(a) alone")
                }
                // A propagated route of a vpn attachment is the propagation itself; a BGP connection's prefixes are
                // these routes (describe-vpn-connections lists no BGP routes).
                if propagated, attachments.count == 1,
                   let c = plan.tgws[g].attachments.first(where: { $0.id == a })?.vpnConnection,
                   let k = plan.vpnConnections.firstIndex(where: { $0.id == c }) {
                    if !plan.vpnConnections[k].staticOnly, !plan.vpnConnections[k].bgpPrefixes.contains(dest) {
                        plan.vpnConnections[k].bgpPrefixes.append(dest)
                    }
                    if !table.propagations.contains(a), inferPropagations { table.propagations.append(a) }
                    continue
                }
                // A propagated route of a VPC attachment for one of its VPC's blocks is the propagation itself.
                if propagated, attachments.count == 1, !att.vpc.isEmpty,
                   plan.vpcs[vpcIndex[att.vpc]!].blocks.contains(dest) {
                    if table.propagations.contains(a) { continue }
                    if inferPropagations { table.propagations.append(a); continue }
                }
                target = a
                if propagated {
                    note = (note.map { $0 + "; " } ?? "") + "propagated"
                    warn(.approximated, id, "propagated route \(dest) → \(a) is not one of its VPC's CIDR blocks; imported "
                         + "as a static route (which wins over a propagated one of the same prefix)")
                }
            } else {
                let a = attachments.first ?? "no attachment"
                if let type = notModelled[a] {
                    note = (note.map { $0 + "; " } ?? "") + "was \(a) (\(type) attachment, not modelled)"
                } else {
                    warn(.missingReference, id, "route \(dest) → \(a), which is not an imported attachment of "
                         + "\(plan.tgws[g].id); imported as blackhole")
                    note = (note.map { $0 + "; " } ?? "") + "was \(a): not in the dump"
                }
                target = "blackhole"
            }
            if let existing = routeTo[dest] {
                warn(.duplicate, id, "second route to \(dest) (→ \(target)) left out; the route → \(existing) is kept")
                continue
            }
            routeTo[dest] = target
            table.routes.append(.init(destination: dest, target: target, note: note))
        }
    }

    /// An IPv6 route of search-transit-gateway-routes (its DestinationCidrBlock an IPv6 CIDR): as an IPv4 one, a
    /// propagated route for an IPv6 block of a VPC attachment with IPv6 support being the propagation itself.
    mutating func addTGWRoute6(_ dest: IPv6CIDR, state: String, attachments: [String], propagated: Bool,
                               to table: inout ImportPlan.TGWRouteTable, gateway g: Int,
                               imported: [String: (tgw: Int, vpc: String)], notModelled: [String: String],
                               inferPropagations: Bool) {
        let id = table.id
        var target = "blackhole", note: String?
        if state == "blackhole" {
            note = nil
        } else if let a = attachments.first, let att = imported[a], att.tgw == g {
            let spec = plan.tgws[g].attachments.first { $0.id == a }
            if propagated, !att.vpc.isEmpty, spec?.ipv6Support == true,
               plan.vpcs[vpcIndex[att.vpc]!].ipv6Blocks.contains(dest) {
                if table.propagations.contains(a) { return }
                if inferPropagations { table.propagations.append(a); return }
            }
            if let c = spec?.vpnConnection, let k = plan.vpnConnections.firstIndex(where: { $0.id == c }) {
                if plan.vpnConnections[k].insideIPv6 {
                    // As for IPv4 (`addTGWRoute`): a propagated route is a BGP prefix of the connection with the
                    // propagation (a static route of a static connection is one of its routes: `readTransitGateways`).
                    if !plan.vpnConnections[k].staticOnly, propagated {
                        if !plan.vpnConnections[k].bgpPrefixes6.contains(dest) { plan.vpnConnections[k].bgpPrefixes6.append(dest) }
                        if !table.propagations.contains(a), inferPropagations { table.propagations.append(a) }
                        return
                    }
                } else {
                    // Kept: the connection drops what it carries, its tunnels carrying IPv4.
                    warn(.ipv6, id, "route \(dest) → \(a): \(c)'s tunnels carry IPv4 (TunnelInsideIpVersion ipv4); IPv6 "
                         + "routed there is dropped at the connection")
                }
            }
            target = a
            if propagated { note = "propagated" }
        } else {
            let a = attachments.first ?? "no attachment"
            note = notModelled[a].map { "was \(a) (\($0) attachment, not modelled)" } ?? "was \(a): not in the dump"
            if notModelled[a] == nil {
                warn(.missingReference, id, "route \(dest) → \(a), which is not an imported attachment of "
                     + "\(plan.tgws[g].id); imported as blackhole")
            }
        }
        if let existing = table.routes6.first(where: { $0.destination == dest }) {
            warn(.duplicate, id, "second route to \(dest) (→ \(target)) left out; the route → \(existing.target) is kept")
            return
        }
        table.routes6.append(.init(destination: dest, target: target, note: note))
    }

    /// A VPC route to a transit gateway of the import: kept when the route table's VPC is attached to it (else a
    /// blackhole, as AWS shows it). nil: not an imported transit gateway.
    mutating func transitGatewayRouteTarget(_ r: [String: Any], destination dest: String, table id: String,
                                            vpc: ImportPlan.VPC, inVPC: Bool) -> (String?, String?)? {
        guard let tgw = r.awsStr("TransitGatewayId"), let g = plan.tgws.firstIndex(where: { $0.id == tgw }) else { return nil }
        guard plan.tgws[g].attachments.contains(where: { $0.vpc == vpc.id }) else {
            warn(.missingReference, id, "route \(dest) → \(tgw): \(vpc.id) has no imported attachment to it; imported as "
                 + "blackhole")
            return ("blackhole", "was \(tgw): no attachment in this VPC")
        }
        if inVPC {
            warn(.repaired, id, "route \(dest) → \(tgw) lies inside \(vpc.id); imported as blackhole")
            return ("blackhole", "was \(tgw): inside the VPC")
        }
        return (tgw, nil)
    }
}

extension ScenarioYAMLWriter {
    /// The `transit_gateways:` section's lines (docs/scenarios.md), empty for none.
    static func transitGateways(_ p: ImportPlan) -> [String] {
        guard !p.tgws.isEmpty else { return [] }
        var o = ["", "transit_gateways:"]
        for g in p.tgws {
            o.append("  - id: \(g.id)")
            if let n = g.name { o.append("    name: \(quote(n))") }
            o.append(g.attachments.isEmpty ? "    attachments: []" : "    attachments:")
            for a in g.attachments {
                if let c = a.vpnConnection {
                    o.append("      - {id: \(a.id)\(name(a.name)), type: vpn, vpn_connection: \(c)}")
                    continue
                }
                var enis = ""
                if !a.eniIDs.isEmpty {
                    enis = ", private_ips: [\(a.eniAddresses.map(\.description).joined(separator: ", "))], "
                        + "network_interface_ids: [\(a.eniIDs.joined(separator: ", "))]"
                }
                o.append("      - {id: \(a.id)\(name(a.name)), vpc: \(a.vpc), subnets: [\(a.subnets.joined(separator: ", "))]"
                         + (a.applianceMode ? ", appliance_mode: true" : "") + (a.ipv6Support ? ", ipv6_support: true" : "")
                         + enis + "}")
            }
            o.append(g.routeTables.isEmpty ? "    route_tables: []" : "    route_tables:")
            for t in g.routeTables {
                o.append("      - id: \(t.id)")
                if let n = t.name { o.append("        name: \(quote(n))") }
                o.append("        associations: [\(t.associations.joined(separator: ", "))]")
                o.append("        propagations: [\(t.propagations.joined(separator: ", "))]")
                o.append(t.routes.isEmpty && t.routes6.isEmpty ? "        routes: []" : "        routes:")
                for r in t.routes {
                    o.append("          - {destination: \(r.destination), target: \(r.target)}"
                             + (r.note.map { "  # " + comment($0) } ?? ""))
                }
                for r in t.routes6 {
                    o.append("          - {destination: \"\(r.destination)\", target: \(r.target)}"
                             + (r.note.map { "  # " + comment($0) } ?? ""))
                }
            }
        }
        return o
    }
}
