import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// A private NAT gateway (VPC-UG nat-gateway-scenarios, "Enable communication between overlapping networks"): it
/// translates to its own private IP and reaches other networks through a transit gateway; the reply comes back
/// to that address and is translated back. Routed to an internet gateway, its traffic is dropped there.
@Suite struct PrivateNATGatewayTests {
    /// VPC A and VPC B both use 10.0.0.0/16 (overlapping) and each has a routable block, 100.64.0.0/24 and
    /// 100.64.1.0/24. A's instance (10.0.1.10) reaches B's server (100.64.1.10) through A's private NAT gateway
    /// (100.64.0.5) and the transit gateway, whose static routes know only the routable blocks.
    static func yaml(natRoute: String = "{destination: 100.64.1.0/24, target: hub}") -> String {
        """
        name: private-nat
        vpcs:
          - {id: vpc-0a00000000000000a, name: a, cidr_blocks: [10.0.0.0/16, 100.64.0.0/24]}
          - {id: vpc-0b00000000000000b, name: b, cidr_blocks: [10.0.0.0/16, 100.64.1.0/24]}
        internet_gateways:
          - {id: igw-0a00000000000000a, name: a-igw, vpc: a}
        route_tables:
          - {id: rtb-0a00000000000000a, name: a-app-rt, vpc: a, main: true, routes: [{destination: 100.64.1.0/24, target: a-private-nat}]}
          - {id: rtb-0a00000000000000b, name: a-nat-rt, vpc: a, routes: [\(natRoute)]}
          - {id: rtb-0b00000000000000b, name: b-rt, vpc: b, main: true, routes: [{destination: 100.64.0.0/24, target: hub}]}
        security_groups:
          - {id: sg-0a00000000000000a, name: a-sg, vpc: a, ingress: []}
          - {id: sg-0b00000000000000b, name: b-sg, vpc: b, ingress: [{protocol: tcp, ports: 443, cidr: 100.64.0.0/24}]}
        subnets:
          - {id: subnet-0a000000000000001, name: a-app, vpc: a, cidr: 10.0.1.0/24, availability_zone: us-east-1a}
          - {id: subnet-0a000000000000002, name: a-nat, vpc: a, cidr: 100.64.0.0/28, availability_zone: us-east-1a, route_table: a-nat-rt}
          - {id: subnet-0a000000000000003, name: a-tgw, vpc: a, cidr: 100.64.0.16/28, availability_zone: us-east-1a}
          - {id: subnet-0b000000000000001, name: b-app, vpc: b, cidr: 100.64.1.0/28, availability_zone: us-east-1a}
          - {id: subnet-0b000000000000003, name: b-tgw, vpc: b, cidr: 100.64.1.16/28, availability_zone: us-east-1a}
        nat_gateways:
          - {id: nat-0a00000000000000a, name: a-private-nat, subnet: a-nat, connectivity: private, private_ip: 100.64.0.5}
        transit_gateways:
          - id: tgw-0c00000000000000c
            name: hub
            attachments:
              - {id: tgw-attach-0a0000000000000a, name: a, vpc: a, subnets: [a-tgw]}
              - {id: tgw-attach-0b0000000000000b, name: b, vpc: b, subnets: [b-tgw]}
            route_tables:
              - id: tgw-rtb-0c0000000000000c1
                name: main
                associations: [a, b]
                routes: [{destination: 100.64.0.0/24, target: a}, {destination: 100.64.1.0/24, target: b}]
        instances:
          - {id: i-0a00000000000000a, name: client, subnet: a-app, private_ip: 10.0.1.10, security_groups: [a-sg]}
          - {id: i-0b00000000000000b, name: server, subnet: b-app, private_ip: 100.64.1.10, security_groups: [b-sg]}
        flows:
          - {name: call, from: client, to: "server:443", app: https}
        """
    }

    static func run(_ yaml: String) throws -> RunReport.Flow {
        let s = try ScenarioLoader.load(yaml: yaml, file: "private-nat.yaml")
        var opts = Runner.Options(writeFiles: false)
        opts.flowLogs = false
        return try Runner.run(scenario: s, options: opts).report.flows[0]
    }

    /// The request leaves the gateway from its private IP; the server's reply to that address comes back through
    /// the transit gateway to the NAT gateway, which translates it back to the client.
    @Test func translatesToItsPrivateIPAcrossATransitGatewayAndTheReplyComesBack() throws {
        let f = try Self.run(Self.yaml())
        #expect(f.outcome == "ok", "\(f.drop.map { "\($0)" } ?? "")")
        let translated = f.hops.filter { $0.step == "nat-gateway" }.map(\.rule)
        #expect(translated.count == 1 && translated[0].hasPrefix("10.0.1.10:") && translated[0].contains(" → 100.64.0.5:"),
                "\(translated)")
        let back = f.reply_hops.filter { $0.step == "nat-gateway" }.map(\.rule)
        #expect(back.count == 1 && back[0].hasPrefix("100.64.0.5:") && back[0].contains(" → 10.0.1.10:"), "\(back)")
    }

    /// VPC-UG nat-gateway-basics: "If you route traffic from the private NAT gateway to the internet gateway, the
    /// internet gateway drops the traffic."
    @Test func routedToAnInternetGatewayItsTrafficIsDroppedThere() throws {
        let f = try Self.run(Self.yaml(natRoute: "{destination: 100.64.1.0/24, target: a-igw}"))
        #expect(f.outcome != "ok")
        #expect(f.drop?.component == "igw-0a00000000000000a" && f.drop?.rule == "no public IP for 100.64.0.5",
                "\(f.drop.map { "\($0)" } ?? "")")
        #expect(f.hops.last?.detail == "nat-0a00000000000000a (a-private-nat) is a private NAT gateway (no Elastic IP)",
                "\(f.hops.last.map { "\($0)" } ?? "")")
    }
}
