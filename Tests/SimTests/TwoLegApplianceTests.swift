import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Instances with several network interfaces (scenarios/appliance-two-legs.yaml): a firewall forwards out of the
/// interface whose subnet holds the destination, past that interface's check, security groups and subnet;
/// gateway route tables on the internet gateway and on the virtual private gateway send inbound traffic to it.
@Suite struct TwoLegApplianceTests {
    static let path = repositoryRoot + "/scenarios/appliance-two-legs.yaml"
    static var text: String { get throws { try String(contentsOfFile: path, encoding: .utf8) } }

    static func run(_ text: String, out: String? = nil) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "appliance-two-legs.yaml", out: out)
    }

    static func loadError(_ text: String) -> String? {
        do {
            _ = try ScenarioLoader.load(yaml: text, file: "a.yaml")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func theFirewallForwardsBetweenItsTwoInterfacesBothWays() throws {
        let out = makeTempDirectory("vpcsim-two-legs")
        let o = try Self.run(try Self.text, out: out)
        #expect(o.exitCode == 0, "\(o.text)")
        let flows = o.report.flows
        #expect(flows.map(\.outcome) == ["ok", "ok", "timeout"])

        // From the internet: the IGW's table sends it to fw-a, which saw the SYN and forwards the SYN-ACK.
        let web = flows[0]
        #expect(web.hops.contains { $0.component == "rtb-0d000000000000014" && $0.rule.contains("10.0.1.0/24") })
        #expect(web.hops.first { $0.step == "appliance" }?.rule == "forwarded (new connection)")
        #expect(web.reply_hops.first { $0.step == "appliance" }?.rule == "forwarded (connection it saw open)")
        #expect(web.reply_hops.contains { $0.component == "rtb-0d000000000000011" && $0.rule.contains("0.0.0.0/0") })

        // The SYN arrives at the outside interface and leaves by the inside one, one hop further; the SYN-ACK the
        // other way round.
        func capture(_ part: String) throws -> String {
            out + "/" + (try #require(o.report.captures.first { $0.name.contains(part) })).file
        }
        let m = try ScenarioLoader.load(path: Self.path).model
        let fwa = try #require(m.instances.first { $0.name == "fw-a" })
        let outside = try capture("instance-fw-a-\(m.enis[fwa.eni].id)")
        let inside = try capture("instance-fw-a-eni-0d00000000000a001")
        let syn = "tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == 192.0.2.50 && ip.dst == 10.0.1.20"
        let synAck = "tcp.flags.syn == 1 && tcp.flags.ack == 1 && ip.src == 10.0.1.20 && ip.dst == 192.0.2.50"
        let synOutside = try TShark.fields(outside, ["ip.ttl"], filter: syn)
        let synInside = try TShark.fields(inside, ["ip.ttl"], filter: syn)
        #expect(synOutside.count == 1 && synInside.count == 1)
        #expect(Int(synOutside.first ?? "") == (Int(synInside.first ?? "") ?? 0) + 1)
        #expect(try TShark.fields(inside, ["ip.ttl"], filter: synAck) == ["64"])
        #expect(try TShark.fields(outside, ["ip.ttl"], filter: synAck) == ["63"])

        // Flow logs per interface: the inside one logs the request leaving and the reply arriving.
        let records = try #require(o.flowLogRecords).filter { $0.interfaceID == "eni-0d00000000000a001" && $0.proto == 6 }
        #expect(records.contains { $0.direction == .egress && $0.dstaddr == IPv4Address("10.0.1.20") && $0.action == .accept })
        #expect(records.contains { $0.direction == .ingress && $0.srcaddr == IPv4Address("10.0.1.20") && $0.action == .accept })

        // From on-premises: the VGW's table sends it to fw-a; the reply leaves by fw-a's outside interface to the VGW.
        let vpn = flows[1]
        #expect(vpn.hops.contains { $0.component == "rtb-0d000000000000015" && $0.rule.contains("10.0.1.0/24") })
        #expect(vpn.hops.contains { $0.step == "appliance" && $0.component == "i-0d0000000000000fwa" })
        #expect(vpn.reply_hops.contains { $0.step == "appliance" && $0.component == "i-0d0000000000000fwa" })
        #expect(vpn.reply_hops.contains { $0.component == "rtb-0d000000000000011" && $0.rule.contains("172.16.0.0/16") })

        // fw-b's inside interface keeps its check on: it drops what fw-b forwards out of it; the fix is verified.
        let api = flows[2]
        let drop = try #require(api.drop)
        #expect(drop.kind == "appliance" && drop.component == "i-0d0000000000000fwb")
        #expect(drop.rule == "source/destination check of eni-0d00000000000b001: source 192.0.2.50 is not 10.0.2.5")
        let fix = try #require(api.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["disable source/destination check of eni-0d00000000000b001 (aws ec2 "
            + "modify-network-interface-attribute --network-interface-id eni-0d00000000000b001 --no-source-dest-check)"])
    }

    @Test func withTheInsideCheckOffTheSecondFirewallForwardsToo() throws {
        let text = ScenarioText.replacing(try Self.text, "        security_groups: [fw-sg]          # source_dest_check left on",
                                          "        source_dest_check: false\n        security_groups: [fw-sg]          #")
        let o = try Self.run(ScenarioText.replacing(text, "expect: {outcome: timeout, dropped_at: fw-b}",
                                                    "expect: {outcome: ok, no_drop: true}"))
        #expect(o.report.flows[2].outcome == "ok", "\(o.text)")
    }

    @Test func leavingByTheArrivalInterfaceLoopsTheReplyUntilItsTTLRunsOut() throws {
        // With `arrival`, the SYN leaves fw-a by its outside interface (and reaches web by the local route); web's
        // reply, routed to the inside interface, leaves by it again, into web's table and back to it.
        var text = ScenarioText.replacing(try Self.text, "seed: 1\n", "seed: 1\nassumptions: {appliance_egress_interface: arrival}\n")
        text = ScenarioText.replacing(text, "    to: 203.0.113.20:443\n    app: https\n    expect: {outcome: ok, no_drop: true}",
                                      "    to: 203.0.113.20:443\n    app: https\n    expect: {outcome: timeout}")
        let o = try Self.run(text)
        let f = o.report.flows[0]
        #expect(f.outcome == "timeout")
        #expect(f.drop?.rule == "TTL exceeded in transit" && f.drop?.component == "i-0d0000000000000fwa")
        #expect(o.report.assumptions.contains { $0.name == "appliance_egress_interface" && $0.value == "arrival" })
    }

    @Test func badInterfacesAreOneLineErrorsAtTheirPlace() throws {
        let base = try Self.text
        let zone = ScenarioText.replacing(base, "    cidr: 10.0.2.0/24\n    availability_zone: us-east-1a",
                                          "    cidr: 10.0.2.0/24\n    availability_zone: us-east-1b")
        let cases: [(String, String)] = [
            (zone, "is in subnet subnet-0d000000000000033 in us-east-1b, but the instance is in us-east-1a"),
            (ScenarioText.replacing(base, "        private_ip: 10.0.1.5\n", "        private_ip: 10.0.1.20\n"),
             "private_ip 10.0.1.20 is already used by instance i-0d000000000000web"),
            (ScenarioText.replacing(base, "      - id: eni-0d00000000000a001", "      - id: nic-0d00000000000a001"),
             "network interface id 'nic-0d00000000000a001' must start with 'eni-'"),
            (ScenarioText.replacing(base, "      - id: eni-0d00000000000b001", "      - id: eni-0d00000000000a001"),
             "duplicate id eni-0d00000000000a001"),
            (ScenarioText.replacing(base, "    gateway: corp-vgw ", "    gateway: corp-vgx "),
             "gateway corp-vgx is neither an internet gateway nor a virtual private gateway of the scenario"),
            (ScenarioText.replacing(base, "    gateway: corp-vgw ", "    propagating_vgws: [corp-vgw]\n    gateway: corp-vgw "),
             "route table rtb-0d000000000000015 propagates routes (propagating_vgws), so it cannot be associated with "
                + "vgw-0d000000000000041"),
        ]
        for (text, message) in cases {
            let e = try #require(Self.loadError(text), "\(message)")
            #expect(e.hasPrefix("a.yaml:") && e.contains(message) && !e.contains("\n"), "\(e)")
        }
    }
}

/// `vpcsim import aws`: an instance with several attached network interfaces is one instance with
/// `network_interfaces`, a route to its second interface targets that interface, and a route table associated with
/// a virtual private gateway is a gateway route table.
@Suite struct TwoLegApplianceImportTests {
    static func copy(_ fixture: String) throws -> String {
        let dir = makeTempDirectory("vpcsim-import-enis")
        let source = Fixtures.path(fixture)
        for f in try FileManager.default.contentsOfDirectory(atPath: source) where f.hasSuffix(".json") {
            try FileManager.default.copyItem(atPath: source + "/" + f, toPath: dir + "/" + f)
        }
        return dir
    }

    static func edit(_ path: String, _ change: (inout [String: Any]) throws -> Void) throws {
        var j = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        try change(&j)
        try JSONSerialization.data(withJSONObject: j, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
    }

    @Test func anInstanceWithTwoAttachedInterfacesIsOneInstanceWithNetworkInterfaces() throws {
        let dir = try Self.copy("aws-json/synthetic/full")
        try Self.edit(dir + "/describe-network-interfaces.json") { j in
            var list = try #require(j["NetworkInterfaces"] as? [[String: Any]])
            let primary = try #require(list.first { $0["NetworkInterfaceId"] as? String == "eni-0b0b0b0b0b0b0b0b1" })
            list.append([
                "NetworkInterfaceId": "eni-0f0f0f0f0f0f0f0f2", "SubnetId": "subnet-0ff66aa77bb88cc99",
                "AvailabilityZone": "us-east-1a", "VpcId": "vpc-0a1b2c3d4e5f60718", "PrivateIpAddress": "10.0.2.15",
                "InterfaceType": "interface", "Status": "in-use", "SourceDestCheck": false,
                "Groups": primary["Groups"] as Any,
                "Attachment": ["InstanceId": "i-0123456789abcdef0", "DeviceIndex": 1, "Status": "attached"],
            ])
            j["NetworkInterfaces"] = list
        }
        try Self.edit(dir + "/describe-route-tables.json") { j in
            var tables = try #require(j["RouteTables"] as? [[String: Any]])
            var routes = try #require(tables[0]["Routes"] as? [[String: Any]])
            routes.append(["DestinationCidrBlock": "10.0.2.128/25", "InstanceId": "i-0123456789abcdef0",
                           "NetworkInterfaceId": "eni-0f0f0f0f0f0f0f0f2", "Origin": "CreateRoute", "State": "active"])
            tables[0]["Routes"] = routes
            j["RouteTables"] = tables
        }
        let imported = try AWSImporter.importDirectory(dir)
        #expect(imported.yaml.contains("network_interfaces: [{id: eni-0f0f0f0f0f0f0f0f2, subnet: subnet-0ff66aa77bb88cc99, "
                                       + "private_ip: 10.0.2.15, source_dest_check: false"), "\(imported.yaml)")
        #expect(!imported.warnings.contains { $0.id == "eni-0f0f0f0f0f0f0f0f2" })
        let m = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml").model
        let k = try #require(m.instances.firstIndex { $0.id == "i-0123456789abcdef0" })
        let i = m.instances[k]
        #expect(i.secondaryENIs.count == 1 && i.secondarySourceDestCheck == [false])
        let e = m.enis[i.secondaryENIs[0]]
        #expect(e.id == "eni-0f0f0f0f0f0f0f0f2" && e.privateIP == IPv4Address("10.0.2.15") && e.owner == .instance(k))
        // The primary keeps its check; the instance forwards (a router) through the interface whose check is off.
        #expect(i.sourceDestCheck && i.forwarding == .router)
        let dest = try IPv4CIDR(parsing: "10.0.2.128/25")
        let route = try #require(m.routeTables.flatMap(\.routes).first { $0.destination == dest })
        #expect(route.target == Route.Target.networkInterface(i.secondaryENIs[0]))
    }

    @Test func aRouteTableAssociatedWithAVirtualPrivateGatewayIsAGatewayRouteTable() throws {
        let dir = try Self.copy("aws-json/synthetic/vpn")
        try Self.edit(dir + "/describe-route-tables.json") { j in
            var tables = try #require(j["RouteTables"] as? [[String: Any]])
            tables.append([
                "RouteTableId": "rtb-0a1000000000000e1", "VpcId": "vpc-0a100000000000001",
                "Associations": [["RouteTableAssociationId": "rtbassoc-0e1", "RouteTableId": "rtb-0a1000000000000e1",
                                  "GatewayId": "vgw-0a100000000000041", "Main": false,
                                  "AssociationState": ["State": "associated"]]],
                "Routes": [["DestinationCidrBlock": "10.10.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable",
                            "State": "active"]],
            ])
            j["RouteTables"] = tables
        }
        let imported = try AWSImporter.importDirectory(dir)
        #expect(imported.yaml.contains("    gateway: vgw-0a100000000000041"), "\(imported.yaml)")
        #expect(!imported.warnings.contains { $0.id == "rtb-0a1000000000000e1" })
        let m = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml").model
        let t = try #require(m.routeTables.first { $0.id == "rtb-0a1000000000000e1" })
        #expect(t.vpnGatewayEdge.map { m.vpnGateways[$0].id } == "vgw-0a100000000000041")
    }
}
