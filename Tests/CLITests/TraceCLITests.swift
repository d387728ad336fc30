import Foundation
import TestSupport
import Testing

@Suite struct TraceCLITests {
    @Test func traceToAnUnknownPublicAddressReachesALinuxHostThere() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to", "8.8.8.8:443",
                            "--app", "https", "--out", out, "--expect", "ok"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("✔ trace"))
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(files.contains { $0.hasSuffix("host-8.8.8.8.pcap") })
        #expect(files.contains("report.json"))
    }

    @Test func traceFromAnIPFindsTheLambdaAndFailsItsExpectationWithExitOne() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl.yaml", "--from", "10.0.1.10", "--to", "sftp.example.com:22",
                            "--app", "sftp", "--out", out, "--expect", "ok"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("TIMEOUT"))
        #expect(r.stdout.contains("outbound: * DENY all 0.0.0.0/0"))
    }

    @Test func silentUnknownHostTimesOutAndClosedIsRefused() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let silent = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                                 "192.0.2.44:22", "--unknown-host", "silent", "--out", out, "--expect", "timeout"])
        #expect(silent.status == 0, "\(silent.stdout)")
        let closed = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                                 "192.0.2.44:22", "--unknown-host", "closed", "--out", out, "--expect", "refused"])
        #expect(closed.status == 0, "\(closed.stdout)")
    }

    /// The ad-hoc flow runs alone: the scenario's generators (60,000 flows here) do not run with it.
    @Test func traceRunsItsFlowAloneWithoutTheScenariosGenerators() throws {
        let out = makeTempDirectory("vpcsim-trace")
        let r = try vpcsim(["trace", "scenarios/nat-port-exhaustion.yaml", "--from", "uploader", "--to", "sftp.example.com:22",
                            "--app", "tcp", "--out", out, "--capture", "none", "--expect", "ok"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("✔ trace"))
        #expect(!r.stdout.contains("invocations"))
        #expect(r.stdout.contains("ConnectionAttemptCount 1,"))
    }

    @Test func unknownSourceIsInvalidInputWithOneLine() throws {
        let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl.yaml", "--from", "nobody", "--to", "sftp.example.com:22"])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("'nobody'"))
    }

    /// A negative `--size` crashed in the conversation's builder (a precondition), and a huge one in the
    /// allocation of its bytes; both are invalid input, refused before anything is written.
    @Test func sizeOutOfRangeIsInvalidInputWithOneLine() throws {
        for size in ["-5", "1073741825"] {
            let out = makeTempDirectory("vpcsim-trace")
            let r = try vpcsim(["trace", "scenarios/lambda-sftp-nacl-fixed.yaml", "--from", "uploader", "--to",
                                "sftp.example.com:22", "--app", "sftp", "--size=\(size)", "--out", out])
            #expect(r.status == 2, "\(size): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
            #expect(r.stderr.contains("--size \(size): expected 0 to 1 GiB (1073741824 bytes)"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
        }
    }
}
