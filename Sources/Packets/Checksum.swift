/// The Internet checksum (RFC 1071) as pure functions.
public enum InternetChecksum {
    /// The ones'-complement sum of `bytes` as big-endian 16-bit words (an odd last byte is padded with zero),
    /// folded to 16 bits but not complemented. Sums of disjoint even-length pieces may be added with `add`.
    @inline(__always)
    public static func sum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var acc: UInt64 = 0
        var i = 0
        let n = bytes.count
        guard let base = bytes.baseAddress else { return 0 }
        // Native-order 64-bit loads, each added as two 32-bit halves (no carry is lost: each word adds under
        // 2^33, so some 2^31 words, 16 GiB, would be needed to overflow); the ones'-complement sum is independent
        // of byte order up to a final swap. `i` stays at most `n`, a buffer's count: unchecked arithmetic cannot
        // overflow.
        let words = n & ~7
        while i < words {
            let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            acc &+= (w & 0xFFFF_FFFF) &+ (w >> 32)
            i &+= 8
        }
        while i &+ 2 <= n {
            acc &+= UInt64(base.loadUnaligned(fromByteOffset: i, as: UInt16.self))
            i &+= 2
        }
        if i < n {
            // An odd trailing byte is the high byte of a big-endian word: in native little-endian order it is low.
            let b = UInt64(base.load(fromByteOffset: i, as: UInt8.self))
            acc &+= isLittleEndian ? b : b << 8
        }
        var folded = acc
        while folded >> 16 != 0 { folded = (folded & 0xFFFF) &+ (folded >> 16) }
        let native = UInt16(truncatingIfNeeded: folded)
        return isLittleEndian ? native.byteSwapped : native
    }

    public static func sum(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBytes { sum($0) }
    }

    /// Ones'-complement addition of partial sums.
    @inline(__always)
    public static func add(_ a: UInt16, _ b: UInt16) -> UInt16 {
        let s = UInt32(a) + UInt32(b)
        return UInt16(truncatingIfNeeded: (s & 0xFFFF) + (s >> 16))
    }

    /// The checksum field value: the complement of the sum.
    @inline(__always)
    public static func finish(_ sum: UInt16) -> UInt16 { ~sum }

    /// The checksum of `bytes` (complemented sum).
    public static func checksum(_ bytes: [UInt8]) -> UInt16 { ~sum(bytes) }

    /// The partial sum of the IPv4 pseudo-header for TCP/UDP (RFC 793 §3.1, RFC 768).
    @inline(__always)
    public static func pseudoHeaderSum(source: IPv4Address, destination: IPv4Address, protocol proto: IPProtocol,
                                       length: Int) -> UInt16 {
        var s: UInt32 = (source.rawValue >> 16) + (source.rawValue & 0xFFFF)
        s += (destination.rawValue >> 16) + (destination.rawValue & 0xFFFF)
        s += UInt32(proto.rawValue) + UInt32(truncatingIfNeeded: length & 0xFFFF) + UInt32(length >> 16)
        while s >> 16 != 0 { s = (s & 0xFFFF) + (s >> 16) }
        return UInt16(s)
    }

    /// The partial sum of the IPv6 pseudo-header (RFC 8200 §8.1) for TCP, UDP and ICMPv6: both addresses, the
    /// upper-layer length as 32 bits and the next header. Nothing allocated: the addresses are summed as halves.
    @inline(__always)
    public static func pseudoHeaderSum(source: IPv6Address, destination: IPv6Address, nextHeader: IPProtocol,
                                       length: Int) -> UInt16 {
        @inline(__always) func words(_ v: UInt64) -> UInt64 {
            (v >> 48) &+ (v >> 32 & 0xFFFF) &+ (v >> 16 & 0xFFFF) &+ (v & 0xFFFF)
        }
        var s = words(source.high) &+ words(source.low) &+ words(destination.high) &+ words(destination.low)
        let len = UInt64(truncatingIfNeeded: UInt32(truncatingIfNeeded: length))
        s &+= (len >> 16) &+ (len & 0xFFFF) &+ UInt64(nextHeader.rawValue)
        while s >> 16 != 0 { s = (s & 0xFFFF) &+ (s >> 16) }
        return UInt16(s)
    }

    private static let isLittleEndian = 1.littleEndian == 1
}

/// What parsing found about a checksum field.
public enum ChecksumStatus: Equatable, Sendable {
    case valid
    /// The field did not match; `expected` is what it should have been.
    case invalid(expected: UInt16)
    /// Not all covered bytes were captured, or the packet is a fragment.
    case unverifiable
    /// UDP over IPv4 may leave the checksum zero (RFC 768).
    case absent

    public var isBad: Bool { if case .invalid = self { return true } else { return false } }
}
