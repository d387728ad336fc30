import Foundation
import Yams

/// `--with FILE` of `vpcsim import terraform`: what the plan refers to but does not hold. An AWS CLI dump (a
/// directory or a .json file, as `vpcsim import aws` reads it) or a scenario fragment (.yaml: the scenario's
/// network sections, references by id). Either becomes dump items merged after the plan's; a resource whose id or
/// `name` is what the plan refers to (an id, or a data source's address such as `data.aws_vpc.main`) fills the gap.
enum TerraformWith {
    static func read(_ path: String) throws -> AWSDump {
        let lower = path.lowercased()
        guard lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") else { return try AWSDump.read(path) }
        let text: String
        switch ScenarioLoader.readFile(path) {
        case .success(let bytes):
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw AWSImportError(file: path, line: 0, column: 0, message: "cannot read: not valid UTF-8")
            }
            text = s
        case .failure(let e):
            throw AWSImportError(file: path, line: 0, column: 0, message: "cannot read: \(e.text)")
        }
        if let (line, column) = NestingLimit.firstTooDeep(yaml: text) {
            throw AWSImportError(file: path, line: line, column: column, message: NestingLimit.message)
        }
        let any: Any?
        do {
            any = try Yams.load(yaml: text)
        } catch let e as YamlError {
            throw ScenarioLoader.syntaxError(e, file: path, yaml: text)
        }
        guard let top = any as? [String: Any] else {
            throw AWSImportError(file: path, line: 1, column: 1, message: "a scenario fragment is a mapping of sections "
                                 + "(vpcs, subnets, security_groups, …)")
        }
        var dump = AWSDump(directory: path)
        dump.files = [(path, "scenario fragment")]
        func list(_ k: String) -> [[String: Any]] { ((top[k] as? [Any]) ?? []).compactMap { $0 as? [String: Any] } }
        func s(_ o: [String: Any], _ k: String) -> String? { o[k].map { "\($0)" } }
        func tags(_ o: [String: Any]) -> [[String: Any]] { s(o, "name").map { [["Key": "Name", "Value": $0]] } ?? [] }
        func add(_ key: String, _ j: [String: Any], _ i: Int, _ section: String) {
            dump.items[key, default: []].append(DumpItem(json: j, origin: "\(path): \(section)[\(i)]"))
        }
        for (i, v) in list("vpcs").enumerated() {
            let blocks = ((v["cidr_blocks"] as? [Any]) ?? []).map { "\($0)" }
            add("Vpcs", ["VpcId": s(v, "id") ?? "", "CidrBlock": blocks.first ?? "", "Tags": tags(v),
                         "CidrBlockAssociationSet": blocks.map { ["CidrBlock": $0] }], i, "vpcs")
        }
        for (i, v) in list("internet_gateways").enumerated() {
            var j: [String: Any] = ["InternetGatewayId": s(v, "id") ?? "", "Tags": tags(v)]
            if let vpc = s(v, "vpc") { j["Attachments"] = [["VpcId": vpc, "State": "available"]] }
            add("InternetGateways", j, i, "internet_gateways")
        }
        for (i, v) in list("subnets").enumerated() {
            var j: [String: Any] = ["SubnetId": s(v, "id") ?? "", "VpcId": s(v, "vpc") ?? "", "CidrBlock": s(v, "cidr") ?? "",
                                    "Tags": tags(v)]
            if let az = s(v, "availability_zone") { j["AvailabilityZone"] = az }
            add("Subnets", j, i, "subnets")
        }
        var routeTableOf: [String: [String]] = [:], naclOf: [String: [String]] = [:]
        for v in list("subnets") {
            if let rt = s(v, "route_table"), let id = s(v, "id") { routeTableOf[rt, default: []].append(id) }
            if let a = s(v, "network_acl"), let id = s(v, "id") { naclOf[a, default: []].append(id) }
        }
        for (i, v) in list("route_tables").enumerated() {
            let id = s(v, "id") ?? ""
            var routes: [[String: Any]] = []
            for r in ((v["routes"] as? [Any]) ?? []).compactMap({ $0 as? [String: Any] }) {
                var j: [String: Any] = ["DestinationCidrBlock": s(r, "destination") ?? ""]
                let t = s(r, "target") ?? ""
                let key = t.hasPrefix("nat-") ? "NatGatewayId" : t.hasPrefix("pcx-") ? "VpcPeeringConnectionId"
                    : t.hasPrefix("tgw-") ? "TransitGatewayId" : t.hasPrefix("eni-") ? "NetworkInterfaceId"
                    : t.hasPrefix("i-") ? "InstanceId" : "GatewayId"
                if t == "blackhole" { j["State"] = "blackhole"; j["GatewayId"] = "blackhole" } else { j[key] = t }
                routes.append(j)
            }
            var assoc: [[String: Any]] = (routeTableOf[id] ?? []).map { ["SubnetId": $0] }
            if (v["main"] as? Bool) == true { assoc.append(["Main": true]) }
            add("RouteTables", ["RouteTableId": id, "VpcId": s(v, "vpc") ?? "", "Routes": routes, "Associations": assoc,
                                "Tags": tags(v)], i, "route_tables")
        }
        for (i, v) in list("network_acls").enumerated() {
            let id = s(v, "id") ?? ""
            var entries: [[String: Any]] = []
            for (key, egress) in [("inbound", false), ("outbound", true)] {
                for r in ((v[key] as? [Any]) ?? []).compactMap({ $0 as? [String: Any] }) {
                    var e: [String: Any] = ["RuleNumber": (r["rule"] as? Int) ?? 0, "Egress": egress,
                                            "Protocol": s(r, "protocol") ?? "-1", "RuleAction": s(r, "action") ?? "deny",
                                            "CidrBlock": s(r, "cidr") ?? ""]
                    if let p = s(r, "ports") {
                        let parts = p.split(separator: "-").compactMap { Int($0) }
                        if let f = parts.first { e["PortRange"] = ["From": f, "To": parts.last ?? f] }
                    }
                    entries.append(e)
                }
            }
            add("NetworkAcls", ["NetworkAclId": id, "VpcId": s(v, "vpc") ?? "", "IsDefault": (v["default"] as? Bool) ?? false,
                                "Entries": entries, "Associations": (naclOf[id] ?? []).map { ["SubnetId": $0] },
                                "Tags": tags(v)], i, "network_acls")
        }
        for (i, v) in list("security_groups").enumerated() {
            func perms(_ key: String) -> [[String: Any]] {
                ((v[key] as? [Any]) ?? []).compactMap { $0 as? [String: Any] }.map { r in
                    var p: [String: Any] = ["IpProtocol": s(r, "protocol") ?? "-1"]
                    if let ports = s(r, "ports") {
                        let parts = ports.split(separator: "-").compactMap { Int($0) }
                        if let f = parts.first { p["FromPort"] = f; p["ToPort"] = parts.last ?? f }
                    }
                    if let c = s(r, "cidr") { p["IpRanges"] = [["CidrIp": c]] }
                    if let g = s(r, "security_group") { p["UserIdGroupPairs"] = [["GroupId": g]] }
                    return p
                }
            }
            add("SecurityGroups", ["GroupId": s(v, "id") ?? "", "VpcId": s(v, "vpc") ?? "", "GroupName": s(v, "name") ?? "",
                                   "Description": s(v, "description") ?? "", "IpPermissions": perms("ingress"),
                                   "IpPermissionsEgress": v["egress"] == nil
                                       ? [["IpProtocol": "-1", "IpRanges": [["CidrIp": "0.0.0.0/0"]]]] : perms("egress"),
                                   "Tags": tags(v)], i, "security_groups")
        }
        for (i, v) in list("nat_gateways").enumerated() {
            var a: [String: Any] = ["IsPrimary": true]
            if let ip = s(v, "private_ip") { a["PrivateIp"] = ip }
            if let ip = s(v, "elastic_ip") { a["PublicIp"] = ip }
            add("NatGateways", ["NatGatewayId": s(v, "id") ?? "", "SubnetId": s(v, "subnet") ?? "", "State": "available",
                                "ConnectivityType": s(v, "connectivity") ?? "public", "NatGatewayAddresses": [a],
                                "Tags": tags(v)], i, "nat_gateways")
        }
        for (i, v) in list("instances").enumerated() {
            var j: [String: Any] = ["InstanceId": s(v, "id") ?? "", "SubnetId": s(v, "subnet") ?? "", "Tags": tags(v),
                                    "SecurityGroups": ((v["security_groups"] as? [Any]) ?? []).map { ["GroupId": "\($0)"] }]
            if let ip = s(v, "private_ip") { j["PrivateIpAddress"] = ip }
            if let ip = s(v, "public_ip") { j["PublicIpAddress"] = ip }
            add("Reservations", j, i, "instances")
        }
        if dump.items.isEmpty {
            throw AWSImportError(file: path, line: 1, column: 1, message: "the scenario fragment has no network section "
                                 + "(vpcs, subnets, route_tables, network_acls, security_groups, internet_gateways, "
                                 + "nat_gateways, instances)")
        }
        return dump
    }
}
