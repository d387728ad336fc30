import Foundation
import TestSupport
import Testing

/// A small plan in the shape `terraform show -json` writes (format 1.2): resources created by it, their unknown
/// attributes in `after_unknown` and wired in `configuration` by `references`; data sources read at plan time in
/// `prior_state`.
struct SmallPlan {
    struct Resource {
        var address: String
        var values: [String: Any]
        /// Attributes known only after apply, each with the references its expression makes (none: a computed value).
        var unknown: [String: [String]] = [:]
        var mode = "managed"

        var type: String { String(address.split(separator: ".").dropFirst(mode == "data" ? 1 : 0).first ?? "") }
        var name: String { String(address.split(separator: ".").last ?? "") }
    }

    var resources: [Resource]

    func write() throws -> String {
        func state(_ r: Resource) -> [String: Any] {
            ["address": r.address, "mode": r.mode, "type": r.type, "name": r.name,
             "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0, "values": r.values,
             "sensitive_values": [String: Any]()]
        }
        let managed = resources.filter { $0.mode == "managed" }, data = resources.filter { $0.mode == "data" }
        let changes = managed.map { r -> [String: Any] in
            ["address": r.address, "mode": "managed", "type": r.type, "name": r.name,
             "provider_name": "registry.terraform.io/hashicorp/aws",
             "change": ["actions": ["create"], "before": NSNull(), "after": r.values,
                        "after_unknown": Dictionary(uniqueKeysWithValues: r.unknown.keys.map { ($0, true) }),
                        "before_sensitive": false, "after_sensitive": [String: Any]()]]
        }
        let config = resources.map { r -> [String: Any] in
            var expressions: [String: Any] = [:]
            for (k, v) in r.values where !(v is [Any]) && !(v is [String: Any]) { expressions[k] = ["constant_value": v] }
            for (k, refs) in r.unknown where !refs.isEmpty { expressions[k] = ["references": refs] }
            return ["address": r.address, "mode": r.mode, "type": r.type, "name": r.name, "provider_config_key": "aws",
                    "expressions": expressions, "schema_version": 0]
        }
        let plan: [String: Any] = [
            "format_version": "1.2", "terraform_version": "1.9.8",
            "planned_values": ["root_module": ["resources": managed.map(state)]],
            "resource_changes": changes,
            "prior_state": ["format_version": "1.0", "terraform_version": "1.9.8",
                            "values": ["root_module": ["resources": data.map(state)]]],
            "configuration": ["provider_config": ["aws": ["name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"]],
                              "root_module": ["resources": config]],
            "timestamp": "2026-11-26T09:00:00Z", "applyable": true, "complete": true, "errored": false,
        ]
        let path = makeTempDirectory("vpcsim-small-plan") + "/plan.json"
        try JSONSerialization.data(withJSONObject: plan, options: [.sortedKeys, .prettyPrinted])
            .write(to: URL(fileURLWithPath: path))
        return path
    }

    static func ref(_ address: String) -> [String] { [address + ".id", address] }

    static func sgRule(_ proto: String, _ from: Int, _ to: Int, _ cidr: String) -> [String: Any] {
        ["from_port": from, "to_port": to, "protocol": proto, "cidr_blocks": [cidr], "ipv6_cidr_blocks": [String](),
         "prefix_list_ids": [String](), "security_groups": [String](), "self": false, "description": ""]
    }

    /// A VPC `key` (10.<n>.0.0/16) with one subnet (10.<n>.1.0/24, us-east-1a), a route table associated with it,
    /// a group letting in tcp 22 from 10.0.0.0/8 and out everything, and an instance at 10.<n>.1.10; every id known.
    static func spoke(_ key: String, _ n: Int) -> [Resource] {
        let vpc = "vpc-000000000000000\(n)a", subnet = "subnet-000000000000000\(n)b", rt = "rtb-000000000000000\(n)c"
        let sg = "sg-000000000000000\(n)d"
        return [
            Resource(address: "aws_vpc.\(key)", values: ["id": vpc, "cidr_block": "10.\(n).0.0/16",
                     "default_route_table_id": "rtb-000000000000000\(n)e", "default_network_acl_id": "acl-000000000000000\(n)e",
                     "default_security_group_id": "sg-000000000000000\(n)e", "tags": ["Name": key]]),
            Resource(address: "aws_subnet.\(key)", values: ["id": subnet, "vpc_id": vpc, "cidr_block": "10.\(n).1.0/24",
                     "availability_zone": "us-east-1a", "map_public_ip_on_launch": false, "tags": ["Name": "\(key)-subnet"]]),
            Resource(address: "aws_route_table.\(key)", values: ["id": rt, "vpc_id": vpc, "route": [Any](), "tags": ["Name": "\(key)-rt"]]),
            Resource(address: "aws_route_table_association.\(key)", values: ["id": "rtbassoc-000000000000000\(n)", "subnet_id": subnet,
                     "route_table_id": rt]),
            Resource(address: "aws_security_group.\(key)", values: ["id": sg, "vpc_id": vpc, "name": key,
                     "ingress": [sgRule("tcp", 22, 22, "10.0.0.0/8")], "egress": [sgRule("-1", 0, 0, "0.0.0.0/0")]]),
            Resource(address: "aws_instance.\(key)", values: ["id": "i-000000000000000\(n)f", "subnet_id": subnet,
                     "vpc_security_group_ids": [sg], "private_ip": "10.\(n).1.10", "associate_public_ip_address": false,
                     "tags": ["Name": "\(key)-host"]]),
        ]
    }

    static func route(_ address: String, table: String, to cidr: String, _ attr: String, _ target: String) -> Resource {
        Resource(address: address, values: ["route_table_id": table, "destination_cidr_block": cidr],
                 unknown: ["id": [], attr: ref(target)])
    }
}

/// `vpcsim import terraform` of the components modeled since the importer was first written: VPC peering, gateway
/// endpoints, transit gateways; their ids known only after apply, wired through the configuration's references.
@Suite struct TerraformComponentsTests {
    static func importAndRun(_ plan: String, flows: String) throws -> (yaml: String, stderr: String, run: ProcessResult) {
        let dir = makeTempDirectory("vpcsim-tf-components")
        let r = try vpcsim(["import", "terraform", plan, "--out", dir + "/net.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try vpcsim(["validate", dir + "/net.yaml"])
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        try flows.write(toFile: dir + "/checks.yaml", atomically: true, encoding: .utf8)
        let run = try vpcsim(["run", "--network", dir + "/net.yaml", "--flows", dir + "/checks.yaml", "--out", dir + "/out",
                              "--capture", "none"])
        return (try String(contentsOfFile: dir + "/net.yaml", encoding: .utf8), r.stderr, run)
    }

    /// Two VPCs joined by a peering connection the plan creates (auto_accept), routes to it wired by reference; an
    /// S3 gateway endpoint in the first, its table association wired by reference and its prefix list from a data
    /// source. SSH crosses the peering; HTTPS to S3 leaves through the endpoint (there is no other way out).
    @Test func peeringAndGatewayEndpointImportValidateAndTrace() throws {
        var resources = SmallPlan.spoke("app", 1) + SmallPlan.spoke("files", 2)
        resources += [
            .init(address: "aws_vpc_peering_connection.app_files",
                  values: ["vpc_id": "vpc-0000000000000001a", "peer_vpc_id": "vpc-0000000000000002a", "auto_accept": true,
                           "tags": ["Name": "app-files"]],
                  unknown: ["id": [], "accept_status": []]),
            SmallPlan.route("aws_route.app_to_files", table: "rtb-0000000000000001c", to: "10.2.0.0/16",
                            "vpc_peering_connection_id", "aws_vpc_peering_connection.app_files"),
            SmallPlan.route("aws_route.files_to_app", table: "rtb-0000000000000002c", to: "10.1.0.0/16",
                            "vpc_peering_connection_id", "aws_vpc_peering_connection.app_files"),
            .init(address: "aws_vpc_endpoint.s3",
                  values: ["vpc_id": "vpc-0000000000000001a", "service_name": "com.amazonaws.us-east-1.s3",
                           "vpc_endpoint_type": "Gateway", "tags": ["Name": "s3"]],
                  unknown: ["id": [], "prefix_list_id": [], "cidr_blocks": [], "route_table_ids": []]),
            .init(address: "aws_vpc_endpoint_route_table_association.s3_app", values: ["route_table_id": "rtb-0000000000000001c"],
                  unknown: ["id": [], "vpc_endpoint_id": SmallPlan.ref("aws_vpc_endpoint.s3")]),
            .init(address: "data.aws_prefix_list.s3",
                  values: ["id": "pl-63a5400a", "prefix_list_id": "pl-63a5400a", "name": "com.amazonaws.us-east-1.s3",
                           "cidr_blocks": ["52.216.0.0/15", "3.5.0.0/19"]], mode: "data"),
        ]
        let plan = try SmallPlan(resources: resources).write()
        let (yaml, stderr, run) = try Self.importAndRun(plan, flows: """
            outside_hosts:
              - {name: s3.us-east-1.amazonaws.com, ip: 52.216.8.10, ports: {443: https}}
            flows:
              - {name: ssh-files, from: app-host, to: 10.2.1.10:22, app: sftp, expect: {outcome: ok}}
              - {name: s3-put, from: app-host, to: s3.us-east-1.amazonaws.com:443, app: https, expect: {outcome: ok}}
              - {name: s3-from-files, from: files-host, to: s3.us-east-1.amazonaws.com:443, app: https,
                 expect: {outcome: timeout}}
            """)
        #expect(!stderr.contains("aws_vpc_peering_connection:") && !stderr.contains("aws_vpc_endpoint:"), "\(stderr)")
        let pcx = try #require(yaml.split(separator: "\n").first { $0.contains("id: pcx-") })
        #expect(yaml.contains("aws_vpc_peering_connection.app_files.id"))  // invented, and listed
        #expect(yaml.contains("vpc_endpoints:") && yaml.contains("pl-63a5400a"))
        #expect(run.status == 0, "\(pcx)\n\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("✔ ssh-files") && run.stdout.contains("✔ s3-put"))
    }

    /// The two spokes joined by a transit gateway the plan creates, every TGW id known only after apply and wired
    /// by reference. `explicit`: the gateway's default route table disabled, a route table of its own with both
    /// attachments associated and propagating, and a static blackhole route for files' subnet; else the default
    /// route table AWS makes (association and propagation enabled by default).
    static func tgwPlan(explicit: Bool) throws -> String {
        let tgw = "aws_ec2_transit_gateway.hub"
        var resources = SmallPlan.spoke("app", 1) + SmallPlan.spoke("files", 2)
        resources.append(.init(address: tgw,
            values: explicit ? ["default_route_table_association": "disable", "default_route_table_propagation": "disable",
                                "tags": ["Name": "hub"]] : ["tags": ["Name": "hub"]],
            unknown: ["id": [], "association_default_route_table_id": [], "propagation_default_route_table_id": []]))
        for (key, n) in [("app", 1), ("files", 2)] {
            resources.append(.init(address: "aws_ec2_transit_gateway_vpc_attachment.\(key)",
                values: ["vpc_id": "vpc-000000000000000\(n)a", "subnet_ids": ["subnet-000000000000000\(n)b"],
                         "appliance_mode_support": key == "files" ? "enable" : "disable"],
                unknown: ["id": [], "transit_gateway_id": SmallPlan.ref(tgw)]))
            resources.append(SmallPlan.route("aws_route.\(key)_to_tgw", table: "rtb-000000000000000\(n)c",
                                             to: n == 1 ? "10.2.0.0/16" : "10.1.0.0/16", "transit_gateway_id", tgw))
        }
        if explicit {
            let rt = "aws_ec2_transit_gateway_route_table.spokes"
            resources.append(.init(address: rt, values: ["tags": ["Name": "spokes"]],
                                   unknown: ["id": [], "transit_gateway_id": SmallPlan.ref(tgw)]))
            for key in ["app", "files"] {
                for kind in ["association", "propagation"] {
                    resources.append(.init(address: "aws_ec2_transit_gateway_route_table_\(kind).\(key)", values: [:],
                        unknown: ["id": [], "transit_gateway_route_table_id": SmallPlan.ref(rt),
                                  "transit_gateway_attachment_id": SmallPlan.ref("aws_ec2_transit_gateway_vpc_attachment.\(key)")]))
                }
            }
            resources.append(.init(address: "aws_ec2_transit_gateway_route.quarantine",
                values: ["destination_cidr_block": "10.2.1.0/24", "blackhole": true],
                unknown: ["id": [], "transit_gateway_route_table_id": SmallPlan.ref(rt)]))
        }
        return try SmallPlan(resources: resources).write()
    }

    static let sshFlows = """
        flows:
          - {name: ssh-files, from: app-host, to: 10.2.1.10:22, app: sftp}
        """

    @Test func transitGatewayWithItsDefaultRouteTableImportsValidatesAndTraces() throws {
        let (yaml, stderr, run) = try Self.importAndRun(try Self.tgwPlan(explicit: false),
                                                        flows: Self.sshFlows.replacingOccurrences(of: "sftp}", with: "sftp, expect: {outcome: ok}}"))
        #expect(!stderr.contains("aws_ec2_transit_gateway"), "\(stderr)")
        #expect(yaml.contains("transit_gateways:\n  - id: tgw-"))
        // The default route table, invented and listed; both attachments associated with it and propagating.
        #expect(yaml.contains("aws_ec2_transit_gateway.hub.association_default_route_table_id"))
        let table = try #require(yaml.components(separatedBy: "name: \"hub.default_route_table\"\n").last)
        let attachments = yaml.split(separator: "\n").filter { $0.contains("- {id: tgw-attach-") }
            .compactMap { $0.components(separatedBy: "id: ").dropFirst().first?.prefix { $0 != "," } }
        #expect(attachments.count == 2)
        #expect(table.hasPrefix("        associations: [\(attachments.joined(separator: ", "))]\n"
                                + "        propagations: [\(attachments.joined(separator: ", "))]\n"))
        #expect(yaml.contains("vpc: vpc-0000000000000002a, subnets: [subnet-0000000000000002b], appliance_mode: true}"))
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("✔ ssh-files"))
    }

    @Test func transitGatewayRouteTablesAssociationsPropagationsAndStaticRoutes() throws {
        let (yaml, _, run) = try Self.importAndRun(try Self.tgwPlan(explicit: true), flows: Self.sshFlows
            .replacingOccurrences(of: "sftp}", with: "sftp, expect: {outcome: timeout}}"))
        #expect(!yaml.contains("hub.default_route_table"))
        #expect(yaml.contains("name: \"spokes\"") && yaml.contains("- {destination: 10.2.1.0/24, target: blackhole}"))
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("expectation held"))
        #expect(run.stdout.contains("(spokes) route: 10.2.1.0/24 → blackhole   ✘ DROPPED"))
    }
}
