import Foundation
import Packets
@testable import Sim
import TestSupport
import Testing

/// `FlowLogReplay`: real flow logs (the AWS documentation's examples, captures/reference/public/flowlogs) replayed
/// against a network that carries them, and against one changed to turn a logged verdict around.
@Suite("Replaying real flow logs")
struct ReplayTests {
    /// The network of AWS's TCP-flag example: an instance (10.0.0.62, ENI eni-1235b8ca123456789 in the log) that a
    /// client on the internet (52.213.180.42) reaches on port 5001. `inbound` is the public NACL's rule for 5001.
    static func network(inbound: String = "allow", sgPort: String = "5001") throws -> Scenario {
        try ScenarioLoader.load(yaml: """
            name: replay-aws-example
            vpcs:
              - {id: vpc-0a1b2c3d4e5f60718, name: main, cidr_blocks: [10.0.0.0/16]}
            internet_gateways:
              - {id: igw-0c2d4e6f8a0b1c2d3, name: main-igw, vpc: main}
            route_tables:
              - id: rtb-0f1e2d3c4b5a69788
                name: public-rt
                vpc: main
                main: true
                routes:
                  - {destination: 0.0.0.0/0, target: main-igw}
            network_acls:
              - id: acl-0b1c2d3e4f5a6b7c8
                name: public-nacl
                vpc: main
                inbound:
                  - {rule: 100, protocol: tcp, ports: 5001, cidr: 0.0.0.0/0, action: \(inbound)}
                outbound:
                  - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0, action: allow}
            security_groups:
              - id: sg-0a9b8c7d6e5f40312
                name: iperf-sg
                vpc: main
                ingress:
                  - {protocol: tcp, ports: \(sgPort), cidr: 0.0.0.0/0}
            subnets:
              - {id: subnet-0aa11bb22cc33dd44, name: public, vpc: main, cidr: 10.0.0.0/24, network_acl: public-nacl}
            instances:
              - id: i-01234567890123456
                name: iperf
                subnet: public
                private_ip: 10.0.0.62
                public_ip: 198.51.100.62
                security_groups: [iperf-sg]
            flows: []
            """, file: "replay-aws-example.yaml")
    }

    static let tcpFlags = Fixtures.reference("public/flowlogs/awsdocs_v3-custom_tcp-flag-sequence.log")

    static func replay(_ files: [String], _ s: Scenario, format: FlowLogFormat = .defaultV2) throws -> FlowLogReplay {
        try FlowLogReplay.run(files: files, scenario: s, label: s.name,
                              options: .init(interfaceMap: ["eni-1235b8ca123456789": s.model.enis[0].id], format: format))
    }

    @Test("AWS's TCP-flag example (a custom v3 format) agrees with the network that carries it")
    func agrees() throws {
        let r = try Self.replay([Self.tcpFlags], try Self.network())
        #expect(r.records == 8)
        #expect(r.connections == 3)
        #expect(r.disagreements.isEmpty, "\(r.text)")
        #expect(r.notModeled.isEmpty)
        #expect(r.text.hasSuffix("3 connections replayed (8 records): 8 as logged, 0 turned around\n"))
    }

    @Test("a NACL rule changed to DENY turns the logged ACCEPTs into REJECTs, naming the rule")
    func naclDenies() throws {
        let r = try Self.replay([Self.tcpFlags], try Self.network(inbound: "deny"))
        #expect(!r.agree)
        #expect(r.connections == 3 && r.disagreeingConnections == 3)
        let request = try #require(r.disagreements.first { $0.side == "request" })
        #expect(request.change == "ACCEPT → REJECT")
        #expect(request.initiator == "52.213.180.42" && request.initiator_port == "*")
        #expect(request.responder == "10.0.0.62" && request.responder_port == 5001)
        #expect(request.connections == 3 && request.records == 4)
        #expect(request.rule == "acl-0b1c2d3e4f5a6b7c8 (public-nacl) inbound: #100 DENY tcp 5001 0.0.0.0/0 → DROPPED")
        #expect(request.first_record.hasSuffix("awsdocs_v3-custom_tcp-flag-sequence.log:2"))
        // The replies were logged too: with no request arriving, there are none.
        let reply = try #require(r.disagreements.first { $0.side == "reply" })
        #expect(reply.records == 4)
        #expect(reply.rule.hasPrefix("the request is dropped: acl-0b1c2d3e4f5a6b7c8 (public-nacl) inbound: #100 DENY"))
    }

    @Test("a security group without the port: the network's verdict is its ingress")
    func securityGroupDenies() throws {
        let r = try Self.replay([Self.tcpFlags], try Self.network(sgPort: "22"))
        let request = try #require(r.disagreements.first { $0.side == "request" })
        #expect(request.rule.hasPrefix("sg-0a9b8c7d6e5f40312 (iperf-sg) ingress"))
        #expect(request.rule.hasSuffix("→ DROPPED"))
    }

    @Test("the initiator comes from the TCP flags, not the ports, when the log has them")
    func initiatorFromFlags() throws {
        // The client's port is made lower than the server's: the flags still name the client.
        let text = try String(contentsOfFile: Self.tcpFlags, encoding: .utf8)
            .replacingOccurrences(of: " 43416 5001 ", with: " 4000 5001 ").replacingOccurrences(of: " 5001 43416 ", with: " 5001 4000 ")
        let dir = makeTempDirectory("vpcsim-replay")
        try text.write(toFile: dir + "/low.log", atomically: true, encoding: .utf8)
        let r = try Self.replay([dir + "/low.log"], try Self.network(inbound: "deny"))
        #expect(r.disagreements.allSatisfy { $0.initiator == "52.213.180.42" && $0.responder_port == 5001 })
    }

    @Test("a headerless file in a custom format, read with the format given")
    func headerlessCustomFormat() throws {
        let lines = try String(contentsOfFile: Self.tcpFlags, encoding: .utf8).split(separator: "\n").dropFirst()
        let dir = makeTempDirectory("vpcsim-replay")
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/noheader.log", atomically: true, encoding: .utf8)
        let header = try String(contentsOfFile: Self.tcpFlags, encoding: .utf8).split(separator: "\n")[0]
        let format = try FlowLogFormat(parsing: header.split(separator: " ").map { "${\($0)}" }.joined(separator: " "))
        let r = try Self.replay([dir + "/noheader.log"], try Self.network(inbound: "deny"), format: format)
        #expect(r.records == 8 && r.disagreements.count == 2)
        // Without the format, the first line is not a version 2 record.
        #expect(throws: FlowLogFileError.self) { try Self.replay([dir + "/noheader.log"], try Self.network()) }
    }

    @Test("records of interfaces the network does not have are not modeled, never a verdict")
    func notModeled() throws {
        let r = try FlowLogReplay.run(files: [Fixtures.reference("public/flowlogs/awsdocs_v2-default-format_examples.log")],
                                      scenario: try Self.network(), label: "x")
        #expect(r.agree)
        #expect(r.connections == 0)
        #expect(r.noData == 2)
        // Its IPv6 line is read as the others are, and is at the same interface.
        #expect(r.notModeled == [.init(what: "eni-1235b8ca123456789", reason: "interface not in the network", records: 5)])
    }

    @Test("the same logs give the same report, byte for byte")
    func deterministic() throws {
        let a = try Self.replay([Self.tcpFlags], try Self.network(inbound: "deny"))
        let b = try Self.replay([Self.tcpFlags], try Self.network(inbound: "deny"))
        #expect(a.text == b.text && a.json == b.json)
    }

    @Test("--explain: one record's hops, its flow-log view and the verdict")
    func explain() throws {
        let x = try ReplayExplanation.explain(Self.tcpFlags + ":2", scenario: try Self.network(inbound: "deny"), label: "n",
                                              options: .init(interfaceMap: ["eni-1235b8ca123456789": try Self.network().model.enis[0].id]))
        #expect(!x.agrees)
        #expect(x.text.contains("initiator 52.213.180.42:43416, responder 10.0.0.62:5001 (from the record's TCP flags)"))
        #expect(x.text.contains("acl-0b1c2d3e4f5a6b7c8 (public-nacl) inbound: #100 DENY tcp 5001 0.0.0.0/0 → DROPPED"))
        #expect(x.text.contains("logged ACCEPT, the network: REJECT"))
        #expect(x.text.contains("DISAGREES: ACCEPT → REJECT"))
    }

    @Test("lines across the reader's 1 MiB chunks, one longer than a chunk, the last without a line break")
    func linesAcrossChunks() throws {
        let dir = makeTempDirectory("replay-chunks")
        var lines: [String] = []
        var size = 0, i = 0
        while size < 3 * FlowLogStream.chunk {
            let line = i == 1000 ? String(repeating: "x", count: FlowLogStream.chunk + 77)
                : "2 123456789010 eni-1235b8ca123456789 10.0.0.\(i % 250) 52.213.180.42 \(1024 + i % 60000) 5001 6 "
                    + "\(i) \(i * 40) 1418530010 1418530070 ACCEPT OK" + (i % 7 == 0 ? "\r" : "")
            lines.append(line)
            size += line.utf8.count + 1
            i += 1
        }
        let path = dir + "/chunks.log"
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        var read: [String] = []
        try FlowLogStream.forEachLine(path: path) { n, line in
            #expect(n == read.count + 1)
            read.append(String(decoding: line, as: UTF8.self))
        }
        #expect(read.count == lines.count)
        #expect(read == lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 })
    }
}
