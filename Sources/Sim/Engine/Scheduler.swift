/// An object whose timers the scheduler runs as `fire(tag:)`, without a closure per timer.
public protocol ScheduledTarget: AnyObject {
    func fire(tag: Int)
}

/// The discrete-event scheduler: integer-nanosecond virtual time; events at the same time run in the order
/// they were scheduled. Nothing here reads a clock.
///
/// An event is 24 plain bytes: its time, its sequence number and a slot. A packet moving between hops is a slot
/// in the network's table of packets in flight (no allocation per hop); other work (timers, flow starts) is a
/// closure, or a target object's `fire(tag:)` (a timer: no allocation), kept in a slot of `actions`, reused once
/// it has run.
///
/// Where events wait, so that the heap stays small (a few events for a million flows):
/// - FIFO lanes for events whose times never decrease: packets in flight, one lane per hop delay; an endpoint's
///   fixed-delay actions, one lane per delay; a generator's client and Lambda timers. The heap holds each
///   lane's head.
/// - A ring of 16.8 ms time buckets for actions further ahead (mostly TCP timers, most cancelled before due).
/// - A 4-ary heap (half the levels of a binary one) for the rest and the lanes' heads.
/// The heap orders by (time, sequence number), so the order events run in never depends on where they waited.
public final class Scheduler {
    public typealias Action = () -> Void

    /// What a scheduled action runs: a closure, or `target.fire(tag:)` for an object's timers (no closure
    /// context to allocate for each).
    struct ActionSlot {
        /// A closure kept in a struct's field keeps its own representation (in an array of optional closures it
        /// would be wrapped in a reabstraction thunk: one more allocation per action).
        var closure: Action?
        var target: ScheduledTarget?
        var tag: Int = 0
        /// Bumped when the action runs or is cancelled: an event whose generation differs is stale.
        var generation: UInt32 = 0
        /// Scheduled and neither run nor cancelled.
        var live: Bool { closure != nil || target != nil }
    }

    struct Event {
        var time: Int64
        /// Sequence number << 2 | kind: 0 an action, 1 a network event (a packet in flight), 2 the head of a
        /// lane (`slot` is the lane).
        var seqKind: UInt64
        var slot: Int32
        /// The action slot's generation when scheduled: a cancelled action's event finds it changed.
        var generation: UInt32 = 0
        @inline(__always) func before(_ o: Event) -> Bool {
            time < o.time || (time == o.time && seqKind < o.seqKind)
        }
    }

    // Plain memory (RawVec: no uniqueness check or retain at each access), freed in deinit.
    private var heap = RawVec<Event>(capacity: 64)
    private var nextSeq: UInt64 = 0
    private var actions = RawVec<ActionSlot>(capacity: 64)
    private var freeActions = RawVec<Int32>(capacity: 64)
    public private(set) var now: Int64 = 0
    /// The running event's sequence number (shifted, with its kind in the low bits, as `Event.seqKind`).
    private(set) var currentSeqKind: UInt64 = 0
    public private(set) var eventsRun: Int = 0
    /// Lanes: actions whose times never decrease (a generator's Lambda timeouts: flows start in order and share
    /// the timeout). The heap holds only each lane's head, so a million flows' pending timeouts (most of them
    /// cancelled when their flow ends) cost a queue entry each, not a heap of a million.
    private struct Lane {
        var events = RawVec<Event>(capacity: 64)
        var head = 0
        /// Waiting events past which the lane drops its cancelled ones (`compact`).
        var compactAt = 4096
    }
    private var lanes = RawVec<Lane>(capacity: 8)

    /// Runs network events (packets in flight); set by the network that owns this scheduler.
    var network: Borrowed<VPCNetwork>?

    public init() {}

    deinit {
        heap.free()
        actions.free()
        freeActions.free()
        for l in 0..<lanes.count { lanes[l].events.free() }
        for b in 0..<far.count { far[b].free() }
        far.free()
        lanes.free()
        networkLanes.free()
        actionLanes.free()
    }

    public var pending: Int { heap.count + farCount }

    /// Events waiting in lanes, cancelled ones not yet dropped included (for tests).
    var laneEventsWaiting: Int { (0..<lanes.count).reduce(0) { $0 + lanes[$1].events.count - lanes[$1].head } }

    /// Actions due at or after `horizon` wait in `far`, a ring of buckets of 2^farShift ns each (16.8 ms) keyed
    /// by time, rather than in the heap: most of them are TCP timers cancelled before they are due, and a
    /// cancelled one is dropped when its bucket comes up without ever costing a sift. Everything due before
    /// `horizon` is in the heap, so the heap's first event is the next one whenever it is due before `horizon`;
    /// when it is not, the bucket at `horizon` moves into the heap (the heap orders by time and sequence, so the
    /// order of events never depends on where they waited). Actions further ahead than the ring goes go to the
    /// heap directly.
    private static let farShift: Int64 = 24
    private static let farBuckets = 4096
    /// Plain memory (an array of arrays checked both levels' uniqueness at every append): each bucket keeps up to
    /// `farKeptCapacity` events' room when emptied (3 MB at most for the ring; more is given back, so that memory
    /// follows what is pending).
    private var far: RawVec<RawVec<Event>> = {
        var f = RawVec<RawVec<Event>>(capacity: Scheduler.farBuckets)
        for _ in 0..<Scheduler.farBuckets { f.append(RawVec(capacity: 4)) }
        return f
    }()
    private static let farKeptCapacity = 32
    private var farCount = 0
    private var horizon: Int64 = 1 << Scheduler.farShift

    /// A scheduled action, to cancel it.
    public struct Handle: Sendable {
        var slot: Int32
        var generation: UInt32
    }

    /// Schedules `action` at absolute time `time` (never earlier than now).
    @discardableResult
    public func schedule(at time: Int64, _ action: @escaping Action) -> Handle {
        schedule(at: time, slot: store(closure: action, target: nil, tag: 0))
    }

    /// Schedules `target.fire(tag: tag)` at absolute time `time` (never earlier than now). The scheduler holds
    /// the target until the action runs or is cancelled.
    @discardableResult
    public func schedule(at time: Int64, target: ScheduledTarget, tag: Int) -> Handle {
        schedule(at: time, slot: store(closure: nil, target: target, tag: tag))
    }

    private func schedule(at time: Int64, slot stored: (slot: Int32, generation: UInt32)) -> Handle {
        let (slot, generation) = stored
        let e = Event(time: max(time, now), seqKind: nextSeq << 2, slot: slot, generation: generation)
        nextSeq &+= 1
        if e.time >= horizon, e.time - horizon < Int64(Scheduler.farBuckets) << Scheduler.farShift {
            far.pointer(Int(e.time >> Scheduler.farShift) & (Scheduler.farBuckets - 1)).pointee.append(e)
            farCount += 1
        } else {
            push(e)
        }
        return Handle(slot: slot, generation: generation)
    }

    /// Makes the heap's first event the next one to run: moves buckets from `far` while the heap's first is
    /// not due before `horizon`. False when no event is left.
    @inline(__always)
    private func ready() -> Bool {
        while true {
            if heap.count > 0, heap[0].time < horizon { return true }
            if farCount == 0 { return !heap.isEmpty }
            let b = Int(horizon >> Scheduler.farShift) & (Scheduler.farBuckets - 1)
            let bucket = far.pointer(b)
            if !bucket.pointee.isEmpty {
                farCount -= bucket.pointee.count
                for k in 0..<bucket.pointee.count {
                    let e = bucket.pointee.base[k]
                    let a = actions.pointer(Int(e.slot))
                    if a.pointee.generation == e.generation && a.pointee.live { push(e) }
                }
                if bucket.pointee.capacity > Scheduler.farKeptCapacity {
                    bucket.pointee.free()  // 4096 buckets would each hold their peak
                    bucket.pointee = RawVec(capacity: 4)
                } else {
                    bucket.pointee.removeAll()
                }
            }
            horizon += 1 << Scheduler.farShift
        }
    }

    /// Keeps an action in a free slot (or a new one); returns the slot and its generation.
    @inline(__always)
    private func store(closure: Action?, target: ScheduledTarget?, tag: Int) -> (slot: Int32, generation: UInt32) {
        if let s = freeActions.popLast() {
            let a = actions.pointer(Int(s))
            a.pointee.closure = closure
            a.pointee.target = target
            a.pointee.tag = tag
            return (s, a.pointee.generation)
        }
        actions.append(ActionSlot(closure: closure, target: target, tag: tag))
        return (Int32(actions.count - 1), 0)
    }

    /// A new lane for actions scheduled in nondecreasing time order.
    public func makeLane() -> Int {
        lanes.append(Lane())
        return lanes.count - 1
    }

    /// Schedules `action` in `lane`; one earlier than the lane's last goes to the heap (same order either way).
    @discardableResult
    public func schedule(lane l: Int, at time: Int64, _ action: @escaping Action) -> Handle {
        schedule(lane: l, at: time, slot: store(closure: action, target: nil, tag: 0))
    }

    /// Schedules `target.fire(tag: tag)` in `lane`, as `schedule(lane:at:_:)`.
    @discardableResult
    public func schedule(lane l: Int, at time: Int64, target: ScheduledTarget, tag: Int) -> Handle {
        schedule(lane: l, at: time, slot: store(closure: nil, target: target, tag: tag))
    }

    private func schedule(lane l: Int, at time: Int64, slot stored: (slot: Int32, generation: UInt32)) -> Handle {
        let t = max(time, now)
        if lanes[l].head < lanes[l].events.count, let last = lanes[l].events.last, last.time > t {
            return schedule(at: t, slot: stored)
        }
        let (slot, generation) = stored
        let e = Event(time: t, seqKind: nextSeq << 2, slot: slot, generation: generation)
        nextSeq &+= 1
        append(e, to: l)
        return Handle(slot: slot, generation: generation)
    }

    /// Appends `e` (no earlier than the lane's last) to lane `l`.
    @inline(__always)
    private func append(_ e: Event, to l: Int) {
        let lane = lanes.pointer(l)
        if lane.pointee.head == lane.pointee.events.count {
            // Empty: start over at the front and put this head in the heap.
            lane.pointee.events.removeAll()
            lane.pointee.head = 0
            lane.pointee.events.append(e)
            push(Event(time: e.time, seqKind: e.seqKind & ~3 | 2, slot: Int32(l)))
        } else {
            lane.pointee.events.append(e)
            if lane.pointee.events.count - lane.pointee.head >= lane.pointee.compactAt { compact(l) }
        }
    }

    /// Drops a lane's cancelled actions. A lane's events wait until its head is due, and a cancelled one with
    /// them: a generator's Lambda timeouts (15 minutes by default), nearly all cancelled when their flow ends
    /// within a second, would otherwise keep every flow's 24 bytes for 15 minutes of virtual time (216 MB for
    /// an hour of 10,000 flows a second), where memory should follow the open connections. The head stays
    /// (the heap holds its time); the rest keep their order. Amortized: the next compaction waits until the
    /// lane has doubled.
    @inline(never)
    private func compact(_ l: Int) {
        let lane = lanes.pointer(l)
        let events = lane.pointee.events.base
        var kept = lane.pointee.head + 1
        for i in kept..<lane.pointee.events.count {
            let e = events[i]
            if e.seqKind & 3 == 0 {
                let a = actions.pointer(Int(e.slot))
                guard a.pointee.generation == e.generation, a.pointee.live else { continue }
            }
            events[kept] = e
            kept += 1
        }
        lane.pointee.events.truncate(to: kept)
        lane.pointee.compactAt = max(4096, 2 * (kept - lane.pointee.head))
    }

    @discardableResult
    public func schedule(after delay: Int64, _ action: @escaping Action) -> Handle {
        schedule(at: now + delay, action)
    }

    /// Cancels an action that has not run: it is released at once (its event stays in the heap, 24 bytes,
    /// and is skipped). Cancelling one that ran or was cancelled does nothing.
    public func cancel(_ h: Handle) {
        let i = Int(h.slot)
        guard actions[i].generation == h.generation, actions[i].live else { return }
        release(i)
        freeActions.append(h.slot)
    }

    /// Lanes by delay: work done a fixed delay after now waits in that delay's lane, in the order it was
    /// scheduled, and the heap holds each lane's head only. Packets in flight arrive a fixed delay after they
    /// left (a VPC hop, a NAT gateway's processing, half a host's round trip); an endpoint acts a fixed delay
    /// after something happened (a message 100 µs after the peer's, a close 1 ms after the peer's).
    private struct DelayLanes {
        var delays = RawVec<Int64>(capacity: 32)
        var lanes = RawVec<Int>(capacity: 32)
        /// The lanes found, direct-mapped by the delay's hash (`cacheSize` entries; `Int64.min`: empty): a delay
        /// seen before finds its lane with one comparison instead of a scan of `delays`.
        var cachedDelay = RawVec<Int64>(capacity: DelayLanes.cacheSize)
        var cachedLane = RawVec<Int>(capacity: DelayLanes.cacheSize)
        static let cacheSize = 64
        init() {
            for _ in 0..<Self.cacheSize {
                cachedDelay.append(.min)
                cachedLane.append(0)
            }
        }
        @inline(__always) static func slot(_ delay: Int64) -> Int {
            Int(truncatingIfNeeded: (UInt64(bitPattern: delay) &* 0x9E37_79B9_7F4A_7C15) >> 58)
        }
        func free() {
            delays.free()
            lanes.free()
            cachedDelay.free()
            cachedLane.free()
        }
    }
    private var networkLanes = DelayLanes()
    private var actionLanes = DelayLanes()

    /// The lane for `delay` in `table`, made on first use; nil once a model has 32 distinct delays (the rest
    /// go to the heap).
    @inline(__always)
    private func lane(for delay: Int64, in table: inout DelayLanes) -> Int? {
        let c = DelayLanes.slot(delay)
        if table.cachedDelay[c] == delay { return table.cachedLane[c] }
        return findLane(for: delay, cache: c, in: &table)
    }

    @inline(never)
    private func findLane(for delay: Int64, cache c: Int, in table: inout DelayLanes) -> Int? {
        var k = 0
        while k < table.delays.count, table.delays[k] != delay { k += 1 }
        if k == table.delays.count {
            guard k < 32 else { return nil }
            table.delays.append(delay)
            table.lanes.append(makeLane())
        }
        table.cachedDelay.pointer(c).pointee = delay
        table.cachedLane.pointer(c).pointee = table.lanes[k]
        return table.lanes[k]
    }

    /// Schedules the network's packet in flight `slot` `delay` from now; with `seq` (from `drawSequence()`, earlier)
    /// in the place of an event scheduled when that number was drawn.
    @inline(__always)
    func scheduleNetwork(after delay: Int64, slot: Int32, seq reserved: UInt64 = .max) {
        let seq = reserved == .max ? drawSequence() : reserved
        let e = Event(time: now + max(delay, 0), seqKind: seq << 2 | 1, slot: slot)
        if let l = lane(for: delay, in: &networkLanes) {
            // A reserved number can be lower than that of the lane's last event due at the same time: then the
            // heap keeps the order.
            if reserved != .max, lanes[l].head < lanes[l].events.count, let last = lanes[l].events.last,
               last.time == e.time, last.seqKind > e.seqKind {
                push(e)
            } else {
                append(e, to: l)
            }
        } else {
            push(e)
        }
    }

    /// Schedules `target.fire(tag: tag)` `delay` from now, in the lane of that delay (the same order as
    /// `schedule(at: now + delay, target:tag:)`). Delays of 16.8 ms and more go to the buckets as usual.
    @discardableResult
    public func schedule(after delay: Int64, target: ScheduledTarget, tag: Int) -> Handle {
        let d = max(delay, 0)
        guard d < 1 << Scheduler.farShift, let l = lane(for: d, in: &actionLanes) else {
            return schedule(at: now + d, target: target, tag: tag)
        }
        return schedule(lane: l, at: now + d, target: target, tag: tag)
    }

    /// The most events the heap held at once (cancelled ones included), for the benchmark.
    public private(set) var peakPending = 0

    @inline(__always)
    private func push(_ e: Event) {
        heap.append(e)
        if heap.count > peakPending { peakPending = heap.count }
        let h = heap.base
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) >> 2
            guard e.before(h[parent]) else { break }
            h[i] = h[parent]
            i = parent
        }
        h[i] = e
    }

    @inline(__always)
    private func pop() -> Event? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        let top = heap[0]
        siftDown(last)
        return top
    }

    /// Puts `e` in the root's place and sifts it down (the root is gone: popped, or replaced by `e`).
    @inline(__always)
    private func siftDown(_ e: Event) {
        let h = heap.base
        let n = heap.count
        var i = 0
        while true {
            let l = 4 * i + 1
            if l >= n { break }
            var m = l
            let end = min(l + 4, n)
            var c = l + 1
            while c < end {
                if h[c].before(h[m]) { m = c }
                c += 1
            }
            guard h[m].before(e) else { break }
            h[i] = h[m]
            i = m
        }
        h[i] = e
    }

    /// Takes the heap's first event, the next to run (`ready()` was true). A lane's head gives way to the
    /// lane's next event in one sift (rather than a pop and a push), and the lane's event is returned.
    @inline(__always)
    private func next() -> Event {
        let top = heap[0]
        guard top.seqKind & 3 == 2 else { return pop()! }
        let l = Int(top.slot)
        let lane = lanes.pointer(l)
        let e = lane.pointee.events[lane.pointee.head]
        lane.pointee.head += 1
        if lane.pointee.head < lane.pointee.events.count {
            let following = lane.pointee.events[lane.pointee.head]
            siftDown(Event(time: following.time, seqKind: following.seqKind & ~3 | 2, slot: Int32(l)))
            if lane.pointee.head >= 4096, lane.pointee.head * 2 >= lane.pointee.events.count {
                lane.pointee.events.removeFirst(lane.pointee.head)
                lane.pointee.head = 0
            }
        } else {
            _ = pop()
        }
        return e
    }

    /// Takes the sequence number an event scheduled now would get: for work done ahead of its time that must keep
    /// that event's place in the order of events (`VPCNetwork`'s fused NAT departures).
    @inline(__always)
    func drawSequence() -> UInt64 {
        defer { nextSeq &+= 1 }
        return nextSeq
    }

    @inline(__always)
    private func fire(_ e: Event) {
        now = e.time
        currentSeqKind = e.seqKind
        if e.seqKind & 3 == 1 {
            eventsRun += 1
            network! { $0.fire(e.slot) }
            return
        }
        let a = actions.pointer(Int(e.slot))
        guard a.pointee.generation == e.generation, a.pointee.live else { return }
        let closure = a.pointee.closure.take()
        let target = a.pointee.target.take()
        let tag = a.pointee.tag
        a.pointee.generation &+= 1
        freeActions.append(e.slot)
        eventsRun += 1
        if let target { target.fire(tag: tag) } else { closure?() }
    }

    /// Empties action slot `i` (its closure or target released) and makes its pending event stale.
    @inline(__always)
    private func release(_ i: Int) {
        let a = actions.pointer(i)
        a.pointee.closure = nil
        a.pointee.target = nil
        a.pointee.generation &+= 1
    }

    /// Runs every event, calling `progress` every `every` events.
    public func run(progressEvery every: Int, _ progress: () -> Void) {
        var n = 0
        while ready() {
            fire(next())
            n += 1
            if n == every {
                n = 0
                progress()
            }
        }
    }

    /// Runs events in order until none remain or the next is after `limit`; then the work the network left for
    /// times up to `limit` (its fused NAT departures' counts and flow-log records), so that what it reports then
    /// is what the events up to `limit` did.
    public func run(until limit: Int64 = .max) {
        while ready(), heap[0].time <= limit {
            fire(next())
        }
        if limit < .max { runNetworkWork(upTo: limit) }
    }

    /// The network's work left for times up to `limit` (out of line: in `run(until:)` it kept the compiler from
    /// inlining `next()` into the loop, 900 instructions a flow).
    @inline(never)
    private func runNetworkWork(upTo limit: Int64) {
        if let n = network { n { $0.runDeferredDepartures(upTo: limit) } }
    }
}
