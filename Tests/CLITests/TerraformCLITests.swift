import Foundation
import TestSupport
import Testing

/// `vpcsim import terraform` on real plans (Tests/Fixtures/terraform): each imports, validates, and runs as the
/// fixture's README says; bad input is one line naming the file and the JSON path, exit 2.
@Suite struct TerraformCLITests {
    static let dir = "Tests/Fixtures/terraform/"

    static func importPlan(_ file: String, _ extra: [String] = []) throws -> (out: String, yaml: String, stderr: String) {
        let out = makeTempDirectory("vpcsim-tf") + "/net.yaml"
        let r = try vpcsim(["import", "terraform", dir + file, "--out", out] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        let v = try vpcsim(["validate", out])
        #expect(v.status == 0, "\(v.stderr)")
        return (out, try String(contentsOfFile: out, encoding: .utf8), r.stderr)
    }

    static func checks(_ text: String) throws -> String {
        let path = makeTempDirectory("vpcsim-tf-checks") + "/checks.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The single public EC2 plan: SSH from the internet to its (invented) public IP works; a new outbound
    /// connection dies at its group, which has no egress block and so no egress rule.
    @Test func singlePublicEC2SSHInWorksAndOutboundDiesAtTheGroup() throws {
        let (net, yaml, stderr) = try Self.importPlan("single-public-ec2-igw_create_tf1.1.json")
        #expect(stderr.contains("aws_iam_role: 1 resource (aws_iam_role.main)"))
        #expect(yaml.contains("name: \"aws_security_group.main\"\n    vpc: vpc-"))
        #expect(yaml.contains("ingress:\n      - {protocol: tcp, ports: \"22\", cidr: 0.0.0.0/0}\n    egress: []"))
        // The public IP is known only after apply: invented, and listed.
        let ip = try #require(yaml.split(separator: "\n").first { $0.contains("of: \"aws_instance.main.public_ip\"") })
        let address = try #require(ip.split(separator: "\"").dropFirst(3).first)
        #expect(address.hasPrefix("192.0.2."))
        let checks = try Self.checks("""
            outside_hosts:
              - {name: admin, ip: 198.51.100.7}
              - {name: api.example.com, ip: 203.0.113.10, ports: {443: https}}
            flows:
              - {name: ssh-in, from: admin, to: \(address):22, app: sftp, expect: {outcome: ok}}
              - {name: https-out, from: aws_instance.main, to: api.example.com:443,
                 expect: {outcome: timeout, dropped_at: aws_security_group.main, drop_direction: egress}}
            """)
        let out = makeTempDirectory("vpcsim-tf-run")
        let r = try vpcsim(["run", "--network", net, "--flows", checks, "--out", out, "--capture", "none"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("✔ ssh-in"))
        #expect(r.stdout.contains("no egress rule allows tcp 443 to 203.0.113.10"))
        // The invented values are printed among the assumptions.
        let assumptions = try #require(r.stdout.components(separatedBy: "ASSUMPTIONS").last)
        #expect(assumptions.contains("aws_instance.main.public_ip") && assumptions.contains("invented"))
    }

    /// The LocalStack plan: the private subnet has no association, so it uses the VPC's main route table, which
    /// the plan does not hold (local route only); web (public, known address) answers from the internet.
    @Test func localstackPrivateSubnetUsesTheImpliedMainTableAndWebAnswers() throws {
        let (net, yaml, _) = try Self.importPlan("localstack-public-private-subnets-ec2_mixed_tf1.12.json")
        let privateLine = try #require(yaml.split(separator: "\n").first { $0.contains("private-subnet") })
        #expect(!privateLine.contains("route_table:"))
        #expect(yaml.contains("name: \"aws_vpc.main.default_route_table\"\n    vpc: vpc-33c3188b14f9b1db1\n    main: true\n"
            + "    routes:\n      - {destination: 10.0.0.0/16, target: local}\n  - id:"))
        let checks = try Self.checks("""
            outside_hosts:
              - {name: admin, ip: 198.51.100.7}
            flows:
              - {name: ssh, from: admin, to: 54.214.3.193:22, app: sftp, expect: {outcome: ok}}
              - {name: https, from: admin, to: 54.214.3.193:443, app: https, expect: {outcome: ok}}
              - {name: http, from: admin, to: 54.214.3.193:80, app: http, expect: {outcome: ok}}
            """)
        let r = try vpcsim(["run", "--network", net, "--flows", checks, "--out", makeTempDirectory("tf-ls"), "--capture", "none"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    /// The no-op SSM plan (every id known): the private instance's group allows only HTTPS to the endpoint group,
    /// so SFTP out dies at the source group, before any route; its default route is the NAT gateway of its AZ.
    /// Its two interface endpoints (ssm, ssmmessages) are imported: an ENI in each of their two subnets, the
    /// endpoint group, private DNS on; the instance reaches both by name through the ENI in its own AZ.
    @Test func ssmPrivateInstanceSFTPDiesAtItsGroup() throws {
        let (net, yaml, stderr) = try Self.importPlan("ssm-vpc-2az-nat-private-ec2-endpoints_noop_tf1.13.json")
        #expect(!stderr.contains("aws_vpc_endpoint"), "\(stderr)")
        #expect(yaml.contains("  - {id: vpce-0bce91598847da15b, name: \"cf_vpc_endpoint_ssm\", type: interface, service: ssm, "
            + "vpc: vpc-029a8ca1f47edfd4e, subnets: [subnet-01fe66edfefd8f756, subnet-059b19069be7d800f], "
            + "security_groups: [sg-0c070c3e884e3dddb], private_dns: true, dns_name: \"ssm.us-east-1.amazonaws.com\"}"))
        #expect(yaml.contains("  - {id: vpce-08fc99a5fe57997cc, name: \"cf_vpc_endpoint_ssmmessages\", type: interface, "
            + "service: ssmmessages, vpc: vpc-029a8ca1f47edfd4e, subnets: [subnet-01fe66edfefd8f756, subnet-059b19069be7d800f], "
            + "security_groups: [sg-0c070c3e884e3dddb], private_dns: true"))
        // Every id is known but the endpoints' ENIs (AWS makes them): the only invented values, an id and an
        // address for each of the 2 × 2.
        let invented = yaml.split(separator: "\n").filter { $0.hasPrefix("  - {of: ") }
        #expect(invented.count == 8)
        #expect(invented.allSatisfy { $0.contains("aws_vpc_endpoint.vpc_endpoints[") && $0.contains(" network interface in subnet-") })
        let checks = try Self.checks("""
            flows:
              - {name: ssm, from: cf_ec2_private1, to: ssm.us-east-1.amazonaws.com:443, expect: {outcome: ok}}
              - {name: messages, from: cf_ec2_private1, to: ssmmessages.us-east-1.amazonaws.com:443, expect: {outcome: ok}}
            """)
        let run = try vpcsim(["run", "--network", net, "--flows", checks, "--out", makeTempDirectory("tf-ssm-vpce"), "--capture", "none"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        // The instance is in subnet-059b…: the endpoint's ENI there, behind the endpoint group's rule for its group.
        #expect(run.stdout.contains("sg-0c070c3e884e3dddb (aws_security_group.vpce_security_group) ingress: ALLOW tcp 443 sg-0e41baf4064b3b00c"))
        #expect(run.stdout.contains("vpce-0bce91598847da15b (cf_vpc_endpoint_ssm) endpoint: interface endpoint for ssm ENI eni-"))
        #expect(run.stdout.contains(") in subnet-059b19069be7d800f (cf_private_subnet_1) → ssm service"))
        #expect(yaml.contains("public_ip: 34.237.124.17"))
        #expect(yaml.contains("{destination: 0.0.0.0/0, target: nat-0882e0a23390b5fc0}"))
        let t = try vpcsim(["trace", net, "--from", "i-0eaa5d0ee2a6b498c", "--to", "198.51.100.9:22", "--capture", "none",
                            "--expect", "timeout", "--out", makeTempDirectory("tf-ssm")])
        #expect(t.status == 0, "\(t.stdout)")
        #expect(t.stdout.contains("TIMEOUT"))
        #expect(t.stdout.contains("DROPPED") && t.stdout.contains("sg-0e41baf4064b3b00c") && t.stdout.contains("egress"))
    }

    /// terraform-aws-modules/vpc planned with Terraform 0.12 (format 0.1), wired by count: each private /24 goes
    /// out through the NAT gateway in the public subnet of its own AZ.
    @Test func tfawsModulePrivateSubnetsUseTheirAZsNAT() throws {
        let (net, yaml, _) = try Self.importPlan("tfaws-vpc-module-3az-3nat_create_tf0.12_fv0.1.json")
        for k in 0..<3 {
            let subnet = try #require(yaml.split(separator: "\n").first { $0.contains("{id: subnet-") && $0.contains("name: \"my-vpc-private-eu-west-1\(["a", "b", "c"][k])\"") })
            let rt = try #require(subnet.components(separatedBy: "route_table: ").last?.prefix { $0 != "," && $0 != "}" })
            let table = try #require(yaml.components(separatedBy: "  - id: \(rt)\n").last)
            let nat = try #require(table.components(separatedBy: "target: ").dropFirst(2).first?.prefix { $0 != "}" })
            let natLine = try #require(yaml.split(separator: "\n").first { $0.contains("{id: \(nat),") })
            let natSubnet = try #require(natLine.components(separatedBy: "subnet: ").last?.prefix { $0 != "," })
            let publicLine = try #require(yaml.split(separator: "\n").first { $0.contains("{id: \(natSubnet),") })
            #expect(publicLine.contains("my-vpc-public-eu-west-1\(["a", "b", "c"][k])"), "\(natLine)")
        }
        // A synthetic source in the first private subnet reaches the internet through that NAT gateway.
        let subnet = try #require(yaml.split(separator: "\n").first { $0.contains("{id: subnet-") && $0.contains("my-vpc-private-eu-west-1a") }?
            .components(separatedBy: "{id: ").last?.prefix { $0 != "," })
        let sg = try #require(yaml.components(separatedBy: "security_groups:\n  - id: ").last?.prefix { $0 != "\n" })
        let withSource = yaml.replacingOccurrences(of: "instances: []",
            with: "instances:\n  - {id: i-0source, name: probe, subnet: \(subnet), security_groups: [\(sg)]}")
        let path = makeTempDirectory("tf-mod") + "/net.yaml"
        try withSource.write(toFile: path, atomically: true, encoding: .utf8)
        _ = net
        let t = try vpcsim(["trace", path, "--from", "probe", "--to", "198.51.100.9:443", "--capture", "none",
                            "--out", makeTempDirectory("tf-mod-t")])
        #expect(t.status == 0, "\(t.stdout)\(t.stderr)")
        #expect(t.stdout.contains("my-vpc-eu-west-1a"))
    }

    /// The transit-gateway plan: for_each modules, module outputs of other module instances, the Cloud Control
    /// provider's route tables; what is not modeled listed once per type. Spoke A's instance reaches spoke B through
    /// the transit gateway: the spokes' default routes go to it, and its route table (associated with both VPC
    /// attachments, which propagate to it) sends the packet to spoke B's attachment; the VPN connection is the gateway's VPN
    /// attachment.
    @Test func tgwPlanImportsAndListsWhatIsNotModelledOncePerType() throws {
        let (net, yaml, stderr) = try Self.importPlan("tgw-2spoke-vpcs-vpn-dx-endpoints_create_tf1.11.json")
        // The six interface endpoints (three per spoke, each in the spoke's private subnet, with the spoke's endpoint
        // group) are imported.
        // (Their vpc_id comes from a module output: wired, with a warning that says so.)
        #expect(stderr.split(separator: "\n").filter { $0.contains("aws_vpc_endpoint") }.allSatisfy { $0.hasSuffix("[approximated]") },
                "\(stderr)")
        #expect(yaml.components(separatedBy: ", type: interface, ").count == 7)
        let subnet = "private[\\\"eu-central-1a\\\"]"
        for spoke in ["a", "b"] {
            let sid = try #require(yaml.split(separator: "\n").first { $0.contains("{of: \"module.vpcs[\\\"spoke-vpc-\(spoke)\\\"].aws_subnet.\(subnet).id\"") }?
                .components(separatedBy: "value: \"").last?.prefix { $0 != "\"" })
            let sg = try #require(yaml.split(separator: "\n").first { $0.contains("{of: \"module.vpc_endpoints[\\\"spoke-vpc-\(spoke)\\\"].aws_security_group.endpoints_vpc_sg.id\"") }?
                .components(separatedBy: "value: \"").last?.prefix { $0 != "\"" })
            let endpoints = yaml.split(separator: "\n").filter { $0.contains("aws_vpc_endpoint.endpoint[") && $0.contains("type: interface") && $0.contains("spoke-vpc-\(spoke)") }
            #expect(endpoints.count == 3)
            #expect(endpoints.allSatisfy { $0.contains("subnets: [\(sid)], security_groups: [\(sg)], private_dns: true") })
        }
        // The VPN connection to the transit gateway is its VPN attachment, which the association and propagation
        // name through the aws_ec2_transit_gateway_vpn_attachment data source.
        let vpnAttachment = try #require(yaml.split(separator: "\n").first { $0.contains(", type: vpn, vpn_connection: vpn-") })
        let attachID = try #require(vpnAttachment.components(separatedBy: "{id: ").last?.prefix { $0 != "," })
        #expect(yaml.contains("associations: [") && yaml.split(separator: "\n").contains { $0.contains("associations: [") && $0.contains(attachID) })
        #expect(yaml.split(separator: "\n").contains { $0.contains("propagations: [") && $0.contains(attachID) })
        #expect(!stderr.contains("vpn_tgw_association") && !stderr.contains("vpn_tgw_propagation")
            && !stderr.contains("VPN connection to transit gateway"), "\(stderr)")
        #expect(!stderr.contains("aws_ec2_transit_gateway:") && !stderr.contains("aws_ec2_transit_gateway_vpc_attachment:"))
        #expect(!stderr.contains("awscc_ec2_route_table:"))
        let t = try vpcsim(["trace", net, "--from", "spoke-vpc-a-instance-1-tgw-dx-private-ip-vpn",
                            "--to", "spoke-vpc-b-instance-1-tgw-dx-private-ip-vpn:80", "--capture", "none",
                            "--expect", "ok", "--out", makeTempDirectory("tf-tgw")])
        #expect(t.status == 0, "\(t.stdout)\(t.stderr)")
        #expect(t.stdout.contains("route: 0.0.0.0/0 → tgw-09cbf0bf80379959e"))
        #expect(t.stdout.contains("(tgw-rt-tgw-dx-private-ip-vpn) route: 10.66.5.0/24 → tgw-attach-"))
        #expect(t.stdout.contains("(propagated)") && t.stdout.contains("TGW: leaves through"))
        #expect(yaml.contains("cidr_blocks: [10.66.4.0/24]") && yaml.contains("cidr_blocks: [10.66.5.0/24]"))
        // Each spoke's instance group is in its own spoke's VPC (through module.vpcs[key].vpc_attributes).
        #expect(stderr.contains("module.compute[\"spoke-vpc-a\"].aws_security_group.spoke_vpc_sg: vpc_id comes from output vpc_attributes"))
        #expect(!stderr.contains("EC2-Classic"))
    }

    @Test func theSamePlanGivesTheSameBytes() throws {
        let a = try Self.importPlan("tfaws-vpc-module-3az-3nat_create_tf0.12_fv0.1.json").yaml
        let b = try Self.importPlan("tfaws-vpc-module-3az-3nat_create_tf0.12_fv0.1.json").yaml
        #expect(a == b)
    }

    @Test(arguments: [
        ("not-a-plan.json", "format_version: not a Terraform plan: no format_version (an AWS CLI dump?"),
        ("future-format.json", "format_version: 2.0 is newer than this importer reads (0.1 through 1.x)"),
        ("only-unknowns.json", "resource_changes[0].change.after_unknown.cidr_block: every VPC and subnet CIDR block"),
        ("module-cycle.json", "configuration.root_module.module_calls.a.expressions.vpc_id: module cycle: var a.vpc_id → "
            + "output b.vpc_id → var b.upstream → output a.vpc_id → var a.vpc_id"),
    ])
    func badInputIsOneLineNamingFileAndJSONPathExitTwo(_ file: String, _ message: String) throws {
        let out = makeTempDirectory("vpcsim-tf-bad") + "/x.yaml"
        let r = try vpcsim(["import", "terraform", Self.dir + "bad/" + file, "--out", out])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("vpcsim: error: Tests/Fixtures/terraform/bad/\(file): \(message)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aFlowsFileErrorNamesThatFileLineAndColumn() throws {
        let (net, _, _) = try Self.importPlan("single-public-ec2-igw_create_tf1.1.json")
        let checks = try Self.checks("flows:\n  - {name: x, from: nobody, to: 203.0.113.1:22}\n")
        let r = try vpcsim(["run", "--network", net, "--flows", checks, "--out", makeTempDirectory("tf-bad-flows")])
        #expect(r.status == 2)
        #expect(r.stderr == "vpcsim: error: \(checks):2:21: flow 'x': unknown source 'nobody'\n")
        let dup = try Self.checks("vpcs: []\n")
        let d = try vpcsim(["run", "--network", net, "--flows", dup, "--out", makeTempDirectory("tf-bad-flows")])
        #expect(d.status == 2)
        #expect(d.stderr.contains("\(dup):1:1: unknown key 'vpcs' in flows file"))
    }
}

extension TerraformCLITests {
    /// A plan of a function in subnets and a group it does not create: the gaps are named, and --with (a scenario
    /// fragment) supplies them.
    @Test func withFillsWhatThePlanRefersToButDoesNotHold() throws {
        let dir = makeTempDirectory("vpcsim-tf-with")
        let plan = """
            {"format_version": "1.2", "terraform_version": "1.9.8",
             "resource_changes": [{"address": "aws_lambda_function.f", "mode": "managed", "type": "aws_lambda_function",
               "name": "f", "change": {"actions": ["create"], "after": {"function_name": "uploader", "timeout": 30,
               "vpc_config": [{"subnet_ids": ["subnet-0ee55ff6607788990"], "security_group_ids": ["sg-0d1e2f3a4b5c6d7e8"]}]},
               "after_unknown": {"id": true, "arn": true}}}]}
            """
        try plan.write(toFile: dir + "/plan.json", atomically: true, encoding: .utf8)
        let without = try vpcsim(["import", "terraform", dir + "/plan.json", "--out", dir + "/x.yaml"])
        #expect(without.status == 2)
        #expect(without.stderr.contains("plan.json: resource_changes: no VPC in the plan (its resources: aws_lambda_function)"))
        let fragment = """
            vpcs:
              - {id: vpc-0a1b2c3d4e5f60718, name: main, cidr_blocks: [10.0.0.0/16]}
            route_tables:
              - {id: rtb-0123456789abcdef0, vpc: vpc-0a1b2c3d4e5f60718, main: true, routes: []}
            network_acls:
              - id: acl-0c1d2e3f4a5b6c7d8
                vpc: vpc-0a1b2c3d4e5f60718
                default: true
                inbound: [{rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}]
                outbound: [{rule: 100, protocol: tcp, ports: 443, cidr: 0.0.0.0/0, action: allow}]
            security_groups:
              - {id: sg-0d1e2f3a4b5c6d7e8, vpc: vpc-0a1b2c3d4e5f60718, ingress: [], egress: [{protocol: all, cidr: 0.0.0.0/0}]}
            subnets:
              - {id: subnet-0ee55ff6607788990, vpc: vpc-0a1b2c3d4e5f60718, cidr: 10.0.1.0/24}
            """
        try fragment.write(toFile: dir + "/existing.yaml", atomically: true, encoding: .utf8)
        let r = try vpcsim(["import", "terraform", dir + "/plan.json", "--with", dir + "/existing.yaml", "--out", dir + "/net.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        let yaml = try String(contentsOfFile: dir + "/net.yaml", encoding: .utf8)
        #expect(yaml.contains("lambdas:\n  - {name: \"uploader\", subnets: [subnet-0ee55ff6607788990], security_groups: [sg-0d1e2f3a4b5c6d7e8], timeout: 30}"))
        #expect(yaml.contains("of: \"aws_lambda_function.f ENI in subnet-0ee55ff6607788990\", value: \"10.0.1.4\""))
        let v = try vpcsim(["validate", dir + "/net.yaml"])
        #expect(v.status == 0, "\(v.stderr)")
    }
}

extension TerraformCLITests {
    /// A subnet of a VPC read by a data source the plan did not read: the gap is named by its address, and a
    /// --with resource of that name fills it.
    @Test func aDataSourceGapIsNamedAndFilledByName() throws {
        let dir = makeTempDirectory("vpcsim-tf-gap")
        let plan = """
            {"format_version": "1.2",
             "resource_changes": [
              {"address": "aws_subnet.app", "mode": "managed", "type": "aws_subnet", "name": "app",
               "change": {"actions": ["create"], "after": {"cidr_block": "10.9.1.0/24"}, "after_unknown": {"id": true, "vpc_id": true}}},
              {"address": "aws_vpc.side", "mode": "managed", "type": "aws_vpc", "name": "side",
               "change": {"actions": ["create"], "after": {"cidr_block": "10.8.0.0/16"}, "after_unknown": {"id": true}}}],
             "configuration": {"root_module": {"resources": [
              {"address": "aws_subnet.app", "mode": "managed", "type": "aws_subnet", "name": "app",
               "expressions": {"vpc_id": {"references": ["data.aws_vpc.main.id", "data.aws_vpc.main"]}}},
              {"address": "aws_vpc.side", "mode": "managed", "type": "aws_vpc", "name": "side", "expressions": {}},
              {"address": "data.aws_vpc.main", "mode": "data", "type": "aws_vpc", "name": "main", "expressions": {}}]}}}
            """
        try plan.write(toFile: dir + "/plan.json", atomically: true, encoding: .utf8)
        let r = try vpcsim(["import", "terraform", dir + "/plan.json", "--out", dir + "/a.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning: data.aws_vpc.main: aws_subnet.app.vpc_id refers to it, and the plan does not hold it"))
        #expect(try !String(contentsOfFile: dir + "/a.yaml", encoding: .utf8).contains("cidr: 10.9.1.0/24"))
        try "vpcs:\n  - {id: vpc-0123456789abcdef0, name: data.aws_vpc.main, cidr_blocks: [10.9.0.0/16]}\n"
            .write(toFile: dir + "/existing.yaml", atomically: true, encoding: .utf8)
        let w = try vpcsim(["import", "terraform", dir + "/plan.json", "--with", dir + "/existing.yaml", "--out", dir + "/b.yaml"])
        #expect(w.status == 0, "\(w.stderr)")
        #expect(!w.stderr.contains("data.aws_vpc.main: aws_subnet.app.vpc_id refers to it"))
        let yaml = try String(contentsOfFile: dir + "/b.yaml", encoding: .utf8)
        #expect(yaml.contains("name: \"aws_subnet.app\", vpc: vpc-0123456789abcdef0, cidr: 10.9.1.0/24"))
    }
}
