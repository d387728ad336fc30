import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

private func shipped(_ name: String) throws -> (text: String, scenario: Scenario) {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let text = try String(contentsOfFile: url.appendingPathComponent("scenarios/\(name).yaml").path, encoding: .utf8)
    return (text, try ScenarioLoader.load(yaml: text, file: name + ".yaml"))
}

private let s: Int64 = 1_000_000_000

/// Security-group connection tracking's idle timers (EC2 API ConnectionTrackingSpecification): per protocol, per
/// instance generation, per ENI; expired state goes silently.
@Suite struct ConnectionTrackingTests {
    // MARK: The shipped story

    @Test func nitroV6DropsTheServersKeepaliveSilentlyAndThePutIsResetByTheServer() throws {
        let (_, sc) = try shipped("nitro-v6-conntrack-idle")
        let (_, _, r) = simulate(sc)
        let sim = Simulation(scenario: sc)
        let tap = Tap()
        sim.observer = tap
        #expect(sim.run().map(\.outcome) == [.reset])
        #expect(r[0].outcome == .reset)
        #expect(r[0].message == "read ECONNRESET")
        let drop = try #require(r[0].drops.first)
        #expect(drop.component == "sg-0d1e2f3a4b5c6d7e8" && drop.direction == "ingress")
        #expect(drop.rule.hasPrefix("tracked state expired after 350 s idle (Nitro v6); no ingress rule allows tcp "))
        #expect(drop.rule.hasSuffix("from 203.0.113.22"))
        #expect(!drop.fromClient && drop.tcpFlags == .ack)
        // The server's first keepalive probe, 400 s after the listing: the state expired at about 350 s.
        #expect(drop.firstTime > 400 * s && drop.firstTime < 401 * s)
        // Nine probes and the server's own RST when it gives up, all dropped at the group: nothing reaches the
        // instance between the listing and the put, and the instance sends nothing either (no RST from AWS).
        let atInstance = tap.seen.filter { $0.point == 0 && $0.time > 10 * s && $0.time < 1200 * s }
        #expect(atInstance.isEmpty)
        let dropped = tap.drops.filter { $0.step.component == "sg-0d1e2f3a4b5c6d7e8" }
        #expect(dropped.count == 10)
        #expect(dropped.dropFirst().allSatisfy { $0.step.rule.hasPrefix("no ingress rule allows") })
        // The put's first packet is allowed out and tracked anew; the server, which forgot the connection at
        // 1075 s, answers it with an RST, which the new state lets in.
        #expect(r[0].elapsed > 1200 * s && r[0].elapsed < 1201 * s)
        let advice = try #require(FixFinder.fix(scenario: sc, flow: 0, result: r[0])?.advice)
        #expect(advice.contains("expired after 350 s idle"))
        #expect(advice.contains("connection_tracking: {tcp_established_timeout"))
        #expect(advice.contains("keepalive: 60s"))
    }

    @Test func theSameInstanceBeforeNitroV6KeepsTheConnectionFiveDays() throws {
        var (_, sc) = try shipped("nitro-v6-conntrack-idle")
        sc.model.instances[0].nitroV6 = false
        sc.flows[0].expect = nil
        let (_, _, r) = simulate(sc)
        #expect(r[0].outcome == .ok)
        #expect(r[0].drops.isEmpty)
    }

    @Test func theFixedTwinKeepsAllThreeSessions() throws {
        let (_, sc) = try shipped("nitro-v6-conntrack-idle-fixed")
        let (sim, _, r) = simulate(sc)
        #expect(r.map(\.outcome) == [.ok, .ok, .ok])
        #expect(r.allSatisfy { $0.drops.isEmpty })
        #expect(sim.network.trackedConnections == 0, "closed connections leave no state")
    }

    @Test func theAssumptionMovesTheTimeoutAndIsReported() throws {
        var (_, sc) = try shipped("nitro-v6-conntrack-idle")
        sc.assumptions.sgTCPEstablishedTimeoutNitroV6 = 500 * s
        sc.flows[0].expect = nil
        let (_, _, r) = simulate(sc)
        // 500 s: the probe at 400 s passes and is answered; the client's ACK keeps the state; the put works.
        #expect(r[0].outcome == .ok && r[0].drops.isEmpty)
        let listing = Assumptions().listing
        #expect(listing.contains { $0.name == "sg_tcp_established_timeout_s" && $0.value == "432000" })
        #expect(listing.contains { $0.name == "sg_tcp_established_timeout_nitro_v6_s" && $0.value == "350" })
    }

    // MARK: The table itself

    /// One instance in a public subnet; its group allows tcp/udp 22-9999 and ICMP out, nothing in.
    static let yaml = """
        name: ct
        vpcs: [{id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}]
        internet_gateways: [{id: igw-1, vpc: main}]
        route_tables: [{id: rtb-1, vpc: main, main: true, routes: [{destination: 0.0.0.0/0, target: igw-1}]}]
        security_groups:
          - id: sg-1
            vpc: main
            ingress: []
            egress: [{protocol: tcp, ports: 22-9999, cidr: 0.0.0.0/0}, {protocol: udp, ports: 22-9999, cidr: 0.0.0.0/0},
                     {protocol: icmp, cidr: 0.0.0.0/0}]
        subnets: [{id: subnet-1, vpc: main, cidr: 10.0.0.0/24}]
        instances:
          - {id: i-1, subnet: subnet-1, private_ip: 10.0.0.20, security_groups: [sg-1]CT}
        """

    static func groups(_ extra: String = "") throws -> SecurityGroup {
        let sc = try ScenarioLoader.load(yaml: yaml.replacingOccurrences(of: "CT", with: extra), file: "ct.yaml")
        return SecurityGroup(sc.model, assumptions: sc.assumptions)
    }

    static let me = IPv4Address("10.0.0.20")!, peer = IPv4Address("203.0.113.9")!
    static func out(_ p: IPProtocol, port: UInt16 = 53) -> PacketKey {
        PacketKey(proto: p, source: me, destination: peer, sourcePort: 40000, destinationPort: port)
    }

    /// Whether a reply at `t` (seconds after the request at 0) gets in, at a new instance (`extra`: its keys).
    static func replyPasses(_ extra: String = "", _ p: IPProtocol, after t: Int64, port: UInt16 = 53) throws -> Bool {
        let g = try groups(extra)
        let k = out(p, port: port)
        _ = g.check(0, .outbound, k, nil, now: 0, traced: false)
        return g.check(0, .inbound, k.reversed, nil, now: t * s, traced: false).allowed
    }

    @Test func eachProtocolHasItsTimeout() throws {
        // TCP: five days by default.
        #expect(try Self.replyPasses("", .tcp, after: 432_000))
        #expect(try Self.replyPasses("", .tcp, after: 432_001) == false)
        // UDP: 30 s for a flow with no reply yet.
        #expect(try Self.replyPasses("", .udp, after: 30))
        #expect(try Self.replyPasses("", .udp, after: 31) == false)
        // ICMP (other protocols): 600 s.
        #expect(try Self.replyPasses("", .icmp, after: 600, port: 0))
        #expect(try Self.replyPasses("", .icmp, after: 601, port: 0) == false)
    }

    @Test func aUDPFlowWithAReplyAndAnotherRequestIsAStreamAt180Seconds() throws {
        let g = try Self.groups()
        let k = Self.out(.udp)
        #expect(g.check(0, .outbound, k, nil, now: 0, traced: false).allowed)
        #expect(g.check(0, .inbound, k.reversed, nil, now: 1 * s, traced: false).allowed)
        #expect(g.check(0, .outbound, k, nil, now: 2 * s, traced: false).allowed)  // a stream from here
        #expect(g.check(0, .inbound, k.reversed, nil, now: 182 * s, traced: false).allowed)
        #expect(!g.check(0, .inbound, k.reversed, nil, now: 363 * s, traced: false).allowed)
    }

    @Test func theENIOverrideAndNitroV6SetTheTCPTimeoutAndTheStepSaysWhy() throws {
        let v6 = try Self.groups(", nitro: v6")
        #expect(try Self.replyPasses(", nitro: v6", .tcp, after: 350))
        #expect(try Self.replyPasses(", nitro: v6", .tcp, after: 351) == false)
        let overKeys = ", nitro: v6, connection_tracking: {tcp_established_timeout: 60, udp_timeout: 60}"
        let over = try Self.groups(overKeys)
        #expect(try Self.replyPasses(overKeys, .tcp, after: 61) == false)
        #expect(try Self.replyPasses(overKeys, .udp, after: 60))
        _ = over.check(0, .outbound, Self.out(.tcp), nil, now: 0, traced: false)
        let k = Self.out(.tcp).reversed
        let v = over.check(0, .inbound, k, nil, now: 200 * s, traced: false)
        #expect(!v.allowed)
        #expect(over.step(0, .inbound, k, of: v).text
                == "sg-1 ingress: tracked state expired after 60 s idle (connection_tracking); "
                    + "no ingress rule allows tcp 40000 from 203.0.113.9 → DROPPED")
        let k2 = Self.out(.tcp, port: 80)
        _ = v6.check(0, .outbound, k2, nil, now: 0, traced: false)
        let v2 = v6.check(0, .inbound, k2.reversed, nil, now: 400 * s, traced: false)
        #expect(v6.step(0, .inbound, k2.reversed, of: v2).rule.hasPrefix("tracked state expired after 350 s idle (Nitro v6); "))
    }

    @Test func memoryFollowsLiveConnections() throws {
        let g = try Self.groups()
        // 100,000 UDP requests, one a second, none answered: at most the last 30 s of them and the sweep's slack
        // stay in the table.
        for i in 0..<100_000 {
            let k = PacketKey(proto: .udp, source: Self.me, destination: Self.peer, sourcePort: UInt16(1024 + i % 60000),
                              destinationPort: UInt16(22 + i / 60000))
            _ = g.check(0, .outbound, k, nil, now: Int64(i) * s, traced: false)
        }
        #expect(g.trackedConnections <= 8192, "\(g.trackedConnections)")
    }

    // MARK: The scenario format

    @Test func connectionTrackingValuesAreCheckedAsTheEC2APIChecksThem() throws {
        func error(_ extra: String) -> String? {
            do {
                _ = try ScenarioLoader.load(yaml: Self.yaml.replacingOccurrences(of: "CT", with: extra), file: "t.yaml")
                return nil
            } catch { return "\(error)" }
        }
        #expect(error(", connection_tracking: {tcp_established_timeout: 59}")
                == "t.yaml:13:128: 'tcp_established_timeout' 59 is outside 60-432000")
        #expect(error(", connection_tracking: {udp_timeout: 61}") == "t.yaml:13:116: 'udp_timeout' 61 is outside 30-60")
        #expect(error(", connection_tracking: {udp_stream_timeout: 200}")
                == "t.yaml:13:123: 'udp_stream_timeout' 200 is outside 60-180")
        #expect(error(", connection_tracking: {tcp_timeout: 100}")?.contains("unknown key 'tcp_timeout'") == true)
        #expect(error(", nitro: v7")?.hasPrefix("t.yaml:13:88: invalid nitro 'v7'") == true)
        #expect(error(", nitro: v6, connection_tracking: {tcp_established_timeout: 432000}") == nil)
    }
}

/// `vpcsim import aws`: an ENI's ConnectionTrackingConfiguration (describe-network-interfaces) becomes the
/// instance's `connection_tracking`.
@Suite struct ConnectionTrackingImportTests {
    @Test func importReadsTheENIsConnectionTrackingConfiguration() throws {
        let src = Fixtures.reference("public/aws-json/batfish_test-nat-gateway")
        let dir = makeTempDirectory("vpcsim-ct-import")
        for f in try FileManager.default.contentsOfDirectory(atPath: src) where f.hasSuffix(".json") {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: dir + "/" + f)
        }
        let path = dir + "/NetworkInterfaces.json"
        var dump = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var enis = try #require(dump["NetworkInterfaces"] as? [[String: Any]])
        let i = try #require(enis.firstIndex { $0["NetworkInterfaceId"] as? String == "eni-068fb5a0a9a57f23c" })
        enis[i]["ConnectionTrackingConfiguration"] = ["TcpEstablishedTimeout": 3600, "UdpTimeout": 45, "UdpStreamTimeout": 500]
        dump["NetworkInterfaces"] = enis
        try JSONSerialization.data(withJSONObject: dump).write(to: URL(fileURLWithPath: path))

        let imported = try AWSImporter.importDirectory(dir)
        #expect(imported.yaml.contains("connection_tracking: {tcp_established_timeout: 3600, udp_timeout: 45}"))
        #expect(imported.warnings.contains {
            $0.id == "eni-068fb5a0a9a57f23c" && $0.message.contains("UdpStreamTimeout 500 is outside 60-180")
        })
        let m = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml").model
        let inst = try #require(m.instances.first { $0.id == "i-0b31b509174d7f5de" })
        #expect(m.enis[inst.eni].connectionTracking == ConnectionTracking(tcpEstablishedTimeout: 3600, udpTimeout: 45))
        #expect(m.instances.filter { m.enis[$0.eni].connectionTracking.isEmpty }.count == m.instances.count - 1)
    }
}
