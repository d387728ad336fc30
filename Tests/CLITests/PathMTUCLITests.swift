import Foundation
import Testing
import TestSupport

/// The Path MTU Discovery black hole as the captures show it: the dropped segment and the ICMP, read by tshark.
@Suite("Path MTU black hole: captures")
struct PathMTUCLITests {
    /// Both stories meet their expectations and write captures tshark reads with checksum validation: no
    /// malformed packet, no bad checksum, and no expert error but the two tshark 4.0 reports on the real OpenSSH
    /// 9.2 capture too (the sntrup761x25519 key shares' lengths; SSHDissectionTests compares them).
    @Test(arguments: ["sftp-pmtud-blackhole", "sftp-pmtud-blackhole-fixed"])
    func storiesMeetTheirExpectationsAndWriteCleanCaptures(name: String) throws {
        let (r, report, out) = try runScenario(name)
        #expect(r.status == 0, "\(name): \(r.stderr)\n\(r.stdout)")
        #expect(report.expectations_checked == 1 && report.expectations_failed == 0)
        let known = ["SSH  Invalid key length: 1071", "SSH  Invalid key length: 1190"]
        for file in report.captures.map(\.file) + ["all-hops.pcapng"] {
            let path = out + "/" + file
            let (frames, problems) = try TShark.problems(in: path)
            #expect(frames > 0 && problems == [], "\(file): \(problems)")
            let errors = try TShark.expertErrors(in: path)
            #expect(errors.allSatisfy { e in known.contains { e.hasSuffix($0) } }, "\(file): \(errors)")
            #expect(try TShark.fields(path, ["frame.number"],
                                      filter: "ip.checksum.status == 0 || tcp.checksum.status == 0 || icmp.checksum.status == 0")
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
        // The server's copies of the 1448-byte segment leave it with RTO backoff: 0.2 s, doubling.
        let server = out + "/" + (try #require(report.capture("instance"))).file
        let times = try TShark.fields(server, ["frame.time_relative"], filter: "tcp.srcport == 22 && tcp.len == 1448")
            .compactMap(Double.init)
        #expect(times.count >= 7)
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        for (k, g) in gaps.prefix(6).enumerated() {
            #expect(abs(g - 0.2 * Double(1 << k)) < 0.01, "gap \(k): \(g)")
        }
        // Nothing the server sent after the first ICMP is smaller: it never learned the path MTU.
        #expect(try TShark.fields(server, ["frame.number"], filter: "tcp.srcport == 22 && tcp.len == 1348").isEmpty)
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
}
