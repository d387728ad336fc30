import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Where the ICMP fragmentation needed a component sends is recorded: the transit gateway's in its flow logs
/// (an egress record at the attachment it leaves by) and the VPC flow log of that attachment's ENI; an
/// inter-Region peering connection's at the connection's capture point, after the packet it answers.
@Suite struct LinkMTURecordTests {
    /// The server in VPC B sends 9001 bytes toward VPC A: the gateway drops them (the ingress record at B, lost
    /// mtu-exceeded) and sends ICMP from B's attachment subnet router (10.2.255.1) back out through B: an egress
    /// record at B with no source attachment. Fails without the gateway's record of its own ICMP.
    @Test func theTransitGatewaysICMPHasAnEgressRecord() throws {
        let yaml = TransitGatewayTests.yaml() + "\nflow_logs: {transit_gateways: [hub]}\n"
        let s = try ScenarioLoader.load(yaml: yaml, file: "tgw.yaml")
        let (big, logs) = LinkMTUTests.probe(s, fromENI: s.model.instances[0].eni, to: "10.1.1.10", size: 9001)
        #expect(big.tooBig != nil)
        let lines = try #require(logs).split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
        #expect(lines.count == 2)
        let header = TGWFlowLogField.allCases
        func field(_ l: [String], _ f: TGWFlowLogField) -> String { l[header.firstIndex(of: f)!] }
        let icmp = try #require(lines.first { field($0, .protocol) == "1" })
        #expect(field(icmp, .tgwAttachmentID) == "tgw-attach-0b0000000000000b")
        #expect(field(icmp, .flowDirection) == "egress")
        #expect(field(icmp, .srcaddr) == "10.2.255.1" && field(icmp, .dstaddr) == "10.2.1.20")
        #expect(field(icmp, .tgwPairAttachmentID) == "-" && field(icmp, .tgwSrcVPCID) == "-" && field(icmp, .tgwSrcENI) == "-")
        #expect(field(icmp, .tgwDstVPCID) == "vpc-0b00000000000000b" && field(icmp, .tgwDstSubnetID) == "subnet-0b000000000000003")
        #expect(field(icmp, .packets) == "1" && field(icmp, .bytes) == "56")
        #expect(field(icmp, .packetsLostMTUExceeded) == "0")
        // With tgw_sends_frag_needed false there is nothing to record.
        let silent = try ScenarioLoader.load(yaml: yaml + "assumptions: {tgw_sends_frag_needed: false}\n", file: "tgw.yaml")
        let (_, quiet) = LinkMTUTests.probe(silent, fromENI: silent.model.instances[0].eni, to: "10.1.1.10", size: 9001)
        #expect(try #require(quiet).split(separator: "\n").count == 2)
    }

    /// sftp-large-file-stall: each 9001-byte segment the inter-Region connection drops is followed, at the
    /// connection's point, by the ICMP fragmentation needed going back to the batch VPC. Fails without the ICMP's
    /// capture there (the point held the dropped segments only).
    @Test func thePeeringConnectionsICMPIsCapturedAtItsPoint() throws {
        let s = try loadScenario(try String(contentsOfFile: repositoryRoot + "/scenarios/sftp-large-file-stall.yaml",
                                            encoding: .utf8))
        let dir = makeTempDirectory("vpcsim-pcx-icmp")
        _ = try Runner.run(scenario: s, options: Runner.Options(outDir: dir))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        let pcx = dir + "/" + (try #require(files.first { $0.contains("-pcx-") && $0.hasSuffix(".pcap") }))
        #expect(try TShark.problems(in: pcx).problems.isEmpty)
        let frames = try TShark.fields(pcx, ["icmp.type", "icmp.code", "icmp.mtu", "ip.len", "tcp.len"])
        let icmps = frames.indices.filter { frames[$0].hasPrefix("3\t") }
        #expect(!icmps.isEmpty)
        for i in icmps {
            #expect(frames[i].hasPrefix("3\t4\t8500\t56,9001\t"), "\(frames[i])")
            #expect(i > 0 && frames[i - 1] == "\t\t\t9001\t8949", "\(i > 0 ? frames[i - 1] : "")")
        }
        let comments = try TShark.fields(dir + "/all-hops.pcapng", ["frame.comment"],
                                         filter: "icmp.type == 3 && frame.interface_name contains \"pcx-\"")
        #expect(comments.count == icmps.count)
        #expect(comments.allSatisfy {
            $0.hasPrefix("across pcx-0c3d4e5f60718293a from vpc-0b2c3d4e5f6071829 to vpc-0a1b2c3d4e5f60718; "
                         + "ICMP fragmentation needed (MTU 8500) from pcx-0c3d4e5f60718293a; ")
        }, "\(comments.prefix(2))")
    }
}
