/// TCP (RFC 9293) with its options (RFC 7323 window scale and timestamps, RFC 2018 SACK).

public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x1FF }
    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    /// The ECN nonce bit (RFC 3540, historic; AccECN's AE bit).
    public static let ns = TCPFlags(rawValue: 0x100)

    /// Wireshark's order and spelling: "SYN, ACK".
    public var description: String {
        let names: [(TCPFlags, String)] = [(.ns, "NS"), (.cwr, "CWR"), (.ece, "ECE"), (.urg, "URG"), (.fin, "FIN"),
                                           (.syn, "SYN"), (.rst, "RST"), (.psh, "PSH"), (.ack, "ACK")]
        let s = names.filter { contains($0.0) }.map(\.1)
        return s.isEmpty ? "<none>" : s.joined(separator: ", ")
    }
}

public struct SACKBlock: Equatable, Sendable {
    public var left: UInt32
    public var right: UInt32
    public init(left: UInt32, right: UInt32) {
        self.left = left
        self.right = right
    }
}

public enum TCPOption: Equatable, Sendable {
    case endOfList
    case noOperation
    case maximumSegmentSize(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    case sack([SACKBlock])
    case timestamps(value: UInt32, echoReply: UInt32)
    /// Any other kind, or a known kind with an unexpected length, kept byte for byte.
    case unknown(kind: UInt8, data: [UInt8])

    public var kind: UInt8 {
        switch self {
        case .endOfList: return 0
        case .noOperation: return 1
        case .maximumSegmentSize: return 2
        case .windowScale: return 3
        case .sackPermitted: return 4
        case .sack: return 5
        case .timestamps: return 8
        case .unknown(let kind, _): return kind
        }
    }

    public var byteCount: Int {
        switch self {
        case .endOfList, .noOperation: return 1
        case .maximumSegmentSize: return 4
        case .windowScale: return 3
        case .sackPermitted: return 2
        case .sack(let blocks): return 2 + 8 * blocks.count
        case .timestamps: return 10
        case .unknown(_, let data): return 2 + data.count
        }
    }

    @inline(__always)
    func write(to w: inout ByteWriter) {
        switch self {
        case .endOfList: w.writeU8(0)
        case .noOperation: w.writeU8(1)
        case .maximumSegmentSize(let mss):
            w.writeU8(2); w.writeU8(4); w.writeU16(mss)
        case .windowScale(let s):
            w.writeU8(3); w.writeU8(3); w.writeU8(s)
        case .sackPermitted:
            w.writeU8(4); w.writeU8(2)
        case .sack(let blocks):
            w.writeU8(5); w.writeU8(UInt8(truncatingIfNeeded: 2 + 8 * blocks.count))
            for b in blocks { w.writeU32(b.left); w.writeU32(b.right) }
        case let .timestamps(value, echo):
            w.writeU8(8); w.writeU8(10); w.writeU32(value); w.writeU32(echo)
        case let .unknown(kind, data):
            w.writeU8(kind); w.writeU8(UInt8(truncatingIfNeeded: 2 + data.count)); w.writeBytes(data)
        }
    }
}

public struct TCPHeader: Equatable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: UInt32
    public var acknowledgmentNumber: UInt32
    public var flags: TCPFlags
    /// The three reserved bits between the data offset and the NS flag.
    public var reservedBits: UInt8
    public var window: UInt16
    public var checksum: UInt16
    public var urgentPointer: UInt16
    /// The option bytes as on the wire (inline: no allocation).
    public var optionBytes: TCPOptionBytes
    /// The options, decoded (a new array: hot paths use `optionBytes` and the accessors below).
    public var options: [TCPOption] {
        get { optionBytes.options }
        set { optionBytes = TCPOptionBytes(newValue, padding: optionBytes.padding) }
    }
    /// Bytes after an end-of-list option up to the data offset, kept so re-emitting gives the same bytes.
    public var optionPadding: [UInt8] {
        get { optionBytes.padding }
        set { optionBytes = TCPOptionBytes(optionBytes.options, padding: newValue) }
    }

    public init(sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32 = 0,
                acknowledgmentNumber: UInt32 = 0, flags: TCPFlags, window: UInt16 = 64240,
                checksum: UInt16 = 0, urgentPointer: UInt16 = 0, options: [TCPOption] = []) {
        self.init(sourcePort: sourcePort, destinationPort: destinationPort, sequenceNumber: sequenceNumber,
                  acknowledgmentNumber: acknowledgmentNumber, flags: flags, window: window, checksum: checksum,
                  urgentPointer: urgentPointer, optionBytes: TCPOptionBytes(options))
    }

    @inline(__always)
    public init(sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32 = 0,
                acknowledgmentNumber: UInt32 = 0, flags: TCPFlags, window: UInt16 = 64240,
                checksum: UInt16 = 0, urgentPointer: UInt16 = 0, optionBytes: TCPOptionBytes) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.reservedBits = 0
        self.window = window
        self.checksum = checksum
        self.urgentPointer = urgentPointer
        self.optionBytes = optionBytes
    }

    public var optionsByteCount: Int { optionBytes.count }

    /// Header length in bytes (the data offset × 4), options padded to 32 bits.
    public var byteCount: Int { 20 + (optionsByteCount + 3) & ~3 }

    public var mss: UInt16? {
        optionBytes.find(kind: 2, length: 4).map { optionBytes.u16(at: $0 + 2) }
    }
    public var windowScale: UInt8? {
        optionBytes.find(kind: 3, length: 3).map { optionBytes[$0 + 2] }
    }
    /// Inlined where it is read (every segment a connection receives): the common layout's three words read in
    /// place; any other (a SYN's) found by the walk, out of line.
    @inline(__always)
    public var timestamps: (value: UInt32, echoReply: UInt32)? {
        if let t = optionBytes.paddedTimestamps { return t }
        return timestampsFound
    }

    @inline(never)
    private var timestampsFound: (value: UInt32, echoReply: UInt32)? {
        optionBytes.find(kind: 8, length: 10).map { (optionBytes.u32(at: $0 + 2), optionBytes.u32(at: $0 + 6)) }
    }

    /// What a SYN's options say, read in one walk: the same as `mss`, `windowScale` and `timestamps` (each the first
    /// option of its kind and length, up to an end-of-list option), which walk the options once each.
    public struct SYNOptions: Sendable {
        public var mss: UInt16?
        public var windowScale: UInt8?
        public var timestamps: (value: UInt32, echoReply: UInt32)?
        /// SACK-permitted (RFC 2018).
        public var sackPermitted = false
    }

    public var synOptions: SYNOptions {
        var o = SYNOptions()
        optionBytes.walk { k, len, i, b in
            switch (k, len) {
            case (2, 4) where o.mss == nil:
                o.mss = UInt16(bigEndian: b.loadUnaligned(fromByteOffset: i + 2, as: UInt16.self))
            case (3, 3) where o.windowScale == nil:
                o.windowScale = b[i + 2]
            case (8, 10) where o.timestamps == nil:
                o.timestamps = (UInt32(bigEndian: b.loadUnaligned(fromByteOffset: i + 2, as: UInt32.self)),
                                UInt32(bigEndian: b.loadUnaligned(fromByteOffset: i + 6, as: UInt32.self)))
            case (4, 2):
                o.sackPermitted = true
            default: break
            }
            return true
        }
        return o
    }

    static let layer = "TCP"

    public init(parsing r: inout ByteReader) throws {
        let start = r.offset
        try r.need(20, Self.layer)
        sourcePort = try r.readU16(Self.layer)
        destinationPort = try r.readU16(Self.layer)
        sequenceNumber = try r.readU32(Self.layer)
        acknowledgmentNumber = try r.readU32(Self.layer)
        let offFlags = try r.readU16(Self.layer)
        let headerLength = Int(offFlags >> 12) * 4
        guard headerLength >= 20 else {
            throw PacketError(layer: Self.layer, offset: start + 12,
                              problem: .invalid("data offset \(headerLength) is below 20"))
        }
        reservedBits = UInt8(truncatingIfNeeded: (offFlags >> 9) & 0x7)
        flags = TCPFlags(rawValue: offFlags & 0x1FF)
        window = try r.readU16(Self.layer)
        checksum = try r.readU16(Self.layer)
        urgentPointer = try r.readU16(Self.layer)
        try r.need(headerLength - 20, "TCP options")
        optionBytes = TCPOptionBytes()
        let end = start + headerLength
        let optionsStart = r.offset
        while r.offset < end {
            let at = r.offset
            let kind = try r.readU8("TCP option")
            switch kind {
            case 0:
                try r.skip(end - r.offset, "TCP option")
            case 1:
                break
            default:
                let len = Int(try r.peekLength(end: end, layer: "TCP option", at: at))
                try r.skip(len - 2, "TCP option")
            }
        }
        for k in optionsStart..<end { optionBytes.appendByte(r.bytes[k]) }
    }

    /// Writes the header as it stands (checksum as given).
    @inline(__always)
    public func write(to w: inout ByteWriter) {
        let n = byteCount
        w.append(count: n) { p in
            p.storeBE(sourcePort, at: 0)
            p.storeBE(destinationPort, at: 2)
            p.storeBE(sequenceNumber, at: 4)
            p.storeBE(acknowledgmentNumber, at: 8)
            p.storeBE(UInt16(n / 4) << 12 | UInt16(reservedBits & 0x7) << 9 | flags.rawValue, at: 12)
            p.storeBE(window, at: 14)
            p.storeBE(checksum, at: 16)
            p.storeBE(urgentPointer, at: 18)
            if n > 20 { optionBytes.copyPadded(to: p + 20) }
        }
    }
}
