/// Up to 40 option bytes kept inline, as they go on the wire: the most a TCP header (RFC 9293 §3.1: the data
/// offset is at most 15 words) or an IPv4 header (RFC 791: IHL at most 15) carries. Copying a header that
/// holds them copies bytes, with no reference to count and nothing to allocate.
public struct InlineOptionBytes: Equatable, Sendable {
    public static let capacity = 40
    private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    /// Bytes in use; bytes past it are always zero.
    public private(set) var count: Int = 0

    public init() {}

    public static func == (a: InlineOptionBytes, b: InlineOptionBytes) -> Bool {
        a.count == b.count && a.storage.0 == b.storage.0 && a.storage.1 == b.storage.1 && a.storage.2 == b.storage.2
            && a.storage.3 == b.storage.3 && a.storage.4 == b.storage.4
    }

    @inline(__always)
    public subscript(i: Int) -> UInt8 {
        withUnsafeBytes(of: storage) { $0[i] }
    }

    @inline(__always)
    public mutating func appendByte(_ b: UInt8) {
        precondition(count < Self.capacity, "options longer than 40 bytes")
        let i = count
        withUnsafeMutableBytes(of: &storage) { $0[i] = b }
        count += 1
    }

    // One store each (SE-0349: raw stores need no alignment); every segment's timestamps go through these.
    @inline(__always)
    mutating func appendU16(_ v: UInt16) {
        precondition(count + 2 <= Self.capacity, "options longer than 40 bytes")
        let i = count
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: v.bigEndian, toByteOffset: i, as: UInt16.self) }
        count += 2
    }

    @inline(__always)
    mutating func appendU32(_ v: UInt32) {
        precondition(count + 4 <= Self.capacity, "options longer than 40 bytes")
        let i = count
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: v.bigEndian, toByteOffset: i, as: UInt32.self) }
        count += 4
    }

    /// Calls `body` with the bytes in use.
    @inline(__always)
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let n = count
        return try withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }

    /// Copies the bytes in use and the zeros after them up to a multiple of 4 (the header's padding) to `p`.
    @inline(__always)
    func copyPadded(to p: UnsafeMutableRawPointer) {
        let n = (count + 3) & ~3  // at most the capacity, 40; bytes past `count` are zero
        withUnsafeBytes(of: storage) { p.copyMemory(from: $0.baseAddress!, byteCount: n) }
    }

    // One load each (reading byte by byte went through a copy of the whole storage per byte).
    @inline(__always)
    func u16(at i: Int) -> UInt16 {
        precondition(i >= 0 && i + 2 <= Self.capacity)
        return withUnsafeBytes(of: storage) { UInt16(bigEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt16.self)) }
    }
    /// Overwrites the two bytes at `i` (within the bytes in use).
    @inline(__always)
    mutating func setU16(_ v: UInt16, at i: Int) {
        precondition(i >= 0 && i + 2 <= count)
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: v.bigEndian, toByteOffset: i, as: UInt16.self) }
    }
    @inline(__always)
    func u32(at i: Int) -> UInt32 {
        precondition(i >= 0 && i + 4 <= Self.capacity)
        return withUnsafeBytes(of: storage) { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt32.self)) }
    }
    /// The first three 32-bit words (a header's padded timestamps option), in one read.
    @inline(__always)
    func firstThreeU32() -> (UInt32, UInt32, UInt32) {
        withUnsafeBytes(of: storage) {
            (UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self)),
             UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
             UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        }
    }
}

/// A TCP header's option bytes, inline: building, copying and translating a TCP header allocates nothing.
/// `TCPHeader.options` decodes them into `[TCPOption]` for code that wants the list.
public struct TCPOptionBytes: Equatable, Sendable {
    public static let capacity = InlineOptionBytes.capacity
    private var bytes = InlineOptionBytes()
    public var count: Int { bytes.count }

    public init() {}

    /// The encoding of `options`, then `padding` (bytes after an end-of-list option, kept as they were).
    public init(_ options: [TCPOption], padding: [UInt8] = []) {
        for o in options { append(o) }
        for b in padding { appendByte(b) }
    }

    @inline(__always)
    public subscript(i: Int) -> UInt8 { bytes[i] }

    @inline(__always)
    public mutating func appendByte(_ b: UInt8) { bytes.appendByte(b) }
    @inline(__always)
    private mutating func appendU16(_ v: UInt16) { bytes.appendU16(v) }
    @inline(__always)
    private mutating func appendU32(_ v: UInt32) { bytes.appendU32(v) }

    /// Calls `body` with the bytes in use.
    @inline(__always)
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try bytes.withBytes(body) }

    /// The bytes in use and the zeros after them up to a multiple of 4, to `p`.
    @inline(__always)
    func copyPadded(to p: UnsafeMutableRawPointer) { bytes.copyPadded(to: p) }

    @inline(__always)
    func u16(at i: Int) -> UInt16 { bytes.u16(at: i) }
    @inline(__always)
    func u32(at i: Int) -> UInt32 { bytes.u32(at: i) }

    /// Lowers the maximum segment size option to `mss` when it is larger, as a router that clamps MSS rewrites a
    /// SYN in flight (the option's place and length unchanged; the checksum is the writer's). Returns the MSS the
    /// option had when it was lowered, nil when there is no MSS option or it was not larger.
    public mutating func clampMSS(to mss: UInt16) -> UInt16? {
        guard let i = find(kind: 2, length: 4) else { return nil }
        let was = bytes.u16(at: i + 2)
        guard was > mss else { return nil }
        bytes.setU16(mss, at: i + 2)
        return was
    }

    /// NOP, NOP, timestamps: what Linux puts on every segment after the SYN when timestamps are on. The same
    /// bytes as appending the three options, without going through `TCPOption` (every segment sent does this).
    @inline(__always)
    public mutating func appendPaddedTimestamps(value: UInt32, echoReply: UInt32) {
        appendU32(0x0101_080A)
        appendU32(value)
        appendU32(echoReply)
    }

    /// Linux's SYN and SYN-ACK options: MSS, SACK permitted, then timestamps and a NOP (two NOPs without
    /// timestamps), window scale. The bytes `append` gives for that list, written a word at a time (every
    /// connection sends one).
    public static func linuxSYN(mss: UInt16, timestamps: (value: UInt32, echoReply: UInt32)?, windowScale: UInt8)
        -> TCPOptionBytes {
        var o = TCPOptionBytes()
        o.appendU32(0x0204_0000 | UInt32(mss))
        if let t = timestamps {
            o.appendU32(0x0402_080A)
            o.appendU32(t.value)
            o.appendU32(t.echoReply)
            o.appendByte(1)
        } else {
            o.appendU32(0x0402_0101)
        }
        o.appendByte(3)
        o.appendByte(3)
        o.appendByte(windowScale)
        return o
    }

    /// The timestamps option when the bytes start with NOP, NOP, timestamps (Linux's layout), else nil.
    @inline(__always)
    var paddedTimestamps: (value: UInt32, echoReply: UInt32)? {
        guard count >= 12 else { return nil }
        let (kinds, value, echo) = bytes.firstThreeU32()
        return kinds == 0x0101_080A ? (value, echo) : nil
    }

    /// Appends one option's encoding (no allocation for the fixed-size kinds).
    @inline(__always)
    public mutating func append(_ o: TCPOption) {
        switch o {
        case .endOfList: appendByte(0)
        case .noOperation: appendByte(1)
        case .maximumSegmentSize(let mss):
            appendByte(2); appendByte(4); appendU16(mss)
        case .windowScale(let s):
            appendByte(3); appendByte(3); appendByte(s)
        case .sackPermitted:
            appendByte(4); appendByte(2)
        case .sack(let blocks):
            appendByte(5); appendByte(UInt8(truncatingIfNeeded: 2 + 8 * blocks.count))
            for b in blocks { appendU32(b.left); appendU32(b.right) }
        case let .timestamps(value, echo):
            appendByte(8); appendByte(10); appendU32(value); appendU32(echo)
        case let .unknown(kind, data):
            appendByte(kind); appendByte(UInt8(truncatingIfNeeded: 2 + data.count))
            for b in data { appendByte(b) }
        }
    }

    /// Walks the options as a receiver does: NOPs skipped, up to an end-of-list option or a length that does not
    /// fit. `body` gets each other option's kind, length and offset in `bytes`, and returns false to stop.
    @inline(__always)
    func walk(_ body: (_ kind: UInt8, _ length: Int, _ offset: Int, _ bytes: UnsafeRawBufferPointer) -> Bool) {
        withBytes { b in
            var i = 0
            while i < b.count {
                let k = b[i]
                if k == 0 { return }
                if k == 1 { i += 1; continue }
                guard i + 1 < b.count else { return }
                let len = Int(b[i + 1])
                guard len >= 2, i + len <= b.count else { return }
                if !body(k, len, i, b) { return }
                i += len
            }
        }
    }

    /// Where the option of `kind` with length `length` starts, scanning as a receiver does (`walk`).
    @inline(__always)
    func find(kind: UInt8, length: Int) -> Int? {
        var found: Int?
        walk { k, len, i, _ in
            guard k == kind, len == length else { return true }
            found = i
            return false
        }
        return found
    }

    /// The options, decoded as `TCPHeader(parsing:)` does: up to and including an end-of-list option; what
    /// follows it is `padding`.
    public var options: [TCPOption] { decode().options }
    public var padding: [UInt8] { decode().padding }

    func decode() -> (options: [TCPOption], padding: [UInt8]) {
        var options: [TCPOption] = []
        var padding: [UInt8] = []
        var i = 0
        while i < count {
            let kind = self[i]
            switch kind {
            case 0:
                options.append(.endOfList)
                for j in (i + 1)..<count { padding.append(self[j]) }
                return (options, padding)
            case 1:
                options.append(.noOperation)
                i += 1
            default:
                let len = i + 1 < count ? Int(self[i + 1]) : 0
                guard len >= 2, i + len <= count else {
                    // Not from a parser (it rejects these) or a builder: keep the bytes.
                    options.append(.unknown(kind: kind, data: (i + 1 < count ? (i + 2)..<count : count..<count).map { self[$0] }))
                    return (options, padding)
                }
                switch (kind, len) {
                case (2, 4): options.append(.maximumSegmentSize(u16(at: i + 2)))
                case (3, 3): options.append(.windowScale(self[i + 2]))
                case (4, 2): options.append(.sackPermitted)
                case (5, _) where len >= 10 && (len - 2) % 8 == 0:
                    options.append(.sack((0..<(len - 2) / 8).map {
                        SACKBlock(left: u32(at: i + 2 + 8 * $0), right: u32(at: i + 6 + 8 * $0))
                    }))
                case (8, 10): options.append(.timestamps(value: u32(at: i + 2), echoReply: u32(at: i + 6)))
                default: options.append(.unknown(kind: kind, data: ((i + 2)..<(i + len)).map { self[$0] }))
                }
                i += len
            }
        }
        return (options, padding)
    }
}
