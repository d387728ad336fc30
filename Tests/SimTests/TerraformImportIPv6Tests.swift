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
                           // The instance's primary interface (an aws_network_interface) with a known IPv6 address.
                           ("\"private_ips\": [", "\"ipv6_addresses\": [\"2600:1f18:abc:de01::50\"], \"private_ips\": ["),
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
        let web = try #require(m.instances.first { m.enis[$0.eni].privateIP == IPv4Address("10.20.1.50") })
        #expect(m.enis[web.eni].ipv6Address == IPv6Address("2600:1f18:abc:de01::50"))
    }

    // MARK: terraform/synthetic/dualstack_create.json

    static func dualstack() throws -> (TerraformImport, VPCModel) {
        let i = try TerraformPlanImporter.importPlan(Fixtures.path("terraform/synthetic/dualstack_create.json"))
        return (i, try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml").model)
    }
    static func v6(_ s: String) -> IPv6Address { IPv6Address(s)! }
    static func cidr6(_ s: String) -> IPv6CIDR { try! IPv6CIDR(parsing: s) }

    @Test func anIPv6NativeSubnetIsImportedIPv6OnlyWithItsInstance() throws {
        let (i, m) = try Self.dualstack()
        let s = try #require(m.subnets.first { $0.name == "v6only" })
        #expect(!s.hasIPv4 && s.ipv6Cidr == Self.cidr6("2600:1f18:30:ab02::/64") && s.assignIPv6OnCreation)
        // aws_subnet.enable_dns64: true here, false on the others.
        #expect(s.enableDNS64 && m.subnets.filter(\.enableDNS64).count == 1)
        let box = try #require(m.instances.first { $0.name == "v6box" })
        #expect(m.enis[box.eni].ipv6Address == Self.v6("2600:1f18:30:ab02::4") && m.enis[box.eni].privateIP == .any)
        // No IPv4 address is invented for it.
        #expect(!i.invented.contains { $0.what == "aws_instance.v6box.private_ip" })
        #expect(i.warnings.isEmpty, "\(i.warnings)")
    }

    @Test func instanceIPv6AddressesKnownCountedOrAssignedAreKeptAndTheInventedListed() throws {
        let (i, m) = try Self.dualstack()
        func ipv6(_ name: String) throws -> IPv6Address? {
            m.enis[try #require(m.instances.first { $0.name == name }).eni].ipv6Address
        }
        #expect(try ipv6("pinned") == Self.v6("2600:1f18:30:ab01::1234"))   // ipv6_addresses
        #expect(try ipv6("worker") == Self.v6("2600:1f18:30:ab01::4"))      // ipv6_address_count = 1
        #expect(try ipv6("web") == Self.v6("2600:1f18:30:ab00::4"))         // the subnet assigns one
        #expect(try ipv6("optout") == nil)                                  // ipv6_address_count = 0
        let how = "allocated as the scenario allocates IPv6 addresses (assumption ipv6_address_allocation)"
        let listed = i.invented.filter { $0.how == how }.map { "\($0.what) \($0.value)" }
        #expect(listed == ["aws_instance.web.ipv6_addresses[0] 2600:1f18:30:ab00::4",
                           "aws_instance.worker.ipv6_addresses[0] 2600:1f18:30:ab01::4",
                           "aws_instance.v6box.ipv6_addresses[0] 2600:1f18:30:ab02::4",
                           "aws_lambda_function.uploader ENI in \(m.subnets.first { $0.name == "private" }!.id) IPv6 2600:1f18:30:ab01::5"],
                "\(listed)")
        // The scenario lists them too (the report prints them among the assumptions).
        #expect(i.yaml.contains("{of: \"aws_instance.worker.ipv6_addresses[0]\", value: \"2600:1f18:30:ab01::4\""))
    }

    @Test func aDualStackLambdaNAT64AndAnEgressOnlyGatewayRoute() throws {
        let (_, m) = try Self.dualstack()
        let f = try #require(m.lambdas.first { $0.name == "uploader" })
        #expect(f.ipv6AllowedForDualStack && m.enis[f.enis[0]].ipv6Address == Self.v6("2600:1f18:30:ab01::5"))
        let t = try #require(m.routeTables.first { $0.name == "private-rt" })
        #expect(t.ipv6Routes.map { "\($0.destination) \($0.target.id(m))" }
                == ["2600:1f18:30:ab00::/56 local", "::/0 \(m.egressOnlyInternetGateways[0].id)",
                    "64:ff9b::/96 \(m.natGateways[0].id)"])
    }

    @Test func theDefaultNACLAndGroupOfADualStackVPCAllowIPv6AsAWSCreatesThem() throws {
        let (_, m) = try Self.dualstack()
        let acl = try #require(m.networkACLs.first { $0.isDefault })
        #expect(acl.inboundIPv6.map { "\($0.number) \($0.cidr) \($0.action)" } == ["101 ::/0 allow"])
        #expect(acl.outboundIPv6.map { "\($0.number) \($0.cidr) \($0.action)" } == ["101 ::/0 allow"])
        let sg = try #require(m.securityGroups.first { $0.name == "aws_vpc.main.default_security_group" })
        #expect(sg.egressIPv6.map(\.peer) == [.cidr(.anyIPv6)])
    }

    @Test func icmpv6NACLEntriesAndAnIPv6PrefixListRule() throws {
        let (_, m) = try Self.dualstack()
        let acl = try #require(m.networkACLs.first { $0.name == "private-acl" })
        let ptb = try #require(acl.inboundIPv6.first { $0.number == 120 })
        #expect(ptb.proto == .number(.icmpv6) && ptb.icmpType == 2 && ptb.icmpCode == 0)
        let app = try #require(m.securityGroups.first { $0.name == "aws_security_group.app" })
        #expect(app.ingressIPv6.map(\.proto) == [.number(.tcp), .number(.icmpv6), .number(.tcp)])
        #expect(app.ingressIPv6[1].icmpType == 128)
        guard case .prefixList(_, let cidrs) = app.ingressIPv6[2].peer else { Issue.record("\(app.ingressIPv6)"); return }
        #expect(cidrs == [Self.cidr6("2001:db8:100::/48")])
    }

    /// The same plan with an Amazon-provided block (`assign_generated_ipv6_cidr_block`) and subnets' blocks from
    /// `cidrsubnet(aws_vpc.main.ipv6_cidr_block, …)`: known only after apply, invented and listed.
    @Test func anAmazonProvidedBlockAndItsSubnetsBlocksAreInventedAndListed() throws {
        let i = try TerraformPlanImporter.importPlan(Fixtures.path("terraform/synthetic/dualstack-amazon-ipv6_create.json"))
        let m = try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml").model
        let block = try #require(m.vpcs.first?.ipv6CidrBlocks.first)
        #expect(block.prefixLength == 56 && Self.cidr6("2001:db8::/32").contains(block))
        let subnets = m.subnets.map { $0.ipv6Cidr?.description ?? "-" }
        let base = block.network.high
        #expect(subnets == (0..<3).map { IPv6CIDR(containing: IPv6Address(high: base | UInt64($0), low: 0), prefixLength: 64).description })
        let listed = i.invented.filter { $0.what.hasSuffix(".ipv6_cidr_block") }.map(\.what)
        #expect(listed == ["aws_vpc.main.ipv6_cidr_block", "aws_subnet.public.ipv6_cidr_block", "aws_subnet.private.ipv6_cidr_block",
                           "aws_subnet.v6only.ipv6_cidr_block"])
        #expect(!i.warnings.contains { $0.kind == .ipv6 }, "\(i.warnings)")
        // The v6only subnet and its instance come through; the default NACL allows IPv6 as AWS's does.
        #expect(m.subnets.contains { !$0.hasIPv4 })
        #expect(m.networkACLs.first { $0.isDefault }?.inboundIPv6.map(\.number) == [101])
        // The same plan, the same blocks.
        #expect(try TerraformPlanImporter.importPlan(Fixtures.path("terraform/synthetic/dualstack-amazon-ipv6_create.json")).yaml == i.yaml)
    }

    /// A VPC block longer than /64 (a typo) and a subnet's block from `cidrsubnet` of it, known only after apply:
    /// the subnet's block is left out with a warning (no /64 fits), not a trap.
    @Test func aSubnetBlockOfAVPCBlockLongerThan64IsLeftOut() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("terraform/synthetic/dualstack-amazon-ipv6_create.json")))
        var plan = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        func known96(_ values: inout [String: Any]) {
            values["ipv6_cidr_block"] = "2001:db8::/96"
            values["assign_generated_ipv6_cidr_block"] = false
        }
        var changes = try #require(plan["resource_changes"] as? [[String: Any]])
        for k in changes.indices where changes[k]["address"] as? String == "aws_vpc.main" {
            var change = try #require(changes[k]["change"] as? [String: Any])
            var after = try #require(change["after"] as? [String: Any])
            known96(&after)
            change["after"] = after
            var unknown = change["after_unknown"] as? [String: Any] ?? [:]
            unknown["ipv6_cidr_block"] = nil
            change["after_unknown"] = unknown
            changes[k]["change"] = change
        }
        plan["resource_changes"] = changes
        if var planned = plan["planned_values"] as? [String: Any], var root = planned["root_module"] as? [String: Any],
           var resources = root["resources"] as? [[String: Any]] {
            for k in resources.indices where resources[k]["address"] as? String == "aws_vpc.main" {
                var values = resources[k]["values"] as? [String: Any] ?? [:]
                known96(&values)
                resources[k]["values"] = values
            }
            root["resources"] = resources
            planned["root_module"] = root
            plan["planned_values"] = planned
        }
        let dir = makeTempDirectory("vpcsim-tf6-96")
        try JSONSerialization.data(withJSONObject: plan).write(to: URL(fileURLWithPath: dir + "/plan.json"))
        let i = try TerraformPlanImporter.importPlan(dir + "/plan.json")
        let subnetWarnings = i.warnings.filter { $0.kind == .ipv6 && $0.id.hasPrefix("aws_subnet.") }
        #expect(subnetWarnings.count == 3, "\(i.warnings)")
        #expect(!i.invented.contains { $0.what.hasPrefix("aws_subnet.") && $0.what.hasSuffix(".ipv6_cidr_block") })
    }
}
