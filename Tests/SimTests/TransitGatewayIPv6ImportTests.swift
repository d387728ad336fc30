import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// `vpcsim import aws` keeps a transit gateway's IPv6 parts (aws-json/synthetic/tgw made dual-stack here): each VPC
/// attachment's Options.Ipv6Support, the route tables' IPv6 routes (search-transit-gateway-routes gives them in
/// DestinationCidrBlock), a propagated IPv6 route being the propagation itself, and the written scenario loads.
@Suite struct TransitGatewayIPv6ImportTests {
    typealias T = TransitGatewayImportTests

    /// The tgw fixture with IPv6 blocks on spoke-a and spoke-b and their attachment subnets, IPv6 support on their
    /// attachments, and IPv6 routes in the spokes table: the propagated blocks, a static route to shared's
    /// attachment (no IPv6 support: a static route still takes IPv6) and a blackhole.
    static func files(supportOnShared: Bool = false) throws -> [(path: String, data: Data)] {
        func v6(_ block: String) -> String {
            #""Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "\#(block)", "Ipv6CidrBlockState": {"State": "associated"}}],"#
        }
        func route(_ dest: String, _ attachment: String?, _ type: String) -> String {
            let to = attachment.map { #""TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "\#($0)", "ResourceType": "vpc"}], "# } ?? ""
            return #"{"DestinationCidrBlock": "\#(dest)", \#(to)"Type": "\#(type)", "State": "\#(attachment == nil ? "blackhole" : "active")"},"#
        }
        let edits: [String: (String) -> String] = [
            "describe-vpcs.json": { t in
                t.replacingOccurrences(of: #""VpcId": "vpc-0a0000000000000a1","#, with: #""VpcId": "vpc-0a0000000000000a1", "# + v6("2600:1f18:aaaa:aa00::/56"))
                    .replacingOccurrences(of: #""VpcId": "vpc-0b0000000000000b1","#, with: #""VpcId": "vpc-0b0000000000000b1", "# + v6("2600:1f18:bbbb:bb00::/56"))
            },
            "describe-subnets.json": { t in
                var t = t
                for (s, block) in [("subnet-0a00000000000a0f1", "2600:1f18:aaaa:aaf1::/64"), ("subnet-0a00000000000a0f2", "2600:1f18:aaaa:aaf2::/64"),
                                   ("subnet-0b00000000000b0f1", "2600:1f18:bbbb:bbf1::/64")] {
                    let at = try! #require(t.range(of: #""SubnetId": "\#(s)","#))
                    let empty = try! #require(t.range(of: #""Ipv6CidrBlockAssociationSet": [],"#, range: at.upperBound..<t.endIndex))
                    t.replaceSubrange(empty, with: v6(block))
                }
                return t
            },
            "describe-transit-gateway-vpc-attachments.json": { t in
                var t = t
                for _ in 0..<(supportOnShared ? 3 : 2) {
                    t = t.replacingOccurrences(of: #""Ipv6Support": "disable""#, with: #""Ipv6Support": "enable""#,
                                               range: t.range(of: #""Ipv6Support": "disable""#))
                }
                return t
            },
            "search-transit-gateway-routes-\(T.spokes).json": { t in
                t.replacingOccurrences(of: #""Routes": ["#, with: #""Routes": ["#
                    + route("2600:1f18:aaaa:aa00::/56", T.attA, "propagated") + route("2600:1f18:bbbb:bb00::/56", T.attB, "propagated")
                    + route("2600:1f18:ffff::/48", T.attC, "static") + route("2600:1f18:eeee::/48", nil, "static"))
            },
        ]
        return try T.files().map { f in
            let name = String(f.path.dropFirst("dump/".count))
            guard let edit = edits[name] else { return f }
            let text = edit(String(decoding: f.data, as: UTF8.self))
            precondition(text != String(decoding: f.data, as: UTF8.self), "\(name) changed")
            return (f.path, Data(text.utf8))
        }
    }

    @Test func ipv6SupportAndIPv6RoutesSurviveTheImport() throws {
        let imported = try AWSImporter.importFiles(try Self.files(), directory: "dump")
        #expect(imported.warnings.isEmpty, "\(imported.warnings)")
        #expect(imported.yaml.contains("ipv6_support: true"))
        #expect(imported.yaml.contains(#"- {destination: "2600:1f18:ffff::/48", target: \#(T.attC)}"#), "\(imported.yaml)")
        let m = try AWSImportTests.load(imported).model
        #expect(m.tgwAttachments.map(\.ipv6Support) == [true, true, false])
        // The propagated IPv6 blocks are the propagations the table already has; the static ones are kept.
        #expect(m.tgwRouteTables[0].ipv6Routes == [
            .init(destination: try IPv6CIDR(parsing: "2600:1f18:ffff::/48"), target: .attachment(2)),
            .init(destination: try IPv6CIDR(parsing: "2600:1f18:eeee::/48"), target: .blackhole)])
        // The compiled table holds both spokes' IPv6 blocks by propagation (shared's attachment has no IPv6 support).
        let compiled = TransitGateway.compile6(m.tgwRouteTables[0], m).map { "\($0.cidr6!) \($0.attachment) \($0.propagated)" }
        #expect(compiled == ["2600:1f18:aaaa:aa00::/56 0 true", "2600:1f18:bbbb:bb00::/56 1 true",
                             "2600:1f18:ffff::/48 2 false", "2600:1f18:eeee::/48 -1 false"])
    }

    /// Ipv6Support on an attachment whose subnet has no IPv6 block is imported off, with a warning.
    @Test func ipv6SupportWithoutSubnetBlocksIsImportedOff() throws {
        let imported = try AWSImporter.importFiles(try Self.files(supportOnShared: true), directory: "dump")
        #expect(imported.warnings.map(\.message) == [
            "Ipv6Support enabled but subnet subnet-0c00000000000c0f2 has no imported IPv6 block; imported without "
                + "ipv6_support (its VPC's IPv6 blocks do not propagate)"], "\(imported.warnings)")
        #expect(try AWSImportTests.load(imported).model.tgwAttachments.map(\.ipv6Support) == [true, true, false])
    }
}

/// `vpcsim import terraform` keeps an attachment's `ipv6_support` when its subnets have IPv6 blocks, and writes a
/// transit gateway route table's IPv6 routes as IPv6 routes.
@Suite struct TerraformTransitGatewayIPv6Tests {
    static func plan(subnetBlock: Bool) throws -> String {
        var text = try String(contentsOfFile: Fixtures.path("terraform/synthetic/tgw-vpn-attachment_create.json"), encoding: .utf8)
        var edits = [("\"cidr_block\": \"10.40.0.0/16\"", "\"cidr_block\": \"10.40.0.0/16\", \"ipv6_cidr_block\": \"2600:1f18:40:4000::/56\""),
                     ("\"appliance_mode_support\": \"disable\"", "\"appliance_mode_support\": \"disable\", \"ipv6_support\": \"enable\"")]
        if subnetBlock {
            edits.append(("\"cidr_block\": \"10.40.1.0/24\"", "\"cidr_block\": \"10.40.1.0/24\", \"ipv6_cidr_block\": \"2600:1f18:40:4001::/64\""))
        }
        for (old, new) in edits {
            #expect(text.contains(old), "\(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let dir = makeTempDirectory("vpcsim-tf-tgw6")
        try text.write(toFile: dir + "/plan.json", atomically: true, encoding: .utf8)
        return dir + "/plan.json"
    }

    @Test func ipv6SupportIsKeptWhenTheSubnetsHaveIPv6Blocks() throws {
        let i = try TerraformPlanImporter.importPlan(try Self.plan(subnetBlock: true))
        let m = try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml").model
        #expect(m.tgwAttachments.filter { $0.vpnConnection == nil }.map(\.ipv6Support) == [true])
        #expect(!i.warnings.contains { $0.message.contains("ipv6_support") }, "\(i.warnings)")
        let off = try TerraformPlanImporter.importPlan(try Self.plan(subnetBlock: false))
        #expect(try ScenarioLoader.load(yaml: off.yaml, file: "imported.yaml").model.tgwAttachments.map(\.ipv6Support).allSatisfy { !$0 })
        #expect(off.warnings.contains { $0.message.hasPrefix("ipv6_support enabled but subnet") }, "\(off.warnings)")
    }

    /// An IPv6 destination is written quoted, as an IPv6 route the loader reads.
    @Test func ipv6RoutesAreWrittenAsIPv6Routes() {
        var g = ImportedTransitGateway(id: "tgw-0c000000000000009", name: "hub")
        g.attachments = [.init(id: "tgw-attach-0a00000000000001", name: "a", vpc: "vpc-1", subnets: ["subnet-1"],
                               applianceMode: false, defaultAssociation: true, defaultPropagation: true, ipv6Support: true)]
        g.routeTables = [.init(id: "tgw-rtb-1", name: "t", routes: [("2600:1f18:ffff::/48", "blackhole"), ("10.9.0.0/16", "blackhole")])]
        let yaml = ImportedTransitGateway.yaml([g])
        #expect(yaml.contains("subnets: [subnet-1], ipv6_support: true}"))
        #expect(yaml.contains("- {destination: \"2600:1f18:ffff::/48\", target: blackhole}"))
        #expect(yaml.contains("- {destination: 10.9.0.0/16, target: blackhole}"))
    }
}
