/// Ethernet II, with any 802.1Q tags kept.
public struct EthernetHeader: Equatable, Sendable {
    public var destination: MACAddress
    public var source: MACAddress
    /// 802.1Q tag control fields, outermost first (TPID 0x8100 each).
    public var vlanTags: [UInt16]
    /// The EtherType after any tags.
    public var etherType: EtherType

    public init(destination: MACAddress, source: MACAddress, etherType: EtherType = .ipv4, vlanTags: [UInt16] = []) {
        self.destination = destination
        self.source = source
        self.etherType = etherType
        self.vlanTags = vlanTags
    }

    public var byteCount: Int { 14 + 4 * vlanTags.count }

    static let layer = "Ethernet"

    public init(parsing r: inout ByteReader) throws {
        try r.need(14, Self.layer)
        destination = try MACAddress(reading: &r, Self.layer)
        source = try MACAddress(reading: &r, Self.layer)
        var type = EtherType(rawValue: try r.readU16(Self.layer))
        var tags: [UInt16] = []
        while type == .vlan {
            guard tags.count < 8 else {
                throw PacketError(layer: "802.1Q", offset: r.offset, problem: .invalid("more than 8 VLAN tags"))
            }
            tags.append(try r.readU16("802.1Q"))
            type = EtherType(rawValue: try r.readU16("802.1Q"))
        }
        vlanTags = tags
        etherType = type
    }

    @inline(__always)
    public func write(to w: inout ByteWriter) {
        destination.write(to: &w)
        source.write(to: &w)
        for tag in vlanTags {
            w.writeU16(EtherType.vlan.rawValue)
            w.writeU16(tag)
        }
        w.writeU16(etherType.rawValue)
    }
}

/// Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113): what `tcpdump -i any` wrote before libpcap 1.10.
public struct LinuxSLLHeader: Equatable, Sendable {
    public var packetType: UInt16
    public var arphrdType: UInt16
    public var addressLength: UInt16
    /// Always 8 bytes on the wire; the first `addressLength` are meaningful.
    public var address: UInt64
    public var protocolType: EtherType

    public init(packetType: UInt16, arphrdType: UInt16 = 1, addressLength: UInt16 = 6, address: UInt64,
                protocolType: EtherType = .ipv4) {
        self.packetType = packetType
        self.arphrdType = arphrdType
        self.addressLength = addressLength
        self.address = address
        self.protocolType = protocolType
    }

    public static let byteCount = 16

    public init(parsing r: inout ByteReader) throws {
        try r.need(16, "Linux SLL")
        packetType = try r.readU16("Linux SLL")
        arphrdType = try r.readU16("Linux SLL")
        addressLength = try r.readU16("Linux SLL")
        address = UInt64(try r.readU32("Linux SLL")) << 32 | UInt64(try r.readU32("Linux SLL"))
        protocolType = EtherType(rawValue: try r.readU16("Linux SLL"))
    }

    public func write(to w: inout ByteWriter) {
        w.writeU16(packetType)
        w.writeU16(arphrdType)
        w.writeU16(addressLength)
        w.writeU32(UInt32(truncatingIfNeeded: address >> 32))
        w.writeU32(UInt32(truncatingIfNeeded: address))
        w.writeU16(protocolType.rawValue)
    }
}

/// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276): what `tcpdump -i any` writes with libpcap 1.10+.
public struct LinuxSLL2Header: Equatable, Sendable {
    public var protocolType: EtherType
    public var reserved: UInt16
    public var interfaceIndex: UInt32
    public var arphrdType: UInt16
    public var packetType: UInt8
    public var addressLength: UInt8
    public var address: UInt64

    public init(protocolType: EtherType = .ipv4, reserved: UInt16 = 0, interfaceIndex: UInt32, arphrdType: UInt16 = 1,
                packetType: UInt8, addressLength: UInt8 = 6, address: UInt64) {
        self.protocolType = protocolType
        self.reserved = reserved
        self.interfaceIndex = interfaceIndex
        self.arphrdType = arphrdType
        self.packetType = packetType
        self.addressLength = addressLength
        self.address = address
    }

    public static let byteCount = 20

    public init(parsing r: inout ByteReader) throws {
        try r.need(20, "Linux SLL2")
        protocolType = EtherType(rawValue: try r.readU16("Linux SLL2"))
        reserved = try r.readU16("Linux SLL2")
        interfaceIndex = try r.readU32("Linux SLL2")
        arphrdType = try r.readU16("Linux SLL2")
        packetType = try r.readU8("Linux SLL2")
        addressLength = try r.readU8("Linux SLL2")
        address = UInt64(try r.readU32("Linux SLL2")) << 32 | UInt64(try r.readU32("Linux SLL2"))
    }

    public func write(to w: inout ByteWriter) {
        w.writeU16(protocolType.rawValue)
        w.writeU16(reserved)
        w.writeU32(interfaceIndex)
        w.writeU16(arphrdType)
        w.writeU8(packetType)
        w.writeU8(addressLength)
        w.writeU32(UInt32(truncatingIfNeeded: address >> 32))
        w.writeU32(UInt32(truncatingIfNeeded: address))
    }
}
