import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// IPv6 on an instance's `network_interfaces:`: the same `ipv6_address` as the instance's own (an address in the
/// subnet's /64, `auto`, `none`, or one allocated when the subnet assigns them), the same one-line errors at the
/// value's line and column, and a trace sent from such an interface over IPv6.
@Suite struct IPv6InterfaceTests {
    static let web = "  - {id: i-0123456789abcdef0, name: web, subnet: public, private_ip: 10.0.0.10, public_ip: 198.51.100.10, "
        + "ipv6_address: \"2600:1f18:abc:de00::10\", security_groups: [app-sg]}"

    /// The dual-stack scenario with `interfaces` as web's `network_interfaces:`, and an IPv4-only subnet `v4only`.
    static func yaml(_ interfaces: String, flows: String = "  []") -> String {
        let base = DualStackScenarioTests.yaml(flows: flows)
        #expect(base.contains(web))
        return base
            .replacingOccurrences(of: web, with: String(web.dropLast()) + ",\n     network_interfaces: [\(interfaces)]}")
            .replacingOccurrences(of: "subnets:\n", with: "subnets:\n  - {id: subnet-0bb22cc33dd44ee55, name: v4only, vpc: main, "
                                  + "cidr: 10.0.3.0/24}\n")
    }

    static func model(_ interfaces: String) throws -> VPCModel { try DualStackScenarioTests.load(yaml(interfaces)).model }

    @Test func anInterfaceTakesTheAddressGivenOrOneAllocatedInItsSubnet() throws {
        let m = try Self.model("{id: eni-0a0a0a0a0a0a0a0a1, subnet: private, ipv6_address: \"2600:1f18:abc:de01::20\", "
                               + "security_groups: [app-sg]}, {id: eni-0a0a0a0a0a0a0a0a2, subnet: private, security_groups: [app-sg]}, "
                               + "{id: eni-0a0a0a0a0a0a0a0a3, subnet: private, ipv6_address: none, security_groups: [app-sg]}, "
                               + "{id: eni-0a0a0a0a0a0a0a0a4, subnet: public, ipv6_address: auto, security_groups: [app-sg]}, "
                               + "{id: eni-0a0a0a0a0a0a0a0a5, subnet: v4only, security_groups: [app-sg]}")
        func v6(_ id: String) -> String? { m.enis.first { $0.id == id }?.ipv6Address?.description }
        #expect(v6("eni-0a0a0a0a0a0a0a0a1") == "2600:1f18:abc:de01::20")
        // The private subnet assigns IPv6 addresses on creation: the lowest free from ::4, in file order (web's
        // interfaces come before the worker instance and the Lambda function's ENI).
        #expect(v6("eni-0a0a0a0a0a0a0a0a2") == "2600:1f18:abc:de01::4")
        #expect(v6("eni-0a0a0a0a0a0a0a0a3") == nil)
        #expect(v6("eni-0a0a0a0a0a0a0a0a4") == "2600:1f18:abc:de00::4")  // `auto` where the subnet does not assign them
        #expect(v6("eni-0a0a0a0a0a0a0a0a5") == nil)
        let worker = try #require(m.instances.first { $0.name == "worker" })
        #expect(m.enis[worker.eni].ipv6Address?.description == "2600:1f18:abc:de01::5")
    }

    @Test(arguments: [
        ("{id: eni-0a0a0a0a0a0a0a0a1, subnet: private, ipv6_address: \"2600:1f18:abc:de00::20\", security_groups: [app-sg]}",
         "\"2600:1f18:abc:de00::20\"",
         "ipv6_address 2600:1f18:abc:de00::20 is outside subnet subnet-0ee55ff6607788990 (2600:1f18:abc:de01::/64)"),
        ("{id: eni-0a0a0a0a0a0a0a0a1, subnet: v4only, ipv6_address: \"2600:1f18:abc:de00::20\", security_groups: [app-sg]}",
         "\"2600:1f18:abc:de00::20\"",
         "ipv6_address 2600:1f18:abc:de00::20 needs an IPv6 block on subnet subnet-0bb22cc33dd44ee55 (its ipv6_cidr)"),
        ("{id: eni-0a0a0a0a0a0a0a0a1, subnet: public, ipv6_address: \"2600:1f18:abc:de00:0::10\", security_groups: [app-sg]}",
         "\"2600:1f18:abc:de00:0::10\"",
         "ipv6_address 2600:1f18:abc:de00::10 is already used by instance i-0123456789abcdef0"),
        ("{id: eni-0a0a0a0a0a0a0a0a1, subnet: public, ipv6_address: \"2600:1f18:abc:de00:ffff:ffff:ffff:ffff\", "
         + "security_groups: [app-sg]}", "\"2600:1f18:abc:de00:ffff:ffff:ffff:ffff\"",
         "ipv6_address 2600:1f18:abc:de00:ffff:ffff:ffff:ffff is reserved by AWS in subnet subnet-0aa11bb22cc33dd44 "
         + "(2600:1f18:abc:de00::/64): the first four addresses and the last cannot be assigned"),
        ("{id: eni-0a0a0a0a0a0a0a0a1, subnet: v4only, ipv6_address: auto, security_groups: [app-sg]}", "auto, security",
         "ipv6_address auto needs an IPv6 block on subnet subnet-0bb22cc33dd44ee55 (its ipv6_cidr)"),
        ("{id: eni-0a0a0a0a0a0a0a0a1, subnet: v6only, ipv6_address: none, security_groups: [app-sg]}", "none, security",
         "subnet subnet-0ff66aa7718899001 is IPv6-only (no cidr): network interface eni-0a0a0a0a0a0a0a0a1 of instance "
         + "i-0123456789abcdef0 needs an IPv6 address (ipv6_address none is for dual-stack subnets)"),
    ] as [(String, String, String)])
    func badIPv6OnAnInterfaceIsOneLineAtItsValue(_ interfaces: String, _ value: String, _ message: String) throws {
        let text = Self.yaml(interfaces)
        let e = try #require(DualStackScenarioTests.error(text))
        #expect(e.message == message, "\(e)")
        // At the value: its line and column (1-based) in the file.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let n = try #require(lines.firstIndex { $0.contains("network_interfaces:") })
        let column = try #require(lines[n].range(of: value)).lowerBound.utf16Offset(in: lines[n]) + 1
        #expect(e.file == "ds.yaml" && e.line == n + 1 && e.column == column, "\(e)")
        #expect(!e.description.contains("\n"))
    }

    /// A trace from the second interface over IPv6 leaves from that interface's IPv6 address, and is answered there.
    @Test func aTraceFromAnInterfaceOverIPv6LeavesFromItsAddress() throws {
        let s = try DualStackScenarioTests.load(Self.yaml("{id: eni-0a0a0a0a0a0a0a0a1, subnet: private, "
                                                           + "ipv6_address: \"2600:1f18:abc:de01::20\", security_groups: [app-sg]}"))
        for from in ["eni-0a0a0a0a0a0a0a0a1", "2600:1f18:abc:de01::20", "[2600:1f18:abc:de01::20]"] {
            let t = try AdHocTrace.scenario(s, from: from, to: "[2001:db8::22]:22")
            #expect(t.flows[0].sourceInterface == s.model.enis.firstIndex { $0.id == "eni-0a0a0a0a0a0a0a0a1" }, "\(from)")
        }
        let t = try AdHocTrace.scenario(s, from: "eni-0a0a0a0a0a0a0a0a1", to: "[2001:db8::22]:22")
        let o = try Runner.run(scenario: t, options: .init(writeFiles: false))
        let f = o.report.flows[0]
        #expect(f.outcome == "ok", "\(o.text)")
        #expect(f.hops.last?.rule == "delivered to 2001:db8::22", "\(f.hops.map(\.rule))")
        #expect(f.reply_hops.last?.rule == "delivered to 2600:1f18:abc:de01::20", "\(f.reply_hops.map(\.rule))")
        // Out through the private subnet's egress-only gateway (its ::/0 route), not web's public subnet.
        #expect(f.hops.contains { $0.component == "eigw-0123456789abcdef0" }, "\(f.hops.map(\.component))")
    }
}
