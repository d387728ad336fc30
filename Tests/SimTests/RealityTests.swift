import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// The shipped reality scenarios against the real captures they model (captures/reference/linux-netns):
/// every real capture point is compared with its simulated counterpart by `vpcsim compare`'s library, with its
/// default tolerance (5% or 50 ms). These fail when the model drifts from real Linux, OpenSSH and curl.
@Suite(.serialized) struct RealityTests {
    /// Real interface → the simulated capture point that sees the same packets.
    static let points: [(real: String, simulated: String)] = [
        ("lambda-eth0", "01-lambda"), ("natgw-priv0", "02-nat"), ("natgw-pub0", "02-nat"), ("igw-vpc0", "02-nat"),
        ("igw-inet0", "03-igw"), ("server-eth0", "04-host"),
    ]

    func simulate(_ scenario: String) throws -> String {
        let out = makeTempDirectory("vpcsim-reality")
        let o = try Runner.run(path: repositoryRoot + "/scenarios/\(scenario).yaml", options: .init(outDir: out))
        #expect(o.exitCode == 0, "the scenario's own expectations")
        return out
    }

    func simulatedFile(_ dir: String, _ prefix: String) throws -> String {
        let f = try FileManager.default.contentsOfDirectory(atPath: dir).sorted().first { $0.hasPrefix(prefix) && $0.hasSuffix(".pcap") }
        return dir + "/" + (try #require(f))
    }

    @Test func timeoutSituationAgreesPacketForPacketAtEveryPoint() throws {
        let dir = try simulate("reality-nacl-out-22-blocked")
        for (real, sim) in Self.points {
            let c = try CaptureComparison.compare(
                pathA: Fixtures.reference("linux-netns/nacl-out-22-blocked/\(real).pcap"),
                pathB: try simulatedFile(dir, sim))
            #expect(c.agrees, "\(real): \(c.pairs.flatMap(\.summary))")
            #expect(c.unpairedA.isEmpty, "\(real): every real conversation has a simulated twin")
            // HTTP (12 packets) everywhere; the 5 SYNs to port 22 everywhere but beyond the NACL.
            let counts = c.pairs.map { $0.a.packets.count }.sorted()
            #expect(counts == (real.hasPrefix("igw-inet0") || real.hasPrefix("server") ? [12] : [5, 12]), "\(real)")
        }
    }

    @Test func successfulSFTPSessionAndHTTPAgreePacketForPacket() throws {
        let dir = try simulate("reality-ok")
        for (real, sim) in Self.points {
            let c = try CaptureComparison.compare(pathA: Fixtures.reference("linux-netns/ok/\(real).pcap"),
                                                  pathB: try simulatedFile(dir, sim))
            let ssh = try #require(c.pairs.first { $0.a.serverPort == 22 })
            #expect(ssh.agrees, "\(real) sftp: \(ssh.summary)")
            #expect(ssh.a.packets.count == 59)
            let http = try #require(c.pairs.first { $0.a.serverPort == 443 })
            #expect(http.a.packets.count == 12 && http.b.packets.count == 12)
            // Both ends close within a millisecond of each other; in this run the client's FIN came first, and the
            // scenario says so (http_close: client-first): no race to excuse either.
            #expect(http.agrees, "\(real) http: \(http.summary)")
            #expect(http.closeRace == nil, "\(real) http: \(http.summary)")
        }
    }
}
