import Foundation
import TestSupport
import Testing

/// The real PMTUD black hole and its fix (captures/reference/linux-netns-pmtud, made by its make-capture.sh in
/// network namespaces): every capture parses cleanly, and they show what the README says they show.
@Suite struct PMTUDReferenceTests {
    static let dir = "linux-netns-pmtud"
    static let points = ["client-c0", "isp-i0", "isp-i1", "vpc-v0", "server-s0"]
    static let server = "10.98.4.2", client = "10.98.1.2", isp = "10.98.3.1"

    static func path(_ variant: String, _ point: String) -> String {
        Fixtures.reference("\(dir)/\(variant)/\(point).pcap")
    }

    @Test(arguments: ["blackhole", "fixed"])
    func everyCaptureParsesWithoutProblems(variant: String) throws {
        for p in Self.points {
            let (frames, problems) = try TShark.problems(in: Self.path(variant, p))
            #expect(frames > 10, "\(variant)/\(p)")
            #expect(problems.isEmpty, "\(variant)/\(p): \(problems)")
            #expect(try TShark.expertErrors(in: Self.path(variant, p)).isEmpty, "\(variant)/\(p)")
        }
    }

    /// ICMP destination unreachable / fragmentation needed (type 3 code 4), from the isp router to the server:
    /// (time, next-hop MTU) for each.
    static func fragNeeded(_ variant: String, _ point: String) throws -> [(Double, Int)] {
        try TShark.fields(path(variant, point), ["frame.time_relative", "icmp.mtu"],
                          filter: "icmp.type == 3 && icmp.code == 4 && ip.src == \(isp) && ip.dst == \(server)")
            .map { line in
                let f = line.split(separator: "\t")
                return (Double(f[0])!, Int(f[1])!)
            }
    }

    /// The server's segments: (time, IP total length, sequence number).
    static func serverSegments(_ variant: String, _ point: String) throws -> [(t: Double, len: Int, seq: UInt64)] {
        try TShark.fields(path(variant, point), ["frame.time_relative", "ip.len", "tcp.seq_raw"],
                          filter: "ip.src == \(server) && tcp && !icmp")
            .map { line in
                let f = line.split(separator: "\t")
                return (Double(f[0])!, Int(f[1])!, UInt64(f[2])!)
            }
    }

    /// The ICMP is born at the isp router (seen leaving it toward the VPC, next-hop MTU 1400), reaches the
    /// network ACL's place (vpc-v0) and never the server.
    @Test func blackHoleICMPIsBornAtTheRouterAndDiesBeforeTheServer() throws {
        let born = try Self.fragNeeded("blackhole", "isp-i1")
        #expect(born.count >= 8)
        #expect(born.allSatisfy { $0.1 == 1400 })
        #expect(try Self.fragNeeded("blackhole", "vpc-v0").count == born.count)
        #expect(try Self.fragNeeded("blackhole", "server-s0").isEmpty)
        #expect(try TShark.fields(Self.path("blackhole", "server-s0"), ["frame.number"], filter: "icmp").isEmpty)
    }

    /// The server sends one 1500-byte segment again and again: the retransmission timer doubles each time
    /// (after the first, tail-loss-probe, retransmission), and none of them reaches the client's side of the
    /// 1400-byte link.
    @Test func blackHoleServerRetransmitsWithDoublingBackoff() throws {
        let big = try Self.serverSegments("blackhole", "server-s0").filter { $0.len == 1500 }
        #expect(big.count >= 9)
        #expect(Set(big.map(\.seq)).count == 1, "one segment, sent again")
        let gaps = zip(big.dropFirst(), big).map { $0.t - $1.t }
        // gaps[0] is the tail loss probe's; from gaps[1] on, each RTO is about twice the one before.
        #expect(gaps.count >= 8)
        for i in 2..<gaps.count {
            let ratio = gaps[i] / gaps[i - 1]
            #expect(ratio > 1.6 && ratio < 2.4, "gap \(i): \(gaps[i]) s after \(gaps[i - 1]) s")
        }
        #expect(gaps[1] > 0.2 && gaps[1] < 0.3, "the first RTO: at least 200 ms")
        #expect(gaps.last! > 25)
        #expect(try Self.serverSegments("blackhole", "isp-i0").allSatisfy { $0.len <= 1400 })
        #expect(try Self.serverSegments("blackhole", "client-c0").filter { $0.len > 1000 }.map(\.len) == [1140],
                "the client sees the server's KEXINIT, never its KEX reply")
    }

    /// With the ICMP allowed, the server learns MTU 1400 from the first one, resends the data in segments of
    /// 1400 bytes at most, and the session completes (the server closes it after the client's sftp exits).
    @Test func fixedServerShrinksItsSegmentsAndTheSessionCompletes() throws {
        let icmp = try Self.fragNeeded("fixed", "server-s0")
        #expect(icmp.count >= 1 && icmp.allSatisfy { $0.1 == 1400 })
        let segs = try Self.serverSegments("fixed", "server-s0")
        #expect(segs.contains { $0.len == 1500 && $0.t < icmp[0].0 }, "a full-size segment before the ICMP")
        let after = segs.filter { $0.t > icmp.last!.0 }
        #expect(!after.isEmpty && after.allSatisfy { $0.len <= 1400 })
        #expect(after.contains { $0.len == 1400 })
        let fins = try TShark.fields(Self.path("fixed", "client-c0"), ["ip.src"], filter: "tcp.flags.fin == 1")
        #expect(Set(fins) == [Self.client, Self.server], "both sides close")
        let log = try String(contentsOfFile: Fixtures.reference("\(Self.dir)/fixed/run.log"), encoding: .utf8)
        #expect(log.contains("sftp exit 0") && log.contains("mtu 1400"))
    }
}
