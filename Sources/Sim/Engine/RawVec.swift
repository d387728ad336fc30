/// A growable array in memory its owner manages, for the engine's per-event structures (the scheduler's heap,
/// lanes and action slots, the network's packets in flight).
///
/// A Swift `Array` kept in a class's stored property checks at every write that its buffer is unique (a call to
/// `swift_isUniquelyReferenced`) and retains or releases the buffer around some accesses; nested ones (an array
/// of lanes each holding an array) do it at each level. In callgrind that was about a tenth of the engine's
/// instructions. A `RawVec` is three plain words: reading and writing an element is a load or a store.
///
/// It has no copy-on-write: copies share the storage, so it is kept in exactly one stored property, and its
/// owner calls `free()` once, in its `deinit`. Indices are checked in debug builds (the tests) only.
struct RawVec<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int = 16) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    /// Deinitializes the elements and frees the storage; the vector is not used again.
    func free() {
        base.deinitialize(count: count)
        base.deallocate()
    }

    @inline(__always) var isEmpty: Bool { count == 0 }
    @inline(__always) var last: Element? { count == 0 ? nil : base[count - 1] }

    @inline(__always)
    subscript(i: Int) -> Element {
        get {
            assert(i >= 0 && i < count, "RawVec index out of range")
            return base[i]
        }
        nonmutating _modify {
            assert(i >= 0 && i < count, "RawVec index out of range")
            yield &base[i]
        }
    }

    /// The element at `i`, to change in place.
    @inline(__always)
    func pointer(_ i: Int) -> UnsafeMutablePointer<Element> {
        assert(i >= 0 && i < count, "RawVec index out of range")
        return base + i
    }

    @inline(__always)
    mutating func append(_ e: Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: e)
        count += 1
    }

    /// Makes room for `n` more elements, so that the caller can initialize them past the end and count them
    /// with `extend(by:)`.
    @inline(__always)
    mutating func reserve(_ n: Int) {
        if capacity - count < n { grow(toAtLeast: count + n) }
    }

    /// Counts `n` elements the caller initialized past the end, in room `reserve` made.
    @inline(__always)
    mutating func extend(by n: Int) {
        assert(n >= 0 && count + n <= capacity, "RawVec extended past its capacity")
        count += n
    }

    @inline(never)
    private mutating func grow(toAtLeast needed: Int = 0) {
        var n = capacity * 2
        while n < needed { n *= 2 }
        let b = UnsafeMutablePointer<Element>.allocate(capacity: n)
        b.moveInitialize(from: base, count: count)
        base.deallocate()
        base = b
        capacity = n
    }

    @inline(__always)
    mutating func popLast() -> Element? {
        guard count > 0 else { return nil }
        count -= 1
        return (base + count).move()
    }

    /// Keeps the first `n` elements.
    mutating func truncate(to n: Int) {
        assert(n >= 0 && n <= count)
        (base + n).deinitialize(count: count - n)
        count = n
    }

    /// Removes every element, keeping the storage.
    mutating func removeAll() {
        base.deinitialize(count: count)
        count = 0
    }

    /// Removes the first `k` elements, moving the rest to the front.
    mutating func removeFirst(_ k: Int) {
        assert(k >= 0 && k <= count)
        base.deinitialize(count: k)
        (base).moveInitialize(from: base + k, count: count - k)
        count -= k
    }
}
