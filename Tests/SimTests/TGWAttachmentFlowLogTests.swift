import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// VPC Flow Logs at transit gateway attachment ENIs: the ENI a packet enters the gateway by logs it as ingress,
/// the one it leaves by as egress, with the ENI's own address as srcaddr/dstaddr and the packet's as
/// pkt-srcaddr/pkt-dstaddr (VPC-UG flow-logs-records-examples, "Traffic through a transit gateway").
@Suite struct TGWAttachmentFlowLogTests {
    static let format = "${interface-id} ${subnet-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} "
        + "${pkt-dstaddr} ${tcp-flags} ${action} ${flow-direction}"

    static func run(_ o: TransitGatewayTests.Options = .init(), extra: String = "") throws -> Runner.Outcome {
        let yaml = TransitGatewayTests.yaml(o) + "\nflow_logs: {format: \"\(format)\"}\n" + extra
        let s = try ScenarioLoader.load(yaml: yaml, file: "tgw.yaml")
        return try Runner.run(scenario: s, options: Runner.Options(writeFiles: false))
    }

    static let eniA = ScenarioValues.eniID(hashing: "tgw-attach-0a0000000000000a|subnet-0a000000000000003")
    static let eniB = ScenarioValues.eniID(hashing: "tgw-attach-0b0000000000000b|subnet-0b000000000000003")

    /// The lines of interface `eni`, without the interface id.
    static func lines(_ o: Runner.Outcome, _ eni: String) throws -> [String] {
        try #require(o.flowLogText).split(separator: "\n").filter { $0.hasPrefix(eni + " ") }
            .map { String($0.dropFirst(eni.count + 1)) }
    }

    @Test func attachmentENIsLogBothWays() throws {
        let o = try Self.run()
        #expect(o.report.flows.map(\.outcome) == ["ok"])
        // The Lambda's connection enters the gateway in VPC A through the attachment ENI in a-tgw-1a (10.1.255.4)
        // and leaves it in VPC B through the one in b-tgw-1a (10.2.255.4); the replies the other way.
        #expect(try Self.lines(o, Self.eniA) == [
            "subnet-0a000000000000003 10.1.1.10 10.1.255.4 24397 443 10.1.1.10 10.2.1.20 3 ACCEPT ingress",
            "subnet-0a000000000000003 10.1.255.4 10.1.1.10 443 24397 10.2.1.20 10.1.1.10 19 ACCEPT egress",
        ])
        #expect(try Self.lines(o, Self.eniB) == [
            "subnet-0b000000000000003 10.2.1.20 10.2.255.4 443 24397 10.2.1.20 10.1.1.10 19 ACCEPT ingress",
            "subnet-0b000000000000003 10.2.255.4 10.2.1.20 24397 443 10.1.1.10 10.2.1.20 3 ACCEPT egress",
        ])
        // The instance's and the Lambda's ENIs log the connection as before: the packets' own addresses.
        let text = try #require(o.flowLogText)
        #expect(text.contains("subnet-0b000000000000001 10.1.1.10 10.2.1.20 24397 443 10.1.1.10 10.2.1.20 3 ACCEPT ingress"))
    }

    /// The attachment subnet's NACL inbound denies the Lambda's SYNs: REJECT ingress at the attachment ENI, and
    /// nothing at the far side.
    @Test func aNACLDenyAtTheAttachmentSubnetIsARejectThere() throws {
        var opts = TransitGatewayTests.Options()
        opts.aTGWSubnetACL = "{rule: 100, protocol: all, cidr: 0.0.0.0/0, action: deny}"
        let o = try Self.run(opts)
        #expect(o.report.flows.map(\.outcome) == ["timeout"])
        let a = try Self.lines(o, Self.eniA)
        #expect(!a.isEmpty && a.allSatisfy { $0.hasPrefix("subnet-0a000000000000003 10.1.1.10 10.1.255.4 ") && $0.hasSuffix(" 443 10.1.1.10 10.2.1.20 2 REJECT ingress") })
        #expect(try Self.lines(o, Self.eniB).isEmpty)
    }

    /// `private_ips` and `network_interface_ids` name the attachment's ENIs.
    @Test func privateIPsAndInterfaceIDsOverride() throws {
        var opts = TransitGatewayTests.Options()
        opts.aAttachmentSubnets = "[a-tgw-1a, a-tgw-1b], private_ips: [10.1.255.9, 10.1.255.20], "
            + "network_interface_ids: [eni-0aaaaaaaaaaaaaaa1, eni-0aaaaaaaaaaaaaaa2]"
        let o = try Self.run(opts)
        #expect(try Self.lines(o, "eni-0aaaaaaaaaaaaaaa1") == [
            "subnet-0a000000000000003 10.1.1.10 10.1.255.9 24397 443 10.1.1.10 10.2.1.20 3 ACCEPT ingress",
            "subnet-0a000000000000003 10.1.255.9 10.1.1.10 443 24397 10.2.1.20 10.1.1.10 19 ACCEPT egress",
        ])
        let s = try ScenarioLoader.load(yaml: TransitGatewayTests.yaml(opts), file: "tgw.yaml")
        #expect(s.model.tgwAttachments[0].eniAddresses.map(\.description) == ["10.1.255.9", "10.1.255.20"])
        #expect(s.model.tgwAttachments[1].eniAddresses.map(\.description) == ["10.2.255.4", "10.2.255.20"])
    }

    @Test func badENIKeysAreOneLineErrors() throws {
        for (subnets, message) in [
            ("[a-tgw-1a, a-tgw-1b], private_ips: [10.1.255.9]",
             "transit gateway attachment tgw-attach-0a0000000000000a: private_ips has 1 entries for 2 subnets (one per subnet, in the same order)"),
            ("[a-tgw-1a, a-tgw-1b], private_ips: [10.1.255.9, 10.1.1.9]",
             "private_ips 10.1.1.9 is outside subnet subnet-0a000000000000004 (10.1.255.16/28)"),
            ("[a-tgw-1a, a-tgw-1b], network_interface_ids: [eni-0aaaaaaaaaaaaaaa1, nic-1]",
             "network interface id 'nic-1' must start with 'eni-'"),
        ] {
            var opts = TransitGatewayTests.Options()
            opts.aAttachmentSubnets = subnets
            #expect {
                try ScenarioLoader.load(yaml: TransitGatewayTests.yaml(opts), file: "tgw.yaml")
            } throws: { e in
                let text = String(describing: e)
                return text.hasPrefix("tgw.yaml:") && text.hasSuffix(message) && !text.contains("\n")
            }
        }
    }
}
