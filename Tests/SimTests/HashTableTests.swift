import Packets
import Testing
@testable import Sim

/// A key whose hash puts many keys in the same bucket, to exercise probing and backward-shift deletion.
private struct Crowded: TableKey, Hashable {
    var v: UInt64
    var tableHash: UInt64 { v % 7 }
}

/// A timer target that records when each tag fired.
private final class Recorder: ScheduledTarget {
    unowned let s: Scheduler
    var fired: [(time: Int64, tag: Int)] = []
    init(_ s: Scheduler) { self.s = s }
    func fire(tag: Int) { fired.append((s.now, tag)) }
}

/// The engine's own containers: HashTable against Dictionary, the scheduler's order against a sort.
@Suite struct EngineContainerTests {
    /// Random inserts, updates and removals, checked against Dictionary after every step.
    private func check<K: TableKey & Hashable>(_ make: (UInt64) -> K, range: UInt64, steps: Int) {
        var rng = SplitMix64(seed: 42)
        let table = HashTable<K, Int>()
        var reference: [K: Int] = [:]
        var mismatches = 0
        for step in 0..<steps {
            let k = make(rng.next() % range)
            switch rng.next() % 3 {
            case 0, 1:
                table[k] = step
                reference[k] = step
            default:
                if table.removeValue(forKey: k) != reference.removeValue(forKey: k) { mismatches += 1 }
            }
            let probe = make(rng.next() % range)
            if table.count != reference.count || table[probe] != reference[probe] { mismatches += 1 }
        }
        #expect(mismatches == 0)
        var seen = 0
        table.forEach { k, v in
            #expect(reference[k] == v)
            seen += 1
        }
        #expect(seen == reference.count)
        table.removeAll()
        #expect(table.isEmpty)
        #expect(reference.keys.allSatisfy { table[$0] == nil })
    }

    @Test func hashTableMatchesDictionaryWithSpreadKeys() {
        check({ $0 << 32 | $0 }, range: 5_000, steps: 40_000)
    }

    /// Past 4 MiB the slots move to memory aligned for huge pages, freed by another call: growing across that
    /// size, removing and dropping the table keep every entry.
    @Test func hashTableMatchesDictionaryInHugePageMemory() {
        check({ $0 &* 0x9E37_79B9 }, range: 400_000, steps: 700_000)
    }

    @Test func hashTableMatchesDictionaryWhenKeysCollide() {
        check({ Crowded(v: $0) }, range: 300, steps: 20_000)
    }

    /// Values with references are released when removed and when the table goes.
    @Test func hashTableReleasesValues() {
        final class Box {}
        weak var gone: Box?
        weak var kept: Box?
        var table: HashTable<Int, Box>? = HashTable()
        do {
            let a = Box(), b = Box()
            gone = a
            kept = b
            table![1] = a
            table![2] = b
        }
        table!.removeValue(forKey: 1)
        #expect(gone == nil)
        #expect(kept != nil)
        table = nil
        #expect(kept == nil)
    }

    @Test func portSet() {
        var s = PortSet()
        #expect(!s.contains(22))
        s.insert(22)
        s.insert(65535)
        s.insert(0)
        #expect(s.contains(22) && s.contains(65535) && s.contains(0) && !s.contains(23))
        s.remove(22)
        #expect(!s.contains(22) && s.contains(65535))
    }

    /// Actions near and far ahead (the heap and the ring of time buckets), some cancelled, some scheduled
    /// from running actions, run in (time, order scheduled) order, and cancelled ones never run.
    @Test func schedulerRunsInTimeThenScheduleOrder() {
        let s = Scheduler()
        var rng = SplitMix64(seed: 7)
        var ran: [(time: Int64, seq: Int)] = []
        var expected: [(time: Int64, seq: Int)] = []
        var seq = 0
        func add(at t: Int64) {
            let mine = seq
            seq += 1
            let h = s.schedule(at: t) { ran.append((s.now, mine)) }
            if rng.next() % 4 == 0 {
                s.cancel(h)
            } else {
                expected.append((t, mine))
            }
        }
        // From 0 to 150 s: the heap, the ring of buckets (68.7 s from the horizon) and past it.
        for _ in 0..<2_000 { add(at: Int64(rng.next() % 150_000_000_000)) }
        // Ties: several at the same instant run in the order scheduled.
        for _ in 0..<5 { add(at: 42_000_000_000) }
        s.run()
        #expect(ran.count == expected.count)
        let sorted = expected.sorted { $0.time != $1.time ? $0.time < $1.time : $0.seq < $1.seq }
        #expect(ran.map(\.seq) == sorted.map(\.seq))
        #expect(ran.map(\.time) == sorted.map(\.time))
    }

    /// Targets (`fire(tag:)`, a timer without a closure) and closures, in the heap, the buckets, a lane and
    /// the lanes by delay,
    /// run in one (time, order scheduled) order; a cancelled target never fires; the scheduler lets go of a
    /// target once it fired or was cancelled.
    @Test func schedulerRunsTargetsAndClosuresInOneOrder() {
        final class Probe: ScheduledTarget {
            func fire(tag: Int) {}
        }
        let s = Scheduler()
        let lane = s.makeLane()
        let r = Recorder(s)
        var rng = SplitMix64(seed: 5)
        var closureRan: [(time: Int64, tag: Int)] = []
        var expected: [(time: Int64, tag: Int)] = []
        var laneTime: Int64 = 0
        for tag in 0..<3_000 {
            let kind = rng.next() % 4
            var t = Int64(rng.next() % 100_000_000_000)
            let h: Scheduler.Handle
            switch kind {
            case 0: h = s.schedule(at: t, target: r, tag: tag)
            case 3:
                // A delay's lane (100 µs, 1 ms), or the buckets (50 ms): now is 0, so `after` is the time.
                t = [100_000, 1_000_000, 50_000_000][Int(rng.next() % 3)]
                h = s.schedule(after: t, target: r, tag: tag)
            case 1:
                laneTime += Int64(rng.next() % 50_000_000)
                t = laneTime
                h = s.schedule(lane: lane, at: t, target: r, tag: tag)
            default: h = s.schedule(at: t) { closureRan.append((s.now, tag)) }
            }
            if rng.next() % 4 == 0 { s.cancel(h) } else { expected.append((t, tag)) }
        }
        weak var ranProbe: Probe?
        weak var cancelledProbe: Probe?
        do {
            let p1 = Probe(), p2 = Probe()
            ranProbe = p1
            cancelledProbe = p2
            s.schedule(at: 1, target: p1, tag: 0)
            s.cancel(s.schedule(at: 90_000_000_000, target: p2, tag: 0))
        }
        #expect(cancelledProbe == nil)
        #expect(ranProbe != nil)
        s.run()
        #expect(ranProbe == nil)
        let all = (r.fired + closureRan).sorted { $0.time != $1.time ? $0.time < $1.time : $0.tag < $1.tag }
        let want = expected.sorted { $0.time != $1.time ? $0.time < $1.time : $0.tag < $1.tag }
        #expect(all.map(\.tag) == want.map(\.tag))
        #expect(all.map(\.time) == want.map(\.time))
        // Within one instant, the order scheduled: tags increase (the recorder saw them as they fired).
        #expect(zip(r.fired, r.fired.dropFirst()).allSatisfy { $0.time < $1.time || ($0.time == $1.time && $0.tag < $1.tag) })
    }

    /// A lane of timers nearly all cancelled (a generator's Lambda timeouts): the cancelled ones are dropped as
    /// the lane grows, so it holds about what is live, and the live ones still run in order at their times.
    @Test func laneDropsCancelledTimers() {
        let s = Scheduler()
        let lane = s.makeLane()
        let r = Recorder(s)
        var kept: [(time: Int64, tag: Int)] = []
        var most = 0
        for tag in 0..<200_000 {
            let t = 900_000_000_000 + Int64(tag) * 100_000
            let h = s.schedule(lane: lane, at: t, target: r, tag: tag)
            if tag % 100 == 0 { kept.append((t, tag)) } else { s.cancel(h) }
            most = max(most, s.laneEventsWaiting)
        }
        // 2,000 live at the end; without dropping, all 200,000 would wait.
        #expect(most <= 8_192)
        #expect(s.laneEventsWaiting < 4_100)
        s.run()
        #expect(r.fired.map(\.tag) == kept.map(\.tag))
        #expect(r.fired.map(\.time) == kept.map(\.time))
        #expect(s.laneEventsWaiting == 0)
    }

    /// Actions scheduled while running, some cancelled by later ones, against a reference list.
    @Test func schedulerInterleavesActionsScheduledWhileRunning() {
        let s = Scheduler()
        var rng = SplitMix64(seed: 11)
        var log: [Int] = []
        var pending: [(handle: Scheduler.Handle, id: Int, time: Int64)] = []
        var next = 0
        func spawn() {
            let id = next
            next += 1
            let t = s.now + Int64(rng.next() % 30_000_000_000)
            let h = s.schedule(at: t) {
                log.append(id)
                #expect(s.now == t)
                if next < 5_000 { spawn(); spawn() }
                // Cancel a random pending one (it may have run already: then nothing happens).
                if !pending.isEmpty, rng.next() % 3 == 0 {
                    let k = Int(rng.next() % UInt64(pending.count))
                    s.cancel(pending[k].handle)
                }
            }
            pending.append((h, id, t))
        }
        spawn()
        s.run()
        // Every action ran at its time (checked inside), in nondecreasing time, each at most once.
        #expect(Set(log).count == log.count)
        let times = log.map { pending[$0].time }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(log.count > 1_000)
    }

    /// AddressMap remembers its last lookup: repeated and alternating lookups, found or not, give what a
    /// Dictionary gives, and a change after a lookup (of the remembered address or another) is seen at once.
    @Test func addressMapAnswersAsADictionaryWhateverItRemembers() {
        let m = AddressMap<Int>()
        var d: [IPv4Address: Int] = [:]
        var rng = SplitMix64(seed: 4)
        for k in 0..<20_000 {
            let a = IPv4Address(rawValue: UInt32(truncatingIfNeeded: rng.next() % 40))
            switch k % 9 {
            case 0:
                m[a] = k
                d[a] = k
            case 1:
                m[a] = nil
                d[a] = nil
            default:
                #expect(m[a] == d[a])
                #expect(m[a] == d[a])  // now remembered
            }
        }
        #expect(m.count == d.count)
        let missing = IPv4Address(10, 9, 9, 9)
        #expect(m[missing] == nil)
        m[missing] = 7  // the remembered miss is forgotten
        #expect(m[missing] == 7)
    }
}
