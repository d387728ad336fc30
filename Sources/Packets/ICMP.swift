/// ICMPv4 (RFC 792).
public struct ICMPHeader: Equatable, Sendable {
    public var type: ICMPType
    public var code: UInt8
    public var checksum: UInt16
    /// The four type-specific bytes after the checksum (identifier and sequence for echo, next-hop MTU for
    /// "fragmentation needed", unused otherwise).
    public var restOfHeader: UInt32

    public init(type: ICMPType, code: UInt8 = 0, checksum: UInt16 = 0, restOfHeader: UInt32 = 0) {
        self.type = type
        self.code = code
        self.checksum = checksum
        self.restOfHeader = restOfHeader
    }

    /// An echo request or reply; `ipv6`: ICMPv6's (types 128 and 129, RFC 4443 §4), the same eight bytes.
    public static func echo(request: Bool, identifier: UInt16, sequence: UInt16, ipv6: Bool = false) -> ICMPHeader {
        ICMPHeader(type: ipv6 ? (request ? .echoRequest6 : .echoReply6) : request ? .echoRequest : .echoReply,
                   restOfHeader: UInt32(identifier) << 16 | UInt32(sequence))
    }

    /// An echo request of either family (ICMP type 8, ICMPv6 type 128).
    @inline(__always) public var isEchoRequest: Bool { type == .echoRequest || type == .echoRequest6 }
    /// An echo reply of either family (ICMP type 0, ICMPv6 type 129).
    @inline(__always) public var isEchoReply: Bool { type == .echoReply || type == .echoReply6 }

    public var identifier: UInt16 { UInt16(truncatingIfNeeded: restOfHeader >> 16) }
    public var sequence: UInt16 { UInt16(truncatingIfNeeded: restOfHeader) }
    /// For destination unreachable code 4 (RFC 1191).
    public var nextHopMTU: UInt16 { UInt16(truncatingIfNeeded: restOfHeader) }

    public static let byteCount = 8
    static let layer = "ICMP"

    public init(parsing r: inout ByteReader) throws {
        try r.need(8, Self.layer)
        type = ICMPType(rawValue: try r.readU8(Self.layer))
        code = try r.readU8(Self.layer)
        checksum = try r.readU16(Self.layer)
        restOfHeader = try r.readU32(Self.layer)
    }

    @inline(__always)
    public func write(to w: inout ByteWriter) {
        w.writeU8(type.rawValue)
        w.writeU8(code)
        w.writeU16(checksum)
        w.writeU32(restOfHeader)
    }
}

/// The datagram an ICMP error quotes: its IP header and at least the first 8 bytes of its payload.
public struct ICMPQuote: Equatable, Sendable {
    public var ip: IPv4Header
    public var leading: [UInt8]

    public init(ip: IPv4Header, leading: [UInt8]) {
        self.ip = ip
        self.leading = leading
    }

    /// Source and destination ports when the quoted datagram is TCP or UDP.
    public var ports: (source: UInt16, destination: UInt16)? {
        guard ip.proto == .tcp || ip.proto == .udp, leading.count >= 4 else { return nil }
        return (UInt16(leading[0]) << 8 | UInt16(leading[1]), UInt16(leading[2]) << 8 | UInt16(leading[3]))
    }

    public init(parsing r: inout ByteReader) throws {
        ip = try IPv4Header(parsing: &r)
        leading = r.readRest()
    }

    public func write(to w: inout ByteWriter) {
        ip.write(to: &w)
        w.writeBytes(leading)
    }

    public var byteCount: Int { ip.byteCount + leading.count }
}
