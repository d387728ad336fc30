import Foundation
import Testing
import TestSupport
@testable import Sim

/// sshd's LoginGraceTime (sshd_config(5), 120 s): a connection still unauthenticated that long after sshd accepted
/// it is closed by the server, whose socket the kernel then keeps as an orphan (tcp_orphan_retries).
@Suite struct LoginGraceTimeTests {
    /// scenarios/sftp-pmtud-blackhole.yaml with an OpenSSH client, which has no timeout of its own: it waits for
    /// the server's key exchange reply, which the path MTU black hole never lets through.
    static func story(_ extra: String = "") throws -> String {
        let text = try String(contentsOfFile: repositoryRoot + "/scenarios/sftp-pmtud-blackhole.yaml", encoding: .utf8)
        let t = ScenarioText.replacing(text, "    client: ssh2                       # ready timeout 20 s\n",
                                       "    client: openssh\n" + extra)
        return String(t[..<t.range(of: "    expect:\n")!.lowerBound])
    }

    /// The times of the server's data segments (its key exchange reply, retransmitted) at its ENI, and the flow.
    static func run(_ text: String) throws -> (times: [Double], flow: RunReport.Flow) {
        let dir = makeTempDirectory("vpcsim-grace")
        let o = try ScenarioText.run(text, file: "grace.yaml", out: dir)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        let eni = try #require(files.first { $0.hasPrefix("01-instance-sftp-server") })
        let times = try TShark.fields(dir + "/" + eni, ["frame.time_relative"],
                                      filter: "ip.src == 10.0.0.20 && tcp.len > 0").compactMap(Double.init)
        return (times, o.report.flows[0])
    }

    @Test func theServerGivesUpAtTheGraceTimeAndItsOrphanedSocketStopsResending() throws {
        let (times, flow) = try Self.run(try Self.story())
        // Retransmissions with backoff up to 118.8 s; at 120 s sshd closes; the FIN waits behind the reply that
        // never gets through, and the orphaned socket, its RTO at the 120 s maximum, dies at the next timeout
        // (237.6 s) without sending anything: the client, which would wait for ever, is left with nothing.
        let last = try #require(times.last)
        #expect(last > 118 && last < 120, "\(times)")
        #expect(flow.outcome == "timeout" && abs(flow.elapsed_s - 237.568) < 0.01, "\(flow.elapsed_s)")
        #expect(flow.message == "no reply and no timer left (the client would wait for ever)")
        // With no limit (0), the server resends until tcp_retries2 gives up, past 800 s.
        let (unlimited, _) = try Self.run(try Self.story("    login_grace_time: 0\n"))
        #expect((unlimited.last ?? 0) > 800, "\(unlimited)")
    }

    @Test func badValuesAreOneLineErrorsAtTheirNode() throws {
        let text = try Self.story("    login_grace_time: soon\n")
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("login_grace_time") }! + 1
        #expect(throws: (any Error).self) { try ScenarioLoader.load(yaml: text, file: "t.yaml") }
        do {
            _ = try ScenarioLoader.load(yaml: text, file: "t.yaml")
        } catch {
            #expect("\(error)" == "t.yaml:\(line):23: invalid login_grace_time 'soon' (expected a duration such as 120s)")
        }
        let https = ScenarioText.replacing(try Self.story("    login_grace_time: 60s\n"), "app: sftp-ls ", "app: https   ")
        do {
            _ = try ScenarioLoader.load(yaml: https, file: "t.yaml")
            Issue.record("login_grace_time on an https flow was accepted")
        } catch {
            #expect("\(error)" == "t.yaml:\(line):5: flow 'sftp-session': login_grace_time is for sshd (app sftp or sftp-ls), not https")
        }
    }
}
