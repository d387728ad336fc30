import Foundation
import Packets
import Sim
import TestSupport
import Testing

/// `CaptureComparison`: pairing the TCP conversations of two captures and comparing them packet by packet.
@Suite struct CompareTests {
    static let netns = "linux-netns"
    static let ssh = "public/ssh"

    func compare(_ a: String, _ b: String, _ options: CompareOptions = CompareOptions()) throws -> CaptureComparison {
        try CaptureComparison.compare(pathA: Fixtures.reference(a), pathB: Fixtures.reference(b), options: options)
    }

    /// Copies a capture through `change` (which may edit the frame and its timestamp) into a temp file.
    func rewritten(_ fixture: String, _ change: (inout Frame, inout Int64, Int64) -> Void) throws -> String {
        let (link, records) = try Fixtures.read(Fixtures.reference(fixture))
        let out = makeTempDirectory("vpcsim-compare") + "/rewritten.pcap"
        let w = try PcapWriter(path: out, linkType: link)
        let t0 = records.first?.timestamp ?? 0
        for r in records {
            var frame = try Frame(parsing: r.data, linkType: link)
            var t = r.timestamp
            change(&frame, &t, t0)
            w.write(frame.bytes(filling: true), timestamp: t)
        }
        try w.close()
        return out
    }

    func scaled(_ fixture: String, by factor: Double) throws -> String {
        try rewritten(fixture) { _, t, t0 in t = t0 + Int64((Double(t - t0) * factor).rounded()) }
    }

    @Test func everyFixtureComparedWithItselfAgrees() throws {
        let all = Fixtures.allCaptures()
        #expect(all.count >= 20)
        for path in all {
            let c = try CaptureComparison.compare(pathA: path, pathB: path)
            #expect(c.agrees, "\(path)")
            #expect(c.exitStatus == 0)
            #expect(c.unpairedA.isEmpty && c.unpairedB.isEmpty, "\(path)")
            #expect(c.pairs.count == c.a.conversations.count, "\(path)")
            for p in c.pairs {
                #expect(p.a.index == p.b.index, "\(path): a conversation pairs with itself")
                #expect(p.differences.isEmpty && p.extra == nil)
            }
        }
    }

    @Test func lambdaAndServerOfOneRunPairDespiteNATAndDifferOnlyInTTLByTheTwoRouters() throws {
        let c = try compare("\(Self.netns)/ok/lambda-eth0.pcap", "\(Self.netns)/ok/server-eth0.pcap")
        #expect(c.pairs.count == 2)
        #expect(c.unpairedA.isEmpty && c.unpairedB.isEmpty)
        #expect(c.exitStatus == 1)
        for p in c.pairs {
            #expect(p.a.client == .v4(IPv4Address(10, 0, 1, 10)))
            #expect(p.b.client == .v4(IPv4Address(198, 51, 100, 7)))
            #expect(p.a.clientPort == p.b.clientPort && p.a.serverPort == p.b.serverPort)
            #expect(p.match.basis.contains("server port \(p.a.serverPort)"))
            #expect(!p.match.basis.contains { $0.hasPrefix("client address") })
            #expect(p.extra == nil)
            // Every packet differs in TTL and in nothing else: 64 leaving the sender, 62 two routers later.
            #expect(Set(p.differences.map(\.field)) == [.ttl])
            #expect(p.differences.count == p.a.packets.count)
            for d in p.differences {
                let dir = p.a.packets[d.packet - 1].direction
                #expect(d.a == .int(dir == .clientToServer ? 64 : 62))
                #expect(d.b == .int(dir == .clientToServer ? 62 : 64))
            }
            #expect(p.summary.contains { $0.hasSuffix("B is 2 routers further from the client") })
        }
        let ssh = try #require(c.pairs.first { $0.a.serverPort == 22 })
        #expect(ssh.crossings == [15...16], "the two capture points saw one pair of packets in the other order")
        let ignoringTTL = try compare("\(Self.netns)/ok/lambda-eth0.pcap", "\(Self.netns)/ok/server-eth0.pcap",
                                      CompareOptions(ignored: [.ttl]))
        #expect(ignoringTTL.agrees)
    }

    @Test func theBlockedSSHSessionNeverReachedTheServerSoItIsUnpairedAndCountsOnlyWhenStrict() throws {
        let a = "\(Self.netns)/nacl-out-22-blocked/lambda-eth0.pcap", b = "\(Self.netns)/nacl-out-22-blocked/server-eth0.pcap"
        let c = try compare(a, b, CompareOptions(ignored: [.ttl]))
        #expect(c.pairs.count == 1 && c.pairs[0].a.serverPort == 443 && c.pairs[0].agrees)
        #expect(c.unpairedA.map(\.serverPort) == [22] && c.unpairedA[0].packets.count == 5)
        #expect(c.unpairedB.isEmpty)
        #expect(c.agrees)
        #expect(try !compare(a, b, CompareOptions(ignored: [.ttl], strict: true)).agrees)
    }

    @Test func twoUnrelatedSSHSessionsPairByServerPort22AndDifferInNamedWays() throws {
        let c = try compare("\(Self.ssh)/zeek_ssh_kex_curve25519.pcap", "\(Self.ssh)/zeek_ssh_kex_dh_group18.pcap")
        #expect(c.pairs.count == 1)
        let p = c.pairs[0]
        #expect(p.match.basis.first == "server port 22")
        #expect(p.match.explanation.hasPrefix("paired by server port 22, shape 0.36"))
        #expect(!p.agrees && c.exitStatus == 1)
        #expect(p.extra?.side == "A" && p.extra?.from == 26 && p.extra?.count == 49)
        #expect(p.extra?.text.hasPrefix("A has 49 more packets from 26 on: 26 ← PSH,ACK 44") == true)
        let texts = p.differences.map(\.text)
        #expect(texts.contains("packet 1: flags SYN vs CWR,ECE,SYN"))
        #expect(texts.contains("packet 4: payload 21 vs 22"))
        #expect(texts.contains("packet 8: payload 1432 vs 336"))
        #expect(p.firstDivergence == 1)
        #expect(p.summary.contains { $0.hasPrefix("payload size: 18 of 25 packets differ") })
    }

    @Test func conversationsPairAcrossADifferentServerPortByShape() throws {
        let moved = try rewritten("\(Self.ssh)/zeek_ssh_kex_dh_group18.pcap") { f, _, _ in
            guard var tcp = f.transport.tcp else { return }
            if tcp.sourcePort == 22 { tcp.sourcePort = 2222 }
            if tcp.destinationPort == 22 { tcp.destinationPort = 2222 }
            f.transport = .tcp(tcp)
        }
        let c = try CaptureComparison.compare(pathA: Fixtures.reference("\(Self.ssh)/zeek_ssh_kex_dh_group18.pcap"),
                                              pathB: moved)
        #expect(c.pairs.count == 1)
        #expect(c.pairs[0].b.serverPort == 2222)
        #expect(c.pairs[0].match.explanation == "paired by server address 192.168.249.130, client address 192.168.249.1, client port 54468, shape 1.00 and timing 1.00 (server ports differ: 22 vs 2222); score 0.70")
        #expect(c.pairs[0].agrees)
    }

    @Test func vxlanMirroredHTTPFlowIsUnwrappedAndAgreesWithItself() throws {
        let path = "public/vxlan/zeek_vxlan-encapsulated-http.pcap"
        let c = try compare(path, path)
        #expect(c.a.vxlanUnwrapped == 12 && c.a.vxlanVNIs == [1])
        #expect(c.a.conversations.count == 1 && c.a.conversations[0].serverPort == 80)
        #expect(c.a.conversations[0].packets.count == 12)
        #expect(c.agrees)
        #expect(CompareRenderer.text(c).contains("A: unwrapped 12 VXLAN packets (VNI 1)"))
    }

    @Test func aNewSYNAfterAResetStartsANewConversationOnTheSameTuple() throws {
        let cap = try CompareCapture.load(path: Fixtures.reference(
            "public/timeout/zeek_pop3_refused-rst-with-retries_DERIVED.pcap"))
        #expect(cap.conversations.count == 6)
        #expect(cap.conversations.map(\.packets.count) == [2, 2, 2, 2, 2, 2])
        #expect(cap.conversations.allSatisfy { $0.serverPort == 110 && $0.clientDecidedBy == .syn })
    }

    @Test func withoutAHandshakeTheLowerPortIsTheServer() throws {
        let headless = try rewritten("\(Self.ssh)/zeek_ssh_kex_dh_group18.pcap") { f, _, _ in
            if let tcp = f.transport.tcp, tcp.flags.contains(.syn) { f.transport = .none; f.ip = nil }
        }
        let cap = try CompareCapture.load(path: headless)
        #expect(cap.conversations.count == 1)
        #expect(cap.conversations[0].clientDecidedBy == .lowerPortIsServer)
        #expect(cap.conversations[0].serverPort == 22)
        #expect(cap.unparsedFrames == 2, "the emptied SYN and SYN-ACK frames are skipped, not fatal")
    }

    @Test func timingsScaledBy3PercentAgreeAndBy20PercentDiffer() throws {
        let original = "\(Self.ssh)/zeek_ssh_kex_curve25519.pcap"  // 2.25 s
        let slower3 = try CaptureComparison.compare(pathA: Fixtures.reference(original),
                                                    pathB: try scaled(original, by: 1.03))
        #expect(slower3.agrees)
        let slower20 = try CaptureComparison.compare(pathA: Fixtures.reference(original),
                                                     pathB: try scaled(original, by: 1.20))
        #expect(!slower20.agrees)
        #expect(Set(slower20.pairs[0].differences.map(\.field)) == [.time])
        // A wider tolerance takes the 20% back in.
        let wide = try CaptureComparison.compare(pathA: Fixtures.reference(original), pathB: try scaled(original, by: 1.20),
                                                 options: CompareOptions(tolerancePercent: 25))
        #expect(wide.agrees)
    }

    @Test func toleranceIsFivePercentOfTheTimeOrFiftyMillisecondsWhicheverIsLarger() {
        let o = CompareOptions()
        #expect(o.tolerance(0, 0) == 50_000_000)
        #expect(o.tolerance(500_000_000, 400_000_000) == 50_000_000)
        #expect(o.tolerance(2_000_000_000, 1_000_000_000) == 100_000_000)
    }

    @Test func aTruncatedFileThrowsNamingTheFileAndThePacket() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.reference("\(Self.ssh)/zeek_ssh_kex_dh_group18.pcap")))
        let path = makeTempDirectory("vpcsim-compare") + "/cut.pcap"
        try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: path))
        #expect(throws: CaptureFileError.self) { try CompareCapture.load(path: path) }
        do {
            _ = try CompareCapture.load(path: path)
        } catch {
            #expect(error.path == path && error.packet == 25)
            #expect(error.description.hasPrefix("\(path): packet 25: "))
        }
    }

    @Test func firstDivergenceIsMarkedAndLongTablesShowTheRegionAroundIt() throws {
        let c = try compare("\(Self.ssh)/zeek_ssh_kex_curve25519.pcap", "\(Self.ssh)/zeek_ssh_kex_dh_group18.pcap")
        let table = CompareRenderer.table(c.pairs[0])
        #expect(table[0].contains("time A") && table[0].contains("seq/ack rel."))
        #expect(table.filter { $0.hasPrefix(">>") }.count == 1)
        #expect(table[1].hasPrefix(">>   1"))
        #expect(table.count < 20)
        #expect(table.last?.contains("62 more rows") == true)
        #expect(CompareRenderer.table(c.pairs[0], full: true).count == 75)
    }
}
