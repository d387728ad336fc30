import Foundation
import Packets
import Testing
import TestSupport
@testable import Sim

/// When a flow-log record is complete and leaves memory: a TCP connection's at its close (assumption
/// `flow_log_record_per_connection`), the rest at the end of their aggregation interval; and how
/// flow-logs.txt is written as they complete.
@Suite("Flow logs: records complete at a connection's close or at the end of their interval")
struct FlowLogCompletionTests {
    // The story model built in code: ENI 0 is the Lambda's (10.0.1.10), ENI 1 the NAT gateway's (10.0.0.5).
    let model = StoryModel().build()
    let lambda = ip("10.0.1.10")
    let server = ip("203.0.113.22")
    let start: Int64 = 1_795_689_600_000_000_000  // Scenario's default start_time: 2026-11-27T00:00:00Z
    var startUnix: Int64 { start / 1_000_000_000 }

    func recorder(perConnection: Bool = true, interval: Int = 600, keep: Int = FlowLogRecorder.keptRecordLimit)
        -> FlowLogRecorder {
        FlowLogRecorder(model: model, settings: FlowLogSettings(interval: interval), startTime: start,
                        perConnection: perConnection, keep: keep)
    }

    func tcp(_ src: IPv4Address, _ sport: UInt16, _ dst: IPv4Address, _ dport: UInt16, _ flags: TCPFlags,
             length: UInt16, seq: UInt32 = 1, ack: UInt32 = 0) -> SimPacket {
        var ip = IPv4Header(source: src, destination: dst, proto: .tcp, ttl: 64)
        ip.totalLength = length
        let t = TCPHeader(sourcePort: sport, destinationPort: dport, sequenceNumber: seq, acknowledgmentNumber: ack,
                          flags: flags, window: 502)
        return SimPacket(ip: ip, transport: .tcp(t), flow: 0, fromClient: true)
    }

    func udp(_ src: IPv4Address, _ sport: UInt16, _ dst: IPv4Address, _ dport: UInt16) -> SimPacket {
        var ip = IPv4Header(source: src, destination: dst, proto: .udp, ttl: 64)
        ip.totalLength = 76
        return SimPacket(ip: ip, transport: .udp(UDPHeader(sourcePort: sport, destinationPort: dport)), flow: 0,
                         fromClient: true)
    }

    /// One HTTPS-like connection at the Lambda ENI, every packet 10 ms after the last from 1 s: handshake, a
    /// request, the client's FIN, the server's FIN (which ACKs the client's), and then (unless `lastACK` is false)
    /// the client's last ACK (`lastACKPacket`). The client's sequence numbers start at 1000, the server's at 5000.
    func connection(_ rec: FlowLogRecorder, port: UInt16 = 40000, from: Int64 = 1_000_000_000, lastACK: Bool = true) {
        var t = from
        func out(_ f: TCPFlags, _ len: UInt16, _ seq: UInt32, _ ack: UInt32) {
            rec.interface(eni: 0, time: t, packet: tcp(lambda, port, server, 443, f, length: len, seq: seq, ack: ack),
                          egress: true, accepted: true)
            t += 10_000_000
        }
        func back(_ f: TCPFlags, _ len: UInt16, _ seq: UInt32, _ ack: UInt32) {
            rec.interface(eni: 0, time: t, packet: tcp(server, 443, lambda, port, f, length: len, seq: seq, ack: ack),
                          egress: false, accepted: true)
            t += 10_000_000
        }
        out(.syn, 60, 1000, 0); back([.syn, .ack], 60, 5000, 1001); out(.ack, 52, 1001, 5001)
        out([.psh, .ack], 252, 1001, 5001); back(.ack, 52, 5001, 1201)
        out([.fin, .ack], 52, 1201, 5001); back([.fin, .ack], 52, 5001, 1202)
        if lastACK { rec.interface(eni: 0, time: t, packet: lastACKPacket(port), egress: true, accepted: true) }
    }

    /// The client's ACK of the server's FIN in `connection`.
    func lastACKPacket(_ port: UInt16 = 40000) -> SimPacket {
        tcp(lambda, port, server, 443, .ack, length: 52, seq: 1202, ack: 5002)
    }

    @Test("a connection's records complete at its close — both FINs, then the last ACK — with its packets, bytes and flags")
    func closeCompletes() throws {
        let rec = recorder()
        connection(rec, lastACK: false)
        // Both FINs seen, the last ACK not yet: still open.
        #expect(rec.recordCount == 0 && rec.liveRecordCount == 2 && rec.liveConnectionCount == 1)
        rec.interface(eni: 0, time: 1_070_000_000, packet: lastACKPacket(), egress: true, accepted: true)
        #expect(rec.recordCount == 2 && rec.liveRecordCount == 0 && rec.liveConnectionCount == 0)
        let recs = try #require(rec.records)
        try #require(recs.count == 2)
        let out = recs[0], back = recs[1]  // same start: srcaddr 10.0.1.10 before 203.0.113.22
        #expect(out.direction == .egress && out.srcaddr == lambda && out.dstaddr == server)
        #expect(out.srcport == 40000 && out.dstport == 443 && out.action == .accept && out.interfaceID == "eni-0lambda")
        #expect(out.packets == 5 && out.bytes == 60 + 52 + 252 + 52 + 52)
        #expect(out.tcpFlags == 3)  // SYN | FIN; ACK and PSH are not logged
        #expect(back.direction == .ingress && back.srcaddr == server && back.dstaddr == lambda)
        #expect(back.packets == 3 && back.bytes == 60 + 52 + 52)
        #expect(back.tcpFlags == 19)  // SYN-ACK | FIN
        #expect(out.start == startUnix + 1 && out.end == startUnix + 1)
        #expect(out.trafficPath == 1 && back.trafficPath == nil)  // to the NAT gateway: same VPC
    }

    @Test("traffic-path follows the route an egress packet takes: 1 in the VPC, 4 peering, none for a blackhole")
    func trafficPathByRouteKind() throws {
        var m = model
        // The Lambda's subnet's table (private): a peering connection, a blackhole and an appliance ENI.
        m.routeTables[1].routes += [Route(destination: cidr("10.9.0.0/16"), target: .peering("pcx-0peer")),
                                    Route(destination: cidr("10.8.0.0/16"), target: .blackhole(was: "nat-0gone")),
                                    Route(destination: cidr("10.7.0.0/16"), target: .networkInterface(1))]
        let rec = FlowLogRecorder(model: m, settings: FlowLogSettings(interval: 600), startTime: start)
        let destinations = ["10.9.0.1": 4, "10.8.0.1": nil, "10.7.0.1": 1, "203.0.113.22": 1, "10.0.0.5": 1]
        for (k, d) in destinations.keys.sorted().enumerated() {
            rec.interface(eni: 0, time: Int64(k) * 1_000_000, packet: udp(lambda, 5000, ip(d), 53), egress: true,
                          accepted: true)
        }
        try rec.finish()
        let records = try #require(rec.records)
        #expect(records.count == destinations.count)
        for r in records { #expect(r.trafficPath == destinations[r.dstaddr.description]!, "\(r.dstaddr)") }
    }

    @Test("an RST closes the connection at once; without the assumption records wait for their interval to end")
    func resetAndAssumptionOff() throws {
        let rec = recorder()
        rec.interface(eni: 0, time: 1_000_000_000, packet: tcp(lambda, 40001, server, 2222, .syn, length: 60),
                      egress: true, accepted: true)
        rec.interface(eni: 0, time: 1_040_000_000, packet: tcp(server, 2222, lambda, 40001, [.rst, .ack], length: 40),
                      egress: false, accepted: true)
        #expect(rec.recordCount == 2 && rec.liveRecordCount == 0)
        #expect(try #require(rec.records).map(\.tcpFlags) == [2, 4])

        let off = recorder(perConnection: false)
        connection(off)
        #expect(off.recordCount == 0 && off.liveRecordCount == 2 && off.liveConnectionCount == 0)
        try off.finish()
        #expect(off.recordCount == 2 && off.liveRecordCount == 0)
        #expect(try #require(off.records).map(\.packets) == [5, 3])
    }

    @Test("a rejected SYN's record, and a UDP record, complete when their interval ends")
    func rejectedSYNAtIntervalEnd() throws {
        let rec = recorder(interval: 60)
        // Linux retries at 1, 2, 4, 8, 16 s; the subnet's NACL rejects every SYN on the way out.
        for s: Int64 in [1, 2, 4, 8, 16] {
            rec.interface(eni: 0, time: s * 1_000_000_000, packet: tcp(lambda, 40002, server, 22, .syn, length: 60),
                          egress: true, accepted: false)
        }
        rec.interface(eni: 1, time: 59_000_000_000, packet: udp(lambda, 5353, server, 53), egress: false, accepted: true)
        #expect(rec.recordCount == 0 && rec.liveRecordCount == 2)
        // The first packet of the next interval: the first one has ended.
        rec.interface(eni: 1, time: 61_000_000_000, packet: udp(lambda, 5353, server, 53), egress: false, accepted: true)
        #expect(rec.recordCount == 2 && rec.liveRecordCount == 1)
        // A connection that never closes is not kept past the interval it was last active in.
        #expect(rec.liveConnectionCount == 0)
        let recs = try #require(rec.records)
        let syn = try #require(recs.first { $0.proto == 6 })
        #expect(syn.action == .reject && syn.packets == 5 && syn.bytes == 300 && syn.tcpFlags == 2)
        #expect(syn.start == startUnix + 1 && syn.end == startUnix + 16)
        let dns = try #require(recs.first { $0.proto == 17 })
        #expect(dns.interfaceID == "eni-0nat" && dns.packets == 1 && dns.end == startUnix + 59)
        try rec.finish()
        #expect(rec.recordCount == 3 && rec.liveRecordCount == 0)
        #expect(try #require(rec.records).last?.start == startUnix + 61)
    }

    /// Two HTTPS connections from the Lambda with the same source port, 2 s apart, in one interval.
    func reusedPort(perConnection: Bool) throws -> [FlowLogRecord] {
        var a = Assumptions()
        a.flowLogRecordPerConnection = perConnection
        a.natPortSelection = .preserve
        var first = StoryModel.flow("first", .https, port: 443)
        var second = StoryModel.flow("second", .https, port: 443, start: 2_000_000_000)
        first.sourcePort = 40000
        second.sourcePort = 40000
        let o = try Runner.run(scenario: StoryModel().scenario([first, second], assumptions: a),
                               options: .init(writeFiles: false))
        #expect(o.results.map(\.outcome) == [.ok, .ok])
        return try #require(o.flowLogRecords).filter { $0.interfaceID == "eni-0lambda" && $0.dstport == 443 }
    }

    @Test("two connections reusing a 5-tuple in one interval: two records with the assumption, one without")
    func reusedFiveTuple() throws {
        let on = try reusedPort(perConnection: true)
        try #require(on.count == 2)
        #expect(on.allSatisfy { $0.srcport == 40000 && $0.tcpFlags == 3 })
        #expect(on[0].end < on[1].start)
        let off = try reusedPort(perConnection: false)
        #expect(off.count == 1)
        let pooled = try #require(off.first)
        #expect(pooled.packets == on[0].packets + on[1].packets && pooled.bytes == on[0].bytes + on[1].bytes)
        #expect(pooled.start == on[0].start && pooled.end == on[1].end && pooled.tcpFlags == 3)
    }

    @Test("the assumption is read from assumptions:, listed, and false when overridden")
    func assumptionParsed() throws {
        let yaml = try String(contentsOfFile: repositoryRoot + "/scenarios/closed-port.yaml", encoding: .utf8)
        let base = try ScenarioLoader.load(yaml: yaml, file: "t.yaml")
        #expect(base.assumptions.flowLogRecordPerConnection)
        #expect(base.assumptions.listing.contains { $0.name == "flow_log_record_per_connection" && $0.value == "true" })
        let s = try ScenarioLoader.load(yaml: yaml + "\nassumptions: {flow_log_record_per_connection: false}\n",
                                        file: "t.yaml")
        #expect(!s.assumptions.flowLogRecordPerConnection)
        #expect(s.assumptions.overridden == ["flow_log_record_per_connection"])
        let text = try Runner.run(scenario: s, options: .init(writeFiles: false)).text
        #expect(text.contains("flow_log_record_per_connection   false        set by the scenario"))
    }

    /// A fleet of short HTTPS connections from the Lambda through the NAT gateway, spread over 30 s.
    func fleet(_ n: Int, perConnection: Bool = true) -> Scenario {
        var a = Assumptions()
        a.flowLogRecordPerConnection = perConnection
        var s = StoryModel().scenario([], assumptions: a)
        s.generators = [FlowGenerator(name: "fleet", template: StoryModel.flow("f", .https, port: 443, size: 2_000),
                                      count: n, start: 0, over: 30_000_000_000)]
        return s
    }

    @Test("records completing together are in address order, IPv4 before IPv6, not in IPv6 token order")
    func recordsInAddressOrder() throws {
        // Two IPv6 servers whose tokens order opposite to their addresses (a token is a hash of its address).
        let servers = (1...64).map { IPv6Address(high: 0x2001_0db8_0044_0000, low: UInt64($0)) }
        let t = servers.map(IPv6Token.intern)
        let (low, high) = try #require((0..<64).lazy.flatMap { i in (i + 1..<64).lazy.map { (i, $0) } }
            .first { t[$0.0].rawValue > t[$0.1].rawValue })
        let lambda6 = IPv6Token.intern(IPv6Address("2600:1f18:abc:de01::10")!)
        let rec = recorder(interval: 60)
        // Sent in token order (the higher address first), and an IPv4 one last: all in the same second.
        for (dst, src) in [(t[high], lambda6), (t[low], lambda6), (server, lambda)] {
            rec.interface(eni: 0, time: 1_000_000_000, packet: udp(src, 5353, dst, 53), egress: true, accepted: true)
        }
        try rec.finish()
        let records = try #require(rec.records)
        #expect(records.map(\.dstaddr) == [server, t[low], t[high]])
        #expect(records.map { "\($0.dstaddr)" } == ["203.0.113.22", "\(servers[low])", "\(servers[high])"])
    }

    @Test("memory follows the active connections: nothing is left once every connection has closed")
    func memoryReturnsToZero() throws {
        let n = 300
        for perConnection in [true, false] {
            let s = fleet(n, perConnection: perConnection)
            let sim = Simulation(scenario: s)
            let observer = RunRecorder(sim: sim, captures: nil)
            let rec = FlowLogRecorder(model: s.model, settings: s.flowLogs, startTime: s.startTime,
                                      perConnection: perConnection)
            observer.interfaceObservers.append(rec)
            sim.observer = observer
            sim.run()
            #expect(sim.generatorResults[0].outcomes[.ok] == n)
            let held = rec.liveRecordCount
            if perConnection {
                // Every connection closed at both ENIs: the Lambda's (out, in) and the NAT gateway's (in and out on
                // each side), all emitted, none held.
                #expect(rec.recordCount == 6 * n)
                #expect(held == 0 && rec.liveConnectionCount == 0)
                #expect(rec.peakLiveRecordCount <= 6 * 5, "peak \(rec.peakLiveRecordCount)")
            } else {
                // One interval for the whole run: every record waits for its end (the few connections that drew a
                // port already used earlier share a record).
                #expect(rec.recordCount == 0 && held > 5 * n)
            }
            try rec.finish()
            #expect(rec.recordCount == (perConnection ? 6 * n : held) && rec.liveRecordCount == 0)
        }
    }

    @Test("on a thread of its own the recorder writes the same records as when called directly")
    func threadedRecorderMatchesDirect() throws {
        // What the hand-over costs per packet (with a TCP packet's sequence and acknowledgment numbers, which the
        // close needs: `TCPCloseState`).
        #expect(MemoryLayout<InterfaceObservation>.stride == 40)
        // The recorder shares no storage with the model or the settings the simulation's thread reads (release
        // builds count references non-atomically): its ids, fields and account are copies, not the same buffers.
        let story = try ScenarioLoader.load(path: repositoryRoot + "/scenarios/lambda-sftp-nacl.yaml")
        let r = FlowLogRecorder(model: story.model, settings: story.flowLogs, startTime: story.startTime)
        func storage(_ s: String) -> UnsafeRawPointer? {
            s.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
        }
        func storage<T>(_ a: [T]) -> UnsafeRawPointer? { a.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
        for (i, e) in story.model.enis.enumerated() {
            let subnet = story.model.subnets[e.subnet]
            // AWS ids are 21 bytes: strings with storage of their own (15 bytes or fewer would be inline).
            #expect(e.id.utf8.count > 15 && storage(e.id) != nil)
            #expect(storage(r.enis[i].interfaceID) != storage(e.id) && r.enis[i].interfaceID == e.id)
            #expect(storage(r.enis[i].subnetID) != storage(subnet.id) && r.enis[i].subnetID == subnet.id)
            #expect(storage(r.enis[i].vpcID) != storage(story.model.vpcs[subnet.vpc].id))
        }
        #expect(storage(r.fields) != storage(story.flowLogs.format.fields) && r.fields == story.flowLogs.format.fields)
        #expect(storage(r.settings.format.fields) != storage(story.flowLogs.format.fields))
        for perConnection in [true, false] {
            let s = fleet(300, perConnection: perConnection)
            var texts: [Data] = []
            var counts: [Int] = []
            var kept: [[FlowLogRecord]?] = []
            // Direct; then threaded, handing over 3 packets at a time (many hand-overs, the producer often
            // waiting for a free chunk); then threaded with 1 MiB chunks (one hand-over, at the end).
            for chunk in [0, 3 * MemoryLayout<InterfaceObservation>.stride, 1 << 20] {
                let d = makeTempDirectory("vpcsim-flt")
                let sim = Simulation(scenario: s)
                let observer = RunRecorder(sim: sim, captures: nil)
                let rec = FlowLogRecorder(model: s.model, settings: s.flowLogs, startTime: s.startTime,
                                          perConnection: perConnection)
                try rec.writeFile(to: d + "/flow-logs.txt")
                let thread = chunk == 0 ? nil : try FlowLogThread(recorder: rec, chunkSize: chunk)
                observer.interfaceObservers.append(thread ?? rec)
                sim.observer = observer
                sim.run()
                thread?.finish()
                try rec.finish()
                texts.append(try Data(contentsOf: URL(fileURLWithPath: d + "/flow-logs.txt")))
                counts.append(rec.recordCount)
                kept.append(rec.records)
            }
            if perConnection { #expect(counts[0] == 6 * 300) } else { #expect(counts[0] > 5 * 300) }
            #expect(counts.allSatisfy { $0 == counts[0] })
            #expect(texts.allSatisfy { $0 == texts[0] })
            #expect(kept.allSatisfy { $0 == kept[0] } && kept[0]?.count == counts[0])
        }
    }

    @Test("flow-logs.txt: byte-identical across runs, spooled or not, equal to the kept text; nothing left beside it")
    func fileIsDeterministic() throws {
        let s = fleet(200)
        let dirs = [makeTempDirectory("vpcsim-fl"), makeTempDirectory("vpcsim-fl")]
        var texts: [Data] = []
        for d in dirs {
            let o = try Runner.run(scenario: s, options: .init(outDir: d, capture: []))
            let data = try Data(contentsOf: URL(fileURLWithPath: d + "/flow-logs.txt"))
            #expect(o.flowLogRecordCount == 1_200)
            #expect(String(decoding: data, as: UTF8.self) == o.flowLogText)
            #expect(try FileManager.default.contentsOfDirectory(atPath: d).sorted()
                == ["flow-logs.txt", "report.html", "report.json", "report.txt"])
            texts.append(data)
        }
        #expect(texts[0] == texts[1])
        // Every line spilled at once (each ENI's lines through its spool file): the same bytes.
        let d = makeTempDirectory("vpcsim-fl")
        let sim = Simulation(scenario: s)
        let observer = RunRecorder(sim: sim, captures: nil)
        let rec = FlowLogRecorder(model: s.model, settings: s.flowLogs, startTime: s.startTime)
        try rec.writeFile(to: d + "/flow-logs.txt", buffer: 1)
        observer.interfaceObservers.append(rec)
        sim.observer = observer
        sim.run()
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).contains { $0.hasSuffix(".spool") })
        try rec.finish()
        #expect(try Data(contentsOf: URL(fileURLWithPath: d + "/flow-logs.txt")) == texts[0])
        #expect(try FileManager.default.contentsOfDirectory(atPath: d) == ["flow-logs.txt"])
        // Lines ENI by ENI, in model order: the Lambda's, then the NAT gateway's.
        let lines = String(decoding: texts[0], as: UTF8.self).split(separator: "\n").dropFirst()
        #expect(lines.prefix(400).allSatisfy { $0.contains(" eni-0lambda ") })
        #expect(lines.dropFirst(400).allSatisfy { $0.contains(" eni-0nat ") })
    }

    @Test("a file not finished leaves nothing; one that cannot be created fails in one line")
    func abandonedFile() throws {
        let d = makeTempDirectory("vpcsim-fl")
        let rec = recorder()
        try rec.writeFile(to: d + "/flow-logs.txt", buffer: 1)
        connection(rec)
        rec.interface(eni: 1, time: 2_000_000_000, packet: tcp(lambda, 40003, server, 443, [.rst], length: 40),
                      egress: false, accepted: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).count == 2)  // the temporary file, a spool
        rec.abandon()
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).isEmpty)
        try rec.finish()
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).isEmpty)

        let missing = d + "/no/such/dir/flow-logs.txt"
        #expect(throws: CaptureFileError(path: missing, message: "cannot create: No such file or directory")) {
            try recorder().writeFile(to: missing)
        }
    }

    @Test("a run that fails leaves none of an earlier run's outputs to be taken for its own")
    func failedRunLeavesNoEarlierOutputs() throws {
        let s = fleet(20)
        let d = makeTempDirectory("vpcsim-fl")
        _ = try Runner.run(scenario: s, options: .init(outDir: d))
        let before = try FileManager.default.contentsOfDirectory(atPath: d)
        #expect(before.contains("report.txt") && before.contains("report.json") && before.contains("flow-logs.txt"))
        #expect(before.contains { $0.hasSuffix(".pcap") })
        // The flow log's temporary file cannot be created (a directory has its name): the run fails.
        let blocker = "\(d)/.flow-logs.txt.\(getpid()).tmp"
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
        #expect(throws: CaptureFileError.self) { try Runner.run(scenario: s, options: .init(outDir: d)) }
        try FileManager.default.removeItem(atPath: blocker)
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).isEmpty)
    }

    @Test("past the kept limit no records are held (the file has them all); the count goes on")
    func keptLimit() throws {
        let rec = recorder(keep: 3)
        for i in 0..<4 { connection(rec, port: UInt16(41000 + i), from: Int64(i + 1) * 1_000_000_000) }
        #expect(rec.recordCount == 8)
        #expect(rec.records == nil && rec.text == nil)
        let small = recorder(keep: 8)
        for i in 0..<4 { connection(small, port: UInt16(41000 + i), from: Int64(i + 1) * 1_000_000_000) }
        #expect(try #require(small.records).count == 8)
    }
}
