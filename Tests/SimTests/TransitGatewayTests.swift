import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// The transit gateway: packets between two VPCs through their attachments, both ways; the route table of the
/// arrival attachment (association, propagation, static, blackhole); AZ affinity and appliance mode; the NACL of
/// the attachment subnet; the loader's checks.
@Suite struct TransitGatewayTests {
    struct Options {
        var lambdaSubnet = "a-app-1a"
        var aAttachmentSubnets = "[a-tgw-1a, a-tgw-1b]"
        var bAttachmentSubnets = "[b-tgw-1a, b-tgw-1b]"
        var bApplianceMode = false
        var associations = "[a, b]"
        var propagations = "[a, b]"
        var staticRoutes = ""
        var aTGWSubnetACL = ""
        var aRoute = "{destination: 10.2.0.0/16, target: hub}"
    }

    /// VPC A (10.1/16) with a Lambda, VPC B (10.2/16) with an instance at 10.2.1.20, both with app and attachment
    /// subnets in us-east-1a and us-east-1b, attached to transit gateway "hub" with one route table "main".
    static func yaml(_ o: Options = Options()) -> String {
        """
        name: tgw
        vpcs:
          - {id: vpc-0a00000000000000a, name: a, cidr_blocks: [10.1.0.0/16]}
          - {id: vpc-0b00000000000000b, name: b, cidr_blocks: [10.2.0.0/16]}
        route_tables:
          - {id: rtb-0a00000000000000a, name: a-rt, vpc: a, main: true, routes: [\(o.aRoute)]}
          - {id: rtb-0b00000000000000b, name: b-rt, vpc: b, main: true, routes: [{destination: 10.1.0.0/16, target: hub}]}
        network_acls:
          - id: acl-0a0000000000000a1
            name: a-tgw-acl
            vpc: a
            inbound: [\(o.aTGWSubnetACL.isEmpty ? "{rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}" : o.aTGWSubnetACL)]
            outbound: [{rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}]
        security_groups:
          - {id: sg-0a00000000000000a, name: a-sg, vpc: a, ingress: []}
          - {id: sg-0b00000000000000b, name: b-sg, vpc: b, ingress: [{protocol: tcp, ports: 443, cidr: 10.1.0.0/16}]}
        subnets:
          - {id: subnet-0a000000000000001, name: a-app-1a, vpc: a, cidr: 10.1.1.0/24, availability_zone: us-east-1a}
          - {id: subnet-0a000000000000002, name: a-app-1b, vpc: a, cidr: 10.1.2.0/24, availability_zone: us-east-1b}
          - {id: subnet-0a000000000000003, name: a-tgw-1a, vpc: a, cidr: 10.1.255.0/28, availability_zone: us-east-1a, network_acl: a-tgw-acl}
          - {id: subnet-0a000000000000004, name: a-tgw-1b, vpc: a, cidr: 10.1.255.16/28, availability_zone: us-east-1b, network_acl: a-tgw-acl}
          - {id: subnet-0b000000000000001, name: b-app-1a, vpc: b, cidr: 10.2.1.0/24, availability_zone: us-east-1a}
          - {id: subnet-0b000000000000003, name: b-tgw-1a, vpc: b, cidr: 10.2.255.0/28, availability_zone: us-east-1a}
          - {id: subnet-0b000000000000004, name: b-tgw-1b, vpc: b, cidr: 10.2.255.16/28, availability_zone: us-east-1b}
        transit_gateways:
          - id: tgw-0c00000000000000c
            name: hub
            attachments:
              - {id: tgw-attach-0a0000000000000a, name: a, vpc: a, subnets: \(o.aAttachmentSubnets)}
              - {id: tgw-attach-0b0000000000000b, name: b, vpc: b, subnets: \(o.bAttachmentSubnets), appliance_mode: \(o.bApplianceMode)}
            route_tables:
              - id: tgw-rtb-0c0000000000000c1
                name: main
                associations: \(o.associations)
                propagations: \(o.propagations)
                routes: [\(o.staticRoutes)]
        instances:
          - {id: i-0b00000000000000b, name: server, subnet: b-app-1a, private_ip: 10.2.1.20, security_groups: [b-sg]}
        lambdas:
          - name: caller
            subnets: [\(o.lambdaSubnet)]
            security_groups: [a-sg]
            timeout: 30
            private_ips: {\(o.lambdaSubnet): 10.1.\(o.lambdaSubnet.hasSuffix("1a") ? 1 : 2).10}
        flows:
          - {name: call, from: caller, to: "server:443", app: https}
        """
    }

    static func run(_ o: Options = Options()) throws -> Runner.Outcome {
        let s = try ScenarioLoader.load(yaml: yaml(o), file: "tgw.yaml")
        var opts = Runner.Options(writeFiles: false)
        opts.flowLogs = false
        return try Runner.run(scenario: s, options: opts)
    }

    static func rules(_ hops: [RunReport.Hop], _ step: String) -> [String] {
        hops.filter { $0.step == step }.map { $0.component + " " + $0.rule + ($0.detail.map { " (\($0))" } ?? "") }
    }

    @Test func aFlowCrossesTheGatewayBothWaysByPropagatedRoutes() throws {
        let o = try Self.run()
        let f = o.report.flows[0]
        #expect(f.outcome == "ok")
        #expect(f.drop == nil)
        #expect(Self.rules(f.hops, "tgw-route") == ["tgw-rtb-0c0000000000000c1 10.2.0.0/16 → tgw-attach-0b0000000000000b (vpc) (propagated)"])
        #expect(Self.rules(f.reply_hops, "tgw-route") == ["tgw-rtb-0c0000000000000c1 10.1.0.0/16 → tgw-attach-0a0000000000000a (vpc) (propagated)"])
        // Entering: the Lambda subnet's NACL outbound, then the attachment subnet's inbound; leaving B's
        // attachment ENI: B's route table, the default NACL both ways, the instance's group.
        let steps = f.hops.map { $0.step + " " + $0.component }
        let enter = try #require(steps.firstIndex(of: "nacl-inbound acl-0a0000000000000a1"))
        #expect(steps[enter - 1] == "nacl-outbound acl-default-vpc-0a00000000000000a")
        #expect(steps.suffix(6).dropLast() == ["transit-gateway tgw-attach-0b0000000000000b", "route rtb-0b00000000000000b",
                                    "nacl-outbound acl-default-vpc-0b00000000000000b",
                                    "nacl-inbound acl-default-vpc-0b00000000000000b",
                                    "security-group-ingress sg-0b00000000000000b"])
        #expect(steps.last?.hasPrefix("delivered eni-") == true)
        #expect(o.text.contains("tgw-rtb-0c0000000000000c1 (main) route: 10.2.0.0/16 → tgw-attach-0b0000000000000b (vpc) (propagated)"))
    }

    /// The request enters B's attachment in us-east-1a and the reply goes back into A through its 1a ENI, though
    /// the Lambda sent from 1b: AZ affinity follows the AZ a packet entered in. With appliance mode on B's
    /// attachment, the request leaves B by the flow hash's AZ, and the reply enters the gateway there too.
    @Test func azAffinityAndApplianceMode() throws {
        var opts = Options()
        opts.lambdaSubnet = "a-app-1b"
        let affinity = try Self.run(opts).report.flows[0]
        #expect(affinity.outcome == "ok")
        #expect(Self.rules(affinity.hops, "transit-gateway")
            == ["tgw-attach-0b0000000000000b leaves through subnet-0b000000000000004 (b-tgw-1b) in us-east-1b (AZ affinity)"])
        // The instance is in 1a: its reply enters B's attachment in 1a and leaves A's in 1a, not where the
        // request came from.
        #expect(Self.rules(affinity.reply_hops, "transit-gateway")
            == ["tgw-attach-0a0000000000000a leaves through subnet-0a000000000000003 (a-tgw-1a) in us-east-1a (AZ affinity)"])

        // Appliance mode: the same ENI for a flow's two directions, and both AZs over many flows.
        var model = try ScenarioLoader.load(yaml: Self.yaml(opts), file: "tgw.yaml").model
        model.tgwAttachments[1].applianceMode = true
        let tgw = TransitGateway(model, assumptions: Assumptions())
        var used = Set<Int>()
        for port in UInt16(1024)..<1088 {
            let key = PacketKey(proto: .tcp, source: IPv4Address("10.1.2.10")!, destination: IPv4Address("10.2.1.20")!,
                                sourcePort: port, destinationPort: 443)
            let there = tgw.egress(1, zone: 0, key)
            let back = tgw.egress(1, zone: 1, key.reversed)
            #expect(there.eni == back.eni && there.choice == .applianceMode)
            used.insert(there.eni)
        }
        #expect(used.count == 2)
        // Off, the AZ it entered in decides, whichever the flow.
        let off = TransitGateway(try ScenarioLoader.load(yaml: Self.yaml(opts), file: "tgw.yaml").model, assumptions: Assumptions())
        let key = PacketKey(proto: .tcp, source: IPv4Address("10.1.2.10")!, destination: IPv4Address("10.2.1.20")!,
                            sourcePort: 1024, destinationPort: 443)
        #expect(off.egress(1, zone: off.subnetZone[0], key).choice == .sameAZ)
        #expect(off.egress(1, zone: off.subnetZone[0], key).eni != off.egress(1, zone: off.subnetZone[1], key).eni)

        opts.bApplianceMode = true
        let appliance = try Self.run(opts).report.flows[0]
        #expect(appliance.outcome == "ok")
        #expect(Self.rules(appliance.hops, "transit-gateway").allSatisfy { $0.hasSuffix("(appliance mode: one AZ per flow by flow hash)") })
    }

    @Test func aStaticBlackholeBeatsThePropagatedRouteForTheSamePrefix() throws {
        var opts = Options()
        opts.staticRoutes = "{destination: 10.2.0.0/16, target: blackhole}"
        let f = try Self.run(opts).report.flows[0]
        #expect(f.outcome == "timeout")
        let d = try #require(f.drop)
        #expect(d.kind == "transit-gateway" && d.component == "tgw-rtb-0c0000000000000c1")
        #expect(d.rule == "10.2.0.0/16 → blackhole")
        #expect(f.fix?.changes.isEmpty == true && f.fix?.verified == false)
        #expect(f.fix?.advice?.hasPrefix("the transit gateway route table drops this destination on purpose") == true)
        // A longer static route to an attachment wins over a shorter propagated one.
        opts.staticRoutes = "{destination: 10.2.1.0/24, target: b}, {destination: 10.2.0.0/16, target: blackhole}"
        #expect(try Self.run(opts).report.flows[0].outcome == "ok")
    }

    @Test func noAssociationDropsAtTheAttachmentAndTheFixAssociatesIt() throws {
        var opts = Options()
        opts.associations = "[b]"
        let f = try Self.run(opts).report.flows[0]
        #expect(f.outcome == "timeout")
        let d = try #require(f.drop)
        #expect(d.component == "tgw-attach-0a0000000000000a" && d.rule == "no route table association")
        let fix = try #require(f.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["add association tgw-attach-0a0000000000000a (vpc-0a00000000000000a)"])
        #expect(fix.changes[0].component == "tgw-rtb-0c0000000000000c1 (main)")
    }

    @Test func noPropagationDropsAtTheTableAndTheFixAddsIt() throws {
        var opts = Options()
        opts.propagations = "[a]"
        let f = try Self.run(opts).report.flows[0]
        let d = try #require(f.drop)
        #expect(d.component == "tgw-rtb-0c0000000000000c1" && d.rule == "no route matches 10.2.1.20")
        let fix = try #require(f.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["add propagation tgw-attach-0b0000000000000b (vpc-0b00000000000000b)"])
    }

    @Test func aMissingVPCRouteToTheGatewayIsTheFix() throws {
        var opts = Options()
        opts.aRoute = ""
        let f = try Self.run(opts).report.flows[0]
        #expect(f.drop?.kind == "route")
        let fix = try #require(f.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["add route 10.2.0.0/16 → tgw-0c00000000000000c"])
    }

    @Test func anAZWithoutAnAttachmentSubnetCannotReachTheGateway() throws {
        var opts = Options()
        opts.lambdaSubnet = "a-app-1b"
        opts.aAttachmentSubnets = "[a-tgw-1a]"
        let f = try Self.run(opts).report.flows[0]
        let d = try #require(f.drop)
        #expect(d.component == "tgw-attach-0a0000000000000a" && d.rule == "no subnet in us-east-1b")
        #expect(f.fix?.advice == "add a subnet in us-east-1b to tgw-attach-0a0000000000000a (an attachment takes one "
            + "subnet per AZ; resources in an AZ without one cannot reach the transit gateway)")
    }

    /// A's default route to the gateway, the gateway's to B, and B's attachment subnets' back to the gateway: the
    /// packet turns until its TTL runs out, and the run ends.
    @Test func aRoutingLoopThroughTheGatewayEndsWhenTheTTLRunsOut() throws {
        var opts = Options()
        opts.aRoute = "{destination: 0.0.0.0/0, target: hub}"
        opts.staticRoutes = "{destination: 0.0.0.0/0, target: b}"
        let text = Self.yaml(opts)
            .replacingOccurrences(of: "routes: [{destination: 10.1.0.0/16, target: hub}]}",
                                  with: "routes: [{destination: 10.1.0.0/16, target: hub}, {destination: 0.0.0.0/0, target: hub}]}")
            .replacingOccurrences(of: "flows:\n  - {name: call, from: caller, to: \"server:443\", app: https}",
                                  with: "outside_hosts: [{name: web, ip: 203.0.113.50, ports: {443: https}}]\n"
                                      + "flows:\n  - {name: call, from: caller, to: \"web:443\", app: https}")
        #expect(text.contains("web:443") && text.contains("0.0.0.0/0, target: hub}]}"))
        var o = Runner.Options(writeFiles: false)
        o.flowLogs = false
        let f = try Runner.run(scenario: ScenarioLoader.load(yaml: text, file: "tgw.yaml"), options: o).report.flows[0]
        #expect(f.outcome == "timeout")
        let d = try #require(f.drop)
        #expect(d.component == "tgw-attach-0b0000000000000b" && d.rule == "TTL exceeded")
        // The Lambda's TTL of 64, one lost at each of the 63 turns back into the gateway.
        #expect(f.hops.filter { $0.step == "tgw-route" }.count == 64)
    }

    /// TGW-UG tgw-nacls: the attachment subnet's inbound rules see packets entering the gateway.
    @Test func theAttachmentSubnetsNACLInboundApplies() throws {
        var opts = Options()
        opts.aTGWSubnetACL = "{rule: 100, protocol: tcp, ports: 443, cidr: 10.1.1.0/24, action: deny}, {rule: 200, protocol: all, cidr: 0.0.0.0/0, action: allow}"
        let f = try Self.run(opts).report.flows[0]
        let d = try #require(f.drop)
        #expect(d.kind == "nacl" && d.direction == "inbound" && d.component == "acl-0a0000000000000a1")
        #expect(d.rule.hasPrefix("#100 DENY tcp 443"))
    }

    @Test(arguments: [
        ("subnets: [a-tgw-1a, a-tgw-1b]", "subnets: [a-tgw-1a, a-app-1a]",
         "tgw.yaml:29:80: attachment tgw-attach-0a0000000000000a has two subnets in us-east-1a (subnet-0a000000000000003, subnet-0a000000000000001); it takes one per AZ"),
        ("subnets: [a-tgw-1a, a-tgw-1b]", "subnets: [a-tgw-1a, b-tgw-1b]",
         "tgw.yaml:29:80: subnet subnet-0b000000000000004 is in vpc-0b00000000000000b, not vpc-0a00000000000000a of attachment tgw-attach-0a0000000000000a"),
        ("id: tgw-attach-0a0000000000000a", "id: tgwa-0a", "tgw.yaml:29:14: transit gateway attachment id 'tgwa-0a' must start with 'tgw-attach-'"),
        ("id: tgw-rtb-0c0000000000000c1", "id: rtb-0c0000000000000c9", "tgw.yaml:32:13: transit gateway route table id 'rtb-0c0000000000000c9' must start with 'tgw-rtb-'"),
        ("associations: [a, b]", "associations: [a, b, a]", "tgw.yaml:34:30: attachment tgw-attach-0a0000000000000a is already associated with tgw-rtb-0c0000000000000c1 (an attachment takes one route table)"),
        ("associations: [a, b]", "associations: [a, c]", "tgw.yaml:34:27: transit gateway attachment c is not defined"),
        ("routes: []", "routes: [{destination: 10.9.0.0/16, target: nowhere}]",
         "tgw.yaml:36:53: transit gateway attachment nowhere is not defined"),
        ("name: a, vpc: a, subnets", "name: a, type: peering, vpc: a, subnets", "tgw.yaml:29:58: attachment type 'peering' is not modeled (vpc and vpn attachments are)"),
        ("name: a, vpc: a, subnets", "name: a, type: vpn, vpc: a, subnets", "tgw.yaml:29:63: a vpn attachment takes vpn_connection, not vpc"),
        ("name: b, vpc: b,", "name: b, vpc: a,", "tgw.yaml:30:57: vpc-0a00000000000000a is already attached to tgw-0c00000000000000c by tgw-attach-0a0000000000000a"),
        ("{destination: 10.1.0.0/16, target: hub}", "{destination: 10.1.0.0/16, target: tgw-0c00000000000000c}, {destination: 10.3.0.0/16, target: tgw-0ffffffffffffffff}", nil),
    ] as [(String, String, String?)])
    func theLoaderChecksTransitGateways(from: String, to: String, error: String?) throws {
        let text = Self.yaml().replacingOccurrences(of: from, with: to)
        #expect(text != Self.yaml())
        do {
            let s = try ScenarioLoader.load(yaml: text, file: "tgw.yaml")
            #expect(error == nil, "loaded")
            // A tgw- id the scenario does not define stays a target outside the model.
            #expect(s.model.routeTables[1].routes.last?.target == .notModeled("tgw-0ffffffffffffffff"))
            #expect(s.model.routeTables[1].routes.dropLast().last?.target == .transitGateway(0))
        } catch let e as ScenarioError {
            #expect(e.description == error)
        }
    }

    @Test func aRouteToAGatewayTheVPCIsNotAttachedToIsRefused() throws {
        let text = Self.yaml()
            .replacingOccurrences(of: "\n      - {id: tgw-attach-0b0000000000000b, name: b, vpc: b, subnets: [b-tgw-1a, b-tgw-1b], appliance_mode: false}", with: "")
            .replacingOccurrences(of: "[a, b]", with: "[a]")
        #expect(!text.contains("tgw-attach-0b"))
        #expect(throws: ScenarioError.self) { try ScenarioLoader.load(yaml: text, file: "tgw.yaml") }
        do { _ = try ScenarioLoader.load(yaml: text, file: "tgw.yaml") } catch let e as ScenarioError {
            #expect(e.message.hasPrefix("route target tgw-0c00000000000000c has no attachment in vpc-0b00000000000000b"))
        }
    }
}
