import Foundation
import Packets
import Testing
@testable import Sim

/// DNS64 (a subnet's `enable_dns64`): a flow naming an IPv4-only destination from there gets the synthesized
/// 64:ff9b::<IPv4>; an IPv6-only source without it is refused in one line; a written 64:ff9b:: address goes there.
@Suite struct DNS64ScenarioTests {
    /// DualStackScenarioTests' network with an IPv4-only host (line 43) and, when `dns64` names them, DNS64 on
    /// those subnets; its flows start on line 45.
    static func yaml(dns64: [String] = [], flows: String) -> String {
        var text = DualStackScenarioTests.yaml(flows: flows).replacingOccurrences(
            of: "  - {name: v6.example.com, ipv6: \"2001:db8::23\", ports: {22: sftp}}\n",
            with: "  - {name: v6.example.com, ipv6: \"2001:db8::23\", ports: {22: sftp}}\n"
                + "  - {name: v4.example.com, ip: 203.0.113.40, ports: {22: sftp}}\n")
        for s in dns64 {
            let range = text.range(of: "name: \(s), ")!
            let end = text[range.upperBound...].range(of: "}\n")!
            text.replaceSubrange(end, with: ", enable_dns64: true}\n")
        }
        return text
    }

    static let synthesized = IPv6Address("64:ff9b::cb00:7128")!  // 203.0.113.40

    @Test func anIPv6OnlySourceWithDNS64GetsTheSynthesizedAddress() throws {
        let s = try DualStackScenarioTests.load(Self.yaml(dns64: ["v6only"], flows: "  - {name: f, from: v6box, to: \"v4.example.com:22\"}"))
        #expect(s.model.subnets.map(\.enableDNS64) == [false, false, true])
        let d = s.flows[0].destination
        #expect(d.address.ipv6 == Self.synthesized && d.dns64 && d.fallback == nil)
        #expect(s.flows[0].app == .sftp)
    }

    @Test func anIPv6OnlySourceWithoutDNS64IsRefusedInOneLine() throws {
        let flow = "  - {name: f, from: v6box, to: \"v4.example.com:22\"}"
        let e = try #require(DualStackScenarioTests.error(Self.yaml(flows: flow)))
        #expect(e.message == "flow 'f': instance i-0123456789abcdef2 is IPv6-only and host v4.example.com has no IPv6 "
                + "address: without DNS64 its name has no AAAA record (enable_dns64 on the source's subnet, with a "
                + "64:ff9b::/96 route to a NAT gateway, or write the NAT64 address 64:ff9b::cb00:7128)", "\(e)")
        #expect(e.line == 45 && e.column == flow.distance(to: "\"v4.example.com") + 1, "\(e)")
        #expect(!e.description.contains("\n"))
    }

    /// A written 64:ff9b:: address is not resolved: it goes there over IPv6 with or without DNS64, and names the
    /// host that has the address it embeds (whose port 22 gives the flow its app).
    @Test func aWrittenNAT64AddressGoesThereAndFindsTheHost() throws {
        let s = try DualStackScenarioTests.load(Self.yaml(flows: "  - {name: f, from: v6box, to: \"[64:ff9b::203.0.113.40]:22\"}"))
        let d = s.flows[0].destination
        #expect(d.address.ipv6 == Self.synthesized && !d.dns64)
        #expect(s.flows[0].app == .sftp)
    }

    /// A dual-stack source with DNS64 picks as its client does: IPv4 by default, the synthesized AAAA first with
    /// Happy Eyeballs (IPv4 the fallback); without DNS64 Happy Eyeballs has only the A record.
    @Test func aDualStackSourceWithDNS64PicksAsItsClientDoes() throws {
        let flows = """
              - {name: v4, from: uploader, to: "v4.example.com:22"}
              - {name: he, from: uploader, to: "v4.example.com:22", address_family: happy_eyeballs}
            """
        let with = try DualStackScenarioTests.load(Self.yaml(dns64: ["private"], flows: flows))
        #expect(with.flows[0].destination.address == IPv4Address(203, 0, 113, 40) && !with.flows[0].destination.dns64)
        let he = with.flows[1].destination
        #expect(he.address.ipv6 == Self.synthesized && he.dns64 && he.fallback == IPv4Address(203, 0, 113, 40))
        let without = try DualStackScenarioTests.load(Self.yaml(flows: flows))
        #expect(without.flows[1].destination.address == IPv4Address(203, 0, 113, 40)
                && without.flows[1].destination.fallback == nil)
    }

    /// `vpcsim trace` resolves as a flow does: from an IPv6-only instance with DNS64 to the synthesized address; a
    /// written 64:ff9b:: address of a host's IPv4 one is a destination of the scenario; without DNS64, refused.
    @Test func aTraceFromAnIPv6OnlySourceWithDNS64GoesToTheSynthesizedAddress() throws {
        let s = try DualStackScenarioTests.load(Self.yaml(dns64: ["v6only"], flows: "  []"))
        let t = try AdHocTrace.scenario(s, from: "v6box", to: "v4.example.com:22")
        #expect(t.flows[0].destination.address.ipv6 == Self.synthesized)
        #expect(t.flows[0].app == .sftp && t.flows[0].appBasis == "what v4.example.com declares listening on port 22",
                "\(String(describing: t.flows[0].appBasis))")
        let literal = try AdHocTrace.scenario(s, from: "v6box", to: "[64:ff9b::203.0.113.40]:22")
        #expect(literal.flows[0].destination.address.ipv6 == Self.synthesized)
        let without = try DualStackScenarioTests.load(Self.yaml(flows: "  []"))
        #expect(throws: AdHocTrace.Problem(message: "--from i-0123456789abcdef2 is in an IPv6-only subnet, and --to "
                                           + "v4.example.com has no IPv6 address")) {
            _ = try AdHocTrace.scenario(without, from: "v6box", to: "v4.example.com:22")
        }
    }

    @Test func enableDNS64MustBeABoolean() throws {
        let text = Self.yaml(dns64: ["v6only"], flows: "  []").replacingOccurrences(of: "enable_dns64: true",
                                                                                   with: "enable_dns64: sometimes")
        let e = try #require(DualStackScenarioTests.error(text))
        #expect(e.line == 34 && e.message == "expected true or false for 'enable_dns64', found 'sometimes'", "\(e)")
    }
}

private extension String {
    /// Characters before the first `s`.
    func distance(to s: String) -> Int { distance(from: startIndex, to: range(of: s)!.lowerBound) }
}
