import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// `TerraformPlanImporter` on a synthetic plan with one of each resource kind it reads (Tests/Fixtures/terraform/
/// synthetic): Terraform's semantics as the scenario's model carries them.
@Suite struct TerraformImportTests {
    static let many = Fixtures.path("terraform/synthetic/many-resources_create.json")

    static func imported() throws -> (TerraformImport, Scenario) {
        let i = try TerraformPlanImporter.importPlan(many)
        return (i, try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml"))
    }

    @Test func defaultResourcesManagedByTerraformHaveExactlyTheirRules() throws {
        let (_, s) = try Self.imported()
        let m = s.model
        let nacl = try #require(m.networkACLs.first { $0.isDefault })
        #expect(nacl.inbound.isEmpty && nacl.outbound.isEmpty)  // aws_default_network_acl without rules: only `*` DENY
        let sg = try #require(m.securityGroups.first { $0.name == "aws_default_security_group.default" })
        #expect(sg.ingress.isEmpty && sg.egress.isEmpty)
    }

    @Test func rulesFromEverySourceLandInTheirGroupAndNACL() throws {
        let (_, s) = try Self.imported()
        let m = s.model
        let web = try #require(m.securityGroups.firstIndex { $0.name == "aws_security_group.web" })
        let g = m.securityGroups[web]
        #expect(g.ingress.count == 3)
        #expect(g.ingress.contains { $0.ports == PortRange(8080, 8080) && $0.peer == .securityGroup(web) })  // self = true
        let pl = try #require(g.ingress.first { $0.ports == PortRange(22, 22) })
        guard case .prefixList(_, let cidrs) = pl.peer else { Issue.record("not a prefix list: \(pl.peer)"); return }
        #expect(cidrs.map(\.description) == ["198.51.100.0/24", "192.0.2.128/25"])  // inline entry + _entry resource
        // The egress is the one aws_vpc_security_group_egress_rule: no default allow-all.
        #expect(g.egress.count == 1 && g.egress[0].ports == PortRange(443, 443))
        let app = try #require(m.networkACLs.firstIndex { $0.name == "app-nacl" })
        #expect(m.networkACLs[app].inbound.map(\.number) == [90, 100])
        // Both subnets are in app-nacl: b by aws_network_acl_association (moved from the default).
        #expect(m.subnets.allSatisfy { $0.networkACL == app })
    }

    @Test func forEachAssociationsAndTheInstanceOnItsENIWithAnElasticIP() throws {
        let (i, s) = try Self.imported()
        let m = s.model
        let rt = try #require(m.routeTables.firstIndex { $0.name == "app-rt" })
        #expect(m.subnets.count == 2 && m.subnets.allSatisfy { $0.routeTable == rt })
        let inst = try #require(m.instances.first { $0.name == "aws_instance.web" })
        let eni = m.enis[inst.eni]
        #expect(eni.privateIP.description == "10.20.1.50")
        let eip = try #require(i.invented.first { $0.what == "aws_eip.web.public_ip" })
        #expect(eni.publicIP?.description == eip.value)
        #expect(eip.value.hasPrefix("192.0.2."))
        #expect(s.flowLogs.interval == 60)
        #expect(i.warnings.contains { $0.kind == .notModelled && $0.id == "aws_s3_bucket" })
        // Every invented value is listed in the scenario, which carries it to the report.
        #expect(s.invented == i.invented)
    }

    @Test func priorSideOfACreatePlanHasNoNetwork() throws {
        #expect(throws: AWSDumpValueError.self) {
            try TerraformPlanImporter.importPlan(Self.many, options: TerraformImportOptions(side: .prior))
        }
    }
}
