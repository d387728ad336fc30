/// Link and network addresses.

/// A 48-bit Ethernet MAC address.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address in the low 48 bits, first octet most significant.
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    public init(_ octets: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
        self.init(rawValue: UInt64(octets.0) << 40 | UInt64(octets.1) << 32 | UInt64(octets.2) << 24
            | UInt64(octets.3) << 16 | UInt64(octets.4) << 8 | UInt64(octets.5))
    }

    /// Parses "0a:1b:2c:3d:4e:5f" (colons or dashes).
    public init?(_ text: String) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var v: UInt64 = 0
        for p in parts {
            guard p.count == 2, let b = UInt8(p, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        self.init(rawValue: v)
    }

    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)
    public static let zero = MACAddress(rawValue: 0)

    public var octets: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: rawValue >> (40 - 8 * UInt64($0))) } }

    public var description: String {
        octets.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: ":")
    }

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }

    public init(reading r: inout ByteReader, _ layer: String) throws {
        let hi = try r.readU16(layer)
        let lo = try r.readU32(layer)
        self.init(rawValue: UInt64(hi) << 32 | UInt64(lo))
    }

    @inline(__always)
    public func write(to w: inout ByteWriter) {
        w.append(count: 6) { store(to: $0) }
    }

    /// The six octets at `p`.
    @inline(__always)
    func store(to p: UnsafeMutableRawPointer) {
        p.storeBE(UInt16(truncatingIfNeeded: rawValue >> 32), at: 0)
        p.storeBE(UInt32(truncatingIfNeeded: rawValue), at: 2)
    }
}

/// An IPv4 address.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad notation strictly: four decimal octets, no leading zeros (as AWS does).
    public init?(_ text: some StringProtocol) {
        var value: UInt32 = 0
        var octets = 0
        var current: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for c in text.utf8 {
            if c == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return nil }
                value = value << 8 | current
                octets += 1
                current = 0
                digits = 0
                leadingZero = false
            } else if c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                if leadingZero { return nil }
                if digits == 0 && c == UInt8(ascii: "0") { leadingZero = true }
                current = current * 10 + UInt32(c - UInt8(ascii: "0"))
                digits += 1
                guard current <= 255, digits <= 3 else { return nil }
            } else {
                return nil
            }
        }
        guard octets == 3, digits > 0 else { return nil }
        rawValue = value << 8 | current
    }

    public static let any = IPv4Address(rawValue: 0)

    /// "10.0.1.10", built in place: at most 15 bytes, a small string that allocates nothing (capture comments
    /// and reports format many addresses).
    /// A token for an IPv6 address (`IPv6Token`) reads as that address (RFC 5952).
    public var description: String {
        if isIPv6Token, let a = ipv6 { return a.description }
        return String(unsafeUninitializedCapacity: 15) { writeDotted(to: $0.baseAddress!) }
    }

    /// The dotted quad even for a token (`description` reads a token as its IPv6 address).
    public static func dotted(_ a: IPv4Address) -> String {
        String(unsafeUninitializedCapacity: 15) { a.writeDotted(to: $0.baseAddress!) }
    }

    /// Writes the dotted quad, as `description` gives it, at `out` (room for 15 bytes); returns its length.
    @inline(__always)
    public func writeDotted(to out: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        for shift in stride(from: 24, through: 0, by: -8) {
            let octet = Int(rawValue >> UInt32(shift) & 0xFF)
            if octet >= 100 {
                out[n] = 0x30 + UInt8(octet / 100)
                n += 1
            }
            if octet >= 10 {
                out[n] = 0x30 + UInt8(octet / 10 % 10)
                n += 1
            }
            out[n] = 0x30 + UInt8(octet % 10)
            n += 1
            if shift > 0 {
                out[n] = 0x2E
                n += 1
            }
        }
        return n
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.rawValue < b.rawValue }

    /// RFC 1918 private, RFC 6598 shared, loopback, link-local and other non-internet ranges.
    public var isPrivateOrSpecial: Bool {
        IPv4CIDR.nonPublic.contains { $0.contains(self) }
    }
}

/// An IPv4 CIDR block such as 10.0.0.0/16.
public struct IPv4CIDR: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let network: IPv4Address
    public let prefixLength: Int

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case notCIDR(String)
        case badAddress(String)
        case badPrefix(String)
        /// "10.0.0.1/16": bits set past the prefix. AWS rejects these for VPC, subnet, route and rule CIDRs.
        case hostBitsSet(String, network: IPv4Address)

        public var description: String {
            switch self {
            case .notCIDR(let s): return "'\(s)' is not a CIDR block (expected a.b.c.d/n)"
            case .badAddress(let s): return "'\(s)' has an invalid IPv4 address"
            case .badPrefix(let s): return "'\(s)' has an invalid prefix length (0-32)"
            case let .hostBitsSet(s, network): return "'\(s)' has host bits set (did you mean \(network)/\(s.split(separator: "/").last ?? "")?)"
            }
        }
    }

    /// The block of a prefix; host bits must be zero.
    public init(network: IPv4Address, prefixLength: Int) throws {
        guard (0...32).contains(prefixLength) else {
            throw ParseError.badPrefix("\(network)/\(prefixLength)")
        }
        let mask = IPv4CIDR.mask(prefixLength)
        guard network.rawValue & ~mask == 0 else {
            throw ParseError.hostBitsSet("\(network)/\(prefixLength)",
                                         network: IPv4Address(rawValue: network.rawValue & mask))
        }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// The block containing `address` with the given prefix (host bits cleared).
    public init(containing address: IPv4Address, prefixLength: Int) {
        let p = min(max(prefixLength, 0), 32)
        network = IPv4Address(rawValue: address.rawValue & IPv4CIDR.mask(p))
        self.prefixLength = p
    }

    /// Parses "10.0.0.0/16". A bare address is a /32. Host bits set are an error, as AWS treats them.
    public init(parsing text: String) throws {
        if let fast = IPv4CIDR.parseCanonical(text) {
            self = fast
            return
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { throw ParseError.notCIDR(text) }
        guard let addr = IPv4Address(parts[0]) else { throw ParseError.badAddress(text) }
        var prefix = 32
        if parts.count == 2 {
            guard let p = Int(parts[1]), parts[1].allSatisfy(\.isASCII), parts[1].count <= 2, (0...32).contains(p) else {
                throw ParseError.badPrefix(text)
            }
            prefix = p
        }
        let mask = IPv4CIDR.mask(prefix)
        guard addr.rawValue & ~mask == 0 else {
            throw ParseError.hostBitsSet(text, network: IPv4Address(rawValue: addr.rawValue & mask))
        }
        network = addr
        prefixLength = prefix
    }

    /// The common case of `init(parsing:)` in one pass over the bytes, without `split`'s allocations (a large
    /// scenario holds tens of thousands of CIDRs): "a.b.c.d" or "a.b.c.d/n" with strict octets (as
    /// `IPv4Address(_:)`), a prefix of one or two digits up to 32 and host bits clear. Anything else is nil and
    /// goes through the general path, which accepts or reports it as before.
    static func parseCanonical(_ text: String) -> IPv4CIDR? {
        var value: UInt32 = 0, current: UInt32 = 0
        var octets = 0, digits = 0
        var leadingZero = false
        var prefix = -1, prefixDigits = 0
        for c in text.utf8 {
            if prefix >= 0 {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), prefixDigits < 2 else { return nil }
                prefix = prefix * 10 + Int(c - UInt8(ascii: "0"))
                prefixDigits += 1
            } else if c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                if leadingZero { return nil }
                if digits == 0 && c == UInt8(ascii: "0") { leadingZero = true }
                current = current * 10 + UInt32(c - UInt8(ascii: "0"))
                digits += 1
                guard current <= 255, digits <= 3 else { return nil }
            } else if c == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return nil }
                value = value << 8 | current
                octets += 1
                current = 0
                digits = 0
                leadingZero = false
            } else if c == UInt8(ascii: "/") {
                guard octets == 3, digits > 0 else { return nil }
                prefix = 0
            } else {
                return nil
            }
        }
        if prefix < 0 {
            guard octets == 3, digits > 0 else { return nil }
            prefix = 32
        } else {
            guard prefixDigits > 0, prefix <= 32 else { return nil }
        }
        let address = value << 8 | current
        guard address & ~mask(prefix) == 0 else { return nil }
        return IPv4CIDR(checkedNetwork: IPv4Address(rawValue: address), prefixLength: prefix)
    }

    private init(checkedNetwork: IPv4Address, prefixLength: Int) {
        network = checkedNetwork
        self.prefixLength = prefixLength
    }

    @inlinable @inline(__always)
    public static func mask(_ prefix: Int) -> UInt32 {
        prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)
    }

    public var mask: UInt32 { IPv4CIDR.mask(prefixLength) }

    /// Inlinable: the route and NACL walks of every packet call it.
    @inlinable @inline(__always)
    public func contains(_ address: IPv4Address) -> Bool {
        address.rawValue & IPv4CIDR.mask(prefixLength) == network.rawValue
    }

    /// True when every address of `other` is in this block.
    public func contains(_ other: IPv4CIDR) -> Bool {
        other.prefixLength >= prefixLength && contains(other.network)
    }

    public func overlaps(_ other: IPv4CIDR) -> Bool { contains(other.network) || other.contains(network) }

    public var addressCount: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    public var first: IPv4Address { network }
    public var last: IPv4Address { IPv4Address(rawValue: network.rawValue | ~mask) }

    /// The address at `index` within the block.
    public func address(at index: UInt32) -> IPv4Address { IPv4Address(rawValue: network.rawValue &+ index) }

    public static let anyIPv4 = try! IPv4CIDR(parsing: "0.0.0.0/0")

    static let nonPublic: [IPv4CIDR] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    ].map { try! IPv4CIDR(parsing: $0) }

    public var description: String { "\(network)/\(prefixLength)" }

    public static func < (a: IPv4CIDR, b: IPv4CIDR) -> Bool {
        (a.network, a.prefixLength) < (b.network, b.prefixLength)
    }
}
