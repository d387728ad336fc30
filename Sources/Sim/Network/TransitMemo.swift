/// A transit's stateless part (route, NACLs, the next node, up to a destination ENI's security group), by subnet
/// and packet key: the model does not change during a run, so a connection's packets after its first each way
/// find it here instead of walking the route table and two NACLs again (`VPCNetwork.memoizedTransit`).
/// Direct-mapped and overwritten on collision (bounded memory, nothing to evict); only untraced packets that
/// were not dropped. It changes no decision: a component's semantics never see it.
struct TransitMemo {
    /// One memoized transit.
    struct Entry {
        /// The packet key's two words (`PacketKey.addressWord`, `portWord`).
        var addresses: UInt64
        var ports: UInt64
        /// -1: an empty entry.
        var subnet: Int32
        /// The ENI whose security group still decides (-1: none).
        var securityGroupAt: Int32
        /// The transit's next node (`encode`) and delay: a memoized transit was not dropped.
        var next: UInt32
        var delay: Int32

        static let empty = Entry(addresses: 0, ports: 0, subnet: -1, securityGroupAt: -1, next: 0, delay: 0)

        /// Whether this entry holds the transit from `subnet` of a packet with `key`.
        @inline(__always)
        func holds(_ subnet: Int, _ key: PacketKey) -> Bool {
            self.subnet == Int32(truncatingIfNeeded: subnet) && addresses == key.addressWord && ports == key.portWord
        }
    }

    /// 16,384 entries of 32 bytes (512 KB), two to a cache line: at 4,096 a 10,000-flows-a-second fleet (some 700
    /// connections open, three entries each) lost a third of its lookups to collisions, 6.2 misses a flow where 3
    /// are first packets. Entries of 80 bytes (a transit and a `PacketKey` as they are) straddled two cache lines,
    /// and the lookup's load was the engine's costliest instruction (perf: some 9% of `engine`'s samples).
    private static let bits = 14
    private static let size = 1 << bits
    private let entries: UnsafeMutablePointer<Entry> = {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: TransitMemo.size * MemoryLayout<Entry>.stride,
                                                   alignment: 64)
        let m = raw.bindMemory(to: Entry.self, capacity: TransitMemo.size)
        m.initialize(repeating: .empty, count: TransitMemo.size)
        return m
    }()

    /// The entry where the transit from `subnet` of a packet with `key` is (or would be) kept.
    @inline(__always)
    func entry(_ subnet: Int, _ key: PacketKey) -> UnsafeMutablePointer<Entry> {
        var h = key.tableHash ^ (UInt64(subnet) &* 0x9E37_79B9_7F4A_7C15)
        h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
        return entries + Int(truncatingIfNeeded: h >> (64 - Self.bits))  // the top bits: `size` entries
    }

    /// Kind in the top three bits (room for the nodes components add), the flag (`fromInside`, `toInternet`) in
    /// the next, the index below; nil when an index does not fit (then the transit is not memoized).
    @inline(__always) static func encode(_ n: PathNode) -> UInt32? {
        let (kind, index, flag): (UInt32, Int, Bool)
        switch n {
        case .eni(let e): (kind, index, flag) = (0, e, false)
        case .natGateway(let g, let inside): (kind, index, flag) = (1, g, inside)
        case .internetGateway(let g, let out): (kind, index, flag) = (2, g, out)
        case .outsideHost(let h): (kind, index, flag) = (3, h, false)
        case .transitGateway(let e): (kind, index, flag) = (4, e, false)
        case .vpnTunnel(let c, let toOnPrem): (kind, index, flag) = (5, c, toOnPrem)
        case .egressOnlyInternetGateway(let g, let out): (kind, index, flag) = (6, g, out)
        }
        guard index >= 0, index < 1 << 28 else { return nil }
        return kind << 29 | (flag ? 1 << 28 : 0) | UInt32(index)
    }

    @inline(__always) static func decode(_ v: UInt32) -> PathNode {
        let index = Int(v & (1 << 28 - 1))
        let flag = v & 1 << 28 != 0
        switch v >> 29 {
        case 0: return .eni(index)
        case 1: return .natGateway(index, fromInside: flag)
        case 2: return .internetGateway(index, toInternet: flag)
        case 4: return .transitGateway(index)
        case 5: return .vpnTunnel(index, toOnPrem: flag)
        case 6: return .egressOnlyInternetGateway(index, toInternet: flag)
        default: return .outsideHost(index)
        }
    }

    /// Frees the entries; the memo is not used again.
    func free() {
        entries.deinitialize(count: Self.size)
        UnsafeMutableRawPointer(entries).deallocate()
    }
}
