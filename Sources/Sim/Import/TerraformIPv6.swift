import Packets

/// The IPv6 parts of a plan the AWS importer takes: VPC and subnet `ipv6_cidr_block` (when the plan knows it)
/// and egress-only internet gateways; IPv6 rules and routes are read with the IPv4 ones.
extension TerraformConverter {
    /// `ipv6_cidr_block` as the dump's Ipv6CidrBlockAssociationSet; "" (none) and an Amazon-provided block known
    /// only after apply are left out.
    mutating func addIPv6Block(_ r: Int, to j: inout [String: Any]) {
        guard let c = w.string(r, "ipv6_cidr_block"), !c.isEmpty else {
            if w.isUnknown(r, [.key("ipv6_cidr_block")]) {
                warn(.ipv6, address(r), "its IPv6 CIDR block is known only after apply; left out")
            }
            return
        }
        j["Ipv6CidrBlockAssociationSet"] = [["Ipv6CidrBlock": c, "Ipv6CidrBlockState": ["State": "associated"]]]
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
