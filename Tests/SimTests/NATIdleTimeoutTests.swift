import Packets
import Testing
@testable import Sim

/// The NAT gateway's idle timeout (VPC-UG nat-gateway-troubleshooting): a mapping expires 350 s after its last
/// packet, counted then; the client's later packets get the gateway's RST, the internet's replies are dropped.
@Suite struct NATIdleTimeoutTests {
    /// A NAT gateway whose host never answers, driven with raw packets from the Lambda's ENI.
    func silentStory() -> (Simulation, Tap, () -> [SimPacket]) {
        var story = StoryModel()
        story.publicInbound = allowAll
        story.publicOutbound = allowAll
        var a = Assumptions()
        a.natPortSelection = .preserve  // the NAT port is the client's, so a test can address replies to it
        var s = story.scenario([], assumptions: a)
        s.model.outsideHosts[0].otherPorts = .silent
        let sim = Simulation(scenario: s)
        let tap = Tap()
        sim.observer = tap
        var atLambda: [SimPacket] = []
        sim.network.deliverToENI = { _, p in atLambda.append(p) }
        sim.network.deliverToHost = { _, _ in }
        return (sim, tap, { atLambda })
    }

    /// The host's SYN-ACK to the client's SYN at `time` (the NAT port is the client's: `preserve`), so that the
    /// gateway counts the connection established.
    func establish(_ sim: Simulation, at time: Int64) {
        sim.scheduler.schedule(at: time) { sim.network.send(fromENI: 0, self.clientPacket(.syn)) }
        sim.scheduler.schedule(at: time + 100_000_000) {
            var ip = IPv4Header(source: ip("203.0.113.22"), destination: ip("198.51.100.7"), proto: .tcp)
            ip.totalLength = 40
            sim.network.send(fromHost: 0, SimPacket(ip: ip, transport: .tcp(TCPHeader(
                sourcePort: 9, destinationPort: 40000, sequenceNumber: 6, acknowledgmentNumber: 101, flags: [.syn, .ack])),
                flow: -1, fromClient: false))
        }
    }

    func clientPacket(_ flags: TCPFlags, seq: UInt32 = 100) -> SimPacket {
        var ip = IPv4Header(source: ip("10.0.1.10"), destination: ip("203.0.113.22"), proto: .tcp)
        ip.totalLength = 40
        return SimPacket(ip: ip, transport: .tcp(TCPHeader(sourcePort: 40000, destinationPort: 9, sequenceNumber: seq,
                                                           acknowledgmentNumber: 7, flags: flags)),
                         flow: -1, fromClient: true)
    }

    @Test func idleTimeoutIsCountedInTheMinuteTheMappingExpiresEvenIfNoPacketComesAgain() {
        let (sim, _, _) = silentStory()
        establish(sim, at: 10_000_000_000)
        sim.scheduler.run()
        // Last packet (the SYN-ACK) at 10.1 s: the mapping expires at 360.1 s, in minute 6, and the run ends there,
        // with nothing after it.
        #expect(sim.network.natMetrics[0].idleTimeoutCount == 1)
        #expect(sim.network.natMetrics[0].connectionEstablishedCount == 1)
        let minutes = sim.network.natMetricsPerMinute[0].map { ($0.minute, $0.metrics.idleTimeoutCount) }
        #expect(minutes.map(\.0) == [0, 6])
        #expect(minutes.map(\.1) == [0, 1])
        #expect(sim.network.natMetrics[0].peakActiveConnectionCount == 1)
        #expect(sim.scheduler.now > 360_100_000_000 && sim.scheduler.now < 360_200_000_000)
    }

    @Test func everyLaterClientPacketGetsTheGatewaysRSTAndRepliesAreDropped() {
        let (sim, tap, atLambda) = silentStory()
        establish(sim, at: 0)
        sim.scheduler.schedule(at: 400_000_000_000) { sim.network.send(fromENI: 0, self.clientPacket([.psh, .ack], seq: 101)) }
        // The client retransmits; the gateway answers each packet, not just the first.
        sim.scheduler.schedule(at: 400_300_000_000) { sim.network.send(fromENI: 0, self.clientPacket([.psh, .ack], seq: 101)) }
        // A late reply from the server to the forgotten translation is dropped.
        sim.scheduler.schedule(at: 401_000_000_000) {
            var ip = IPv4Header(source: ip("203.0.113.22"), destination: ip("198.51.100.7"), proto: .tcp)
            ip.totalLength = 40
            sim.network.send(fromHost: 0, SimPacket(ip: ip, transport: .tcp(TCPHeader(
                sourcePort: 9, destinationPort: 40000, sequenceNumber: 7, acknowledgmentNumber: 101, flags: .ack)),
                flow: -1, fromClient: false))
        }
        sim.scheduler.run()
        let resets = atLambda().filter { $0.tcp?.flags == .rst }
        #expect(resets.count == 2)
        #expect(resets.allSatisfy { $0.tcp?.sequenceNumber == 7 && $0.ip.source == ip("203.0.113.22") })
        let rules = tap.drops.map(\.step.rule)
        #expect(rules.count == 3)
        // The SYN-ACK crossed the gateway last, 0.1 s plus the internet's 10 ms.
        #expect(rules.prefix(2).allSatisfy { $0 == "connection idle longer than 350 s (its last packet at 0.110 s)" })
        #expect(rules.last?.hasPrefix("no translation for tcp 203.0.113.22:9 → 10.0.0.5:40000") == true)
        #expect(sim.network.natMetrics[0].idleTimeoutCount == 1)
    }

    @Test func aNewSYNOnTheSameAddressesOpensAFreshMapping() {
        let (sim, tap, atLambda) = silentStory()
        establish(sim, at: 0)
        sim.scheduler.schedule(at: 400_000_000_000) { sim.network.send(fromENI: 0, self.clientPacket(.syn, seq: 5000)) }
        sim.scheduler.run()
        #expect(tap.drops.isEmpty)
        #expect(atLambda().allSatisfy { $0.tcp?.flags == [.syn, .ack] })  // no RST
        #expect(sim.network.natMetrics[0].connectionAttemptCount == 2)
        // The first expired (established); the second, a SYN nothing answered, expired without counting.
        #expect(sim.network.natMetrics[0].idleTimeoutCount == 1)
    }
}
