/// IPv6 addresses and prefixes (RFC 4291), written as RFC 5952 says.

/// An IPv6 address: two 64-bit halves, first group most significant (a value that allocates nothing).
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Groups 1-4.
    public let high: UInt64
    /// Groups 5-8.
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From eight 16-bit groups.
    public init(_ g0: UInt16, _ g1: UInt16, _ g2: UInt16, _ g3: UInt16,
                _ g4: UInt16, _ g5: UInt16, _ g6: UInt16, _ g7: UInt16) {
        high = UInt64(g0) << 48 | UInt64(g1) << 32 | UInt64(g2) << 16 | UInt64(g3)
        low = UInt64(g4) << 48 | UInt64(g5) << 32 | UInt64(g6) << 16 | UInt64(g7)
    }

    public static let any = IPv6Address(high: 0, low: 0)
    public static let loopback = IPv6Address(high: 0, low: 1)

    /// Group `i` (0-7).
    @inline(__always)
    public func group(_ i: Int) -> UInt16 {
        let half = i < 4 ? high : low
        return UInt16(truncatingIfNeeded: half >> UInt64(48 - 16 * (i & 3)))
    }

    /// The IPv4 address `::ffff:a.b.c.d` maps (RFC 4291 §2.5.5.2), if this is one.
    public var mappedIPv4: IPv4Address? {
        high == 0 && low >> 32 == 0xFFFF ? IPv4Address(rawValue: UInt32(truncatingIfNeeded: low)) : nil
    }

    /// `::ffff:a.b.c.d`.
    public init(mapping v4: IPv4Address) {
        high = 0
        low = 0xFFFF_0000_0000 | UInt64(v4.rawValue)
    }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }

    // MARK: Text

    /// Why a text is not an IPv6 address, in words for an error message.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var text: String
        public var reason: String
        public init(text: String, reason: String) {
            self.text = text
            self.reason = reason
        }
        public var description: String { "'\(text)' is not an IPv6 address: \(reason)" }
    }

    /// Parses any RFC 4291 §2.2 form: eight groups of one to four hex digits, at most one `::`, and an IPv4
    /// dotted quad in the last 32 bits. No zone index (`%eth0`) and no brackets.
    public init?(_ text: some StringProtocol) {
        guard let a = try? IPv6Address(parsing: text) else { return nil }
        self = a
    }

    /// As `init?(_:)`, with the reason when the text is not an address.
    public init(parsing text: some StringProtocol) throws(ParseError) {
        func fail(_ reason: String) -> ParseError { ParseError(text: String(text), reason: reason) }
        let bytes = Array(text.utf8)
        if bytes.isEmpty { throw fail("it is empty") }
        if IPv4Address(text) != nil { throw fail("it is an IPv4 address") }
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var gap: Int?  // index into `groups` where `::` stands
        var i = 0
        let n = bytes.count
        if n >= 2, bytes[0] == UInt8(ascii: ":"), bytes[1] == UInt8(ascii: ":") {
            gap = 0
            i = 2
        } else if bytes[0] == UInt8(ascii: ":") {
            throw fail("it starts with a single ':'")
        }
        while i < n {
            // One group (or a dotted quad at the end).
            var j = i
            while j < n, bytes[j] != UInt8(ascii: ":") { j += 1 }
            let field = bytes[i..<j]
            if field.isEmpty { throw fail("it has an empty group (':::' or a ':' at the end)") }
            if field.contains(UInt8(ascii: ".")) {
                guard j == n else { throw fail("an IPv4 part may only end it") }
                let quad = String(decoding: field, as: UTF8.self)
                guard let v4 = IPv4Address(quad) else { throw fail("'\(quad)' is not an IPv4 dotted quad") }
                groups.append(UInt16(truncatingIfNeeded: v4.rawValue >> 16))
                groups.append(UInt16(truncatingIfNeeded: v4.rawValue))
            } else {
                let g = String(decoding: field, as: UTF8.self)
                guard field.allSatisfy({ Self.isHex($0) }) else { throw fail("group '\(g)' is not hexadecimal") }
                guard field.count <= 4, let v = UInt16(g, radix: 16) else {
                    throw fail("group '\(g)' has more than 4 hex digits")
                }
                groups.append(v)
            }
            if groups.count > 8 { throw fail("it has more than 8 groups") }
            i = j
            if i < n {
                // A ':' separator; a second one makes the `::`.
                i += 1
                if i < n, bytes[i] == UInt8(ascii: ":") {
                    guard gap == nil else { throw fail("it has more than one '::'") }
                    gap = groups.count
                    i += 1
                } else if i == n {
                    throw fail("it ends with a single ':'")
                }
            }
        }
        if let gap {
            guard groups.count <= 7 else { throw fail("'::' stands for no group: it has 8 groups besides") }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gap)
        } else if groups.count != 8 {
            throw fail("it has \(groups.count) groups, not 8, and no '::'")
        }
        self.init(groups[0], groups[1], groups[2], groups[3], groups[4], groups[5], groups[6], groups[7])
    }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
    }

    /// RFC 5952 §4: lower case, no leading zeros, the longest run of two or more zero groups (the first of equal
    /// runs) as `::`; IPv4-mapped addresses end in a dotted quad (§5). At most 45 bytes: a string that allocates
    /// only when longer than the 15 a small string holds.
    public var description: String {
        String(unsafeUninitializedCapacity: 45) { write(to: $0.baseAddress!) }
    }

    /// Writes the RFC 5952 text at `out` (room for 45 bytes); returns its length.
    public func write(to out: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        let digits: StaticString = "0123456789abcdef"
        if let v4 = mappedIPv4 {
            for c in "::ffff:".utf8 {
                out[n] = c
                n += 1
            }
            return n + v4.writeDotted(to: out + n)
        }
        // The longest run of zero groups (two or more).
        var bestStart = -1, bestLength = 1
        var runStart = -1
        for i in 0...8 {
            if i < 8, group(i) == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength {
                    bestStart = runStart
                    bestLength = i - runStart
                }
                runStart = -1
            }
        }
        var i = 0
        while i < 8 {
            if i == bestStart {
                out[n] = UInt8(ascii: ":")
                out[n + 1] = UInt8(ascii: ":")
                n += 2
                i += bestLength
                continue
            }
            if i > 0 && i != bestStart + bestLength {
                out[n] = UInt8(ascii: ":")
                n += 1
            }
            let g = group(i)
            var started = false
            for shift in stride(from: 12, through: 0, by: -4) {
                let d = Int(g >> UInt16(shift) & 0xF)
                if d != 0 || started || shift == 0 {
                    out[n] = digits.utf8Start[d]
                    n += 1
                    started = true
                }
            }
            i += 1
        }
        return n
    }

    // MARK: Bytes

    public init(reading r: inout ByteReader, _ layer: String) throws {
        try r.need(16, layer)
        let h = UInt64(try r.readU32(layer)) << 32 | UInt64(try r.readU32(layer))
        let l = UInt64(try r.readU32(layer)) << 32 | UInt64(try r.readU32(layer))
        self.init(high: h, low: l)
    }

    @inline(__always)
    public func write(to w: inout ByteWriter) {
        w.append(count: 16) { store(to: $0) }
    }

    /// The sixteen octets at `p`.
    @inline(__always)
    func store(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
    }

    public var octets: [UInt8] {
        (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? high : low) >> UInt64(56 - 8 * (i & 7))) }
    }

    /// The solicited-node multicast address `ff02::1:ffXX:XXXX` of this address (RFC 4291 §2.7.1).
    public var solicitedNode: IPv6Address {
        IPv6Address(high: 0xFF02_0000_0000_0000, low: 0x0000_0001_FF00_0000 | low & 0xFF_FFFF)
    }

    /// The Ethernet multicast address an IPv6 multicast address maps to: 33:33 and its last 32 bits (RFC 2464 §7).
    public var multicastMAC: MACAddress { MACAddress(rawValue: 0x3333_0000_0000 | low & 0xFFFF_FFFF) }

    public var isMulticast: Bool { high >> 56 == 0xFF }
}

/// An IPv6 prefix such as 2001:db8::/32.
public struct IPv6CIDR: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let network: IPv6Address
    public let prefixLength: Int

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case notCIDR(String)
        /// The address part is not an IPv6 address; the reason says why.
        case badAddress(String, reason: String)
        /// An IPv4 address or block where an IPv6 one is required.
        case ipv4(String)
        case badPrefix(String)
        /// "2001:db8::1/64": bits set past the prefix, which AWS rejects for VPC, subnet, route and rule CIDRs.
        case hostBitsSet(String, network: IPv6Address)

        public var description: String {
            switch self {
            case .notCIDR(let s): return "'\(s)' is not an IPv6 CIDR block (expected address/n, as 2001:db8::/56)"
            case let .badAddress(s, reason): return "'\(s)' has an invalid IPv6 address: \(reason)"
            case .ipv4(let s): return "'\(s)' is IPv4 where an IPv6 CIDR block is required"
            case .badPrefix(let s): return "'\(s)' has an invalid prefix length (0-128)"
            case let .hostBitsSet(s, network):
                return "'\(s)' has host bits set (did you mean \(network)/\(s.split(separator: "/").last ?? "")?)"
            }
        }
    }

    /// The block of a prefix; host bits must be zero.
    public init(network: IPv6Address, prefixLength: Int) throws(ParseError) {
        guard (0...128).contains(prefixLength) else { throw ParseError.badPrefix("\(network)/\(prefixLength)") }
        let m = IPv6CIDR.mask(prefixLength)
        let cleared = IPv6Address(high: network.high & m.high, low: network.low & m.low)
        guard cleared == network else { throw ParseError.hostBitsSet("\(network)/\(prefixLength)", network: cleared) }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// The block containing `address` with the given prefix (host bits cleared).
    public init(containing address: IPv6Address, prefixLength: Int) {
        let p = min(max(prefixLength, 0), 128)
        let m = IPv6CIDR.mask(p)
        network = IPv6Address(high: address.high & m.high, low: address.low & m.low)
        self.prefixLength = p
    }

    /// Parses "2001:db8::/56". A bare address is a /128. Host bits set are an error, as AWS treats them.
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { throw ParseError.notCIDR(text) }
        if IPv4Address(parts[0]) != nil { throw ParseError.ipv4(text) }
        let addr: IPv6Address
        do {
            addr = try IPv6Address(parsing: parts[0])
        } catch {
            throw ParseError.badAddress(text, reason: error.reason)
        }
        var prefix = 128
        if parts.count == 2 {
            guard let p = Int(parts[1]), parts[1].allSatisfy({ $0 >= "0" && $0 <= "9" }), parts[1].count <= 3,
                  (0...128).contains(p) else {
                throw ParseError.badPrefix(text)
            }
            prefix = p
        }
        let m = IPv6CIDR.mask(prefix)
        let cleared = IPv6Address(high: addr.high & m.high, low: addr.low & m.low)
        guard cleared == addr else { throw ParseError.hostBitsSet(text, network: cleared) }
        network = addr
        prefixLength = prefix
    }

    /// The mask of a prefix length (0-128) as two halves.
    @inlinable @inline(__always)
    public static func mask(_ prefix: Int) -> (high: UInt64, low: UInt64) {
        if prefix <= 0 { return (0, 0) }
        if prefix < 64 { return (UInt64.max << UInt64(64 - prefix), 0) }
        if prefix == 64 { return (UInt64.max, 0) }
        if prefix < 128 { return (UInt64.max, UInt64.max << UInt64(128 - prefix)) }
        return (UInt64.max, UInt64.max)
    }

    @inlinable @inline(__always)
    public func contains(_ address: IPv6Address) -> Bool {
        let m = IPv6CIDR.mask(prefixLength)
        return address.high & m.high == network.high && address.low & m.low == network.low
    }

    /// True when every address of `other` is in this block.
    public func contains(_ other: IPv6CIDR) -> Bool {
        other.prefixLength >= prefixLength && contains(other.network)
    }

    public func overlaps(_ other: IPv6CIDR) -> Bool { contains(other.network) || other.contains(network) }

    public var first: IPv6Address { network }
    public var last: IPv6Address {
        let m = IPv6CIDR.mask(prefixLength)
        return IPv6Address(high: network.high | ~m.high, low: network.low | ~m.low)
    }

    public static let anyIPv6 = IPv6CIDR(containing: .any, prefixLength: 0)
    /// The NAT64 well-known prefix (RFC 6052).
    public static let nat64 = IPv6CIDR(containing: IPv6Address(0x64, 0xFF9B, 0, 0, 0, 0, 0, 0), prefixLength: 96)

    public var description: String { "\(network)/\(prefixLength)" }

    public static func < (a: IPv6CIDR, b: IPv6CIDR) -> Bool {
        (a.network, a.prefixLength) < (b.network, b.prefixLength)
    }
}

/// An address of either family (a capture's conversations, an outside host with both).
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Either family's text ("10.0.0.5", "2001:db8::5").
    public init?(_ text: some StringProtocol) {
        if let a = IPv4Address(text) { self = .v4(a) } else if let a = IPv6Address(text) { self = .v6(a) } else {
            return nil
        }
    }

    public var v4: IPv4Address? { if case .v4(let a) = self { return a } else { return nil } }
    public var v6: IPv6Address? { if case .v6(let a) = self { return a } else { return nil } }

    public var description: String {
        switch self {
        case .v4(let a): return a.description
        case .v6(let a): return a.description
        }
    }

    /// "10.0.0.5:22" or "[2001:db8::5]:22" (RFC 5952 §6).
    public func endpoint(port: UInt16) -> String {
        switch self {
        case .v4(let a): return "\(a):\(port)"
        case .v6(let a): return "[\(a)]:\(port)"
        }
    }

    /// IPv4 addresses sort before IPv6 ones.
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        switch (a, b) {
        case let (.v4(x), .v4(y)): return x < y
        case let (.v6(x), .v6(y)): return x < y
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }
}

extension IPv6Address {
    /// 64:ff9b::`v4`: an IPv4 address as NAT64 reaches it (RFC 6052 §2.2, the well-known prefix's last 32 bits).
    public init(nat64 v4: IPv4Address) {
        self.init(high: IPv6CIDR.nat64.network.high, low: IPv6CIDR.nat64.network.low | UInt64(v4.rawValue))
    }

    /// The IPv4 address a NAT64 address embeds (RFC 6052 §2.2); nil for an address outside 64:ff9b::/96.
    public var nat64Embedded: IPv4Address? {
        IPv6CIDR.nat64.contains(self) ? IPv4Address(rawValue: UInt32(truncatingIfNeeded: low)) : nil
    }
}
