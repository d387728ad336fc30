/// ICMPv6 (RFC 4443) and the Neighbor Discovery messages a capture shows (RFC 4861).

public struct ICMPv6Type: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let destinationUnreachable = ICMPv6Type(rawValue: 1)
    public static let packetTooBig = ICMPv6Type(rawValue: 2)
    public static let timeExceeded = ICMPv6Type(rawValue: 3)
    public static let parameterProblem = ICMPv6Type(rawValue: 4)
    public static let echoRequest = ICMPv6Type(rawValue: 128)
    public static let echoReply = ICMPv6Type(rawValue: 129)
    public static let routerSolicitation = ICMPv6Type(rawValue: 133)
    public static let routerAdvertisement = ICMPv6Type(rawValue: 134)
    public static let neighborSolicitation = ICMPv6Type(rawValue: 135)
    public static let neighborAdvertisement = ICMPv6Type(rawValue: 136)

    /// Error messages (types 0-127) quote as much of the invoking packet as fits in 1280 bytes (RFC 4443 §2.4).
    public var isError: Bool { rawValue < 128 }

    public var description: String {
        switch self {
        case .destinationUnreachable: return "destination-unreachable"
        case .packetTooBig: return "packet-too-big"
        case .timeExceeded: return "time-exceeded"
        case .parameterProblem: return "parameter-problem"
        case .echoRequest: return "echo-request"
        case .echoReply: return "echo-reply"
        case .routerSolicitation: return "router-solicitation"
        case .routerAdvertisement: return "router-advertisement"
        case .neighborSolicitation: return "neighbor-solicitation"
        case .neighborAdvertisement: return "neighbor-advertisement"
        default: return "type \(rawValue)"
        }
    }
}

/// The first eight bytes of every ICMPv6 message; what follows (the quoted packet, echo data, the target of a
/// neighbor message) is the frame's payload.
public struct ICMPv6Header: Equatable, Sendable {
    public var type: ICMPv6Type
    public var code: UInt8
    public var checksum: UInt16
    /// The four type-specific bytes: identifier and sequence for echo, the MTU for Packet Too Big, the pointer for
    /// Parameter Problem, the R/S/O flags of a Neighbor Advertisement, unused (zero) otherwise.
    public var restOfHeader: UInt32

    public init(type: ICMPv6Type, code: UInt8 = 0, checksum: UInt16 = 0, restOfHeader: UInt32 = 0) {
        self.type = type
        self.code = code
        self.checksum = checksum
        self.restOfHeader = restOfHeader
    }

    public static func echo(request: Bool, identifier: UInt16, sequence: UInt16) -> ICMPv6Header {
        ICMPv6Header(type: request ? .echoRequest : .echoReply,
                     restOfHeader: UInt32(identifier) << 16 | UInt32(sequence))
    }

    /// Packet Too Big: what a router sends instead of fragmenting (IPv6 routers never fragment, RFC 8200 §5).
    public static func packetTooBig(mtu: UInt32) -> ICMPv6Header {
        ICMPv6Header(type: .packetTooBig, restOfHeader: mtu)
    }

    /// Destination Unreachable codes (RFC 4443 §3.1).
    public enum UnreachableCode: UInt8, Sendable {
        case noRoute = 0
        case administrativelyProhibited = 1
        case beyondScope = 2
        case address = 3
        case port = 4
        case sourcePolicy = 5
        case rejectRoute = 6
    }

    public static func destinationUnreachable(_ code: UnreachableCode) -> ICMPv6Header {
        ICMPv6Header(type: .destinationUnreachable, code: code.rawValue)
    }

    /// A Neighbor Advertisement's flags (RFC 4861 §4.4).
    public static func neighborAdvertisement(router: Bool, solicited: Bool, override: Bool) -> ICMPv6Header {
        ICMPv6Header(type: .neighborAdvertisement,
                     restOfHeader: (router ? 0x8000_0000 : 0) | (solicited ? 0x4000_0000 : 0)
                        | (override ? 0x2000_0000 : 0))
    }

    public var identifier: UInt16 { UInt16(truncatingIfNeeded: restOfHeader >> 16) }
    public var sequence: UInt16 { UInt16(truncatingIfNeeded: restOfHeader) }
    public var mtu: UInt32 { restOfHeader }
    public var routerFlag: Bool { restOfHeader & 0x8000_0000 != 0 }
    public var solicitedFlag: Bool { restOfHeader & 0x4000_0000 != 0 }
    public var overrideFlag: Bool { restOfHeader & 0x2000_0000 != 0 }

    public static let byteCount = 8
    static let layer = "ICMPv6"

    public init(parsing r: inout ByteReader) throws {
        try r.need(8, Self.layer)
        type = ICMPv6Type(rawValue: try r.readU8(Self.layer))
        code = try r.readU8(Self.layer)
        checksum = try r.readU16(Self.layer)
        restOfHeader = try r.readU32(Self.layer)
    }

    @inline(__always)
    public func write(to w: inout ByteWriter) {
        w.append(count: 8) { p in
            p.store(type.rawValue, at: 0)
            p.store(code, at: 1)
            p.storeBE(checksum, at: 2)
            p.storeBE(restOfHeader, at: 4)
        }
    }
}

public enum ICMPv6 {
    /// The IPv6 minimum link MTU (RFC 8200 §5): an ICMPv6 error packet never exceeds it (RFC 4443 §2.4(c)).
    public static let minimumMTU = 1280

    /// As much of the invoking packet (from its IPv6 header on) as an error may quote: the IPv6 header (40),
    /// the ICMPv6 header (8) and the quote together fit in 1280 bytes, so at most 1232.
    public static func quote(of invoking: [UInt8]) -> [UInt8] {
        Array(invoking.prefix(minimumMTU - IPv6Header.byteCount - ICMPv6Header.byteCount))
    }

    /// The IPv6 header at the start of an error's quote, and the ports after it when it carried TCP or UDP with
    /// no extension headers in between.
    public static func quotedHeader(_ quote: [UInt8]) -> (header: IPv6Header, ports: (UInt16, UInt16)?)? {
        var r = ByteReader(quote)
        guard let h = try? IPv6Header(parsing: &r) else { return nil }
        var ports: (UInt16, UInt16)?
        if h.nextHeader == .tcp || h.nextHeader == .udp, quote.count >= 44 {
            ports = (UInt16(quote[40]) << 8 | UInt16(quote[41]), UInt16(quote[42]) << 8 | UInt16(quote[43]))
        }
        return (h, ports)
    }
}

/// A Neighbor Discovery option (RFC 4861 §4.6): type, and data making the option a multiple of 8 bytes.
public struct NDPOption: Equatable, Sendable {
    public var type: UInt8
    /// The bytes after the type and length bytes.
    public var data: [UInt8]

    public init(type: UInt8, data: [UInt8]) {
        self.type = type
        self.data = data
    }

    public static let sourceLinkLayerAddress: UInt8 = 1
    public static let targetLinkLayerAddress: UInt8 = 2

    /// A source (1) or target (2) link-layer address option for Ethernet: eight bytes (RFC 4861 §4.6.1).
    public static func linkLayerAddress(_ mac: MACAddress, source: Bool) -> NDPOption {
        NDPOption(type: source ? sourceLinkLayerAddress : targetLinkLayerAddress, data: mac.octets)
    }

    /// The MAC address of a link-layer address option.
    public var linkLayerAddress: MACAddress? {
        guard type == Self.sourceLinkLayerAddress || type == Self.targetLinkLayerAddress, data.count >= 6 else {
            return nil
        }
        var r = ByteReader(data)
        return try? MACAddress(reading: &r, "NDP option")
    }
}

/// The body of a Neighbor Solicitation or Advertisement after the ICMPv6 header: the target address and options.
public struct NeighborDiscoveryBody: Equatable, Sendable {
    public var target: IPv6Address
    public var options: [NDPOption]

    public init(target: IPv6Address, options: [NDPOption] = []) {
        self.target = target
        self.options = options
    }

    /// The link-layer address of the first source or target link-layer address option.
    public var linkLayerAddress: MACAddress? { options.lazy.compactMap(\.linkLayerAddress).first }

    static let layer = "NDP"

    /// Parses `bytes` (a frame's payload after the ICMPv6 header); offsets in errors are within `bytes`.
    public init(parsing bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        target = try IPv6Address(reading: &r, Self.layer)
        var opts: [NDPOption] = []
        while r.offset < r.end {
            let at = r.offset
            try r.need(2, "NDP option")
            let type = try r.readU8("NDP option")
            let units = try r.readU8("NDP option")
            guard units > 0 else {
                throw PacketError(layer: "NDP option", offset: at, problem: .invalid("option length 0"))
            }
            opts.append(NDPOption(type: type, data: try r.readBytes(Int(units) * 8 - 2, "NDP option")))
        }
        options = opts
    }

    /// The bytes: the target, then each option padded with zeros to a multiple of 8 bytes.
    public var bytes: [UInt8] {
        var out = target.octets
        for o in options {
            let total = (2 + o.data.count + 7) / 8 * 8
            out.append(o.type)
            out.append(UInt8(truncatingIfNeeded: total / 8))
            out += o.data
            out += [UInt8](repeating: 0, count: total - 2 - o.data.count)
        }
        return out
    }
}
