import Packets

/// An instance's other network interfaces (device index 1 and up), from describe-instances' `NetworkInterfaces`
/// and describe-network-interfaces' attached ENIs (`Attachment.InstanceId`, `Attachment.DeviceIndex`): imported as
/// the instance's `network_interfaces:`, in device-index order.
extension AWSConverter {
    mutating func readAttachedInterfaces(of id: String, _ j: [String: Any], subnet: String) -> [ImportPlan.Interface] {
        var found: [(device: Int, json: [String: Any])] = []
        // The primary (device 0) is the instance's own ENI, whichever list names it.
        var ids = Set(j.awsObjs("NetworkInterfaces").filter { ($0.awsObj("Attachment")?.awsInt("DeviceIndex") ?? 0) == 0 }
            .compactMap { $0.awsStr("NetworkInterfaceId") })
        for n in j.awsObjs("NetworkInterfaces") + (attachedENIs[id] ?? []) {
            guard let eni = n.awsStr("NetworkInterfaceId"), let device = n.awsObj("Attachment")?.awsInt("DeviceIndex"),
                  device > 0, ids.insert(eni).inserted else { continue }
            found.append((device, n))
        }
        found.sort { $0.device < $1.device }
        let vpc = vpcOfSubnet(subnet)
        let zone = subnetIndex[subnet].flatMap { plan.subnets[$0].az }
        var out: [ImportPlan.Interface] = []
        for (device, n) in found {
            let eni = n.awsStr("NetworkInterfaceId")!
            guard !coveredENIs.contains(eni) else {
                warn(.duplicate, eni, "network interface is attached to \(id) and to another imported resource; left off \(id)")
                continue
            }
            guard let s = n.awsStr("SubnetId"), let si = subnetIndex[s] else {
                warn(.missingReference, eni, "network interface #\(device) of \(id) is in \(n.awsStr("SubnetId") ?? "no subnet"), "
                     + "which is not in the dump; left out")
                continue
            }
            guard vpcOfSubnet(s) == vpc else {
                warn(.notModelled, eni, "network interface #\(device) of \(id) is in another VPC (a multi-VPC attachment); "
                     + "left out")
                continue
            }
            if let zone, let z = plan.subnets[si].az, z != zone {
                warn(.repaired, eni, "network interface #\(device) of \(id) is in \(z), the instance in \(zone); left out")
                continue
            }
            var groups: [String] = []
            for g in n.awsObjs("Groups") {
                guard let gid = g.awsStr("GroupId") else { continue }
                guard let gi = groupIndex[gid], plan.groups[gi].vpc == vpc else {
                    warn(.missingReference, eni, "security group \(gid) is not in the dump (or in another VPC); left off "
                         + "the network interface")
                    continue
                }
                if !groups.contains(gid) { groups.append(gid) }
            }
            if groups.isEmpty {
                guard let d = plan.groups.first(where: { $0.vpc == vpc && ($0.name == "default" || $0.description == "default VPC security group") }) else {
                    warn(.missingReference, eni, "network interface #\(device) of \(id) has no security group in the dump; left out")
                    continue
                }
                groups = [d.id]
            }
            let owner = "network interface \(eni) of instance \(id)"
            let privateIP = claimPrivate(n.awsStr("PrivateIpAddress"), subnet: s, owner: owner)
            let publicIP = claimPublic(n.awsObj("Association")?.awsStr("PublicIp") ?? elasticIP(eni: eni, allocation: nil),
                                       owner: owner)
            let secondaries = n.awsObjs("PrivateIpAddresses").filter { $0.awsBool("Primary") == false }
            if !secondaries.isEmpty {
                warn(.notModelled, eni, "secondary private IPs "
                     + secondaries.compactMap { $0.awsStr("PrivateIpAddress") }.joined(separator: ", ") + " of \(id) are not modelled")
            }
            // Its IPv6 address, as an instance's primary interface keeps one.
            let ipv6 = interfaceIPv6(n.awsObjs("Ipv6Addresses"), fallback: nil, about: eni, eni: eni, owner: owner, subnet: s)
            coveredENIs.insert(eni)
            out.append(ImportPlan.Interface(id: eni, subnet: s, privateIP: privateIP, publicIP: publicIP, groups: groups,
                                            sourceDestCheck: n.awsBool("SourceDestCheck") ?? true, ipv6: ipv6))
        }
        return out
    }
}
