import Foundation
import Testing
import TestSupport

/// Flow logs of the Path MTU black hole: the ICMP "fragmentation needed" the server's subnet NACL drops is
/// recorded at the server's ENI as AWS records traffic a NACL rejects inbound: REJECT, protocol 1, ports 0; in
/// the fixed twin it is ACCEPT.
@Suite("Path MTU black hole: flow logs")
struct PMTUFlowLogCLITests {
    /// The protocol-1 records of the run's flow-logs.txt, split into fields.
    static func icmpRecords(_ out: String) throws -> [[Substring]] {
        try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: " ") }.filter { $0.count >= 13 && $0[7] == "1" }
    }

    @Test func theDroppedICMPIsARejectAtTheServersENI() throws {
        let (r, report, out) = try runScenario("sftp-pmtud-blackhole")
        #expect(r.status == 0, "\(r.stderr)")
        let eni = try #require(report.capture("instance")).component
        let icmp = try Self.icmpRecords(out)
        #expect(!icmp.isEmpty)
        // version account eni src dst srcport dstport protocol packets bytes start end action status
        #expect(icmp.allSatisfy { $0[2] == eni && $0[3] == "203.0.113.50" && $0[4] == "10.0.0.20"
                && $0[5] == "0" && $0[6] == "0" && $0[12] == "REJECT" }, "\(icmp)")
        // As many packets as the captures show ICMPs dropped at the NACL, 56 bytes each.
        let dropped = try TShark.fields(out + "/all-hops.pcapng", ["frame.comment"])
            .filter { $0.contains("ICMP type 3 code 4 dropped: acl-") }.count
        let packets = icmp.compactMap { Int($0[8]) }.reduce(0, +)
        #expect(dropped > 0 && packets == dropped, "\(packets) vs \(dropped)")
        #expect(icmp.compactMap { Int($0[9]) }.reduce(0, +) == 56 * packets)
    }

    @Test func theFixedTwinAcceptsIt() throws {
        let (r, report, out) = try runScenario("sftp-pmtud-blackhole-fixed")
        #expect(r.status == 0, "\(r.stderr)")
        let eni = try #require(report.capture("instance")).component
        let icmp = try Self.icmpRecords(out)
        #expect(icmp.count == 1 && icmp[0][2] == eni && icmp[0][8] == "1" && icmp[0][12] == "ACCEPT", "\(icmp)")
    }
}
