import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

private let s: Int64 = 1_000_000_000

/// Flows a security group does not track (EC2-UG security-group-connection-tracking, "Untracked connections"):
/// allowed by a 0.0.0.0/0 rule one way with a 0.0.0.0/0 rule for every port the other way (for IPv6, ::/0 rules),
/// TCP or UDP, not through a NAT gateway, egress-only internet gateway, transit gateway or interface endpoint, not
/// at a Lambda ENI. No state, so no idle
/// timeout; the assumption `sg_untracked_flows` (false: track everything).
@Suite struct UntrackedFlowTests {
    /// An SFTP server on a Nitro v6 instance (350 s tracking timeout) in a public subnet; a client on the internet
    /// lists, idles 500 s, then puts. The server's TCP keepalive probes at 400 s idle: its packet goes out first.
    static let yaml = """
        name: untracked
        seed: 1
        vpcs: [{id: vpc-0a1b2c3d4e5f60718, name: main, cidr_blocks: [10.0.0.0/16]}]
        internet_gateways: [{id: igw-0c2d4e6f8a0b1c2d3, name: main-igw, vpc: main}]
        route_tables:
          - {id: rtb-0f1e2d3c4b5a69788, name: public-rt, vpc: main, main: true, routes: [{destination: 0.0.0.0/0, target: main-igw}]}
        security_groups:
          - id: sg-0a9b8c7d6e5f40312
            name: web-sg
            vpc: main
            ingress: [{protocol: tcp, ports: 22, cidr: 0.0.0.0/0}]
            egress: [{protocol: all, cidr: 0.0.0.0/0}]
        subnets: [{id: subnet-0aa11bb22cc33dd44, name: public, vpc: main, cidr: 10.0.0.0/24}]
        instances:
          - {id: i-0123456789abcdef0, name: web, subnet: public, private_ip: 10.0.0.20, public_ip: 198.51.100.20,
             security_groups: [web-sg], nitro: v6}
        outside_hosts:
          - {name: admin-pc, ip: 203.0.113.50, rtt_ms: 20}
        flows:
          - name: admin-sftp
            from: admin-pc
            to: 198.51.100.20:22
            app: sftp
            client: openssh
            steps: [ls, idle 500s, put 100KB]
            server_keepalive: 400s
        """

    static func run(_ text: String) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "untracked.yaml")
    }

    static let untrackedDetail = "untracked flow: 0.0.0.0/0 rules both ways"

    @Test func allowAllBothWaysSurvivesAnIdleLongerThanNitroV6sTimeout() throws {
        let o = try Self.run(Self.yaml)
        let flow = o.report.flows[0]
        #expect(flow.outcome == "ok" && flow.drop == nil)
        // The request's path says the group allowed it untracked, by its rule.
        let sg = try #require(flow.hops.first { $0.step == "security-group-ingress" })
        #expect(sg.rule == "ALLOW tcp 22 0.0.0.0/0")
        #expect(sg.detail?.hasPrefix(Self.untrackedDetail) == true, "\(sg)")
        #expect(o.report.assumptions.contains { $0.name == "sg_untracked_flows" && $0.value == "true" && !$0.overridden })
        // Tracked (the previous model, the assumption off), the same rules let every packet through anyway.
        let tracked = try Self.run(Self.yaml.replacingOccurrences(of: "seed: 1\n",
                                                                   with: "seed: 1\nassumptions: {sg_untracked_flows: false}\n"))
        #expect(tracked.report.flows[0].outcome == "ok" && tracked.report.flows[0].drop == nil)
        let trackedSG = try #require(tracked.report.flows[0].hops.first { $0.step == "security-group-ingress" })
        #expect(trackedSG.detail == nil)
        #expect(tracked.report.assumptions.contains { $0.name == "sg_untracked_flows" && $0.value == "false" && $0.overridden })
    }

    @Test func aRestrictedEgressRuleIsTrackedAndItsStateExpires() throws {
        let text = ScenarioText.replacing(Self.yaml, "egress: [{protocol: all, cidr: 0.0.0.0/0}]",
                                          "egress: [{protocol: tcp, ports: 443, cidr: 0.0.0.0/0}]")
        let sc = try ScenarioLoader.load(yaml: text, file: "untracked.yaml")
        let (_, _, r) = simulate(sc)
        // The server's keepalive probe at 400 s idle finds no state (350 s on Nitro v6) and no egress rule:
        // dropped silently; the client's put at 500 s is let in by the ingress rule and tracked anew.
        let drop = try #require(r[0].drops.first)
        #expect(drop.component == "sg-0a9b8c7d6e5f40312" && drop.direction == "egress")
        #expect(drop.rule.hasPrefix("tracked state expired after 350 s idle (Nitro v6); no egress rule allows tcp "))
        #expect(r[0].drops.count == 2, "\(r[0].drops.map(\.rule))")  // the probes at 400 s and 475 s idle
    }

    // MARK: The rule, packet by packet

    /// Groups of one instance, a private one behind a NAT gateway and a Lambda ENI, all allowing everything both
    /// ways (TCP, UDP and ICMP).
    static let table = """
        name: ut
        vpcs: [{id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}]
        internet_gateways: [{id: igw-1, vpc: main}]
        route_tables:
          - {id: rtb-1, vpc: main, main: true, routes: [{destination: 0.0.0.0/0, target: igw-1}]}
          - {id: rtb-2, vpc: main, routes: [{destination: 0.0.0.0/0, target: nat-1}]}
        security_groups:
          - id: sg-1
            vpc: main
            ingress: [INGRESS]
            egress: [{protocol: all, cidr: 0.0.0.0/0}]
        subnets:
          - {id: subnet-1, vpc: main, cidr: 10.0.0.0/24}
          - {id: subnet-2, vpc: main, cidr: 10.0.1.0/24, route_table: rtb-2}
        nat_gateways: [{id: nat-1, subnet: subnet-1, private_ip: 10.0.0.5, elastic_ip: 198.51.100.5}]
        instances:
          - {id: i-1, subnet: subnet-1, private_ip: 10.0.0.20, public_ip: 198.51.100.20, security_groups: [sg-1]}
          - {id: i-2, subnet: subnet-2, private_ip: 10.0.1.20, security_groups: [sg-1]}
        lambdas:
          - {name: fn, subnets: [subnet-2], security_groups: [sg-1], private_ips: {subnet-2: 10.0.1.30}}
        """

    static let internet = IPv4Address("203.0.113.9")!

    /// Whether a packet `eni` sends to `to` (then its reply) leaves a tracked connection at the ENI.
    static func tracks(_ ingress: String = "{protocol: all, cidr: 0.0.0.0/0}", eni address: String, to: IPv4Address,
                       _ proto: IPProtocol, port: UInt16 = 443, untracked: Bool = true, syn: Bool = false) throws -> Bool {
        var sc = try ScenarioLoader.load(yaml: table.replacingOccurrences(of: "INGRESS", with: ingress), file: "ut.yaml")
        sc.assumptions.sgUntrackedFlows = untracked
        let sim = Simulation(scenario: sc)
        let eni = try #require(sc.model.enis.firstIndex { $0.privateIP == IPv4Address(address)! })
        let key = PacketKey(proto: proto, source: IPv4Address(address)!, destination: to, sourcePort: 40000,
                            destinationPort: proto == .icmp ? 0 : port, icmpType: proto == .icmp ? 8 : 0)
        return tracks(sim.network.securityGroups, eni, key, syn: syn)
    }

    /// Whether `key` going out of `eni` (a SYN when `syn`), then its reply (a SYN-ACK), leave a tracked connection.
    static func tracks(_ groups: SecurityGroup, _ eni: Int, _ key: PacketKey, syn: Bool) -> Bool {
        let open = syn ? TCPSegmentMarks(flags: .syn, end: 1, ack: 0) : nil
        let answer = syn ? TCPSegmentMarks(flags: [.syn, .ack], end: 1, ack: 1) : nil
        #expect(groups.check(eni, .outbound, key, open, now: 0, traced: false).allowed)
        #expect(groups.check(eni, .inbound, key.reversed, answer, now: 10 * s, traced: false).allowed)
        return groups.isTracked(eni, key)
    }

    @Test func whichFlowsAreTracked() throws {
        // TCP and UDP through the internet gateway: untracked; ICMP always tracked.
        #expect(try !Self.tracks(eni: "10.0.0.20", to: Self.internet, .tcp))
        #expect(try !Self.tracks(eni: "10.0.0.20", to: Self.internet, .udp, port: 53))
        #expect(try Self.tracks(eni: "10.0.0.20", to: Self.internet, .icmp))
        // Within the VPC (local route): untracked; through the NAT gateway: tracked.
        #expect(try !Self.tracks(eni: "10.0.1.20", to: IPv4Address("10.0.0.20")!, .tcp))
        #expect(try Self.tracks(eni: "10.0.1.20", to: Self.internet, .tcp))
        // A Lambda function's Hyperplane ENI: tracked whatever its rules.
        #expect(try Self.tracks(eni: "10.0.1.30", to: IPv4Address("10.0.0.20")!, .tcp))
        // The replies need a rule for every port from 0.0.0.0/0: one for 443 only, or from one address, tracks.
        #expect(try Self.tracks("{protocol: tcp, ports: 443, cidr: 0.0.0.0/0}", eni: "10.0.0.20", to: Self.internet, .tcp))
        #expect(try Self.tracks("{protocol: tcp, cidr: 203.0.113.9/32}", eni: "10.0.0.20", to: Self.internet, .tcp))
        #expect(try !Self.tracks("{protocol: tcp, cidr: 0.0.0.0/0}", eni: "10.0.0.20", to: Self.internet, .tcp))
        // Replies to the ephemeral ports only: an outbound connection (its SYN) is tracked, though a mid-stream
        // packet alone could be either end's.
        #expect(try Self.tracks("{protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0}", eni: "10.0.0.20", to: Self.internet,
                                .tcp, syn: true))
        #expect(try Self.tracks("{protocol: tcp, cidr: 0.0.0.0/0}", eni: "10.0.0.20", to: Self.internet, .udp, port: 53))
        // The assumption off: everything is tracked.
        #expect(try Self.tracks(eni: "10.0.0.20", to: Self.internet, .tcp, untracked: false))
    }

    /// The AWS page's example: inbound TCP 22 from one address, TCP 80 from 0.0.0.0/0, all out to 0.0.0.0/0:
    /// port 22 is tracked, port 80 is not.
    @Test func theDocumentationsExample() throws {
        let ingress = "{protocol: tcp, ports: 22, cidr: 203.0.113.1/32}, {protocol: tcp, ports: 80, cidr: 0.0.0.0/0}"
        let sc = try ScenarioLoader.load(yaml: Self.table.replacingOccurrences(of: "INGRESS", with: ingress), file: "ut.yaml")
        let sim = Simulation(scenario: sc)
        let groups = sim.network.securityGroups
        let me = IPv4Address("10.0.0.20")!
        let eni = try #require(sc.model.enis.firstIndex { $0.privateIP == me })
        let ssh = PacketKey(proto: .tcp, source: IPv4Address("203.0.113.1")!, destination: me, sourcePort: 50000,
                            destinationPort: 22)
        let web = PacketKey(proto: .tcp, source: IPv4Address("203.0.113.1")!, destination: me, sourcePort: 50001,
                            destinationPort: 80)
        #expect(groups.check(eni, .inbound, ssh, nil, now: 0, traced: false).allowed)
        #expect(groups.check(eni, .inbound, web, nil, now: 0, traced: false).allowed)
        // The replies go out by the rule for all traffic: port 80's untracked too, port 22's as tracked.
        #expect(groups.check(eni, .outbound, web.reversed, nil, now: 1, traced: false).allowed)
        #expect(groups.check(eni, .outbound, ssh.reversed, nil, now: 1, traced: false).allowed)
        #expect(groups.isTracked(eni, ssh) && !groups.isTracked(eni, web))
        let v = groups.check(eni, .outbound, web.reversed, nil, now: 2, traced: true)
        #expect(groups.step(eni, .outbound, web.reversed, of: v).detail?.hasPrefix(Self.untrackedDetail) == true)
    }

    // MARK: IPv6: ::/0 rules

    /// The idle SFTP story over IPv6: the server's group allows tcp 22 in from ::/0 and everything out to ::/0,
    /// its subnet routes ::/0 to the internet gateway, the client connects to its IPv6 address.
    static let yaml6 = """
        name: untracked6
        seed: 1
        vpcs: [{id: vpc-0a1b2c3d4e5f60718, name: main, cidr_blocks: [10.0.0.0/16], ipv6_cidr: "2600:1f18:abc:de00::/56"}]
        internet_gateways: [{id: igw-0c2d4e6f8a0b1c2d3, name: main-igw, vpc: main}]
        route_tables:
          - id: rtb-0f1e2d3c4b5a69788
            name: public-rt
            vpc: main
            main: true
            routes: [{destination: 0.0.0.0/0, target: main-igw}, {destination: "::/0", target: main-igw}]
        security_groups:
          - id: sg-0a9b8c7d6e5f40312
            name: web-sg
            vpc: main
            ingress: [{protocol: tcp, ports: 22, cidr: "::/0"}]
            egress: [EGRESS]
        subnets:
          - {id: subnet-0aa11bb22cc33dd44, name: public, vpc: main, cidr: 10.0.0.0/24, ipv6_cidr: "2600:1f18:abc:de00::/64"}
        instances:
          - {id: i-0123456789abcdef0, name: web, subnet: public, private_ip: 10.0.0.20, ipv6_address: "2600:1f18:abc:de00::20",
             security_groups: [web-sg], nitro: v6}
        outside_hosts:
          - {name: admin-pc, ip: 203.0.113.50, ipv6: "2001:db8::50", rtt_ms: 20}
        flows:
          - name: admin-sftp
            from: admin-pc
            to: web:22
            address_family: ipv6
            app: sftp
            client: openssh
            steps: [ls, idle 500s, put 100KB]
            server_keepalive: 400s
        """

    @Test func anIPv6FlowAllowedByAllowAllRulesBothWaysIsUntrackedAndSurvivesTheIdle() throws {
        let o = try Self.run(Self.yaml6.replacingOccurrences(of: "EGRESS", with: "{protocol: all, cidr: \"::/0\"}"))
        let flow = o.report.flows[0]
        #expect(flow.outcome == "ok" && flow.drop == nil)
        let sg = try #require(flow.hops.first { $0.step == "security-group-ingress" })
        #expect(sg.rule == "ALLOW tcp 22 ::/0")
        #expect(sg.detail?.hasPrefix("untracked flow: ::/0 rules both ways") == true, "\(sg)")
    }

    @Test func anIPv6FlowWhoseRepliesHaveNoAllPortsRuleIsTrackedAndDropsAfterTheIdle() throws {
        // The egress rule for 0.0.0.0/0 is IPv4's: an IPv6 flow has no ::/0 rule for its replies, so it is tracked,
        // and the keepalive probe at 400 s idle finds the state gone (350 s on Nitro v6) and no egress rule.
        let text = Self.yaml6.replacingOccurrences(of: "EGRESS", with: "{protocol: all, cidr: 0.0.0.0/0}, "
                                                   + "{protocol: tcp, ports: 443, cidr: \"::/0\"}")
        let (_, _, r) = simulate(try ScenarioLoader.load(yaml: text, file: "untracked6.yaml"))
        let drop = try #require(r[0].drops.first)
        #expect(drop.component == "sg-0a9b8c7d6e5f40312" && drop.direction == "egress")
        #expect(drop.rule.hasPrefix("tracked state expired after 350 s idle (Nitro v6); no egress rule allows tcp "), "\(drop.rule)")
        #expect(drop.rule.contains("to 2001:db8::50"), "\(drop.rule)")
    }

    /// Two instances whose groups allow everything both ways for IPv6 (and for IPv4 the `INGRESS` rules): one in a
    /// subnet routing ::/0 to the internet gateway, one routing it to the egress-only internet gateway.
    static let table6 = """
        name: ut6
        vpcs: [{id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16], ipv6_cidr: "2600:1f18:abc:de00::/56"}]
        internet_gateways: [{id: igw-1, vpc: main}]
        egress_only_internet_gateways: [{id: eigw-1, vpc: main}]
        route_tables:
          - {id: rtb-1, vpc: main, main: true, routes: [{destination: "::/0", target: igw-1}]}
          - {id: rtb-2, vpc: main, routes: [{destination: "::/0", target: eigw-1}]}
        security_groups:
          - id: sg-1
            vpc: main
            ingress: [INGRESS]
            egress: [{protocol: all, cidr: 0.0.0.0/0}, {protocol: all, cidr: "::/0"}]
        subnets:
          - {id: subnet-1, vpc: main, cidr: 10.0.0.0/24, ipv6_cidr: "2600:1f18:abc:de00::/64"}
          - {id: subnet-2, vpc: main, cidr: 10.0.1.0/24, ipv6_cidr: "2600:1f18:abc:de01::/64", route_table: rtb-2}
        instances:
          - {id: i-1, subnet: subnet-1, private_ip: 10.0.0.20, ipv6_address: "2600:1f18:abc:de00::20", security_groups: [sg-1]}
          - {id: i-2, subnet: subnet-2, private_ip: 10.0.1.20, ipv6_address: "2600:1f18:abc:de01::20", security_groups: [sg-1]}
        """

    /// Whether a TCP packet from `address` to an internet host's IPv6 address, and its reply (a SYN and its
    /// SYN-ACK when `syn`), leave a tracked connection at the ENI.
    static func tracks6(_ ingress: String, eni address: String, syn: Bool = false) throws -> Bool {
        let sc = try ScenarioLoader.load(yaml: table6.replacingOccurrences(of: "INGRESS", with: ingress), file: "ut6.yaml")
        let sim = Simulation(scenario: sc)
        let a = try #require(IPv6Address(address))
        let eni = try #require(sc.model.enis.firstIndex { $0.ipv6Address == a })
        let key = PacketKey(proto: .tcp, source: IPv6Token.intern(a), destination: IPv6Token.intern(IPv6Address("2001:db8::9")!),
                            sourcePort: 40000, destinationPort: 443)
        return tracks(sim.network.securityGroups, eni, key, syn: syn)
    }

    @Test func whichIPv6FlowsAreTracked() throws {
        let both = "{protocol: all, cidr: 0.0.0.0/0}, {protocol: all, cidr: \"::/0\"}"
        // ::/0 both ways, through the internet gateway: untracked.
        #expect(try !Self.tracks6(both, eni: "2600:1f18:abc:de00::20"))
        // Through the egress-only internet gateway: automatically tracked (EC2-UG security-group-connection-tracking).
        #expect(try Self.tracks6(both, eni: "2600:1f18:abc:de01::20"))
        // 0.0.0.0/0 for everything inbound, ::/0 for the reply's port only: no ::/0 rule for every port, so the
        // connection (its SYN) is tracked.
        #expect(try Self.tracks6("{protocol: all, cidr: 0.0.0.0/0}, {protocol: tcp, ports: 40000, cidr: \"::/0\"}",
                                 eni: "2600:1f18:abc:de00::20", syn: true))
        // ::/0 both ways opened by a SYN: untracked as well.
        #expect(try !Self.tracks6(both, eni: "2600:1f18:abc:de00::20", syn: true))
    }
}
