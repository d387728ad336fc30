@testable import Packets
import Testing
@testable import Sim

// The generator behind `vpcsim-bench large-vpc`, at a tenth of the benchmark's size. No timing here: the
// benchmark measures; these check that what it loads is valid and complete.

private let smallSize = ScenarioGenerator.Size(subnets: 100, routes: 1000, naclEntries: 500, securityGroups: 200)

@Test func generatedScenarioLoadsWithExactCounts() throws {
    let generator = ScenarioGenerator(size: smallSize, seed: 7)
    let s = try ScenarioLoader.load(yaml: generator.yaml(), file: "large.yaml")
    let m = s.model

    #expect(m.vpcs.count == 1)
    #expect(m.vpcs[0].cidrBlocks.count == generator.vpcBlockCount)
    #expect(m.subnets.count == 100)
    #expect(Set(m.subnets.map(\.id)).count == 100)

    #expect(m.routeTables.count == generator.routeTableCount)
    let locals = m.routeTables.reduce(0) { $0 + $1.routes.filter { $0.target == .local }.count }
    let explicit = m.routeTables.reduce(0) { $0 + $1.routes.count } - locals
    #expect(explicit == 1000)
    #expect(locals == m.routeTables.count * m.vpcs[0].cidrBlocks.count)  // no table routes a VPC block itself
    #expect(m.routeTables.filter { $0.vpc == 0 }.count == m.routeTables.count)
    #expect(m.vpcs[0].mainRouteTable == 1)

    let custom = m.networkACLs.filter { !$0.isDefault }
    #expect(custom.count == generator.networkACLCount)
    #expect(custom.reduce(0) { $0 + $1.inbound.count + $1.outbound.count } == 500)
    #expect(m.networkACLs.count == custom.count + 1)  // and the VPC's implicit default NACL

    #expect(m.securityGroups.count == 200)
    #expect(m.securityGroups.dropFirst().allSatisfy { !$0.ingress.isEmpty })
    #expect(m.internetGateways.count == 1 && m.vpcs[0].internetGateway == 0)
    #expect(m.natGateways.count == 1)
    #expect(m.instances.count == ScenarioGenerator.instanceCount)
    #expect(m.lambdas.count == ScenarioGenerator.lambdaCount)
    #expect(m.outsideHosts.count == 1)
    #expect(s.flows.count == 1)

    // Every ENI got a distinct address inside its subnet.
    #expect(m.enis.allSatisfy { m.subnets[$0.subnet].cidr.contains($0.privateIP) })
    #expect(Set(m.enis.map(\.privateIP)).count == m.enis.count)
}

@Test func generatedScenarioTargetsEveryRouteKind() throws {
    let s = try ScenarioLoader.load(yaml: ScenarioGenerator(size: smallSize, seed: 7).yaml(), file: "large.yaml")
    var kinds = Set<String>()
    for table in s.model.routeTables {
        for route in table.routes {
            switch route.target {
            case .local: kinds.insert("local")
            case .internetGateway: kinds.insert("igw")
            case .natGateway: kinds.insert("nat")
            case .networkInterface: kinds.insert("eni")
            case .peering: kinds.insert("pcx")
            case .peeringConnection: kinds.insert("modeled-pcx")
            case .notModeled: kinds.insert("not-modeled")
            case .blackhole: kinds.insert("blackhole")
            case .transitGateway: kinds.insert("tgw")
            case .vpcEndpoint: kinds.insert("vpce")
            case .vpnGateway: kinds.insert("vgw")
            }
        }
    }
    #expect(kinds == ["local", "igw", "nat", "eni", "pcx", "blackhole"])
}

@Test func generatorIsDeterministic() {
    let a = ScenarioGenerator(size: smallSize, seed: 42).yaml()
    #expect(a == ScenarioGenerator(size: smallSize, seed: 42).yaml())
    #expect(a != ScenarioGenerator(size: smallSize, seed: 43).yaml())
}

@Test func generatedScenarioLoadsForSeveralSeedsAndTheMinimumSize() throws {
    for seed: UInt64 in [1, 2, 3] {
        _ = try ScenarioLoader.load(yaml: ScenarioGenerator(size: smallSize, seed: seed).yaml(), file: "large.yaml")
    }
    let tiny = ScenarioGenerator.Size(subnets: 3, routes: 2, naclEntries: 8, securityGroups: 2)
    let s = try ScenarioLoader.load(yaml: ScenarioGenerator(size: tiny).yaml(), file: "tiny.yaml")
    #expect(s.model.subnets.count == 3)
    #expect(s.model.securityGroups.count == 2)
}

// The loader's indexed checks give the same answers as the scans they replaced.

@Test func overlappingSubnetNamesTheEarliestInFileOrder() {
    let yaml = """
        vpcs:
          - {id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}
        route_tables:
          - {id: rtb-main, vpc: main, main: true}
        subnets:
          - {id: subnet-c, vpc: main, cidr: 10.0.9.0/24}
          - {id: subnet-a, vpc: main, cidr: 10.0.1.0/24}
          - {id: subnet-b, vpc: main, cidr: 10.0.2.0/24}
          - {id: subnet-big, vpc: main, cidr: 10.0.0.0/20}
        """
    #expect(throws: ScenarioError(file: "t.yaml", line: 9, column: 39,
                                  message: "subnets subnet-c (10.0.9.0/24) and subnet-big (10.0.0.0/20) overlap")) {
        try ScenarioLoader.load(yaml: yaml, file: "t.yaml")
    }
}

@Test func duplicateRouteInALargeTableIsFound() {
    var routes = ""
    for i in 0..<2000 { routes += "      - {destination: 172.16.\(i / 250).\(i % 250)/32, target: blackhole}\n" }
    routes += "      - {destination: 172.16.3.17/32, target: blackhole}\n"
    let yaml = """
        vpcs:
          - {id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}
        route_tables:
          - id: rtb-main
            vpc: main
            main: true
            routes:
        \(routes)
        """
    #expect(throws: ScenarioError(file: "t.yaml", line: 2008, column: 23,
                                  message: "route table rtb-main already has a route to 172.16.3.17/32")) {
        try ScenarioLoader.load(yaml: yaml, file: "t.yaml")
    }
}

@Test func addressesAreAllocatedLowestFirstAcrossManyInterfaces() throws {
    var instances = ""
    for i in 0..<300 { instances += "  - {id: i-\(i), subnet: app, security_groups: [sg-1]\(i == 5 ? ", private_ip: 10.0.0.6" : "")}\n" }
    let yaml = """
        vpcs:
          - {id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}
        route_tables:
          - {id: rtb-main, vpc: main, main: true}
        security_groups:
          - {id: sg-1, vpc: main}
        subnets:
          - {id: subnet-app, name: app, vpc: main, cidr: 10.0.0.0/23}
        instances:
        \(instances)
        """
    let m = try ScenarioLoader.load(yaml: yaml, file: "t.yaml").model
    let addresses = m.instances.map { m.enis[$0.eni].privateIP.rawValue - IPv4Address(10, 0, 0, 0).rawValue }
    // i-5 holds .6 explicitly; the others take .4, .5, .7, .8, … in file order.
    #expect(Array(addresses.prefix(7)) == [4, 5, 7, 8, 9, 6, 10])
    #expect(addresses.last == 303)
    #expect(Set(addresses).count == 300)
}

@Test func cidrFastPathAgreesWithTheGeneralParser() {
    let canonical = ["10.0.0.0/16", "0.0.0.0/0", "255.255.255.255", "192.168.1.0/24", "8.0.0.0/05", "1.2.3.4/32"]
    let others = ["10.0.0.0/+8", "10.0.0.1/16", "10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "010.0.0.0/8",
                  "10.0.0.0/8/8", "a.b.c.d/8", "10.0.0.0/123", " 10.0.0.0/8", ""]
    for text in canonical {
        let fast = IPv4CIDR.parseCanonical(text)
        #expect(fast != nil && fast == (try? IPv4CIDR(parsing: text)), "\(text)")
    }
    for text in others { #expect(IPv4CIDR.parseCanonical(text) == nil, "\(text)") }
    // The general path still decides these: '+8' is accepted as before, host bits are an error naming the network.
    #expect((try? IPv4CIDR(parsing: "10.0.0.0/+8"))?.prefixLength == 8)
    #expect(throws: IPv4CIDR.ParseError.hostBitsSet("10.0.0.1/16", network: IPv4Address(10, 0, 0, 0))) {
        try IPv4CIDR(parsing: "10.0.0.1/16")
    }
}

@Test func portRangeFastPathAgreesWithTheGeneralPath() {
    let cases: [(String, PortRange?)] = [
        ("22", PortRange(22, 22)), ("1024-65535", PortRange(1024, 65535)), ("0", PortRange(0, 0)),
        ("0443", PortRange(443, 443)), ("65536", nil), ("123456", nil), ("5-4", nil), ("-5", nil), ("5-", nil),
        ("1-2-3", nil), ("1024 - 2048", PortRange(1024, 2048)), ("22a", nil), ("", nil),
    ]
    for (text, expected) in cases { #expect(ScenarioValues.portRange(text) == expected, "\(text)") }
}
