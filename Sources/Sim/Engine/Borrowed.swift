/// A reference to an object that outlives the holder's use of it (a connection's host, the scheduler's network;
/// the simulation, from the network it owns: the network delivers only while the simulation runs), used without
/// owning it and without reference counting: `host { $0.now }`.
///
/// `unowned(unsafe)` does not own either, but the compiler copies it to a strong reference at each use, an
/// atomic retain and a release (atomic even with `-assume-single-threaded`): about 7% of the engine's time.
struct Borrowed<T: AnyObject> {
    private let unmanaged: Unmanaged<T>

    init(_ object: T) { unmanaged = .passUnretained(object) }

    @inline(__always) @discardableResult
    func callAsFunction<R>(_ body: (T) -> R) -> R { unmanaged._withUnsafeGuaranteedRef(body) }
}
