import Testing
@testable import Sim

/// The UDP probes of `vpcsim diff --probes`: which pairs and ports, and the static verdict each way.
@Suite struct UDPProbeTests {
    static let text = """
        vpcs:
          - {id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}
        route_tables:
          - {id: rtb-1, vpc: main, main: true, routes: []}
        network_acls:
          - id: acl-1
            vpc: main
            default: true
            inbound:
              - {rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}
            outbound:
              - {rule: 100, protocol: udp, ports: "1024-65535", cidr: 10.0.2.0/24, action: allow}
              - {rule: 110, protocol: udp, ports: 53, cidr: 10.0.0.0/16, action: allow}
        security_groups:
          - id: sg-dns
            vpc: main
            ingress:
              - {protocol: udp, ports: 53, cidr: 10.0.0.0/16}
              - {protocol: udp, ports: "123-124", cidr: 10.0.0.0/16}
              - {protocol: tcp, ports: 22, cidr: 10.0.0.0/16}
            egress: [{protocol: all, cidr: 0.0.0.0/0}]
          - id: sg-any
            vpc: main
            ingress: [{protocol: all, cidr: 10.0.0.0/16}]
            egress: [{protocol: all, cidr: 0.0.0.0/0}]
          - {id: sg-none, vpc: main, ingress: [], egress: [{protocol: all, cidr: 0.0.0.0/0}]}
        subnets:
          - {id: subnet-1, vpc: main, cidr: 10.0.1.0/24, availability_zone: us-east-1a}
          - {id: subnet-2, vpc: main, cidr: 10.0.2.0/24, availability_zone: us-east-1a}
          - {id: subnet-3, vpc: main, cidr: 10.0.3.0/24, availability_zone: us-east-1a}
        instances:
          - {id: i-1, name: dns, subnet: subnet-1, security_groups: [sg-dns]}
          - {id: i-2, name: any, subnet: subnet-3, security_groups: [sg-any]}
          - {id: i-3, name: client, subnet: subnet-2, security_groups: [sg-none]}
        """

    @Test func pairsAreTheUDPPortsOfTheDestinationsGroups() throws {
        let s = try ScenarioLoader.load(yaml: Self.text, file: "udp.yaml")
        #expect(UDPProbes.pairs(s.model).map(\.name) == [
            "probe dns → any:53/udp",
            "probe any → dns:53/udp", "probe any → dns:123/udp",
            "probe client → dns:53/udp", "probe client → dns:123/udp", "probe client → any:53/udp",
        ])
    }

    /// The NACL lets datagrams out to port 53 anywhere in the VPC, and to the ephemeral ports only into client's
    /// subnet: client gets its DNS reply; any's datagram arrives and the reply is dropped; client's datagram to
    /// 123 is dropped on its way out.
    @Test func eachDirectionHasItsVerdict() throws {
        let s = try ScenarioLoader.load(yaml: Self.text, file: "udp.yaml")
        let pairs = UDPProbes.pairs(s.model)
        let sides = UDPProbes.sides(pairs, in: s)
        func side(_ name: String) throws -> NetworkDiff.Side {
            try #require(pairs.firstIndex { $0.name == name }.flatMap { sides[$0] })
        }
        let ok = try side("probe client → dns:53/udp")
        #expect(ok.outcome == "ok" && ok.dropped_at == nil)
        #expect(ok.path.first == "sg-none" && ok.path.contains("acl-1") && ok.path.contains("sg-dns"), "\(ok.path)")
        let reply = try side("probe any → dns:53/udp")
        #expect(reply.outcome == "REPLY DROPPED")
        #expect(reply.dropped_at?.hasPrefix("acl-1 outbound: ") == true, "\(reply)")
        #expect(reply.message.hasPrefix("the reply: "))
        let request = try side("probe client → dns:123/udp")
        #expect(request.outcome == "DROPPED")
        #expect(request.dropped_at?.hasPrefix("acl-1 outbound: ") == true, "\(request)")
        #expect(request.message.hasPrefix("the datagram: "))
    }
}
