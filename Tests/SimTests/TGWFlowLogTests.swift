import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Transit Gateway Flow Logs (`flow_logs: transit_gateways:`): version 6's default format, an ingress record at the
/// attachment a packet arrives by and an egress record at the one it leaves by; drops in the lost counters.
@Suite struct TGWFlowLogTests {
    static func run(_ o: TransitGatewayTests.Options = .init()) throws -> Runner.Outcome {
        let yaml = TransitGatewayTests.yaml(o) + "\nflow_logs: {transit_gateways: [hub]}\n"
        let s = try ScenarioLoader.load(yaml: yaml, file: "tgw.yaml")
        return try Runner.run(scenario: s, options: Runner.Options(writeFiles: false))
    }

    static let header = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service"
    static let attachA = "tgw-attach-0a0000000000000a", attachB = "tgw-attach-0b0000000000000b"
    static let eniA = ScenarioValues.eniID(hashing: "\(attachA)|subnet-0a000000000000003")
    static let eniB = ScenarioValues.eniID(hashing: "\(attachB)|subnet-0b000000000000003")
    static let gateway = "6 TransitGateway 123456789012 tgw-0c00000000000000c"

    /// The Lambda's HTTPS connection to the instance in VPC B: at attachment A the request comes in and the
    /// replies go out; at attachment B the reverse; each record names the other attachment, the source side's
    /// VPC, subnet, ENI and AZ, and the destination side's.
    @Test func recordsBothAttachmentsBothWays() throws {
        let out = makeTempDirectory("vpcsim-tgwfl")
        let yaml = TransitGatewayTests.yaml() + "\nflow_logs: {transit_gateways: [hub]}\n"
        let o = try ScenarioText.run(yaml, file: "tgw.yaml", out: out)
        #expect(o.report.flows.map(\.outcome) == ["ok"])
        let aToB = "123456789012 123456789012 vpc-0a00000000000000a vpc-0b00000000000000b subnet-0a000000000000003 "
            + "subnet-0b000000000000003 \(Self.eniA) \(Self.eniB) use1-az1 use1-az1"
        let bToA = "123456789012 123456789012 vpc-0b00000000000000b vpc-0a00000000000000a subnet-0b000000000000003 "
            + "subnet-0a000000000000003 \(Self.eniB) \(Self.eniA) use1-az1 use1-az1"
        let request = "10.1.1.10 10.2.1.20 24397 443 6 47 3188 1795689600 1795689600 OK IPv4 0 0 0 0 3 us-east-1"
        let reply = "10.2.1.20 10.1.1.10 443 24397 6 80 108026 1795689600 1795689600 OK IPv4 0 0 0 0 19 us-east-1"
        let expected = [
            Self.header,
            "\(Self.gateway) \(Self.attachA) \(aToB) \(Self.attachB) \(request) ingress - -",
            "\(Self.gateway) \(Self.attachA) \(bToA) \(Self.attachB) \(reply) egress - -",
            "\(Self.gateway) \(Self.attachB) \(bToA) \(Self.attachA) \(reply) ingress - -",
            "\(Self.gateway) \(Self.attachB) \(aToB) \(Self.attachA) \(request) egress - -",
        ].joined(separator: "\n") + "\n"
        #expect(o.tgwFlowLogText == expected)
        #expect(try String(contentsOfFile: out + "/tgw-flow-logs.txt", encoding: .utf8) == expected)
    }

    /// A blackhole route drops the SYNs at the gateway: one ingress record at attachment A, no destination side,
    /// every packet in packets-lost-blackhole; a table without the route: packets-lost-no-route.
    @Test func blackholeAndNoRouteCountAsLost() throws {
        var opts = TransitGatewayTests.Options()
        opts.staticRoutes = "{destination: 10.2.1.0/24, target: blackhole}"
        let source = "123456789012 - vpc-0a00000000000000a - subnet-0a000000000000003 - \(Self.eniA) - use1-az1 - -"
        let syns = "10.1.1.10 10.2.1.20 24397 443 6 5 300 1795689600 1795689615 OK IPv4"
        #expect(try Self.run(opts).tgwFlowLogText == Self.header + "\n"
            + "\(Self.gateway) \(Self.attachA) \(source) \(syns) 0 5 0 0 2 us-east-1 ingress - -\n")
        var unrouted = TransitGatewayTests.Options()
        unrouted.propagations = "[a]"
        #expect(try Self.run(unrouted).tgwFlowLogText == Self.header + "\n"
            + "\(Self.gateway) \(Self.attachA) \(source) \(syns) 5 0 0 0 2 us-east-1 ingress - -\n")
    }

    /// No `transit_gateways:`: no Transit Gateway Flow Logs; an unknown gateway is a one-line error.
    @Test func onlyWhenAskedAndOnlyKnownGateways() throws {
        let s = try ScenarioLoader.load(yaml: TransitGatewayTests.yaml(), file: "tgw.yaml")
        #expect(try Runner.run(scenario: s, options: Runner.Options(writeFiles: false)).tgwFlowLogText == nil)
        #expect {
            try ScenarioLoader.load(yaml: TransitGatewayTests.yaml() + "\nflow_logs: {transit_gateways: [hubb]}\n",
                                    file: "tgw.yaml")
        } throws: { e in
            let text = String(describing: e)
            return text.hasPrefix("tgw.yaml:") && text.contains("hubb") && !text.contains("\n")
        }
    }
}
