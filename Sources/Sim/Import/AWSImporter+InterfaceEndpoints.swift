import Packets

/// Interface VPC endpoints from describe-vpc-endpoints (VpcEndpointType Interface) and their ENIs from
/// describe-network-interfaces (InterfaceType vpc_endpoint).
extension AWSConverter {
    /// Each available interface endpoint of an imported VPC with at least one imported subnet and security group:
    /// its subnets, its ENIs' ids and private IPs (in the order of `SubnetIds`, matched by each ENI's `SubnetId`),
    /// its groups, `PrivateDnsEnabled`, and the private DNS name from `DnsEntries` when it is not the service's
    /// default. After Lambda functions: the scenario loader claims these addresses after theirs.
    mutating func readInterfaceEndpoints() {
        var enis: [String: (subnet: String?, ip: String?)] = [:]
        for item in dump["NetworkInterfaces"] {
            guard let id = item.json.awsStr("NetworkInterfaceId") else { continue }
            enis[id] = (item.json.awsStr("SubnetId"), item.json.awsStr("PrivateIpAddress"))
        }
        for item in dump["VpcEndpoints"] {
            let j = item.json
            guard let id = j.awsStr("VpcEndpointId"), j.awsStr("VpcEndpointType") == "Interface",
                  let vpc = j.awsStr("VpcId"), vpcIndex[vpc] != nil, j.awsStr("State").map({ $0 == "available" }) ?? true,
                  let serviceName = j.awsStr("ServiceName"), serviceName.hasPrefix("com.amazonaws."),
                  serviceName.split(separator: ".", omittingEmptySubsequences: false).count >= 4,
                  Self.isDNSName(serviceName)
            else { continue }
            guard !plan.endpoints.contains(where: { $0.id == id }) else {
                warn(.duplicate, id, "a second VPC endpoint with this id; left out")
                continue
            }
            var subnets: [String] = []
            for s in j.awsStrs("SubnetIds") {
                guard let k = subnetIndex[s], plan.subnets[k].vpc == vpc else {
                    warn(.missingReference, id, "subnet \(s) is not in the dump; its endpoint network interface is left out")
                    continue
                }
                if plan.subnets[k].ipv6Only {
                    warn(.repaired, id, "subnet \(s) is IPv6-only; its endpoint network interface is left out (the model's "
                         + "endpoint ENIs have IPv4 addresses)")
                    continue
                }
                // One subnet per AZ (the loader refuses a second; a subnet without one is in the loader's default).
                let az = plan.subnets[k].az ?? "us-east-1a"
                if subnets.contains(where: { (plan.subnets[subnetIndex[$0]!].az ?? "us-east-1a") == az }) { continue }
                subnets.append(s)
            }
            let groups = j.awsObjs("Groups").compactMap { $0.awsStr("GroupId") }
                .filter { groupIndex[$0].map { plan.groups[$0].vpc == vpc } ?? false }
            guard !subnets.isEmpty, !groups.isEmpty else {
                warn(.missingReference, id, "interface VPC endpoint for \(serviceName) has no subnet or security group in "
                     + "the dump; not modelled")
                continue
            }
            // Each subnet's ENI: the endpoint's NetworkInterfaceIds, placed by their SubnetId.
            var eniIDs: [String] = []
            var ips: [IPv4Address?] = []
            for s in subnets {
                let eni = j.awsStrs("NetworkInterfaceIds").first {
                    enis[$0]?.subnet == s && $0.hasPrefix("eni-") && $0.count > 4 && Self.isDNSName($0)
                        && !coveredENIs.contains($0)
                }
                eniIDs.append(eni ?? "")
                if let eni { coveredENIs.insert(eni) }
                ips.append(eni.flatMap { claimPrivate(enis[$0]?.ip, subnet: s, owner: id) })
            }
            if eniIDs.contains("") {
                warn(.repaired, id, "its network interfaces are not all in the dump; the scenario names and addresses "
                     + "them")
                eniIDs = []
                ips = ips.map { _ in nil }
            }
            let parts = serviceName.split(separator: ".", maxSplits: 3).map(String.init)
            let defaultName = "\(parts[3]).\(parts[2]).amazonaws.com"
            let privateDNS = j.awsBool("PrivateDnsEnabled") ?? false
            // DnsEntries holds the endpoint's own names (…vpce.amazonaws.com) and, with private DNS, the service's.
            let dnsName = privateDNS ? j.awsObjs("DnsEntries").compactMap { $0.awsStr("DnsName") }
                .first { !$0.hasSuffix(".vpce.amazonaws.com") && !$0.hasPrefix("*") && $0 != defaultName && Self.isDNSName($0) } : nil
            let name = j.awsObjs("Tags").first { $0.awsStr("Key") == "Name" }?.awsStr("Value")
            // The short service name with its DNS name spelled out: the loader then needs no Region from the
            // subnets' Availability Zones (a dump's may name none it can read).
            var e = ImportPlan.Endpoint(id: id, name: name, vpc: vpc, service: parts[3], routeTables: [],
                                        prefixList: "", cidrs: [])
            e.interface = .init(subnets: subnets, groups: groups, privateDNS: privateDNS, dnsName: dnsName ?? defaultName,
                                eniIDs: eniIDs, privateIPs: ips)
            // IpAddressType (EC2 API VpcEndpoint): dualstack gives the ENIs IPv6 addresses, which the loader allocates
            // (the dump's are not carried over: an endpoint takes no IPv6 address in the scenario); ipv6 needs
            // IPv6-only subnets, whose endpoint interfaces are left out above.
            switch j.awsStr("IpAddressType") {
            case "dualstack":
                if let s = subnets.first(where: { plan.subnets[subnetIndex[$0]!].ipv6 == nil }) {
                    warn(.repaired, id, "IpAddressType dualstack but subnet \(s) has no imported IPv6 block; imported IPv4 only")
                } else {
                    e.interface?.dualStack = true
                    warn(.approximated, id, "dual-stack: its network interfaces' IPv6 addresses are allocated by the scenario "
                         + "(assumption ipv6_address_allocation), not taken from the dump")
                }
            case "ipv6":
                warn(.ipv6, id, "IpAddressType ipv6 is not modeled; imported IPv4 only")
            default:
                break
            }
            plan.endpoints.append(e)
            counts.interfaceEndpoints += 1
        }
    }

    /// Letters, digits, dots and hyphens only, not empty, no empty label.
    static func isDNSName(_ s: String) -> Bool {
        !s.isEmpty && !s.hasPrefix(".") && !s.hasSuffix(".") && !s.contains("..")
            && s.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" }
    }
}
