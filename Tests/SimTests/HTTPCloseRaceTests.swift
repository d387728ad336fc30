import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Who closes an HTTP/1.0 connection first (curl and Python's http.server race; assumption `http_close`), and
/// `compare` telling that race from a difference.
@Suite(.serialized) struct HTTPCloseRaceTests {
    static let netns = "linux-netns"

    /// The two real runs of the same curl request (captures/reference/linux-netns): in `ok` curl's FIN
    /// came first, in `nacl-out-22-blocked` the server's. Nothing else about the exchange differs.
    @Test func twoRealRunsOfOneRequestDifferOnlyInTheCloseRace() throws {
        let c = try CaptureComparison.compare(pathA: Fixtures.reference("\(Self.netns)/ok/lambda-eth0.pcap"),
                                              pathB: Fixtures.reference("\(Self.netns)/nacl-out-22-blocked/lambda-eth0.pcap"))
        let http = try #require(c.pairs.first { $0.a.serverPort == 443 })
        #expect(http.a.packets.count == 12 && http.b.packets.count == 12)
        #expect(http.agrees, "\(http.summary)")
        #expect(http.closeRace == 10...12)
        #expect(http.summary.contains("not a difference: a race: client and server closed at the same time; order "
            + "differs (A the client's FIN first, B the server's FIN first): A 10–12"), "\(http.summary)")
        #expect(!http.summary.contains { $0.contains("capture points apart") })
    }

    /// The same packets of the close in another order at one capture point: a race too, not "capture points
    /// apart on the path".
    @Test func theCloseSeenInAnotherOrderIsARace() throws {
        let a = Self.conversation([(.clientToServer, [.fin, .ack], 81, 214), (.serverToClient, [.fin, .ack], 214, 81),
                                   (.clientToServer, .ack, 82, 215), (.serverToClient, .ack, 215, 82)])
        let b = Self.conversation([(.serverToClient, [.fin, .ack], 214, 81), (.clientToServer, [.fin, .ack], 81, 214),
                                   (.serverToClient, .ack, 215, 82), (.clientToServer, .ack, 82, 215)])
        let match = ConversationPairing.pair([a], [b])[0]
        let p = CaptureComparison.comparePackets(a, b, match: match, options: CompareOptions())
        #expect(p.agrees, "\(p.summary)")
        #expect(p.closeRace == 4...7)
        #expect(p.crossings.isEmpty)
        #expect(p.summary.contains { $0.hasPrefix("not a difference: a race: client and server closed at the same time") })
        // Data reordered is no race.
        var c = b
        c.packets[3].payloadLength = 10
        let q = CaptureComparison.comparePackets(a, c, match: match, options: CompareOptions())
        #expect(q.closeRace == nil && !q.agrees)
    }

    /// A handshake and the given close, as a capture of one conversation would hold it.
    static func conversation(_ close: [(SegmentDirection, TCPFlags, UInt32, UInt32)]) -> CapturedConversation {
        var packets: [ConversationPacket] = []
        func add(_ d: SegmentDirection, _ f: TCPFlags, _ seq: UInt32, _ ack: UInt32?) {
            packets.append(ConversationPacket(index: packets.count + 1, frameNumber: packets.count + 1,
                                              time: Int64(packets.count) * 1000, direction: d, flags: f,
                                              relativeSequence: seq, relativeAcknowledgment: ack, payloadLength: 0,
                                              optionKinds: [], ttl: 64))
        }
        add(.clientToServer, .syn, 0, nil)
        add(.serverToClient, [.syn, .ack], 0, 1)
        add(.clientToServer, .ack, 1, 1)
        for (d, f, s, a) in close { add(d, f, s, a) }
        return CapturedConversation(index: 1, client: .v4(IPv4Address(10, 0, 1, 10)), clientPort: 40000,
                                    server: .v4(IPv4Address(203, 0, 113, 22)), serverPort: 443, clientDecidedBy: .syn,
                                    start: 0, startInCapture: 0, packets: packets)
    }

    /// scenarios/reality-ok.yaml with its http_close replaced.
    static func realityOK(httpClose: String) throws -> String {
        let text = try String(contentsOfFile: repositoryRoot + "/scenarios/reality-ok.yaml", encoding: .utf8)
        let old = "http_close: client-first"
        precondition(text.contains(old))
        return text.split(separator: old, omittingEmptySubsequences: false).joined(separator: "http_close: \(httpClose)")
    }

    /// The model closing server-first against the real run where curl closed first: at every capture point
    /// `compare` calls it the race it is.
    @Test func serverFirstAgainstTheRealClientFirstRunIsARaceAtEveryPoint() throws {
        let s = try ScenarioLoader.load(yaml: try Self.realityOK(httpClose: "server-first"), file: "reality-ok.yaml")
        let out = makeTempDirectory("vpcsim-http-close")
        let o = try Runner.run(scenario: s, options: .init(outDir: out))
        #expect(o.exitCode == 0)
        #expect(o.report.assumptions.contains { $0.name == "http_close" && $0.value == "server-first" && $0.overridden })
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        for (real, sim) in [("lambda-eth0", "01-lambda"), ("natgw-pub0", "02-nat"), ("igw-inet0", "03-igw"),
                            ("server-eth0", "04-host")] {
            let file = try #require(files.first { $0.hasPrefix(sim) && $0.hasSuffix(".pcap") })
            let c = try CaptureComparison.compare(pathA: Fixtures.reference("\(Self.netns)/ok/\(real).pcap"), pathB: out + "/" + file)
            let http = try #require(c.pairs.first { $0.a.serverPort == 443 })
            #expect(http.agrees, "\(real): \(http.summary)")
            #expect(http.closeRace == 10...12, "\(real)")
            #expect(http.summary.contains { $0.contains("(A the client's FIN first, B the server's FIN first)") }, "\(real)")
        }
    }

    /// Who sent the first FIN of each HTTP connection in a run of `flows` requests (`rttMs` to the server).
    static func firstFINs(httpClose: String, rttMs: String, flows: Int) throws -> [String] {
        var text = try Self.realityOK(httpClose: httpClose)
        text = text.replacingOccurrences(of: "rtt_ms: 0.02", with: "rtt_ms: \(rttMs)")
        let start = try #require(text.range(of: "flows:\n"))
        text = String(text[..<start.upperBound])
        for i in 0..<flows {
            text += "  - {name: h\(i), from: lambda, to: \"server:443\", app: http, client: curl, size: 28, start: \(i * 100)ms}\n"
        }
        let out = makeTempDirectory("vpcsim-http-race")
        let o = try Runner.run(scenario: try ScenarioLoader.load(yaml: text, file: "race.yaml"), options: .init(outDir: out))
        #expect(o.report.flows.allSatisfy { $0.outcome == "ok" })
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: out).sorted().first { $0.hasPrefix("01-lambda") })
        var first: [String: String] = [:]
        var order: [String] = []
        for row in try TShark.fields(out + "/" + file, ["tcp.stream", "ip.src"], filter: "tcp.flags.fin == 1") where !row.isEmpty {
            let f = row.split(separator: "\t").map(String.init)
            if first[f[0]] == nil { first[f[0]] = f[1]; order.append(f[0]) }
        }
        return order.map { first[$0]! }
    }

    /// `server-first` (the default) and `client-first` hold at any round trip; `race` goes either way, per flow.
    @Test func eachOrderHoldsAndARaceGoesBothWays() throws {
        #expect(try Self.firstFINs(httpClose: "server-first", rttMs: "0.3", flows: 3) == Array(repeating: "203.0.113.22", count: 3))
        #expect(try Self.firstFINs(httpClose: "client-first", rttMs: "20", flows: 3) == Array(repeating: "10.0.1.10", count: 3))
        let race = try Self.firstFINs(httpClose: "race", rttMs: "20", flows: 12)
        #expect(race.count == 12)
        #expect(Set(race) == ["10.0.1.10", "203.0.113.22"], "\(race)")
        let expected = (0..<12).map { HTTPCloseOrder.order(.race, seed: 1, flow: $0) == .clientFirst ? "10.0.1.10" : "203.0.113.22" }
        #expect(race == expected)
    }

    @Test func theRaceIsSeededPerFlowAndEvenlySplit() {
        let orders = (0..<400).map { HTTPCloseOrder.order(.race, seed: 1, flow: $0) }
        #expect(orders == (0..<400).map { HTTPCloseOrder.order(.race, seed: 1, flow: $0) })
        #expect(orders != (0..<400).map { HTTPCloseOrder.order(.race, seed: 2, flow: $0) })
        #expect((150...250).contains(orders.filter { $0 == .clientFirst }.count))
        #expect(orders.allSatisfy { $0 != .race })
        #expect(HTTPCloseOrder.order(.serverFirst, seed: 1, flow: 3) == .serverFirst)
        #expect(HTTPCloseOrder.order(.clientFirst, seed: 1, flow: 3) == .clientFirst)
    }

    @Test func theAssumptionIsReportedAndCheckedWhenLoaded() throws {
        let s = try ScenarioLoader.load(path: repositoryRoot + "/scenarios/igw-hairpin.yaml")
        #expect(s.assumptions.httpClose == .serverFirst)
        #expect(s.assumptions.listing.contains { $0.name == "http_close" && $0.value == "server-first" })
        let bad = try Self.realityOK(httpClose: "sideways")
        #expect(throws: ScenarioError.self) { try ScenarioLoader.load(yaml: bad, file: "r.yaml") }
        do {
            _ = try ScenarioLoader.load(yaml: bad, file: "r.yaml")
        } catch let e as ScenarioError {
            #expect(e.description.hasPrefix("r.yaml:21:15: "), "\(e)")
            #expect(e.description.contains("sideways") && !e.description.contains("\n"), "\(e)")
        }
    }
}
