/// The discrete-event scheduler: integer-nanosecond virtual time; events at the same time run in the order
/// they were scheduled. Nothing here reads a clock.
public final class Scheduler {
    public typealias Action = () -> Void

    struct Event {
        var time: Int64
        var seq: UInt64
        var action: Action
        @inline(__always) func before(_ o: Event) -> Bool { time < o.time || (time == o.time && seq < o.seq) }
    }

    private var heap: [Event] = []
    private var nextSeq: UInt64 = 0
    public private(set) var now: Int64 = 0
    public private(set) var eventsRun: Int = 0

    public init() {}

    public var pending: Int { heap.count }

    /// Schedules `action` at absolute time `time` (never earlier than now).
    public func schedule(at time: Int64, _ action: @escaping Action) {
        let e = Event(time: max(time, now), seq: nextSeq, action: action)
        nextSeq &+= 1
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].before(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    public func schedule(after delay: Int64, _ action: @escaping Action) {
        schedule(at: now + delay, action)
    }

    private func pop() -> Event? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            let n = heap.count
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < n, heap[l].before(heap[m]) { m = l }
                if r < n, heap[r].before(heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top
    }

    /// Runs every event, calling `progress` every `every` events.
    public func run(progressEvery every: Int, _ progress: () -> Void) {
        var n = 0
        while let e = pop() {
            now = e.time
            eventsRun += 1
            e.action()
            n += 1
            if n == every {
                n = 0
                progress()
            }
        }
    }

    /// Runs events in order until none remain or the next is after `limit`.
    public func run(until limit: Int64 = .max) {
        while let first = heap.first, first.time <= limit, let e = pop() {
            now = e.time
            eventsRun += 1
            e.action()
        }
    }
}
