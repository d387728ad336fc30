import Foundation
import Testing
import TestSupport

/// scenarios/ipv6-only-nat64.yaml through the CLI: IPv6-only instances with DNS64 reach an IPv4-only SFTP server
/// through NAT64 at a public NAT gateway. The captures show IPv6 inside the gateway and IPv4 outside, the same
/// TCP segments translated; the flow logs write both sides at the gateway's ENI; the subnet whose IPv6 the public
/// NACL does not let in times out there, and the verified fix opens it; `compare` pairs the two sides.
@Suite struct NAT64StoryCLITests {
    @Test func theStoryMeetsItsExpectationsAndWritesCleanCaptures() throws {
        try StoryEndToEndTests().everyShippedScenarioMeetsItsExpectationsAndWritesCleanCaptures(name: "ipv6-only-nat64")
    }

    @Test func theGatewayTranslatesIPv6ToIPv4AndTheRepliesBack() throws {
        let (r, report, out) = try runScenario("ipv6-only-nat64")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(report.expectations_checked == 3 && report.expectations_failed == 0, "\(r.stdout)")
        let app = try #require(report.flow("app-sftp"))
        #expect(app.outcome == "ok" && app.drop == nil)
        #expect(app.address_family == ["IPv6 64:ff9b::cb00:7116 port 22 tried at the start (AAAA synthesized by DNS64 "
                                       + "from 203.0.113.22)"], "\(String(describing: app.address_family))")
        let port = try #require(app.client_port)
        // The gateway's steps: NAT64 out, from the client's address and port to its own; back, the reverse.
        let out64 = try #require(app.hops.first { $0.component == "nat-0e1f2a3b4c5d6e7f8" }).rule
        #expect(out64.hasPrefix("NAT64 [2600:1f18:abc:de01::20]:\(port) → 10.0.0.5:")
                && out64.hasSuffix(", 64:ff9b::cb00:7116 → 203.0.113.22"), "\(out64)")
        let natPort = try #require(Int(out64.components(separatedBy: "→ 10.0.0.5:").last!.prefix { $0.isNumber }))
        let back = try #require(app.reply_hops?.first { $0.component == "nat-0e1f2a3b4c5d6e7f8" }).rule
        #expect(back == "NAT64 10.0.0.5:\(natPort) → [2600:1f18:abc:de01::20]:\(port), 203.0.113.22 → 64:ff9b::cb00:7116")
        #expect(app.hops.map(\.rule).contains("1:1 NAT 10.0.0.5 → 198.51.100.7"), "\(app.hops.map(\.rule))")
        // The written 64:ff9b:: address goes the same way, no DNS asked.
        let literal = try #require(report.flow("app-sftp-literal"))
        #expect(literal.outcome == "ok" && literal.address_family == ["IPv6 64:ff9b::cb00:7116 port 22 tried at the start"])

        // The client's capture is IPv6 only; the server's IPv4 only, from the Elastic IP and the gateway's port.
        let worker = out + "/" + (try #require(report.capture("instance-worker"))).file
        let host = out + "/" + (try #require(report.capture("host-sftp"))).file
        let nat = out + "/" + (try #require(report.capture("nat-public-nat"))).file
        #expect(try TShark.fields(worker, ["frame.number"], filter: "ip").isEmpty)
        #expect(try TShark.fields(host, ["frame.number"], filter: "ipv6").isEmpty)
        let synFilter = "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 22"
        let clientSYN = try TShark.fields(worker, ["ipv6.src", "ipv6.dst", "tcp.srcport", "ipv6.hlim", "tcp.seq_raw"],
                                          filter: synFilter + " && tcp.srcport == \(port)")
        let serverSYN = try TShark.fields(host, ["ip.src", "ip.dst", "tcp.srcport", "ip.ttl", "tcp.seq_raw"],
                                          filter: synFilter + " && tcp.srcport == \(natPort)")
        let c = try #require(clientSYN.first?.split(separator: "\t").map(String.init))
        let s = try #require(serverSYN.first?.split(separator: "\t").map(String.init))
        #expect(c[0] == "2600:1f18:abc:de01::20" && c[1] == "64:ff9b::cb00:7116" && c[3] == "64", "\(c)")
        // One router (the gateway), then the internet's 8 (internet_hops); the segment itself is the same.
        #expect(s[0] == "198.51.100.7" && s[1] == "203.0.113.22" && s[3] == "55" && s[4] == c[4], "\(s) \(c)")
        // At the gateway: in as IPv6, out 20 µs later (nat_processing_us) as IPv4 with DF clear (a 60-byte
        // packet, 1260 bytes or less as RFC 7915 says), its TTL the hop limit less one.
        let atNAT = try TShark.fields(nat, ["frame.time_epoch", "ip.version", "ip.flags.df", "ip.ttl", "ipv6.hlim",
                                            "ip.len", "ipv6.plen"],
                                      filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.seq_raw == \(c[4])")
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(atNAT.count == 2, "\(atNAT)")
        if atNAT.count == 2 {
            #expect(atNAT[0][1] == "6" && atNAT[0][4] == "64" && atNAT[0][6] == "40", "\(atNAT[0])")
            #expect(atNAT[1][1] == "4" && atNAT[1][2] == "0" && atNAT[1][3] == "63" && atNAT[1][5] == "60", "\(atNAT[1])")
            #expect(abs(Double(atNAT[1][0])! - Double(atNAT[0][0])! - 0.000_020) < 0.000_001, "\(atNAT)")
        }
        // DF: set on every translated IPv4 packet over 1260 bytes, clear on the others (RFC 7915 §5.1).
        let v4out = try TShark.fields(nat, ["ip.len", "ip.flags.df"], filter: "ip && ip.src == 10.0.0.5")
            .map { $0.split(separator: "\t").map(String.init) }
        #expect(v4out.contains { Int($0[0])! > 1260 } && v4out.contains { Int($0[0])! <= 1260 })
        #expect(v4out.allSatisfy { ($0[1] == "1") == (Int($0[0])! > 1260) }, "\(v4out.filter { ($0[1] == "1") != (Int($0[0])! > 1260) })")
        // The replies reach the client from 64:ff9b::cb00:7116, to its own port.
        let replies = try TShark.fields(worker, ["ipv6.src"], filter: "tcp.srcport == 22 && tcp.dstport == \(port)")
        #expect(!replies.isEmpty && Set(replies) == ["64:ff9b::cb00:7116"])

        // Flow logs at the gateway's ENI: each side with its own addresses; the IPv6 side 20 bytes a packet longer.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }
        func record(_ src: String, _ dst: String, _ sport: Int, _ dport: Int) -> [String]? {
            logs.first { $0[3] == src && $0[4] == dst && $0[5] == String(sport) && $0[6] == String(dport) }
        }
        let in6 = try #require(record("2600:1f18:abc:de01::20", "64:ff9b::cb00:7116", port, 22))
        let out4 = try #require(record("10.0.0.5", "203.0.113.22", natPort, 22))
        let in4 = try #require(record("203.0.113.22", "10.0.0.5", 22, natPort))
        let out6 = try #require(record("64:ff9b::cb00:7116", "2600:1f18:abc:de01::20", 22, port))
        #expect(Set([in6[2], out4[2], in4[2], out6[2]]).count == 1, "one ENI: the gateway's")
        #expect(in6[8] == out4[8] && Int(in6[9])! == Int(out4[9])! + 20 * Int(in6[8])!, "\(in6) \(out4)")
        #expect(out6[8] == in4[8] && Int(out6[9])! == Int(in4[9])! + 20 * Int(out6[8])!, "\(out6) \(in4)")
        #expect([in6, out4, in4, out6].allSatisfy { $0[12] == "ACCEPT" })
        // docs/flow-logs.md quotes these four records, and docs/scenarios.md the gateway's step (seed 1).
        let doc = try String(contentsOfFile: repositoryRoot + "/docs/flow-logs.md", encoding: .utf8)
        let quoted = doc.split(separator: "\n").filter { $0.hasPrefix("  2 123456789012 \(in6[2]) ") }
            .map { $0.dropFirst(2).split(separator: " ").map(String.init) }
        #expect(quoted == [out6, in6, out4, in4], "\(quoted)")
        #expect(out64 == "NAT64 [2600:1f18:abc:de01::20]:58838 → 10.0.0.5:17665, 64:ff9b::cb00:7116 → 203.0.113.22")

        // The gateway's metrics count the NAT64 traffic: two connections, both established, nothing dropped.
        let m = try #require(report.nat_gateways?.first).metrics
        #expect(m.connectionAttemptCount == 2 && m.connectionEstablishedCount == 2 && m.packetsDropCount == 0)
        #expect(m.packetsInFromSource == m.packetsOutToDestination && m.packetsInFromDestination == m.packetsOutToSource)
        #expect(m.bytesInFromSource == m.bytesOutToDestination + 20 * m.packetsInFromSource)
        #expect(m.bytesOutToSource == m.bytesInFromDestination + 20 * m.packetsInFromDestination)
        #expect(IPv6StoryCLITests.tokens(in: try String(contentsOfFile: out + "/report.txt", encoding: .utf8)) == [])
    }

    @Test func theSubnetThePublicNACLDoesNotLetInTimesOutAndTheFixOpensIt() throws {
        let (_, report, out) = try runScenario("ipv6-only-nat64")
        let batch = try #require(report.flow("batch-sftp"))
        #expect(batch.outcome == "timeout" && abs(batch.elapsed_s - 20) < 0.001)
        #expect(batch.drop?.component == "acl-0b1c2d3e4f5a6b7c8" && batch.drop?.direction == "inbound")
        #expect(batch.drop?.rule == "* DENY all ::/0", "\(String(describing: batch.drop))")
        let fix = try #require(batch.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["inbound: add #120 ALLOW tcp 22 2600:1f18:abc:de02::30/128",
                                              "outbound: add #120 ALLOW tcp 1024-65535 2600:1f18:abc:de02::30/128"],
                "\(fix.changes)")
        // Its SYNs never reach the gateway's outside: the IGW side has only app's packets.
        let igw = out + "/" + (try #require(report.capture("igw"))).file
        let clients = Set(try TShark.fields(igw, ["ip.src"], filter: "tcp.dstport == 22"))
        #expect(clients == ["198.51.100.7"])
        let reporter = out + "/" + (try #require(report.capture("instance-reporter"))).file
        #expect(try TShark.fields(reporter, ["frame.number"], filter: "tcp.flags.syn == 1").count == 5)
    }

    /// The assumption `nat64_dont_fragment: always` (RFC 6145's rule) sets DF on every translated packet, small
    /// ones too; the report lists it as overridden, and the default run lists `rfc7915`.
    @Test func nat64DontFragmentAlwaysSetsDFOnEveryTranslatedPacket() throws {
        let (_, defaultReport, defaultOut) = try runScenario("ipv6-only-nat64")
        let listed = try String(contentsOfFile: defaultOut + "/report.txt", encoding: .utf8)
        #expect(listed.contains("  nat64_dont_fragment              rfc7915      undocumented by AWS"), "\(listed)")
        let dir = makeTempDirectory("vpcsim-nat64-df")
        let text = try String(contentsOfFile: "scenarios/ipv6-only-nat64.yaml", encoding: .utf8)
            .replacingOccurrences(of: "seed: 1\n", with: "seed: 1\nassumptions: {nat64_dont_fragment: always}\n")
        try text.write(toFile: dir + "/always.yaml", atomically: true, encoding: .utf8)
        let r = try vpcsim(["run", dir + "/always.yaml", "--out", dir + "/out"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("nat64_dont_fragment              always"), "\(r.stdout)")
        let nat = dir + "/out/" + (try #require(defaultReport.capture("nat-public-nat"))).file
        let df = try TShark.fields(nat, ["ip.flags.df"], filter: "ip && ip.src == 10.0.0.5")
        #expect(df.count == 192 && Set(df) == ["1"], "\(df.count) \(Set(df))")
    }

    /// `vpcsim compare` pairs the client's IPv6 conversation with the server's IPv4 one through NAT64: the
    /// server's address counted the same (64:ff9b::cb00:7116 / 203.0.113.22); the segments agree but for the TTL.
    @Test func compareTheIPv6SideWithTheIPv4SidePairsThroughNAT64() throws {
        let (_, report, out) = try runScenario("ipv6-only-nat64")
        let worker = out + "/" + (try #require(report.capture("instance-worker"))).file
        let host = out + "/" + (try #require(report.capture("host-sftp"))).file
        let r = try vpcsim(["compare", worker, host])
        #expect(r.status == 1, "\(r.stdout)")
        let paired = r.stdout.split(separator: "\n").filter { $0.contains("paired by") }
        #expect(paired.count == 2 && paired.allSatisfy {
            $0.contains("server port 22, server address 64:ff9b::cb00:7116 / 203.0.113.22 (NAT64)")
        }, "\(r.stdout)")
        #expect(r.stdout.contains("• TTL: 162 of 162 packets differ"), "\(r.stdout)")
        let ignoring = try vpcsim(["compare", worker, host, "--ignore", "ttl"])
        #expect(ignoring.status == 0 && ignoring.stdout.hasSuffix("SUMMARY: 2 pairs: 2 agree, 0 differ → AGREE (exit 0)\n"),
                "\(ignoring.stdout)")
    }
}
