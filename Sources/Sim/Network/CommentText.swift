import Packets

/// A capture comment written as UTF-8 bytes into memory the network keeps and reuses, for the comments that name
/// a packet's own addresses and ports (a NAT gateway's translation: "arrived from the private side; translated
/// 10.0.1.25:40000 → 203.0.113.10:1024 by nat-0…"), which cannot be cached and were put together as `String`s for
/// every packet: interpolation, a new string's storage, its growth and release, about half of what a packet
/// captured in all-hops.pcapng cost the simulation's thread. The text is the same, byte for byte.
struct CommentText {
    private var bytes = RawVec<UInt8>(capacity: 256)

    /// Frees the memory; not used again.
    func free() { bytes.free() }

    /// Empties the text for the next comment.
    @inline(__always)
    mutating func clear() { bytes.removeAll() }

    /// The text so far (valid until the next change).
    var utf8: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: bytes.base, count: bytes.count) }

    /// Room for `n` more bytes; returns where they go (then `appended` counts them).
    @inline(__always)
    private mutating func room(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        bytes.reserve(n)
        return bytes.base + bytes.count
    }

    @inline(__always)
    private mutating func appended(_ n: Int) { bytes.extend(by: n) }

    mutating func append(_ s: StaticString) {
        // withUTF8Buffer: a one-character literal may be kept as a scalar, without a pointer to UTF-8.
        s.withUTF8Buffer { append(bytes: $0) }
    }

    mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append(bytes: $0) }
    }

    private mutating func append(bytes u: UnsafeBufferPointer<UInt8>) {
        guard let b = u.baseAddress else { return }
        room(u.count).initialize(from: b, count: u.count)
        appended(u.count)
    }

    /// Dotted decimal, as `IPv4Address.description` (an IPv6 token as its address).
    mutating func append(_ a: IPv4Address) {
        if a.isIPv6Token { return append(a.description) }
        appended(a.writeDotted(to: room(15)))
    }

    /// Decimal, as `String(port)`.
    mutating func append(_ port: UInt16) {
        let out = room(5)
        var digits = 1
        var v = Int(port)
        while v >= 10 { v /= 10; digits += 1 }
        v = Int(port)
        for i in stride(from: digits - 1, through: 0, by: -1) {
            out[i] = 0x30 + UInt8(v % 10)
            v /= 10
        }
        appended(digits)
    }

    /// `address:port`, as `"\(address):\(port)"`.
    mutating func append(_ address: IPv4Address, port: UInt16) {
        append(address)
        append(":")
        append(port)
    }
}
