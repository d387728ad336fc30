import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// `vpcsim trace --address-family ipv4|ipv6`: which of a named destination's addresses the trace goes to, and a
/// one-line refusal when an end has no address of that family.
@Suite struct TraceAddressFamilyTests {
    static let scenario = try! DualStackScenarioTests.load(DualStackScenarioTests.yaml())

    static func trace(_ from: String, _ to: String, _ family: ClientProfile.AddressFamily?) throws -> Scenario {
        var o = AdHocTrace.Options()
        o.addressFamily = family
        return try AdHocTrace.scenario(Self.scenario, from: from, to: to, options: o)
    }

    @Test func theFamilyPicksADualStackDestinationsAddress() throws {
        // both.example.com and web have both families: IPv4 unless asked.
        for (to, v4, v6) in [("both.example.com:22", "203.0.113.22", "2001:db8::22"),
                             ("web:22", "10.0.0.10", "2600:1f18:abc:de00::10")] {
            #expect(try Self.trace("uploader", to, nil).flows[0].destination.address.description == v4, "\(to)")
            #expect(try Self.trace("uploader", to, .ipv4).flows[0].destination.address.description == v4, "\(to)")
            let d = try Self.trace("uploader", to, .ipv6).flows[0].destination
            #expect(d.isIPv6 && d.address.ipv6 == IPv6Address(v6) && d.fallback == nil, "\(to)")
        }
        // A destination declared on the host keeps its application over IPv6.
        #expect(try Self.trace("uploader", "both.example.com:22", .ipv6).flows[0].app == .sftp)
    }

    @Test func anIPv6TraceRunsOverIPv6() throws {
        let o = try Runner.run(scenario: try Self.trace("uploader", "both.example.com:22", .ipv6), options: .init(writeFiles: false))
        let f = o.report.flows[0]
        #expect(f.outcome == "ok", "\(o.text)")
        #expect(f.hops.last?.rule == "delivered to 2001:db8::22", "\(f.hops.map(\.rule))")
        let m = Self.scenario.model
        let lambda6 = try #require(m.enis[m.lambdas[0].enis[0]].ipv6Address)
        #expect(f.reply_hops.last?.rule == "delivered to \(lambda6)", "\(f.reply_hops.map(\.rule))")
    }

    @Test(arguments: [
        ("uploader", "v6.example.com:22", ClientProfile.AddressFamily.ipv4,
         "--address-family ipv4, but host v6.example.com has no IPv4 address (it has an ipv6 only)"),
        ("uploader", "v6box:22", .ipv4,
         "--address-family ipv4, but instance i-0123456789abcdef2 is in an IPv6-only subnet (no IPv4 address)"),
        ("uploader", "[2001:db8::22]:22", .ipv4, "--address-family ipv4, but --to 2001:db8::22 is an IPv6 address"),
        ("v6box", "both.example.com:22", .ipv4,
         "--address-family ipv4, but --from i-0123456789abcdef2 is in an IPv6-only subnet (no IPv4 address)"),
        ("v6.example.com", "web:22", .ipv4, "--address-family ipv4, but --from v6.example.com has no IPv4 address (it has an "
         + "ipv6 only)"),
        ("web", "203.0.113.22:22", .ipv6, "--address-family ipv6, but --to 203.0.113.22 is an IPv4 address"),
    ] as [(String, String, ClientProfile.AddressFamily, String)])
    func anEndWithoutTheFamilyIsRefusedInOneLine(_ from: String, _ to: String, _ family: ClientProfile.AddressFamily,
                                                 _ message: String) throws {
        #expect(throws: AdHocTrace.Problem(message: message)) { _ = try Self.trace(from, to, family) }
    }

    @Test func anIPv6TraceToAnEndWithoutIPv6IsRefused() throws {
        // The worker instance's subnet assigns IPv6 addresses; `none` takes its address away.
        let text = DualStackScenarioTests.yaml()
            .replacingOccurrences(of: "name: worker, subnet: private,", with: "name: worker, subnet: private, ipv6_address: none,")
            .replacingOccurrences(of: "{name: both.example.com, ip: 203.0.113.22, ipv6: \"2001:db8::22\",",
                                  with: "{name: both.example.com, ip: 203.0.113.22,")
        let s = try DualStackScenarioTests.load(text)
        var o = AdHocTrace.Options()
        o.addressFamily = .ipv6
        #expect(throws: AdHocTrace.Problem(message: "--address-family ipv6, but instance i-0123456789abcdef1 has no IPv6 "
                                           + "address (its ipv6_address)")) {
            _ = try AdHocTrace.scenario(s, from: "uploader", to: "worker:22", options: o)
        }
        #expect(throws: AdHocTrace.Problem(message: "--address-family ipv6, but host both.example.com has no IPv6 address "
                                           + "(its ipv6)")) {
            _ = try AdHocTrace.scenario(s, from: "uploader", to: "both.example.com:22", options: o)
        }
        // A source without IPv6: as without the option, the source's ENI is named.
        let noV6 = try DualStackScenarioTests.load(DualStackScenarioTests.yaml()
            .replacingOccurrences(of: "ipv6_allowed_for_dual_stack: true", with: "ipv6_allowed_for_dual_stack: false"))
        let eni = noV6.model.enis[noV6.model.lambdas[0].enis[0]].id
        #expect(throws: AdHocTrace.Problem(message: "--to host both.example.com is reached over IPv6, but the source's ENI "
                                           + "\(eni) has no IPv6 address")) {
            _ = try AdHocTrace.scenario(noV6, from: "uploader", to: "both.example.com:22", options: o)
        }
    }
}
