import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// VPC peering connections between VPCs of one scenario (scenarios/peering-missing-route.yaml): the format and its
/// validation, both directions across the connection with their drop points, no transitive routing, security-group
/// references across it, inter-Region latency, flow logs on both sides and the fix on the peer's side.
@Suite struct PeeringTests {
    static let path = repositoryRoot + "/scenarios/peering-missing-route.yaml"
    static let app = "vpc-0a1b2c3d4e5f60718", files = "vpc-0b2c3d4e5f6071829"
    static let pcx = "pcx-0a1b2c3d4e5f60718"
    static let routeBack = "routes: []                                             # missing: 10.0.0.0/16 → app-files"

    static func yaml() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func replacing(_ text: String, _ pairs: [(String, String)]) -> String {
        var t = text
        for (old, new) in pairs {
            precondition(t.contains(old), "the scenario has \(old)")
            t = t.replacingOccurrences(of: old, with: new)
        }
        return t
    }

    /// The story with the route back through the peering in place.
    static func fixed() throws -> String {
        replacing(try yaml(), [(routeBack, "routes: [{destination: 10.0.0.0/16, target: app-files}]")])
    }

    static func run(_ text: String, out: String? = nil) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "peering.yaml", out: out)
    }

    // MARK: Model and format

    @Test func theModelHoldsTheConnectionAndRoutesToItByNameOrID() throws {
        let s = try loadScenario(try Self.yaml())
        let m = s.model
        #expect(m.peeringConnections.count == 2)
        let c = m.peeringConnections[0]
        #expect(c.id == Self.pcx && c.name == "app-files" && c.isActive && !c.interRegion && c.mtu == 9001)
        #expect(m.vpcs[c.requesterVPC].id == Self.app && m.vpcs[c.accepterVPC].id == Self.files)
        #expect(c.requesterRegion == "us-east-1" && c.accepterRegion == "us-east-1")
        #expect(c.otherVPC(c.requesterVPC) == c.accepterVPC && c.otherVPC(2) == nil)
        #expect(m.activePeering(between: 1, 0) == 0 && m.activePeering(between: 0, 2) == nil)
        let appPrivate = try #require(m.routeTables.first { $0.name == "app-private-rt" })
        #expect(appPrivate.routes.contains(Route(destination: cidr("10.1.0.0/16"), target: .peeringConnection(0))))
        // By id too; a pcx id the scenario does not define stays a peering outside the model.
        let text = Self.replacing(try Self.yaml(), [
            ("{destination: 10.1.0.0/16, target: app-files}", "{destination: 10.1.0.0/16, target: pcx-0a1b2c3d4e5f60718}"),
            ("{destination: 10.2.0.0/16, target: app-files}", "{destination: 10.2.0.0/16, target: pcx-0ffffffffffffffff}"),
        ])
        let routes = try loadScenario(text).model.routeTables[1].routes
        #expect(routes.contains(Route(destination: cidr("10.1.0.0/16"), target: .peeringConnection(0))))
        #expect(routes.contains(Route(destination: cidr("10.2.0.0/16"), target: .peering("pcx-0ffffffffffffffff"))))
    }

    @Test func interRegionConnectionsRecordTheirRegionsAndMTU() throws {
        let text = Self.replacing(try Self.yaml(), [
            ("    accepter_vpc: partner\n", "    accepter_vpc: partner\n    accepter_region: eu-west-1\n    status: pending-acceptance\n"),
        ])
        let c = try loadScenario(text).model.peeringConnections[1]
        #expect(c.interRegion && c.mtu == 8500 && c.accepterRegion == "eu-west-1" && c.requesterRegion == "us-east-1")
        #expect(c.status == "pending-acceptance" && !c.isActive)
    }

    /// Each error is one line at the offending node.
    @Test(arguments: [
        ("    accepter_vpc: files\n", "    accepter_vpc: filez\n", "t.yaml:39:19: VPC filez is not defined (did you mean 'files'?)"),
        ("    accepter_vpc: files\n", "    accepter_vpc: app\n",
         "t.yaml:39:19: peering connection pcx-0a1b2c3d4e5f60718 joins vpc-0a1b2c3d4e5f60718 to itself"),
        ("name: files, cidr_blocks: [10.1.0.0/16]", "name: files, cidr_blocks: [10.0.128.0/20]",
         "t.yaml:39:19: peering connection pcx-0a1b2c3d4e5f60718: vpc-0a1b2c3d4e5f60718 (10.0.0.0/16) and "
            + "vpc-0b2c3d4e5f6071829 (10.0.128.0/20) overlap; AWS does not peer VPCs with overlapping CIDR blocks"),
        ("    requester_vpc: files\n    accepter_vpc: partner\n", "    requester_vpc: files\n    accepter_vpc: app\n",
         "t.yaml:43:19: vpc-0b2c3d4e5f6071829 and vpc-0a1b2c3d4e5f60718 are already peered by pcx-0a1b2c3d4e5f60718 "
            + "(AWS allows one active connection between two VPCs)"),
        ("    accepter_vpc: files\n", "    accepter_vpc: files\n    accepter_region: eu-west-1\n",
         "t.yaml:41:5: peering connection pcx-0b2c3d4e5f6071829 puts vpc-0b2c3d4e5f6071829 in us-east-1, but "
            + "pcx-0a1b2c3d4e5f60718 puts it in eu-west-1"),
        ("    accepter_vpc: files\n", "    accepter_vpc: files\n    status: pending\n",
         "t.yaml:40:13: invalid status 'pending' (expected active, initiating-request, pending-acceptance, "
            + "provisioning, rejected, failed, expired, deleting, deleted)"),
        ("      - {destination: 10.1.0.0/16, target: files-partner}",
         "      - {destination: 10.1.0.0/16, target: app-files}",
         "t.yaml:72:44: route target pcx-0a1b2c3d4e5f60718 joins vpc-0a1b2c3d4e5f60718 and vpc-0b2c3d4e5f6071829, "
            + "not vpc-0c3d4e5f607182930 of route table rtb-0d4e5f60718293a4b"),
        ("{destination: 10.2.0.0/16, target: app-files}", "{destination: 10.0.2.0/24, target: app-files}",
         "t.yaml:61:44: route to 10.0.2.0/24 lies within vpc-0a1b2c3d4e5f60718's CIDR 10.0.0.0/16 and cannot target "
            + "pcx-0a1b2c3d4e5f60718"),
        ("      - {protocol: tcp, ports: 443, cidr: 10.0.0.0/8}", "      - {protocol: tcp, ports: 443, security_group: lambda-sg}",
         "t.yaml:90:53: security group sg-0d1e2f3a4b5c6d7e8 is in vpc-0a1b2c3d4e5f60718, not vpc-0c3d4e5f607182930, "
            + "and no active peering connection joins the two"),
        ("    accepter_vpc: files\n", "    accepter_vpc: files\n    status: rejected\n",
         "t.yaml:86:52: security group sg-0d1e2f3a4b5c6d7e8 is in vpc-0a1b2c3d4e5f60718, not vpc-0b2c3d4e5f6071829, "
            + "and no active peering connection joins the two"),
        ("    requester_vpc: app\n", "    requester_vpc: app\n    requester_region: eu-west-1\n",
         "t.yaml:86:52: security group sg-0d1e2f3a4b5c6d7e8 is in vpc-0a1b2c3d4e5f60718, across inter-Region peering "
            + "connection pcx-0a1b2c3d4e5f60718 (eu-west-1 ↔ us-east-1): AWS allows group references across a "
            + "peering in the same Region only"),
        ("    name: app-files\n", "    name: app-files\n    color: blue\n",
         "t.yaml:38:5: unknown key 'color' in peering connection (expected one of: id, name, requester_vpc, "
            + "accepter_vpc, requester_region, accepter_region, status)"),
    ])
    func badConnectionsAreOneLineErrors(_ c: (String, String, String)) throws {
        let text = Self.replacing(try Self.yaml(), [(c.0, c.1)])
        let e = try #require(scenarioLoadError(text))
        #expect(e.description.hasPrefix(c.2), "\(e.description)")
        #expect(!e.description.contains("\n"))
    }

    // MARK: Packets

    /// The request crosses; the reply dies at the peer's route table; the fix adds the route there and is verified.
    @Test func theReplyWithoutARouteBackDiesAtThePeersRouteTableAndTheFixAddsIt() throws {
        let o = try Self.run(try Self.yaml())
        #expect(o.exitCode == 0, "\(o.text)")
        let flows = o.report.flows
        #expect(flows.map(\.outcome) == ["timeout", "timeout", "ok"])
        let sftp = flows[0]
        #expect(sftp.hops.map(\.step) == ["security-group-egress", "route", "nacl-outbound", "peering", "nacl-inbound",
                                          "security-group-ingress", "delivered"])
        #expect(sftp.hops[1].rule == "10.1.0.0/16 → \(Self.pcx)")
        #expect(sftp.hops[3].component == Self.pcx && sftp.hops[3].action == "forwarded")
        #expect(sftp.hops[3].rule == "requester \(Self.app) (app) ↔ accepter \(Self.files) (files)")
        #expect(sftp.hops[4].component == "acl-default-\(Self.files)")
        // The server's group admits the function's group across the peering.
        #expect(sftp.hops[5].rule == "ALLOW tcp 22 sg-0d1e2f3a4b5c6d7e8" && sftp.hops[5].action == "allowed")
        #expect(sftp.reply_hops.map(\.step) == ["security-group-egress", "route"])
        let drop = try #require(sftp.drop)
        #expect(drop.component == "rtb-0a9b8c7d6e5f40312" && drop.kind == "route")
        #expect(drop.rule == "no route matches 10.0.1.10")
        let fix = try #require(sftp.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.component) == ["rtb-0a9b8c7d6e5f40312 (files-rt)"])
        #expect(fix.changes.map(\.change) == ["add route 10.0.0.0/16 → \(Self.pcx)"])
        #expect(fix.changes[0].reason.contains("accepter side"))
    }

    /// With the route back, both directions cross the connection, and each VPC's ENI logs the flow.
    @Test func withTheRouteBackBothDirectionsCrossAndBothENIsLogIt() throws {
        let text = Self.replacing(try Self.fixed(), [
            ("seed: 1\n", "seed: 1\nflow_logs: {format: \"${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action} ${flow-direction} ${traffic-path}\"}\n"),
        ])
        let out = makeTempDirectory("vpcsim-peering")
        let o = try Self.run(text, out: out)
        let sftp = o.report.flows[0]
        #expect(sftp.outcome == "ok" && sftp.drop == nil, "\(o.text)")
        #expect(sftp.reply_hops.map(\.step) == ["security-group-egress", "route", "nacl-outbound", "peering",
                                                "nacl-inbound", "security-group-ingress", "delivered"])
        #expect(sftp.reply_hops[1].rule == "10.0.0.0/16 → \(Self.pcx)")
        #expect(sftp.reply_hops[3].component == Self.pcx && sftp.reply_hops[3].action == "forwarded")
        let logs = try #require(o.flowLogText).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let lambda = "eni-0c83aca23d1a66d8b", server = "eni-0852a5730939dc415"
        #expect(logs.contains { $0 == [lambda, "10.0.1.10", "10.1.1.20", "22", "ACCEPT", "egress", "4"] })
        #expect(logs.contains { $0.prefix(6) == [server, "10.0.1.10", "10.1.1.20", "22", "ACCEPT", "ingress"] })
        #expect(logs.contains { $0.count == 7 && $0[0] == server && $0[1] == "10.1.1.20" && $0[5] == "egress" && $0[6] == "4" })
    }

    /// On the far side the peer's NACL inbound and the server's security group decide, as for a local packet.
    @Test func thePeersNACLAndSecurityGroupDecideOnArrival() throws {
        let denied = Self.replacing(try Self.fixed(), [
            ("  - {id: subnet-0bb22cc33dd44ee55, name: files-private, vpc: files, cidr: 10.1.1.0/24}",
             "  - {id: subnet-0bb22cc33dd44ee55, name: files-private, vpc: files, cidr: 10.1.1.0/24, network_acl: files-acl}"),
            ("security_groups:\n", """
             network_acls:
               - id: acl-0f1e2d3c4b5a69788
                 name: files-acl
                 vpc: files
                 inbound: [{rule: 100, protocol: tcp, ports: 22, cidr: 10.9.0.0/16, action: allow}]
                 outbound: [{rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}]

             security_groups:

             """),
        ])
        let nacl = try #require(try Self.run(denied).report.flows[0].drop)
        #expect(nacl.component == "acl-0f1e2d3c4b5a69788" && nacl.direction == "inbound")
        let noGroupRule = Self.replacing(try Self.fixed(), [
            ("{protocol: tcp, ports: 22, security_group: lambda-sg, description: SFTP from the uploader}",
             "{protocol: tcp, ports: 443, security_group: lambda-sg}"),
        ])
        let flow = try Self.run(noGroupRule).report.flows[0]
        let sg = try #require(flow.drop)
        #expect(sg.component == "sg-0a9b8c7d6e5f40312" && sg.direction == "ingress")
        #expect(sg.rule == "no ingress rule allows tcp 22 from 10.0.1.10")
        // The fix is a rule for the function's group, across the peering.
        #expect(flow.fix?.changes.map(\.change) == ["ingress: add ALLOW tcp 22 sg-0d1e2f3a4b5c6d7e8 (lambda-sg)"])
        #expect(flow.fix?.verified == true)
    }

    /// No transitive routing, no edge-to-edge routing: the connection drops what is not for the peer VPC.
    @Test func theConnectionDropsWhatIsNotForThePeerVPC() throws {
        let o = try Self.run(try Self.fixed())
        let partner = o.report.flows[1]
        let drop = try #require(partner.drop)
        #expect(drop.kind == "peering" && drop.component == Self.pcx)
        #expect(drop.rule == "10.2.1.30 is not in \(Self.files) (files) (10.1.0.0/16)")
        #expect(partner.hops.last?.detail?.contains("no transitive or edge-to-edge routing") == true)
        #expect(partner.hops.last?.detail?.contains("unsupported VPC peering configurations") == true)
        // The internet through the peer: the app VPC's default route sent to the connection.
        let edge = Self.replacing(try Self.fixed(), [("{destination: 0.0.0.0/0, target: app-nat}",
                                                     "{destination: 0.0.0.0/0, target: app-files}")])
        let internet = try #require(try Self.run(edge).report.flows[2].drop)
        #expect(internet.component == Self.pcx && internet.rule == "203.0.113.10 is not in \(Self.files) (files) (10.1.0.0/16)")
        // A connection that is not active carries nothing.
        let pending = Self.replacing(try Self.fixed(), [
            ("    accepter_vpc: files\n", "    accepter_vpc: files\n    status: pending-acceptance\n"),
            ("{protocol: tcp, ports: 22, security_group: lambda-sg, description: SFTP from the uploader}",
             "{protocol: tcp, ports: 22, cidr: 10.0.0.0/16}"),
        ])
        let inactive = try #require(try Self.run(pending).report.flows[0].drop)
        #expect(inactive.component == Self.pcx && inactive.rule == "status pending-acceptance")
    }

    /// An inter-Region connection adds its latency each way (the named assumption), shown in the step.
    @Test func anInterRegionConnectionAddsItsLatency() throws {
        let base = Self.replacing(try Self.fixed(), [
            ("{protocol: tcp, ports: 22, security_group: lambda-sg, description: SFTP from the uploader}",
             "{protocol: tcp, ports: 22, cidr: 10.0.0.0/16}"),
        ])
        let near = try Self.run(base).report.flows[0]
        let farText = Self.replacing(base, [("    accepter_vpc: files\n", "    accepter_vpc: files\n    accepter_region: eu-west-1\n"),
                                            ("    requester_vpc: files\n", "    requester_vpc: files\n    requester_region: eu-west-1\n")])
        let far = try Self.run(farText)
        let flow = far.report.flows[0]
        #expect(near.outcome == "ok" && flow.outcome == "ok")
        #expect(flow.hops[3].detail == "inter-Region us-east-1 ↔ eu-west-1: 35 ms one way, MTU 8500")
        #expect(far.report.assumptions.contains { $0.name == "inter_region_peering_latency_ms" && $0.value == "35" })
        // The SSH handshake and upload take several round trips, each 70 ms longer.
        #expect(flow.elapsed_s - near.elapsed_s > 0.07 * 4)
        // Flow logs give traffic-path 5 (inter-Region peering) to what leaves for the connection.
        let logged = Self.replacing(farText, [("seed: 1\n", "seed: 1\nflow_logs: {format: \"${interface-id} ${dstaddr} ${dstport} ${traffic-path}\"}\n")])
        let lines = try #require(try Self.run(logged, out: makeTempDirectory("vpcsim-peering")).flowLogText).split(separator: "\n")
        #expect(lines.contains("eni-0c83aca23d1a66d8b 10.1.1.20 22 5"), "\(lines)")
        let slower = Self.replacing(farText, [("seed: 1\n", "seed: 1\nassumptions: {inter_region_peering_latency_ms: 80}\n")])
        let slow = try Self.run(slower).report.flows[0]
        #expect(slow.hops[3].detail == "inter-Region us-east-1 ↔ eu-west-1: 80 ms one way, MTU 8500")
        #expect(slow.elapsed_s > flow.elapsed_s)
    }
}
