import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Virtual private gateways and Site-to-Site VPN: packets to an on-premises host and back through the tunnel;
/// route propagation and the static route's priority; the VPN connection's own routes; a transit gateway's VPN
/// attachment; the fixes; the loader's checks.
@Suite struct VPNTests {
    struct Options {
        var propagating = "[corp-vgw]"
        var appRoutes = "[]"
        var staticRoutes = "[172.16.0.0/16]"
        var onPremACLInbound = "{rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}"
        var extra = ""
    }

    /// VPC app (10.20/16): a Lambda at 10.20.1.10 in subnet "app" (route table app-rt), a virtual private
    /// gateway with one static-routing VPN connection to customer gateway "dc", behind which 172.16.10.5 serves
    /// HTTPS.
    static func yaml(_ o: Options = Options()) -> String {
        """
        name: vpn
        vpcs:
          - {id: vpc-0c000000000000001, name: app, cidr_blocks: [10.20.0.0/16]}
        route_tables:
          - {id: rtb-0c000000000000011, name: app-rt, vpc: app, main: true, propagating_vgws: \(o.propagating), routes: \(o.appRoutes)}
        network_acls:
          - id: acl-0c000000000000021
            name: app-acl
            vpc: app
            inbound: [\(o.onPremACLInbound)]
            outbound: [{rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}]
        security_groups:
          - {id: sg-0c000000000000031, name: app-sg, vpc: app, ingress: []}
        subnets:
          - {id: subnet-0c000000000000041, name: app, vpc: app, cidr: 10.20.1.0/24, availability_zone: us-east-1a, network_acl: app-acl}
        vpn_gateways:
          - {id: vgw-0c000000000000051, name: corp-vgw, vpc: app}
        customer_gateways:
          - {id: cgw-0c000000000000061, name: dc, ip_address: 198.51.100.10}
        vpn_connections:
          - {id: vpn-0c000000000000071, name: dc-vpn, vpn_gateway: corp-vgw, customer_gateway: dc, static_routes: \(o.staticRoutes), tunnels: [34.192.10.1, 52.1.20.2]}
        onprem_networks:
          - name: lan
            customer_gateway: dc
            cidrs: [172.16.0.0/16]
            hosts:
              - {name: api.corp, ip: 172.16.10.5, rtt_ms: 10, ports: {443: https}}
        lambdas:
          - {name: caller, subnets: [app], security_groups: [app-sg], timeout: 30, private_ips: {app: 10.20.1.10}}
        flows:
          - {name: call, from: caller, to: "api.corp:443", app: https}
        \(o.extra)
        """
    }

    static func run(_ yaml: String, captures: String? = nil) throws -> Runner.Outcome {
        let s = try ScenarioLoader.load(yaml: yaml, file: "vpn.yaml")
        var opts = Runner.Options(writeFiles: captures != nil)
        opts.outDir = captures
        opts.flowLogs = captures != nil
        return try Runner.run(scenario: s, options: opts)
    }

    static func rules(_ hops: [RunReport.Hop]) -> [String] {
        hops.map { "\($0.step) \($0.component) \($0.rule)" }
    }

    @Test func aFlowCrossesTheTunnelBothWaysByThePropagatedRoute() throws {
        let out = makeTempDirectory("vpcsim-vpn")
        let o = try Self.run(Self.yaml(), captures: out)
        let f = o.report.flows[0]
        #expect(f.outcome == "ok")
        #expect(Self.rules(f.hops) == [
            "security-group-egress sg-0c000000000000031 ALLOW all 0.0.0.0/0",
            "route rtb-0c000000000000011 172.16.0.0/16 → vgw-0c000000000000051 (propagated)",
            "nacl-outbound acl-0c000000000000021 #100 ALLOW all 0.0.0.0/0",
            "vpn-gateway vgw-0c000000000000051 172.16.0.0/16 → vpn-0c000000000000071 (static route)",
            "vpn-connection vpn-0c000000000000071 tunnel 1 (34.192.10.1) → cgw-0c000000000000061 (dc)",
            "delivered api.corp delivered to 172.16.10.5",
        ])
        // The reply enters at the gateway and follows the VPC's local route: the subnet's NACL, the group.
        #expect(Self.rules(f.reply_hops).prefix(4) == [
            "vpn-connection vpn-0c000000000000071 cgw-0c000000000000061 (dc) → tunnel 1 (34.192.10.1)",
            "vpn-gateway vgw-0c000000000000051 10.20.1.10 → local",
            "nacl-inbound acl-0c000000000000021 #100 ALLOW all 0.0.0.0/0",
            "security-group-ingress sg-0c000000000000031 tracked connection (reply or continuation)",
        ])
        #expect(f.hops[3].detail?.contains("inner MTU 1446, MSS 1406") == true)
        // The tunnel's capture holds the inner packets both ways, as tshark reads them.
        let vpn = try #require(o.report.captures.first { $0.component == "vpn-0c000000000000071" })
        let pairs = try TShark.fields(out + "/" + vpn.file, ["ip.src", "ip.dst"])
        #expect(pairs.first == "10.20.1.10\t172.16.10.5")
        #expect(pairs.contains("172.16.10.5\t10.20.1.10"))
        #expect(pairs.count == vpn.packets)
        // Flow logs: the Lambda ENI logs both directions, ACCEPT; no record of the gateway (it has no ENI).
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
        #expect(logs.dropFirst().count == 2)
        #expect(logs.dropFirst().allSatisfy { $0.contains(" 10.20.1.10 ") || $0.contains(" 172.16.10.5 ") })
        #expect(logs.dropFirst().allSatisfy { $0.hasSuffix("ACCEPT OK") })
    }

    @Test func aStaticRouteBeatsAPropagatedOneOfTheSamePrefix() throws {
        var opts = Options()
        opts.appRoutes = "[{destination: 172.16.0.0/16, target: blackhole}]"
        let f = try Self.run(Self.yaml(opts)).report.flows[0]
        #expect(f.outcome == "timeout")
        #expect(f.drop?.component == "rtb-0c000000000000011")
        #expect(f.drop?.rule == "172.16.0.0/16 → blackhole")
        // A longer propagated prefix still wins over a shorter static one.
        opts.appRoutes = "[{destination: 172.0.0.0/8, target: blackhole}]"
        #expect(try Self.run(Self.yaml(opts)).report.flows[0].outcome == "ok")
        // A static route to the gateway works without propagation.
        opts.propagating = "[]"
        opts.appRoutes = "[{destination: 172.16.0.0/12, target: corp-vgw}]"
        let s = try Self.run(Self.yaml(opts)).report.flows[0]
        #expect(s.outcome == "ok")
        #expect(s.hops[1].rule == "172.16.0.0/12 → vgw-0c000000000000051")
    }

    @Test func aMissingPropagationIsFixedByEnablingIt() throws {
        var opts = Options()
        opts.propagating = "[]"
        let f = try Self.run(Self.yaml(opts)).report.flows[0]
        #expect(f.outcome == "timeout")
        #expect(f.drop?.rule == "no route matches 172.16.10.5")
        let fix = try #require(f.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.component) == ["rtb-0c000000000000011 (app-rt)"])
        #expect(fix.changes.map(\.change) == ["enable route propagation from vgw-0c000000000000051"])
    }

    @Test func aVPNConnectionWithoutTheRouteDropsAtTheGatewayAndTheFixAddsIt() throws {
        var opts = Options()
        opts.staticRoutes = "[192.168.0.0/16]"
        opts.appRoutes = "[{destination: 172.16.0.0/16, target: corp-vgw}]"
        let f = try Self.run(Self.yaml(opts)).report.flows[0]
        #expect(f.outcome == "timeout")
        #expect(f.drop?.component == "vgw-0c000000000000051")
        #expect(f.drop?.kind == "vpn")
        #expect(f.drop?.rule == "no VPN connection route matches 172.16.10.5")
        let fix = try #require(f.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["add static route 172.16.0.0/16 (aws ec2 create-vpn-connection-route)"])
        #expect(fix.changes.map(\.component) == ["vpn-0c000000000000071 (dc-vpn)"])
    }

    @Test func theReplyCrossesTheSubnetsNACLInbound() throws {
        var opts = Options()
        opts.onPremACLInbound = "{rule: 100, protocol: tcp, ports: 443, cidr: 0.0.0.0/0, action: allow}"
        let f = try Self.run(Self.yaml(opts)).report.flows[0]
        #expect(f.outcome == "timeout")
        #expect(f.drop?.component == "acl-0c000000000000021")
        #expect(f.drop?.direction == "inbound")
        #expect(f.drop?.packet.contains("172.16.10.5:443 → 10.20.1.10") == true)
    }

    /// The on-premises host is not on the internet: an outside host cannot reach its private address.
    @Test func anOnPremisesHostIsReachedOnlyThroughItsVPN() throws {
        var opts = Options()
        opts.propagating = "[]"
        opts.extra = """
        outside_hosts:
          - {name: web, ip: 203.0.113.9, ports: {443: https}}
        """
        var yaml = Self.yaml(opts)
        yaml = yaml.replacingOccurrences(of: "  - {name: call, from: caller, to: \"api.corp:443\", app: https}",
                                         with: "  - {name: call, from: web, to: \"api.corp:443\", app: https}")
        let f = try Self.run(yaml).report.flows[0]
        #expect(f.outcome == "timeout")
        #expect(f.drop?.rule == "no modeled host or public IP at 172.16.10.5")
    }

    /// A transit gateway with VPC attachment "app" and a VPN attachment: the TGW route table propagates both,
    /// so the Lambda reaches on-premises through the gateway and the reply comes back through it.
    static func tgwYAML(propagations: String) -> String {
        """
        name: tgw-vpn
        vpcs:
          - {id: vpc-0c000000000000001, name: app, cidr_blocks: [10.20.0.0/16]}
        route_tables:
          - {id: rtb-0c000000000000011, name: app-rt, vpc: app, main: true, routes: [{destination: 172.16.0.0/12, target: hub}]}
        security_groups:
          - {id: sg-0c000000000000031, name: app-sg, vpc: app, ingress: []}
        subnets:
          - {id: subnet-0c000000000000041, name: app, vpc: app, cidr: 10.20.1.0/24, availability_zone: us-east-1a}
          - {id: subnet-0c000000000000042, name: tgw, vpc: app, cidr: 10.20.255.0/28, availability_zone: us-east-1a}
        customer_gateways:
          - {id: cgw-0c000000000000061, name: dc, ip_address: 198.51.100.10}
        vpn_connections:
          - {id: vpn-0c000000000000071, name: dc-vpn, customer_gateway: dc, static_routes_only: false, bgp_prefixes: [172.16.0.0/16]}
        onprem_networks:
          - {name: lan, customer_gateway: dc, cidrs: [172.16.0.0/16], hosts: [{name: api.corp, ip: 172.16.10.5, ports: {443: https}}]}
        transit_gateways:
          - id: tgw-0c00000000000000c
            name: hub
            attachments:
              - {id: tgw-attach-0a0000000000000a, name: app, vpc: app, subnets: [tgw]}
              - {id: tgw-attach-0b0000000000000b, name: dc, type: vpn, vpn_connection: dc-vpn}
            route_tables:
              - {id: tgw-rtb-0c0000000000000c1, name: main, associations: [app, dc], propagations: \(propagations)}
        lambdas:
          - {name: caller, subnets: [app], security_groups: [app-sg], timeout: 30, private_ips: {app: 10.20.1.10}}
        flows:
          - {name: call, from: caller, to: "api.corp:443", app: https}
        """
    }

    @Test func throughATransitGatewayVPNAttachment() throws {
        let out = makeTempDirectory("vpcsim-tgw-vpn")
        let o = try Self.run(Self.tgwYAML(propagations: "[app, dc]"), captures: out)
        let f = o.report.flows[0]
        #expect(f.outcome == "ok")
        #expect(f.hops.filter { $0.step == "tgw-route" }.map(\.rule)
            == ["172.16.0.0/16 → tgw-attach-0b0000000000000b (vpn) (propagated)"])
        #expect(f.hops.contains { $0.step == "vpn-connection" && $0.component == "vpn-0c000000000000071" })
        #expect(f.reply_hops.filter { $0.step == "tgw-route" }.map(\.rule)
            == ["10.20.0.0/16 → tgw-attach-0a0000000000000a (vpc) (propagated)"])
        // Both the attachment's and the tunnel's captures hold the flow's packets; tshark reads them.
        for component in ["tgw-attach-0a0000000000000a", "vpn-0c000000000000071"] {
            let c = try #require(o.report.captures.first { $0.component == component })
            #expect(c.packets > 0)
            #expect(try TShark.problems(in: out + "/" + c.file).problems == [])
        }
        // Without the VPN attachment's propagation, the TGW route table has no route to on-premises.
        let missing = try Self.run(Self.tgwYAML(propagations: "[app]")).report.flows[0]
        #expect(missing.drop?.component == "tgw-rtb-0c0000000000000c1")
        #expect(missing.drop?.rule == "no route matches 172.16.10.5")
    }

    @Test(arguments: [
        ("route_tables:\n  - {id: rtb-0c000000000000011", "route_tables:\n  - {id: rtb-0c000000000000011",
         "  - {id: vgw-0c000000000000051, name: corp-vgw, vpc: app}", "  - {id: vgw-0c000000000000051, name: corp-vgw}",
         "vpn.yaml:21:60: vgw-0c000000000000051 is not attached to a VPC"),
        ("static_routes: [172.16.0.0/16]", "static_routes_only: true, static_routes: [172.16.0.0/16], bgp_prefixes: [10.9.0.0/16]", "", "",
         "vpn.yaml:21:150: VPN connection vpn-0c000000000000071 uses static routing (static_routes_only: true): bgp_prefixes does not apply"),
        ("ip: 172.16.10.5", "ip: 172.17.10.5", "", "",
         "vpn.yaml:27:9: on-premises host api.corp 172.17.10.5 is outside network lan (172.16.0.0/16)"),
        ("cidrs: [172.16.0.0/16]", "cidrs: [10.20.0.0/16]", "", "",
         "vpn.yaml:25:12: on-premises CIDR 10.20.0.0/16 overlaps vpc-0c000000000000001 (overlapping networks over a VPN are not modeled)"),
    ])
    func theLoaderRefusesWhatAWSDoesNot(_ c: (String, String, String, String, String)) throws {
        var yaml = Self.yaml().replacingOccurrences(of: c.0, with: c.1)
        if !c.2.isEmpty { yaml = yaml.replacingOccurrences(of: c.2, with: c.3) }
        #expect(throws: ScenarioError.self) { try ScenarioLoader.load(yaml: yaml, file: "vpn.yaml") }
        do { _ = try ScenarioLoader.load(yaml: yaml, file: "vpn.yaml") } catch let e as ScenarioError {
            #expect(e.description == c.4)
        }
    }

    @Test func aConnectionWithoutAGatewayIsRefused() throws {
        let yaml = Self.tgwYAML(propagations: "[app]").replacingOccurrences(
            of: "      - {id: tgw-attach-0b0000000000000b, name: dc, type: vpn, vpn_connection: dc-vpn}\n", with: "")
            .replacingOccurrences(of: "associations: [app, dc]", with: "associations: [app]")
        do {
            _ = try ScenarioLoader.load(yaml: yaml, file: "t.yaml")
            Issue.record("loaded")
        } catch let e as ScenarioError {
            #expect(e.message.hasPrefix("VPN connection vpn-0c000000000000071 has neither a vpn_gateway nor"))
        }
    }
}
