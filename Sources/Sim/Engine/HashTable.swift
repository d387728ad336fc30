import Packets
#if canImport(Glibc)
import Glibc
#endif

/// A key for `HashTable`: equality plus one 64-bit word that the table mixes into a bucket. Keys pack their
/// fields into the word (or fold two words), so hashing a key costs a few instructions rather than a SipHash.
public protocol TableKey: Equatable {
    var tableHash: UInt64 { get }
}

/// An open-addressing hash table with linear probing and backward-shift deletion (no tombstones), for the
/// per-packet lookups of the hot path: connection tracking, NAT translations, endpoints, flow-log records.
/// Swift's Dictionary hashes with a per-process seeded SipHash on every access; this hashes with a multiply and
/// two shifts. Iteration (`forEach`) follows slot order, which depends only on the keys and the order they
/// came in (no seed), so it is deterministic; still, nothing that reaches an output should depend on it.
public final class HashTable<Key: TableKey, Value> {
    /// A slot: its flag, key and value side by side, so that a lookup that hits reads one cache line (the flag,
    /// the key and the value were three arrays: three lines, each a first-level miss once a fleet's tables outgrow
    /// the cache). A free slot's key and value are uninitialized memory; only `used` is always initialized.
    private struct Slot {
        var used: Bool
        var key: Key
        var value: Value
    }
    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    public private(set) var count = 0

    public init(capacity: Int = 8) {
        var c = 8
        while c < capacity * 2 { c <<= 1 }
        slots = Self.allocate(c)
        mask = c - 1
    }

    deinit {
        for i in 0...mask where used(i) {
            key(i).deinitialize(count: 1)
            value(i).deinitialize(count: 1)
        }
        Self.deallocate(slots, mask + 1)
    }

    /// Tables of at least this many bytes live in huge pages where the kernel gives them (`allocate`).
    private static var hugeBytes: Int { 4 << 20 }

    /// `c` slots, all free. A large table (a replayed log's millions of connections: hundreds of MB) is
    /// allocated on a 2 MiB boundary and advised to be backed by transparent huge pages: its lookups land
    /// anywhere in it, and with 4 KiB pages nearly every one missed the TLB as well as the cache. (Linux with
    /// THP in `madvise` mode, the common default, does this only when asked; elsewhere the advice is ignored.)
    private static func allocate(_ c: Int) -> UnsafeMutablePointer<Slot> {
        let bytes = c * MemoryLayout<Slot>.stride
        let s: UnsafeMutablePointer<Slot>
        #if os(Linux)
        if bytes >= hugeBytes {
            var raw: UnsafeMutableRawPointer?
            guard posix_memalign(&raw, 2 << 20, bytes) == 0, let raw else { fatalError("out of memory (\(bytes) bytes)") }
            _ = madvise(raw, bytes, MADV_HUGEPAGE)
            s = raw.bindMemory(to: Slot.self, capacity: c)
        } else {
            s = UnsafeMutablePointer<Slot>.allocate(capacity: c)
        }
        #else
        s = UnsafeMutablePointer<Slot>.allocate(capacity: c)
        #endif
        for i in 0..<c { (s + i).pointer(to: \.used)!.initialize(to: false) }
        return s
    }

    private static func deallocate(_ s: UnsafeMutablePointer<Slot>, _ c: Int) {
        #if os(Linux)
        if c * MemoryLayout<Slot>.stride >= hugeBytes {
            free(s)
            return
        }
        #endif
        s.deallocate()
    }

    /// Reads the flag of `key`'s first slot, so that a caller about to look up several keys can have their
    /// cache misses overlap: the loads of a loop over `touch` are independent, where each `find` waits for
    /// its own miss before the next begins. (The flags are folded into `touched`, so that the loads are kept.)
    @inline(__always)
    public func touch(_ key: Key) { touched = touched != used(home(key)) }
    private var touched = false

    @inline(__always) private func used(_ i: Int) -> Bool { (slots + i).pointer(to: \.used)!.pointee }
    @inline(__always) private func setUsed(_ i: Int, _ u: Bool) { (slots + i).pointer(to: \.used)!.pointee = u }
    @inline(__always) private func key(_ i: Int) -> UnsafeMutablePointer<Key> { (slots + i).pointer(to: \.key)! }
    @inline(__always) private func value(_ i: Int) -> UnsafeMutablePointer<Value> { (slots + i).pointer(to: \.value)! }

    public var isEmpty: Bool { count == 0 }

    @inline(__always)
    private func home(_ k: Key) -> Int {
        // splitmix64's finalizer: every bit of the key reaches the low bits that pick the bucket.
        var h = k.tableHash
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The slot holding `key`, or nil. A slot stays valid until the next insertion or removal.
    @inline(__always)
    public func find(_ key: Key) -> Int? {
        var i = home(key)
        while used(i) {
            if self.key(i).pointee == key { return i }
            i = (i + 1) & mask
        }
        return nil
    }

    public subscript(key: Key) -> Value? {
        get {
            guard let i = find(key) else { return nil }
            return value(i).pointee
        }
        set {
            if let v = newValue {
                if let i = find(key) { value(i).pointee = v } else { insert(key, v) }
            } else if let i = find(key) {
                remove(at: i)
            }
        }
    }

    /// The value in slot `i` (from `find` or `insert`), to read or change in place.
    @inline(__always)
    public func value(at i: Int) -> UnsafeMutablePointer<Value> { value(i) }

    @inline(__always)
    public func key(at i: Int) -> Key { key(i).pointee }

    /// Inserts `key`, which must not be present; returns its slot.
    @discardableResult
    public func insert(_ key: Key, _ value: Value) -> Int {
        // At most half full: with linear probing a miss (a connection's first packet, every insertion) probes
        // about 2.5 slots at half full, 8.5 at three quarters (where this grew until the eleventh session: 3% of
        // the engine's instructions).
        if (count + 1) * 2 > mask + 1 { grow() }
        var i = home(key)
        while used(i) { i = (i + 1) & mask }
        self.key(i).initialize(to: key)
        self.value(i).initialize(to: value)
        setUsed(i, true)
        count += 1
        return i
    }

    /// Removes the entry in slot `i` and returns its value; later entries of its probe run move back.
    @discardableResult
    public func remove(at slot: Int) -> Value {
        key(slot).deinitialize(count: 1)
        let removed = value(slot).move()
        setUsed(slot, false)
        count -= 1
        var hole = slot
        var i = (slot + 1) & mask
        while used(i) {
            let h = home(key(i).pointee)
            // The entry at i may fill the hole when its home is not in (hole, i] (cyclically).
            let stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i)
            if !stays {
                key(hole).moveInitialize(from: key(i), count: 1)
                value(hole).moveInitialize(from: value(i), count: 1)
                setUsed(hole, true)
                setUsed(i, false)
                hole = i
            }
            i = (i + 1) & mask
        }
        return removed
    }

    @discardableResult
    public func removeValue(forKey key: Key) -> Value? {
        guard let i = find(key) else { return nil }
        return remove(at: i)
    }

    public func removeAll() {
        for i in 0...mask where used(i) {
            key(i).deinitialize(count: 1)
            value(i).deinitialize(count: 1)
            setUsed(i, false)
        }
        count = 0
    }

    /// The number of slots, used or free: a walk over `0..<slotCount` with `isUsed(at:)`, `key(at:)` and
    /// `value(at:)` visits the entries in slot order, as `forEach` does, and can name each by its slot.
    public var slotCount: Int { mask + 1 }
    @inline(__always) public func isUsed(at i: Int) -> Bool { used(i) }

    /// Every entry, in slot order.
    public func forEach(_ body: (Key, Value) throws -> Void) rethrows {
        for i in 0...mask where used(i) { try body(key(i).pointee, value(i).pointee) }
    }

    private func grow() {
        let old = slots, oldCapacity = mask + 1
        let c = oldCapacity * 2
        slots = Self.allocate(c)
        mask = c - 1
        for j in 0..<oldCapacity where (old + j).pointer(to: \.used)!.pointee {
            var i = home((old + j).pointer(to: \.key)!.pointee)
            while used(i) { i = (i + 1) & mask }
            key(i).moveInitialize(from: (old + j).pointer(to: \.key)!, count: 1)
            value(i).moveInitialize(from: (old + j).pointer(to: \.value)!, count: 1)
            setUsed(i, true)
        }
        Self.deallocate(old, oldCapacity)
    }
}

extension UInt64: TableKey {
    @inline(__always) public var tableHash: UInt64 { self }
}

extension Int: TableKey {
    @inline(__always) public var tableHash: UInt64 { UInt64(bitPattern: Int64(self)) }
}

/// A set of TCP/UDP ports as a bitmap (8 KiB once the first port is inserted): a host's ports in use.
public struct PortSet {
    private var words: [UInt64] = []

    public init() {}

    @inline(__always)
    public func contains(_ port: UInt16) -> Bool {
        guard !words.isEmpty else { return false }
        return words[Int(port >> 6)] & (1 << UInt64(port & 63)) != 0
    }

    @inline(__always)
    public mutating func insert(_ port: UInt16) {
        if words.isEmpty { words = Array(repeating: 0, count: 1024) }
        words[Int(port >> 6)] |= 1 << UInt64(port & 63)
    }

    @inline(__always)
    public mutating func remove(_ port: UInt16) {
        guard !words.isEmpty else { return }
        words[Int(port >> 6)] &= ~(1 << UInt64(port & 63))
    }
}

/// A set of ports as small as its contents (a `HashTable` of ports): a NAT gateway keeps one per address and
/// destination, and there may be many destinations, so not a 64 Ki-bit `PortSet` each; and not a `Set<UInt16>`,
/// whose seeded SipHash was about 1,000 instructions per connection.
public struct UsedPorts {
    struct Port: TableKey {
        var port: UInt16
        @inline(__always) var tableHash: UInt64 { UInt64(port) }
    }
    private let table = HashTable<Port, Bool>()

    public init() {}

    public var count: Int { table.count }
    public var isEmpty: Bool { table.isEmpty }

    @inline(__always)
    public func contains(_ port: UInt16) -> Bool { table.find(Port(port: port)) != nil }

    public func insert(_ port: UInt16) {
        if table.find(Port(port: port)) == nil { table.insert(Port(port: port), true) }
    }

    public func remove(_ port: UInt16) {
        if let i = table.find(Port(port: port)) { table.remove(at: i) }
    }
}

/// A map from IPv4 addresses that the model fills once and packets read (a public IP's ENI, a private IP's public
/// one, an outside host by address): the last address looked up is remembered with what it found (nothing
/// included), since a fleet's packets ask for the same few addresses at every crossing (four lookups a packet at
/// an internet gateway, about 800 instructions a flow through the table).
final class AddressMap<Value> {
    private let table = HashTable<IPv4Address, Value>()
    /// The last address looked up (above `UInt32.max`: none) and its value.
    private var lastKey = UInt64.max
    private var lastValue: Value?

    subscript(key: IPv4Address) -> Value? {
        @inline(__always) get {
            if UInt64(key.rawValue) == lastKey { return lastValue }
            return lookUp(key)
        }
        set {
            table[key] = newValue
            lastKey = .max
            lastValue = nil
        }
    }

    private func lookUp(_ key: IPv4Address) -> Value? {
        let v = table[key]
        lastKey = UInt64(key.rawValue)
        lastValue = v
        return v
    }

    var count: Int { table.count }
}
