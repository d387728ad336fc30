import Packets

/// A proposed change to the VPC, written as a person would make it in the console.
public struct RuleChange: Sendable, Equatable, Codable {
    /// "acl-0a1b (public)".
    public var component: String
    /// "outbound: add #110 ALLOW tcp 22 203.0.113.22/32".
    public var change: String
    /// Why: "the request to 203.0.113.22:22 leaves the subnet here" / "replies come back on ports 1024-65535".
    public var reason: String

    public var text: String { "\(component) \(change) — \(reason)" }
}

/// What would fix a failed flow: the smallest rule changes, found by proposing a change for the drop,
/// applying it to a copy of the model and re-running the flow, until it succeeds (at most six changes).
/// Stateless NACLs usually need two changes: the request's direction and the replies'.
public enum FixFinder {
    public struct Result: Sendable {
        public var changes: [RuleChange]
        /// True when re-running the flow with every change applied succeeded.
        public var verified: Bool
        /// Advice when no rule change can fix it (a Lambda in a public subnet).
        public var advice: String?
        /// The return path of each NACL change, checked in the fixed model: "replies … are admitted by …".
        public var notes: [String] = []
    }

    public static func fix(scenario: Scenario, flow: Int, result: FlowResult) -> Result? {
        // A flow routed outside the model has no network verdict to fix.
        guard result.outcome != .ok, result.outcome != .notModeled, result.drop != nil else { return nil }
        var s = scenario
        s.flows = [scenario.flows[flow]]
        s.flows[0].expect = nil
        var changes: [RuleChange] = []
        var current = result
        if let (model, change) = endpointAssociation(s.model, flow: s.flows[0], result: result)
            ?? vgwPropagation(s.model, flow: s.flows[0], result: result) {
            s.model = model
            changes.append(change)
            let sim = Simulation(scenario: s)
            let recorder = RunRecorder(sim: sim, captures: nil, ladderLimit: 0)
            sim.observer = recorder
            current = sim.run()[0]
            if current.outcome == .ok { return Result(changes: changes, verified: true, advice: nil) }
        }
        for _ in 0..<6 {
            // A packet too big for a link is no rule's doing: the ICMP dropped after it is (FlowResult.primary).
            guard let drop = FlowResult.primary(current.drops), drop.kind != "path-mtu" else { break }
            guard let (model, change) = propose(s.model, drop, flow: s.flows[0], result: current) else {
                return Result(changes: changes, verified: false, advice: advice(s.model, drop))
            }
            s.model = model
            changes.append(change)
            let sim = Simulation(scenario: s)
            let recorder = RunRecorder(sim: sim, captures: nil, ladderLimit: 0)
            sim.observer = recorder
            current = sim.run()[0]
            if current.outcome == .ok {
                return Result(changes: changes, verified: true, advice: nil,
                              notes: returnPathNotes(s.model, drops: result.drops + [current].flatMap(\.drops)))
            }
        }
        return Result(changes: changes, verified: false, advice: nil)
    }

    /// A flow to an address of a gateway endpoint's prefix list, from a subnet whose route table the endpoint is
    /// not associated with: its packets took another route (0.0.0.0/0 to a NAT gateway, or none) and died there.
    /// The change a person makes is the association, which adds the endpoint's prefix-list routes to the table
    /// (PrivateLink guide gateway-endpoints, "Routing"), not a rule on the way the packets should never have taken.
    static func endpointAssociation(_ model: VPCModel, flow: FlowSpec, result: FlowResult) -> (VPCModel, RuleChange)? {
        guard let eni = result.sourceENI else { return nil }
        let subnet = model.enis[eni].subnet
        let vpc = model.subnets[subnet].vpc
        let t = model.routeTable(of: subnet)
        let destination = flow.destination.address
        guard let e = model.vpcEndpoints.firstIndex(where: { ep in
            ep.vpc == vpc && !ep.routeTables.contains(t) && ep.prefixListCIDRs.contains { $0.contains(destination) }
                && !model.vpcEndpoints.contains { $0.vpc == vpc && $0.service == ep.service && $0.routeTables.contains(t) }
        }) else { return nil }
        var m = model
        let ep = m.vpcEndpoints[e]
        m.vpcEndpoints[e].routeTables.append(t)
        // The table's own routes stay first: at an equal prefix they beat the prefix-list routes.
        for c in ep.prefixListCIDRs where !m.routeTables[t].routes.contains(where: { $0.destination == c }) {
            m.routeTables[t].routes.append(Route(destination: c, target: .vpcEndpoint(e), prefixList: ep.prefixListID))
        }
        return (m, RuleChange(component: ep.display, change: "route tables: associate \(model.routeTables[t].display)",
                              reason: "adds \(ep.prefixListID) → \(ep.id) to the table of \(model.subnets[subnet].display): "
                                  + "\(ep.service) traffic goes through the endpoint"))
    }

    /// The ephemeral ports a replying packet goes back to, by who opened the connection (aws-semantics §2).
    static func ephemeralRange(_ model: VPCModel, for address: IPv4Address) -> PortRange {
        if let e = model.enis.first(where: { $0.privateIP == address || $0.publicIP == address }) {
            switch e.owner {
            case .lambda, .natGateway, .vpcEndpoint: return PortRange(1024, 65535)
            case .instance(let k):
                let r = model.instances[k].stack.ephemeralPorts
                return PortRange(r.lowerBound, r.upperBound)
            }
        }
        return PortRange(1024, 65535)
    }

    static func propose(_ model: VPCModel, _ drop: DropInfo, flow: FlowSpec, result: FlowResult)
        -> (VPCModel, RuleChange)?
    {
        let key = drop.key
        var m = model
        let isReply = !drop.fromClient
        switch drop.kind {
        case "nacl":
            guard let a = m.networkACLs.firstIndex(where: { $0.id == drop.component }) else { return nil }
            let inbound = drop.direction == "inbound"
            let peer = inbound ? key.source : key.destination
            let ports = isReply ? ephemeralRange(model, for: key.destination) : PortRange(key.destinationPort, key.destinationPort)
            if peer.isIPv6Token { return proposeIPv6(model, a, inbound: inbound, key, ports: ports, isReply: isReply) }
            let rules = inbound ? m.networkACLs[a].inbound : m.networkACLs[a].outbound
            let number = freeRuleNumber(rules, before: rules.first { NACLEvaluator.matches($0, key, peer: peer) })
            // ICMP "fragmentation needed" may come from any router on the path: VPC-UG path_mtu_discovery asks for
            // a rule for type 3 code 4 (from anywhere), not for one address.
            let pmtud = key.proto == .icmp && key.icmpType == 3 && key.icmpCode == 4
            let rule = NACLRule(number: number, proto: .number(key.proto), ports: key.hasPorts ? ports : nil,
                                icmpType: pmtud ? 3 : nil, icmpCode: pmtud ? 4 : nil,
                                cidr: pmtud ? .anyIPv4 : IPv4CIDR(containing: peer, prefixLength: 32), action: .allow)
            let list: WritableKeyPath<NetworkACLSpec, [NACLRule]> = inbound ? \.inbound : \.outbound
            m.networkACLs[a][keyPath: list].append(rule)
            m.networkACLs[a][keyPath: list].sort { $0.number < $1.number }
            let reason = pmtud
                ? "ICMP fragmentation needed (type 3 code 4) reports a path MTU smaller than the packets (Path MTU Discovery; NACLs are stateless)"
                : isReply
                ? "replies from \(key.source):\(key.sourcePort) come back to ports \(ports.description) (NACLs are stateless)"
                : "the request to \(key.destination):\(key.destinationPort) crosses this subnet boundary \(inbound ? "inbound" : "outbound")"
            return (m, RuleChange(component: model.networkACLs[a].display,
                                  change: "\(inbound ? "inbound" : "outbound"): add \(NACLEvaluator.describe(rule))",
                                  reason: reason))
        case "security-group":
            // A connection whose tracked state expired idle: a rule for its one port would hide that (`advice`).
            if drop.rule.hasPrefix(SecurityGroup.expiredPrefix) { return nil }
            if drop.direction == "ingress", key.destination.isIPv6Token { return proposeIPv6Ingress(model, key) }
            guard let eni = model.enis.firstIndex(where: {
                $0.privateIP == (drop.direction == "egress" ? key.source : key.destination)
            }), let g = model.enis[eni].securityGroups.first else { return nil }
            let egress = drop.direction == "egress"
            let peer = egress ? key.destination : key.source
            if let byGroup = groupRuleChange(model, eni: eni, egress: egress, key: key, peer: peer) {
                return byGroup
            }
            // ICMP "fragmentation needed" comes from whichever router has the small link: EC2-UG
            // security-group-rules-reference asks for an inbound ICMP rule from anywhere for Path MTU Discovery.
            let pmtud = !egress && key.proto == .icmp && key.icmpType == 3 && key.icmpCode == 4
            let rule = SecurityGroupRule(proto: .number(key.proto),
                                         ports: key.hasPorts ? PortRange(key.destinationPort, key.destinationPort) : nil,
                                         peer: .cidr(pmtud ? .anyIPv4 : IPv4CIDR(containing: peer, prefixLength: 32)),
                                         description: nil, icmpType: pmtud ? 3 : nil, icmpCode: pmtud ? 4 : nil)
            if egress { m.securityGroups[g].egress.append(rule) } else { m.securityGroups[g].ingress.append(rule) }
            return (m, RuleChange(component: model.securityGroups[g].display,
                                  change: "\(egress ? "egress" : "ingress"): add "
                                      + SecurityGroupEvaluator.describe(model, group: g, egress ? .outbound : .inbound, rule),
                                  reason: pmtud
                                      ? "AWS documents an inbound ICMP rule for Path MTU Discovery; a tracked connection's "
                                          + "ICMP errors are not admitted without it (assumption sg_admits_related_icmp)"
                                      : "security groups are stateful: replies need no rule"))
        case "route":
            guard let t = m.routeTables.firstIndex(where: { $0.id == drop.component }) else { return nil }
            if let byTGW = tgwRouteChange(model, table: t, destination: key.destination) { return byTGW }
            let vpc = m.routeTables[t].vpc
            if let peered = peeringRoute(m, table: t, key: key, isReply: isReply) { return peered }
            // A NAT gateway does not translate IPv6 (its IPv6 routes are NAT64's): no route to one fixes an IPv6 flow.
            guard !key.destination.isIPv6Token else { return nil }
            // Prefer a public NAT gateway in the VPC; otherwise nothing a route alone can fix.
            guard let n = m.natGateways.firstIndex(where: { m.subnets[$0.subnet].vpc == vpc && $0.connectivity == .public })
            else { return nil }
            let dest = IPv4CIDR.anyIPv4
            m.routeTables[t].routes.removeAll { $0.destination == dest }
            m.routeTables[t].routes.append(Route(destination: dest, target: .natGateway(n)))
            return (m, RuleChange(component: model.routeTables[t].display,
                                  change: "add route 0.0.0.0/0 → \(model.natGateways[n].id)",
                                  reason: "no route leads \(key.destination) out of the VPC"))
        case "appliance":
            guard let k = m.instances.firstIndex(where: { $0.id == drop.component }) else { return nil }
            // An instance with several interfaces: the step names the interface whose check dropped it.
            if let j = m.instances[k].secondaryENIs.firstIndex(where: {
                drop.rule.hasPrefix("source/destination check of \(m.enis[$0].id):")
            }), m.instances[k].secondarySourceDestCheck[j] {
                m.instances[k].secondarySourceDestCheck[j] = false
                let id = m.enis[m.instances[k].secondaryENIs[j]].id
                return (m, RuleChange(component: model.instances[k].display,
                                      change: "disable source/destination check of \(id) (aws ec2 "
                                          + "modify-network-interface-attribute --network-interface-id \(id) "
                                          + "--no-source-dest-check)",
                                      reason: "a route sends it traffic to forward through \(id)"))
            }
            if m.instances[k].sourceDestCheck {
                m.instances[k].sourceDestCheck = false
                return (m, RuleChange(component: model.instances[k].display,
                                      change: "disable source/destination check "
                                          + "(aws ec2 modify-instance-attribute --no-source-dest-check)",
                                      reason: "a route sends it traffic for \(key.destination) to forward"))
            }
            if drop.rule.hasPrefix("no connection state"), case let vpc = m.subnets[m.enis[m.instances[k].eni].subnet].vpc,
               let a = m.tgwAttachments.firstIndex(where: { $0.vpc == vpc && !$0.applianceMode && $0.subnets.count > 1 }) {
                // The reply entered the appliance's VPC through another AZ than the request (AZ affinity): appliance
                // mode keeps a flow in one AZ of the attachment both ways (TGW-UG transit-gateway-appliance-scenario).
                m.tgwAttachments[a].applianceMode = true
                return (m, RuleChange(component: model.tgwAttachments[a].display,
                                      change: "enable appliance mode (aws ec2 modify-transit-gateway-vpc-attachment "
                                          + "--options ApplianceModeSupport=enable)",
                                      reason: "the reply came back through another AZ's appliance, which never saw the "
                                          + "connection open; appliance mode keeps each flow in one AZ both ways"))
            }
            return nil  // the instance's own forwarding is not a VPC rule
        case "internet-gateway":
            // A packet for another VPC routed to the internet gateway (a reply the NAT gateway translated back):
            // the route table that sent it there lacks the route to the transit gateway.
            guard let g = m.internetGateways.firstIndex(where: { $0.id == drop.component }),
                  let vpc = m.internetGateways[g].vpc else { return nil }
            let sending = m.routeTables.indices.filter { t in
                m.routeTables[t].vpc == vpc && RouteLookup.match(m.routeTables[t], key.destination)?.target == .internetGateway(g)
            }
            let natSubnets = Set(m.natGateways.map(\.subnet))
            let t = sending.first { t in m.subnets.indices.contains { natSubnets.contains($0) && m.routeTable(of: $0) == t } }
                ?? sending.first
            guard let t else { return nil }
            return tgwRouteChange(model, table: t, destination: key.destination)
        case "transit-gateway":
            return tgwChange(model, drop)
        case "vpn":
            return vpnStaticRoute(model, drop)
        default:
            return nil
        }
    }

    /// A packet dropped at route table `t` for want of a route, whose destination is in a VPC that an active
    /// peering connection joins to the table's VPC: the route to that VPC's CIDR block through the connection.
    /// Each side of a peering routes on its own (VPC-PG vpc-peering-routing), so a reply dropped here needs the
    /// route on this side, the peer's, whatever the other side has.
    static func peeringRoute(_ model: VPCModel, table t: Int, key: PacketKey, isReply: Bool) -> (VPCModel, RuleChange)? {
        let vpc = model.routeTables[t].vpc
        for (k, c) in model.peeringConnections.enumerated() where c.isActive {
            guard let other = c.otherVPC(vpc) else { continue }
            var m = model
            let block: String
            // An IPv6 destination: the route to the peer's IPv6 block (VPC-PG vpc-peering-routing: routes "that
            // enable communication with the peer VPC over IPv6").
            if let a = key.destination.ipv6, key.destination.isIPv6Token {
                guard let b6 = model.vpcs[other].ipv6CidrBlocks.first(where: { $0.contains(a) }) else { continue }
                m.routeTables[t].ipv6Routes.removeAll { $0.destination == b6 }
                m.routeTables[t].ipv6Routes.append(IPv6Route(destination: b6, target: .common(.peeringConnection(k))))
                block = b6.description
            } else {
                guard let b4 = model.vpcs[other].cidrBlocks.first(where: { $0.contains(key.destination) }) else { continue }
                m.routeTables[t].routes.removeAll { $0.destination == b4 }
                m.routeTables[t].routes.append(Route(destination: b4, target: .peeringConnection(k)))
                block = b4.description
            }
            let side = vpc == c.requesterVPC ? "requester" : "accepter"
            let reason = (isReply ? "replies to \(key.destination) cross back over \(c.id)" : "\(key.destination) is in "
                + "\(model.vpcs[other].display), across \(c.id)") + "; each side of a peering needs its own route "
                + "(this table is on the \(side) side, \(model.vpcs[vpc].display))"
            return (m, RuleChange(component: model.routeTables[t].display, change: "add route \(block) → \(c.id)",
                                  reason: reason))
        }
        return nil
    }

    /// A route to a transit gateway in route table `t` for `destination`, when it lies in a VPC attached to a
    /// transit gateway that `t`'s VPC is attached to too: that VPC's CIDR block → the gateway.
    static func tgwRouteChange(_ model: VPCModel, table t: Int, destination: IPv4Address) -> (VPCModel, RuleChange)? {
        let vpc = model.routeTables[t].vpc
        for (g, gw) in model.transitGateways.enumerated() {
            guard gw.attachments.contains(where: { model.tgwAttachments[$0].vpc == vpc }) else { continue }
            for a in gw.attachments where model.tgwAttachments[a].vpc != vpc && model.tgwAttachments[a].vpc >= 0 {
                let far = model.tgwAttachments[a].vpc
                var m = model
                let block: String
                if let v6 = destination.ipv6, destination.isIPv6Token {
                    guard let b6 = model.vpcs[far].ipv6CidrBlocks.first(where: { $0.contains(v6) }) else { continue }
                    m.routeTables[t].ipv6Routes.removeAll { $0.destination == b6 }
                    m.routeTables[t].ipv6Routes.append(IPv6Route(destination: b6, target: .common(.transitGateway(g))))
                    block = b6.description
                } else {
                    guard let b4 = model.vpcs[far].cidrBlocks.first(where: { $0.contains(destination) }) else { continue }
                    m.routeTables[t].routes.removeAll { $0.destination == b4 }
                    m.routeTables[t].routes.append(Route(destination: b4, target: .transitGateway(g)))
                    block = b4.description
                }
                return (m, RuleChange(component: model.routeTables[t].display,
                                      change: "add route \(block) → \(gw.id)",
                                      reason: "\(destination) is in \(model.vpcs[far].display), attached to \(gw.display)"
                                          + (destination.isIPv6Token ? "" : "; without the route it goes \(RouteLookup.match(model.routeTables[t], destination).map { "to " + RouteTable.describe($0.target, in: model) } ?? "nowhere")")))
            }
        }
        return nil
    }

    /// A transit gateway's drop: an attachment with no route table association gets one (the gateway's table
    /// that routes the destination, else its first); a TGW route table with no route for the destination gets the
    /// propagation of the attachment whose VPC holds it. A blackhole route is left alone (someone meant it).
    static func tgwChange(_ model: VPCModel, _ drop: DropInfo) -> (VPCModel, RuleChange)? {
        var m = model
        let dst = drop.key.destination
        if let a = model.tgwAttachments.firstIndex(where: { $0.id == drop.component }),
           drop.rule == "no route table association", model.tgwAttachments[a].vpc >= 0 {
            let gw = model.transitGateways[model.tgwAttachments[a].transitGateway]
            let tables = gw.routeTables
            let routing = tables.first { t in
                let spec = model.tgwRouteTables[t]
                guard dst.isIPv6Token else {
                    return TransitGateway.compile(spec, model).contains { $0.cidr.contains(dst) && $0.attachment >= 0 }
                }
                let a = dst.ipv6
                return TransitGateway.compile6(spec, model).contains { r in a.map { r.cidr6!.contains($0) } == true && r.attachment >= 0 }
            }
            guard let t = routing ?? tables.first else { return nil }
            m.tgwAttachments[a].routeTable = t
            return (m, RuleChange(component: model.tgwRouteTables[t].display,
                                  change: "add association \(model.tgwAttachments[a].id) (\(model.vpcs[model.tgwAttachments[a].vpc].id))",
                                  reason: "packets arriving through \(model.tgwAttachments[a].display) are routed by "
                                      + "the table it is associated with, and it has none"))
        }
        guard let t = model.tgwRouteTables.firstIndex(where: { $0.id == drop.component }),
              drop.rule.hasPrefix("no route matches") else { return nil }
        let g = model.tgwRouteTables[t].transitGateway
        // An IPv6 destination in a VPC whose attachment propagates into this table without IPv6 support: turning it
        // on brings the VPC's IPv6 blocks (EC2 API Ipv6Support), when the attachment's subnets have IPv6 blocks.
        if dst.isIPv6Token, let v6 = dst.ipv6, let a = model.transitGateways[g].attachments.first(where: { a in
            let att = model.tgwAttachments[a]
            return att.vpc >= 0 && !att.ipv6Support && model.tgwRouteTables[t].propagations.contains(a)
                && model.vpcs[att.vpc].ipv6CidrBlocks.contains { $0.contains(v6) }
                && att.subnets.allSatisfy { model.subnets[$0].ipv6Cidr != nil }
        }) {
            m.tgwAttachments[a].ipv6Support = true
            let id = model.tgwAttachments[a].id
            return (m, RuleChange(component: model.tgwAttachments[a].display,
                                  change: "enable IPv6 support (aws ec2 modify-transit-gateway-vpc-attachment "
                                      + "--transit-gateway-attachment-id \(id) --options Ipv6Support=enable)",
                                  reason: "\(dst) is in \(model.vpcs[model.tgwAttachments[a].vpc].display), whose attachment "
                                      + "propagates into \(model.tgwRouteTables[t].id) but brings its IPv6 blocks only with "
                                      + "IPv6 support on"))
        }
        guard let a = model.transitGateways[g].attachments.first(where: { a in
            let att = model.tgwAttachments[a]
            guard att.vpc >= 0 else { return false }
            // An IPv6 destination: the propagation brings the VPC's IPv6 blocks only with IPv6 support on.
            if dst.isIPv6Token, let v6 = dst.ipv6 {
                return att.ipv6Support && model.vpcs[att.vpc].ipv6CidrBlocks.contains { $0.contains(v6) }
            }
            return model.vpcs[att.vpc].cidrBlocks.contains { $0.contains(dst) }
        }), !model.tgwRouteTables[t].propagations.contains(a) else { return nil }
        m.tgwRouteTables[t].propagations.append(a)
        return (m, RuleChange(component: model.tgwRouteTables[t].display,
                              change: "add propagation \(model.tgwAttachments[a].id) (\(model.vpcs[model.tgwAttachments[a].vpc].id))",
                              reason: "\(dst) is in \(model.vpcs[model.tgwAttachments[a].vpc].display); the propagation "
                                  + "brings its CIDR into the table"))
    }

    /// When the groups of `eni` already admit by group reference in this direction and the peer is an ENI of the
    /// same VPC (or of one peered with it in the same Region) with groups of its own, the change a person would
    /// make: extend a rule for a group the peer carries to the port, when its range ends next to it, or add a rule
    /// for that group (else for the peer's first group, in the group that already references one). A group rule matches the private addresses of the ENIs
    /// that carry the group (VPC-UG security-group-rules), so a peer seen by a public address (through an
    /// internet gateway or a NAT gateway) gets none: nil, and the caller proposes its /32.
    static func groupRuleChange(_ model: VPCModel, eni: Int, egress: Bool, key: PacketKey, peer: IPv4Address)
        -> (VPCModel, RuleChange)?
    {
        let vpc = model.subnets[model.enis[eni].subnet].vpc
        let groups = model.enis[eni].securityGroups
        func rules(_ g: Int) -> [SecurityGroupRule] {
            egress ? model.securityGroups[g].egress : model.securityGroups[g].ingress
        }
        // (group of the ENI, index of its rule, referenced group), in the order the groups and rules are listed.
        var references: [(group: Int, rule: Int, referenced: Int)] = []
        for g in groups {
            for (i, r) in rules(g).enumerated() {
                if case .securityGroup(let h) = r.peer { references.append((g, i, h)) }
            }
        }
        // The peer in the same VPC, or in one peered with it in the same Region (VPC-PG vpc-peering-security-groups).
        func referable(_ other: Int) -> Bool {
            other == vpc || model.activePeering(between: vpc, other).map { !model.peeringConnections[$0].interRegion } == true
        }
        guard let firstReference = references.first,
              let peerENI = model.enis.first(where: {
                  $0.privateIP == peer && referable(model.subnets[$0.subnet].vpc) && !$0.securityGroups.isEmpty
              }) else { return nil }
        let port = key.hasPorts ? key.destinationPort : nil
        let carried = references.filter { peerENI.securityGroups.contains($0.referenced) }
        var m = model
        let direction: Direction = egress ? .outbound : .inbound
        let tab = egress ? "egress" : "ingress"
        let reason = "\(model.securityGroups[(carried.first?.group ?? firstReference.group)].display) already "
            + "admits by group; \(peer) is \(peerENI.id), which carries "
            + peerENI.securityGroups.map { model.securityGroups[$0].display }.joined(separator: ", ")
            + " (security groups are stateful: replies need no rule)"
        // A rule for a group the peer carries whose port range ends next to the port: extend it.
        if let port {
            for c in carried {
                let r = rules(c.group)[c.rule]
                guard r.proto.matches(key.proto), let range = r.ports else { continue }
                let extended: PortRange
                if range.to < 65535, range.to + 1 == port { extended = PortRange(range.from, port) }
                else if range.from > 0, range.from - 1 == port { extended = PortRange(port, range.to) }
                else { continue }
                var new = r
                new.ports = extended
                if egress { m.securityGroups[c.group].egress[c.rule] = new } else { m.securityGroups[c.group].ingress[c.rule] = new }
                let name = model.securityGroups[c.referenced].name.map { " (\($0))" } ?? ""
                return (m, RuleChange(
                    component: model.securityGroups[c.group].display,
                    change: "\(tab): extend " + SecurityGroupEvaluator.describe(model, group: c.group, direction, r) + name
                        + " to " + extended.description,
                    reason: reason))
            }
        }
        let (g, h) = carried.first.map { ($0.group, $0.referenced) } ?? (firstReference.group, peerENI.securityGroups[0])
        let rule = SecurityGroupRule(proto: .number(key.proto), ports: port.map { PortRange($0, $0) },
                                     peer: .securityGroup(h), description: nil)
        if egress { m.securityGroups[g].egress.append(rule) } else { m.securityGroups[g].ingress.append(rule) }
        let name = model.securityGroups[h].name.map { " (\($0))" } ?? ""
        return (m, RuleChange(component: model.securityGroups[g].display,
                              change: "\(tab): add " + SecurityGroupEvaluator.describe(model, group: g, direction, rule) + name,
                              reason: reason))
    }

    /// For a request that a NACL dropped, which rule of the same NACL admits the replies in the fixed model:
    /// a stateless NACL needs both (aws-semantics §2 and the four crossings of §4).
    static func returnPathNotes(_ model: VPCModel, drops: [DropInfo]) -> [String] {
        var notes: [String] = []
        for d in drops where d.kind == "nacl" && d.fromClient {
            guard let acl = model.networkACLs.first(where: { $0.id == d.component }) else { continue }
            let back: Direction = d.direction == "outbound" ? .inbound : .outbound
            var reply = d.key.reversed
            let range = ephemeralRange(model, for: d.key.source)
            reply.destinationPort = range.from
            let lo = NACLEvaluator.evaluate(acl, back, reply)
            reply.destinationPort = range.to
            let hi = NACLEvaluator.evaluate(acl, back, reply)
            if lo.allowed, hi.allowed, lo == hi {
                notes.append("replies from \(d.key.destination.with(port: d.key.destinationPort)) to ports \(range.description) "
                    + "cross \(acl.display) \(back.rawValue): already allowed by \(lo.described)")
            }
        }
        return notes
    }

    static func advice(_ model: VPCModel, _ drop: DropInfo) -> String? {
        if drop.kind == "appliance", drop.rule.hasPrefix("no connection state") {
            return "the reply takes another path than the request, past a stateful appliance that never saw the "
                + "connection open: route both directions through the same appliance (each subnet's route table)"
        }
        if drop.kind == "appliance", drop.rule == "not a router" {
            return "the instance does not forward: enable forwarding in its operating system (net.ipv4.ip_forward=1)"
        }
        if drop.kind == "internet-gateway", drop.rule.hasPrefix("no public IP") {
            return "a Lambda function never gets a public IP: put it in private subnets whose route table sends "
                + "0.0.0.0/0 to a NAT gateway in a public subnet"
        }
        if drop.kind == "peering", drop.rule.contains(" is not in ") {
            // VPC-PG: unsupported VPC peering configurations (no transitive or edge-to-edge routing).
            return "a peering connection carries traffic between its two VPCs only: peer the VPCs that talk directly "
                + "(a connection of their own, with routes on both sides), or join them through a transit gateway"
        }
        if drop.kind == "transit-gateway", drop.rule.hasSuffix("→ blackhole") {
            // A static blackhole route is someone's decision (or its attachment was deleted): not undone here.
            return "the transit gateway route table drops this destination on purpose (a blackhole route): replace "
                + "it with a route to an attachment if the traffic is meant to pass"
        }
        if drop.kind == "transit-gateway", drop.rule.hasPrefix("no subnet in ") {
            return "add a subnet in \(drop.rule.dropFirst("no subnet in ".count)) to \(drop.component) (an attachment "
                + "takes one subnet per AZ; resources in an AZ without one cannot reach the transit gateway)"
        }
        if drop.kind == "security-group", drop.rule.hasPrefix(SecurityGroup.expiredPrefix) {
            // EC2 API ConnectionTrackingSpecification: the idle timeouts are per ENI, TCP 60-432000 s.
            let timeout = drop.rule.dropFirst(SecurityGroup.expiredPrefix.count).prefix { $0 != " " }
            return "the security group's tracked state for this connection expired after \(timeout) s idle and "
                + "nothing allows the packet that came next: send keepalives every less than \(timeout) s (the "
                + "flow's `keepalive: 60s`, net.ipv4.tcp_keepalive_time=60, or `server_alive_interval: 60s`), raise "
                + "the ENI's timeout (`connection_tracking: {tcp_established_timeout: 3600}` on the instance; aws ec2 "
                + "modify-network-interface-attribute --connection-tracking-specification TcpEstablishedTimeout=3600), "
                + "or add a rule that allows the return traffic"
        }
        if drop.kind == "nat-gateway", drop.rule.hasPrefix("connection idle longer than") {
            // No rule change helps: the NAT gateway's idle timeout is fixed (VPC-UG nat-gateway-troubleshooting).
            return "keep the connection from idling that long: keepalives every less than 350 s, e.g. the flow's "
                + "`server_alive_interval: 60s` (ssh -o ServerAliveInterval=60) or `keepalive: 60s` (TCP keepalive, "
                + "net.ipv4.tcp_keepalive_time=60)"
        }
        if drop.kind == "nat-gateway", drop.rule.contains("a NAT gateway forwards UDP fragments only") {
            // No rule change helps: "Does not support fragmentation for the TCP and ICMP protocols" (VPC-UG
            // vpc-nat-comparison).
            return "a NAT gateway drops TCP and ICMP fragments: send packets that fit the path MTU unfragmented (a "
                + "ping's data at most the MTU less 28: ping -s 1472 for 1500), or reach the destination without the "
                + "NAT gateway (a public IP behind the internet gateway, or a NAT instance, which reassembles)"
        }
        return nil
    }

    /// A free rule number that comes before `blocking` (an explicit DENY that matched), or after the last rule.
    /// An IPv6 packet a NACL dropped: it met the IPv6 entries only, so the fix is an IPv6 entry — `::/0` when an
    /// IPv4 entry of the list allows the same traffic from `0.0.0.0/0` (the IPv6 half the list lacks: VPC-UG
    /// vpc-network-acls, an IPv6 rule is separate from the IPv4 one), else the peer's /128. Numbered among both
    /// families' entries (they share the numbers of a direction).
    static func proposeIPv6(_ model: VPCModel, _ a: Int, inbound: Bool, _ key: PacketKey, ports: PortRange,
                            isReply: Bool) -> (VPCModel, RuleChange)? {
        var m = model
        let acl = model.networkACLs[a]
        let peer = inbound ? key.source : key.destination
        guard let address = peer.ipv6 else { return nil }
        let v4 = inbound ? acl.inbound : acl.outbound
        let v6 = inbound ? acl.inboundIPv6 : acl.outboundIPv6
        let wide = v4.contains { r in
            r.action == .allow && r.cidr.prefixLength == 0 && r.proto.matches(key.proto)
                && (!key.hasPorts || r.ports.map { $0.contains(ports.from) && $0.contains(ports.to) } ?? true)
        }
        let numbers = v4.map(\.number) + v6.map(\.number)
        let blocking = v6.first { NACLEvaluator.matches6($0, key, peer: address) }
        let number = freeRuleNumber(numbers, before: blocking?.number)
        // ICMPv6 Packet Too Big may come from any router on the path, as ICMP fragmentation needed may (VPC-UG
        // path_mtu_discovery): an entry for ICMPv6 type 2 from ::/0. ICMP of an IPv6 packet is ICMPv6 (protocol 58).
        let pmtud = key.proto == .icmp && key.icmpType == ICMPType.packetTooBig.rawValue
        let rule = NACLIPv6Rule(number: number, proto: .number(key.proto == .icmp ? .icmpv6 : key.proto),
                                ports: key.hasPorts ? ports : nil, icmpType: pmtud ? 2 : nil, icmpCode: nil,
                                cidr: wide || pmtud ? .anyIPv6 : IPv6CIDR(containing: address, prefixLength: 128),
                                action: .allow)
        let list: WritableKeyPath<NetworkACLSpec, [NACLIPv6Rule]> = inbound ? \.inboundIPv6 : \.outboundIPv6
        m.networkACLs[a][keyPath: list].append(rule)
        m.networkACLs[a][keyPath: list].sort { $0.number < $1.number }
        let what = isReply ? "IPv6 replies from \(key.source) port \(key.sourcePort) come back to ports \(ports.description)"
            : "the IPv6 request to \(key.destination) port \(key.destinationPort) crosses this subnet boundary "
                + (inbound ? "inbound" : "outbound")
        let reason = pmtud
            ? "ICMPv6 packet too big (type 2) reports a path MTU smaller than the packets (IPv6 routers never fragment; "
                + "NACLs are stateless)"
            : what + "; IPv6 packets meet only the IPv6 entries" + (wide ? " (the IPv4 entries allow 0.0.0.0/0)" : "")
        return (m, RuleChange(component: acl.display,
                              change: "\(inbound ? "inbound" : "outbound"): add \(NACLEvaluator.describe6(rule))",
                              reason: reason))
    }

    /// A security group's inbound rule for an IPv6 packet its ENI's groups dropped: for an ICMPv6 Packet Too Big,
    /// ICMPv6 type 2 from ::/0 (what AWS documents for Path MTU Discovery, EC2-UG security-group-rules-reference);
    /// for another packet, its protocol (ICMP of IPv6 is ICMPv6) and port from the sender's address /128.
    static func proposeIPv6Ingress(_ model: VPCModel, _ key: PacketKey) -> (VPCModel, RuleChange)? {
        guard let address = key.destination.ipv6, let peer = key.source.ipv6,
              let eni = model.enis.firstIndex(where: { $0.ipv6Address == address }),
              let g = model.enis[eni].securityGroups.first else { return nil }
        var m = model
        let pmtud = key.proto == .icmp && key.icmpType == ICMPType.packetTooBig.rawValue
        let rule = SecurityGroupIPv6Rule(proto: .number(key.proto == .icmp ? .icmpv6 : key.proto),
                                         ports: key.hasPorts ? PortRange(key.destinationPort, key.destinationPort) : nil,
                                         peer: .cidr(pmtud ? .anyIPv6 : IPv6CIDR(containing: peer, prefixLength: 128)),
                                         description: nil, icmpType: pmtud ? 2 : nil, icmpCode: nil)
        m.securityGroups[g].ingressIPv6.append(rule)
        return (m, RuleChange(component: model.securityGroups[g].display,
                              change: "ingress: add " + SecurityGroupEvaluator.describe6(rule),
                              reason: pmtud
                                  ? "AWS documents an inbound ICMP rule for Path MTU Discovery (ICMPv6 packet too big for "
                                      + "IPv6); a tracked connection's ICMPv6 errors are not admitted without it (assumption "
                                      + "sg_admits_related_icmp)"
                                  : "IPv6 packets meet only the group's IPv6 rules; security groups are stateful: replies "
                                      + "need no rule"))
    }

    static func freeRuleNumber(_ rules: [NACLRule], before blocking: NACLRule?) -> Int {
        freeRuleNumber(rules.map(\.number), before: blocking?.number)
    }

    /// A rule number free among `numbers`: just below the blocking rule's, else the next ten above the highest.
    static func freeRuleNumber(_ numbers: [Int], before blocking: Int?) -> Int {
        let rules = numbers
        let used = Set(rules)
        if let b = blocking {
            var n = b - 1
            while n >= 1, used.contains(n) { n -= 1 }
            return max(n, 1)
        }
        var n = ((rules.max() ?? 90) / 10 + 1) * 10
        while used.contains(n) { n += 1 }
        return min(n, 32766)
    }
}
