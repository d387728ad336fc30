import Packets
import Yams

/// NAT gateways, instances and Lambda functions, and the ENIs and addresses they take.
extension ScenarioBuilder {
    // MARK: Addresses

    /// Claims an explicitly given private IP in `subnet` for `owner`.
    mutating func claim(_ address: IPv4Address, in subnet: Int, for owner: String, node: Node?, key: String) throws {
        let s = model.subnets[subnet]
        try requireIPv4(subnet, for: "\(key) \(address)", node: node)
        guard s.cidr.contains(address) else {
            throw r.error(at: node, "\(key) \(address) is outside subnet \(s.id) (\(s.cidr))")
        }
        let offset = address.rawValue - s.cidr.network.rawValue
        // VPC-UG subnet-sizing: the first four addresses and the last of each subnet are reserved.
        guard offset >= 4, address != s.cidr.last else {
            throw r.error(at: node, "\(key) \(address) is reserved by AWS in subnet \(s.id) (\(s.cidr)): the first "
                          + "four addresses and the last cannot be assigned")
        }
        if let holder = usedAddresses[subnet]?[address.rawValue] {
            throw r.error(at: node, "\(key) \(address) is already used by \(holder)")
        }
        usedAddresses[subnet, default: [:]][address.rawValue] = owner
    }

    /// Claims a public or Elastic IP.
    mutating func claimPublic(_ address: IPv4Address, for owner: String, node: Node?, key: String) throws {
        guard !address.isPrivateOrSpecial else {
            throw r.error(at: node, "\(key) \(address) is not a public address")
        }
        if let holder = usedPublic[address.rawValue] {
            throw r.error(at: node, "\(key) \(address) is already used by \(holder)")
        }
        usedPublic[address.rawValue] = owner
    }

    /// Gives every ENI still without an address the lowest free one from .4 upward, in creation order
    /// (NAT gateways, then instances, then Lambda ENIs), after all explicit addresses are claimed.
    mutating func allocatePendingAddresses() throws {
        // Per subnet, the offset after the last address handed out here: every offset below it is taken (addresses
        // are only ever claimed), so the next search starts there — linear in a subnet's size, not quadratic.
        var resume: [Int: UInt32] = [:]
        for (eni, owner, node) in pendingAllocations {
            let subnet = model.enis[eni].subnet
            let s = model.subnets[subnet]
            // An ENI in an IPv6-only subnet has no IPv4 address (an instance's; the others are refused there).
            guard s.hasIPv4 else { continue }
            let last = UInt32(s.cidr.addressCount - 2)
            var chosen: IPv4Address?
            var offset: UInt32 = resume[subnet] ?? 4
            while offset <= last {
                let a = s.cidr.address(at: offset)
                if usedAddresses[subnet]?[a.rawValue] == nil {
                    chosen = a
                    break
                }
                offset += 1
            }
            guard let chosen else {
                throw r.error(at: node, "subnet \(s.id) (\(s.cidr)) has no free address left for \(owner)")
            }
            resume[subnet] = offset + 1
            usedAddresses[subnet, default: [:]][chosen.rawValue] = owner
            model.enis[eni].privateIP = chosen
        }
        pendingAllocations = []
    }

    /// Appends an ENI, registering its id (and name) for route targets and `dropped_at`.
    mutating func addENI(_ eni: ENI, node: Node?) throws -> Int {
        if registry(.eni).byID[eni.id] != nil {
            throw r.error(at: node, "generated interface id \(eni.id) collides with another; rename the resource")
        }
        let index = model.enis.count
        register(.eni, id: eni.id, name: nil, index: index)
        model.enis.append(eni)
        return index
    }

    // MARK: NAT gateways

    mutating func readNATGateways(_ items: [Node]) throws {
        for item in items {
            var f = try r.fields(item, what: "NAT gateway", allowed: [
                "id", "name", "subnet", "private_ip", "elastic_ip", "connectivity", "secondary_private_ips",
                "secondary_elastic_ips",
            ])
            let index = model.natGateways.count
            let (id, name) = try identify(&f, .natGateway, index: index)
            let subnet = try resolve(f.require("subnet"), .subnet, key: "subnet")
            try requireIPv4(subnet, for: "NAT gateway \(id)", node: f["subnet"])
            let connectivity: NATGatewaySpec.Connectivity = try f["connectivity"].map {
                try r.oneOf($0, key: "connectivity", [("public", .public), ("private", .private)])
            } ?? .public
            let owner = "NAT gateway \(id)"
            var elasticIP: IPv4Address?
            switch connectivity {
            case .public:
                guard let n = f["elastic_ip"] else { throw r.error(at: item, "a public NAT gateway needs an elastic_ip") }
                let a = try r.address(n, key: "elastic_ip")
                try claimPublic(a, for: owner, node: n, key: "elastic_ip")
                elasticIP = a
            case .private:
                for key in ["elastic_ip", "secondary_elastic_ips"] where f.has(key) {
                    throw r.error(at: f.keyNode(key), "a private NAT gateway cannot have an \(key)")
                }
            }
            var privateIP: IPv4Address?
            if let n = f["private_ip"] {
                let a = try r.address(n, key: "private_ip")
                try claim(a, in: subnet, for: owner, node: n, key: "private_ip")
                privateIP = a
            }
            var secondaryPrivate: [IPv4Address] = []
            if let n = f["secondary_private_ips"] {
                for item in try r.list(n, key: "secondary_private_ips") {
                    let a = try r.address(item, key: "secondary_private_ips")
                    try claim(a, in: subnet, for: owner, node: item, key: "secondary private IP")
                    secondaryPrivate.append(a)
                }
                // VPC-UG nat-gateway-basics: up to 8 private IPv4 addresses per NAT gateway.
                guard secondaryPrivate.count <= 7 else {
                    throw r.error(at: n, "a NAT gateway has at most 8 private IPs (the primary and 7 secondary)")
                }
            }
            var secondaryElastic: [IPv4Address] = []
            if let n = f["secondary_elastic_ips"] {
                for item in try r.list(n, key: "secondary_elastic_ips") {
                    let a = try r.address(item, key: "secondary_elastic_ips")
                    try claimPublic(a, for: owner, node: item, key: "secondary elastic IP")
                    secondaryElastic.append(a)
                }
            }
            if connectivity == .public, secondaryElastic.count != secondaryPrivate.count {
                throw r.error(at: f.keyNode("secondary_elastic_ips") ?? f.keyNode("secondary_private_ips"),
                              "secondary_elastic_ips has \(secondaryElastic.count) addresses but "
                              + "secondary_private_ips has \(secondaryPrivate.count); each secondary private IP "
                              + "needs its Elastic IP")
            }
            let eniID = ScenarioValues.eniID(hashing: id)
            let eni = try addENI(ENI(id: eniID, name: name, subnet: subnet, privateIP: privateIP ?? .any,
                                     publicIP: elasticIP, securityGroups: [], owner: .natGateway(index),
                                     mac: ScenarioValues.mac(hashing: eniID)), node: item)
            if privateIP == nil { pendingAllocations.append((eni, owner, item)) }
            model.natGateways.append(NATGatewaySpec(id: id, name: name, subnet: subnet, connectivity: connectivity,
                                                    eni: eni, secondaryPrivateIPs: secondaryPrivate,
                                                    secondaryElasticIPs: secondaryElastic))
        }
    }

    // MARK: Instances

    mutating func readInstances(_ items: [Node]) throws {
        for item in items {
            var f = try r.fields(item, what: "instance", allowed: [
                "id", "name", "subnet", "private_ip", "public_ip", "security_groups", "stack", "source_dest_check",
                "forwarding", "nitro", "connection_tracking", "mtu", "network_interfaces", "ipv6_address",
            ])
            let index = model.instances.count
            let (id, name) = try identify(&f, .instance, index: index)
            let subnet = try resolve(f.require("subnet"), .subnet, key: "subnet")
            let groups = try readGroups(f, subnetVPC: model.subnets[subnet].vpc, who: "instance \(id)")
            let stack = try readStack(f)
            let owner = "instance \(id)"
            let (privateIP, publicIP) = try readAddresses(f, subnet: subnet, owner: owner)
            let eniID = ScenarioValues.eniID(hashing: id)
            var eniSpec = ENI(id: eniID, name: name, subnet: subnet, privateIP: privateIP ?? .any,
                              publicIP: publicIP, securityGroups: groups, owner: .instance(index),
                              mac: ScenarioValues.mac(hashing: eniID))
            if let n = f["connection_tracking"] { eniSpec.connectionTracking = try readConnectionTracking(n) }
            let eni = try addENI(eniSpec, node: item)
            if privateIP == nil { pendingAllocations.append((eni, owner, item)) }
            try readInstanceIPv6(f, eni: eni, owner: owner)
            let mtu = try f.integer("mtu", range: 576...9001) ?? assumptions.instanceMTU
            var instance = Instance(id: id, name: name, eni: eni, stack: stack.withMTU(mtu))
            instance.mtu = mtu
            if let n = f["source_dest_check"] { instance.sourceDestCheck = try r.bool(n, key: "source_dest_check") }
            if let n = f["forwarding"] {
                instance.forwarding = try r.oneOf(n, key: "forwarding", [("off", .off), ("router", .router),
                                                                          ("stateful", .stateful), ("nat", .nat)])
            }
            if let n = f["nitro"] {
                // The Nitro system's generation: only v6 changes what the model does (its 350 s TCP timeout).
                instance.nitroV6 = try r.oneOf(n, key: "nitro", [("v1", false), ("v2", false), ("v3", false),
                                                                  ("v4", false), ("v5", false), ("v6", true)])
            }
            if let n = f["network_interfaces"] {
                for (k, item) in try r.list(n, key: "network_interfaces").enumerated() {
                    let (e, check) = try readSecondaryENI(item, of: id, index: index, primarySubnet: subnet, device: k + 1)
                    instance.secondaryENIs.append(e)
                    instance.secondarySourceDestCheck.append(check)
                }
            }
            model.instances.append(instance)
        }
    }

    /// An interface's `private_ip` (in `subnet`) and `public_ip`, each claimed for `owner`; nil when not given.
    mutating func readAddresses(_ f: YAMLFields, subnet: Int, owner: String) throws -> (IPv4Address?, IPv4Address?) {
        var privateIP: IPv4Address?
        if let n = f["private_ip"] {
            let a = try r.address(n, key: "private_ip")
            try claim(a, in: subnet, for: owner, node: n, key: "private_ip")
            privateIP = a
        }
        var publicIP: IPv4Address?
        if let n = f["public_ip"] {
            let a = try r.address(n, key: "public_ip")
            try claimPublic(a, for: owner, node: n, key: "public_ip")
            publicIP = a
        }
        return (privateIP, publicIP)
    }

    /// `connection_tracking`: the ENI's ConnectionTrackingSpecification, each value in the range the EC2 API
    /// accepts.
    func readConnectionTracking(_ node: Node) throws -> ConnectionTracking {
        let f = try r.fields(node, what: "connection_tracking", key: "connection_tracking",
                             allowed: ["tcp_established_timeout", "udp_timeout", "udp_stream_timeout"])
        var c = ConnectionTracking()
        c.tcpEstablishedTimeout = try f.integer("tcp_established_timeout", range: ConnectionTracking.tcpEstablishedRange)
        c.udpTimeout = try f.integer("udp_timeout", range: ConnectionTracking.udpRange)
        c.udpStreamTimeout = try f.integer("udp_stream_timeout", range: ConnectionTracking.udpStreamRange)
        return c
    }

    /// One of `network_interfaces:`, the instance's interface at device index `device`: in a subnet of the same
    /// VPC and AZ as the primary's (EC2-UG using-eni: "You can attach a network interface in one subnet to an
    /// instance in another subnet in the same VPC; however, both the network interface and the instance must
    /// reside in the same Availability Zone"), with its own address, security groups and source/destination
    /// check, and its `ipv6_address` as an instance's (`readInstanceIPv6`: an address in its subnet's /64, `auto`,
    /// `none`, or one allocated when the subnet assigns them). How many interfaces an instance takes depends on its
    /// type, which the model does not have: no limit is enforced. Returns the ENI and its check.
    private mutating func readSecondaryENI(_ item: Node, of instanceID: String, index: Int, primarySubnet: Int,
                                           device: Int) throws -> (Int, Bool) {
        var f = try r.fields(item, what: "network interface", key: "network_interfaces", allowed: [
            "id", "name", "subnet", "private_ip", "public_ip", "security_groups", "source_dest_check", "ipv6_address",
        ])
        var eniID = ScenarioValues.eniID(hashing: "\(instanceID)|\(device)")
        if let n = f["id"] {
            let id = try r.word(n, key: "id")
            guard id.hasPrefix("eni-"), id.count > 4 else {
                throw r.error(at: n, "network interface id '\(id)' must start with 'eni-'")
            }
            if ResourceKind.allCases.contains(where: { registry($0).byID[id] != nil }) {
                throw r.error(at: n, "duplicate id \(id)")
            }
            eniID = id
        }
        f.what = "network interface \(eniID) of instance \(instanceID)"
        let name = try f.word("name")
        let subnetNode = try f.require("subnet")
        let subnet = try resolve(subnetNode, .subnet, key: "subnet")
        let s = model.subnets[subnet], primary = model.subnets[primarySubnet]
        guard s.vpc == primary.vpc else {
            throw r.error(at: subnetNode, "\(f.what) is in subnet \(s.id) of \(model.vpcs[s.vpc].id), but the instance "
                          + "is in \(model.vpcs[primary.vpc].id) (its interfaces are in one VPC)")
        }
        guard s.availabilityZone == primary.availabilityZone else {
            throw r.error(at: subnetNode, "\(f.what) is in subnet \(s.id) in \(s.availabilityZone), but the instance "
                          + "is in \(primary.availabilityZone) (an instance's network interfaces are in its AZ)")
        }
        let groups = try readGroups(f, subnetVPC: s.vpc, who: f.what)
        let owner = "\(f.what)"
        let (privateIP, publicIP) = try readAddresses(f, subnet: subnet, owner: owner)
        let check = try f["source_dest_check"].map { try r.bool($0, key: "source_dest_check") } ?? true
        if registry(.eni).byID[eniID] != nil { throw r.error(at: item, "duplicate id \(eniID)") }
        let e = model.enis.count
        register(.eni, id: eniID, name: name, index: e)
        model.enis.append(ENI(id: eniID, name: name, subnet: subnet, privateIP: privateIP ?? .any, publicIP: publicIP,
                              securityGroups: groups, owner: .instance(index), mac: ScenarioValues.mac(hashing: eniID)))
        if privateIP == nil { pendingAllocations.append((e, owner, item)) }
        try readInstanceIPv6(f, eni: e, owner: owner)
        return (e, check)
    }

    func readStack(_ f: YAMLFields) throws -> StackProfile {
        try f["stack"].map {
            try r.oneOf($0, key: "stack", [("linux", StackProfile.linux), ("linux-pre-6.5", .linux),
                                           ("linux-6.5", .linux65), ("windows", .windows)])
        } ?? .linux
    }

    /// `security_groups`: at least one, all in the VPC of the subnet(s).
    func readGroups(_ f: YAMLFields, subnetVPC vpc: Int, who: String, max: Int? = nil) throws -> [Int] {
        let n = try f.require("security_groups")
        let groups = try resolveList(n, .securityGroup, key: "security_groups")
        guard !groups.isEmpty else { throw r.error(at: n, "\(who) needs at least one security group") }
        if let max, groups.count > max {
            throw r.error(at: n, "\(who) has \(groups.count) security groups; at most \(max) are allowed")
        }
        let items = try r.list(n, key: "security_groups")
        for (g, itemNode) in zip(groups, items) where model.securityGroups[g].vpc != vpc {
            throw r.error(at: itemNode, "security group \(model.securityGroups[g].id) is in "
                          + "\(model.vpcs[model.securityGroups[g].vpc].id), but \(who) is in \(model.vpcs[vpc].id)")
        }
        return groups
    }

    // MARK: Lambda functions

    mutating func readLambdas(_ items: [Node]) throws {
        var names: [String: Bool] = [:]
        for item in items {
            var f = try r.fields(item, what: "Lambda function", allowed: [
                "name", "subnets", "security_groups", "timeout", "private_ips", "ipv6_allowed_for_dual_stack",
            ])
            let nameNode = try f.require("name")
            let name = try r.word(nameNode, key: "name")
            // Lambda API CreateFunction: FunctionName is 1-64 letters, digits, hyphens and underscores.
            guard name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                throw r.error(at: nameNode, "invalid function name '\(name)' (1-64 letters, digits, '-' or '_')")
            }
            guard names[name] == nil else { throw r.error(at: nameNode, "duplicate Lambda function name '\(name)'") }
            names[name] = true
            f.what = "Lambda function \(name)"
            let index = model.lambdas.count

            // Lambda API VpcConfig: up to 16 subnets and 5 security groups, all in one VPC.
            let subnetsNode = try f.require("subnets")
            let subnets = try resolveList(subnetsNode, .subnet, key: "subnets")
            guard !subnets.isEmpty else { throw r.error(at: subnetsNode, "\(f.what) needs at least one subnet") }
            guard subnets.count <= 16 else {
                throw r.error(at: subnetsNode, "\(f.what) has \(subnets.count) subnets; at most 16 are allowed")
            }
            let vpc = model.subnets[subnets[0]].vpc
            for (s, n) in zip(subnets, try r.list(subnetsNode, key: "subnets")) where model.subnets[s].vpc != vpc {
                throw r.error(at: n, "subnet \(model.subnets[s].id) is in \(model.vpcs[model.subnets[s].vpc].id), but "
                              + "\(f.what)'s first subnet is in \(model.vpcs[vpc].id) (a function uses one VPC)")
            }
            let groups = try readGroups(f, subnetVPC: vpc, who: f.what, max: 5)
            let dualStack = try readLambdaDualStack(f, subnets: subnets)
            let timeout = try f.integer("timeout", range: 1...900, what: "timeout") ?? 3

            var requested: [Int: (IPv4Address, Node)] = [:]
            if let n = f["private_ips"] {
                for (_, keyNode, value) in try r.pairs(n, key: "private_ips") {
                    let s = try resolve(keyNode, .subnet, key: "private_ips")
                    guard subnets.contains(s) else {
                        throw r.error(at: keyNode, "private_ips names subnet \(model.subnets[s].id), which is not one "
                                      + "of \(f.what)'s subnets")
                    }
                    requested[s] = (try r.address(value, key: "private_ips"), value)
                }
            }

            let sortedGroupIDs = groups.map { model.securityGroups[$0].id }.sorted()
            // The ENIs are made (and given addresses) in subnet-id order, so that the order `subnets` lists them in
            // changes no ENI's place, address or capture point; `enis` follows `subnets`.
            var enis = [Int](repeating: 0, count: subnets.count)
            for (k, s) in subnets.enumerated().sorted(by: { model.subnets[$0.1].id < model.subnets[$1.1].id }) {
                let key = "lambda|\(model.subnets[s].id)|\(sortedGroupIDs.joined(separator: ","))"
                let eni: Int
                if let existing = lambdaENIs[key] {
                    eni = existing
                    if case .lambda(var owners) = model.enis[eni].owner {
                        owners.append(index)
                        model.enis[eni].owner = .lambda(owners)
                    }
                    let functions = model.enis[eni].owner.lambdaNames(model.lambdas, adding: name)
                    model.enis[eni].name = "lambda \(functions)"
                } else {
                    let id = ScenarioValues.eniID(hashing: key)
                    eni = try addENI(ENI(id: id, name: "lambda \(name)", subnet: s, privateIP: .any, publicIP: nil,
                                         securityGroups: groups.sorted { model.securityGroups[$0].id < model.securityGroups[$1].id },
                                         owner: .lambda([index]), mac: ScenarioValues.mac(hashing: id)), node: item)
                    lambdaENIs[key] = eni
                    pendingAllocations.append((eni, "the Lambda ENI \(id)", item))
                }
                if let (address, node) = requested[s] {
                    if let fixedBy = lambdaENIAddressSource[eni] {
                        if model.enis[eni].privateIP != address {
                            throw r.error(at: node, "\(f.what) asks for \(address) on the shared ENI "
                                          + "\(model.enis[eni].id), which \(fixedBy) placed at \(model.enis[eni].privateIP)")
                        }
                    } else {
                        try claim(address, in: s, for: "the Lambda ENI \(model.enis[eni].id)", node: node,
                                  key: "private_ip")
                        model.enis[eni].privateIP = address
                        lambdaENIAddressSource[eni] = "Lambda function \(name)"
                        pendingAllocations.removeAll { $0.eni == eni }
                    }
                }
                enis[k] = eni
                if dualStack { requestIPv6(eni: eni, owner: "the Lambda ENI \(model.enis[eni].id)", node: item) }
            }
            var function = LambdaFunction(name: name, subnets: subnets, securityGroups: groups,
                                          timeout: Int64(timeout) * 1_000_000_000, enis: enis)
            function.ipv6AllowedForDualStack = dualStack
            model.lambdas.append(function)
        }
    }
}

fileprivate extension ENI.Owner {
    /// "a,b" — the names of the functions sharing a Lambda ENI, with `adding` (not yet in `lambdas`) last.
    func lambdaNames(_ lambdas: [LambdaFunction], adding: String) -> String {
        guard case .lambda(let owners) = self else { return adding }
        return (owners.compactMap { $0 < lambdas.count ? lambdas[$0].name : nil } + [adding]).joined(separator: ",")
    }
}
