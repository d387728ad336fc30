/// Where a packet in flight goes next (or, `departs`, that it leaves a NAT gateway after its processing time
/// rather than arriving at `node`).
struct Hop {
    var node: PathNode
    var departs = false
    var size = 0
    /// The sequence number reserved for the packet's arrival after this fusable hop (`VPCNetwork.schedule`);
    /// .max: none.
    var reserved = UInt64.max
}

/// The packets in flight, by slot, in chunks that never move (a handler holds its packet's address while an
/// endpoint it delivers to sends new packets): a packet keeps its slot from hop to hop and is changed in place
/// (translation, TTL), never copied between hops (a packet is 184 bytes: each copy was a `memcpy`). The scheduler's
/// network events name a slot. Plain memory its owner frees (`free()`, in `VPCNetwork.deinit`), like `RawVec`.
struct PacketSlots {
    private static let chunkShift = 10
    private var chunks = RawVec<UnsafeMutablePointer<SimPacket>>(capacity: 4)
    /// Each slot's next hop.
    private(set) var hops = RawVec<Hop>(capacity: 1 << PacketSlots.chunkShift)
    private var inUse = RawVec<Bool>(capacity: 1 << PacketSlots.chunkShift)
    private var freeSlots = RawVec<Int32>(capacity: 1 << PacketSlots.chunkShift)

    /// The packet in `slot`.
    @inline(__always)
    func packet(_ slot: Int32) -> UnsafeMutablePointer<SimPacket> {
        chunks[Int(slot) >> Self.chunkShift] + (Int(slot) & ((1 << Self.chunkShift) - 1))
    }

    /// The next hop of the packet in `slot`.
    @inline(__always)
    func hop(_ slot: Int32) -> Hop { hops[Int(slot)] }

    @inline(__always)
    func setHop(_ slot: Int32, _ hop: Hop) { hops[Int(slot)] = hop }

    @inline(__always)
    func setReserved(_ slot: Int32, _ seq: UInt64) { hops[Int(slot)].reserved = seq }

    /// A free slot for a new packet in flight (its packet to be initialized by the caller).
    @inline(__always)
    mutating func take() -> Int32 {
        if freeSlots.isEmpty { addChunk() }
        let slot = freeSlots.popLast()!
        inUse[Int(slot)] = true
        return slot
    }

    @inline(never)
    private mutating func addChunk() {
        let base = chunks.count << Self.chunkShift
        chunks.append(.allocate(capacity: 1 << Self.chunkShift))
        for i in (base..<base + (1 << Self.chunkShift)).reversed() {
            hops.append(Hop(node: .eni(0)))
            inUse.append(false)
            freeSlots.append(Int32(i))
        }
    }

    /// The packet in `slot` leaves the network (delivered or dropped): its payload and slot are freed.
    @inline(__always)
    mutating func release(_ slot: Int32) {
        let p = packet(slot)
        p.pointee.payload.free()
        p.deinitialize(count: 1)
        inUse[Int(slot)] = false
        freeSlots.append(slot)
    }

    /// Frees every packet still in flight and the storage; the slots are not used again.
    func free() {
        for i in 0..<inUse.count where inUse[i] {
            packet(Int32(i)).pointee.payload.free()
            packet(Int32(i)).deinitialize(count: 1)
        }
        for c in 0..<chunks.count { chunks[c].deallocate() }
        chunks.free()
        hops.free()
        inUse.free()
        freeSlots.free()
    }
}
