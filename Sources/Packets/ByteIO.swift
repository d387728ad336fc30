/// Reading and writing network byte order.
///
/// `ByteReader` reads untrusted bytes: every read checks its bounds and throws a `PacketError` that names the
/// offset, never traps. `ByteWriter` writes bytes we build ourselves into memory the caller owns; overflowing it
/// is a programming error.

/// Why bytes could not be parsed, and where.
public struct PacketError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        /// Fewer bytes remained than the field needs.
        case truncated(needed: Int, available: Int)
        /// A field holds a value the format does not allow.
        case invalid(String)
    }

    /// The layer being parsed ("IPv4", "TCP option", …).
    public var layer: String
    /// Offset of the offending field from the start of the bytes handed to the parser.
    public var offset: Int
    public var problem: Problem

    public init(layer: String, offset: Int, problem: Problem) {
        self.layer = layer
        self.offset = offset
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case let .truncated(needed, available):
            return "\(layer) at offset \(offset): truncated, needs \(needed) bytes, \(available) available"
        case let .invalid(what):
            return "\(layer) at offset \(offset): \(what)"
        }
    }
}

/// A cursor over bytes from outside. Offsets are absolute within `bytes`.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    public let end: Int

    public init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = min(max(0, offset), bytes.count)
        self.end = min(max(self.offset, end ?? bytes.count), bytes.count)
    }

    public var remaining: Int { end - offset }

    /// A reader limited to the next `count` bytes (or fewer, if fewer remain); does not consume.
    public func limited(to count: Int) -> ByteReader {
        ByteReader(bytes, offset: offset, end: offset + max(0, min(count, remaining)))
    }

    @inline(__always)
    public func need(_ count: Int, _ layer: String) throws {
        if remaining < count {
            throw PacketError(layer: layer, offset: offset, problem: .truncated(needed: count, available: remaining))
        }
    }

    public mutating func readU8(_ layer: String) throws -> UInt8 {
        try need(1, layer)
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readU16(_ layer: String) throws -> UInt16 {
        try need(2, layer)
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public mutating func readU24(_ layer: String) throws -> UInt32 {
        try need(3, layer)
        defer { offset += 3 }
        return UInt32(bytes[offset]) << 16 | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2])
    }

    public mutating func readU32(_ layer: String) throws -> UInt32 {
        try need(4, layer)
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    public mutating func readBytes(_ count: Int, _ layer: String) throws -> [UInt8] {
        try need(count, layer)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Everything left, consumed.
    public mutating func readRest() -> [UInt8] {
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    public mutating func skip(_ count: Int, _ layer: String) throws {
        try need(count, layer)
        offset += count
    }

    public func peekU8(at absolute: Int) -> UInt8? {
        absolute >= offset && absolute < end ? bytes[absolute] : nil
    }
}

/// Writes big-endian fields into caller-owned memory without allocating.
public struct ByteWriter {
    public let base: UnsafeMutableRawPointer
    public let capacity: Int
    public private(set) var count: Int = 0

    public init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always)
    private func ensure(_ n: Int) {
        precondition(count + n <= capacity, "ByteWriter overflow: \(count) + \(n) > \(capacity)")
    }

    @inline(__always)
    public mutating func writeU8(_ v: UInt8) {
        ensure(1)
        base.storeBytes(of: v, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    public mutating func writeU16(_ v: UInt16) {
        ensure(2)
        base.storeBytes(of: v.bigEndian, toByteOffset: count, as: UInt16.self)
        count += 2
    }

    @inline(__always)
    public mutating func writeU24(_ v: UInt32) {
        writeU8(UInt8(truncatingIfNeeded: v >> 16))
        writeU16(UInt16(truncatingIfNeeded: v))
    }

    @inline(__always)
    public mutating func writeU32(_ v: UInt32) {
        ensure(4)
        base.storeBytes(of: v.bigEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always)
    public mutating func writeBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeBytes($0) }
    }

    @inline(__always)
    public mutating func writeBytes(_ raw: UnsafeRawBufferPointer) {
        ensure(raw.count)
        if let src = raw.baseAddress, raw.count > 0 {
            (base + count).copyMemory(from: src, byteCount: raw.count)
        }
        count += raw.count
    }

    public mutating func writeZeros(_ n: Int) {
        ensure(n)
        if n > 0 { (base + count).initializeMemory(as: UInt8.self, repeating: 0, count: n) }
        count += n
    }

    /// Appends `n` bytes that `body` stores, every one of them, at offsets 0..<n of the pointer it is given: one
    /// bounds check for a whole header instead of one per field (a captured frame's headers are some forty
    /// fields; checking each was most of the cost of building it).
    @inline(__always)
    public mutating func append(count n: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        ensure(n)
        body(base + count)
        count += n
    }

    /// Overwrites a 16-bit field already written.
    @inline(__always)
    public func setU16(_ v: UInt16, at offset: Int) {
        precondition(offset + 2 <= count)
        base.storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    public func getU16(at offset: Int) -> UInt16 {
        UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The bytes in `range` of what has been written.
    public func view(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.upperBound <= count)
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    public var written: UnsafeRawBufferPointer { view(0..<count) }
}

extension Array where Element == UInt8 {
    /// Builds an array by letting `body` write at most `capacity` bytes.
    public static func writing(capacity: Int, _ body: (inout ByteWriter) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Swift.max(capacity, 1)) { buf, n in
            var w = ByteWriter(base: UnsafeMutableRawPointer(buf.baseAddress!), capacity: capacity)
            body(&w)
            n = w.count
        }
    }
}

extension UnsafeMutableRawPointer {
    /// Stores `v` in network byte order at `offset` (any alignment: SE-0349).
    @inline(__always)
    func storeBE(_ v: UInt16, at offset: Int) { storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt16.self) }

    @inline(__always)
    func storeBE(_ v: UInt32, at offset: Int) { storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt32.self) }

    @inline(__always)
    func store(_ v: UInt8, at offset: Int) { storeBytes(of: v, toByteOffset: offset, as: UInt8.self) }
}
