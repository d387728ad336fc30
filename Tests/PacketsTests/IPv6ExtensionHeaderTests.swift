import Foundation
import Packets
import TestSupport
import Testing

/// IPv6 frames whose upper layer sits behind a chain of extension headers (RFC 8200 §4): hop-by-hop options
/// (a Router Alert, RFC 2711), destination options, and the fragment header after them. tshark walks the chain
/// the writer wrote, the reader walks it back, and corrupt or cut chains throw with an offset.
enum IPv6ChainSamples {
    static let a = IPv6Samples.a, b = IPv6Samples.b

    /// Hop-by-hop (Router Alert, value 0: MLD) → destination options (a PadN only) → UDP of `data` bytes.
    static func datagram(data: Int) -> Frame {
        let hop = IPv6ExtensionHeader(kind: .ipv6HopByHop, nextHeader: .ipv6DestinationOptions, data: [5, 2, 0, 0])
        let dst = IPv6ExtensionHeader(kind: .ipv6DestinationOptions, nextHeader: .udp, data: [])
        return Frame(link: IPv6Samples.eth, ipv6: IPv6Header(source: a, destination: b, nextHeader: .ipv6HopByHop),
                     extensions: [hop, dst], transport: .udp(UDPHeader(sourcePort: 40002, destinationPort: 5600)),
                     payload: (0..<data).map { UInt8(truncatingIfNeeded: $0 &* 13) })
    }

    /// The small datagram whole, and a 3000-byte one in fragments for a 1280-byte path (the chain in front of
    /// each fragment header).
    static func frames() -> [Frame] {
        [datagram(data: 20).filled()] + datagram(data: 3000).ipv6Fragments(mtu: 1280, identification: 0xCAFE_0001)!
    }
}

@Suite struct IPv6ExtensionHeaderTests {
    @Test func theWrittenChainIsReadBack() throws {
        let frames = IPv6ChainSamples.frames()
        #expect(frames.count == 4)
        let whole = try Frame(parsing: frames[0].bytes(), linkType: .ethernet)
        #expect(whole.ipv6Extensions.map(\.kind) == [.ipv6HopByHop, .ipv6DestinationOptions])
        #expect(whole.ipv6Extensions.map(\.byteCount) == [8, 8])
        #expect(whole.ipv6UpperLayer == .udp && whole.transport.udp?.destinationPort == 5600)
        #expect(whole.checksums.transport == .valid, "the UDP checksum over the pseudo-header, past the chain")
        #expect(whole.ipv6.map { Int($0.payloadLength) } == 16 + 8 + 20)
        for (k, f) in frames.dropFirst().enumerated() {
            let p = try Frame(parsing: f.bytes(), linkType: .ethernet)
            #expect(p.ipv6Extensions.map(\.kind) == [.ipv6HopByHop, .ipv6DestinationOptions, .ipv6Fragment])
            let frag = try #require(p.ipv6Fragment)
            #expect(frag.identification == 0xCAFE_0001 && frag.nextHeader == .udp)
            #expect(frag.moreFragments == (k < 2))
            // 1280 − 40 − 16 (the chain) − 8 (fragment header) = 1216 bytes a fragment, a multiple of 8.
            #expect(Int(frag.fragmentOffset) * 8 == 1216 * k)
            #expect(f.bytes().count - 14 <= 1280)
            #expect(k == 0 ? p.transport.udp != nil : p.transport.udp == nil, "ports in the first fragment only")
        }
    }

    /// tshark decodes the chain as written: each header's next header, the Router Alert, the UDP checksum good
    /// (the whole datagram's and the reassembled one's), the fragments reassembled into 3008 bytes of UDP.
    @Test func tsharkWalksTheChainAndReassembles() throws {
        let path = makeTempDirectory() + "/chain.pcap"
        let w = try PcapWriter(path: path)
        for (i, f) in IPv6ChainSamples.frames().enumerated() { w.write(f.bytes(), timestamp: Int64(i) * 1_000) }
        try w.close()
        let (frames, problems) = try TShark.problems(in: path)
        #expect(frames == 4 && problems == [], "\(problems)")
        #expect(try TShark.expertErrors(in: path) == [])
        let rows = try TShark.fields(path, ["ipv6.nxt", "ipv6.hopopts.nxt", "ipv6.dstopts.nxt", "ipv6.fraghdr.nxt",
                                            "ipv6.opt.router_alert", "udp.checksum.status", "udp.length"])
        #expect(rows.count == 4)
        #expect(rows[0] == "0\t60\t17\t\t0\t1\t28", "\(rows[0])")
        #expect(rows[1].hasPrefix("0\t60\t44\t17\t0\t"), "\(rows[1])")
        #expect(rows[3] == "0\t60\t44\t17\t0\t1\t3008", "the last fragment completes the datagram: \(rows[3])")
    }

    /// Every prefix of each chained frame, and seeded byte flips across its IPv6 header and chain, parse or
    /// throw a `PacketError` within the input, as for IPv4.
    @Test func truncatedAndCorruptChainsThrowWithAnOffset() {
        var rng = SplitMix64(seed: 0x2C)
        var errors = 0
        for (i, f) in IPv6ChainSamples.frames().enumerated() {
            let bytes = f.bytes()
            for n in 0...min(bytes.count, 120) { errors += IPv6FrameTests.check(Array(bytes.prefix(n)), "chain #\(i) prefix \(n)") }
            // The payload length, the next headers and the chain.
            errors += IPv6FrameTests.flips(bytes, at: 14 + 4..<14 + 40 + 32, upTo: 3, times: 500, &rng, "chain #\(i)")
        }
        #expect(errors > 100)
        // A chain cut inside the destination options header: the error names the header and its offset.
        do {
            _ = try Frame(parsing: Array(IPv6ChainSamples.frames()[0].bytes().prefix(14 + 40 + 8 + 5)), linkType: .ethernet)
            Issue.record("expected an error")
        } catch let e as PacketError {
            #expect(e.layer == "IPv6 extension header" && e.offset == 14 + 40 + 8, "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
