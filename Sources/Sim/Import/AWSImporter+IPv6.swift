import Packets

extension ImportPlan {
    /// An egress-only internet gateway attached to a VPC of the dump.
    struct EIGW { var id: String; var name: String?; var vpc: String }
    /// A route to an IPv6 destination (AWSConverter.addIPv6Route).
    struct Route6 { var destination: IPv6CIDR; var target: String; var note: String? = nil }
}

/// The IPv6 half of a dual-stack dump: VPC and subnet IPv6 blocks (dual-stack and IPv6-only subnets), egress-only
/// internet gateways (describe-egress-only-internet-gateways), IPv6 routes, prefix lists of IPv6 entries, the
/// instances' IPv6 addresses and the Lambda functions' dual stack; the rules' Ipv6Ranges and Ipv6CidrBlock entries
/// are read where the IPv4 ones are.
extension AWSConverter {
    /// An IPv6 block as AWS prints it; host bits set are cleared (with a warning), anything else is nil.
    mutating func ipv6CIDR(_ text: String?, _ id: String, _ what: String) -> IPv6CIDR? {
        guard let text else { return nil }
        do {
            return try IPv6CIDR(parsing: text)
        } catch IPv6CIDR.ParseError.hostBitsSet(_, let network) {
            let prefix = Int(text.split(separator: "/").last ?? "") ?? 128
            let c = IPv6CIDR(containing: network, prefixLength: prefix)
            warn(.repaired, id, "\(what) \(text) has host bits set; imported as \(c)")
            return c
        } catch {
            warn(.repaired, id, "\(what) '\(text)' is not an IPv6 CIDR; left out")
            return nil
        }
    }

    /// A VPC's associated IPv6 blocks (Ipv6CidrBlockAssociationSet), as the loader takes them (/44–/60, at most
    /// five, not overlapping).
    mutating func vpcIPv6Blocks(_ j: [String: Any], _ id: String) -> [IPv6CIDR] {
        var blocks: [IPv6CIDR] = []
        for a in j.awsObjs("Ipv6CidrBlockAssociationSet") {
            let state = a.awsObj("Ipv6CidrBlockState")?.awsStr("State") ?? "associated"
            guard let t = a.awsStr("Ipv6CidrBlock") else { continue }
            guard state == "associated" || state == "associating" else {
                warn(.inactive, id, "IPv6 CIDR block \(t) is \(state); left out"); continue
            }
            guard let c = ipv6CIDR(t, id, "IPv6 CIDR block") else { continue }
            guard (44...60).contains(c.prefixLength), blocks.count < 5, !blocks.contains(where: { $0.overlaps(c) }) else {
                warn(.repaired, id, "IPv6 CIDR block \(c) is not /44-/60, overlaps another or is a sixth; left out"); continue
            }
            blocks.append(c)
        }
        return blocks
    }

    /// A dual-stack subnet's /64 (Ipv6CidrBlockAssociationSet), when it lies in an imported block of its VPC.
    mutating func subnetIPv6Block(_ j: [String: Any], _ id: String, vpc: ImportPlan.VPC) -> IPv6CIDR? {
        for a in j.awsObjs("Ipv6CidrBlockAssociationSet") {
            let state = a.awsObj("Ipv6CidrBlockState")?.awsStr("State") ?? "associated"
            guard let t = a.awsStr("Ipv6CidrBlock"), state == "associated" || state == "associating" else { continue }
            guard let c = ipv6CIDR(t, id, "subnet IPv6 CIDR") else { continue }
            guard c.prefixLength == 64, vpc.ipv6Blocks.contains(where: { $0.contains(c) }),
                  !plan.subnets.contains(where: { $0.ipv6 == c }) else {
                warn(.repaired, id, "subnet IPv6 block \(c) is not a /64 of \(vpc.id)'s imported IPv6 blocks or is "
                     + "another subnet's; left out")
                continue
            }
            return c
        }
        return nil
    }

    mutating func readEgressOnlyInternetGateways() {
        var vpcHas: [String: String] = [:]
        for (id, item) in unique("EgressOnlyInternetGateways", idKey: "EgressOnlyInternetGatewayId") {
            let attached = item.json.awsObjs("Attachments").first {
                let state = $0.awsStr("State") ?? "attached"
                return state == "attached" || state == "available"
            }
            guard let v = attached?.awsStr("VpcId"), vpcIndex[v] != nil else {
                warn(.missingReference, id, "egress-only internet gateway not attached to a VPC of the dump; left out")
                continue
            }
            guard vpcHas[v] == nil else {
                warn(.repaired, id, "\(v) already has egress-only internet gateway \(vpcHas[v]!); left out"); continue
            }
            vpcHas[v] = id
            allIDs.insert(id)
            plan.eigws.append(.init(id: id, name: item.json.awsNameTag, vpc: v))
        }
    }

    /// A route to an IPv6 destination (DestinationIpv6CidrBlock, or an entry of a prefix list of IPv6 entries):
    /// to `local`, the VPC's egress-only internet gateway, or any target an IPv4 route takes (`resolveTarget`: the
    /// internet gateway, a NAT gateway for the NAT64 prefix, a transit gateway, a peering connection, an instance or
    /// ENI, a gateway endpoint, a virtual private gateway). A target the model cannot hold is warned about and
    /// imported as blackhole or as a not-modeled target, as for IPv4.
    mutating func addIPv6Route(_ r: [String: Any], _ dest: IPv6CIDR, origin: String?, rawTarget: String,
                               to table: inout ImportPlan.RouteTable) {
        let id = table.id
        let vpc = plan.vpcs[vpcIndex[table.vpc]!]
        let inVPC = vpc.ipv6Blocks.contains { $0.contains(dest) }
        if rawTarget == "local" {
            // The loader adds the local route for each of the VPC's IPv6 blocks itself.
            if !vpc.ipv6Blocks.contains(dest) { warn(.repaired, id, "local route \(dest) is not an imported IPv6 block; left out") }
            return
        }
        if let existing = table.routes6.first(where: { $0.destination == dest }) {
            warn(.duplicate, id, "second route to \(dest) (→ \(rawTarget)\(origin.map { ", " + $0 } ?? "")) left out; the "
                 + "route → \(existing.target) is kept")
            return
        }
        var target: String?, note: String?
        if r.awsStr("State") == "blackhole" {
            (target, note) = ("blackhole", "was \(rawTarget) (blackhole in the dump)")
        } else if rawTarget.hasPrefix("eigw-") {
            if plan.eigws.contains(where: { $0.id == rawTarget && $0.vpc == table.vpc }), !inVPC {
                target = rawTarget
            } else {
                warn(.missingReference, id, "route \(dest) → \(rawTarget): "
                     + (inVPC ? "lies inside \(vpc.id)" : "an egress-only internet gateway not attached to \(vpc.id) in the import")
                     + "; imported as blackhole")
                (target, note) = ("blackhole", "was \(rawTarget)")
            }
        } else {
            (target, note) = resolveTarget(r, rawTarget: rawTarget, destination: dest.description, inVPC: inVPC,
                                           table: table, vpc: vpc)
            if let t = target, natIndex[t] != nil, !IPv6CIDR.nat64.contains(dest) {
                // VPC-UG nat-gateway-nat64-dns64: a NAT gateway translates IPv6 only to the NAT64 prefix.
                warn(.repaired, id, "route \(dest) → NAT gateway \(t): a NAT gateway takes IPv6 routes only within the "
                     + "NAT64 prefix \(IPv6CIDR.nat64); imported as blackhole")
                (target, note) = ("blackhole", "was \(t): not the NAT64 prefix")
            }
        }
        guard let target else { return }
        if let origin { note = note.map { origin + "; " + $0 } ?? origin }
        table.routes6.append(.init(destination: dest, target: target, note: note))
    }

    /// A subnet with Ipv6Native: its /64 and no IPv4 block. AWS requires AssignIpv6AddressOnCreation there (EC2 API
    /// ModifySubnetAttribute), so it is imported on.
    mutating func readIPv6OnlySubnet(_ j: [String: Any], _ id: String, vpc: ImportPlan.VPC) {
        guard let c = subnetIPv6Block(j, id, vpc: vpc) else {
            warn(.repaired, id, "IPv6-only subnet without a usable IPv6 block (a /64 of \(vpc.id)'s imported IPv6 "
                 + "blocks); left out")
            return
        }
        if j.awsBool("AssignIpv6AddressOnCreation") == false {
            warn(.repaired, id, "IPv6-only subnet with AssignIpv6AddressOnCreation off; imported on (AWS requires it)")
        }
        subnetIndex[id] = plan.subnets.count
        allIDs.insert(id)
        plan.subnets.append(.init(id: id, name: j.awsNameTag, vpc: vpc.id, cidr: Subnet.ipv6OnlyPlaceholder,
                                  az: j.awsStr("AvailabilityZone"), ipv6: c, ipv6Only: true, assignIPv6: true,
                                  dns64: j.awsBool("EnableDns64") == true))
    }

    /// A prefix list with IPv6 entries (AddressFamily IPv6): its CIDRs. A list holds one address family (EC2 API
    /// CreateManagedPrefixList AddressFamily): an IPv4 entry in it is left out.
    mutating func readIPv6PrefixList(_ id: String, _ texts: [String]) {
        var out: [IPv6CIDR] = []
        for t in texts {
            guard t.contains(":") else {
                warn(.repaired, id, "IPv4 entry \(t) of a prefix list of IPv6 entries left out (a prefix list has one "
                     + "address family)")
                continue
            }
            if let c = ipv6CIDR(t, id, "entry"), !out.contains(c) { out.append(c) }
        }
        if !out.isEmpty { prefixLists6[id] = out }
    }

    /// An IPv6 address the loader will accept for an ENI in `subnet`: in its /64, not reserved, not taken. Else nil
    /// and a warning.
    mutating func claimIPv6(_ text: String, subnet: String, owner: String) -> IPv6Address? {
        let s = plan.subnets[subnetIndex[subnet]!]
        let then = s.ipv6 == nil ? "left out" : "the scenario allocates one"
        guard let c = s.ipv6 else {
            warn(.repaired, owner, "IPv6 address \(text) in \(subnet), which has no imported IPv6 block; left out")
            return nil
        }
        guard let a = IPv6Address(text) else {
            warn(.repaired, owner, "IPv6 address '\(text)' is not an IPv6 address; \(then)")
            return nil
        }
        guard c.contains(a) else {
            warn(.repaired, owner, "IPv6 address \(a) is outside \(subnet) (\(c)); \(then)")
            return nil
        }
        // VPC-UG subnet-sizing: AWS reserves the first four and the last address of a subnet's IPv6 block.
        guard a.low >= 4, a != c.last else {
            warn(.repaired, owner, "IPv6 address \(a) is reserved by AWS in \(subnet); \(then)")
            return nil
        }
        if let holder = usedIPv6[a] {
            warn(.repaired, owner, "IPv6 address \(a) is already used by \(holder); \(then)")
            return nil
        }
        usedIPv6[a] = owner
        return a
    }

    /// An instance's `ipv6_address`: its primary ENI's IPv6 address (Ipv6Addresses of describe-instances' entry
    /// for it or of describe-network-interfaces, the one with IsPrimaryIpv6 first; else describe-instances'
    /// Ipv6Address), as `interfaceIPv6` keeps it.
    mutating func instanceIPv6(_ j: [String: Any], primary: [String: Any]?, instance id: String, subnet: String) -> String? {
        let eniID = primary?.awsStr("NetworkInterfaceId")
        var entries = primary?.awsObjs("Ipv6Addresses") ?? []
        if entries.isEmpty, let eniID {
            entries = dump["NetworkInterfaces"].first { $0.json.awsStr("NetworkInterfaceId") == eniID }?.json.awsObjs("Ipv6Addresses") ?? []
        }
        return interfaceIPv6(entries, fallback: j.awsStr("Ipv6Address"), about: id, eni: eniID ?? id,
                             owner: "instance \(id)", subnet: subnet)
    }

    /// An ENI's `ipv6_address` from its Ipv6Addresses `entries` (the one with IsPrimaryIpv6 first; `fallback` when
    /// there are none). The model gives an ENI one IPv6 address: the others are warned about (on `eni`). An ENI
    /// without one in a subnet that assigns them on creation gets `none` (it was made before the subnet did, or
    /// asked for none; warned about on `about`); one whose address the loader would refuse gets `auto`.
    mutating func interfaceIPv6(_ entries: [[String: Any]], fallback: String?, about: String, eni: String, owner: String,
                                subnet: String) -> String? {
        var texts = entries.filter { $0.awsBool("IsPrimaryIpv6") == true }.compactMap { $0.awsStr("Ipv6Address") }
        texts += entries.filter { $0.awsBool("IsPrimaryIpv6") != true }.compactMap { $0.awsStr("Ipv6Address") }
        if texts.isEmpty, let a = fallback { texts = [a] }
        let s = plan.subnets[subnetIndex[subnet]!]
        guard let first = texts.first else {
            guard s.assignIPv6, !s.ipv6Only, !addressesAssignedAtApply else { return nil }
            warn(.approximated, about, "no IPv6 address, though \(subnet) assigns them on creation; imported with "
                 + "`ipv6_address: none`")
            return "none"
        }
        if texts.count > 1 {
            warn(.notModelled, eni, "IPv6 addresses \(texts.dropFirst().joined(separator: ", ")) of \(about) left out (the "
                 + "model gives an ENI one IPv6 address; \(first) is kept)")
        }
        if let a = claimIPv6(first, subnet: subnet, owner: owner) { return a.description }
        return s.ipv6 == nil ? nil : "auto"
    }

    /// VpcConfig.Ipv6AllowedForDualStack, kept when every subnet the function keeps has an IPv6 block (Lambda-DG
    /// configuration-vpc: outbound IPv6 needs dual-stack subnets).
    mutating func lambdaDualStack(_ config: [String: Any], name: String, subnets: [String]) -> Bool {
        guard config.awsBool("Ipv6AllowedForDualStack") == true else { return false }
        if let s = subnets.first(where: { plan.subnets[subnetIndex[$0]!].ipv6 == nil }) {
            warn(.repaired, name, "allows IPv6 for dual stack, but its subnet \(s) has no imported IPv6 block; imported "
                 + "IPv4 only")
            return false
        }
        return true
    }
}
