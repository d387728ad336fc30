/// IPv6 (RFC 8200): the fixed header and the extension headers a capture may carry.

public struct IPv6Header: Equatable, Sendable {
    /// DSCP (6 bits) and ECN (2 bits).
    public var trafficClass: UInt8
    /// 20 bits.
    public var flowLabel: UInt32
    /// Bytes after this header, extension headers included.
    public var payloadLength: UInt16
    /// What follows: an extension header or the upper-layer protocol.
    public var nextHeader: IPProtocol
    public var hopLimit: UInt8
    public var source: IPv6Address
    public var destination: IPv6Address

    public init(source: IPv6Address, destination: IPv6Address, nextHeader: IPProtocol, hopLimit: UInt8 = 64,
                trafficClass: UInt8 = 0, flowLabel: UInt32 = 0, payloadLength: UInt16 = 0) {
        self.trafficClass = trafficClass
        self.flowLabel = flowLabel & 0xF_FFFF
        self.payloadLength = payloadLength
        self.nextHeader = nextHeader
        self.hopLimit = hopLimit
        self.source = source
        self.destination = destination
    }

    public static let byteCount = 40
    static let layer = "IPv6"

    public init(parsing r: inout ByteReader) throws {
        let start = r.offset
        try r.need(40, Self.layer)
        let first = try r.readU32(Self.layer)
        guard first >> 28 == 6 else {
            throw PacketError(layer: Self.layer, offset: start, problem: .invalid("version \(first >> 28), expected 6"))
        }
        trafficClass = UInt8(truncatingIfNeeded: first >> 20)
        flowLabel = first & 0xF_FFFF
        payloadLength = try r.readU16(Self.layer)
        nextHeader = IPProtocol(rawValue: try r.readU8(Self.layer))
        hopLimit = try r.readU8(Self.layer)
        source = try IPv6Address(reading: &r, Self.layer)
        destination = try IPv6Address(reading: &r, Self.layer)
    }

    /// Writes the header as it stands (payload length as given).
    @inline(__always)
    public func write(to w: inout ByteWriter) {
        w.append(count: 40) { p in
            p.storeBE(6 << 28 | UInt32(trafficClass) << 20 | flowLabel & 0xF_FFFF, at: 0)
            p.storeBE(payloadLength, at: 4)
            p.store(nextHeader.rawValue, at: 6)
            p.store(hopLimit, at: 7)
            source.store(to: p + 8)
            destination.store(to: p + 24)
        }
    }
}

extension IPProtocol {
    /// IPv6 extension headers (RFC 8200 §4).
    public static let ipv6HopByHop = IPProtocol(rawValue: 0)
    public static let ipv6Routing = IPProtocol(rawValue: 43)
    public static let ipv6Fragment = IPProtocol(rawValue: 44)
    public static let ipv6NoNextHeader = IPProtocol(rawValue: 59)
    public static let ipv6DestinationOptions = IPProtocol(rawValue: 60)

    /// The extension headers whose chain a reader walks to reach the upper layer: hop-by-hop, routing,
    /// fragment and destination options (RFC 8200 §4.1's order).
    public var isIPv6Extension: Bool {
        self == .ipv6HopByHop || self == .ipv6Routing || self == .ipv6Fragment || self == .ipv6DestinationOptions
    }
}

/// The fragment header (RFC 8200 §4.5): eight bytes, no length field.
public struct IPv6FragmentHeader: Equatable, Sendable {
    public var nextHeader: IPProtocol
    /// The reserved byte after the next header (zero when sent; kept when read).
    public var reserved: UInt8
    /// In 8-byte units.
    public var fragmentOffset: UInt16
    /// The two reserved bits between the offset and the M flag.
    public var reservedBits: UInt8
    public var moreFragments: Bool
    public var identification: UInt32

    public init(nextHeader: IPProtocol, fragmentOffset: UInt16, moreFragments: Bool, identification: UInt32,
                reserved: UInt8 = 0, reservedBits: UInt8 = 0) {
        self.nextHeader = nextHeader
        self.fragmentOffset = fragmentOffset & 0x1FFF
        self.moreFragments = moreFragments
        self.identification = identification
        self.reserved = reserved
        self.reservedBits = reservedBits & 3
    }

    public static let byteCount = 8

    /// The fields after the next-header byte, `body` being the seven bytes as on the wire.
    init(nextHeader: IPProtocol, body: [UInt8]) {
        self.nextHeader = nextHeader
        reserved = body[0]
        let om = UInt16(body[1]) << 8 | UInt16(body[2])
        fragmentOffset = om >> 3
        reservedBits = UInt8(truncatingIfNeeded: om >> 1) & 3
        moreFragments = om & 1 != 0
        identification = UInt32(body[3]) << 24 | UInt32(body[4]) << 16 | UInt32(body[5]) << 8 | UInt32(body[6])
    }

    var body: [UInt8] {
        let om = fragmentOffset << 3 | UInt16(reservedBits & 3) << 1 | (moreFragments ? 1 : 0)
        return [reserved, UInt8(om >> 8), UInt8(truncatingIfNeeded: om),
                UInt8(truncatingIfNeeded: identification >> 24), UInt8(truncatingIfNeeded: identification >> 16),
                UInt8(truncatingIfNeeded: identification >> 8), UInt8(truncatingIfNeeded: identification)]
    }

    /// Writes the eight bytes without making an array.
    @inline(__always)
    public func write(to w: inout ByteWriter) {
        let om = fragmentOffset << 3 | UInt16(reservedBits & 3) << 1 | (moreFragments ? 1 : 0)
        w.append(count: 8) { p in
            p.store(nextHeader.rawValue, at: 0)
            p.store(reserved, at: 1)
            p.storeBE(om, at: 2)
            p.storeBE(identification, at: 4)
        }
    }
}

/// One extension header as on the wire: the protocol number naming it, the next header it names, and its
/// bytes after the next-header byte (for hop-by-hop, routing and destination options the length byte and the
/// options or routing data; for the fragment header its seven fixed bytes).
public struct IPv6ExtensionHeader: Equatable, Sendable {
    public var kind: IPProtocol
    public var nextHeader: IPProtocol
    public var body: [UInt8]

    /// A hop-by-hop, routing or destination options header; `data` (after the length byte) is padded with
    /// PadN to a multiple of 8 bytes with the two leading bytes (RFC 8200 §4.2) unless it already is.
    public init(kind: IPProtocol, nextHeader: IPProtocol, data: [UInt8]) {
        self.kind = kind
        self.nextHeader = nextHeader
        var d = data
        let pad = (8 - (2 + d.count) % 8) % 8
        if pad == 1 { d.append(0) } else if pad > 1 { d += [1, UInt8(pad - 2)] + [UInt8](repeating: 0, count: pad - 2) }
        body = [UInt8((2 + d.count) / 8 - 1)] + d
    }

    public init(fragment: IPv6FragmentHeader) {
        kind = .ipv6Fragment
        nextHeader = fragment.nextHeader
        body = fragment.body
    }

    init(kind: IPProtocol, nextHeader: IPProtocol, rawBody: [UInt8]) {
        self.kind = kind
        self.nextHeader = nextHeader
        self.body = rawBody
    }

    public var fragment: IPv6FragmentHeader? {
        guard kind == .ipv6Fragment, body.count == 7 else { return nil }
        return IPv6FragmentHeader(nextHeader: nextHeader, body: body)
    }

    public var byteCount: Int { 1 + body.count }

    public func write(to w: inout ByteWriter) {
        w.writeU8(nextHeader.rawValue)
        w.writeBytes(body)
    }

    /// Reads the header named `kind` at the reader's offset.
    public init(parsing r: inout ByteReader, kind: IPProtocol) throws {
        let layer = kind == .ipv6Fragment ? "IPv6 fragment header" : "IPv6 extension header"
        try r.need(8, layer)
        self.kind = kind
        nextHeader = IPProtocol(rawValue: try r.readU8(layer))
        if kind == .ipv6Fragment {
            body = try r.readBytes(7, layer)
        } else {
            let length = try r.readU8(layer)
            let total = (Int(length) + 1) * 8
            try r.need(total - 2, layer)
            body = [length] + (try r.readBytes(total - 2, layer))
        }
    }
}

/// What a packet's extension-header chain leads to.
public struct IPv6Chain: Equatable, Sendable {
    public var headers: [IPv6ExtensionHeader]
    /// The upper-layer protocol (or 59, no next header).
    public var upperLayer: IPProtocol
    public var fragment: IPv6FragmentHeader? { headers.lazy.compactMap(\.fragment).first }

    /// Walks the chain from `first` (the fixed header's next header), reading every hop-by-hop, routing, fragment
    /// and destination options header. At most 16 headers: a longer chain is an error (no real packet has one).
    public init(parsing r: inout ByteReader, first: IPProtocol) throws {
        var kind = first
        var hs: [IPv6ExtensionHeader] = []
        while kind.isIPv6Extension {
            guard hs.count < 16 else {
                throw PacketError(layer: "IPv6 extension header", offset: r.offset,
                                  problem: .invalid("more than 16 extension headers"))
            }
            let h = try IPv6ExtensionHeader(parsing: &r, kind: kind)
            hs.append(h)
            // Only a fragment header that starts the datagram (offset 0) is followed by the upper layer.
            if let f = h.fragment, f.fragmentOffset != 0 {
                kind = f.nextHeader
                break
            }
            kind = h.nextHeader
        }
        headers = hs
        upperLayer = kind
    }
}
