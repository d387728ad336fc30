import Foundation
import Packets
import TestSupport
import Testing

/// scenarios/tgw-central-egress.yaml through the CLI: spoke B's upload crosses the transit gateway to the central
/// NAT gateway and back; spoke A's replies die at the egress VPC's internet gateway for want of a route back to
/// the gateway, and the verified fix names that route. Each attachment has its capture; the Transit Gateway Flow
/// Logs show spoke A's SYNs crossing and nothing coming back.
@Suite struct TransitGatewayStoryTests {
    @Test func theCentralEgressStoryMeetsItsExpectationsAndWritesCleanCaptures() throws {
        try StoryEndToEndTests().everyShippedScenarioMeetsItsExpectationsAndWritesCleanCaptures(name: "tgw-central-egress")
    }

    @Test func spokeAsRepliesDieAtTheInternetGatewayAndTheFixIsTheRouteBackToTheGateway() throws {
        let (r, report, out) = try runScenario("tgw-central-egress")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(report.expectations_checked == 2 && report.expectations_failed == 0)
        #expect(report.flow("upload-from-spoke-b")?.outcome == "ok")
        let a = try #require(report.flow("upload-from-spoke-a"))
        #expect(a.outcome == "timeout")
        let drop = try #require(a.drop)
        #expect(drop.kind == "internet-gateway" && drop.component == "igw-0e000000000000003")
        let fix = try #require(a.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.component) == ["rtb-0e000000000000032 (egress-public-rt)"])
        #expect(fix.changes.map(\.change) == ["add route 10.1.0.0/16 → tgw-0c000000000000009"])
        // The request crossed the gateway in the console's words.
        #expect(a.hops.contains { $0.step == "tgw-route" && $0.component == "tgw-rtb-0c000000000000091"
            && $0.rule == "0.0.0.0/0 → tgw-attach-0e00000000000003 (vpc)" })
        #expect(r.stdout.contains("tgw-rtb-0c000000000000091 (spokes) route: 0.0.0.0/0 → tgw-attach-0e00000000000003 (vpc)"))

        // A pcap per attachment: spoke A's shows the five SYNs and no reply; the egress attachment's shows them
        // leaving toward the NAT gateway; spoke B's shows its whole conversation both ways.
        let spokeA = out + "/" + (try #require(report.capture("tgw-spoke-a"))).file
        let egress = out + "/" + (try #require(report.capture("tgw-egress"))).file
        let spokeB = out + "/" + (try #require(report.capture("tgw-spoke-b"))).file
        let syn = "tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == 10.1.1.10"
        for t in [try times(spokeA, syn), try times(egress, syn)] {
            #expect(t.count == 5)
            for (got, want) in zip(t, [0.0, 1, 3, 7, 15]) { #expect(abs(got - want) < 0.001) }
        }
        #expect(try TShark.fields(spokeA, ["frame.number"], filter: "ip.dst == 10.1.1.10").isEmpty)
        #expect(try TShark.fields(egress, ["frame.number"], filter: "ip.dst == 10.1.1.10").isEmpty)
        #expect(!(try TShark.fields(spokeB, ["frame.number"], filter: "ip.dst == 10.2.1.10 && tcp.flags.syn == 1 && tcp.flags.ack == 1")).isEmpty)
        // The pcapng names each attachment's interface and says what the gateway did.
        let comments = try TShark.fields(out + "/all-hops.pcapng", ["frame.interface_name", "frame.comment"],
                                         filter: "ip.src == 10.1.1.10 && tcp.flags.syn == 1")
        #expect(comments.contains { $0.contains("tgw-attach-0a00000000000001") && $0.contains("to tgw-attach-0e00000000000003 by tgw-rtb-0c000000000000091") })
        // Transit Gateway Flow Logs: spoke A's five SYNs in by its attachment and out by the egress one; nothing
        // back to 10.1.1.10.
        let tgwLogs = try String(contentsOfFile: out + "/tgw-flow-logs.txt", encoding: .utf8).split(separator: "\n")
        let gateway = "6 TransitGateway 123456789012 tgw-0c000000000000009"
        let aToEgress = "123456789012 123456789012 vpc-0a000000000000001 vpc-0e000000000000003 subnet-0a000000000000012 "
            + "subnet-0e000000000000031 eni-0079ca38e17116cae eni-0c84d1e2f5c1c74af use1-az1 use1-az1"
        let syns = "10.1.1.10 203.0.113.22 34655 22 6 5 300 1795683601 1795683616 OK IPv4 0 0 0 0 2 us-east-1"
        #expect(tgwLogs.filter { $0.contains(" 10.1.1.10 ") } == [
            "\(gateway) tgw-attach-0a00000000000001 \(aToEgress) tgw-attach-0e00000000000003 \(syns) ingress - -",
            "\(gateway) tgw-attach-0e00000000000003 \(aToEgress) tgw-attach-0a00000000000001 \(syns) egress - -",
        ])
        #expect(tgwLogs.count == 7)  // the header, spoke A's two records, spoke B's four
    }
}
