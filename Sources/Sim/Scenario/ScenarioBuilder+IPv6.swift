import Packets
import Yams

/// The IPv6 half of a dual-stack scenario: VPC and subnet IPv6 blocks, egress-only internet gateways, IPv6 routes
/// and rules, the IPv6 addresses of ENIs and outside hosts — read and checked into the model (DualStack.swift).
/// Packets cross the network over IPv4 only: a flow that would need an IPv6 packet is refused here, never run.
extension ScenarioBuilder {
    // MARK: VPCs and subnets

    /// A VPC's `ipv6_cidr`: one block or a list. VPC-UG vpc-cidr-blocks
    /// (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html): an Amazon-provided IPv6 block is a
    /// /56 (EC2 API CreateVpc AmazonProvidedIpv6CidrBlock: "with a /56 prefix length"); one from IPAM or BYOIP is
    /// between /44 and /60. AWS allows up to five per VPC.
    func readVPCIPv6Blocks(_ node: Node, vpc: String) throws -> [IPv6CIDR] {
        let nodes: [Node]
        if case .sequence(let s) = node { nodes = Array(s) } else { nodes = [node] }
        guard !nodes.isEmpty else { throw r.error(at: node, "ipv6_cidr of VPC \(vpc) is empty (leave the key out)") }
        var blocks: [IPv6CIDR] = []
        for n in nodes {
            let c = try r.ipv6CIDR(n, key: "ipv6_cidr")
            guard (44...60).contains(c.prefixLength) else {
                throw r.error(at: n, "VPC IPv6 block \(c) is not between /44 and /60 (an Amazon-provided block is a /56)")
            }
            if let other = blocks.first(where: { $0.overlaps(c) }) {
                throw r.error(at: n, "IPv6 block \(c) overlaps \(other) of VPC \(vpc)")
            }
            blocks.append(c)
        }
        guard blocks.count <= 5 else { throw r.error(at: node, "VPC \(vpc) has \(blocks.count) IPv6 blocks; at most 5 are allowed") }
        return blocks
    }

    /// A subnet's `ipv6_cidr` (a /64 inside one of its VPC's IPv6 blocks, VPC-UG subnet-sizing "IPv6 subnet CIDR
    /// blocks") and `assign_ipv6_address_on_creation` (AWS's default false; an IPv6-only subnet requires true, so
    /// there it defaults to true). nil for a subnet without IPv6.
    mutating func readSubnetIPv6(_ f: YAMLFields, vpc: Int, subnet id: String) throws -> (cidr: IPv6CIDR, assign: Bool)? {
        guard let n = f["ipv6_cidr"] else {
            if let k = f.keyNode("assign_ipv6_address_on_creation") {
                throw r.error(at: k, "subnet \(id) has no ipv6_cidr: assign_ipv6_address_on_creation needs one")
            }
            return nil
        }
        let c = try r.ipv6CIDR(n, key: "ipv6_cidr")
        let v = model.vpcs[vpc]
        guard !v.ipv6CidrBlocks.isEmpty else {
            throw r.error(at: n, "subnet IPv6 block \(c) needs an IPv6 block on \(v.id) (its ipv6_cidr)")
        }
        guard c.prefixLength == 64 else { throw r.error(at: n, "subnet IPv6 block \(c) is not a /64") }
        guard v.ipv6CidrBlocks.contains(where: { $0.contains(c) }) else {
            throw r.error(at: n, "subnet IPv6 block \(c) is outside \(v.id)'s IPv6 blocks "
                          + "(\(v.ipv6CidrBlocks.map(\.description).joined(separator: ", ")))")
        }
        // Every subnet block is a /64: two overlap only when they are the same block.
        if let other = ipv6Subnets[c] {
            throw r.error(at: n, "subnets \(model.subnets[other].id) and \(id) have the same IPv6 block \(c)")
        }
        ipv6Subnets[c] = model.subnets.count
        let ipv6Only = !f.has("cidr")
        let assign = try f.bool("assign_ipv6_address_on_creation") ?? ipv6Only
        if ipv6Only, !assign {
            // EC2 API ModifySubnetAttribute: an IPv6-only subnet must have AssignIpv6AddressOnCreation on.
            throw r.error(at: f["assign_ipv6_address_on_creation"],
                          "subnet \(id) is IPv6-only (no cidr): assign_ipv6_address_on_creation must be true")
        }
        return (c, assign)
    }

    /// A resource that needs an IPv4 address in `subnet`: refused in an IPv6-only subnet.
    func requireIPv4(_ subnet: Int, for what: String, node: Node?) throws {
        let s = model.subnets[subnet]
        guard !s.hasIPv4 else { return }
        throw r.error(at: node, "subnet \(s.id) is IPv6-only (no cidr): \(what) needs an IPv4 address")
    }

    // MARK: Egress-only internet gateways

    mutating func readEgressOnlyInternetGateways(_ items: [Node]) throws {
        for item in items {
            var f = try r.fields(item, what: "egress-only internet gateway", allowed: ["id", "name", "vpc"])
            let index = model.egressOnlyInternetGateways.count
            let (id, name) = try identify(&f, .egressOnlyInternetGateway, index: index)
            let n = try f.require("vpc")
            let v = try resolve(n, .vpc, key: "vpc")
            if let existing = model.vpcs[v].egressOnlyInternetGateway {
                // EC2 API CreateEgressOnlyInternetGateway: one per VPC.
                throw r.error(at: n, "\(model.vpcs[v].id) already has egress-only internet gateway "
                              + "\(model.egressOnlyInternetGateways[existing].id) (a VPC takes only one)")
            }
            model.vpcs[v].egressOnlyInternetGateway = index
            model.egressOnlyInternetGateways.append(EgressOnlyInternetGatewaySpec(id: id, name: name, vpc: v))
        }
    }

    // MARK: NACL and security-group defaults

    /// VPC-UG default-network-acl (https://docs.aws.amazon.com/vpc/latest/userguide/default-network-acl.html): the
    /// default network ACL allows all IPv6 traffic both ways too (rule 101, `::/0`) when the VPC has an IPv6 block.
    /// (AWS adds rule 101 when the block is associated, unless the default NACL's rules were changed before: a
    /// scenario that writes the default NACL's rules gets exactly those.)
    func defaultNACLIPv6Rules(_ vpc: Int) -> [NACLIPv6Rule] {
        guard !model.vpcs[vpc].ipv6CidrBlocks.isEmpty else { return [] }
        return [NACLIPv6Rule(number: 101, proto: .all, ports: nil, icmpType: nil, icmpCode: nil, cidr: .anyIPv6,
                             action: .allow)]
    }

    /// VPC-UG default-security-group (https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html):
    /// the default group's `::/0` outbound rule "is added only if your VPC has an associated IPv6 CIDR block", a
    /// rule of its own beside `0.0.0.0/0`. A group one creates gets the IPv4 rule only (VPC-UG security-groups: "an
    /// outbound rule that allows all outbound traffic", no family named; AWS CDK's SecurityGroupProps
    /// allowAllIpv6Outbound, default false, adds `::/0` because CreateSecurityGroup does not: "all egress ipv6
    /// traffic must be explicitly authorized"). So a group written without `egress:` gets `::/0` out only when
    /// named `default`, or every such group with the assumption `sg_default_egress_ipv6: true`.
    func defaultSGIPv6Egress(_ vpc: Int, group name: String?) -> [SecurityGroupIPv6Rule] {
        guard !model.vpcs[vpc].ipv6CidrBlocks.isEmpty, assumptions.sgDefaultEgressIPv6 || name == "default" else { return [] }
        return [SecurityGroupIPv6Rule(proto: .all, ports: nil, peer: .cidr(.anyIPv6), description: nil)]
    }

    /// A security-group rule's peer when it is IPv6: a `cidr` written as IPv6, or a `prefix_list` whose `cidrs`
    /// are IPv6 (a prefix list holds one address family: EC2 API CreateManagedPrefixList AddressFamily). nil for
    /// an IPv4 peer or a group reference.
    func readSGIPv6Peer(_ f: YAMLFields, key: String) throws -> SecurityGroupIPv6Rule.Peer? {
        switch key {
        case "cidr":
            guard case .v6(let c) = try r.eitherCIDR(f["cidr"]!, key: "cidr") else { return nil }
            return .cidr(c)
        case "prefix_list":
            guard case .mapping(let m) = f["prefix_list"]!, let list = m["cidrs"], case .sequence(let items) = list,
                  let first = items.first, case .scalar(let s) = first, YAMLReader.looksLikeIPv6(s.string) else {
                return nil
            }
            let pf = try r.fields(f["prefix_list"]!, what: "prefix list", key: "prefix_list", allowed: ["id", "cidrs"])
            let plNode = try pf.require("id")
            let plID = try r.word(plNode, key: "id")
            guard plID.hasPrefix("pl-"), plID.count > 3 else {
                throw r.error(at: plNode, "prefix list id '\(plID)' must start with 'pl-'")
            }
            var cidrs: [IPv6CIDR] = []
            for n in items {
                if case .scalar(let t) = n, !YAMLReader.looksLikeIPv6(t.string) {
                    throw r.error(at: n, "prefix list \(plID) mixes IPv4 and IPv6 entries (a prefix list has one "
                                  + "address family)")
                }
                cidrs.append(try r.ipv6CIDR(n, key: "cidrs"))
            }
            return .prefixList(id: plID, cidrs: cidrs)
        default:
            return nil
        }
    }

    func appendSGIPv6Rule(_ f: YAMLFields, _ peer: SecurityGroupIPv6Rule.Peer, proto: ProtocolMatch, ports: PortRange?,
                          item: Node, direction: String, to out: inout [SecurityGroupIPv6Rule]) throws {
        let (icmpType, icmpCode) = try readICMPTypeAndCode(f, proto)
        let rule = SecurityGroupIPv6Rule(proto: proto, ports: ports, peer: peer, description: try f.string("description"),
                                         icmpType: icmpType, icmpCode: icmpCode)
        if out.contains(where: { $0.proto == rule.proto && $0.ports == rule.ports && $0.peer == rule.peer
                                 && $0.icmpType == rule.icmpType && $0.icmpCode == rule.icmpCode }) {
            // EC2 API: InvalidPermission.Duplicate.
            throw r.error(at: item, "\(f.what) duplicates another \(direction) rule for the same IPv6 peer")
        }
        out.append(rule)
    }

    // MARK: Routes

    /// A route to an IPv6 destination (VPC-UG VPC_Route_Tables: IPv4 and IPv6 routes are matched separately).
    func appendIPv6Route(_ dest: IPv6CIDR, destNode: Node, target node: Node, table rt: RouteTableSpec,
                         to out: inout [IPv6Route]) throws {
        if out.contains(where: { $0.destination == dest }) {
            throw r.error(at: destNode, "route table \(rt.id) already has a route to \(dest)")
        }
        var route = IPv6Route(destination: dest, target: try resolveIPv6RouteTarget(node, destination: dest, table: rt))
        // A route an import wrote for one CIDR of a gateway endpoint's IPv6 prefix list: named after the list.
        if case .common(.vpcEndpoint(let e)) = route.target { route.prefixList = model.vpcEndpoints[e].ipv6PrefixListID }
        out.append(route)
    }

    func resolveIPv6RouteTarget(_ node: Node, destination: IPv6CIDR, table rt: RouteTableSpec) throws -> IPv6Route.Target {
        let ref = try r.word(node, key: "target")
        let vpc = model.vpcs[rt.vpc]
        let blocks = vpc.ipv6CidrBlocks.map(\.description).joined(separator: ", ")
        if ref == "local" {
            guard vpc.ipv6CidrBlocks.contains(destination) else {
                throw r.error(at: node, "a local route's destination must be a CIDR block of \(vpc.id) "
                              + "(\(blocks.isEmpty ? cidrList(rt.vpc) : cidrList(rt.vpc) + ", " + blocks)), not \(destination)")
            }
            return .common(.local)
        }
        if ref.hasPrefix("eigw-") || registry(.egressOnlyInternetGateway).byName[ref] != nil {
            guard let own = vpc.egressOnlyInternetGateway else {
                throw r.error(at: node, "route to \(destination) targets egress-only internet gateway \(ref), but "
                              + "\(vpc.id) has none")
            }
            let g = try resolve(node, .egressOnlyInternetGateway, key: "target", role: "route target")
            guard g == own else {
                throw r.error(at: node, "route target \(model.egressOnlyInternetGateways[g].id) is in "
                              + "\(model.vpcs[model.egressOnlyInternetGateways[g].vpc].id), not \(vpc.id) of route table "
                              + "\(rt.id)")
            }
            try requireOutsideVPC6(destination, node: node, vpc: rt.vpc, target: model.egressOnlyInternetGateways[g].id)
            return .egressOnlyInternetGateway(g)
        }
        // Every other target as for an IPv4 route (the IPv4 destination checks pass for 0.0.0.0/0), then the
        // IPv6 destination's own checks.
        let target = try resolveRouteTarget(node, destination: .anyIPv4, table: rt)
        switch target {
        case .natGateway(let i):
            // VPC-UG nat-gateway-nat64-dns64 and EC2 API ModifySubnetAttribute EnableDns64 document a NAT gateway's
            // IPv6 route as the NAT64 prefix 64:ff9b::/96 (it translates that traffic to IPv4). AWS documents no
            // other IPv6 destination for one, nor what it would do with such traffic: the model refuses them.
            guard IPv6CIDR.nat64.contains(destination) else {
                throw r.error(at: node, "route to \(destination) cannot target NAT gateway \(model.natGateways[i].id): "
                              + "a NAT gateway takes IPv6 routes only within the NAT64 prefix \(IPv6CIDR.nat64)")
            }
        case .internetGateway, .peeringConnection, .peering, .transitGateway, .vpnGateway:
            try requireOutsideVPC6(destination, node: node, vpc: rt.vpc, target: IPv6Route.Target.common(target).id(model))
        case .vpcEndpoint(let e):
            // PrivateLink guide gateway-endpoints, "IP address type": the IPv6 routes of a gateway endpoint are its
            // service's IPv6 prefix list, which only ip_address_type dualstack or ipv6 adds.
            let ep = model.vpcEndpoints[e]
            guard ep.ipv6PrefixListCIDRs.contains(destination) else {
                throw r.error(at: node, "route to \(destination) cannot target gateway endpoint \(ep.id): "
                              + (ep.ipv6PrefixListCIDRs.isEmpty
                                  ? "its ip_address_type is \(ep.ipAddressType), so its routes are its IPv4 prefix list's"
                                  : "its IPv6 routes are its IPv6 prefix list \(ep.ipv6PrefixListID)'s "
                                      + "(\(ep.ipv6PrefixListCIDRs.map(\.description).joined(separator: ", ")))")
                              + " (PrivateLink guide gateway-endpoints, \"IP address type\")")
            }
        case .notModeled(let id) where !id.hasPrefix("vpce-"):
            try requireOutsideVPC6(destination, node: node, vpc: rt.vpc, target: id)
        default:
            break
        }
        return .common(target)
    }

    /// As `requireOutsideVPC`, for the VPC's IPv6 blocks.
    func requireOutsideVPC6(_ destination: IPv6CIDR, node: Node, vpc: Int, target: String) throws {
        if let block = model.vpcs[vpc].ipv6CidrBlocks.first(where: { $0.contains(destination) }) {
            throw r.error(at: node, "route to \(destination) lies within \(model.vpcs[vpc].id)'s IPv6 block \(block) "
                          + "and cannot target \(target)")
        }
    }

    /// The implicit `local` route for every IPv6 block of the table's VPC it does not route explicitly, first.
    mutating func addIPv6LocalRoutes(table t: Int) {
        let explicit = model.routeTables[t].ipv6Routes
        let locals = model.vpcs[model.routeTables[t].vpc].ipv6CidrBlocks
            .filter { c in !explicit.contains { $0.destination == c } }
            .map { IPv6Route(destination: $0, target: .common(.local)) }
        model.routeTables[t].ipv6Routes = locals + explicit
    }

    // MARK: Addresses

    /// An instance's `ipv6_address` (claimed in its subnet's /64), or one allocated later when its subnet assigns
    /// IPv6 addresses on creation. `auto` asks for one whatever the subnet does (EC2 API RunInstances
    /// Ipv6AddressCount 1); `none` for none though the subnet assigns them (Ipv6AddressCount 0, "you can override
    /// that setting by specifying 0"), refused in an IPv6-only subnet.
    mutating func readInstanceIPv6(_ f: YAMLFields, eni: Int, owner: String) throws {
        let subnet = model.enis[eni].subnet
        if let n = f["ipv6_address"], case .scalar(let word) = n, word.string == "auto" || word.string == "none" {
            let s = model.subnets[subnet]
            guard s.ipv6Cidr != nil else {
                throw r.error(at: n, "ipv6_address \(word.string) needs an IPv6 block on subnet \(s.id) (its ipv6_cidr)")
            }
            if word.string == "auto" {
                requestIPv6(eni: eni, owner: owner, node: f.node)
            } else if !s.hasIPv4 {
                throw r.error(at: n, "subnet \(s.id) is IPv6-only (no cidr): \(owner) needs an IPv6 address (ipv6_address "
                              + "none is for dual-stack subnets)")
            }
        } else if let n = f["ipv6_address"] {
            let a = try r.ipv6Address(n, key: "ipv6_address")
            try claimIPv6(a, in: subnet, for: owner, node: n)
            model.enis[eni].ipv6Address = a
        } else if model.subnets[subnet].assignIPv6OnCreation {
            requestIPv6(eni: eni, owner: owner, node: f.node)
        }
    }

    /// `ipv6_allowed_for_dual_stack` (Lambda API VpcConfig Ipv6AllowedForDualStack, "Allows outbound IPv6 traffic
    /// on VPC functions that are connected to dual-stack subnets":
    /// https://docs.aws.amazon.com/lambda/latest/dg/API_VpcConfig.html): every subnet of the function must be
    /// dual-stack (Lambda-DG configuration-vpc, "IPv6 support": "To allow outbound IPv6 traffic in a VPC, all of the
    /// subnets that are connected to the function must be dual-stack subnets").
    /// A Lambda function in an IPv6-only subnet is refused: "Lambda doesn't support outbound IPv6 connections for
    /// IPv6-only subnets in a VPC" (the same note), and such a subnet gives it no IPv4 address either.
    func readLambdaDualStack(_ f: YAMLFields, subnets: [Int]) throws -> Bool {
        let subnetsNode = f["subnets"]
        let items = try subnetsNode.map { try r.list($0, key: "subnets") } ?? []
        for (s, n) in zip(subnets, items) { try requireIPv4(s, for: f.what, node: n) }
        guard let n = f["ipv6_allowed_for_dual_stack"], try r.bool(n, key: "ipv6_allowed_for_dual_stack") else {
            return false
        }
        for (s, item) in zip(subnets, items) where model.subnets[s].ipv6Cidr == nil {
            throw r.error(at: item, "\(f.what) allows IPv6 for dual stack, but its subnet \(model.subnets[s].id) has no "
                          + "ipv6_cidr")
        }
        return true
    }

    /// Queues an IPv6 address for `eni` (once, however many functions share it).
    mutating func requestIPv6(eni: Int, owner: String, node: Node) {
        guard model.enis[eni].ipv6Address == nil, !pendingIPv6Allocations.contains(where: { $0.eni == eni }) else { return }
        pendingIPv6Allocations.append((eni, owner, node))
    }

    mutating func claimIPv6(_ address: IPv6Address, in subnet: Int, for owner: String, node: Node) throws {
        let s = model.subnets[subnet]
        guard let c = s.ipv6Cidr else {
            throw r.error(at: node, "ipv6_address \(address) needs an IPv6 block on subnet \(s.id) (its ipv6_cidr)")
        }
        guard c.contains(address) else {
            throw r.error(at: node, "ipv6_address \(address) is outside subnet \(s.id) (\(c))")
        }
        // VPC-UG subnet-sizing (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html), "Subnet sizing
        // for IPv6": "The first four IPv6 addresses and the last IPv6 address in each subnet CIDR block are not
        // available for your use, and they cannot be assigned to an EC2 instance".
        let offset = address.low & ~IPv6CIDR.mask(64).low
        guard offset >= 4, address != c.last else {
            throw r.error(at: node, "ipv6_address \(address) is reserved by AWS in subnet \(s.id) (\(c)): the first "
                          + "four addresses and the last cannot be assigned")
        }
        if let holder = usedIPv6[subnet]?[address] {
            throw r.error(at: node, "ipv6_address \(address) is already used by \(holder)")
        }
        usedIPv6[subnet, default: [:]][address] = owner
    }

    /// Gives every queued ENI a free IPv6 address of its subnet's /64, in queue order, after the explicit ones are
    /// claimed (as `allocatePendingAddresses` does for IPv4), as the assumption `ipv6_address_allocation` says:
    /// the lowest free from `::4` up, or one hashed from the ENI's id. Never a reserved one (VPC-UG subnet-sizing:
    /// the first four and the last of the block).
    mutating func allocatePendingIPv6Addresses() throws {
        var resume: [Int: UInt64] = [:]
        for (eni, owner, _) in pendingIPv6Allocations {
            let subnet = model.enis[eni].subnet
            guard let c = model.subnets[subnet].ipv6Cidr else { continue }
            var offset: UInt64
            switch assumptions.ipv6AddressAllocation {
            case .lowest: offset = resume[subnet] ?? 4
            case .hashed: offset = ScenarioValues.fnv1a(model.enis[eni].id)
            }
            while offset < 4 || offset == UInt64.max || usedIPv6[subnet]?[IPv6Address(high: c.network.high, low: offset)] != nil {
                offset &+= 1
            }
            let a = IPv6Address(high: c.network.high, low: offset)
            if assumptions.ipv6AddressAllocation == .lowest { resume[subnet] = offset + 1 }
            usedIPv6[subnet, default: [:]][a] = owner
            model.enis[eni].ipv6Address = a
        }
        pendingIPv6Allocations = []
    }

    // MARK: Outside hosts

    /// An outside host's `ipv6` address (an on-premises host's is reached through a VPN connection whose tunnels
    /// carry IPv6: `tunnel_inside_ip_version: ipv6`).
    func readOutsideHostIPv6(_ f: YAMLFields, name: String) throws -> IPv6Address? {
        guard let n = f["ipv6"] else { return nil }
        let a = try r.ipv6Address(n, key: "ipv6")
        if let other = model.outsideHosts.first(where: { $0.ipv6Address == a }) {
            throw r.error(at: n, "ipv6 \(a) is already used by outside host \(other.id)")
        }
        return a
    }

    // MARK: Flows

    /// A destination's host part written as an IPv6 address ("[2001:db8::10]" or bare), nil otherwise.
    static func ipv6Literal(_ host: String) -> IPv6Address? {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return IPv6Address(bare)
    }

    /// The destination's IPv6 address (an IPv6 literal, an instance's ENI's, an outside host's) and whether it
    /// has an IPv4 one, from the host part of a flow's `to`.
    func destinationFamilies(_ host: String) -> (ipv6: IPv6Address?, hasIPv4: Bool, name: String) {
        if let a = Self.ipv6Literal(host) { return (a, false, a.description) }
        if IPv4Address(host) != nil { return (nil, true, host) }
        let hits = endpoints(named: host)
        guard hits.count == 1 else { return (nil, true, host) }
        switch hits[0] {
        case .instance(let i):
            let e = model.enis[model.instances[i].eni]
            return (e.ipv6Address, model.subnets[e.subnet].hasIPv4, "instance \(model.instances[i].id)")
        case .host(let h):
            let o = model.outsideHosts[h]
            return (o.ipv6Address, o.hasIPv4, "host \(o.id)")
        case .lambda:
            return (nil, true, host)
        }
    }

    /// The families an interface endpoint's private DNS name answers with, for the ENI `address` is of (the one
    /// `serviceDestination` chose): A always, AAAA too when the endpoint is dual-stack (PrivateLink guide
    /// create-interface-endpoint, "DNS record IP type": a dual-stack endpoint's records are A and AAAA).
    func endpointFamilies(_ e: Int, _ address: IPv4Address) -> (ipv6: IPv6Address?, hasIPv4: Bool, name: String) {
        let ep = model.vpcEndpoints[e]
        let eni = ep.enis.first { model.enis[$0].privateIP == address } ?? ep.enis.first
        let v6 = ep.dualStack ? eni.flatMap { model.enis[$0].ipv6Address } : nil
        return (v6, true, "interface endpoint \(ep.id)" + (ep.dualStack ? "" : " (ip_address_type ipv4)"))
    }

    /// Whether the flow's source has an IPv6 address (a Lambda function: every one of its ENIs, which
    /// `ipv6_allowed_for_dual_stack` gives), and what to call it; with why not.
    func sourceIPv6(_ source: FlowSource) -> (has: Bool, hasIPv4: Bool, name: String) {
        switch source {
        case .lambda(let i, _):
            let l = model.lambdas[i]
            return (l.enis.allSatisfy { model.enis[$0].ipv6Address != nil }, true,
                    "Lambda function \(l.id) (ipv6_allowed_for_dual_stack is off)")
        case .instance(let i):
            let e = model.enis[model.instances[i].eni]
            return (e.ipv6Address != nil, model.subnets[e.subnet].hasIPv4, "instance \(model.instances[i].id)")
        case .outsideHost(let h):
            let o = model.outsideHosts[h]
            return (o.ipv6Address != nil, o.hasIPv4, "host \(o.id)")
        }
    }

    /// The flow's destination in the family its client picks (`ClientProfile.addressFamily`, `address_family`):
    /// an IPv6 address written as such, or a destination or source without IPv4, goes over IPv6; `ipv6` needs
    /// IPv6 at both ends; `happy_eyeballs` tries IPv6 first with IPv4 as the fallback when both ends have both,
    /// and IPv4 alone otherwise (RFC 8305 §4: a client sorts the addresses it has). A one-line error names what
    /// is missing.
    func applyAddressFamily(_ spec: inout FlowSpec, host: String, node: Node, familyNode: Node?) throws {
        let flow = spec.name
        var d = spec.destination.interfaceEndpoint.map { endpointFamilies($0, spec.destination.address) }
            ?? destinationFamilies(host)
        let s = sourceIPv6(spec.source)
        // DNS64 (the source's subnet's EnableDns64): Route 53 Resolver answers a name that has an A record and no
        // AAAA with a synthesized AAAA, 64:ff9b::<IPv4> (RFC 6147; EC2 API ModifySubnetAttribute EnableDns64: "return
        // synthetic IPv6 addresses for IPv4-only destinations"). A name only: an address written out is not asked.
        var synthesized = false
        if d.ipv6 == nil, d.hasIPv4, IPv4Address(host) == nil, Self.ipv6Literal(host) == nil, s.has,
           spec.destination.interfaceEndpoint == nil, spec.destination.notModeled == nil,
           !spec.destination.address.isIPv6Token, sourceHasDNS64(spec.source) {
            d.ipv6 = IPv6Address(nat64: spec.destination.address)
            synthesized = true
        }
        var family = spec.client.addressFamily
        if Self.ipv6Literal(host) != nil || !d.hasIPv4 || !s.hasIPv4 { family = .ipv6 }
        if IPv4Address(host) != nil {
            guard family != .ipv6 || familyNode == nil else {
                throw r.error(at: familyNode, "flow '\(flow)': address_family ipv6, but the destination \(host) is an "
                              + "IPv4 address")
            }
            return
        }
        switch family {
        case .ipv4:
            return
        case .ipv6:
            guard let a = d.ipv6 else {
                if !s.hasIPv4, d.hasIPv4 {
                    // Without DNS64 an IPv6-only host finds no AAAA record for an IPv4-only name: nothing to connect to.
                    throw r.error(at: familyNode ?? node, "flow '\(flow)': \(s.name) is IPv6-only and \(d.name) has no "
                                  + "IPv6 address: without DNS64 its name has no AAAA record (enable_dns64 on the "
                                  + "source's subnet, with a 64:ff9b::/96 route to a NAT gateway, or write the NAT64 "
                                  + "address \(IPv6Address(nat64: spec.destination.address)))")
                }
                throw r.error(at: familyNode ?? node, "flow '\(flow)': IPv6, but \(d.name) has no IPv6 address (its ipv6)")
            }
            guard s.has else {
                throw r.error(at: familyNode ?? node, "flow '\(flow)': IPv6 to \(a), but the source \(s.name) has no IPv6 "
                              + "address")
            }
            spec.destination.address = IPv6Token.intern(a)
            spec.destination.dns64 = synthesized
        case .happyEyeballs:
            guard let a = d.ipv6, s.has else { return }
            // ping tries the first address getaddrinfo gives, IPv6 by RFC 6724's order, and no other (iputils
            // ping: one address, no fallback).
            if spec.app != .ping { spec.destination.fallback = spec.destination.address }
            spec.destination.address = IPv6Token.intern(a)
            spec.destination.dns64 = synthesized
        }
    }
}

extension ScenarioBuilder {
    /// Whether the flow's source asks a resolver with DNS64: its subnet's `enable_dns64` (every subnet of a
    /// Lambda function).
    func sourceHasDNS64(_ source: FlowSource) -> Bool {
        switch source {
        case .lambda(let i, _):
            let l = model.lambdas[i]
            return !l.enis.isEmpty && l.enis.allSatisfy { model.subnets[model.enis[$0].subnet].enableDNS64 }
        case .instance(let i):
            return model.subnets[model.enis[model.instances[i].eni].subnet].enableDNS64
        case .outsideHost:
            return false
        }
    }
}

extension Subnet {
    /// The `cidr` of an IPv6-only subnet: a block the model never allocates from (`hasIPv4` is false).
    public static let ipv6OnlyPlaceholder = IPv4CIDR(containing: .any, prefixLength: 32)
}
