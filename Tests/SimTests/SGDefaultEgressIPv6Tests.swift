import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// The assumption `sg_default_egress_ipv6`: AWS documents the `::/0` outbound rule for a VPC's default security
/// group; a group written without `egress:` gets it too only when the scenario says true (a group one creates gets
/// the IPv4 rule alone). An IPv6 packet out of a group without it is refused by the group.
@Suite struct SGDefaultEgressIPv6Tests {
    static func load(_ assumption: Bool?) throws -> Scenario {
        var text = DualStackScenarioTests.yaml()
            .replacingOccurrences(of: ", egress: [{protocol: all, cidr: 0.0.0.0/0}, {protocol: all, cidr: \"::/0\"}]}", with: "}")
            .replacingOccurrences(of: "security_groups:\n", with: "security_groups:\n  - {id: sg-0f1e2f3a4b5c6d7e9, name: default, vpc: main}\n")
        if let assumption {
            text = text.replacingOccurrences(of: "name: ds\n", with: "name: ds\nassumptions:\n  sg_default_egress_ipv6: \(assumption)\n")
        }
        return try DualStackScenarioTests.load(text)
    }

    @Test func aGroupWithoutEgressAllowsIPv6OutAsTheAssumptionSays() throws {
        let web6 = IPv6Token.intern(IPv6Address("2600:1f18:abc:de00::10")!), host6 = IPv6Token.intern(IPv6Address("2001:db8::22")!)
        let out = PacketKey(proto: .tcp, source: web6, destination: host6, sourcePort: 40112, destinationPort: 443)
        for (assumption, appAllows) in [(nil, false), (true, true), (false, false)] as [(Bool?, Bool)] {
            let s = try Self.load(assumption)
            let m = s.model
            let app = try #require(m.securityGroups.firstIndex { $0.name == "app-sg" })
            let def = try #require(m.securityGroups.firstIndex { $0.name == "default" })
            #expect(m.securityGroups[def].egressIPv6.count == 1, "\(String(describing: assumption))")
            #expect(m.securityGroups[app].egressIPv6.isEmpty == !appAllows, "\(String(describing: assumption))")
            #expect(SecurityGroupEvaluator.evaluate(m, groups: [app], .outbound, out).allowed == appAllows)
            #expect(SecurityGroupEvaluator.evaluate(m, groups: [def], .outbound, out).allowed)
            // IPv4 out is allowed either way (the documented 0.0.0.0/0 rule of every new group).
            #expect(m.securityGroups[app].egress.count == 1)
            // The report lists it, overridden when the scenario set it.
            let listed = try #require(s.assumptions.listing.first { $0.name == "sg_default_egress_ipv6" })
            #expect(listed.value == String(assumption ?? false))
            #expect(s.assumptions.overridden.contains("sg_default_egress_ipv6") == (assumption != nil))
        }
    }
}
