import Packets

/// One TCP segment read from a capture (after unwrapping VXLAN, when it was mirrored traffic).
public struct CapturedSegment: Equatable, Sendable {
    /// 1-based record number in the file.
    public var frameNumber: Int
    /// Nanoseconds since the Unix epoch.
    public var timestamp: Int64
    public var source: IPAddress
    public var sourcePort: UInt16
    public var destination: IPAddress
    public var destinationPort: UInt16
    public var flags: TCPFlags
    public var sequence: UInt32
    public var acknowledgment: UInt32
    /// TCP payload bytes as the IP header declares them (not shortened by a snap length).
    public var payloadLength: Int
    /// The kinds of the TCP options, in order (2 MSS, 4 SACK permitted, 8 timestamps, 1 NOP, 3 window scale…).
    public var optionKinds: [UInt8]
    /// The IPv4 TTL or the IPv6 hop limit.
    public var ttl: UInt8
    public var window: UInt16
    /// The segment was carried inside VXLAN (UDP 4789) and unwrapped.
    public var unwrapped: Bool
}

public enum SegmentDirection: String, Sendable, Codable {
    case clientToServer = "client→server"
    case serverToClient = "server→client"

    /// `→` or `←`, for tables.
    public var arrow: String { self == .clientToServer ? "→" : "←" }
}

/// One packet of a conversation, as compared: everything relative to the conversation.
public struct ConversationPacket: Equatable, Sendable {
    /// 1-based position in the conversation.
    public var index: Int
    public var frameNumber: Int
    /// Nanoseconds since the conversation's first packet.
    public var time: Int64
    public var direction: SegmentDirection
    public var flags: TCPFlags
    /// Relative to the sender's initial sequence number.
    public var relativeSequence: UInt32
    /// Relative to the receiver's initial sequence number; nil without the ACK flag.
    public var relativeAcknowledgment: UInt32?
    public var payloadLength: Int
    public var optionKinds: [UInt8]
    public var ttl: UInt8
}

/// How the client of a conversation was told from the server.
public enum ClientDecision: String, Sendable, Codable {
    /// It sent the first SYN.
    case syn = "SYN"
    /// It received the first SYN-ACK (the SYN was not captured).
    case synAck = "SYN-ACK"
    /// No handshake captured: the endpoint with the higher port is the client.
    case lowerPortIsServer = "lower port is the server"
}

/// A TCP conversation: the segments of one connection (4-tuple; a new SYN after the conversation finished on
/// the same tuple starts the next one).
public struct CapturedConversation: Sendable {
    /// 1-based, in order of first packet within the capture.
    public var index: Int
    public var client: IPAddress
    public var clientPort: UInt16
    public var server: IPAddress
    public var serverPort: UInt16
    public var clientDecidedBy: ClientDecision
    /// Timestamp (ns since the epoch) of the first packet.
    public var start: Int64
    /// Nanoseconds from the capture's first record to this conversation's first packet.
    public var startInCapture: Int64
    public var packets: [ConversationPacket]

    /// Nanoseconds from the first packet to the last.
    public var duration: Int64 { packets.last?.time ?? 0 }
    /// "10.0.1.10:40112", "[2001:db8::10]:40112".
    public var clientEndpoint: String { client.endpoint(port: clientPort) }
    public var serverEndpoint: String { server.endpoint(port: serverPort) }
    public var description: String { "\(clientEndpoint) → \(serverEndpoint)" }
}

/// A capture file read for comparison: its TCP conversations, over IPv4 and IPv6, and what reading it found.
public struct CompareCapture: Sendable {
    public var path: String
    public var linkType: LinkType
    public var frameCount: Int
    public var firstTimestamp: Int64
    public var tcpSegmentCount: Int
    /// Frames found to be VXLAN (UDP 4789) and unwrapped, and the VNIs they carried.
    public var vxlanUnwrapped: Int
    public var vxlanVNIs: [UInt32]
    /// Frames whose headers did not parse (skipped), and the first problem.
    public var unparsedFrames: Int
    public var firstUnparsed: String?
    public var conversations: [CapturedConversation]

    /// Reads every record. An unreadable, truncated or corrupt file throws a `CaptureFileError`
    /// (`file: packet N: problem`).
    public static func load(path: String) throws(CaptureFileError) -> CompareCapture {
        let reader: CaptureReader
        do {
            reader = try CaptureReader(path: path)
        } catch var e as CaptureFileError {
            // libpcap's message for a file it cannot open already starts with the path.
            if e.message.hasPrefix(path + ": ") { e.message.removeFirst(path.count + 2) }
            throw e
        } catch {
            throw CaptureFileError(path: path, message: "\(error)")
        }
        defer { reader.close() }
        var segments: [CapturedSegment] = []
        var frames = 0
        var first: Int64?
        var unwrapped = 0
        var vnis = Set<UInt32>()
        var unparsed = 0
        var firstUnparsed: String?
        while true {
            let record: CapturedPacket?
            do {
                record = try reader.next()
            } catch let e as CaptureFileError {
                throw e
            } catch {
                throw CaptureFileError(path: path, packet: frames + 1, message: "\(error)")
            }
            guard let record else { break }
            frames += 1
            if first == nil { first = record.timestamp }
            var frame: Frame
            do {
                frame = try Frame(parsing: record.data, linkType: reader.linkType)
            } catch {
                unparsed += 1
                if firstUnparsed == nil { firstUnparsed = "packet \(frames): \(error)" }
                continue
            }
            var carried = false
            // AWS Traffic Mirroring: the mirrored frame inside VXLAN; unwrap nested encapsulation too.
            for _ in 0..<4 {
                guard let udp = frame.transport.udp, udp.destinationPort == VXLANHeader.udpPort else { break }
                guard let inner = try? frame.vxlanInner() else { break }
                frame = inner.inner
                if !carried { unwrapped += 1 }
                carried = true
                vnis.insert(inner.header.vni)
            }
            guard let tcp = frame.transport.tcp else { continue }
            let source: IPAddress, destination: IPAddress
            let ttl: UInt8
            let declared: Int
            if let ip = frame.ip {
                (source, destination, ttl) = (.v4(ip.source), .v4(ip.destination), ip.ttl)
                declared = ip.totalLength == 0 ? -1 : Int(ip.totalLength) - ip.byteCount - tcp.byteCount
            } else if let ip6 = frame.ipv6 {
                (source, destination, ttl) = (.v6(ip6.source), .v6(ip6.destination), ip6.hopLimit)
                var headers = tcp.byteCount
                for e in frame.ipv6Extensions { headers += e.byteCount }
                declared = ip6.payloadLength == 0 ? -1 : Int(ip6.payloadLength) - headers
            } else {
                continue
            }
            segments.append(CapturedSegment(
                frameNumber: frames, timestamp: record.timestamp, source: source, sourcePort: tcp.sourcePort,
                destination: destination, destinationPort: tcp.destinationPort, flags: tcp.flags,
                sequence: tcp.sequenceNumber, acknowledgment: tcp.acknowledgmentNumber,
                payloadLength: declared < 0 ? frame.payload.count : declared,
                optionKinds: tcp.options.map(\.kind), ttl: ttl, window: tcp.window, unwrapped: carried))
        }
        let start = first ?? 0
        return CompareCapture(
            path: path, linkType: reader.linkType, frameCount: frames, firstTimestamp: start,
            tcpSegmentCount: segments.count, vxlanUnwrapped: unwrapped, vxlanVNIs: vnis.sorted(),
            unparsedFrames: unparsed, firstUnparsed: firstUnparsed,
            conversations: CompareCapture.conversations(of: segments, captureStart: start))
    }

    // MARK: Conversations

    private struct Endpoint: Hashable {
        var address: IPAddress
        var port: UInt16
    }

    private struct TupleKey: Hashable {
        var low: Endpoint
        var high: Endpoint
        init(_ a: Endpoint, _ b: Endpoint) {
            if (a.address, a.port) <= (b.address, b.port) { low = a; high = b } else { low = b; high = a }
        }
    }

    private struct Building {
        var segments: [CapturedSegment] = []
        var finFrom = Set<Endpoint>()
        var reset = false
        var sawNonSYN = false
        var synSequence: UInt32?
    }

    /// Splits segments into conversations by 4-tuple; a SYN (without ACK) on a tuple whose conversation was
    /// reset, closed by FINs both ways, or already past its handshake with another ISN starts a new one.
    public static func conversations(of segments: [CapturedSegment], captureStart: Int64) -> [CapturedConversation] {
        var active: [TupleKey: Int] = [:]
        var all: [Building] = []
        for s in segments {
            let src = Endpoint(address: s.source, port: s.sourcePort)
            let dst = Endpoint(address: s.destination, port: s.destinationPort)
            let key = TupleKey(src, dst)
            let isSYN = s.flags.contains(.syn) && !s.flags.contains(.ack)
            var idx = active[key]
            if let i = idx, isSYN {
                let b = all[i]
                let finished = b.reset || b.finFrom.count == 2
                let otherISN = b.sawNonSYN && b.synSequence != nil && b.synSequence != s.sequence
                    || b.sawNonSYN && b.synSequence == nil
                if finished || otherISN { idx = nil }
            }
            let i: Int
            if let idx { i = idx } else {
                all.append(Building())
                i = all.count - 1
                active[key] = i
            }
            all[i].segments.append(s)
            if s.flags.contains(.rst) { all[i].reset = true }
            if s.flags.contains(.fin) { all[i].finFrom.insert(src) }
            if isSYN {
                if all[i].synSequence == nil { all[i].synSequence = s.sequence }
            } else {
                all[i].sawNonSYN = true
            }
        }
        var out = all.enumerated().map { n, b in
            var c = conversation(from: b.segments, captureStart: captureStart)
            c.index = n
            return c
        }
        out.sort { ($0.start, $0.index) < ($1.start, $1.index) }
        for i in out.indices { out[i].index = i + 1 }
        return out
    }

    private static func conversation(from segs: [CapturedSegment], captureStart: Int64) -> CapturedConversation {
        let first = segs[0]
        var client = Endpoint(address: first.source, port: first.sourcePort)
        var server = Endpoint(address: first.destination, port: first.destinationPort)
        let decision: ClientDecision
        if let syn = segs.first(where: { $0.flags.contains(.syn) && !$0.flags.contains(.ack) }) {
            decision = .syn
            client = Endpoint(address: syn.source, port: syn.sourcePort)
            server = Endpoint(address: syn.destination, port: syn.destinationPort)
        } else if let synAck = segs.first(where: { $0.flags.contains(.syn) && $0.flags.contains(.ack) }) {
            decision = .synAck
            client = Endpoint(address: synAck.destination, port: synAck.destinationPort)
            server = Endpoint(address: synAck.source, port: synAck.sourcePort)
        } else {
            decision = .lowerPortIsServer
            if server.port > client.port { swap(&client, &server) }
        }
        func fromClient(_ s: CapturedSegment) -> Bool {
            s.source == client.address && s.sourcePort == client.port
        }
        let fromC = segs.filter(fromClient)
        let fromS = segs.filter { !fromClient($0) }
        let clientSYN = fromC.first { $0.flags.contains(.syn) && !$0.flags.contains(.ack) }
        let serverSYNACK = fromS.first { $0.flags.contains(.syn) && $0.flags.contains(.ack) }
        let clientBase = clientSYN?.sequence ?? serverSYNACK.map { $0.acknowledgment &- 1 } ?? fromC.first?.sequence
            ?? fromS.first { $0.flags.contains(.ack) }?.acknowledgment ?? 0
        let serverBase = serverSYNACK?.sequence ?? fromS.first?.sequence
            ?? fromC.first { $0.flags.contains(.ack) }?.acknowledgment ?? 0
        let start = segs.map(\.timestamp).min() ?? first.timestamp
        var packets: [ConversationPacket] = []
        packets.reserveCapacity(segs.count)
        for (n, s) in segs.enumerated() {
            let c = fromClient(s)
            let ownBase = c ? clientBase : serverBase
            let peerBase = c ? serverBase : clientBase
            packets.append(ConversationPacket(
                index: n + 1, frameNumber: s.frameNumber, time: s.timestamp - start,
                direction: c ? .clientToServer : .serverToClient, flags: s.flags,
                relativeSequence: s.sequence &- ownBase,
                relativeAcknowledgment: s.flags.contains(.ack) ? s.acknowledgment &- peerBase : nil,
                payloadLength: s.payloadLength, optionKinds: s.optionKinds, ttl: s.ttl))
        }
        return CapturedConversation(
            index: 0, client: client.address, clientPort: client.port, server: server.address, serverPort: server.port,
            clientDecidedBy: decision, start: start, startInCapture: start - captureStart, packets: packets)
    }
}
