/// IPv4 (RFC 791).

/// One IPv4 option. End-of-list (0) and no-operation (1) are single bytes; others carry a length.
public struct IPv4Option: Equatable, Sendable {
    public var type: UInt8
    public var data: [UInt8]
    public init(type: UInt8, data: [UInt8] = []) {
        self.type = type
        self.data = data
    }
    public static let endOfList = IPv4Option(type: 0)
    public static let noOperation = IPv4Option(type: 1)
}

public struct IPv4Header: Equatable, Sendable {
    /// DSCP (6 bits) and ECN (2 bits).
    public var typeOfService: UInt8
    public var totalLength: UInt16
    public var identification: UInt16
    /// The reserved ("evil") bit.
    public var reservedFlag: Bool
    public var dontFragment: Bool
    public var moreFragments: Bool
    /// In 8-byte units.
    public var fragmentOffset: UInt16
    public var ttl: UInt8
    public var proto: IPProtocol
    public var checksum: UInt16
    public var source: IPv4Address
    public var destination: IPv4Address
    /// The option bytes as on the wire (inline: copying a header allocates nothing and counts no reference).
    public var optionBytes: InlineOptionBytes
    /// The options, decoded: up to and including an end-of-list option (a new array).
    public var options: [IPv4Option] {
        get { Self.decode(optionBytes).options }
        // Padding follows an end-of-list option only: a list without one leaves none.
        set { optionBytes = Self.encode(newValue, padding: newValue.last == .endOfList ? optionPadding : []) }
    }
    /// Bytes after an end-of-list option up to the header length, kept so re-emitting gives the same bytes.
    public var optionPadding: [UInt8] {
        get { Self.decode(optionBytes).padding }
        set { optionBytes = Self.encode(options, padding: newValue) }
    }

    /// A header without options (every packet the simulation makes): no options array made and released.
    public init(source: IPv4Address, destination: IPv4Address, proto: IPProtocol, ttl: UInt8 = 64,
                identification: UInt16 = 0, dontFragment: Bool = true, typeOfService: UInt8 = 0,
                totalLength: UInt16 = 0, checksum: UInt16 = 0) {
        self.typeOfService = typeOfService
        self.totalLength = totalLength
        self.identification = identification
        self.reservedFlag = false
        self.dontFragment = dontFragment
        self.moreFragments = false
        self.fragmentOffset = 0
        self.ttl = ttl
        self.proto = proto
        self.checksum = checksum
        self.source = source
        self.destination = destination
        self.optionBytes = InlineOptionBytes()
    }

    public init(source: IPv4Address, destination: IPv4Address, proto: IPProtocol, ttl: UInt8 = 64,
                identification: UInt16 = 0, dontFragment: Bool = true, typeOfService: UInt8 = 0,
                totalLength: UInt16 = 0, checksum: UInt16 = 0, options: [IPv4Option]) {
        self.init(source: source, destination: destination, proto: proto, ttl: ttl, identification: identification,
                  dontFragment: dontFragment, typeOfService: typeOfService, totalLength: totalLength,
                  checksum: checksum)
        if !options.isEmpty { optionBytes = Self.encode(options, padding: []) }
    }

    public var optionsByteCount: Int { optionBytes.count }

    static func encode(_ options: [IPv4Option], padding: [UInt8]) -> InlineOptionBytes {
        var b = InlineOptionBytes()
        for o in options {
            b.appendByte(o.type)
            if o.type > 1 {
                b.appendByte(UInt8(truncatingIfNeeded: 2 + o.data.count))
                for x in o.data { b.appendByte(x) }
            }
        }
        for x in padding { b.appendByte(x) }
        return b
    }

    /// As the parser reads them: options up to and including end-of-list, then padding.
    static func decode(_ b: InlineOptionBytes) -> (options: [IPv4Option], padding: [UInt8]) {
        var options: [IPv4Option] = []
        var i = 0
        while i < b.count {
            let type = b[i]
            if type == 0 {
                options.append(.endOfList)
                return (options, ((i + 1)..<b.count).map { b[$0] })
            }
            if type == 1 {
                options.append(.noOperation)
                i += 1
                continue
            }
            // Lengths were checked when parsed or built; a short one keeps the rest as its data.
            let len = i + 1 < b.count ? max(Int(b[i + 1]), 2) : 2
            let end = min(i + len, b.count)
            options.append(IPv4Option(type: type, data: (min(i + 2, end)..<end).map { b[$0] }))
            i = end
        }
        return (options, [])
    }

    /// Header length in bytes, options padded to 32 bits.
    public var byteCount: Int { 20 + (optionsByteCount + 3) & ~3 }

    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }

    static let layer = "IPv4"

    public init(parsing r: inout ByteReader) throws {
        let start = r.offset
        try r.need(20, Self.layer)
        let vihl = try r.readU8(Self.layer)
        guard vihl >> 4 == 4 else {
            throw PacketError(layer: Self.layer, offset: start, problem: .invalid("version \(vihl >> 4), expected 4"))
        }
        let headerLength = Int(vihl & 0x0F) * 4
        guard headerLength >= 20 else {
            throw PacketError(layer: Self.layer, offset: start,
                              problem: .invalid("header length \(headerLength) is below 20"))
        }
        try r.need(headerLength - 1, Self.layer)
        typeOfService = try r.readU8(Self.layer)
        totalLength = try r.readU16(Self.layer)
        identification = try r.readU16(Self.layer)
        let ff = try r.readU16(Self.layer)
        reservedFlag = ff & 0x8000 != 0
        dontFragment = ff & 0x4000 != 0
        moreFragments = ff & 0x2000 != 0
        fragmentOffset = ff & 0x1FFF
        ttl = try r.readU8(Self.layer)
        proto = IPProtocol(rawValue: try r.readU8(Self.layer))
        checksum = try r.readU16(Self.layer)
        source = IPv4Address(rawValue: try r.readU32(Self.layer))
        destination = IPv4Address(rawValue: try r.readU32(Self.layer))
        optionBytes = InlineOptionBytes()
        let end = start + headerLength
        while r.offset < end {
            let at = r.offset
            let type = try r.readU8("IPv4 option")
            optionBytes.appendByte(type)
            if type == 0 {
                // End of list: what follows up to the header's end is padding, kept as it was.
                while r.offset < end { optionBytes.appendByte(try r.readU8("IPv4 option")) }
                break
            }
            if type == 1 { continue }
            let len = try r.peekLength(end: end, layer: "IPv4 option", at: at)
            optionBytes.appendByte(len)
            for _ in 0..<(Int(len) - 2) { optionBytes.appendByte(try r.readU8("IPv4 option")) }
        }
        // Zero is what captures of TSO-offloaded segments show (Wireshark: "reported as 0, presumed to be
        // because of TCP segmentation offload"); the datagram then runs to the end of the capture.
        guard totalLength >= headerLength || totalLength == 0 else {
            throw PacketError(layer: Self.layer, offset: start + 2,
                              problem: .invalid("total length \(totalLength) is below the header length \(headerLength)"))
        }
    }

    /// Writes the header as it stands (lengths and checksum as given).
    @inline(__always)
    public func write(to w: inout ByteWriter) {
        let n = byteCount
        var ff = fragmentOffset & 0x1FFF
        if reservedFlag { ff |= 0x8000 }
        if dontFragment { ff |= 0x4000 }
        if moreFragments { ff |= 0x2000 }
        w.append(count: n) { p in
            p.store(0x40 | UInt8(n / 4), at: 0)
            p.store(typeOfService, at: 1)
            p.storeBE(totalLength, at: 2)
            p.storeBE(identification, at: 4)
            p.storeBE(ff, at: 6)
            p.store(ttl, at: 8)
            p.store(proto.rawValue, at: 9)
            p.storeBE(checksum, at: 10)
            p.storeBE(source.rawValue, at: 12)
            p.storeBE(destination.rawValue, at: 16)
            if n > 20 { optionBytes.copyPadded(to: p + 20) }
        }
    }

    /// The header checksum over `header` bytes (checksum field included, so a valid header sums to 0xFFFF).
    public static func checksumStatus(header: UnsafeRawBufferPointer) -> ChecksumStatus {
        let s = InternetChecksum.sum(header)
        if s == 0xFFFF { return .valid }
        let stored = UInt16(header[10]) << 8 | UInt16(header[11])
        return .invalid(expected: ~InternetChecksum.add(s, ~stored))
    }
}

extension ByteReader {
    /// Reads the length byte of a type-length-value option that started at `at`, checking it fits before `end`.
    mutating func peekLength(end: Int, layer: String, at: Int) throws -> UInt8 {
        let len = try readU8(layer)
        guard len >= 2 else {
            throw PacketError(layer: layer, offset: at, problem: .invalid("option length \(len) is below 2"))
        }
        guard at + Int(len) <= end else {
            throw PacketError(layer: layer, offset: at,
                              problem: .invalid("option length \(len) runs past the header end at \(end)"))
        }
        return len
    }
}
