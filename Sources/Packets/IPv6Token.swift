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
/// being handed a table. Interning happens mostly while a network is built; the lock is taken only for an
/// address not interned yet, so the packet path, which reads tokens and looks addresses up, never takes it.
///
/// Turning a token back into its address (every IPv6 NACL entry, security-group rule and route a packet meets)
/// takes no lock and allocates nothing: the addresses live in an open-addressed table of raw memory (`Slots`),
/// indexed by the token's own hash bits, whose slots are written once and never moved or freed. A writer (under
/// the lock, which orders interning) stores the address, then publishes the slot's token with a releasing
/// store; a reader that loads the token (acquiring) sees the address stored before it. A full table is copied
/// into one twice its size, published whole with a releasing store of its pointer; the old one stays in place
/// (a reader still probing it finds every token it held), so nothing a reader holds is ever freed. Threads share
/// only this raw memory and atomics, never reference-counted storage (release builds count references
/// non-atomically: `-assume-single-threaded`).
public enum IPv6Token {
    /// 240.0.0.0: tokens are `base | h` for a 28-bit h other than all ones (255.255.255.255 stays broadcast).
    public static let base: UInt32 = 0xF000_0000

    /// An open-addressed table of tokens (0: an empty slot; a token is never 0) and their addresses, `mask + 1`
    /// slots (a power of two), at most half of them used. Plain pointers: copying it retains nothing.
    private struct Slots {
        var mask: Int
        var tokens: UnsafeMutablePointer<Atomic<UInt32>>
        var addresses: UnsafeMutablePointer<IPv6Address>

        init(capacity: Int) {
            mask = capacity - 1
            tokens = .allocate(capacity: capacity)
            for i in 0..<capacity { (tokens + i).initialize(to: Atomic(0)) }
            addresses = .allocate(capacity: capacity)
            addresses.initialize(repeating: .any, count: capacity)
        }

        /// The address of `token`, nil if not in the table. Lock-free: see `IPv6Token`.
        @inline(__always)
        func address(_ token: UInt32) -> IPv6Address? {
            var i = Int(token & 0x0FFF_FFFF) & mask
            while true {
                let t = tokens[i].load(ordering: .acquiring)
                if t == token { return addresses[i] }
                if t == 0 { return nil }
                i = (i &+ 1) & mask
            }
        }

        /// Stores `address` under `token` (not in the table yet; a free slot left): the address first, then the
        /// token that makes it visible. Under the lock.
        func insert(_ token: UInt32, _ address: IPv6Address) {
            var i = Int(token & 0x0FFF_FFFF) & mask
            while tokens[i].load(ordering: .relaxed) != 0 { i = (i &+ 1) & mask }
            addresses[i] = address
            tokens[i].store(token, ordering: .releasing)
        }
    }

    private struct Table: ~Copyable {
        var byAddress: [IPv6Address: UInt32] = [:]
        /// The published slots (`published` points at a copy of this).
        var slots: UnsafeMutablePointer<Slots>? = nil
    }

    // Interning holds the lock (the dictionary's storage is retained and released only under it); reading a
    // token's address does not (`published`).
    private static let table = Mutex(Table())
    /// The bits of the `UnsafeMutablePointer<Slots>` readers probe; 0 before anything is interned.
    private static let published = Atomic<UInt>(0)

    /// The token for `address`, interned on first use.
    public static func intern(_ address: IPv6Address) -> IPv4Address {
        if let k = token(ifInterned: address) { return k }  // without the lock: interned already
        return table.withLock { t in
            if let k = t.byAddress[address] { return IPv4Address(rawValue: k) }
            if t.slots == nil || 2 * (t.byAddress.count + 1) > t.slots!.pointee.mask + 1 { grow(&t) }
            let slots = t.slots!.pointee
            var h = hash(address)
            while slots.address(base | h) != nil { h = h &+ 1 == 0x0FFF_FFFF ? 0 : (h &+ 1) & 0x0FFF_FFFF }
            slots.insert(base | h, address)
            t.byAddress[address] = base | h
            return IPv4Address(rawValue: base | h)
        }
    }

    /// A table twice the size (1,024 slots to begin with) holding every token, published for readers.
    private static func grow(_ t: inout Table) {
        let old = t.slots?.pointee
        let bigger = Slots(capacity: old.map { 2 * ($0.mask + 1) } ?? 1024)
        if let old {
            for i in 0...old.mask {
                let token = old.tokens[i].load(ordering: .relaxed)
                if token != 0 { bigger.insert(token, old.addresses[i]) }
            }
        }
        let p = UnsafeMutablePointer<Slots>.allocate(capacity: 1)
        p.initialize(to: bigger)
        t.slots = p
        published.store(UInt(bitPattern: p), ordering: .releasing)
    }

    /// The token `address` has when interned already; nil otherwise. Lock-free and allocation-free: interning
    /// gave the address the first free token of the chain from its hash, and every token before it in the chain
    /// was taken then and stays taken, so the walk meets the address before any free token.
    public static func token(ifInterned address: IPv6Address) -> IPv4Address? {
        let p = published.load(ordering: .acquiring)
        guard let slots = UnsafePointer<Slots>(bitPattern: p) else { return nil }
        var h = hash(address)
        while let a = slots.pointee.address(base | h) {
            if a == address { return IPv4Address(rawValue: base | h) }
            h = h &+ 1 == 0x0FFF_FFFF ? 0 : (h &+ 1) & 0x0FFF_FFFF
        }
        return nil
    }

    /// The IPv6 address `token` stands for; nil for an address outside 240.0.0.0/4 or a token never interned.
    /// Lock-free and allocation-free (the packet path's every IPv6 rule check).
    @inline(__always)
    public static func address(of token: IPv4Address) -> IPv6Address? {
        guard token.isIPv6Token else { return nil }
        let p = published.load(ordering: .acquiring)
        guard let slots = UnsafePointer<Slots>(bitPattern: p) else { return nil }
        return slots.pointee.address(token.rawValue)
    }

    /// Whether `x` sorts before `y` by the addresses they are: IPv4 before IPv6, each family by its value (a
    /// token's raw value is a hash, and which of two colliding addresses has the lower one depends on the order
    /// they were interned in).
    @inline(__always)
    public static func precedes(_ x: IPv4Address, _ y: IPv4Address) -> Bool {
        let v6x = x.isIPv6Token, v6y = y.isIPv6Token
        if v6x != v6y { return v6y }
        if !v6x || x == y { return x.rawValue < y.rawValue }
        return (address(of: x) ?? .any) < (address(of: y) ?? .any)
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
