import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// `vpcsim import aws` of a dump with a transit gateway: three VPCs on one gateway (describe-transit-gateways,
/// -attachments, -vpc-attachments, -route-tables, a propagations file and search-transit-gateway-routes per route
/// table) import as `transit_gateways:` without warnings, and a trace crosses the gateway.
@Suite struct TransitGatewayImportTests {
    static let dir = Fixtures.path("aws-json/synthetic/tgw")
    static let tgw = "tgw-0123456789abcdef0"
    static let spokes = "tgw-rtb-0a1a1a1a1a1a1a1a1", shared = "tgw-rtb-0c2c2c2c2c2c2c2c2"
    static let attA = "tgw-attach-0aaaaaaaaaaaaaaa1", attB = "tgw-attach-0bbbbbbbbbbbbbbb1"
    static let attC = "tgw-attach-0ccccccccccccccc1"

    /// The fixture's files, `change` applied to the one named `file` (the JSON text).
    static func files(_ file: String? = nil, _ change: (String) -> String = { $0 }) throws -> [(path: String, data: Data)] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted().filter { $0.hasSuffix(".json") }.map { f in
            let text = try String(contentsOfFile: dir + "/" + f, encoding: .utf8)
            return ("dump/" + f, Data((f == file ? change(text) : text).utf8))
        }
    }

    @Test func threeVPCsOnOneGatewayImportWithoutWarningsAndATraceCrossesIt() throws {
        let imported = try AWSImporter.importDirectory(Self.dir)
        // Nothing left out: not the gateway, its attachments, tables or routes, nor its ENIs, nor the VPC routes to it.
        #expect(imported.warnings.isEmpty, "\(imported.warnings)")
        #expect(imported.counts.transitGateways == 1 && imported.counts.tgwAttachments == 3)
        let s = try AWSImportTests.load(imported)
        let m = s.model
        #expect(m.transitGateways.map(\.id) == [Self.tgw] && m.transitGateways[0].name == "hub")
        #expect(m.tgwAttachments.map(\.id) == [Self.attA, Self.attB, Self.attC])
        #expect(m.tgwAttachments.map { $0.subnets.map { m.subnets[$0].id } } == [
            ["subnet-0a00000000000a0f1", "subnet-0a00000000000a0f2"], ["subnet-0b00000000000b0f1"], ["subnet-0c00000000000c0f2"]])
        #expect(m.tgwAttachments.map(\.applianceMode) == [false, false, true])
        #expect(m.tgwAttachments.map { $0.routeTable.map { m.tgwRouteTables[$0].id } } == [Self.spokes, Self.spokes, Self.shared])
        // Propagations: the spokes table's from its propagations file, the shared table's from its propagated routes.
        #expect(m.tgwRouteTables.map { $0.propagations.map { m.tgwAttachments[$0].id } } == [
            [Self.attA, Self.attB, Self.attC], [Self.attA, Self.attB]])
        #expect(m.tgwRouteTables[0].routes == [
            .init(destination: cidr("10.99.0.0/16"), target: .blackhole),
            .init(destination: cidr("10.200.0.0/16"), target: .attachment(2))])
        #expect(m.tgwRouteTables[1].routes.isEmpty)
        let rtA = try #require(m.routeTables.first { $0.id == "rtb-0a00000000000a0a1" })
        #expect(rtA.routes.contains(Route(destination: cidr("10.0.0.0/8"), target: .transitGateway(0))))

        // spoke-a's host → spoke-b's host on 22: through the gateway both ways, by the propagated routes.
        let spec = FlowSpec(name: "ssh", source: .instance(0), sourceLabel: "instance spoke-a-host",
                            destination: AWSImportTests.to("10.2.1.20", 22), app: .tcp, size: 2_000)
        let r = AWSImportTests.run(s, spec)
        #expect(r.outcome == .ok, "\(r)")
        #expect(r.requestPath.contains { $0.kind == .transitGatewayRoute && $0.component == Self.spokes
            && $0.rule == "10.2.0.0/16 → \(Self.attB) (vpc) (propagated)" }, "\(r.requestPath)")
        #expect(r.replyPath.contains { $0.kind == .transitGatewayRoute && $0.component == Self.spokes
            && $0.rule == "10.1.0.0/16 → \(Self.attA) (vpc) (propagated)" }, "\(r.replyPath)")
        // The imported blackhole route drops at the gateway.
        let dropped = AWSImportTests.run(s, FlowSpec(name: "bh", source: .instance(0), sourceLabel: "instance spoke-a-host",
                                                     destination: AWSImportTests.to("10.99.1.1", 22), app: .tcp, size: 100))
        #expect(dropped.drop?.component == Self.spokes && dropped.drop?.rule == "10.99.0.0/16 → blackhole", "\(dropped)")
    }

    /// search-transit-gateway-routes prints no route-table id: a file whose path names none is ignored, said so.
    @Test func routesFileWhosePathNamesNoRouteTableIsIgnoredWithAWarning() throws {
        var files = try Self.files()
        let i = try #require(files.firstIndex { $0.path.hasSuffix("search-transit-gateway-routes-\(Self.spokes).json") })
        files[i].path = "dump/routes-spokes.json"
        let imported = try AWSImporter.importFiles(files, directory: "dump")
        #expect(imported.warnings.contains { $0.kind == .unrecognisedFile && $0.id == "dump/routes-spokes.json"
            && $0.message.contains("names no route table (tgw-rtb-…)") }, "\(imported.warnings)")
        let m = try AWSImportTests.load(imported).model
        #expect(m.tgwRouteTables[0].routes.isEmpty && m.tgwRouteTables[0].propagations.count == 3)
    }

    /// `Type` is a word in a transit gateway route and an integer in a NACL entry's ICMP type/code: each checked
    /// as what it is there.
    @Test func typeIsCheckedAsAWordInTGWRoutesAndAsAnIntegerInICMPTypeCode() throws {
        #expect(throws: AWSDumpValueError(file: "dump/describe-network-acls.json",
                                          path: "NetworkAcls[0].Entries[0].IcmpTypeCode.Type",
                                          message: "expected an integer, found the string 'static'")) {
            _ = try AWSImporter.importFiles(try Self.files("describe-network-acls.json") {
                $0.replacingOccurrences(of: #""CidrBlock": "0.0.0.0/0","#,
                                        with: #""CidrBlock": "0.0.0.0/0", "IcmpTypeCode": {"Type": "static", "Code": 0},"#)
            }, directory: "dump")
        }
        #expect(throws: AWSDumpValueError(file: "dump/search-transit-gateway-routes-\(Self.shared).json",
                                          path: "Routes[0].Type", message: "expected a string, found the number 3")) {
            _ = try AWSImporter.importFiles(try Self.files("search-transit-gateway-routes-\(Self.shared).json") {
                $0.replacingOccurrences(of: #""Type": "propagated""#, with: #""Type": 3"#)
            }, directory: "dump")
        }
    }

    /// A VPN attachment is not modelled: said once, and the static route to it is a blackhole route.
    @Test func aVPNAttachmentIsLeftOutAndRoutesToItAreBlackholes() throws {
        let vpn = "tgw-attach-0dddddddddddddd01"
        var files = try Self.files("describe-transit-gateway-attachments.json") {
            $0.replacingOccurrences(of: #"    "TransitGatewayAttachments": ["#, with: """
                    "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "\(vpn)", "TransitGatewayId": "\(Self.tgw)",
                     "ResourceType": "vpn", "ResourceId": "vpn-0123456789abcdef0", "State": "available",
                     "Association": {"TransitGatewayRouteTableId": "\(Self.shared)", "State": "associated"}},
                """)
        }
        let i = try #require(files.firstIndex { $0.path.hasSuffix("search-transit-gateway-routes-\(Self.shared).json") })
        files[i].data = Data(#"{"Routes": [{"DestinationCidrBlock": "192.168.0.0/16", "Type": "static", "State": "active", "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "\#(vpn)", "ResourceType": "vpn"}]}]}"#.utf8)
        let imported = try AWSImporter.importFiles(files, directory: "dump")
        #expect(imported.warnings.map(\.description) == [
            "\(vpn): vpn attachment of \(Self.tgw) (vpn-0123456789abcdef0), whose VPN connection is not imported (add "
                + "describe-vpn-connections and describe-customer-gateways); routes to it are imported as blackhole "
                + "[missing-reference]"])
        let m = try AWSImportTests.load(imported).model
        #expect(m.tgwRouteTables[1].routes == [.init(destination: cidr("192.168.0.0/16"), target: .blackhole)])
        #expect(imported.yaml.contains("- {destination: 192.168.0.0/16, target: blackhole}  # was \(vpn) (vpn attachment, not modelled)"))
    }

    /// A dump with a Site-to-Site VPN connection that ends at the transit gateway (describe-vpn-connections
    /// TransitGatewayId, the gateway's vpn attachment naming it): a `type: vpn` attachment, the connection without a
    /// virtual private gateway; a static connection keeps its static routes, a BGP one takes the prefixes the
    /// gateway's route tables propagate from the attachment. No warnings; the route table's route leads into it.
    @Test func aVPNConnectionAtTheGatewayImportsAsAVPNAttachment() throws {
        let vpn = "tgw-attach-0dddddddddddddd01", bgpAttachment = "tgw-attach-0dddddddddddddd02"
        var files = try Self.files("describe-transit-gateway-attachments.json") {
            $0.replacingOccurrences(of: #"    "TransitGatewayAttachments": ["#, with: """
                    "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "\(vpn)", "TransitGatewayId": "\(Self.tgw)",
                     "ResourceType": "vpn", "ResourceId": "vpn-0123456789abcdef0", "State": "available",
                     "Association": {"TransitGatewayRouteTableId": "\(Self.shared)", "State": "associated"}},
                     {"TransitGatewayAttachmentId": "\(bgpAttachment)", "TransitGatewayId": "\(Self.tgw)",
                     "ResourceType": "vpn", "ResourceId": "vpn-0123456789abcdef1", "State": "available"},
                """)
        }
        let i = try #require(files.firstIndex { $0.path.hasSuffix("search-transit-gateway-routes-\(Self.shared).json") })
        files[i].data = Data(#"""
            {"Routes": [{"DestinationCidrBlock": "192.168.0.0/16", "Type": "static", "State": "active", "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "\#(vpn)", "ResourceType": "vpn"}]},
                        {"DestinationCidrBlock": "172.20.0.0/16", "Type": "propagated", "State": "active", "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "\#(bgpAttachment)", "ResourceType": "vpn"}]}]}
            """#.utf8)
        files.append(("dump/describe-customer-gateways.json", Data(#"""
            {"CustomerGateways": [{"BgpAsn": "65000", "CustomerGatewayId": "cgw-0c300000000000051", "IpAddress": "198.51.100.10", "State": "available", "Type": "ipsec.1"}]}
            """#.utf8)))
        files.append(("dump/describe-vpn-connections.json", Data(#"""
            {"VpnConnections": [
              {"VpnConnectionId": "vpn-0123456789abcdef0", "CustomerGatewayId": "cgw-0c300000000000051", "TransitGatewayId": "\#(Self.tgw)",
               "State": "available", "Type": "ipsec.1", "Options": {"StaticRoutesOnly": true},
               "Routes": [{"DestinationCidrBlock": "192.168.0.0/16", "Source": "Static", "State": "available"}],
               "VgwTelemetry": [{"OutsideIpAddress": "34.192.10.1", "Status": "UP"}, {"OutsideIpAddress": "52.1.20.2", "Status": "UP"}]},
              {"VpnConnectionId": "vpn-0123456789abcdef1", "CustomerGatewayId": "cgw-0c300000000000051", "TransitGatewayId": "\#(Self.tgw)",
               "State": "available", "Type": "ipsec.1", "Options": {"StaticRoutesOnly": false}}]}
            """#.utf8)))
        let imported = try AWSImporter.importFiles(files, directory: "dump")
        #expect(imported.warnings.map(\.description) == [])
        #expect(imported.yaml.contains("      - {id: \(vpn), type: vpn, vpn_connection: vpn-0123456789abcdef0}\n"))
        #expect(imported.yaml.contains("  - {id: vpn-0123456789abcdef0, customer_gateway: cgw-0c300000000000051, "
                                       + "static_routes_only: true, static_routes: [192.168.0.0/16], tunnels: [34.192.10.1, "
                                       + "52.1.20.2], active_tunnel: 1}\n"))
        #expect(imported.yaml.contains("  - {id: vpn-0123456789abcdef1, customer_gateway: cgw-0c300000000000051, "
                                       + "static_routes_only: false, bgp_prefixes: [172.20.0.0/16]}\n"))
        let m = try AWSImportTests.load(imported).model
        let a = try #require(m.tgwAttachments.firstIndex { $0.id == vpn })
        let c = try #require(m.vpnConnections.firstIndex { $0.id == "vpn-0123456789abcdef0" })
        #expect(m.tgwAttachments[a].vpnConnection == c)
        #expect(m.tgwAttachments[a].routeTable == m.tgwRouteTables.firstIndex { $0.id == Self.shared })
        let shared = try #require(m.tgwRouteTables.first { $0.id == Self.shared })
        #expect(shared.routes == [.init(destination: cidr("192.168.0.0/16"), target: .attachment(a))])
        let b = try #require(m.tgwAttachments.firstIndex { $0.id == bgpAttachment })
        #expect(shared.propagations.contains(b))
        // The VPC attachments' ENIs keep their ids and addresses (describe-network-interfaces), as flow logs name them.
        let spokeA = try #require(m.tgwAttachments.first { $0.id == Self.attA })
        #expect(spokeA.eniIDs == ["eni-0a00000000000f0a1", "eni-0a00000000000f0a2"])
        #expect(spokeA.eniAddresses.map(\.description) == ["10.1.255.5", "10.1.255.20"])
    }
}
