import Foundation
import TestSupport
import Testing
@testable import Sim

/// The transit gateway clamps a SYN's MSS to 1460 either way across a VPN attachment (MTU 1500: TGW-UG
/// transit-gateway-quotas), as it clamps VPC to VPC to 8460. The tunnel clamps to `vpn_tunnel_mtu` less 40 first,
/// which the loader keeps at 1460 or less; here the tunnel's MTU is set past the loader's range so that only the
/// gateway's clamp is seen.
@Suite struct TGWVPNMSSTests {
    @Test func aSYNFromAVPNAttachmentIsClampedTo1460AsOneIntoItIs() throws {
        let yaml = VPNTests.tgwYAML(propagations: "[app, dc]")
            .replacingOccurrences(of: "ports: {443: https}", with: "mtu: 9001, ports: {443: https}")
            .replacingOccurrences(of: "ingress: []}", with: "ingress: [{protocol: tcp, ports: 443, cidr: 172.16.0.0/16}]}")
            .replacingOccurrences(of: "lambdas:", with: """
                instances:
                  - {id: i-0c000000000000081, name: server, subnet: app, private_ip: 10.20.1.20, security_groups: [app-sg], mtu: 9001}
                lambdas:
                """)
            .replacingOccurrences(of: "{name: call, from: caller, to: \"api.corp:443\", app: https}",
                                  with: "{name: call, from: api.corp, to: \"server:443\", app: https}")
        var s = try ScenarioLoader.load(yaml: yaml, file: "tgw-vpn.yaml")
        s.assumptions.vpnTunnelMTU = 9001
        let out = makeTempDirectory("vpcsim-tgw-vpn-mss")
        var opts = Runner.Options(outDir: out)
        opts.flowLogs = false
        let o = try Runner.run(scenario: s, options: opts)
        #expect(o.report.flows.map(\.outcome) == ["ok"])
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        let server = out + "/" + (try #require(files.first { $0.contains("server") && $0.hasSuffix(".pcap") }))
        let host = out + "/" + (try #require(files.first { $0.contains("api.corp") && $0.hasSuffix(".pcap") }))
        let fields = ["tcp.flags.ack", "tcp.options.mss_val", "tcp.checksum.status"]
        // The host's SYN (8961) reaches the server at 1460 (fails without the gateway's clamp: 8961); the
        // server's SYN-ACK (8961) reaches the host at 1460.
        #expect(try TShark.fields(server, fields, filter: "tcp.flags.syn == 1") == ["0\t1460\t1", "1\t8961\t1"])
        #expect(try TShark.fields(host, fields, filter: "tcp.flags.syn == 1") == ["0\t8961\t1", "1\t1460\t1"])
        let comments = try TShark.fields(out + "/all-hops.pcapng", ["frame.comment"], filter: "tcp.flags.syn == 1")
        #expect(comments.contains { $0.hasPrefix("left through ") && $0.contains("MSS 8961 clamped to 1460") }, "\(comments)")
    }
}
