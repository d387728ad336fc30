import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// A simultaneous close (RFC 9293 §3.6): both ends send FIN before either has the other's, the FINs cross, and
/// each end goes FIN-WAIT-1 → CLOSING → TIME-WAIT. Linux ACKs the peer's FIN at once in FIN-WAIT-1 (tcp_fin), and
/// the security groups, the NAT gateway and the flow logs follow the connection until both FINs are ACKed.
@Suite(.serialized) struct SimultaneousCloseTests {
    /// scenarios/igw-hairpin.yaml with `http_close: simultaneous` and two HTTP requests from the Lambda to the
    /// instance: to its private IP (a path of microseconds inside the VPC) and to its Elastic IP (through the NAT
    /// gateway and the internet gateway).
    static func scenario() throws -> Scenario {
        var text = try String(contentsOfFile: repositoryRoot + "/scenarios/igw-hairpin.yaml", encoding: .utf8)
        let flows = try #require(text.range(of: "\nflows:\n"))
        text = String(text[..<flows.lowerBound])
        precondition(!text.contains("\nassumptions:"))
        text += """

            assumptions:
              http_close: simultaneous
            flows:
              - {name: direct, from: uploader, to: "10.0.0.20:443", app: http, client: curl, size: 28,
                 expect: {outcome: ok, no_drop: true}}
              - {name: by-eip, from: uploader, to: "198.51.100.20:443", app: http, client: curl, size: 28, start: 1s,
                 expect: {outcome: ok, no_drop: true}}

            """
        return try ScenarioLoader.load(yaml: text, file: "simultaneous-close.yaml")
    }

    /// One frame of a capture: who sent it (the client or not), its flags, relative sequence and ACK numbers.
    struct Frame: Equatable, CustomStringConvertible {
        var stream: Int
        var fromClient: Bool
        var flags: UInt16
        var seq: UInt32
        var ack: UInt32
        var description: String { "\(stream):\(fromClient ? "C" : "S") 0x\(String(flags, radix: 16)) \(seq)/\(ack)" }
    }

    static func frames(_ path: String, client: String) throws -> [Frame] {
        try TShark.fields(path, ["tcp.stream", "ip.src", "tcp.flags", "tcp.seq", "tcp.ack"], filter: "tcp").compactMap {
            let f = $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5, let stream = Int(f[0]), let flags = UInt16(f[2].dropFirst(2), radix: 16),
                  let seq = UInt32(f[3]), let ack = UInt32(f[4]) else { return nil }
            return Frame(stream: stream, fromClient: f[1] == client, flags: flags, seq: seq, ack: ack)
        }
    }

    /// The run's captures, flow logs and NAT metrics.
    @Test func theFINsCrossAndEveryComponentSeesTheCloseThrough() throws {
        let out = makeTempDirectory("vpcsim-simultaneous-close")
        let o = try Runner.run(scenario: try Self.scenario(), options: .init(outDir: out))
        #expect(o.exitCode == 0)
        #expect(o.results.map(\.outcome) == [.ok, .ok], "\(o.results.map(\.message))")
        #expect(o.report.flows.allSatisfy { $0.drop == nil })
        #expect(o.report.assumptions.contains { $0.name == "http_close" && $0.value == "simultaneous" && $0.overridden })

        // At every capture point of either conversation: its own FIN, the other's, its ACK of that, the other's
        // ACK of its FIN; neither FIN acknowledges the other, and nothing is retransmitted. (Through the NAT
        // gateway the client's ACK of the body is still on its way when the server's FIN leaves: not part of the
        // close, left out.)
        let files = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".pcap") }.sorted()
        let lambda = try #require(files.first { $0.contains("lambda-uploader") }, "\(files)")
        let instance = try #require(files.first { $0.contains("instance-web") }, "\(files)")
        for (file, client) in [(lambda, "10.0.1.10"), (instance, "10.0.1.10"), (instance, "198.51.100.7")] {
            let all = try Self.frames(out + "/" + file, client: client)
            let streams = Set(all.filter { $0.fromClient }.map(\.stream))
            try #require(!streams.isEmpty, "\(file) \(client)")
            for s in streams.sorted() {
                let f = all.filter { $0.stream == s }
                let firstFIN = try #require(f.firstIndex { $0.flags & 1 != 0 }, "\(file): \(f)")
                let fins = f.filter { $0.flags & 1 != 0 }
                try #require(fins.count == 2 && fins[0].fromClient != fins[1].fromClient, "\(file): \(f)")
                let close = f[firstFIN...].filter { g in
                    g.flags & 1 != 0 || fins.contains { $0.fromClient != g.fromClient && g.ack == $0.seq + 1 }
                }
                try #require(close.count == 4, "\(file): \(close)")
                #expect(f[firstFIN...].count <= 5, "\(file): \(f)")
                let own = close[0].fromClient
                #expect(close.map(\.fromClient) == [own, !own, own, !own], "\(file): \(close)")
                #expect(close.map(\.flags) == [0x011, 0x011, 0x010, 0x010], "\(file): \(close)")
                #expect(close[1].ack != close[0].seq + 1 && close[0].ack != close[1].seq + 1, "\(file): \(close)")
                #expect(close[2].ack == close[1].seq + 1 && close[3].ack == close[0].seq + 1, "\(file): \(close)")
            }
        }
        for file in files {
            #expect(try TShark.problems(in: out + "/" + file).problems.isEmpty, "\(file)")
            let expert = try TShark.run(["-n", "-r", out + "/" + file] + TShark.checksumOptions + ["-q", "-z", "expert,note"])
            // TCP's only expert notes are the two FINs' ("initiates", "undergoes the connection closing"): no
            // retransmission, duplicate ACK or unseen segment. (HTTP's note about plain HTTP on port 443 is the
            // scenario's choice of port.)
            let tcp = expert.stdout.split(separator: "\n").filter { $0.contains(" TCP ") }
            #expect(tcp.count == 2 && tcp.allSatisfy { $0.contains("Sequence") && $0.contains("the connection closing") },
                    "\(file): \(expert.stdout)")
            #expect(!expert.stdout.contains("Errors ("), "\(file): \(expert.stdout)")
        }

        // The NAT gateway: every packet of the request by Elastic IP translated, none dropped, one connection.
        let nat = try #require(o.report.nat_gateways.first).metrics
        #expect(nat.packetsDropCount == 0)
        #expect(nat.connectionAttemptCount == 1 && nat.connectionEstablishedCount == 1)
        let byEIP = try Self.frames(out + "/" + lambda, client: "10.0.1.10").filter { $0.stream == 1 }
        let fromClient = byEIP.filter(\.fromClient).count
        #expect(nat.packetsInFromSource == nat.packetsOutToDestination && nat.packetsInFromSource == fromClient, "\(nat)")
        #expect(nat.packetsInFromDestination == nat.packetsOutToSource
                    && nat.packetsInFromDestination == byEIP.count - fromClient, "\(nat)")

        // Flow logs: one record per connection, direction and ENI (the last ACK belongs to the connection it
        // closes), all accepted, the packets those of the captures.
        let records = try #require(o.flowLogRecords).filter { $0.proto == 6 }
        #expect(records.allSatisfy { $0.action == .accept })
        var seen: [String: Int] = [:]
        for r in records { seen["\(r.interfaceID) \(r.srcaddr):\(r.srcport) \(r.dstaddr):\(r.dstport)", default: 0] += 1 }
        #expect(seen.values.allSatisfy { $0 == 1 }, "\(seen.sorted { $0.key < $1.key })")
        for file in [lambda, instance] {
            let eni = String(file[try #require(file.range(of: "eni-")).lowerBound...].dropLast(".pcap".count))
            let here = records.filter { $0.interfaceID == eni }
            #expect(here.count == 4, "\(eni): \(here)")
            #expect(here.reduce(0) { $0 + $1.packets } == (try Self.frames(out + "/" + file, client: "").count), "\(eni)")
        }
    }

    /// Both TCP endpoints of each connection end closed (through CLOSING and TIME-WAIT), and nothing keeps state
    /// for them: no connection, no NAT mapping, no tracked security-group entry.
    @Test func bothEndsCloseAndNothingIsLeftTracked() throws {
        let sim = Simulation(scenario: try Self.scenario())
        var connections: [TCPConnection] = []
        sim.connectionCreated = { connections.append($0) }
        let rec = RunRecorder(sim: sim, captures: nil)
        sim.observer = rec
        sim.run()
        #expect(sim.results.map(\.outcome) == [.ok, .ok])
        #expect(connections.count == 4)
        #expect(connections.allSatisfy { $0.state == .closed })
        #expect(connections.allSatisfy { $0.closeReason == .closed }, "\(connections.map(\.closeReason))")
        #expect(sim.openConnections == 0)
        #expect(sim.network.nats[0].activeConnections == 0)
        #expect(sim.network.trackedConnections == 0)
    }
}
