import Foundation
import Packets
import Testing
import TestSupport
@testable import Sim

/// An observer that keeps what it sees and writes it through the capture writer, as a run's captures are written.
private final class FileTap: NetworkObserver {
    var seen: [(point: Int, packet: SimPacket, outgoing: Bool, comment: String)] = []
    var drops: [Step] = []
    let writer: CaptureWriter
    init(_ writer: CaptureWriter) { self.writer = writer }
    func seen(point: Int, time: Int64, packet: SimPacket, outgoing: Bool, comment: UnsafeRawBufferPointer) {
        var kept = packet
        kept.payload = packet.payload.withUnsafeBytes { PacketPayload(copying: $0) }
        seen.append((point, kept, outgoing, String(decoding: comment, as: UTF8.self)))
        writer.write(point: point, time: time, packet: packet, outgoing: outgoing, comment: comment)
    }
    func dropped(time: Int64, packet: SimPacket, step: Step) { drops.append(step) }
    func traced(packet: SimPacket, steps: [Step]) {}
}

/// The bytes after the IP header of `p` as the wire has them (`Frame.datagramBytes`).
private func wire(_ p: SimPacket) -> [UInt8] {
    p.payload.withUnsafeBytes { Frame.datagramBytes(ip: p.ip, transport: p.transport, payload: $0) }
}

private func udp(size: Int, df: Bool, from: String = "10.0.1.10", to: String = "203.0.113.22", sourcePort: UInt16 = 40000,
                 destinationPort: UInt16 = 5000, id: UInt16 = 0x4242) -> SimPacket {
    var ip = IPv4Header(source: ip(from), destination: ip(to), proto: .udp, identification: id, dontFragment: df)
    ip.totalLength = UInt16(20 + 8 + size)
    let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    return SimPacket(ip: ip, transport: .udp(UDPHeader(sourcePort: sourcePort, destinationPort: destinationPort)),
                     payload: data.withUnsafeBytes { PacketPayload(copying: $0) }, flow: -1, fromClient: true)
}

/// The story (Lambda 10.0.1.10 → NAT gateway 10.0.0.5 / 198.51.100.7 → internet gateway → 203.0.113.22), NACLs
/// open, the host behind a link of `pathMTU` bytes; the NAT keeps the client's port. Captures go to `dir`.
private struct Bench {
    let sim: Simulation
    let tap: FileTap
    let dir: String
    var atLambda: [SimPacket] = []
    var atHost: [SimPacket] = []

    init(pathMTU: Int = 1400) throws {
        var story = StoryModel()
        story.publicInbound = allowAll
        story.publicOutbound = allowAll
        story.lambdaEgress = [SecurityGroupRule(proto: .all, ports: nil, peer: .cidr(cidr("0.0.0.0/0")))]
        var a = Assumptions()
        a.natPortSelection = .preserve
        a.sgAdmitsRelatedICMP = true  // the Lambda's group has no ICMP rule
        var s = story.scenario([], assumptions: a)
        s.model.outsideHosts[0].pathMTU = pathMTU
        s.model.outsideHosts[0].otherPorts = .silent
        sim = Simulation(scenario: s)
        dir = makeTempDirectory()
        tap = FileTap(try CaptureWriter(directory: dir, points: sim.network.capturePoints, startTime: 0,
                                        application: "test"))
        sim.observer = tap
        sim.network.describesPackets = true
    }

    /// Runs, collecting what reaches the Lambda and the host (copies: the network frees its own), and closes
    /// the captures.
    mutating func run() throws {
        var lambda: [SimPacket] = [], host: [SimPacket] = []
        sim.network.deliverToENI = { _, p in
            var q = p
            q.payload = p.payload.withUnsafeBytes { PacketPayload(copying: $0) }
            lambda.append(q)
        }
        sim.network.deliverToHost = { _, p in
            var q = p
            q.payload = p.payload.withUnsafeBytes { PacketPayload(copying: $0) }
            host.append(q)
        }
        sim.scheduler.run()
        _ = try tap.writer.close()
        atLambda = lambda
        atHost = host
    }

    func pcap(_ component: String) -> String {
        let i = sim.network.capturePoints.firstIndex { $0.names.contains(component) }!
        return dir + "/" + sim.network.capturePoints[i].name + ".pcap"
    }
}

@Suite("IPv4 fragments: DF clear, reassembly, a NAT gateway's fragment rules and ICMP errors")
struct FragmentationTests {
    @Test func fragmentsHaveAlignedOffsetsMFTheSameIdentificationAndTheirOwnLengthsAndChecksums() throws {
        let p = udp(size: 3000, df: false)
        let whole = wire(p)
        #expect(whole.count == 3008)
        var fragments: [SimPacket] = []
        let n = VPCNetwork.fragments(of: p, mtu: 1400) { fragments.append($0) }
        #expect(n == 3 && VPCNetwork.fragmentCount(of: p, mtu: 1400) == 3)
        // (1400 − 20) rounded down to 8: 1376 bytes each, then the 256 left.
        #expect(fragments.map { Int($0.ip.fragmentOffset) * 8 } == [0, 1376, 2752])
        #expect(fragments.map(\.ip.moreFragments) == [true, true, false])
        #expect(fragments.map(\.ip.totalLength) == [1396, 1396, 276])
        #expect(fragments.allSatisfy { $0.ip.identification == 0x4242 && !$0.ip.dontFragment && $0.ip.isFragment })
        #expect(fragments.flatMap(\.payload.bytes) == whole)
        // The first carries the UDP header for the whole datagram: ports, length 3008, a checksum over all of it.
        #expect(Array(whole[0..<6]) == [0x9C, 0x40, 0x13, 0x88, 0x0B, 0xC0])
        let pseudo = InternetChecksum.pseudoHeaderSum(source: p.ip.source, destination: p.ip.destination, protocol: .udp,
                                                      length: 3008)
        #expect(InternetChecksum.add(InternetChecksum.sum(whole), pseudo) == 0xFFFF)
        // Written as the capture writes a fragment (its bytes after the header), each has a valid header checksum.
        let dir = makeTempDirectory()
        let w = try PcapWriter(path: dir + "/f.pcap")
        for (i, f) in fragments.enumerated() {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 8)
            defer { buffer.deallocate() }
            var b = ByteWriter(base: buffer, capacity: 2048)
            f.payload.withUnsafeBytes {
                Frame.write(to: &b, parts: FrameParts(destination: .zero, source: .zero, ip: f.ip, transport: .none),
                            payload: $0)
            }
            let bytes = Array(b.written)
            let parsed = try Frame(parsing: bytes, linkType: .ethernet)
            #expect(parsed.checksums.ip == .valid)
            #expect(parsed.ip?.isFragment == true && parsed.ip?.totalLength == f.ip.totalLength)
            w.write(bytes, timestamp: Int64(i))
        }
        try w.close()
        // tshark: three fragments, clean, reassembled into one UDP datagram of 3008 bytes.
        #expect(try TShark.problems(in: dir + "/f.pcap").problems == [])
        #expect(try TShark.expertErrors(in: dir + "/f.pcap") == [])
        let flags = try TShark.fields(dir + "/f.pcap", ["ip.frag_offset", "ip.flags.mf", "ip.id"])
        // (tshark gives the offset in 8-byte units, as the header holds it; older versions gave bytes.)
        #expect(flags == ["0\t1\t0x4242", "172\t1\t0x4242", "344\t0\t0x4242"]
            || flags == ["0\t1\t0x4242", "1376\t1\t0x4242", "2752\t0\t0x4242"], "\(flags)")
        #expect(try TShark.fields(dir + "/f.pcap", ["udp.length", "ip.fragment.count"], filter: "udp") == ["3008\t3"])
        // Reassembly gives back the datagram.
        var r = FragmentReassembly()
        #expect(r.add(fragments[0], now: 0) == nil && r.add(fragments[2], now: 0) == nil)
        let completed = r.add(fragments[1], now: 0)
        var back = try #require(completed)
        #expect(back.ip.totalLength == 3028 && !back.ip.isFragment && back.transport == p.transport)
        #expect(back.payload.bytes == p.payload.bytes)
        #expect(r.inProgress == 0)
        back.payload.free()
        for var f in fragments { f.payload.free() }
        var q = p
        q.payload.free()
    }

    @Test("An incomplete datagram is discarded 30 s after its first fragment (ipfrag_time): a late fragment completes nothing")
    func reassemblyTimeout() {
        let p = udp(size: 3000, df: false)
        var fragments: [SimPacket] = []
        VPCNetwork.fragments(of: p, mtu: 1400) { fragments.append($0) }
        #expect(fragments.count == 3)
        let s: Int64 = 1_000_000_000
        // The last fragment 29.9 s after the first: still in time.
        var r = FragmentReassembly()
        #expect(r.add(fragments[0], now: 0) == nil && r.add(fragments[1], now: 10 * s) == nil)
        var late = r.add(fragments[2], now: 29_900_000_000)
        #expect(late?.ip.totalLength == 3028 && r.inProgress == 0 && r.expired == 0)
        late?.payload.free()
        // 30 s after the first: the datagram is gone; the last fragment starts another, which nothing completes.
        r = FragmentReassembly()
        #expect(r.add(fragments[0], now: 0) == nil && r.add(fragments[1], now: 10 * s) == nil)
        #expect(r.add(fragments[2], now: 30 * s) == nil)
        #expect(r.expired == 1 && r.inProgress == 1)
        // And that one goes 30 s later in turn, when any fragment arrives.
        #expect(r.add(fragments[0], now: 61 * s) == nil)
        #expect(r.expired == 2 && r.inProgress == 1)
        // The assumption sets it.
        var a = Assumptions()
        a.fragmentReassemblyTimeout = 5 * s
        r = FragmentReassembly()
        r.timeout = a.fragmentReassemblyTimeout
        #expect(r.add(fragments[0], now: 0) == nil)
        #expect(r.add(fragments[1], now: 5 * s) == nil && r.add(fragments[2], now: 5 * s) == nil && r.expired == 1)
        for var f in fragments { f.payload.free() }
        var q = p
        q.payload.free()
    }

    @Test func withDFClearTheLinkFragmentsAndTheHostReassemblesAfterTheNATGateway() throws {
        var b = try Bench()
        let sim = b.sim
        sim.scheduler.schedule(at: 0) { sim.network.send(fromENI: 0, udp(size: 3000, df: false)) }
        try b.run()
        // Translated by the NAT gateway and the internet gateway, fragmented in front of the host, reassembled.
        #expect(b.atHost.count == 1)
        let got = try #require(b.atHost.first)
        #expect(got.ip.source == ip("198.51.100.7") && got.key.sourcePort == 40000 && got.ip.totalLength == 3028)
        #expect(got.payload.bytes == udp(size: 3000, df: false).payload.bytes)
        #expect(b.tap.drops.isEmpty)
        let comments = b.tap.seen.filter { $0.packet.ip.isFragment }.map(\.comment)
        #expect(comments == [
            "received fragment 1 of 3 (offset 0, MF); fragmented by the link in front of the host (path MTU 1400)",
            "received fragment 2 of 3 (offset 1376, MF); fragmented by the link in front of the host (path MTU 1400)",
            "received fragment 3 of 3 (offset 2752); fragmented by the link in front of the host (path MTU 1400)",
        ])
        // The host's capture: three fragments, checksums right (the UDP one after reassembly too), one datagram.
        let host = b.pcap("sftp.example.com")
        #expect(try TShark.problems(in: host).problems == [])
        #expect(try TShark.expertErrors(in: host) == [])
        #expect(try TShark.fields(host, ["ip.src", "udp.srcport", "udp.length"], filter: "udp") == ["198.51.100.7\t40000\t3008"])
        #expect(try TShark.fields(host, ["frame.number"], filter: "ip.flags.mf == 1 || ip.frag_offset > 0").count == 3)
    }

    /// Only the first fragment of a datagram reaches the host: 30 s later (ipfrag_time) the host discards it and
    /// sends ICMP time exceeded, code 1, quoting that fragment; the internet and NAT gateways translate it back to
    /// the Lambda as any ICMP error for the gateway's connection.
    @Test func anExpiredReassemblyIsAnsweredWithTimeExceededFromTheHost() throws {
        var b = try Bench()
        let sim = b.sim
        var fragments: [SimPacket] = []
        VPCNetwork.fragments(of: udp(size: 3000, df: false), mtu: 1400) { fragments.append($0) }
        sim.scheduler.schedule(at: 0) { sim.network.send(fromENI: 0, fragments[0]) }
        try b.run()
        for var f in fragments.dropFirst() { f.payload.free() }
        #expect(b.atHost.isEmpty && b.sim.network.reassembly.expired == 1 && b.sim.network.reassembly.inProgress == 0)
        let born = try #require(b.tap.seen.first { $0.packet.transport.icmp?.type == .timeExceeded })
        #expect(born.packet.ip.source == ip("203.0.113.22") && born.packet.ip.destination == ip("198.51.100.7"))
        #expect(born.packet.transport.icmp?.code == 1)
        // The quote: the first fragment's header as the host got it (MF set, offset 0) and the UDP header.
        let q = born.packet.payload.bytes
        #expect(q.count == 28 && q[6] & 0x20 != 0 && Array(q[12..<16]) == [198, 51, 100, 7])
        #expect(Array(q[20..<24]) == [0x9C, 0x40, 0x13, 0x88])
        // At the Lambda, translated back, 30 s after the fragment arrived.
        let icmp = try #require(b.atLambda.first)
        #expect(icmp.transport.icmp?.type == .timeExceeded && icmp.transport.icmp?.code == 1)
        #expect(icmp.ip.destination == ip("10.0.1.10") && Array(icmp.payload.bytes[12..<16]) == [10, 0, 1, 10])
        let host = b.pcap("sftp.example.com")
        #expect(try TShark.problems(in: host).problems == [])
        let times = try TShark.fields(host, ["frame.time_relative", "icmp.type", "icmp.code"])
        #expect(times.count == 2 && times[1].hasSuffix("\t11\t1"), "\(times)")
        #expect(times.count == 2 && abs((Double(times[1].split(separator: "\t")[0]) ?? 0) - 30) < 0.001, "\(times)")
        let lambda = b.pcap("eni-0lambda")
        #expect(try TShark.problems(in: lambda).problems == [])
        #expect(try TShark.fields(lambda, ["icmp.type", "icmp.code"], filter: "icmp") == ["11\t1"])
    }

    @Test func withDFSetTheLinkDropsAndTheNATGatewayTranslatesTheICMPBackQuotedHeaderIncluded() throws {
        var b = try Bench()
        let sim = b.sim
        // Small enough for the internet gateway's 1500, too big for the host's path MTU of 1400.
        sim.scheduler.schedule(at: 0) { sim.network.send(fromENI: 0, udp(size: 1450, df: true)) }
        try b.run()
        #expect(b.atHost.isEmpty)
        #expect(b.tap.drops.map(\.rule) == ["path MTU 1400 < packet 1478 bytes (DF set); ICMP fragmentation needed sent "
                                            + "to 198.51.100.7"])
        // The ICMP as the router sent it: to the NAT gateway's Elastic IP, quoting the datagram as translated.
        let born = try #require(b.tap.seen.first { $0.packet.ip.proto == .icmp }?.packet.payload.bytes)
        #expect(Array(born[12..<16]) == [198, 51, 100, 7])
        // At the Lambda: to its own address, the quoted source address and port its own, the quoted IP header's
        // checksum right again, the quoted UDP checksum as it was.
        let icmp = try #require(b.atLambda.first)
        #expect(icmp.ip.destination == ip("10.0.1.10") && icmp.ip.source == ip("203.0.113.22"))
        #expect(icmp.transport.icmp?.type == .destinationUnreachable && icmp.transport.icmp?.code == 4)
        #expect(icmp.transport.icmp?.nextHopMTU == 1400)
        let q = icmp.payload.bytes
        #expect(q.count == 28)
        #expect(Array(q[12..<16]) == [10, 0, 1, 10])
        #expect(Array(q[16..<20]) == [203, 0, 113, 22])
        #expect(Array(q[20..<24]) == [0x9C, 0x40, 0x13, 0x88])
        #expect(InternetChecksum.sum(Array(q[0..<20])) == 0xFFFF)
        #expect(Array(q[0..<10]) == Array(born[0..<10]) && Array(q[24..<28]) == Array(born[24..<28]))
        #expect(Array(q[10..<12]) != Array(born[10..<12]))
        let nat = try #require(b.tap.seen.first { $0.comment.hasPrefix("arrived from the internet; ICMP") })
        #expect(nat.comment == "arrived from the internet; ICMP type 3 code 4 for 10.0.0.5:40000 translated to "
                + "10.0.1.10:40000 by nat-0story")
        // Its capture at the Lambda's ENI: clean, the ICMP checksum too.
        let lambda = b.pcap("eni-0lambda")
        #expect(try TShark.problems(in: lambda).problems == [])
        #expect(try TShark.fields(lambda, ["icmp.type", "icmp.code", "ip.src", "udp.srcport"], filter: "icmp")
            == ["3\t4\t203.0.113.22,10.0.1.10\t40000"])
    }

    @Test func anICMPErrorForNoConnectionOfTheGatewayIsDropped() throws {
        var b = try Bench()
        let sim = b.sim
        // The host's ICMP quotes a datagram the gateway never sent (port 41000).
        sim.scheduler.schedule(at: 0) {
            let p = udp(size: 3000, df: true, from: "198.51.100.7", sourcePort: 41000)
            let icmp = VPCNetwork.fragmentationNeeded(quoting: p, from: ip("203.0.113.22"), mtu: 1400)
            var q = p
            q.payload.free()
            sim.network.send(fromHost: 0, icmp)
        }
        try b.run()
        #expect(b.atLambda.isEmpty)
        #expect(b.tap.drops.count == 1)
        #expect(b.tap.drops.first?.kind == .natGateway && b.tap.drops.first?.rule.hasPrefix("no translation for icmp") == true)
    }

    @Test func theNATGatewayForwardsUDPFragmentsBothWaysAndDropsTCPAndICMPFragments() throws {
        var b = try Bench(pathMTU: 576)
        let sim = b.sim
        // A UDP datagram fragmented by its sender (an MTU of 576), then a TCP segment and an ICMP echo likewise.
        let udpOut = udp(size: 1200, df: false)
        var tcpIP = IPv4Header(source: ip("10.0.1.10"), destination: ip("203.0.113.22"), proto: .tcp, identification: 9,
                               dontFragment: false)
        tcpIP.totalLength = 40 + 1200
        let tcpOut = SimPacket(ip: tcpIP, transport: .tcp(TCPHeader(sourcePort: 40001, destinationPort: 9, sequenceNumber: 1,
                                                                     acknowledgmentNumber: 1, flags: .ack)),
                               payload: [UInt8](repeating: 1, count: 1200).withUnsafeBytes { PacketPayload(copying: $0) },
                               flow: -1, fromClient: true)
        var icmpIP = IPv4Header(source: ip("10.0.1.10"), destination: ip("203.0.113.22"), proto: .icmp, identification: 10,
                                dontFragment: false)
        icmpIP.totalLength = 28 + 1200
        let ping = SimPacket(ip: icmpIP, transport: .icmp(.echo(request: true, identifier: 7, sequence: 1)),
                             payload: [UInt8](repeating: 2, count: 1200).withUnsafeBytes { PacketPayload(copying: $0) },
                             flow: -1, fromClient: true)
        for (k, p) in [udpOut, tcpOut, ping].enumerated() {
            sim.scheduler.schedule(at: Int64(k) * 1_000_000_000) {
                VPCNetwork.fragments(of: p, mtu: 576) { sim.network.send(fromENI: 0, $0) }
                var q = p
                q.payload.free()
            }
        }
        // The host answers the UDP datagram with one as big, DF clear, from behind its 576-byte link: fragmented
        // there, the fragments translated back by the gateway, reassembled at the Lambda.
        sim.scheduler.schedule(at: 5_000_000_000) {
            sim.network.send(fromHost: 0, udp(size: 1200, df: false, from: "203.0.113.22", to: "198.51.100.7",
                                                 sourcePort: 5000, destinationPort: 40000, id: 0x77))
        }
        try b.run()
        #expect(b.atHost.count == 1)
        #expect(b.atHost.first?.ip.source == ip("198.51.100.7") && b.atHost.first?.ip.totalLength == 1228)
        #expect(b.atLambda.count == 1)
        let back = try #require(b.atLambda.first)
        #expect(back.ip.destination == ip("10.0.1.10") && back.key.destinationPort == 40000 && back.ip.totalLength == 1228)
        #expect(back.payload.bytes == udp(size: 1200, df: false).payload.bytes)
        // Three TCP fragments and three ICMP ones dropped at the gateway, each counted.
        let rules = b.tap.drops.map(\.rule)
        #expect(rules == Array(repeating: "tcp fragments: a NAT gateway forwards UDP fragments only", count: 3)
                + Array(repeating: "icmp fragments: a NAT gateway forwards UDP fragments only", count: 3))
        #expect(b.tap.drops.map { $0.detail?.components(separatedBy: ";").first } == [
            "offset 0, MF", "offset 552, MF", "offset 1104", "offset 0, MF", "offset 552, MF", "offset 1104"])
        #expect(b.tap.drops.allSatisfy { $0.kind == .natGateway && $0.component == "nat-0story" })
        #expect(b.sim.network.natMetrics[0].packetsDropCount == 6)
        // Every capture is clean; the gateway's outside capture holds the UDP fragments with the Elastic IP… as
        // the private address (the internet gateway translates), port 40000, checksum right after reassembly.
        for c in ["eni-0lambda", "sftp.example.com", "nat-0story"] {
            #expect(try TShark.problems(in: b.pcap(c)).problems == [], "\(c)")
        }
        #expect(try TShark.fields(b.pcap("sftp.example.com"), ["ip.src", "ip.dst", "udp.length"], filter: "udp")
            == ["198.51.100.7\t203.0.113.22\t1208", "203.0.113.22\t198.51.100.7\t1208"])
        #expect(try TShark.fields(b.pcap("eni-0lambda"), ["ip.src", "ip.dst", "udp.dstport"], filter: "udp")
            == ["10.0.1.10\t203.0.113.22\t5000", "203.0.113.22\t10.0.1.10\t40000"])
    }

    @Test func pathMTUDiscoveryWorksForALambdaBehindTheNATGateway() {
        // The Lambda (MTU 1500) uploads to a host behind a 1400-byte link: its full segments are dropped there,
        // the ICMP comes back through the internet gateway and the NAT gateway (translated, quoted header too),
        // and the Lambda's stack resends at the smaller size: the upload completes.
        var story = StoryModel()
        story.publicInbound = allowAll
        story.publicOutbound = allowAll
        story.hostPorts[7] = .listen(app: "tcp")
        var a = Assumptions()
        a.sgAdmitsRelatedICMP = true
        var s = story.scenario([StoryModel.flow("upload", .tcp, port: 7, size: 20_000)], assumptions: a)
        s.model.outsideHosts[0].pathMTU = 1400
        let (_, _, r) = simulate(s)
        #expect(r[0].outcome == .ok, "\(r[0].message)")
        // Only the link dropped anything: the full-size segments in flight each way (the host's echo leaves
        // through it too); the ICMP reached the Lambda.
        #expect(r[0].drops.map(\.kind) == ["path-mtu", "path-mtu"], "\(r[0].drops.map(\.rule))")
        #expect(r[0].drops.contains { $0.fromClient && $0.rule.hasPrefix("path MTU 1400 < packet 1500 bytes (DF set)") })
        #expect(r[0].blackHole == nil)
    }
}
