@testable import Packets
import Testing

/// Random field values → write → parse → equal, a thousand seeded cases per header.
struct Gen {
    var rng: SplitMix64
    init(_ seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func u8() -> UInt8 { UInt8.random(in: 0...255, using: &rng) }
    mutating func u16() -> UInt16 { UInt16.random(in: 0...UInt16.max, using: &rng) }
    mutating func u32() -> UInt32 { UInt32.random(in: 0...UInt32.max, using: &rng) }
    mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
    mutating func bool() -> Bool { Bool.random(using: &rng) }
    mutating func bytes(_ r: ClosedRange<Int>) -> [UInt8] { (0..<int(r)).map { _ in u8() } }
    mutating func mac() -> MACAddress { MACAddress(rawValue: UInt64(u32()) << 16 | UInt64(u16())) }
    mutating func ip() -> IPv4Address { IPv4Address(rawValue: u32()) }

    mutating func ethernet() -> EthernetHeader {
        var types: [UInt16] = [0x0800, 0x0806, 0x86DD, 0x88CC]
        types.append(u16() | 0x0600)
        var t = types[int(0...types.count - 1)]
        if t == EtherType.vlan.rawValue { t = 0x0800 }
        let tags = (0..<int(0...2)).map { _ in u16() }
        return EthernetHeader(destination: mac(), source: mac(), etherType: EtherType(rawValue: t), vlanTags: tags)
    }

    mutating func ipv4Options() -> ([IPv4Option], [UInt8]) {
        var opts: [IPv4Option] = []
        var n = 0
        while n < 36, int(0...2) > 0 {
            let o: IPv4Option
            switch int(0...2) {
            case 0: o = .noOperation
            case 1: o = IPv4Option(type: 7, data: bytes(1...7))  // record route-like
            default: o = IPv4Option(type: UInt8(int(2...255)), data: bytes(0...4))
            }
            if n + (o.type <= 1 ? 1 : 2 + o.data.count) > 36 { break }
            opts.append(o)
            n += o.type <= 1 ? 1 : 2 + o.data.count
        }
        var padding: [UInt8] = []
        if int(0...3) == 0, n < 40 {
            opts.append(.endOfList)
            n += 1
            let pad = (4 - n % 4) % 4
            padding = (0..<pad).map { _ in u8() }
        } else if n % 4 != 0 {
            // Without an end-of-list, emit pads to 32 bits with zeros, which parse as end-of-list.
            opts.append(.endOfList)
            n += 1
            padding = [UInt8](repeating: 0, count: (4 - n % 4) % 4)
        }
        return (opts, padding)
    }

    mutating func ipv4() -> IPv4Header {
        var h = IPv4Header(source: ip(), destination: ip(), proto: IPProtocol(rawValue: u8()), ttl: u8(),
                           identification: u16(), dontFragment: bool(), typeOfService: u8(), checksum: u16())
        (h.options, h.optionPadding) = ipv4Options()
        h.reservedFlag = bool()
        h.moreFragments = bool()
        h.fragmentOffset = u16() & 0x1FFF
        h.totalLength = UInt16(h.byteCount + int(0...1000))
        return h
    }

    mutating func tcpOption() -> TCPOption {
        switch int(0...6) {
        case 0: return .noOperation
        case 1: return .maximumSegmentSize(u16())
        case 2: return .windowScale(u8())
        case 3: return .sackPermitted
        case 4: return .sack((0..<int(1...3)).map { _ in SACKBlock(left: u32(), right: u32()) })
        case 5: return .timestamps(value: u32(), echoReply: u32())
        default:
            let kinds: [UInt8] = [6, 7, 9, 28, 30, 34, 253, 254]
            return .unknown(kind: kinds[int(0...kinds.count - 1)], data: bytes(0...6))
        }
    }

    mutating func tcp() -> TCPHeader {
        var h = TCPHeader(sourcePort: u16(), destinationPort: u16(), sequenceNumber: u32(), acknowledgmentNumber: u32(),
                          flags: TCPFlags(rawValue: u16()), window: u16(), checksum: u16(), urgentPointer: u16())
        h.reservedBits = u8() & 0x7
        var n = 0
        while int(0...3) > 0 {
            let o = tcpOption()
            if n + o.byteCount > 39 { break }
            h.options.append(o)
            n += o.byteCount
        }
        if n % 4 != 0 || int(0...4) == 0, n < 40 {
            h.options.append(.endOfList)
            n += 1
            let pad = (4 - n % 4) % 4
            h.optionPadding = int(0...1) == 0 ? [UInt8](repeating: 0, count: pad) : (0..<pad).map { _ in u8() }
        }
        return h
    }

    mutating func udp() -> UDPHeader {
        UDPHeader(sourcePort: u16(), destinationPort: u16(), length: UInt16(int(8...65535)), checksum: u16())
    }

    mutating func icmp() -> ICMPHeader {
        ICMPHeader(type: ICMPType(rawValue: u8()), code: u8(), checksum: u16(), restOfHeader: u32())
    }
}

@Suite struct RoundTripTests {
    static let cases = 1000

    static func roundTrip<H: Equatable>(_ h: H, byteCount: Int, write: (H, inout ByteWriter) -> Void,
                                        parse: (inout ByteReader) throws -> H) throws -> H {
        let bytes = [UInt8].writing(capacity: byteCount) { write(h, &$0) }
        #expect(bytes.count == byteCount)
        var r = ByteReader(bytes)
        let back = try parse(&r)
        #expect(r.remaining == 0)
        return back
    }

    /// `synOptions` reads in one walk what `mss`, `windowScale` and `timestamps` read in three, for random option
    /// lists (repeated kinds, unknown kinds, end-of-list and padding) and the two layouts real SYNs have.
    @Test func synOptionsAgreeWithTheSeparateReads() {
        var g = Gen(11)
        var headers: [TCPHeader] = (0..<Self.cases).map { _ in g.tcp() }
        headers.append(TCPHeader(sourcePort: 1, destinationPort: 2, flags: .syn,
                                 options: [.maximumSegmentSize(1460), .sackPermitted, .timestamps(value: 7, echoReply: 0),
                                           .noOperation, .windowScale(7)]))
        headers.append(TCPHeader(sourcePort: 1, destinationPort: 2, flags: .syn,
                                 options: [.maximumSegmentSize(1460), .noOperation, .windowScale(8), .noOperation,
                                           .noOperation, .sackPermitted]))
        var found = (mss: 0, windowScale: 0, timestamps: 0)
        for h in headers {
            let o = h.synOptions
            #expect(o.mss == h.mss)
            #expect(o.windowScale == h.windowScale)
            #expect(o.timestamps?.value == h.timestamps?.value && o.timestamps?.echoReply == h.timestamps?.echoReply)
            if o.mss != nil { found.mss += 1 }
            if o.windowScale != nil { found.windowScale += 1 }
            if o.timestamps != nil { found.timestamps += 1 }
        }
        // The generator gives each kind often enough for the comparison to mean something.
        #expect(found.mss > 100 && found.windowScale > 100 && found.timestamps > 100)
    }

    /// `linuxSYN` writes the bytes appending Linux's SYN options one by one gives.
    @Test func linuxSYNOptionsAreTheAppendedOnes() {
        var g = Gen(12)
        for k in 0..<200 {
            let mss = g.u16(), ws = g.u8(), ts = (value: g.u32(), echoReply: g.u32())
            let withTimestamps = k % 2 == 0
            var appended = TCPOptionBytes()
            appended.append(.maximumSegmentSize(mss))
            appended.append(.sackPermitted)
            if withTimestamps {
                appended.append(.timestamps(value: ts.value, echoReply: ts.echoReply))
                appended.append(.noOperation)
            } else {
                appended.append(.noOperation)
                appended.append(.noOperation)
            }
            appended.append(.windowScale(ws))
            let direct = TCPOptionBytes.linuxSYN(mss: mss, timestamps: withTimestamps ? ts : nil, windowScale: ws)
            #expect(direct == appended)
            #expect(direct.count == (withTimestamps ? 20 : 11))
        }
    }

    @Test func ethernet() throws {
        var g = Gen(1)
        for _ in 0..<Self.cases {
            let h = g.ethernet()
            let back = try Self.roundTrip(h, byteCount: h.byteCount, write: { $0.write(to: &$1) },
                                          parse: { try EthernetHeader(parsing: &$0) })
            #expect(back == h)
        }
    }

    @Test func ipv4WithOptions() throws {
        var g = Gen(2)
        var withOptions = 0
        for _ in 0..<Self.cases {
            let h = g.ipv4()
            if !h.options.isEmpty { withOptions += 1 }
            let back = try Self.roundTrip(h, byteCount: h.byteCount, write: { $0.write(to: &$1) },
                                          parse: { try IPv4Header(parsing: &$0) })
            #expect(back == h)
        }
        #expect(withOptions > 300)
    }

    @Test func tcpWithEveryOptionKind() throws {
        var g = Gen(3)
        var kinds = Set<UInt8>()
        for _ in 0..<Self.cases {
            let h = g.tcp()
            kinds.formUnion(h.options.map(\.kind))
            let back = try Self.roundTrip(h, byteCount: h.byteCount, write: { $0.write(to: &$1) },
                                          parse: { try TCPHeader(parsing: &$0) })
            #expect(back == h)
        }
        #expect(kinds.isSuperset(of: [0, 1, 2, 3, 4, 5, 8]))
    }

    @Test("timestamps: the NOP, NOP, timestamps fast path writes and reads what the general path does")
    func paddedTimestamps() throws {
        var fast = TCPOptionBytes()
        fast.appendPaddedTimestamps(value: 0xDEAD_BEEF, echoReply: 7)
        var general = TCPOptionBytes()
        for o: TCPOption in [.noOperation, .noOperation, .timestamps(value: 0xDEAD_BEEF, echoReply: 7)] { general.append(o) }
        #expect(fast == general && fast.count == 12)
        // The fast read itself (the general walk would hide a slip in it).
        #expect(fast.paddedTimestamps.map { $0.value == 0xDEAD_BEEF && $0.echoReply == 7 } == true)
        #expect(TCPOptionBytes([.timestamps(value: 1, echoReply: 2), .noOperation, .noOperation])
            .paddedTimestamps == nil)
        var t = TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 0, acknowledgmentNumber: 0, flags: .ack,
                          window: 1)
        t.optionBytes = fast
        #expect(t.timestamps?.value == 0xDEAD_BEEF && t.timestamps?.echoReply == 7)
        // A SYN's layout (timestamps after MSS and SACK-permitted) is found by the walk.
        t.options = [.maximumSegmentSize(1460), .sackPermitted, .timestamps(value: 5, echoReply: 0), .noOperation,
                     .windowScale(7)]
        #expect(t.timestamps?.value == 5 && t.timestamps?.echoReply == 0)
        t.options = [.noOperation, .noOperation, .sackPermitted]
        #expect(t.timestamps == nil)
    }

    @Test func udp() throws {
        var g = Gen(4)
        for _ in 0..<Self.cases {
            let h = g.udp()
            let back = try Self.roundTrip(h, byteCount: 8, write: { $0.write(to: &$1) },
                                          parse: { try UDPHeader(parsing: &$0) })
            #expect(back == h)
        }
    }

    @Test func icmp() throws {
        var g = Gen(5)
        for _ in 0..<Self.cases {
            let h = g.icmp()
            let back = try Self.roundTrip(h, byteCount: 8, write: { $0.write(to: &$1) },
                                          parse: { try ICMPHeader(parsing: &$0) })
            #expect(back == h)
        }
    }

    @Test func vxlan() throws {
        var g = Gen(6)
        for _ in 0..<Self.cases {
            var h = VXLANHeader(vni: g.u32(), flags: g.u8())
            h.reserved1 = g.u32() & 0xFF_FFFF
            h.reserved2 = g.u8()
            let back = try Self.roundTrip(h, byteCount: 8, write: { $0.write(to: &$1) },
                                          parse: { try VXLANHeader(parsing: &$0) })
            #expect(back == h)
        }
    }

    @Test func linuxCooked() throws {
        var g = Gen(7)
        for _ in 0..<Self.cases {
            let a = LinuxSLLHeader(packetType: g.u16(), arphrdType: g.u16(), addressLength: g.u16(),
                                   address: UInt64(g.u32()) << 32 | UInt64(g.u32()), protocolType: EtherType(rawValue: g.u16()))
            let backA = try Self.roundTrip(a, byteCount: 16, write: { $0.write(to: &$1) },
                                           parse: { try LinuxSLLHeader(parsing: &$0) })
            #expect(backA == a)
            let b = LinuxSLL2Header(protocolType: EtherType(rawValue: g.u16()), reserved: g.u16(), interfaceIndex: g.u32(),
                                    arphrdType: g.u16(), packetType: g.u8(), addressLength: g.u8(),
                                    address: UInt64(g.u32()) << 32 | UInt64(g.u32()))
            let backB = try Self.roundTrip(b, byteCount: 20, write: { $0.write(to: &$1) },
                                           parse: { try LinuxSLL2Header(parsing: &$0) })
            #expect(backB == b)
        }
    }

    /// A frame built from its parts (as the capture writer thread builds them) has the bytes the frame gives,
    /// IPv4 and TCP options included; the parts hold no reference, so they can be copied as bytes.
    @Test func framesBuiltFromPartsMatchFramesBuiltWhole() throws {
        #expect(_isPOD(FrameParts.self))
        var g = Gen(9)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        for i in 0..<Self.cases {
            var ip = g.ipv4()
            let transport: TransportHeader
            switch i % 3 {
            case 0: ip.proto = .tcp; transport = .tcp(g.tcp())
            case 1: ip.proto = .udp; transport = .udp(g.udp())
            default: ip.proto = .icmp; transport = .icmp(g.icmp())
            }
            let eth = EthernetHeader(destination: g.mac(), source: g.mac())
            let payload = g.bytes(0...300)
            let whole = Frame(link: .ethernet(eth), ip: ip, transport: transport, payload: payload).bytes(filling: true)
            var w = ByteWriter(base: buffer, capacity: 4096)
            let parts = FrameParts(destination: eth.destination, source: eth.source, ip: ip, transport: transport)
            payload.withUnsafeBytes { Frame.write(to: &w, parts: parts, payload: $0) }
            #expect(Array(w.written) == whole, "case \(i)")
            #expect(w.count <= FrameParts.maxHeaderBytes + payload.count)
        }
    }

    /// Whole frames built with filled lengths and checksums parse back with every checksum valid.
    @Test func builtFramesParseWithValidChecksums() throws {
        var g = Gen(8)
        for i in 0..<Self.cases {
            var ip = g.ipv4()
            ip.moreFragments = false
            ip.fragmentOffset = 0
            ip.options = []
            ip.optionPadding = []
            let transport: TransportHeader
            var tcp = g.tcp()
            tcp.optionPadding = tcp.optionPadding.map { _ in 0 }
            switch i % 3 {
            case 0: ip.proto = .tcp; transport = .tcp(tcp)
            case 1: ip.proto = .udp; transport = .udp(g.udp())
            default: ip.proto = .icmp; transport = .icmp(g.icmp())
            }
            let frame = Frame(link: .ethernet(EthernetHeader(destination: g.mac(), source: g.mac())), ip: ip,
                              transport: transport, payload: g.bytes(0...300))
            let bytes = frame.bytes(filling: true)
            let back = try Frame(parsing: bytes, linkType: .ethernet)
            #expect(back.checksums.ip == .valid)
            #expect(back.checksums.transport == .valid, "case \(i) \(ip.proto)")
            #expect(back.payload == frame.payload)
            #expect(Int(back.ip!.totalLength) == bytes.count - 14)
            if case .udp(let u) = back.transport { #expect(Int(u.length) == bytes.count - 14 - 20) }
            #expect(back.bytes(filling: false) == bytes)
        }
    }
}
