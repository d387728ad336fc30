import Packets
import Yams

/// Gateway route tables (`gateway:` on a route table): the edge association `aws ec2 associate-route-table
/// --route-table-id rtb-… --gateway-id igw-…` makes.
extension ScenarioBuilder {
    /// `gateway: igw-…`: the internet gateway, attached to the table's VPC, that no other table is associated with.
    mutating func readEdgeAssociation(_ node: Node, table t: Int) throws {
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

    /// The routes of each gateway route table (VPC-UG gateway-route-tables, "Gateway route table routes" and "Rules
    /// and considerations"): a target is `local`, the network interface (or instance) of a middlebox appliance, or
    /// a Gateway Load Balancer endpoint (kept, not modeled: a flow routed there ends not-modeled); the destination
    /// is the entire CIDR block of the VPC (replacing the local route's target) or of one of its subnets.
    func checkGatewayRouteTables() throws {
        for (t, node) in pendingRoutes where model.routeTables[t].gateway != nil {
            let rt = model.routeTables[t]
            let igw = model.internetGateways[rt.gateway!].id
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
