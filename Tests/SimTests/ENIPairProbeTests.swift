import Testing
@testable import Sim

/// The ENI-pair probes of `vpcsim diff --probes`: which pairs and ports, in which order.
@Suite struct ENIPairProbeTests {
    @Test func portsOfTheDestinationsGroupsInOrder() throws {
        let text = """
            vpcs:
              - {id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}
            route_tables:
              - {id: rtb-1, vpc: main, main: true, routes: []}
            security_groups:
              - id: sg-web
                vpc: main
                ingress:
                  - {protocol: tcp, ports: 8443, cidr: 10.0.0.0/16}
                  - {protocol: tcp, ports: "8000-8100", cidr: 10.0.0.0/16}
                  - {protocol: udp, ports: 53, cidr: 10.0.0.0/16}
                  - {protocol: icmp, cidr: 10.0.0.0/16}
                egress: []
              - id: sg-any
                vpc: main
                ingress: [{protocol: all, cidr: 10.0.0.0/16}]
                egress: []
              - {id: sg-none, vpc: main, ingress: [], egress: []}
            subnets:
              - {id: subnet-1, vpc: main, cidr: 10.0.0.0/24, availability_zone: us-east-1a}
            instances:
              - {id: i-1, name: web, subnet: subnet-1, security_groups: [sg-web]}
              - {id: i-2, subnet: subnet-1, security_groups: [sg-any, sg-web]}
              - {id: i-3, name: client, subnet: subnet-1, security_groups: [sg-none]}
            lambdas:
              - {name: fn, subnets: [subnet-1], security_groups: [sg-none]}
            """
        let s = try ScenarioLoader.load(yaml: text, file: "pairs.yaml")
        let names = ENIPairProbes.pairs(s.model).map(\.name)
        #expect(names == [
            "probe web → i-2:22", "probe web → i-2:80", "probe web → i-2:443", "probe web → i-2:8000", "probe web → i-2:8443",
            "probe i-2 → web:8000", "probe i-2 → web:8443",
            "probe client → web:8000", "probe client → web:8443",
            "probe client → i-2:22", "probe client → i-2:80", "probe client → i-2:443", "probe client → i-2:8000",
            "probe client → i-2:8443",
            "probe fn → web:8000", "probe fn → web:8443",
            "probe fn → i-2:22", "probe fn → i-2:80", "probe fn → i-2:443", "probe fn → i-2:8000", "probe fn → i-2:8443",
        ])
        // Both networks get the union; a probe whose destination is gone from one is in the other only.
        var after = s
        after.model.securityGroups[0].ingress.removeFirst()
        let (b, a, note) = try NetworkDiff.withProbes(before: s, after: after)
        #expect(note == nil)
        #expect(b.flows.map(\.name) == a.flows.map(\.name))
        #expect(a.flows.map(\.name).contains("probe fn → web:8443"))
    }
}
