import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Nesting the YAML composer and JSONSerialization would recurse into until the stack overflows is refused
/// before they see it, at the place it goes deeper than the limit.
@Suite struct NestingLimitTests {
    /// The top-level mapping is level 1: 63 lists in it are 64 levels (loaded, and refused as a flow for what
    /// they are), 64 lists are 65 and refused where the 65th opens.
    @Test func flowNestingAtTheLimitLoadsAndOneLevelDeeperIsRefusedWhereItOpens() {
        let atLimit = scenarioLoadError("name: x\nflows: " + String(repeating: "[", count: 63) + String(repeating: "]", count: 63))
        #expect(atLimit?.message == "expected a mapping for flow, found a list")
        let deeper = scenarioLoadError("name: x\nflows: " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64))
        #expect(deeper == ScenarioError(file: "t.yaml", line: 2, column: 71, message: "nesting deeper than 64 levels"))
        let mappings = scenarioLoadError("name: x\nflows: " + String(repeating: "{a: ", count: 64) + "1" + String(repeating: "}", count: 64))
        #expect(mappings == ScenarioError(file: "t.yaml", line: 2, column: 260, message: "nesting deeper than 64 levels"))
    }

    @Test func blockNestingCountsAsFlowNestingDoes() {
        var yaml = "name: x\nflows:\n"
        for i in 1...64 { yaml += String(repeating: " ", count: i) + "a:\n" }
        // Mapping 1 is the top; "flows" holds mapping 2 at line 3, …, mapping 65 at line 66, column 65.
        #expect(scenarioLoadError(yaml) == ScenarioError(file: "t.yaml", line: 66, column: 65, message: "nesting deeper than 64 levels"))
        let sequences = "name: x\nflows:\n" + String(repeating: "- ", count: 64) + "x\n"
        #expect(scenarioLoadError(sequences) == ScenarioError(file: "t.yaml", line: 3, column: 127, message: "nesting deeper than 64 levels"))
    }

    /// Aliases nest without indenting: `kN: &kN [*kN-1]` puts the first list N + 1 levels deep in the composed
    /// tree (whose recursive release overflowed the stack at some tens of thousands). The alias that would reach
    /// level 65 is refused where it stands.
    @Test func aliasesCountAsTheNestingTheyBringIn() {
        var yaml = "name: x\nflows: []\nk0: &k0 [x]\n"
        for i in 1...62 { yaml += "k\(i): &k\(i) [*k\(i - 1)]\n" }  // k62 is 63 levels: 64 in the top mapping
        #expect(scenarioLoadError(yaml)?.message == "unknown key 'k0' in scenario (expected one of: name, description, "
            + "seed, start_time, assumptions, vpcs, internet_gateways, route_tables, network_acls, security_groups, "
            + "subnets, nat_gateways, transit_gateways, lambdas, instances, outside_hosts, flows, generators, flow_logs, peering_connections, vpc_endpoints, invented, vpn_gateways, customer_gateways, vpn_connections, onprem_networks, include, "
            + "egress_only_internet_gateways)")
        yaml += "k63: &k63 [*k62]\n"
        #expect(scenarioLoadError(yaml) == ScenarioError(file: "t.yaml", line: 66, column: 12, message: "nesting deeper than 64 levels"))
        #expect(scenarioLoadError("name: x\nflows: []\nk0: &k0 [x]\nk1: *k0\nk2: *k0\n")?.message.hasPrefix("unknown key 'k0'") == true)
    }

    @Test func bracketsInQuotedScalarsAndCommentsAreNotNesting() throws {
        let brackets = String(repeating: "[{", count: 200)
        let s = try loadScenario("name: \"\(brackets)\"  # \(brackets)\ndescription: '\(brackets)'\nflows: []\n")
        #expect(s.name == brackets)
    }

    /// An AWS dump's JSON: refused at the bracket that opens level 65, strings' brackets not counted.
    @Test func deepJSONInADumpIsRefusedAtItsBracket() throws {
        let dir = makeTempDirectory("aws-deep")
        let inString = "\"" + String(repeating: "[", count: 100) + "\""
        let json = "{\"Vpcs\": [{\"VpcId\": \"vpc-1\", \"Tags\": \(inString),\n \"X\": " + String(repeating: "[", count: 70)
            + String(repeating: "]", count: 70) + "}]}"
        try json.write(toFile: dir + "/vpcs.json", atomically: true, encoding: .utf8)
        // Levels 1-3 are the object, "Vpcs" and its item: the 62nd "[" of line 2 is level 65, at column 68.
        #expect(throws: AWSImportError(file: dir + "/vpcs.json", line: 2, column: 68, message: "nesting deeper than 64 levels")) {
            try AWSImporter.importDirectory(dir)
        }
    }
}
