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

    /// A copy of the synthetic dump in a new directory, `old` replaced by `new` in its describe-route-tables.json.
    static func syntheticCopy(_ label: String, tables old: String, _ new: String) throws -> String {
        let dir = makeTempDirectory(label)
        let fm = FileManager.default
        for f in try fm.contentsOfDirectory(atPath: Self.synthetic) {
            try fm.copyItem(atPath: Self.synthetic + "/" + f, toPath: dir + "/" + f)
        }
        let tables = dir + "/describe-route-tables.json"
        let text = try String(contentsOfFile: tables, encoding: .utf8)
        #expect(text.contains(old))
        try text.replacingOccurrences(of: old, with: new).write(toFile: tables, atomically: true, encoding: .utf8)
        return dir
    }

    /// A copy of the synthetic dump with an egress-only internet gateway and the public table's ::/0 through it.
    @Test func anEgressOnlyInternetGatewayAndItsRouteAreKept() throws {
        let dir = try Self.syntheticCopy("vpcsim-eigw",
            tables: "\"DestinationIpv6CidrBlock\": \"::/0\",\n                    \"GatewayId\": \"igw-0c2d4e6f8a0b1c2d3\"",
            "\"DestinationIpv6CidrBlock\": \"::/0\",\n                    \"EgressOnlyInternetGatewayId\": \"eigw-0123456789abcdef0\"")
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

    /// An IPv6 route to a peering connection (DestinationIpv6CidrBlock with VpcPeeringConnectionId) is kept as an IPv6
    /// route to it; the connection's far VPC is outside the dump, so the route keeps the connection's id.
    @Test func anIPv6RouteToAPeeringConnectionIsKept() throws {
        let old = "\"DestinationCidrBlock\": \"10.60.0.0/16\",\n                    \"VpcPeeringConnectionId\": \"pcx-0a1b2c3d4e5f60718\"\n                },"
        let dir = try Self.syntheticCopy("vpcsim-pcx6", tables: old, old + "\n                {\"Origin\": \"CreateRoute\", "
            + "\"State\": \"active\", \"DestinationIpv6CidrBlock\": \"2600:1f18:feed:aa00::/56\", "
            + "\"VpcPeeringConnectionId\": \"pcx-0a1b2c3d4e5f60718\"},")
        let imported = try AWSImporter.importDirectory(dir)
        let m = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml").model
        #expect(m.routeTables.contains { $0.ipv6Routes.contains(IPv6Route(destination: Self.cidr6("2600:1f18:feed:aa00::/56"),
                                                                           target: .common(.peering("pcx-0a1b2c3d4e5f60718")))) },
                "\(imported.yaml)")
        #expect(!imported.warnings.contains { $0.kind == .ipv6 && $0.message.contains("2600:1f18:feed:aa00::/56") }, "\(imported.warnings)")
    }

    // MARK: The dual-stack dump (aws-json/synthetic/dualstack, README.txt there)

    static let dualstack = Fixtures.path("aws-json/synthetic/dualstack")
    static let p6 = "2600:1f14:fab:12"

    static func importDualStack(_ change: ((String) throws -> Void)? = nil) throws -> (AWSImport, VPCModel) {
        var dir = dualstack
        if let change {
            dir = makeTempDirectory("vpcsim-ds")
            for f in try FileManager.default.contentsOfDirectory(atPath: dualstack) {
                try FileManager.default.copyItem(atPath: dualstack + "/" + f, toPath: dir + "/" + f)
            }
            try change(dir)
        }
        let imported = try AWSImporter.importDirectory(dir)
        return (imported, try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml").model)
    }

    static func edit(_ dir: String, _ file: String, _ old: String, _ new: String) throws {
        let path = dir + "/" + file
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(old), "\(file): \(old)")
        try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func anIPv6OnlySubnetIsImportedWithoutACIDRAndItsInstanceKeepsItsAddress() throws {
        let (imported, m) = try Self.importDualStack()
        let v6only = try #require(m.subnets.first { $0.id == "subnet-0d5a000000000a003" })
        #expect(!v6only.hasIPv4 && v6only.ipv6Cidr == Self.cidr6(Self.p6 + "02::/64") && v6only.assignIPv6OnCreation)
        let box = try #require(m.instances.first { $0.id == "i-0d5a00000000000b3" })
        #expect(m.enis[box.eni].ipv6Address == IPv6Address(Self.p6 + "02:4f2e:8d1c:b3a9:7e60"))
        #expect(imported.yaml.contains("- {id: subnet-0d5a000000000a003, name: \"v6only\", vpc: vpc-0d5a1c2b3e4f56789, "
                                       + "ipv6_cidr: \"2600:1f14:fab:1202::/64\", availability_zone"))
        let pub = try #require(m.subnets.first { $0.id == "subnet-0d5a000000000a001" })
        #expect(pub.hasIPv4 && pub.assignIPv6OnCreation)
        #expect(!imported.warnings.contains { $0.id == "subnet-0d5a000000000a003" })
        // EnableDns64 is kept (true on the IPv6-only subnet only), written as enable_dns64 and nowhere else.
        #expect(v6only.enableDNS64 && !pub.enableDNS64)
        #expect(imported.yaml.components(separatedBy: "enable_dns64: true").count == 2, "\(imported.yaml)")
        #expect(imported.yaml.split(separator: "\n").contains {
            $0.contains("subnet-0d5a000000000a003") && $0.hasSuffix(", enable_dns64: true}")
        })
    }

    @Test func aNATGatewayOrALambdaSubnetInAnIPv6OnlySubnetIsLeftOutWithAWarning() throws {
        let (imported, m) = try Self.importDualStack { dir in
            try Self.edit(dir, "describe-nat-gateways.json", "\"SubnetId\": \"subnet-0d5a000000000a001\"",
                          "\"SubnetId\": \"subnet-0d5a000000000a003\"")
            try Self.edit(dir, "lambda-list-functions.json", "\"subnet-0d5a000000000a002\"\n                ]",
                          "\"subnet-0d5a000000000a002\", \"subnet-0d5a000000000a003\"\n                ]")
        }
        #expect(m.natGateways.isEmpty)
        #expect(imported.warnings.contains { $0.id == "nat-0d5a1c2b3e4f5678d" && $0.kind == .repaired
                                             && $0.message.contains("IPv6-only subnet subnet-0d5a000000000a003") })
        let f = try #require(m.lambdas.first { $0.name == "uploader" })
        #expect(f.subnets.map { m.subnets[$0].id } == ["subnet-0d5a000000000a002"] && f.ipv6AllowedForDualStack)
        #expect(imported.warnings.contains { $0.id == "uploader" && $0.message.contains("subnet-0d5a000000000a003 is IPv6-only") })
    }

    @Test func instanceIPv6AddressesAreKeptOneAnENIAndTheRestNamed() throws {
        let (imported, m) = try Self.importDualStack()
        func ipv6(_ id: String) throws -> IPv6Address? {
            m.enis[try #require(m.instances.first { $0.id == id }).eni].ipv6Address
        }
        // The primary (IsPrimaryIpv6) of two; the second is warned about.
        #expect(try ipv6("i-0d5a00000000000b1") == IPv6Address(Self.p6 + "00:9c1e:4a2b:7d3f:1a05"))
        #expect(imported.warnings.contains { $0.id == "eni-0d5a00000000000b1" && $0.kind == .notModelled
                                             && $0.message.contains("1a06") })
        // The other interface (device 1) keeps its own, as its `network_interfaces:` entry's ipv6_address.
        let b1 = try #require(m.instances.first { $0.id == "i-0d5a00000000000b1" })
        #expect(b1.secondaryENIs.map { m.enis[$0].id } == ["eni-0d5a00000000000b6"])
        #expect(b1.secondaryENIs.map { m.enis[$0].ipv6Address } == [IPv6Address(Self.p6 + "00:9c1e:4a2b:7d3f:1a07")])
        #expect(imported.yaml.contains("{id: eni-0d5a00000000000b6, subnet: subnet-0d5a000000000a001, private_ip: 10.1.0.25, "
                                       + "ipv6_address: \"2600:1f14:fab:1200:9c1e:4a2b:7d3f:1a07\""), "\(imported.yaml)")
        #expect(!imported.warnings.contains { $0.id == "eni-0d5a00000000000b6" }, "\(imported.warnings)")
        // None in a subnet that does not assign them; none (written so) though the public subnet assigns them.
        #expect(try ipv6("i-0d5a00000000000b2") == nil)
        #expect(try ipv6("i-0d5a00000000000b4") == nil)
        #expect(imported.yaml.contains("private_ip: 10.1.0.21, ipv6_address: \"none\""))
        #expect(imported.warnings.contains { $0.id == "i-0d5a00000000000b4" && $0.kind == .approximated })
    }

    @Test func anInstanceAddressTheLoaderWouldRefuseIsAllocatedInstead() throws {
        let (imported, m) = try Self.importDualStack { dir in
            // ::2 is reserved by AWS (the first four of the subnet's block).
            try Self.edit(dir, "describe-instances.json", "2600:1f14:fab:1202:4f2e:8d1c:b3a9:7e60", "2600:1f14:fab:1202::2")
        }
        let box = try #require(m.instances.first { $0.id == "i-0d5a00000000000b3" })
        #expect(m.enis[box.eni].ipv6Address == IPv6Address(Self.p6 + "02::4"))
        #expect(imported.warnings.contains { $0.id == "instance i-0d5a00000000000b3" && $0.message.contains("reserved by AWS")
                                             && $0.message.contains("the scenario allocates one") })
    }

    @Test func aDualStackLambdaFunctionKeepsIpv6AllowedForDualStack() throws {
        let (imported, m) = try Self.importDualStack()
        let uploader = try #require(m.lambdas.first { $0.name == "uploader" })
        let legacy = try #require(m.lambdas.first { $0.name == "legacy" })
        #expect(uploader.ipv6AllowedForDualStack && !legacy.ipv6AllowedForDualStack)
        // The Hyperplane ENI's address is the scenario's (the lowest free from ::4), the dump's is named.
        #expect(m.enis[uploader.enis[0]].ipv6Address == IPv6Address(Self.p6 + "01::4"))
        #expect(imported.warnings.contains { $0.id == "eni-0d5a00000000000b5" && $0.message.contains("aaaa:bbbb:cccc:1") })
        #expect(!imported.warnings.contains { $0.id == "uploader" })
    }

    @Test func dualStackOnAFunctionWithASubnetWithoutIPv6IsDroppedWithAWarning() throws {
        let (imported, m) = try Self.importDualStack { dir in
            // Outside the VPC's block: the subnet is imported IPv4 only.
            try Self.edit(dir, "describe-subnets.json", "2600:1f14:fab:1201::/64", "2600:1f14:fab:1301::/64")
        }
        let uploader = try #require(m.lambdas.first { $0.name == "uploader" })
        #expect(!uploader.ipv6AllowedForDualStack)
        #expect(imported.warnings.contains { $0.id == "uploader" && $0.message.contains("has no imported IPv6 block") })
    }

    @Test func ipv6RoutesToEveryTargetTheModelHoldsAreKeptAndTheRestNamed() throws {
        let (imported, m) = try Self.importDualStack()
        let t = try #require(m.routeTables.first { $0.id == "rtb-0d5a00000000000c2" })
        let routes = t.ipv6Routes.map { "\($0.destination) \($0.target.id(m))" }
        let router = try #require(m.instances.first { $0.id == "i-0d5a00000000000b2" })
        #expect(routes == ["2600:1f14:fab:1200::/56 local", "::/0 eigw-0d5a1c2b3e4f5678c", "64:ff9b::/96 nat-0d5a1c2b3e4f5678d",
                           "2001:db8:100::/48 eigw-0d5a1c2b3e4f5678c", "2001:db8:200::/48 eigw-0d5a1c2b3e4f5678c",
                           "2001:db8:300::/48 \(m.enis[router.eni].id)", "2001:db8:99::/48 blackhole",
                           "2001:db8:400::/48 tgw-0d5a1c2b3e4f5678f"], "\(routes)")
        #expect(t.ipv6Routes[6].target == .common(.blackhole(was: nil)))
        #expect(t.ipv6Routes[7].target == .common(.notModeled("tgw-0d5a1c2b3e4f5678f")))
        #expect(imported.warnings.contains { $0.id == "rtb-0d5a00000000000c2" && $0.kind == .repaired
                                             && $0.message.contains("2001:db8:99::/48") && $0.message.contains("NAT64") })
        #expect(imported.warnings.contains { $0.id == "rtb-0d5a00000000000c2" && $0.kind == .unsupportedTarget
                                             && $0.message.contains("2001:db8:400::/48") })
        #expect(imported.yaml.contains("{destination: \"2001:db8:100::/48\", target: eigw-0d5a1c2b3e4f5678c}  # from pl-0d5a1c2b3e4f5678e"))
        // 4 tables: 4 IPv4 and 4 IPv6 local routes, 2 IPv4 and 10 IPv6 others.
        #expect(imported.counts.routes == 20 && imported.counts.localRoutes == 8)
        #expect(imported.yaml.contains("4 route tables (20 routes, 8 local)"))
        let v6only = try #require(m.routeTables.first { $0.id == "rtb-0d5a00000000000c3" })
        #expect(v6only.ipv6Routes.map { "\($0.destination) \($0.target.id(m))" }
                == ["2600:1f14:fab:1200::/56 local", "::/0 eigw-0d5a1c2b3e4f5678c", "64:ff9b::/96 nat-0d5a1c2b3e4f5678d"])
    }

    @Test func aPrefixListOfIPv6EntriesServesASecurityGroupRule() throws {
        let (imported, m) = try Self.importDualStack()
        let app = try #require(m.securityGroups.first { $0.id == "sg-0d5a00000000000e1" })
        #expect(app.ingressIPv6.map(\.peer) == [.cidr(.anyIPv6), .cidr(.anyIPv6),
                                                .prefixList(id: "pl-0d5a1c2b3e4f5678e", cidrs: [Self.cidr6("2001:db8:100::/48"),
                                                                                               Self.cidr6("2001:db8:200::/48")])])
        #expect(app.ingressIPv6[2].ports == PortRange(443, 443))
        #expect(!imported.warnings.contains { $0.id == "pl-0d5a1c2b3e4f5678e" })
    }

    @Test func icmpv6EntriesAndRulesKeepTheirTypeAndCode() throws {
        let (_, m) = try Self.importDualStack()
        let acl = try #require(m.networkACLs.first { $0.id == "acl-0d5a00000000000d1" })
        let packetTooBig = try #require(acl.inboundIPv6.first { $0.number == 120 })
        #expect(packetTooBig.proto == .number(.icmpv6) && packetTooBig.icmpType == 2 && packetTooBig.icmpCode == 0)
        let out = try #require(acl.outboundIPv6.first { $0.number == 120 })
        #expect(out.proto == .number(.icmpv6) && out.icmpType == 2 && out.icmpCode == nil)
        let app = try #require(m.securityGroups.first { $0.id == "sg-0d5a00000000000e1" })
        #expect(app.ingressIPv6[1].proto == .number(.icmpv6) && app.ingressIPv6[1].icmpType == 128 && app.ingressIPv6[1].icmpCode == nil)
        // The listing (`vpcsim validate`) shows the type, as for NACL entries.
        #expect(m.ipv6Listing.contains("sg-0d5a00000000000e1 ingress ALLOW icmpv6 type 128 ::/0"), "\(m.ipv6Listing)")
        #expect(m.ipv6Listing.contains("acl-0d5a00000000000d1 inbound #120 ALLOW icmpv6 type 2 code 0 ::/0"))
    }

    @Test func theDualStackImportIsDeterministicAndItsScenarioLoadsToTheSameModel() throws {
        let (a, m) = try Self.importDualStack()
        let (b, _) = try Self.importDualStack()
        #expect(a.yaml == b.yaml)
        // Loading the written scenario again gives the same IPv6 listing.
        let again = try ScenarioLoader.load(yaml: a.yaml, file: "again.yaml").model
        #expect(again.ipv6Listing == m.ipv6Listing && !m.ipv6Listing.isEmpty)
    }

    @Test func anInterfaceEndpointLeavesItsIPv6OnlySubnetOutNamed() throws {
        let (imported, m) = try Self.importDualStack { dir in
            try """
            {"VpcEndpoints": [{"VpcEndpointId": "vpce-0d5a00000000000f1", "VpcEndpointType": "Interface",
              "VpcId": "vpc-0d5a1c2b3e4f56789", "ServiceName": "com.amazonaws.us-east-1.secretsmanager", "State": "available",
              "RouteTableIds": [], "SubnetIds": ["subnet-0d5a000000000a003", "subnet-0d5a000000000a002"],
              "Groups": [{"GroupId": "sg-0d5a00000000000e1", "GroupName": "app"}], "IpAddressType": "dualstack",
              "PrivateDnsEnabled": true, "RequesterManaged": false, "NetworkInterfaceIds": [], "DnsEntries": [],
              "CreationTimestamp": "2024-05-01T10:00:00.000Z", "OwnerId": "123456789012"}]}
            """.write(toFile: dir + "/describe-vpc-endpoints.json", atomically: true, encoding: .utf8)
        }
        let e = try #require(m.vpcEndpoints.first { $0.id == "vpce-0d5a00000000000f1" })
        #expect(e.subnets.map { m.subnets[$0].id } == ["subnet-0d5a000000000a002"])
        #expect(imported.warnings.contains { $0.id == "vpce-0d5a00000000000f1" && $0.kind == .repaired
                                             && $0.message.contains("subnet-0d5a000000000a003 is IPv6-only") })
        // IpAddressType dualstack is kept (the kept subnet is dual-stack): its ENI gets an IPv6 address, allocated.
        #expect(e.dualStack && m.enis[e.enis[0]].ipv6Address.map { m.subnets[e.subnets[0]].ipv6Cidr!.contains($0) } == true)
        #expect(imported.yaml.contains("ip_address_type: dualstack"))
        #expect(imported.warnings.contains { $0.id == "vpce-0d5a00000000000f1" && $0.kind == .approximated
                                             && $0.message.hasPrefix("dual-stack: its network interfaces' IPv6 addresses") })
    }
}

