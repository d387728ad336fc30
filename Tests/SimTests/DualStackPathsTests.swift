import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// IPv6 through the paths the model has for IPv4 (scenarios/dual-stack-paths.yaml): a VPC peering connection with
/// a security-group reference across it, a transit gateway whose route table learns IPv6 blocks by propagation,
/// a peering to a VPC without an IPv6 block, and a virtual private gateway, which carries IPv4 only.
@Suite struct DualStackPathsTests {
    static let path = repositoryRoot + "/scenarios/dual-stack-paths.yaml"
    static let pcx = "pcx-0a1b2c3d4e5f60718", legacy = "pcx-0b2c3d4e5f6071829"
    static let attachApp = "tgw-attach-0a00000000000001", attachSpoke = "tgw-attach-0c00000000000003"
    static let table = "tgw-rtb-0c000000000000091"
    static let box6 = "2600:1f18:aaaa:aa01::10", files6 = "2600:1f18:bbbb:bb01::20", spoke6 = "2600:1f18:cccc:cc01::30"

    static func yaml() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func run(_ text: String, out: String? = nil, tgwLogs: Bool = false) throws -> Runner.Outcome {
        let t = tgwLogs ? text + "\nflow_logs: {transit_gateways: [hub]}\n" : text
        return try ScenarioText.run(t, file: "dual-stack-paths.yaml", out: out)
    }

    /// Every flow as the scenario expects: IPv6 crosses the peering and the transit gateway; the peering to a VPC
    /// without an IPv6 block and the virtual private gateway drop it.
    @Test func theStoryHoldsItsExpectations() throws {
        let o = try Self.run(try Self.yaml())
        #expect(o.exitCode == 0, "\(o.text)")
        #expect(o.report.flows.map(\.outcome) == ["ok", "ok", "timeout", "timeout", "ok", "ok"], "\(o.text)")
        #expect(o.report.flows.allSatisfy { $0.expectation?.held == true }, "\(o.text)")
    }

    /// Across the peering over IPv6: the IPv6 route to the connection, the connection's step, the peer's NACL
    /// and the server's group, which admits the client's group by reference for its IPv6 address too.
    @Test func ipv6CrossesThePeeringAndTheGroupReferenceHolds() throws {
        let o = try Self.run(try Self.yaml())
        let f = o.report.flows[0]
        #expect(f.outcome == "ok" && f.drop == nil, "\(o.text)")
        #expect(f.hops.map(\.step) == ["security-group-egress", "route", "nacl-outbound", "peering", "nacl-inbound",
                                       "security-group-ingress", "delivered"], "\(f.hops)")
        #expect(f.hops[1].rule == "2600:1f18:bbbb:bb00::/56 → \(Self.pcx)")
        #expect(f.hops[3].component == Self.pcx && f.hops[3].action == "forwarded")
        #expect(f.hops[5].rule == "ALLOW tcp 22 sg-0d1e2f3a4b5c6d7e8" && f.hops[5].action == "allowed")
        #expect(f.reply_hops[1].rule == "2600:1f18:aaaa:aa00::/56 → \(Self.pcx)")
        // Without the group reference the server's group drops the IPv6 SYN, naming its IPv6 source.
        let noRef = ScenarioText.replacing(try Self.yaml(), "{protocol: tcp, ports: 22, security_group: app-sg}",
                                           "{protocol: tcp, ports: 443, security_group: app-sg}")
        let drop = try #require(try Self.run(noRef).report.flows[0].drop)
        #expect(drop.component == "sg-0a9b8c7d6e5f40312" && drop.rule == "no ingress rule allows tcp 22 from \(Self.box6)")
    }

    /// Over an inter-Region connection (MTU 8500) the instances' 9001-byte IPv6 packets are too big: IPv6 routers
    /// never fragment, so the connection drops them and a Packet Too Big (MTU 8500) goes back from the sending
    /// subnet's IPv6 router address, as the transit gateway's does. The client's group has no ICMPv6 rule: a black
    /// hole, whose verified fix is that rule; with it the client's segments fit 8500 bytes and the transfer
    /// completes. Both captures are clean, checksums checked.
    @Test func anIPv6PacketTooBigForAnInterRegionPeeringSendsAPacketTooBig() throws {
        // A group reference does not cross Regions: the server admits the app VPC's IPv6 block instead.
        let text = ScenarioText.replacing(ScenarioText.replacing(try Self.yaml(), "requester_vpc: app, accepter_vpc: files}",
                                          "requester_vpc: app, accepter_vpc: files, accepter_region: eu-west-1}"),
                                          "{protocol: tcp, ports: 22, security_group: app-sg}",
                                          "{protocol: tcp, ports: 22, cidr: \"2600:1f18:aaaa:aa00::/56\"}")
        let router = "2600:1f18:aaaa:aa01::1"
        let f = try Self.run(text).report.flows[0]
        #expect(f.outcome == "timeout", "\(f.message)")
        let big = try #require(f.drops.first { $0.component == Self.pcx })
        #expect(big.rule == "link MTU 8500 < IPv6 packet 9001 bytes; ICMPv6 packet too big sent to \(Self.box6)", "\(big.rule)")
        #expect(f.drop?.component == "sg-0d1e2f3a4b5c6d7e8" && f.drop?.rule == "no ingress rule allows icmp from \(router)",
                "\(String(describing: f.drop))")
        #expect(f.fix?.verified == true && f.fix?.changes.map(\.change) == ["ingress: add ALLOW icmpv6 type 2 ::/0"],
                "\(String(describing: f.fix))")
        // The rule in place: the Packet Too Big arrives, the segments shrink, the transfer completes.
        let open = ScenarioText.replacing(text, "    ingress: []\n    egress:\n      - {protocol: all, cidr: 0.0.0.0/0}\n"
                                              + "      - {protocol: all, cidr: \"::/0\"}\n  - id: sg-0a9b8c7d6e5f40312\n",
                                          "    ingress: [{protocol: icmpv6, icmp_type: 2, cidr: \"::/0\"}]\n    egress:\n"
                                              + "      - {protocol: all, cidr: 0.0.0.0/0}\n      - {protocol: all, cidr: \"::/0\"}\n"
                                              + "  - id: sg-0a9b8c7d6e5f40312\n")
        let out = makeTempDirectory("vpcsim-pcx-ptb")
        let o = try Self.run(open, out: out)
        #expect(o.report.flows[0].outcome == "ok", "\(o.report.flows[0].message)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        let pcx = out + "/" + (try #require(files.first { $0.hasSuffix("-pcx-app-files-\(Self.pcx).pcap") }))
        let box = out + "/" + (try #require(files.first { $0.hasSuffix("-instance-app-box-eni-0b4aaa576c95d9f13.pcap") }))
        for file in [pcx, box] {
            let (frames, problems) = try TShark.problems(in: file)
            #expect(frames > 0 && problems.isEmpty, "\(file): \(problems)")
        }
        let ptb = try TShark.fields(box, ["ipv6.src", "icmpv6.mtu", "icmpv6.checksum.status", "tcp.srcport"],
                                    filter: "icmpv6.type == 2")
        #expect(!ptb.isEmpty && Set(ptb) == ["\(router),\(Self.box6)\t8500\t1\t58838"], "\(Set(ptb))")
        let sizes = try TShark.fields(box, ["ipv6.plen"], filter: "ipv6.src == \(Self.box6) && tcp.len > 0").compactMap { Int($0) }
        // Each segment too big for the connection drew one Packet Too Big; the rest fit.
        #expect(sizes.contains(8500 - 40) && sizes.filter { $0 > 8500 - 40 }.count == ptb.count, "\(Set(sizes)) \(ptb.count)")
    }

    /// `vpcsim validate`'s listing of the IPv6 parts names the attachments with IPv6 support, the TGW IPv6 routes and
    /// the dual-stack endpoint.
    @Test func theIPv6ListingNamesTheNewParts() throws {
        let text = ScenarioText.replacing(try Self.yaml(), "propagations: [app, spoke, branch]",
            "propagations: [app, spoke, branch]\n        routes: [{destination: \"2600:1f18:cccc:cc01::/64\", target: blackhole}]")
        let listing = try ScenarioLoader.load(yaml: text, file: "t.yaml").model.ipv6Listing
        #expect(listing.contains("\(Self.attachApp) (app) IPv6 support (its VPC's IPv6 blocks propagate)"), "\(listing)")
        #expect(listing.contains("\(Self.table) (all) route 2600:1f18:cccc:cc01::/64 → blackhole"), "\(listing)")
        #expect(listing.contains("vpce-0d1e2f3a4b5c6d7e8 (secrets) dual-stack (ip_address_type dualstack)"), "\(listing)")
        #expect(listing.contains("rtb-0123456789abcdef0 (app-rt) route 2600:1f18:bbbb:bb00::/56 → \(Self.pcx)"), "\(listing)")
    }

    /// Without the IPv6 route back on the peer's side the SYN-ACK dies at the peer's route table; the fix adds the
    /// IPv6 route to the requester's IPv6 block through the connection, verified by a rerun. The same for a missing
    /// IPv6 route to the transit gateway.
    @Test func aMissingIPv6RouteBackGetsTheIPv6RouteAsItsFix() throws {
        let text = ScenarioText.replacing(try Self.yaml(), "      - {destination: \"2600:1f18:aaaa:aa00::/56\", target: app-files}\n", "")
        let f = try Self.run(text).report.flows[0]
        #expect(f.drop?.component == "rtb-0a9b8c7d6e5f40312" && f.drop?.rule == "no route matches \(Self.box6)")
        #expect(f.fix?.changes.map(\.change) == ["add route 2600:1f18:aaaa:aa00::/56 → \(Self.pcx)"], "\(String(describing: f.fix))")
        #expect(f.fix?.verified == true)
        let noTGW = ScenarioText.replacing(try Self.yaml(), "      - {destination: \"2600:1f18:aaaa:aa00::/56\", target: hub}\n", "")
        let g = try Self.run(noTGW).report.flows[1]
        #expect(g.drop?.component == "rtb-0d4e5f60718293a4b" && g.drop?.rule == "no route matches \(Self.box6)")
        #expect(g.fix?.changes.map(\.change) == ["add route 2600:1f18:aaaa:aa00::/56 → tgw-0c000000000000009"],
                "\(String(describing: g.fix))")
        #expect(g.fix?.verified == true)
    }

    /// A peer VPC without an IPv6 block takes no IPv6: the connection drops the packet, saying so.
    @Test func aPeerWithoutAnIPv6BlockTakesNoIPv6() throws {
        let f = try Self.run(try Self.yaml()).report.flows[2]
        let drop = try #require(f.drop)
        #expect(drop.kind == "peering" && drop.component == Self.legacy)
        #expect(drop.rule == "2600:1f18:dddd::5 is not in vpc-0d4e5f60718293a4b (legacy) (no IPv6 CIDR block)")
    }

    /// The capture at the peering connection holds the flow's IPv6 frames both ways, as tshark reads them, and
    /// the flow logs of both ENIs record the IPv6 addresses.
    @Test func thePeeringCaptureAndFlowLogsCarryIPv6() throws {
        let out = makeTempDirectory("vpcsim-v6-peering")
        let text = ScenarioText.replacing(try Self.yaml(), "seed: 1\n",
            "seed: 1\nflow_logs: {format: \"${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action} ${flow-direction} ${type}\"}\n")
        let o = try Self.run(text, out: out)
        let c = try #require(o.report.captures.first { $0.component == Self.pcx })
        #expect(c.packets > 0)
        #expect(try TShark.problems(in: out + "/" + c.file).problems == [])
        let pairs = try TShark.fields(out + "/" + c.file, ["ipv6.src", "ipv6.dst"])
        #expect(pairs.count == c.packets)
        #expect(pairs.first == "\(Self.box6)\t\(Self.files6)")
        #expect(pairs.contains("\(Self.files6)\t\(Self.box6)"))
        let logs = try #require(o.flowLogText).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(logs.contains { $0.dropFirst() == [Self.box6, Self.files6, "22", "ACCEPT", "egress", "IPv6"] }, "\(logs)")
        #expect(logs.contains { $0.dropFirst() == [Self.box6, Self.files6, "22", "ACCEPT", "ingress", "IPv6"] }, "\(logs)")
    }

    /// Through the transit gateway over IPv6: the VPC's IPv6 route to the gateway, the gateway's route table's
    /// propagated IPv6 block of the spoke VPC, and back by the app VPC's.
    @Test func ipv6CrossesTheTransitGatewayByPropagatedRoutes() throws {
        let o = try Self.run(try Self.yaml())
        let f = o.report.flows[1]
        #expect(f.outcome == "ok" && f.drop == nil, "\(o.text)")
        #expect(f.hops.filter { $0.step == "tgw-route" }.map(\.rule)
            == ["2600:1f18:cccc:cc00::/56 → \(Self.attachSpoke) (vpc) (propagated)"], "\(f.hops)")
        #expect(f.reply_hops.filter { $0.step == "tgw-route" }.map(\.rule)
            == ["2600:1f18:aaaa:aa00::/56 → \(Self.attachApp) (vpc) (propagated)"], "\(f.reply_hops)")
    }

    /// Without IPv6 support on the spoke's attachment its IPv6 block does not propagate (the IPv4 one still does):
    /// no route matches; a static IPv6 route carries the flow anyway (the setting filters no IPv6 traffic); a
    /// blackhole IPv6 route drops it.
    @Test func ipv6SupportDecidesPropagationNotTraffic() throws {
        let off = ScenarioText.replacing(try Self.yaml(), "subnets: [spoke-tgw], ipv6_support: true", "subnets: [spoke-tgw]")
        let f = try Self.run(off).report.flows[1]
        #expect(f.drop?.component == Self.table && f.drop?.rule == "no route matches \(Self.spoke6)", "\(f.drops)")
        // The fix turns IPv6 support on, verified by a rerun.
        #expect(f.fix?.changes.map(\.change) == ["enable IPv6 support (aws ec2 modify-transit-gateway-vpc-attachment "
                + "--transit-gateway-attachment-id \(Self.attachSpoke) --options Ipv6Support=enable)"], "\(String(describing: f.fix))")
        #expect(f.fix?.verified == true)
        let routed = ScenarioText.replacing(off, "propagations: [app, spoke, branch]",
            "propagations: [app, spoke, branch]\n        routes: [{destination: \"2600:1f18:cccc:cc00::/56\", target: spoke}]")
        #expect(try Self.run(routed).report.flows[1].outcome == "ok")
        let blackhole = ScenarioText.replacing(try Self.yaml(), "propagations: [app, spoke, branch]",
            "propagations: [app, spoke, branch]\n        routes: [{destination: \"2600:1f18:cccc:cc01::/64\", target: blackhole}]")
        let b = try Self.run(blackhole).report.flows[1]
        #expect(b.drop?.component == Self.table && b.drop?.rule == "2600:1f18:cccc:cc01::/64 → blackhole", "\(b.drops)")
    }

    /// The attachments' captures hold IPv6 frames tshark reads cleanly; the gateway's flow logs record the flow
    /// with its IPv6 addresses and type IPv6.
    @Test func theTransitGatewayCaptureAndFlowLogsCarryIPv6() throws {
        let out = makeTempDirectory("vpcsim-v6-tgw")
        let o = try Self.run(try Self.yaml(), out: out, tgwLogs: true)
        for component in [Self.attachApp, Self.attachSpoke] {
            let c = try #require(o.report.captures.first { $0.component == component })
            #expect(c.packets > 0)
            #expect(try TShark.problems(in: out + "/" + c.file).problems == [])
            #expect(try TShark.fields(out + "/" + c.file, ["ipv6.dst"]).contains(Self.spoke6))
        }
        let lines = try #require(o.tgwFlowLogText).split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
            .filter { $0[16] == Self.spoke6 || $0[17] == Self.spoke6 }  // the https-v6-tgw flow's
        // Fields 16-17 are srcaddr and dstaddr, 26 the type, 33 the direction (version 6's default format): an
        // ingress and an egress record at each attachment, every one IPv6.
        #expect(lines.count == 4 && lines.allSatisfy { $0[26] == "IPv6" }, "\(lines)")
        let request = [Self.box6, Self.spoke6], reply = [Self.spoke6, Self.box6]
        #expect(lines.map { [$0[4], $0[16], $0[17], $0[33]] } == [
            [Self.attachApp] + request + ["ingress"], [Self.attachApp] + reply + ["egress"],
            [Self.attachSpoke] + reply + ["ingress"], [Self.attachSpoke] + request + ["egress"],
        ])
    }

    /// A virtual private gateway does not carry IPv6 (VPN-UG): the packet is dropped there, saying so.
    @Test func aVirtualPrivateGatewayDropsIPv6() throws {
        let f = try Self.run(try Self.yaml()).report.flows[3]
        let drop = try #require(f.drop)
        #expect(drop.component == "vgw-0c000000000000041" && drop.rule == "IPv6 to 2001:db8:99::5")
        #expect(f.outcome == "timeout")
        #expect(f.hops.first { $0.component == "vgw-0c000000000000041" }?.detail?.contains("IPv4 only") == true)
    }

    /// A dual-stack interface endpoint: its ENI has an IPv6 address, private DNS answers AAAA, and a Happy Eyeballs
    /// client connects over IPv6 to it; the endpoint's group admits the client's group for IPv6 too.
    @Test func aDualStackInterfaceEndpointAnswersOverIPv6() throws {
        let s = try ScenarioLoader.load(yaml: try Self.yaml(), file: "t.yaml")
        let ep = try #require(s.model.vpcEndpoints.first { $0.id == "vpce-0d1e2f3a4b5c6d7e8" })
        #expect(ep.dualStack && s.model.enis[ep.enis[0]].ipv6Address == IPv6Address("2600:1f18:aaaa:aa01::4"))
        let o = try Self.run(try Self.yaml())
        let f = o.report.flows[4]
        #expect(f.outcome == "ok" && f.drop == nil, "\(o.text)")
        #expect(f.hops.last?.step == "delivered", "\(f.hops)")
        #expect(f.hops.contains { $0.rule == "2600:1f18:aaaa:aa00::/56 → local" }, "\(f.hops)")
        #expect(f.hops.contains { $0.step == "security-group-ingress" && $0.rule == "ALLOW tcp 443 sg-0d1e2f3a4b5c6d7e8" })
        // An endpoint left IPv4 has no AAAA record: the same client connects over IPv4.
        let v4 = ScenarioText.replacing(try Self.yaml(), "    ip_address_type: dualstack ", "    ip_address_type: ipv4 ")
        let g = try Self.run(v4).report.flows[4]
        #expect(g.outcome == "ok" && !g.hops.contains { $0.rule.contains("::/56 → local") }, "\(g.hops)")
        // ipv6 (IPv6-only subnets) is not modeled: one line at the key.
        let v6only = ScenarioText.replacing(try Self.yaml(), "    ip_address_type: dualstack ", "    ip_address_type: ipv6 ")
        let e = try #require(DualStackScenarioTests.error(v6only))
        #expect(e.message == "VPC endpoint vpce-0d1e2f3a4b5c6d7e8: ip_address_type ipv6 (an endpoint in IPv6-only subnets) "
                + "is not modeled (ipv4 and dualstack are)", "\(e)")
    }

    /// On a transit gateway AWS carries IPv6 inside VPN tunnels made for it (TunnelInsideIpVersion ipv6, VPNIPv6Tests);
    /// an IPv6 packet a static route of the gateway sends into a connection whose tunnels carry IPv4 is dropped there.
    @Test func ipv6IntoAnIPv4TunnelIsDroppedAtTheConnection() throws {
        var text = VPNTests.tgwYAML(propagations: "[app, dc]")
        for (old, new) in [
            ("cidr_blocks: [10.20.0.0/16]}", "cidr_blocks: [10.20.0.0/16], ipv6_cidr: \"2600:1f18:aaaa:aa00::/56\"}"),
            ("routes: [{destination: 172.16.0.0/12, target: hub}]",
             "routes: [{destination: 172.16.0.0/12, target: hub}, {destination: \"2001:db8:99::/48\", target: hub}]"),
            ("cidr: 10.20.1.0/24,", "cidr: 10.20.1.0/24, ipv6_cidr: \"2600:1f18:aaaa:aa01::/64\","),
            ("cidr: 10.20.255.0/28,", "cidr: 10.20.255.0/28, ipv6_cidr: \"2600:1f18:aaaa:aaff::/64\","),
            ("propagations: [app, dc]}", "propagations: [app, dc], routes: [{destination: \"2001:db8:99::/48\", target: dc}]}"),
            ("timeout: 30, private_ips: {app: 10.20.1.10}}", "timeout: 30, private_ips: {app: 10.20.1.10}, ipv6_allowed_for_dual_stack: true}"),
            ("to: \"api.corp:443\", app: https}", "to: \"[2001:db8:99::5]:443\", app: https}"),
            ("name: app-sg, vpc: app, ingress: []}",
             "name: app-sg, vpc: app, ingress: [], egress: [{protocol: all, cidr: 0.0.0.0/0}, {protocol: all, cidr: \"::/0\"}]}"),
        ] { text = ScenarioText.replacing(text, old, new) }
        let f = try Self.run(text).report.flows[0]
        #expect(f.outcome == "timeout", "\(f.message)")
        #expect(f.drop?.component == "vpn-0c000000000000071"
                && f.drop?.rule == "IPv6 to 2001:db8:99::5: the tunnels carry IPv4", "\(f.drops)")
        #expect(f.hops.filter { $0.step == "tgw-route" }.map(\.rule) == ["2001:db8:99::/48 → tgw-attach-0b0000000000000b (vpn)"])
    }

    /// Over IPv6 inside the branch's VPN tunnel: the hub's table has the connection's BGP prefix as a propagated
    /// IPv6 route to the VPN attachment; the tunnel carries the packet to the on-premises host and its reply back,
    /// and the hub's flow logs record the VPN attachment's side as IPv6.
    @Test func ipv6CrossesTheBranchsIPv6InsideTunnel() throws {
        let o = try Self.run(try Self.yaml(), out: makeTempDirectory("vpcsim-v6-vpn"), tgwLogs: true)
        let f = o.report.flows[5]
        #expect(f.outcome == "ok" && f.drop == nil, "\(o.text)")
        #expect(f.hops.filter { $0.step == "tgw-route" }.map(\.rule)
            == ["2001:db8:77::/48 → tgw-attach-0d00000000000004 (vpn) (propagated)"], "\(f.hops)")
        #expect(f.hops.contains { $0.step == "vpn-connection" && $0.component == "vpn-0c000000000000071" })
        #expect(f.reply_hops.filter { $0.step == "tgw-route" }.map(\.rule)
            == ["2600:1f18:aaaa:aa00::/56 → \(Self.attachApp) (vpc) (propagated)"], "\(f.reply_hops)")
        let lines = try #require(o.tgwFlowLogText).split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
            .filter { $0[4] == "tgw-attach-0d00000000000004" }
        #expect(lines.map { [$0[16], $0[17], $0[26], $0[33]] } == [
            ["2001:db8:77::5", Self.box6, "IPv6", "ingress"], [Self.box6, "2001:db8:77::5", "IPv6", "egress"],
        ], "\(lines)")
    }

    /// IPv6 support on an attachment needs an IPv6 block on each of its subnets: one line at the key.
    @Test func ipv6SupportWithoutSubnetBlocksIsRefused() throws {
        let text = ScenarioText.replacing(try Self.yaml(),
            "{id: subnet-0cc33dd44ee55ff67, name: spoke-tgw, vpc: spoke, cidr: 10.2.255.0/28, ipv6_cidr: \"2600:1f18:cccc:ccff::/64\", availability_zone: us-east-1a}",
            "{id: subnet-0cc33dd44ee55ff67, name: spoke-tgw, vpc: spoke, cidr: 10.2.255.0/28, availability_zone: us-east-1a}")
        let e = try #require(DualStackScenarioTests.error(text))
        #expect(e.description.hasPrefix("ds.yaml:") && !e.description.contains("\n"), "\(e)")
        #expect(e.line == 118 && e.column == 104)  // the value of ipv6_support
        #expect(e.message == "attachment tgw-attach-0c00000000000003: ipv6_support needs an IPv6 CIDR block on each of its "
                + "subnets (its ENI there gets an IPv6 address); subnet-0cc33dd44ee55ff67 has none", "\(e)")
    }
}

/// An IPv6 packet too big for a transit gateway (8500): routers never fragment IPv6, so the gateway drops it and
/// sends an ICMPv6 Packet Too Big from the attachment subnet's IPv6 router address; the pinging host then sends
/// its echo requests in fragments that fit, and the server, told the same of its echo replies, fragments those.
@Suite struct TransitGatewayPacketTooBigTests {
    static func yaml(admitPacketTooBig: Bool) throws -> String {
        // The scenario with one flow: its `flows:` block (up to the next top-level key) replaced.
        var s = try DualStackPathsTests.yaml()
        let start = s.range(of: "\nflows:\n")!
        let end = s[start.upperBound...].firstMatch(of: /\n[a-z_]+:/)?.range.lowerBound ?? s.endIndex
        s.replaceSubrange(start.lowerBound..<end, with: """

            flows:
              - {name: big-ping6, from: app-box, to: spoke-api, app: ping, size: 8900, count: 3, address_family: ipv6}
            """)
        s = ScenarioText.replacing(s, "      - {protocol: tcp, ports: 443, cidr: \"2600:1f18:aaaa:aa00::/56\"}\n",
                                   "      - {protocol: tcp, ports: 443, cidr: \"2600:1f18:aaaa:aa00::/56\"}\n"
                                   + "      - {protocol: icmpv6, cidr: \"2600:1f18:aaaa:aa00::/56\"}\n"
                                   + (admitPacketTooBig ? "      - {protocol: icmpv6, icmp_type: 2, cidr: \"::/0\"}\n" : ""))
        if admitPacketTooBig {
            s = ScenarioText.replacing(s, "    name: app-sg\n    vpc: app\n    ingress: []\n",
                                       "    name: app-sg\n    vpc: app\n    ingress: [{protocol: icmpv6, icmp_type: 2, cidr: \"::/0\"}]\n")
        }
        return s
    }

    @Test func thePacketTooBigComesFromTheAttachmentSubnetAndTheGroupDecides() throws {
        let dir = makeTempDirectory("vpcsim-tgw-ptb")
        let o = try DualStackPathsTests.run(try Self.yaml(admitPacketTooBig: false), out: dir)
        let f = o.report.flows[0]
        #expect(f.outcome == "timeout" && f.message.hasPrefix("3 packets transmitted, 0 received"), "\(o.text)")
        #expect(f.hops.last?.rule == "link MTU 8500 < IPv6 packet 8948 bytes; ICMPv6 packet too big sent to "
                + DualStackPathsTests.box6, "\(f.hops.map(\.rule))")
        #expect(o.text.contains("sg-0d1e2f3a4b5c6d7e8 (app-sg) ingress: add ALLOW icmpv6 type 2 ::/0"), "\(o.text)")
        let capture = try #require(try FileManager.default.contentsOfDirectory(atPath: dir)
            .first { $0.hasSuffix("-tgw-app-\(DualStackPathsTests.attachApp).pcap") })
        let ptb = try TShark.fields(dir + "/" + capture, ["ipv6.src", "icmpv6.mtu", "icmpv6.checksum.status", "frame.len"],
                                    filter: "icmpv6.type == 2")
        // The quote is cut so the Packet Too Big fits in 1280 bytes (RFC 4443 §2.4(c)): 1294 with Ethernet.
        #expect(ptb == Array(repeating: "2600:1f18:aaaa:aaff::1,\(DualStackPathsTests.box6)\t8500\t1,2\t1294", count: 3), "\(ptb)")
    }

    @Test func withThePacketTooBigLetInBothEndsFragmentAndLaterEchoesAreAnswered() throws {
        let dir = makeTempDirectory("vpcsim-tgw-ptb-ok")
        let o = try DualStackPathsTests.run(try Self.yaml(admitPacketTooBig: true), out: dir)
        // The first request dies at the gateway, the second's reply too; the third goes and comes back in fragments.
        #expect(o.report.flows[0].message.hasPrefix("3 packets transmitted, 1 received"), "\(o.text)")
        let capture = try #require(try FileManager.default.contentsOfDirectory(atPath: dir)
            .first { $0.hasSuffix("-tgw-spoke-\(DualStackPathsTests.attachSpoke).pcap") })
        let frames = try TShark.fields(dir + "/" + capture, ["ipv6.src", "frame.len", "ipv6.fraghdr.offset"])
        let fromBox = frames.filter { $0.hasPrefix(DualStackPathsTests.box6 + "\t") }
        #expect(fromBox == Array(repeating: ["\(DualStackPathsTests.box6)\t8510\t0", "\(DualStackPathsTests.box6)\t522\t1056"],
                                 count: 2).flatMap { $0 }, "\(frames)")
        #expect(frames.suffix(2) == ["\(DualStackPathsTests.spoke6)\t8510\t0", "\(DualStackPathsTests.spoke6)\t522\t1056"],
                "\(frames)")
        let (count, problems) = try TShark.problems(in: dir + "/" + capture)
        #expect(count == 8 && problems.isEmpty, "\(problems)")
    }
}
