import Foundation
import Testing
import TestSupport
@testable import Sim

/// Generated flows cross internet gateways, and leave NAT gateways for the internet, without events of their own
/// when nothing captures them there (`VPCNetwork.fusesFlowsFrom`): the work is done in the event before, and what
/// must happen at the hop's own time (a NAT departure's metrics and flow-log record) waits for it. Every output
/// must be the same as with the hops' own events.
@Suite struct FusedHopTests {
    /// The story broken (the public NACL drops SFTP outbound, at the NAT gateway's departure), fixed, and with the
    /// public NACL's ephemeral ports closed inbound (replies dropped at the internet gateway: the hop that cannot be
    /// fused), each with SFTP and HTTPS fleets.
    static let scenarios = ["lambda-sftp-nacl", "lambda-sftp-nacl-fixed", "nacl-no-ephemeral-inbound"]

    func fleet(_ name: String, over: Int64 = 400_000_000) throws -> Scenario {
        var s = try ScenarioLoader.load(path: repositoryRoot + "/scenarios/\(name).yaml")
        var sftp = s.flows[0]
        sftp.expect = nil
        sftp.app = .tcp
        sftp.size = 300
        var https = sftp
        https.app = .https
        https.destination.port = 443
        s.generators = [FlowGenerator(name: "fleet-sftp", template: sftp, count: 120, start: 0, over: over),
                        FlowGenerator(name: "fleet-https", template: https, count: 40, start: 0, over: over)]
        return s
    }

    @Test("the captures it keeps, the pcapng and the flow logs are byte-identical with and without fused hops",
          arguments: scenarios)
    func outputsAreTheSame(_ name: String) throws {
        try compareFusedAndNot(try fleet(name), name)
    }

    /// Every flow of both fleets starts at the same nanosecond, so their events tie all along the way, and their
    /// order (the NAT gateway's ports, the order of the flow-log lines) follows the sequence numbers: a fused hop's
    /// next arrival must keep the place it has when the hop has its own event (`VPCNetwork.schedule`), or the
    /// capture selection would change the simulation.
    @Test func flowsStartingTogetherKeepTheirOrder() throws {
        try compareFusedAndNot(try fleet("lambda-sftp-nacl-fixed", over: 0), "together")
    }

    /// A fused NAT departure's counts wait for its own time, and that time can be in the next minute of the NAT
    /// gateway's metrics: every flow's SYN reaches the NAT gateway 10 µs before the first minute ends and leaves it
    /// (its processing time, 20 µs, later) 10 µs into the second. The SYNs count in as minute 0's and out as minute
    /// 1's, as with the departures' own events; and every output is the same either way.
    @Test func departuresAcrossAMinuteCountInTheNextMinute() throws {
        var s = try fleet("lambda-sftp-nacl-fixed")
        s.flows = []  // the story's own flow would count in minute 0 too
        let arrival: Int64 = 60_000_000_000 - 10_000
        for g in s.generators.indices {
            s.generators[g].start = arrival - s.assumptions.vpcHopLatency
            s.generators[g].over = 0
        }
        #expect(arrival + s.assumptions.natProcessing > 60_000_000_000)
        var minutes: [[(minute: Int, metrics: NATMetrics)]] = []
        var events: [Int] = []
        for fuses in [true, false] {
            let sim = Simulation(scenario: s)
            sim.network.fusesHops = fuses
            sim.run()
            #expect(sim.generatorResults.map { $0.outcomes[.ok] ?? 0 } == [120, 40])
            minutes.append(sim.network.natMetricsPerMinute[0])
            events.append(sim.scheduler.eventsRun)
        }
        #expect(events[0] < events[1])  // the departures were fused
        #expect(minutes[0].count == 2 && minutes[1].count == 2)
        #expect(minutes[0].map(\.minute) == [0, 1] && minutes[1].map(\.minute) == [0, 1])
        #expect(minutes[0].map(\.metrics) == minutes[1].map(\.metrics))
        let first = minutes[0][0].metrics
        #expect(first.packetsInFromSource == 160 && first.packetsOutToDestination == 0)
        #expect(minutes[0][1].metrics.packetsOutToDestination >= 160)
        try compareFusedAndNot(s, "minute")
    }

    func compareFusedAndNot(_ s: Scenario, _ name: String) throws {
        // A captured gateway keeps its events: every point but the internet gateway's, every point but the two
        // gateways', and no capture at all.
        let points = VPCNetwork.capturePoints(of: s.model)
        let notIGW = Set(points.filter { if case .internetGateway = $0.component { false } else { true } }.map(\.name))
        let notNAT = Set(points.filter { if case .natGateway = $0.component { false } else { true } }.map(\.name))
        let neither = notIGW.intersection(notNAT)
        #expect(notIGW.count == points.count - 1 && neither.count == points.count - 2)
        for capture in [notIGW, neither, []] {
            var dirs: [String] = []
            var outcomes: [[String: Int]] = []
            for fuses in [true, false] {
                let dir = makeTempDirectory("vpcsim-fused")
                var options = Runner.Options(outDir: dir, capture: capture)
                options.fusesHops = fuses
                let o = try Runner.run(scenario: s, options: options)
                dirs.append(dir)
                outcomes.append(contentsOf: o.report.generators.map(\.outcomes))
            }
            #expect(outcomes[0] == outcomes[2] && outcomes[1] == outcomes[3])
            let files = try FileManager.default.contentsOfDirectory(atPath: dirs[0]).sorted()
            // The selected pcaps and all-hops.pcapng; flow-logs.txt, report.html, report.json, report.txt.
            #expect(files.count == (capture.isEmpty ? 4 : capture.count + 5))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dirs[1]).sorted() == files)
            for f in files {
                var a = try Data(contentsOf: URL(fileURLWithPath: dirs[0] + "/" + f))
                var b = try Data(contentsOf: URL(fileURLWithPath: dirs[1] + "/" + f))
                if f.hasPrefix("report") {  // NAT gateway metrics included; the output directory named
                    a = Data(String(decoding: a, as: UTF8.self).replacingOccurrences(of: dirs[0], with: "OUT").utf8)
                    b = Data(String(decoding: b, as: UTF8.self).replacingOccurrences(of: dirs[1], with: "OUT").utf8)
                }
                #expect(a.count > 100, "\(f) is nearly empty")
                let same = a == b  // a Bool: #expect(a == b) would diff megabytes of Data on failure
                #expect(same, "\(name): \(f) differs with fused hops")
            }
        }
    }

    /// The fusion happens: a generated flow's packets through the internet gateway take one event fewer each (10 a
    /// TCP flow: handshake, a message each way, close), and those leaving the NAT gateway for the internet one more
    /// (6: its replies come back through the Lambda's security group, which is stateful); explicit flows none.
    @Test func generatedFlowsTakeOneEventFewerAPacket() throws {
        var s = try fleet("lambda-sftp-nacl-fixed")
        s.generators.removeLast()
        var events: [Int] = []
        var ok: [Int] = []
        for fuses in [true, false] {
            let sim = Simulation(scenario: s)
            sim.network.fusesHops = fuses
            sim.run()
            events.append(sim.scheduler.eventsRun)
            ok.append(sim.generatorResults[0].outcomes[.ok] ?? 0)
        }
        #expect(ok == [120, 120])
        #expect(events[1] - events[0] == 120 * (10 + 6))
    }
}
