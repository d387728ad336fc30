import Foundation
import Synchronization
import Packets
import TestSupport
import Testing

/// IPv6 addresses on the simulator's packet path: 32-bit tokens in 240.0.0.0/4 that print as their IPv6 text
/// and become real IPv6 headers in captures.
@Suite struct IPv6TokenTests {
    @Test func anAddressHasOneTokenInClassEThatReadsAsTheAddress() {
        let a = IPv6Address("2600:1f18:abc:de01::4")!, b = IPv6Address("2001:db8::22")!
        let ta = IPv6Token.intern(a), tb = IPv6Token.intern(b)
        #expect(ta == IPv6Token.intern(a) && ta != tb)
        #expect(ta.isIPv6Token && tb.isIPv6Token && IPv4Address.tokenRange.contains(ta))
        #expect(ta.rawValue >= 0xF000_0000 && ta.rawValue != .max)
        #expect(ta.ipv6 == a && tb.ipv6 == b && IPv6Token.token(ifInterned: a) == ta)
        #expect(ta.description == "2600:1f18:abc:de01::4" && "\(tb)" == "2001:db8::22")
        #expect(IPv4Address.dotted(ta).hasPrefix("2") && IPv4Address.dotted(ta) != ta.description)
        // IPv4 addresses, broadcast included, are what they were.
        #expect(!IPv4Address(10, 0, 1, 10).isIPv6Token && IPv4Address(10, 0, 1, 10).description == "10.0.1.10")
        #expect(!IPv4Address(255, 255, 255, 255).isIPv6Token && IPv4Address(255, 255, 255, 255).ipv6 == nil)
        #expect(IPv4Address(239, 255, 255, 255).description == "239.255.255.255")
    }

    /// Tokens read back without the lock while the table grows: a reader thread checks every token it is handed
    /// as 5,000 addresses are interned (the table starts at 1,024 slots and doubles), and after the last every
    /// token still reads as its address.
    @Test func tokensReadBackWhileTheTableGrows() {
        let n = 5_000
        let addresses = (0..<n).map { IPv6Address(high: 0x2001_0db8_7700_0000, low: UInt64($0) &* 0x1_0001) }
        /// What the two threads share: raw memory and atomics.
        final class Shared: @unchecked Sendable {
            let tokens: UnsafeMutablePointer<UInt32>
            let published = Atomic<Int>(0), mismatches = Atomic<Int>(0), done = Atomic<Bool>(false)
            init(_ n: Int) { tokens = .allocate(capacity: n); tokens.initialize(repeating: 0, count: n) }
            deinit { tokens.deallocate() }
        }
        let shared = Shared(n)
        let reader = Thread {
            var seen = 0
            while seen < n {
                let upTo = shared.published.load(ordering: .acquiring)
                while seen < upTo {
                    if IPv4Address(rawValue: shared.tokens[seen]).ipv6 != addresses[seen] {
                        shared.mismatches.add(1, ordering: .relaxed)
                    }
                    seen += 1
                }
            }
            shared.done.store(true, ordering: .releasing)
        }
        reader.start()
        for i in 0..<n {
            shared.tokens[i] = IPv6Token.intern(addresses[i]).rawValue
            shared.published.store(i + 1, ordering: .releasing)
        }
        while !shared.done.load(ordering: .acquiring) { usleep(1000) }
        #expect(shared.mismatches.load(ordering: .relaxed) == 0)
        #expect((0..<n).allSatisfy { IPv4Address(rawValue: shared.tokens[$0]).ipv6 == addresses[$0] })
        #expect(Set((0..<n).map { shared.tokens[$0] }).count == n)
    }

    /// `precedes` orders by the addresses, IPv4 before IPv6, whatever order the tokens' hash bits are in.
    @Test func addressesOrderByValueNotByToken() throws {
        let candidates = (1...64).map { IPv6Address(high: 0x2001_0db8_0000_0000, low: UInt64($0)) }
        let t = candidates.map(IPv6Token.intern)
        // Two addresses whose tokens are in the opposite order.
        let (i, j) = try #require((0..<64).lazy.flatMap { i in (i + 1..<64).lazy.map { (i, $0) } }
            .first { t[$0.0].rawValue > t[$0.1].rawValue })
        #expect(candidates[i] < candidates[j])
        #expect(IPv6Token.precedes(t[i], t[j]) && !IPv6Token.precedes(t[j], t[i]) && !IPv6Token.precedes(t[i], t[i]))
        let v4 = IPv4Address(203, 0, 113, 22), broadcast = IPv4Address(255, 255, 255, 255)
        #expect(IPv6Token.precedes(v4, t[j]) && !IPv6Token.precedes(t[j], v4) && IPv6Token.precedes(broadcast, t[j]))
        #expect(IPv6Token.precedes(IPv4Address(10, 0, 0, 1), v4) && !IPv6Token.precedes(v4, IPv4Address(10, 0, 0, 1)))
    }

    /// A packet carried with tokens is written as the IPv6 frame of its real addresses: the same bytes as the
    /// IPv6 frame built field by field, lengths and the pseudo-header checksum filled, and tshark finds it clean.
    @Test func aTokenPacketIsWrittenAsARealIPv6Frame() throws {
        let a = IPv6Samples.a, b = IPv6Samples.b
        let tcp = TCPHeader(sourcePort: 40112, destinationPort: 22, sequenceNumber: 1000, flags: .syn,
                            options: [.maximumSegmentSize(1440), .sackPermitted, .timestamps(value: 1, echoReply: 0),
                                      .noOperation, .windowScale(7)])
        let payload: [UInt8] = Array(0..<33)
        let parts = FrameParts(destination: IPv6Samples.macB, source: IPv6Samples.macA,
                               ip: IPv4Header(source: IPv6Token.intern(a), destination: IPv6Token.intern(b), proto: .tcp,
                                              ttl: 61),
                               transport: .tcp(tcp))
        let written = payload.withUnsafeBytes { p in
            [UInt8].writing(capacity: 256) { Frame.write(to: &$0, parts: parts, payload: p) }
        }
        let expected = Frame(link: IPv6Samples.eth, ipv6: IPv6Header(source: a, destination: b, nextHeader: .tcp, hopLimit: 61),
                             transport: .tcp(tcp), payload: payload).bytes()
        #expect(written == expected)
        #expect(written[12] == 0x86 && written[13] == 0xDD && written[14] >> 4 == 6)
        #expect(Int(written[18]) << 8 | Int(written[19]) == written.count - 14 - 40)  // payload length
        let parsed = try Frame(parsing: written, linkType: .ethernet)
        #expect(parsed.ipv6?.source == a && parsed.ipv6?.destination == b && parsed.ipv6?.hopLimit == 61)
        #expect(parsed.checksums.transport == .valid)
        // UDP too: the length field and a checksum over the IPv6 pseudo-header.
        let udp = FrameParts(destination: IPv6Samples.macB, source: IPv6Samples.macA,
                             ip: IPv4Header(source: IPv6Token.intern(b), destination: IPv6Token.intern(a), proto: .udp),
                             transport: .udp(UDPHeader(sourcePort: 5598, destinationPort: 40000)))
        let datagram = payload.withUnsafeBytes { p in
            [UInt8].writing(capacity: 256) { Frame.write(to: &$0, parts: udp, payload: p) }
        }
        let dir = makeTempDirectory("vpcsim-token")
        let path = dir + "/tokens.pcap"
        let w = try PcapWriter(path: path)
        w.write(written, timestamp: 0)
        w.write(datagram, timestamp: 1_000_000)
        try w.close()
        let (frames, problems) = try TShark.problems(in: path)
        #expect(frames == 2 && problems == [], "\(problems)")
        #expect(try TShark.fields(path, ["ipv6.src", "ipv6.dst"]) == ["2001:db8:0:1::10\t2001:db8:ff::22",
                                                                     "2001:db8:ff::22\t2001:db8:0:1::10"])
    }
}
