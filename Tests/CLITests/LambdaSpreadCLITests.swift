import Foundation
import TestSupport
import Testing

/// The shipped two-AZ scenario through the command line: `run` meets its expectations and writes the split,
/// `trace` pins a subnet or an ENI, a bad pin is a one-line error with exit 2.
@Suite struct LambdaSpreadCLITests {
    static let eniA = "eni-0e1dc52368468556a", eniB = "eni-05c206945def24d1d"

    @Test func twoAZScenarioMeetsItsExpectationsAndReportsTheSplit() throws {
        let out = makeTempDirectory("vpcsim-two-az")
        let r = try vpcsim(["run", "scenarios/lambda-two-az-one-broken.yaml", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        let report = try #require(json as? [String: Any])
        #expect(report["expectations_failed"] as? Int == 0)
        #expect(report["expectations_checked"] as? Int == 3)
        let split = try #require((report["lambda_subnets"] as? [[String: Any]])?.first)
        let subnets = try #require(split["subnets"] as? [[String: Any]])
        #expect(subnets.map { $0["eni"] as? String } == [Self.eniA, Self.eniB])
        #expect(subnets.map { $0["availability_zone"] as? String } == ["us-east-1a", "us-east-1b"])
        let ok = subnets.map { $0["ok"] as? Int ?? -1 }, failed = subnets.map { $0["failed"] as? Int ?? -1 }
        #expect(ok[1] == 0 && failed[0] == 0 && ok[0] + failed[1] == 62)
        #expect(ok[0] >= 19 && ok[0] <= 43, "\(ok)")
        let died = try #require((subnets[1]["died_at"] as? [[String: Any]])?.first)
        #expect(died["component"] as? String == "acl-0b1c2d3e4f5a6b7cb" && died["direction"] as? String == "outbound")
        let nats = try #require(split["nat_gateways"] as? [[String: Any]])
        #expect(nats.map { $0["name"] as? String } == ["nat-a", "nat-b"])
        let flows = try #require(report["flows"] as? [[String: Any]])
        #expect(flows.map { $0["source_eni"] as? String } == [Self.eniA, Self.eniB])
        // Both Hyperplane ENIs and both NAT gateways carried packets: each has its capture.
        let pcaps = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".pcap") }
        for id in [Self.eniA, Self.eniB, "nat-nat-a-", "nat-nat-b-"] {
            #expect(pcaps.contains { $0.contains(id) }, "\(id): \(pcaps)")
        }
        // Every capture dissects cleanly (valid checksums, no malformed packets, no expert errors).
        for p in pcaps.sorted() {
            #expect(try TShark.problems(in: out + "/" + p).problems == [], "\(p)")
            #expect(try TShark.expertErrors(in: out + "/" + p) == [], "\(p)")
        }
        let text = try String(contentsOfFile: out + "/report.txt", encoding: .utf8)
        #expect(text.contains("LAMBDA SUBNETS"))
    }

    @Test(arguments: [("uploader@private-a", "ok"), ("uploader@private-b", "timeout"), (eniA, "ok"), (eniB, "timeout")])
    func traceFromAPinnedSubnetOrENI(from: String, outcome: String) throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/lambda-two-az-one-broken.yaml", "--from", from, "--to",
                            "sftp.example.com:22", "--out", out, "--capture", "none", "--expect", outcome])
        #expect(r.status == 0, "\(from): \(r.stderr)\n\(r.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        let flow = try #require(((json as? [String: Any])?["flows"] as? [[String: Any]])?.first)
        #expect(flow["source_eni"] as? String == (outcome == "ok" ? Self.eniA : Self.eniB))
    }

    @Test func aBadPinIsAOneLineErrorWithExitTwo() throws {
        let trace = try vpcsim(["trace", "scenarios/lambda-two-az-one-broken.yaml", "--from", "uploader@private-c",
                                "--to", "sftp.example.com:22"])
        #expect(trace.status == 2)
        #expect(trace.stderr == "vpcsim: error: --from 'uploader@private-c': unknown subnet 'private-c' in "
                + "'uploader@private-c' (did you mean 'private-a'?)\n")
        let dir = makeTempDirectory("vpcsim-pin")
        let yaml = try String(contentsOfFile: repositoryRoot + "/scenarios/lambda-two-az-one-broken.yaml", encoding: .utf8)
            .replacingOccurrences(of: "\n    from: uploader@private-b\n", with: "\n    from: uploader@public-b\n")
        try yaml.write(toFile: dir + "/x.yaml", atomically: true, encoding: .utf8)
        let run = try vpcsim(["run", dir + "/x.yaml", "--out", dir + "/out"])
        #expect(run.status == 2)
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(run.stderr.contains("/x.yaml:155:11: flow 'test-from-b': subnet subnet-0aa11bb22cc33dd4b (public-b) is "
                                    + "not one of uploader's subnets (private-a, private-b)"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/report.json"))
    }
}
