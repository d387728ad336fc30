import Foundation
import TestSupport
import Testing

/// Bad IPv6 input and flows that would need IPv6 packets, through the command line: one line, exit status 2.
@Suite struct DualStackCLITests {
    func scenario(_ edit: (String) -> String) throws -> String {
        let dir = makeTempDirectory("vpcsim-ds")
        let text = try String(contentsOfFile: repositoryRoot + "/scenarios/lambda-sftp-nacl.yaml", encoding: .utf8)
        let edited = edit(text)
        #expect(edited != text)
        try edited.write(toFile: dir + "/ds.yaml", atomically: true, encoding: .utf8)
        return dir + "/ds.yaml"
    }

    @Test func anIPv6BlockWithPrefix129IsOneLineAndExitsTwo() throws {
        let path = try scenario {
            $0.replacingOccurrences(of: "    cidr_blocks: [10.0.0.0/16]\n",
                                    with: "    cidr_blocks: [10.0.0.0/16]\n    ipv6_cidr: 2001:db8::/129\n")
        }
        let r = try vpcsim(["validate", path])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("ds.yaml:34:16: invalid IPv6 CIDR '2001:db8::/129': '2001:db8::/129' has an invalid "
                                  + "prefix length (0-128)"), "\(r.stderr)")
    }

    @Test func aTraceOverIPv6FromASourceWithoutIPv6IsRefusedAndExitsTwo() throws {
        let path = try scenario {
            $0.replacingOccurrences(of: "    ip: 203.0.113.22\n", with: "    ip: 203.0.113.22\n    ipv6: 2001:db8::22\n")
        }
        let v = try vpcsim(["validate", path])
        #expect(v.status == 0, "\(v.stderr)")
        #expect(v.stdout.hasSuffix("IPv6:\n  host sftp.example.com IPv6 2001:db8::22\n"),
                "\(v.stdout)")
        // An IPv4-only scenario's summary is as before: one line.
        let plain = try vpcsim(["validate", repositoryRoot + "/scenarios/lambda-sftp-nacl.yaml"])
        #expect(plain.stdout.split(separator: "\n").count == 1 && !plain.stdout.contains("IPv6"))
        let dir = makeTempDirectory("vpcsim-ds")
        let r = try vpcsim(["trace", path, "--from", "uploader", "--to", "[2001:db8::22]:22", "--out", dir + "/out"])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1)
        // The Lambda function of lambda-sftp-nacl has no IPv6 address (no ipv6_allowed_for_dual_stack).
        #expect(r.stderr.contains("--to 2001:db8::22 is reached over IPv6, but the source's ENI eni-0c83aca23d1a66d8b has "
                                  + "no IPv6 address"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }

    @Test func traceAddressFamilyPicksTheFamilyOrRefusesInOneLine() throws {
        let path = try scenario {
            $0.replacingOccurrences(of: "    ip: 203.0.113.22\n", with: "    ip: 203.0.113.22\n    ipv6: 2001:db8::22\n")
        }
        let dir = makeTempDirectory("vpcsim-ds")
        for (family, message) in [("ipv5", "--address-family ipv5: expected ipv4 or ipv6"),
                                  ("happy_eyeballs", "--address-family happy_eyeballs: expected ipv4 or ipv6"),
                                  ("ipv4", "--address-family ipv4, but --to 2001:db8::22 is an IPv6 address")] {
            let r = try vpcsim(["trace", path, "--from", "uploader", "--to", "[2001:db8::22]:22", "--address-family", family,
                                "--out", dir + "/out"])
            #expect(r.status == 2, "\(family): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(message), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
        }
        // IPv4 to the dual-stack host, as without the option.
        let r = try vpcsim(["trace", path, "--from", "uploader", "--to", "sftp.example.com:22", "--address-family", "ipv4",
                            "--out", dir + "/v4"])
        #expect(r.status != 2, "\(r.stderr)")
        #expect(r.stdout.contains("203.0.113.22") && !r.stdout.contains("2001:db8::22"), "\(r.stdout)")
    }
}
