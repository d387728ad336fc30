import Foundation
import Packets
import Testing
@testable import Sim

private let repo: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Security-group ICMP rules with a type and code (EC2 API: FromPort is the type, ToPort the code, -1 all).
@Suite struct SecurityGroupICMPTests {
    @Test func securityGroupICMPRulesMatchTypeAndCode() throws {
        let story = try String(contentsOfFile: repo + "/scenarios/sftp-pmtud-blackhole-fixed.yaml", encoding: .utf8)
        let s = try loadScenario(story)
        let g = try #require(s.model.securityGroups.firstIndex { $0.ingress.contains { $0.icmpType != nil } })
        let rule = try #require(s.model.securityGroups[g].ingress.first { $0.icmpType != nil })
        #expect(rule.icmpType == 3 && rule.icmpCode == 4)
        #expect(SecurityGroupEvaluator.describe(s.model, group: g, .inbound, rule) == "ALLOW icmp type 3 code 4 0.0.0.0/0")
        func key(_ t: UInt8, _ c: UInt8) -> PacketKey {
            PacketKey(proto: .icmp, source: ip("203.0.113.50"), destination: ip("10.0.0.10"), icmpType: t, icmpCode: c)
        }
        let peer = ip("203.0.113.50")
        #expect(SecurityGroupEvaluator.matches(s.model, rule, key(3, 4), peer: peer))
        #expect(!SecurityGroupEvaluator.matches(s.model, rule, key(3, 3), peer: peer))
        #expect(!SecurityGroupEvaluator.matches(s.model, rule, key(8, 0), peer: peer))
        var anyCode = rule
        anyCode.icmpCode = nil
        #expect(SecurityGroupEvaluator.matches(s.model, anyCode, key(3, 3), peer: peer))
        #expect(SecurityGroupEvaluator.describe(s.model, group: g, .inbound, anyCode) == "ALLOW icmp type 3 0.0.0.0/0")
        // End to end: a rule for code 3 (port unreachable) does not admit "fragmentation needed".
        let wrongCode = story.replacingOccurrences(of: "{protocol: icmp, icmp_type: 3, icmp_code: 4,",
                                                   with: "{protocol: icmp, icmp_type: 3, icmp_code: 3,")
        #expect(wrongCode != story)
        let o = try Runner.run(scenario: loadScenario(wrongCode), options: .init(writeFiles: false))
        #expect(o.results[0].outcome == .timeout)
        #expect(o.results[0].drop?.kind == "security-group")
        // -1 is all; a type on a tcp rule is a one-line error naming its place.
        let all = try loadScenario(story.replacingOccurrences(of: "icmp_type: 3, icmp_code: 4, cidr: 0.0.0.0/0, description",
                                                              with: "icmp_type: -1, icmp_code: -1, cidr: 0.0.0.0/0, description"))
        #expect(all.model.securityGroups[g].ingress.contains { $0.proto == .number(.icmp) && $0.icmpType == nil })
        let bad = scenarioLoadError(story.replacingOccurrences(of: "{protocol: icmp, icmp_type: 3, icmp_code: 4,",
                                                               with: "{protocol: tcp, ports: 22, icmp_type: 3, icmp_code: 4,"))
        let e = try #require(bad)
        #expect(e.description.contains("t.yaml:") && e.message.contains("icmp_type applies only to icmp and icmpv6 rules"))
        #expect(!e.description.contains("\n"))
    }

    @Test func theImporterKeepsASecurityGroupICMPRulesTypeAndCode() throws {
        let i = try AWSImporter.importFiles(AWSImportBadValueTests.dump(group: #"{"GroupId": "sg-0a1b2c3d", "VpcId": "vpc-0a1b2c3d", "IpPermissions": [{"IpProtocol": "icmp", "FromPort": 3, "ToPort": 4, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}"#),
                                            directory: "dump")
        #expect(i.yaml.contains("- {protocol: icmp, icmp_type: 3, icmp_code: 4, cidr: 0.0.0.0/0}"))
        #expect(i.yaml.contains("- {protocol: icmp, icmp_type: 8, cidr: 10.0.0.0/8}"))
        #expect(!i.warnings.contains { $0.message.contains("ICMP") }, "\(i.warnings)")
        let s = try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml")
        #expect(s.model.securityGroups[0].ingress.map(\.icmpType) == [3, 8])
        #expect(s.model.securityGroups[0].ingress.map(\.icmpCode) == [4, nil])
    }
}
