import Packets
import TestSupport
import Testing

/// Real bytes: every packet of every fixture capture parses, and re-emitting it gives the same bytes.
@Suite struct GoldenCaptureTests {
    static let captures = Fixtures.allCaptures()

    @Test func fixturesArePresent() {
        #expect(Self.captures.count >= 20)
    }

    @Test(arguments: captures)
    func everyPacketParsesAndReEmitsTheSameBytes(path: String) throws {
        let (linkType, packets) = try Fixtures.read(path)
        #expect(!packets.isEmpty)
        for (i, pkt) in packets.enumerated() {
            let frame = try Frame(parsing: pkt.data, linkType: linkType)
            // An NFLOG record gives the packet it logged, without the netfilter attributes around it.
            let bytes = linkType == .nflog ? try NFLOG.payload(of: pkt.data).bytes : pkt.data
            #expect(frame.bytes(filling: false) == bytes, "\(path) packet \(i + 1)")
            #expect(frame.byteCount == bytes.count, "\(path) packet \(i + 1)")
            if let (_, inner) = try frame.vxlanInner() {
                // The inner frame re-emits too (Traffic Mirroring payloads).
                let vx = Array(frame.payload.dropFirst(VXLANHeader.byteCount))
                #expect(inner.bytes(filling: false) == vx, "\(path) packet \(i + 1) VXLAN inner")
            }
        }
    }

    /// The linux-netns captures were taken with offloads off: every checksum there is valid, and re-filling
    /// the checksums of a parsed frame reproduces the real bytes exactly. A frame cut short by the capture's
    /// snaplen (bulk-upload-10mb keeps 96 bytes) has its IP checksum checked; its TCP checksum cannot be.
    @Test func realLinuxChecksumsVerifyAndRefillIdentically() throws {
        let paths = Self.captures.filter { $0.contains("linux-netns") }
        #expect(paths.count >= 12)
        var checked = 0
        for path in paths {
            let (lt, packets) = try Fixtures.read(path)
            for (i, pkt) in packets.enumerated() {
                let f = try Frame(parsing: pkt.data, linkType: lt)
                guard f.ip != nil else { continue }
                #expect(f.checksums.ip == .valid, "\(path) #\(i + 1)")
                if pkt.data.count < pkt.originalLength {
                    #expect(f.checksums.transport == .unverifiable, "\(path) #\(i + 1)")
                    continue
                }
                #expect(f.checksums.transport == .valid, "\(path) #\(i + 1)")
                #expect(f.bytes(filling: true) == pkt.data, "\(path) #\(i + 1)")
                checked += 1
            }
        }
        #expect(checked > 400)
    }

    @Test func linuxSYNOptionsParseAsKernelSendsThem() throws {
        let (lt, packets) = try Fixtures.read(Fixtures.reference("linux-netns/nacl-out-22-blocked/lambda-eth0.pcap"))
        let syns = try packets.map { try Frame(parsing: $0.data, linkType: lt) }
            .filter { $0.transport.tcp?.flags == .syn && $0.transport.tcp?.destinationPort == 22 }
        #expect(syns.count == 5)
        let tcp = try #require(syns.first?.transport.tcp)
        // Linux: MSS, SACK_PERM, TS, NOP, WS (tcp_syn_options order).
        #expect(tcp.options.map(\.kind) == [2, 4, 8, 1, 3])
        #expect(tcp.mss == 1460)
        #expect(tcp.windowScale == 10)
        #expect(tcp.byteCount == 40)
        #expect(syns.first?.ip?.ttl == 64)
        #expect(syns.first?.ip?.dontFragment == true)
    }

    @Test func vxlanCapturesUnwrapToTheirInnerFrames() throws {
        let (lt, packets) = try Fixtures.read(Fixtures.reference("public/vxlan/zeek_vxlan-encapsulated-http.pcap"))
        var inners = 0
        for pkt in packets {
            let f = try Frame(parsing: pkt.data, linkType: lt)
            guard let (vx, inner) = try f.vxlanInner() else { continue }
            #expect(vx.vni == 1)
            #expect(vx.vniValid)
            #expect(inner.transport.tcp != nil)
            inners += 1
        }
        #expect(inners == packets.count)
        let (lt2, p2) = try Fixtures.read(Fixtures.reference("public/vxlan/tcpdump_vxlan.pcap"))
        let vnis = try p2.compactMap { try Frame(parsing: $0.data, linkType: lt2).vxlanInner()?.header.vni }
        #expect(Set(vnis) == [100])
    }

    @Test func icmpErrorQuotesTheOffendingDatagram() throws {
        let (lt, packets) = try Fixtures.read(Fixtures.reference("local/tcpdump-any_linux-sll2.pcap"))
        #expect(lt == .linuxSLL2)
        let icmp = try packets.map { try Frame(parsing: $0.data, linkType: lt) }.filter { $0.transport.icmp != nil }
        let f = try #require(icmp.first)
        #expect(f.transport.icmp?.type == .destinationUnreachable)
        #expect(f.transport.icmp?.code == 3)
        #expect(f.checksums.transport == .valid)
        let q = try #require(f.icmpQuote)
        #expect(q.ip.proto == .udp)
        #expect(q.ports?.destination == 5598)
    }

    @Test func linuxCookedV1Loads() throws {
        let (lt, packets) = try Fixtures.read(Fixtures.reference("local/tcpdump-any_linux-sll.pcap"))
        #expect(lt == .linuxSLL)
        let frames = try packets.map { try Frame(parsing: $0.data, linkType: lt) }
        #expect(frames.filter { $0.transport.tcp?.destinationPort == 5599 }.count >= 4)
    }

    @Test func rawIPCaptureLoads() throws {
        let (lt, packets) = try Fixtures.read(Fixtures.reference("public/timeout/ndpi_ocs_android-syn-timeout_DERIVED.pcap"))
        #expect(lt == .raw)
        let frames = try packets.map { try Frame(parsing: $0.data, linkType: lt) }
        #expect(frames.allSatisfy { $0.transport.tcp?.flags == .syn })
        // SYNs at 0, 1, 3, 7, 15, 31 s (Linux backoff), read with nanosecond timestamps.
        let t0 = packets[0].timestamp
        let seconds = packets.map { Double($0.timestamp - t0) / 1e9 }
        for (got, want) in zip(seconds, [0.0, 1, 3, 7, 15, 31]) { #expect(abs(got - want) < 0.1) }
    }
}

/// Untrusted bytes never trap: they parse or throw a typed error that names an offset inside the input.
@Suite struct UntrustedBytesTests {
    static let captures = Fixtures.allCaptures()

    static func check(_ bytes: [UInt8], _ lt: LinkType, _ what: String) {
        do {
            let f = try Frame(parsing: bytes, linkType: lt)
            _ = try f.vxlanInner()
        } catch let e as PacketError {
            #expect(e.offset >= 0 && e.offset <= bytes.count, "\(what): \(e)")
        } catch {
            Issue.record("\(what): untyped error \(error)")
        }
    }

    @Test(arguments: captures)
    func everyPrefixParsesOrThrowsWithAnOffset(path: String) throws {
        let (lt, packets) = try Fixtures.read(path)
        for (i, pkt) in packets.prefix(80).enumerated() {
            for n in 0...pkt.data.count {
                Self.check(Array(pkt.data.prefix(n)), lt, "\(path) #\(i + 1) prefix \(n)")
            }
        }
    }

    @Test(arguments: captures)
    func seededByteFlipsParseOrThrowWithAnOffset(path: String) throws {
        let (lt, packets) = try Fixtures.read(path)
        var rng = SplitMix64(seed: 0xF11B)
        for (i, pkt) in packets.prefix(80).enumerated() where !pkt.data.isEmpty {
            for _ in 0..<50 {
                var b = pkt.data
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    // Bias flips toward the headers, where the parser makes decisions.
                    let at = Int.random(in: 0..<min(b.count, 80), using: &rng)
                    b[at] ^= UInt8.random(in: 1...255, using: &rng)
                }
                Self.check(b, lt, "\(path) #\(i + 1)")
            }
        }
    }

    @Test func truncatedTCPHeaderNamesItsOffset() throws {
        let (lt, packets) = try Fixtures.read(Fixtures.reference("linux-netns/ok/lambda-eth0.pcap"))
        let syn = packets[0].data
        do {
            _ = try Frame(parsing: Array(syn.prefix(14 + 20 + 10)), linkType: lt)
            Issue.record("expected an error")
        } catch let e as PacketError {
            #expect(e.layer == "TCP")
            #expect(e.offset == 34)
            #expect(e.problem == .truncated(needed: 20, available: 10))
        }
    }

    @Test func badOptionLengthIsReportedAtTheOption() throws {
        var tcp = TCPHeader(sourcePort: 1, destinationPort: 2, flags: .syn, options: [.maximumSegmentSize(1460)])
        tcp.checksum = 0
        var bytes = [UInt8].writing(capacity: 64) { tcp.write(to: &$0) }
        bytes[21] = 9  // MSS option claims 9 bytes in a 4-byte option area
        var r = ByteReader(bytes)
        #expect(throws: PacketError(layer: "TCP option", offset: 20,
                                    problem: .invalid("option length 9 runs past the header end at 24"))) {
            try TCPHeader(parsing: &r)
        }
    }
}
