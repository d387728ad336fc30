import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Routes to components the model does not have (peering, transit gateways, VPC endpoints, virtual private
/// gateways, appliance ENIs): a flow routed there ends `not-modeled`, naming the component, never with a network
/// drop or a fix.
@Suite struct NotModeledTests {
    /// A private subnet with a Lambda whose table routes 0.0.0.0/0 to a NAT gateway, plus `extraRoutes`.
    static func yaml(extraRoutes: [String], flows: String, instances: String = "") -> String {
        """
        name: not-modeled
        vpcs: [{id: vpc-0a1b2c3d4e5f60718, name: main, cidr_blocks: [10.0.0.0/16]}]
        internet_gateways: [{id: igw-0c2d4e6f8a0b1c2d3, name: main-igw, vpc: main}]
        route_tables:
          - {id: rtb-0f1e2d3c4b5a69788, name: public-rt, vpc: main, routes: [{destination: 0.0.0.0/0, target: main-igw}]}
          - id: rtb-0123456789abcdef0
            name: private-rt
            vpc: main
            main: true
            routes:
              - {destination: 0.0.0.0/0, target: public-nat}
        \(extraRoutes.map { "      - \($0)" }.joined(separator: "\n"))
        security_groups: [{id: sg-0d1e2f3a4b5c6d7e8, name: lambda-sg, vpc: main, ingress: [{protocol: all, cidr: 0.0.0.0/0}]}]
        subnets:
          - {id: subnet-0aa11bb22cc33dd44, name: public, vpc: main, cidr: 10.0.0.0/24, route_table: public-rt}
          - {id: subnet-0ee55ff6607788990, name: private, vpc: main, cidr: 10.0.1.0/24, route_table: private-rt}
        nat_gateways: [{id: nat-0e1f2a3b4c5d6e7f8, name: public-nat, subnet: public, private_ip: 10.0.0.5, elastic_ip: 198.51.100.7}]
        lambdas: [{name: uploader, subnets: [private], security_groups: [lambda-sg], timeout: 30, private_ips: {private: 10.0.1.10}}]
        \(instances)
        outside_hosts: [{name: sftp.example.com, ip: 203.0.113.22, ports: {22: sftp}}]
        flows:
        \(flows)
        """
    }

    static func run(_ text: String) throws -> Runner.Outcome {
        let s = try ScenarioLoader.load(yaml: text, file: "nm.yaml")
        var o = Runner.Options(writeFiles: false)
        o.flowLogs = false
        return try Runner.run(scenario: s, options: o)
    }

    static func flow(_ to: String, expect: String? = nil) -> String {
        "  - {name: f, from: uploader, to: \"\(to)\", app: sftp\(expect.map { ", expect: {outcome: \($0)}" } ?? "")}"
    }

    @Test(arguments: [
        ("10.1.0.0/16", "pcx-0123456789abcdef0", "10.1.2.3", "VPC peering"),
        ("172.16.0.0/12", "tgw-0fedcba9876543210", "172.16.5.9", "transit gateway"),
        ("192.168.0.0/16", "vgw-0aaaabbbbccccdddd", "192.168.7.1", "virtual private gateway"),
        ("52.216.0.0/15", "vpce-0abc1234def567890", "52.217.10.20", "VPC endpoint"),
        ("100.64.0.0/10", "eni-0f0f0f0f0f0f0f0f0", "100.64.1.1", "network interface outside the scenario"),
    ])
    func aFlowRoutedOutsideTheModelEndsNotModeledWithoutADropOrAFix(
        destination: String, target: String, address: String, what: String
    ) throws {
        let route = "{destination: \(destination), target: \(target)}"
        let o = try Self.run(Self.yaml(extraRoutes: [route], flows: Self.flow("\(address):22")))
        let f = o.report.flows[0]
        #expect(f.outcome == "not-modeled")
        #expect(f.message == "routed to \(target) (\(what)): not modeled")
        #expect(f.drop == nil && f.drops.isEmpty)
        #expect(f.fix == nil)
        #expect(!o.text.contains("FIX") && !o.text.contains("DROPPED"))
        #expect(o.text.contains("  ? f "))
        #expect(f.hops.last?.action == "not-modeled" && f.hops.last?.rule == "\(destination) → \(target)")
        #expect(o.report.not_modeled_unexpected == 1)
        #expect(o.exitCode == 1)
        // Expected, it is no failure.
        let expected = try Self.run(Self.yaml(extraRoutes: [route], flows: Self.flow("\(address):22", expect: "not-modeled")))
        #expect(expected.report.flows[0].outcome == "not-modeled")
        #expect(expected.report.not_modeled_unexpected == 0 && expected.report.expectations_failed == 0)
        #expect(expected.exitCode == 0)
    }

    /// The route is chosen by longest prefix match: the default route to the NAT gateway still carries the rest.
    @Test func onlyTheLongestPrefixMatchDecides() throws {
        let o = try Self.run(Self.yaml(extraRoutes: ["{destination: 10.1.0.0/16, target: pcx-0123456789abcdef0}"],
                                       flows: Self.flow("sftp.example.com:22", expect: "ok")))
        #expect(o.report.flows[0].outcome == "ok")
        #expect(o.exitCode == 0)
    }

    /// An appliance route to an instance of the scenario reaches it (`Appliance`): a network verdict, not
    /// not-modeled. With EC2's source/destination check on (the default) the instance's ENI drops the packet.
    @Test func aRouteThroughAModeledInstanceReachesItsSourceDestinationCheck() throws {
        let instance = "instances: [{id: i-0123456789abcdef0, name: firewall, subnet: public, security_groups: [lambda-sg], "
            + "private_ip: 10.0.0.20}]"
        let o = try Self.run(Self.yaml(extraRoutes: ["{destination: 100.64.0.0/10, target: firewall}"],
                                       flows: Self.flow("100.64.1.1:22"), instances: instance))
        let f = o.report.flows[0]
        #expect(f.outcome == "timeout", "\(f.message)")
        let drop = try #require(f.drop)
        #expect(drop.kind == "appliance" && drop.component == "i-0123456789abcdef0")
        #expect(drop.rule == "source/destination check: 100.64.1.1 is not 10.0.0.20")
    }

    /// A generator's flows routed outside the model: counted as not-modeled, and the run exits 1 unless the
    /// generator states an expectation.
    @Test func generatedFlowsRoutedOutsideTheModelAreCountedAndFailTheRun() throws {
        var text = Self.yaml(extraRoutes: ["{destination: 10.1.0.0/16, target: pcx-0123456789abcdef0}"], flows: "  []")
        text += "\ngenerators: [{name: g, from: uploader, to: \"10.1.2.3:22\", app: sftp, count: 5, over: 1s}]\n"
        let o = try Self.run(text)
        #expect(o.report.generators[0].outcomes["not-modeled"] == 5)
        #expect(o.report.generators[0].fix == nil)
        #expect(o.exitCode == 1)
    }

    /// An IPv6 route is read into the table's IPv6 routes; a NAT gateway takes one only within the NAT64 prefix.
    @Test func anIPv6RouteIsReadAndANATGatewayTakesOnlyNAT64() throws {
        let s = try ScenarioLoader.load(yaml: Self.yaml(extraRoutes: ["{destination: \"::/0\", target: main-igw}"],
                                                        flows: "  []"), file: "nm.yaml")
        #expect(s.model.routeTables[1].ipv6Routes == [IPv6Route(destination: .anyIPv6, target: .common(.internetGateway(0)))])
        #expect(s.model.routeTables[1].routes.count == 2)
        let text = Self.yaml(extraRoutes: ["{destination: \"2600:1f18::/56\", target: public-nat}"], flows: "  []")
        do {
            _ = try ScenarioLoader.load(yaml: text, file: "nm.yaml")
            Issue.record("loaded")
        } catch let e as ScenarioError {
            #expect(e.message == "route to 2600:1f18::/56 cannot target NAT gateway nat-0e1f2a3b4c5d6e7f8: a NAT gateway "
                    + "takes IPv6 routes only within the NAT64 prefix 64:ff9b::/96", "\(e)")
            #expect(e.line == 12)
        }
    }

    @Test func anEgressOnlyInternetGatewayRouteIsRefusedInOneLine() throws {
        let text = Self.yaml(extraRoutes: ["{destination: 203.0.113.0/24, target: eigw-0123456789abcdef0}"], flows: "  []")
        do {
            _ = try ScenarioLoader.load(yaml: text, file: "nm.yaml")
            Issue.record("loaded")
        } catch let e as ScenarioError {
            #expect(e.message == "route to 203.0.113.0/24 cannot target egress-only internet gateway "
                    + "eigw-0123456789abcdef0: it takes IPv6 destinations only", "\(e)")
        }
    }

    /// Only what is written as IPv6 is called IPv6; other text with a colon keeps the CIDR parser's message.
    @Test func onlyIPv6TextIsCalledIPv6() {
        for s in ["::/0", "::", "2600:1f18:abc:de00::/56", "fe80::1", "::ffff:10.0.0.1"] {
            #expect(YAMLReader.looksLikeIPv6(s), "\(s)")
        }
        for s in ["10.0.0.0:16", "10.0.0.0/16", "pcx-0a:b:c", "a:b", "::/0 "] { #expect(!YAMLReader.looksLikeIPv6(s), "\(s)") }
    }

    /// A rule for an IPv6 CIDR is its own rule, kept apart from the IPv4 ones.
    @Test func anIPv6RuleCIDRIsAnIPv6Rule() throws {
        let text = Self.yaml(extraRoutes: [], flows: "  []")
            .replacingOccurrences(of: "ingress: [{protocol: all, cidr: 0.0.0.0/0}]", with: "ingress: [{protocol: all, cidr: \"::/0\"}]")
        let sg = try ScenarioLoader.load(yaml: text, file: "nm.yaml").model.securityGroups[0]
        #expect(sg.ingress.isEmpty)
        #expect(sg.ingressIPv6 == [SecurityGroupIPv6Rule(proto: .all, ports: nil, peer: .cidr(.anyIPv6), description: nil)])
    }

    /// Gateways cannot take a destination within the VPC (as for peering and internet gateways).
    @Test func aGatewayRouteWithinTheVPCIsRefused() throws {
        let text = Self.yaml(extraRoutes: ["{destination: 10.0.5.0/24, target: tgw-0fedcba9876543210}"], flows: "  []")
        do {
            _ = try ScenarioLoader.load(yaml: text, file: "nm.yaml")
            Issue.record("loaded")
        } catch let e as ScenarioError {
            #expect(e.message.contains("cannot target tgw-0fedcba9876543210"), "\(e)")
        }
    }
}
