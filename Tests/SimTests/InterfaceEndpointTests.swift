import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Interface VPC endpoints (scenarios/interface-endpoint-sg.yaml): an ENI per subnet with security groups, the
/// NACLs of the subnets on the way, private DNS to the ENI in the client's AZ, the service answering HTTPS, and
/// the public name when private DNS is off.
@Suite struct InterfaceEndpointTests {
    static let path = repositoryRoot + "/scenarios/interface-endpoint-sg.yaml"
    static let endpoint = "vpce-0d1e2f3a4b5c6d7e8"
    static let endpointSG = "sg-0c1c2c3c4c5c6c7c8"

    static func yaml() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func run(_ text: String, out: String? = nil) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "interface-endpoint-sg.yaml", out: out)
    }

    static func replacing(_ text: String, _ old: String, _ new: String) -> String {
        ScenarioText.replacing(text, old, new)
    }

    /// The endpoint's security group lets in the app servers only; the report's fix is the rule the Lambda needs.
    @Test func theEndpointSecurityGroupDecidesAndTheFixAddsInbound443FromTheLambdasGroup() throws {
        let out = makeTempDirectory("vpcsim-ie")
        let o = try Self.run(try Self.yaml(), out: out)
        #expect(o.exitCode == 0, "\(o.text)")
        #expect(o.report.flows.map(\.outcome) == ["ok", "timeout", "not-modeled"])
        // The app server (AZ b) reaches the endpoint ENI in AZ b, through the endpoint's group, and the service answers.
        let app = o.report.flows[0]
        #expect(app.drop == nil)
        #expect(app.hops.map(\.step) == ["security-group-egress", "route", "security-group-ingress", "vpc-endpoint", "delivered"])
        #expect(app.hops.contains { $0.step == "vpc-endpoint" && $0.component == Self.endpoint && $0.rule.contains("(10.20.2.4)") })
        // The Lambda (AZ a) is sent to the ENI in AZ a, whose group has no rule for it.
        let rotate = o.report.flows[1]
        let drop = try #require(rotate.drop)
        #expect(drop.component == Self.endpointSG && drop.direction == "ingress")
        #expect(drop.packet.hasPrefix("tcp 10.20.1.10:") && drop.packet.hasSuffix("→ 10.20.1.4:443 [SYN]"))
        let fix = try #require(rotate.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["ingress: add ALLOW tcp 443 sg-0a1a2a3a4a5a6a7a8 (lambda-sg)"])
        // Private DNS off and no outside host for the public name: not modeled, saying so.
        #expect(o.report.flows[2].message.contains("private DNS is off on vpce-0e1f2a3b4c5d6e7f9"))

        // The capture at the endpoint ENI in AZ b holds the TLS conversation, the service answering from 443.
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let b = try #require(files.first { $0.hasPrefix("04-vpce-secrets-") && $0.hasSuffix(".pcap") })
        let synAck = try TShark.fields(out + "/" + b, ["ip.src", "tcp.srcport", "ip.dst"],
                                       filter: "tcp.flags.syn == 1 && tcp.flags.ack == 1")
        #expect(synAck.filter { !$0.isEmpty } == ["10.20.2.4\t443\t10.20.2.10"])
        let hello = try TShark.fields(out + "/" + b, ["tls.handshake.extensions_server_name"], filter: "tls.handshake.type == 1")
        #expect(hello.filter { !$0.isEmpty } == ["secretsmanager.eu-west-1.amazonaws.com"])
        // Flow logs: the endpoint ENI in AZ a logs the Lambda's SYNs as REJECT; the one in AZ b both ways ACCEPT.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }
        let eniA = String(try #require(files.first { $0.hasPrefix("03-vpce-secrets-") }).dropFirst("03-vpce-secrets-".count).dropLast(5))
        #expect(logs.contains { $0.count > 12 && $0[2] == eniA && $0[3] == "10.20.1.10" && $0[12] == "REJECT" })
        let eniB = String(b.dropFirst("04-vpce-secrets-".count).dropLast(5))
        #expect(logs.filter { $0.count > 12 && $0[2] == eniB }.map { $0[12] } == ["ACCEPT", "ACCEPT"])
    }

    /// The endpoint's subnet's NACL, inbound, when the client is in another subnet.
    @Test func theEndpointSubnetsNACLAppliesInbound() throws {
        var text = Self.replacing(try Self.yaml(), "subnets: [private-a, private-b]    #", "subnets: [private-b]    #")
        text = Self.replacing(text, "{rule: 100, protocol: tcp, ports: 443, cidr: 10.20.0.0/16, action: allow}",
                              "{rule: 100, protocol: tcp, ports: 443, cidr: 10.20.2.0/24, action: allow}")
        let o = try Self.run(text)
        #expect(o.report.flows[0].outcome == "ok")  // the app server is in the endpoint's subnet: no NACL crossed
        let rotate = o.report.flows[1]
        #expect(rotate.outcome == "timeout")
        let drop = try #require(rotate.drop)
        #expect(drop.component == "acl-0a9b8c7d6e5f40312" && drop.direction == "inbound")
        #expect(drop.packet.hasSuffix("→ 10.20.2.4:443 [SYN]"))
    }

    /// The reply leaves the endpoint's subnet through its NACL outbound (stateless: the ephemeral ports).
    @Test func theEndpointSubnetsNACLAppliesToTheReplyOutbound() throws {
        var text = Self.replacing(try Self.yaml(), "subnets: [private-a, private-b]    #", "subnets: [private-b]    #")
        text = Self.replacing(text, "- {protocol: tcp, ports: 443, security_group: app-sg, description: HTTPS from the app servers}",
                              "- {protocol: tcp, ports: 443, cidr: 10.20.0.0/16}")
        text = Self.replacing(text, "{rule: 110, protocol: tcp, ports: 1024-65535, cidr: 10.20.0.0/16, action: allow}\n\n",
                              "{rule: 110, protocol: tcp, ports: 1024-65535, cidr: 10.20.2.0/24, action: allow}\n\n")
        let o = try Self.run(text)
        let rotate = o.report.flows[1]
        #expect(rotate.outcome == "timeout")
        let drop = try #require(rotate.drop)
        #expect(drop.component == "acl-0a9b8c7d6e5f40312" && drop.direction == "outbound")
        #expect(drop.packet.hasPrefix("tcp 10.20.2.4:443 → 10.20.1.10:"))
        #expect(rotate.hops.last?.action == "delivered", "the SYN reached the endpoint; its SYN-ACK died leaving")
    }

    /// A Lambda function in both AZs: each invocation's private DNS answer is the endpoint ENI in its own AZ.
    @Test func privateDNSAnswersWithTheEndpointENIInTheInvocationsAZ() throws {
        var text = Self.replacing(try Self.yaml(), "subnets: [private-a]\n    security_groups: [lambda-sg]",
                                  "subnets: [private-a, private-b]\n    security_groups: [lambda-sg]")
        text = Self.replacing(text, "private_ips: {private-a: 10.20.1.10}", "private_ips: {private-a: 10.20.1.10, private-b: 10.20.2.11}")
        text = Self.replacing(text, "- {protocol: tcp, ports: 443, security_group: app-sg, description: HTTPS from the app servers}",
                              "- {protocol: tcp, ports: 443, cidr: 10.20.0.0/16}")
        for k in 0..<8 {
            text += "  - {name: call-\(k), from: rotator, to: 'secretsmanager.eu-west-1.amazonaws.com:443', start: \(3 + k)s}\n"
        }
        let o = try Self.run(text)
        var zones = Set<String>()
        for f in o.report.flows.dropFirst(3) {
            #expect(f.outcome == "ok", "\(f.name): \(f.message)")
            let subnet = try #require(f.source_subnet)
            let hop = try #require(f.hops.first { $0.step == "vpc-endpoint" })
            let expected = subnet.hasPrefix("subnet-0a11") ? "(10.20.1.4) in subnet-0a11" : "(10.20.2.4) in subnet-0b11"
            #expect(hop.rule.contains(expected), "\(f.name) from \(subnet): \(hop.rule)")
            zones.insert(subnet)
        }
        #expect(zones.count == 2, "the invocations used both subnets")
    }

    /// Private DNS off: the name is the public service, an outside host of that name when the scenario has one
    /// (here unreachable: the VPC has no route out).
    @Test func privateDNSOffResolvesToThePublicServiceHost() throws {
        var text = Self.replacing(try Self.yaml(), "private_dns: true", "private_dns: false")
        text = Self.replacing(text, "ports: 443, cidr: 10.20.0.0/16, description: HTTPS to the endpoints", "ports: 443, cidr: 0.0.0.0/0")
        text = Self.replacing(text, "\ninstances:", """

            outside_hosts:
              - {name: secretsmanager.eu-west-1.amazonaws.com, ip: 52.94.1.10, ports: {443: https}}

            instances:
            """)
        let o = try Self.run(text)
        let app = o.report.flows[0]
        #expect(app.outcome == "timeout")
        let drop = try #require(app.drop)
        #expect(drop.component == "rtb-0a1b2c3d4e5f60789")
        #expect(drop.packet.contains("→ 52.94.1.10:443 [SYN]"))
    }

    /// describe-vpc-endpoints (Interface) with its ENI from describe-network-interfaces (vpc_endpoint): imported with
    /// its subnet, group, ENI id and address and private DNS, no warning; a flow by the service name reaches it.
    @Test func importedInterfaceEndpointKeepsItsENIAndAnswersItsPrivateDNSName() throws {
        let imported = try AWSImporter.importDirectory(Fixtures.path("aws-json/synthetic/full"))
        #expect(!imported.warnings.contains { $0.id == "vpce-0fedcba9876543210" || $0.id == "eni-0d0d0d0d0d0d0d0d1" })
        let text = imported.yaml + """

            flows:
              - {name: ssm, from: uploader, to: 'ssm.us-east-1.amazonaws.com:443'}

            """
        let s = try ScenarioLoader.load(yaml: text, file: "imported.yaml")
        let ep = try #require(s.model.vpcEndpoints.first { $0.id == "vpce-0fedcba9876543210" })
        #expect(ep.kind == .interface && ep.privateDNS && ep.service == "ssm" && ep.dnsName == "ssm.us-east-1.amazonaws.com")
        #expect(ep.enis.map { s.model.enis[$0].id } == ["eni-0d0d0d0d0d0d0d0d1"])
        #expect(ep.enis.map { s.model.enis[$0].privateIP.description } == ["10.0.1.30"])
        #expect(ep.securityGroups.map { s.model.securityGroups[$0].id } == ["sg-0c1c2c3c4c5c6c7c8"])
        #expect(s.flows[0].destination.address == IPv4Address("10.0.1.30"))
        #expect(s.flows[0].destination.interfaceEndpoint != nil)
    }

    @Test(arguments: [
        ("    private_dns: true\n", "    private_dns: true\n    route_tables: [private-rt]\n",
         "interface-endpoint-sg.yaml:99:5: VPC endpoint vpce-0d1e2f3a4b5c6d7e8: route_tables is for gateway endpoints, not interface"),
        ("availability_zone: eu-west-1b", "availability_zone: eu-west-1a",
         "interface-endpoint-sg.yaml:96:26: vpce-0d1e2f3a4b5c6d7e8 already has a subnet in eu-west-1a (an interface endpoint takes one subnet per Availability Zone)"),
        ("service: com.amazonaws.eu-west-1.secretsmanager", "service: com.amazonaws.us-east-1.secretsmanager",
         "interface-endpoint-sg.yaml:94:14: service com.amazonaws.us-east-1.secretsmanager is in us-east-1, but vpce-0d1e2f3a4b5c6d7e8's subnets are in eu-west-1"),
        ("routes: []  ", "routes: [{destination: 0.0.0.0/0, target: vpce-0d1e2f3a4b5c6d7e8}]  ",
         "interface-endpoint-sg.yaml:42:47: route target vpce-0d1e2f3a4b5c6d7e8 is an interface endpoint; only a gateway endpoint is a route target (an interface endpoint is reached at its network interfaces' addresses)"),
        ("    private_dns: true\n", "    private_dns: true\n    private_ips: [10.20.1.20]\n",
         "interface-endpoint-sg.yaml:99:18: VPC endpoint vpce-0d1e2f3a4b5c6d7e8: private_ips has 1 entries for 2 subnets (one per subnet, in the same order)"),
        ("    private_dns: true\n", "    private_dns: true\n    private_ips: [10.20.1.10, 10.20.2.20]\n",
         "interface-endpoint-sg.yaml:99:19: private_ips 10.20.1.10 is already used by the Lambda ENI"),
    ])
    func badInterfaceEndpointsAreOneLineErrorsAtTheirPlace(_ old: String, _ new: String, _ message: String) throws {
        let text = Self.replacing(try Self.yaml(), old, new)
        do {
            _ = try ScenarioLoader.load(yaml: text, file: "interface-endpoint-sg.yaml")
            Issue.record("loaded: \(new)")
        } catch let e as ScenarioError {
            #expect(e.description.hasPrefix(message), "\(e.description)")
            #expect(!e.description.contains("\n"))
        }
    }
}
