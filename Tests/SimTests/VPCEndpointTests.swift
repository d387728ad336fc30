import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Gateway VPC endpoints (scenarios/s3-gateway-endpoint.yaml): the prefix-list routes AWS adds, their priority,
/// the private path to the service host and back, and the subnet NACL on it both ways.
@Suite struct VPCEndpointTests {
    static let path = repositoryRoot + "/scenarios/s3-gateway-endpoint.yaml"
    static let endpoint = "vpce-0a2b4c6d8e0f1a3b5"

    static func yaml() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func run(_ text: String, out: String? = nil) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "s3-gateway-endpoint.yaml", out: out)
    }

    static func replacing(_ text: String, _ old: String, _ new: String) -> String {
        ScenarioText.replacing(text, old, new)
    }

    @Test func theUploadGoesThroughTheEndpointWithThePrivateSourceAndComesBack() throws {
        let out = makeTempDirectory("vpcsim-vpce")
        let o = try Self.run(try Self.yaml(), out: out)
        #expect(o.exitCode == 0, "\(o.text)")
        #expect(o.report.flows.map(\.outcome) == ["ok", "timeout"])
        let s3 = o.report.flows[0]
        #expect(s3.drop == nil)
        #expect(s3.hops.contains { $0.step == "route" && $0.rule == "pl-63a5400a (52.216.0.0/15) → \(Self.endpoint)" })
        #expect(s3.hops.contains { $0.step == "vpc-endpoint" && $0.component == Self.endpoint && $0.action == "forwarded" })
        #expect(!s3.hops.contains { $0.step == "nat-gateway" || $0.step == "internet-gateway" })
        // The reply: through the endpoint, the private subnet's NACL inbound, the Lambda's security group.
        #expect(s3.reply_hops.map(\.step) == ["vpc-endpoint", "nacl-inbound", "security-group-ingress", "delivered"])
        #expect(o.report.warnings?.count == 1 && o.report.warnings?[0].hasPrefix("\(Self.endpoint): its endpoint policy") == true)
        #expect(o.text.contains("WARNINGS"))

        // S3 sees the Lambda ENI's private address (no NAT); the NAT gateway never sees S3 traffic.
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let host = out + "/" + (try #require(files.first { $0.contains("host-s3.") && $0.hasSuffix(".pcap") }))
        let syn = try TShark.fields(host, ["ip.src", "ip.dst"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0")
        #expect(syn.filter { !$0.isEmpty } == ["10.0.1.10\t52.216.8.10"])
        let synAck = try TShark.fields(host, ["ip.src", "ip.dst"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 1")
        #expect(synAck.filter { !$0.isEmpty } == ["52.216.8.10\t10.0.1.10"])
        let nat = out + "/" + (try #require(files.first { $0.contains("-nat-") && $0.hasSuffix(".pcap") }))
        #expect(try TShark.fields(nat, ["frame.number"], filter: "ip.addr == 52.216.8.10").filter { !$0.isEmpty }.isEmpty)
        // Flow logs: the Lambda ENI logs S3's address, both ways ACCEPT.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }
        #expect(logs.contains { $0.count > 12 && $0[3] == "10.0.1.10" && $0[4] == "52.216.8.10" && $0[12] == "ACCEPT" })
        #expect(logs.contains { $0.count > 12 && $0[3] == "52.216.8.10" && $0[4] == "10.0.1.10" && $0[12] == "ACCEPT" })
    }

    /// vpc-endpoints-s3: the network ACL of the client's subnet must allow traffic to and from S3.
    @Test func theSubnetNACLAppliesToEndpointTrafficOutbound() throws {
        let text = Self.replacing(try Self.yaml(), "{rule: 100, protocol: tcp, ports: 443, cidr: 0.0.0.0/0, action: allow}",
                                  "{rule: 100, protocol: tcp, ports: 443, cidr: 203.0.113.0/24, action: allow}")
        let o = try Self.run(text)
        let s3 = o.report.flows[0]
        #expect(s3.outcome == "timeout")
        let drop = try #require(s3.drop)
        #expect(drop.component == "acl-0c1d2e3f4a5b6c7d8" && drop.direction == "outbound")
        let fix = try #require(s3.fix)
        #expect(fix.verified)
        #expect(fix.changes.contains { $0.component.hasPrefix("acl-0c1d2e3f4a5b6c7d8") && $0.change.contains("52.216.8.10") })
    }

    @Test func theSubnetNACLAppliesToEndpointRepliesInbound() throws {
        let out = makeTempDirectory("vpcsim-vpce-in")
        let text = Self.replacing(try Self.yaml(), "{rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0, action: allow}   # replies, S3's too",
                                  "{rule: 100, protocol: tcp, ports: 1024-65535, cidr: 203.0.113.0/24, action: allow}")
        let o = try Self.run(text, out: out)
        let s3 = o.report.flows[0]
        #expect(s3.outcome == "timeout")
        let drop = try #require(s3.drop)
        #expect(drop.component == "acl-0c1d2e3f4a5b6c7d8" && drop.direction == "inbound")
        #expect(s3.hops.last?.action == "delivered", "the SYN reached S3; its SYN-ACK died coming back")
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }
        #expect(logs.contains { $0.count > 12 && $0[3] == "52.216.8.10" && $0[4] == "10.0.1.10" && $0[12] == "REJECT" })
    }

    /// Without the endpoint's association the upload takes 0.0.0.0/0 to the NAT gateway and dies at the public
    /// subnet's NACL, as the partner API call does: the endpoint is what makes it work.
    @Test func withoutTheAssociationTheUploadGoesThroughTheNATAndIsBlocked() throws {
        let o = try Self.run(Self.replacing(try Self.yaml(), "route_tables: [private-rt]", "route_tables: []"))
        let s3 = o.report.flows[0]
        #expect(s3.outcome == "timeout")
        let drop = try #require(s3.drop)
        #expect(drop.component == "acl-0b1c2d3e4f5a6b7c8" && drop.direction == "outbound")
        #expect(s3.hops.contains { $0.step == "route" && $0.rule == "0.0.0.0/0 → nat-0e1f2a3b4c5d6e7f8" })
    }

    /// VPC-UG route-tables-priority: longest prefix first; at equal prefixes a static CIDR route beats the
    /// prefix-list route.
    @Test func routePriority() throws {
        let base = try Self.yaml()
        let anchor = "      - {destination: 0.0.0.0/0, target: nat-0e1f2a3b4c5d6e7f8}\n      # the endpoint's"
        func table(_ extra: String) throws -> RouteTableSpec {
            let text = Self.replacing(base, anchor, "      - {destination: 0.0.0.0/0, target: nat-0e1f2a3b4c5d6e7f8}\n"
                                      + extra + "      # the endpoint's")
            let s = try ScenarioLoader.load(yaml: text, file: "t.yaml")
            return try #require(s.model.routeTables.first { $0.id == "rtb-0123456789abcdef0" })
        }
        let s3 = ip("52.216.8.10")
        // The endpoint's route beats 0.0.0.0/0 → NAT.
        let plain = try table("")
        #expect(RouteLookup.match(plain, s3)?.target == .vpcEndpoint(0))
        #expect(RouteLookup.match(plain, s3)?.prefixList == "pl-63a5400a")
        #expect(RouteLookup.match(plain, ip("203.0.113.22"))?.target == .natGateway(0))
        #expect(plain.routes.filter { $0.target == .vpcEndpoint(0) }.map(\.destination)
                == [cidr("52.216.0.0/15"), cidr("54.231.0.0/16"), cidr("3.5.0.0/19")])
        // A static route to the same CIDR wins.
        let same = try table("      - {destination: 52.216.0.0/15, target: nat-0e1f2a3b4c5d6e7f8}\n")
        #expect(RouteLookup.match(same, s3)?.target == .natGateway(0))
        #expect(RouteLookup.match(same, ip("54.231.1.1"))?.target == .vpcEndpoint(0))
        // A more specific one wins too, and a less specific one does not.
        let specific = try table("      - {destination: 52.216.8.0/24, target: nat-0e1f2a3b4c5d6e7f8}\n")
        #expect(RouteLookup.match(specific, s3)?.target == .natGateway(0))
        let wider = try table("      - {destination: 52.0.0.0/8, target: nat-0e1f2a3b4c5d6e7f8}\n")
        #expect(RouteLookup.match(wider, s3)?.target == .vpcEndpoint(0))
        // The run follows the table: the static route sends the upload through the NAT, where it dies.
        let text = Self.replacing(base, anchor, "      - {destination: 52.216.0.0/15, target: nat-0e1f2a3b4c5d6e7f8}\n"
                                  + "      - {destination: 0.0.0.0/0, target: nat-0e1f2a3b4c5d6e7f8}\n      # the endpoint's")
        let o = try Self.run(text)
        #expect(o.report.flows[0].drop?.component == "acl-0b1c2d3e4f5a6b7c8")
        // The public subnet's table has no endpoint route.
        let s = try ScenarioLoader.load(yaml: base, file: "t.yaml")
        let pub = try #require(s.model.routeTables.first { $0.id == "rtb-0f1e2d3c4b5a69788" })
        #expect(!pub.routes.contains { $0.target == .vpcEndpoint(0) })
    }

    /// A route an import writes out (one per prefix-list CIDR, target the endpoint) names the endpoint; a route
    /// to an endpoint the scenario does not define stays not modeled.
    @Test func explicitRoutesToEndpoints() throws {
        let base = try Self.yaml()
        let anchor = "      # the endpoint's"
        let named = try ScenarioLoader.load(yaml: Self.replacing(base, anchor, "      - {destination: 52.216.0.0/15, target: \(Self.endpoint)}\n" + anchor), file: "t.yaml")
        let t = try #require(named.model.routeTables.first { $0.id == "rtb-0123456789abcdef0" })
        #expect(t.routes.filter { $0.destination == cidr("52.216.0.0/15") }.map(\.target) == [.vpcEndpoint(0)])
        let other = try ScenarioLoader.load(yaml: Self.replacing(base, anchor, "      - {destination: 198.18.0.0/15, target: vpce-0ffffffffffffffff}\n" + anchor), file: "t.yaml")
        let u = try #require(other.model.routeTables.first { $0.id == "rtb-0123456789abcdef0" })
        #expect(RouteLookup.match(u, ip("198.18.0.1"))?.target == .notModeled("vpce-0ffffffffffffffff"))
    }

    @Test(arguments: [
        ("type: gateway", "type: interface", "VPC endpoint vpce-0a2b4c6d8e0f1a3b5: route_tables is for gateway endpoints, not interface"),
        ("type: gateway", "type: gatewayloadbalancer", "VPC endpoint vpce-0a2b4c6d8e0f1a3b5: gatewayloadbalancer endpoints are not modeled (type gateway or interface)"),
        ("type: gateway", "type: gateway-ish", "invalid type 'gateway-ish' (expected gateway or interface)"),
        ("service: com.amazonaws.us-east-1.s3", "service: ec2", "invalid service 'ec2' for a gateway endpoint (expected s3 or dynamodb)"),
        ("route_tables: [private-rt]", "route_tables: [private-rt, private-rt]", "route table rtb-0123456789abcdef0 is listed twice"),
        ("route_tables: [private-rt]", "route_tables: [private-tr]", "route table private-tr is not defined"),
        ("cidrs: [52.216.0.0/15, 54.231.0.0/16, 3.5.0.0/19]", "cidrs: [52.216.0.0/15, 10.0.5.0/24]",
         "prefix list pl-63a5400a CIDR 10.0.5.0/24 overlaps vpc-0a1b2c3d4e5f60718's CIDR 10.0.0.0/16 (a service's prefix list holds its public ranges)"),
        ("cidrs: [52.216.0.0/15, 54.231.0.0/16, 3.5.0.0/19]", "cidrs: []", "prefix list pl-63a5400a has no CIDRs"),
        ("prefix_list: {id: pl-63a5400a,", "prefix_list: {id: 63a5400a,", "prefix list id '63a5400a' must start with 'pl-'"),
        ("    prefix_list: {id: pl-63a5400a, cidrs: [52.216.0.0/15, 54.231.0.0/16, 3.5.0.0/19]}\n", "",
         "VPC endpoint vpce-0a2b4c6d8e0f1a3b5 has no prefix_list"),
        ("  - id: vpce-0a2b4c6d8e0f1a3b5", "  - id: vpc-0a2b4c6d8e0f1a3b5", "VPC endpoint id 'vpc-0a2b4c6d8e0f1a3b5' must start with 'vpce-'"),
        ("    name: s3-endpoint\n", "    name: s3-endpoint\n    subnets: [private]\n", "VPC endpoint vpce-0a2b4c6d8e0f1a3b5: subnets is for interface endpoints, not gateway"),
        ("    name: s3-endpoint\n", "    name: s3-endpoint\n    zones: [a]\n", "unknown key 'zones' in VPC endpoint"),
    ])
    func invalidEndpointsAreOneLineErrorsAtTheirPlace(old: String, new: String, message: String) throws {
        let text = Self.replacing(try Self.yaml(), old, new)
        let e = try #require(scenarioLoadError(text))
        #expect(e.message.hasPrefix(message), "\(e)")
        #expect(e.line > 0 && e.column > 0 && !e.description.contains("\n"))
    }

    @Test func twoEndpointsForOneServiceCannotShareARouteTable() throws {
        let second = """
              - id: vpce-0ffffffffffffffff
                type: gateway
                service: s3
                vpc: main
                route_tables: [public-rt, private-rt]
                prefix_list: {id: pl-63a5400a, cidrs: [52.216.0.0/15]}

            network_acls:
            """
        let text = Self.replacing(try Self.yaml(), "\nnetwork_acls:", "\n" + second)
        let e = try #require(scenarioLoadError(text))
        #expect(e.message == "route table rtb-0123456789abcdef0 already routes s3 through vpce-0a2b4c6d8e0f1a3b5 (a table takes one endpoint per service)", "\(e)")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[e.line - 1].contains("route_tables: [public-rt, private-rt]"))
    }
}

/// The fix for an upload that took the NAT gateway because the endpoint is not associated with the client's
/// route table: the association, verified by re-running the flow, not a NACL rule on the NAT's subnet.
@Suite struct VPCEndpointFixTests {
    @Test func theFixIsTheMissingRouteTableAssociation() throws {
        let text = VPCEndpointTests.replacing(try VPCEndpointTests.yaml(), "route_tables: [private-rt]", "route_tables: []")
        let o = try VPCEndpointTests.run(text)
        let fix = try #require(o.report.flows[0].fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.component) == ["vpce-0a2b4c6d8e0f1a3b5 (s3-endpoint)"])
        #expect(fix.changes.map(\.change) == ["route tables: associate rtb-0123456789abcdef0 (private-rt)"])
        // The partner API is not behind the endpoint: its fix stays the NACL rule.
        let api = try #require(o.report.flows[1].fix)
        #expect(api.changes.first?.component.hasPrefix("acl-0b1c2d3e4f5a6b7c8") == true)
    }
}
