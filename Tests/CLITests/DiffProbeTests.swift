import Foundation
import TestSupport
import Testing

/// `vpcsim diff --probes` between ENIs: a plan that closes a security-group port between two instances is a
/// regression with the probes, and goes unseen without them when the checks do not name that port.
@Suite struct DiffProbeTests {
    static let vpc = "vpc-0000000000000a001", subnet = "subnet-0000000000000b001"
    static let sgApp = "sg-0000000000000c001", sgDB = "sg-0000000000000c002"

    static func rule(_ port: Int, from group: String) -> [String: Any] {
        ["from_port": port, "to_port": port, "protocol": "tcp", "cidr_blocks": [String](), "ipv6_cidr_blocks": [String](),
         "prefix_list_ids": [String](), "security_groups": [group], "self": false, "description": ""]
    }

    static var allOut: [String: Any] { [
        "from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [String](),
        "prefix_list_ids": [String](), "security_groups": [String](), "self": false, "description": "",
    ] }

    /// (address, type, name, values) of the network; `dbPorts`: what the database's group lets in from the app's.
    static func resources(dbPorts: [Int]) -> [(String, String, String, [String: Any])] {
        [
            ("aws_vpc.main", "aws_vpc", "main", ["id": vpc, "cidr_block": "10.0.0.0/16",
              "default_route_table_id": "rtb-0000000000000d001", "default_network_acl_id": "acl-0000000000000e001",
              "default_security_group_id": "sg-0000000000000c000", "main_route_table_id": "rtb-0000000000000d001"]),
            ("aws_subnet.app", "aws_subnet", "app", ["id": subnet, "vpc_id": vpc, "cidr_block": "10.0.1.0/24",
              "availability_zone": "us-east-1a", "map_public_ip_on_launch": false]),
            ("aws_security_group.app", "aws_security_group", "app", ["id": sgApp, "vpc_id": vpc, "name": "app",
              "ingress": [[String: Any]](), "egress": [allOut]]),
            ("aws_security_group.db", "aws_security_group", "db", ["id": sgDB, "vpc_id": vpc, "name": "db",
              "ingress": dbPorts.map { rule($0, from: sgApp) }, "egress": [allOut]]),
            ("aws_instance.app", "aws_instance", "app", ["id": "i-0000000000000f001", "subnet_id": subnet,
              "vpc_security_group_ids": [sgApp], "private_ip": "10.0.1.10", "associate_public_ip_address": false]),
            ("aws_instance.db", "aws_instance", "db", ["id": "i-0000000000000f002", "subnet_id": subnet,
              "vpc_security_group_ids": [sgDB], "private_ip": "10.0.1.20", "associate_public_ip_address": false]),
        ]
    }

    /// A plan (format 1.2, as `terraform show -json` writes it) whose only change closes 5432 on the db group.
    static func plan() throws -> String {
        try plan(before: resources(dbPorts: [22, 5432]), after: resources(dbPorts: [22]), directory: "vpcsim-probes")
    }

    /// A plan taking `before` (prior state) to `after` (planned values), resource by resource (address, type, name,
    /// values), written into a new temporary directory named `directory`.
    static func plan(before: [(String, String, String, [String: Any])], after: [(String, String, String, [String: Any])],
                     directory: String) throws -> String {
        func state(_ list: [(String, String, String, [String: Any])]) -> [String: Any] {
            ["root_module": ["resources": list.map { r -> [String: Any] in
                ["address": r.0, "mode": "managed", "type": r.1, "name": r.2,
                 "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0, "values": r.3,
                 "sensitive_values": [String: Any]()] }]]
        }
        let changes = zip(before, after).map { b, a -> [String: Any] in
            let same = NSDictionary(dictionary: b.3).isEqual(to: a.3)
            return ["address": a.0, "mode": "managed", "type": a.1, "name": a.2,
                    "provider_name": "registry.terraform.io/hashicorp/aws",
                    "change": ["actions": [same ? "no-op" : "update"], "before": b.3, "after": a.3,
                               "after_unknown": [String: Any](), "before_sensitive": [String: Any](),
                               "after_sensitive": [String: Any]()]]
        }
        let plan: [String: Any] = [
            "format_version": "1.2", "terraform_version": "1.9.8",
            "planned_values": state(after), "resource_changes": changes,
            "prior_state": ["format_version": "1.0", "terraform_version": "1.9.8", "values": state(before)],
            "configuration": ["root_module": ["resources": [Any]()]],
        ]
        let path = makeTempDirectory(directory) + "/plan.json"
        try JSONSerialization.data(withJSONObject: plan, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aClosedPortBetweenTwoInstancesIsARegressionWithProbesOnly() throws {
        let plan = try Self.plan()
        let checks = makeTempDirectory("vpcsim-probes") + "/checks.yaml"
        try "flows:\n  - {name: ssh, from: aws_instance.app, to: aws_instance.db:22, app: sftp}\n"
            .write(toFile: checks, atomically: true, encoding: .utf8)
        let without = try vpcsim(["diff", "--plan", plan, "--flows", checks])
        #expect(without.status == 0, "\(without.stdout)\(without.stderr)")
        #expect(without.stdout.contains("CHANGED (0 of 1 flow)"))
        #expect(without.stdout.contains("sg-0000000000000c002 (aws_security_group.db) ingress: − ALLOW tcp 5432 sg-0000000000000c001"))
        let with = try vpcsim(["diff", "--plan", plan, "--flows", checks, "--probes"])
        #expect(with.status == 1, "\(with.stdout)\(with.stderr)")
        #expect(with.stdout.contains("  probe aws_instance.app → aws_instance.db:5432: ok → TIMEOUT  REGRESSION\n"), "\(with.stdout)")
        #expect(with.stdout.contains("      after:  dropped at sg-0000000000000c002 (aws_security_group.db) ingress: no ingress rule allows tcp 5432"))
        #expect(with.stdout.contains("  probe aws_instance.app → aws_instance.db:22: ok\n"))
        // The database's group opens nothing to the app: no probe that way; app's group lets nothing in.
        #expect(!with.stdout.contains("probe aws_instance.db → aws_instance.app"))
        #expect(with.stdout.contains("1 regression (a flow that was ok and is not)"))
        // The same bytes again.
        #expect(try vpcsim(["diff", "--plan", plan, "--flows", checks, "--probes"]).stdout == with.stdout)
    }
}
