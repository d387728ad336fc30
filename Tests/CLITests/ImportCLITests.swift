import Foundation
import TestSupport
import Testing

@Suite struct ImportCLITests {
    @Test func importAWSWritesAScenarioThatValidatesAndExitsZero() throws {
        let out = makeTempDirectory("vpcsim-import") + "/vpc.yaml"
        let r = try vpcsim(["import", "aws", "captures/reference/public/aws-json/batfish_test-nat-gateway", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("3 subnets"))
        // The group's ICMP rule (echo request: FromPort 8, ToPort 0) keeps its type and code, without a warning.
        #expect(!r.stderr.contains("warning: sg-0253af84ae6485905"))
        #expect(try String(contentsOfFile: out, encoding: .utf8)
            .contains("{protocol: icmp, icmp_type: 8, icmp_code: 0, cidr: 0.0.0.0/0, description: \"ICMP Access\"}"))
        let v = try vpcsim(["validate", out])
        #expect(v.status == 0, "\(v.stderr)")
        let dir = (out as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["vpc.yaml"])  // no temporary left behind
    }

    /// The synthetic dump's peering and transit-gateway routes are written with their targets, and the warnings
    /// say so; a flow traced there ends not-modeled.
    @Test func importAWSWritesPeeringAndTransitRoutesAsNotModeledTargets() throws {
        let dir = makeTempDirectory("vpcsim-nm")
        let out = dir + "/vpc.yaml"
        let r = try vpcsim(["import", "aws", "Tests/Fixtures/aws-json/synthetic/full", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let yaml = try String(contentsOfFile: out, encoding: .utf8)
        #expect(yaml.contains("target: \"pcx-0a1b2c3d4e5f60718\"") || yaml.contains("target: pcx-0a1b2c3d4e5f60718"))
        #expect(yaml.contains("tgw-0123456789abcdef0"))
        #expect(r.stderr.contains("tgw-0123456789abcdef0 (transit gateway) is not modeled; imported as a not-modeled target"))
        #expect(!r.stderr.contains("tgw-0123456789abcdef0 (transit gateway) is not modelled; imported as blackhole"))
        let t = try vpcsim(["trace", out, "--from", "uploader", "--to", "10.60.1.2:22", "--out", dir + "/t"])
        #expect(t.status == 1, "\(t.stderr)")
        #expect(t.stdout.contains("routed to pcx-0a1b2c3d4e5f60718 (VPC peering): not modeled"))
        #expect(!t.stdout.contains("FIX"))
    }

    @Test func importWithoutOutPrintsTheScenario() throws {
        let r = try vpcsim(["import", "aws", "Tests/Fixtures/aws-json/synthetic/full", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("lambdas:\n  - {name: \"uploader\""))
        #expect(!r.stderr.contains("warning:"))
    }

    @Test func malformedFileExitsTwoWithOneLineNamingFileAndPosition() throws {
        let out = makeTempDirectory("vpcsim-import") + "/x.yaml"
        let r = try vpcsim(["import", "aws", "Tests/Fixtures/aws-json/broken/malformed", "--out", out])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("broken/malformed/describe-subnets.json:5:13: malformed JSON"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aBadValueExitsTwoWithOneLineNamingTheFileAndItsJSONPath() throws {
        let dir = makeTempDirectory("vpcsim-import")
        try #"{"Vpcs": [{"VpcId": "vpc-0a1b2c3d", "CidrBlock": "10.0.0.0/16"}]}"#
            .write(toFile: dir + "/describe-vpcs.json", atomically: true, encoding: .utf8)
        try #"{"SecurityGroups": [{"GroupId": "sg-0a1b2c3d", "VpcId": "vpc-0a1b2c3d", "IpPermissions": [{"IpProtocol": "\u0000\n"}]}]}"#
            .write(toFile: dir + "/describe-security-groups.json", atomically: true, encoding: .utf8)
        let out = dir + "/x.yaml"
        let r = try vpcsim(["import", "aws", dir, "--out", out])
        #expect(r.status == 2)
        #expect(r.stderr == "vpcsim: error: \(dir)/describe-security-groups.json: SecurityGroups[0].IpPermissions[0].IpProtocol: "
            + "'\\u0000\\n' is not a protocol (expected tcp, udp, icmp, -1 or a number)\n")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func missingDirectoryExitsTwo() throws {
        let r = try vpcsim(["import", "aws", "no/such/dump"])
        #expect(r.status == 2)
        #expect(r.stderr == "vpcsim: error: no/such/dump:0:0: cannot read the dump: No such file or directory\n")
    }
}
