import Packets
import Testing
@testable import Sim

/// An IPv6 packet's ICMP is ICMPv6, protocol 58: an IPv6 NACL entry or security-group rule for `icmp` (protocol 1)
/// does not match it, one for `icmpv6` or `all` does (EC2 API IcmpTypeCode / IpPermission: the protocol number is
/// matched as written; an IPv6 packet never carries protocol 1).
@Suite struct ICMPv6RuleProtocolTests {
    static let echo = PacketKey(proto: .icmp, source: IPv6Token.intern(IPv6Address("2001:db8::9")!),
                                destination: IPv6Token.intern(IPv6Address("2600:1f18:abc:de00::10")!), icmpType: 128)

    @Test(arguments: [(ProtocolMatch.number(.icmp), false), (.number(.icmpv6), true), (.all, true)])
    func onlyICMPv6AndAllEntriesMatchAnICMPv6Packet(_ proto: ProtocolMatch, _ matches: Bool) throws {
        let peer = try #require(Self.echo.source.ipv6)
        let entry = NACLIPv6Rule(number: 100, proto: proto, ports: nil, icmpType: -1, icmpCode: -1, cidr: .anyIPv6,
                                 action: .allow)
        #expect(NACLEvaluator.matches6(entry, Self.echo, peer: peer) == matches, "\(proto)")
        let rule = SecurityGroupIPv6Rule(proto: proto, ports: nil, peer: .cidr(.anyIPv6), description: nil)
        #expect(SecurityGroupEvaluator.matches6(rule, Self.echo, peer: peer) == matches, "\(proto)")
    }
}
