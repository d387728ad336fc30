import Foundation
import Packets
import TestSupport
import Testing

/// `vpcsim compare A B` as a user runs it: output, JSON, exit status.
@Suite struct CompareCLITests {
    static let netns = "captures/reference/linux-netns"
    static let ssh = "captures/reference/public/ssh"
    static let lambda = "\(netns)/ok/lambda-eth0.pcap"
    static let server = "\(netns)/ok/server-eth0.pcap"

    struct CompareJSON: Decodable {
        struct Conversation: Decodable {
            var client: String
            var server: String
            var packets: Int
        }
        struct Difference: Decodable {
            var packet: Int
            var field: String
            var text: String
        }
        struct Pair: Decodable {
            var a: Conversation
            var b: Conversation
            var basis: [String]
            var agrees: Bool
            var first_divergence: Int?
            var differences: [Difference]
        }
        struct Unpaired: Decodable {
            var a: [Conversation]
            var b: [Conversation]
        }
        struct Summary: Decodable {
            var pairs: Int
            var differing: Int
            var exit_status: Int
        }
        var pairs: [Pair]
        var unpaired: Unpaired
        var summary: Summary
    }

    @Test func aCaptureComparedWithItselfAgreesAndExitsZero() throws {
        let r = try vpcsim(["compare", Self.lambda, Self.lambda])
        #expect(r.status == 0)
        #expect(r.stdout.contains("PAIR 1  agrees (12 packets)"))
        #expect(r.stdout.hasSuffix("→ AGREE (exit 0)\n"))
    }

    @Test func lambdaVersusServerExitsOneNamingTTLAndAgreesWhenTTLIsIgnored() throws {
        let r = try vpcsim(["compare", Self.lambda, Self.server])
        #expect(r.status == 1)
        #expect(r.stdout.contains("paired by server port 443, server address 203.0.113.22, client port 44966"))
        #expect(r.stdout.contains(">>   1  0.000000  0.000000  →    SYN      0    0/-           TTL 64 vs 62"))
        #expect(r.stdout.contains("B is 2 routers further from the client"))
        let ignoring = try vpcsim(["compare", Self.lambda, Self.server, "--ignore", "ttl"])
        #expect(ignoring.status == 0, "\(ignoring.stdout)")
    }

    @Test func jsonGivesPairsPerPacketDifferencesUnpairedAndSummary() throws {
        let r = try vpcsim(["compare", Self.lambda, Self.server, "--json"])
        #expect(r.status == 1)
        let j = try JSONDecoder().decode(CompareJSON.self, from: Data(r.stdout.utf8))
        #expect(j.pairs.count == 2 && j.summary.pairs == 2 && j.summary.differing == 2 && j.summary.exit_status == 1)
        #expect(j.pairs[0].a.client == "10.0.1.10:44966" && j.pairs[0].b.client == "198.51.100.7:44966")
        #expect(j.pairs[0].first_divergence == 1)
        #expect(j.pairs.allSatisfy { $0.differences.allSatisfy { $0.field == "ttl" } })
        #expect(j.pairs[0].differences[2].text == "packet 3: TTL 64 vs 62")
        #expect(j.unpaired.a.isEmpty && j.unpaired.b.isEmpty)
    }

    @Test func unrelatedSSHSessionsPairOnPort22AndTheTableMarksTheFirstDivergence() throws {
        let r = try vpcsim(["compare", "\(Self.ssh)/zeek_ssh_kex_curve25519.pcap", "\(Self.ssh)/zeek_ssh_kex_dh_group18.pcap"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("paired by server port 22, shape 0.36 and timing 0.53; score 0.51"))
        #expect(r.stdout.contains("A has 49 more packets from 26 on"))
        #expect(r.stdout.contains("packet 4: payload 21 vs 22"))
        #expect(r.stdout.contains(">>   1"))
        #expect(r.stdout.contains("… 62 more rows: 0 agree, 62 differ (--full shows every row)"))
    }

    @Test func unpairedConversationsMakeItDifferOnlyWithStrict() throws {
        let a = "\(Self.netns)/nacl-out-22-blocked/lambda-eth0.pcap", b = "\(Self.netns)/nacl-out-22-blocked/server-eth0.pcap"
        let loose = try vpcsim(["compare", a, b, "--ignore", "ttl"])
        #expect(loose.status == 0)
        #expect(loose.stdout.contains("UNPAIRED\n  A #2 10.0.1.10:51738 → 203.0.113.22:22  5 packets (SYN ×5)"))
        let strict = try vpcsim(["compare", a, b, "--ignore", "ttl", "--strict"])
        #expect(strict.status == 1)
    }

    @Test func vxlanCaptureSaysItUnwrapped() throws {
        let path = "captures/reference/public/vxlan/zeek_vxlan-encapsulated-http.pcap"
        let r = try vpcsim(["compare", path, path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("A: unwrapped 12 VXLAN packets (VNI 1)"))
        #expect(r.stdout.contains("B: unwrapped 12 VXLAN packets (VNI 1)"))
        #expect(r.stdout.contains("172.16.11.201:40354 → 54.86.237.188:80"))
    }

    /// A real `tcpdump -i nflog:7` capture (link type 239): its one TCP connection, 11 packets, read as tshark
    /// reads them: compared with itself it agrees; the JSON gives its link type, frames and the first timestamp.
    @Test func nflogCaptureIsComparedAsTheIPPacketsItLogged() throws {
        let path = "captures/reference/local/nflog_tcp-netns.pcap"
        let r = try vpcsim(["compare", path, path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("A: \(path) — Linux NFLOG, 11 frames"), "\(r.stdout)")
        #expect(r.stdout.contains("PAIR 1  agrees (11 packets)"), "\(r.stdout)")
        let tcp = try TShark.fields(repositoryRoot + "/" + path, ["tcp.srcport"], filter: "tcp.flags == 0x002")
        #expect(tcp.count == 1)
        #expect(r.stdout.contains("10.99.0.1:\(tcp.first ?? "?") → 10.99.0.2:8080"), "\(r.stdout)")
        struct Report: Decodable {
            struct Capture: Decodable {
                var link_type: String
                var frames: Int
                var tcp_segments: Int
            }
            var a: Capture
        }
        let json = try vpcsim(["compare", path, path, "--json"])
        #expect(json.status == 0)
        let capture = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8)).a
        #expect(capture.link_type == "Linux NFLOG" && capture.frames == 11 && capture.tcp_segments == 11)
    }

    @Test func zeroToleranceMakesTheHopsTimingsDiffer() throws {
        let r = try vpcsim(["compare", Self.lambda, Self.server, "--ignore", "ttl",
                            "--time-tolerance-ms", "0", "--time-tolerance-pct", "0"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("time beyond tolerance"))
    }

    @Test func truncatedGarbageCorruptAndMissingFilesExitTwoWithOneLineNamingTheFile() throws {
        let dir = makeTempDirectory("vpcsim-compare-cli")
        let good = repositoryRoot + "/\(Self.ssh)/zeek_ssh_kex_dh_group18.pcap"
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = dir + "/truncated.pcap", header = dir + "/cut-in-header.pcap"
        let garbage = dir + "/garbage.pcap", corrupt = dir + "/corrupt.pcap", empty = dir + "/empty.pcap"
        try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: truncated))
        try data.prefix(24 + 8).write(to: URL(fileURLWithPath: header))
        var noise = SplitMix64(seed: 7)
        try Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: noise.next()) }).write(to: URL(fileURLWithPath: garbage))
        var bad = [UInt8](data)
        let second = 24 + 16 + 78  // the second record's header; its captured length is at +8
        for k in 0..<4 { bad[second + 8 + k] = 0xFF }
        try Data(bad).write(to: URL(fileURLWithPath: corrupt))
        try Data().write(to: URL(fileURLWithPath: empty))
        let cases: [(String, String?)] = [(truncated, "packet 25: "), (header, "packet 1: "), (garbage, nil),
                                          (corrupt, "packet 2: "), (empty, nil), (dir + "/missing.pcap", nil)]
        for (path, packet) in cases {
            for args in [[path, good], [good, path], [path, good, "--json"]] {
                let r = try vpcsim(["compare"] + args)
                #expect(r.status == 2, "\(path)")
                let lines = r.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(r.stderr)")
                #expect(r.stderr.contains(path + ": " + (packet ?? "")), "\(r.stderr)")
                #expect(r.stdout.isEmpty)
            }
        }
    }

    @Test func anUnknownIgnoredFieldIsInvalidInput() throws {
        let r = try vpcsim(["compare", Self.lambda, Self.lambda, "--ignore", "colour"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown field 'colour'"))
    }
}
