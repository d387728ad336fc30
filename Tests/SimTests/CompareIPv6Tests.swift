import Foundation
import Packets
import Sim
import TestSupport
import Testing

/// `vpcsim compare` over IPv6: conversations are read with IPv6 addresses and paired as IPv4 ones are.
@Suite struct CompareIPv6Tests {
    static let client6 = IPv6Address("2001:db8:0:1::10")!
    static let server6 = IPv6Address("2001:db8:ff::22")!

    enum Address {
        case v4(IPv4Address)
        case v6(IPv6Address)
    }

    /// A short SSH-like exchange (handshake, banner each way, FIN both ways) from `client` to `server` port 22,
    /// with the IP TTL or hop limit `hops` below 64 on packets from the client, written to a pcap.
    static func conversation(_ client: Address, _ server: Address, hops: UInt8, start: Int64, to path: String) throws {
        let eth = LinkHeader.ethernet(EthernetHeader(destination: MACAddress("02:00:00:00:00:02")!,
                                                     source: MACAddress("02:00:00:00:00:01")!))
        let steps: [(fromClient: Bool, flags: TCPFlags, seq: UInt32, ack: UInt32, payload: Int)] = [
            (true, .syn, 1000, 0, 0), (false, [.syn, .ack], 5000, 1001, 0), (true, .ack, 1001, 5001, 0),
            (false, [.psh, .ack], 5001, 1001, 41), (true, [.psh, .ack], 1001, 5042, 23),
            (true, [.fin, .ack], 1024, 5042, 0), (false, [.fin, .ack], 5042, 1025, 0), (true, .ack, 1025, 5043, 0),
        ]
        let w = try PcapWriter(path: path)
        for (i, s) in steps.enumerated() {
            let tcp = TCPHeader(sourcePort: s.fromClient ? 40112 : 22, destinationPort: s.fromClient ? 22 : 40112,
                                sequenceNumber: s.seq, acknowledgmentNumber: s.ack, flags: s.flags)
            let payload = [UInt8](repeating: 0x41, count: s.payload)
            let ttl: UInt8 = s.fromClient ? 64 - hops : 64
            let (src, dst) = s.fromClient ? (client, server) : (server, client)
            var frame: Frame
            switch (src, dst) {
            case let (.v6(a), .v6(b)):
                frame = Frame(link: eth, ipv6: IPv6Header(source: a, destination: b, nextHeader: .tcp, hopLimit: ttl),
                              transport: .tcp(tcp), payload: payload)
                if case .ethernet(var e) = frame.link { e.etherType = .ipv6; frame.link = .ethernet(e) }
            case let (.v4(a), .v4(b)):
                frame = Frame(link: eth, ip: IPv4Header(source: a, destination: b, proto: .tcp, ttl: ttl),
                              transport: .tcp(tcp), payload: payload)
            default:
                fatalError("one family per conversation")
            }
            w.write(frame.bytes(), timestamp: start + Int64(i) * 2_000_000)
        }
        try w.close()
    }

    @Test func anIPv6ConversationIsReadAndPairedAcrossTwoCaptures() throws {
        let dir = makeTempDirectory("vpcsim-compare6")
        try Self.conversation(.v6(Self.client6), .v6(Self.server6), hops: 0, start: 1_000_000_000, to: dir + "/a.pcap")
        try Self.conversation(.v6(Self.client6), .v6(Self.server6), hops: 2, start: 1_000_500_000, to: dir + "/b.pcap")
        let c = try CaptureComparison.compare(pathA: dir + "/a.pcap", pathB: dir + "/b.pcap")
        #expect(c.a.tcpSegmentCount == 8 && c.a.unparsedFrames == 0)
        try #require(c.a.conversations.count == 1 && c.b.conversations.count == 1)
        let conv = c.a.conversations[0]
        #expect(conv.client == .v6(Self.client6) && conv.server == .v6(Self.server6))
        #expect(conv.description == "[2001:db8:0:1::10]:40112 → [2001:db8:ff::22]:22")
        #expect(conv.clientDecidedBy == .syn)
        #expect(conv.packets.map(\.payloadLength) == [0, 0, 0, 41, 23, 0, 0, 0])
        #expect(conv.packets.map(\.relativeSequence) == [0, 0, 1, 1, 1, 24, 42, 25])
        try #require(c.pairs.count == 1)
        let p = c.pairs[0]
        #expect(p.match.basis.prefix(4) == ["server port 22", "server address 2001:db8:ff::22",
                                            "client address 2001:db8:0:1::10", "client port 40112"])
        // The hop limit is compared as the TTL is: two routers further on B's side.
        #expect(!p.agrees)
        #expect(Set(p.differences.map(\.field)) == [.ttl])
        let ignoringTTL = try CaptureComparison.compare(pathA: dir + "/a.pcap", pathB: dir + "/b.pcap",
                                                        options: CompareOptions(ignored: [.ttl]))
        #expect(ignoringTTL.agrees && ignoringTTL.exitStatus == 0)
        #expect(CompareRenderer.text(c).contains("[2001:db8:0:1::10]:40112 → [2001:db8:ff::22]:22"))
    }

    /// An IPv6-only client reaching an IPv4 server through NAT64: the client's capture shows the server at
    /// 64:ff9b::203.0.113.22, the server's at 203.0.113.22; they pair, the server address counted as the same.
    @Test func aNAT64TranslatedConversationPairsWithItsIPv4Side() throws {
        let dir = makeTempDirectory("vpcsim-compare6")
        let embedded = IPv6Address("64:ff9b::203.0.113.22")!
        try Self.conversation(.v6(Self.client6), .v6(embedded), hops: 0, start: 1_000_000_000, to: dir + "/a.pcap")
        try Self.conversation(.v4(IPv4Address(10, 0, 0, 99)), .v4(IPv4Address(203, 0, 113, 22)), hops: 1,
                              start: 1_000_300_000, to: dir + "/b.pcap")
        let c = try CaptureComparison.compare(pathA: dir + "/a.pcap", pathB: dir + "/b.pcap",
                                              options: CompareOptions(ignored: [.ttl]))
        try #require(c.pairs.count == 1)
        #expect(c.pairs[0].match.score.serverAddressMatch && !c.pairs[0].match.score.clientAddressMatch)
        #expect(c.pairs[0].match.basis.prefix(2) == ["server port 22",
                                                     "server address 64:ff9b::cb00:7116 / 203.0.113.22 (NAT64)"])
        #expect(c.agrees)
    }
}
