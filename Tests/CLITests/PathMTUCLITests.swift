import Foundation
import Testing
import TestSupport

/// The Path MTU Discovery black hole as the captures show it: the dropped segment and the ICMP, read by tshark.
@Suite("Path MTU black hole: captures")
struct PathMTUCLITests {
    /// The stories meet their expectations and write captures tshark reads with checksum validation: no
    /// malformed packet, no bad checksum, and no expert error but the two tshark 4.0 reports on the real OpenSSH
    /// 9.2 capture too (the sntrup761x25519 key shares' lengths; SSHDissectionTests compares them).
    @Test(arguments: ["sftp-pmtud-blackhole", "sftp-pmtud-blackhole-fixed", "sftp-pmtud-blackhole-mtu-probing",
                      "sftp-large-file-stall", "ipv6-pmtud-blackhole", "ipv6-pmtud-blackhole-fixed"])
    func storiesMeetTheirExpectationsAndWriteCleanCaptures(name: String) throws {
        let (r, report, out) = try runScenario(name)
        #expect(r.status == 0, "\(name): \(r.stderr)\n\(r.stdout)")
        #expect(report.expectations_checked >= 1 && report.expectations_failed == 0)
        let known = ["SSH  Invalid key length: 1071", "SSH  Invalid key length: 1190"]
        for file in report.captures.map(\.file) + ["all-hops.pcapng"] {
            let path = out + "/" + file
            let (frames, problems) = try TShark.problems(in: path)
            #expect(frames > 0 && problems == [], "\(file): \(problems)")
            let errors = try TShark.expertErrors(in: path)
            #expect(errors.allSatisfy { e in known.contains { e.hasSuffix($0) } }, "\(file): \(errors)")
            #expect(try TShark.fields(path, ["frame.number"],
                                      filter: "(ip.checksum.status == 0 || tcp.checksum.status == 0 || icmp.checksum.status == 0 "
                                          + "|| icmpv6.checksum.status == 0) && !(\(TShark.truncatedQuote))")
                        .isEmpty, "\(file)")
        }
        #expect(report.captures.allSatisfy { $0.packets > 0 })
    }

    @Test func capturesShowTheDroppedSegmentTheICMPAndTheBackoff() throws {
        let (r, report, out) = try runScenario("sftp-pmtud-blackhole")
        #expect(r.status == 0, "\(r.stderr)")
        let ng = out + "/all-hops.pcapng"
        let comments = try TShark.fields(ng, ["frame.comment"])
        #expect(comments.contains { $0.contains("too big for link MTU 1400 (DF set): dropped; ICMP fragmentation needed sent") })
        #expect(comments.contains {
            $0.contains("ICMP type 3 code 4 dropped: acl-0b1c2d3e4f5a6b7c8 (public-nacl) inbound: * DENY all 0.0.0.0/0")
        })
        // At the internet gateway: the ICMP from the client's router, next-hop MTU 1400, quoting the server's
        // 1500-byte segment; tshark finds its checksums (and the quoted header's) good.
        let igw = out + "/" + (try #require(report.capture("igw"))).file
        let icmp = try TShark.fields(igw, ["icmp.mtu", "ip.len", "icmp.checksum.status"],
                                     filter: "icmp.type == 3 && icmp.code == 4")
        #expect(!icmp.isEmpty)
        #expect(icmp.allSatisfy { $0.hasPrefix("1400\t56,1500\t1") }, "\(icmp)")
        // The server's copies of the 1448-byte segment leave it with RTO backoff: RACK's retransmission a few
        // milliseconds after the client's SACK, then the RTO, srtt (20 ms) + 200 ms, doubling, each fired on the
        // timer wheel's next tick of its level (so up to 8 jiffies of 4 ms late at 0.4–2 s, 64 at 2–16 s).
        let server = out + "/" + (try #require(report.capture("instance"))).file
        let times = try TShark.fields(server, ["frame.time_relative"], filter: "tcp.srcport == 22 && tcp.len == 1448")
            .compactMap(Double.init)
        #expect(times.count >= 7)
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        #expect(gaps[0] > 0.002 && gaps[0] < 0.05, "RACK: \(gaps[0])")
        #expect(gaps[1] > 0.22 && gaps[1] < 0.25, "the first RTO: \(gaps[1])")
        for (g, next) in zip(gaps.dropFirst(), gaps.dropFirst(2)).prefix(5) {
            #expect(next / g > 1.9 && next / g < 2.2, "doubling: \(g) then \(next)")
        }
        // Nothing the server sent after the first ICMP is smaller: it never learned the path MTU.
        #expect(try TShark.fields(server, ["frame.number"], filter: "tcp.srcport == 22 && tcp.len == 1348").isEmpty)
    }

    /// The IPv6 black hole: the server's 1500-byte packet dropped at the 1400 link, the ICMPv6 Packet Too Big
    /// (MTU 1400, 1280 bytes on the wire, checksum good) dropped at the NACL; in the fixed twin it arrives, the
    /// server sends the data again in 1328-byte segments, and the flow log has the ICMPv6 record (protocol 58).
    @Test func ipv6CapturesShowThePacketTooBigAndTheResegmenting() throws {
        let (r, report, out) = try runScenario("ipv6-pmtud-blackhole")
        #expect(r.status == 0, "\(r.stderr)")
        let comments = try TShark.fields(out + "/all-hops.pcapng", ["frame.comment"])
        #expect(comments.contains {
            $0.contains("too big for link MTU 1400 (IPv6: routers do not fragment): dropped; ICMPv6 packet too big sent")
        })
        #expect(comments.contains {
            $0.contains("ICMPv6 type 2 code 0 dropped: acl-0b1c2d3e4f5a6b7c8 (public-nacl) inbound: * DENY all ::/0")
        })
        let igw = out + "/" + (try #require(report.capture("igw"))).file
        let ptb = try TShark.fields(igw, ["ipv6.src", "icmpv6.mtu", "frame.len", "icmpv6.checksum.status", "ipv6.plen"],
                                    filter: "icmpv6.type == 2 && ipv6.dst == 2600:1f18:abc:de00::20")
        #expect(ptb.count >= 7)
        // From the client's router (its address), 14 + 1280 bytes, quoting the server's 1500-byte packet.
        #expect(ptb.allSatisfy { $0 == "2001:db8:50::50,2600:1f18:abc:de00::20\t1400\t1294\t1\t1240,1460" }, "\(ptb)")
        let server = out + "/" + (try #require(report.capture("instance"))).file
        #expect(try TShark.fields(server, ["frame.number"], filter: "icmpv6").isEmpty, "the NACL stops it")
        #expect(try TShark.fields(server, ["frame.number"], filter: "tcp.srcport == 22 && tcp.len == 1328").isEmpty)

        let (f, fixedReport, fixedOut) = try runScenario("ipv6-pmtud-blackhole-fixed")
        #expect(f.status == 0, "\(f.stderr)")
        let fixedServer = out.isEmpty ? "" : fixedOut + "/" + (try #require(fixedReport.capture("instance"))).file
        #expect(try TShark.fields(fixedServer, ["icmpv6.mtu"], filter: "icmpv6.type == 2") == ["1400"])
        let lens = try TShark.fields(fixedServer, ["tcp.len"], filter: "tcp.srcport == 22 && tcp.len > 0").compactMap(Int.init)
        #expect(lens.contains(1428) && lens.contains(1328), "\(lens)")
        #expect(lens.drop { $0 != 1428 }.dropFirst().allSatisfy { $0 <= 1328 }, "\(lens)")
        let logs = try String(contentsOfFile: fixedOut + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
        #expect(logs.contains { $0.contains(" 2001:db8:50::50 2600:1f18:abc:de00::20 0 0 58 1 1280 ") && $0.hasSuffix("ACCEPT OK") },
                "\(logs)")
    }

    @Test func fixedTwinShrinksToThePathMTU() throws {
        let (r, report, out) = try runScenario("sftp-pmtud-blackhole-fixed")
        #expect(r.status == 0, "\(r.stderr)")
        let server = out + "/" + (try #require(report.capture("instance"))).file
        // The reply goes again at once, in 1348-byte segments (1400-byte packets), after the ICMP.
        let lens = try TShark.fields(server, ["tcp.len"], filter: "tcp.srcport == 22 && tcp.len > 0").compactMap(Int.init)
        #expect(lens.contains(1448) && lens.contains(1348))
        let after = lens.drop { $0 != 1448 }.dropFirst()
        #expect(after.allSatisfy { $0 <= 1348 }, "\(lens)")
        #expect(try TShark.fields(server, ["frame.number"], filter: "icmp.type == 3 && icmp.code == 4").count == 1)
    }

    /// The upload stalls: the login and ls cross the 8500-byte peering connection, the first 9001-byte data
    /// segment does not, and every copy of it after is dropped the same way while the ICMP dies at the NACL; the
    /// flow from the subnet that admits the ICMP resends the data at 8448 bytes a segment and completes.
    @Test func largeFileStallsMidTransfer() throws {
        let (r, report, out) = try runScenario("sftp-large-file-stall")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(report.expectations_checked == 2 && report.expectations_failed == 0)
        #expect(r.stdout.contains("PATH MTU BLACK HOLE: link MTU 8500 < packet 9001 bytes (DF set); the ICMP that would "
            + "report it was dropped at acl-0b1c2d3e4f5a6b7c8 (batch-nacl) inbound: * DENY all 0.0.0.0/0"))
        let batch = out + "/" + (try #require(report.capture("instance-batch-eni"))).file
        // Before the first full-size segment: the handshake, the login and ls, in both directions.
        let lens = try TShark.fields(batch, ["tcp.len"], filter: "tcp.dstport == 22 && tcp.len > 0").compactMap(Int.init)
        let first = try #require(lens.firstIndex(of: 8949))
        #expect(first >= 8 && lens[..<first].allSatisfy { $0 < 2000 }, "\(lens)")
        // The first full-size segment, sent again and again with backoff, never smaller.
        let seq = try #require(try TShark.fields(batch, ["tcp.seq"], filter: "tcp.len == 8949").first)
        #expect(try TShark.fields(batch, ["tcp.len"], filter: "tcp.seq == \(seq) && tcp.dstport == 22") .count >= 10)
        #expect(!lens.contains(8448))
        let comments = try TShark.fields(out + "/all-hops.pcapng", ["frame.comment"])
        #expect(comments.contains { $0 == "sent; too big for link MTU 8500 (DF set): dropped; ICMP fragmentation needed "
            + "sent to 10.0.0.20 (pcx-0c3d4e5f60718293a)" }, "\(Set(comments.filter { $0.contains("MTU") }))")
        // The fixed flow: after the ICMP, segments of at most 8448 bytes (8500 less headers and timestamps).
        let fixed = out + "/" + (try #require(report.capture("instance-batch-fixed"))).file
        let sent = try TShark.fields(fixed, ["tcp.len"], filter: "tcp.dstport == 22 && tcp.len > 0").compactMap(Int.init)
        let big = try #require(sent.lastIndex(of: 8949))
        #expect(sent[(big + 1)...].allSatisfy { $0 <= 8448 } && sent.contains(8448), "\(sent)")
        let mtus = try TShark.fields(fixed, ["icmp.mtu"], filter: "icmp.type == 3 && icmp.code == 4")
        #expect(!mtus.isEmpty && mtus.allSatisfy { $0 == "8500" }, "\(mtus)")
    }

    /// `trace --probe-size`: one line after the report naming the link too small and the ICMP's fate.
    @Test func traceProbesThePathMTU() throws {
        let out = makeTempDirectory("vpcsim-probe")
        let r = try vpcsim(["trace", "scenarios/sftp-large-file-stall.yaml", "--from", "batch", "--to", "sftp-server:22",
                            "--app", "sftp-ls", "--out", out, "--probe-size", "9001", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("path MTU probe: 9001 bytes (DF set) too big for pcx-0c3d4e5f60718293a (batch-files) "
            + "(link MTU 8500): link MTU 8500 < packet 9001 bytes (DF set); ICMP fragmentation needed sent to 10.0.0.20; "
            + "the ICMP was dropped at acl-0b1c2d3e4f5a6b7c8 (batch-nacl) inbound: * DENY all 0.0.0.0/0 — a path MTU black hole"),
                "\(r.stdout)")
        let fits = try vpcsim(["trace", "scenarios/sftp-large-file-stall.yaml", "--from", "batch", "--to", "sftp-server:22",
                               "--app", "sftp-ls", "--out", out, "--probe-size", "8500", "--quiet"])
        #expect(fits.stdout.contains("path MTU probe: fits: path MTU ≥ 8500"), "\(fits.stdout)")
        let bad = try vpcsim(["trace", "scenarios/sftp-large-file-stall.yaml", "--from", "batch", "--to", "sftp-server:22",
                              "--out", out, "--probe-size", "9k"])
        #expect(bad.status == 2 && bad.stderr == "vpcsim: error: --probe-size 9k: expected a whole number of bytes from 68 to 65535\n")
    }

    /// Over IPv6 the probe's size is the IPv6 packet's on the wire; the link's router answers with a Packet Too Big,
    /// dropped by the NACL without an ICMPv6 entry, let in by the fixed twin's.
    @Test func traceProbesThePathMTUOverIPv6() throws {
        let out = makeTempDirectory("vpcsim-probe6")
        func probe(_ scenario: String, _ size: Int) throws -> String {
            let r = try vpcsim(["trace", "scenarios/\(scenario).yaml", "--from", "sftp-server", "--to", "[2001:db8:50::50]:2222",
                                "--out", out, "--probe-size", String(size), "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout.split(separator: "\n").first { $0.hasPrefix("path MTU probe: ") }.map(String.init) ?? r.stdout
        }
        let head = "path MTU probe: 1500 bytes (IPv6) too big for link in front of branch-pc (path MTU 1400): path MTU 1400 "
            + "< IPv6 packet 1500 bytes; ICMPv6 packet too big sent to 2600:1f18:abc:de00::20; "
        #expect(try probe("ipv6-pmtud-blackhole", 1500) == head + "the ICMP was dropped at acl-0b1c2d3e4f5a6b7c8 "
                    + "(public-nacl) inbound: * DENY all ::/0 — a path MTU black hole")
        #expect(try probe("ipv6-pmtud-blackhole-fixed", 1500) == head + "the ICMP arrived: the source learns the path MTU")
        #expect(try probe("ipv6-pmtud-blackhole", 1400) == "path MTU probe: fits: path MTU ≥ 1400 (the 1400-byte IPv6 probe arrived)")
    }
}
