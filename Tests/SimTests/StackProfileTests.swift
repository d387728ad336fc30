import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Each host stack profile against the public captures of real stacks timing out.
@Suite struct StackProfileTests {
    /// An instance with a public IP in the story's public subnet connecting straight out through the IGW.
    func instanceScenario(stack: StackProfile, port: UInt16, behaviour: PortBehaviour, rtt: Int64 = 50_000_000)
        -> Scenario
    {
        var story = StoryModel()
        story.publicInbound = allowAll
        story.publicOutbound = allowAll
        story.hostPorts = [port: behaviour]
        var m = story.build()
        m.outsideHosts[0].rtt = rtt
        m.securityGroups.append(SecurityGroupSpec(id: "sg-0inst", name: nil, vpc: 0, ingress: [],
                                              egress: [SecurityGroupRule(proto: .all, ports: nil, peer: .cidr(cidr("0.0.0.0/0")))]))
        m.enis.append(ENI(id: "eni-0inst", name: nil, subnet: 0, privateIP: ip("10.0.0.20"), publicIP: ip("198.51.100.20"),
                          securityGroups: [1], owner: .instance(0), mac: MACAddress(rawValue: 0x0A00_0000_0020)))
        m.instances = [Instance(id: "i-0client", name: "client", eni: 2, stack: stack)]
        let f = FlowSpec(name: "connect", source: .instance(0), sourceLabel: "instance client",
                         destination: FlowDestination(address: ip("203.0.113.22"), port: port, label: "server:\(port)"),
                         app: .tcp)
        return Scenario(name: "stack", file: "test", model: m, flows: [f])
    }

    /// SYN times (s, relative to the first) of one TCP stream in a fixture.
    func fixtureSYNs(_ file: String, stream: Int = 0) throws -> (times: [Double], options: [[UInt8]]) {
        let (lt, packets) = try Fixtures.read(Fixtures.reference("public/timeout/" + file))
        var firstTuple: (UInt16, UInt16)?
        var streams: [(UInt16, UInt16)] = []
        var times: [Double] = []
        var options: [[UInt8]] = []
        var t0: Int64?
        for p in packets {
            let f = try Frame(parsing: p.data, linkType: lt)
            guard let t = f.transport.tcp, t.flags == .syn else { continue }
            let tuple = (t.sourcePort, t.destinationPort)
            if !streams.contains(where: { $0 == tuple }) { streams.append(tuple) }
            guard streams.count > stream, streams[stream] == tuple else { continue }
            if firstTuple == nil { firstTuple = tuple }
            t0 = t0 ?? p.timestamp
            times.append(Double(p.timestamp - t0!) / 1e9)
            options.append(t.options.map(\.kind))
        }
        return (times, options)
    }

    /// compare's default tolerance: 5% or 50 ms, whichever is larger.
    func agree(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= max(0.05, 0.05 * max(a, b)) }

    @Test func linuxBeforeSixFiveMatchesTheAndroidSYNTimeoutCapture() throws {
        let real = try fixtureSYNs("ndpi_ocs_android-syn-timeout_DERIVED.pcap")
        #expect(real.times.count == 6)
        let (_, _, r) = simulate(instanceScenario(stack: .linux, port: 443, behaviour: .silent))
        let sim = r[0].synTimes.map { Double($0) / 1e9 }
        #expect(sim == [0, 1, 3, 7, 15, 31, 63])
        #expect(r[0].elapsed == 127_000_000_000)
        for (a, b) in zip(real.times, sim) { #expect(agree(a, b), "real \(real.times) sim \(sim)") }
    }

    @Test func linuxSixFiveUsesLinearTimeoutsFirst() {
        let (_, _, r) = simulate(instanceScenario(stack: .linux65, port: 443, behaviour: .silent))
        #expect(r[0].synTimes.map { Double($0) / 1e9 } == [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67])
        #expect(r[0].elapsed == 131_000_000_000)
    }

    @Test func windowsMatchesTheSuricataSYNTimeoutCaptureIncludingTheThirdSYNsOptions() throws {
        let real = try fixtureSYNs("suricata-verify_base64-decode-5885_windows-syn-timeout_DERIVED.pcap")
        #expect(real.times.count == 3)
        let s = instanceScenario(stack: .windows, port: 443, behaviour: .silent)
        let sim = Simulation(scenario: s)
        let tap = Tap()
        sim.observer = tap
        let r = sim.run()
        let times = r[0].synTimes.map { Double($0) / 1e9 }
        #expect(times == [0, 3, 9])
        #expect(r[0].elapsed == 21_000_000_000)
        for (a, b) in zip(real.times, times) { #expect(agree(a, b)) }
        // Same option kinds as the real Windows SYNs, window scaling dropped on the third.
        let point = sim.network.capturePoints.firstIndex { $0.name.contains("instance") }!
        let syns = tap.seen.filter { $0.point == point && $0.packet.tcp?.flags == .syn }.map { $0.packet.tcp!.options.map(\.kind) }
        #expect(syns == real.options)
        #expect(tap.seen.first { $0.point == point }?.packet.ip.ttl == 128)
    }

    @Test func windowsRetriesTwiceAfterRSTLikeTheZeekPOP3Capture() throws {
        let real = try fixtureSYNs("zeek_pop3_refused-rst-with-retries_DERIVED.pcap")
        #expect(real.times.count == 3)
        // The real server answered in about 50 ms.
        let s = instanceScenario(stack: .windows, port: 110, behaviour: .closed, rtt: 50_000_000)
        let sim = Simulation(scenario: s)
        let tap = Tap()
        sim.observer = tap
        let r = sim.run()
        #expect(r[0].outcome == .refused)
        let times = r[0].synTimes.map { Double($0) / 1e9 }
        #expect(times.count == 3)
        for (a, b) in zip(real.times, times) { #expect(agree(a, b), "real \(real.times) sim \(times)") }
        let point = sim.network.capturePoints.firstIndex { $0.name.contains("instance") }!
        let syns = tap.seen.filter { $0.point == point && $0.packet.tcp?.flags == .syn }.map { $0.packet.tcp!.options.map(\.kind) }
        #expect(syns == real.options)
    }
}

@Suite struct ClientProfileTests {
    func sftp(_ client: ClientProfile, blocked: Bool = true, lambdaTimeout: Int64 = 900_000_000_000) -> FlowResult {
        var story = StoryModel()
        story.lambdaTimeout = lambdaTimeout
        if !blocked { story.publicOutbound.append(rule(120, tcp, PortRange(22, 22), "0.0.0.0/0", .allow)) }
        var f = StoryModel.flow("sftp", .sftp, port: 22)
        f.client = client
        let (_, _, r) = simulate(story.scenario([f]))
        return r[0]
    }

    @Test func ssh2GivesUpAt20Seconds() {
        let r = sftp(.ssh2)
        #expect(r.elapsed == 20_000_000_000)
        #expect(r.message == "Timed out while waiting for handshake (ssh2 readyTimeout 20 s)")
    }

    @Test func openSSHWithoutConnectTimeoutWaitsForTheOperatingSystem() {
        let r = sftp(.openssh)
        #expect(r.elapsed == 127_000_000_000)
        #expect(r.message.hasPrefix("connect ETIMEDOUT"))
        var c = ClientProfile.openssh
        c.connectTimeout = 20_000_000_000
        let r20 = sftp(c)
        #expect(r20.elapsed == 20_000_000_000)
        #expect(r20.synTimes.count == 5)
    }

    @Test func paramikoWaitsForTheOSToConnectThenFifteenSecondsForTheBanner() {
        let r = sftp(.paramiko)
        #expect(r.elapsed == 127_000_000_000)
        // Connected, but a server that never sends its banner: paramiko's banner_timeout.
        var story = StoryModel()
        story.lambdaTimeout = 900_000_000_000
        story.publicOutbound.append(rule(120, tcp, PortRange(22, 22), "0.0.0.0/0", .allow))
        var f = StoryModel.flow("sftp", .sftp, port: 22)
        f.client = .paramiko
        var s = story.scenario([f])
        s.model.outsideHosts[0].ports[22] = .listen(app: "hang")  // accepts, says nothing
        let (_, _, rs) = simulate(s)
        let r2 = rs[0]
        #expect(r2.outcome == .timeout)
        #expect(r2.message == "Error reading SSH protocol banner (paramiko banner timeout 15 s)")
        #expect(abs(Double(r2.elapsed) / 1e9 - 15.02) < 0.01)
    }

    @Test func curlConnectTimeoutIsLongerThanLinuxSoTheOSDecides() {
        var story = StoryModel()
        story.lambdaEgress = []
        story.lambdaTimeout = 900_000_000_000
        let (_, _, r) = simulate(story.scenario([StoryModel.flow("https", .https, port: 443)]))
        #expect(r[0].elapsed == 127_000_000_000)
        var c = ClientProfile.curl
        c.connectTimeout = 10_000_000_000
        var f = StoryModel.flow("https", .https, port: 443)
        f.client = c
        let (_, _, r2) = simulate(story.scenario([f]))
        #expect(r2[0].elapsed == 10_000_000_000)
        #expect(r2[0].message == "curl: (28) Connection timed out (curl connect timeout 10 s)")
    }
}
