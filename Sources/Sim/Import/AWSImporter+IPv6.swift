import Packets

extension ImportPlan {
    /// An egress-only internet gateway attached to a VPC of the dump.
    struct EIGW { var id: String; var name: String?; var vpc: String }
    /// A route to an IPv6 destination: to `local`, the VPC's internet gateway or its egress-only internet gateway.
    struct Route6 { var destination: IPv6CIDR; var target: String }
}

/// The IPv6 half of a dual-stack dump: VPC and subnet IPv6 blocks, egress-only internet gateways
/// (describe-egress-only-internet-gateways) and IPv6 routes; the rules' Ipv6Ranges and Ipv6CidrBlock entries are
/// read where the IPv4 ones are.
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

    /// A route to an IPv6 destination (DestinationIpv6CidrBlock): kept when it goes to `local`, the VPC's internet
    /// gateway or its egress-only internet gateway (EgressOnlyInternetGatewayId); left out with a warning otherwise.
    mutating func addIPv6Route(_ r: [String: Any], _ text: String, rawTarget: String, to table: inout ImportPlan.RouteTable) {
        let id = table.id
        guard let dest = ipv6CIDR(text, id, "route destination") else { return }
        let vpc = plan.vpcs[vpcIndex[table.vpc]!]
        let inVPC = vpc.ipv6Blocks.first { $0.contains(dest) }
        if rawTarget == "local" {
            // The loader adds the local route for each of the VPC's IPv6 blocks itself.
            if !vpc.ipv6Blocks.contains(dest) { warn(.repaired, id, "local route \(dest) is not an imported IPv6 block; left out") }
            return
        }
        guard r.awsStr("State") != "blackhole" else {
            table.routes6.append(.init(destination: dest, target: "blackhole"))
            return
        }
        let target: String?
        if rawTarget.hasPrefix("eigw-") {
            target = plan.eigws.contains { $0.id == rawTarget && $0.vpc == table.vpc } ? rawTarget : nil
        } else if rawTarget.hasPrefix("igw-"), let k = igwIndex[rawTarget], plan.igws[k].vpc == table.vpc {
            target = rawTarget
        } else {
            target = nil
        }
        guard let target, inVPC == nil, !table.routes6.contains(where: { $0.destination == dest }) else {
            warn(.ipv6, id, "route \(dest) → \(rawTarget) left out (IPv6 routes are imported to local, the VPC's "
                 + "internet gateway or its egress-only internet gateway)")
            return
        }
        table.routes6.append(.init(destination: dest, target: target))
    }
}
