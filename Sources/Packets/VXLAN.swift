/// VXLAN (RFC 7348): how AWS Traffic Mirroring delivers captured frames, over UDP 4789.
public struct VXLANHeader: Equatable, Sendable {
    /// 0x08 (the I flag) when the VNI is valid.
    public var flags: UInt8
    public var reserved1: UInt32
    /// The 24-bit VXLAN network identifier (AWS: the mirror session's virtual network id).
    public var vni: UInt32
    public var reserved2: UInt8

    public init(vni: UInt32, flags: UInt8 = 0x08) {
        self.flags = flags
        self.reserved1 = 0
        self.vni = vni & 0xFF_FFFF
        self.reserved2 = 0
    }

    public static let udpPort: UInt16 = 4789
    public static let byteCount = 8
    static let layer = "VXLAN"

    public var vniValid: Bool { flags & 0x08 != 0 }

    public init(parsing r: inout ByteReader) throws {
        try r.need(8, Self.layer)
        flags = try r.readU8(Self.layer)
        reserved1 = try r.readU24(Self.layer)
        vni = try r.readU24(Self.layer)
        reserved2 = try r.readU8(Self.layer)
    }

    public func write(to w: inout ByteWriter) {
        w.writeU8(flags)
        w.writeU24(reserved1)
        w.writeU24(vni)
        w.writeU8(reserved2)
    }
}
