import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Single-value mutations of the synthetic dump: every JSON path of every file, each replaced (in a fixed rotation)
/// by strings, numbers, null, ids of the wrong kind, control characters, lists and objects. Each mutated dump either
/// imports into a scenario that `ScenarioLoader` loads, with one-line warnings, or is refused with one line naming
/// the file and a JSON path (or a line and column) — never the importer's internal error.
@Suite struct AWSImportMutationTests {
    enum Step: CustomStringConvertible {
        case key(String), index(Int)
        var description: String {
            switch self {
            case .key(let k): return "." + k
            case .index(let i): return "[\(i)]"
            }
        }
    }

    nonisolated(unsafe) static let mutations: [(String, Any)] = [
        ("NUL", "\u{0}"), ("empty", ""), ("space", " "), ("word", "x"), ("subnet id", "subnet-0abc123"),
        ("sg id", "sg-0abc123"), ("vpc id", "vpc-0abc123"), ("-1", "-1"), ("tcp", "tcp"), ("cidr", "10.0.0.0/8"),
        ("newline", "a\nb"), ("big", "99999"), ("null", NSNull()), ("zero", 0), ("minus one", -1),
        ("huge", 1e12), ("fraction", 2.5), ("true", true), ("list", [Any]()), ("object", [String: Any]()),
        ("control", "sg-\u{1}"), ("trailing combining", "a \u{301}"), ("line separator", "x\u{2028}y"),
        ("quote", "a\"b: c # d"), ("nat id", "nat-0abc"), ("local", "local"),
    ]

    /// Every path below the top level of `value`, in document order (keys sorted).
    static func paths(_ value: Any, _ prefix: [Step] = []) -> [[Step]] {
        var out: [[Step]] = []
        if let o = value as? [String: Any] {
            for k in o.keys.sorted() {
                let p = prefix + [.key(k)]
                out.append(p)
                out += paths(o[k]!, p)
            }
        } else if let l = value as? [Any] {
            for (i, v) in l.enumerated() {
                let p = prefix + [.index(i)]
                out.append(p)
                out += paths(v, p)
            }
        }
        return out
    }

    static func replacing(_ value: Any, at path: ArraySlice<Step>, with new: Any) -> Any {
        guard let step = path.first else { return new }
        switch step {
        case .key(let k):
            var o = value as! [String: Any]
            o[k] = replacing(o[k]!, at: path.dropFirst(), with: new)
            return o
        case .index(let i):
            var l = value as! [Any]
            l[i] = replacing(l[i], at: path.dropFirst(), with: new)
            return l
        }
    }

    static func files(_ dir: String) throws -> [(path: String, data: Data)] {
        var out: [(String, Data)] = []
        let e = FileManager.default.enumerator(atPath: dir)!
        while let rel = e.nextObject() as? String {
            guard rel.hasSuffix(".json") else { continue }
            out.append((dir + "/" + rel, try Data(contentsOf: URL(fileURLWithPath: dir + "/" + rel))))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// The outcome of importing `files`: nil when it is as it must be, else what is wrong.
    static func problem(_ files: [(path: String, data: Data)], _ dir: String) -> String? {
        do {
            let i = try AWSImporter.importFiles(files, directory: dir)
            do { _ = try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml") } catch { return "does not load: \(error)" }
            if let w = i.warnings.first(where: { $0.description.contains(where: \.isNewline) }) { return "warning on two lines: \(w)" }
            if let w = AWSImportMutationTests.disagreement(i) { return w }
            return nil
        } catch let e as AWSDumpValueError {
            if e.description.contains(where: \.isNewline) { return "error on two lines: \(e)" }
            guard files.contains(where: { $0.path == e.file }), !e.path.isEmpty else { return "error without a file and path: \(e)" }
            return nil
        } catch let e as AWSImportError {
            if e.description.contains(where: \.isNewline) { return "error on two lines: \(e)" }
            if e.message.contains("internal error") { return "\(e)" }
            if e.line == 0 { return "error without a position: \(e)" }
            return nil
        } catch {
            return "unexpected error \(error)"
        }
    }

    /// A warning that says a route is imported as blackhole when the scenario has no such route, or that a route
    /// is left out when the scenario has it.
    static func disagreement(_ i: AWSImport) -> String? {
        guard let s = try? ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml") else { return nil }
        for w in i.warnings where w.message.hasPrefix("route ") {
            let words = w.message.split(separator: " ")
            guard words.count > 1, let dest = try? IPv4CIDR(parsing: String(words[1])),
                  let t = s.model.routeTables.first(where: { $0.id == w.id }) else { continue }
            let route = t.routes.first { $0.destination == dest }
            var isBlackhole = false
            if case .blackhole = route?.target { isBlackhole = true }
            if w.message.hasSuffix("imported as blackhole"), !isBlackhole {
                return "warned as blackhole, written as \(String(describing: route?.target)): \(w)"
            }
            if w.message.contains("imported as a not-modeled target") {
                switch route?.target {
                case .notModeled?, .peering?, .networkInterface?: break
                default: return "warned as not modeled, written as \(String(describing: route?.target)): \(w)"
                }
            }
            if w.message.hasSuffix("left out"), w.message.contains(" → "), route != nil, !w.message.contains("second route") {
                return "warned as left out, written: \(w)"
            }
        }
        return nil
    }

    @Test func theUnmutatedDumpImports() throws {
        let dir = Fixtures.path("aws-json/synthetic/full")
        #expect(Self.problem(try Self.files(dir), dir) == nil)
    }

    static let fileNames = ["describe-addresses.json", "describe-instances.json", "describe-internet-gateways.json",
                            "describe-managed-prefix-lists.json", "describe-nat-gateways.json",
                            "describe-network-acls.json", "describe-network-interfaces.json", "describe-route-tables.json",
                            "describe-security-groups.json", "describe-subnets.json", "describe-vpc-endpoints.json",
                            "describe-vpc-peering-connections.json", "describe-vpcs.json",
                            "get-managed-prefix-list-entries-pl-0f1e2d3c4b5a69788.json",
                            "lambda-get-function-configuration-uploader.json", "lambda-list-functions.json",
                            "prefix-lists/pl-63a5400a.json"]

    @Test func everyFileOfTheDumpIsMutated() throws {
        let dir = Fixtures.path("aws-json/synthetic/full")
        #expect(try Self.files(dir).map { String($0.path.dropFirst(dir.count + 1)) } == Self.fileNames)
    }

    @Test(arguments: fileNames)
    func everyJSONPathMutatedImportsOrIsRefusedAtItsPath(_ name: String) throws {
        let (runs, failures) = try Self.mutate(name, in: Fixtures.path("aws-json/synthetic/full"))
        #expect(runs >= 3)
        #expect(failures.isEmpty, "\(failures.count) of \(runs):\n\(failures.prefix(40).joined(separator: "\n"))")
    }

    /// Every JSON path of file `name` of the dump in `dir`, mutated three times: how many imports ran, and what went
    /// wrong in them.
    static func mutate(_ name: String, in dir: String) throws -> (runs: Int, failures: [String]) {
        let originals = try files(dir)
        let f = try #require(originals.firstIndex { $0.path == dir + "/" + name })
        let root = try JSONSerialization.jsonObject(with: originals[f].data, options: [.fragmentsAllowed])
        var runs = 0
        var failures: [String] = []
        for (k, path) in paths(root).enumerated() {
            // Three mutations per path, rotating through the list: every mutation meets every kind of value.
            for m in 0..<3 {
                let (what, value) = mutations[(k * 3 + m + f * 7) % mutations.count]
                let mutated = replacing(root, at: path[...], with: value)
                var files = originals
                files[f].data = try JSONSerialization.data(withJSONObject: mutated, options: [.fragmentsAllowed])
                runs += 1
                if let p = problem(files, dir) {
                    failures.append("\(name): \(path.map(\.description).joined()) = \(what): \(p)")
                }
            }
        }
        return (runs, failures)
    }
}

/// The values that made the importer write scenarios its loader refused, each in a dump of one VPC and one group.
@Suite struct AWSImportBadValueTests {
    static func dump(group: String) -> [(path: String, data: Data)] {
        [("dump/describe-vpcs.json", Data(#"{"Vpcs": [{"VpcId": "vpc-0a1b2c3d", "CidrBlock": "10.0.0.0/16"}]}"#.utf8)),
         ("dump/describe-security-groups.json", Data(#"{"SecurityGroups": [\#(group)]}"#.utf8))]
    }

    static func refusal(_ group: String) throws -> AWSDumpValueError {
        do {
            let i = try AWSImporter.importFiles(dump(group: group), directory: "dump")
            Issue.record("imported: \(i.yaml)")
            throw CancellationError()
        } catch let e as AWSDumpValueError {
            return e
        }
    }

    @Test func aNULInIpProtocolIsRefusedAtItsPath() throws {
        let e = try Self.refusal(#"{"GroupId": "sg-0a1b2c3d", "VpcId": "vpc-0a1b2c3d", "GroupName": "web", "IpPermissions": [{"IpProtocol": "\u0000", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}"#)
        #expect(e.description == "dump/describe-security-groups.json: SecurityGroups[0].IpPermissions[0].IpProtocol: "
            + "'\\u0000' is not a protocol (expected tcp, udp, icmp, -1 or a number)")
    }

    @Test func anIdOfTheWrongKindIsRefusedAtItsPath() throws {
        let e = try Self.refusal(#"{"GroupId": "subnet-0a1b2c3d", "VpcId": "vpc-0a1b2c3d", "GroupName": "web"}"#)
        #expect(e.description == "dump/describe-security-groups.json: SecurityGroups[0].GroupId: 'subnet-0a1b2c3d' is "
            + "not an id of the right kind (expected sg-…)")
        let quote = try Self.refusal(#"{"GroupId": "sg-0a1b\"}, x: {", "VpcId": "vpc-0a1b2c3d"}"#)
        #expect(quote.path == "SecurityGroups[0].GroupId" && quote.message.contains("is not a well-formed id"))
        let number = try Self.refusal(#"{"GroupId": "sg-0a1b2c3d", "VpcId": 7}"#)
        #expect(number.description == "dump/describe-security-groups.json: SecurityGroups[0].VpcId: expected an id, found the number 7")
    }

    @Test func aNullIdIsReadAsAbsent() throws {
        let i = try AWSImporter.importFiles(Self.dump(group: #"{"GroupId": null, "VpcId": "vpc-0a1b2c3d"}"#), directory: "dump")
        #expect(i.warnings.first?.description == "describe-security-groups.json: SecurityGroups[0]: has no GroupId; left out [repaired]")
        _ = try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml")
    }

    @Test func controlCharactersInNamesAreEscapedAndInWarningsTooSoBothStayOneLine() throws {
        let i = try AWSImporter.importFiles(Self.dump(group: #"{"GroupId": "sg-0a1b2c3d", "VpcId": "vpc-0a1b2c3d", "GroupName": "a\u0000b\u2028c", "Description": "x\ny", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/33\nz"}]}]}"#), directory: "dump")
        let s = try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml")
        #expect(s.model.securityGroups.first?.name == "a\u{0}b\u{2028}c")
        #expect(i.warnings.first?.description == "sg-0a1b2c3d: ingress CIDR '10.0.0.0/33\\nz' is not an IPv4 CIDR; left out [repaired]")
        #expect(i.yaml.contains("#   - sg-0a1b2c3d: ingress CIDR '10.0.0.0/33\\nz' is not an IPv4 CIDR; left out [repaired]\n"))
    }

    @Test func aWideningIsWarnedAboutOnlyWhenTheRuleIsWritten() throws {
        // ICMP type 8 from a group that is not in the dump: nothing is imported, so nothing is "imported as all ICMP".
        let i = try AWSImporter.importFiles(Self.dump(group: #"{"GroupId": "sg-0a1b2c3d", "VpcId": "vpc-0a1b2c3d", "IpPermissions": [{"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "UserIdGroupPairs": [{"GroupId": "sg-0fffffff"}]}]}"#),
                                            directory: "dump")
        #expect(i.counts.securityGroupRules == 0)
        #expect(i.warnings.map(\.message).filter { $0.contains("ICMP") }.isEmpty, "\(i.warnings)")
        // A second NACL entry of the same number with a bad port range: left out, not "imported as all ports".
        var files = Self.dump(group: #"{"GroupId": "sg-0a1b2c3d", "VpcId": "vpc-0a1b2c3d"}"#)
        files.append(("dump/describe-network-acls.json", Data(#"{"NetworkAcls": [{"NetworkAclId": "acl-0a1b2c3d", "VpcId": "vpc-0a1b2c3d", "IsDefault": true, "Entries": [{"RuleNumber": 100, "Protocol": "6", "PortRange": {"From": 22, "To": 22}, "CidrBlock": "0.0.0.0/0", "RuleAction": "allow", "Egress": false}, {"RuleNumber": 100, "Protocol": "6", "PortRange": {"From": 30, "To": 20}, "CidrBlock": "0.0.0.0/0", "RuleAction": "deny", "Egress": false}]}]}"#.utf8)))
        let n = try AWSImporter.importFiles(files, directory: "dump")
        #expect(n.yaml.contains("{rule: 100, protocol: tcp, ports: \"22\", cidr: 0.0.0.0/0, action: allow}"))
        #expect(n.warnings.map(\.message).contains("inbound rule #100 appears twice; the first is kept"))
        #expect(!n.warnings.map(\.message).contains { $0.contains("imported as all ports") }, "\(n.warnings)")
    }
}
