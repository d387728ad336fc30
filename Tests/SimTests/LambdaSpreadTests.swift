import Foundation
import Packets
import Testing
@testable import Sim

/// A Lambda function in several subnets: its invocations are spread over them (`lambda_subnet_spread`), a flow
/// can pin one (`from: uploader@private-b`), and the report splits the outcomes per subnet, ENI and NAT gateway.
@Suite struct LambdaSpreadTests {
    static let twoAZPath: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("scenarios/lambda-two-az-one-broken.yaml").path
    }()
    static var twoAZ: String { (try? String(contentsOfFile: twoAZPath, encoding: .utf8)) ?? "" }

    static func run(_ yaml: String, file: String = "two-az.yaml") throws -> Runner.Outcome {
        try Runner.run(scenario: ScenarioLoader.load(yaml: yaml, file: file), options: Runner.Options(writeFiles: false))
    }

    static func eni(_ s: Scenario, subnet name: String) -> Int {
        let subnet = s.model.subnets.firstIndex { $0.name == name }!
        return s.model.enis.firstIndex { $0.subnet == subnet && $0.name?.hasPrefix("lambda") == true }!
    }

    /// The shipped two-AZ story: about half of the invocations fail, every one of them from private-b, at its
    /// public subnet's NACL; every one from private-a succeeds. (Before the spread, every invocation used the
    /// first subnet and all 60 succeeded.)
    @Test func invocationsSpreadOverBothSubnetsAndAboutHalfFail() throws {
        let s = try ScenarioLoader.load(path: Self.twoAZPath)
        let outcome = try Runner.run(scenario: s, options: Runner.Options(writeFiles: false))
        #expect(outcome.report.expectations_failed == 0)
        let g = try #require(outcome.report.generators.first)
        let ok = g.outcomes["ok"] ?? 0
        #expect(ok >= 18 && ok <= 42 && g.flows == 60, "\(g.outcomes)")
        #expect(g.outcomes["timeout"] == 60 - ok)
        let split = try #require(outcome.report.lambda_subnets?.first)
        #expect(split.function == "uploader" && split.spread == "uniform")
        #expect(split.subnets.map(\.subnet_name) == ["private-a", "private-b"])
        #expect(split.subnets.map(\.availability_zone) == ["us-east-1a", "us-east-1b"])
        let a = split.subnets[0], b = split.subnets[1]
        // The two pinned test flows count too: one ok from a, one failed from b.
        #expect(a.ok == ok + 1 && a.failed == 0)
        #expect(b.ok == 0 && b.failed == 60 - ok + 1)
        #expect(a.eni == s.model.enis[Self.eni(s, subnet: "private-a")].id)
        #expect(b.eni == s.model.enis[Self.eni(s, subnet: "private-b")].id)
        #expect(a.nat_gateways == ["nat-0e1f2a3b4c5d6e7fa"] && b.nat_gateways == ["nat-0e1f2a3b4c5d6e7fb"])
        #expect(b.died_at.count == 1)
        #expect(b.died_at.first?.component == "acl-0b1c2d3e4f5a6b7cb")
        #expect(b.died_at.first?.direction == "outbound")
        #expect(b.died_at.first?.count == b.failed)
        #expect(split.nat_gateways.map(\.name) == ["nat-a", "nat-b"])
        #expect(split.nat_gateways.map(\.ok) == [a.ok, 0] && split.nat_gateways.map(\.failed) == [0, b.failed])
        // Each flow says which subnet and ENI it used.
        #expect(outcome.report.flows.map(\.source_eni) == [a.eni, b.eni])
        #expect(outcome.report.flows.map(\.source_subnet) == [a.subnet, b.subnet])
        // The text report shows the split.
        #expect(outcome.text.contains("LAMBDA SUBNETS"))
        #expect(outcome.text.contains("\(b.failed) failed: died at acl-0b1c2d3e4f5a6b7cb (public-b-nacl) outbound"))
        #expect(outcome.text.contains("nat-0e1f2a3b4c5d6e7fb (nat-b): 0 ok, \(b.failed) failed"))
        // And report.json carries it.
        let json = String(decoding: try encodeReport(outcome.report), as: UTF8.self)
        #expect(json.contains("\"lambda_subnets\""))
        #expect(json.contains("\"source_eni\" : \"\(b.eni)\""))
    }

    /// Swapping the order of `subnets` changes nothing: not the choice of any invocation, not an ENI's address,
    /// not a byte of the report.
    @Test func theOrderOfSubnetsChangesNothing() throws {
        let yaml = Self.twoAZ
        let swapped = yaml.replacingOccurrences(of: "subnets: [private-a, private-b]", with: "subnets: [private-b, private-a]")
        #expect(swapped != yaml)
        let x = try Self.run(yaml), y = try Self.run(swapped)
        #expect(x.text == y.text)
        #expect(try encodeReport(x.report) == encodeReport(y.report))
        #expect(x.flowLogText == y.flowLogText)
    }

    /// `uniform` gives each subnet an equal share (10,000 invocations over two and over three subnets), and each
    /// invocation's subnet does not depend on the order the subnets are listed in.
    @Test func uniformSpreadIsFairAndOrderIndependent() throws {
        func model(_ order: [String]) throws -> Scenario {
            try loadScenario("""
                name: t
                vpcs: [{id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}]
                route_tables: [{id: rtb-main, vpc: main, main: true}]
                security_groups: [{id: sg-1, vpc: main, egress: [{protocol: all, cidr: 0.0.0.0/0}]}]
                subnets:
                  - {id: subnet-a, name: a, vpc: main, cidr: 10.0.1.0/24, availability_zone: us-east-1a}
                  - {id: subnet-b, name: b, vpc: main, cidr: 10.0.2.0/24, availability_zone: us-east-1b}
                  - {id: subnet-c, name: c, vpc: main, cidr: 10.0.3.0/24, availability_zone: us-east-1c}
                lambdas: [{name: f, subnets: [\(order.joined(separator: ", "))], security_groups: [sg-1]}]
                """)
        }
        for subnets in [["a", "b"], ["a", "b", "c"]] {
            let s1 = try model(subnets), s2 = try model(subnets.reversed())
            let spread1 = LambdaSpread(model: s1.model, rule: .uniform, seed: 7)
            let spread2 = LambdaSpread(model: s2.model, rule: .uniform, seed: 7)
            var counts: [String: Int] = [:]
            let base = LambdaSpread.invocation(generator: "g")
            for k in 0..<10_000 {
                let inv = LambdaSpread.invocation(generator: base, k: k)
                let e1 = s1.model.enis[spread1.eni(function: 0, invocation: inv)]
                let e2 = s2.model.enis[spread2.eni(function: 0, invocation: inv)]
                #expect(e1.id == e2.id)
                counts[s1.model.subnets[e1.subnet].id, default: 0] += 1
            }
            let share = 10_000 / subnets.count
            #expect(counts.count == subnets.count)
            #expect(counts.values.allSatisfy { abs($0 - share) < share / 20 }, "\(counts)")
            // `first`: every invocation on the first subnet listed.
            let first = LambdaSpread(model: s2.model, rule: .first, seed: 7)
            #expect(s2.model.enis[first.eni(function: 0, invocation: base)].subnet == s2.model.lambdas[0].subnets[0])
        }
    }

    /// `lambda_subnet_spread: first` is the old behaviour: every invocation from the first subnet, all ok here.
    @Test func firstSpreadPinsEveryInvocationToTheFirstSubnet() throws {
        let yaml = Self.twoAZ.replacingOccurrences(of: "seed: 1\n", with: "seed: 1\nassumptions: {lambda_subnet_spread: first}\n")
            .replacingOccurrences(of: "      min_ok: 18", with: "      min_ok: 60")
            .replacingOccurrences(of: "      max_ok: 42", with: "      max_ok: 60")
        let outcome = try Self.run(yaml)
        #expect(outcome.report.generators.first?.outcomes["ok"] == 60)
        let assumption = try #require(outcome.report.assumptions.first { $0.name == "lambda_subnet_spread" })
        #expect(assumption.value == "first" && assumption.overridden)
        // The generator's other expectations fail: nothing dropped, no invocation from private-b.
        let e = try #require(outcome.report.generators.first?.expectation)
        #expect(e.failures.contains { $0.hasPrefix("expected drops at acl-0b1c2d3e4f5a6b7cb") })
        #expect(e.failures.contains("expected invocations from subnet private-b, none used it"))
    }

    /// `from: uploader@private-b` pins a flow (by the subnet's name or id); a generator can be pinned too.
    @Test func aFlowPinsASubnetByNameOrID() throws {
        for ref in ["private-b", "subnet-0ee55ff6607788a9b"] {
            let yaml = Self.twoAZ.replacingOccurrences(of: "\n    from: uploader@private-b\n",
                                                       with: "\n    from: uploader@\(ref)\n")
            let s = try loadScenario(yaml)
            #expect(s.flows[1].source == .lambda(0, eni: Self.eni(s, subnet: "private-b")))
            #expect(!s.flows[1].spreadOverSubnets)
            #expect(s.flows[1].sourceLabel == "lambda uploader@\(ref)")
            #expect(s.generators[0].template.spreadOverSubnets)
        }
        let pinned = Self.twoAZ.replacingOccurrences(of: "  - name: uploads\n    from: uploader\n",
                                                     with: "  - name: uploads\n    from: uploader@private-a\n")
        let outcome = try Self.run(pinned)
        #expect(outcome.report.generators.first?.outcomes["ok"] == 60)
    }

    @Test(arguments: [
        ("uploader@private-c", "flow 'test-from-b': unknown subnet 'private-c' in 'uploader@private-c' (did you mean 'private-a'?)"),
        ("uploader@public-b", "flow 'test-from-b': subnet subnet-0aa11bb22cc33dd4b (public-b) is not one of uploader's "
            + "subnets (private-a, private-b)"),
        ("uplaoder@private-b", "flow 'test-from-b': 'uplaoder' in 'uplaoder@private-b' is not a Lambda function (@ pins "
            + "a function to one of its subnets) (did you mean 'uploader'?)"),
        ("uplaoder", "flow 'test-from-b': unknown source 'uplaoder' (did you mean 'uploader'?)"),
    ])
    func aBadPinIsAOneLineErrorAtTheNode(from: String, message: String) throws {
        let yaml = Self.twoAZ.replacingOccurrences(of: "\n    from: uploader@private-b\n", with: "\n    from: \(from)\n")
        let line = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0 == "    from: \(from)" }! + 1
        let e = try #require(scenarioLoadError(yaml))
        #expect(e == ScenarioError(file: "t.yaml", line: line, column: 11, message: message))
    }

    /// References that do not resolve name the closest id or name, as unknown keys do.
    @Test func unresolvedReferencesSuggestTheClosestName() throws {
        let cases: [(String, String, String)] = [
            ("target: nat-b}", "target: nat-bb}", "route target nat-bb is not defined (did you mean 'nat-b'?)"),
            ("subnets: [private-a, private-b]", "subnets: [private-a, privat-b]",
             "subnet privat-b is not defined (did you mean 'private-b'?)"),
            ("network_acl: public-b-nacl", "network_acl: public-b-nalc",
             "network ACL public-b-nalc is not defined (did you mean 'public-b-nacl'?)"),
            ("to: sftp.example.com:22\n    app: sftp\n    size: 100KB\n    expect: {outcome: ok",
             "to: sftp.exmaple.com:22\n    app: sftp\n    size: 100KB\n    expect: {outcome: ok",
             "flow 'test-from-a': unknown destination 'sftp.exmaple.com' (not an outside host, an instance or an IPv4 "
                + "address) (did you mean 'sftp.example.com'?)"),
            ("dropped_at: public-b-nacl, drop_direction", "dropped_at: public-b-acl, drop_direction",
             "flow 'test-from-b': dropped_at 'public-b-acl' is not a component of this scenario (did you mean 'public-b-nacl'?)"),
            // Nothing close: no suggestion.
            ("target: nat-b}", "target: gateway-zzz}", "route target gateway-zzz is not defined"),
        ]
        for (old, new, message) in cases {
            let yaml = Self.twoAZ.replacingOccurrences(of: old, with: new)
            #expect(yaml != Self.twoAZ, "\(old)")
            let e = try #require(scenarioLoadError(yaml), "\(new)")
            #expect(e.message == message)
        }
    }

    /// A trace names the subnet (`uploader@private-b`) or the Hyperplane ENI; an unpinned one draws as a flow.
    @Test func traceCanPinTheSubnetOrTheENI() throws {
        let s = try ScenarioLoader.load(path: Self.twoAZPath)
        let b = Self.eni(s, subnet: "private-b")
        for from in ["uploader@private-b", s.model.enis[b].id] {
            let t = try AdHocTrace.scenario(s, from: from, to: "sftp.example.com:22")
            #expect(t.flows[0].source == .lambda(0, eni: b))
            #expect(!t.flows[0].spreadOverSubnets)
            let outcome = try Runner.run(scenario: t, options: Runner.Options(writeFiles: false))
            #expect(outcome.results[0].outcome == .timeout)
            #expect(outcome.report.flows[0].source_eni == s.model.enis[b].id)
        }
        #expect(try AdHocTrace.scenario(s, from: "uploader", to: "sftp.example.com:22").flows[0].spreadOverSubnets)
        #expect(throws: AdHocTrace.Problem(message: "--from 'uploader@private-c': unknown subnet 'private-c' in "
                                           + "'uploader@private-c' (did you mean 'private-a'?)")) {
            try AdHocTrace.scenario(s, from: "uploader@private-c", to: "sftp.example.com:22")
        }
    }

    /// A function in one subnet reports as before: no LAMBDA SUBNETS section, no `lambda_subnets`.
    @Test func aSingleSubnetRunHasNoSplit() throws {
        let outcome = try Runner.run(path: Self.twoAZPath.replacingOccurrences(of: "lambda-two-az-one-broken",
                                                                                 with: "lambda-sftp-nacl"),
                                     options: Runner.Options(writeFiles: false))
        #expect(outcome.report.lambda_subnets == nil)
        #expect(!outcome.text.contains("LAMBDA SUBNETS"))
        #expect(!outcome.text.contains("from eni-"))
    }
}
