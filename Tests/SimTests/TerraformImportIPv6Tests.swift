import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// `vpcsim import terraform` keeps a VPC's and a subnet's `ipv6_cidr_block` when the plan knows them.
@Suite struct TerraformImportIPv6Tests {
    @Test func knownIPv6BlocksOfAVPCAndASubnetAreKept() throws {
        var text = try String(contentsOfFile: Fixtures.path("terraform/synthetic/many-resources_create.json"), encoding: .utf8)
        for (old, new) in [("\"cidr_block\": \"10.20.0.0/16\",", "\"cidr_block\": \"10.20.0.0/16\", \"ipv6_cidr_block\": \"2600:1f18:abc:de00::/56\","),
                           ("\"cidr_block\": \"10.20.1.0/24\",", "\"cidr_block\": \"10.20.1.0/24\", \"ipv6_cidr_block\": \"2600:1f18:abc:de01::/64\","),
                           ("\"cidr_block\": \"10.20.2.0/24\",", "\"cidr_block\": \"10.20.2.0/24\", \"ipv6_cidr_block\": \"\",")] {
            #expect(text.contains(old), "\(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let dir = makeTempDirectory("vpcsim-tf6")
        try text.write(toFile: dir + "/plan.json", atomically: true, encoding: .utf8)
        let i = try TerraformPlanImporter.importPlan(dir + "/plan.json")
        let m = try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml").model
        #expect(m.vpcs.map(\.ipv6CidrBlocks) == [[try IPv6CIDR(parsing: "2600:1f18:abc:de00::/56")]])
        let cidrs = m.subnets.map { "\($0.cidr) \($0.ipv6Cidr.map(\.description) ?? "-")" }
        #expect(cidrs.contains("10.20.1.0/24 2600:1f18:abc:de01::/64") && cidrs.contains("10.20.2.0/24 -"), "\(cidrs)")
    }
}
