import Packets

/// Gateway route tables: describe-route-tables `Associations` with a `GatewayId` (an internet or virtual private
/// gateway).
extension AWSConverter {
    /// `g` when table `t`'s routes are what a gateway route table may hold (VPC-UG gateway-route-tables: targets
    /// local, an appliance's network interface or instance, a Gateway Load Balancer endpoint; destinations the VPC's
    /// CIDR blocks or a subnet's), else nil with a warning (the loader would refuse the table).
    mutating func edgeAssociation(_ g: String, of t: ImportPlan.RouteTable) -> String? {
        let blocks = plan.vpcs[vpcIndex[t.vpc]!].blocks
        for r in t.routes {
            let okTarget = r.target == "local" || ["vpce-", "eni-", "i-"].contains { r.target.hasPrefix($0) }
            let okDestination = blocks.contains(r.destination)
                || plan.subnets.contains { $0.vpc == t.vpc && $0.cidr == r.destination }
            guard okTarget, okDestination else {
                warn(.notModelled, t.id, "edge association with \(g) left out: route \(r.destination) → \(r.target) is "
                     + "not one a gateway route table holds; the table's routes apply only to its subnets")
                return nil
            }
        }
        return g
    }
}
