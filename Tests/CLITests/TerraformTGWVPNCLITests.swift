import Foundation
import TestSupport
import Testing

/// A plan whose Site-to-Site VPN connection ends at a transit gateway (Tests/Fixtures/terraform/synthetic/
/// tgw-vpn-attachment_create.json, hand-made): aws_vpn_connection with transit_gateway_id becomes the gateway's VPN
/// attachment, named by the connection's transit_gateway_attachment_id, which the route table association,
/// propagation and static route reference. A trace toward the on-premises network crosses the gateway into the VPN.
@Suite struct TerraformTGWVPNCLITests {
    @Test func theConnectionIsAVPNAttachmentAndATraceGoesIntoIt() throws {
        let (net, yaml, stderr) = try TerraformCLITests.importPlan("synthetic/tgw-vpn-attachment_create.json")
        #expect(!stderr.contains("[not-modelled]") && !stderr.contains("left out"), "\(stderr)")
        let vpn = try TerraformVPNCLITests.invented(yaml, "aws_vpn_connection.branch.id")
        let attach = try TerraformVPNCLITests.invented(yaml, "aws_vpn_connection.branch.transit_gateway_attachment_id")
        let spoke = try TerraformVPNCLITests.invented(yaml, "aws_ec2_transit_gateway_vpc_attachment.spoke.id")
        #expect(attach.hasPrefix("tgw-attach-"))
        #expect(yaml.contains("      - {id: \(attach), name: \"branch-vpn\", type: vpn, vpn_connection: \(vpn)}"), "\(yaml)")
        // No virtual private gateway: the connection is the attachment's.
        #expect(yaml.contains("  - {id: \(vpn), name: \"branch-vpn\", customer_gateway: "))
        #expect(yaml.contains("        associations: [\(spoke), \(attach)]"))
        #expect(yaml.contains("        propagations: [\(spoke), \(attach)]"))
        #expect(yaml.contains("          - {destination: 172.20.0.0/16, target: \(attach)}"))

        let dir = makeTempDirectory("tf-tgw-vpn-trace")
        let t = try vpcsim(["trace", net, "--from", "app", "--to", "172.20.1.5:22", "--expect", "ok", "--out", dir])
        #expect(t.status == 0, "\(t.stdout)\(t.stderr)")
        #expect(t.stdout.contains("route: 172.20.0.0/16 → \(attach) (vpn)"), "\(t.stdout)")
        #expect(t.stdout.contains("\(vpn) (branch-vpn) vpn-connection: tunnel 1"), "\(t.stdout)")
    }

    /// The same plan with `tunnel_inside_ip_version = "ipv6"` on the connection and the gateway's static route to
    /// its attachment an IPv6 one: the connection keeps its inner version and takes that route as its static route
    /// (an IPv4 route to it would be left out of its routes); the scenario written validates.
    @Test func anIPv6InsideConnectionTakesTheGatewaysIPv6StaticRoute() throws {
        var plan = try String(contentsOfFile: TerraformCLITests.dir + "synthetic/tgw-vpn-attachment_create.json", encoding: .utf8)
        plan = plan.replacingOccurrences(of: "\"static_routes_only\": true,",
                                         with: "\"static_routes_only\": true, \"tunnel_inside_ip_version\": \"ipv6\",")
            .replacingOccurrences(of: "172.20.0.0/16", with: "2001:db8:20::/48")
        let dir = makeTempDirectory("tf-tgw-vpn6")
        try plan.write(toFile: dir + "/plan.json", atomically: true, encoding: .utf8)
        let r = try vpcsim(["import", "terraform", dir + "/plan.json", "--out", dir + "/net.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        let yaml = try String(contentsOfFile: dir + "/net.yaml", encoding: .utf8)
        let vpn = try TerraformVPNCLITests.invented(yaml, "aws_vpn_connection.branch.id")
        #expect(yaml.contains("  - {id: \(vpn), name: \"branch-vpn\", customer_gateway: "), "\(yaml)")
        #expect(yaml.contains(", tunnel_inside_ip_version: ipv6, static_routes_only: true, static_routes: [\"2001:db8:20::/48\"], "),
                "\(yaml)")
        let v = try vpcsim(["validate", dir + "/net.yaml"])
        #expect(v.status == 0, "\(v.stderr)")
    }
}
