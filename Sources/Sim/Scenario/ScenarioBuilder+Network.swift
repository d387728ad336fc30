import Packets
import Yams

/// VPCs, internet gateways, network ACLs, security groups, route tables and subnets.
extension ScenarioBuilder {
    // MARK: VPCs

    mutating func readVPCs(_ items: [Node]) throws {
        for item in items {
            var f = try r.fields(item, what: "VPC", allowed: ["id", "name", "cidr_blocks", "ipv6_cidr"])
            let index = model.vpcs.count
            let (id, name) = try identify(&f, .vpc, index: index)
            let blockNodes = try r.list(f.require("cidr_blocks"), key: "cidr_blocks")
            guard !blockNodes.isEmpty else { throw r.error(at: f["cidr_blocks"], "VPC \(id) has no CIDR block") }
            var blocks: [IPv4CIDR] = []
            for n in blockNodes {
                let c = try r.cidr(n, key: "cidr_blocks")
                // VPC-UG vpc-cidr-blocks: "The allowed block size is between a /16 netmask and /28 netmask."
                guard (16...28).contains(c.prefixLength) else {
                    throw r.error(at: n, "VPC CIDR block \(c) is not between /16 and /28")
                }
                if let other = blocks.first(where: { $0.overlaps(c) }) {
                    throw r.error(at: n, "CIDR block \(c) overlaps \(other) of VPC \(id)")
                }
                blocks.append(c)
            }
            var vpc = VPC(id: id, name: name, cidrBlocks: blocks, mainRouteTable: -1, defaultNetworkACL: -1,
                          internetGateway: nil)
            if let n = f["ipv6_cidr"] { vpc.ipv6CidrBlocks = try readVPCIPv6Blocks(n, vpc: id) }
            model.vpcs.append(vpc)
            vpcNodes.append(item)
        }
    }

    func cidrList(_ vpc: Int) -> String { model.vpcs[vpc].cidrBlocks.map(\.description).joined(separator: ", ") }

    // MARK: Internet gateways

    mutating func readInternetGateways(_ items: [Node]) throws {
        for item in items {
            var f = try r.fields(item, what: "internet gateway", allowed: ["id", "name", "vpc"])
            let index = model.internetGateways.count
            let (id, name) = try identify(&f, .internetGateway, index: index)
            var vpc: Int?
            if let n = f["vpc"] {
                let v = try resolve(n, .vpc, key: "vpc")
                if let existing = model.vpcs[v].internetGateway {
                    // VPC-UG VPC_Internet_Gateway: one internet gateway per VPC.
                    throw r.error(at: n, "\(model.vpcs[v].id) already has internet gateway "
                                  + "\(model.internetGateways[existing].id) attached (a VPC takes only one)")
                }
                model.vpcs[v].internetGateway = index
                vpc = v
            }
            model.internetGateways.append(InternetGatewaySpec(id: id, name: name, vpc: vpc))
        }
    }

    // MARK: Network ACLs

    mutating func readNetworkACLs(_ items: [Node]) throws {
        for item in items {
            var f = try r.fields(item, what: "network ACL",
                                 allowed: ["id", "name", "vpc", "default", "inbound", "outbound"])
            let index = model.networkACLs.count
            let (id, name) = try identify(&f, .networkACL, index: index)
            let vpc = try resolve(f.require("vpc"), .vpc, key: "vpc")
            let isDefault = try f.bool("default") ?? false
            if isDefault {
                let existing = model.vpcs[vpc].defaultNetworkACL
                if existing >= 0 {
                    throw r.error(at: f["default"], "\(model.vpcs[vpc].id) already has a default network ACL "
                                  + "(\(model.networkACLs[existing].id))")
                }
                model.vpcs[vpc].defaultNetworkACL = index
            }
            // A direction left out: the default NACL keeps AWS's rule 100 ALLOW all; a custom NACL starts empty
            // (only the implicit * DENY).
            func rules(_ direction: String) throws -> (v4: [NACLRule], v6: [NACLIPv6Rule]) {
                guard let n = f[direction] else {
                    return isDefault ? ([Self.allowAllNACLRule], defaultNACLIPv6Rules(vpc)) : ([], [])
                }
                return try readNACLRules(n, direction: direction, acl: id)
            }
            let inbound = try rules("inbound"), outbound = try rules("outbound")
            var acl = NetworkACLSpec(id: id, name: name, vpc: vpc, isDefault: isDefault, inbound: inbound.v4,
                                     outbound: outbound.v4)
            acl.inboundIPv6 = inbound.v6
            acl.outboundIPv6 = outbound.v6
            model.networkACLs.append(acl)
        }
        // VPC-UG vpc-network-acls: every VPC comes with a default network ACL that allows all traffic.
        for v in model.vpcs.indices where model.vpcs[v].defaultNetworkACL < 0 {
            let id = "acl-default-\(model.vpcs[v].id)"
            if registry(.networkACL).byID[id] != nil {
                throw r.error(at: vpcNodes[v], "the implicit default network ACL id \(id) is already taken")
            }
            let index = model.networkACLs.count
            register(.networkACL, id: id, name: nil, index: index)
            var acl = NetworkACLSpec(id: id, name: nil, vpc: v, isDefault: true, inbound: [Self.allowAllNACLRule],
                                     outbound: [Self.allowAllNACLRule])
            acl.inboundIPv6 = defaultNACLIPv6Rules(v)
            acl.outboundIPv6 = acl.inboundIPv6
            model.networkACLs.append(acl)
            model.vpcs[v].defaultNetworkACL = index
        }
    }

    static let allowAllNACLRule = NACLRule(number: 100, proto: .all, ports: nil, icmpType: nil, icmpCode: nil,
                                           cidr: .anyIPv4, action: .allow)

    /// A rule's `icmp_type` and `icmp_code` (-1 or absent: all), for icmp rules only.
    func readICMPTypeAndCode(_ f: YAMLFields, _ proto: ProtocolMatch) throws -> (type: Int?, code: Int?) {
        var icmpType: Int?, icmpCode: Int?
        for key in ["icmp_type", "icmp_code"] {
            guard let n = f[key] else { continue }
            guard proto == .number(.icmp) || proto == .number(.icmpv6) else {
                throw r.error(at: f.keyNode(key), "\(key) applies only to icmp and icmpv6 rules (this rule's protocol is "
                              + "\(proto.consoleName))")
            }
            let v = try r.integer(n, key: key, range: -1...255)
            if key == "icmp_type" { icmpType = v == -1 ? nil : v } else { icmpCode = v == -1 ? nil : v }
        }
        return (icmpType, icmpCode)
    }

    func readNACLRules(_ node: Node, direction: String, acl: String) throws -> (v4: [NACLRule], v6: [NACLIPv6Rule]) {
        var out: [NACLRule] = []
        var out6: [NACLIPv6Rule] = []
        var numbers: [Int: Bool] = [:]
        for item in try r.list(node, key: direction) {
            let f = try r.fields(item, what: "NACL rule", allowed: [
                "rule", "protocol", "ports", "icmp_type", "icmp_code", "cidr", "action",
            ])
            guard let numberNode = f["rule"] else { throw r.error(at: item, "\(direction) rule of \(acl) has no rule number") }
            let number = try r.integer(numberNode, key: "rule", range: 1...32766, what: "NACL rule number")
            if numbers[number] != nil {
                throw r.error(at: numberNode, "\(acl) has two \(direction) rules numbered \(number)")
            }
            numbers[number] = true
            var rf = f
            rf.what = "\(direction) rule \(number) of \(acl)"
            let (proto, ports) = try readProtocolAndPorts(rf)
            let (icmpType, icmpCode) = try readICMPTypeAndCode(rf, proto)
            let cidr = try r.eitherCIDR(rf.require("cidr"), key: "cidr")
            let action: NACLRule.Action = try r.oneOf(rf.require("action"), key: "action",
                                                     [("allow", .allow), ("deny", .deny)])
            switch cidr {
            case .v4(let cidr):
                out.append(NACLRule(number: number, proto: proto, ports: ports, icmpType: icmpType, icmpCode: icmpCode,
                                    cidr: cidr, action: action))
            case .v6(let cidr):
                // EC2 API CreateNetworkAclEntry: an entry has a CidrBlock or an Ipv6CidrBlock; its number is unique
                // in its direction across both.
                out6.append(NACLIPv6Rule(number: number, proto: proto, ports: ports, icmpType: icmpType,
                                         icmpCode: icmpCode, cidr: cidr, action: action))
            }
        }
        return (out.sorted { $0.number < $1.number }, out6.sorted { $0.number < $1.number })
    }

    /// `protocol` (required) and `ports` (tcp and udp only; absent = all ports).
    func readProtocolAndPorts(_ f: YAMLFields) throws -> (ProtocolMatch, PortRange?) {
        let protoNode = try f.require("protocol")
        let protoText = try r.string(protoNode, key: "protocol")
        guard let proto = ScenarioValues.protocolMatch(protoText) else {
            throw r.error(at: protoNode, "invalid protocol '\(protoText)' (expected tcp, udp, icmp, all, -1 or a "
                          + "number 0-255)")
        }
        guard let portsNode = f["ports"] else { return (proto, nil) }
        guard proto == .number(.tcp) || proto == .number(.udp) else {
            throw r.error(at: f.keyNode("ports"), "ports apply only to tcp and udp (this rule's protocol is "
                          + "\(proto.consoleName))")
        }
        let text = try r.string(portsNode, key: "ports")
        guard let ports = ScenarioValues.portRange(text) else {
            throw r.error(at: portsNode, "invalid port range '\(text)' (expected a port 0-65535 or 'low-high')")
        }
        return (proto, ports)
    }

    // MARK: Security groups

    mutating func readSecurityGroups(_ items: [Node]) throws {
        for item in items {
            var f = try r.fields(item, what: "security group",
                                 allowed: ["id", "name", "vpc", "description", "ingress", "egress"])
            let index = model.securityGroups.count
            let (id, name) = try identify(&f, .securityGroup, index: index)
            let vpc = try resolve(f.require("vpc"), .vpc, key: "vpc")
            _ = try f.string("description")
            if let n = f["egress"], YAMLReader.isNull(n) {
                throw r.error(at: n, "egress is empty: write [] for no egress rules, or leave the key out for AWS's "
                              + "default allow-all egress")
            }
            model.securityGroups.append(SecurityGroupSpec(id: id, name: name, vpc: vpc, ingress: [], egress: []))
            pendingSGRules.append((index, f["ingress"], f["egress"], f.keyNode("egress")))
        }
    }

    mutating func resolveSecurityGroupRules() throws {
        for (group, ingress, egress, _) in pendingSGRules {
            let sg = model.securityGroups[group]
            if let ingress {
                (model.securityGroups[group].ingress, model.securityGroups[group].ingressIPv6)
                    = try readSGRules(ingress, "ingress", sg)
            }
            if let egress {
                (model.securityGroups[group].egress, model.securityGroups[group].egressIPv6)
                    = try readSGRules(egress, "egress", sg)
            } else {
                // VPC-UG security-groups: a new group has one outbound rule allowing all traffic.
                model.securityGroups[group].egress = [
                    SecurityGroupRule(proto: .all, ports: nil, peer: .cidr(.anyIPv4), description: nil),
                ]
                model.securityGroups[group].egressIPv6 = defaultSGIPv6Egress(sg.vpc, group: sg.name)
            }
        }
    }

    func readSGRules(_ node: Node, _ direction: String, _ sg: SecurityGroupSpec) throws
        -> ([SecurityGroupRule], [SecurityGroupIPv6Rule]) {
        var out: [SecurityGroupRule] = []
        var out6: [SecurityGroupIPv6Rule] = []
        for (i, item) in try r.list(node, key: direction).enumerated() {
            var f = try r.fields(item, what: "security group rule", allowed: [
                "protocol", "ports", "cidr", "security_group", "prefix_list", "description", "icmp_type", "icmp_code",
            ])
            f.what = "\(direction) rule \(i + 1) of \(sg.id)"
            let (proto, ports) = try readProtocolAndPorts(f)
            let peerKeys = ["cidr", "security_group", "prefix_list"].filter { f.has($0) }
            guard peerKeys.count == 1 else {
                if peerKeys.isEmpty {
                    throw r.error(at: item, "\(f.what) needs one of cidr, security_group or prefix_list")
                }
                throw r.error(at: f.keyNode(peerKeys[1]), "\(f.what) takes only one of cidr, security_group or "
                              + "prefix_list")
            }
            let peer: SecurityGroupRule.Peer
            if let peer6 = try readSGIPv6Peer(f, key: peerKeys[0]) {
                try appendSGIPv6Rule(f, peer6, proto: proto, ports: ports, item: item, direction: direction, to: &out6)
                continue
            }
            switch peerKeys[0] {
            case "cidr":
                peer = .cidr(try r.cidr(f["cidr"]!, key: "cidr"))
            case "security_group":
                let n = f["security_group"]!
                let other = try resolve(n, .securityGroup, key: "security_group")
                let ov = model.securityGroups[other].vpc
                if ov != sg.vpc {
                    // VPC-PG vpc-peering-security-groups: a rule may reference a group of a VPC peered through an
                    // active connection in the same Region.
                    let otherID = model.securityGroups[other].id
                    guard let k = model.activePeering(between: ov, sg.vpc) else {
                        throw r.error(at: n, "security group \(otherID) is in \(model.vpcs[ov].id), not "
                                      + "\(model.vpcs[sg.vpc].id), and no active peering connection joins the two")
                    }
                    let pcx = model.peeringConnections[k]
                    guard !pcx.interRegion else {
                        throw r.error(at: n, "security group \(otherID) is in \(model.vpcs[ov].id), across inter-Region "
                                      + "peering connection \(pcx.id) (\(pcx.requesterRegion) ↔ \(pcx.accepterRegion)): "
                                      + "AWS allows group references across a peering in the same Region only")
                    }
                }
                peer = .securityGroup(other)
            default:
                let list = try readPrefixList(f["prefix_list"]!, key: "prefix_list")
                peer = .prefixList(id: list.id, cidrs: try list.cidrs.map { try r.cidr($0, key: "cidrs") })
            }
            let (icmpType, icmpCode) = try readICMPTypeAndCode(f, proto)
            let rule = SecurityGroupRule(proto: proto, ports: ports, peer: peer, description: try f.string("description"),
                                         icmpType: icmpType, icmpCode: icmpCode)
            if let j = out.firstIndex(where: { $0.proto == rule.proto && $0.ports == rule.ports && $0.peer == rule.peer
                                               && $0.icmpType == rule.icmpType && $0.icmpCode == rule.icmpCode }) {
                // EC2 API: InvalidPermission.Duplicate.
                throw r.error(at: item, "\(f.what) duplicates \(direction) rule \(j + 1)")
            }
            out.append(rule)
        }
        return (out, out6)
    }

    // MARK: Route tables

    mutating func readRouteTables(_ items: [Node]) throws {
        for item in items {
            var f = try r.fields(item, what: "route table", allowed: ["id", "name", "vpc", "main", "routes",
                                                                       "propagating_vgws", "gateway"])
            let index = model.routeTables.count
            let (id, name) = try identify(&f, .routeTable, index: index)
            let vpc = try resolve(f.require("vpc"), .vpc, key: "vpc")
            if try f.bool("main") == true {
                let existing = model.vpcs[vpc].mainRouteTable
                if existing >= 0 {
                    throw r.error(at: f["main"], "\(model.vpcs[vpc].id) already has a main route table "
                                  + "(\(model.routeTables[existing].id))")
                }
                model.vpcs[vpc].mainRouteTable = index
            }
            model.routeTables.append(RouteTableSpec(id: id, name: name, vpc: vpc, routes: []))
            if let routes = f["routes"] { pendingRoutes.append((index, routes)) }
            if let vgws = f["propagating_vgws"] { pendingPropagations.append((index, vgws)) }
            if let n = f["gateway"] { try readEdgeAssociation(n, table: index) }
        }
        for v in model.vpcs.indices where model.vpcs[v].mainRouteTable < 0 {
            throw r.error(at: vpcNodes[v], "\(model.vpcs[v].id) has no main route table (mark one of its route "
                          + "tables main: true)")
        }
    }

    /// Routes, after NAT gateways, instances and ENIs exist. Adds the implicit `local` route for every VPC CIDR
    /// block a table does not route explicitly (VPC-UG VPC_Route_Tables: every table has it).
    mutating func resolveRoutes() throws {
        var explicit: [Int: [Route]] = [:]
        for (table, node) in pendingRoutes {
            let rt = model.routeTables[table]
            var routes: [Route] = []
            var destinations = Set<IPv4CIDR>()  // a set, not a scan of `routes`: large tables stay linear
            var routes6: [IPv6Route] = []
            for item in try r.list(node, key: "routes") {
                let f = try r.fields(item, what: "route", allowed: ["destination", "target"])
                let destNode = try f.require("destination")
                if case .v6(let dest6) = try r.eitherCIDR(destNode, key: "destination") {
                    try appendIPv6Route(dest6, destNode: destNode, target: f.require("target"), table: rt, to: &routes6)
                    continue
                }
                let dest = try r.cidr(destNode, key: "destination")
                if !destinations.insert(dest).inserted {
                    // EC2 API: RouteAlreadyExists.
                    throw r.error(at: destNode, "route table \(rt.id) already has a route to \(dest)")
                }
                let target = try resolveRouteTarget(f.require("target"), destination: dest, table: rt)
                var route = Route(destination: dest, target: target)
                // A route an import wrote for one CIDR of a gateway endpoint's prefix list: named after the list.
                if case .vpcEndpoint(let e) = target, model.vpcEndpoints[e].prefixListCIDRs.contains(dest) {
                    route.prefixList = model.vpcEndpoints[e].prefixListID
                }
                routes.append(route)
            }
            explicit[table] = routes
            model.routeTables[table].ipv6Routes = routes6
        }
        for t in model.routeTables.indices {
            let explicitRoutes = explicit[t] ?? []
            let locals = model.vpcs[model.routeTables[t].vpc].cidrBlocks
                .filter { c in !explicitRoutes.contains { $0.destination == c } }
                .map { Route(destination: $0, target: .local) }
            model.routeTables[t].routes = locals + explicitRoutes + endpointRoutes(of: t, after: explicitRoutes)
            addIPv6LocalRoutes(table: t)
            model.routeTables[t].ipv6Routes += endpointRoutes6(of: t, after: model.routeTables[t].ipv6Routes)
        }
    }

    func resolveRouteTarget(_ node: Node, destination: IPv4CIDR, table rt: RouteTableSpec) throws -> Route.Target {
        let ref = try r.word(node, key: "target")
        let vpc = model.vpcs[rt.vpc]
        if ref == "local" {
            guard vpc.cidrBlocks.contains(destination) else {
                throw r.error(at: node, "a local route's destination must be a CIDR block of \(vpc.id) "
                              + "(\(cidrList(rt.vpc))), not \(destination)")
            }
            return .local
        }
        if ref == "blackhole" { return .blackhole(was: nil) }
        if let tgw = try transitGatewayTarget(ref, node: node, destination: destination, table: rt) { return tgw }
        if let vgw = try vpnGatewayTarget(ref, node: node, destination: destination, table: rt) { return vgw }
        if ref.hasPrefix("pcx-"), registry(.peeringConnection).byID[ref] == nil {
            // A peering connection the scenario does not define: its far VPC is outside the model.
            try requireOutsideVPC(destination, node: node, vpc: rt.vpc, target: ref)
            return .peering(ref)
        }
        if ref.hasPrefix("vpce-"), case .one(let e) = registry(.vpcEndpoint).find(ref) {
            let ep = model.vpcEndpoints[e]
            // PrivateLink guide: an interface endpoint is reached by its ENIs' addresses (and DNS), never by a route.
            guard ep.kind == .gateway else {
                throw r.error(at: node, "route target \(ep.id) is an interface endpoint; only a gateway endpoint is a "
                              + "route target (an interface endpoint is reached at its network interfaces' addresses)")
            }
            guard ep.vpc == rt.vpc else {
                throw r.error(at: node, "route target \(ep.id) is in \(model.vpcs[ep.vpc].id), not \(vpc.id) of route "
                              + "table \(rt.id)")
            }
            return .vpcEndpoint(e)
        }
        if ref.hasPrefix("eigw-") || registry(.egressOnlyInternetGateway).byName[ref] != nil {
            // EC2 API CreateRoute: EgressOnlyInternetGatewayId is "for IPv6 traffic only".
            var id = ref
            if case .one(let g) = registry(.egressOnlyInternetGateway).find(ref) { id = model.egressOnlyInternetGateways[g].id }
            throw r.error(at: node, "route to \(destination) cannot target egress-only internet gateway \(id): it takes "
                          + "IPv6 destinations only")
        }
        // Targets of kinds the model does not have are kept: a flow routed there ends `not-modeled`.
        if let kind = NotModeledTarget.kinds.first(where: { ref.hasPrefix($0.prefix) }), kind.prefix != "eni-",
           kind.prefix != "i-", kind.prefix != "pcx-", ref.count > kind.prefix.count {
            // A VPC endpoint (Gateway Load Balancer) may take a destination within the VPC; gateways may not.
            if !ref.hasPrefix("vpce-") { try requireOutsideVPC(destination, node: node, vpc: rt.vpc, target: ref) }
            return .notModeled(ref)
        }
        let kinds: [ResourceKind] = [.internetGateway, .natGateway, .eni, .instance, .peeringConnection]
        var hits: [(ResourceKind, Int)] = []
        if let byPrefix = kinds.first(where: { ref.hasPrefix($0.idPrefix) }), case .one(let i) = registry(byPrefix).find(ref) {
            hits = [(byPrefix, i)]
        } else {
            for k in kinds {
                switch registry(k).find(ref) {
                case .one(let i): hits.append((k, i))
                case .ambiguous(let list): hits += list.map { (k, $0) }
                case .none: break
                }
            }
        }
        guard !hits.isEmpty else {
            // An ENI or instance id the scenario does not define: an appliance outside the model.
            if (ref.hasPrefix("eni-") && ref.count > 4) || (ref.hasPrefix("i-") && ref.count > 2) {
                return .notModeled(ref)
            }
            throw r.error(at: node, "route target \(ref) is not defined" + didYouMean(ref, kinds))
        }
        guard hits.count == 1 else {
            let ids = hits.map { registry($0.0).ids[$0.1] }.joined(separator: ", ")
            throw r.error(at: node, "route target name '\(ref)' is ambiguous (\(ids)); use the id")
        }
        let (kind, i) = hits[0]
        func sameVPC(_ other: Int?, _ id: String) throws {
            guard other == rt.vpc else {
                let where_ = other.map { "is in \(model.vpcs[$0].id)" } ?? "is not attached to a VPC"
                throw r.error(at: node, "route target \(id) \(where_), not \(vpc.id) of route table \(rt.id)")
            }
        }
        switch kind {
        case .internetGateway:
            let igw = model.internetGateways[i]
            try sameVPC(igw.vpc, igw.id)
            try requireOutsideVPC(destination, node: node, vpc: rt.vpc, target: igw.id)
            return .internetGateway(i)
        case .natGateway:
            let nat = model.natGateways[i]
            try sameVPC(model.subnets[nat.subnet].vpc, nat.id)
            return .natGateway(i)
        case .peeringConnection:
            let pcx = model.peeringConnections[i]
            guard pcx.otherVPC(rt.vpc) != nil else {
                throw r.error(at: node, "route target \(pcx.id) joins \(model.vpcs[pcx.requesterVPC].id) and "
                              + "\(model.vpcs[pcx.accepterVPC].id), not \(vpc.id) of route table \(rt.id)")
            }
            try requireOutsideVPC(destination, node: node, vpc: rt.vpc, target: pcx.id)
            return .peeringConnection(i)
        case .instance:
            let eni = model.instances[i].eni
            try sameVPC(model.subnets[model.enis[eni].subnet].vpc, model.instances[i].id)
            return .networkInterface(eni)
        default:
            try sameVPC(model.subnets[model.enis[i].subnet].vpc, model.enis[i].id)
            return .networkInterface(i)
        }
    }

    /// Routes to gateways cannot cover addresses of the VPC itself (VPC-UG VPC_Route_Tables: a destination equal
    /// to or more specific than a VPC CIDR can target only a network interface, NAT gateway or endpoint).
    func requireOutsideVPC(_ destination: IPv4CIDR, node: Node, vpc: Int, target: String) throws {
        if let block = model.vpcs[vpc].cidrBlocks.first(where: { $0.contains(destination) }) {
            throw r.error(at: node, "route to \(destination) lies within \(model.vpcs[vpc].id)'s CIDR \(block) and "
                          + "cannot target \(target)")
        }
    }

    // MARK: Subnets

    mutating func readSubnets(_ items: [Node]) throws {
        // Per VPC, the subnets read so far as address spans sorted by first address. They never overlap (an
        // overlap is an error), so a binary search finds every span a new subnet could overlap: O(log n), not a
        // scan of all subnets.
        var spans: [Int: [(first: UInt32, last: UInt32, subnet: Int)]] = [:]
        for item in items {
            var f = try r.fields(item, what: "subnet", allowed: [
                "id", "name", "vpc", "cidr", "availability_zone", "route_table", "network_acl", "ipv6_cidr",
                "assign_ipv6_address_on_creation", "enable_dns64",
            ])
            let index = model.subnets.count
            let (id, name) = try identify(&f, .subnet, index: index)
            let vpc = try resolve(f.require("vpc"), .vpc, key: "vpc")
            let ipv6 = try readSubnetIPv6(f, vpc: vpc, subnet: id)
            // An IPv6-only subnet (EC2 API CreateSubnet Ipv6Native) has an ipv6_cidr and no cidr.
            let hasIPv4 = f.has("cidr") || ipv6 == nil
            let cidr = hasIPv4 ? try r.cidr(f.require("cidr"), key: "cidr") : Subnet.ipv6OnlyPlaceholder
            if hasIPv4 {
                let cidrNode = try f.require("cidr")
                guard model.vpcs[vpc].cidrBlocks.contains(where: { $0.contains(cidr) }) else {
                    throw r.error(at: cidrNode, "subnet \(cidr) is outside \(model.vpcs[vpc].id) (\(cidrList(vpc)))")
                }
                // VPC-UG subnet-sizing: between /16 and /28.
                guard (16...28).contains(cidr.prefixLength) else {
                    throw r.error(at: cidrNode, "subnet \(cidr) is not between /16 and /28")
                }
                let first = cidr.first.rawValue, last = cidr.last.rawValue
                let (position, overlapping) = { (vpcSpans: [(first: UInt32, last: UInt32, subnet: Int)]) -> (Int, Int?) in
                    var lo = 0, hi = vpcSpans.count  // the first span ending at or after `first`
                    while lo < hi {
                        let mid = (lo + hi) / 2
                        if vpcSpans[mid].last < first { lo = mid + 1 } else { hi = mid }
                    }
                    var overlapping: Int?  // the earliest in file order, as a scan of model.subnets would report
                    var i = lo
                    while i < vpcSpans.count, vpcSpans[i].first <= last {
                        overlapping = min(overlapping ?? vpcSpans[i].subnet, vpcSpans[i].subnet)
                        i += 1
                    }
                    return (lo, overlapping)
                }(spans[vpc] ?? [])
                if let o = overlapping {
                    let other = model.subnets[o]
                    throw r.error(at: cidrNode, "subnets \(other.id) (\(other.cidr)) and \(id) (\(cidr)) overlap")
                }
                spans[vpc, default: []].insert((first, last, index), at: position)
            }
            let az = try f.word("availability_zone") ?? "us-east-1a"
            var routeTable: Int?
            if let n = f["route_table"] {
                let t = try resolve(n, .routeTable, key: "route_table")
                let tv = model.routeTables[t].vpc
                guard tv == vpc else {
                    throw r.error(at: n, "route table \(model.routeTables[t].id) is in \(model.vpcs[tv].id), but "
                                  + "subnet \(id) is in \(model.vpcs[vpc].id)")
                }
                routeTable = t
            }
            var acl: Int?
            if let n = f["network_acl"] {
                let a = try resolve(n, .networkACL, key: "network_acl")
                let av = model.networkACLs[a].vpc
                guard av == vpc else {
                    throw r.error(at: n, "network ACL \(model.networkACLs[a].id) is in \(model.vpcs[av].id), but "
                                  + "subnet \(id) is in \(model.vpcs[vpc].id)")
                }
                acl = a
            }
            var subnet = Subnet(id: id, name: name, vpc: vpc, cidr: cidr, availabilityZone: az, routeTable: routeTable,
                                networkACL: acl)
            subnet.ipv6Cidr = ipv6?.cidr
            subnet.hasIPv4 = hasIPv4
            subnet.assignIPv6OnCreation = ipv6?.assign ?? false
            subnet.enableDNS64 = try f.bool("enable_dns64") ?? false
            model.subnets.append(subnet)
        }
    }
}
