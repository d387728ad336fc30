import Foundation
import TestSupport
import Testing

/// `vpcsim import terraform` of a plan with Site-to-Site VPN (Tests/Fixtures/terraform/synthetic/
/// vpn-static-and-bgp_create.json, hand-made): a static-routing connection whose gateway a route table propagates
/// (`propagating_vgws`), and a BGP one on a gateway attached by aws_vpn_gateway_attachment and propagated by
/// aws_vpn_gateway_route_propagation. A trace toward the on-premises network goes into the VPN.
@Suite struct TerraformVPNCLITests {
    static let plan = "Tests/Fixtures/terraform/synthetic/vpn-static-and-bgp_create.json"

    /// The id the plan's resource `address` was given (from the scenario's `invented:` list).
    static func invented(_ yaml: String, _ what: String) throws -> String {
        let line = try #require(yaml.split(separator: "\n").first { $0.contains("{of: \"\(what)\", value: \"") })
        return String(try #require(line.components(separatedBy: "value: \"").last?.prefix { $0 != "\"" }))
    }

    @Test func theVPNResourcesImportAndATraceToOnPremisesGoesIntoTheTunnel() throws {
        let (net, yaml, stderr) = try TerraformCLITests.importPlan("synthetic/vpn-static-and-bgp_create.json")
        // Nothing left out as unsupported or not modeled.
        #expect(!stderr.contains("not modeled by the simulator") && !stderr.contains("[not-modelled]"), "\(stderr)")
        #expect(stderr.contains("2 VPN connections"))
        let corp = try Self.invented(yaml, "aws_vpn_gateway.corp.id"), data = try Self.invented(yaml, "aws_vpn_gateway.data.id")
        let cgw = try Self.invented(yaml, "aws_customer_gateway.datacentre.id")
        let vpn = try Self.invented(yaml, "aws_vpn_connection.datacentre.id")
        let tunnel1 = try Self.invented(yaml, "aws_vpn_connection.datacentre.tunnel1_address")
        let tunnel2 = try Self.invented(yaml, "aws_vpn_connection.datacentre.tunnel2_address")
        let appVPC = try Self.invented(yaml, "aws_vpc.app.id"), dataVPC = try Self.invented(yaml, "aws_vpc.data.id")
        #expect(tunnel1.hasPrefix("192.0.2.") && tunnel2.hasPrefix("192.0.2.") && tunnel1 != tunnel2)
        // The gateway of `vpc_id` and the one of an aws_vpn_gateway_attachment; amazon_side_asn and bgp_asn are
        // strings in the plan.
        #expect(yaml.contains("  - {id: \(corp), name: \"corp-vgw\", vpc: \(appVPC), amazon_side_asn: 64512}"))
        #expect(yaml.contains("  - {id: \(data), name: \"data-vgw\", vpc: \(dataVPC)}"))
        #expect(yaml.contains("  - {id: \(cgw), name: \"datacentre\", ip_address: 198.51.100.10, bgp_asn: 65000}"))
        // Static routing: the aws_vpn_connection_route; BGP: no prefix (the plan cannot know them), said once.
        #expect(yaml.contains("  - {id: \(vpn), name: \"datacentre-vpn\", vpn_gateway: \(corp), customer_gateway: \(cgw), "
            + "static_routes_only: true, static_routes: [172.16.0.0/16], tunnels: [\(tunnel1), \(tunnel2)], active_tunnel: 1}"))
        #expect(yaml.contains("name: \"branch-vpn\", vpn_gateway: \(data), customer_gateway: \(cgw), static_routes_only: false, bgp_prefixes: []"))
        #expect(stderr.contains("aws_vpn_connection.branch: BGP connection: the prefixes the customer gateway advertises are not in a plan"))
        // Propagation: propagating_vgws and aws_vpn_gateway_route_propagation; the static route to the gateway.
        #expect(yaml.contains("    propagating_vgws: [\(corp)]\n"))
        #expect(yaml.contains("    propagating_vgws: [\(data)]\n"))
        #expect(yaml.contains("      - {destination: 192.168.0.0/16, target: \(data)}"))

        let dir = makeTempDirectory("tf-vpn-trace")
        let t = try vpcsim(["trace", net, "--from", "app_1", "--to", "172.16.5.5:22", "--expect", "ok", "--out", dir])
        #expect(t.status == 0, "\(t.stdout)\(t.stderr)")
        #expect(t.stdout.contains("(app-rt) route: 172.16.0.0/16 → \(corp) (propagated)"))
        #expect(t.stdout.contains("\(corp) (corp-vgw) vpn-gateway: 172.16.0.0/16 → \(vpn) (static route)"))
        #expect(t.stdout.contains("\(vpn) (datacentre-vpn) vpn-connection: tunnel 1 (\(tunnel1)) → \(cgw) (datacentre)"))
        // The tunnel's capture holds the trace's packets; the invented tunnel address is among the assumptions.
        let pcaps = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("-vpn-datacentre-vpn-") && $0.hasSuffix(".pcap") }
        #expect(pcaps.count == 1)
        let assumptions = try #require(t.stdout.components(separatedBy: "ASSUMPTIONS").last)
        #expect(assumptions.contains("aws_vpn_connection.datacentre.tunnel1_address"))
    }
}
