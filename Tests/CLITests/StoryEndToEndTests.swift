import Foundation
import Packets
import TestSupport
import Testing

/// Runs `vpcsim run` on the shipped scenarios and checks what a user would: exit status, report.json,
/// and the captures, through tshark.
struct Report: Decodable {
    struct Drop: Decodable {
        var component: String
        var component_name: String
        var kind: String
        var direction: String?
        var rule: String
        var count: Int
        var datagrams: Int?
    }
    struct Change: Decodable {
        var component: String
        var change: String
    }
    struct Fix: Decodable {
        var changes: [Change]
        var verified: Bool
        var notes: [String]
    }
    struct Flow: Decodable {
        var name: String
        var outcome: String
        var elapsed_s: Double
        var drop: Drop?
        var syn_times_s: [Double]
        var fix: Fix?
        var hops: [Hop]
        var drops: [Drop]
        var first_fragment: String?
        var address_family: [String]?
        var client_port: Int?
        var reply_hops: [Hop]?
    }
    struct Hop: Decodable {
        var step: String
        var component: String
        var action: String
        var rule: String
    }
    struct Capture: Decodable {
        var name: String
        var file: String
        var component: String
        var packets: Int
    }
    /// A NAT gateway's CloudWatch totals.
    struct NATGateway: Decodable {
        struct Metrics: Decodable {
            var connectionAttemptCount, connectionEstablishedCount, packetsDropCount: Int
            var packetsInFromSource, packetsOutToDestination, packetsInFromDestination, packetsOutToSource: Int
            var bytesInFromSource, bytesOutToDestination, bytesInFromDestination, bytesOutToSource: Int
        }
        var id: String
        var metrics: Metrics
    }
    var scenario: String
    var seed: UInt64
    var nat_gateways: [NATGateway]?
    var flows: [Flow]
    var captures: [Capture]
    var expectations_checked: Int
    var expectations_failed: Int

    func flow(_ name: String) -> Flow? { flows.first { $0.name == name } }
    func capture(_ prefix: String) -> Capture? { captures.first { $0.name.dropFirst(3).hasPrefix(prefix) } }
}

/// A shipped scenario's run with its own seed, made once and shared by every test that asks for it (they only read
/// its output directory); a run with another seed is made afresh each time, for the tests that compare two runs.
/// Each caller gets its own copy: the report decoded afresh from the kept bytes and strings made anew (a few
/// milliseconds against the run's seconds), so no two test threads share a reference-counted value, which code
/// built with `-assume-single-threaded` would count without atomics.
func runScenario(_ name: String, seed: UInt64? = nil) throws -> (ProcessResult, Report, String) {
    guard seed == nil else { return try runScenarioAfresh(name, seed: seed) }
    return try shippedRuns.value(name, compute: { try ShippedRun(runScenarioBytes(name, seed: nil)) }, copy: { try $0.copy() })
}

let shippedRuns = OnceCache<ShippedRun>()

/// A run as bytes: what `runScenario` keeps, each caller decoding its own copy.
struct ShippedRun {
    var status: Int32
    var stdout: [UInt8], stderr: [UInt8], report: [UInt8], out: [UInt8]

    init(_ run: (ProcessResult, [UInt8], String)) {
        status = run.0.status
        stdout = Array(run.0.stdout.utf8)
        stderr = Array(run.0.stderr.utf8)
        report = run.1
        out = Array(run.2.utf8)
    }

    func copy() throws -> (ProcessResult, Report, String) {
        let r = ProcessResult(status: status, stdout: String(decoding: stdout, as: UTF8.self),
                              stderr: String(decoding: stderr, as: UTF8.self))
        return (r, try JSONDecoder().decode(Report.self, from: Data(report)), String(decoding: out, as: UTF8.self))
    }
}

func runScenarioAfresh(_ name: String, seed: UInt64?) throws -> (ProcessResult, Report, String) {
    let (r, bytes, out) = try runScenarioBytes(name, seed: seed)
    return (r, try JSONDecoder().decode(Report.self, from: Data(bytes)), out)
}

/// Runs a shipped scenario into a new directory: the command's result, report.json's bytes and the directory.
func runScenarioBytes(_ name: String, seed: UInt64?) throws -> (ProcessResult, [UInt8], String) {
    let out = makeTempDirectory("vpcsim-e2e")
    var args = ["run", "scenarios/\(name).yaml", "--out", out]
    if let seed { args += ["--seed", String(seed)] }
    let r = try vpcsim(args)
    let data = try Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))
    return (r, Array(data), out)
}

/// Relative times (s) of the frames matching `filter` in a capture.
func times(_ path: String, _ filter: String) throws -> [Double] {
    let rows = try TShark.fields(path, ["frame.time_epoch"], filter: filter)
    let t = rows.compactMap { Double($0) }
    guard let first = t.first else { return [] }
    return t.map { $0 - first }
}

@Suite struct StoryEndToEndTests {
    @Test func storyHTTPSWorksAndSFTPTimesOutAtThePublicNACL() throws {
        let (r, report, out) = try runScenario("lambda-sftp-nacl")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(report.expectations_checked == 2 && report.expectations_failed == 0)
        let https = try #require(report.flow("https-api"))
        #expect(https.outcome == "ok")
        #expect(https.drop == nil)
        let sftp = try #require(report.flow("sftp-upload"))
        #expect(sftp.outcome == "timeout")
        #expect(abs(sftp.elapsed_s - 20) < 0.001)
        #expect(sftp.syn_times_s == [0, 1, 3, 7, 15])
        let drop = try #require(sftp.drop)
        #expect(drop.kind == "nacl")
        #expect(drop.direction == "outbound")
        #expect(drop.rule == "* DENY all 0.0.0.0/0")
        #expect(drop.component_name.contains("public"))
        // The fix: the outbound rule for tcp/22, and the inbound rule that admits the replies.
        let fix = try #require(sftp.fix)
        #expect(fix.verified)
        #expect(fix.changes.count == 1)
        #expect(fix.changes[0].change.hasPrefix("outbound: add #"))
        #expect(fix.changes[0].change.contains("ALLOW tcp 22 203.0.113.22/32"))
        #expect(fix.notes.contains { $0.contains("inbound") && $0.contains("1024-65535") })
        // The text report names the rule the way the console does.
        let text = try String(contentsOfFile: out + "/report.txt", encoding: .utf8)
        #expect(text.contains("outbound: * DENY all 0.0.0.0/0"))
        #expect(r.stdout == text)

        // Captures: the Lambda's ENI and the NAT gateway's ENI each show the SYN and its retransmissions at
        // 0, 1, 3, 7 and 15 s; nothing on port 22 reaches the internet side or the server.
        let lambda = out + "/" + (try #require(report.capture("lambda"))).file
        let nat = out + "/" + (try #require(report.capture("nat"))).file
        let igw = out + "/" + (try #require(report.capture("igw"))).file
        let host = out + "/" + (try #require(report.capture("host"))).file
        let synTo22 = "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 22"
        for t in [try times(lambda, synTo22), try times(nat, synTo22 + " && ip.src == 10.0.0.5"),
                  try times(nat, synTo22 + " && ip.src == 10.0.1.10")] {
            #expect(t.count == 5)
            for (got, want) in zip(t, [0.0, 1, 3, 7, 15]) { #expect(abs(got - want) < 0.001) }
        }
        #expect(try TShark.fields(igw, ["frame.number"], filter: "tcp.port == 22").isEmpty)
        #expect(try TShark.fields(host, ["frame.number"], filter: "tcp.port == 22").isEmpty)
        // HTTPS went all the way, with the Elastic IP on the internet side.
        #expect(!(try TShark.fields(host, ["frame.number"], filter: "tls.handshake.type == 1 && ip.src == 198.51.100.7")).isEmpty)
        // The pcapng says what happened, hop by hop.
        let comments = try TShark.fields(out + "/all-hops.pcapng", ["frame.interface_name", "frame.comment"],
                                         filter: "tcp.dstport == 22")
        #expect(comments.contains { $0.contains("nat") && $0.contains("dropped: acl-") && $0.contains("* DENY") })
        #expect(comments.contains { $0.contains("translated 10.0.1.10:") })
    }

    /// The README shows the story's output; every line it shows (but its "…" elisions) is a line of the real
    /// output, in the same order. (It had drifted: a client name added to a message, a per-minute NAT table.)
    @Test func theREADMEShowsTheStorysRealOutput() throws {
        let readme = try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex(of: "$ swift run vpcsim run scenarios/lambda-sftp-nacl.yaml"))
        let end = try #require(lines[start...].firstIndex(of: "```"))
        let shown = Array(lines[(start + 1)..<end])
        #expect(shown.count >= 30)
        let (r, _, _) = try runScenario("lambda-sftp-nacl")
        let output = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Lines follow each other as in the output, except where a "…" line says some are left out (and before
        // the first: the output's heading).
        var at = output.startIndex
        var gap = true
        for line in shown {
            if line.trimmingCharacters(in: .whitespaces) == "…" {
                gap = true
                continue
            }
            guard let found = output[at...].firstIndex(of: line) else {
                Issue.record("README line not in the output (in this order): \(line)")
                return
            }
            #expect(gap || found == at, "README leaves out output lines before this one without a '…': \(line)")
            at = found + 1
            gap = false
        }
    }

    @Test func fixedStoryCompletesTheUpload() throws {
        let (r, report, out) = try runScenario("lambda-sftp-nacl-fixed")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(report.expectations_failed == 0)
        #expect(report.flows.allSatisfy { $0.outcome == "ok" && $0.drop == nil })
        let host = out + "/" + (try #require(report.capture("host"))).file
        // The server received the whole file (the client's bytes exceed the file size) and both sides closed.
        let lens = try TShark.fields(host, ["tcp.len"], filter: "tcp.dstport == 22").compactMap { Int($0) }
        #expect(lens.reduce(0, +) > 1_000_000)
        #expect(try TShark.fields(host, ["frame.number"], filter: "tcp.port == 22 && tcp.flags.fin == 1").count == 2)
        let ssh = try TShark.fields(host, ["ssh.message_code"], filter: "ssh.message_code")
        #expect(ssh.contains { $0.contains("20") } && ssh.contains { $0.contains("21") })
    }

    @Test(arguments: ["lambda-sftp-nacl", "lambda-sftp-nacl-fixed", "lambda-public-subnet", "nacl-no-ephemeral-inbound",
                      "sg-no-egress-22", "private-no-default-route", "closed-port", "peering-not-modeled",
                      "sftp-idle-nat-timeout", "sftp-idle-nat-timeout-fixed", "igw-hairpin",
                      "sg-group-reference", "appliance-east-west", "s3-gateway-endpoint",
                      "tgw-hub-inspection", "tgw-hub-inspection-fixed", "onprem-sftp-over-vpn",
                      "onprem-sftp-over-vpn-fixed", "interface-endpoint-sg", "nitro-v6-conntrack-idle",
                      "nitro-v6-conntrack-idle-fixed", "udp-fragments-through-nat", "ping-large-dropped-at-nat"])
    func everyShippedScenarioMeetsItsExpectationsAndWritesCleanCaptures(name: String) throws {
        let (r, report, out) = try runScenario(name)
        #expect(r.status == 0, "\(name): \(r.stderr)\n\(r.stdout)")
        #expect(report.expectations_checked > 0)
        #expect(report.expectations_failed == 0)
        // Every pcap the run wrote is checked, and there is at least one.
        let pcaps = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".pcap") }.sorted()
        #expect(!pcaps.isEmpty)
        #expect(report.captures.map(\.file).sorted() == pcaps)
        for c in report.captures {
            let (frames, problems) = try TShark.problems(in: out + "/" + c.file)
            #expect(frames == c.packets, "\(c.file)")
            #expect(problems == [], "\(c.file)")
            #expect(try TShark.expertErrors(in: out + "/" + c.file) == [], "\(c.file)")
        }
        // all-hops.pcapng: every packet once per capture point, with a comment on each.
        let ng = out + "/all-hops.pcapng"
        let total = report.captures.map(\.packets).reduce(0, +)
        let comments = try TShark.fields(ng, ["frame.comment"])
        #expect(comments.count == total)
        #expect(comments.allSatisfy { !$0.isEmpty })
        // Grouped by capture point, every hop's stream dissects cleanly with tshark's default preferences.
        #expect(try TShark.problems(in: ng).problems == [])
        #expect(try TShark.expertErrors(in: ng) == [])
        let names = try TShark.fields(ng, ["frame.interface_id"]).compactMap { Int($0) }
        #expect(names == names.sorted(), "all-hops.pcapng holds its packets capture point by capture point")
        #expect(try TShark.fields(ng, ["frame.number"], filter: "ip.checksum.status == 0 || tcp.checksum.status == 0").isEmpty)
    }

    @Test func naclWithoutEphemeralInboundKillsTheSynAckAndTheServerRetransmitsIt() throws {
        let (r, report, out) = try runScenario("nacl-no-ephemeral-inbound")
        #expect(r.status == 0, "\(r.stderr)")
        let f = try #require(report.flows.first { $0.outcome == "timeout" })
        #expect(f.drop?.direction == "inbound")
        #expect(f.drop?.kind == "nacl")
        let host = out + "/" + (try #require(report.capture("host"))).file
        // The SYN reached the server; the server's SYN-ACKs: one per SYN at once, plus its own 1 s timer.
        #expect(!(try times(host, "tcp.flags.syn == 1 && tcp.flags.ack == 0")).isEmpty)
        let synacks = try times(host, "tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.srcport == 22")
        #expect(synacks.count >= 5)
        let fix = try #require(f.fix)
        #expect(fix.changes.contains { $0.change.hasPrefix("inbound: add") && $0.change.contains("1024-65535") })
    }

    @Test func lambdaInAPublicSubnetDiesAtTheInternetGateway() throws {
        let (r, report, _) = try runScenario("lambda-public-subnet")
        #expect(r.status == 0, "\(r.stderr)")
        let f = try #require(report.flows.first)
        #expect(f.outcome == "timeout")
        #expect(f.drop?.kind == "internet-gateway")
        #expect(r.stdout.contains("never has a public IP"))
    }

    @Test func closedPortIsRefusedAtOnce() throws {
        let (r, report, _) = try runScenario("closed-port")
        #expect(r.status == 0, "\(r.stderr)")
        let f = try #require(report.flows.first { $0.outcome == "refused" })
        #expect(f.elapsed_s < 0.1)
    }

    @Test func sameScenarioAndSeedGiveByteIdenticalFiles() throws {
        let (_, _, a) = try runScenario("lambda-sftp-nacl", seed: 42)
        let (_, _, b) = try runScenario("lambda-sftp-nacl", seed: 42)
        let files = try FileManager.default.contentsOfDirectory(atPath: a).sorted()
        #expect(files == (try FileManager.default.contentsOfDirectory(atPath: b).sorted()))
        #expect(files.count >= 7)
        for f in files {
            let x = try Data(contentsOf: URL(fileURLWithPath: a + "/" + f))
            let y = try Data(contentsOf: URL(fileURLWithPath: b + "/" + f))
            #expect(x == y, "\(f) differs between two runs")
        }
        let (_, _, c) = try runScenario("lambda-sftp-nacl", seed: 43)
        let x = try Data(contentsOf: URL(fileURLWithPath: a + "/all-hops.pcapng"))
        let y = try Data(contentsOf: URL(fileURLWithPath: c + "/all-hops.pcapng"))
        #expect(x != y, "another seed draws other ports and sequence numbers")
    }
}

@Suite struct AllHopsOptionTests {
    @Test func noAllHopsWritesThePerPointPcapsOnlyWithTheSamePackets() throws {
        let (_, full, a) = try runScenario("lambda-sftp-nacl-fixed")
        let out = makeTempDirectory("vpcsim-e2e")
        let r = try vpcsim(["run", "scenarios/lambda-sftp-nacl-fixed.yaml", "--out", out, "--no-all-hops"])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!files.contains("all-hops.pcapng"))
        #expect(full.captures.count == 4)
        #expect(files.filter { $0.hasSuffix(".pcap") }.count == full.captures.count)
        // The per-point captures are the same bytes with or without the pcapng.
        for c in full.captures {
            let x = try Data(contentsOf: URL(fileURLWithPath: a + "/" + c.file))
            let y = try Data(contentsOf: URL(fileURLWithPath: out + "/" + c.file))
            #expect(x == y, "\(c.file) differs")
        }
        let text = try String(contentsOfFile: out + "/report.txt", encoding: .utf8)
        #expect(!text.contains("all-hops.pcapng"))
        #expect(try String(contentsOfFile: a + "/report.txt", encoding: .utf8).contains("all-hops.pcapng"))
    }
}

@Suite struct FlowLogsOptionTests {
    @Test func noFlowLogsWritesNoFlowLogsAndRemovesAnEarlierRunsFile() throws {
        let out = makeTempDirectory("vpcsim-e2e")
        let first = try vpcsim(["run", "scenarios/closed-port.yaml", "--out", out, "--capture", "none"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/flow-logs.txt"))
        let r = try vpcsim(["run", "scenarios/closed-port.yaml", "--out", out, "--capture", "none", "--no-flow-logs"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/flow-logs.txt"))
        let text = try String(contentsOfFile: out + "/report.txt", encoding: .utf8)
        #expect(!text.contains("FLOW LOGS"))
        #expect(text.contains("refused"))
    }
}

@Suite struct CLIErrorTests {
    @Test func invalidScenarioExitsTwoWithOneLineNamingFileLineColumn() throws {
        let dir = makeTempDirectory("vpcsim-cli")
        let bad = dir + "/bad.yaml"
        var text = try String(contentsOfFile: repositoryRoot + "/scenarios/lambda-sftp-nacl.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "target: nat-0e1f2a3b4c5d6e7f8", with: "target: nat-0ab")
        try text.write(toFile: bad, atomically: true, encoding: .utf8)
        for cmd in [["validate", bad], ["run", bad, "--out", dir + "/out"]] {
            let r = try vpcsim(cmd)
            #expect(r.status == 2)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(lines.first?.contains("\(bad):") == true)
            #expect(lines.first?.contains("nat-0ab") == true)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/report.json"))
        let missing = try vpcsim(["run", dir + "/nope.yaml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("nope.yaml"))
    }

    /// A misspelt capture point captured nothing, silently, and exited 0; an empty list likewise.
    @Test func unknownCaptureNameIsInvalidInputAndWritesNothing() throws {
        let dir = makeTempDirectory("vpcsim-cli")
        for (option, named) in [("01-lambda-uploader-eni-0c83aca23d1a66d8b,nat-typo", "'nat-typo'"), (",", "','")] {
            for cmd in [["run", "scenarios/closed-port.yaml"],
                        ["trace", "scenarios/closed-port.yaml", "--from", "uploader", "--to", "sftp.example.com:22"]] {
                let r = try vpcsim(cmd + ["--out", dir + "/out", "--capture", option])
                #expect(r.status == 2, "\(cmd) \(option): \(r.stderr)")
                #expect(r.stderr.split(separator: "\n").count == 1)
                #expect(r.stderr.hasPrefix("vpcsim: error: --capture \(named)"), "\(r.stderr)")
                #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
            }
        }
        let r = try vpcsim(["run", "scenarios/closed-port.yaml", "--out", dir + "/out", "--capture", "nat-typo"])
        #expect(r.stderr.contains("01-lambda-uploader-eni-0c83aca23d1a66d8b"))  // the points are named
        // A point's name and a component's id both select it.
        let ok = try vpcsim(["run", "scenarios/closed-port.yaml", "--out", dir + "/ok", "--quiet", "--capture",
                             "01-lambda-uploader-eni-0c83aca23d1a66d8b,igw-0c2d4e6f8a0b1c2d3"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let pcaps = try FileManager.default.contentsOfDirectory(atPath: dir + "/ok").filter { $0.hasSuffix(".pcap") }.sorted()
        #expect(pcaps == ["01-lambda-uploader-eni-0c83aca23d1a66d8b.pcap", "03-igw-internet-side-igw-0c2d4e6f8a0b1c2d3.pcap"])
    }

    @Test func validateAcceptsEveryShippedScenario() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/scenarios")
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 7)
        for f in files {
            let r = try vpcsim(["validate", "scenarios/" + f])
            #expect(r.status == 0, "\(f): \(r.stderr)")
        }
    }

    /// Usage errors are invalid input like any other: exit 2, one line naming the problem and where the help is.
    /// Help and version still print in full and exit 0.
    @Test func usageErrorsExitTwoWithOneLine() throws {
        let cases: [([String], String)] = [
            (["run", "scenarios/closed-port.yaml", "--seed", "abc"],
             "vpcsim: error: the value 'abc' is invalid for '--seed <seed>' (see 'vpcsim run --help')\n"),
            (["run"], "vpcsim: error: missing expected argument '<scenario>' (see 'vpcsim run --help')\n"),
            (["run", "scenarios/closed-port.yaml", "--bogus"],
             "vpcsim: error: unknown option '--bogus'. Did you mean '--out'? (see 'vpcsim run --help')\n"),
            (["compare", "a.pcap"], "vpcsim: error: missing expected argument '<b>' (see 'vpcsim compare --help')\n"),
            (["run", "scenarios/closed-port.yaml", "--capture"],
             "vpcsim: error: missing value for '--capture <capture>' (see 'vpcsim run --help')\n"),
            (["frobnicate"], "vpcsim: error: unexpected argument 'frobnicate' (see 'vpcsim --help')\n"),
            // A control character in the value is escaped, not printed.
            (["run", "scenarios/closed-port.yaml", "--seed", "1\n2\u{1B}"],
             "vpcsim: error: the value '1\\n2\\u{1b}' is invalid for '--seed <seed>' (see 'vpcsim run --help')\n"),
        ]
        for (args, expected) in cases {
            let r = try vpcsim(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr == expected, "\(args)")
            #expect(r.stdout.isEmpty, "\(args)")
        }
        for args in [["--help"], ["run", "--help"], ["compare", "--help"], ["--version"]] {
            let r = try vpcsim(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(r.stderr.isEmpty && !r.stdout.isEmpty, "\(args)")
        }
        #expect(try vpcsim(["run", "--help"]).stdout.contains("--no-all-hops"))
    }

    /// report.json gives `drop` for every flow, null when nothing dropped it (as the README says).
    @Test func reportJSONHasDropNullForAFlowNothingDropped() throws {
        let (r, _, out) = try runScenario("lambda-sftp-nacl")
        #expect(r.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        let flows = try #require((json as? [String: Any])?["flows"] as? [[String: Any]])
        #expect(flows.count == 2)
        let https = try #require(flows.first { $0["name"] as? String == "https-api" })
        #expect(https["drop"] is NSNull, "\(https["drop"] ?? "absent")")
        let sftp = try #require(flows.first { $0["name"] as? String == "sftp-upload" })
        #expect((sftp["drop"] as? [String: Any])?["kind"] as? String == "nacl")
    }

    @Test func failedExpectationExitsOne() throws {
        let dir = makeTempDirectory("vpcsim-cli")
        let path = dir + "/wrong.yaml"
        var text = try String(contentsOfFile: repositoryRoot + "/scenarios/lambda-sftp-nacl-fixed.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "outcome: ok", with: "outcome: refused")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try vpcsim(["run", path, "--out", dir + "/out"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("EXPECTATION FAILED"))
    }
}

/// The fleet scenarios: 60,000 Lambda invocations through one NAT gateway address, and with two.
@Suite struct NATPortExhaustionEndToEndTests {
    @Test(arguments: [("nat-port-exhaustion", 55_000), ("nat-port-exhaustion-fixed", 60_000)])
    func fleetMeetsItsExpectations(name: String, ok: Int) throws {
        let out = makeTempDirectory("vpcsim-fleet")
        let r = try vpcsim(["run", "scenarios/\(name).yaml", "--capture", "none", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        struct Fleet: Decodable {
            struct Generator: Decodable {
                var flows: Int
                var outcomes: [String: Int]
                var drops: [Report.Drop]
            }
            struct NAT: Decodable {
                struct Metrics: Decodable {
                    var errorPortAllocation: Int
                    var peakActiveConnectionCount: Int
                }
                var metrics: Metrics
            }
            var generators: [Generator]
            var nat_gateways: [NAT]
        }
        let report = try JSONDecoder().decode(Fleet.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        let g = try #require(report.generators.first)
        #expect(g.flows == 60_000)
        #expect(g.outcomes["ok"] == ok)
        #expect(g.outcomes["timeout"] == 60_000 - ok)
        let nat = try #require(report.nat_gateways.first)
        #expect(nat.metrics.peakActiveConnectionCount == ok)
        if ok < 60_000 {
            #expect(g.drops.map(\.rule) == ["ErrorPortAllocation"])
            #expect(nat.metrics.errorPortAllocation == (60_000 - ok) * 7)
            #expect(r.stdout.contains("✘ invocations ×60000"))
        } else {
            #expect(nat.metrics.errorPortAllocation == 0)
        }
    }
}
