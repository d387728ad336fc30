import Foundation
import Packets
import Testing
@testable import Sim

/// IPv6 packets (their addresses `IPv6Token`s) against the components: each family meets only its own routes
/// and rules, and the deciding rule is named as the console shows IPv6 entries.
@Suite struct IPv6EngineTests {
    static let scenario = try! DualStackScenarioTests.load(DualStackScenarioTests.yaml())
    static let host6 = IPv6Token.intern(IPv6Address("2001:db8::22")!)
    static let web6 = IPv6Token.intern(IPv6Address("2600:1f18:abc:de00::10")!)
    static let host4 = IPv4Address(203, 0, 113, 22), web4 = IPv4Address(10, 0, 0, 10)

    static func tcp(_ s: IPv4Address, _ d: IPv4Address, _ port: UInt16) -> PacketKey {
        PacketKey(proto: .tcp, source: s, destination: d, sourcePort: 40112, destinationPort: port)
    }

    /// public-nacl: inbound #100 ALLOW all 0.0.0.0/0 and #101 ALLOW tcp 22 ::/0; outbound #100 ALLOW all 0.0.0.0/0.
    @Test func anIPv4EntryNeverAdmitsAnIPv6Packet() {
        let m = Self.scenario.model
        let nacl = NetworkACL(m)
        let a = m.networkACLs.firstIndex { $0.name == "public-nacl" }!
        func verdict(_ d: Direction, _ k: PacketKey) -> (Bool, String) {
            let (allowed, rule) = nacl.decision(a, d, k)
            return (allowed, nacl.describe(rule: rule))
        }
        #expect(verdict(.inbound, Self.tcp(Self.host6, Self.web6, 22)) == (true, "#101 ALLOW tcp 22 ::/0"))
        // #100 allows all IPv4 from 0.0.0.0/0: an IPv6 packet to 443 meets only #101, then the `*` DENY of ::/0.
        #expect(verdict(.inbound, Self.tcp(Self.host6, Self.web6, 443)) == (false, "* DENY all ::/0"))
        #expect(verdict(.inbound, Self.tcp(Self.host4, Self.web4, 443)) == (true, "#100 ALLOW all 0.0.0.0/0"))
        #expect(verdict(.outbound, Self.tcp(Self.web6, Self.host6, 22)) == (false, "* DENY all ::/0"))
        #expect(verdict(.outbound, Self.tcp(Self.web4, Self.host4, 22)) == (true, "#100 ALLOW all 0.0.0.0/0"))
        // The model-level evaluator agrees.
        let d = NACLEvaluator.evaluate(m.networkACLs[a], .inbound, Self.tcp(Self.host6, Self.web6, 22))
        #expect(d.allowed && d.isIPv6 && d.rule == nil && d.described == "#101 ALLOW tcp 22 ::/0")
        #expect(!NACLEvaluator.evaluate(m.networkACLs[a], .outbound, Self.tcp(Self.web6, Self.host6, 22)).allowed)
    }

    /// The default NACL of a VPC with an IPv6 block allows IPv6 both ways (#101 ALLOW all ::/0).
    @Test func theDefaultNACLAllowsIPv6() {
        let m = Self.scenario.model
        let nacl = NetworkACL(m)
        let a = m.networkACLs.firstIndex { $0.isDefault }!
        let (allowed, rule) = nacl.decision(a, .outbound, Self.tcp(Self.web6, Self.host6, 443))
        #expect(allowed && nacl.describe(rule: rule) == "#101 ALLOW all ::/0")
    }

    /// app-sg: ingress tcp 22 from ::/0 and from 0.0.0.0/0, each family its own rule.
    @Test func aSecurityGroupMatchesEachFamilyWithItsOwnRules() throws {
        let m = Self.scenario.model
        let g = try #require(m.securityGroups.firstIndex { $0.name == "app-sg" })
        let v6 = SecurityGroupEvaluator.evaluate(m, groups: [g], .inbound, Self.tcp(Self.host6, Self.web6, 22))
        #expect(v6.allowed && v6.rule == nil && v6.rule6.map(SecurityGroupEvaluator.describe6) == "ALLOW tcp 22 ::/0")
        let v4 = SecurityGroupEvaluator.evaluate(m, groups: [g], .inbound, Self.tcp(Self.host4, Self.web4, 22))
        #expect(v4.allowed && v4.rule6 == nil && v4.rule?.peer == .cidr(.anyIPv4))
        #expect(!SecurityGroupEvaluator.evaluate(m, groups: [g], .inbound, Self.tcp(Self.host6, Self.web6, 23)).allowed)
        // pl-sg's egress is an IPv6 prefix list only: no IPv4 packet matches it, an IPv6 one inside it does.
        let pl = try #require(m.securityGroups.firstIndex { $0.name == "pl-sg" })
        let inList = IPv6Token.intern(IPv6Address("2600:1f18:1000::5")!)
        #expect(SecurityGroupEvaluator.evaluate(m, groups: [pl], .outbound, Self.tcp(Self.web6, inList, 443)).allowed)
        #expect(!SecurityGroupEvaluator.evaluate(m, groups: [pl], .outbound, Self.tcp(Self.web6, Self.host6, 443)).allowed)
        #expect(!SecurityGroupEvaluator.evaluate(m, groups: [pl], .outbound, Self.tcp(Self.web4, Self.host4, 443)).allowed)
        // A reference to app-sg matches its members' addresses of either family, and no other address.
        let reference = SecurityGroupRule(proto: .number(.tcp), ports: PortRange(22, 22), peer: .securityGroup(g), description: nil)
        #expect(SecurityGroupEvaluator.matches(m, reference, Self.tcp(Self.web6, Self.host6, 22), peer: Self.web6))
        #expect(SecurityGroupEvaluator.matches(m, reference, Self.tcp(Self.web4, Self.host4, 22), peer: Self.web4))
        #expect(!SecurityGroupEvaluator.matches(m, reference, Self.tcp(Self.host6, Self.web6, 22), peer: Self.host6))
    }

    /// public-rt: 0.0.0.0/0 and ::/0 to the internet gateway; private-rt: ::/0 to the egress-only one. An IPv6
    /// destination meets the IPv6 routes (the VPC's /56 is local), never 0.0.0.0/0.
    @Test func routesMatchEachFamilyApart() {
        let m = Self.scenario.model
        let routes = RouteTable(m)
        let pub = m.routeTables.firstIndex { $0.name == "public-rt" }!
        let priv = m.routeTables.firstIndex { $0.name == "private-rt" }!
        let toHost = routes.route(pub, Self.host6)
        #expect(toHost?.kind == .internetGateway && toHost?.isIPv6 == true)
        #expect(toHost.map { routes.describe(pub, $0) } == "::/0 → igw-0c2d4e6f8a0b1c2d3")
        let viaEIGW = routes.route(priv, Self.host6)
        #expect(viaEIGW?.kind == .egressOnlyInternetGateway)
        #expect(viaEIGW.map { routes.describe(priv, $0) } == "::/0 → eigw-0123456789abcdef0")
        let local = routes.route(priv, Self.web6)
        #expect(local?.kind == .local && local.map { routes.describe(priv, $0) } == "2600:1f18:abc:de00::/56 → local")
        // private-rt has no IPv4 default route: an IPv4 packet to the internet has none, an IPv6 one has ::/0.
        #expect(routes.route(priv, Self.host4) == nil)
        #expect(routes.route(pub, Self.host4)?.isIPv6 == false)
    }

    /// The egress-only gateway: a packet from the internet passes only for a connection a packet going out
    /// opened (either direction of it), until the connection has been idle longer than the timeout.
    @Test func anEgressOnlyGatewayAdmitsOnlyRepliesUntilIdle() throws {
        let m = Self.scenario.model
        let s = 1_000_000_000 as Int64
        let eigw = EgressOnlyInternetGateway(m, idleTimeout: 350 * s)
        let out = Self.tcp(Self.web6, Self.host6, 443), reply = out.reversed
        #expect(!eigw.admits(0, reply, now: 0))
        eigw.leaving(0, out, now: 0)
        #expect(eigw.admits(0, reply, now: 10 * s))
        #expect(!eigw.admits(0, Self.tcp(Self.host6, Self.web6, 22), now: 10 * s))  // another connection
        #expect(eigw.admits(0, reply, now: 360 * s))  // 350 s after the last reply: still within
        #expect(!eigw.admits(0, reply, now: 711 * s))  // idle 351 s: forgotten
        #expect(!eigw.admits(0, reply, now: 712 * s))
        let scenario = try DualStackScenarioTests.load(DualStackScenarioTests.yaml()
            .replacingOccurrences(of: "name: ds\n", with: "name: ds\nassumptions: {eigw_idle_timeout_s: 60}\n"))
        #expect(scenario.assumptions.eigwIdleTimeout == 60 * s)
        #expect(scenario.assumptions.listing.contains { $0.name == "eigw_idle_timeout_s" && $0.value == "60" })
    }

    /// IPv6 routers never fragment and answer with Packet Too Big: an IPv6 upload through a 1400-byte link loses
    /// its 1500-byte packets there and the Packet Too Big goes back to the instance, whose group has no ICMPv6
    /// rule: a black hole, and the fix is the group's rule. The check counts an IPv6 packet's 40-byte header: a
    /// 1500-byte packet does not fit a 1480-byte link, though its IPv4-sized length inside the engine (1480) would.
    @Test(arguments: [1400, 1480])
    func anIPv6PacketTooBigForALinkIsDroppedThereWithAPacketTooBig(mtu: Int) throws {
        let text = DualStackScenarioTests.yaml(flows: "  - {name: f, from: v6box, to: both.example.com:22, app: sftp, size: 100KB}")
            .replacingOccurrences(of: "{name: both.example.com, ip: 203.0.113.22,",
                                  with: "{name: both.example.com, ip: 203.0.113.22, path_mtu: \(mtu),")
        let o = try NotModeledTests.run(text)
        let r = o.results[0]
        #expect(r.outcome == .timeout, "\(r.message)")
        let big = try #require(r.drops.first { $0.kind == "path-mtu" && $0.fromClient })
        #expect(big.rule.hasPrefix("path MTU \(mtu) < IPv6 packet 1500 bytes; ICMPv6 packet too big sent to "), "\(big.rule)")
        let drop = try #require(r.drop)
        #expect(drop.kind == "security-group" && drop.key.icmpType == 2)
        let fix = try #require(o.report.flows[0].fix)
        #expect(fix.verified && fix.changes.map(\.change) == ["ingress: add ALLOW icmpv6 type 2 ::/0"])
    }

    /// The internet's 1500 bytes hold through an egress-only gateway too (`igw_mtu`): jumbo IPv6 packets between an
    /// instance and a host of MTU 9001 stop there, and the gateway's Packet Too Big goes back to each sender.
    @Test func anIPv6PacketBiggerThanTheInternetsMTUStopsAtTheEgressOnlyGateway() throws {
        let text = DualStackScenarioTests.yaml(flows: "  - {name: f, from: v6box, to: both.example.com:22, app: sftp, size: 100KB}")
            .replacingOccurrences(of: "{name: both.example.com, ip: 203.0.113.22,",
                                  with: "{name: both.example.com, ip: 203.0.113.22, mtu: 9001,")
        let r = try NotModeledTests.run(text).results[0]
        let atGateway = r.drops.filter { $0.kind == "path-mtu" }
        #expect(!atGateway.isEmpty && atGateway.allSatisfy { $0.component == "eigw-0123456789abcdef0" })
        #expect(atGateway.allSatisfy { $0.rule.hasPrefix("link MTU 1500 < IPv6 packet ") && $0.rule.contains("ICMPv6 packet too big sent to") },
                "\(atGateway.map(\.rule))")
        #expect(r.drop?.kind == "security-group" && r.drop?.key.icmpType == 2, "\(String(describing: r.drop))")
    }

    /// An IPv6-only host connects in to an instance's IPv6 address through the internet gateway (untranslated:
    /// the address is global). The public NACL lets tcp 22 in from ::/0 but has no IPv6 entry outbound, so the
    /// SYN-ACK dies leaving the subnet; the verified fix is the IPv6 twin of its IPv4 outbound entry.
    @Test func anIPv6ConnectionInThroughTheInternetGatewayNeedsTheIPv6ReplyEntry() throws {
        let o = try NotModeledTests.run(DualStackScenarioTests.yaml(
            flows: "  - {name: f, from: v6.example.com, to: web:22, app: sftp, size: 10KB}"))
        let f = o.report.flows[0]
        #expect(f.outcome == "timeout", "\(f.message)")
        #expect(f.hops.contains { $0.component == "igw-0c2d4e6f8a0b1c2d3" && $0.rule == "IPv6 2600:1f18:abc:de00::10 not translated" },
                "\(f.hops.map(\.rule))")
        #expect(f.hops.contains { $0.rule == "#101 ALLOW tcp 22 ::/0" })
        #expect(f.drop?.component == "acl-0b1c2d3e4f5a6b7c8" && f.drop?.direction == "outbound")
        #expect(f.drop?.rule == "* DENY all ::/0")
        let fix = try #require(f.fix)
        #expect(fix.verified && fix.changes.map(\.change) == ["outbound: add #110 ALLOW tcp 1024-65535 ::/0"],
                "\(fix.changes)")
        #expect(o.text.contains("first: tcp [2600:1f18:abc:de00::10]:22 → [2001:db8::23]:"), "\(o.text)")
    }
}

/// `vpcsim diff` names IPv6 rule changes as it names IPv4 ones: NACL entries, security-group rules and routes.
@Suite struct IPv6RuleDiffTests {
    @Test func ipv6EntriesRulesAndRoutesAreInTheRuleChanges() throws {
        let before = try DualStackScenarioTests.load(DualStackScenarioTests.yaml())
        let text = DualStackScenarioTests.yaml()
            .replacingOccurrences(of: "{rule: 101, protocol: tcp, ports: 22, cidr: \"::/0\", action: allow}",
                                  with: "{rule: 101, protocol: tcp, ports: 22, cidr: 0.0.0.0/0, action: allow}")
            .replacingOccurrences(of: "{protocol: tcp, ports: 22, cidr: \"::/0\"}, ", with: "")
            .replacingOccurrences(of: "{destination: \"::/0\", target: main-eigw}", with: "{destination: \"2001:db8::/32\", target: main-eigw}")
        let after = try DualStackScenarioTests.load(text)
        let changes = NetworkDiff.ruleChanges(before.model, after.model).map(\.text)
        #expect(changes.contains { $0.hasSuffix("inbound: − #101 ALLOW tcp 22 ::/0 (removed)") }, "\(changes)")
        #expect(changes.contains { $0.hasSuffix("ingress: − ALLOW tcp 22 ::/0 (removed)") }, "\(changes)")
        #expect(changes.contains { $0.hasSuffix(": − ::/0 → eigw-0123456789abcdef0 (removed)") }, "\(changes)")
        #expect(changes.contains { $0.hasSuffix(": + 2001:db8::/32 → eigw-0123456789abcdef0 (added)") }, "\(changes)")
        #expect(changes.contains { $0.hasSuffix("inbound: + #101 ALLOW tcp 22 0.0.0.0/0 (added)") }, "\(changes)")
        #expect(changes.count == 5, "\(changes)")
    }

    /// scenarios/eigw-inbound-blocked.yaml, its VPC given an internet gateway when `igw`, with `assumptions`.
    static func eigwStory(igw: Bool, assumptions: String? = nil) throws -> Runner.Outcome {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        var text = try String(contentsOfFile: url.appendingPathComponent("scenarios/eigw-inbound-blocked.yaml").path,
                              encoding: .utf8)
        if igw {
            text = ScenarioText.replacing(text, "egress_only_internet_gateways:",
                                          "internet_gateways:\n  - {id: igw-0c2d4e6f8a0b1c2d3, name: main-igw, vpc: main}\n\n"
                                          + "egress_only_internet_gateways:")
        }
        if let assumptions { text = ScenarioText.replacing(text, "seed: 1\n", "seed: 1\nassumptions: {\(assumptions)}\n") }
        return try ScenarioText.run(text, file: "eigw-inbound-blocked.yaml")
    }

    /// An unsolicited IPv6 packet enters a VPC with an internet gateway by it, whatever the destination subnet's
    /// `::/0` route (assumption `ipv6_inbound_entry`); replies to a connection out through the egress-only gateway
    /// still come back through it. Without an internet gateway, the egress-only gateway drops the scan.
    @Test func anUnsolicitedIPv6PacketEntersByTheInternetGateway() throws {
        // The gateways of a flow's path, the request's then the reply's.
        func gateways(_ f: RunReport.Flow) -> [String] {
            (f.hops + f.reply_hops).map(\.component).filter { $0.hasPrefix("igw-") || $0.hasPrefix("eigw-") }
        }
        let story = try Self.eigwStory(igw: false)
        #expect(story.report.flows.map(\.outcome) == ["ok", "timeout"])
        #expect(story.report.flows[1].drop?.component == "eigw-0123456789abcdef0")

        let withIGW = try Self.eigwStory(igw: true)
        let (out, scan) = (withIGW.report.flows[0], withIGW.report.flows[1])
        #expect(out.outcome == "ok" && Set(gateways(out)) == ["eigw-0123456789abcdef0"], "\(gateways(out))")
        // The scan comes in by the internet gateway; the group lets SSH in from ::/0 and the reply leaves by the
        // subnet's ::/0 route, through the egress-only gateway.
        #expect(scan.outcome != "timeout" && scan.drop == nil, "\(scan.outcome) \(String(describing: scan.drop))")
        #expect(gateways(scan).first == "igw-0c2d4e6f8a0b1c2d3" && gateways(scan).contains("eigw-0123456789abcdef0"),
                "\(gateways(scan))")
        #expect(withIGW.report.assumptions.contains { $0.name == "ipv6_inbound_entry" && $0.value == "internet_gateway" })

        // The earlier choice, named: the subnet routes the scanner's address to the egress-only gateway, which drops it.
        let bySubnet = try Self.eigwStory(igw: true, assumptions: "ipv6_inbound_entry: subnet_route")
        #expect(bySubnet.report.flows.map(\.outcome) == ["ok", "timeout"])
        #expect(bySubnet.report.flows[1].drop?.component == "eigw-0123456789abcdef0")
        #expect(bySubnet.report.assumptions.contains { $0.name == "ipv6_inbound_entry" && $0.value == "subnet_route" && $0.overridden })
    }
}
