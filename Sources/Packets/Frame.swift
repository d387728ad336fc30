/// A whole captured or built frame: link header, IPv4 or IPv6, transport, payload.

public enum LinkHeader: Equatable, Sendable {
    case ethernet(EthernetHeader)
    case linuxSLL(LinuxSLLHeader)
    case linuxSLL2(LinuxSLL2Header)
    /// Raw IP (link types 101 and 228): no link header.
    case none

    public var byteCount: Int {
        switch self {
        case .ethernet(let e): return e.byteCount
        case .linuxSLL: return LinuxSLLHeader.byteCount
        case .linuxSLL2: return LinuxSLL2Header.byteCount
        case .none: return 0
        }
    }

    /// What the link header says follows it.
    public var etherType: EtherType? {
        switch self {
        case .ethernet(let e): return e.etherType
        case .linuxSLL(let h): return h.protocolType
        case .linuxSLL2(let h): return h.protocolType
        case .none: return nil
        }
    }

    @inline(__always)
    func write(to w: inout ByteWriter) {
        switch self {
        case .ethernet(let e): e.write(to: &w)
        case .linuxSLL(let h): h.write(to: &w)
        case .linuxSLL2(let h): h.write(to: &w)
        case .none: break
        }
    }
}

public enum TransportHeader: Equatable, Sendable {
    case tcp(TCPHeader)
    case udp(UDPHeader)
    case icmp(ICMPHeader)
    /// Not parsed: another protocol, or a non-first fragment.
    case none

    public var byteCount: Int {
        switch self {
        case .tcp(let t): return t.byteCount
        case .udp: return UDPHeader.byteCount
        case .icmp: return ICMPHeader.byteCount
        case .none: return 0
        }
    }

    public var tcp: TCPHeader? { if case .tcp(let t) = self { return t } else { return nil } }
    public var udp: UDPHeader? { if case .udp(let u) = self { return u } else { return nil } }
    public var icmp: ICMPHeader? { if case .icmp(let i) = self { return i } else { return nil } }
}

/// What parsing found about the checksums of a frame.
public struct ChecksumReport: Equatable, Sendable {
    public var ip: ChecksumStatus = .unverifiable
    public var transport: ChecksumStatus = .unverifiable
    public init() {}
    public var allGood: Bool { !ip.isBad && !transport.isBad }
}

/// What an untagged Ethernet/IPv4 frame is built from, without its payload: plain data (no references), so it
/// can be copied as bytes to the capture writer thread, which builds the frame (`Frame.write(to:parts:payload:)`).
public struct FrameParts: Sendable {
    public var destination: MACAddress
    public var source: MACAddress
    public var ip: IPv4Header
    public var transport: TransportHeader

    public init(destination: MACAddress, source: MACAddress, ip: IPv4Header, transport: TransportHeader) {
        self.destination = destination
        self.source = source
        self.ip = ip
        self.transport = transport
    }

    /// The most bytes a frame of these parts takes beyond its payload: Ethernet, and IPv4 and TCP headers with
    /// the most options (60 bytes each).
    public static let maxHeaderBytes = 14 + 60 + 60
}

public struct Frame: Equatable, Sendable {
    public var link: LinkHeader
    /// Nil when the link carries something other than IPv4: IPv6 is in `ipv6`, anything else (ARP) in `payload`.
    public var ip: IPv4Header?
    public var transport: TransportHeader
    /// The datagram quoted by an ICMP error, when it parses.
    public var icmpQuote: ICMPQuote?
    /// Bytes after the innermost parsed header, up to the end of the IP datagram (or of the capture).
    public var payload: [UInt8]
    /// Bytes after the IP datagram: Ethernet padding up to 60 bytes, or a trailer.
    public var trailer: [UInt8]
    /// Set by parsing: the capture ended before the IP datagram did (snap length).
    public var truncated: Bool
    /// Set by parsing; building ignores it.
    public var checksums: ChecksumReport
    /// The IPv6 header when the link carries IPv6 (then `ip` is nil); TCP and UDP over it are in `transport`.
    public var ipv6: IPv6Header?
    /// The extension headers after `ipv6`, in order (hop-by-hop, routing, fragment, destination options).
    public var ipv6Extensions: [IPv6ExtensionHeader]
    /// The ICMPv6 header when the upper layer is ICMPv6; the message body (a quoted packet, echo data, a neighbor
    /// message's target and options) is `payload`.
    public var icmpv6: ICMPv6Header?

    public init(link: LinkHeader, ip: IPv4Header?, transport: TransportHeader = .none, icmpQuote: ICMPQuote? = nil,
                payload: [UInt8] = [], trailer: [UInt8] = []) {
        self.link = link
        self.ip = ip
        self.transport = transport
        self.icmpQuote = icmpQuote
        self.payload = payload
        self.trailer = trailer
        self.truncated = false
        self.checksums = ChecksumReport()
        self.ipv6 = nil
        self.ipv6Extensions = []
        self.icmpv6 = nil
    }

    /// An IPv6 frame. `transport` holds TCP or UDP; ICMPv6 is `icmpv6` with `transport` `.none`. A fragment
    /// (a fragment header among `extensions`) carries its piece of the datagram as `payload`, `transport` `.none`.
    public init(link: LinkHeader, ipv6: IPv6Header, extensions: [IPv6ExtensionHeader] = [],
                transport: TransportHeader = .none, icmpv6: ICMPv6Header? = nil, payload: [UInt8] = [],
                trailer: [UInt8] = []) {
        self.init(link: link, ip: nil, transport: transport, payload: payload, trailer: trailer)
        self.ipv6 = ipv6
        self.ipv6Extensions = extensions
        self.icmpv6 = icmpv6
    }

    /// Bytes this frame occupies when written.
    public var byteCount: Int {
        link.byteCount + (ip?.byteCount ?? 0) + transport.byteCount + (icmpQuote?.byteCount ?? 0) + payload.count
            + trailer.count + ipv6ByteCount
    }

    // MARK: Parsing

    /// Parses a frame captured with `linkType`. Never traps on any input: malformed bytes throw a `PacketError`
    /// naming the offset. Checksums are verified, not enforced: see `checksums`.
    /// An NFLOG record (link type 239) gives the frame of the packet it logged, as raw IP: the netfilter
    /// attributes around it are not kept.
    public init(parsing bytes: [UInt8], linkType: LinkType) throws {
        guard linkType == .nflog else {
            self = try Frame(parsingLinkLayer: bytes, linkType: linkType)
            return
        }
        let logged = try NFLOG.payload(of: bytes)
        do {
            self = try Frame(parsingLinkLayer: logged.bytes, linkType: .raw)
        } catch var e as PacketError {
            e.offset += logged.offset  // from the start of the record
            throw e
        }
    }

    private init(parsingLinkLayer bytes: [UInt8], linkType: LinkType) throws {
        var r = ByteReader(bytes)
        let carried: EtherType?
        switch linkType {
        case .ethernet:
            let e = try EthernetHeader(parsing: &r)
            link = .ethernet(e)
            carried = e.etherType
        case .linuxSLL:
            let h = try LinuxSLLHeader(parsing: &r)
            link = .linuxSLL(h)
            carried = h.protocolType
        case .linuxSLL2:
            let h = try LinuxSLL2Header(parsing: &r)
            link = .linuxSLL2(h)
            carried = h.protocolType
        case .raw:
            link = .none
            try r.need(1, "raw IP")
            carried = bytes[0] >> 4 == 4 ? .ipv4 : .ipv6
        case .ipv4:
            link = .none
            carried = .ipv4
        default:
            throw PacketError(layer: "link", offset: 0, problem: .invalid("unsupported link type \(linkType.rawValue)"))
        }
        transport = .none
        icmpQuote = nil
        trailer = []
        truncated = false
        checksums = ChecksumReport()
        ipv6 = nil
        ipv6Extensions = []
        icmpv6 = nil
        guard carried == .ipv4 else {
            ip = nil
            if carried == .ipv6 {
                payload = []
                try parseIPv6(bytes, &r)
            } else {
                payload = r.readRest()
            }
            return
        }
        let ipStart = r.offset
        let header = try IPv4Header(parsing: &r)
        ip = header
        let ipHeaderEnd = r.offset
        let end: Int
        (end, truncated, trailer) = Self.datagram(in: bytes, endingAt: header.totalLength == 0 ? bytes.count
                                                   : ipStart + Int(header.totalLength))
        checksums.ip = bytes.withUnsafeBytes {
            IPv4Header.checksumStatus(header: UnsafeRawBufferPointer(rebasing: $0[ipStart..<ipHeaderEnd]))
        }
        var l4 = ByteReader(bytes, offset: ipHeaderEnd, end: end)
        let l4Start = ipHeaderEnd
        guard !header.isFragment else {
            payload = l4.readRest()
            return
        }
        switch header.proto {
        case .tcp:
            transport = .tcp(try TCPHeader(parsing: &l4))
            payload = l4.readRest()
        case .udp:
            transport = .udp(try UDPHeader(parsing: &l4))
            payload = l4.readRest()
        case .icmp:
            let icmp = try ICMPHeader(parsing: &l4)
            transport = .icmp(icmp)
            var attempt = l4  // a quote that does not parse leaves the bytes as payload
            if icmp.type.quotesDatagram, let q = try? ICMPQuote(parsing: &attempt) {
                icmpQuote = q
                payload = []
            } else {
                payload = l4.readRest()
            }
        default:
            payload = l4.readRest()
            return
        }
        guard !truncated else { return }
        checksums.transport = bytes.withUnsafeBytes { raw in
            Frame.transportChecksumStatus(segment: UnsafeRawBufferPointer(rebasing: raw[l4Start..<end]), ip: header)
        }
    }

    static func transportChecksumStatus(segment: UnsafeRawBufferPointer, ip: IPv4Header) -> ChecksumStatus {
        let field: Int
        var sum = InternetChecksum.sum(segment)
        switch ip.proto {
        case .tcp: field = 16
        case .udp:
            field = 6
            if segment.count >= 8, segment[6] == 0, segment[7] == 0 { return .absent }
        case .icmp: field = 2
        default: return .unverifiable
        }
        guard segment.count >= field + 2 else { return .unverifiable }
        if ip.proto != .icmp {
            sum = InternetChecksum.add(sum, InternetChecksum.pseudoHeaderSum(
                source: ip.source, destination: ip.destination, protocol: ip.proto, length: segment.count))
        }
        if sum == 0xFFFF { return .valid }
        let stored = UInt16(segment[field]) << 8 | UInt16(segment[field + 1])
        var expected = ~InternetChecksum.add(sum, ~stored)
        if ip.proto == .udp && expected == 0 { expected = 0xFFFF }
        // 0x0000 and 0xFFFF are the same ones'-complement number; either verifies.
        return stored == expected || (expected == 0 && stored == 0xFFFF) ? .valid : .invalid(expected: expected)
    }

    // MARK: Writing

    /// Writes the frame. With `filling`, the IP total length, UDP length and every checksum are computed from
    /// the bytes written; without, every field is written as it stands (re-emitting a parsed frame gives back
    /// its bytes).
    @inline(__always)
    public func write(to w: inout ByteWriter, filling: Bool) {
        if let ipv6 {
            writeIPv6(to: &w, ipv6, filling: filling)
            return
        }
        Frame.write(to: &w, link: link, ip: ip, transport: transport, icmpQuote: icmpQuote, payload: payload,
                    trailer: trailer, filling: filling)
    }

    /// Writes a frame from its parts without assembling a `Frame` (the hot path of capture).
    @inline(__always)
    public static func write(to w: inout ByteWriter, link: LinkHeader, ip: IPv4Header?, transport: TransportHeader,
                             icmpQuote: ICMPQuote? = nil, payload: [UInt8], trailer: [UInt8] = [], filling: Bool) {
        link.write(to: &w)
        guard let ip else {
            w.writeBytes(payload)
            w.writeBytes(trailer)
            return
        }
        let ipStart = w.count
        ip.write(to: &w)
        let l4Start = w.count
        writeTransport(to: &w, transport)
        icmpQuote?.write(to: &w)
        w.writeBytes(payload)
        if filling {
            let l4End = w.count
            Frame.fill(&w, ip: ip, ipStart: ipStart, l4Start: l4Start, l4End: l4End, transport: transport)
        }
        w.writeBytes(trailer)
    }

    /// The Ethernet frame of `parts` and `payload`, lengths and checksums filled: the bytes
    /// `write(to:link:ip:transport:payload:filling: true)` gives for an untagged IPv4 frame. It touches no Swift
    /// object (no reference counted, nothing allocated), so another thread may run it: the capture writer's.
    @inline(__always)
    public static func write(to w: inout ByteWriter, parts: FrameParts, payload: UnsafeRawBufferPointer) {
        // An IPv6 packet (its addresses `IPv6Token`s): a 240/4 address never interned is an IPv4 one (a fuzzer's).
        if parts.ip.source.isIPv6Token, let source = parts.ip.source.ipv6, let destination = parts.ip.destination.ipv6 {
            return writeIPv6(to: &w, parts: parts, source: source, destination: destination, payload: payload)
        }
        w.append(count: 14) { p in
            parts.destination.store(to: p)
            parts.source.store(to: p + 6)
            p.storeBE(EtherType.ipv4.rawValue, at: 12)
        }
        let ipStart = w.count
        parts.ip.write(to: &w)
        let l4Start = w.count
        writeTransport(to: &w, parts.transport)
        w.writeBytes(payload)
        Frame.fill(&w, ip: parts.ip, ipStart: ipStart, l4Start: l4Start, l4End: w.count, transport: parts.transport)
    }

    @inline(__always)
    static func writeTransport(to w: inout ByteWriter, _ transport: TransportHeader) {
        switch transport {
        case .tcp(let t): t.write(to: &w)
        case .udp(let u): u.write(to: &w)
        case .icmp(let i): i.write(to: &w)
        case .none: break
        }
    }

    @inline(__always)
    static func fill(_ w: inout ByteWriter, ip: IPv4Header, ipStart: Int, l4Start: Int, l4End: Int,
                     transport: TransportHeader) {
        w.setU16(UInt16(truncatingIfNeeded: l4End - ipStart), at: ipStart + 2)
        w.setU16(0, at: ipStart + 10)
        w.setU16(~InternetChecksum.sum(w.view(ipStart..<l4Start)), at: ipStart + 10)
        let l4Length = l4End - l4Start
        switch transport {
        case .tcp:
            w.setU16(0, at: l4Start + 16)
            let s = InternetChecksum.add(
                InternetChecksum.sum(w.view(l4Start..<l4End)),
                InternetChecksum.pseudoHeaderSum(source: ip.source, destination: ip.destination,
                                                 protocol: ip.proto, length: l4Length))
            w.setU16(~s, at: l4Start + 16)
        case .udp:
            w.setU16(UInt16(truncatingIfNeeded: l4Length), at: l4Start + 4)
            w.setU16(0, at: l4Start + 6)
            let s = InternetChecksum.add(
                InternetChecksum.sum(w.view(l4Start..<l4End)),
                InternetChecksum.pseudoHeaderSum(source: ip.source, destination: ip.destination,
                                                 protocol: ip.proto, length: l4Length))
            let c = ~s
            w.setU16(c == 0 ? 0xFFFF : c, at: l4Start + 6)
        case .icmp:
            w.setU16(0, at: l4Start + 2)
            w.setU16(~InternetChecksum.sum(w.view(l4Start..<l4End)), at: l4Start + 2)
        case .none:
            break
        }
    }

    /// The frame's bytes; `filling` computes lengths and checksums (see `write(to:filling:)`).
    public func bytes(filling: Bool = true) -> [UInt8] {
        [UInt8].writing(capacity: byteCount) { write(to: &$0, filling: filling) }
    }

    /// The frame with lengths and checksums computed, as parsing its filled bytes would give.
    public func filled() -> Frame {
        let linkType: LinkType
        switch link {
        case .ethernet: linkType = .ethernet
        case .linuxSLL: linkType = .linuxSLL
        case .linuxSLL2: linkType = .linuxSLL2
        case .none: linkType = .raw
        }
        // Our own bytes always parse.
        return (try? Frame(parsing: bytes(filling: true), linkType: linkType)) ?? self
    }

    /// The frame inside a VXLAN packet (UDP 4789), if this is one.
    public func vxlanInner() throws -> (header: VXLANHeader, inner: Frame)? {
        guard let udp = transport.udp, udp.destinationPort == VXLANHeader.udpPort else { return nil }
        var r = ByteReader(payload)
        let header = try VXLANHeader(parsing: &r)
        let inner = try Frame(parsing: r.readRest(), linkType: .ethernet)
        return (header, inner)
    }
}

extension Frame {
    /// Where the IP datagram that ends at `datagramEnd` (by its header's length) ends in `bytes`, whether the
    /// frame is shorter than that (truncated), and the bytes after it (the trailer).
    static func datagram(in bytes: [UInt8], endingAt datagramEnd: Int) -> (end: Int, truncated: Bool, trailer: [UInt8]) {
        if datagramEnd > bytes.count { return (bytes.count, true, []) }
        return (datagramEnd, false, Array(bytes[datagramEnd...]))
    }
}
