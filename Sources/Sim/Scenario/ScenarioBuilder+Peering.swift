import Packets
import Yams

/// `peering_connections:` — VPC peering connections between VPCs of the scenario.
extension ScenarioBuilder {
    static let peeringKeys = ["id", "name", "requester_vpc", "accepter_vpc", "requester_region", "accepter_region",
                              "status"]

    /// Each connection joins two different VPCs of the scenario whose CIDR blocks do not overlap; a VPC is in one
    /// Region whatever connection names it; two VPCs have at most one active connection. `region`: each side's
    /// Region when the connection gives none (the scenario's, `flow_logs.region`).
    mutating func readPeeringConnections(_ items: [Node], region: String) throws {
        /// The Region each VPC was placed in, and by which connection.
        var vpcRegion: [Int: (region: String, by: String)] = [:]
        for item in items {
            var f = try r.fields(item, what: "peering connection", allowed: Self.peeringKeys)
            let index = model.peeringConnections.count
            let (id, name) = try identify(&f, .peeringConnection, index: index)
            let requester = try resolve(f.require("requester_vpc"), .vpc, key: "requester_vpc")
            let accepterNode = try f.require("accepter_vpc")
            let accepter = try resolve(accepterNode, .vpc, key: "accepter_vpc")
            guard requester != accepter else {
                throw r.error(at: accepterNode, "peering connection \(id) joins \(model.vpcs[requester].id) to itself")
            }
            // VPC-PG vpc-peering-basics: "You cannot create a VPC peering connection between VPCs that have
            // matching or overlapping IPv4 CIDR blocks."
            for a in model.vpcs[requester].cidrBlocks {
                if let b = model.vpcs[accepter].cidrBlocks.first(where: { $0.overlaps(a) }) {
                    throw r.error(at: accepterNode, "peering connection \(id): \(model.vpcs[requester].id) (\(a)) and "
                                  + "\(model.vpcs[accepter].id) (\(b)) overlap; AWS does not peer VPCs with "
                                  + "overlapping CIDR blocks")
                }
            }
            var regions: [String] = []
            for (key, vpc) in [("requester_region", requester), ("accepter_region", accepter)] {
                var v = region
                if let n = f[key] {
                    v = try r.word(n, key: key)
                    guard FlowLogSettings.isValidRegion(v) else {
                        throw r.error(at: n, "invalid \(key) '\(v)' (expected a region code such as us-east-1)")
                    }
                }
                if let placed = vpcRegion[vpc], placed.region != v {
                    throw r.error(at: f[key] ?? item, "peering connection \(id) puts \(model.vpcs[vpc].id) in \(v), "
                                  + "but \(placed.by) puts it in \(placed.region)")
                }
                vpcRegion[vpc] = (v, id)
                regions.append(v)
            }
            var status = "active"
            if let n = f["status"] {
                status = try r.oneOf(n, key: "status", PeeringConnection.statuses.map { ($0, $0) })
            }
            let pcx = PeeringConnection(id: id, name: name, requesterVPC: requester, accepterVPC: accepter,
                                        requesterRegion: regions[0], accepterRegion: regions[1], status: status)
            // VPC-PG vpc-peering-basics: "You cannot have more than one VPC peering connection between the same
            // two VPCs at the same time."
            if pcx.isActive, let other = model.activePeering(between: requester, accepter) {
                throw r.error(at: accepterNode, "\(model.vpcs[requester].id) and \(model.vpcs[accepter].id) are "
                              + "already peered by \(model.peeringConnections[other].id) (AWS allows one active "
                              + "connection between two VPCs)")
            }
            model.peeringConnections.append(pcx)
        }
    }
}
