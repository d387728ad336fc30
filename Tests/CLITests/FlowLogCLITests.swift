import Foundation
import TestSupport
import Testing

/// `vpcsim run` writes flow-logs.txt and NAT metrics per minute; `vpcsim compare-logs` compares flow logs.
@Suite("CLI: flow logs and compare-logs")
struct FlowLogCLITests {
    func runStory(_ name: String = "lambda-sftp-nacl") throws -> (out: String, status: Int32) {
        let out = makeTempDirectory("vpcsim-flowlogs")
        let r = try vpcsim(["run", "scenarios/\(name).yaml", "--out", out, "--quiet"])
        return (out, r.status)
    }

    func write(_ text: String, _ dir: String, _ name: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("run writes flow-logs.txt, names it in report.json and report.txt, and NAT metrics per minute")
    func runWritesFlowLogs() throws {
        let (out, status) = try runStory()
        #expect(status == 0)
        let text = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")
        #expect(lines.contains { $0.hasSuffix(" 22 6 5 300 1795683601 1795683616 REJECT OK") })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any])
        #expect(json["flow_logs"] as? String == "flow-logs.txt")
        let nat = try #require((json["nat_gateways"] as? [[String: Any]])?.first)
        let minutes = try #require(nat["per_minute"] as? [[String: Any]])
        #expect(minutes.count == 1)
        #expect(minutes.first?["minute_start"] as? Int == 1_795_683_600)
        let m = try #require(minutes.first?["metrics"] as? [String: Any])
        #expect(m["connectionAttemptCount"] as? Int == 2 && m["connectionEstablishedCount"] as? Int == 1)
        let report = try String(contentsOfFile: out + "/report.txt", encoding: .utf8)
        #expect(report.contains("FLOW LOGS\n  flow-logs.txt"))
        #expect(report.contains("per minute (UTC)"))
        #expect(report.contains("    2026-11-26 09:00  "))
        #expect(report.contains("ConnectionAttemptCount (2) > ConnectionEstablishedCount (1): replies are not coming back"))
    }

    @Test("compare-logs: identical files agree (exit 0)")
    func agree() throws {
        let (out, _) = try runStory()
        let r = try vpcsim(["compare-logs", out + "/flow-logs.txt", out + "/flow-logs.txt"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("AGREE: 9 flows match"))
    }

    @Test("compare-logs: the fixed twin against the story differs (exit 1): the REJECT and the replies")
    func differ() throws {
        let (broken, _) = try runStory()
        let (fixed, _) = try runStory("lambda-sftp-nacl-fixed")
        let r = try vpcsim(["compare-logs", fixed + "/flow-logs.txt", broken + "/flow-logs.txt"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("eni-0877dd6f5cceb3209 tcp 10.0.0.5:55611 → 203.0.113.22:22: simulated ACCEPT, real REJECT"))
        #expect(r.stdout.contains("ONLY IN THE SIMULATED LOGS (3)"))
    }

    @Test("compare-logs: an extra REJECT record in the real log is named with its line")
    func extraReject() throws {
        let (out, _) = try runStory()
        let sim = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8)
        let extra = "2 123456789012 eni-0c83aca23d1a66d8b 203.0.113.22 10.0.1.10 22 34655 6 1 44 1795683602 1795683602 REJECT OK"
        let real = try write(sim + extra + "\n", out, "real.log")
        let r = try vpcsim(["compare-logs", out + "/flow-logs.txt", real])
        #expect(r.status == 1)
        #expect(r.stdout.contains("ONLY IN THE REAL LOGS (1)"))
        #expect(r.stdout.contains("line 11: \(extra)"))
    }

    @Test("compare-logs: malformed lines are reported with their numbers and skipped")
    func malformed() throws {
        let (out, _) = try runStory()
        var lines = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        lines.insert("not a flow log line", at: 2)
        lines.append("2 123456789012 eni-0c83aca23d1a66d8b 1.2.3.4 5.6.7.8 1 2 6 1 40 1 2 PERHAPS OK")
        let real = try write(lines.joined(separator: "\n") + "\n", out, "real.log")
        let r = try vpcsim(["compare-logs", out + "/flow-logs.txt", real])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("line 3: expected 14 fields (from the header), found 5"))
        #expect(r.stdout.contains("line 12: action 'PERHAPS' is not ACCEPT or REJECT"))
    }

    @Test("compare-logs: AWS's v2 examples without a header, and interface mapping")
    func headerless() throws {
        let dir = makeTempDirectory("vpcsim-flowlogs")
        let a = try write("""
            2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
            2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA

            """, dir, "sim.log")
        let b = try write("""
            2 123456789010 eni-0ffffffffffffffff 172.31.16.139 172.31.16.21 20641 22 6 3 400 1418530010 1418530070 ACCEPT OK

            """, dir, "real.log")
        #expect(try vpcsim(["compare-logs", a, b]).status == 1)
        let r = try vpcsim(["compare-logs", a, b, "--map-interface", "eni-0ffffffffffffffff=eni-1235b8ca123456789"])
        #expect(r.status == 0, "\(r.stdout)")
    }

    @Test("compare-logs: an unreadable file exits 2 with one line on stderr")
    func unreadable() throws {
        let dir = makeTempDirectory("vpcsim-flowlogs")
        let a = try write("", dir, "empty.log")
        let r = try vpcsim(["compare-logs", a, dir + "/missing.log"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("vpcsim: error: \(dir)/missing.log: cannot read"))
        #expect(r.stderr.split(separator: "\n").count == 1)
        let bad = try vpcsim(["compare-logs", a, a, "--map-interface", "nonsense"])
        #expect(bad.status == 2)
    }

    @Test("compare-logs: a pipe is read as a file is; a line that is not UTF-8 exits 2 naming its line")
    func pipeAndNotUTF8() throws {
        let (out, _) = try runStory()
        let log = out + "/flow-logs.txt"
        let piped = try run("/bin/sh", ["-c", "cat '\(log)' | '\(vpcsimExecutable())' compare-logs /dev/stdin '\(log)' --quiet"])
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout.contains("AGREE: 9 flows match") && piped.stderr.isEmpty)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: log)))
        let secondLine = try #require(bytes.firstIndex(of: 0x0A)) + 1
        bytes.insert(0xC3, at: secondLine + 3)
        let bad = out + "/bad.log"
        FileManager.default.createFile(atPath: bad, contents: Data(bytes))
        let r = try vpcsim(["compare-logs", log, bad])
        #expect(r.status == 2)
        #expect(r.stderr == "vpcsim: error: \(bad):2: not UTF-8 text\n")
    }

    @Test("validate: a bad flow_logs setting is reported at file:line:column (exit 2)")
    func badSettings() throws {
        let dir = makeTempDirectory("vpcsim-flowlogs")
        let yaml = try String(contentsOfFile: repositoryRoot + "/scenarios/lambda-sftp-nacl.yaml", encoding: .utf8)
        let lineCount = yaml.split(separator: "\n", omittingEmptySubsequences: false).count
        let path = try write(yaml + "flow_logs:\n  interval: 120\n", dir, "bad.yaml")
        let r = try vpcsim(["validate", path])
        #expect(r.status == 2)
        #expect(r.stderr == "vpcsim: error: \(path):\(lineCount + 1):13: invalid flow_logs interval 120 (AWS allows 60 or 600 seconds)\n")
    }
}
