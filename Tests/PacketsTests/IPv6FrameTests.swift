import Foundation
import Packets
import TestSupport
import Testing

enum IPv6Samples {
    static let macA = MACAddress("02:00:00:00:00:0a")!
    static let macB = MACAddress("02:00:00:00:00:0b")!
    static let a = IPv6Address("2001:db8:0:1::10")!
    static let b = IPv6Address("2001:db8:ff::22")!
    static let router = IPv6Address("2001:db8:0:1::1")!
    static let eth = LinkHeader.ethernet(EthernetHeader(destination: macB, source: macA, etherType: .ipv6))
    static let ethBack = LinkHeader.ethernet(EthernetHeader(destination: macA, source: macB, etherType: .ipv6))

    static func tcp(_ src: IPv6Address, _ dst: IPv6Address, _ header: TCPHeader, payload: [UInt8] = [],
                    link: LinkHeader = eth) -> Frame {
        Frame(link: link, ipv6: IPv6Header(source: src, destination: dst, nextHeader: .tcp),
              transport: .tcp(header), payload: payload)
    }

    /// TCP handshake and data, UDP, echo, Packet Too Big and port unreachable quoting what drew them, a neighbor
    /// solicitation and advertisement, and a UDP datagram in three fragments.
    static func frames() -> [Frame] {
        let syn = tcp(a, b, TCPHeader(sourcePort: 40112, destinationPort: 22, sequenceNumber: 1000, flags: .syn,
                                      options: [.maximumSegmentSize(1440), .sackPermitted,
                                                .timestamps(value: 1, echoReply: 0), .noOperation, .windowScale(7)]))
        let big = tcp(a, b, TCPHeader(sourcePort: 40112, destinationPort: 22, sequenceNumber: 1001,
                                      acknowledgmentNumber: 5001, flags: [.psh, .ack], window: 502),
                      payload: (0..<1440).map { UInt8(truncatingIfNeeded: $0) })
        var udpFrame = Frame(link: eth, ipv6: IPv6Header(source: a, destination: b, nextHeader: .udp, trafficClass: 0xB8,
                                                         flowLabel: 0xABCDE),
                             transport: .udp(UDPHeader(sourcePort: 40000, destinationPort: 5598)), payload: [1, 2, 3, 4, 5])
        udpFrame = udpFrame.filled()
        let echo = Frame(link: eth, ipv6: IPv6Header(source: a, destination: b, nextHeader: .icmpv6),
                         icmpv6: .echo(request: true, identifier: 7, sequence: 1), payload: Array(0..<56))
        let ptb = Frame(link: ethBack, ipv6: IPv6Header(source: router, destination: a, nextHeader: .icmpv6),
                        icmpv6: .packetTooBig(mtu: 1280),
                        payload: ICMPv6.quote(of: Array(big.bytes()[14...])))
        let unreachable = Frame(link: ethBack, ipv6: IPv6Header(source: b, destination: a, nextHeader: .icmpv6),
                                icmpv6: .destinationUnreachable(.port),
                                payload: ICMPv6.quote(of: Array(udpFrame.bytes()[14...])))
        let ns = Frame(link: .ethernet(EthernetHeader(destination: b.solicitedNode.multicastMAC, source: macA,
                                                      etherType: .ipv6)),
                       ipv6: IPv6Header(source: a, destination: b.solicitedNode, nextHeader: .icmpv6, hopLimit: 255),
                       icmpv6: ICMPv6Header(type: .neighborSolicitation),
                       payload: NeighborDiscoveryBody(target: b, options: [.linkLayerAddress(macA, source: true)]).bytes)
        let na = Frame(link: ethBack,
                       ipv6: IPv6Header(source: b, destination: a, nextHeader: .icmpv6, hopLimit: 255),
                       icmpv6: .neighborAdvertisement(router: false, solicited: true, override: true),
                       payload: NeighborDiscoveryBody(target: b, options: [.linkLayerAddress(macB, source: false)]).bytes)
        let datagram = Frame(link: eth, ipv6: IPv6Header(source: a, destination: b, nextHeader: .udp),
                             transport: .udp(UDPHeader(sourcePort: 40001, destinationPort: 5599)),
                             payload: (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let fragments = datagram.ipv6Fragments(mtu: 1280, identification: 0x1234_5678)!
        return [syn, big, udpFrame, echo, ptb, unreachable, ns, na] + fragments
    }
}

@Suite struct IPv6FrameTests {
    /// tshark decodes every frame as built, with TCP, UDP and ICMPv6 checksums verified good, the fragments
    /// reassembled, and nothing malformed.
    @Test func tsharkDecodesWhatWeWriteWithGoodChecksums() throws {
        let dir = makeTempDirectory()
        let frames = IPv6Samples.frames()
        #expect(frames.count == 11)
        for ext in ["pcap", "pcapng"] {
            let path = "\(dir)/v6.\(ext)"
            if ext == "pcap" {
                let w = try PcapWriter(path: path)
                for (i, f) in frames.enumerated() { w.write(f.bytes(), timestamp: Int64(i) * 1_000_000) }
                try w.close()
            } else {
                let w = try PcapngWriter(path: path, application: "test")
                let i0 = w.addInterface(name: "eni", description: "dual-stack ENI")
                for (i, f) in frames.enumerated() { w.write(interface: i0, timestamp: Int64(i) * 1_000_000, data: f.bytes()) }
                try w.close()
            }
            let bad = try TShark.run(["-n", "-r", path] + TShark.checksumOptions + [
                // tshark sums the TCP segment a Packet Too Big quotes although the quote is cut short (RFC
                // 4443 §2.4(c)), so TCP checksums inside ICMPv6 errors are left to the rows checked below.
                "-Y", "_ws.malformed || (tcp.checksum.status == 0 && !icmpv6) || udp.checksum.status == 0 || "
                    + "icmpv6.checksum.status == 0 || !ipv6",
                "-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info",
            ])
            #expect(bad.stdout.isEmpty, "\(ext): \(bad.stdout)")
            #expect(try TShark.expertErrors(in: path) == [], "\(ext)")
            let rows = try TShark.fields(path, ["ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.nxt", "ipv6.hlim"])
            #expect(rows[0] == "2001:db8:0:1::10\t2001:db8:ff::22\t40\t6\t64")
            #expect(rows[1] == "2001:db8:0:1::10\t2001:db8:ff::22\t1460\t6\t64")
            #expect(rows[6] == "2001:db8:0:1::10\tff02::1:ff00:22\t32\t58\t255")
            let good = try TShark.fields(path, ["tcp.checksum.status", "udp.checksum.status", "icmpv6.checksum.status"])
            #expect(good[0] == "1\t\t" && good[1] == "1\t\t" && good[2] == "\t1\t" && good[3] == "\t\t1")
            #expect(good[4].hasSuffix("\t1") && good[5] == "\t1\t1")  // Packet Too Big; the port unreachable and its quote
            #expect(good[10] == "\t1\t")  // the reassembled datagram's checksum
            let tcp = try TShark.fields(path, ["tcp.options.mss_val", "tcp.options.wscale.shift"], filter: "tcp.flags.syn == 1")
            #expect(tcp == ["1440\t7"])
            let udp = try TShark.fields(path, ["ipv6.tclass", "ipv6.flow", "udp.length"], filter: "udp.srcport == 40000 && !icmpv6")
            #expect(udp == ["0x000000b8\t0x0abcde\t13"])
            let icmp = try TShark.fields(path, ["icmpv6.type", "icmpv6.code", "icmpv6.mtu", "icmpv6.echo.identifier",
                                                "icmpv6.echo.sequence_number", "frame.len"], filter: "icmpv6")
            #expect(icmp == ["128\t0\t\t0x0007\t1\t118",
                             "2\t0\t1280\t\t\t1294",  // the whole ICMPv6 packet is 1280 bytes, Ethernet on top
                             "1\t4\t\t\t\t115",
                             "135\t0\t\t\t\t86", "136\t0\t\t\t\t86"])
            let nd = try TShark.fields(path, ["icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address",
                                              "icmpv6.opt.linkaddr", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o"],
                                       filter: "icmpv6.type >= 135")
            #expect(nd == ["2001:db8:ff::22\t\t02:00:00:00:00:0a\t\t", "\t2001:db8:ff::22\t02:00:00:00:00:0b\t1\t1"])
            let frag = try TShark.fields(path, ["ipv6.fraghdr.offset", "ipv6.fraghdr.more", "ipv6.fraghdr.ident",
                                                "ipv6.reassembled.length"], filter: "ipv6.fraghdr")
            #expect(frag == ["0\t1\t0x12345678\t", "154\t1\t0x12345678\t", "308\t0\t0x12345678\t3008"])
        }
    }

    /// The check can fail: a TCP checksum over IPv6 one bit off is caught, by tshark and by our parser.
    @Test func aBadChecksumOverIPv6IsCaught() throws {
        let path = makeTempDirectory() + "/bad.pcap"
        var bytes = IPv6Samples.frames()[0].bytes()
        bytes[14 + 40 + 17] ^= 0x01
        let w = try PcapWriter(path: path)
        w.write(bytes, timestamp: 0)
        try w.close()
        let rows = try TShark.fields(path, ["tcp.checksum.status"])
        #expect(rows == ["0"])
        let parsed = try Frame(parsing: bytes, linkType: .ethernet)
        #expect(parsed.checksums.transport.isBad)
        // A UDP checksum of zero is not allowed over IPv6 (RFC 8200 §8.1).
        var udp = IPv6Samples.frames()[2].bytes()
        udp[14 + 40 + 6] = 0
        udp[14 + 40 + 7] = 0
        #expect(try Frame(parsing: udp, linkType: .ethernet).checksums.transport.isBad)
    }

    /// Build → bytes → parse gives the frame back, and its bytes re-emit unchanged.
    @Test func everySampleRoundTrips() throws {
        for (i, f) in IPv6Samples.frames().enumerated() {
            let bytes = f.bytes()
            let back = try Frame(parsing: bytes, linkType: .ethernet)
            #expect(back.bytes(filling: false) == bytes, "#\(i)")
            var header = f.ipv6!
            header.payloadLength = UInt16(bytes.count - 14 - 40)
            #expect(back.ipv6 == header, "#\(i)")
            #expect(back.ip == nil)
            #expect(back.byteCount == bytes.count)
            #expect(back.bytes(filling: true) == bytes, "#\(i)")
            #expect(back.ipv6Extensions == f.ipv6Extensions, "#\(i)")
            if f.ipv6Fragment == nil {
                #expect(back.icmpv6?.type == f.icmpv6?.type && back.icmpv6?.restOfHeader == f.icmpv6?.restOfHeader)
                #expect(back.transport.tcp?.sequenceNumber == f.transport.tcp?.sequenceNumber)
                #expect(back.transport.tcp?.options == f.transport.tcp?.options)
                #expect(back.transport.udp?.destinationPort == f.transport.udp?.destinationPort)
                #expect(back.payload == f.payload, "#\(i)")
                #expect(back.checksums.transport == .valid, "#\(i)")
            }
        }
        let frames = IPv6Samples.frames()
        let syn = try Frame(parsing: frames[0].bytes(), linkType: .ethernet)
        #expect(syn.transport.tcp?.options == frames[0].transport.tcp?.options)
        #expect(syn.ipv6?.payloadLength == 40)
        let ptb = try Frame(parsing: frames[4].bytes(), linkType: .ethernet)
        #expect(ptb.icmpv6?.type == .packetTooBig && ptb.icmpv6?.mtu == 1280)
        #expect(ptb.ipv6!.payloadLength == 1240)
        let quoted = ICMPv6.quotedHeader(ptb.payload)
        #expect(quoted?.header.source == IPv6Samples.a && quoted?.ports?.0 == 40112 && quoted?.ports?.1 == 22)
        let na = try Frame(parsing: frames[7].bytes(), linkType: .ethernet)
        let body = try NeighborDiscoveryBody(parsing: na.payload)
        #expect(body.target == IPv6Samples.b && body.linkLayerAddress == IPv6Samples.macB)
        #expect(na.icmpv6!.solicitedFlag && na.icmpv6!.overrideFlag && !na.icmpv6!.routerFlag)
    }

    /// The three fragments carry the datagram: put back together, their pieces are its upper layer.
    @Test func fragmentsReassembleToTheDatagram() throws {
        let frames = IPv6Samples.frames()
        let pieces = try frames[8...].map { try Frame(parsing: $0.bytes(), linkType: .ethernet) }
        #expect(pieces.map { $0.ipv6Fragment?.fragmentOffset } == [0, 154, 308])
        #expect(pieces.map { $0.ipv6Fragment?.moreFragments } == [true, true, false])
        #expect(pieces.map { $0.bytes().count - 14 } == [1280, 1280, 40 + 8 + 3008 - 2 * 1232])
        // The first carries the UDP header (checksum over the whole datagram: not verifiable alone).
        #expect(pieces[0].transport.udp?.destinationPort == 5599)
        #expect(pieces[0].checksums.transport == .unverifiable)
        #expect(pieces[1].transport == .none && pieces[2].transport == .none)
        let upper = pieces[0].bytes()[(14 + 40 + 8)...] + pieces[1].payload + pieces[2].payload
        let whole = Frame(link: IPv6Samples.eth, ipv6: IPv6Header(source: IPv6Samples.a, destination: IPv6Samples.b,
                                                                   nextHeader: .udp),
                          transport: .udp(UDPHeader(sourcePort: 40001, destinationPort: 5599)),
                          payload: (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).bytes()
        #expect(Array(upper) == Array(whole[(14 + 40)...]))
        // The parser walks other extension headers to the fragment header and the upper layer.
        var withOptions = frames[8]
        withOptions.ipv6!.nextHeader = .ipv6HopByHop
        withOptions.ipv6Extensions.insert(IPv6ExtensionHeader(kind: .ipv6HopByHop, nextHeader: .ipv6DestinationOptions,
                                                              data: []), at: 0)
        withOptions.ipv6Extensions.insert(IPv6ExtensionHeader(kind: .ipv6DestinationOptions, nextHeader: .ipv6Fragment,
                                                              data: [1, 2, 0, 0]), at: 1)
        let back = try Frame(parsing: withOptions.bytes(), linkType: .ethernet)
        #expect(back.ipv6Extensions.map(\.kind) == [.ipv6HopByHop, .ipv6DestinationOptions, .ipv6Fragment])
        #expect(back.ipv6Extensions.map(\.byteCount) == [8, 8, 8])
        #expect(back.ipv6UpperLayer == .udp && back.transport.udp?.sourcePort == 40001)
        #expect(frames[0].ipv6Fragments(mtu: 1280, identification: 1)?.count == 1)
        #expect(frames[0].ipv6Fragments(mtu: 1279, identification: 1) == nil)
    }

    @Test func aPacketTooBigQuoteIsCutToFitTheMinimumMTU() {
        #expect(ICMPv6.quote(of: [UInt8](repeating: 1, count: 9000)).count == 1232)
        #expect(ICMPv6.quote(of: [UInt8](repeating: 1, count: 100)).count == 100)
    }

    /// Fuzzed bytes never trap: every prefix of every sample, and seeded byte flips in its headers, parse or
    /// throw a `PacketError` naming an offset within the input.
    @Test func truncatedAndCorruptIPv6FramesThrowWithAnOffset() {
        var rng = SplitMix64(seed: 0x86DD)
        var errors = 0
        for (i, f) in IPv6Samples.frames().enumerated() {
            let bytes = f.bytes()
            for n in 0...min(bytes.count, 200) { errors += Self.check(Array(bytes.prefix(n)), "#\(i) prefix \(n)") }
            errors += Self.flips(bytes, at: 12..<min(bytes.count, 14 + 40 + 40), upTo: 4, times: 300, &rng, "#\(i)")
            // Raw IP too: the version nibble chooses IPv6.
            errors += Self.check(Array(bytes[14...].prefix(30)), "#\(i) raw", .raw)
        }
        #expect(errors > 100)  // the corrupt inputs do reach the errors
        do {
            _ = try Frame(parsing: Array(IPv6Samples.frames()[0].bytes().prefix(14 + 30)), linkType: .ethernet)
            Issue.record("expected an error")
        } catch let e as PacketError {
            #expect(e.layer == "IPv6" && e.offset == 14 && e.problem == .truncated(needed: 40, available: 30))
        } catch {
            Issue.record("\(error)")
        }
    }

    /// `times` copies of `bytes` with 1 to `upTo` bytes in `range` flipped, each checked: how many threw.
    static func flips(_ bytes: [UInt8], at range: Range<Int>, upTo: Int, times: Int, _ rng: inout SplitMix64,
                      _ what: String) -> Int {
        var errors = 0
        for _ in 0..<times {
            var b = bytes
            for _ in 0..<Int.random(in: 1...upTo, using: &rng) {
                b[Int.random(in: range, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            errors += check(b, "\(what) flipped")
        }
        return errors
    }

    static func check(_ bytes: [UInt8], _ what: String, _ lt: LinkType = .ethernet) -> Int {
        do {
            let f = try Frame(parsing: bytes, linkType: lt)
            _ = try f.vxlanInner()
            if f.icmpv6?.type == .neighborAdvertisement { _ = try? NeighborDiscoveryBody(parsing: f.payload) }
            return 0
        } catch let e as PacketError {
            #expect(e.offset >= 0 && e.offset <= bytes.count, "\(what): \(e)")
            return 1
        } catch {
            Issue.record("\(what): untyped error \(error)")
            return 0
        }
    }

    /// Seeded IPv6 headers of random field values survive write → parse.
    @Test func randomHeadersRoundTrip() throws {
        var rng = SplitMix64(seed: 0x60)
        for _ in 0..<1_000 {
            let h = IPv6Header(source: IPv6Address(high: .random(in: 0...UInt64.max, using: &rng),
                                                   low: .random(in: 0...UInt64.max, using: &rng)),
                               destination: IPv6Address(high: .random(in: 0...UInt64.max, using: &rng),
                                                        low: .random(in: 0...UInt64.max, using: &rng)),
                               nextHeader: IPProtocol(rawValue: .random(in: 0...255, using: &rng)),
                               hopLimit: .random(in: 0...255, using: &rng), trafficClass: .random(in: 0...255, using: &rng),
                               flowLabel: .random(in: 0...0xF_FFFF, using: &rng),
                               payloadLength: .random(in: 0...UInt16.max, using: &rng))
            let bytes = [UInt8].writing(capacity: 40) { h.write(to: &$0) }
            var r = ByteReader(bytes)
            #expect(try IPv6Header(parsing: &r) == h)
            let f = IPv6FragmentHeader(nextHeader: .udp, fragmentOffset: .random(in: 0...0x1FFF, using: &rng),
                                       moreFragments: .random(using: &rng), identification: .random(in: 0...UInt32.max, using: &rng),
                                       reserved: .random(in: 0...255, using: &rng), reservedBits: .random(in: 0...3, using: &rng))
            let fb = [UInt8].writing(capacity: 8) { f.write(to: &$0) }
            var fr = ByteReader(fb)
            #expect(try IPv6ExtensionHeader(parsing: &fr, kind: .ipv6Fragment).fragment == f)
            #expect([UInt8].writing(capacity: 8) { IPv6ExtensionHeader(fragment: f).write(to: &$0) } == fb)
        }
    }

    /// The IPv6 pseudo-header sum equals the sum of its 40 bytes written out (RFC 8200 §8.1).
    @Test func pseudoHeaderSumMatchesItsBytes() {
        var rng = SplitMix64(seed: 0x58)
        for _ in 0..<1_000 {
            let s = IPv6Address(high: .random(in: 0...UInt64.max, using: &rng), low: .random(in: 0...UInt64.max, using: &rng))
            let d = IPv6Address(high: .random(in: 0...UInt64.max, using: &rng), low: .random(in: 0...UInt64.max, using: &rng))
            let len = Int.random(in: 0...0x10_0000, using: &rng)
            let bytes = s.octets + d.octets + [UInt8(len >> 24 & 0xFF), UInt8(len >> 16 & 0xFF), UInt8(len >> 8 & 0xFF),
                                               UInt8(len & 0xFF), 0, 0, 0, 58]
            #expect(InternetChecksum.pseudoHeaderSum(source: s, destination: d, nextHeader: .icmpv6, length: len)
                        == InternetChecksum.sum(bytes))
        }
    }
}
