import Packets
import Yams

/// Transit gateways (`transit_gateways:`): each with its VPC attachments and its route tables, read after the
/// subnets (an attachment names its subnets) and before the VPC routes (a route may target the gateway).
extension ScenarioBuilder {
    mutating func readTransitGateways(_ items: [Node]) throws {
        for item in items {
            var f = try r.fields(item, what: "transit gateway", allowed: ["id", "name", "attachments", "route_tables"])
            let index = model.transitGateways.count
            let (id, name) = try identify(&f, .transitGateway, index: index)
            model.transitGateways.append(TransitGatewaySpec(id: id, name: name, attachments: [], routeTables: []))
            for a in try f.list("attachments") ?? [] { try readTGWAttachment(a, tgw: index) }
            // Route tables after every attachment of this gateway: they name attachments.
            for t in try f.list("route_tables") ?? [] { try readTGWRouteTable(t, tgw: index) }
        }
    }

    /// A nested resource's `id`, checked as `checkIDs` checks top-level ones: its kind's prefix, unique.
    private mutating func identifyNested(_ f: inout YAMLFields, _ kind: ResourceKind, index: Int) throws
        -> (id: String, name: String?)
    {
        let idNode = try f.require("id")
        let id = try r.word(idNode, key: "id")
        guard id.hasPrefix(kind.idPrefix), id.count > kind.idPrefix.count else {
            throw r.error(at: idNode, "\(kind.title) id '\(id)' must start with '\(kind.idPrefix)'")
        }
        if ResourceKind.allCases.contains(where: { registry($0).byID[id] != nil }) {
            throw r.error(at: idNode, "duplicate id \(id)")
        }
        return try identify(&f, kind, index: index)
    }

    private mutating func readTGWAttachment(_ item: Node, tgw: Int) throws {
        var f = try r.fields(item, what: "transit gateway attachment",
                             allowed: ["id", "name", "type", "vpc", "subnets", "appliance_mode", "vpn_connection",
                                       "private_ips", "network_interface_ids", "ipv6_support"])
        let index = model.tgwAttachments.count
        let (id, name) = try identifyNested(&f, .tgwAttachment, index: index)
        if let n = f["type"] {
            let type = try r.word(n, key: "type")
            guard type == "vpc" || type == "vpn" else {
                throw r.error(at: n, "attachment type '\(type)' is not modeled (vpc and vpn attachments are)")
            }
            if type == "vpn" {
                // A VPN attachment: the Site-to-Site VPN connection it carries; no VPC, no subnets.
                for k in ["vpc", "subnets", "appliance_mode", "private_ips", "network_interface_ids", "ipv6_support"] where f.has(k) {
                    throw r.error(at: f.keyNode(k), "a vpn attachment takes vpn_connection, not \(k)")
                }
                let c = try bindVPNAttachment(f.require("vpn_connection"), attachment: index)
                model.tgwAttachments.append(TGWAttachmentSpec(id: id, name: name, transitGateway: tgw, vpc: -1,
                                                              subnets: [], applianceMode: false, routeTable: nil,
                                                              vpnConnection: c))
                model.transitGateways[tgw].attachments.append(index)
                return
            }
        }
        if f.has("vpn_connection") {
            throw r.error(at: f.keyNode("vpn_connection"), "vpn_connection belongs to an attachment of type: vpn")
        }
        let vpcNode = try f.require("vpc")
        let vpc = try resolve(vpcNode, .vpc, key: "vpc")
        let gw = model.transitGateways[tgw]
        if let other = gw.attachments.first(where: { model.tgwAttachments[$0].vpc == vpc }) {
            throw r.error(at: vpcNode, "\(model.vpcs[vpc].id) is already attached to \(gw.id) by "
                          + "\(model.tgwAttachments[other].id)")
        }
        let subnetsNode = try f.require("subnets")
        let subnets = try resolveList(subnetsNode, .subnet, key: "subnets")
        guard !subnets.isEmpty else { throw r.error(at: subnetsNode, "attachment \(id) has no subnets") }
        // TGW-UG transit-gateway-vpc-attachments: "you can select one subnet per Availability Zone".
        for (k, s) in subnets.enumerated() {
            let node = (try r.list(subnetsNode, key: "subnets"))[k]
            guard model.subnets[s].vpc == vpc else {
                throw r.error(at: node, "subnet \(model.subnets[s].id) is in \(model.vpcs[model.subnets[s].vpc].id), "
                              + "not \(model.vpcs[vpc].id) of attachment \(id)")
            }
            if let o = subnets[..<k].first(where: { model.subnets[$0].availabilityZone == model.subnets[s].availabilityZone }) {
                throw r.error(at: node, "attachment \(id) has two subnets in \(model.subnets[s].availabilityZone) "
                              + "(\(model.subnets[o].id), \(model.subnets[s].id)); it takes one per AZ")
            }
        }
        let appliance = try f.bool("appliance_mode") ?? false
        // Ipv6Support gives each attachment ENI an IPv6 address (EC2 API CreateTransitGatewayVpcAttachmentRequestOptions),
        // which its subnet's /64 must hold.
        let ipv6 = try f.bool("ipv6_support") ?? false
        if ipv6, let s = subnets.first(where: { model.subnets[$0].ipv6Cidr == nil }) {
            throw r.error(at: f["ipv6_support"], "attachment \(id): ipv6_support needs an IPv6 CIDR block on each of its "
                          + "subnets (its ENI there gets an IPv6 address); \(model.subnets[s].id) has none")
        }
        let (eniIDs, addresses) = try readAttachmentENIs(f, id: id, subnets: subnets)
        let subnetItems = try r.list(subnetsNode, key: "subnets")
        for (k, a) in addresses.enumerated() where a == .any {
            pendingAttachmentENIs.append((index, k, subnetItems[k]))
        }
        model.tgwAttachments.append(TGWAttachmentSpec(id: id, name: name, transitGateway: tgw, vpc: vpc,
                                                      subnets: subnets, applianceMode: appliance, routeTable: nil,
                                                      eniIDs: eniIDs, eniAddresses: addresses, ipv6Support: ipv6))
        model.transitGateways[tgw].attachments.append(index)
    }

    /// A VPC attachment's ENI in each subnet: `network_interface_ids` or an id hashed from the attachment's and
    /// the subnet's; `private_ips` (claimed now) or, for those without, an address allocated after every other
    /// ENI's (`allocateAttachmentAddresses`), so that adding an attachment moves no other address.
    private mutating func readAttachmentENIs(_ f: YAMLFields, id: String, subnets: [Int]) throws
        -> (ids: [String], addresses: [IPv4Address])
    {
        var ids = subnets.map { ScenarioValues.eniID(hashing: "\(id)|\(model.subnets[$0].id)") }
        var addresses = [IPv4Address](repeating: .any, count: subnets.count)
        for key in ["network_interface_ids", "private_ips"] {
            guard let n = f[key] else { continue }
            let items = try r.list(n, key: key)
            guard items.count == subnets.count else {
                throw r.error(at: n, "\(f.what): \(key) has \(items.count) entries for \(subnets.count) subnets "
                              + "(one per subnet, in the same order)")
            }
            for (k, item) in items.enumerated() {
                if key == "private_ips" {
                    let a = try r.address(item, key: key)
                    try claim(a, in: subnets[k], for: "transit gateway attachment \(id)", node: item, key: key)
                    addresses[k] = a
                } else {
                    let e = try r.word(item, key: key)
                    guard e.hasPrefix("eni-"), e.count > 4 else {
                        throw r.error(at: item, "network interface id '\(e)' must start with 'eni-'")
                    }
                    if ids[..<k].contains(e) { throw r.error(at: item, "duplicate network interface id \(e)") }
                    ids[k] = e
                    pendingAttachmentENIIDs.append((model.tgwAttachments.count, k, item))
                }
            }
        }
        return (ids, addresses)
    }

    /// Each attachment ENI id given in `network_interface_ids` is unique in the whole scenario: no ENI of an
    /// instance, Lambda, NAT gateway or endpoint (whether read before or after the transit gateways) and no other
    /// attachment's ENI (given or hashed) has it.
    mutating func checkAttachmentENIIDs() throws {
        var owner: [String: String] = [:]
        for a in model.tgwAttachments {
            for e in a.eniIDs where owner[e] == nil { owner[e] = "transit gateway attachment \(a.id)" }
        }
        for (a, k, node) in pendingAttachmentENIIDs {
            let e = model.tgwAttachments[a].eniIDs[k]
            if let i = registry(.eni).byID[e] {
                throw r.error(at: node, "duplicate network interface id \(e): \(Self.eniOwner(model, i)) has it")
            }
            if let o = owner[e], o != "transit gateway attachment \(model.tgwAttachments[a].id)" {
                throw r.error(at: node, "duplicate network interface id \(e): \(o) has it")
            }
        }
        pendingAttachmentENIIDs = []
    }

    static func eniOwner(_ model: VPCModel, _ i: Int) -> String {
        switch model.enis[i].owner {
        case .instance(let k): "instance \(model.instances[k].id)"
        case .lambda(let fs): "Lambda \(fs.map { model.lambdas[$0].name ?? "function" }.joined(separator: "+"))"
        case .natGateway(let n): "NAT gateway \(model.natGateways[n].id)"
        case .vpcEndpoint(let v): "VPC endpoint \(model.vpcEndpoints[v].id)"
        }
    }

    /// Gives each attachment ENI without a `private_ips` address the lowest free one of its subnet from .4
    /// upward (as `allocatePendingAddresses` does), attachment by attachment in file order.
    mutating func allocateAttachmentAddresses() throws {
        for (a, k, node) in pendingAttachmentENIs {
            let subnet = model.tgwAttachments[a].subnets[k]
            let s = model.subnets[subnet]
            let owner = "transit gateway attachment \(model.tgwAttachments[a].id)"
            try requireIPv4(subnet, for: owner, node: node)
            var chosen: IPv4Address?
            var offset: UInt32 = 4
            while offset <= UInt32(s.cidr.addressCount - 2) {
                let candidate = s.cidr.address(at: offset)
                if usedAddresses[subnet]?[candidate.rawValue] == nil {
                    chosen = candidate
                    break
                }
                offset += 1
            }
            guard let chosen else {
                throw r.error(at: node, "subnet \(s.id) (\(s.cidr)) has no free address left for \(owner)'s ENI")
            }
            usedAddresses[subnet, default: [:]][chosen.rawValue] = owner
            model.tgwAttachments[a].eniAddresses[k] = chosen
        }
        pendingAttachmentENIs = []
    }

    /// An attachment of transit gateway `tgw`, by id or name.
    private func resolveAttachment(_ node: Node, tgw: Int, key: String) throws -> Int {
        let a = try resolve(node, .tgwAttachment, key: key)
        guard model.tgwAttachments[a].transitGateway == tgw else {
            throw r.error(at: node, "attachment \(model.tgwAttachments[a].id) belongs to "
                          + "\(model.transitGateways[model.tgwAttachments[a].transitGateway].id), not "
                          + "\(model.transitGateways[tgw].id)")
        }
        return a
    }

    private mutating func readTGWRouteTable(_ item: Node, tgw: Int) throws {
        var f = try r.fields(item, what: "transit gateway route table",
                             allowed: ["id", "name", "associations", "propagations", "routes"])
        let index = model.tgwRouteTables.count
        let (id, name) = try identifyNested(&f, .tgwRouteTable, index: index)
        for n in try f.list("associations") ?? [] {
            let a = try resolveAttachment(n, tgw: tgw, key: "associations")
            // TGW-UG tgw-route-tables: an attachment is associated with at most one route table.
            if let t = model.tgwAttachments[a].routeTable {
                throw r.error(at: n, "attachment \(model.tgwAttachments[a].id) is already associated with "
                              + "\(t == index ? id : model.tgwRouteTables[t].id) (an attachment takes one route table)")
            }
            model.tgwAttachments[a].routeTable = index
        }
        var propagations: [Int] = []
        for n in try f.list("propagations") ?? [] {
            let a = try resolveAttachment(n, tgw: tgw, key: "propagations")
            if propagations.contains(a) {
                throw r.error(at: n, "attachment \(model.tgwAttachments[a].id) is listed twice")
            }
            propagations.append(a)
        }
        var routes: [TGWRouteTableSpec.Route] = []
        var routes6: [TGWRouteTableSpec.IPv6Route] = []
        var destinations = Set<IPv4CIDR>()  // a table may hold thousands of routes: no scan of those before
        var destinations6 = Set<IPv6CIDR>()
        for n in try f.list("routes") ?? [] {
            let rf = try r.fields(n, what: "transit gateway route", allowed: ["destination", "target"])
            let destNode = try rf.require("destination")
            // An IPv6 destination is a route of its own family (TGW-UG tgw-route-tables: static routes for IPv4 or
            // IPv6 CIDRs), matched only by IPv6 packets.
            let dest = try r.eitherCIDR(destNode, key: "destination")
            let inserted: Bool
            switch dest {
            case .v4(let c): inserted = destinations.insert(c).inserted
            case .v6(let c): inserted = destinations6.insert(c).inserted
            }
            guard inserted else {
                let text = switch dest { case .v4(let c): c.description; case .v6(let c): c.description }
                throw r.error(at: destNode, "route table \(id) already has a static route to \(text)")
            }
            let targetNode = try rf.require("target")
            let target: TGWRouteTableSpec.Route.Target
            if try r.word(targetNode, key: "target") == "blackhole" {
                target = .blackhole
            } else {
                target = .attachment(try resolveAttachment(targetNode, tgw: tgw, key: "target"))
            }
            switch dest {
            case .v4(let c): routes.append(TGWRouteTableSpec.Route(destination: c, target: target))
            case .v6(let c): routes6.append(TGWRouteTableSpec.IPv6Route(destination: c, target: target))
            }
        }
        model.tgwRouteTables.append(TGWRouteTableSpec(id: id, name: name, transitGateway: tgw, routes: routes,
                                                      propagations: propagations, ipv6Routes: routes6))
        model.transitGateways[tgw].routeTables.append(index)
    }

    /// A VPC route's target that names a transit gateway of the scenario (by id or name): the VPC must be
    /// attached to it (EC2 CreateRoute takes a transit gateway the VPC is attached to). nil: no such gateway.
    func transitGatewayTarget(_ ref: String, node: Node, destination: IPv4CIDR, table rt: RouteTableSpec) throws
        -> Route.Target?
    {
        let g: Int
        switch registry(.transitGateway).find(ref) {
        case .one(let i): g = i
        case .ambiguous, .none: return nil
        }
        let gw = model.transitGateways[g]
        guard gw.attachments.contains(where: { model.tgwAttachments[$0].vpc == rt.vpc }) else {
            throw r.error(at: node, "route target \(gw.id) has no attachment in \(model.vpcs[rt.vpc].id) of route "
                          + "table \(rt.id)")
        }
        try requireOutsideVPC(destination, node: node, vpc: rt.vpc, target: gw.id)
        return .transitGateway(g)
    }
}
