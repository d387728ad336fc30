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
                  serviceName.split(separator: ".").count >= 4
            else { continue }
            var subnets: [String] = []
            for s in j.awsStrs("SubnetIds") {
                guard let k = subnetIndex[s], plan.subnets[k].vpc == vpc else {
                    warn(.missingReference, id, "subnet \(s) is not in the dump; its endpoint network interface is left out")
                    continue
                }
                // One subnet per AZ (the loader refuses a second).
                if let az = plan.subnets[k].az, subnets.contains(where: { plan.subnets[subnetIndex[$0]!].az == az }) { continue }
                subnets.append(s)
            }
            let groups = j.awsObjs("Groups").compactMap { $0.awsStr("GroupId") }.filter { groupIndex[$0] != nil }
            guard !subnets.isEmpty, !groups.isEmpty else {
                warn(.missingReference, id, "interface VPC endpoint for \(serviceName) has no subnet or security group in "
                     + "the dump; not modelled")
                continue
            }
            // Each subnet's ENI: the endpoint's NetworkInterfaceIds, placed by their SubnetId.
            var eniIDs: [String] = []
            var ips: [IPv4Address?] = []
            for s in subnets {
                let eni = j.awsStrs("NetworkInterfaceIds").first { enis[$0]?.subnet == s }
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
                .first { !$0.hasSuffix(".vpce.amazonaws.com") && !$0.hasPrefix("*") && $0 != defaultName } : nil
            let name = j.awsObjs("Tags").first { $0.awsStr("Key") == "Name" }?.awsStr("Value")
            var e = ImportPlan.Endpoint(id: id, name: name, vpc: vpc, service: serviceName, routeTables: [],
                                        prefixList: "", cidrs: [])
            e.interface = .init(subnets: subnets, groups: groups, privateDNS: privateDNS, dnsName: dnsName,
                                eniIDs: eniIDs, privateIPs: ips)
            plan.endpoints.append(e)
            counts.interfaceEndpoints += 1
        }
    }
}
