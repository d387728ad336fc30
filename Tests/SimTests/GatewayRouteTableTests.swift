import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Gateway route tables (ingress routing): a route table associated with the internet gateway sends traffic
/// entering the VPC to an inspection appliance first.
@Suite struct GatewayRouteTableTests {
    static let yaml = """
        name: igw-ingress-inspection
        seed: 1
        start_time: 2026-11-26T09:00:00Z
        vpcs:
          - {id: vpc-0a1b2c3d4e5f60718, name: main, cidr_blocks: [10.0.0.0/16]}
        internet_gateways:
          - {id: igw-0c2d4e6f8a0b1c2d3, name: main-igw, vpc: main}
        route_tables:
          - id: rtb-0a0a0a0a0a0a0a0a1
            name: inspection-rt
            vpc: main
            main: true
            routes:
              - {destination: 0.0.0.0/0, target: main-igw}
          - id: rtb-0b0b0b0b0b0b0b0b2
            name: web-rt
            vpc: main
            routes:
              - {destination: 0.0.0.0/0, target: fw}
          - id: rtb-0c0c0c0c0c0c0c0c3
            name: ingress-rt
            vpc: main
            gateway: main-igw
            routes:
              - {destination: 10.0.1.0/24, target: fw}
        security_groups:
          - id: sg-0d1e2f3a4b5c6d7e8
            name: web-sg
            vpc: main
            ingress:
              - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}
          - id: sg-0a9b8c7d6e5f40312
            name: fw-sg
            vpc: main
            ingress:
              - {protocol: all, cidr: 0.0.0.0/0}
        subnets:
          - {id: subnet-0aa11bb22cc33dd44, name: inspection, vpc: main, cidr: 10.0.0.0/24}
          - {id: subnet-0ee55ff6607788990, name: web, vpc: main, cidr: 10.0.1.0/24, route_table: web-rt}
        instances:
          - {id: i-0a0000000000fw001, name: fw, subnet: inspection, private_ip: 10.0.0.10, public_ip: 198.51.100.10, security_groups: [fw-sg], source_dest_check: false, forwarding: stateful}
          - {id: i-0123456789abcdef0, name: web, subnet: web, private_ip: 10.0.1.20, public_ip: 198.51.100.20, security_groups: [web-sg]}
        outside_hosts:
          - {name: client, ip: 203.0.113.50, rtt_ms: 20}
        flows:
          - {name: https-in, from: client, to: '198.51.100.20:443', app: https}

        """

    static func run(_ text: String, out: String? = nil) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "igw-ingress.yaml", out: out)
    }

    /// The SYN enters through the gateway, whose route table sends it to the firewall, which forwards it to the web
    /// server; the reply goes back through the firewall (the web subnet's route) and out: one stateful firewall
    /// sees both ways.
    @Test func inboundTrafficPassesTheApplianceWhenTheGatewayRouteTableExists() throws {
        let out = makeTempDirectory("vpcsim-ingress")
        let o = try Self.run(Self.yaml, out: out)
        let f = o.report.flows[0]
        #expect(f.outcome == "ok", "\(f.message)")
        #expect(f.drop == nil)
        #expect(f.hops.contains { $0.step == "route" && $0.component == "rtb-0c0c0c0c0c0c0c0c3" && $0.rule.hasPrefix("10.0.1.0/24 → eni-") })
        #expect(f.hops.contains { $0.step == "appliance" && $0.action == "forwarded" })
        #expect(f.hops.last?.rule == "delivered to 10.0.1.20")
        // The firewall's capture holds the client's SYN to the web server's private address, in and out.
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let fw = out + "/" + (try #require(files.first { $0.contains("instance-fw-") && $0.hasSuffix(".pcap") }))
        let syn = try TShark.fields(fw, ["ip.src", "ip.dst"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0")
        #expect(syn.filter { !$0.isEmpty } == ["203.0.113.50\t10.0.1.20", "203.0.113.50\t10.0.1.20"])
    }

    /// Without the edge association the SYN goes straight to the web server.
    @Test func inboundTrafficGoesDirectlyWithoutTheGatewayRouteTable() throws {
        var text = ScenarioText.replacing(Self.yaml, "    gateway: main-igw\n", "")
        text = ScenarioText.replacing(text, "- {destination: 0.0.0.0/0, target: fw}", "- {destination: 0.0.0.0/0, target: main-igw}")
        let f = try Self.run(text).report.flows[0]
        #expect(f.outcome == "ok", "\(f.message)")
        #expect(!f.hops.contains { $0.step == "appliance" || $0.component == "rtb-0c0c0c0c0c0c0c0c3" })
        #expect(f.hops.map(\.step) == ["internet", "internet-gateway", "nacl-inbound", "security-group-ingress", "delivered"])
    }

    /// Without it, but with the web subnet still routing out through the firewall: the firewall sees only the
    /// SYN-ACK and drops it (the asymmetric path AWS does not support).
    @Test func withoutTheGatewayRouteTableTheStatefulApplianceSeesOnlyTheReply() throws {
        let text = ScenarioText.replacing(Self.yaml, "    gateway: main-igw\n", "")
        let f = try Self.run(text).report.flows[0]
        #expect(f.outcome == "timeout")
        #expect(f.drop?.component == "i-0a0000000000fw001")
    }

    /// "For traffic that flows through an internet gateway, the target network interface must also have a public
    /// IP address" (VPC-UG gateway-route-tables).
    @Test func anApplianceWithoutAPublicIPIsNotReached() throws {
        let text = ScenarioText.replacing(Self.yaml, "private_ip: 10.0.0.10, public_ip: 198.51.100.10,", "private_ip: 10.0.0.10,")
        let f = try Self.run(text).report.flows[0]
        #expect(f.outcome == "timeout")
        let drop = try #require(f.drop)
        #expect(drop.component == "igw-0c2d4e6f8a0b1c2d3" && drop.rule.contains("which has no public IP"))
    }

    /// A Gateway Load Balancer endpoint as the target: not modeled.
    @Test func aGatewayLoadBalancerEndpointTargetIsNotModeled() throws {
        let text = ScenarioText.replacing(Self.yaml, "- {destination: 10.0.1.0/24, target: fw}",
                                          "- {destination: 10.0.1.0/24, target: vpce-0123456789abcdef0}")
        let f = try Self.run(text).report.flows[0]
        #expect(f.outcome == "not-modeled")
        #expect(f.message.contains("vpce-0123456789abcdef0"))
    }

    @Test(arguments: [
        ("- {destination: 10.0.1.0/24, target: fw}", "- {destination: 10.0.1.0/25, target: fw}",
         "igw-ingress.yaml:25:23: route table rtb-0c0c0c0c0c0c0c0c3 is associated with igw-0c2d4e6f8a0b1c2d3: a route's destination must be the whole CIDR of vpc-0a1b2c3d4e5f60718 or of one of its subnets, not 10.0.1.0/25"),
        ("- {destination: 10.0.1.0/24, target: fw}", "- {destination: 0.0.0.0/0, target: main-igw}",
         "igw-ingress.yaml:25:42: route table rtb-0c0c0c0c0c0c0c0c3 is associated with igw-0c2d4e6f8a0b1c2d3: a route's target must be local, an appliance's network interface or a Gateway Load Balancer endpoint"),
        ("    name: web-rt\n    vpc: main\n", "    name: web-rt\n    vpc: main\n    gateway: main-igw\n",
         "igw-ingress.yaml:24:14: igw-0c2d4e6f8a0b1c2d3 is already associated with route table rtb-0b0b0b0b0b0b0b0b2"),
    ])
    func badGatewayRouteTablesAreOneLineErrors(_ old: String, _ new: String, _ message: String) throws {
        let text = ScenarioText.replacing(Self.yaml, old, new)
        do {
            _ = try ScenarioLoader.load(yaml: text, file: "igw-ingress.yaml")
            Issue.record("loaded: \(new)")
        } catch let e as ScenarioError {
            #expect(e.description.hasPrefix(message), "\(e.description)")
            #expect(!e.description.contains("\n"))
        }
    }

    /// describe-route-tables: an association with GatewayId igw-… becomes `gateway:` on the table.
    @Test func importKeepsTheEdgeAssociation() throws {
        let dir = makeTempDirectory("vpcsim-edge-import")
        let src = Fixtures.path("aws-json/synthetic/full")
        for f in try FileManager.default.contentsOfDirectory(atPath: src) where f.hasSuffix(".json") || f == "prefix-lists" {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: dir + "/" + f)
        }
        let rt = """
            {"RouteTables": [{"RouteTableId": "rtb-0e0e0e0e0e0e0e0e1", "VpcId": "vpc-0a1b2c3d4e5f60718",
              "Associations": [{"RouteTableAssociationId": "rtbassoc-0e1", "RouteTableId": "rtb-0e0e0e0e0e0e0e0e1",
                                "GatewayId": "igw-0c2d4e6f8a0b1c2d3", "Main": false, "AssociationState": {"State": "associated"}}],
              "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}],
              "PropagatingVgws": [], "Tags": []}]}
            """
        try rt.write(toFile: dir + "/describe-route-tables-edge.json", atomically: true, encoding: .utf8)
        let imported = try AWSImporter.importDirectory(dir)
        #expect(!imported.warnings.contains { $0.message.contains("edge association") })
        let s = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml")
        let t = try #require(s.model.routeTables.first { $0.id == "rtb-0e0e0e0e0e0e0e0e1" })
        #expect(t.gateway.map { s.model.internetGateways[$0].id } == "igw-0c2d4e6f8a0b1c2d3")
    }
}
