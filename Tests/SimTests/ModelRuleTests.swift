import Packets
import Testing
@testable import Sim

@Suite struct RouteTests {
    @Test func longestPrefixWins() {
        let t = RouteTableSpec(id: "rtb-1", name: nil, vpc: 0, routes: [
            Route(destination: cidr("0.0.0.0/0"), target: .natGateway(0)),
            Route(destination: cidr("10.0.0.0/16"), target: .local),
            Route(destination: cidr("203.0.113.0/24"), target: .internetGateway(0)),
            Route(destination: cidr("203.0.113.22/32"), target: .blackhole(was: "nat-0gone")),
        ])
        #expect(RouteLookup.match(t, ip("10.0.5.5"))?.target == .local)
        #expect(RouteLookup.match(t, ip("203.0.113.9"))?.target == .internetGateway(0))
        #expect(RouteLookup.match(t, ip("203.0.113.22"))?.target == .blackhole(was: "nat-0gone"))
        #expect(RouteLookup.match(t, ip("8.8.8.8"))?.target == .natGateway(0))
    }

    @Test func noMatchingRouteIsNil() {
        let t = RouteTableSpec(id: "rtb-1", name: nil, vpc: 0, routes: [Route(destination: cidr("10.0.0.0/16"), target: .local)])
        #expect(RouteLookup.match(t, ip("8.8.8.8")) == nil)
    }

    @Test func subnetWithoutAssociationsUsesMainTableAndDefaultACL() {
        var m = StoryModel().build()
        m.subnets[1].routeTable = nil
        m.subnets[1].networkACL = nil
        #expect(m.routeTable(of: 1) == m.vpcs[0].mainRouteTable)
        #expect(m.networkACL(of: 1) == 2)
        #expect(m.networkACL(of: 0) == 0)
    }

    @Test func privateSubnetWithoutDefaultRouteDropsAtTheRouteTable() {
        var story = StoryModel()
        story.privateDefaultRoute = nil
        let (_, _, r) = simulate(story.scenario([StoryModel.flow("https", .https, port: 443)]))
        #expect(r[0].outcome == .timeout)
        #expect(r[0].drop?.kind == "route")
        #expect(r[0].drop?.component == "rtb-0private")
        #expect(r[0].drop?.rule == "no route matches 203.0.113.22")
    }

    @Test func blackholeRouteDropsWithItsReason() {
        var story = StoryModel()
        story.privateDefaultRoute = .blackhole(was: "nat-0deleted")
        let (_, _, r) = simulate(story.scenario([StoryModel.flow("https", .https, port: 443)]))
        #expect(r[0].drop?.rule == "0.0.0.0/0 → blackhole")
        #expect(r[0].requestPath.last?.detail == "target nat-0deleted no longer exists")
    }
}

@Suite struct NACLTests {
    let key = PacketKey(proto: .tcp, source: ip("10.0.0.5"), destination: ip("203.0.113.22"), sourcePort: 40000,
                        destinationPort: 22)

    func acl(_ outbound: [NACLRule]) -> NetworkACLSpec {
        NetworkACLSpec(id: "acl-1", name: "public", vpc: 0, isDefault: false, inbound: [], outbound: outbound)
    }

    @Test func lowestNumberedMatchingRuleDecidesWhateverTheListOrder() {
        let a = acl([rule(200, tcp, PortRange(22, 22), "0.0.0.0/0", .allow),
                     rule(100, tcp, PortRange(22, 22), "203.0.113.0/24", .deny)].sorted { $0.number < $1.number })
        let d = NACLEvaluator.evaluate(a, .outbound, key)
        #expect(d.rule?.number == 100)
        #expect(!d.allowed)
        #expect(NACLEvaluator.describe(d.rule) == "#100 DENY tcp 22 203.0.113.0/24")
    }

    @Test func nothingMatchingFallsToTheStarDeny() {
        let a = acl([rule(100, tcp, PortRange(443, 443), "0.0.0.0/0", .allow)])
        let d = NACLEvaluator.evaluate(a, .outbound, key)
        #expect(d.rule == nil)
        #expect(!d.allowed)
        #expect(NACLEvaluator.describe(nil) == "* DENY all 0.0.0.0/0")
    }

    @Test func outboundRulesMatchTheDestinationInboundTheSource() {
        let a = NetworkACLSpec(id: "acl-1", name: nil, vpc: 0, isDefault: false,
                           inbound: [rule(100, .all, nil, "203.0.113.22/32", .allow)],
                           outbound: [rule(100, .all, nil, "203.0.113.22/32", .allow)])
        #expect(NACLEvaluator.evaluate(a, .outbound, key).allowed)
        #expect(!NACLEvaluator.evaluate(a, .inbound, key).allowed)
        #expect(NACLEvaluator.evaluate(a, .inbound, key.reversed).allowed)
    }

    @Test func portRangesAreInclusiveAndProtocolMustMatch() {
        let a = acl([rule(100, tcp, PortRange(1024, 65535), "0.0.0.0/0", .allow)])
        var k = key
        k.destinationPort = 1024
        #expect(NACLEvaluator.evaluate(a, .outbound, k).allowed)
        k.destinationPort = 1023
        #expect(!NACLEvaluator.evaluate(a, .outbound, k).allowed)
        k.destinationPort = 65535
        k.proto = .udp
        #expect(!NACLEvaluator.evaluate(a, .outbound, k).allowed)
    }

    @Test func withinOneSubnetNoNACLIsEvaluated() {
        // The private subnet's NACL denies everything, yet the Lambda reaches an instance in the same subnet:
        // NACLs apply at subnet boundaries only.
        var m = StoryModel().build()
        m.networkACLs[1].inbound = []
        m.networkACLs[1].outbound = []
        m.securityGroups.append(SecurityGroupSpec(id: "sg-0app", name: "app", vpc: 0,
                                              ingress: [SecurityGroupRule(proto: tcp, ports: PortRange(8080, 8080),
                                                                          peer: .securityGroup(0))], egress: []))
        m.enis.append(ENI(id: "eni-0app", name: nil, subnet: 1, privateIP: ip("10.0.1.20"), publicIP: nil,
                          securityGroups: [1], owner: .instance(0), mac: MACAddress(rawValue: 0x0A00_0000_0020)))
        m.instances = [Instance(id: "i-0app", name: "app", eni: 2, stack: .linux)]
        let f = FlowSpec(name: "tcp", source: .lambda(0, eni: 0), sourceLabel: "lambda uploader",
                         destination: FlowDestination(address: ip("10.0.1.20"), port: 8080, label: "app:8080"),
                         app: .tcp, size: 3000)
        let (_, _, r) = simulate(Scenario(name: "t", file: "t", model: m, flows: [f]))
        #expect(r[0].outcome == .ok)
        #expect(r[0].requestPath.map(\.kind) == [.securityGroupEgress, .route, .securityGroupIngress, .delivered])
        #expect(r[0].drop == nil)
    }
}

@Suite struct SecurityGroupTests {
    @Test func egressWithoutARuleIsDeniedAtTheENI() {
        var story = StoryModel()
        story.lambdaEgress = [SecurityGroupRule(proto: tcp, ports: PortRange(443, 443), peer: .cidr(cidr("0.0.0.0/0")))]
        let (_, _, r) = simulate(story.scenario([StoryModel.flow("sftp", .sftp, port: 22),
                                                 StoryModel.flow("https", .https, port: 443)]))
        #expect(r[0].outcome == .timeout)
        #expect(r[0].drop?.kind == "security-group")
        #expect(r[0].drop?.direction == "egress")
        #expect(r[0].drop?.rule == "no egress rule allows tcp 22 to 203.0.113.22")
        #expect(r[1].outcome == .ok)
    }

    @Test func repliesToTrackedConnectionsPassWithoutIngressRules() {
        // The Lambda's group has no ingress rules at all, yet the replies come in: state, not rules.
        let (_, _, r) = simulate(StoryModel().scenario([StoryModel.flow("https", .https, port: 443)]))
        #expect(r[0].outcome == .ok)
        #expect(r[0].replyPath.contains { $0.kind == .securityGroupIngress && $0.rule.hasPrefix("tracked") })
    }

    @Test func groupReferenceMatchesPrivateIPsOfENIsCarryingIt() {
        let m = StoryModel().build()
        let r = SecurityGroupRule(proto: .all, ports: nil, peer: .securityGroup(0))
        let toLambda = PacketKey(proto: .tcp, source: ip("10.0.0.5"), destination: ip("10.0.1.10"), destinationPort: 22)
        #expect(SecurityGroupEvaluator.matches(m, r, toLambda, peer: ip("10.0.1.10")))
        #expect(!SecurityGroupEvaluator.matches(m, r, toLambda, peer: ip("10.0.0.5")))
    }

    @Test func rulesOfAllGroupsAreUnioned() {
        var m = StoryModel().build()
        m.securityGroups.append(SecurityGroupSpec(id: "sg-0extra", name: nil, vpc: 0, ingress: [],
                                              egress: [SecurityGroupRule(proto: tcp, ports: PortRange(22, 22),
                                                                         peer: .cidr(cidr("203.0.113.22/32")))]))
        m.securityGroups[0].egress = []
        let k = PacketKey(proto: .tcp, source: ip("10.0.1.10"), destination: ip("203.0.113.22"), destinationPort: 22)
        let d = SecurityGroupEvaluator.evaluate(m, groups: [0, 1], .outbound, k)
        #expect(d.group == 1)
        #expect(!SecurityGroupEvaluator.evaluate(m, groups: [0], .outbound, k).allowed)
    }
}

@Suite struct NATAndIGWTests {
    @Test func natTranslatesSourceToItsPrivateIPAndRepliesBack() {
        let (_, _, r) = simulate(StoryModel().scenario([StoryModel.flow("https", .https, port: 443)]))
        #expect(r[0].outcome == .ok)
        let nat = r[0].requestPath.first { $0.kind == .natGateway }
        #expect(nat?.action == .translated)
        #expect(nat?.rule.hasPrefix("10.0.1.10:\(r[0].clientPort) → 10.0.0.5:") == true)
        let back = r[0].replyPath.first { $0.kind == .natGateway }
        #expect(back?.rule.hasSuffix("→ 10.0.1.10:\(r[0].clientPort)") == true)
        let igw = r[0].requestPath.first { $0.kind == .internetGateway }
        #expect(igw?.rule == "1:1 NAT 10.0.0.5 → 198.51.100.7")
        let igwBack = r[0].replyPath.first { $0.kind == .internetGateway }
        #expect(igwBack?.rule == "1:1 NAT 198.51.100.7 → 10.0.0.5")
    }

    @Test func natPortSelectionIsANamedAssumption() {
        var a = Assumptions()
        a.natPortSelection = .sequential
        let (_, _, r) = simulate(StoryModel().scenario([StoryModel.flow("https", .https, port: 443)], assumptions: a))
        #expect(r[0].requestPath.first { $0.kind == .natGateway }?.rule.hasSuffix("10.0.0.5:1024") == true)
        a.natPortSelection = .preserve
        let (_, _, r2) = simulate(StoryModel().scenario([StoryModel.flow("https", .https, port: 443)], assumptions: a))
        #expect(r2[0].requestPath.first { $0.kind == .natGateway }?.rule.hasSuffix("10.0.0.5:\(r2[0].clientPort)") == true)
    }

    /// Sequential selection takes the lowest free port from 1024, also after lower ports are released.
    @Test func natSequentialPortsReuseTheLowestReleased() {
        let nat = NATGateway(index: 0, spec: StoryModel().build().natGateways[0], address: ip("10.0.0.5"))
        var rng = SplitMix64(seed: 1)
        var a = Assumptions()
        a.natPortSelection = .sequential
        func key(_ port: UInt16) -> PacketKey {
            PacketKey(proto: .tcp, source: ip("10.0.1.10"), destination: ip("203.0.113.22"), sourcePort: port,
                      destinationPort: 22)
        }
        func open(_ port: UInt16) -> UInt16? {
            guard case .translated(_, let p, true) = nat.translateOutbound(key(port), tcp: .flags(.syn), now: 0,
                                                                            assumptions: a, rng: &rng)
            else { return nil }
            return p
        }
        func reset(_ port: UInt16) { _ = nat.translateOutbound(key(port), tcp: .flags(.rst), now: 1, assumptions: a, rng: &rng) }
        #expect((40000..<40005).map { open($0) } == [1024, 1025, 1026, 1027, 1028])
        reset(40003)  // frees 1027
        reset(40001)  // frees 1025
        #expect(open(41000) == 1025)
        #expect(open(41001) == 1027)
        #expect(open(41002) == 1029)
    }

    @Test func natIdleTimeoutAnswersTheNextInsidePacketWithRST() {
        let spec = StoryModel().build().natGateways[0]
        let nat = NATGateway(index: 0, spec: spec, address: ip("10.0.0.5"))
        var rng = SplitMix64(seed: 1)
        let a = Assumptions()
        let k = PacketKey(proto: .tcp, source: ip("10.0.1.10"), destination: ip("203.0.113.22"), sourcePort: 40000,
                          destinationPort: 22)
        guard case .translated(_, let port, true) = nat.translateOutbound(k, tcp: .flags(.syn), now: 0, assumptions: a, rng: &rng)
        else { Issue.record("no mapping"); return }
        let reply = PacketKey(proto: .tcp, source: ip("203.0.113.22"), destination: ip("10.0.0.5"), sourcePort: 22,
                              destinationPort: port)
        guard case .translated(let to, 40000, _) = nat.translateInbound(reply, tcp: .flags([.syn, .ack]), now: 1, assumptions: a)
        else { Issue.record("no reverse translation"); return }
        #expect(to == ip("10.0.1.10"))
        // 350 s of silence, then the client sends: the mapping is gone and the NAT answers with RST.
        guard case .idleTimedOut = nat.translateOutbound(k, tcp: .flags([.psh, .ack]), now: 351_000_000_001, assumptions: a,
                                                         rng: &rng)
        else { Issue.record("expected an idle timeout"); return }
        #expect(nat.metrics.idleTimeoutCount == 1)
        #expect(nat.activeConnections == 0)
        #expect(nat.metrics.connectionAttemptCount == 1)
        #expect(nat.metrics.connectionEstablishedCount == 1)
    }

    @Test func natRefusesPastTheConnectionsPerDestinationLimit() {
        let spec = StoryModel().build().natGateways[0]
        let nat = NATGateway(index: 0, spec: spec, address: ip("10.0.0.5"))
        var rng = SplitMix64(seed: 1)
        var a = Assumptions()
        a.natConnectionsPerDestination = 3
        for p in 0..<3 {
            let k = PacketKey(proto: .tcp, source: ip("10.0.1.10"), destination: ip("203.0.113.22"),
                              sourcePort: UInt16(40000 + p), destinationPort: 22)
            guard case .translated = nat.translateOutbound(k, tcp: .flags(.syn), now: 0, assumptions: a, rng: &rng) else {
                Issue.record("expected a mapping"); return
            }
        }
        let k = PacketKey(proto: .tcp, source: ip("10.0.1.10"), destination: ip("203.0.113.22"), sourcePort: 50000,
                          destinationPort: 22)
        guard case .portAllocationError = nat.translateOutbound(k, tcp: .flags(.syn), now: 0, assumptions: a, rng: &rng) else {
            Issue.record("expected ErrorPortAllocation"); return
        }
        #expect(nat.metrics.errorPortAllocation == 1)
        // Another destination port is another destination.
        var other = k
        other.destinationPort = 443
        guard case .translated = nat.translateOutbound(other, tcp: .flags(.syn), now: 0, assumptions: a, rng: &rng) else {
            Issue.record("expected a mapping"); return
        }
    }

    @Test func eachNATAddressAddsItsOwnConnectionsPerDestination() {
        var spec = StoryModel().build().natGateways[0]
        spec.secondaryPrivateIPs = [ip("10.0.0.6")]
        spec.secondaryElasticIPs = [ip("198.51.100.8")]
        let nat = NATGateway(index: 0, spec: spec, address: ip("10.0.0.5"))
        var rng = SplitMix64(seed: 1)
        var a = Assumptions()
        a.natConnectionsPerDestination = 3
        var used: [IPv4Address] = []
        for p in 0..<7 {
            let k = PacketKey(proto: .tcp, source: ip("10.0.1.10"), destination: ip("203.0.113.22"),
                              sourcePort: UInt16(40000 + p), destinationPort: 22)
            switch nat.translateOutbound(k, tcp: .flags(.syn), now: 0, assumptions: a, rng: &rng) {
            case .translated(let address, _, _): used.append(address)
            case .portAllocationError: used.append(.any)
            default: Issue.record("unexpected result")
            }
        }
        // Spread over both addresses, three each; the seventh finds no port.
        #expect(used.filter { $0 == ip("10.0.0.5") }.count == 3)
        #expect(used.filter { $0 == ip("10.0.0.6") }.count == 3)
        #expect(used.last == .any)
        #expect(nat.metrics.errorPortAllocation == 1)
    }

    @Test func lambdaInAPublicSubnetIsDroppedAtTheIGWForLackOfAPublicIP() {
        var story = StoryModel()
        story.lambdaSubnet = 0
        story.publicOutbound = allowAll
        story.publicInbound = allowAll
        let (_, _, r) = simulate(story.scenario([StoryModel.flow("https", .https, port: 443)]))
        #expect(r[0].outcome == .timeout)
        #expect(r[0].drop?.kind == "internet-gateway")
        #expect(r[0].drop?.component == "igw-0story")
        #expect(r[0].requestPath.last?.detail == "10.0.0.10 is a Lambda Hyperplane ENI, which never has a public IP")
    }
}

extension TCPSegmentMarks {
    /// A segment the NAT gateway is given by its flags alone (no close to follow).
    static func flags(_ f: TCPFlags) -> TCPSegmentMarks { TCPSegmentMarks(flags: f, end: 0, ack: 0) }
}
