import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// `vpcsim replay` of IPv6 records: their addresses read from the bytes into tokens and replayed through the IPv6
/// routes and rules, as the IPv4 ones are.
@Suite("Replaying IPv6 flow-log records")
struct IPv6ReplayTests {
    static let story = repositoryRoot + "/scenarios/lambda-sftp-ipv6-nacl.yaml"

    /// The story's run: its flow logs (IPv6 records at the Lambda function's ENI among them), written to a file.
    static let logs: String = {
        let o = try! Runner.run(path: story, options: .init(writeFiles: false))
        let dir = makeTempDirectory("vpcsim-replay6")
        try! o.flowLogText!.write(toFile: dir + "/flow-logs.txt", atomically: true, encoding: .utf8)
        return dir + "/flow-logs.txt"
    }()

    @Test func theStorysOwnIPv6RecordsAgreeWithItsNetwork() throws {
        let text = try String(contentsOfFile: Self.logs, encoding: .utf8)
        let v6 = text.split(separator: "\n").filter { $0.contains(" 2001:db8::22 ") }
        #expect(v6.count >= 2, "\(text)")
        let r = try FlowLogReplay.run(files: [Self.logs], scenario: try ScenarioLoader.load(path: Self.story), label: "story")
        #expect(r.disagreements.isEmpty, "\(r.text)")
        #expect(r.notModeled.isEmpty, "\(r.text)")
        #expect(r.agree && r.records == text.split(separator: "\n").count - 1)
        #expect(!r.text.contains("IPv6 is not modeled"))
    }

    /// With the fix (the `::/0` entries both ways), the logged REJECTs of the IPv6 attempts turn into ACCEPTs, and
    /// the entry that lets them through is named as the console shows it.
    @Test func theFixedNACLTurnsTheIPv6RejectsAround() throws {
        let text = try String(contentsOfFile: Self.story, encoding: .utf8)
        let fixed = text.replacingOccurrences(of: "      - {rule: 100, protocol: tcp, ports: 22, cidr: 0.0.0.0/0, action: allow}\n",
                                              with: "      - {rule: 100, protocol: tcp, ports: 22, cidr: 0.0.0.0/0, action: allow}\n"
                                                + "      - {rule: 101, protocol: tcp, ports: 22, cidr: \"::/0\", action: allow}\n")
            .replacingOccurrences(of: "      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0, action: allow}   # replies\n",
                                  with: "      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0, action: allow}\n"
                                    + "      - {rule: 101, protocol: tcp, ports: 1024-65535, cidr: \"::/0\", action: allow}\n")
        #expect(fixed.components(separatedBy: "::/0\", action: allow}").count
                == text.components(separatedBy: "::/0\", action: allow}").count + 2)
        let s = try ScenarioLoader.load(yaml: fixed, file: "fixed.yaml")
        let r = try FlowLogReplay.run(files: [Self.logs], scenario: s, label: "fixed")
        #expect(!r.agree && r.notModeled.isEmpty, "\(r.text)")
        let d = try #require(r.disagreements.first { $0.change == "REJECT → ACCEPT" }, "\(r.text)")
        #expect(d.responder == "2001:db8::22" && d.responder_port == 22, "\(r.text)")
        #expect(d.initiator.hasPrefix("2600:1f18:abc:de01::"), "\(r.text)")
        #expect(r.text.contains("#101 ALLOW tcp 22 ::/0"), "\(r.text)")
        // The IPv4 records agree as before: every disagreement is an IPv6 one.
        #expect(r.disagreements.allSatisfy { $0.responder == "2001:db8::22" }, "\(r.text)")
    }

    /// A connection from the internet to an instance's IPv6 address comes in untranslated (no public IP needed):
    /// the web instance of the dual-stack scenario takes SSH over IPv6 (#101 ALLOW tcp 22 ::/0; its replies leave
    /// by an outbound #101 added here), not 443.
    @Test func aRecordFromTheInternetReachesAnIPv6AddressUntranslated() throws {
        let outbound = "    outbound:\n      - {rule: 100, protocol: all, cidr: 0.0.0.0/0, action: allow}\n"
        let text = DualStackScenarioTests.yaml()
        #expect(text.contains(outbound))
        let s = try DualStackScenarioTests.load(text.replacingOccurrences(
            of: outbound, with: outbound + "      - {rule: 101, protocol: tcp, ports: 1024-65535, cidr: \"::/0\", action: allow}\n"))
        let eni = s.model.enis[s.model.instances[0].eni].id
        let dir = makeTempDirectory("vpcsim-replay6")
        let log = """
            version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
            2 123456789010 \(eni) 2001:db8:66::66 2600:1f18:abc:de00::10 40112 22 6 3 180 1795683600 1795683660 ACCEPT OK
            2 123456789010 \(eni) 2600:1f18:abc:de00::10 2001:db8:66::66 22 40112 6 3 180 1795683600 1795683660 ACCEPT OK
            2 123456789010 \(eni) 2001:0db8:0066:0000:0000:0000:0000:0066 2600:1f18:abc:de00::10 40113 443 6 1 80 1795683600 1795683660 ACCEPT OK

            """
        try (log + "2 123456789010 \(eni) 2001:db8:66::66 2600:1f18:abc:de00::10 0 0 58 1 64 1795683600 1795683660 "
             + "ACCEPT OK\n").write(toFile: dir + "/v6.log", atomically: true, encoding: .utf8)
        let r = try FlowLogReplay.run(files: [dir + "/v6.log"], scenario: s, label: "ds")
        #expect(r.records == 4 && r.connections == 2, "\(r.text)")
        // An ICMPv6 record is named, never a verdict.
        #expect(r.notModeled == [.init(what: "ICMPv6", reason: "ICMPv6 records are not replayed (no ICMPv6 message is "
                                       + "probed)", records: 1)], "\(r.text)")
        // The SSH connection agrees; the one to 443 meets `* DENY all ::/0` inbound (the NACL's only IPv6 entry
        // is for 22): logged ACCEPT, the network rejects it. The address written in full is the same address.
        let d = try #require(r.disagreements.first, "\(r.text)")
        #expect(r.disagreements.count == 1 && d.change == "ACCEPT → REJECT" && d.responder_port == 443, "\(r.text)")
        #expect(d.initiator == "2001:db8:66::66" && d.rule.contains("* DENY all ::/0"), "\(r.text)")
    }

    /// `--explain` of one IPv6 record of the story: the IPv6 SYN at the Lambda's ENI, REJECT as logged, dropped at
    /// the NACL's `* DENY all ::/0` outbound, its direction at the ENI read from the ENI's IPv6 address.
    @Test func oneIPv6RecordExplained() throws {
        let lines = try String(contentsOfFile: Self.logs, encoding: .utf8).split(separator: "\n")
        let n = try #require(lines.firstIndex { $0.contains(" 2001:db8::22 ") && $0.hasSuffix("REJECT OK") }) + 1
        let x = try ReplayExplanation.explain(Self.logs + ":\(n)", scenario: try ScenarioLoader.load(path: Self.story),
                                              label: "story")
        #expect(x.agrees, "\(x.text)")
        #expect(x.text.contains("responder 2001:db8::22:22"), "\(x.text)")
        #expect(x.text.contains("acl-0c1d2e3f4a5b6c7d8 (private-nacl) outbound: * DENY all ::/0 → DROPPED"), "\(x.text)")
        #expect(x.text.contains("the request: logged REJECT, the network: REJECT"), "\(x.text)")
    }

    @Test(arguments: [
        ("2001:db8::22", "2001:db8::22"), ("::", "::"), ("::1", "::1"), ("2001:db8::", "2001:db8::"),
        ("2600:1F18:ABC:DE00:0:0:0:10", "2600:1f18:abc:de00::10"), ("fe80::1:2:3:4:5:6", "fe80:0:1:2:3:4:5:6"),
        ("::ffff:192.0.2.1", nil), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ] as [(String, String?)])
    func anIPv6AddressIsReadFromItsBytes(_ text: String, _ canonical: String?) {
        let bytes = Array(text.utf8)
        let a = bytes.withUnsafeBufferPointer { ReplayRecords.ipv6($0) }
        if let canonical { #expect(a?.description == canonical) }
        // The same address as the scenario parser reads (the dotted-quad form goes through it).
        #expect(a != nil && a == IPv6Address(text))
    }

    @Test(arguments: ["", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "2001:db8:", ":1::",
                      "g::1", "1:2:3:4:5:6:7::8", "2001:db8::1%eth0"])
    func aFieldThatIsNotAnIPv6AddressIsNone(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBufferPointer { ReplayRecords.ipv6($0) } == nil)
        #expect(IPv6Address(text) == nil)
    }

    @Test func aRecordMixingFamiliesIsAnErrorNamingTheField() throws {
        let s = try DualStackScenarioTests.load(DualStackScenarioTests.yaml())
        let eni = s.model.enis[s.model.instances[0].eni].id
        let dir = makeTempDirectory("vpcsim-replay6")
        try "2 123456789010 \(eni) 10.0.0.10 2001:db8::22 40112 22 6 3 180 1795683600 1795683660 ACCEPT OK\n"
            .write(toFile: dir + "/mixed.log", atomically: true, encoding: .utf8)
        #expect(throws: FlowLogFileError(path: dir + "/mixed.log", line: 1, message: "srcaddr '10.0.0.10' is IPv4 where "
                                         + "the record's other address is IPv6 (a record's addresses are one family)")) {
            _ = try FlowLogReplay.run(files: [dir + "/mixed.log"], scenario: s, label: "ds")
        }
    }
}
