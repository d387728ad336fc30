import Foundation
import Testing
import TestSupport
@testable import Sim

/// A private NAT gateway whose subnet routes to a VPC peering connection: a generated flow's departure from the
/// gateway is fused only when its way on is stateless (`VPCNetwork.fusedNATDeparture`), which a crossing of a
/// peering connection never is (it ends at the peer ENI's security group), so the crossing is captured at the
/// connection's point and every output is the same with and without fused hops.
@Suite struct FusedNATPeeringTests {
    /// VPC app (10.0.0.0/16): the client's subnet routes 10.1.0.0/16 to a private NAT gateway, whose subnet routes
    /// it to the peering connection; VPC files (10.1.0.0/16) routes back to the connection. A fleet of HTTPS flows.
    static let yaml = """
        name: private-nat-peering
        seed: 7
        vpcs:
          - {id: vpc-0a00000000000000a, name: app, cidr_blocks: [10.0.0.0/16]}
          - {id: vpc-0b00000000000000b, name: files, cidr_blocks: [10.1.0.0/16]}
        peering_connections:
          - {id: pcx-0a00000000000000a, name: app-files, requester_vpc: app, accepter_vpc: files}
        route_tables:
          - {id: rtb-0a00000000000000a, name: app-rt, vpc: app, main: true, routes: [{destination: 10.1.0.0/16, target: app-private-nat}]}
          - {id: rtb-0a00000000000000b, name: nat-rt, vpc: app, routes: [{destination: 10.1.0.0/16, target: app-files}]}
          - {id: rtb-0b00000000000000b, name: files-rt, vpc: files, main: true, routes: [{destination: 10.0.0.0/16, target: app-files}]}
        security_groups:
          - {id: sg-0a00000000000000a, name: app-sg, vpc: app, ingress: []}
          - {id: sg-0b00000000000000b, name: files-sg, vpc: files, ingress: [{protocol: tcp, ports: 443, cidr: 10.0.0.0/16}]}
        subnets:
          - {id: subnet-0a000000000000001, name: app, vpc: app, cidr: 10.0.1.0/24, availability_zone: us-east-1a}
          - {id: subnet-0a000000000000002, name: nat, vpc: app, cidr: 10.0.2.0/28, availability_zone: us-east-1a, route_table: nat-rt}
          - {id: subnet-0b000000000000001, name: files, vpc: files, cidr: 10.1.1.0/24, availability_zone: us-east-1a}
        nat_gateways:
          - {id: nat-0a00000000000000a, name: app-private-nat, subnet: nat, connectivity: private, private_ip: 10.0.2.5}
        instances:
          - {id: i-0a00000000000000a, name: client, subnet: app, private_ip: 10.0.1.10, security_groups: [app-sg]}
          - {id: i-0b00000000000000b, name: server, subnet: files, private_ip: 10.1.1.10, security_groups: [files-sg]}
        generators:
          - {name: fleet, from: client, to: "server:443", app: https, count: 30, over: 2s}
        """

    /// Fails if a departure across a peering connection is fused: nothing would capture it at the connection.
    @Test func thePeeringPointSeesTheNATGatewaysPacketsWithAndWithoutFusedHops() throws {
        let s = try ScenarioLoader.load(yaml: Self.yaml, file: "private-nat-peering.yaml")
        // Every point but the NAT gateway's: a captured gateway keeps its departure's event anyway.
        let points = VPCNetwork.capturePoints(of: s.model)
        let capture = Set(points.filter { if case .natGateway = $0.component { false } else { true } }.map(\.name))
        #expect(capture.count == points.count - 1)
        var dirs: [String] = []
        var outcomes: [[String: Int]] = []
        for fuses in [true, false] {
            let dir = makeTempDirectory("vpcsim-fused-pcx")
            var options = Runner.Options(outDir: dir, capture: capture)
            options.fusesHops = fuses
            let o = try Runner.run(scenario: s, options: options)
            outcomes.append(contentsOf: o.report.generators.map(\.outcomes))
            dirs.append(dir)
        }
        #expect(outcomes.count == 2 && outcomes[0] == outcomes[1] && outcomes[0].values.reduce(0, +) == 30)
        let files = try FileManager.default.contentsOfDirectory(atPath: dirs[0]).sorted()
        let pcx = try #require(files.first { $0.contains("-pcx-app-files-") && $0.hasSuffix(".pcap") })
        // Every flow's SYN, from the gateway's address, crosses, and its SYN-ACK, to that address, crosses back
        // (`PrivateNATPeeringTests`): every flow completes.
        #expect(outcomes[0]["ok"] == 30, "\(outcomes[0])")
        let syns = try TShark.fields(dirs[0] + "/" + pcx, ["frame.number"],
                                     filter: "ip.src == 10.0.2.5 && tcp.dstport == 443 && tcp.flags.syn == 1")
        let synAcks = try TShark.fields(dirs[0] + "/" + pcx, ["frame.number"],
                                        filter: "ip.dst == 10.0.2.5 && tcp.srcport == 443 && tcp.flags.syn == 1")
        #expect(syns.count == 30 && synAcks.count == 30, "\(syns.count) SYNs, \(synAcks.count) SYN-ACKs")
        for f in files where f.hasSuffix(".pcap") || f.hasSuffix(".pcapng") || f == "flow-logs.txt" {
            let a = try Data(contentsOf: URL(fileURLWithPath: dirs[0] + "/" + f))
            let b = try Data(contentsOf: URL(fileURLWithPath: dirs[1] + "/" + f))
            let same = a == b
            #expect(same, "\(f) differs with fused hops")
        }
    }
}
