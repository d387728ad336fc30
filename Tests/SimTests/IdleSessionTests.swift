import Foundation
import Packets
import Testing
@testable import Sim

/// The repository's scenarios/ folder, found from this file (Tests/SimTests/…).
private func shippedScenario(_ name: String) throws -> (text: String, scenario: Scenario) {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let path = url.appendingPathComponent("scenarios/\(name).yaml").path
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return (text, try ScenarioLoader.load(yaml: text, file: name + ".yaml"))
}

/// Interactive sessions with pauses: the NAT gateway's idle timeout, TCP keepalive, OpenSSH ServerAliveInterval.
@Suite struct IdleSessionTests {
    // MARK: The conversation

    @Test func stepsBuildTheSameUploadAsSizeAndPlaceThePauseAndTheKeepalives() {
        var r1 = SplitMix64(seed: 3), r2 = SplitMix64(seed: 3)
        let upload = SSHConversation.sftpUpload(fileSize: 300_000, rng: &r1)
        let session = SSHConversation.sftpSession(steps: [.put(300_000)], rng: &r2)
        #expect(upload == session)

        var r3 = SplitMix64(seed: 3)
        let idle = SSHConversation.sftpSession(steps: [.ls, .idle(400_000_000_000), .put(100_000)], rng: &r3)
        let labels = idle.map(\.label)
        let ls = ["SSH_FXP_STAT", "SSH_FXP_ATTRS", "SSH_FXP_OPENDIR", "SSH_FXP_HANDLE", "SSH_FXP_READDIR",
                  "SSH_FXP_NAME (entries)", "SSH_FXP_READDIR", "SSH_FXP_STATUS EOF", "SSH_FXP_CLOSE"]
        #expect(ls.allSatisfy { l in labels.contains { $0.hasSuffix("CHANNEL_DATA \(l))") } })
        // The put's OPEN comes 400 s after the listing's last server message, with nothing in between.
        let open = try! #require(idle.firstIndex { $0.label.contains("SSH_FXP_OPEN)") })
        #expect(idle[open].delay == 400_000_000_000 + 200_000)
        #expect(idle[open].waitsFor == open - 1)
        #expect(idle[open - 1].label.contains("SSH_FXP_STATUS for close"))
        #expect(!labels.contains { $0.contains("keepalive") })

        var r4 = SplitMix64(seed: 3)
        let alive = SSHConversation.sftpSession(steps: [.ls, .idle(400_000_000_000), .put(100_000)],
                                                serverAlive: 60_000_000_000, rng: &r4)
        let requests = alive.filter { $0.label.contains("keepalive@openssh.com") }
        let failures = alive.filter { $0.label.contains("REQUEST_FAILURE") }
        // 400 s of silence at 60 s intervals: six requests, each answered; chacha20-poly1305 sizes.
        #expect(requests.count == 6 && failures.count == 6)
        #expect(requests.allSatisfy { $0.from == .client && $0.bytes.count == 52 && $0.delay == 60_000_000_000 })
        #expect(failures.allSatisfy { $0.from == .server && $0.bytes.count == 28 })
        let open2 = try! #require(alive.firstIndex { $0.label.contains("SSH_FXP_OPEN)") })
        #expect(alive[open2].delay == 40_000_000_000 + 200_000)
    }

    /// `get SIZE` downloads as sftp-client.c do_download does: STAT, OPEN, READs of 32768 bytes ramping up from one
    /// outstanding to 64, the tail re-requested after a short DATA and answered EOF, then CLOSE; the server sends
    /// the file's bytes, the client only requests and window adjusts.
    @Test func getDownloadsTheFileInReadsThatRampUpAndEndAtEOF() {
        for size in [0, 32768, 100_000, 5_000_000] {
            var rng = SplitMix64(seed: 5)
            let msgs = SSHConversation.sftpSession(steps: [.get(size)], rng: &rng)
            let data = msgs.filter { $0.label.contains("SSH_FXP_DATA ") }
            #expect(data.allSatisfy { $0.from == .server })
            // "SSH_FXP_DATA 1696 bytes at 98304)": the bytes each DATA carries add up to the file, in order.
            let parts = data.map { $0.label.split(separator: " ") }
            let counts = parts.compactMap { p in p.firstIndex(of: "SSH_FXP_DATA").map { Int(p[$0 + 1])! } }
            let offsets = parts.compactMap { p in p.firstIndex(of: "at").map { Int(p[$0 + 1].dropLast())! } }
            #expect(counts.reduce(0, +) == size, "\(size)")
            #expect(offsets == Array(stride(from: 0, to: size, by: 32768)), "\(size)")
            // Reads past the end are answered EOF: the ramp may have sent more than one there.
            let eofs = msgs.filter { $0.label.contains("SSH_FXP_STATUS EOF") }.count
            #expect(eofs >= 1, "\(size)")
            let reads = msgs.filter { $0.label.contains("SSH_FXP_READ ") }
            #expect(reads.allSatisfy { $0.from == .client })
            #expect(reads.count == data.count + eofs, "\(size)")
            // One READ before the first reply, then one more outstanding per full reply.
            let first = msgs.firstIndex { $0.label.contains("SSH_FXP_READ ") }!
            #expect(msgs[(first + 1)...].prefix { !$0.label.contains("SSH_FXP_DATA") && !$0.label.contains("EOF") }
                .allSatisfy { !$0.label.contains("SSH_FXP_READ ") })
            let serverBytes = msgs.filter { $0.from == .server }.map(\.bytes.count).reduce(0, +)
            let clientBytes = msgs.filter { $0.from == .client }.map(\.bytes.count).reduce(0, +)
            #expect(serverBytes > size && clientBytes < 10_000 + size / 100, "\(size): \(serverBytes) \(clientBytes)")
        }
        // 5 MB runs past the 2 MiB channel window: ssh(1) sends WINDOW_ADJUSTs, and no DATA goes beyond the credit.
        var rng = SplitMix64(seed: 5)
        let big = SSHConversation.sftpSession(steps: [.get(5_000_000)], rng: &rng)
        #expect(big.contains { $0.from == .client && $0.label.contains("WINDOW_ADJUST") })
        // The READs each DATA lets go: two (its replacement and one more) until 64 are outstanding, then one,
        // then none once the requests have passed the end — but the short tail's, whose rest is asked again.
        let released = big.indices.filter { big[$0].label.contains("SSH_FXP_DATA ") }.map { d in
            big.filter { $0.waitsFor == d && $0.label.contains("SSH_FXP_READ ") }.count
        }
        #expect(released.prefix(63) == ArraySlice(repeating: 2, count: 63))
        #expect(released.dropFirst(63).prefix(26) == ArraySlice(repeating: 1, count: 26), "\(released)")
        #expect(released.dropFirst(89).dropLast() == ArraySlice(repeating: 0, count: 63) && released.last == 1,
                "\(released)")
    }

    // MARK: The shipped story

    @Test func theIdleSessionDiesAtTheNATWithItsLastPacketNamedAndTheFixAdvisesKeepalives() throws {
        let (_, s) = try shippedScenario("sftp-idle-nat-timeout")
        let (sim, _, r) = simulate(s)
        #expect(r[0].outcome == .reset)
        #expect(r[0].message == "read ECONNRESET")
        let drop = try #require(r[0].drop)
        #expect(drop.component == "nat-0e1f2a3b4c5d6e7f8")
        #expect(drop.rule.hasPrefix("connection idle longer than 350 s (its last packet at 0.5"))
        #expect(r[0].elapsed > 400_000_000_000 && r[0].elapsed < 401_000_000_000)
        // Expired 350 s after the last packet (minute 5), not when the put arrived (minute 6).
        let minutes = sim.network.natMetricsPerMinute[0].filter { $0.metrics.idleTimeoutCount > 0 }.map(\.minute)
        #expect(minutes == [5])
        let fix = try #require(FixFinder.fix(scenario: s, flow: 0, result: r[0]))
        #expect(fix.changes.isEmpty)
        #expect(fix.advice?.contains("server_alive_interval: 60s") == true)
        #expect(fix.advice?.contains("keepalive: 60s") == true)
    }

    @Test func keepalivesUnder350SecondsKeepTheSessionAndTheTCPProbesAreLinuxs() throws {
        let (_, s) = try shippedScenario("sftp-idle-nat-timeout-fixed")
        let sim = Simulation(scenario: s)
        let tap = Tap()
        sim.observer = tap
        let r = sim.run()
        #expect(r.map(\.outcome) == [.ok, .ok])
        #expect(sim.network.natMetrics[0].idleTimeoutCount == 0)
        // The TCP keepalive flow at the instance: bare ACKs one byte behind the client's stream, each answered at
        // once by a bare ACK; first after 60 s of silence, then every 75 s (tcp_keepalive_intvl), as Linux does.
        let packets = tap.seen.filter { $0.point == 0 && $0.packet.flow == 1 }
        var nextSeq: UInt32?
        var probes: [(time: Int64, seq: UInt32)] = []
        var answered = 0
        for (k, p) in packets.enumerated() {
            guard let t = p.packet.tcp else { continue }
            if p.packet.fromClient {
                if let n = nextSeq, t.sequenceNumber == n &- 1, p.packet.payload.isEmpty, t.flags == .ack {
                    probes.append((p.time, t.sequenceNumber))
                    if let reply = packets[(k + 1)...].first(where: { !$0.packet.fromClient }), let rt = reply.packet.tcp,
                       rt.flags == .ack, reply.packet.payload.isEmpty, rt.acknowledgmentNumber == t.sequenceNumber &+ 1 {
                        answered += 1
                    }
                    continue
                }
                let end = t.sequenceNumber &+ UInt32(p.packet.payload.count)
                    &+ (t.flags.contains(.syn) || t.flags.contains(.fin) ? 1 : 0)
                if nextSeq == nil || seqLT(nextSeq!, end) { nextSeq = end }
            }
        }
        #expect(probes.count == 5)
        #expect(answered == 5)
        let gaps = zip(probes.dropFirst(), probes).map { $0.time - $1.time }
        #expect(gaps.allSatisfy { $0 == 75_000_000_000 })
        #expect(probes.first.map { $0.time - 1_000_000_000 } ?? 0 > 60_000_000_000)
    }

    @Test func serverAliveGivesUpAfterCountMaxUnansweredRequests() throws {
        var (_, s) = try shippedScenario("sftp-idle-nat-timeout-fixed")
        s.flows = [s.flows[0]]
        s.flows[0].expect = nil
        let sim = Simulation(scenario: s)
        // From 30 s on, nothing from the server reaches the instance (a dead path).
        sim.network.deliverToENI = { [unowned sim] eni, p in
            guard sim.scheduler.now < 30_000_000_000 else { return }
            var p = p
            sim.deliver(&p, toENI: eni)
        }
        let r = sim.run()
        #expect(r[0].outcome == .timeout)
        #expect(r[0].message.hasPrefix("Timeout, server sftp.example.com not responding."))
        // The server's last message came at ~0.54 s; checks at 60, 120, 180 s send requests; the fourth gives up.
        #expect(r[0].elapsed > 240_000_000_000 && r[0].elapsed < 241_000_000_000)
    }

    @Test func tcpKeepaliveResetsTheConnectionAfterNineUnansweredProbes() throws {
        var (_, s) = try shippedScenario("sftp-idle-nat-timeout-fixed")
        s.flows = [s.flows[1]]
        s.flows[0].expect = nil
        s.flows[0].start = 0
        s.flows[0].steps = [.ls, .idle(2_000_000_000_000), .put(1000)]
        let sim = Simulation(scenario: s)
        let tap = Tap()
        sim.observer = tap
        // From 30 s on, nothing from the server reaches the instance.
        sim.network.deliverToENI = { [unowned sim] eni, p in
            guard sim.scheduler.now < 30_000_000_000 else { return }
            var p = p
            sim.deliver(&p, toENI: eni)
        }
        let r = sim.run()
        #expect(r[0].outcome == .timeout)
        #expect(r[0].message == "read ETIMEDOUT (TCP keepalive probes unanswered)")
        // Silent from ~0.54 s: probes at +60 s and then every 75 s, nine of them; the tenth check resets.
        let fromClient = tap.seen.filter { $0.point == 0 && $0.packet.fromClient }
        let probes = fromClient.filter { $0.packet.payload.isEmpty && $0.packet.tcp?.flags == .ack && $0.time > 30_000_000_000 }
        #expect(probes.count == 9)
        #expect(fromClient.last?.packet.tcp?.flags == [.rst, .ack])
        let first = try #require(probes.first?.time)
        #expect(r[0].elapsed - first == 9 * 75_000_000_000)
    }

    // MARK: The scenario format

    @Test func malformedStepsAreOneLineErrorsAtTheirNode() throws {
        let (text, _) = try shippedScenario("sftp-idle-nat-timeout")
        func error(_ replace: String, _ with: String) -> String? {
            let yaml = text.replacingOccurrences(of: replace, with: with)
            do {
                _ = try ScenarioLoader.load(yaml: yaml, file: "t.yaml")
                return nil
            } catch {
                return "\(error)"
            }
        }
        let steps = "steps: [ls, idle 400s, put 1MB]"
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains(steps) }! + 1
        #expect(error(steps, "steps: [ls, dance, put 1MB]")
                == "t.yaml:\(line):17: invalid step 'dance' (expected ls, put SIZE, get SIZE or idle DURATION, e.g. put 1MB or idle 400s)")
        #expect(error(steps, "steps: [ls, idle 5x]") == "t.yaml:\(line):17: invalid idle '5x' (expected a duration such as 400s)")
        #expect(error(steps, "steps: [put lots]")?.hasPrefix("t.yaml:\(line):13: invalid put size 'lots'") == true)
        #expect(error(steps, "steps: []") == "t.yaml:\(line):12: flow 'interactive-sftp': steps is empty (expected e.g. [ls, idle 400s, put 1MB])")
        #expect(error("app: sftp\n", "app: https\n") == "t.yaml:\(line):5: flow 'interactive-sftp': steps is for app sftp, not https")
        #expect(error(steps, steps + "\n    size: 1MB")?.hasSuffix("size and steps together (a put step gives its size)") == true)
        #expect(error(steps, steps + "\n    keepalive: soon")?.hasSuffix("invalid keepalive 'soon' (expected a duration such as 60s)") == true)
        // kill_after: a duration over 0 and at most a year, placed at its value.
        for bad in ["-5s", "soon", "0", "0s", "75"] {
            #expect(error(steps, steps + "\n    kill_after: \(bad)")
                    == "t.yaml:\(line + 1):17: invalid kill_after '\(bad)' (expected a duration such as 75s)")
        }
        #expect(error(steps, steps + "\n    kill_after: 9000h")
                == "t.yaml:\(line + 1):17: kill_after '9000h' is over a year (8760h), the longest a duration in a scenario may be")
        #expect(error(steps, steps + "\n    kill_after: 75s") == nil)
        #expect(error(steps, steps + "\n    server_alive_count_max: 3")?
            .hasSuffix("server_alive_count_max needs server_alive_interval") == true)
        #expect(error(steps, steps + "\n    server_alive_interval: 60s\n    server_alive_count_max: -1")?
            .hasSuffix("invalid server_alive_count_max '-1' (expected 0-1000, e.g. 3)") == true)
        #expect(error(steps, steps + "\n    server_alive_interval: 60s") == nil)
        #expect(error(steps, steps + "\n    server_alive_interval: 60s\n    hold: 60s")?
            .hasSuffix("hold with server_alive_interval (write the pause as an idle step: steps: [..., idle 120s])") == true)
        // Bounds: a year of idle steps in all; keepalive requests are built in memory, so at most 100,000.
        #expect(error(steps, "steps: [idle 8000h, idle 8000h]") == "t.yaml:\(line):25: flow 'interactive-sftp': "
                + "the idle steps add up to over a year (8760h), the longest a duration in a scenario may be")
        #expect(error(steps, steps.replacingOccurrences(of: "400s", with: "1000h") + "\n    server_alive_interval: 1s")?
            .hasSuffix("server_alive_interval 1 s over 3600000 s of idle steps sends over 100000 keepalive requests") == true)
    }
}
