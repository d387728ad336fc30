import Foundation
import Packets
import TestSupport
import Testing

/// Frames a Linux client would send: SYN with options, data with timestamps, an ICMP error, a UDP datagram.
func sampleFrames() -> [Frame] {
    let eth = LinkHeader.ethernet(EthernetHeader(destination: MACAddress("02:00:00:00:00:01")!,
                                                 source: MACAddress("02:00:00:00:00:02")!))
    let a = IPv4Address(10, 0, 1, 10)
    let b = IPv4Address(203, 0, 113, 22)
    let syn = Frame(link: eth, ip: IPv4Header(source: a, destination: b, proto: .tcp, identification: 1),
                    transport: .tcp(TCPHeader(sourcePort: 40112, destinationPort: 22, sequenceNumber: 1000,
                                              flags: .syn, options: [.maximumSegmentSize(1460), .sackPermitted,
                                                                     .timestamps(value: 1, echoReply: 0),
                                                                     .noOperation, .windowScale(7)])))
    let data = Frame(link: eth, ip: IPv4Header(source: a, destination: b, proto: .tcp, identification: 2),
                     transport: .tcp(TCPHeader(sourcePort: 40112, destinationPort: 22, sequenceNumber: 1001,
                                               acknowledgmentNumber: 5001, flags: [.psh, .ack], window: 502,
                                               options: [.noOperation, .noOperation,
                                                         .timestamps(value: 2, echoReply: 9)])),
                     payload: Array("SSH-2.0-OpenSSH_9.2p1\r\n".utf8))
    let udp = Frame(link: eth, ip: IPv4Header(source: a, destination: b, proto: .udp),
                    transport: .udp(UDPHeader(sourcePort: 40000, destinationPort: 5598)), payload: [1, 2, 3, 4, 5])
    // The port-unreachable the UDP datagram draws quotes its IP header and first 8 bytes.
    let sent = udp.filled()
    let quoted = ICMPQuote(ip: sent.ip!, leading: Array(sent.bytes(filling: false)[34..<42]))
    let icmp = Frame(link: eth, ip: IPv4Header(source: b, destination: a, proto: .icmp),
                     transport: .icmp(ICMPHeader(type: .destinationUnreachable, code: 3)), icmpQuote: quoted)
    let echo = Frame(link: eth, ip: IPv4Header(source: a, destination: b, proto: .icmp),
                     transport: .icmp(.echo(request: true, identifier: 7, sequence: 1)), payload: Array(0..<56))
    return [syn, data, icmp, udp, echo]
}

@Suite struct CaptureFileTests {
    @Test func pcapWrittenThroughLibpcapReadsBackWithNanoseconds() throws {
        let dir = makeTempDirectory()
        let path = dir + "/out.pcap"
        let w = try PcapWriter(path: path)
        let frames = sampleFrames()
        for (i, f) in frames.enumerated() { w.write(f.bytes(), timestamp: 1_700_000_000_123_456_789 + Int64(i)) }
        try w.close()
        // Nanosecond magic, little-endian host: 4d 3c b2 a1.
        let head = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)).prefix(24))
        #expect(head[0..<4] == [0x4D, 0x3C, 0xB2, 0xA1])
        #expect(head[20] == 1)  // LINKTYPE_ETHERNET
        let (lt, back) = try Fixtures.read(path)
        #expect(lt == .ethernet)
        #expect(back.map(\.data) == frames.map { $0.bytes() })
        #expect(back.map(\.timestamp) == (0..<Int64(frames.count)).map { 1_700_000_000_123_456_789 + $0 })
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.pcap"])
    }

    /// Records handed to the writer thread, over many chunks and to several files (one writer left out), give
    /// the same files, byte for byte, as writing each record directly.
    /// Records given as bytes, and frames the thread builds from their parts, land as direct writes put them.
    @Test func writerThreadWritesTheSameBytesAsDirectWrites() throws {
        let dir = makeTempDirectory()
        let samples = sampleFrames()
        let frames = samples.map { $0.bytes() }
        var direct: [PcapWriter] = []
        var threaded: [PcapWriter?] = []
        for i in 0..<3 {
            direct.append(try PcapWriter(path: "\(dir)/direct-\(i).pcap"))
            threaded.append(try PcapWriter(path: "\(dir)/threaded-\(i).pcap"))
        }
        threaded.append(nil)
        let thread = try PcapWriterThread(writers: threaded, chunks: 2)
        var rng = SplitMix64(seed: 5)
        // About 10 MB: ten times the chunks, so the caller waits for the thread again and again.
        for k in 0..<60_000 {
            let w = Int(rng.next() % 3)
            var frame = frames[k % frames.count]
            frame.append(contentsOf: repeatElement(UInt8(truncatingIfNeeded: k), count: Int(rng.next() % 200)))
            let ts = 1_700_000_000_000_000_000 + Int64(k) * 1_000
            // Every other frame the thread builds from its parts (those without an ICMP quote), with the extra
            // bytes as payload; the others go as bytes, the extra bytes trailing.
            let f = samples[k % frames.count]
            if k % 2 == 0, f.icmpQuote == nil, case .ethernet(let eth) = f.link, let ip = f.ip {
                let payload = f.payload + frame[frames[k % frames.count].count...]
                direct[w].write(Frame(link: f.link, ip: ip, transport: f.transport, payload: payload).bytes(), timestamp: ts)
                let parts = FrameParts(destination: eth.destination, source: eth.source, ip: ip, transport: f.transport)
                payload.withUnsafeBytes { thread.append(writer: w, parts: parts, payload: $0, timestamp: ts) }
            } else {
                direct[w].write(frame, timestamp: ts)
                frame.withUnsafeBytes { thread.append(writer: w, $0, timestamp: ts) }
            }
        }
        thread.finish()
        for i in 0..<3 {
            try direct[i].close()
            try threaded[i]!.close()
            let a = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/direct-\(i).pcap"))
            let b = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/threaded-\(i).pcap"))
            #expect(a.count > 1_000_000)
            #expect(a == b, "file \(i)")
        }
    }

    /// With a pcapng: records that carry a pcapng interface and a comment reach both the pcap and, as Enhanced
    /// Packet Blocks, all-hops.pcapng, which comes out byte for byte as direct writes make it: grouped by
    /// interface, comments (empty ones too) and all; a record with a pcapng interface and no pcap writer goes to
    /// the pcapng alone.
    @Test func writerThreadWritesThePcapngAsDirectWritesDo() throws {
        let dir = makeTempDirectory()
        let samples = sampleFrames()
        let frames = samples.map { $0.bytes() }
        let directPcap = try PcapWriter(path: "\(dir)/direct.pcap")
        let threadedPcap = try PcapWriter(path: "\(dir)/threaded.pcap")
        let directNG = try PcapngWriter(path: "\(dir)/direct.pcapng", application: "t", groupByInterface: true)
        let threadedNG = try PcapngWriter(path: "\(dir)/threaded.pcapng", application: "t", groupByInterface: true)
        for ng in [directNG, threadedNG] {
            for i in 0..<3 { ng.addInterface(name: "if\(i)", description: "interface \(i)") }
        }
        let thread = try PcapWriterThread(writers: [threadedPcap, nil], pcapng: .passRetained(threadedNG), chunks: 2)
        var rng = SplitMix64(seed: 9)
        for k in 0..<20_000 {
            let interface = Int(rng.next() % 3)
            let writer = interface == 2 ? 1 : 0  // interface 2's records have no pcap writer
            let comment = k % 7 == 0 ? "" : "packet \(k) at interface \(interface): " + String(repeating: "x", count: k % 50)
            let ts = 1_700_000_000_000_000_000 + Int64(k) * 1_000
            let f = samples[k % frames.count]
            var bytes = frames[k % frames.count]
            if k % 2 == 0, f.icmpQuote == nil, case .ethernet(let eth) = f.link, let ip = f.ip {
                let payload = f.payload + [UInt8](repeating: UInt8(truncatingIfNeeded: k), count: k % 300)
                bytes = Frame(link: f.link, ip: ip, transport: f.transport, payload: payload).bytes()
                let parts = FrameParts(destination: eth.destination, source: eth.source, ip: ip, transport: f.transport)
                var c = comment
                c.withUTF8 { c in
                    payload.withUnsafeBytes {
                        thread.append(writer: writer, parts: parts, payload: $0, timestamp: ts, pcapngInterface: interface,
                                      comment: UnsafeRawBufferPointer(c))
                    }
                }
            } else {
                var c = comment
                c.withUTF8 { c in
                    bytes.withUnsafeBytes {
                        thread.append(writer: writer, $0, timestamp: ts, pcapngInterface: interface,
                                      comment: UnsafeRawBufferPointer(c))
                    }
                }
            }
            if writer == 0 { directPcap.write(bytes, timestamp: ts) }
            directNG.write(interface: interface, timestamp: ts, data: bytes, comment: comment.isEmpty ? nil : comment)
        }
        thread.finish()
        try directPcap.close()
        try threadedPcap.close()
        try directNG.close()
        try threadedNG.close()
        for ext in ["pcap", "pcapng"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/direct.\(ext)"))
            let b = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/threaded.\(ext)"))
            #expect(a.count > 1_000_000)
            #expect(a == b, "\(ext)")
        }
        #expect(threadedNG.packetCount == 20_000)
        let (count, problems) = try TShark.problems(in: "\(dir)/threaded.pcapng")
        #expect(count == 20_000)
        #expect(problems == [])
    }

    /// A pcapng option holds at most 65,535 bytes: a longer comment is cut at the start of a UTF-8 character, and
    /// the file stays valid.
    @Test func aCommentLongerThanAnOptionIsCutAtACharacter() throws {
        let path = makeTempDirectory() + "/long.pcapng"
        let w = try PcapngWriter(path: path, application: "t")
        w.addInterface(name: "a", description: "a")
        w.write(interface: 0, timestamp: 1, data: sampleFrames()[1].bytes(), comment: String(repeating: "é", count: 40_000))
        try w.close()
        let comment = try TShark.fields(path, ["frame.comment"]).first ?? ""
        #expect(comment == String(repeating: "é", count: 32_767))  // 65,534 bytes
        #expect(try TShark.problems(in: path).problems == [])
    }

    @Test func tsharkValidatesEveryChecksumOfWhatWeWrite() throws {
        let path = makeTempDirectory() + "/frames.pcap"
        let w = try PcapWriter(path: path)
        for (i, f) in sampleFrames().enumerated() { w.write(f.bytes(), timestamp: Int64(i) * 1_000_000) }
        try w.close()
        let (frames, problems) = try TShark.problems(in: path)
        #expect(frames == 5)
        #expect(problems == [])
        let info = try TShark.fields(path, ["tcp.options.mss_val", "tcp.options.wscale.shift", "icmp.type", "udp.length"])
        #expect(info[0].hasPrefix("1460\t7"))
        #expect(info[2].contains("3"))
        #expect(info[3].hasSuffix("13"))
        #expect(try TShark.expertErrors(in: path) == [])
    }

    /// The tshark check can fail: a frame with a wrong TCP checksum is caught.
    @Test func tsharkCheckCatchesABadChecksum() throws {
        let path = makeTempDirectory() + "/bad.pcap"
        var bytes = sampleFrames()[1].bytes()
        bytes[14 + 20 + 16] ^= 0xFF
        let w = try PcapWriter(path: path)
        w.write(bytes, timestamp: 0)
        try w.close()
        let (frames, problems) = try TShark.problems(in: path)
        #expect(frames == 1)
        #expect(problems.count == 1 && problems.first?.hasPrefix("1\t") == true, "\(problems)")
        #expect(try TShark.expertErrors(in: path).contains { $0.contains("Bad checksum") })
        let parsed = try Frame(parsing: bytes, linkType: .ethernet)
        #expect(parsed.checksums.transport.isBad)
        #expect(parsed.checksums.ip == .valid)
    }

    @Test func pcapngCarriesInterfacesAndCommentsThatTsharkReads() throws {
        let dir = makeTempDirectory()
        let path = dir + "/all-hops.pcapng"
        let w = try PcapngWriter(path: path, application: "vpcsim test")
        let lambda = w.addInterface(name: "01-lambda-eni", description: "Lambda ENI eni-0a1b in subnet-0c2d")
        let nat = w.addInterface(name: "02-nat-eni", description: "NAT gateway nat-0c3d")
        let frames = sampleFrames()
        w.write(interface: lambda, timestamp: 1_000_000_001, data: frames[0].bytes(), comment: "sent by lambda")
        w.write(interface: nat, timestamp: 1_000_000_002, data: frames[1].bytes(),
                comment: "dropped: acl-0a1b (public) outbound rule * DENY — “quotes” ünïcode")
        w.write(interface: nat, timestamp: 2_500_000_003, data: frames[3].bytes())
        try w.close()
        let rows = try TShark.fields(path, ["frame.interface_name", "frame.comment", "frame.time_epoch"])
        #expect(rows.count == 3)
        #expect(rows[0].hasPrefix("01-lambda-eni\tsent by lambda\t1.000000001"))
        #expect(rows[1].hasPrefix("02-nat-eni\tdropped: acl-0a1b (public) outbound rule * DENY — “quotes” ünïcode\t1.000000002"))
        #expect(rows[2].hasPrefix("02-nat-eni\t\t2.500000003"))
        let desc = try TShark.fields(path, ["frame.interface_description"])
        #expect(desc[1] == "NAT gateway nat-0c3d")
        let (n, problems) = try TShark.problems(in: path)
        #expect(n == 3)
        #expect(problems == [])
        // libpcap reads our pcapng too.
        let (lt, back) = try Fixtures.read(path)
        #expect(lt == .ethernet)
        #expect(back.map(\.timestamp) == [1_000_000_001, 1_000_000_002, 2_500_000_003])
        #expect(back[1].data == frames[1].bytes())
    }

    @Test func groupedPcapngHoldsPacketsInterfaceByInterfaceAndLeavesNoSpool() throws {
        let dir = makeTempDirectory()
        let path = dir + "/grouped.pcapng"
        let w = try PcapngWriter(path: path, application: "t", groupByInterface: true)
        let a = w.addInterface(name: "a", description: "first")
        let b = w.addInterface(name: "b", description: "second")
        let frames = sampleFrames()
        // Interleaved in time across the two interfaces …
        for (i, f) in frames.enumerated() {
            w.write(interface: i % 2 == 0 ? a : b, timestamp: Int64(i) * 1000, data: f.bytes(), comment: "#\(i)")
        }
        try w.close()
        // … stored interface by interface, each in time order, comments kept.
        let rows = try TShark.fields(path, ["frame.interface_name", "frame.comment"])
        #expect(rows == ["a\t#0", "a\t#2", "a\t#4", "b\t#1", "b\t#3"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["grouped.pcapng"])
        let (n, problems) = try TShark.problems(in: path)
        #expect(n == 5)
        #expect(problems == [])
    }

    @Test func pcapngSectionHeaderNamesTheApplication() throws {
        let path = makeTempDirectory() + "/shb.pcapng"
        let w = try PcapngWriter(path: path, application: "vpcsim 0.1")
        w.addInterface(name: "x", description: "y")
        try w.close()
        let r = try run("capinfos", ["-F", path])  // capinfos prints the section's application
        #expect(r.stdout.contains("vpcsim 0.1"))
    }

    @Test func abandonedOrFailedWritesLeaveNothingUnderTheFinalName() throws {
        let dir = makeTempDirectory()
        do {
            let w = try PcapWriter(path: dir + "/a.pcap")
            w.write(sampleFrames()[0].bytes(), timestamp: 0)
            w.abandon()
        }
        do {
            let w = try PcapngWriter(path: dir + "/b.pcapng", application: "t")
            w.addInterface(name: "i", description: "d")
            w.abandon()
        }
        do {
            // Dropped without close: discarded, not half-written.
            let w = try PcapWriter(path: dir + "/c.pcap")
            w.write(sampleFrames()[0].bytes(), timestamp: 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [])
        #expect(throws: CaptureFileError.self) { try PcapWriter(path: dir + "/missing/dir/x.pcap") }
        #expect(throws: CaptureFileError.self) { try PcapngWriter(path: dir + "/missing/x.pcapng", application: "t") }
    }

    @Test func truncatedAndCorruptCapturesGiveAClearError() throws {
        let dir = makeTempDirectory()
        let src = try Data(contentsOf: URL(fileURLWithPath: Fixtures.reference("linux-netns/ok/lambda-eth0.pcap")))
        let cut = dir + "/cut.pcap"
        try src.prefix(24 + 16 + 30).write(to: URL(fileURLWithPath: cut))
        let r = try CaptureReader(path: cut)
        #expect(throws: CaptureFileError.self) { _ = try r.readAll() }
        do {
            _ = try CaptureReader(path: cut).readAll()
        } catch let e as CaptureFileError {
            #expect(e.packet == 1)
            #expect(e.description.contains("cut.pcap: packet 1: truncated"))
        }
        let junk = dir + "/junk.pcap"
        try Data("this is not a capture file at all".utf8).write(to: URL(fileURLWithPath: junk))
        #expect(throws: CaptureFileError.self) { try CaptureReader(path: junk) }
        #expect(throws: CaptureFileError.self) { try CaptureReader(path: dir + "/nope.pcap") }
        let empty = dir + "/empty.pcap"
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(throws: CaptureFileError.self) { try CaptureReader(path: empty) }
    }

    /// A valid pcap of link type 147 (LINKTYPE_USER0), which libpcap opens and vpcsim does not read.
    @Test func unsupportedLinkTypeIsRefusedByName() throws {
        let path = makeTempDirectory() + "/user0.pcap"
        var header: [UInt8] = [0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0]
        header += [147, 0, 0, 0]
        // One record, so that the file is a capture in every respect but its link type.
        header += [1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]
        try Data(header).write(to: URL(fileURLWithPath: path))
        #expect(try run("tshark", ["-n", "-r", path]).status == 0, "tshark reads the file")
        let error = #expect(throws: CaptureFileError.self) { try CaptureReader(path: path) }
        #expect(error?.description == "\(path): unsupported link type 147 "
            + "(supported: Ethernet, raw IP, Linux SLL and SLL2, NFLOG)")
    }

    static let nflog = Fixtures.reference("local/nflog_tcp-netns.pcap")

    /// The NFLOG fixture, read by our reader and by tshark: the same packets, addresses, ports, flags,
    /// sequence numbers and timestamps.
    @Test func nflogCaptureIsReadAsThePacketsItLogged() throws {
        let path = Self.nflog
        let (linkType, packets) = try Fixtures.read(path)
        #expect(linkType == .nflog)
        #expect(packets.count == 11)
        let ours = try packets.map { pkt -> String in
            let f = try Frame(parsing: pkt.data, linkType: linkType)
            let ip = try #require(f.ip)
            let tcp = try #require(f.transport.tcp)
            let seconds = pkt.timestamp / 1_000_000_000
            let fraction = String(String(pkt.timestamp % 1_000_000_000 + 1_000_000_000).dropFirst())
            return "\(seconds).\(fraction)\t\(ip.source)\t\(ip.destination)\t\(tcp.sourcePort)\t"
                + "\(tcp.destinationPort)\t0x\(String(format: "%04x", tcp.flags.rawValue))\t\(tcp.sequenceNumber)\t"
                + "\(f.payload.count)"
        }
        let theirs = try TShark.fields(path, ["frame.time_epoch", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport",
                                              "tcp.flags", "tcp.seq_raw", "tcp.len"])
        #expect(theirs.count == 11)
        #expect(ours == theirs)
        // Every address is one of the two namespaces'.
        #expect(Set(ours.map { $0.split(separator: "\t")[1] }) == ["10.99.0.1", "10.99.0.2"])
    }

    @Test func nflogAttributesThatDoNotHoldTogetherThrowWithTheirOffset() throws {
        let (_, packets) = try Fixtures.read(Self.nflog)
        let record = packets[0].data
        let logged = try NFLOG.payload(of: record)
        #expect(logged.bytes.first == 0x45 && logged.offset + logged.bytes.count == record.count)
        // Cut inside the first attribute's header, then inside its value.
        #expect(throws: PacketError(layer: "NFLOG attribute", offset: 4, problem: .truncated(needed: 4, available: 2))) {
            try NFLOG.payload(of: Array(record.prefix(6)))
        }
        #expect(throws: PacketError(layer: "NFLOG attribute", offset: 4, problem: .truncated(needed: 8, available: 6))) {
            try NFLOG.payload(of: Array(record.prefix(10)))
        }
        var zero = record
        zero[4] = 0
        zero[5] = 0
        #expect(throws: PacketError(layer: "NFLOG attribute", offset: 4,
                                    problem: .invalid("length 0 is shorter than the attribute header"))) {
            try Frame(parsing: zero, linkType: .nflog)
        }
        #expect(throws: PacketError(layer: "NFLOG", offset: 4, problem: .invalid("no payload attribute (type 9)"))) {
            try NFLOG.payload(of: Array(record.prefix(logged.offset - 4)))
        }
        // A bad IP header is reported at its offset from the start of the record.
        var badIP = record
        badIP[logged.offset] = 0x42
        #expect(throws: PacketError(layer: "IPv4", offset: logged.offset, problem: .invalid("header length 8 is below 20"))) {
            try Frame(parsing: badIP, linkType: .nflog)
        }
    }
}
