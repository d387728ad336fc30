import Foundation
import Packets
import Testing
import TestSupport
@testable import Sim

private let repo: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

private func scenario(_ name: String) -> String { repo + "/scenarios/\(name).yaml" }

private func run(_ name: String) throws -> Runner.Outcome {
    try Runner.run(path: scenario(name), options: .init(writeFiles: false))
}

/// Runs a shipped scenario with `flow_logs:` appended.
private func run(_ name: String, flowLogs: String) throws -> Runner.Outcome {
    let yaml = try String(contentsOfFile: scenario(name), encoding: .utf8) + "\nflow_logs:\n" + flowLogs
    let s = try ScenarioLoader.load(yaml: yaml, file: "\(name).yaml")
    return try Runner.run(scenario: s, options: .init(writeFiles: false))
}

/// The run's records: small runs keep them (at most `FlowLogRecorder.keptRecordLimit`).
private func records(_ o: Runner.Outcome) throws -> [FlowLogRecord] { try #require(o.flowLogRecords) }
private func text(_ o: Runner.Outcome) throws -> String { try #require(o.flowLogText) }

private let lambdaIP = IPv4Address("10.0.1.10")!
private let natIP = IPv4Address("10.0.0.5")!
private let server = IPv4Address("203.0.113.22")!
private let story = "lambda-sftp-nacl"
private let storyStart: Int64 = 1_795_683_600  // 2026-11-26T09:00:00Z

@Suite("Flow logs: the records AWS would write")
struct FlowLogRecordTests {
    func eni(_ o: Runner.Outcome, lambda: Bool) throws -> String {
        let r = try #require(try records(o).first { lambda ? $0.pktSrcaddr == lambdaIP && $0.direction == .egress
            : $0.dstaddr == natIP && $0.direction == .ingress })
        return r.interfaceID
    }

    @Test("story: the Lambda ENI accepts the five SYNs to port 22 on the way out")
    func storyLambdaSYNs() throws {
        let o = try run(story)
        let lambda = try eni(o, lambda: true)
        let syns = try records(o).filter { $0.interfaceID == lambda && $0.dstport == 22 }
        #expect(syns.count == 1)
        let r = try #require(syns.first)
        #expect(r.direction == .egress && r.action == .accept)
        #expect(r.srcaddr == lambdaIP && r.dstaddr == server && r.pktSrcaddr == lambdaIP && r.pktDstaddr == server)
        #expect(r.packets == 5 && r.bytes == 5 * 60)
        #expect(r.tcpFlags == 2)
        // SYNs at 1, 2, 4, 8, 16 s of the run (the flow starts at 1 s; Linux backoff 0, 1, 3, 7, 15 s).
        #expect(r.start == storyStart + 1 && r.end == storyStart + 16)
        #expect(r.trafficPath == 1)  // to the NAT gateway: a resource in the same VPC
        // Nothing comes back to port 22's client.
        #expect(try !records(o).contains { $0.interfaceID == lambda && $0.srcport == 22 })
    }

    @Test("story: the NAT gateway ENI accepts the SYNs in and rejects them out (public NACL outbound)")
    func storyNATRecords() throws {
        let o = try run(story)
        let nat = try eni(o, lambda: false)
        let at22 = try records(o).filter { $0.interfaceID == nat && $0.dstport == 22 }
        #expect(at22.count == 2)
        let inbound = try #require(at22.first { $0.direction == .ingress })
        #expect(inbound.srcaddr == lambdaIP && inbound.dstaddr == natIP)
        #expect(inbound.pktSrcaddr == lambdaIP && inbound.pktDstaddr == server)
        #expect(inbound.action == .accept && inbound.packets == 5 && inbound.tcpFlags == 2)
        #expect(inbound.trafficPath == nil)
        let outbound = try #require(at22.first { $0.direction == .egress })
        #expect(outbound.srcaddr == natIP && outbound.dstaddr == server)
        #expect(outbound.pktSrcaddr == natIP && outbound.pktDstaddr == server)
        #expect(outbound.srcport != inbound.srcport)  // translated
        #expect(outbound.action == .reject && outbound.packets == 5 && outbound.tcpFlags == 2)
        #expect(outbound.trafficPath == 8)
        #expect(try records(o).filter { $0.action == .reject }.count == 1)
    }

    @Test("story: HTTPS both ways, flags OR-ed: SYN+FIN out (3), SYN-ACK+FIN back (19); PSH and ACK are not logged")
    func storyHTTPS() throws {
        let o = try run(story)
        let https = try records(o).filter { $0.dstport == 443 || $0.srcport == 443 }
        #expect(https.count == 6)  // Lambda ENI: out, in; NAT ENI: in, out to server, in from server, out to Lambda
        #expect(https.allSatisfy { $0.action == .accept })
        for r in https {
            let towardServer = r.dstport == 443
            #expect(r.tcpFlags == (towardServer ? 3 : 19), "\(r)")
        }
        let natToLambda = try #require(https.first { $0.direction == .egress && $0.pktDstaddr == lambdaIP })
        #expect(natToLambda.srcaddr == natIP && natToLambda.pktSrcaddr == server && natToLambda.dstaddr == lambdaIP)
        #expect(natToLambda.trafficPath == 1)
        let out = https.filter { $0.dstport == 443 }
        #expect(Set(out.map(\.packets)).count == 1 && Set(out.map(\.bytes)).count == 1)  // same packets at each ENI
    }

    /// flow-logs.txt against sources other than the code that writes it: the header is the one of AWS's own
    /// default-format example (captures/reference/public/flowlogs), and each record's packets, bytes, start
    /// and end are what tshark counts in the pcap of that interface for that direction of the connection (its
    /// ports; IP lengths summed; first and last packet's second). Ports are drawn from the seed, so none is pinned.
    @Test("story: flow-logs.txt agrees with AWS's default format and with tshark on each interface's pcap")
    func storyText() throws {
        let out = makeTempDirectory("vpcsim-flowlog-story")
        let o = try Runner.run(path: scenario(story), options: .init(outDir: out))
        let written = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8)
        #expect(written == (try text(o)))
        let lines = written.split(separator: "\n").map(String.init)
        let awsExample = try String(contentsOfFile: Fixtures.reference("public/flowlogs/awsdocs_v2-default-format_examples.log"),
                                    encoding: .utf8)
        #expect(lines.first == awsExample.split(separator: "\n").first.map(String.init))
        let parsed = FlowLogParser.parse(written)
        #expect(parsed.problems.isEmpty && parsed.hasHeader)
        func v(_ r: ParsedFlowLog.Record, _ field: String) -> String { parsed.value(field, r) ?? "?" }
        let pcaps = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".pcap") }
        // The HTTPS connection both ways and the unanswered SYNs to 22, at each of the two ENIs; at the NAT
        // gateway's, its inside half (Lambda ↔ NAT) and its outside half (NAT ↔ server) are separate flows.
        #expect(parsed.records.count == 9)
        var checked = 0
        for eni in ["eni-0c83aca23d1a66d8b", "eni-0877dd6f5cceb3209"] {
            let pcap = out + "/" + (try #require(pcaps.first { $0.contains(eni) }, "the pcap of \(eni)"))
            let frames = try TShark.fields(pcap, ["tcp.srcport", "tcp.dstport", "ip.len", "frame.time_epoch"])
            var seen: [String: (packets: Int, bytes: Int, first: Int, last: Int)] = [:]
            for f in frames {
                let v = f.split(separator: "\t").map(String.init)
                try #require(v.count == 4, "\(f)")
                let key = v[0] + " " + v[1], bytes = Int(v[2]) ?? -1, second = Int(Double(v[3])!.rounded(.down))
                let e = seen[key] ?? (0, 0, second, second)
                seen[key] = (e.packets + 1, e.bytes + bytes, e.first, second)
            }
            let records = parsed.records.filter { v($0, "interface-id") == eni }
            // One record per direction of each connection the pcap holds.
            #expect(Set(records.map { "\(v($0, "srcport")) \(v($0, "dstport"))" }) == Set(seen.keys), "\(eni)")
            for r in records {
                let key = "\(v(r, "srcport")) \(v(r, "dstport"))"
                let t = try #require(seen[key], "\(eni) \(key)")
                #expect(v(r, "packets") == String(t.packets) && v(r, "bytes") == String(t.bytes), "\(eni) \(key)")
                #expect(v(r, "start") == String(t.first) && v(r, "end") == String(t.last), "\(eni) \(key)")
                #expect(v(r, "version") == "2" && v(r, "protocol") == "6" && v(r, "log-status") == "OK")
                // The NACL of the NAT gateway's subnet refuses port 22 outbound; everything else is accepted.
                let refused = eni == "eni-0877dd6f5cceb3209" && v(r, "dstport") == "22" && v(r, "srcaddr") == "10.0.0.5"
                #expect(v(r, "action") == (refused ? "REJECT" : "ACCEPT"), "\(eni) \(key)")
                checked += 1
            }
        }
        #expect(checked == 9)
        // Deterministic: the same scenario gives the same text.
        #expect(try text(run(story)) == written)
    }

    @Test("fixed twin: no REJECT; the SFTP flow is accepted both ways at both ENIs")
    func fixedTwin() throws {
        let o = try run("lambda-sftp-nacl-fixed")
        #expect(try records(o).allSatisfy { $0.action == .accept })
        let sftp = try records(o).filter { $0.dstport == 22 || $0.srcport == 22 }
        #expect(sftp.count == 6)
        for r in sftp { #expect(r.tcpFlags == (r.dstport == 22 ? 3 : 19), "\(r)") }
        let natOut = try #require(sftp.first { $0.direction == .egress && $0.dstport == 22 })
        #expect(natOut.srcaddr == natIP && natOut.bytes > 1_000_000)
    }

    @Test("NACL without ephemeral inbound: ACCEPT out, then the SYN-ACKs REJECTed at the NAT ENI")
    func ephemeralInbound() throws {
        let o = try run("nacl-no-ephemeral-inbound")
        let nat = try eni(o, lambda: false)
        let recs = try records(o).filter { $0.interfaceID == nat }
        let out = try #require(recs.first { $0.direction == .egress && $0.dstport == 22 })
        #expect(out.action == .accept && out.srcaddr == natIP && out.tcpFlags == 2)
        let back = try #require(recs.first { $0.direction == .ingress && $0.srcport == 22 })
        #expect(back.action == .reject && back.srcaddr == server && back.dstaddr == natIP && back.dstport == out.srcport)
        #expect(back.tcpFlags == 18)
        #expect(back.start >= out.start)
        // The server retransmits its SYN-ACK: more rejected packets than SYNs.
        #expect(back.packets > out.packets)
    }

    @Test("a custom version 5 format: version 5, the header, region, az-id, flow-direction and traffic-path")
    func customFormat() throws {
        let o = try run(story, flowLogs: """
              interval: 60
              account_id: "210987654321"
              region: eu-west-1
              format: "${version} ${interface-id} ${instance-id} ${srcaddr} ${pkt-dstaddr} ${dstport} ${action} ${tcp-flags} ${region} ${az-id} ${flow-direction} ${traffic-path} ${sublocation-type} ${pkt-dst-aws-service} ${account-id}"
            """)
        let lines = try text(o).split(separator: "\n").map(String.init)
        #expect(lines[0] == "version interface-id instance-id srcaddr pkt-dstaddr dstport action tcp-flags region az-id flow-direction traffic-path sublocation-type pkt-dst-aws-service account-id")
        #expect(lines.contains("5 eni-0877dd6f5cceb3209 - 10.0.0.5 203.0.113.22 22 REJECT 2 eu-west-1 use1-az1 egress 8 - - 210987654321"))
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("5 ") })
        let v3 = try FlowLogFormat(parsing: "${interface-id}  ${tcp-flags} ${srcaddr}")
        #expect(v3.version == 3 && v3.fields == [.interfaceID, .tcpFlags, .srcaddr])
        #expect(FlowLogFormat.defaultV2.version == 2)
        #expect(availabilityZoneID("ap-southeast-2c") == "apse2-az3")
    }

    @Test("aggregation windows: 60 s splits what 600 s pools; start/end are Unix seconds of the first/last packet")
    func windows() throws {
        let s = try ScenarioLoader.load(path: scenario(story))
        let eni = try #require(s.model.enis.firstIndex { $0.privateIP == lambdaIP })
        func syn(_ at: Int64) -> SimPacket {
            var ip = IPv4Header(source: lambdaIP, destination: server, proto: .tcp, ttl: 64)
            ip.totalLength = 60
            let t = TCPHeader(sourcePort: 40000, destinationPort: 22, sequenceNumber: 1, acknowledgmentNumber: 0,
                              flags: .syn, window: 64240)
            return SimPacket(ip: ip, transport: .tcp(t), flow: 0, fromClient: true)
        }
        for (interval, expected) in [(60, 2), (600, 1)] {
            let rec = FlowLogRecorder(model: s.model, settings: FlowLogSettings(interval: interval), startTime: s.startTime)
            for t: Int64 in [1_500_000_000, 59_999_999_999, 60_000_000_000, 61_000_000_000] {
                rec.interface(eni: eni, time: t, packet: syn(t), egress: true, accepted: true)
            }
            // A SYN that is never answered completes at the end of its interval: at 60 s the first 60-second
            // interval has ended, the 600-second one has not.
            #expect(try #require(rec.records).count == expected - 1)
            try rec.finish()
            let recs = try #require(rec.records)
            #expect(recs.count == expected)
            #expect(recs.map(\.packets).reduce(0, +) == 4)
            let first = try #require(recs.first)
            #expect(first.start == storyStart + 1)
            #expect(first.end == (interval == 60 ? storyStart + 59 : storyStart + 61))
        }
    }
}

@Suite("Flow logs: scenario settings")
struct FlowLogSettingsTests {
    let head = """
        name: t
        vpcs:
          - {id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}
        route_tables:
          - {id: rtb-main, name: main-rt, vpc: main, main: true}
        flow_logs:

        """

    func error(_ extra: String) -> String {
        do {
            _ = try ScenarioLoader.load(yaml: head + extra, file: "t.yaml")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("defaults: 600 s, version 2, account 123456789012, us-east-1")
    func defaults() throws {
        let s = try ScenarioLoader.load(yaml: "name: t\nvpcs:\n  - {id: vpc-1, cidr_blocks: [10.0.0.0/16]}\nroute_tables:\n  - {id: rtb-1, vpc: vpc-1, main: true}\n", file: "t.yaml")
        #expect(s.flowLogs == FlowLogSettings())
        #expect(s.flowLogs.interval == 600 && s.flowLogs.format == .defaultV2)
        let t = try ScenarioLoader.load(yaml: head + "  interval: 60\n  format: '${srcaddr} ${action}'\n", file: "t.yaml")
        #expect(t.flowLogs.interval == 60 && t.flowLogs.format.fields == [.srcaddr, .action])
    }

    @Test("errors at file:line:column")
    func errors() {
        #expect(error("  interval: 300\n") == "t.yaml:7:13: invalid flow_logs interval 300 (AWS allows 60 or 600 seconds)")
        #expect(error("  interval: often\n") == "t.yaml:7:13: expected an integer for 'interval', found 'often'")
        #expect(error("  format: \"${version} ${srcadr}\"\n")
            == "t.yaml:7:23: unknown flow log field ${srcadr} (did you mean ${srcaddr}?)")
        #expect(error("  format: ${version} ${bogus-field}\n") == "t.yaml:7:22: unknown flow log field ${bogus-field}")
        #expect(error("  format: \"${version} srcaddr\"\n")
            == "t.yaml:7:23: malformed flow log format: expected '${field}', found 'srcaddr'")
        #expect(error("  format: \"${version} ${srcaddr\"\n")
            == "t.yaml:7:23: malformed flow log format: '${' without a closing '}'")
        #expect(error("  format: \"${version},${srcaddr}\"\n")
            == "t.yaml:7:22: malformed flow log format: fields must be separated by spaces")
        #expect(error("  format: \"${srcaddr} ${srcaddr}\"\n") == "t.yaml:7:23: flow log field ${srcaddr} appears twice")
        #expect(error("  format: \"${ecs-cluster-name}\"\n")
            == "t.yaml:7:12: flow log field ${ecs-cluster-name} is after version 5 and not modelled")
        #expect(error("  format: \"  \"\n") == "t.yaml:7:12: malformed flow log format: no fields (expected '${field} ${field} …')")
        #expect(error("  account_id: 1234\n") == "t.yaml:7:15: invalid account_id '1234' (expected 12 digits)")
        #expect(error("  region: Mars\n") == "t.yaml:7:11: invalid region 'Mars' (expected a region code such as us-east-1)")
        #expect(error("  intervall: 60\n") == "t.yaml:7:3: unknown key 'intervall' in flow_logs (did you mean 'interval'?)")
    }
}

@Suite("Flow logs: reading AWS's own examples")
struct FlowLogParserTests {
    static let dir = Fixtures.reference("public/flowlogs")

    static func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
    }

    @Test("the five fixtures of AWS's examples are there to parse")
    func fixturesArePresent() {
        #expect(Self.files().count == 5)
    }

    @Test("every line of every fixture parses", arguments: files())
    func everyLine(_ name: String) throws {
        let text = try String(contentsOfFile: Self.dir + "/" + name, encoding: .utf8)
        let log = FlowLogParser.parse(text)
        let dataLines = text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }.count - 1
        #expect(log.hasHeader)
        #expect(log.problems.isEmpty, "\(log.problems)")
        #expect(log.records.count == dataLines)
        for r in log.records { #expect(r.values.count == log.fields.count) }
    }

    @Test("the v2 examples: NODATA and SKIPDATA records, the IPv6 line; without the header too")
    func v2Examples() throws {
        let text = try String(contentsOfFile: Self.dir + "/awsdocs_v2-default-format_examples.log", encoding: .utf8)
        let log = FlowLogParser.parse(text)
        #expect(log.records.count == 7)
        #expect(log.records.compactMap { log.value("log-status", $0) } == ["OK", "OK", "NODATA", "SKIPDATA", "OK", "OK", "OK"])
        #expect(log.value("srcaddr", log.records[6]) == "2001:db8:1234:a100:8d6e:3477:df66:f105")
        #expect(log.value("srcaddr", log.records[2]) == "-")
        let headless = FlowLogParser.parse(text.split(separator: "\n").dropFirst().joined(separator: "\n"))
        #expect(!headless.hasHeader && headless.problems.isEmpty && headless.records.count == 7)
        #expect(headless.records[0].line == 1)
    }

    @Test("the v3 line with a double space reads as the others")
    func doubleSpace() throws {
        let text = try String(contentsOfFile: Self.dir + "/awsdocs_v3-custom_tcp-flag-sequence.log", encoding: .utf8)
        let log = FlowLogParser.parse(text)
        let last = try #require(log.records.last)
        #expect(last.text.contains("43638  10.0.0.62"))
        #expect(log.value("tcp-flags", last) == "19" && log.value("dstport", last) == "43638")
        #expect(log.value("pkt-srcaddr", last) == "10.0.0.62")
    }

    @Test("the NAT gateway example: the ENI's own address in dstaddr (in) and srcaddr (out)")
    func natExample() throws {
        let text = try String(contentsOfFile: Self.dir + "/awsdocs_custom_nat-gateway.log", encoding: .utf8)
        let log = FlowLogParser.parse(text)
        #expect(log.fields == ["instance-id", "interface-id", "srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr"])
        let r = log.records[3]
        #expect(log.value("srcaddr", r) == "10.0.0.220" && log.value("pkt-srcaddr", r) == "203.0.113.5")
    }

    @Test("malformed lines are reported with their numbers and skipped")
    func malformed() {
        let text = """
            version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
            2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
            2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249
            2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 99999 6 20 4249 1418530010 1418530070 ACCEPT OK
            2 123456789010 eni-1235b8ca123456789 172.31.16.300 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
            2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 MAYBE OK

            garbage
            """
        let log = FlowLogParser.parse(text)
        #expect(log.records.count == 1)
        #expect(log.problems.map(\.line) == [3, 4, 5, 6, 8])
        #expect(log.problems[0].description == "line 3: expected 14 fields (from the header), found 10")
        #expect(log.problems[1].message == "dstport 99999 is outside 0-65535")
        #expect(log.problems[2].message == "srcaddr '172.31.16.300' is not an IP address")
        #expect(log.problems[3].message == "action 'MAYBE' is not ACCEPT or REJECT")
        #expect(FlowLogParser.parse("").records.isEmpty)
        #expect(FlowLogParser.parse("\u{0}\u{1}\n\n").problems.count == 1)
    }
}

@Suite("Flow logs: comparing simulated and real logs")
struct FlowLogComparisonTests {
    func storyLog() throws -> String { try text(run(story)) }

    @Test("identical files agree")
    func identical() throws {
        let t = try storyLog()
        let c = FlowLogComparison.compare(simulated: FlowLogParser.parse(t), real: FlowLogParser.parse(t))
        #expect(c.agree)
        #expect(c.matched == 9)
        #expect(c.text.contains("AGREE: 9 flows match"))
    }

    @Test("an extra REJECT record in the real logs is named")
    func extraReject() throws {
        let t = try storyLog()
        let extra = "2 123456789012 eni-0c83aca23d1a66d8b 203.0.113.22 10.0.1.10 22 34655 6 1 44 1795683602 1795683602 REJECT OK"
        let c = FlowLogComparison.compare(simulated: FlowLogParser.parse(t), real: FlowLogParser.parse(t + extra + "\n"))
        #expect(!c.agree)
        #expect(c.onlyInReal.count == 1 && c.onlyInSimulated.isEmpty && c.actionMismatches.isEmpty)
        let d = try #require(c.onlyInReal.first)
        #expect(d.key.description == "eni-0c83aca23d1a66d8b tcp 203.0.113.22:22 → 10.0.1.10:34655")
        #expect(d.real?.actions == ["REJECT"] && d.real?.lines.first?.line == 11)
        #expect(c.text.contains("REAL line 11: \(extra)"))
    }

    @Test("ACCEPT in the simulation, REJECT in reality: an action mismatch")
    func actionMismatch() throws {
        let t = try storyLog()
        let real = t.replacingOccurrences(of: "1795683601 1795683616 REJECT", with: "1795683601 1795683616 ACCEPT")
        let c = FlowLogComparison.compare(simulated: FlowLogParser.parse(t), real: FlowLogParser.parse(real))
        #expect(c.actionMismatches.count == 1)
        #expect(c.text.contains("eni-0877dd6f5cceb3209 tcp 10.0.0.5:55611 → 203.0.113.22:22: simulated REJECT, real ACCEPT"))
    }

    @Test("through a NAT: matched by pkt-srcaddr/pkt-dstaddr, interfaces mapped, ephemeral ports ignored on request")
    func throughNAT() throws {
        let sim = """
            interface-id srcaddr dstaddr srcport dstport protocol pkt-srcaddr pkt-dstaddr action
            eni-0877dd6f5cceb3209 10.0.1.10 10.0.0.5 34655 22 6 10.0.1.10 203.0.113.22 ACCEPT
            eni-0877dd6f5cceb3209 10.0.0.5 203.0.113.22 55611 22 6 10.0.0.5 203.0.113.22 REJECT
            """
        let real = """
            interface-id srcaddr dstaddr srcport dstport protocol pkt-srcaddr pkt-dstaddr action
            eni-0aaaaaaaaaaaaaaaa 10.0.1.10 10.0.0.5 41000 22 6 10.0.1.10 203.0.113.22 ACCEPT
            eni-0aaaaaaaaaaaaaaaa 10.0.0.5 203.0.113.22 2048 22 6 10.0.0.5 203.0.113.22 REJECT
            """
        let unmapped = FlowLogComparison.compare(simulated: FlowLogParser.parse(sim), real: FlowLogParser.parse(real))
        #expect(!unmapped.agree && unmapped.interfacesOnlyInReal.map(\.id) == ["eni-0aaaaaaaaaaaaaaaa"])
        let opts = FlowLogComparison.Options(interfaceMap: ["eni-0aaaaaaaaaaaaaaaa": "eni-0877dd6f5cceb3209"],
                                             ignoreEphemeralPorts: true)
        let c = FlowLogComparison.compare(simulated: FlowLogParser.parse(sim), real: FlowLogParser.parse(real),
                                          options: opts)
        #expect(c.agree, "\(c.text)")
        #expect(c.matchedOn == ["interface-id", "protocol", "pkt-srcaddr", "pkt-dstaddr", "srcport", "dstport"])
        let exact = FlowLogComparison.compare(simulated: FlowLogParser.parse(sim), real: FlowLogParser.parse(real),
                                              options: .init(interfaceMap: opts.interfaceMap))
        #expect(exact.onlyInReal.count == 2 && exact.onlyInSimulated.count == 2)
    }

    @Test("malformed lines are listed with their numbers; the rest is still compared")
    func malformed() throws {
        let t = try storyLog()
        var lines = t.split(separator: "\n").map(String.init)
        lines.insert("2 123456789012 eni-0877dd6f5cceb3209 oops", at: 3)
        let c = FlowLogComparison.compare(simulated: FlowLogParser.parse(t),
                                          real: FlowLogParser.parse(lines.joined(separator: "\n")))
        #expect(c.agree)
        #expect(c.realProblems.map(\.line) == [4])
        #expect(c.text.contains("REAL line 4: expected 14 fields (from the header), found 4"))
    }
}

@Suite("Flow logs: comparing large files")
struct FlowLogLargeComparisonTests {
    static let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"

    /// `n` records: every third of one busy flow (same addresses, server port and interface; the client port
    /// changes), the others of flows of their own.
    static func log(_ n: Int, flip: Int? = nil, drop: Int? = nil) -> String {
        var s = header
        for i in 0..<n where i != drop {
            let busy = i % 3 == 0
            let src = busy ? "10.0.1.10" : "10.1.\(i % 7).\(10 + i % 200)"
            let port = busy ? 1024 + i % 60000 : 2000 + i % 50000
            let action = i == flip ? "REJECT" : "ACCEPT"
            s += "2 123456789012 eni-0877dd6f5cceb3209 \(src) 203.0.113.22 \(port) 22 6 5 300 1795683601 1795683616 \(action) OK\n"
        }
        return s
    }

    @Test("30,000 records of one key compare in well under ten seconds (pooling copied each key's lines per record)")
    func oneKeyIsLinear() throws {
        let line = "2 123456789012 eni-0877dd6f5cceb3209 10.0.0.5 10.0.1.10 22 24397 6 4 416 1795683600 1795683900 ACCEPT OK\n"
        let text = Self.header + String(repeating: line, count: 30_000)
        let start = Date()
        let c = FlowLogComparison.compare(simulated: FlowLogParser.parse(text), real: FlowLogParser.parse(text),
                                          options: .init(ignoreEphemeralPorts: true))
        let seconds = Date().timeIntervalSince(start)
        #expect(c.agree && c.matched == 1)
        #expect(seconds < 10, "\(seconds) s")
    }

    @Test("files read line by line compare as the parsed texts do: same text, same lines, across 1 MiB chunks")
    func filesAsTexts() throws {
        let dir = makeTempDirectory("vpcsim-flowlogs")
        let simText = Self.log(20_000, flip: 9), realText = Self.log(20_000, drop: 9_002) + "not a record\n"
        #expect(simText.utf8.count > 2 << 20)  // three chunks
        try simText.write(toFile: dir + "/sim.log", atomically: true, encoding: .utf8)
        try realText.write(toFile: dir + "/real.log", atomically: true, encoding: .utf8)
        for ignore in [false, true] {
            let options = FlowLogComparison.Options(ignoreEphemeralPorts: ignore)
            let a = FlowLogComparison.compare(simulated: FlowLogParser.parse(simText), real: FlowLogParser.parse(realText),
                                              options: options, simulatedName: "S", realName: "R")
            let b = try FlowLogComparison.compare(simulatedFile: dir + "/sim.log", realFile: dir + "/real.log",
                                                  options: options, simulatedName: "S", realName: "R")
            #expect(a.text == b.text)
            #expect(!b.agree && b.realProblems.map(\.line) == [20_001])
        }
        let exact = try FlowLogComparison.compare(simulatedFile: dir + "/sim.log", realFile: dir + "/real.log")
        // Record 9 (line 11): REJECT in the simulation only; record 9,002 (line 9,004) is not in the real file.
        #expect(exact.actionMismatches.map { $0.simulated!.lines.map(\.line) } == [[11]])
        #expect(exact.onlyInSimulated.map { $0.simulated!.lines.map(\.line) } == [[9_004]])
        let pooled = try FlowLogComparison.compare(simulatedFile: dir + "/sim.log", realFile: dir + "/real.log",
                                                   options: .init(ignoreEphemeralPorts: true))
        // The busy flow is one key: all its records are listed, in file order.
        let busy = try #require(pooled.actionMismatches.first)
        #expect(busy.simulated!.lines.count == 6_667 && busy.real!.lines.count == 6_667)
        #expect(busy.simulated!.lines.map(\.line) == busy.simulated!.lines.map(\.line).sorted())
    }

    @Test("addresses are read byte by byte as they were by characters")
    func addressesByBytes() {
        var cases = ["10.0.1.10", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "0001.2.3.4",
                     "1..2.3", ".1.2.3", "1.2.3.", "+1.2.3.4", "-0.1.2.3", "1.2.3.4 ", "a.b.c.d", "", ".", "...",
                     "::", ":::", "::::", "::1", "2600:1f18:abc:de00::", "fe80::1:2:3:4:5:6", "1:2:3:4:5:6:7:8:9",
                     "1:2", "g::1", "::ffff:10.0.0.1", "a::b::c", "1:2:3", "AbCd::eF", "١.٢.٣.٤", "１::２"]
        for a in 0..<12 { for b in [":", ".", "1", "f", "9", "x"] { cases.append(String(repeating: b, count: a)) } }
        for c in cases {
            #expect(FlowLogParser.isAddress(c) == FlowLogParser.isAddressByCharacters(c), "\(c)")
        }
    }

    @Test("lines ending in CR LF are lines (they were one line with the CRs inside)")
    func crlf() {
        let text = Self.log(3).replacingOccurrences(of: "\n", with: "\r\n")
        let log = FlowLogParser.parse(text)
        #expect(log.hasHeader && log.records.count == 3 && log.problems.isEmpty)
        #expect(log.records.allSatisfy { !$0.text.contains("\r") })
    }

    @Test("a line that is not UTF-8 is an error at its number; a missing file and a directory are errors")
    func unreadable() throws {
        let dir = makeTempDirectory("vpcsim-flowlogs")
        var bytes = Array(Self.log(3).utf8)
        bytes.insert(0xFF, at: Self.header.utf8.count + 5)
        #expect(FileManager.default.createFile(atPath: dir + "/bad.log", contents: Data(bytes)))
        try Self.log(3).write(toFile: dir + "/good.log", atomically: true, encoding: .utf8)
        #expect(throws: FlowLogFileError(path: dir + "/bad.log", line: 2, message: "not UTF-8 text")) {
            try FlowLogComparison.compare(simulatedFile: dir + "/good.log", realFile: dir + "/bad.log")
        }
        #expect(throws: FlowLogFileError(path: dir + "/none.log", message: "cannot read: No such file or directory")) {
            try FlowLogComparison.compare(simulatedFile: dir + "/none.log", realFile: dir + "/good.log")
        }
        #expect(throws: FlowLogFileError(path: dir, message: "cannot read: Is a directory")) {
            try FlowLogComparison.compare(simulatedFile: dir + "/good.log", realFile: dir)
        }
    }
}

@Suite("Flow-log line writer")
struct LineWriterTests {
    /// What `LineWriter` writes. The memory is filled with a marker first: nothing may be stored past the line
    /// and its `slack` bytes.
    private func written(_ body: (inout LineWriter) -> Void) -> String {
        let capacity = 64 + LineWriter.slack
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { p.deallocate() }
        p.initialize(repeating: 0x21, count: capacity)
        var w = LineWriter(base: p)
        body(&w)
        #expect((w.count + LineWriter.slack..<capacity).allSatisfy { p[$0] == 0x21 }, "stored past the slack")
        return String(decoding: UnsafeBufferPointer(start: p, count: w.count), as: UTF8.self)
    }

    @Test("decimals as String(describing:) gives them, at every digit count and both ends of Int64")
    func decimals() {
        var values: [Int64] = [0, 9, 10, 99, 100, 101, 999, 1000, 65535, 1_764_201_600, Int64.max, Int64.min, -1, -10]
        var p: Int64 = 1
        for _ in 0..<18 {
            p *= 10
            values += [p - 1, p, p + 1, -p]
        }
        for v in values {
            #expect(written { $0.decimal(v) } == String(v))
        }
        // Fields one after another: no digit of one leaks into the next.
        #expect(written { w in
            w.decimal(1_764_201_600); w.byte(0x20); w.decimal(7); w.byte(0x20); w.decimal(12_345)
        } == "1764201600 7 12345")
    }

    @Test("addresses as dotted quads, every octet value; the word-wide stores stay within the slack")
    func addresses() {
        for o in 0...255 {
            let o = UInt8(o)
            let a = IPv4Address(o, 255 - o, o / 2, o % 10)
            #expect(written { $0.address(a) } == a.description)
        }
        #expect(written { w in w.address(IPv4Address(10, 0, 1, 10)); w.byte(0x0A) } == "10.0.1.10\n")
        #expect(written { w in w.address(IPv4Address(0, 0, 0, 0)); w.byte(0x20); w.address(IPv4Address(255, 255, 255, 255)) }
            == "0.0.0.0 255.255.255.255")
    }
}
