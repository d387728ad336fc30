import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

private let repo: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

private func story(_ name: String) throws -> String {
    try String(contentsOfFile: repo + "/scenarios/\(name).yaml", encoding: .utf8)
}

/// The components' link MTUs (`VPCNetwork+LinkMTU.swift`): a datagram of a given size with DF set (`PathMTUProbe`,
/// as `vpcsim trace --probe-size` sends it: a TCP SYN of that size) stops at the first link too small for it, and the ICMP its router
/// sends back goes where the NACLs and security groups let it.
@Suite("Link MTUs: internet gateway, transit gateway, VPN tunnel, inter-Region peering")
struct LinkMTUTests {
    /// A probe of `size` bytes from ENI `eni` to `destination`:`port`, with TGW flow logs when the scenario asks.
    static func probe(_ s: Scenario, fromENI eni: Int, to destination: String, port: UInt16 = 443, size: Int)
        -> (PathMTUProbe.Result, String?)
    {
        let p = ReplayProbe(model: s.model, assumptions: s.assumptions)
        let logs = s.flowLogs.transitGateways.isEmpty ? nil
            : TGWFlowLogRecorder(model: s.model, settings: s.flowLogs, startTime: s.startTime)
        p.network.tgwFlowLogs = logs
        let r = p.sized(fromENI: eni, fromHost: nil, source: s.model.enis[eni].privateIP,
                        destination: IPv4Address(destination)!, destinationPort: port, size: size)
        return (r, logs?.finish())
    }

    /// The server in VPC B (MTU 9001) sends 9001 bytes toward the Lambda in VPC A through the transit gateway:
    /// dropped there (over 8500), counted in packets-lost-mtu-exceeded at the attachment it came in by, and ICMP
    /// fragmentation needed goes back from B's attachment subnet — to be dropped by the server's security group,
    /// which has no ICMP rule. 8500 bytes cross. With `tgw_sends_frag_needed: false`, no ICMP.
    @Test func transitGatewayDropsOver8500AndSendsFragNeeded() throws {
        let yaml = TransitGatewayTests.yaml() + "\nflow_logs: {transit_gateways: [hub]}\n"
        let s = try ScenarioLoader.load(yaml: yaml, file: "tgw.yaml")
        let server = s.model.instances[0].eni
        let (big, logs) = Self.probe(s, fromENI: server, to: "10.1.1.10", size: 9001)
        let step = try #require(big.tooBig)
        #expect(step.kind == .pathMTU && step.component == "tgw-0c00000000000000c")
        #expect(step.rule == "link MTU 8500 < packet 9001 bytes (DF set); ICMP fragmentation needed sent to 10.2.1.20")
        #expect(!big.icmpArrived)
        let icmpDrop = try #require(big.icmpDrop)
        #expect(icmpDrop.kind == .securityGroupIngress && icmpDrop.component == "sg-0b00000000000000b")
        #expect(big.text.contains("a path MTU black hole"))
        // One datagram lost at attachment B (ingress), in packets-lost-mtu-exceeded (the third lost counter); then
        // the gateway's ICMP leaving through B (LinkMTURecordTests).
        let lines = try #require(logs).split(separator: "\n").dropFirst()
        #expect(lines.count == 2)
        let line = String(try #require(lines.first))
        #expect(line.contains(" tgw-attach-0b0000000000000b ") && line.contains(" 10.2.1.20 10.1.1.10 50000 443 6 1 9001 "))
        #expect(line.contains(" OK IPv4 0 0 1 0 "), "\(line)")

        let (fits, fitLogs) = Self.probe(s, fromENI: server, to: "10.1.1.10", size: 8500)
        #expect(fits.tooBig == nil)
        #expect(try #require(fitLogs).contains(" OK IPv4 0 0 0 0 "))

        let silent = try ScenarioLoader.load(yaml: yaml + "assumptions: {tgw_sends_frag_needed: false}\n", file: "tgw.yaml")
        let (old, _) = Self.probe(silent, fromENI: server, to: "10.1.1.10", size: 9001)
        #expect(try #require(old.tooBig).rule.hasSuffix("no ICMP (tgw_sends_frag_needed false)"))
        #expect(old.icmpDrop == nil && !old.icmpArrived)
        #expect(old.text.contains("a black hole for packets this size"))
    }

    /// With an ICMP rule in the server's group, the gateway's ICMP arrives: the source learns the path MTU.
    @Test func transitGatewayICMPArrivesWhenAllowed() throws {
        let yaml = TransitGatewayTests.yaml().replacingOccurrences(
            of: "ingress: [{protocol: tcp, ports: 443, cidr: 10.1.0.0/16}]",
            with: "ingress: [{protocol: tcp, ports: 443, cidr: 10.1.0.0/16}, {protocol: icmp, cidr: 0.0.0.0/0}]")
        let s = try ScenarioLoader.load(yaml: yaml, file: "tgw.yaml")
        let (r, _) = Self.probe(s, fromENI: s.model.instances[0].eni, to: "10.1.1.10", size: 9001)
        #expect(r.tooBig != nil && r.icmpArrived && r.icmpDrop == nil)
        #expect(r.text.hasSuffix("the ICMP arrived: the source learns the path MTU"))
    }

    /// The Site-to-Site VPN tunnel carries 1446 bytes; 1447 are dropped with no ICMP (no Path MTU Discovery).
    @Test func vpnTunnelDrops1447WithoutICMP() throws {
        let s = try ScenarioLoader.load(yaml: VPNTests.yaml(), file: "vpn.yaml")
        let lambda = s.model.lambdas[0].enis[0]
        let (big, _) = Self.probe(s, fromENI: lambda, to: "172.16.10.5", size: 1447)
        let step = try #require(big.tooBig)
        #expect(step.component == "vpn-0c000000000000071")
        #expect(step.rule == "link MTU 1446 < packet 1447 bytes (DF set); no ICMP (Site-to-Site VPN does not support Path MTU Discovery)")
        #expect(big.icmpDrop == nil && !big.icmpArrived && !big.delivered)
        let (fits, _) = Self.probe(s, fromENI: lambda, to: "172.16.10.5", size: 1446)
        #expect(fits.tooBig == nil && fits.delivered)
        // vpn_tunnel_mtu (1438 with NAT traversal).
        let natT = try ScenarioLoader.load(yaml: VPNTests.yaml() + "\nassumptions: {vpn_tunnel_mtu: 1438}\n", file: "vpn.yaml")
        #expect(Self.probe(natT, fromENI: lambda, to: "172.16.10.5", size: 1446).0.tooBig?.rule.hasPrefix("link MTU 1438 <") == true)
    }

    /// The internet gateway forwards 1500 bytes: a 1501-byte datagram from the instance (MTU 9001) is dropped
    /// there, and the ICMP from the subnet's router is dropped by its NACL (tcp/22 only); in the fixed twin it
    /// arrives. 1500 bytes pass the gateway and meet the client's 1400-byte link next.
    @Test func internetGatewayForwards1500() throws {
        let s = try loadScenario(try story("sftp-pmtud-blackhole"))
        let eni = s.model.instances[0].eni
        let (big, _) = Self.probe(s, fromENI: eni, to: "203.0.113.50", port: 40000, size: 1501)
        let step = try #require(big.tooBig)
        #expect(step.component == "igw-0c2d4e6f8a0b1c2d3")
        #expect(step.rule == "link MTU 1500 < packet 1501 bytes (DF set); ICMP fragmentation needed sent to 10.0.0.20")
        #expect(big.icmpDrop?.kind == .naclInbound && big.icmpDrop?.component == "acl-0b1c2d3e4f5a6b7c8")
        let fixed = try loadScenario(try story("sftp-pmtud-blackhole-fixed"))
        let (ok, _) = Self.probe(fixed, fromENI: fixed.model.instances[0].eni, to: "203.0.113.50", port: 40000, size: 1501)
        #expect(ok.tooBig?.component == "igw-0c2d4e6f8a0b1c2d3" && ok.icmpArrived)
        let (next, _) = Self.probe(s, fromENI: eni, to: "203.0.113.50", port: 40000, size: 1500)
        #expect(next.tooBig?.component == "path-mtu branch-pc")
    }

    /// An inter-Region peering connection carries 8500 bytes (sftp-large-file-stall's).
    @Test func interRegionPeeringCarries8500() throws {
        let s = try loadScenario(try story("sftp-large-file-stall"))
        let batch = s.model.instances[0].eni
        let (big, _) = Self.probe(s, fromENI: batch, to: "10.1.0.30", port: 22, size: 8501)
        #expect(big.tooBig?.component == "pcx-0c3d4e5f60718293a")
        #expect(big.icmpDrop?.component == "acl-0b1c2d3e4f5a6b7c8")
        let (fits, _) = Self.probe(s, fromENI: batch, to: "10.1.0.30", port: 22, size: 8500)
        #expect(fits.tooBig == nil)
    }

    /// The tunnel clamps a SYN's MSS to 1406 both ways, the transit gateway to 8460 (VPC to VPC): the option is
    /// rewritten in place, and the checksum tshark computes holds.
    @Test func mssClampingShowsInTheCaptures() throws {
        let out = makeTempDirectory("vpcsim-mss")
        let o = try VPNTests.run(VPNTests.yaml(), captures: out)
        #expect(o.report.flows.map(\.outcome) == ["ok"])
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        let tunnel = out + "/" + (try #require(files.first { $0.contains("vpn-0c000000000000071") && $0.hasSuffix(".pcap") }))
        let host = out + "/" + (try #require(files.first { $0.contains("api.corp") && $0.hasSuffix(".pcap") }))
        // The Lambda's SYN (MSS 1460) is 1406 in the tunnel and at the host; the host's SYN-ACK (1460) is 1406 in
        // the tunnel too.
        let synHost = try TShark.fields(host, ["tcp.flags.ack", "tcp.options.mss_val", "tcp.checksum.status"],
                                        filter: "tcp.flags.syn == 1")
        #expect(synHost == ["0\t1406\t1", "1\t1460\t1"], "\(synHost)")
        let synTunnel = try TShark.fields(tunnel, ["tcp.flags.ack", "tcp.options.mss_val", "tcp.checksum.status"],
                                          filter: "tcp.flags.syn == 1")
        #expect(synTunnel == ["0\t1406\t1", "1\t1406\t1"], "\(synTunnel)")
        let comments = try TShark.fields(out + "/all-hops.pcapng", ["frame.comment"], filter: "tcp.flags.syn == 1")
        #expect(comments.contains { $0.contains("MSS 1460 clamped to 1406") }, "\(comments)")
    }

    /// The transit gateway clamps the server's SYN-ACK (MSS 8961, interface MTU 9001) to 8460 on its way to the
    /// Lambda; the Lambda's SYN (1460) is left alone.
    @Test func transitGatewayClampsMSSTo8460() throws {
        let out = makeTempDirectory("vpcsim-tgw-mss")
        let s = try ScenarioLoader.load(yaml: TransitGatewayTests.yaml(), file: "tgw.yaml")
        var opts = Runner.Options(writeFiles: true)
        opts.outDir = out
        let o = try Runner.run(scenario: s, options: opts)
        #expect(o.report.flows.map(\.outcome) == ["ok"])
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        let lambda = out + "/" + (try #require(files.first { $0.contains("lambda") && $0.hasSuffix(".pcap") }))
        let server = out + "/" + (try #require(files.first { $0.contains("server") && $0.hasSuffix(".pcap") }))
        let fields = ["tcp.flags.ack", "tcp.options.mss_val", "tcp.checksum.status"]
        #expect(try TShark.fields(server, fields, filter: "tcp.flags.syn == 1") == ["0\t1460\t1", "1\t8961\t1"])
        #expect(try TShark.fields(lambda, fields, filter: "tcp.flags.syn == 1") == ["0\t1460\t1", "1\t8460\t1"])
        let comments = try TShark.fields(out + "/all-hops.pcapng", ["frame.comment"], filter: "tcp.flags.syn == 1")
        #expect(comments.contains { $0.contains("MSS 8961 clamped to 8460") }, "\(comments)")
    }
}
