import Foundation
import TestSupport
import Testing
@testable import Sim

/// `compare-logs` on Transit Gateway Flow Logs: the default format read with or without its header, records
/// matched by attachment and direction, the packets-lost-* counters compared as the action.
@Suite struct TGWFlowLogComparisonTests {
    static let fixture = Fixtures.path("flowlogs/tgw-default-format_synthetic.log")

    @Test func readsTheDefaultFormatWithAndWithoutItsHeader() throws {
        let text = try String(contentsOfFile: Self.fixture, encoding: .utf8)
        let log = FlowLogParser.parse(text)
        #expect(log.problems == [])
        #expect(log.hasHeader)
        #expect(log.fields == TGWFlowLogField.allCases.map(\.rawValue))
        #expect(log.records.count == 6)
        let headerless = FlowLogParser.parse(text.split(separator: "\n").dropFirst().joined(separator: "\n"))
        #expect(headerless.problems == [])
        #expect(!headerless.hasHeader)
        #expect(headerless.fields == log.fields)
        #expect(headerless.records.map(\.values) == log.records.map(\.values))
    }

    @Test func badTransitGatewayValuesAreNamed() {
        let line = try! String(contentsOfFile: Self.fixture, encoding: .utf8).split(separator: "\n")[1]
        func problem(_ from: String, _ to: String) -> String? {
            FlowLogParser.parse(line.replacingOccurrences(of: from, with: to)).problems.first?.message
        }
        #expect(problem("TransitGateway ", "Gateway ") == "resource-type 'Gateway' is not TransitGateway or TransitGatewayAttachment")
        #expect(problem("tgw-attach-0a1b2c3d4e5f60001", "attach-1") == "tgw-attachment-id 'attach-1' does not start with tgw-attach-")
        #expect(problem(" IPv4 0 0 0 0 ", " IPv4 0 x 0 0 ") == "packets-lost-blackhole 'x' is not a number")
        #expect(problem(" eni-0a1b2c3d4e5f60031 ", " if-1 ") == "tgw-src-eni 'if-1' does not start with eni-")
        #expect(FlowLogParser.parse(line + "\n" + line + " extra").problems
            == [.init(line: 2, message: "expected 36 fields (default Transit Gateway format), found 37")])
    }

    @Test func aLostCounterIsAnActionMismatchAtTheAttachmentAndDirection() throws {
        let text = try String(contentsOfFile: Self.fixture, encoding: .utf8)
        let same = FlowLogComparison.compare(simulated: FlowLogParser.parse(text), real: FlowLogParser.parse(text))
        #expect(same.agree)
        #expect(same.matched == 6)
        #expect(same.matchedOn == ["tgw-attachment-id", "flow-direction", "protocol", "srcaddr", "dstaddr", "srcport", "dstport"])
        // The real gateway blackholed the request the simulation forwarded.
        let real = text.replacingOccurrences(of: "1760 1732406400 1732406411 OK IPv4 0 0 0 0 3 us-east-2 ingress",
                                             with: "1760 1732406400 1732406411 OK IPv4 0 12 0 0 3 us-east-2 ingress")
        let c = FlowLogComparison.compare(simulated: FlowLogParser.parse(text), real: FlowLogParser.parse(real))
        #expect(!c.agree)
        #expect(c.actionMismatches.map(\.key.description)
            == ["tgw-attach-0a1b2c3d4e5f60001 ingress tcp 10.0.1.25:49761 → 198.51.100.7:443"])
        #expect(c.actionMismatches.first?.simulated?.actions == ["FORWARDED"])
        #expect(c.actionMismatches.first?.real?.actions == ["LOST-BLACKHOLE"])
        #expect(c.text.contains("tgw-attach-0a1b2c3d4e5f60001 ingress tcp 10.0.1.25:49761 → 198.51.100.7:443: simulated FORWARDED, real LOST-BLACKHOLE"))
        #expect(c.onlyInReal.isEmpty && c.onlyInSimulated.isEmpty)
    }

    /// A simulated run with the route against one with a blackhole route: attachment A's ingress records disagree
    /// (FORWARDED vs LOST-BLACKHOLE), and the records past the gateway are in the forwarding run only.
    @Test func simulatedRunsCompare() throws {
        let ok = try #require(try TGWFlowLogTests.run().tgwFlowLogText)
        var opts = TransitGatewayTests.Options()
        opts.staticRoutes = "{destination: 10.2.1.0/24, target: blackhole}"
        let dropped = try #require(try TGWFlowLogTests.run(opts).tgwFlowLogText)
        let c = FlowLogComparison.compare(simulated: FlowLogParser.parse(ok), real: FlowLogParser.parse(dropped))
        #expect(c.simulatedProblems == [] && c.realProblems == [])
        #expect(c.actionMismatches.map(\.key.description)
            == ["\(TGWFlowLogTests.attachA) ingress tcp 10.1.1.10:24397 → 10.2.1.20:443"])
        #expect(c.actionMismatches.first?.real?.actions == ["LOST-BLACKHOLE"])
        #expect(c.onlyInSimulated.map(\.key.direction) == ["egress"])
        #expect(c.interfacesOnlyInSimulated.map(\.id) == [TGWFlowLogTests.attachB])
    }

    @Test func aVPCLogAgainstATransitGatewayLogIsNoted() throws {
        let tgw = FlowLogParser.parse(try String(contentsOfFile: Self.fixture, encoding: .utf8))
        let vpc = FlowLogParser.parse("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n")
        let c = FlowLogComparison.compare(simulated: tgw, real: vpc)
        #expect(!c.agree)
        #expect(c.notes.contains("one file is a Transit Gateway flow log (tgw-attachment-id) and the other is not: their records cannot match"))
    }
}
