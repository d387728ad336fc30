import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// A security group that already admits by group reference gets its fix in the same terms: a rule for the
/// sender's group (or an existing group rule's port range extended), not the sender's address /32.
@Suite struct GroupRuleFixTests {
    /// scenarios/igw-hairpin.yaml with web-sg's ingress rules replaced by `ingress` and lambda-sg's egress by
    /// `egress`, running `flow` alone.
    static func run(ingress: String, egress: String = "[{protocol: all, cidr: 0.0.0.0/0}]", flow: String) throws -> RunReport.Flow {
        var text = try HairpinTests.yaml()
        text = HairpinTests.replacing(text, """
                ingress:
                  - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0, description: "the web site, for everyone"}
                  - {protocol: tcp, ports: 22, cidr: 10.0.0.0/16, description: SFTP from inside the VPC only}
            """, "    ingress: \(ingress)\n")
        text = HairpinTests.replacing(text, """
                egress:
                  - {protocol: all, cidr: 0.0.0.0/0}
            """, "    egress: \(egress)\n")
        let start = try #require(text.range(of: "flows:\n"))
        text = String(text[..<start.upperBound]) + "  - \(flow)\n"
        return try HairpinTests.run(text).report.flows[0]
    }

    @Test func anIngressGroupThatReferencesTheSendersGroupGetsAGroupRule() throws {
        let f = try Self.run(ingress: "[{protocol: tcp, ports: 443, security_group: lambda-sg}]",
                             flow: "{name: f, from: uploader, to: \"web:22\", app: sftp, expect: {outcome: ok}}")
        #expect(f.outcome == "timeout")
        let fix = try #require(f.fix)
        #expect(fix.changes.map(\.component) == ["sg-0a9b8c7d6e5f40312 (web-sg)"])
        #expect(fix.changes.map(\.change) == ["ingress: add ALLOW tcp 22 sg-0d1e2f3a4b5c6d7e8 (lambda-sg)"])
        #expect(fix.verified)
    }

    @Test func aGroupRuleWhosePortRangeEndsNextToThePortIsExtended() throws {
        let f = try Self.run(ingress: "[{protocol: tcp, ports: \"8000-8079\", security_group: lambda-sg}]",
                             flow: "{name: f, from: uploader, to: \"web:8080\", app: tcp, size: 10}")
        let fix = try #require(f.fix)
        #expect(fix.changes.map(\.change) == ["ingress: extend ALLOW tcp 8000-8079 sg-0d1e2f3a4b5c6d7e8 (lambda-sg) to 8000-8080"])
        #expect(fix.verified)
    }

    /// The group references another group than the sender's: the rule names the sender's group.
    @Test func aGroupThatReferencesAnotherGroupGetsARuleForTheSendersGroup() throws {
        let f = try Self.run(ingress: "[{protocol: tcp, ports: 22, security_group: web-sg}]",
                             flow: "{name: f, from: uploader, to: \"web:22\", app: sftp}")
        #expect(f.fix?.changes.map(\.change) == ["ingress: add ALLOW tcp 22 sg-0d1e2f3a4b5c6d7e8 (lambda-sg)"])
        #expect(f.fix?.verified == true)
    }

    @Test func anEgressGroupRuleIsAnsweredWithAnEgressGroupRule() throws {
        let f = try Self.run(ingress: "[{protocol: tcp, ports: 22, cidr: 10.0.0.0/16}]",
                             egress: "[{protocol: tcp, ports: 443, security_group: web-sg}]",
                             flow: "{name: f, from: uploader, to: \"web:22\", app: sftp}")
        #expect(f.drop?.direction == "egress")
        #expect(f.fix?.changes.map(\.component) == ["sg-0d1e2f3a4b5c6d7e8 (lambda-sg)"])
        #expect(f.fix?.changes.map(\.change) == ["egress: add ALLOW tcp 22 sg-0a9b8c7d6e5f40312 (web-sg)"])
        #expect(f.fix?.verified == true)
    }

    /// Through the internet gateway the sender is the NAT gateway's Elastic IP, which no group rule matches:
    /// the fix stays the /32, as AWS needs it.
    @Test func aHairpinnedSenderIsNeverAnsweredWithAGroupRule() throws {
        let f = try Self.run(ingress: "[{protocol: tcp, ports: 22, security_group: lambda-sg}]",
                             flow: "{name: f, from: uploader, to: \"198.51.100.20:22\", app: sftp}")
        #expect(f.drop?.rule == "no ingress rule allows tcp 22 from 198.51.100.7")
        #expect(f.fix?.changes.map(\.change) == ["ingress: add ALLOW tcp 22 198.51.100.7/32"])
        #expect(f.fix?.verified == true)
    }

    /// The shipped scenarios/sg-group-reference.yaml: the fix its header promises.
    @Test func theShippedScenarioGetsTheGroupRule() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/scenarios/sg-group-reference.yaml", encoding: .utf8)
        let flows = try HairpinTests.run(text).report.flows
        let f = try #require(flows.first { $0.name == "sftp-drop" })
        #expect(f.outcome == "timeout")
        #expect(f.fix?.changes.map(\.component) == ["sg-0a9b8c7d6e5f40312 (web-sg)"])
        #expect(f.fix?.changes.map(\.change) == ["ingress: add ALLOW tcp 22 sg-0d1e2f3a4b5c6d7e8 (lambda-sg)"])
        #expect(f.fix?.verified == true)
        #expect(flows.first { $0.name == "https-api" }?.outcome == "ok")
    }

    /// Without a group reference, the /32 as before.
    @Test func aGroupWithoutGroupReferencesGetsTheSendersAddress() throws {
        let f = try Self.run(ingress: "[{protocol: tcp, ports: 443, cidr: 0.0.0.0/0}]",
                             flow: "{name: f, from: uploader, to: \"web:22\", app: sftp}")
        #expect(f.fix?.changes.map(\.change) == ["ingress: add ALLOW tcp 22 10.0.1.10/32"])
    }
}
