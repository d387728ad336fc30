import Synchronization

/// The 32-bit stand-in for an IPv6 address on the simulator's packet path: a token in 240.0.0.0/4 (class E,
/// RFC 1112 §4 "reserved for future use", never a VPC, on-premises or internet address; scenario validation
/// refuses IPv4 addresses there). Interning every IPv6 address the simulation uses keeps `PacketKey`, the hash
/// tables, connection tracking and the scheduler 32-bit: the IPv4 path is unchanged, and a component that must
/// tell the families apart reads `IPv4Address.isIPv6Token` (one compare). Everything that prints an address
/// prints the token's IPv6 text (`IPv4Address.description`), and captures write real IPv6 headers.
///
/// The table is one per process, not per network: an address's token is derived from the address itself (a hash
/// into the 28 token bits, the next free token on a collision), so the same address has the same token in every
/// network built in the process, whatever else was interned before it (unless two colliding addresses were
/// interned in the other order), and every place that prints an address, in any module, finds its text without
/// being handed a table. Interning happens while a network is built; the packet path only reads tokens.
public enum IPv6Token {
    /// 240.0.0.0: tokens are `base | h` for a 28-bit h other than all ones (255.255.255.255 stays broadcast).
    public static let base: UInt32 = 0xF000_0000

    private struct Table: ~Copyable {
        var byToken: [UInt32: IPv6Address] = [:]
        var byAddress: [IPv6Address: UInt32] = [:]
    }

    // Every access holds the lock: the dictionaries' storage is retained and released only under it (release
    // builds count references non-atomically).
    private static let table = Mutex(Table())

    /// The token for `address`, interned on first use.
    public static func intern(_ address: IPv6Address) -> IPv4Address {
        table.withLock { t in
            if let k = t.byAddress[address] { return IPv4Address(rawValue: k) }
            var h = hash(address)
            while t.byToken[base | h] != nil { h = h &+ 1 == 0x0FFF_FFFF ? 0 : (h &+ 1) & 0x0FFF_FFFF }
            t.byToken[base | h] = address
            t.byAddress[address] = base | h
            return IPv4Address(rawValue: base | h)
        }
    }

    /// The token `address` has when interned already; nil otherwise.
    public static func token(ifInterned address: IPv6Address) -> IPv4Address? {
        table.withLock { t in t.byAddress[address].map { IPv4Address(rawValue: $0) } }
    }

    /// The IPv6 address `token` stands for; nil for an address outside 240.0.0.0/4 or a token never interned.
    public static func address(of token: IPv4Address) -> IPv6Address? {
        guard token.isIPv6Token else { return nil }
        return table.withLock { t in t.byToken[token.rawValue] }
    }

    /// 28 bits of SplitMix64's finalizer over the address's two halves; never all ones.
    private static func hash(_ a: IPv6Address) -> UInt32 {
        var z = a.high ^ (a.low &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let h = UInt32(truncatingIfNeeded: z) & 0x0FFF_FFFF
        return h == 0x0FFF_FFFF ? 0 : h
    }
}

extension IPv4Address {
    /// Whether the address is a token for an IPv6 address (`IPv6Token`): in 240.0.0.0/4, below 255.255.255.255.
    @inline(__always) public var isIPv6Token: Bool { rawValue >= IPv6Token.base && rawValue != .max }

    /// The IPv6 address a token stands for; nil for an IPv4 address.
    public var ipv6: IPv6Address? { IPv6Token.address(of: self) }

    /// "10.0.1.10:22", or "[2001:db8::22]:22" for an IPv6 address (RFC 5952 §6).
    public func with(port: UInt16) -> String { isIPv6Token ? "[\(self)]:\(port)" : "\(self):\(port)" }

    /// 240.0.0.0/4, which scenarios cannot use for IPv4 addresses: the simulator's IPv6 tokens live there.
    public static let tokenRange = IPv4CIDR(containing: IPv4Address(rawValue: IPv6Token.base), prefixLength: 4)
}
