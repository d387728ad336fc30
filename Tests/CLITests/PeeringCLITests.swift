import Foundation
import TestSupport
import Testing

/// `vpcsim run` and `trace` on scenarios/peering-missing-route.yaml: a peering routed on one side only.
@Suite struct PeeringCLITests {
    static let pcx = "pcx-0a1b2c3d4e5f60718"

    @Test func theStoryHoldsItsExpectationsAndTheFixIsOnThePeersSide() throws {
        let (r, report, out) = try runScenario("peering-missing-route")
        #expect(r.status == 0, "\(r.stderr)\n\(r.stdout)")
        #expect(report.expectations_checked == 3 && report.expectations_failed == 0)
        #expect(report.flows.map(\.outcome) == ["timeout", "timeout", "ok"])
        let sftp = try #require(report.flow("sftp-upload"))
        #expect(sftp.drop?.component == "rtb-0a9b8c7d6e5f40312" && sftp.drop?.rule == "no route matches 10.0.1.10")
        let fix = try #require(sftp.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.component) == ["rtb-0a9b8c7d6e5f40312 (files-rt)"])
        #expect(fix.changes.map(\.change) == ["add route 10.0.0.0/16 → \(Self.pcx)"])
        #expect(r.stdout.contains("rtb-0a9b8c7d6e5f40312 (files-rt) add route 10.0.0.0/16 → \(Self.pcx)"))
        #expect(r.stdout.contains("\(Self.pcx) (app-files) peering: requester vpc-0a1b2c3d4e5f60718 (app) ↔ accepter "
            + "vpc-0b2c3d4e5f6071829 (files)"))
        let partner = try #require(report.flow("partner-via-files"))
        #expect(partner.drop?.kind == "peering" && partner.drop?.component == Self.pcx)
        #expect(r.stdout.contains("no transitive or edge-to-edge routing"))
        #expect(r.stdout.contains("peer the VPCs that talk directly"))
        // The server's capture: every SYN arrives across the peering from the function's own address; its
        // SYN-ACKs leave and never reach the function.
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let server = out + "/" + (try #require(files.first { $0.contains("instance-sftp-server") && $0.hasSuffix(".pcap") }))
        let syns = try TShark.fields(server, ["ip.src"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0")
        #expect(syns.filter { !$0.isEmpty } == Array(repeating: "10.0.1.10", count: 5))
        let lambda = out + "/" + (try #require(files.first { $0.contains("lambda-uploader") && $0.hasSuffix(".pcap") }))
        let synAcks = try TShark.fields(lambda, ["ip.src"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 1 && ip.src == 10.1.1.20")
        #expect(synAcks.filter { !$0.isEmpty }.isEmpty)
    }

    @Test func traceShowsBothSidesAndTheFix() throws {
        let dir = makeTempDirectory("vpcsim-pcx")
        let r = try vpcsim(["trace", "scenarios/peering-missing-route.yaml", "--from", "uploader", "--to", "sftp-server:22",
                            "--out", dir + "/out"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("rtb-0123456789abcdef0 (app-private-rt) route: 10.1.0.0/16 → \(Self.pcx)"))
        #expect(r.stdout.contains("rtb-0a9b8c7d6e5f40312 (files-rt) route: no route matches 10.0.1.10"))
        #expect(r.stdout.contains("add route 10.0.0.0/16 → \(Self.pcx)"))
    }
}
