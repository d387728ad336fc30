import Foundation
import Testing
import TestSupport
@testable import Sim

/// Datagram flows (`udp`, `ping`): their settings as the loader reads them, and runs of the shipped stories.
@Suite("Datagram flows: settings and runs")
struct DatagramFlowTests {
    static let ping = repositoryRoot + "/scenarios/ping-large-dropped-at-nat.yaml"
    static let udp = repositoryRoot + "/scenarios/udp-fragments-through-nat.yaml"

    /// The shipped file with `old` replaced by `new`, loaded; the error's text when it fails to load.
    static func loadError(_ path: String, _ old: String, _ new: String) throws -> String? {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(old))
        do {
            _ = try ScenarioLoader.load(yaml: text.replacingOccurrences(of: old, with: new), file: "t.yaml")
            return nil
        } catch let e as ScenarioError {
            #expect(!e.description.contains("\n"))
            return e.description
        }
    }

    @Test func settingsAreReadWithDefaultsAndLimits() throws {
        let s = try ScenarioLoader.load(path: Self.ping)
        #expect(s.flows[0].app == .ping && s.flows[0].size == 56 && s.flows[0].datagramCount == 3)
        #expect(s.flows[0].destination.port == 0 && s.flows[0].datagramReplyTimeout == 10_000_000_000)
        #expect(s.flows[0].pmtuDiscovery == .want && s.flows[1].size == 4000)
        let u = try ScenarioLoader.load(path: Self.udp)
        #expect(u.flows[0].app == .udp && u.flows[0].size == 4000 && u.flows[0].datagramReplyTimeout == 5_000_000_000)
        let cases: [(String, String, String, String)] = [
            (Self.ping, "    count: 3\n    expect: {outcome: ok", "    count: 0\n    expect: {outcome: ok",
             "invalid count '0' (expected 1-10000, e.g. 4)"),
            (Self.ping, "    size: 4000 ", "    size: 70000 ", "size 70000 is over 65507, the most data an IPv4 datagram carries"),
            (Self.ping, "    count: 3\n    expect: {outcome: ok", "    reply_size: 10\n    expect: {outcome: ok",
             "reply_size is for app udp (a ping's reply echoes its data)"),
            (Self.udp, "    count: 3 ", "    pmtudisc: always ", "invalid pmtudisc 'always' (expected want, do or dont, as ping -M)"),
            (Self.udp, "    count: 3 ", "    reply_timeout: 0s ", "invalid reply_timeout '0s' (expected a duration such as 5s)"),
            (Self.udp, "    app: udp\n", "    app: tcp\n", "count is for app udp or ping, not tcp"),
            (Self.udp, "    to: echo.example.com:5000", "    to: echo.example.com", "needs a port (host:port)"),
        ]
        for (path, old, new, message) in cases {
            let e = try Self.loadError(path, old, new)
            #expect(e?.contains(message) == true, "\(new): \(e ?? "loaded")")
            #expect(e?.hasPrefix("t.yaml:") == true)
        }
    }

    /// A ping with DF demanded (`pmtudisc: do`) and too big is not sent; with `dont` the small ping has no DF.
    @Test func pmtudiscDoRefusesAndDontClearsDF() throws {
        var s = try ScenarioLoader.load(path: Self.ping)
        s.flows[1].pmtuDiscovery = .do
        s.flows[0].pmtuDiscovery = .dont
        let sim = Simulation(scenario: s)
        var df: [Bool] = []
        final class Tap: NetworkObserver {
            var df: [Bool] = []
            func seen(point: Int, time: Int64, packet: SimPacket, outgoing: Bool, comment: UnsafeRawBufferPointer) {
                if point == 0, outgoing { df.append(packet.ip.dontFragment) }
            }
            func dropped(time: Int64, packet: SimPacket, step: Step) {}
            func traced(packet: SimPacket, steps: [Step]) {}
        }
        let tap = Tap()
        sim.observer = tap
        let r = sim.run()
        df = tap.df
        #expect(r[0].outcome == .ok && df == [false, false, false])
        #expect(r[1].outcome == .unreachable && r[1].message == "ping: local error: message too long, mtu=1500")
        // The default (want): DF on the small pings.
        let again = Simulation(scenario: try ScenarioLoader.load(path: Self.ping))
        let tap2 = Tap()
        again.observer = tap2
        _ = again.run()
        #expect(tap2.df.prefix(3) == [true, true, true] && tap2.df.dropFirst(3).allSatisfy { !$0 })
    }

    /// A NAT gateway that finds no ICMP echo identifier would drop the reply: the small ping's reply reaches the
    /// Lambda because the gateway keyed the request by its identifier and translated it back; the Lambda's group
    /// (no ingress rule) admits it as the tracked echo's reply.
    @Test func echoReplyIsTranslatedBackAndAdmittedAsTracked() throws {
        let s = try ScenarioLoader.load(path: Self.ping)
        let sim = Simulation(scenario: s)
        let recorder = RunRecorder(sim: sim, captures: nil, ladderLimit: 0)
        sim.observer = recorder
        let r = sim.run()
        #expect(r[0].outcome == .ok && r[0].drops.isEmpty)
        #expect(r[0].replyPath.contains { $0.kind == .natGateway && $0.action == .translated })
        #expect(r[0].replyPath.contains { $0.rule == "tracked connection (reply or continuation)" })
    }
}
