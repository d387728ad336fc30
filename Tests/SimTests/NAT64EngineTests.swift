import Foundation
import Packets
import Testing
@testable import Sim

/// NAT64 at a NAT gateway keeps the gateway's IPv4 behaviour: its port choice and connections per destination,
/// its idle timeout and the RST after it (sent over IPv6 to the IPv6 host), its metrics; a private NAT gateway's
/// translation goes on by its subnet's routes. Runs variants of scenarios/ipv6-only-nat64.yaml.
@Suite struct NAT64EngineTests {
    static let story: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return try! String(contentsOf: url.appendingPathComponent("scenarios/ipv6-only-nat64.yaml"), encoding: .utf8)
    }()

    /// The story with `assumptions` and its flows replaced by `flows` (and `edit` applied to the network).
    static func run(assumptions: String = "{}", flows: String, edit: (String) -> String = { $0 }) throws -> Runner.Outcome {
        let network = String(story[..<story.range(of: "\nflows:\n")!.lowerBound])
        let text = edit(network).replacingOccurrences(of: "seed: 1\n", with: "seed: 1\nassumptions: \(assumptions)\n")
            + "\nflows:\n" + flows
        let s = try ScenarioLoader.load(yaml: text, file: "nat64.yaml")
        var o = Runner.Options(writeFiles: false)
        o.flowLogs = true
        return try Runner.run(scenario: s, options: o)
    }

    /// `nat_port_selection: sequential`: the first NAT64 connection to a destination gets port 1024, the next 1025;
    /// with one connection per destination (`nat_connections_per_destination: 1`) a second one while the first is held
    /// finds no port (ErrorPortAllocation) and times out at the gateway.
    @Test func portsAreChosenAndRunOutAsForIPv4() throws {
        let flows = """
              - {name: a, from: worker, to: "sftp.example.com:22", app: sftp, size: 10KB, hold: 30s}
              - {name: b, from: worker, to: "sftp.example.com:22", app: sftp, size: 10KB, start: 0.1s}
            """
        let seq = try Self.run(assumptions: "{nat_port_selection: sequential}", flows: flows)
        let rules = seq.report.flows.map { f in f.hops.first { $0.component == "nat-0e1f2a3b4c5d6e7f8" }?.rule ?? "" }
        #expect(rules[0].contains(" → 10.0.0.5:1024, ") && rules[1].contains(" → 10.0.0.5:1025, "), "\(rules)")
        let one = try Self.run(assumptions: "{nat_connections_per_destination: 1}", flows: flows)
        #expect(one.report.flows[0].outcome == "ok")
        let b = one.report.flows[1]
        #expect(b.outcome == "timeout" && b.drop?.component == "nat-0e1f2a3b4c5d6e7f8" && b.drop?.rule == "ErrorPortAllocation",
                "\(b.outcome) \(String(describing: b.drop))")
        #expect(one.report.nat_gateways[0].metrics.errorPortAllocation == b.drop?.count)
    }

    /// An interactive session idle 400 s: the gateway forgets the NAT64 connection after 350 s, drops the client's
    /// next IPv6 packet and answers with an RST over IPv6 from 64:ff9b::cb00:7116 (60 bytes: 40 of IPv6, 20 of TCP),
    /// counted in IdleTimeoutCount.
    @Test func anIdleNAT64ConnectionExpiresAndTheClientGetsAnIPv6Reset() throws {
        // One-minute flow-log intervals: the RST's minute holds nothing else of the connection that way.
        let o = try Self.run(flows: "  - {name: idle, from: worker, to: \"sftp.example.com:22\", app: sftp, client: openssh, "
                             + "steps: [ls, idle 400s, put 10KB]}\n") { $0 + "\nflow_logs: {interval: 60}\n" }
        let f = o.report.flows[0]
        #expect(f.outcome == "reset", "\(f.outcome): \(f.message)")
        #expect(f.drop?.component == "nat-0e1f2a3b4c5d6e7f8" && f.drop?.rule.hasPrefix("connection idle longer than 350 s") == true,
                "\(String(describing: f.drop))")
        #expect(f.drop?.packet.contains("[2600:1f18:abc:de01::20]:") == true, "\(String(describing: f.drop))")
        #expect(o.report.nat_gateways[0].metrics.idleTimeoutCount == 1)
        let lines = (o.flowLogText ?? "").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let rst = lines.filter { $0[3] == "64:ff9b::cb00:7116" && $0[4] == "2600:1f18:abc:de01::20" && $0[8] == "1" && $0[9] == "60" }
        // Egress at the gateway's ENI, ingress at the worker's.
        #expect(rst.count == 2 && rst[0][2] != rst[1][2], "\(lines.map { $0.joined(separator: " ") })")
    }

    /// The story's network behind a 1400-byte path to the server, the public NACL letting ICMP in from the
    /// internet (the fragmentation needed that NAT64 translates).
    static func pathMTU1400WithICMPIn(_ net: String) -> String {
        net.replacingOccurrences(of: "    rtt_ms: 20\n", with: "    rtt_ms: 20\n    path_mtu: 1400\n")
            .replacingOccurrences(of: "    inbound:\n      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0",
                                  with: "    inbound:\n      - {rule: 90, protocol: icmp, cidr: 0.0.0.0/0, action: allow}\n"
                                      + "      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0")
    }

    /// An ICMP error for a NAT64 connection (fragmentation needed from the link in front of a host with a 1400-byte
    /// path MTU, let in by the public NACL) becomes an ICMPv6 Packet Too Big of 1420 at the gateway (RFC 7915 §4.2),
    /// which the public NACL's IPv6 entries (TCP only) drop on its way out to the worker: a black hole, and the fix
    /// names the NACL's ICMPv6 entry.
    @Test func anICMPErrorForANAT64ConnectionBecomesAPacketTooBigThatTheNACLMustPass() throws {
        let o = try Self.run(flows: "  - {name: big, from: worker, to: \"sftp.example.com:22\", app: sftp, size: 100KB}\n",
                             edit: Self.pathMTU1400WithICMPIn)
        let f = o.report.flows[0]
        #expect(f.outcome == "timeout", "\(f.outcome): \(f.message)")
        let nat = try #require(f.drops.first { $0.component == "acl-0b1c2d3e4f5a6b7c8" })
        #expect(nat.direction == "outbound" && nat.rule == "* DENY all ::/0" && nat.packet.hasSuffix("ICMPv6 packet-too-big"),
                "\(nat)")
        #expect(f.black_hole?.contains("the ICMP that would report it was dropped at acl-0b1c2d3e4f5a6b7c8") == true,
                "\(String(describing: f.black_hole))")
        #expect(o.report.nat_gateways[0].metrics.packetsDropCount == 0, "translated, not dropped by the gateway")
    }

    /// `nat64_translates_icmp_errors: false`: the gateway drops the fragmentation needed instead of translating it,
    /// whatever the NACLs and groups allow — a black hole at the gateway; the report lists the assumption as set.
    @Test func withoutICMPErrorTranslationTheGatewayDropsTheFragmentationNeeded() throws {
        let o = try Self.run(assumptions: "{nat64_translates_icmp_errors: false}",
                             flows: "  - {name: big, from: worker, to: \"sftp.example.com:22\", app: sftp, size: 100KB}\n",
                             edit: Self.pathMTU1400WithICMPIn)
        let f = o.report.flows[0]
        #expect(f.outcome == "timeout", "\(f.outcome): \(f.message)")
        let atNAT = try #require(f.drops.first { $0.component == "nat-0e1f2a3b4c5d6e7f8" })
        #expect(atNAT.rule == "NAT64 of ICMP type 3 code 4 from 203.0.113.22: not translated", "\(atNAT)")
        #expect(f.drops.allSatisfy { $0.component != "acl-0b1c2d3e4f5a6b7c8" }, "nothing reaches the NACL: \(f.drops)")
        #expect(o.report.assumptions.contains { $0.name == "nat64_translates_icmp_errors" && $0.value == "false" && $0.overridden })
    }

    /// RFC 7915 §4.2's table, as `nat64ICMPv6` reads it: type and code, the Packet Too Big's MTU, the parameter
    /// problem's pointer; nil where the RFC says "silently drop".
    @Test func theICMPToICMPv6TableIsRFC7915s() {
        func t(_ type: UInt8, _ code: UInt8, rest: UInt32 = 0) -> [UInt32]? {
            VPCNetwork.nat64ICMPv6(ICMPHeader(type: ICMPType(rawValue: type), code: code, restOfHeader: rest), quotedLength: 1500)
                .map { [UInt32($0.type.rawValue), UInt32($0.code), $0.restOfHeader] }
        }
        #expect(t(3, 0) == [1, 0, 0] && t(3, 1) == [1, 0, 0] && t(3, 6) == [1, 0, 0] && t(3, 12) == [1, 0, 0])
        #expect(t(3, 2) == [4, 1, 6], "protocol unreachable: parameter problem pointing at Next Header")
        #expect(t(3, 3) == [1, 4, 0])
        #expect(t(3, 4, rest: 1400) == [2, 0, 1420])
        #expect(t(3, 9) == [1, 1, 0] && t(3, 10) == [1, 1, 0] && t(3, 13) == [1, 1, 0] && t(3, 15) == [1, 1, 0])
        #expect(t(3, 14) == nil && t(3, 16) == nil)
        #expect(t(11, 0) == [3, 0, 0] && t(11, 1) == [3, 1, 0])
        #expect(t(12, 0, rest: 9 << 24) == [4, 0, 6] && t(12, 2, rest: 16 << 24) == [4, 0, 24] && t(12, 0, rest: 8 << 24) == [4, 0, 7])
        #expect(t(12, 0, rest: 4 << 24) == nil && t(12, 1) == nil, "identification has no IPv6 field; missing option dropped")
        #expect(t(4, 0) == nil && t(5, 1) == nil && t(13, 0) == nil)
        // The MTU: + 20, at least 1280; none reported (0): the RFC 1191 plateau below the quoted length.
        #expect(VPCNetwork.nat64PacketTooBigMTU(1400, quotedLength: 1500) == 1420)
        #expect(VPCNetwork.nat64PacketTooBigMTU(1000, quotedLength: 1500) == 1280)
        #expect(VPCNetwork.nat64PacketTooBigMTU(0, quotedLength: 1500) == 1512)
        #expect(VPCNetwork.nat64PacketTooBigMTU(0, quotedLength: 9001) == 8186)
    }

    /// RFC 7915 §4.3: the quoted IPv4 segment (a 1500-byte TCP packet from the gateway's port) becomes the IPv6 one it
    /// was translated from, byte for byte: its header from the IPv4 one, the client's port, the rest unchanged; a
    /// fragment gets a fragment header.
    @Test func theQuotedIPv4PacketBecomesTheIPv6PacketItCameFrom() throws {
        var ip = IPv4Header(source: IPv4Address("10.0.0.5")!, destination: IPv4Address("203.0.113.22")!, proto: .tcp, ttl: 63,
                            identification: 0x1234, dontFragment: true)
        ip.totalLength = 1500
        ip.typeOfService = 0x10
        let leading: [UInt8] = [0x45, 0x01, 0x00, 0x16, 0xDE, 0xAD, 0xBE, 0xEF]  // ports 17665 → 22, sequence number
        let quote = [UInt8].writing(capacity: 28) { w in ip.write(to: &w) } + leading
        let src = IPv6Address("2600:1f18:abc:de01::20")!, dst = IPv6Address("64:ff9b::cb00:7116")!
        let out = try #require(quote.withUnsafeBytes { VPCNetwork.nat64Quote($0, source: src, destination: dst, port: 58838) })
        var expected = [UInt8].writing(capacity: 48) { w in
            IPv6Header(source: src, destination: dst, nextHeader: .tcp, hopLimit: 63, trafficClass: 0x10, payloadLength: 1480)
                .write(to: &w)
        }
        expected += [0xE5, 0xD6, 0x00, 0x16, 0xDE, 0xAD, 0xBE, 0xEF]
        #expect(out == expected)
        // A first fragment (MF) of UDP: a fragment header (next header 17, offset 0, M, identification 0x1234).
        ip.proto = .udp
        ip.dontFragment = false
        ip.moreFragments = true
        let fragment = [UInt8].writing(capacity: 28) { w in ip.write(to: &w) } + leading
        let f = try #require(fragment.withUnsafeBytes { VPCNetwork.nat64Quote($0, source: src, destination: dst, port: 58838) })
        #expect(f.count == 56 && f[6] == 44 && Array(f[4..<6]) == [0x05, 0xD0], "payload length 1480 + 8")
        #expect(Array(f[40..<48]) == [17, 0, 0x00, 0x01, 0, 0, 0x12, 0x34] && Array(f[48..<50]) == [0xE5, 0xD6], "\(f[40...])")
        #expect(quote.prefix(19).withUnsafeBytes { VPCNetwork.nat64Quote($0, source: src, destination: dst, port: 1) } == nil)
    }

    /// A whole quoted UDP datagram (a port unreachable for a small one): its checksum, right over the IPv4
    /// pseudo-header and the gateway's port, is right over the IPv6 pseudo-header and the host's port after the
    /// translation (RFC 7915 §4.3), as tshark checks it.
    @Test func aWholeQuotedDatagramsChecksumFollowsItsTranslation() throws {
        let gateway = IPv4Address("10.0.0.5")!, server = IPv4Address("203.0.113.22")!
        let data: [UInt8] = Array("hello, sftp".utf8)
        var udp = [UInt8].writing(capacity: 8) { w in
            w.writeU16(17665); w.writeU16(7000); w.writeU16(UInt16(8 + data.count)); w.writeU16(0)
        } + data
        let sum4 = InternetChecksum.add(InternetChecksum.pseudoHeaderSum(source: gateway, destination: server, protocol: .udp,
                                                                         length: udp.count), InternetChecksum.sum(udp))
        let c4 = InternetChecksum.finish(sum4)
        udp[6] = UInt8(c4 >> 8); udp[7] = UInt8(truncatingIfNeeded: c4)
        var ip = IPv4Header(source: gateway, destination: server, proto: .udp, ttl: 63, identification: 1, dontFragment: false)
        ip.totalLength = UInt16(20 + udp.count)
        let quote = [UInt8].writing(capacity: 20) { w in ip.write(to: &w) } + udp
        let src = IPv6Address("2600:1f18:abc:de01::20")!, dst = IPv6Address("64:ff9b::cb00:7116")!
        let out = try #require(quote.withUnsafeBytes { VPCNetwork.nat64Quote($0, source: src, destination: dst, port: 58838) })
        let inner = Array(out[40...])
        #expect(Array(inner[0..<2]) == [0xE5, 0xD6] && Array(inner[8...]) == data)
        let check = InternetChecksum.add(InternetChecksum.pseudoHeaderSum(source: src, destination: dst, nextHeader: .udp,
                                                                          length: inner.count), InternetChecksum.sum(inner))
        #expect(check == 0xFFFF, "the sum over the IPv6 pseudo-header and the datagram, checksum included, is all ones")
    }

    /// Generated NAT64 flows: the internet gateway's work and the NAT gateway's departures fused or not, whatever is
    /// captured, the same outputs byte for byte (`FusedHopTests.compareFusedAndNot`); every one completes.
    @Test func generatedNAT64FlowsAreTheSameFusedOrNot() throws {
        // Without the instance no generator uses (its capture would be empty).
        let network = String(Self.story[..<Self.story.range(of: "\nflows:\n")!.lowerBound]).replacingOccurrences(
            of: "  - id: i-0fedcba9876543210\n    name: reporter\n    subnet: batch\n    ipv6_address: 2600:1f18:abc:de02::30\n"
                + "    security_groups: [worker-sg]\n", with: "")
        // Two generators (the helper compares each's outcomes): by name with DNS64, and to the written address.
        let s = try ScenarioLoader.load(yaml: network + """

            generators:
              - {name: named, from: worker, to: "sftp.example.com:22", app: sftp, size: 20KB, count: 40, start: 0s, over: 5s}
              - {name: written, from: worker, to: "[64:ff9b::203.0.113.22]:22", app: sftp, size: 20KB, count: 20, start: 1s, over: 5s}

            """, file: "nat64-fleet.yaml")
        let o = try Runner.run(scenario: s, options: Runner.Options(writeFiles: false))
        #expect(o.report.generators.map { $0.outcomes["ok"] } == [40, 20])
        #expect(o.report.generators.allSatisfy { $0.outcomes.values.reduce(0, +) == $0.outcomes["ok"] })
        try FusedHopTests().compareFusedAndNot(s, "nat64")
    }

    /// A private NAT gateway translates NAT64 too, and its IPv4 goes on by its subnet's routes: here to an
    /// IPv4-only instance in the VPC (DNS64 gives it 64:ff9b::a00:32), by the local route.
    @Test func aPrivateNATGatewaysNAT64GoesOnByItsSubnetsRoutes() throws {
        let o = try Self.run(flows: "  - {name: db, from: worker, to: \"db:22\", app: sftp, size: 10KB}\n") { net in
            net.replacingOccurrences(of: "    connectivity: public\n    private_ip: 10.0.0.5\n    elastic_ip: 198.51.100.7\n",
                                     with: "    connectivity: private\n    private_ip: 10.0.0.5\n")
                .replacingOccurrences(of: "\nsubnets:\n", with: """

                      - id: sg-0a0b0c0d0e0f01020
                        name: db-sg
                        vpc: main
                        ingress:
                          - {protocol: tcp, ports: 22, cidr: 10.0.0.5/32}

                    subnets:

                    """)
                .replacingOccurrences(of: "\noutside_hosts:\n", with: """
                      - {id: i-0aaaabbbbccccdddd, name: db, subnet: public, private_ip: 10.0.0.50, security_groups: [db-sg]}

                    outside_hosts:

                    """)
        }
        let f = o.report.flows[0]
        #expect(f.outcome == "ok", "\(f.outcome): \(f.message)")
        let rules = f.hops.map(\.rule)
        #expect(rules.contains { $0.hasPrefix("NAT64 [2600:1f18:abc:de01::20]:") && $0.hasSuffix(", 64:ff9b::a00:32 → 10.0.0.50") },
                "\(rules)")
        #expect(rules.contains("10.0.0.0/16 → local"), "\(rules)")
        #expect(f.hops.last?.rule == "delivered to 10.0.0.50", "\(rules)")
    }
}
