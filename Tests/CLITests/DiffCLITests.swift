import Foundation
import TestSupport
import Testing

/// `vpcsim diff`: the seed story's plan reports the fix as TIMEOUT → ok (exit 0); the same change backwards is a
/// regression (exit 1); bad input exits 2 on one line.
@Suite struct DiffCLITests {
    @Test func thePlanReportsTheFixAsTimeoutToOk() throws {
        let r = try vpcsim(["diff", "--plan", "docs/ci/lambda-sftp-nacl-fix.plan.json", "--flows", "docs/ci/checks.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("  sftp-upload: TIMEOUT → ok\n"))
        #expect(r.stdout.contains("before: dropped at acl-0b1c2d3e4f5a6b7c8 (public-nacl) outbound: * DENY"))
        #expect(r.stdout.contains("acl-0b1c2d3e4f5a6b7c8 (public-nacl) outbound: + #120 ALLOW tcp 22 0.0.0.0/0 (added in this plan)"))
        #expect(r.stdout.contains("UNCHANGED\n  https-api: ok\n"))
        #expect(r.stdout.contains("0 regressions"))
        // docs/ci.md quotes this run.
        let doc = try String(contentsOfFile: repositoryRoot + "/docs/ci.md", encoding: .utf8)
        #expect(doc.contains(r.stdout), "docs/ci.md does not quote what diff --plan prints")
    }

    /// The pair of plans: what each leaves, compared.
    @Test func thePairOfPlansSaysTheSame() throws {
        let r = try vpcsim(["diff", "docs/ci/lambda-sftp-nacl-before.plan.json", "docs/ci/lambda-sftp-nacl-fix.plan.json",
                            "--flows", "docs/ci/checks.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("  sftp-upload: TIMEOUT → ok\n"))
        let back = try vpcsim(["diff", "docs/ci/lambda-sftp-nacl-fix.plan.json", "docs/ci/lambda-sftp-nacl-before.plan.json",
                               "--flows", "docs/ci/checks.yaml"])
        #expect(back.status == 1)
        #expect(back.stdout.contains("sftp-upload: ok → TIMEOUT  REGRESSION"))
    }

    @Test func theChangeBackwardsIsARegressionExitOne() throws {
        let r = try vpcsim(["diff", "scenarios/lambda-sftp-nacl-fixed.yaml", "scenarios/lambda-sftp-nacl.yaml"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("sftp-upload: ok → TIMEOUT  REGRESSION"))
        #expect(r.stdout.contains("− #120 ALLOW tcp 22 0.0.0.0/0 (removed)"))
        let m = try vpcsim(["diff", "scenarios/lambda-sftp-nacl-fixed.yaml", "scenarios/lambda-sftp-nacl.yaml", "--format", "markdown"])
        #expect(m.status == 1)
        #expect(m.stdout.contains("| sftp-upload | ok | TIMEOUT ❌ | dropped at acl-0b1c2d3e4f5a6b7c8 (public-nacl) outbound"))
        let j = try vpcsim(["diff", "scenarios/lambda-sftp-nacl-fixed.yaml", "scenarios/lambda-sftp-nacl.yaml", "--json"])
        #expect(j.status == 1)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        #expect(o["regressions"] as? Int == 1)
        let flows = try #require(o["flows"] as? [[String: Any]])
        #expect(flows.map { $0["name"] as? String } == ["https-api", "sftp-upload"])
        #expect(flows[1]["regressed"] as? Bool == true)
    }

    @Test func probesFromEverySourceToEveryPortOfEveryHost() throws {
        let r = try vpcsim(["diff", "--plan", "docs/ci/lambda-sftp-nacl-fix.plan.json", "--flows", "docs/ci/checks.yaml",
                            "--probes"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("CHANGED (2 of 4 flows)"))
        #expect(r.stdout.contains("  probe uploader → sftp.example.com:22: TIMEOUT → ok\n"))
        #expect(r.stdout.contains("  probe uploader → sftp.example.com:443: ok\n"))
    }

    @Test func aNetworkAgainstItselfChangesNothing() throws {
        let r = try vpcsim(["diff", "scenarios/lambda-sftp-nacl.yaml", "scenarios/lambda-sftp-nacl.yaml"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("CHANGED (0 of 2 flows)\n  none\n"))
        #expect(r.stdout.contains("RULE CHANGES\n  none\n"))
    }

    @Test func badInputExitsTwoOnOneLine() throws {
        let a = try vpcsim(["diff", "scenarios/lambda-sftp-nacl.yaml"])
        #expect(a.status == 2)
        let b = try vpcsim(["diff", "--plan", "Tests/Fixtures/terraform/bad/future-format.json", "--flows", "docs/ci/checks.yaml"])
        #expect(b.status == 2)
        #expect(b.stderr == "vpcsim: error: Tests/Fixtures/terraform/bad/future-format.json: format_version: 2.0 is newer "
            + "than this importer reads (0.1 through 1.x); a newer vpcsim may read it\n")
        // A 0.1 plan has no prior_state: nothing to diff against.
        let c = try vpcsim(["diff", "--plan", "Tests/Fixtures/terraform/tfaws-vpc-module-3az-3nat_create_tf0.12_fv0.1.json",
                            "--flows", "docs/ci/checks.yaml"])
        #expect(c.status == 2)
        #expect(c.stderr.contains("prior_state: the plan has no prior_state"))
        #expect(c.stderr.split(separator: "\n").count == 1)
    }
}
