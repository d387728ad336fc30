import Packets
import Testing
@testable import Sim

/// Records what arrives where, for tests that drive the network directly.
final class Tap: NetworkObserver {
    var seen: [(point: Int, time: Int64, packet: SimPacket, comment: String)] = []
    var drops: [(time: Int64, step: Step)] = []
    func seen(point: Int, time: Int64, packet: SimPacket, outgoing: Bool, comment: UnsafeRawBufferPointer) {
        seen.append((point, time, packet, String(decoding: comment, as: UTF8.self)))
    }
    func dropped(time: Int64, packet: SimPacket, step: Step) { drops.append((time, step)) }
    func traced(packet: SimPacket, steps: [Step]) {}
}

@Suite struct TimingTests {
    @Test func linuxClientGivesUpAfterSYNsAt0_1_3_7_15_31_63AndFailsAt127() {
        var story = StoryModel()
        story.lambdaEgress = []  // every SYN dies at the security group
        story.lambdaTimeout = 900_000_000_000
        let (_, _, r) = simulate(story.scenario([StoryModel.flow("https", .https, port: 443)]))
        #expect(r[0].outcome == .timeout)
        #expect(r[0].synTimes == [0, 1, 3, 7, 15, 31, 63].map { Int64($0) * 1_000_000_000 })
        #expect(r[0].elapsed == 127_000_000_000)
        #expect(r[0].message.hasPrefix("connect ETIMEDOUT"))
        #expect(r[0].drop?.count == 7)
    }

    @Test func sftpReadyTimeoutStopsTheSYNsAt20Seconds() {
        var story = StoryModel()
        story.publicOutbound = [rule(100, tcp, PortRange(443, 443), "0.0.0.0/0", .allow)]
        let (_, _, r) = simulate(story.scenario([StoryModel.flow("sftp", .sftp, port: 22)]))
        #expect(r[0].outcome == .timeout)
        #expect(r[0].elapsed == 20_000_000_000)
        #expect(r[0].synTimes == [0, 1, 3, 7, 15].map { Int64($0) * 1_000_000_000 })
        #expect(r[0].message == "Timed out while waiting for handshake (ssh2 readyTimeout 20 s)")
    }

    @Test func lambdaTimeoutEndsAFlowThatWouldWaitLonger() {
        var story = StoryModel()
        story.lambdaEgress = []
        story.lambdaTimeout = 3_000_000_000  // Lambda's default
        let (_, _, r) = simulate(story.scenario([StoryModel.flow("https", .https, port: 443)]))
        #expect(r[0].elapsed == 3_000_000_000)
        #expect(r[0].message == "Task timed out after 3.00 seconds (Lambda timeout)")
        #expect(r[0].synTimes.count == 2)
    }

    /// The times (ns) the server sends SYN-ACKs in the story without ephemeral ports inbound in the public NACL:
    /// its SYN-ACKs die there, so the client retransmits its SYN and the server its SYN-ACK.
    private func synAckTimes(retries: Int? = nil) -> [Int64] {
        var story = StoryModel()
        story.publicInbound = [rule(100, tcp, PortRange(22, 22), "10.0.1.0/24", .allow)]  // no ephemeral inbound
        story.publicOutbound = [rule(100, tcp, PortRange(22, 22), "0.0.0.0/0", .allow)]
        var s = story.scenario([StoryModel.flow("sftp", .sftp, port: 22)])
        if let retries { s.assumptions.serverSynAckRetries = retries }
        let sim = Simulation(scenario: s)
        let tap = Tap()
        sim.observer = tap
        sim.run()
        let hostPoint = sim.network.capturePoints.firstIndex { $0.name.contains("host") }!
        return tap.seen.filter {
            $0.point == hostPoint && $0.packet.tcp?.flags == [.syn, .ack] && $0.comment.hasPrefix("sent")
        }.map(\.time)
    }

    @Test func serverRetransmitsSynAckOnItsTimerAndAtOnceForEachDuplicateSYN() {
        let synAcks = synAckTimes().map { Double($0) / 1e9 }
        // SYNs reach the server at 0.01, 1.01, 3.01, 7.01, 15.01 s; its own timer fires 1, 2, 4, 8, 16 s
        // after the first SYN-ACK: both sets show up.
        let expected = [0.01012, 1.01012, 1.01012, 3.01012, 3.01012, 7.01012, 7.01012, 15.01012, 15.01012, 31.01012]
        #expect(synAcks.count == expected.count)
        for (got, want) in zip(synAcks, expected) { #expect(abs(got - want) < 0.0001, "\(synAcks)") }
    }

    /// The SYN-ACK timer doubles up to Linux's TCP_RTO_MAX, 120 s, and stays there: with
    /// server_synack_retries: 255 (the most the scenario allows) the doubling overflowed virtual time and crashed.
    @Test func synAckTimerStopsDoublingAt120Seconds() {
        // After the client's last SYN (15 s) only the server's timer sends: 31, 63, 127, then every 120 s.
        let timed = synAckTimes(retries: 255).filter { $0 > 20_000_000_000 }
        #expect(timed.count == 255 - 4)
        let gaps = zip(timed.dropFirst(), timed).map { ($0 - $1) / 1_000_000_000 }
        #expect(Array(gaps.prefix(4)) == [32, 64, 120, 120])
        #expect(gaps.allSatisfy { $0 <= 120 })
    }

    /// A tcp flow of size 0 connects and closes: no data segment. It used to send 1 byte anyway, and a flow
    /// with an empty conversation never closed.
    @Test func tcpFlowOfSizeZeroConnectsAndCloses() {
        var story = StoryModel()
        story.publicOutbound.append(rule(120, tcp, PortRange(22, 22), "0.0.0.0/0", .allow))
        let s = story.scenario([StoryModel.flow("empty", .tcp, port: 22, size: 0)])
        let sim = Simulation(scenario: s)
        let tap = Tap()
        sim.observer = tap
        let r = sim.run()
        #expect(r[0].outcome == .ok, "\(r[0].message)")
        let lambdaPoint = sim.network.capturePoints.firstIndex { $0.name.contains("lambda") }!
        let flags = tap.seen.filter { $0.point == lambdaPoint && $0.comment.hasPrefix("sent") }.map { $0.packet.tcp!.flags }
        #expect(flags == [[.syn], [.ack], [.fin, .ack], [.ack]], "\(flags)")
        #expect(tap.seen.allSatisfy { $0.packet.payload.isEmpty })
        #expect(r[0].elapsed < 50_000_000)  // two round trips of 20 ms and the closes, not a timeout
    }

    @Test func closedPortAnswersRSTACK() {
        var story = StoryModel()
        story.publicInbound = allowAll
        story.publicOutbound = allowAll
        let (_, _, r) = simulate(story.scenario([StoryModel.flow("tcp", .tcp, port: 2222)]))
        #expect(r[0].outcome == .refused)
        #expect(r[0].message == "connect ECONNREFUSED")
        // One round trip: 4 VPC hops, the NAT twice, 20 ms internet, and the SYN's 98 bytes on the wire serialised at
        // the Lambda's 600 Mbit/s (1,307 ns; the RST is the server stack's, not a connection's: not paced).
        #expect(r[0].elapsed == 20_241_307)
    }

    /// A generated flow's packet leaves the NAT gateway without an event of its own (its counts wait in the
    /// network for their time); `Scheduler.run(until:)` stopping after that time counts it, as the departure's own
    /// event would have: what the metrics say then is what the events up to the limit did, fused or not.
    @Test func runUntilCountsTheFusedDeparturesDueByItsLimit() {
        var story = StoryModel()
        story.publicInbound = allowAll
        story.publicOutbound = allowAll
        var s = story.scenario([])
        s.model.outsideHosts[0].otherPorts = .silent
        for fuses in [true, false] {
            let sim = Simulation(scenario: s)
            sim.network.fusesHops = fuses
            var ip = IPv4Header(source: ip("10.0.1.10"), destination: ip("203.0.113.22"), proto: .tcp)
            ip.totalLength = 40
            // Flow 0: the first generated flow's number when there are no explicit flows (fusable).
            let syn = SimPacket(ip: ip, transport: .tcp(TCPHeader(sourcePort: 40000, destinationPort: 9, flags: .syn)),
                                flow: 0, fromClient: true)
            sim.scheduler.schedule(at: 0) { sim.network.send(fromENI: 0, syn) }
            // At the NAT gateway 50 µs in, out 20 µs later; at the server some 10 ms later.
            sim.scheduler.run(until: 100_000)
            #expect(sim.scheduler.eventsRun == (fuses ? 2 : 3), "fused: \(fuses)")
            #expect(sim.network.natMetrics[0].packetsInFromSource == 1)
            #expect(sim.network.natMetrics[0].packetsOutToDestination == 1, "fused: \(fuses)")
        }
    }

    @Test func natGatewaySendsRSTToAClientThatUsesAnIdleTimedOutConnection() {
        var story = StoryModel()
        story.publicInbound = allowAll
        story.publicOutbound = allowAll
        var s = story.scenario([])
        s.model.outsideHosts[0].otherPorts = .silent  // nothing answers, so only the idle timer ends the mapping
        let sim = Simulation(scenario: s)
        let tap = Tap()
        sim.observer = tap
        var atLambda: [SimPacket] = []
        sim.network.deliverToENI = { _, p in atLambda.append(p) }
        func packet(_ flags: TCPFlags) -> SimPacket {
            var ip = IPv4Header(source: ip("10.0.1.10"), destination: ip("203.0.113.22"), proto: .tcp)
            ip.totalLength = 40
            return SimPacket(ip: ip, transport: .tcp(TCPHeader(sourcePort: 40000, destinationPort: 9, sequenceNumber: 100,
                                                               acknowledgmentNumber: 7, flags: flags)),
                             flow: -1, fromClient: true)
        }
        sim.scheduler.schedule(at: 0) { sim.network.send(fromENI: 0, packet(.syn)) }
        sim.scheduler.schedule(at: 400_000_000_000) { sim.network.send(fromENI: 0, packet([.psh, .ack])) }
        sim.scheduler.run()
        #expect(tap.drops.map(\.step.rule) == ["connection idle longer than 350 s (its last packet at 0.000 s)"])
        let rst = atLambda.last { $0.tcp?.flags == .rst }
        #expect(rst != nil)
        #expect(rst?.ip.source == ip("203.0.113.22"))
        #expect(rst?.tcp?.sourcePort == 9)
        #expect(rst?.tcp?.sequenceNumber == 7)
        // Never established (nothing answered the SYN): not an idle connection in IdleTimeoutCount's sense.
        #expect(sim.network.natMetrics[0].idleTimeoutCount == 0)
    }
}
