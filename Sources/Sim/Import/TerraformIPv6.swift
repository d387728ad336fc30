import Packets

/// The IPv6 parts of a plan the AWS importer takes: VPC and subnet `ipv6_cidr_block` (when the plan knows it)
/// and egress-only internet gateways; IPv6 rules and routes are read with the IPv4 ones.
extension TerraformConverter {
    /// `ipv6_cidr_block` as the dump's Ipv6CidrBlockAssociationSet; "" is none. One known only after apply is
    /// invented, and listed so: a VPC's Amazon-provided /56 (`assign_generated_ipv6_cidr_block`) in the
    /// documentation prefix 2001:db8::/32 (RFC 3849) at the hash of its address; a subnet's whose configuration
    /// refers to its VPC's block (`cidrsubnet(aws_vpc.x.ipv6_cidr_block, 8, n)`: the plan does not hold `n`), the
    /// lowest /64 of that block no other subnet of the plan has. Any other is left out, said.
    mutating func addIPv6Block(_ r: Int, to j: inout [String: Any], vpc: String? = nil) {
        var block = w.string(r, "ipv6_cidr_block")
        if block == nil, w.isUnknown(r, [.key("ipv6_cidr_block")]) {
            if type(r) == "aws_vpc", w.bool(r, [.key("assign_generated_ipv6_cidr_block")]) == true {
                block = inventVPCIPv6Block(r)
            } else if type(r) == "aws_subnet", let vpc, let parent = vpcIPv6Block[vpc],
                      let (expr, _) = w.expression(r, [.key("ipv6_cidr_block")]),
                      TerraformWiring.references(expr).contains(where: { $0.hasPrefix("aws_vpc.") && $0.hasSuffix(".ipv6_cidr_block") }) {
                block = inventSubnetIPv6Block(r, in: parent)
            }
            if block == nil {
                warn(.ipv6, address(r), "its IPv6 CIDR block is known only after apply; left out")
            }
        }
        guard let c = block, !c.isEmpty else { return }
        if type(r) == "aws_vpc", let v = j["VpcId"] as? String, let parsed = try? IPv6CIDR(parsing: c) { vpcIPv6Block[v] = parsed }
        j["Ipv6CidrBlockAssociationSet"] = [["Ipv6CidrBlock": c, "Ipv6CidrBlockState": ["State": "associated"]]]
    }

    /// An Amazon-provided /56 for a VPC: 2001:db8:xxxx:xx00::/56 from the hash of its address, one no other VPC has.
    mutating func inventVPCIPv6Block(_ r: Int) -> String {
        let h = ScenarioValues.fnv1a(address(r) + ".ipv6_cidr_block")
        var k = h & 0xFF_FFFF
        var c: IPv6CIDR
        repeat {
            c = IPv6CIDR(containing: IPv6Address(high: 0x2001_0DB8_0000_0000 | (k << 8), low: 0), prefixLength: 56)
            k = (k + 1) & 0xFF_FFFF
        } while vpcIPv6Block.values.contains(c)
        invented.append(.init(what: address(r) + ".ipv6_cidr_block", value: c.description,
                              how: "from the resource address, in 2001:db8::/32 (RFC 3849): an Amazon-provided /56"))
        return c.description
    }

    /// The lowest /64 of `parent` that no subnet of the plan has (known, or invented before this one).
    mutating func inventSubnetIPv6Block(_ r: Int, in parent: IPv6CIDR) -> String? {
        // A VPC block longer than /64 (a typo: AWS takes /44–/60) holds no /64; the caller leaves the subnet's out.
        guard parent.prefixLength <= 64 else { return nil }
        if usedSubnetIPv6.isEmpty {
            usedSubnetIPv6 = Set(indices("aws_subnet").compactMap { w.string($0, "ipv6_cidr_block").flatMap { try? IPv6CIDR(parsing: $0) } })
            usedSubnetIPv6.insert(IPv6CIDR.anyIPv6)  // not empty from now on
        }
        let count = UInt64(1) << UInt64(min(64 - parent.prefixLength, 16))
        for n in 0..<count {
            let c = IPv6CIDR(containing: IPv6Address(high: parent.network.high | n, low: 0), prefixLength: 64)
            guard usedSubnetIPv6.insert(c).inserted else { continue }
            invented.append(.init(what: address(r) + ".ipv6_cidr_block", value: c.description,
                                  how: "the lowest free /64 of the VPC's IPv6 block (the plan does not hold cidrsubnet's netnum)"))
            return c.description
        }
        return nil
    }

    mutating func readEgressOnlyInternetGateways() throws {
        for r in indices("aws_egress_only_internet_gateway") {
            handled.insert(r)
            var j: [String: Any] = ["EgressOnlyInternetGatewayId": id(r), "Tags": Self.tags(nameTag(r))]
            if let v = try ref(r, "vpc_id", ["aws_vpc"]) { j["Attachments"] = [["VpcId": v, "State": "attached"]] }
            add("EgressOnlyInternetGateways", j, r)
        }
    }
}

/// IPv6-only subnets, instances' IPv6 addresses and the addresses the scenario allocates for a plan.
extension TerraformConverter {
    /// An aws_subnet with `ipv6_native = true`: no IPv4 block (describe-subnets' Ipv6Native).
    mutating func ipv6OnlySubnet(_ r: Int, _ sid: String) throws -> [String: Any] {
        var j: [String: Any] = ["SubnetId": sid, "Ipv6Native": true, "Tags": Self.tags(nameTag(r))]
        let vpc = try ref(r, "vpc_id", ["aws_vpc"])
        if let vpc { j["VpcId"] = vpc }
        if let az = w.string(r, "availability_zone") { j["AvailabilityZone"] = az }
        if let b = w.bool(r, [.key("assign_ipv6_address_on_creation")]) { j["AssignIpv6AddressOnCreation"] = b }
        if w.bool(r, [.key("enable_dns64")]) == true { j["EnableDns64"] = true }
        addIPv6Block(r, to: &j, vpc: vpc)
        return j
    }

    /// aws_instance `ipv6_addresses` (known: the first is its address, as describe-instances' Ipv6Address) or
    /// `ipv6_address_count` (EC2 chooses them: the scenario allocates one, listed as invented; 0: none, though its
    /// subnet assigns them). The model gives an ENI one IPv6 address.
    mutating func readInstanceIPv6(_ r: Int, _ iid: String, into j: inout [String: Any]) {
        instanceAddress[iid] = address(r)
        let known = ((w.value(r, [.key("ipv6_addresses")]) as? [Any]) ?? []).compactMap { $0 as? String }
        let count = w.int(r, [.key("ipv6_address_count")])
        if let first = known.first {
            j["Ipv6Address"] = first
            if known.count > 1 {
                warn(.notModelled, address(r), "IPv6 addresses \(known.dropFirst().joined(separator: ", ")) left out (the "
                     + "model gives an ENI one IPv6 address; \(first) is kept)")
            }
        } else if let count {
            ipv6Requests[iid] = count > 0 ? "auto" : "none"
            if count > 1 {
                warn(.notModelled, address(r), "ipv6_address_count \(count): the model gives an ENI one IPv6 address")
            }
        }
    }

    /// The `ipv6_address_count` requests, on instances whose subnet has an IPv6 block (`auto` needs one; `none`
    /// matters only where the subnet assigns addresses).
    func applyIPv6Requests(to converter: inout AWSConverter) {
        for k in converter.plan.instances.indices where converter.plan.instances[k].ipv6 == nil {
            let i = converter.plan.instances[k]
            guard let req = ipv6Requests[i.id], let s = converter.plan.subnets.first(where: { $0.id == i.subnet }) else { continue }
            guard s.ipv6 != nil else {
                if req == "auto" {
                    converter.warn(.ipv6, instanceAddress[i.id] ?? i.id, "asks for an IPv6 address, but subnet \(s.id) has "
                                   + "no IPv6 block in the import; left out")
                }
                continue
            }
            if req == "auto" || (s.assignIPv6 && !s.ipv6Only) { converter.plan.instances[k].ipv6 = req }
        }
    }

    /// The IPv6 addresses the loaded scenario allocated for what the plan leaves to AWS: instances' (asked for, or
    /// given by a subnet that assigns them) and dual-stack Lambda functions' ENIs.
    func inventedIPv6(_ m: VPCModel, _ p: ImportPlan) -> [InventedValue] {
        let how = "allocated as the scenario allocates IPv6 addresses (assumption ipv6_address_allocation)"
        var out: [InventedValue] = []
        for i in p.instances where i.ipv6 == nil || i.ipv6 == "auto" {
            guard let inst = m.instances.first(where: { $0.id == i.id }), let a = m.enis[inst.eni].ipv6Address else { continue }
            out.append(.init(what: (instanceAddress[i.id] ?? i.id) + ".ipv6_addresses[0]", value: a.description, how: how))
        }
        for f in m.lambdas where f.ipv6AllowedForDualStack {
            guard let addr = lambdaAddress[f.name ?? ""] else { continue }
            for (k, e) in f.enis.enumerated() {
                guard let a = m.enis[e].ipv6Address else { continue }
                out.append(.init(what: "\(addr) ENI in \(m.subnets[f.subnets[k]].id) IPv6", value: a.description, how: how))
            }
        }
        return out
    }
}

extension TerraformConverter {
    /// The default security group's egress as AWS creates it: all IPv4, and all IPv6 in a VPC with an IPv6 block
    /// (VPC-UG default-security-group, https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html:
    /// the `::/0` rule "is added only if your VPC has an associated IPv6 CIDR block").
    func defaultEgress(_ vpc: String) -> [String: Any] {
        var p: [String: Any] = ["IpProtocol": "-1", "IpRanges": [["CidrIp": "0.0.0.0/0"]]]
        if ipv6VPCs.contains(vpc) { p["Ipv6Ranges"] = [["CidrIpv6": "::/0"]] }
        return p
    }

    /// The default network ACL's rule 101 (all IPv6 traffic, `::/0`, both ways) that AWS adds to a VPC with an IPv6
    /// block (VPC-UG default-network-acl, https://docs.aws.amazon.com/vpc/latest/userguide/default-network-acl.html).
    func defaultNACLIPv6Entries(_ vpc: String) -> [[String: Any]] {
        guard ipv6VPCs.contains(vpc) else { return [] }
        return [false, true].map { ["RuleNumber": 101, "Egress": $0, "Protocol": "-1", "RuleAction": "allow", "Ipv6CidrBlock": "::/0"] }
    }
}
