import Foundation
import Packets
import Testing
import TestSupport
@testable import Sim

private let repo: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

private func story(_ name: String) throws -> String {
    try String(contentsOfFile: repo + "/scenarios/\(name).yaml", encoding: .utf8)
}

private func run(_ yaml: String) throws -> Runner.Outcome {
    try Runner.run(scenario: ScenarioLoader.load(yaml: yaml, file: "t.yaml"), options: .init(writeFiles: false))
}

@Suite("Path MTU: interface MTUs, ICMP fragmentation needed, the sender's path MTU cache")
struct PathMTUTests {
    @Test func eachStacksMSSFollowsItsInterfaceMTU() throws {
        let s = try loadScenario(try story("sftp-pmtud-blackhole"))
        // An instance: 9001 by default (jumbo frames), MSS 8961, Linux's SYN window 7 × 8961.
        #expect(s.model.instances[0].mtu == 9001)
        #expect(s.model.instances[0].stack.mss == 8961)
        #expect(s.model.instances[0].stack.synWindow == 62727)
        // An outside host: 1500, MSS 1460, window 44 × 1460; its path MTU apart.
        #expect(s.model.outsideHosts[0].stack.mss == 1460)
        #expect(s.model.outsideHosts[0].stack.synWindow == 64240)
        #expect(s.model.outsideHosts[0].pathMTU == 1400)
        // A per-instance mtu, and the assumption.
        let own = try loadScenario(try story("sftp-pmtud-blackhole").replacingOccurrences(
            of: "    security_groups: [sftp-sg]\n", with: "    security_groups: [sftp-sg]\n    mtu: 1500\n"))
        #expect(own.model.instances[0].stack.mss == 1460)
        let assumed = try loadScenario(try story("sftp-pmtud-blackhole") + "\nassumptions: {instance_mtu: 8500}\n")
        #expect(assumed.model.instances[0].stack.mss == 8460)
        #expect(assumed.assumptions.overridden.contains("instance_mtu"))
    }

    @Test func badMTUsAreOneLineErrors() throws {
        let yaml = try story("sftp-pmtud-blackhole")
        for (bad, message) in [
            ("path_mtu: 1400", "path_mtu: 1500"),
            ("path_mtu: 1400", "path_mtu: 100"),
        ] {
            #expect(throws: ScenarioError.self) { try loadScenario(yaml.replacingOccurrences(of: bad, with: message)) }
        }
        do {
            _ = try loadScenario(yaml.replacingOccurrences(of: "path_mtu: 1400", with: "path_mtu: 1500"))
        } catch let e as ScenarioError {
            #expect(e.message.contains("path_mtu 1500 is not smaller than the host's mtu 1500"))
            #expect(!e.description.contains("\n"))
        }
        do {
            _ = try loadScenario(yaml + "\nassumptions: {tcp_mtu_probing: 2}\n")
            Issue.record("tcp_mtu_probing 2 accepted")
        } catch let e as ScenarioError {
            #expect(e.message.contains("tcp_mtu_probing 2 (always probe) is not modeled"))
            #expect(e.description.hasPrefix("t.yaml:"))
            #expect(!e.description.contains("\n"))
        }
    }

    @Test func fragmentationNeededQuotesTheHeaderAndEightBytesWithGoodChecksums() throws {
        var ip = IPv4Header(source: IPv4Address("198.51.100.20")!, destination: IPv4Address("203.0.113.50")!,
                            proto: .tcp, ttl: 56, identification: 0x1234, dontFragment: true)
        ip.totalLength = 1500
        let tcp = TCPHeader(sourcePort: 22, destinationPort: 58838, sequenceNumber: 0xA1B2_C3D4, acknowledgmentNumber: 1,
                            flags: .ack, window: 500)
        var p = SimPacket(ip: ip, transport: .tcp(tcp), flow: 3, fromClient: false)
        p.id = 7
        let icmp = VPCNetwork.fragmentationNeeded(quoting: p, from: IPv4Address("203.0.113.50")!, mtu: 1400)
        #expect(icmp.ip.source == IPv4Address("203.0.113.50")!)
        #expect(icmp.ip.destination == IPv4Address("198.51.100.20")!)
        #expect(icmp.ip.proto == .icmp && icmp.ip.totalLength == 56 && !icmp.ip.dontFragment)
        #expect(icmp.flow == 3 && icmp.fromClient)
        let h = try #require(icmp.transport.icmp)
        #expect(h.type == .destinationUnreachable && h.code == 4 && h.nextHopMTU == 1400)
        let q = icmp.payload.bytes
        #expect(q.count == 28)
        #expect(InternetChecksum.sum(Array(q[0..<20])) == 0xFFFF, "the quoted header's checksum is right")
        #expect(Array(q[2..<4]) == [0x05, 0xDC])  // total length 1500 as sent
        #expect(Array(q[20..<28]) == [0, 22, 0xE5, 0xD6, 0xA1, 0xB2, 0xC3, 0xD4])  // ports and sequence number
        let key = try #require(VPCNetwork.quotedKey(icmp))
        #expect(key == PacketKey(proto: .tcp, source: ip.source, destination: ip.destination, sourcePort: 22,
                                 destinationPort: 58838))
        // The ICMP's whole frame, as the capture writes it, has a valid ICMP checksum.
        let frame = Frame(link: .ethernet(EthernetHeader(destination: .zero, source: .zero, etherType: .ipv4)),
                          ip: icmp.ip, transport: icmp.transport, payload: icmp.payload.bytes)
        let parsed = try Frame(parsing: frame.bytes(filling: true), linkType: .ethernet)
        #expect(parsed.checksums.allGood)
        #expect(parsed.icmpQuote?.ip.source == ip.source)
        var owned = icmp
        owned.payload.free()
    }

    @Test func blackHoleNACLDropsTheICMPAndTheServerBacksOff() throws {
        let o = try run(try story("sftp-pmtud-blackhole"))
        let r = o.results[0]
        #expect(r.outcome == .timeout)
        #expect(r.message.contains("readyTimeout"))
        let drop = try #require(r.drop)
        #expect(drop.kind == "nacl" && drop.direction == "inbound" && drop.rule == "* DENY all 0.0.0.0/0")
        #expect(drop.key.proto == .icmp && drop.key.icmpType == 3 && drop.key.icmpCode == 4)
        // The server's segment, dropped at the link and sent again with RTO backoff (0.2 s doubling) until the
        // client gives up at 20 s: at 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8 s after the first.
        let big = try #require(r.drops.first { $0.kind == "path-mtu" && !$0.fromClient })
        #expect(big.rule.hasPrefix("path MTU 1400 < packet 1500 bytes (DF set)"))
        #expect(big.count == drop.count)
        #expect(big.count >= 7)
        let hole = try #require(r.blackHole)
        #expect(hole == "path MTU 1400 < packet 1500 bytes (DF set); the ICMP that would report it was dropped at "
                    + "acl-0b1c2d3e4f5a6b7c8 (public-nacl) inbound: * DENY all 0.0.0.0/0")
        #expect(o.text.contains("PATH MTU BLACK HOLE: " + hole))
        // The fix: the NACL's ICMP type 3 code 4 rule and the security group's ICMP rule, verified.
        let fix = try #require(o.report.flows[0].fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["inbound: add #110 ALLOW icmp type 3 code 4 0.0.0.0/0",
                                              "ingress: add ALLOW icmp type 3 code 4 0.0.0.0/0"])
    }

    /// tcp_mtu_probing = 1: the server resends the 1448-byte segment (once after the client's SACK, then at each
    /// timeout) until 3 s have passed since it first went out (tcp_retries1's worth of time from the 200 ms minimum
    /// RTO); at the next timeout it drops to 1024 bytes, which fit the 1400-byte link, and the session completes.
    @Test func blackHoleDetectionDropsTheMSSTo1024AfterThreeSecondsOfTimeouts() throws {
        let out = makeTempDirectory("vpcsim-mtu-probing")
        let o = try Runner.run(path: repo + "/scenarios/sftp-pmtud-blackhole-mtu-probing.yaml", options: .init(outDir: out))
        #expect(o.exitCode == 0, "the scenario's own expectations")
        #expect(o.results[0].outcome == .ok)
        #expect(o.results[0].blackHole != nil, "the black hole is still there and named")
        #expect(o.text.contains("tcp_mtu_probing                  1"))
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first { $0.hasPrefix("01-instance") })
        let c = try #require(try CompareCapture.load(path: out + "/" + file).conversations.first)
        let data = c.packets.filter { $0.direction == .serverToClient && $0.payloadLength > 0 }
        let lost = try #require(data.first { $0.payloadLength == 1448 })
        let copies = data.filter { $0.relativeSequence == lost.relativeSequence }
        // The first send, the SACK-triggered resend, four timeouts: the fifth copy is the first of 1024 bytes.
        #expect(copies.map(\.payloadLength) == [1448, 1448, 1448, 1448, 1448, 1024])
        let elapsed = copies.map { $0.time - lost.time }
        #expect(elapsed[4] < 3_000_000_000 && elapsed[5] >= 3_000_000_000, "\(elapsed)")
        // Every segment after it is at most 1024 bytes: the MSS stays down (no probing back up).
        let after = data.filter { $0.time > copies[5].time }
        #expect(!after.isEmpty && after.allSatisfy { $0.payloadLength <= 1024 })
        // Without black-hole detection the same network hangs (the story itself).
        var yaml = try story("sftp-pmtud-blackhole-mtu-probing")
        yaml = yaml.replacingOccurrences(of: "tcp_mtu_probing: 1 ", with: "tcp_mtu_probing: 0 ")
            .replacingOccurrences(of: "outcome: ok", with: "outcome: timeout")
        #expect(try run(yaml).results[0].outcome == .timeout)
    }

    @Test func withICMPAllowedTheServerShrinksItsSegmentsAndCompletes() throws {
        let o = try run(try story("sftp-pmtud-blackhole-fixed"))
        #expect(o.results[0].outcome == .ok)
        // One segment of each side was too big; nothing else was dropped.
        #expect(o.results[0].drops.map(\.kind) == ["path-mtu", "path-mtu"])
        #expect(o.results[0].drops.allSatisfy { $0.count == 1 })
        #expect(o.results[0].blackHole == nil)
    }

    @Test func relatedICMPIsAdmittedWithoutARuleOnlyUnderTheAssumption() throws {
        // The fixed NACL, no ICMP rule in the security group.
        let yaml = try story("sftp-pmtud-blackhole-fixed").replacingOccurrences(
            of: "      - {protocol: icmp, icmp_type: 3, icmp_code: 4, cidr: 0.0.0.0/0, description: Path MTU Discovery}\n", with: "")
        let strict = try run(yaml)
        #expect(strict.results[0].outcome == .timeout)
        #expect(strict.results[0].drop?.kind == "security-group")
        #expect(strict.results[0].drop?.rule == "no ingress rule allows icmp from 203.0.113.50")
        // Related to a tracked connection only: the story's group allows SSH from 0.0.0.0/0 and everything out,
        // so the session is an untracked flow (`sg_untracked_flows`) and nothing relates the ICMP to it.
        let untracked = try run(yaml + "\nassumptions: {sg_admits_related_icmp: true}\n")
        #expect(untracked.results[0].outcome == .timeout)
        #expect(untracked.results[0].drop?.rule == "no ingress rule allows icmp from 203.0.113.50")
        let related = try run(yaml + "\nassumptions: {sg_admits_related_icmp: true, sg_untracked_flows: false}\n")
        #expect(related.results[0].outcome == .ok)
    }

    @Test func theNACLMustAllowTheICMPInboundItself() throws {
        // A NACL rule for ICMP type 3 with another code does not let type 3 code 4 in.
        let yaml = try story("sftp-pmtud-blackhole-fixed").replacingOccurrences(
            of: "icmp_type: 3, icmp_code: 4", with: "icmp_type: 3, icmp_code: 3")
        let o = try run(yaml)
        #expect(o.results[0].outcome == .timeout)
        #expect(o.results[0].drop?.kind == "nacl")
    }
}
