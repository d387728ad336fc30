import Foundation
import Testing
import TestSupport
@testable import Sim

/// Generated flows cross internet gateways without events of their own when nothing captures them there
/// (`VPCNetwork.fusesFlowsFrom`): the gateway's work is done as the packet leaves the hop before. Every output
/// must be the same as with the gateway's own events.
@Suite struct FusedHopTests {
    /// The story broken (the public NACL drops SFTP outbound, at the NAT gateway's departure), fixed, and with the
    /// public NACL's ephemeral ports closed inbound (replies dropped at the internet gateway: the hop that cannot be
    /// fused), each with SFTP and HTTPS fleets.
    static let scenarios = ["lambda-sftp-nacl", "lambda-sftp-nacl-fixed", "nacl-no-ephemeral-inbound"]

    func fleet(_ name: String) throws -> Scenario {
        var s = try ScenarioLoader.load(path: repositoryRoot + "/scenarios/\(name).yaml")
        var sftp = s.flows[0]
        sftp.expect = nil
        sftp.app = .tcp
        sftp.size = 300
        var https = sftp
        https.app = .https
        https.destination.port = 443
        s.generators = [FlowGenerator(name: "fleet-sftp", template: sftp, count: 120, start: 0, over: 400_000_000),
                        FlowGenerator(name: "fleet-https", template: https, count: 40, start: 0, over: 400_000_000)]
        return s
    }

    @Test("the captures it keeps, the pcapng and the flow logs are byte-identical with and without fused hops",
          arguments: scenarios)
    func outputsAreTheSame(_ name: String) throws {
        let s = try fleet(name)
        // A captured gateway keeps its events: every point but the internet gateway's, and no capture at all.
        let points = VPCNetwork.capturePoints(of: s.model)
        let notGateway = Set(points.filter { if case .internetGateway = $0.component { false } else { true } }.map(\.name))
        #expect(notGateway.count == points.count - 1)
        for capture in [notGateway, []] {
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
            let files = try FileManager.default.contentsOfDirectory(atPath: dirs[0]).filter { !$0.hasPrefix("report") }.sorted()
            #expect(files.count == (capture.isEmpty ? 1 : 5))  // 3 pcaps and all-hops.pcapng; flow-logs.txt
            #expect(try FileManager.default.contentsOfDirectory(atPath: dirs[1]).filter { !$0.hasPrefix("report") }.sorted() == files)
            for f in files {
                let a = try Data(contentsOf: URL(fileURLWithPath: dirs[0] + "/" + f))
                let b = try Data(contentsOf: URL(fileURLWithPath: dirs[1] + "/" + f))
                #expect(a.count > 100, "\(f) is nearly empty")
                let same = a == b  // a Bool: #expect(a == b) would diff megabytes of Data on failure
                #expect(same, "\(name): \(f) differs with fused hops")
            }
        }
    }

    /// The fusion happens: a generated flow's packets through the NAT gateway and the internet gateway take one
    /// event fewer each (10 a TCP flow: handshake, a message each way, close), explicit flows none.
    @Test func generatedFlowsTakeOneEventFewerAPacket() throws {
        var s = try fleet("lambda-sftp-nacl-fixed")
        s.generators.removeLast()
        var events: [Int] = []
        var ok: [Int] = []
        for fuses in [true, false] {
            let sim = Simulation(scenario: s)
            if !fuses { sim.network.fusesFlowsFrom = .max }
            sim.run()
            events.append(sim.scheduler.eventsRun)
            ok.append(sim.generatorResults[0].outcomes[.ok] ?? 0)
        }
        #expect(ok == [120, 120])
        #expect(events[1] - events[0] == 120 * 10)
    }
}
