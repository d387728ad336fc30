import Foundation
import Packets
import Testing
import TestSupport
@testable import Sim

/// A private NAT gateway whose subnet routes to a VPC peering connection: the request leaves translated to the
/// gateway's private address, an address of its own VPC, and the reply, addressed to the gateway's ENI, crosses
/// back and is translated back (VPC-PG vpc-peering-basics: what edge-to-edge routing forbids is a peer's gateway
/// used to reach beyond the peer VPC, which the connection still refuses).
@Suite struct PrivateNATPeeringTests {
    static let nat = "10.0.2.5", server = "10.1.1.10", client = "10.0.1.10"

    /// `FusedNATPeeringTests.yaml` with one HTTPS flow instead of the fleet, and flow logs on every ENI.
    static func yaml(_ flows: String = """
        flows:
          - {name: via-private-nat, from: client, to: "server:443", app: https, expect: {outcome: ok, no_drop: true}}
        """) -> String {
        ScenarioText.replacing(FusedNATPeeringTests.yaml,
                               "generators:\n  - {name: fleet, from: client, to: \"server:443\", app: https, count: 30, over: 2s}",
                               flows + "\nflow_logs: {format: \"${interface-id} ${srcaddr} ${dstaddr} ${srcport} "
                                   + "${dstport} ${action} ${flow-direction}\"}")
    }

    @Test func theReplyToTheGatewaysAddressCrossesBackAndIsTranslatedBack() throws {
        let dir = makeTempDirectory("vpcsim-private-nat-pcx")
        let o = try ScenarioText.run(Self.yaml(), file: "private-nat-peering.yaml", out: dir)
        let flow = try #require(o.report.flows.first)
        #expect(flow.outcome == "ok" && flow.drop == nil)
        // Both directions at the connection's point: the gateway's SYN to the server, the server's SYN-ACK to the
        // gateway's address, and every later segment of the HTTPS exchange either way.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        let pcx = try #require(files.first { $0.contains("-pcx-app-files-") && $0.hasSuffix(".pcap") })
        let path = dir + "/" + pcx
        #expect(try TShark.problems(in: path).problems.isEmpty)
        let frames = try TShark.fields(path, ["ip.src", "ip.dst", "tcp.flags.str"])
        let out = frames.filter { $0.hasPrefix(Self.nat + "\t" + Self.server) }
        let back = frames.filter { $0.hasPrefix(Self.server + "\t" + Self.nat) }
        #expect(out.first?.hasSuffix("\t··········S·") == true, "\(frames)")
        #expect(back.first?.hasSuffix("\t·······A··S·") == true, "\(frames)")
        #expect(out.count >= 4 && back.count >= 4 && out.count + back.count == frames.count, "\(frames)")
        // Nothing untranslated crosses: the client's own address stays in its VPC.
        #expect(!frames.contains { $0.contains(Self.client) })
        // Flow logs: the server's ENI sees the gateway's address; the gateway's ENI logs the reply coming in from
        // the server (ingress, ACCEPT) and its translation going out to the client from the gateway's address.
        let s = try ScenarioLoader.load(yaml: Self.yaml(), file: "private-nat-peering.yaml")
        let natENI = s.model.enis[s.model.natGateways[0].eni].id
        let serverENI = try #require(s.model.enis.first { $0.privateIP == IPv4Address(Self.server)! }).id
        let lines = try #require(o.flowLogText).split(separator: "\n").map(String.init)
        let replyAtNAT = lines.filter { $0.hasPrefix("\(natENI) \(Self.server) \(Self.nat) 443 ") }
        #expect(replyAtNAT.count == 1 && replyAtNAT[0].hasSuffix(" ACCEPT ingress"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(natENI) \(Self.nat) \(Self.client) 443 ") && $0.hasSuffix(" ACCEPT egress") },
                "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(serverENI) \(Self.nat) \(Self.server) ") && $0.hasSuffix(" 443 ACCEPT ingress") },
                "\(lines)")
        #expect(!lines.contains { $0.contains("REJECT") }, "\(lines)")
    }

    /// Edge to edge: the files VPC sends its internet traffic to the connection, to leave through the app VPC's
    /// NAT gateway; the connection drops it (its destination is not in the app VPC), and a packet the server
    /// sends to the gateway's address unasked reaches the gateway, which has no translation for it.
    @Test func edgeToEdgeIsStillRefused() throws {
        var text = Self.yaml("""
            outside_hosts:
              - {name: api.example.com, ip: 203.0.113.10, rtt_ms: 20, ports: {443: https}}
            flows:
              - {name: beyond, from: server, to: "api.example.com:443", app: https}
            """)
        text = ScenarioText.replacing(text, "routes: [{destination: 10.0.0.0/16, target: app-files}]",
                                      "routes: [{destination: 10.0.0.0/16, target: app-files}, "
                                          + "{destination: 0.0.0.0/0, target: app-files}]")
        let beyond = try ScenarioText.run(text, file: "edge.yaml").report.flows[0]
        let drop = try #require(beyond.drop)
        #expect(beyond.outcome == "timeout")
        #expect(drop.kind == "peering" && drop.component == "pcx-0a00000000000000a")
        #expect(drop.rule == "203.0.113.10 is not in vpc-0a00000000000000a (app) (10.0.0.0/16)")
        #expect(beyond.hops.last?.detail?.contains("no transitive or edge-to-edge routing") == true)
    }
}
