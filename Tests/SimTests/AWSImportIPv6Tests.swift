import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// `vpcsim import aws` keeps a dual-stack dump's IPv6 blocks, IPv6 routes, egress-only internet gateways and the
/// rules' IPv6 ranges, and the scenario it writes loads.
@Suite struct AWSImportIPv6Tests {
    static let synthetic = Fixtures.path("aws-json/synthetic/full")
    static func cidr6(_ s: String) -> IPv6CIDR { try! IPv6CIDR(parsing: s) }

    @Test func theSyntheticDumpKeepsItsIPv6BlocksRoutesAndRules() throws {
        let imported = try AWSImporter.importDirectory(Self.synthetic)
        let m = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml").model
        let vpc = try #require(m.vpcs.first { $0.id == "vpc-0a1b2c3d4e5f60718" })
        #expect(vpc.ipv6CidrBlocks == [Self.cidr6("2600:1f18:abc:de00::/56")])
        let subnet = try #require(m.subnets.first { $0.id == "subnet-0aa11bb22cc33dd44" })
        #expect(subnet.ipv6Cidr == Self.cidr6("2600:1f18:abc:de00::/64") && subnet.hasIPv4)
        let pub = try #require(m.routeTables.first { $0.id == "rtb-0f1e2d3c4b5a69788" })
        let igw = try #require(m.internetGateways.firstIndex { $0.id == "igw-0c2d4e6f8a0b1c2d3" })
        #expect(pub.ipv6Routes == [IPv6Route(destination: Self.cidr6("2600:1f18:abc:de00::/56"), target: .common(.local)),
                                   IPv6Route(destination: .anyIPv6, target: .common(.internetGateway(igw)))])
        let acl = try #require(m.networkACLs.first { $0.id == "acl-0b1c2d3e4f5a6b7c8" })
        #expect(acl.inboundIPv6.map(\.number) == [130] && acl.inboundIPv6[0].cidr == .anyIPv6)
        #expect(acl.inboundIPv6[0].ports == PortRange(1024, 65535) && acl.inboundIPv6[0].action == .allow)
        let sg = try #require(m.securityGroups.first { $0.id == "sg-0d1e2f3a4b5c6d7e8" })
        #expect(sg.egressIPv6.map(\.peer) == [.cidr(.anyIPv6)])
        #expect(sg.egress.map(\.peer) == [.cidr(.anyIPv4)])
        let w = imported.warnings
        for id in ["vpc-0a1b2c3d4e5f60718", "subnet-0aa11bb22cc33dd44", "rtb-0f1e2d3c4b5a69788", "acl-0b1c2d3e4f5a6b7c8",
                   "sg-0d1e2f3a4b5c6d7e8"] {
            #expect(!w.contains { $0.kind == .ipv6 && $0.id == id }, "\(w.filter { $0.id == id })")
        }
        #expect(imported.yaml.contains("ipv6_cidr: [\"2600:1f18:abc:de00::/56\"]"))
    }

    /// A copy of the synthetic dump with an egress-only internet gateway and the public table's ::/0 through it.
    @Test func anEgressOnlyInternetGatewayAndItsRouteAreKept() throws {
        let dir = makeTempDirectory("vpcsim-eigw")
        let fm = FileManager.default
        for f in try fm.contentsOfDirectory(atPath: Self.synthetic) {
            try fm.copyItem(atPath: Self.synthetic + "/" + f, toPath: dir + "/" + f)
        }
        let tables = dir + "/describe-route-tables.json"
        let text = try String(contentsOfFile: tables, encoding: .utf8)
        let old = "\"DestinationIpv6CidrBlock\": \"::/0\",\n                    \"GatewayId\": \"igw-0c2d4e6f8a0b1c2d3\""
        #expect(text.contains(old))
        try text.replacingOccurrences(of: old, with: "\"DestinationIpv6CidrBlock\": \"::/0\",\n                    "
                                      + "\"EgressOnlyInternetGatewayId\": \"eigw-0123456789abcdef0\"")
            .write(toFile: tables, atomically: true, encoding: .utf8)
        try """
        {"EgressOnlyInternetGateways": [{"Attachments": [{"State": "attached", "VpcId": "vpc-0a1b2c3d4e5f60718"}],
          "EgressOnlyInternetGatewayId": "eigw-0123456789abcdef0", "Tags": [{"Key": "Name", "Value": "main-eigw"}]},
         {"Attachments": [{"State": "attached", "VpcId": "vpc-0999999999999999a"}],
          "EgressOnlyInternetGatewayId": "eigw-0fedcba9876543210", "Tags": []}]}
        """.write(toFile: dir + "/describe-egress-only-internet-gateways.json", atomically: true, encoding: .utf8)
        let imported = try AWSImporter.importDirectory(dir)
        let m = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml").model
        #expect(m.egressOnlyInternetGateways.map(\.id) == ["eigw-0123456789abcdef0"])
        #expect(m.egressOnlyInternetGateways[0].name == "main-eigw")
        let pub = try #require(m.routeTables.first { $0.id == "rtb-0f1e2d3c4b5a69788" })
        #expect(pub.ipv6Routes.last == IPv6Route(destination: .anyIPv6, target: .egressOnlyInternetGateway(0)))
        #expect(imported.warnings.contains { $0.id == "eigw-0fedcba9876543210" && $0.kind == .missingReference })
    }
}
