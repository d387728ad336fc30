import Packets
import Yams

/// Gateway route tables (`gateway:` on a route table): the edge association `aws ec2 associate-route-table
/// --route-table-id rtb-… --gateway-id igw-…` (or `vgw-…`) makes.
extension ScenarioBuilder {
    /// `gateway: igw-…`: the internet gateway, attached to the table's VPC, that no other table is associated with.
    /// A reference that names no internet gateway waits for the virtual private gateways
    /// (`resolveVGWEdgeAssociations`).
    mutating func readEdgeAssociation(_ node: Node, table t: Int) throws {
        if case .none = registry(.internetGateway).find(try r.word(node, key: "gateway")) {
            pendingVGWEdges.append((t, node))
            return
        }
        let g = try resolve(node, .internetGateway, key: "gateway")
        let rt = model.routeTables[t], igw = model.internetGateways[g]
        guard igw.vpc == rt.vpc else {
            let where_ = igw.vpc.map { "is attached to \(model.vpcs[$0].id)" } ?? "is not attached to a VPC"
            throw r.error(at: node, "gateway \(igw.id) \(where_), not \(model.vpcs[rt.vpc].id) of route table \(rt.id)")
        }
        // EC2 API AssociateRouteTable: a gateway is associated with one route table at a time.
        if let other = model.routeTables.first(where: { $0.gateway == g }) {
            throw r.error(at: node, "\(igw.id) is already associated with route table \(other.id) (a gateway takes one "
                          + "route table)")
        }
        model.routeTables[t].gateway = g
    }

    /// `gateway: vgw-…`: the virtual private gateway, attached to the table's VPC, that no other table is
    /// associated with (VPC-UG gateway-route-tables: "You can associate a route table with an internet gateway or
    /// a virtual private gateway"). A table with route propagation cannot be a gateway route table ("Rules and
    /// considerations": not when "route propagation is enabled for the route table").
    mutating func resolveVGWEdgeAssociations() throws {
        for (t, node) in pendingVGWEdges {
            let ref = try r.word(node, key: "gateway")
            guard case .one(let g) = registry(.vpnGateway).find(ref) else {
                // An id names its kind: the message (and suggestion) of that kind.
                if ref.hasPrefix("igw-") { _ = try resolve(node, .internetGateway, key: "gateway") }
                if ref.hasPrefix("vgw-") { _ = try resolve(node, .vpnGateway, key: "gateway") }
                throw r.error(at: node, "gateway \(ref) is neither an internet gateway nor a virtual private gateway of "
                              + "the scenario" + didYouMean(ref, [.internetGateway, .vpnGateway]))
            }
            let rt = model.routeTables[t], vgw = model.vpnGateways[g]
            guard vgw.vpc == rt.vpc else {
                let where_ = vgw.vpc.map { "is attached to \(model.vpcs[$0].id)" } ?? "is not attached to a VPC"
                throw r.error(at: node, "gateway \(vgw.id) \(where_), not \(model.vpcs[rt.vpc].id) of route table \(rt.id)")
            }
            if let other = model.routeTables.first(where: { $0.vpnGatewayEdge == g }) {
                throw r.error(at: node, "\(vgw.id) is already associated with route table \(other.id) (a gateway takes one "
                              + "route table)")
            }
            if !rt.propagatingVGWs.isEmpty {
                throw r.error(at: node, "route table \(rt.id) propagates routes (propagating_vgws), so it cannot be "
                              + "associated with \(vgw.id): a gateway route table has no route propagation")
            }
            model.routeTables[t].vpnGatewayEdge = g
        }
    }

    /// The routes of each gateway route table (VPC-UG gateway-route-tables, "Gateway route table routes" and "Rules
    /// and considerations"; the same for an internet and a virtual private gateway): a target is `local`, the network interface (or instance) of a middlebox appliance, or
    /// a Gateway Load Balancer endpoint (kept, not modeled: a flow routed there ends not-modeled); the destination
    /// is the entire CIDR block of the VPC (replacing the local route's target) or of one of its subnets.
    func checkGatewayRouteTables() throws {
        for (t, node) in pendingRoutes where model.routeTables[t].gateway != nil || model.routeTables[t].vpnGatewayEdge != nil {
            let rt = model.routeTables[t]
            let igw = rt.gateway.map { model.internetGateways[$0].id } ?? model.vpnGateways[rt.vpnGatewayEdge!].id
            for item in try r.list(node, key: "routes") {
                let f = try r.fields(item, what: "route", allowed: ["destination", "target"])
                let destNode = try f.require("destination")
                let dest = try r.cidr(destNode, key: "destination")
                guard let route = rt.routes.first(where: { $0.destination == dest && $0.prefixList == nil }) else { continue }
                switch route.target {
                case .local:
                    continue
                case .networkInterface(let eni):
                    guard case .instance = model.enis[eni].owner else {
                        throw r.error(at: f["target"], "route table \(rt.id) is associated with \(igw): a route's target "
                                      + "must be local, an appliance's network interface or a Gateway Load Balancer "
                                      + "endpoint, not \(model.enis[eni].id)")
                    }
                case .notModeled(let id) where id.hasPrefix("vpce-") || id.hasPrefix("eni-") || id.hasPrefix("i-"):
                    break
                default:
                    throw r.error(at: f["target"], "route table \(rt.id) is associated with \(igw): a route's target must "
                                  + "be local, an appliance's network interface or a Gateway Load Balancer endpoint")
                }
                let vpc = model.vpcs[rt.vpc]
                guard vpc.cidrBlocks.contains(dest)
                        || model.subnets.contains(where: { $0.vpc == rt.vpc && $0.cidr == dest }) else {
                    throw r.error(at: destNode, "route table \(rt.id) is associated with \(igw): a route's destination "
                                  + "must be the whole CIDR of \(vpc.id) or of one of its subnets, not \(dest)")
                }
            }
        }
    }
}
