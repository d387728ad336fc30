import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// A transit gateway's VPN connection made with TunnelInsideIpVersion ipv6: `vpcsim import aws` keeps the inner
/// version (`tunnel_inside_ip_version: ipv6`) and takes its IPv6 routes from the gateway's route tables as it does the
/// IPv4 ones of an IPv4 connection (TGWStaticVPNImportTests): a static route to its attachment is a static route of a
/// static connection, a propagated one a BGP prefix with the propagation. The scenario written loads back with them.
@Suite struct TGWVPNIPv6ImportTests {
    static let vpn = TGWStaticVPNImportTests.vpn

    static func files(staticOnly: Bool, type: String) throws -> [(path: String, data: Data)] {
        try TGWStaticVPNImportTests.files(
            routes: #"{"DestinationCidrBlock": "2001:db8:99::/48", "Type": "\#(type)", "State": "active", "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "\#(Self.vpn)", "ResourceType": "vpn"}]}"#,
            options: #"{"StaticRoutesOnly": \#(staticOnly), "TunnelInsideIpVersion": "ipv6"}"#)
    }

    @Test func aStaticIPv6ConnectionKeepsItsInnerVersionAndIPv6Routes() throws {
        let imported = try AWSImporter.importFiles(try Self.files(staticOnly: true, type: "static"), directory: "dump")
        #expect(imported.warnings.map(\.description) == [])
        #expect(imported.yaml.contains("  - {id: vpn-0123456789abcdef0, customer_gateway: cgw-0c300000000000051, "
                                       + "tunnel_inside_ip_version: ipv6, static_routes_only: true, "
                                       + "static_routes: [\"2001:db8:99::/48\"], tunnels: [34.192.10.1, 52.1.20.2], "
                                       + "active_tunnel: 1}\n"), "\(imported.yaml)")
        let m = try AWSImportTests.load(imported).model
        let c = try #require(m.vpnConnections.first { $0.id == "vpn-0123456789abcdef0" })
        #expect(c.insideIPv6 && c.prefixes.isEmpty && c.prefixes6.map(\.description) == ["2001:db8:99::/48"])
    }

    @Test func aBGPIPv6ConnectionTakesThePropagatedIPv6RoutesAsItsPrefixes() throws {
        let imported = try AWSImporter.importFiles(try Self.files(staticOnly: false, type: "propagated"), directory: "dump")
        #expect(imported.yaml.contains("tunnel_inside_ip_version: ipv6, static_routes_only: false, "
                                       + "bgp_prefixes: [\"2001:db8:99::/48\"]"), "\(imported.yaml)")
        let m = try AWSImportTests.load(imported).model
        let c = try #require(m.vpnConnections.first { $0.id == "vpn-0123456789abcdef0" })
        #expect(c.insideIPv6 && c.prefixes6.map(\.description) == ["2001:db8:99::/48"])
        let a = try #require(m.tgwAttachments.firstIndex { $0.id == Self.vpn })
        #expect(m.tgwRouteTables.contains { $0.propagations.contains(a) })
    }
}
