import Foundation
import TestSupport
import Testing

/// `vpcsim run`, `trace`, `validate` and `import aws` on routes to components the model does not have.
@Suite struct NotModeledCLITests {
    /// The shipped scenario with its expectations taken out of its peering flow.
    static func unexpected(_ dir: String) throws -> String {
        var text = try String(contentsOfFile: repositoryRoot + "/scenarios/peering-not-modeled.yaml", encoding: .utf8)
        let expectLine = "    size: 100KB\n    expect: {outcome: not-modeled}\n"
        #expect(text.contains(expectLine))
        text = text.replacingOccurrences(of: expectLine, with: "    size: 100KB\n")
        let path = dir + "/unexpected.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aPeeringRouteEndsNotModeledNamingTheConnectionWithNoFixAndExitsOne() throws {
        let dir = makeTempDirectory("vpcsim-nm")
        let r = try vpcsim(["run", try Self.unexpected(dir), "--out", dir + "/out", "--capture", "none", "--no-flow-logs"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("  ? to-peered-vpc "))
        #expect(r.stdout.contains("NOT-MODELED"))
        #expect(r.stdout.contains("routed to pcx-0123456789abcdef0 (VPC peering): not modeled"))
        #expect(!r.stdout.contains("FIX") && !r.stdout.contains("DROPPED") && !r.stdout.contains("EXPECTATION FAILED"))
        #expect(r.stdout.contains("NOT MODELED: 1 flow"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.json")))
        let report = try #require(json as? [String: Any])
        #expect(report["not_modeled_unexpected"] as? Int == 1)
        let flows = try #require(report["flows"] as? [[String: Any]])
        let peered = try #require(flows.first { $0["name"] as? String == "to-peered-vpc" })
        #expect(peered["outcome"] as? String == "not-modeled")
        #expect((peered["message"] as? String)?.contains("pcx-0123456789abcdef0") == true)
        #expect(peered["drop"] is NSNull)
        #expect(peered["fix"] == nil)
        let hops = try #require(peered["hops"] as? [[String: Any]])
        #expect(hops.last?["action"] as? String == "not-modeled")
    }

    @Test func theShippedScenarioExpectsItAndExitsZero() throws {
        let (r, report, _) = try runScenario("peering-not-modeled")
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        #expect(report.expectations_checked == 4 && report.expectations_failed == 0)
        #expect(report.flows.map(\.outcome) == ["not-modeled", "not-modeled", "not-modeled", "ok"])
        #expect(report.flows.allSatisfy { $0.fix == nil && $0.drop == nil })
        #expect(r.stdout.contains("routed to tgw-0fedcba9876543210 (transit gateway): not modeled"))
        #expect(r.stdout.contains("routed to vpce-0abc1234def567890 (VPC endpoint): not modeled"))
    }

    @Test func traceToAPeeredAddressEndsNotModeledAndAcceptsItsExpectation() throws {
        let dir = makeTempDirectory("vpcsim-nm")
        let args = ["trace", "scenarios/peering-not-modeled.yaml", "--from", "uploader", "--to", "10.1.2.3:22",
                    "--out", dir + "/out"]
        let r = try vpcsim(args)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("routed to pcx-0123456789abcdef0 (VPC peering): not modeled"))
        #expect(!r.stdout.contains("FIX"))
        let expected = try vpcsim(args + ["--expect", "not-modeled"])
        #expect(expected.status == 0, "\(expected.stderr)\n\(expected.stdout)")
    }

    @Test func anIPv6RouteToANATGatewayOutsideNAT64IsOneLineAndExitsTwo() throws {
        let dir = makeTempDirectory("vpcsim-nm")
        var text = try String(contentsOfFile: repositoryRoot + "/scenarios/peering-not-modeled.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "      - {destination: 0.0.0.0/0, target: public-nat}\n",
                                         with: "      - {destination: 0.0.0.0/0, target: public-nat}\n      - destination: ::/0\n        target: public-nat\n")
        try text.write(toFile: dir + "/v6.yaml", atomically: true, encoding: .utf8)
        let r = try vpcsim(["validate", dir + "/v6.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("v6.yaml:43:17: route to ::/0 cannot target NAT gateway nat-0e1f2a3b4c5d6e7f8: a NAT "
                                  + "gateway takes IPv6 routes only within the NAT64 prefix 64:ff9b::/96"), "\(r.stderr)")
    }
}
