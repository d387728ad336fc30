import Foundation
import TestSupport
import Testing

/// `vpcsim import aws` of two VPCs with virtual private gateways, propagated routes, VPN connections (one static,
/// one BGP) and customer gateways (Tests/Fixtures/aws-json/synthetic/vpn): nothing "not modelled", and traces
/// toward on-premises addresses go into the VPN.
@Suite struct ImportVPNCLITests {
    static let dump = "Tests/Fixtures/aws-json/synthetic/vpn"

    @Test func theVPNImportsWithoutWarningsAndAnOnPremisesTraceGoesIntoTheTunnel() throws {
        let dir = makeTempDirectory("vpcsim-import-vpn")
        let out = dir + "/vpn.yaml"
        let r = try vpcsim(["import", "aws", Self.dump, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("warning:"), "\(r.stderr)")
        #expect(r.stderr.contains("2 VPN connections"))
        let yaml = try String(contentsOfFile: out, encoding: .utf8)
        #expect(yaml.contains("    propagating_vgws: [vgw-0a100000000000041]"))
        // Static routing: the connection's static routes; BGP: the prefixes its gateway propagated; the table's
        // static route beside a propagated one of the same prefix stays, and the propagated routes are not
        // written as the table's own.
        #expect(yaml.contains("static_routes_only: true, static_routes: [172.16.0.0/16, 172.17.0.0/16], tunnels: "
            + "[34.192.10.1, 52.1.20.2], active_tunnel: 2}"))
        #expect(yaml.contains("static_routes_only: false, bgp_prefixes: [192.168.0.0/16, 192.168.50.0/24]"))
        #expect(yaml.contains("      - {destination: 192.168.0.0/16, target: vgw-0b200000000000042}"))
        #expect(!yaml.contains("destination: 172.16.0.0/16"))
        #expect(try vpcsim(["validate", out]).status == 0)

        // From VPC app to an address of the static connection: by the propagated route into tunnel 2 (the one UP).
        let t = try vpcsim(["trace", out, "--from", "app-1", "--to", "172.16.5.5:22", "--out", dir + "/t"])
        #expect(t.status == 0, "\(t.stderr)\(t.stdout)")
        #expect(t.stdout.contains("rtb-0a100000000000031 (app-main) route: 172.16.0.0/16 → vgw-0a100000000000041 (propagated)"))
        #expect(t.stdout.contains("vpn-0d400000000000061 (london-vpn) vpn-connection: tunnel 2 (52.1.20.2) → "
            + "cgw-0c300000000000051 (london-dc)"))
        // From VPC data to a BGP prefix: its longest match is the propagated /24, not the static /16.
        let b = try vpcsim(["trace", out, "--from", "data-1", "--to", "192.168.50.7:443", "--out", dir + "/b"])
        #expect(b.status == 0, "\(b.stderr)\(b.stdout)")
        #expect(b.stdout.contains("route: 192.168.50.0/24 → vgw-0b200000000000042 (propagated)"))
        #expect(b.stdout.contains("vgw-0b200000000000042 (data-vgw) vpn-gateway: 192.168.50.0/24 → vpn-0d400000000000062 (BGP)"))
        // The tunnel's capture holds the trace's packets.
        let pcaps = try FileManager.default.contentsOfDirectory(atPath: dir + "/t").filter { $0.contains("vpn-london-vpn") && $0.hasSuffix(".pcap") }
        #expect(pcaps.count == 1)
    }

    /// Without the VPN calls in the dump, the propagation and the propagated routes are what the import says it
    /// leaves out.
    @Test func withoutTheVPNCallsThePropagationIsLeftOutWithAWarning() throws {
        let dir = makeTempDirectory("vpcsim-import-novpn")
        for f in try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/" + Self.dump)
        where f.hasSuffix(".json") && !f.contains("vpn") && !f.contains("customer") {
            try FileManager.default.copyItem(atPath: repositoryRoot + "/" + Self.dump + "/" + f, toPath: dir + "/" + f)
        }
        let r = try vpcsim(["import", "aws", dir, "--out", dir + "/x.yaml"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("rtb-0a100000000000031: route propagation from vgw-0a100000000000041, a virtual "
            + "private gateway not in the dump"))
    }
}
