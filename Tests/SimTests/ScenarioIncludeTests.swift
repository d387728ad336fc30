import Foundation
import Testing
import TestSupport
@testable import Sim

/// `include:` composes a scenario from files: their keys merged as `--network/--flows` merges two, errors in an
/// included file name that file, and the include's own problems are errors at the entry of the including file.
@Suite struct ScenarioIncludeTests {
    static let network = """
        vpcs:
          - {id: vpc-1, name: main, cidr_blocks: [10.0.0.0/16]}
        internet_gateways:
          - {id: igw-1, vpc: main}
        route_tables:
          - id: rtb-1
            vpc: main
            main: true
            routes:
              - {destination: 0.0.0.0/0, target: igw-1}
        security_groups:
          - id: sg-1
            vpc: main
            ingress: [{protocol: tcp, ports: 22, cidr: 0.0.0.0/0}]
            egress: []
        subnets:
          - {id: subnet-1, vpc: main, cidr: 10.0.0.0/24, availability_zone: us-east-1a}
        instances:
          - {id: i-1, name: web, subnet: subnet-1, security_groups: [sg-1], private_ip: 10.0.0.10, public_ip: 54.0.0.10}

        """

    static let checks = """
        outside_hosts:
          - {name: admin, ip: 198.51.100.7}
        flows:
          - {name: ssh-in, from: admin, to: 54.0.0.10:22, app: sftp, expect: {outcome: ok}}
          - {name: out, from: web, to: admin:443, app: https, expect: {outcome: timeout}}

        """

    /// Writes each (name, text) into a fresh directory; returns the directory.
    static func files(_ list: [(String, String)]) throws -> String {
        let dir = makeTempDirectory("vpcsim-include")
        for (name, text) in list {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return dir
    }

    static func error(_ path: String) -> String? {
        do {
            _ = try ScenarioLoader.load(path: path)
            return nil
        } catch let e as ScenarioError {
            return e.description
        } catch {
            return "\(error)"
        }
    }

    @Test func aNetworkAndChecksInTwoFilesRunAsOneScenario() throws {
        let dir = try Self.files([
            ("plan/network.yaml", Self.network), ("checks.yaml", Self.checks),
            ("story.yaml", "name: story\nseed: 7\ninclude: [plan/network.yaml, checks.yaml]\n"),
        ])
        let s = try ScenarioLoader.load(path: dir + "/story.yaml")
        #expect(s.name == "story" && s.seed == 7)
        #expect(s.flows.map(\.name) == ["ssh-in", "out"])
        var o = Runner.Options(writeFiles: false)
        o.flowLogs = false
        let outcome = try Runner.run(scenario: s, options: o)
        #expect(outcome.exitCode == 0 && outcome.report.expectations_failed == 0, "\(outcome.text)")
        // The same as the two files given as --network and --flows.
        let pair = try ScenarioLoader.load(networkPath: dir + "/plan/network.yaml", flowsPath: dir + "/checks.yaml")
        #expect(pair.model.instances.count == s.model.instances.count && pair.flows.count == s.flows.count)
    }

    @Test func anErrorInAnIncludedFileNamesThatFileAndItsOwnLine() throws {
        let broken = Self.checks.replacingOccurrences(of: "from: web", with: "from: nobody")
        let dir = try Self.files([("net.yaml", Self.network), ("checks.yaml", broken),
                                  ("story.yaml", "# the story\ninclude:\n  - net.yaml\n  - checks.yaml\n")])
        #expect(Self.error(dir + "/story.yaml") == "\(dir)/checks.yaml:5:23: flow 'out': unknown source 'nobody'")
        // A route error raised after every section is read still names the network's file and line.
        let badRoute = Self.network.replacingOccurrences(of: "target: igw-1", with: "target: igw-2")
        let dir2 = try Self.files([("net.yaml", badRoute), ("checks.yaml", Self.checks),
                                   ("story.yaml", "include: [checks.yaml, net.yaml]\n")])
        #expect(Self.error(dir2 + "/story.yaml")?.hasPrefix("\(dir2)/net.yaml:10:42: ") == true,
                "\(Self.error(dir2 + "/story.yaml") ?? "")")
    }

    @Test func includeProblemsAreErrorsAtTheIncludingEntry() throws {
        // A missing file.
        let d1 = try Self.files([("story.yaml", "name: x\ninclude: [net.yaml, gone.yaml]\n"), ("net.yaml", Self.network)])
        #expect(Self.error(d1 + "/story.yaml")
                == "\(d1)/story.yaml:2:21: cannot read include \(d1)/gone.yaml: No such file or directory")
        // A cycle, found in the file that closes it.
        let d2 = try Self.files([("a.yaml", "include: [b.yaml]\n"), ("b.yaml", "seed: 3\ninclude: [a.yaml]\n")])
        #expect(Self.error(d2 + "/a.yaml")
                == "\(d2)/b.yaml:2:11: include cycle: \(d2)/a.yaml → \(d2)/b.yaml → \(d2)/a.yaml")
        // Nested too deep.
        var chain: [(String, String)] = []
        for i in 0..<10 { chain.append(("f\(i).yaml", "include: [f\(i + 1).yaml]\n")) }
        chain.append(("f10.yaml", "seed: 1\n"))
        let d3 = try Self.files(chain)
        #expect(Self.error(d3 + "/f0.yaml") == "\(d3)/f7.yaml:1:11: includes nested deeper than 8 files")
        // A key in two files.
        let d4 = try Self.files([("net.yaml", Self.network), ("more.yaml", "seed: 2\nflows: []\n"),
                                 ("story.yaml", "flows: []\ninclude: [net.yaml, more.yaml]\n")])
        #expect(Self.error(d4 + "/story.yaml")
                == "\(d4)/story.yaml:2:21: 'flows' is defined twice: at \(d4)/story.yaml:1:1 and at \(d4)/more.yaml:2:1; keep it in one file")
        // Not a list of files; an included file that is not a mapping; a syntax error in an included file.
        let d5 = try Self.files([("story.yaml", "include: {a: b}\n"), ("list.yaml", "- 1\n"),
                                 ("s2.yaml", "include: [list.yaml]\n"), ("bad.yaml", "seed: [1\n"),
                                 ("s3.yaml", "include: [bad.yaml]\n")])
        #expect(Self.error(d5 + "/story.yaml") == "\(d5)/story.yaml:1:10: expected a list of files for 'include', found a mapping")
        #expect(Self.error(d5 + "/s2.yaml") == "\(d5)/list.yaml:1:1: expected a mapping of scenario keys, found a list")
        #expect(Self.error(d5 + "/s3.yaml")?.hasPrefix("\(d5)/bad.yaml:2:1: YAML syntax error") == true,
                "\(Self.error(d5 + "/s3.yaml") ?? "")")
    }

    /// A misspelt `include` is an unknown key with the suggestion any other misspelt key gets.
    @Test func aMisspeltIncludeIsSuggested() throws {
        let d = try Self.files([("net.yaml", Self.network), ("story.yaml", "includes: [net.yaml]\n")])
        #expect(Self.error(d + "/story.yaml")
                == "\(d)/story.yaml:1:1: unknown key 'includes' in scenario (did you mean 'include'?)")
    }
}
