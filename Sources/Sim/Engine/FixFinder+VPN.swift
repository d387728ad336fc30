import Packets

extension FixFinder {
    /// A flow to an address a VPN connection of the source VPC's virtual private gateway routes, from a subnet
    /// whose route table does not propagate that gateway (and has no route of its own to it): its packets took
    /// another route (or none) and died there. The change a person makes is enabling route propagation
    /// (EC2 EnableVgwRoutePropagation), which brings the connection's routes into the table.
    static func vgwPropagation(_ model: VPCModel, flow: FlowSpec, result: FlowResult) -> (VPCModel, RuleChange)? {
        guard let eni = result.sourceENI else { return nil }
        let subnet = model.enis[eni].subnet
        let vpc = model.subnets[subnet].vpc
        let t = model.routeTable(of: subnet)
        let destination = flow.destination.address
        guard let g = model.vpnGateways.firstIndex(where: { $0.vpc == vpc }),
              !model.routeTables[t].propagatingVGWs.contains(g),
              let c = model.vpnGateways[g].connections.first(where: { c in
                  model.vpnConnections[c].prefixes.contains { $0.contains(destination) }
              }) else { return nil }
        if case .vpnGateway? = RouteLookup.match(model.routeTables[t], destination)?.target { return nil }
        var m = model
        m.routeTables[t].propagatingVGWs.append(g)
        let conn = model.vpnConnections[c]
        let prefix = conn.prefixes.first { $0.contains(destination) }!
        return (m, RuleChange(component: model.routeTables[t].display,
                              change: "enable route propagation from \(model.vpnGateways[g].id)",
                              reason: "\(destination) is on-premises behind \(conn.display) (\(prefix)); the table of "
                                  + "\(model.subnets[subnet].display) has no route to \(model.vpnGateways[g].id), and "
                                  + "propagation brings the connection's routes into it"))
    }

    /// A virtual private gateway with no VPN connection route for the destination: a static route on the
    /// connection to the customer gateway whose on-premises network holds it (a connection with static routing;
    /// over BGP the customer gateway must advertise it, which is no AWS change).
    static func vpnStaticRoute(_ model: VPCModel, _ drop: DropInfo) -> (VPCModel, RuleChange)? {
        guard drop.rule.hasPrefix("no VPN connection route"),
              let g = model.vpnGateways.firstIndex(where: { $0.id == drop.component }) else { return nil }
        let dst = drop.key.destination
        for c in model.vpnGateways[g].connections where model.vpnConnections[c].staticRoutesOnly {
            let conn = model.vpnConnections[c]
            guard let n = model.onPremNetwork(holding: dst, behind: conn.customerGateway) else { continue }
            let cidr = model.onPremNetworks[n].cidrs.first { $0.contains(dst) }!
            var m = model
            m.vpnConnections[c].staticRoutes.append(cidr)
            return (m, RuleChange(component: conn.display,
                                  change: "add static route \(cidr) (aws ec2 create-vpn-connection-route)",
                                  reason: "\(dst) is in on-premises network \(model.onPremNetworks[n].name) behind "
                                      + "\(model.customerGateways[conn.customerGateway].display); the connection uses "
                                      + "static routing and has no route to it"))
        }
        return nil
    }
}
