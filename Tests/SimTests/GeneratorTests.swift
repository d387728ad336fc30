import Foundation
import Packets
import Testing
import TestSupport
@testable import Sim

/// Generated flows: seeded start times, aggregated results, NAT port exhaustion and its fix.
@Suite struct GeneratorTests {
    func exhaustion(count: Int, limit: Int, secondAddress: Bool) -> (Simulation, [NATMetrics]) {
        var story = StoryModel()
        story.publicOutbound.append(rule(120, tcp, PortRange(22, 22), "0.0.0.0/0", .allow))
        story.lambdaTimeout = 900_000_000_000
        var m = story.build()
        if secondAddress {
            m.natGateways[0].secondaryPrivateIPs = [ip("10.0.0.6")]
            m.natGateways[0].secondaryElasticIPs = [ip("198.51.100.8")]
        }
        var template = StoryModel.flow("invocation", .tcp, port: 22, size: 200)
        template.hold = 300_000_000_000
        var a = Assumptions()
        a.natConnectionsPerDestination = limit  // the real 55,000 is exercised by the shipped scenario
        var s = Scenario(name: "gen", file: "test", seed: 3, model: m, flows: [], assumptions: a)
        s.generators = [FlowGenerator(name: "invocations", template: template, count: count, start: 0,
                                      over: 10_000_000_000)]
        let sim = Simulation(scenario: s)
        let rec = RunRecorder(sim: sim, captures: nil)
        sim.observer = rec
        sim.run()
        return (sim, sim.network.natMetrics)
    }

    /// More connections open at once than the Lambda's ENI has source ports: the flows that find none fail at once
    /// (`no-port`, nothing sent), the others complete. Before, a flow took a port in use and its connection
    /// replaced the other's at the host (200,000 flows a second in the NAT scenario: 6,740 ok of 55,000 possible).
    @Test func flowsBeyondTheSourcesPortsFailAtOnceWithNoPort() throws {
        var story = StoryModel()
        story.publicOutbound.append(rule(120, tcp, PortRange(22, 22), "0.0.0.0/0", .allow))
        story.lambdaTimeout = 900_000_000_000
        var template = StoryModel.flow("invocation", .tcp, port: 22, size: 200)
        template.hold = 10_000_000_000
        var a = Assumptions()
        a.lambdaEphemeralPorts = 1024...1033  // 10 ports
        var s = Scenario(name: "gen", file: "test", seed: 3, model: story.build(), flows: [], assumptions: a)
        // 25 flows within 1 ms, each holding its connection 10 s; then 5 more once the first have closed.
        s.generators = [FlowGenerator(name: "burst", template: template, count: 25, start: 0, over: 1_000_000),
                        FlowGenerator(name: "later", template: template, count: 5, start: 20_000_000_000, over: 1_000_000)]
        let o = try Runner.run(scenario: s, options: .init(writeFiles: false))
        let burst = try #require(o.report.generators.first)
        #expect(burst.outcomes["ok"] == 10)
        #expect(burst.outcomes["no-port"] == 15)
        #expect(burst.drops.isEmpty)
        let failure = try #require(burst.first_failures.first)
        #expect(failure.outcome == "no-port")
        #expect(failure.message == "connect EADDRNOTAVAIL 203.0.113.22:22 (all 10 source ports 1024-1033 of 10.0.1.10 in use)")
        #expect(o.report.generators[1].outcomes["ok"] == 5)  // the ports came back
        #expect(o.text.contains("10 ok, 15 no-port"))
        // Only the flows that had a port sent anything: 15 connections at the NAT gateway.
        #expect(o.report.nat_gateways[0].metrics.connectionAttemptCount == 15)
    }

    /// A generator counts outcomes by their place in FlowOutcome.allCases.
    @Test func outcomesAreCountedUnderTheirOwnName() {
        for (k, o) in FlowOutcome.allCases.enumerated() { #expect(o.index == k, "\(o)") }
        var g = GeneratorResult(index: 0, name: "g")
        let template = FlowTemplate(StoryModel.flow("f", .tcp, port: 22, size: 1))
        for o in [FlowOutcome.timeout, .timeout, .reset, .noPort] {
            var r = FlowResult(index: 0)
            r.outcome = o
            g.add(r, flow: 0, template: template, start: 0)
        }
        #expect(g.outcomes == [.timeout: 2, .reset: 1, .noPort: 1])
        #expect(g.total == 4)
    }

    /// NAT metrics per minute list the minutes with traffic only: two flows 136 years apart give two minutes, in
    /// a few kilobytes (every minute between, kept before, exhausted 24 GiB and was killed).
    @Test func natMinutesFollowTrafficNotVirtualTime() throws {
        var story = StoryModel()
        story.publicOutbound.append(rule(120, tcp, PortRange(22, 22), "0.0.0.0/0", .allow))
        story.lambdaTimeout = 900_000_000_000
        let first = StoryModel.flow("first", .tcp, port: 22, size: 200)
        let late = StoryModel.flow("late", .tcp, port: 22, start: 4_294_967_295_000_000_000, size: 200)
        let s = Scenario(name: "late", file: "test", seed: 3, model: story.build(), flows: [first, late])
        let o = try Runner.run(scenario: s, options: .init(writeFiles: false))
        #expect(o.report.flows.map(\.outcome) == ["ok", "ok"])
        let minutes = o.report.nat_gateways[0].per_minute
        let start = s.startTime / 1_000_000_000
        #expect(minutes.map(\.minute_start) == [start, start + 4_294_967_295 / 60 * 60])
        #expect(minutes.allSatisfy { $0.metrics.connectionAttemptCount == 1 })
    }

    /// Two flows with the same fixed source port at once: the second fails at once (bind EADDRINUSE, nothing sent)
    /// and its report has no client port. Before, it took the next port, silently.
    @Test func aFixedSourcePortInUseFailsTheSecondFlow() throws {
        var story = StoryModel()
        story.publicOutbound.append(rule(120, tcp, PortRange(22, 22), "0.0.0.0/0", .allow))
        var first = StoryModel.flow("first", .tcp, port: 22, size: 200)
        first.sourcePort = 40000
        first.hold = 5_000_000_000
        var second = first
        second.name = "second"
        second.start = 1_000_000_000
        var third = first
        third.name = "third"
        third.start = 10_000_000_000  // after the first has closed
        let s = Scenario(name: "ports", file: "test", seed: 3, model: story.build(), flows: [first, second, third])
        let o = try Runner.run(scenario: s, options: .init(writeFiles: false))
        #expect(o.report.flows.map(\.outcome) == ["ok", "no-port", "ok"])
        #expect(o.report.flows[1].message == "bind EADDRINUSE 10.0.1.10:40000 (the flow's source_port is in use by another connection)")
        #expect(o.report.flows[1].client_port == nil && o.report.flows[2].client_port == 40000)
        #expect(o.report.flows[1].syn_times_s.isEmpty)
        #expect(o.text.contains("(tcp), client port none"))
    }

    @Test("without captures, generated flows' packets skip the recorder and explicit flows keep their ladders")
    func explicitLaddersWithoutCaptures() throws {
        var s = try ScenarioLoader.load(path: repositoryRoot + "/scenarios/lambda-sftp-nacl-fixed.yaml")
        var template = s.flows[0]
        template.expect = nil
        s.generators = [FlowGenerator(name: "fleet", template: template, count: 20, start: 0, over: 1_000_000_000)]
        var texts: [String] = []
        for capture: Set<String>? in [nil, []] {
            let dir = makeTempDirectory("vpcsim-ladders")
            let o = try Runner.run(scenario: s, options: .init(outDir: dir, capture: capture))
            #expect(o.report.generators.first?.outcomes["ok"] == 20)
            // The flows' sections, ladders included (what follows names files and the output directory).
            texts.append(String(o.text.split(separator: "\n", omittingEmptySubsequences: false)
                .prefix { !$0.hasPrefix("NAT GATEWAYS") }.joined(separator: "\n")))
        }
        #expect(texts[0].contains("ladder (") && texts[0].contains("[SYN]"))
        #expect(texts[0] == texts[1])
        // The network passes the recorder packets of the explicit flows only.
        let sim = Simulation(scenario: s)
        final class Count: NetworkObserver {
            var flows = Set<Int>()
            func seen(point: Int, time: Int64, packet: SimPacket, outgoing: Bool, comment: UnsafeRawBufferPointer) { flows.insert(packet.flow) }
            func dropped(time: Int64, packet: SimPacket, step: Step) {}
            func traced(packet: SimPacket, steps: [Step]) {}
        }
        let count = Count()
        sim.observer = count
        sim.network.seenFlows = s.flows.count
        sim.run()
        #expect(count.flows == Set(0..<s.flows.count))
    }

    @Test func flowsBeyondTheNATLimitFailWithErrorPortAllocationAndTheRestSucceed() {
        let (sim, nat) = exhaustion(count: 300, limit: 250, secondAddress: false)
        let g = sim.generatorResults[0]
        #expect(g.total == 300)
        #expect(g.outcomes[.ok] == 250)
        #expect(g.outcomes[.timeout] == 50)
        #expect(g.drops.map(\.rule) == ["ErrorPortAllocation"])
        #expect(g.drops.first?.count == 50 * 7)  // every SYN of every failed flow
        #expect(nat[0].errorPortAllocation == 350)
        #expect(nat[0].peakActiveConnectionCount == 250)
        #expect(g.firstFailures.count == 20)
        #expect(g.firstFailures.allSatisfy { $0.outcome == .timeout && $0.drop?.contains("ErrorPortAllocation") == true })
        // Nothing is left behind: no flow in progress, every NAT mapping freed after the closes.
        #expect(sim.activeFlows == 0)
        #expect(sim.network.nats[0].activeConnections == 0)
    }

    /// Memory follows active connections: once a flow has ended, both of its TCP endpoints are freed (they used
    /// to keep each other alive through the client's callbacks), while the simulation itself is still alive.
    @Test func finishedFlowsFreeTheirConnections() {
        final class Weak { weak var connection: TCPConnection? }
        var template = StoryModel.flow("f", .tcp, port: 443, size: 200)
        template.hold = 0
        var s = Scenario(name: "gen", file: "test", seed: 5, model: StoryModel().build(), flows: [])
        s.generators = [FlowGenerator(name: "fleet", template: template, count: 200, start: 0, over: 1_000_000_000)]
        let sim = Simulation(scenario: s)
        var created: [Weak] = []
        sim.connectionCreated = { c in
            let w = Weak()
            w.connection = c
            created.append(w)
        }
        let rec = RunRecorder(sim: sim, captures: nil)
        sim.observer = rec
        sim.run()
        #expect(sim.generatorResults[0].outcomes[.ok] == 200)
        #expect(created.count == 400)  // a client and a server per flow
        #expect(sim.openConnections == 0)
        #expect(created.filter { $0.connection != nil }.count == 0)
    }

    /// A fleet that a NACL stops gets the fix its first dropped flow gets, verified by re-running that flow;
    /// a fleet stopped by NAT port pressure gets none (no rule change fixes it).
    @Test func aFleetStoppedByARuleGetsItsFirstFailedFlowsFix() throws {
        var template = StoryModel.flow("f", .sftp, port: 22)
        template.hold = 0
        var s = Scenario(name: "gen", file: "test", seed: 5, model: StoryModel().build(), flows: [])
        s.generators = [FlowGenerator(name: "uploads", template: template, count: 20, start: 0, over: 1_000_000_000)]
        let o = try Runner.run(scenario: s, options: .init(writeFiles: false))
        let g = try #require(o.report.generators.first)
        #expect(g.outcomes["ok"] == 0)
        let fix = try #require(g.fix)
        #expect(fix.verified)
        #expect(g.fix_flow == "uploads#1")
        #expect(fix.changes.contains { $0.component.hasPrefix("acl-") && $0.change.contains("ALLOW tcp 22") })
        #expect(o.text.contains("FIX for uploads#1 (verified: it succeeds when re-run alone with these changes):"))

        let (sim, _) = exhaustion(count: 300, limit: 250, secondAddress: false)
        #expect(sim.generatorResults[0].firstDropped?.result.drop?.rule == "ErrorPortAllocation")
        var pressure = Scenario(name: "gen", file: "test", seed: 3, model: sim.scenario.model, flows: [],
                                assumptions: sim.scenario.assumptions)
        pressure.generators = sim.scenario.generators
        let p = try Runner.run(scenario: pressure, options: .init(writeFiles: false))
        #expect(p.report.generators[0].fix == nil && p.report.generators[0].fix_flow == nil)
        #expect(!p.text.contains("FIX for"))
    }

    @Test func aSecondNATAddressLetsEveryFlowThrough() {
        let (sim, nat) = exhaustion(count: 300, limit: 250, secondAddress: true)
        #expect(sim.generatorResults[0].outcomes[.ok] == 300)
        #expect(nat[0].errorPortAllocation == 0)
        #expect(nat[0].peakActiveConnectionCount == 300)
    }

    @Test func startTimesAreSeededSortedAndWithinTheWindow() {
        let template = StoryModel.flow("x", .tcp, port: 22)
        let g = FlowGenerator(name: "g", template: template, count: 1000, start: 5_000_000_000, over: 60_000_000_000)
        let a = g.startTimes(seed: 1, index: 0)
        #expect(a == g.startTimes(seed: 1, index: 0))
        #expect(a != g.startTimes(seed: 2, index: 0))
        #expect(a == a.sorted())
        #expect(a.first! >= 5_000_000_000 && a.last! < 65_000_000_000)
        // A generator large enough for the radix sort (whose order sortOffsets' own test checks against sort()):
        // every time sorted, inside the window, seeded by the scenario's seed and the generator's index, and
        // spread over the window (each tenth holds 10,000 ± 500 of 100,000 uniform draws; 5 standard deviations).
        let big = FlowGenerator(name: "g", template: template, count: 100_000, start: 7, over: 60_000_000_000)
        let times = big.startTimes(seed: 3, index: 1)
        #expect(times.count == 100_000)
        #expect(times == times.sorted())
        #expect(times.first! >= 7 && times.last! < 7 + 60_000_000_000)
        #expect(times == big.startTimes(seed: 3, index: 1))
        #expect(times != big.startTimes(seed: 3, index: 2) && times != big.startTimes(seed: 4, index: 1))
        var tenths = [Int](repeating: 0, count: 10)
        for t in times { tenths[Int((t - 7) / 6_000_000_000)] += 1 }
        #expect(tenths.allSatisfy { abs($0 - 10_000) <= 500 }, "\(tenths)")
        #expect(Set(times).count > 99_990, "draws at nanosecond resolution rarely coincide")
    }

    /// The radix sort of start offsets orders as sort() does: around its threshold, with many equal values, with
    /// bounds of one digit, of several and of 62 bits.
    @Test("sortOffsets orders as sort()", arguments: [(4095, 1_000), (4096, 1_000), (5000, 1), (70_000, 3),
                                                   (70_000, 1 << 11), (70_000, 60_000_000_000), (9000, 1 << 62)])
    func radixSortOrdersAsSort(count: Int, bound: UInt64) {
        var rng = SplitMix64(seed: UInt64(count) &* 31 &+ bound)
        let values = (0..<count).map { _ in rng.next() % bound }
        var sorted = values
        FlowGenerator.sortOffsets(&sorted, below: bound)
        #expect(sorted == values.sorted())
    }
}

/// The unfinished files a killed run leaves, which the next run in the directory removes (`Runner.removeStaleOutputs`).
@Suite struct StaleTemporaryFileTests {
    @Test func namesAreRecognisedOnlyForProcessesThatAreGone() {
        let dead = "99999999"  // above Linux's largest pid
        #expect(Runner.unfinishedFileOfDeadRun(".01-a-eni-1.pcap.\(dead).tmp") == "01-a-eni-1.pcap")
        #expect(Runner.unfinishedFileOfDeadRun(".all-hops.pcapng.\(dead).tmp") == "all-hops.pcapng")
        #expect(Runner.unfinishedFileOfDeadRun("all-hops.pcapng.if12.\(dead).spool") == "all-hops.pcapng")
        #expect(Runner.unfinishedFileOfDeadRun("flow-logs.txt.eni3.\(dead).spool") == "flow-logs.txt")
        // This process's own pid: a killed run's that had it before (containers reuse pids); the run calling
        // this has made nothing yet.
        #expect(Runner.unfinishedFileOfDeadRun(".flow-logs.txt.\(getpid()).tmp") == "flow-logs.txt")
        // A live process (init) keeps its files.
        #expect(Runner.unfinishedFileOfDeadRun(".flow-logs.txt.1.tmp") == nil)
        for other in ["flow-logs.txt", ".flow-logs.txt.tmp", ".flow-logs.txt.x.tmp", "all-hops.pcapng.if.\(dead).spool",
                      "all-hops.pcapng.ifx.\(dead).spool", "all-hops.pcapng.\(dead).spool", ".a.\(dead).spool",
                      "flow-logs.txt.eni3.0.spool"] {
            #expect(Runner.unfinishedFileOfDeadRun(other) == nil, "\(other)")
        }
    }
}
