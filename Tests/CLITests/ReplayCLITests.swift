import Foundation
import TestSupport
import Testing

/// `vpcsim replay`: the story's flow logs (the SFTP SYN logged REJECT at the NAT gateway) replayed against the
/// story's network and against its fixed twin; gzip; bad input.
@Suite("CLI: replay")
struct ReplayCLITests {
    /// The story's flow-logs.txt, as `vpcsim run` writes it (the default version 2 format with its header).
    static func storyLogs() throws -> (dir: String, logs: String) {
        let out = makeTempDirectory("vpcsim-replay")
        let r = try vpcsim(["run", "scenarios/lambda-sftp-nacl.yaml", "--out", out, "--quiet", "--capture", "none", "--no-html"])
        #expect(r.status == 0)  // the story's SFTP flow times out, as its expectation says
        return (out, out + "/flow-logs.txt")
    }

    static func gzip(_ path: String, to out: String) throws {
        let r = try run("/bin/sh", ["-c", "gzip -c '\(path)' > '\(out)'"])
        #expect(r.status == 0)
    }

    @Test("the story's logs against the story's network agree (exit 0)")
    func agree() throws {
        let (_, logs) = try Self.storyLogs()
        let r = try vpcsim(["replay", logs, "--network", "scenarios/lambda-sftp-nacl.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("DISAGREE (0)"))
        #expect(r.stdout.hasSuffix("2 connections replayed (9 records): 9 as logged, 0 turned around\n"))
        #expect(r.stderr.isEmpty)  // no progress bar when stderr is not a terminal
    }

    @Test("against the fixed network the logged REJECT is now an ACCEPT (exit 1), with the rule")
    func fixedTurnsRejectAround() throws {
        let (_, logs) = try Self.storyLogs()
        let r = try vpcsim(["replay", logs, "--network", "scenarios/lambda-sftp-nacl-fixed.yaml"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("REJECT → ACCEPT  tcp 10.0.0.5:55611 → 203.0.113.22:22  at eni-0877dd6f5cceb3209 "
            + "(NAT gateway nat-0e1f2a3b4c5d6e7f8 (public-nat)), the request: 1 connection, 1 record (first \(logs):6)"))
        #expect(r.stdout.contains("acl-0b1c2d3e4f5a6b7c8 (public-nacl) outbound: #120 ALLOW tcp 22 0.0.0.0/0"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(
            try vpcsim(["replay", logs, "--network", "scenarios/lambda-sftp-nacl-fixed.yaml", "--json"]).stdout.utf8)) as? [String: Any])
        #expect(json["agree"] as? Bool == false)
        let d = try #require((json["disagreements"] as? [[String: Any]])?.first)
        #expect(d["change"] as? String == "REJECT → ACCEPT" && d["eni"] as? String == "eni-0877dd6f5cceb3209")
        #expect(d["records"] as? Int == 1)
    }

    @Test("gzip logs, several files and members, read as the plain ones")
    func gzip() throws {
        let (dir, logs) = try Self.storyLogs()
        try Self.gzip(logs, to: dir + "/a.log.gz")
        let plain = try vpcsim(["replay", logs, "--network", "scenarios/lambda-sftp-nacl-fixed.yaml"])
        let zipped = try vpcsim(["replay", dir + "/a.log.gz", "--network", "scenarios/lambda-sftp-nacl-fixed.yaml"])
        #expect(zipped.status == 1)
        #expect(zipped.stdout == plain.stdout.replacingOccurrences(of: logs, with: dir + "/a.log.gz"))
        // Two members one after another (`cat a.gz b.gz`), and a second file.
        _ = try run("/bin/sh", ["-c", "cat '\(dir)/a.log.gz' '\(dir)/a.log.gz' > '\(dir)/twice.gz'"])
        let two = try vpcsim(["replay", dir + "/twice.gz", logs, "--network", "scenarios/lambda-sftp-nacl.yaml"])
        #expect(two.status == 1 || two.status == 0)
        #expect(two.stdout.contains("replayed (27 records)"), "\(two.stdout)\(two.stderr)")
    }

    @Test("a corrupt line, a cut gzip, a missing file: one line naming file:line, exit 2")
    func badInput() throws {
        let (dir, logs) = try Self.storyLogs()
        var lines = try String(contentsOfFile: logs, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[3] = lines[3].replacingOccurrences(of: " ACCEPT ", with: " ACCEPTED ")
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/bad.log", atomically: true, encoding: .utf8)
        let network = "scenarios/lambda-sftp-nacl.yaml"
        CLIErrors.expectOneLineError(try vpcsim(["replay", dir + "/bad.log", "--network", network]),
                                     "\(dir)/bad.log:4: action 'ACCEPTED' is not ACCEPT or REJECT")
        lines[3] = "2 123456789012 eni-0877dd6f5cceb3209 10.0.0.5"
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/short.log", atomically: true, encoding: .utf8)
        CLIErrors.expectOneLineError(try vpcsim(["replay", dir + "/short.log", "--network", network]),
                                     "\(dir)/short.log:4: 4 fields, the format has 14")
        try Self.gzip(logs, to: dir + "/a.gz")
        let gz = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.gz"))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.gz"))
        let cut = try vpcsim(["replay", dir + "/cut.gz", "--network", network])
        #expect(cut.status == 2)
        #expect(cut.stderr.hasPrefix("vpcsim: error: \(dir)/cut.gz:") && cut.stderr.contains("gzip data is cut short"))
        #expect(cut.stdout.isEmpty)
        CLIErrors.expectOneLineError(try vpcsim(["replay", dir + "/none.log", "--network", network]),
                                     "\(dir)/none.log: cannot read: No such file or directory")
    }

    @Test("--explain FILE:LINE prints the record's hops and the verdict; exit 1 when it disagrees")
    func explain() throws {
        let (_, logs) = try Self.storyLogs()
        // Line 10: the Lambda's SFTP SYN, logged ACCEPT at its ENI.
        let r = try vpcsim(["replay", "--explain", logs + ":10", "--network", "scenarios/lambda-sftp-nacl.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("acl-0b1c2d3e4f5a6b7c8 (public-nacl) outbound: * DENY all 0.0.0.0/0 → DROPPED"))
        #expect(r.stdout.contains("flow log at eni-0877dd6f5cceb3209: egress REJECT"))
        #expect(r.stdout.contains("logged ACCEPT, the network: ACCEPT"))
        let text = "2 123456789012 eni-0c83aca23d1a66d8b 10.0.1.10 203.0.113.22 34655 22 6 5 300 1795683601 1795683616 REJECT OK"
        let x = try vpcsim(["replay", "--explain", text, "--network", "scenarios/lambda-sftp-nacl.yaml"])
        #expect(x.status == 1)
        #expect(x.stdout.contains("DISAGREES: REJECT → ACCEPT"))
    }

    @Test("against a Terraform plan: the network the plan leaves, the Lambda's logged address taken as its ENI's")
    func plan() throws {
        let (_, logs) = try Self.storyLogs()
        let fix = try vpcsim(["replay", logs, "--network", "docs/ci/lambda-sftp-nacl-fix.plan.json"])
        #expect(fix.status == 1, "\(fix.stdout)\(fix.stderr)")
        #expect(fix.stdout.contains("address: 10.0.1.10, logged at eni-0c83aca23d1a66d8b, taken as its address"))
        #expect(fix.stdout.contains("REJECT → ACCEPT  tcp 10.0.0.5:55611 → 203.0.113.22:22"))
        let before = try vpcsim(["replay", logs, "--network", "docs/ci/lambda-sftp-nacl-before.plan.json"])
        #expect(before.status == 0, "\(before.stdout)\(before.stderr)")
        #expect(before.stdout.hasSuffix("2 connections replayed (9 records): 9 as logged, 0 turned around\n"))
    }
}
