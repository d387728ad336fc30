import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// A static Site-to-Site VPN connection at a transit gateway: describe-vpn-connections lists no routes for it
/// (its routes are the gateway's static routes to its vpn attachment, TGW-UG tgw-vpn-attachments), so
/// `vpcsim import aws` takes them from the gateway's route tables, as `vpcsim import terraform` does from the
/// plan's aws_ec2_transit_gateway_route resources.
@Suite struct TGWStaticVPNImportTests {
    static let vpn = "tgw-attach-0dddddddddddddd01"

    /// The transit gateway fixture (TransitGatewayImportTests) with a vpn attachment associated with the shared
    /// route table, whose routes are `routes` (search-transit-gateway-routes entries), and its connection, with
    /// `options` (Routes empty).
    static func files(routes: String, options: String) throws -> [(path: String, data: Data)] {
        let tgw = TransitGatewayImportTests.tgw, shared = TransitGatewayImportTests.shared
        var files = try TransitGatewayImportTests.files("describe-transit-gateway-attachments.json") {
            $0.replacingOccurrences(of: #"    "TransitGatewayAttachments": ["#, with: """
                    "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "\(vpn)", "TransitGatewayId": "\(tgw)",
                     "ResourceType": "vpn", "ResourceId": "vpn-0123456789abcdef0", "State": "available",
                     "Association": {"TransitGatewayRouteTableId": "\(shared)", "State": "associated"}},
                """)
        }
        let i = try #require(files.firstIndex { $0.path.hasSuffix("search-transit-gateway-routes-\(shared).json") })
        files[i].data = Data(#"{"Routes": [\#(routes)]}"#.utf8)
        files.append(("dump/describe-customer-gateways.json", Data(#"""
            {"CustomerGateways": [{"BgpAsn": "65000", "CustomerGatewayId": "cgw-0c300000000000051", "IpAddress": "198.51.100.10", "State": "available", "Type": "ipsec.1"}]}
            """#.utf8)))
        files.append(("dump/describe-vpn-connections.json", Data(#"""
            {"VpnConnections": [
              {"VpnConnectionId": "vpn-0123456789abcdef0", "CustomerGatewayId": "cgw-0c300000000000051", "TransitGatewayId": "\#(tgw)",
               "State": "available", "Type": "ipsec.1", "Options": \#(options), "Routes": [],
               "VgwTelemetry": [{"OutsideIpAddress": "34.192.10.1", "Status": "UP"}, {"OutsideIpAddress": "52.1.20.2", "Status": "UP"}]}]}
            """#.utf8)))
        return files
    }

    /// Static routes 192.168.0.0/16 and 10.99.0.0/16 lead into the attachment; the connection is StaticRoutesOnly.
    /// Fails without the copy: `static_routes: []`.
    @Test func aStaticConnectionTakesTheGatewaysStaticRoutesToItsAttachment() throws {
        let route = #"{"DestinationCidrBlock": "%@", "Type": "static", "State": "active", "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "\#(Self.vpn)", "ResourceType": "vpn"}]}"#
        let files = try Self.files(routes: ["192.168.0.0/16", "10.99.0.0/16"].map { route.replacingOccurrences(of: "%@", with: $0) }
                                       .joined(separator: ", "),
                                   options: #"{"StaticRoutesOnly": true}"#)
        let imported = try AWSImporter.importFiles(files, directory: "dump")
        #expect(imported.warnings.map(\.description) == [])
        #expect(imported.yaml.contains("  - {id: vpn-0123456789abcdef0, customer_gateway: cgw-0c300000000000051, "
                                       + "static_routes_only: true, static_routes: [192.168.0.0/16, 10.99.0.0/16], "
                                       + "tunnels: [34.192.10.1, 52.1.20.2], active_tunnel: 1}\n"), "\(imported.yaml)")
        let m = try AWSImportTests.load(imported).model
        let c = try #require(m.vpnConnections.first { $0.id == "vpn-0123456789abcdef0" })
        #expect(c.prefixes.map(\.description) == ["192.168.0.0/16", "10.99.0.0/16"])
    }
}
