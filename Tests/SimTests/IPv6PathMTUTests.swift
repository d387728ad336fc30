import Foundation
import Packets
import Testing
import TestSupport
@testable import Sim

/// An IPv6 TCP segment of `data` bytes (its payload 0x00, 0x01, …) from `source` to `destination`, as a Linux
/// stack sends it (DF set inside the engine; hop limit 64).
private func segment(_ source: String, _ destination: String, data: Int, seq: UInt32) -> SimPacket {
    var ip = IPv4Header(source: IPv6Token.intern(IPv6Address(source)!), destination: IPv6Token.intern(IPv6Address(destination)!),
                        proto: .tcp, ttl: 64, identification: 0, dontFragment: true)
    ip.totalLength = UInt16(20 + 20 + data)
    let tcp = TCPHeader(sourcePort: 22, destinationPort: 58838, sequenceNumber: seq, acknowledgmentNumber: 1, flags: .ack,
                        window: 500)
    let bytes = (0..<data).map { UInt8(truncatingIfNeeded: $0) }
    let payload = bytes.withUnsafeBytes { PacketPayload(copying: $0) }
    return SimPacket(ip: ip, transport: .tcp(tcp), payload: payload, flow: 2, fromClient: false)
}

@Suite("IPv6 Path MTU: ICMPv6 Packet Too Big, routers that never fragment, the sender's IPv6 path MTU")
struct IPv6PathMTUTests {
    @Test func packetTooBigQuotesWhatFitsIn1280BytesWithGoodChecksums() throws {
        var p = segment("2600:1f18:abc:de00::20", "2001:db8:50::50", data: 1440, seq: 0xA1B2_C3D4)
        #expect(p.wireLength == 1500)
        let router = IPv6Token.intern(IPv6Address("2001:db8:50::50")!)
        var icmp = VPCNetwork.fragmentationNeeded(quoting: p, from: router, mtu: 1400)
        #expect(icmp.ip.proto == .icmpv6 && icmp.ip.source == router && icmp.ip.destination == p.ip.source)
        #expect(icmp.ip.ttl == 64 && icmp.flow == 2 && icmp.fromClient)
        let h = try #require(icmp.transport.icmp)
        #expect(h.type == .packetTooBig && h.code == 0 && h.restOfHeader == 1400)
        // 1280 bytes on the wire: 40 of IPv6 header, 8 of ICMPv6, 1232 of the packet (RFC 4443 §2.4(c)).
        #expect(icmp.payload.count == 1232 && icmp.wireLength == 1280)
        let q = icmp.payload.bytes
        #expect(q[0] >> 4 == 6 && Array(q[4..<6]) == [0x05, 0xB4] && q[6] == 6 && q[7] == 64)  // payload length 1460
        #expect(Array(q[8..<24]) == IPv6Address("2600:1f18:abc:de00::20")!.octets)
        #expect(Array(q[40..<48]) == [0, 22, 0xE5, 0xD6, 0xA1, 0xB2, 0xC3, 0xD4])  // ports and sequence number
        #expect(Array(q[60..<64]) == [0, 1, 2, 3])  // the data begins after the 20-byte TCP header
        #expect(VPCNetwork.quotedKey(icmp) == p.key)
        #expect(icmp.key.proto == .icmp && icmp.key.icmpType == 2, "NACL and group rules meet it as ICMP(v6) type 2")
        // The frame the capture writes: a real ICMPv6 Packet Too Big, checksum good.
        let parts = FrameParts(destination: .zero, source: .zero, ip: icmp.ip, transport: icmp.transport)
        let bytes = icmp.payload.withUnsafeBytes { payload in
            [UInt8].writing(capacity: FrameParts.maxHeaderBytes + payload.count) { w in
                Frame.write(to: &w, parts: parts, payload: payload)
            }
        }
        #expect(bytes.count == 14 + 1280)
        let f = try Frame(parsing: bytes, linkType: .ethernet)
        #expect(f.icmpv6?.type == .packetTooBig && f.icmpv6?.mtu == 1400)
        #expect(f.checksums.transport == .valid)
        #expect(f.payload == q)
        // A packet shorter than the limit is quoted whole.
        var small = segment("2600:1f18:abc:de00::20", "2001:db8:50::50", data: 100, seq: 7)
        var whole = VPCNetwork.fragmentationNeeded(quoting: small, from: router, mtu: 1280)
        #expect(whole.payload.count == 40 + 20 + 100)
        p.payload.free()
        icmp.payload.free()
        small.payload.free()
        whole.payload.free()
    }

    @Test func blackHoleNACLDropsThePacketTooBigAndTheFixNamesTheICMPv6Entry() throws {
        let o = try runInMemory(try shippedScenario("ipv6-pmtud-blackhole"))
        let r = o.results[0]
        #expect(r.outcome == .timeout)
        let drop = try #require(r.drop)
        #expect(drop.kind == "nacl" && drop.direction == "inbound" && drop.rule == "* DENY all ::/0")
        #expect(drop.key.proto == .icmp && drop.key.icmpType == 2 && drop.key.icmpCode == 0)
        #expect(drop.key.source == IPv6Token.intern(IPv6Address("2001:db8:50::50")!), "from the router's (the host's) address")
        // The server's 1500-byte packet (1428 bytes of data), dropped at the link and sent again with backoff.
        let big = try #require(r.drops.first { $0.kind == "path-mtu" && !$0.fromClient })
        #expect(big.rule == "path MTU 1400 < IPv6 packet 1500 bytes; ICMPv6 packet too big sent to 2600:1f18:abc:de00::20")
        #expect(big.count == drop.count && big.count >= 7)
        // The client's own too-big segment: its Packet Too Big arrives (no NACL on its side) and it resegments.
        let client = try #require(r.drops.first { $0.kind == "path-mtu" && $0.fromClient })
        #expect(client.count == 1)
        let hole = try #require(r.blackHole)
        #expect(hole == "path MTU 1400 < IPv6 packet 1500 bytes; the ICMP that would report it was dropped at "
                    + "acl-0b1c2d3e4f5a6b7c8 (public-nacl) inbound: * DENY all ::/0")
        #expect(o.text.contains("PATH MTU BLACK HOLE: " + hole))
        let fix = try #require(o.report.flows[0].fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["inbound: add #110 ALLOW icmpv6 type 2 ::/0",
                                              "ingress: add ALLOW icmpv6 type 2 ::/0"])
    }

    @Test func withThePacketTooBigAllowedTheServerResegmentsAndCompletes() throws {
        let o = try runInMemory(try shippedScenario("ipv6-pmtud-blackhole-fixed"))
        #expect(o.results[0].outcome == .ok)
        #expect(o.results[0].drops.map(\.kind) == ["path-mtu", "path-mtu"])
        #expect(o.results[0].drops.allSatisfy { $0.count == 1 })
        #expect(o.results[0].blackHole == nil)
        // A NACL entry for ICMPv6 type 1 (destination unreachable) does not let type 2 in.
        let wrongType = try runInMemory(try shippedScenario("ipv6-pmtud-blackhole-fixed").replacingOccurrences(
            of: "{rule: 111, protocol: icmpv6, icmp_type: 2,", with: "{rule: 111, protocol: icmpv6, icmp_type: 1,"))
        #expect(wrongType.results[0].outcome == .timeout)
        #expect(wrongType.results[0].drop?.kind == "nacl")
    }

    @Test func relatedPacketTooBigIsAdmittedWithoutAGroupRuleOnlyUnderTheAssumption() throws {
        let yaml = try shippedScenario("ipv6-pmtud-blackhole-fixed").replacingOccurrences(
            of: "      - {protocol: icmpv6, icmp_type: 2, cidr: \"::/0\", description: Path MTU Discovery (Packet Too Big)}\n",
            with: "")
        let strict = try runInMemory(yaml)
        #expect(strict.results[0].outcome == .timeout)
        #expect(strict.results[0].drop?.kind == "security-group")
        #expect(strict.results[0].drop?.key.icmpType == 2)
        let related = try runInMemory(yaml + "\nassumptions: {sg_admits_related_icmp: true, sg_untracked_flows: false}\n")
        #expect(related.results[0].outcome == .ok)
    }

    /// The instance sends IPv6 packets bigger than 1500 bytes toward a host whose interface takes 9001 (its
    /// 1564-byte key-exchange reply in one 1636-byte packet): the internet gateway (1500) drops them and its
    /// Packet Too Big comes from the subnet's IPv6 router address (the /64 + 1).
    @Test func internetGatewaySendsPacketTooBigFromTheSubnetsRouterAddress() throws {
        let yaml = try shippedScenario("ipv6-pmtud-blackhole-fixed")
            .replacingOccurrences(of: "    path_mtu: 1400                     # the link in front of it; its own interface is 1500\n",
                                  with: "    mtu: 9001\n")
        let o = try runInMemory(yaml)
        #expect(o.results[0].outcome == .ok)
        let big = try #require(o.results[0].drops.first { $0.kind == "path-mtu" && !$0.fromClient })
        #expect(big.component == "igw-0c2d4e6f8a0b1c2d3")
        #expect(big.rule == "link MTU 1500 < IPv6 packet 1636 bytes; ICMPv6 packet too big sent to 2600:1f18:abc:de00::20")
        // Without the group's ICMPv6 rule the Packet Too Big from 2600:1f18:abc:de00::1 is dropped there.
        let strict = try runInMemory(yaml.replacingOccurrences(
            of: "      - {protocol: icmpv6, icmp_type: 2, cidr: \"::/0\", description: Path MTU Discovery (Packet Too Big)}\n",
            with: ""))
        let drop = try #require(strict.results[0].drop)
        #expect(drop.kind == "security-group" && drop.key.icmpType == 2)
        #expect(drop.key.source == IPv6Token.intern(IPv6Address("2600:1f18:abc:de00::1")!))
    }

    /// A client behind an egress-only internet gateway sends a segment too big for the server's link: the Packet
    /// Too Big comes back in through the gateway, which lets it in as related to the connection it tracks
    /// (`eigw_admits_related_icmpv6`), or drops it.
    @Test func egressOnlyGatewayLetsInThePacketTooBigOfAConnectionItTracks() throws {
        // eigw-inbound-blocked's worker, now an SFTP client of a server behind a 1400-byte link; its group lets
        // ICMPv6 type 2 in.
        let yaml = try shippedScenario("eigw-inbound-blocked")
            .replacingOccurrences(of: "    ports: {443: https}\n", with: "    ports: {443: https, 22: sftp}\n    path_mtu: 1400\n")
            .replacingOccurrences(of: "    ingress:\n", with: "    ingress:\n      - {protocol: icmpv6, icmp_type: 2, cidr: \"::/0\"}\n")
            .replacingOccurrences(of: "    to: api.example.com:443\n    app: https\n",
                                  with: "    to: api.example.com:22\n    app: sftp-ls\n    client: ssh2\n")
        let o = try runInMemory(yaml)
        #expect(o.results[0].outcome == .ok, "\(o.results[0].message) \(String(describing: o.results[0].drop))")
        let big = try #require(o.results[0].drops.first { $0.kind == "path-mtu" && $0.fromClient })
        #expect(big.rule == "path MTU 1400 < IPv6 packet 1500 bytes; ICMPv6 packet too big sent to 2600:1f18:abc:de01::20")
        let closedYAML = yaml + "\nassumptions: {eigw_admits_related_icmpv6: false}\n"
        #expect(try loadScenario(closedYAML).assumptions.overridden.contains("eigw_admits_related_icmpv6"))
        let closed = try runInMemory(closedYAML)
        #expect(closed.results[0].outcome == .timeout)
        let drop = try #require(closed.results[0].drop)
        #expect(drop.kind == "egress-only-internet-gateway" && drop.key.icmpType == 2)
    }

    /// A UDP sender over IPv6 cuts its datagrams to the path MTU a Packet Too Big reports: the first datagram's two
    /// 1496-byte fragments die at the 1400-byte link, the second goes in fragments that fit it.
    @Test func aPacketTooBigLowersADatagramSendersIPv6PathMTU() throws {
        let yaml = try shippedScenario("eigw-inbound-blocked")
            .replacingOccurrences(of: "    ports: {443: https}\n", with: "    ports: {443: https, 5000: udp}\n    path_mtu: 1400\n")
            .replacingOccurrences(of: "    security_groups: [worker-sg]\n", with: "    security_groups: [worker-sg]\n    mtu: 1500\n")
            .replacingOccurrences(of: "    ingress:\n", with: "    ingress:\n      - {protocol: icmpv6, icmp_type: 2, cidr: \"::/0\"}\n")
            .replacingOccurrences(of: "  - name: scan-ssh-in\n", with: "  - {name: udp6, from: worker, to: \"api.example.com:5000\", "
                                    + "app: udp, size: 4000, count: 2, address_family: ipv6, expect: {outcome: timeout}}\n"
                                    + "  - name: scan-ssh-in\n")
        let r = try runInMemory(yaml).results[1]
        let big = try #require(r.drops.first { $0.kind == "path-mtu" && $0.fromClient })
        #expect(big.count == 2 && big.rule == "path MTU 1400 < IPv6 packet 1496 bytes; ICMPv6 packet too big sent to "
                    + "2600:1f18:abc:de01::20", "\(big)")
    }

    /// A receiver that gives up on an IPv6 datagram whose first fragment came answers with ICMPv6 time exceeded,
    /// code 1, quoting that fragment with its fragment header.
    @Test func reassemblyTimeExceededQuotesTheFirstFragment() throws {
        var ip = IPv4Header(source: IPv6Token.intern(IPv6Address("2001:db8::30")!),
                            destination: IPv6Token.intern(IPv6Address("2600:1f18:abc:de01::20")!), proto: .udp, ttl: 64,
                            identification: 0x3CA5, dontFragment: false)
        ip.moreFragments = true
        ip.totalLength = 20 + 1448
        let first = SimPacket(ip: ip, transport: .udp(UDPHeader(sourcePort: 5000, destinationPort: 33043)), flow: 1,
                              fromClient: false)
        var icmp = VPCNetwork.timeExceeded6(first, [0x13, 0x88, 0x81, 0x13, 0x0F, 0xA8, 0xAB, 0xCD])
        #expect(icmp.ip.proto == .icmpv6 && icmp.ip.source == ip.destination && icmp.ip.destination == ip.source)
        #expect(icmp.transport.icmp?.type.rawValue == 3 && icmp.transport.icmp?.code == 1)
        let q = icmp.payload.bytes
        #expect(q.count == 40 + 8 + 8)
        #expect(q[6] == 44 && Array(q[4..<6]) == [0, 16], "next header: the fragment header; 8 + 8 bytes after")
        #expect(Array(q[40..<48]) == [17, 0, 0, 1, 0, 0, 0x3C, 0xA5], "UDP, offset 0 and M, the identification")
        #expect(Array(q[48..<52]) == [0x13, 0x88, 0x81, 0x13])
        let parts = FrameParts(destination: .zero, source: .zero, ip: icmp.ip, transport: icmp.transport)
        let bytes = icmp.payload.withUnsafeBytes { payload in
            [UInt8].writing(capacity: FrameParts.maxHeaderBytes + payload.count) { Frame.write(to: &$0, parts: parts, payload: payload) }
        }
        let f = try Frame(parsing: bytes, linkType: .ethernet)
        #expect(f.icmpv6?.type == .timeExceeded && f.checksums.transport == .valid)
        icmp.payload.free()
    }
}
