import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// The IPv6 half of a dual-stack scenario: read into the model and checked with one-line errors; flows go over
/// IPv6 where their ends and client say so, what IPv6 cannot do yet is refused; IPv4 flows run as they did.
@Suite struct DualStackScenarioTests {
    static func yaml(extraRoutes: String = "", flows: String = "  []") -> String {
        """
        name: ds
        vpcs: [{id: vpc-0a1b2c3d4e5f60718, name: main, cidr_blocks: [10.0.0.0/16], ipv6_cidr: "2600:1f18:abc:de00::/56"}]
        internet_gateways: [{id: igw-0c2d4e6f8a0b1c2d3, name: main-igw, vpc: main}]
        egress_only_internet_gateways: [{id: eigw-0123456789abcdef0, name: main-eigw, vpc: main}]
        route_tables:
          - id: rtb-0f1e2d3c4b5a69788
            name: public-rt
            vpc: main
            main: true
            routes:
              - {destination: 0.0.0.0/0, target: main-igw}
              - {destination: "::/0", target: main-igw}
          - id: rtb-0123456789abcdef0
            name: private-rt
            vpc: main
            routes:
              - {destination: "::/0", target: main-eigw}
        \(extraRoutes)
        network_acls:
          - id: acl-0b1c2d3e4f5a6b7c8
            name: public-nacl
            vpc: main
            inbound:
              - {rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}
              - {rule: 101, protocol: tcp, ports: 22, cidr: "::/0", action: allow}
            outbound:
              - {rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}
        security_groups:
          - {id: sg-0d1e2f3a4b5c6d7e8, name: app-sg, vpc: main, ingress: [{protocol: tcp, ports: 22, cidr: "::/0"}, {protocol: tcp, ports: 22, cidr: 0.0.0.0/0}], egress: [{protocol: all, cidr: 0.0.0.0/0}, {protocol: all, cidr: "::/0"}]}
          - {id: sg-0e1e2f3a4b5c6d7e9, name: pl-sg, vpc: main, egress: [{protocol: tcp, ports: 443, prefix_list: {id: pl-0123abcd, cidrs: ["2600:1f18:1000::/40"]}}]}
        subnets:
          - {id: subnet-0aa11bb22cc33dd44, name: public, vpc: main, cidr: 10.0.0.0/24, ipv6_cidr: "2600:1f18:abc:de00::/64", route_table: public-rt, network_acl: public-nacl}
          - {id: subnet-0ee55ff6607788990, name: private, vpc: main, cidr: 10.0.1.0/24, ipv6_cidr: "2600:1f18:abc:de01::/64", assign_ipv6_address_on_creation: true, route_table: private-rt}
          - {id: subnet-0ff66aa7718899001, name: v6only, vpc: main, ipv6_cidr: "2600:1f18:abc:de02::/64", route_table: private-rt}
        instances:
          - {id: i-0123456789abcdef0, name: web, subnet: public, private_ip: 10.0.0.10, public_ip: 198.51.100.10, ipv6_address: "2600:1f18:abc:de00::10", security_groups: [app-sg]}
          - {id: i-0123456789abcdef1, name: worker, subnet: private, security_groups: [app-sg]}
          - {id: i-0123456789abcdef2, name: v6box, subnet: v6only, security_groups: [app-sg]}
        lambdas: [{name: uploader, subnets: [private], security_groups: [app-sg], ipv6_allowed_for_dual_stack: true}]
        outside_hosts:
          - {name: both.example.com, ip: 203.0.113.22, ipv6: "2001:db8::22", ports: {22: sftp}}
          - {name: v6.example.com, ipv6: "2001:db8::23", ports: {22: sftp}}
        flows:
        \(flows)
        """
    }

    static func load(_ text: String) throws -> Scenario { try ScenarioLoader.load(yaml: text, file: "ds.yaml") }

    static func error(_ text: String) -> ScenarioError? {
        do {
            _ = try load(text)
            return nil
        } catch let e as ScenarioError {
            return e
        } catch {
            return nil
        }
    }

    static func v6(_ s: String) -> IPv6Address { IPv6Address(s)! }
    static func cidr6(_ s: String) -> IPv6CIDR { try! IPv6CIDR(parsing: s) }

    @Test func theIPv6PartsAreReadIntoTheModel() throws {
        let m = try Self.load(Self.yaml()).model
        #expect(m.vpcs[0].ipv6CidrBlocks == [Self.cidr6("2600:1f18:abc:de00::/56")])
        #expect(m.vpcs[0].egressOnlyInternetGateway == 0)
        #expect(m.egressOnlyInternetGateways.map(\.id) == ["eigw-0123456789abcdef0"])
        #expect(m.subnets.map(\.ipv6Cidr) == ["2600:1f18:abc:de00::/64", "2600:1f18:abc:de01::/64",
                                                "2600:1f18:abc:de02::/64"].map(Self.cidr6))
        #expect(m.subnets.map(\.hasIPv4) == [true, true, false])
        #expect(m.subnets.map(\.assignIPv6OnCreation) == [false, true, true])
        // The implicit local route for the VPC's IPv6 block comes first; IPv4 routes are as before.
        #expect(m.routeTables[0].ipv6Routes == [
            IPv6Route(destination: Self.cidr6("2600:1f18:abc:de00::/56"), target: .common(.local)),
            IPv6Route(destination: .anyIPv6, target: .common(.internetGateway(0))),
        ])
        #expect(m.routeTables[1].ipv6Routes.last == IPv6Route(destination: .anyIPv6, target: .egressOnlyInternetGateway(0)))
        #expect(m.routeTables[0].routes.map(\.destination.description) == ["10.0.0.0/16", "0.0.0.0/0"])
        // NACL: ::/0 is its own entry, numbered among the IPv4 ones; the default NACL allows both families.
        let acl = m.networkACLs[0]
        #expect(acl.inbound.map(\.number) == [100] && acl.inboundIPv6.map(\.number) == [101])
        #expect(acl.inboundIPv6[0].cidr == .anyIPv6 && acl.inboundIPv6[0].ports == PortRange(22, 22))
        #expect(acl.outboundIPv6.isEmpty)
        let def = try #require(m.networkACLs.first { $0.isDefault })
        #expect(def.inbound.map(\.number) == [100] && def.inboundIPv6.map(\.number) == [101])
        #expect(def.outboundIPv6 == [NACLIPv6Rule(number: 101, proto: .all, ports: nil, icmpType: nil, icmpCode: nil,
                                                  cidr: .anyIPv6, action: .allow)])
        // Security groups: the IPv6 rule apart, `::/0` out as written.
        let sg = m.securityGroups[0]
        #expect(sg.ingress.count == 1 && sg.ingressIPv6.map(\.peer) == [.cidr(.anyIPv6)])
        #expect(sg.egress.map(\.peer) == [.cidr(.anyIPv4)] && sg.egressIPv6.map(\.peer) == [.cidr(.anyIPv6)])
        #expect(m.securityGroups[1].egress.isEmpty)
        #expect(m.securityGroups[1].egressIPv6.map(\.peer) == [.prefixList(id: "pl-0123abcd",
                                                                            cidrs: [Self.cidr6("2600:1f18:1000::/40")])])
        // Addresses: given, allocated from ::4 in creation order (instances, then Lambda ENIs), none when the
        // subnet does not assign them; an IPv6-only instance has no IPv4 address.
        let eni = { (i: Int) in m.enis[m.instances[i].eni] }
        #expect(eni(0).ipv6Address == Self.v6("2600:1f18:abc:de00::10"))
        #expect(eni(1).ipv6Address == Self.v6("2600:1f18:abc:de01::4") && eni(1).privateIP == IPv4Address(10, 0, 1, 4))
        #expect(eni(2).ipv6Address == Self.v6("2600:1f18:abc:de02::4") && eni(2).privateIP == .any)
        #expect(m.lambdas[0].ipv6AllowedForDualStack)
        #expect(m.enis[m.lambdas[0].enis[0]].ipv6Address == Self.v6("2600:1f18:abc:de01::5"))
        #expect(m.outsideHosts.map(\.ipv6Address) == [Self.v6("2001:db8::22"), Self.v6("2001:db8::23")])
        #expect(m.outsideHosts.map(\.hasIPv4) == [true, false])
        // The topology shows an IPv6-only subnet and its instance by their IPv6 block and address.
        let topology = RunReport.topology(m, points: [])
        #expect(topology.subnets.map(\.cidr) == ["10.0.0.0/24", "10.0.1.0/24", "2600:1f18:abc:de02::/64 (IPv6-only)"])
        #expect(topology.enis.first { $0.id == eni(2).id }?.private_ip == "2600:1f18:abc:de02::4")
        let listing = m.ipv6Listing
        #expect(listing.contains("acl-0b1c2d3e4f5a6b7c8 inbound #101 ALLOW tcp 22 ::/0"), "\(listing)")
        #expect(listing.contains("rtb-0123456789abcdef0 (private-rt) route ::/0 → eigw-0123456789abcdef0"), "\(listing)")
        #expect(listing.contains("subnet-0ff66aa7718899001 (v6only) IPv6 2600:1f18:abc:de02::/64 (IPv6-only)"), "\(listing)")
    }

    @Test(arguments: [
        ("ipv6_cidr: \"2600:1f18:abc:de00::/56\"}]", "ipv6_cidr: \"2001:db8::/129\"}]", 2,
         "invalid IPv6 CIDR '2001:db8::/129': '2001:db8::/129' has an invalid prefix length (0-128)"),
        ("ipv6_cidr: \"2600:1f18:abc:de00::/56\"}]", "ipv6_cidr: \"2600:1f18:abc:de00::1/56\"}]", 2,
         "invalid IPv6 CIDR '2600:1f18:abc:de00::1/56': '2600:1f18:abc:de00::1/56' has host bits set (did you mean "
         + "2600:1f18:abc:de00::/56?)"),
        ("cidr_blocks: [10.0.0.0/16]", "cidr_blocks: [\"2600:1f18::/56\"]", 2,
         "`2600:1f18::/56` is IPv6 where 'cidr_blocks' takes IPv4 (a VPC's IPv6 block goes in ipv6_cidr)"),
        ("cidr: 10.0.1.0/24,", "cidr: \"2600:1f18:abc:de01::/64\",", 33,
         "`2600:1f18:abc:de01::/64` is IPv6 where 'cidr' takes IPv4 (a subnet's IPv6 block goes in ipv6_cidr)"),
        ("ipv6_cidr: \"2600:1f18:abc:de02::/64\"", "ipv6_cidr: 10.0.2.0/24", 34,
         "`10.0.2.0/24` is IPv4 where 'ipv6_cidr' takes an IPv6 CIDR block"),
        ("ipv6_cidr: \"2600:1f18:abc:de02::/64\"", "ipv6_cidr: \"2600:1f18:abc:ff00::/64\"", 34,
         "subnet IPv6 block 2600:1f18:abc:ff00::/64 is outside vpc-0a1b2c3d4e5f60718's IPv6 blocks "
         + "(2600:1f18:abc:de00::/56)"),
        ("ipv6_cidr: \"2600:1f18:abc:de02::/64\"", "ipv6_cidr: \"2600:1f18:abc:de02::/63\"", 34,
         "subnet IPv6 block 2600:1f18:abc:de02::/63 is not a /64"),
        ("ipv6_cidr: \"2600:1f18:abc:de02::/64\"", "ipv6_cidr: \"2600:1f18:abc:de01::/64\"", 34,
         "subnets subnet-0ee55ff6607788990 and subnet-0ff66aa7718899001 have the same IPv6 block 2600:1f18:abc:de01::/64"),
        ("ipv6_address: \"2600:1f18:abc:de00::10\"", "ipv6_address: \"2600:1f18:abc:de01::10\"", 36,
         "ipv6_address 2600:1f18:abc:de01::10 is outside subnet subnet-0aa11bb22cc33dd44 (2600:1f18:abc:de00::/64)"),
        ("ipv6_address: \"2600:1f18:abc:de00::10\"", "ipv6_address: \"2600:1f18:abc:de00::3\"", 36,
         "ipv6_address 2600:1f18:abc:de00::3 is reserved by AWS in subnet subnet-0aa11bb22cc33dd44 "
         + "(2600:1f18:abc:de00::/64): the first four addresses and the last cannot be assigned"),
        ("ipv6_address: \"2600:1f18:abc:de00::10\"", "ipv6_address: 10.0.0.11", 36,
         "`10.0.0.11` is IPv4 where 'ipv6_address' takes an IPv6 address"),
        ("egress_only_internet_gateways: [{id: eigw-0123456789abcdef0, name: main-eigw, vpc: main}]\n", "", 0, ""),
        ("- {destination: \"::/0\", target: main-eigw}", "- {destination: 0.0.0.0/0, target: main-eigw}", 17,
         "route to 0.0.0.0/0 cannot target egress-only internet gateway eigw-0123456789abcdef0: it takes IPv6 "
         + "destinations only"),
        ("- {destination: \"::/0\", target: main-igw}", "- {destination: \"2600:1f18:abc:de00::/64\", target: main-igw}", 12,
         "route to 2600:1f18:abc:de00::/64 lies within vpc-0a1b2c3d4e5f60718's IPv6 block 2600:1f18:abc:de00::/56 and "
         + "cannot target igw-0c2d4e6f8a0b1c2d3"),
        ("{id: subnet-0ff66aa7718899001, name: v6only", "{id: subnet-0ff66aa7718899001, name: v6only, "
         + "assign_ipv6_address_on_creation: false", 34,
         "subnet subnet-0ff66aa7718899001 is IPv6-only (no cidr): assign_ipv6_address_on_creation must be true"),
        ("lambdas: [{name: uploader, subnets: [private]", "lambdas: [{name: uploader, subnets: [v6only]", 39,
         "subnet subnet-0ff66aa7718899001 is IPv6-only (no cidr): Lambda function uploader needs an IPv4 address"),
        ("{name: v6.example.com, ipv6: \"2001:db8::23\"", "{name: v6.example.com, ipv6: \"2001:db8::22\"", 42,
         "ipv6 2001:db8::22 is already used by outside host both.example.com"),
    ] as [(String, String, Int, String)])
    func badIPv6InputIsOneLineAtItsPlace(_ from: String, _ to: String, line: Int, message: String) throws {
        let base = Self.yaml()
        #expect(base.contains(from))
        if message.isEmpty { return }  // the eigw case below
        let e = try #require(Self.error(base.replacingOccurrences(of: from, with: to)))
        #expect(e.message == message, "\(e)")
        #expect(e.line == line && e.column > 0, "\(e)")
        #expect(e.file == "ds.yaml" && !e.description.contains("\n"))
    }

    /// A route to an egress-only internet gateway in a VPC that has none.
    @Test func aRouteToAnEgressOnlyGatewayInAVPCWithoutOne() throws {
        let text = Self.yaml()
            .replacingOccurrences(of: "egress_only_internet_gateways: [{id: eigw-0123456789abcdef0, name: main-eigw, vpc: main}]\n",
                                  with: "")
            .replacingOccurrences(of: "target: main-eigw", with: "target: eigw-0123456789abcdef0")
        let e = try #require(Self.error(text))
        #expect(e.message == "route to ::/0 targets egress-only internet gateway eigw-0123456789abcdef0, but "
                + "vpc-0a1b2c3d4e5f60718 has none", "\(e)")
        #expect(e.line == 16 && e.column == 39, "\(e)")
    }

    @Test(arguments: [
        ("{name: f, from: uploader, to: \"[2001:db8::22]:22\", app: sftp}", "2001:db8::22"),
        ("{name: f, from: uploader, to: \"v6.example.com:22\"}", "2001:db8::23"),
        ("{name: f, from: v6box, to: \"both.example.com:22\"}", "2001:db8::22"),
        ("{name: f, from: v6.example.com, to: \"web:22\", app: sftp}", "2600:1f18:abc:de00::10"),
        ("{name: f, from: uploader, to: \"both.example.com:22\", address_family: ipv6}", "2001:db8::22"),
    ])
    func aFlowThatNeedsIPv6GoesOverIPv6(_ flow: String, _ address: String) throws {
        let s = try Self.load(Self.yaml(flows: "  - \(flow)"))
        let d = s.flows[0].destination
        #expect(d.isIPv6 && d.address.ipv6 == IPv6Address(address) && d.fallback == nil)
        #expect(d.address.description == address)
    }

    /// Happy Eyeballs between two dual-stack ends: IPv6 first, the IPv4 address kept for the fallback; IPv4 by
    /// default, and Happy Eyeballs from a source without IPv6 is IPv4.
    @Test func theClientsAddressFamilyPicksTheDestination() throws {
        let he = try Self.load(Self.yaml(flows: "  - {name: f, from: uploader, to: both.example.com:22, address_family: happy_eyeballs}"))
        #expect(he.flows[0].destination.address.ipv6 == IPv6Address("2001:db8::22"))
        #expect(he.flows[0].destination.fallback == IPv4Address(203, 0, 113, 22))
        #expect(he.flows[0].client.addressFamily == .happyEyeballs)
        let v4 = try Self.load(Self.yaml(flows: "  - {name: f, from: uploader, to: both.example.com:22}"))
        #expect(v4.flows[0].destination.address == IPv4Address(203, 0, 113, 22) && v4.flows[0].destination.fallback == nil)
        let noV6 = Self.yaml(flows: "  - {name: f, from: uploader, to: both.example.com:22, address_family: happy_eyeballs}")
            .replacingOccurrences(of: "ipv6_allowed_for_dual_stack: true", with: "ipv6_allowed_for_dual_stack: false")
        #expect(try Self.load(noV6).flows[0].destination.address == IPv4Address(203, 0, 113, 22))
    }

    /// Generated flows take the timers of any flow: Happy Eyeballs' 250 ms and `kill_after` run in the generator's
    /// lanes (one per kind of timer; they were three, and the later kinds indexed past them).
    @Test func generatedFlowsRunHappyEyeballsAndKillAfter() throws {
        let text = Self.yaml(flows: "  []") + """

        generators:
          - {name: g, from: uploader, to: both.example.com:22, app: sftp, count: 4, over: 1s,
             address_family: happy_eyeballs, kill_after: 90s}

        """
        let o = try Runner.run(scenario: Self.load(text), options: .init(writeFiles: false))
        let outcomes = o.report.generators[0].outcomes.filter { $0.value > 0 }
        #expect(outcomes.values.reduce(0, +) == 4, "\(outcomes)")
    }

    @Test(arguments: [

        ("{name: f, from: uploader, to: \"203.0.113.22:22\", app: sftp, address_family: ipv6}",
         "flow 'f': address_family ipv6, but the destination 203.0.113.22 is an IPv4 address"),

        ("{name: f, from: uploader, to: \"240.0.0.9:22\", app: sftp}",
         "IPv4 address 240.0.0.9 for 'to' is in 240.0.0.0/4 (class E, reserved: never a VPC or internet address; the "
         + "simulator keeps it for IPv6)"),
    ])
    func whatIPv6CannotDoIsRefusedInOneLine(_ flow: String, _ message: String) throws {
        let e = try #require(Self.error(Self.yaml(flows: "  - \(flow)")))
        #expect(e.message == message, "\(e)")
        #expect(e.line == 44, "\(e)")
    }

    @Test func anIPv6FlowFromASourceWithoutIPv6IsRefused() throws {
        let text = Self.yaml(flows: "  - {name: f, from: uploader, to: both.example.com:22, address_family: ipv6}")
            .replacingOccurrences(of: "ipv6_allowed_for_dual_stack: true", with: "ipv6_allowed_for_dual_stack: false")
        let e = try #require(Self.error(text))
        #expect(e.message == "flow 'f': IPv6 to 2001:db8::22, but the source Lambda function uploader "
                + "(ipv6_allowed_for_dual_stack is off) has no IPv6 address", "\(e)")
        #expect(e.line == 44 && e.column == 72, "\(e)")
    }

    /// 240.0.0.0/4 holds the engine's IPv6 tokens: no scenario address may be there.
    @Test func anIPv4AddressInClassEIsRefused() throws {
        let text = Self.yaml().replacingOccurrences(of: "ip: 203.0.113.22", with: "ip: 255.0.0.1")
        let e = try #require(Self.error(text))
        #expect(e.message == "IPv4 address 255.0.0.1 for 'ip' is in 240.0.0.0/4 (class E, reserved: never a VPC or "
                + "internet address; the simulator keeps it for IPv6)", "\(e)")
        #expect(e.line == 41 && e.column == 34, "\(e)")
    }

    /// `vpcsim trace` goes over IPv6 when `--to` is an IPv6 address or an end has no IPv4; what it cannot reach
    /// over IPv6 is refused in one line.
    @Test func aTraceThatNeedsIPv6GoesOverIPv6() throws {
        let s = try Self.load(Self.yaml())
        for (from, to, address) in [("uploader", "[2001:db8::22]:22", "2001:db8::22"),
                                    ("uploader", "v6.example.com:22", "2001:db8::23"),
                                    ("v6box", "both.example.com:22", "2001:db8::22"),
                                    ("v6.example.com", "[2600:1f18:abc:de00::10]:22", "2600:1f18:abc:de00::10")] {
            let t = try AdHocTrace.scenario(s, from: from, to: to)
            #expect(t.flows[0].destination.address.ipv6 == IPv6Address(address), "\(from) → \(to)")
        }
        // A dual-stack host is traced over IPv4.
        let t = try AdHocTrace.scenario(s, from: "web", to: "both.example.com:22")
        #expect(t.flows[0].destination.address == IPv4Address(203, 0, 113, 22))
        #expect(throws: AdHocTrace.Problem(message: "--to 2001:db8::99: no outside host or ENI in the scenario has this "
                                           + "IPv6 address")) {
            _ = try AdHocTrace.scenario(s, from: "uploader", to: "[2001:db8::99]:22")
        }
        let noV6 = try Self.load(Self.yaml().replacingOccurrences(of: "ipv6_allowed_for_dual_stack: true",
                                                                   with: "ipv6_allowed_for_dual_stack: false"))
        let eni = noV6.model.enis[noV6.model.lambdas[0].enis[0]].id
        #expect(throws: AdHocTrace.Problem(message: "--to host v6.example.com is reached over IPv6, but the source's ENI "
                                           + "\(eni) has no IPv6 address")) {
            _ = try AdHocTrace.scenario(noV6, from: "uploader", to: "v6.example.com:22")
        }
    }

    /// The shipped lambda-sftp-nacl story with IPv6 everywhere (VPC and subnet blocks, an egress-only gateway and
    /// its route, ::/0 NACL and security-group rules, a dual-stack Lambda and host) gives the same IPv4 verdicts
    /// and the same report.
    @Test func aDualStackVersionOfAStoryGivesTheSameIPv4Verdicts() throws {
        let path = repositoryRoot + "/scenarios/lambda-sftp-nacl.yaml"
        let base = try String(contentsOfFile: path, encoding: .utf8)
        var dual = base
        func put(_ old: String, _ new: String) {
            #expect(dual.contains(old), "\(old)")
            dual = dual.replacingOccurrences(of: old, with: new)
        }
        put("    cidr_blocks: [10.0.0.0/16]\n", "    cidr_blocks: [10.0.0.0/16]\n    ipv6_cidr: 2600:1f18:abc:de00::/56\n")
        put("internet_gateways:\n", "egress_only_internet_gateways: [{id: eigw-0123456789abcdef0, vpc: main}]\n\ninternet_gateways:\n")
        put("      - {destination: 0.0.0.0/0, target: main-igw}\n",
            "      - {destination: 0.0.0.0/0, target: main-igw}\n      - {destination: \"::/0\", target: main-igw}\n")
        put("      - {destination: 0.0.0.0/0, target: nat-0e1f2a3b4c5d6e7f8}\n",
            "      - {destination: 0.0.0.0/0, target: nat-0e1f2a3b4c5d6e7f8}\n"
            + "      - {destination: \"::/0\", target: eigw-0123456789abcdef0}\n")
        put("      - {rule: 100, protocol: tcp, ports: 443, cidr: 0.0.0.0/0, action: allow}\n",
            "      - {rule: 100, protocol: tcp, ports: 443, cidr: 0.0.0.0/0, action: allow}\n"
            + "      - {rule: 101, protocol: tcp, ports: 443, cidr: \"::/0\", action: allow}\n")
        put("      - {protocol: all, cidr: 0.0.0.0/0, description: all outbound}\n",
            "      - {protocol: all, cidr: 0.0.0.0/0, description: all outbound}\n      - {protocol: all, cidr: \"::/0\"}\n")
        put("    cidr: 10.0.0.0/24\n", "    cidr: 10.0.0.0/24\n    ipv6_cidr: 2600:1f18:abc:de00::/64\n")
        put("    cidr: 10.0.1.0/24\n", "    cidr: 10.0.1.0/24\n    ipv6_cidr: 2600:1f18:abc:de01::/64\n")
        put("    timeout: 30", "    ipv6_allowed_for_dual_stack: true\n    timeout: 30")
        put("    ip: 203.0.113.22\n", "    ip: 203.0.113.22\n    ipv6: 2001:db8:1::22\n")
        func run(_ text: String) throws -> Runner.Outcome {
            var o = Runner.Options(writeFiles: false)
            o.flowLogs = false
            return try Runner.run(scenario: try ScenarioLoader.load(yaml: text, file: "scenarios/lambda-sftp-nacl.yaml"),
                                  options: o)
        }
        let dualScenario = try ScenarioLoader.load(yaml: dual, file: "x.yaml")
        #expect(dualScenario.model.lambdas[0].ipv6AllowedForDualStack)
        #expect(dualScenario.model.networkACLs[0].inboundIPv6.isEmpty && dualScenario.model.networkACLs[0].outboundIPv6.count == 1)
        let (a, b) = (try run(base), try run(dual))
        #expect(a.report.flows.map(\.outcome) == ["ok", "timeout"])
        #expect(b.report.flows.map(\.outcome) == a.report.flows.map(\.outcome))
        #expect(b.report.flows.map(\.drop?.component) == a.report.flows.map(\.drop?.component))
        #expect(b.exitCode == 0 && a.exitCode == 0)
        #expect(b.text == a.text)
    }
}
