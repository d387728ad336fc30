import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// IPv6 inside a Site-to-Site VPN tunnel on a transit gateway (`tunnel_inside_ip_version: ipv6`; EC2 API
/// VpnConnectionOptions TunnelInsideIpVersion): the connection's BGP prefixes or static routes are IPv6 and
/// propagate into the gateway's route table as IPv6 routes; its tunnels carry IPv6 and no IPv4; the tunnel's MTU is
/// the same, its MSS 20 bytes smaller (VPN-UG cgw-best-practice: 1386 for IPv6 against 1406).
@Suite struct VPNIPv6Tests {
    static let conn = "vpn-0c000000000000071", vpnAttach = "tgw-attach-0b0000000000000b"
    static let appAttach = "tgw-attach-0a0000000000000a", table = "tgw-rtb-0c0000000000000c1"
    static let box6 = "2600:1f18:aaaa:aa01::10", api6 = "2001:db8:99::5"

    static let yaml = """
        name: tgw-vpn-ipv6
        seed: 1
        vpcs:
          - {id: vpc-0c000000000000001, name: app, cidr_blocks: [10.20.0.0/16], ipv6_cidr: "2600:1f18:aaaa:aa00::/56"}
        route_tables:
          - {id: rtb-0c000000000000011, name: app-rt, vpc: app, main: true, routes: [{destination: 172.16.0.0/12, target: hub}, {destination: "2001:db8:99::/48", target: hub}]}
        security_groups:
          - {id: sg-0c000000000000031, name: app-sg, vpc: app, ingress: [], egress: [{protocol: all, cidr: 0.0.0.0/0}, {protocol: all, cidr: "::/0"}]}
        subnets:
          - {id: subnet-0c000000000000041, name: app, vpc: app, cidr: 10.20.1.0/24, ipv6_cidr: "2600:1f18:aaaa:aa01::/64", availability_zone: us-east-1a}
          - {id: subnet-0c000000000000042, name: tgw, vpc: app, cidr: 10.20.255.0/28, ipv6_cidr: "2600:1f18:aaaa:aaff::/64", availability_zone: us-east-1a}
        customer_gateways:
          - {id: cgw-0c000000000000061, name: dc, ip_address: 198.51.100.10}
        vpn_connections:
          - {id: vpn-0c000000000000071, name: dc-vpn, customer_gateway: dc, tunnel_inside_ip_version: ipv6, static_routes_only: false, bgp_prefixes: ["2001:db8:99::/48"], tunnels: [18.200.1.1, 18.200.2.2], esp_view: true}
        onprem_networks:
          - {name: lan, customer_gateway: dc, cidrs: [172.16.0.0/16, "2001:db8:99::/48"], hosts: [{name: api.corp, ip: 172.16.10.5, ipv6: "2001:db8:99::5", ports: {443: https}}]}
        transit_gateways:
          - id: tgw-0c00000000000000c
            name: hub
            attachments:
              - {id: tgw-attach-0a0000000000000a, name: app, vpc: app, subnets: [tgw], ipv6_support: true}
              - {id: tgw-attach-0b0000000000000b, name: dc, type: vpn, vpn_connection: dc-vpn}
            route_tables:
              - {id: tgw-rtb-0c0000000000000c1, name: main, associations: [app, dc], propagations: [app, dc]}
        instances:
          - {id: i-0a00000000000000a, name: app-box, subnet: app, private_ip: 10.20.1.10, ipv6_address: "2600:1f18:aaaa:aa01::10", security_groups: [app-sg]}
        flows:
          - {name: call-v6, from: app-box, to: "api.corp:443", app: https, address_family: ipv6, size: 20KB}
          - {name: call-v4, from: app-box, to: "api.corp:443", app: https, address_family: ipv4}
        """

    static func run(_ text: String, out: String? = nil) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "vpn6.yaml", out: out)
    }

    static func error(_ text: String) -> ScenarioError? { ScenarioText.error(text, file: "vpn6.yaml") }

    /// Over IPv6: the connection's BGP prefix propagates into the gateway's table as an IPv6 route; the packet
    /// crosses the tunnel to the on-premises host and the reply comes back by the VPC's propagated IPv6 block. The
    /// IPv4 flow to the same host finds no route: the connection brings no IPv4 prefix.
    @Test func ipv6CrossesAnIPv6InsideTunnel() throws {
        let o = try Self.run(Self.yaml)
        let f = o.report.flows[0]
        #expect(f.outcome == "ok" && f.drop == nil, "\(o.text)")
        #expect(f.hops.filter { $0.step == "tgw-route" }.map(\.rule)
            == ["2001:db8:99::/48 → \(Self.vpnAttach) (vpn) (propagated)"], "\(f.hops)")
        #expect(f.hops.contains { $0.step == "vpn-connection" && $0.component == Self.conn && $0.action == "forwarded" })
        #expect(f.reply_hops.filter { $0.step == "tgw-route" }.map(\.rule)
            == ["2600:1f18:aaaa:aa00::/56 → \(Self.appAttach) (vpc) (propagated)"], "\(f.reply_hops)")
        let v4 = o.report.flows[1]
        #expect(v4.drop?.component == Self.table && v4.drop?.rule == "no route matches 172.16.10.5", "\(v4.drops)")
    }

    /// A static IPv4 route to the IPv6 connection's attachment carries the IPv4 packet to the tunnel, which drops
    /// it: its tunnels process IPv6 only. The same for IPv6 into an IPv4 connection.
    @Test func aPacketOfTheOtherFamilyIsDroppedAtTheConnection() throws {
        let routed = ScenarioText.replacing(Self.yaml, "propagations: [app, dc]}",
                                            "propagations: [app, dc], routes: [{destination: 172.16.0.0/16, target: dc}]}")
        let f = try Self.run(routed).report.flows[1]
        let drop = try #require(f.drop)
        #expect(drop.component == Self.conn && drop.rule == "IPv4 to 172.16.10.5: the tunnels carry IPv6", "\(drop)")
        #expect(f.hops.last { $0.component == Self.conn }?.detail == "tunnel_inside_ip_version ipv6: a connection's "
                + "tunnels process one address family (EC2 API VpnConnectionOptions TunnelInsideIpVersion)", "\(f.hops)")
        var v4conn = ScenarioText.replacing(Self.yaml, "tunnel_inside_ip_version: ipv6, static_routes_only: false, "
            + "bgp_prefixes: [\"2001:db8:99::/48\"]", "static_routes_only: false, bgp_prefixes: [172.16.0.0/16]")
        v4conn = ScenarioText.replacing(v4conn, "propagations: [app, dc]}",
                                        "propagations: [app, dc], routes: [{destination: \"2001:db8:99::/48\", target: dc}]}")
        let o = try Self.run(v4conn)
        #expect(o.report.flows[1].outcome == "ok", "\(o.text)")
        let g = try #require(o.report.flows[0].drop)
        #expect(g.component == Self.conn && g.rule == "IPv6 to \(Self.api6): the tunnels carry IPv4", "\(g)")
    }

    /// The tunnel's capture holds the inner IPv6 frames as tshark reads them; the SYN's MSS is clamped to the
    /// tunnel's MTU less 60 (1386); the ESP view wraps each of them between the tunnel's outside IPv4 addresses
    /// (next header 41 inside the encrypted trailer); the gateway's flow logs record the VPN attachment's IPv6
    /// traffic as IPv6.
    @Test func theTunnelsCapturesAndTheGatewaysFlowLogsCarryIPv6() throws {
        let out = makeTempDirectory("vpcsim-vpn6")
        let o = try Self.run(Self.yaml + "\nflow_logs: {transit_gateways: [hub]}\n", out: out)
        let inner = try #require(o.report.captures.first { $0.component == Self.conn && !$0.file.contains("-esp-") })
        let innerFile = out + "/" + inner.file
        #expect(try TShark.problems(in: innerFile).problems == [])
        let syn = try TShark.fields(innerFile, ["ipv6.src", "ipv6.dst", "tcp.options.mss_val"],
                                    filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0")
        #expect(syn.filter { !$0.isEmpty } == ["\(Self.box6)\t\(Self.api6)\t1386"], "\(syn)")
        let esp = try #require(o.report.captures.first { $0.file.contains("-esp-") })
        let (frames, problems) = try TShark.problems(in: out + "/" + esp.file)
        #expect(problems.isEmpty && frames == inner.packets && frames > 0, "\(problems)")
        let rows = try TShark.fields(out + "/" + esp.file, ["ip.src", "ip.dst", "ip.proto"])
        #expect(rows.allSatisfy { $0 == "18.200.1.1\t198.51.100.10\t50" || $0 == "198.51.100.10\t18.200.1.1\t50" }, "\(rows)")
        let lines = try #require(o.tgwFlowLogText).split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
        let vpn = lines.filter { $0[4] == Self.vpnAttach }
        #expect(!vpn.isEmpty && vpn.allSatisfy { $0[26] == "IPv6" }, "\(lines)")
        #expect(vpn.contains { [$0[16], $0[17], $0[33]] == [Self.box6, Self.api6, "egress"] }, "\(vpn)")
        #expect(vpn.contains { [$0[16], $0[17], $0[33]] == [Self.api6, Self.box6, "ingress"] }, "\(vpn)")
    }

    /// An IPv6 packet that fits the VPN attachment (1500) but not the tunnel (1446) is dropped in the tunnel, DF or
    /// not (IPv6 is never fragmented on the way), and no ICMPv6 goes back (Site-to-Site VPN does no Path MTU
    /// Discovery): the instance's 1480-byte fragments of a UDP datagram never arrive.
    @Test func anIPv6PacketTooBigForTheTunnelIsDroppedThereWithoutICMP() throws {
        var text = ScenarioText.replacing(Self.yaml, "ports: {443: https}", "ports: {443: https, 5000: udp}")
        text = ScenarioText.replacing(text, "security_groups: [app-sg]}\nflows:", "security_groups: [app-sg], mtu: 1480}\nflows:")
        text += "\n  - {name: udp6, from: app-box, to: \"api.corp:5000\", app: udp, size: 4000, count: 1, address_family: ipv6}\n"
        let f = try Self.run(text).report.flows[2]
        let drop = try #require(f.drops.first { $0.component == Self.conn }, "\(f.drops)")
        #expect(drop.rule == "link MTU 1446 < IPv6 packet 1480 bytes; no ICMP (Site-to-Site VPN does not support Path MTU "
                + "Discovery)", "\(drop)")
        #expect(drop.kind == "path-mtu" && drop.count == 2 && drop.datagrams == 1, "\(drop)")  // both fragments
    }

    /// The ESP frame of an inner IPv6 packet names IPv6 (41) as the next header in its trailer, an IPv4 one IPv4 (4):
    /// decrypted with the keystream the frame was written with.
    @Test(arguments: [(UInt8(0x60), UInt8(41)), (UInt8(0x45), UInt8(4))])
    func theESPTrailerNamesTheInnerFamily(_ c: (first: UInt8, next: UInt8)) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 8)
        defer { buffer.deallocate() }
        var inner = [UInt8](repeating: 0xAB, count: 100)
        inner[0] = c.first
        var w = ByteWriter(base: buffer, capacity: 2048)
        let spi: UInt32 = 0x1234_5678, sequence: UInt32 = 3
        inner.withUnsafeBytes {
            ESPTunnelFrame.write(to: &w, inner: $0, spi: spi, sequence: sequence, from: IPv4Address("18.200.1.1")!,
                                 to: IPv4Address("198.51.100.10")!, natTraversal: false, source: .zero, destination: .zero)
        }
        let frame = Array(w.written)
        let cipherBytes = frame.count - 14 - 20 - 8 - 16 - 12
        var keystream = SplitMix64(seed: UInt64(spi) << 32 | UInt64(sequence))
        var word: UInt64 = 0
        for _ in 0...((cipherBytes - 1) / 8) { word = keystream.next() }
        let last = frame[frame.count - 12 - 1] ^ UInt8(truncatingIfNeeded: word >> (8 * UInt64((cipherBytes - 1) % 8)))
        #expect(last == c.next)
    }

    /// Bad VPN IPv6 input: one line each, at the place.
    @Test func badVPNIPv6InputIsRefusedInOneLine() throws {
        // An IPv4 prefix on a connection whose tunnels carry IPv6.
        let a = try #require(Self.error(ScenarioText.replacing(Self.yaml, "bgp_prefixes: [\"2001:db8:99::/48\"]",
                                                               "bgp_prefixes: [172.16.0.0/16]")))
        #expect(a.description.hasPrefix("vpn6.yaml:15:143: ") && !a.description.contains("\n"), "\(a)")
        #expect(a.message == "VPN connection \(Self.conn) carries IPv6 inside its tunnels (tunnel_inside_ip_version ipv6): "
                + "bgp_prefixes takes IPv6 CIDRs, not 172.16.0.0/16", "\(a)")
        // An unknown inner version.
        let b = try #require(Self.error(ScenarioText.replacing(Self.yaml, "tunnel_inside_ip_version: ipv6", "tunnel_inside_ip_version: v6")))
        #expect(b.message == "invalid tunnel_inside_ip_version 'v6' (expected ipv4 or ipv6)", "\(b)")
        // An on-premises host's IPv6 address outside its network.
        let c = try #require(Self.error(ScenarioText.replacing(Self.yaml, "ipv6: \"2001:db8:99::5\"", "ipv6: \"2001:db8:98::5\"")))
        #expect(c.message == "on-premises host api.corp 2001:db8:98::5 is outside network lan (172.16.0.0/16, 2001:db8:99::/48)",
                "\(c)")
        // IPv6 inside a tunnel to a virtual private gateway.
        let vgw = ScenarioText.replacing(ScenarioText.replacing(Self.yaml, "customer_gateways:",
            "vpn_gateways:\n  - {id: vgw-0c000000000000051, name: corp-vgw, vpc: app}\ncustomer_gateways:"),
            "name: dc-vpn, customer_gateway: dc,", "name: dc-vpn, vpn_gateway: corp-vgw, customer_gateway: dc,")
        let d = try #require(Self.error(vgw))
        #expect(d.message == "VPN connection \(Self.conn): a virtual private gateway does not support IPv6 for Site-to-Site "
                + "VPN connections (VPN-UG how_it_works); tunnel_inside_ip_version ipv6 needs a transit gateway's VPN "
                + "attachment", "\(d)")
    }
}
