import Foundation
import TestSupport
import Testing

/// `vpcsim compare-logs` on the Transit Gateway Flow Logs a run writes (tgw-flow-logs.txt).
@Suite struct TGWCompareLogsCLITests {
    @Test func aRunsTransitGatewayLogsAgreeWithThemselvesAndALostCounterIsAMismatch() throws {
        let out = makeTempDirectory("vpcsim-tgwcompare")
        #expect(try vpcsim(["run", "scenarios/tgw-central-egress.yaml", "--out", out, "--quiet"]).status == 0)
        let sim = out + "/tgw-flow-logs.txt"
        let same = try vpcsim(["compare-logs", sim, sim, "--quiet"])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.contains("matched on: tgw-attachment-id, flow-direction, protocol, srcaddr, dstaddr, srcport, dstport"))
        #expect(same.stdout.contains("AGREE: 6 flows match"))
        // The real gateway lost spoke A's SYNs to a blackhole route.
        let text = try String(contentsOfFile: sim, encoding: .utf8)
        let lines = text.split(separator: "\n").map { line -> String in
            guard line.contains(" tgw-attach-0a00000000000001 "), line.hasPrefix("6 "), line.hasSuffix(" ingress - -") else { return String(line) }
            return line.replacingOccurrences(of: " OK IPv4 0 0 0 0 ", with: " OK IPv4 0 5 0 0 ")
        }
        let real = out + "/real-tgw.log"
        try (lines.joined(separator: "\n") + "\n").write(toFile: real, atomically: true, encoding: .utf8)
        let r = try vpcsim(["compare-logs", sim, real, "--quiet"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("tgw-attach-0a00000000000001 ingress tcp 10.1.1.10:34655 → 203.0.113.22:22: simulated FORWARDED, real LOST-BLACKHOLE"))
    }
}
