import Foundation

/// VPC peering connections and gateway VPC endpoints of a plan, as the AWS CLI describes them
/// (describe-vpc-peering-connections, describe-vpc-endpoints, describe-prefix-lists), for the AWS importer to model.
extension TerraformConverter {
    /// aws_vpc_peering_connection (+ aws_vpc_peering_connection_accepter). The connection is active when its
    /// `accept_status` says so, or when it or an accepter of it has `auto_accept = true` (Terraform accepts it
    /// while applying; Terraform AWS provider docs, r/vpc_peering_connection and r/vpc_peering_connection_accepter);
    /// else it waits for acceptance, and routes through it are blackholes, as AWS shows them. `peer_region` makes
    /// it inter-Region; the requester's Region is the provider's `region` when the configuration has it.
    mutating func readPeeringConnections() throws {
        var acceptedBy: [String: Bool] = [:]
        for a in managed("aws_vpc_peering_connection_accepter") {
            handled.insert(a)
            if let p = try ref(a, "vpc_peering_connection_id", ["aws_vpc_peering_connection"]) {
                acceptedBy[p] = (acceptedBy[p] ?? false) || (w.bool(a, [.key("auto_accept")]) ?? false)
            }
        }
        for r in indices("aws_vpc_peering_connection") {
            handled.insert(r)
            let pid = id(r)
            guard let requester = try ref(r, "vpc_id", ["aws_vpc"]), let accepter = try ref(r, "peer_vpc_id", ["aws_vpc"]) else {
                warn(.missingReference, address(r), "a peering connection whose VPCs are not known; left out")
                continue
            }
            let status: String
            if let s = w.string(r, "accept_status"), !s.isEmpty {
                status = s
            } else {
                status = (w.bool(r, [.key("auto_accept")]) ?? false) || (acceptedBy[pid] ?? false) ? "active" : "pending-acceptance"
            }
            var req: [String: Any] = ["VpcId": requester], acc: [String: Any] = ["VpcId": accepter]
            if let c = vpcBlocks[requester]?.first { req["CidrBlock"] = c }
            if let c = vpcBlocks[accepter]?.first { acc["CidrBlock"] = c }
            if let region = w.string(r, "peer_region"), !region.isEmpty {
                acc["Region"] = region
                if let own = providerRegion { req["Region"] = own }
            }
            add("VpcPeeringConnections", ["VpcPeeringConnectionId": pid, "Status": ["Code": status],
                                           "RequesterVpcInfo": req, "AccepterVpcInfo": acc,
                                           "Tags": Self.tags(nameTag(r))], r)
        }
    }

    /// The aws provider's `region`, when the configuration states it as a constant.
    var providerRegion: String? {
        let config = w.plan.root["configuration"] as? [String: Any]
        let providers = config?["provider_config"] as? [String: Any]
        let aws = providers?["aws"] as? [String: Any]
        let region = (aws?["expressions"] as? [String: Any])?["region"] as? [String: Any]
        return region?["constant_value"] as? String
    }

    /// aws_vpc_endpoint of type Gateway (+ aws_vpc_endpoint_route_table_association), with its service's prefix
    /// list: the endpoint's own `prefix_list_id` and `cidr_blocks` when the plan knows them, else a data source
    /// aws_prefix_list of the service (its `name` or `prefix_list_id`), else a named gap (--with an AWS dump of
    /// describe-prefix-lists). Interface endpoints: `readInterfaceEndpoints`; Gateway Load Balancer endpoints are not
    /// modeled: listed as such.
    mutating func readGatewayEndpoints() throws {
        var gateway: [Int] = []
        for r in indices("aws_vpc_endpoint") where (w.string(r, "vpc_endpoint_type") ?? "Gateway") == "Gateway" {
            gateway.append(r)
            handled.insert(r)
        }
        var extraTables: [String: [String]] = [:]
        for a in managed("aws_vpc_endpoint_route_table_association") {
            handled.insert(a)
            if let e = try ref(a, "vpc_endpoint_id", ["aws_vpc_endpoint"]),
               let t = try ref(a, "route_table_id", ["aws_route_table", "aws_default_route_table"]) {
                extraTables[e, default: []].append(t)
            }
        }
        for r in gateway {
            let eid = id(r)
            guard let vpc = try ref(r, "vpc_id", ["aws_vpc"]), let service = w.string(r, "service_name") else {
                warn(.missingReference, address(r), "a gateway endpoint whose VPC or service is known only after apply; left out")
                continue
            }
            var tables = try refs(r, [.key("route_table_ids")], ["aws_route_table", "aws_default_route_table"],
                                  what: "route_table_ids")
            for t in extraTables[eid] ?? [] where !tables.contains(t) { tables.append(t) }
            // The service's prefix list.
            var list: (id: String, cidrs: [String])?
            let cidrs = ((w.value(r, [.key("cidr_blocks")]) as? [Any]) ?? []).compactMap { $0 as? String }
            if let pl = w.string(r, "prefix_list_id"), !pl.isEmpty, !cidrs.isEmpty { list = (pl, cidrs) }
            if list == nil {
                for d in indices("aws_prefix_list") where w.all[d].mode == "data" {
                    let dc = ((w.value(d, [.key("cidr_blocks")]) as? [Any]) ?? []).compactMap { $0 as? String }
                    guard !dc.isEmpty, w.string(d, "name") == service || (w.string(d, "prefix_list_id")).map({ $0 == w.string(r, "prefix_list_id") }) == true,
                          let pl = w.string(d, "id") ?? w.string(d, "prefix_list_id") else { continue }
                    handled.insert(d)
                    list = (pl, dc)
                    break
                }
            }
            if let list {
                if !(dump.items["PrefixLists"] ?? []).contains(where: { $0.json.awsStr("PrefixListId") == list.id }) {
                    add("PrefixLists", ["PrefixListId": list.id, "PrefixListName": service, "AddressFamily": "IPv4",
                                        "Cidrs": list.cidrs], r)
                }
            } else if !withPrefixLists.contains(service) {
                warn(.missingReference, address(r), "the prefix list of \(service) (its CIDRs) is known only after apply: "
                     + "a gap; supply it with --with FILE (aws ec2 describe-prefix-lists output), else the endpoint is left out")
            }
            var j: [String: Any] = ["VpcEndpointId": eid, "VpcEndpointType": "Gateway", "VpcId": vpc, "State": "available",
                                    "ServiceName": service, "RouteTableIds": tables, "Tags": Self.tags(nameTag(r))]
            if let pl = list?.id { j["PrefixListId"] = pl }
            add("VpcEndpoints", j, r)
        }
    }
}
