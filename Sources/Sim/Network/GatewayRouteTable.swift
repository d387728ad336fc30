import Packets

/// Gateway route tables (VPC-UG gateway-route-tables): a route table associated with an internet gateway or a
/// virtual private gateway (an edge association) routes the traffic entering the VPC through that gateway (through
/// an internet gateway, after it has translated the destination to the private address): ingress routing. Its routes may target only the local route, a
/// middlebox appliance's network interface or a Gateway Load Balancer endpoint (the loader refuses the rest); the
/// destination is the VPC's CIDR block or a subnet's. A packet whose route is `local` goes on to its ENI as if no
/// table were associated; one routed to an appliance's ENI goes there first — its subnet's NACL inbound, its
/// security groups — and the appliance forwards it by its own subnet's route table (`Appliance`). "For traffic
/// that flows through an internet gateway, the target network interface must also have a public IP address": a
/// packet routed to an appliance ENI without one is dropped at the gateway. A Gateway Load Balancer endpoint is not
/// modeled: the flow ends not-modeled. The return traffic is the subnets' route tables' business (AWS: it must go
/// back through the same appliance; asymmetric routing is not supported, and a stateful appliance drops it).
final class GatewayRouteTable {
    /// Per internet gateway: the route table associated with it, -1 for none.
    private let tableOf: [Int32]
    /// Per virtual private gateway: the route table associated with it, -1 for none.
    private let vgwTableOf: [Int32]
    private let model: VPCModel

    init(_ model: VPCModel) {
        self.model = model
        var of = [Int32](repeating: -1, count: model.internetGateways.count)
        var vgw = [Int32](repeating: -1, count: model.vpnGateways.count)
        for (t, rt) in model.routeTables.enumerated() {
            if let g = rt.gateway { of[g] = Int32(t) }
            if let g = rt.vpnGatewayEdge { vgw[g] = Int32(t) }
        }
        tableOf = of
        vgwTableOf = vgw
    }

    /// The gateway route table of virtual private gateway `g`: traffic out of its VPN connections into the VPC
    /// is routed by it as traffic through an internet gateway is (no public IP is needed on the appliance).
    @inline(__always)
    func table(ofVPNGateway g: Int) -> Int? {
        let t = vgwTableOf[g]
        return t < 0 ? nil : Int(t)
    }

    /// The gateway route table of internet gateway `g`.
    @inline(__always)
    func table(of g: Int) -> Int? {
        let t = tableOf[g]
        return t < 0 ? nil : Int(t)
    }

    /// Whether internet gateway `g` has one (its inbound hop then routes every packet).
    @inline(__always)
    func routes(_ g: Int) -> Bool { tableOf[g] >= 0 }

    /// Route table `t` sends a packet to appliance ENI `eni`, which has no public IP: dropped at gateway `g`.
    func noPublicAddress(_ g: Int, table t: Int, eni: Int) -> Step {
        Step(kind: .internetGateway, component: model.internetGateways[g].id,
             componentDisplay: model.internetGateways[g].display, action: .dropped,
             rule: "gateway route table \(model.routeTables[t].id) → \(model.enis[eni].id), which has no public IP",
             detail: "traffic through an internet gateway reaches a middlebox's network interface only if it has a "
                 + "public IP address")
    }
}
