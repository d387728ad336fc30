import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Instances that forward (scenarios/appliance-east-west.yaml): EC2's source/destination check, an instance that
/// is not a router, a stateful firewall on an asymmetric path, and a symmetric path through it.
@Suite struct ApplianceTests {
    static let path = repositoryRoot + "/scenarios/appliance-east-west.yaml"

    static func run(_ text: String, out: String? = nil) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "appliance-east-west.yaml", out: out)
    }

    static func replacing(_ text: String, _ old: String, _ new: String) -> String {
        ScenarioText.replacing(text, old, new)
    }

    @Test func theShippedScenarioDropsAtTheCheckAndOnTheAsymmetricReturnAndForwardsTheSymmetricPath() throws {
        let out = makeTempDirectory("vpcsim-appliance")
        let o = try Self.run(try String(contentsOfFile: Self.path, encoding: .utf8), out: out)
        #expect(o.exitCode == 0, "\(o.text)")
        let flows = o.report.flows
        #expect(flows.map(\.outcome) == ["timeout", "timeout", "ok"])

        let check = try #require(flows[0].drop)
        #expect(check.kind == "appliance" && check.component == "i-0a0000000000fwa01")
        #expect(check.rule == "source/destination check: 10.0.2.10 is not 10.0.3.10")
        let fix = try #require(flows[0].fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["disable source/destination check (aws ec2 modify-instance-attribute --no-source-dest-check)"])

        // The request goes straight; the SYN-ACK, routed through fw-b, dies there.
        let asym = try #require(flows[1].drop)
        #expect(asym.kind == "appliance" && asym.component == "i-0a0000000000fwb01")
        #expect(asym.rule.hasPrefix("no connection state for tcp 10.0.4.10:443 → 10.0.1.10:"))
        #expect(asym.packet.hasSuffix("[SYN, ACK]"))
        #expect(!flows[1].hops.contains { $0.step == "appliance" })
        #expect(flows[1].fix?.changes.isEmpty == true)
        #expect(flows[1].fix?.advice?.contains("route both directions through the same appliance") == true)

        // Both ways through fw-b: forwarded by it, its security group's egress tracking the connection.
        let ok = flows[2]
        #expect(ok.hops.map(\.step).contains("appliance") && ok.reply_hops.map(\.step).contains("appliance"))
        #expect(ok.hops.first { $0.step == "appliance" }?.rule == "forwarded (new connection)")
        #expect(ok.reply_hops.first { $0.step == "appliance" }?.rule == "forwarded (connection it saw open)")

        // The appliance is a router: a forwarded packet is one hop further (Linux sends with TTL 64).
        let web = out + "/" + (try #require(o.report.captures.first { $0.name.contains("instance-web-") })).file
        let ttls = try TShark.fields(web, ["ip.ttl"], filter: "tcp.dstport == 443")
        #expect(!ttls.isEmpty && ttls.allSatisfy { $0 == "63" })
        // At fw-b's ENI each packet shows twice: arriving for the server, and forwarded.
        let fw = out + "/" + (try #require(o.report.captures.first { $0.name.contains("instance-fw-b-") })).file
        let syns = try TShark.fields(fw, ["ip.ttl"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 443 && ip.dst == 10.0.5.10")
        #expect(syns == ["64", "63"])
    }

    @Test func anInstanceThatDoesNotForwardDropsWhatTheCheckLetsThrough() throws {
        var text = try String(contentsOfFile: Self.path, encoding: .utf8)
        text = Self.replacing(text, "    forwarding: router               # it forwards, but EC2's source/destination check is still on (the default)",
                              "    source_dest_check: false\n    forwarding: off")
        text = Self.replacing(text, "expect: {outcome: timeout, dropped_at: fw-a}", "expect: {outcome: timeout}")
        let o = try Self.run(text)
        let drop = try #require(o.report.flows[0].drop)
        #expect(drop.kind == "appliance" && drop.rule == "not a router")
        #expect(o.report.flows[0].fix?.verified != true)
    }

    @Test func withTheCheckOffTheRouterForwardsBothWays() throws {
        var text = try String(contentsOfFile: Self.path, encoding: .utf8)
        text = Self.replacing(text, "    forwarding: router               # it forwards, but EC2's source/destination check is still on (the default)",
                              "    source_dest_check: false\n    forwarding: router")
        text = Self.replacing(text, "expect: {outcome: timeout, dropped_at: fw-a}", "expect: {outcome: ok, no_drop: true}")
        let o = try Self.run(text)
        #expect(o.report.flows[0].outcome == "ok")
        #expect(o.report.flows[0].hops.first { $0.step == "appliance" }?.rule == "forwarded (router)")
    }

    @Test func aRoutingLoopThroughAnApplianceEndsWhenTheTTLRunsOut() throws {
        var text = try String(contentsOfFile: Self.path, encoding: .utf8)
        text = Self.replacing(text, "- {destination: 10.0.2.0/24, target: fw-a}      # to api: through fw-a",
                              "- {destination: 10.0.2.0/24, target: fw-b}")
        text = Self.replacing(text, "    main: true\n    routes: []", "    main: true\n    routes:\n      - {destination: 10.0.2.0/24, target: fw-b}")
        text = Self.replacing(text, "expect: {outcome: timeout, dropped_at: fw-a}", "expect: {outcome: timeout}")
        let o = try Self.run(text)
        let drop = try #require(o.report.flows[0].drop)
        #expect(drop.kind == "appliance" && drop.component == "i-0a0000000000fwb01")
        #expect(drop.rule == "TTL exceeded in transit")
    }

    @Test func aBadForwardingValueIsAOneLineErrorAtItsPlace() throws {
        let text = Self.replacing(try String(contentsOfFile: Self.path, encoding: .utf8), "forwarding: stateful", "forwarding: firewall")
        #expect(throws: ScenarioError.self) { try ScenarioLoader.load(yaml: text, file: "a.yaml") }
        do {
            _ = try ScenarioLoader.load(yaml: text, file: "a.yaml")
        } catch let e as ScenarioError {
            #expect(e.description.hasPrefix("a.yaml:"))
            #expect(e.description.contains("forwarding"))
            #expect(!e.description.contains("\n"))
        }
    }
}

/// A stateful firewall per AZ in an inspection VPC behind a transit gateway (scenarios/tgw-hub-inspection*.yaml):
/// with appliance mode off the SYN-ACK comes back through the other AZ's firewall and dies there; the fix, enabling
/// appliance mode, is verified; with it on, both directions pass one firewall.
@Suite struct HubInspectionTests {
    static func run(_ name: String) throws -> Runner.Outcome {
        let s = try ScenarioLoader.load(path: repositoryRoot + "/scenarios/\(name).yaml")
        var o = Runner.Options(writeFiles: false)
        o.flowLogs = false
        return try Runner.run(scenario: s, options: o)
    }

    @Test func withoutApplianceModeTheReplyDiesAtTheOtherAZsFirewallAndTheFixEnablesIt() throws {
        let o = try Self.run("tgw-hub-inspection")
        let f = o.report.flows[0]
        #expect(f.outcome == "timeout")
        let drop = try #require(f.drop)
        #expect(drop.kind == "appliance" && drop.component == "i-0a50000000000fwa1")
        #expect(drop.packet.hasSuffix("[SYN, ACK]"))
        #expect(f.hops.contains { $0.step == "appliance" && $0.component == "i-0a50000000000fwb1" })
        let fix = try #require(f.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.component) == ["tgw-attach-0a50000000000005 (inspection)"])
        #expect(fix.changes.first?.change.hasPrefix("enable appliance mode") == true)
    }

    @Test func withApplianceModeBothDirectionsPassOneFirewall() throws {
        let o = try Self.run("tgw-hub-inspection-fixed")
        let f = o.report.flows[0]
        #expect(f.outcome == "ok")
        let out = Set(f.hops.filter { $0.step == "appliance" }.map(\.component))
        let back = Set(f.reply_hops.filter { $0.step == "appliance" }.map(\.component))
        #expect(out.count == 1 && out == back)
    }
}

/// `vpcsim import aws` keeps EC2's source/destination check: an instance with it off is imported as one that
/// forwards, a NAT instance (public address: its translation not modeled) or a router, each with a warning.
@Suite struct ApplianceImportTests {
    @Test func anInstanceWithTheCheckOffIsImportedAsAForwarderWithAWarning() throws {
        let dir = makeTempDirectory("vpcsim-import-sdc")
        let source = Fixtures.path("aws-json/synthetic/full")
        for f in try FileManager.default.contentsOfDirectory(atPath: source) where f.hasSuffix(".json") {
            try FileManager.default.copyItem(atPath: source + "/" + f, toPath: dir + "/" + f)
        }
        let path = dir + "/describe-instances.json"
        var dump = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var reservations = try #require(dump["Reservations"] as? [[String: Any]])
        for r in reservations.indices {
            var instances = try #require(reservations[r]["Instances"] as? [[String: Any]])
            for i in instances.indices { instances[i]["SourceDestCheck"] = false }
            reservations[r]["Instances"] = instances
        }
        dump["Reservations"] = reservations
        try JSONSerialization.data(withJSONObject: dump, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))

        let imported = try AWSImporter.importDirectory(dir)
        let m = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml").model
        let nat = try #require(m.instances.first { $0.id == "i-0123456789abcdef0" })
        let router = try #require(m.instances.first { $0.id == "i-0fedcba9876543210" })
        #expect(!nat.sourceDestCheck && nat.forwarding == .nat)
        #expect(!router.sourceDestCheck && router.forwarding == .router)
        #expect(imported.warnings.contains { $0.kind == .approximated && $0.id == "i-0123456789abcdef0"
            && $0.message.contains("NAT instance") })
        // The unchanged dump keeps the check on.
        let plain = try ScenarioLoader.load(yaml: try AWSImporter.importDirectory(source).yaml, file: "plain.yaml").model
        #expect(plain.instances.allSatisfy { $0.sourceDestCheck && $0.forwarding == .off })
    }
}
