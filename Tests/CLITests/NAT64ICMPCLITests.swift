import Foundation
import Testing
import TestSupport

/// ICMP through NAT64 (scenarios/ipv6-only-nat64.yaml with ICMP entries in both NACLs): a ping over IPv6 to the
/// IPv4-only server becomes ICMP echo with the gateway's identifier and comes back as ICMPv6; behind a 1400-byte
/// path MTU the fragmentation needed the server's link sends becomes a Packet Too Big of 1420 quoting the client's
/// IPv6 segment, and the client's segments shrink to fit. Every capture is clean with checksums checked: ICMPv6's
/// over its pseudo-header on the inside, ICMP's on the outside.
@Suite struct NAT64ICMPCLITests {
    static let worker = "2600:1f18:abc:de01::20", server6 = "64:ff9b::cb00:7116"

    /// The story's network with ICMP allowed where NAT64's ICMP crosses (the public NACL: ICMP to and from the
    /// internet, ICMPv6 to and from app's /64; app's NACL: ICMPv6 to and from 64:ff9b::/96), `edit` applied, and
    /// `flows`; run into a new directory. Returns the report and the directory.
    static func run(flows: String, edit: (String) -> String = { $0 }) throws -> (Report, String) {
        var text = try String(contentsOfFile: repositoryRoot + "/scenarios/ipv6-only-nat64.yaml", encoding: .utf8)
        text = String(text[..<text.range(of: "\nflows:\n")!.lowerBound])
        func replace(_ old: String, _ new: String) {
            precondition(text.contains(old), old)
            text = text.replacingOccurrences(of: old, with: new)
        }
        replace("    inbound:\n      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0",
                "    inbound:\n      - {rule: 90, protocol: icmp, cidr: 0.0.0.0/0, action: allow}\n"
                    + "      - {rule: 95, protocol: icmpv6, cidr: \"2600:1f18:abc:de01::/64\", action: allow}\n"
                    + "      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0")
        replace("    outbound:\n      - {rule: 100, protocol: tcp, ports: 22, cidr: 0.0.0.0/0",
                "    outbound:\n      - {rule: 90, protocol: icmp, cidr: 0.0.0.0/0, action: allow}\n"
                    + "      - {rule: 95, protocol: icmpv6, cidr: \"2600:1f18:abc:de01::/64\", action: allow}\n"
                    + "      - {rule: 100, protocol: tcp, ports: 22, cidr: 0.0.0.0/0")
        replace("    inbound:\n      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: \"64:ff9b::/96\", action: allow}\n"
                    + "    outbound:\n",
                "    inbound:\n      - {rule: 90, protocol: icmpv6, cidr: \"64:ff9b::/96\", action: allow}\n"
                    + "      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: \"64:ff9b::/96\", action: allow}\n"
                    + "    outbound:\n      - {rule: 90, protocol: icmpv6, cidr: \"64:ff9b::/96\", action: allow}\n")
        text = edit(text) + "\nflows:\n" + flows
        let dir = makeTempDirectory("vpcsim-nat64-icmp")
        try text.write(toFile: dir + "/nat64-icmp.yaml", atomically: true, encoding: .utf8)
        let r = try vpcsim(["run", dir + "/nat64-icmp.yaml", "--out", dir + "/out"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.json")))
        return (report, dir + "/out")
    }

    /// The capture files of the worker, the gateway and the server; each clean (no malformed frame, no bad IP,
    /// TCP, UDP, ICMP or ICMPv6 checksum).
    static func cleanCaptures(_ report: Report, _ out: String) throws -> (worker: String, nat: String, host: String) {
        let files = try ["instance-worker", "nat-public-nat", "host-sftp"].map { out + "/" + (try #require(report.capture($0))).file }
        for f in files {
            let (frames, problems) = try TShark.problems(in: f)
            #expect(frames > 0 && problems.isEmpty, "\(f): \(problems)")
        }
        return (files[0], files[1], files[2])
    }

    /// Lines of tab-separated fields, split.
    static func rows(_ lines: [String]) -> [[String]] {
        lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// UDP let through both NACLs (the public one: to and from app's /64 and the internet; app's: to and from
    /// 64:ff9b::/96), and the server answering UDP on port 7000.
    static func udp(_ text: String) -> String {
        text.replacingOccurrences(of: "      - {rule: 95, protocol: icmpv6, cidr: \"2600:1f18:abc:de01::/64\", action: allow}\n",
                                  with: "      - {rule: 95, protocol: icmpv6, cidr: \"2600:1f18:abc:de01::/64\", action: allow}\n"
                                      + "      - {rule: 96, protocol: udp, cidr: \"2600:1f18:abc:de01::/64\", action: allow}\n"
                                      + "      - {rule: 97, protocol: udp, cidr: 0.0.0.0/0, action: allow}\n")
            .replacingOccurrences(of: "      - {rule: 90, protocol: icmpv6, cidr: \"64:ff9b::/96\", action: allow}\n",
                                  with: "      - {rule: 90, protocol: icmpv6, cidr: \"64:ff9b::/96\", action: allow}\n"
                                      + "      - {rule: 91, protocol: udp, cidr: \"64:ff9b::/96\", action: allow}\n")
            .replacingOccurrences(of: "    ports: {22: sftp}", with: "    ports: {22: sftp, 7000: udp}")
    }

    /// A NAT gateway forwards UDP fragments only (VPC-UG vpc-nat-comparison), over NAT64 too: an IPv6-only host's
    /// ping too big for its link goes in ICMPv6 fragments, which the gateway drops; a small ping is translated.
    @Test func icmpv6FragmentsAreDroppedAtTheGatewayAsICMPFragmentsAre() throws {
        let (report, _) = try Self.run(flows: "  - {name: big, from: worker, to: sftp.example.com, app: ping, size: 10000, count: 2}\n"
                                       + "  - {name: small, from: worker, to: sftp.example.com, app: ping, count: 2, start: 1s}\n")
        let big = try #require(report.flow("big")), small = try #require(report.flow("small"))
        #expect(big.outcome == "timeout" && big.drop?.component == "nat-0e1f2a3b4c5d6e7f8", "\(String(describing: big.drop))")
        #expect(big.drop?.rule == "icmpv6 fragments: a NAT gateway forwards UDP fragments only", "\(String(describing: big.drop))")
        #expect(small.outcome == "ok")
    }

    @Test func aPingOverIPv6BecomesAnICMPEchoWithTheGatewaysIdentifierAndComesBack() throws {
        let (report, out) = try Self.run(flows: "  - {name: ping64, from: worker, to: sftp.example.com, app: ping, count: 2, "
                                         + "expect: {outcome: ok}}\n")
        #expect(report.expectations_failed == 0)
        let f = try #require(report.flow("ping64"))
        #expect(f.outcome == "ok" && f.drop == nil)
        // The gateway maps the echo identifier as its IPv4 NAT does a ping's: the identifier stands as the port.
        let rule = try #require(f.hops.first { $0.component == "nat-0e1f2a3b4c5d6e7f8" }).rule
        #expect(rule.hasPrefix("NAT64 [\(Self.worker)]:") && rule.hasSuffix(", \(Self.server6) → 203.0.113.22"), "\(rule)")
        let inside = try #require(Int(rule.dropFirst("NAT64 [\(Self.worker)]:".count).prefix { $0.isNumber }))
        let outside = try #require(Int(rule.components(separatedBy: "→ 10.0.0.5:").last!.prefix { $0.isNumber }))
        #expect(inside != outside, "seed 1 picks another identifier")
        let (worker, nat, host) = try Self.cleanCaptures(report, out)
        // The worker sees ICMPv6 128/129 with its own identifier; the server ICMP 8/0 with the gateway's, from
        // the Elastic IP; each checksum good (ICMPv6's over its pseudo-header).
        let v6 = Self.rows(try TShark.fields(worker, ["ipv6.src", "ipv6.dst", "icmpv6.type", "icmpv6.echo.identifier",
                                                      "icmpv6.echo.sequence_number", "icmpv6.checksum.status"],
                                             filter: "icmpv6"))
        #expect(v6.map { $0[2] } == ["128", "129", "128", "129"], "\(v6)")
        #expect(v6.allSatisfy { Int($0[3].dropFirst(2), radix: 16) == inside && $0[5] == "1" }, "\(v6)")
        #expect(v6[0][0] == Self.worker && v6[0][1] == Self.server6 && v6[1][0] == Self.server6, "\(v6)")
        let v4 = Self.rows(try TShark.fields(host, ["ip.src", "ip.dst", "icmp.type", "icmp.ident", "icmp.seq",
                                                    "icmp.checksum.status"], filter: "icmp"))
        #expect(v4.map { $0[2] } == ["8", "0", "8", "0"], "\(v4)")
        #expect(v4.allSatisfy { Int($0[3]) == outside && $0[5] == "1" }, "\(v4)")
        #expect(v4[0][0] == "198.51.100.7" && v4[0][1] == "203.0.113.22", "\(v4)")
        // The sequence numbers cross unchanged.
        #expect(v6.map { $0[4] } == v4.map { $0[4] }, "\(v6) \(v4)")
        // At the gateway: each echo in as ICMPv6 and out as ICMP, 20 µs apart, and the reply the other way.
        let atNAT = Self.rows(try TShark.fields(nat, ["ip.version", "icmp.type", "icmpv6.type"], filter: "icmp || icmpv6"))
        #expect(atNAT.map { $0[0] == "6" ? "v6 " + $0[2] : "v4 " + $0[1] } == ["v6 128", "v4 8", "v4 0", "v6 129",
                                                                               "v6 128", "v4 8", "v4 0", "v6 129"], "\(atNAT)")
        // Flow logs: protocol 58 on the IPv6 side (the worker's ENI and the gateway's), 1 on the IPv4 side.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }
        let icmpRecords = logs.filter { $0.count > 12 && ($0[7] == "1" || $0[7] == "58") }.map { [$0[3], $0[4], $0[7], $0[8], $0[9]] }
        #expect(Set(icmpRecords.map { $0.joined(separator: " ") }) == [
            "\(Self.worker) \(Self.server6) 58 2 208", "\(Self.server6) \(Self.worker) 58 2 208",
            "10.0.0.5 203.0.113.22 1 2 168", "203.0.113.22 10.0.0.5 1 2 168",
        ], "\(icmpRecords)")
        #expect(icmpRecords.filter { $0[2] == "58" }.count == 4, "the worker's ENI and the gateway's each log both ways")
    }

    /// A 1400-byte path MTU in front of the server: its link's fragmentation needed (MTU 1400) comes back to the
    /// gateway, which sends the worker a Packet Too Big of 1420 from 64:ff9b::cb00:7116 quoting the worker's own
    /// segment (its address and port); without an ICMPv6 rule in the worker's group it is dropped there (a black
    /// hole, the verified fix naming the rule); with one, the worker's segments drop to 1380 bytes of payload
    /// (1400 on the IPv4 side) and the transfer completes.
    @Test func fragmentationNeededBecomesAPacketTooBigAndTheClientShrinksItsSegments() throws {
        let flows = "  - {name: big, from: worker, to: \"sftp.example.com:22\", app: sftp, size: 100KB}\n"
        let mtu1400 = { (t: String) in t.replacingOccurrences(of: "    rtt_ms: 20\n", with: "    rtt_ms: 20\n    path_mtu: 1400\n") }
        let (blocked, _) = try Self.run(flows: flows, edit: mtu1400)
        let b = try #require(blocked.flow("big"))
        #expect(b.outcome == "timeout")
        #expect(b.drop?.component == "sg-0d1e2f3a4b5c6d7e8" && b.drop?.rule == "no ingress rule allows icmp from \(Self.server6)",
                "\(String(describing: b.drop))")
        #expect(b.fix?.verified == true && b.fix?.changes.map(\.change) == ["ingress: add ALLOW icmpv6 type 2 ::/0"],
                "\(String(describing: b.fix))")

        let (report, out) = try Self.run(flows: flows) {
            mtu1400($0).replacingOccurrences(of: "    ingress: []\n", with: "    ingress: [{protocol: icmpv6, icmp_type: 2, cidr: \"::/0\"}]\n")
        }
        let f = try #require(report.flow("big"))
        #expect(f.outcome == "ok", "\(f.drops)")
        let port = try #require(f.client_port)
        let rule = try #require(f.hops.first { $0.component == "nat-0e1f2a3b4c5d6e7f8" }).rule
        let natPort = try #require(Int(rule.components(separatedBy: "→ 10.0.0.5:").last!.prefix { $0.isNumber }))
        let (worker, nat, host) = try Self.cleanCaptures(report, out)
        // Outside: fragmentation needed, MTU 1400, to the Elastic IP, quoting the gateway's port.
        let frag = Self.rows(try TShark.fields(host, ["ip.src", "ip.dst", "icmp.mtu", "icmp.checksum.status"],
                                               filter: "icmp.type == 3 && icmp.code == 4"))
        #expect(frag.count == 1 && frag[0] == ["203.0.113.22,198.51.100.7", "198.51.100.7,203.0.113.22", "1400", "1"], "\(frag)")
        // At the gateway: in as ICMP, out as ICMPv6 Packet Too Big of 1420, the quote the worker's IPv6 segment.
        let atNAT = Self.rows(try TShark.fields(nat, ["ip.version", "icmp.mtu", "icmpv6.mtu", "ipv6.src", "ipv6.dst", "tcp.srcport",
                                                      "icmp.checksum.status", "icmpv6.checksum.status"],
                                                filter: "icmp.type == 3 || icmpv6.type == 2"))
        #expect(atNAT.count == 2, "\(atNAT)")
        if atNAT.count == 2 {
            #expect(atNAT[0][0] == "4,4" && atNAT[0][1] == "1400" && atNAT[0][5] == "\(natPort)" && atNAT[0][6] == "1", "\(atNAT[0])")
            #expect(atNAT[1][0] == "6,6" && atNAT[1][2] == "1420" && atNAT[1][3] == "\(Self.server6),\(Self.worker)"
                    && atNAT[1][4] == "\(Self.worker),\(Self.server6)" && atNAT[1][5] == "\(port)" && atNAT[1][7] == "1",
                    "\(atNAT[1])")
        }
        // The worker gets it and sends segments that fit: 1420 bytes of IPv6, 1400 of IPv4 at the server.
        #expect(try TShark.fields(worker, ["icmpv6.mtu"], filter: "icmpv6.type == 2") == ["1420"])
        let sizes6 = try TShark.fields(worker, ["ipv6.plen"], filter: "ipv6.src == \(Self.worker) && tcp.len > 0").compactMap { Int($0) }
        let sizes4 = try TShark.fields(host, ["ip.len"], filter: "ip.src == 198.51.100.7 && tcp.len > 0").compactMap { Int($0) }
        #expect(sizes6.filter { $0 == 1380 }.count >= 70 && sizes6.filter { $0 > 1380 }.count == 1, "\(Set(sizes6))")
        #expect(sizes4.filter { $0 == 1400 }.count == sizes6.filter { $0 == 1380 }.count, "\(Set(sizes4))")
        // The ICMP in the flow logs: protocol 1 at the gateway's ENI, 58 there and at the worker's.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }
        let icmpRecords = logs.filter { $0.count > 12 && ($0[7] == "1" || $0[7] == "58") }.map { "\($0[3]) \($0[4]) \($0[7]) \($0[8]) \($0[9])" }
        #expect(icmpRecords == ["203.0.113.22 10.0.0.5 1 1 56", "\(Self.server6) \(Self.worker) 58 1 96",
                                "\(Self.server6) \(Self.worker) 58 1 96"], "\(icmpRecords)")
    }

    /// A UDP reply of 4000 bytes comes back in three IPv4 fragments (the server's 1500-byte link): the gateway
    /// makes each an IPv6 fragment (RFC 7915 §4.1) — a fragment header with the same offset and M flag, the
    /// identification the IPv4 one's — 28 bytes longer on the wire; the first fragment's port and checksum follow,
    /// so the worker reassembles a datagram whose UDP checksum (over the IPv6 pseudo-header) holds.
    @Test func ipv4FragmentsOfAReplyBecomeIPv6FragmentsWithAFragmentHeader() throws {
        let (report, out) = try Self.run(flows: "  - {name: u, from: worker, to: \"sftp.example.com:7000\", app: udp, size: 100, "
                                         + "reply_size: 4000, count: 2, expect: {outcome: ok}}\n", edit: Self.udp)
        #expect(report.expectations_failed == 0)
        let f = try #require(report.flow("u"))
        #expect(f.outcome == "ok" && f.drop == nil, "\(f.drops)")
        let (worker, nat, _) = try Self.cleanCaptures(report, out)
        // At the gateway: the IPv4 fragments in, the IPv6 fragments out, offsets and identification carried over.
        let v4 = Self.rows(try TShark.fields(nat, ["ip.id", "ip.frag_offset", "ip.flags.mf", "frame.len"],
                                             filter: "ip.src == 203.0.113.22"))
        let v6 = Self.rows(try TShark.fields(nat, ["ipv6.fraghdr.ident", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "frame.len"],
                                             filter: "ipv6.src == \(Self.server6)"))
        #expect(v4.map { [$0[1], $0[2], $0[3]] } == [["0", "1", "1514"], ["185", "1", "1514"], ["370", "0", "1082"]]
                    + [["0", "1", "1514"], ["185", "1", "1514"], ["370", "0", "1082"]], "\(v4)")
        #expect(v6.count == 6 && zip(v4, v6).allSatisfy { a, b in
            Int(a[0].dropFirst(2), radix: 16) == Int(b[0].dropFirst(2), radix: 16) && a[1] == b[1] && a[2] == b[2]
                && Int(b[3])! == Int(a[3])! + 28
        }, "\(v4) \(v6)")
        // The worker reassembles each reply: UDP 7000 → its port, 4000 bytes, the checksum good.
        let replies = Self.rows(try TShark.fields(worker, ["udp.srcport", "udp.dstport", "udp.length", "udp.checksum.status"],
                                                  filter: "udp.srcport == 7000"))
        #expect(replies == [["7000", "\(f.client_port ?? 0)", "4008", "1"], ["7000", "\(f.client_port ?? 0)", "4008", "1"]],
                "\(replies)")
        // Flow logs: the IPv6 side's bytes are the IPv4 side's and 28 a fragment more.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }
        let in4 = try #require(logs.first { $0[3] == "203.0.113.22" && $0[7] == "17" })
        let out6 = logs.filter { $0[3] == Self.server6 && $0[7] == "17" }
        #expect(in4[8] == "6" && out6.count == 2 && out6.allSatisfy { $0[8] == "6" && Int($0[9])! == Int(in4[9])! + 6 * 28 },
                "\(in4) \(out6)")
    }

    /// The other way: a 1600-byte datagram is too big for the internet gateway's 1500 once translated (DF set, RFC
    /// 7915 §5.1); the fragmentation needed from the NAT gateway's subnet router (10.0.0.1) reaches the worker as a
    /// Packet Too Big of 1520 from 64:ff9b::a00:1. That datagram is lost (UDP does not resend), and the worker sends
    /// the next in IPv6 fragments, which the gateway makes IPv4 fragments (RFC 7915 §5.1.1: offset and M flag from
    /// the fragment header, the identification's low 16 bits, DF clear, 28 bytes shorter); the server reassembles a
    /// datagram whose UDP checksum (over the IPv4 pseudo-header) holds, and answers it.
    @Test func ipv6FragmentsFromInsideBecomeIPv4Fragments() throws {
        let (report, out) = try Self.run(flows: "  - {name: u, from: worker, to: \"sftp.example.com:7000\", app: udp, size: 1600, "
                                         + "reply_size: 100, count: 2}\n") {
            Self.udp($0).replacingOccurrences(of: "    ingress: []\n", with: "    ingress: [{protocol: icmpv6, icmp_type: 2, cidr: \"::/0\"}]\n")
        }
        let f = try #require(report.flow("u"))
        #expect(f.outcome == "timeout", "the first datagram is lost")
        let (worker, nat, host) = try Self.cleanCaptures(report, out)
        #expect(Self.rows(try TShark.fields(worker, ["ipv6.src", "icmpv6.mtu", "icmpv6.checksum.status"], filter: "icmpv6.type == 2"))
                == [["64:ff9b::a00:1,\(Self.worker)", "1520", "1"]])
        let v6 = Self.rows(try TShark.fields(nat, ["ipv6.fraghdr.ident", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "frame.len"],
                                             filter: "ipv6.fraghdr"))
        let v4 = Self.rows(try TShark.fields(nat, ["ip.id", "ip.frag_offset", "ip.flags.mf", "frame.len", "ip.flags.df"],
                                             filter: "ip.src == 10.0.0.5 && (ip.flags.mf == 1 || ip.frag_offset > 0)"))
        #expect(v6.count == 2 && v4.count == 2 && zip(v6, v4).allSatisfy { a, b in
            Int(a[0].dropFirst(2), radix: 16) == Int(b[0].dropFirst(2), radix: 16) && a[1] == b[1] && a[2] == b[2]
                && Int(b[3])! == Int(a[3])! - 28 && b[4] == "0"
        }, "\(v6) \(v4)")
        // The server: the second datagram whole, its checksum good, and one reply.
        let datagrams = Self.rows(try TShark.fields(host, ["udp.length", "udp.checksum.status"], filter: "udp.dstport == 7000"))
        #expect(datagrams == [["1608", "1"]], "\(datagrams)")
        #expect(try TShark.fields(worker, ["udp.length"], filter: "udp.srcport == 7000") == ["108"])
    }
}
