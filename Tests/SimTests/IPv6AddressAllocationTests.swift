import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// How an ENI without an `ipv6_address` gets one (the assumption `ipv6_address_allocation`), and an instance's
/// `ipv6_address: auto` / `none`.
@Suite struct IPv6AddressAllocationTests {
    typealias DS = DualStackScenarioTests

    static func model(_ text: String) throws -> VPCModel { try DS.load(text).model }

    static func worker(_ m: VPCModel) throws -> IPv6Address? {
        m.enis[try #require(m.instances.first { $0.name == "worker" }).eni].ipv6Address
    }

    @Test func byDefaultTheLowestFreeAddressFromFourIsTakenInFileOrder() throws {
        let s = try DS.load(DS.yaml())
        // worker (instance, private subnet) first, then the uploader's ENI in the same subnet.
        #expect(try Self.worker(s.model) == DS.v6("2600:1f18:abc:de01::4"))
        let f = try #require(s.model.lambdas.first { $0.name == "uploader" })
        #expect(s.model.enis[f.enis[0]].ipv6Address == DS.v6("2600:1f18:abc:de01::5"))
        let row = try #require(s.assumptions.listing.first { $0.name == "ipv6_address_allocation" })
        #expect(row.value == "lowest" && row.basis.contains("undocumented by AWS"))
    }

    @Test func hashedSpreadsAddressesOverTheSubnetAsAWSDoesAndIsTheSameEveryLoad() throws {
        let text = DS.yaml().replacingOccurrences(of: "name: ds\n", with: "name: ds\nassumptions: {ipv6_address_allocation: hashed}\n")
        let a = try Self.model(text), b = try Self.model(text)
        let worker = try #require(try Self.worker(a))
        let eni = a.enis[try #require(a.instances.first { $0.name == "worker" }).eni]
        #expect(worker == IPv6Address(high: DS.cidr6("2600:1f18:abc:de01::/64").network.high, low: ScenarioValues.fnv1a(eni.id)))
        #expect(worker.low > 0xFFFF && DS.cidr6("2600:1f18:abc:de01::/64").contains(worker))
        #expect(try Self.worker(b) == worker)
        #expect(try DS.load(text).assumptions.overridden.contains("ipv6_address_allocation"))
    }

    @Test func anUnknownAllocationIsOneLineAtItsValue() throws {
        let text = DS.yaml().replacingOccurrences(of: "name: ds\n", with: "name: ds\nassumptions: {ipv6_address_allocation: random}\n")
        let e = try #require(DS.error(text))
        #expect(e.description.hasPrefix("ds.yaml:2:") && e.message.contains("random"), "\(e)")
    }

    @Test func autoAsksForAnAddressWhereTheSubnetDoesNotAssignThem() throws {
        let text = DS.yaml().replacingOccurrences(
            of: "public_ip: 198.51.100.10, ipv6_address: \"2600:1f18:abc:de00::10\"", with: "public_ip: 198.51.100.10, ipv6_address: auto")
        let m = try Self.model(text)
        let web = try #require(m.instances.first { $0.name == "web" })
        #expect(m.enis[web.eni].ipv6Address == DS.v6("2600:1f18:abc:de00::4"))
    }

    @Test func noneLeavesAnInstanceWithoutOneThoughItsSubnetAssignsThem() throws {
        let text = DS.yaml().replacingOccurrences(of: "name: worker, subnet: private,", with: "name: worker, subnet: private, ipv6_address: none,")
        let m = try Self.model(text)
        #expect(try Self.worker(m) == nil)
        // The uploader's ENI then takes ::4.
        let f = try #require(m.lambdas.first { $0.name == "uploader" })
        #expect(m.enis[f.enis[0]].ipv6Address == DS.v6("2600:1f18:abc:de01::4"))
    }

    @Test func noneInAnIPv6OnlySubnetIsRefused() throws {
        let text = DS.yaml().replacingOccurrences(of: "name: v6box, subnet: v6only,", with: "name: v6box, subnet: v6only, ipv6_address: none,")
        let e = try #require(DS.error(text))
        #expect(e.message.contains("subnet subnet-0ff66aa7718899001 is IPv6-only (no cidr): instance i-0123456789abcdef2 needs "
                                   + "an IPv6 address") && e.description.hasPrefix("ds.yaml:"), "\(e)")
    }

    @Test func icmpTypeOnATCPRuleNamesBothICMPProtocols() throws {
        let text = DS.yaml().replacingOccurrences(of: "{rule: 101, protocol: tcp, ports: 22, cidr: \"::/0\", action: allow}",
                                                  with: "{rule: 101, protocol: tcp, ports: 22, icmp_type: 2, cidr: \"::/0\", action: allow}")
        let e = try #require(DS.error(text))
        #expect(e.message.contains("icmp_type applies only to icmp and icmpv6 rules"), "\(e)")
    }
}
