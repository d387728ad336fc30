import Foundation
import Testing
import TestSupport

/// The IPv6 stories: a NACL with IPv4 rules only (Happy Eyeballs falls back after 250 ms, an IPv6 client times
/// out, the fix is the `::/0` entries), and an egress-only internet gateway that lets replies in and nothing else.
@Suite("IPv6 stories: a NACL without IPv6 entries, an egress-only internet gateway")
struct IPv6StoryCLITests {
    @Test func happyEyeballsFallsBackToIPv4AndAnIPv6ClientTimesOut() throws {
        let (r, report, out) = try runScenario("lambda-sftp-ipv6-nacl")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(report.expectations_checked == 2 && report.expectations_failed == 0, "\(r.stdout)")
        let he = try #require(report.flow("sftp-happy-eyeballs"))
        #expect(he.outcome == "ok")
        let attempts = he.address_family ?? []
        #expect(attempts.count == 3, "\(attempts)")
        #expect(attempts.first == "IPv6 2001:db8::22 port 22 tried at the start")
        #expect(attempts.dropFirst().first == "IPv4 203.0.113.22 port 22 tried at 250 ms: IPv6 not connected after 250 ms "
                + "(Happy Eyeballs, RFC 8305)")
        #expect(attempts.last?.hasPrefix("IPv4 connected first at 2") == true
                && attempts.last?.hasSuffix("; the IPv6 attempt abandoned") == true, "\(attempts)")
        #expect(r.stdout.contains("  address family: IPv6 2001:db8::22 port 22 tried at the start\n"))
        let v6 = try #require(report.flow("sftp-ipv6-first"))
        #expect(v6.outcome == "timeout" && abs(v6.elapsed_s - 20) < 0.001)
        #expect(v6.drop?.component == "acl-0c1d2e3f4a5b6c7d8" && v6.drop?.direction == "outbound")
        #expect(v6.drop?.rule == "* DENY all ::/0")
        // The fix: the IPv6 twins of the IPv4 entries, both ways, verified by a rerun.
        let fix = try #require(v6.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["outbound: add #110 ALLOW tcp 22 ::/0",
                                               "inbound: add #110 ALLOW tcp 1024-65535 ::/0"], "\(fix.changes)")
        // At the Lambda: the IPv6 SYN (MSS 1440: the 40-byte header), then 250 ms later the IPv4 one (MSS 1460).
        let lambda = out + "/" + (try #require(report.capture("lambda"))).file
        let syn6 = try TShark.fields(lambda, ["frame.time_epoch", "ipv6.src", "tcp.options.mss_val"],
                                     filter: "ipv6 && tcp.flags.syn == 1 && tcp.flags.ack == 0")
        let syn4 = try TShark.fields(lambda, ["frame.time_epoch", "tcp.options.mss_val"],
                                     filter: "ip && tcp.flags.syn == 1 && tcp.flags.ack == 0")
        let first6 = try #require(syn6.first?.split(separator: "\t"))
        let first4 = try #require(syn4.first?.split(separator: "\t"))
        #expect(first6[1] == "2600:1f18:abc:de01::4" && first6[2] == "1440", "\(syn6)")
        #expect(first4[1] == "1460", "\(syn4)")
        #expect(abs(Double(first4[0])! - Double(first6[0])! - 0.25) < 0.000_5, "\(first6) \(first4)")
        // Every capture is clean, IPv6 frames included (tshark checks the TCP checksums over the IPv6 pseudo-header).
        for file in report.captures.map(\.file) + ["all-hops.pcapng"] {
            let (frames, problems) = try TShark.problems(in: out + "/" + file)
            #expect(frames > 0 && problems == [], "\(file): \(problems)")
        }
        // Flow logs: the IPv6 attempt's records with their IPv6 addresses, the ENI's REJECT outbound.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
        // One SYN of 80 bytes (40 of IPv6 header, 40 of TCP with options) for the Happy Eyeballs attempt, five for
        // the IPv6 client's.
        let rejected = logs.filter { $0.contains(" 2600:1f18:abc:de01::4 2001:db8::22 ") && $0.hasSuffix("REJECT OK") }
        #expect(rejected.count == 2 && rejected[0].contains(" 22 6 1 80 ") && rejected[1].contains(" 22 6 5 400 "),
                "\(logs)")
        // No token (240.0.0.0/4) is ever printed: in the flow logs, the report or the terminal.
        let reportText = try String(contentsOfFile: out + "/report.txt", encoding: .utf8)
        for text in [logs.joined(separator: "\n"), reportText, r.stdout] { #expect(Self.tokens(in: text) == [], "\(Self.tokens(in: text))") }
    }

    @Test func anEgressOnlyGatewayLetsRepliesInAndNothingElse() throws {
        let (r, report, out) = try runScenario("eigw-inbound-blocked")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(report.expectations_checked == 2 && report.expectations_failed == 0, "\(r.stdout)")
        let outbound = try #require(report.flow("worker-https-out"))
        #expect(outbound.outcome == "ok" && outbound.drop == nil)
        #expect(outbound.hops.contains { $0.component == "eigw-0123456789abcdef0" && $0.rule == "outbound IPv6: connection tracked" },
                "\(outbound.hops.map(\.rule))")
        #expect(outbound.hops.last?.rule == "delivered to 2001:db8::30", "\(outbound.hops.map(\.rule))")
        #expect(r.stdout.contains("first: tcp [2001:db8:66::66]:"), "\(r.stdout)")
        let scan = try #require(report.flow("scan-ssh-in"))
        #expect(scan.outcome == "timeout")
        #expect(scan.drop?.kind == "egress-only-internet-gateway" && scan.drop?.component == "eigw-0123456789abcdef0")
        #expect(scan.drop?.rule == "inbound IPv6 from 2001:db8:66::66: no connection opened from inside", "\(String(describing: scan.drop))")
        // The worker's capture: IPv6 both ways for the HTTPS flow, never a packet of the scan.
        let worker = out + "/" + (try #require(report.capture("instance"))).file
        let peers = Set(try TShark.fields(worker, ["ipv6.src"], filter: "ipv6"))
        #expect(peers == ["2600:1f18:abc:de01::20", "2001:db8::30"], "\(peers)")
        for file in report.captures.map(\.file) + ["all-hops.pcapng"] {
            let (frames, problems) = try TShark.problems(in: out + "/" + file)
            #expect(frames > 0 && problems == [], "\(file): \(problems)")
        }
    }

    /// scenarios/dual-stack-paths.yaml through the CLI: every expectation holds, every capture (the peering
    /// connections', the transit gateway attachments', the endpoint's) and all-hops.pcapng dissect cleanly, and no
    /// report prints an IPv6 token.
    @Test func theDualStackPathsStoryMeetsItsExpectationsAndWritesCleanCaptures() throws {
        try StoryEndToEndTests().everyShippedScenarioMeetsItsExpectationsAndWritesCleanCaptures(name: "dual-stack-paths")
        let (_, _, out) = try runScenario("dual-stack-paths")
        let text = try String(contentsOfFile: out + "/report.txt", encoding: .utf8)
        #expect(Self.tokens(in: text).isEmpty, "\(Self.tokens(in: text))")
    }

    /// ping over IPv6: ICMPv6 echo requests (type 128) and replies (129) with the identifier and sequence ping
    /// sets, checksums good over the IPv6 pseudo-header, 104 bytes each on the wire, flow-log records of protocol
    /// 58; the scanner's pings die at the egress-only gateway.
    @Test func pingOverIPv6WritesCleanICMPv6EchoAndProtocol58Records() throws {
        let dir = makeTempDirectory("vpcsim-ping6")
        let yaml = try String(contentsOfFile: repositoryRoot + "/scenarios/eigw-inbound-blocked.yaml", encoding: .utf8)
            .replacingOccurrences(of: "  - name: scan-ssh-in\n", with: """
                  - {name: ping-out, from: worker, to: api.example.com, app: ping, address_family: ipv6, start: 2s,
                     expect: {outcome: ok}}
                  - {name: ping-in, from: scanner.example.net, to: worker, app: ping, address_family: ipv6, start: 2s,
                     expect: {outcome: timeout, dropped_at: main-eigw}}
                  - name: scan-ssh-in

                """)
        let (r, out, files) = try Self.runClean(yaml, in: dir)
        #expect(r.stdout.contains("4 packets transmitted, 4 received, 0% packet loss"))
        let worker = try #require(files.first { $0.hasPrefix("01-instance") })
        let echo = try TShark.fields(out + "/" + worker, ["icmpv6.type", "icmpv6.echo.sequence_number", "icmpv6.checksum.status",
                                                          "frame.len", "ipv6.src"], filter: "icmpv6")
        #expect(echo.count == 8, "\(echo)")
        for (k, row) in echo.enumerated() {
            let request = k % 2 == 0
            #expect(row == "\(request ? 128 : 129)\t\(k / 2 + 1)\t1\t118\t"
                        + (request ? "2600:1f18:abc:de01::20" : "2001:db8::30"), "\(row)")
        }
        let ids = Set(try TShark.fields(out + "/" + worker, ["icmpv6.echo.identifier"], filter: "icmpv6"))
        #expect(ids.count == 1)
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
        #expect(logs.contains { $0.hasSuffix(" 2600:1f18:abc:de01::20 2001:db8::30 0 0 58 4 416 1795683602 1795683605 ACCEPT OK") },
                "\(logs)")
        // The scanner's four requests never reach the worker: nothing from it in its capture.
        #expect(try TShark.fields(out + "/" + worker, ["frame.number"], filter: "ipv6.src == 2001:db8:66::66").isEmpty)
    }

    /// UDP and ping over IPv6 bigger than the link: the sender (MTU 1500) cuts each datagram into fragments with a
    /// fragment header (only the source fragments in IPv6), 1496 bytes on the wire at most; the server reassembles
    /// and answers the same way; tshark reassembles both with good UDP and ICMPv6 checksums.
    @Test func udpAndPingOverIPv6GoInFragmentsTsharkReassembles() throws {
        let dir = makeTempDirectory("vpcsim-frag6")
        let yaml = try String(contentsOfFile: repositoryRoot + "/scenarios/eigw-inbound-blocked.yaml", encoding: .utf8)
            .replacingOccurrences(of: "    ports: {443: https}\n", with: "    ports: {443: https, 5000: udp}\n")
            .replacingOccurrences(of: "    security_groups: [worker-sg]\n", with: "    security_groups: [worker-sg]\n    mtu: 1500\n")
            .replacingOccurrences(of: "  - name: scan-ssh-in\n", with: """
                  - {name: udp6, from: worker, to: "api.example.com:5000", app: udp, size: 4000, count: 2,
                     address_family: ipv6, expect: {outcome: ok}}
                  - {name: ping6, from: worker, to: api.example.com, app: ping, size: 3000, count: 2, address_family: ipv6,
                     expect: {outcome: ok}}
                  - name: scan-ssh-in

                """)
        let (r, out, files) = try Self.runClean(yaml, in: dir)
        #expect(r.stdout.contains("2 datagrams sent, 2 replies received"))
        #expect(r.stdout.contains("2 packets transmitted, 2 received, 0% packet loss"))
        let worker = out + "/" + (try #require(files.first { $0.hasPrefix("01-instance") }))
        // Each 4000-byte datagram (4008 of UDP): two fragments of 1448 bytes and one of 1112, every one with the
        // fragment header (payload length 8 + data); the last completes it.
        let udp = try TShark.fields(worker, ["ipv6.src", "ipv6.plen", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "udp.length",
                                             "udp.checksum.status"], filter: "ipv6.fraghdr.nxt == 17")
        #expect(udp.count == 12, "\(udp)")
        #expect(udp.prefix(3) == ["2600:1f18:abc:de01::20\t1456\t0\t1\t\t", "2600:1f18:abc:de01::20\t1456\t181\t1\t\t",
                                  "2600:1f18:abc:de01::20\t1120\t362\t0\t4008\t1"], "\(udp)")
        #expect(udp[3...5].last == "2001:db8::30\t1120\t362\t0\t4008\t1", "the reply, reassembled at the worker: \(udp)")
        let echo = try TShark.fields(worker, ["icmpv6.type", "icmpv6.checksum.status"], filter: "ipv6.fraghdr.nxt == 58 && icmpv6")
        #expect(echo == ["128\t1", "129\t1", "128\t1", "129\t1"], "\(echo)")
        // Flow logs count the bytes on the wire: 1496 + 1496 + 1160 a datagram.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
        #expect(logs.contains { $0.contains(" 2600:1f18:abc:de01::20 2001:db8::30 33043 5000 17 6 8304 ") }, "\(logs)")
    }

    /// Runs scenario text `yaml` from `dir` into `dir`/out: the run's result, the output folder and its capture
    /// files, each of which tshark has read clean (no malformed frame, no bad checksum, no expert error).
    static func runClean(_ yaml: String, in dir: String) throws -> (ProcessResult, String, [String]) {
        try yaml.write(toFile: dir + "/s.yaml", atomically: true, encoding: .utf8)
        let r = try vpcsim(["run", dir + "/s.yaml", "--out", dir + "/out"])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        let out = dir + "/out"
        let files = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
        for file in files {
            let (frames, problems) = try TShark.problems(in: out + "/" + file)
            #expect(frames > 0 && problems == [], "\(file): \(problems)")
            #expect(try TShark.expertErrors(in: out + "/" + file) == [], "\(file)")
        }
        return (r, out, files)
    }

    /// Dotted quads in 240.0.0.0/4 in `text`: what an IPv6 token would print as.
    static func tokens(in text: String) -> [String] {
        text.split(whereSeparator: { !($0.isNumber || $0 == ".") }).filter { word in
            let parts = word.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }), let first = UInt8(parts[0]) else { return false }
            return first >= 240
        }.map(String.init)
    }
}
