/// UDP (RFC 768).
public struct UDPHeader: Equatable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header plus data, in bytes.
    public var length: UInt16
    /// Zero means "no checksum" over IPv4.
    public var checksum: UInt16

    public init(sourcePort: UInt16, destinationPort: UInt16, length: UInt16 = 0, checksum: UInt16 = 0) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
        self.checksum = checksum
    }

    public static let byteCount = 8
    static let layer = "UDP"

    public init(parsing r: inout ByteReader) throws {
        try r.need(8, Self.layer)
        sourcePort = try r.readU16(Self.layer)
        destinationPort = try r.readU16(Self.layer)
        length = try r.readU16(Self.layer)
        checksum = try r.readU16(Self.layer)
        guard length >= 8 else {
            throw PacketError(layer: Self.layer, offset: r.offset - 4, problem: .invalid("length \(length) is below 8"))
        }
    }

    @inline(__always)
    public func write(to w: inout ByteWriter) {
        w.append(count: 8) { p in
            p.storeBE(sourcePort, at: 0)
            p.storeBE(destinationPort, at: 2)
            p.storeBE(length, at: 4)
            p.storeBE(checksum, at: 6)
        }
    }
}
