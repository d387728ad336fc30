import Packets
import Yams

/// Interface VPC endpoints (`vpc_endpoints:` with `type: interface`) and the DNS names flows reach them by.
extension ScenarioBuilder {
    /// Each interface endpoint's subnets (one ENI in each, at most one subnet per AZ), the security groups of those
    /// ENIs, private DNS and the service's DNS name; after Lambda functions, so the endpoint ENIs take their
    /// addresses after every other ENI's (`allocatePendingAddresses`).
    mutating func readInterfaceEndpoints() throws {
        for (e, f) in pendingInterfaceEndpoints {
            let ep = model.vpcEndpoints[e]
            let subnetsNode = try f.require("subnets")
            let subnetItems = try r.list(subnetsNode, key: "subnets")
            guard !subnetItems.isEmpty else { throw r.error(at: subnetsNode, "\(f.what) needs at least one subnet") }
            let subnets = try resolveList(subnetsNode, .subnet, key: "subnets")
            var zones: [String] = []
            for (s, node) in zip(subnets, subnetItems) {
                let subnet = model.subnets[s]
                guard subnet.vpc == ep.vpc else {
                    throw r.error(at: node, "subnet \(subnet.id) is in \(model.vpcs[subnet.vpc].id), but \(ep.id) is in "
                                  + "\(model.vpcs[ep.vpc].id)")
                }
                // PrivateLink guide create-interface-endpoint: one subnet per Availability Zone.
                guard !zones.contains(subnet.availabilityZone) else {
                    throw r.error(at: node, "\(ep.id) already has a subnet in \(subnet.availabilityZone) (an interface "
                                  + "endpoint takes one subnet per Availability Zone)")
                }
                zones.append(subnet.availabilityZone)
            }
            let groups = try readGroups(f, subnetVPC: ep.vpc, who: "interface endpoint \(ep.id)")
            let dualStack = try readIPAddressType(f, subnets: subnets, items: subnetItems)
            // EC2 API CreateVpcEndpoint PrivateDnsEnabled: default true for an AWS service's interface endpoint.
            let privateDNS = try f.bool("private_dns") ?? true
            // "secretsmanager" or "com.amazonaws.eu-west-1.secretsmanager"; the Region is the VPC's (its subnets'
            // Availability Zone less the zone letter).
            let serviceNode = f["service"]!
            let region = String(subnets.first.map { model.subnets[$0].availabilityZone }?
                .reversed().drop(while: { $0.isLetter }).reversed() ?? [])
            var short = ep.service
            if ep.service.hasPrefix("com.amazonaws.") {
                let parts = ep.service.split(separator: ".", maxSplits: 3).map(String.init)
                guard parts.count == 4, !parts[3].isEmpty else {
                    throw r.error(at: serviceNode, "invalid service '\(ep.service)' (expected com.amazonaws.<region>.<service> "
                                  + "or the service's short name)")
                }
                guard parts[2] == region else {
                    throw r.error(at: serviceNode, "service \(ep.service) is in \(parts[2]), but \(ep.id)'s subnets are in "
                                  + "\(region)")
                }
                short = parts[3]
            }
            let dnsName = try f.word("dns_name") ?? "\(short).\(region).amazonaws.com"
            var ips: [IPv4Address?] = Array(repeating: nil, count: subnets.count)
            var eniIDs: [String?] = Array(repeating: nil, count: subnets.count)
            for (key, isIP) in [("private_ips", true), ("network_interface_ids", false)] {
                guard let n = f[key] else { continue }
                let items = try r.list(n, key: key)
                guard items.count == subnets.count else {
                    throw r.error(at: n, "\(f.what): \(key) has \(items.count) entries for \(subnets.count) subnets "
                                  + "(one per subnet, in the same order)")
                }
                for (k, item) in items.enumerated() {
                    if isIP {
                        let a = try r.address(item, key: key)
                        try claim(a, in: subnets[k], for: "interface endpoint \(ep.id)", node: item, key: "private_ips")
                        ips[k] = a
                    } else {
                        let id = try r.word(item, key: key)
                        guard id.hasPrefix("eni-"), id.count > 4 else {
                            throw r.error(at: item, "network interface id '\(id)' must start with 'eni-'")
                        }
                        eniIDs[k] = id
                    }
                }
            }
            var enis: [Int] = []
            for (k, s) in subnets.enumerated() {
                let eniID = eniIDs[k] ?? ScenarioValues.eniID(hashing: "\(ep.id)|\(model.subnets[s].id)")
                let eni = try addENI(ENI(id: eniID, name: "VPC endpoint \(ep.id)", subnet: s, privateIP: ips[k] ?? .any,
                                         publicIP: nil, securityGroups: groups, owner: .vpcEndpoint(e),
                                         mac: ScenarioValues.mac(hashing: eniID)), node: subnetItems[k])
                if ips[k] == nil { pendingAllocations.append((eni, "interface endpoint \(ep.id)", subnetItems[k])) }
                if dualStack { requestIPv6(eni: eni, owner: "interface endpoint \(ep.id)", node: subnetItems[k]) }
                enis.append(eni)
            }
            model.vpcEndpoints[e].subnets = subnets
            model.vpcEndpoints[e].enis = enis
            model.vpcEndpoints[e].securityGroups = groups
            model.vpcEndpoints[e].privateDNS = privateDNS
            model.vpcEndpoints[e].dualStack = dualStack
            model.vpcEndpoints[e].dnsName = dnsName.lowercased()
            model.vpcEndpoints[e].service = short
        }
        pendingInterfaceEndpoints = []
    }

    /// `ip_address_type` (EC2 API CreateVpcEndpoint IpAddressType): `ipv4` (the default) or `dualstack`, which
    /// the PrivateLink guide (create-interface-endpoint, "IP address type") allows "only if all selected subnets
    /// have both IPv4 and IPv6 address ranges"; its ENIs get IPv6 addresses as an instance's are allocated. `ipv6`
    /// (IPv6-only subnets) is refused: endpoint ENIs without IPv4 are not modeled. Returns whether dual-stack.
    func readIPAddressType(_ f: YAMLFields, subnets: [Int], items: [Node]) throws -> Bool {
        guard let n = f["ip_address_type"] else { return false }
        switch try r.word(n, key: "ip_address_type") {
        case "ipv4":
            return false
        case "dualstack":
            for (s, item) in zip(subnets, items) where model.subnets[s].ipv6Cidr == nil || !model.subnets[s].hasIPv4 {
                throw r.error(at: item, "\(f.what): ip_address_type dualstack needs subnets with both IPv4 and IPv6 "
                              + "blocks; \(model.subnets[s].id) has \(model.subnets[s].hasIPv4 ? "no IPv6 block" : "no IPv4 block")")
            }
            return true
        case "ipv6":
            throw r.error(at: n, "\(f.what): ip_address_type ipv6 (an endpoint in IPv6-only subnets) is not modeled "
                          + "(ipv4 and dualstack are)")
        case let other:
            throw r.error(at: n, "invalid ip_address_type '\(other)' (expected ipv4, dualstack or ipv6)")
        }
    }

    /// A flow's destination named by an interface endpoint's service DNS name. Inside the endpoint's VPC with private
    /// DNS on, the name resolves to the endpoint (PrivateLink guide privatelink-access-aws-services, "DNS
    /// hostnames": the private hosted zone answers the service's default DNS name with the endpoint ENIs' private
    /// addresses); the address is the ENI in the source's AZ (else the first), and a Lambda function spread over
    /// subnets gets its invocation's AZ's (`FlowDestination.interfaceEndpoint`). Otherwise the name is the public
    /// service: an outside host of that name, or, when there is none, a flow that ends `not-modeled` naming what is
    /// missing. Nil when no interface endpoint has the name (the caller looks for hosts and instances).
    func serviceDestination(_ host: String, port: UInt16, label: String, source: FlowSource) -> FlowDestination? {
        let name = host.lowercased()
        let matching = model.vpcEndpoints.indices.filter {
            model.vpcEndpoints[$0].kind == .interface && model.vpcEndpoints[$0].dnsName == name
        }
        guard !matching.isEmpty else { return nil }
        var sourceENI: Int?
        switch source {
        case .lambda(_, let e): sourceENI = e
        case .instance(let i): sourceENI = model.instances[i].eni
        case .outsideHost: sourceENI = nil
        }
        let sourceSubnet = sourceENI.map { model.enis[$0].subnet }
        if let s = sourceSubnet,
           let e = matching.first(where: { model.vpcEndpoints[$0].privateDNS && model.vpcEndpoints[$0].vpc == model.subnets[s].vpc }),
           let eni = model.vpcEndpoints[e].eni(forZone: model.subnets[s].availabilityZone, model) {
            var d = FlowDestination(address: model.enis[eni].privateIP, port: port, label: label)
            d.interfaceEndpoint = e
            return d
        }
        if model.outsideHosts.contains(where: { $0.name?.lowercased() == name }) { return nil }
        let ep = model.vpcEndpoints[matching[0]]
        var d = FlowDestination(address: .any, port: port, label: label)
        let why = sourceSubnet.map { model.subnets[$0].vpc == ep.vpc } == true
            ? "private DNS is off on \(ep.id)" : "\(ep.id) serves \(model.vpcs[ep.vpc].id) only"
        d.notModeled = "\(host) resolves to the public \(ep.service) service (\(why)), and the scenario has no outside "
            + "host named \(host): not modeled"
        return d
    }
}
