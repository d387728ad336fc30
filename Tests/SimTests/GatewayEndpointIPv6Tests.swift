import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// IPv6 through a gateway endpoint (PrivateLink guide gateway-endpoints, "IP address type"): a dualstack endpoint
/// adds the service's IPv6 prefix list to its route tables as well as the IPv4 one, so IPv6 to S3 takes the
/// endpoint; an ipv4 endpoint adds only the IPv4 list, so IPv6 to S3 goes by whatever other IPv6 route matches (here
/// `::/0` to the egress-only internet gateway) or is dropped.
@Suite struct GatewayEndpointIPv6Tests {
    static let endpoint = "vpce-0a2b4c6d8e0f1a3b5", eigw = "eigw-0a1b2c3d4e5f60718"
    static let box6 = "2600:1f18:aaaa:aa01::10", s36 = "2600:1fa0:80a0::10"

    static let yaml = """
        name: s3-gateway-endpoint-ipv6
        seed: 1
        start_time: 2026-11-26T09:00:00Z
        vpcs:
          - {id: vpc-0a1b2c3d4e5f60718, name: main, cidr_blocks: [10.0.0.0/16], ipv6_cidr: "2600:1f18:aaaa:aa00::/56"}
        egress_only_internet_gateways:
          - {id: eigw-0a1b2c3d4e5f60718, name: main-eigw, vpc: main}
        route_tables:
          - id: rtb-0123456789abcdef0
            name: private-rt
            vpc: main
            main: true
            routes:
              - {destination: "::/0", target: main-eigw}
        vpc_endpoints:
          - id: vpce-0a2b4c6d8e0f1a3b5
            name: s3-endpoint
            type: gateway
            service: com.amazonaws.us-east-1.s3
            vpc: main
            route_tables: [private-rt]
            ip_address_type: dualstack
            prefix_list: {id: pl-63a5400a, cidrs: [52.216.0.0/15]}
            ipv6_prefix_list: {id: pl-0f1e2d3c4b5a69788, cidrs: ["2600:1fa0:8000::/39"]}
        security_groups:
          - id: sg-0d1e2f3a4b5c6d7e8
            name: app-sg
            vpc: main
            ingress: []
            egress:
              - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}
              - {protocol: tcp, ports: 443, cidr: "::/0"}
        subnets:
          - {id: subnet-0ee55ff6607788990, name: private, vpc: main, cidr: 10.0.1.0/24, ipv6_cidr: "2600:1f18:aaaa:aa01::/64", availability_zone: us-east-1a}
        instances:
          - {id: i-0a00000000000000a, name: app-box, subnet: private, private_ip: 10.0.1.10, ipv6_address: "2600:1f18:aaaa:aa01::10", security_groups: [app-sg]}
        outside_hosts:
          - {name: s3.dualstack.us-east-1.amazonaws.com, ip: 52.216.8.10, ipv6: "2600:1fa0:80a0::10", rtt_ms: 2, ports: {443: https}}
        flows:
          - {name: s3-v6, from: app-box, to: "s3.dualstack.us-east-1.amazonaws.com:443", app: https, address_family: ipv6, size: 64KB}
          - {name: s3-v4, from: app-box, to: "s3.dualstack.us-east-1.amazonaws.com:443", app: https, address_family: ipv4, size: 64KB}
        """

    static func run(_ text: String, out: String? = nil) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "gw6.yaml", out: out)
    }

    static func error(_ text: String) -> ScenarioError? { ScenarioText.error(text, file: "gw6.yaml") }

    /// Dualstack: IPv6 to S3 takes the endpoint by the IPv6 prefix list's route (longer than `::/0`), reaches the
    /// service with the instance's own IPv6 address and comes back through the endpoint, not the egress-only
    /// gateway; IPv4 takes it by the IPv4 prefix list.
    @Test func aDualstackEndpointCarriesIPv6ByItsIPv6PrefixList() throws {
        let o = try Self.run(Self.yaml)
        #expect(o.exitCode == 0, "\(o.text)")
        let f = o.report.flows[0]
        #expect(f.outcome == "ok" && f.drop == nil, "\(o.text)")
        #expect(f.hops.map(\.step) == ["security-group-egress", "route", "nacl-outbound", "vpc-endpoint", "delivered"],
                "\(f.hops)")
        #expect(f.hops[1].rule == "pl-0f1e2d3c4b5a69788 (2600:1fa0:8000::/39) → \(Self.endpoint)", "\(f.hops)")
        #expect(f.hops[3].rule == "gateway endpoint for s3 (pl-0f1e2d3c4b5a69788) → s3.dualstack.us-east-1.amazonaws.com "
                + "(\(Self.s36))", "\(f.hops)")
        #expect(f.reply_hops.map(\.step) == ["vpc-endpoint", "nacl-inbound", "security-group-ingress", "delivered"],
                "\(f.reply_hops)")
        #expect(!(f.hops + f.reply_hops).contains { $0.component == Self.eigw })
        let v4 = o.report.flows[1]
        #expect(v4.outcome == "ok" && v4.hops[1].rule == "pl-63a5400a (52.216.0.0/15) → \(Self.endpoint)", "\(v4.hops)")
    }

    /// The service's capture holds the flow's IPv6 frames as tshark reads them (checksums validated), the source the
    /// instance's IPv6 address; the instance's flow logs record both directions over IPv6, ACCEPT.
    @Test func theCaptureAndFlowLogsCarryTheIPv6Addresses() throws {
        let out = makeTempDirectory("vpcsim-gw6")
        let text = ScenarioText.replacing(Self.yaml, "seed: 1\n",
            "seed: 1\nflow_logs: {format: \"${srcaddr} ${dstaddr} ${dstport} ${action} ${flow-direction} ${type}\"}\n")
        let o = try Self.run(text, out: out)
        let c = try #require(o.report.captures.first { $0.file.contains("-host-s3.dualstack") })
        #expect(c.packets > 0)
        let file = out + "/" + c.file
        #expect(try TShark.problems(in: file).problems == [])
        let syn = try TShark.fields(file, ["ipv6.src", "ipv6.dst"], filter: "ipv6 && tcp.flags.syn == 1 && tcp.flags.ack == 0")
        #expect(syn.filter { !$0.isEmpty } == ["\(Self.box6)\t\(Self.s36)"])
        let synAck = try TShark.fields(file, ["ipv6.src", "ipv6.dst"], filter: "ipv6 && tcp.flags.syn == 1 && tcp.flags.ack == 1")
        #expect(synAck.filter { !$0.isEmpty } == ["\(Self.s36)\t\(Self.box6)"])
        let logs = try #require(o.flowLogText).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(logs.contains { $0 == [Self.box6, Self.s36, "443", "ACCEPT", "egress", "IPv6"] }, "\(logs)")
        #expect(logs.contains { $0.count == 6 && $0[0] == Self.s36 && $0[1] == Self.box6 && $0[3] == "ACCEPT"
                                && $0[4] == "ingress" && $0[5] == "IPv6" }, "\(logs)")
    }

    /// An ipv4 endpoint adds only the IPv4 prefix list: IPv6 to S3 takes `::/0` to the egress-only internet gateway
    /// (the IPv6-compatible path the page names); without that route it is dropped at the route table.
    @Test func anIPv4EndpointLeavesIPv6ToTheOtherRoutes() throws {
        let v4only = ScenarioText.replacing(ScenarioText.replacing(Self.yaml, "ip_address_type: dualstack", "ip_address_type: ipv4"),
            "    ipv6_prefix_list: {id: pl-0f1e2d3c4b5a69788, cidrs: [\"2600:1fa0:8000::/39\"]}\n", "")
        let f = try Self.run(v4only).report.flows[0]
        #expect(f.outcome == "ok", "\(f.hops)")
        #expect(f.hops[1].rule == "::/0 → \(Self.eigw)", "\(f.hops)")
        #expect(!f.hops.contains { $0.component == Self.endpoint })
        let noRoute = ScenarioText.replacing(v4only, "      - {destination: \"::/0\", target: main-eigw}\n", "")
        let g = try Self.run(ScenarioText.replacing(noRoute, "    routes:\n", "    routes: []\n")).report.flows[0]
        #expect(g.drop?.component == "rtb-0123456789abcdef0" && g.drop?.rule == "no route matches \(Self.s36)", "\(g.drops)")
    }

    /// Bad IPv6 endpoint input: one line each, at the place.
    @Test func badIPv6EndpointInputIsRefusedInOneLine() throws {
        // An IPv6 prefix list on an ipv4 endpoint.
        let a = try #require(Self.error(ScenarioText.replacing(Self.yaml, "ip_address_type: dualstack", "ip_address_type: ipv4")))
        #expect(a.description.hasPrefix("gw6.yaml:") && !a.description.contains("\n"), "\(a)")
        #expect(a.line == 24 && a.column == 5, "\(a)")
        #expect(a.message == "VPC endpoint vpce-0a2b4c6d8e0f1a3b5: ipv6_prefix_list needs ip_address_type dualstack or ipv6 "
                + "(an ipv4 gateway endpoint adds only the service's IPv4 prefix list)", "\(a)")
        // An IPv4 CIDR in the IPv6 prefix list.
        let b = try #require(Self.error(ScenarioText.replacing(Self.yaml, "cidrs: [\"2600:1fa0:8000::/39\"]", "cidrs: [52.216.0.0/15]")))
        #expect(b.line == 24 && b.column == 58, "\(b)")  // the IPv4 CIDR
        #expect(b.message == "`52.216.0.0/15` is IPv4 where 'cidrs' takes an IPv6 CIDR block", "\(b)")
        // Dualstack without the IPv6 prefix list.
        let c = try #require(Self.error(ScenarioText.replacing(Self.yaml,
            "    ipv6_prefix_list: {id: pl-0f1e2d3c4b5a69788, cidrs: [\"2600:1fa0:8000::/39\"]}\n", "")))
        #expect(c.message == "VPC endpoint vpce-0a2b4c6d8e0f1a3b5: ip_address_type dualstack needs ipv6_prefix_list (the "
                + "service's IPv6 prefix list its route tables get)", "\(c)")
        // An IPv6 route to an ipv4 endpoint, written by hand.
        let d = try #require(Self.error(ScenarioText.replacing(ScenarioText.replacing(
            ScenarioText.replacing(Self.yaml, "ip_address_type: dualstack", "ip_address_type: ipv4"),
            "    ipv6_prefix_list: {id: pl-0f1e2d3c4b5a69788, cidrs: [\"2600:1fa0:8000::/39\"]}\n", ""),
            "      - {destination: \"::/0\", target: main-eigw}\n",
            "      - {destination: \"::/0\", target: main-eigw}\n      - {destination: \"2600:1fa0:8000::/39\", target: vpce-0a2b4c6d8e0f1a3b5}\n")))
        #expect(d.line == 15 && d.column == 54, "\(d)")  // the target
        #expect(d.message == "route to 2600:1fa0:8000::/39 cannot target gateway endpoint vpce-0a2b4c6d8e0f1a3b5: its "
                + "ip_address_type is ipv4, so its routes are its IPv4 prefix list's (PrivateLink guide gateway-endpoints, "
                + "\"IP address type\")", "\(d)")
        // Dualstack with an IPv4-only subnet behind its table (the main one).
        let f = try #require(Self.error(ScenarioText.replacing(Self.yaml, "instances:\n",
            "  - {id: subnet-0ee55ff6607788991, name: legacy, vpc: main, cidr: 10.0.2.0/24, availability_zone: us-east-1a}\ninstances:\n")))
        #expect(f.description == "gw6.yaml:22:22: VPC endpoint vpce-0a2b4c6d8e0f1a3b5: ip_address_type dualstack needs "
                + "dual-stack subnets behind its route tables; subnet-0ee55ff6607788991 is IPv4-only", "\(f)")
        // Dualstack in a VPC without an IPv6 block.
        let e = try #require(Self.error(ScenarioText.replacing(Self.yaml,
            ", ipv6_cidr: \"2600:1f18:aaaa:aa00::/56\"}", "}")))
        #expect(e.description == "gw6.yaml:22:22: VPC endpoint vpce-0a2b4c6d8e0f1a3b5: ip_address_type dualstack needs an "
                + "IPv6 block on vpc-0a1b2c3d4e5f60718 (its ipv6_cidr)", "\(e)")
    }

    /// `vpcsim import aws`: a table that routes the endpoint's IPv6 prefix list to it as well as the IPv4 one (a
    /// dualstack endpoint) gives the endpoint `ip_address_type: dualstack` and that list as its `ipv6_prefix_list`;
    /// the scenario written loads, with the IPv6 route named after the list.
    @Test func importKeepsADualstackEndpointsIPv6PrefixList() throws {
        let dir = try AWSImportIPv6Tests.syntheticCopy("vpcsim-gw6-import",
            tables: "\"DestinationPrefixListId\": \"pl-63a5400a\",\n                    \"GatewayId\": \"vpce-0123456789abcdef0\"\n                }",
            "\"DestinationPrefixListId\": \"pl-63a5400a\",\n                    \"GatewayId\": \"vpce-0123456789abcdef0\"\n                },\n"
                + "                {\"Origin\": \"CreateRoute\", \"State\": \"active\", \"DestinationPrefixListId\": \"pl-0a6a7b8c9d0e1f2a3\", "
                + "\"GatewayId\": \"vpce-0123456789abcdef0\"}")
        try #"{"Entries": [{"Cidr": "2600:1fa0:8000::/39"}]}"#.write(
            toFile: dir + "/get-managed-prefix-list-entries-pl-0a6a7b8c9d0e1f2a3.json", atomically: true, encoding: .utf8)
        let imported = try AWSImporter.importDirectory(dir)
        #expect(imported.yaml.contains(", ip_address_type: dualstack, ipv6_prefix_list: {id: pl-0a6a7b8c9d0e1f2a3, cidrs: "
                                       + "[\"2600:1fa0:8000::/39\"]}}"), "\(imported.yaml)")
        let m = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml").model
        let e = try #require(m.vpcEndpoints.firstIndex { $0.id == "vpce-0123456789abcdef0" })
        #expect(m.vpcEndpoints[e].ipAddressType == "dualstack" && m.vpcEndpoints[e].ipv6PrefixListID == "pl-0a6a7b8c9d0e1f2a3")
        let t = try #require(m.routeTables.first { $0.id == "rtb-0f1e2d3c4b5a69788" })
        #expect(t.ipv6Routes.contains(IPv6Route(destination: try IPv6CIDR(parsing: "2600:1fa0:8000::/39"),
                                                target: .common(.vpcEndpoint(e)), prefixList: "pl-0a6a7b8c9d0e1f2a3")),
                "\(t.ipv6Routes)")
    }
}
