import Packets

/// What the hop pipeline reads of the model for every packet, as plain data in flat arrays. Reading one field of
/// a model struct through `VPCNetwork.model` (`model.enis[e].subnet`) copies the struct, retaining and releasing
/// each of its strings and arrays, and an array of arrays retains the inner one at each lookup: in perf that was
/// about a tenth of the engine. The model stays the source of every name a step or comment shows.
struct HopTables {
    struct Subnet {
        var vpc: Int32
        var routeTable: Int32
        var networkACL: Int32
    }

    struct ENI {
        var subnet: Int32
        /// The NAT gateway whose ENI this is, -1 for none.
        var natGateway: Int32
        var hasSecurityGroups: Bool
    }

    let subnets: [Subnet]
    let enis: [ENI]
    let natSubnet: [Int32]
    let natENI: [Int32]
    let routes: CompiledRoutes
    /// Each NACL's inbound (2·i) and outbound (2·i+1) rules, in evaluation order: list l's are
    /// `ruleStart[l]..<ruleStart[l + 1]`.
    let rules: [NACLRule]
    let ruleStart: [Int32]
    /// `rules`, compiled to 20 plain bytes each for the scan of every packet.
    let compiled: [CompiledNACLRule]

    /// A NACL rule as the per-packet scan reads it: the CIDR as network and mask, no optionals.
    struct CompiledNACLRule {
        var network: UInt32
        var mask: UInt32
        /// 0...65535 for a rule without ports.
        var portFrom: UInt16
        var portTo: UInt16
        /// The protocol number, -1 for all.
        var proto: Int16
        /// -1 for any; a value no ICMP type or code has (over 255) never matches.
        var icmpType: Int16
        var icmpCode: Int16
        var allow: Bool

        init(_ r: NACLRule) {
            network = r.cidr.network.rawValue
            mask = IPv4CIDR.mask(r.cidr.prefixLength)
            portFrom = r.ports?.from ?? 0
            portTo = r.ports?.to ?? 65535
            switch r.proto {
            case .all: proto = -1
            case .number(let p): proto = Int16(p.rawValue)
            }
            icmpType = r.icmpType.map { $0 < 0 ? -1 : Int16(clamping: $0) } ?? -1
            icmpCode = r.icmpCode.map { $0 < 0 ? -1 : Int16(clamping: $0) } ?? -1
            allow = r.action == .allow
        }

        /// NACLEvaluator.matches, on the compiled form.
        @inline(__always)
        func matches(_ key: PacketKey, peer: IPv4Address) -> Bool {
            guard proto < 0 || proto == Int16(key.proto.rawValue), peer.rawValue & mask == network else { return false }
            if key.hasPorts, key.destinationPort < portFrom || key.destinationPort > portTo { return false }
            if key.proto == .icmp {
                if icmpType >= 0, icmpType != Int16(key.icmpType) { return false }
                if icmpCode >= 0, icmpCode != Int16(key.icmpCode) { return false }
            }
            return true
        }
    }

    init(_ model: VPCModel) {
        subnets = model.subnets.indices.map { s in
            Subnet(vpc: Int32(model.subnets[s].vpc), routeTable: Int32(model.routeTable(of: s)),
                   networkACL: Int32(model.networkACL(of: s)))
        }
        enis = model.enis.map { e in
            var nat: Int32 = -1
            if case .natGateway(let n) = e.owner { nat = Int32(n) }
            return ENI(subnet: Int32(e.subnet), natGateway: nat, hasSecurityGroups: !e.securityGroups.isEmpty)
        }
        natSubnet = model.natGateways.map { Int32($0.subnet) }
        natENI = model.natGateways.map { Int32($0.eni) }
        routes = CompiledRoutes(model.routeTables)
        var rules: [NACLRule] = []
        var ruleStart: [Int32] = []
        for acl in model.networkACLs {
            for list in [acl.inbound, acl.outbound] {
                ruleStart.append(Int32(rules.count))
                rules += list
            }
        }
        ruleStart.append(Int32(rules.count))
        self.rules = rules
        self.ruleStart = ruleStart
        compiled = rules.map(CompiledNACLRule.init)
    }

    /// NACLEvaluator.evaluate over the compiled rules: the first match decides, none is the `*` DENY. Returns
    /// whether the packet is allowed and the deciding rule's index in `rules` (-1: the `*` DENY).
    @inline(__always)
    func naclDecision(_ acl: Int, _ direction: Direction, _ key: PacketKey) -> (allowed: Bool, rule: Int) {
        let peer = direction == .inbound ? key.source : key.destination
        let list = 2 * acl + (direction == .inbound ? 0 : 1)
        return compiled.withUnsafeBufferPointer { r in
            ruleStart.withUnsafeBufferPointer { start in
                for i in Int(start[list])..<Int(start[list + 1]) where r[i].matches(key, peer: peer) {
                    return (r[i].allow, i)
                }
                return (false, -1)
            }
        }
    }

    /// The decision `naclDecision` came to, with its rule.
    func naclDecision(rule i: Int) -> NACLDecision { NACLDecision(rule: i < 0 ? nil : rules[i]) }
}

/// Every route table of a model in one flat array of plain data, each table's routes in match order (longest
/// prefix first, listed order among equal ones: `RouteLookup.compile`), with where each leads. The hop pipeline
/// routes packets with it and the flow-log recorder derives traffic-path from it, each from a copy of its own.
struct CompiledRoutes {
    struct Route {
        enum Kind: UInt8 {
            case local, natGateway, internetGateway, networkInterface, peering, notModeled, blackhole, peeringConnection
        }
        var cidr: IPv4CIDR
        /// The route's index in its table (`model.routeTables[t].routes`).
        var index: Int32
        var kind: Kind
        /// The NAT gateway, internet gateway, ENI or (modeled) peering connection it leads to; -1 for the other kinds.
        var target: Int32
    }

    /// Table t's routes are `routes[start[t]..<start[t + 1]]`.
    let routes: [Route]
    let start: [Int32]

    init(_ tables: [RouteTable]) {
        var routes: [Route] = []
        var start: [Int32] = []
        for t in tables {
            start.append(Int32(routes.count))
            for (cidr, index) in RouteLookup.compile(t) {
                let (kind, target): (Route.Kind, Int) = switch t.routes[index].target {
                case .local: (.local, -1)
                case .natGateway(let n): (.natGateway, n)
                case .internetGateway(let g): (.internetGateway, g)
                case .networkInterface(let e): (.networkInterface, e)
                case .peering: (.peering, -1)
                case .peeringConnection(let k): (.peeringConnection, k)
                case .notModeled: (.notModeled, -1)
                case .blackhole: (.blackhole, -1)
                }
                routes.append(Route(cidr: cidr, index: Int32(index), kind: kind, target: Int32(target)))
            }
        }
        start.append(Int32(routes.count))
        self.routes = routes
        self.start = start
    }

    /// The route `destination` takes in table `t` (longest prefix match, VPC-UG VPC_Route_Tables).
    @inline(__always)
    func route(_ t: Int, _ destination: IPv4Address) -> Route? {
        routes.withUnsafeBufferPointer { r in
            start.withUnsafeBufferPointer { start in
                for i in Int(start[t])..<Int(start[t + 1]) where r[i].cidr.contains(destination) { return r[i] }
                return nil
            }
        }
    }
}
