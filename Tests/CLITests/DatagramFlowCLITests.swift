import Foundation
import Testing
import TestSupport

/// Datagram flows (`udp`, `ping`) through a NAT gateway, as the captures, flow logs and report show them.
@Suite("Datagram flows: UDP fragments through a NAT gateway, a large ping dropped there")
struct DatagramFlowCLITests {
    /// A 4000-byte UDP datagram leaves the Lambda in three fragments without DF; the NAT gateway translates
    /// every fragment, the server reassembles each datagram and its 4000-byte reply comes back in fragments too.
    @Test func udpFragmentsPassTheNATGatewayBothWays() throws {
        let (r, report, out) = try runScenario("udp-fragments-through-nat")
        #expect(r.status == 0, "\(r.stderr)")
        let f = try #require(report.flow("udp-echo"))
        #expect(f.outcome == "ok" && f.drop == nil)
        #expect(r.stdout.contains("3 datagrams sent, 3 replies received"))
        let lambda = out + "/" + (try #require(report.capture("lambda"))).file
        let host = out + "/" + (try #require(report.capture("host"))).file
        // At the Lambda: three fragments per datagram, DF clear, MF on the first two; the replies likewise.
        let sent = try TShark.fields(lambda, ["ip.flags.df", "ip.flags.mf", "ip.len"], filter: "ip.src == 10.0.1.10")
        #expect(sent == Array(repeating: ["0\t1\t1500", "0\t1\t1500", "0\t0\t1068"], count: 3).flatMap { $0 }, "\(sent)")
        #expect(try TShark.fields(lambda, ["udp.length"], filter: "udp && ip.src == 203.0.113.22") == ["4008", "4008", "4008"])
        // At the server: the datagrams reassembled from the NAT gateway's address, translated port and checksum
        // right (TShark.problems validates UDP checksums).
        let arrived = try TShark.fields(host, ["ip.src", "udp.length"], filter: "udp && ip.dst == 203.0.113.22")
        #expect(arrived == Array(repeating: "198.51.100.7\t4008", count: 3), "\(arrived)")
        for file in report.captures.map(\.file) + ["all-hops.pcapng"] {
            let (frames, problems) = try TShark.problems(in: out + "/" + file)
            #expect(frames > 0 && problems == [], "\(file): \(problems)")
        }
        // Flow logs: protocol 17 records at the Lambda's ENI, 9 packets each way.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
        let udp = logs.filter { $0.contains(" 17 ") && $0.contains("eni-0c83aca23d1a66d8b") }
        #expect(udp.count == 2 && udp.allSatisfy { $0.contains(" 17 9 ") && $0.hasSuffix("ACCEPT OK") }, "\(udp)")
    }

    /// The 56-byte ping passes (its identifier translated by the NAT gateway and back); the 4000-byte one is
    /// fragmented by the Lambda and the NAT gateway drops every fragment: no request reaches the host, ping
    /// reports 100% loss after 10 s, and the report says why and what to do instead.
    @Test func largePingDiesAtTheNATGatewaySmallOnePasses() throws {
        let (r, report, out) = try runScenario("ping-large-dropped-at-nat")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(report.expectations_checked == 2 && report.expectations_failed == 0)
        let small = try #require(report.flow("ping-small")), large = try #require(report.flow("ping-large"))
        #expect(small.outcome == "ok" && small.drop == nil)
        #expect(large.outcome == "timeout" && abs(large.elapsed_s - 12) < 0.001)
        #expect(large.drop?.kind == "nat-gateway" && large.drop?.component == "nat-0e1f2a3b4c5d6e7f8")
        #expect(large.drop?.rule.contains("a NAT gateway forwards UDP fragments only") == true)
        #expect(r.stdout.contains("3 packets transmitted, 0 received, 100% packet loss"))
        #expect(r.stdout.contains("ADVICE: a NAT gateway drops TCP and ICMP fragments"))
        // The report: a ping's identifier is its echo id; the nine fragments are one drop line, three datagrams;
        // the path shown is the first request's first fragment, said to be one.
        #expect(r.stdout.contains("lambda uploader → host.example.com (ping), echo id "))
        #expect(!r.stdout.contains("client port"))
        let dropLines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  DROPPED") }
        #expect(dropLines == ["  DROPPED 3 datagrams (9 fragments) at nat-0e1f2a3b4c5d6e7f8 (public-nat): "
                                + "icmp fragments: a NAT gateway forwards UDP fragments only"], "\(dropLines)")
        #expect(large.drops.count == 1 && large.drop?.count == 9 && large.drop?.datagrams == 3)
        #expect(r.stdout.contains("  path of the first echo request's first fragment (offset 0, MF):\n"))
        #expect(r.stdout.contains("  path of the first echo request:\n"))
        #expect(large.first_fragment == "fragment (offset 0, MF)" && small.first_fragment == nil)
        #expect(large.hops.last?.step == "nat-gateway" && large.hops.last?.action == "dropped")
        let lambda = out + "/" + (try #require(report.capture("lambda"))).file
        let host = out + "/" + (try #require(report.capture("host"))).file
        // The host saw the three small requests only, from the NAT's address with another identifier, and
        // answered each; the Lambda got the replies with its own identifier back, sequences 1-3.
        let requests = try TShark.fields(host, ["ip.src", "icmp.ident", "icmp.seq", "ip.len"], filter: "icmp.type == 8")
        #expect(requests.count == 3 && requests.allSatisfy { $0.hasPrefix("198.51.100.7\t") && $0.hasSuffix("\t84") },
                "\(requests)")
        let lambdaOut = try TShark.fields(lambda, ["icmp.ident", "icmp.seq"], filter: "icmp.type == 8 && ip.flags.mf == 0 && ip.frag_offset == 0")
        let replies = try TShark.fields(lambda, ["icmp.ident", "icmp.seq"], filter: "icmp.type == 0")
        #expect(replies == lambdaOut && replies.map { $0.split(separator: "\t")[1] } == ["1", "2", "3"], "\(replies)")
        #expect(requests.map { $0.split(separator: "\t")[1] } != lambdaOut.map { $0.split(separator: "\t")[0] })
        // The large requests: fragments at the Lambda (9), each dropped at the NAT gateway with its reason.
        #expect(try TShark.fields(lambda, ["frame.number"], filter: "ip.src == 10.0.1.10 && (ip.flags.mf == 1 || ip.frag_offset > 0)").count == 9)
        let comments = try TShark.fields(out + "/all-hops.pcapng", ["frame.comment"])
        #expect(comments.filter { $0.contains("dropped:") && $0.contains("icmp fragment") }.count == 9)
        for file in report.captures.map(\.file) + ["all-hops.pcapng"] {
            let (frames, problems) = try TShark.problems(in: out + "/" + file)
            #expect(frames > 0 && problems == [], "\(file): \(problems)")
        }
        // Flow logs: protocol 1 records, ports 0.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
        #expect(logs.contains { $0.contains(" 10.0.1.10 203.0.113.22 0 0 1 ") })
    }
}
