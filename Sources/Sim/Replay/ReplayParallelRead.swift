import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading a large flow-log file with more than one core: this thread reads (and inflates) the file in chunks
/// that end at a line break, worker threads split and parse the chunks' lines into records, and this thread counts
/// the records of each chunk in the file's order. The table, the unknown interfaces, the counters and every
/// error come out exactly as when one thread reads the file (`ReplayRecordsParallelTests` holds the two side by
/// side): a worker parses only the lines whose reading is plain — a record in the format in force, OK or
/// NODATA/SKIPDATA, IPv4 — and hands every other line (a header, an IPv6 record, anything that is an error) back
/// as a line for this thread to read the usual way, in its place.
///
/// A worker parses a chunk in the format in force when the chunk was handed out. A header met in a chunk (files
/// joined with `cat`) changes the format from there on: this thread then reads the rest of that chunk, and any
/// chunk handed out before it knew, itself.
///
/// The workers share nothing with this thread but raw memory (the chunks, their results, a mutex and two
/// conditions): release builds count references non-atomically (`-assume-single-threaded`), so no Swift object
/// may be touched by two threads.
extension ReplayRecords {
    /// Files at least this large are read with workers (smaller ones are done before threads would start).
    static var parallelBytes: Int { 8 << 20 }

    /// Worker threads for a large file: one less than the cores, at most 2, none on one core.
    static var workerCount: Int { min(2, ProcessInfo.processInfo.activeProcessorCount) }

    /// Reads `path` as `read(path:)` does, with `workers` threads parsing chunks of about `chunk` bytes.
    func readParallel(path: String, workers: Int, chunk: Int = FlowLogStream.chunk,
                      progress: ((Int) -> Void)? = nil) throws {
        var state = LineState(file: UInt32(files.count), path: path, only: nil)
        defer {
            state.free()
            countPending()
        }
        files.append(path)
        let source = try FlowLogSource(path: path)
        let pipeline = try ReplayPipeline(workers: max(1, workers), chunk: max(chunk, 64), known: knownInterfaces())
        defer { pipeline.stop() }
        let slots = pipeline.work.pointee.slots
        let slotCount = pipeline.work.pointee.slotCount
        var filled = 0, consumed = 0
        var lineBase = 0
        // The unfinished last line of the bytes read so far: the start of the next chunk.
        var carry = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
        var carryCapacity = 4096, carryCount = 0
        defer { carry.deallocate() }
        var failure: FlowLogSource.Failure?
        var end = false

        // Reads a chunk's lines from byte `from` on, numbering them from `first`, as `read(path:)` does; the
        // number of lines read.
        @discardableResult
        func serial(_ s: UnsafeMutablePointer<ReplaySlot>, from: Int, first: Int) throws -> Int {
            var n = first - 1
            let bytes = UnsafeBufferPointer(start: s.pointee.bytes + from, count: s.pointee.count - from)
            let left = try FlowLogParser.forEachLine(in: bytes, final: false) { line in
                n += 1
                try consume(line, n, &state)
            }
            if s.pointee.final, left > 0 {
                var e = bytes.count
                if bytes[e - 1] == 0x0D { e -= 1 }
                n += 1
                try consume(UnsafeBufferPointer(rebasing: bytes[(bytes.count - left)..<e]), n, &state)
            }
            return n - (first - 1)
        }

        // Counts the oldest chunk handed out, once parsed.
        func consumeOldest() throws {
            let s = slots + consumed % slotCount
            pipeline.waitParsed(s)
            defer {
                s.pointee.state = ReplaySlot.free
                consumed += 1
            }
            let base = lineBase
            lineBase += s.pointee.lines
            guard s.pointee.columns == state.columns else {
                try serial(s, from: 0, first: base + 1)
                return
            }
            let items = s.pointee.items
            let bytes = s.pointee.bytes
            for i in 0..<s.pointee.itemCount {
                let it = items[i]
                let line = base + Int(it.line)
                switch it.kind {
                case ReplayItem.record:
                    records += 1
                    var key = it.key
                    if key.eni == Int32.min {
                        let f = UnsafeBufferPointer(start: bytes + Int(it.offset), count: Int(it.length))
                        key.eni = try interface(f) {
                            Problem(path: path, line: line, message: "interface-id '\(String(decoding: f, as: UTF8.self))' does not start with eni-")
                        }
                    }
                    add(key, Counts(accept: it.accept ? 1 : 0, reject: it.accept ? 0 : 1, flags: it.flags, file: state.file,
                                    line: UInt32(truncatingIfNeeded: line)))
                case ReplayItem.noData:
                    records += 1
                    noData += 1
                default:
                    let before = state.columns
                    try consume(UnsafeBufferPointer(start: bytes + Int(it.offset), count: Int(it.length)), line, &state)
                    if state.columns != before {
                        // A header: the rest of the chunk is in another format than the worker read it in.
                        var next = Int(it.offset) + Int(it.length)
                        while next < s.pointee.count, bytes[next] != 0x0A { next += 1 }
                        try serial(s, from: min(next + 1, s.pointee.count), first: line + 1)
                        return
                    }
                }
            }
        }

        while !end {
            if filled - consumed == slotCount {
                try consumeOldest()
                continue
            }
            let s = slots + filled % slotCount
            if s.pointee.capacity < carryCount + chunk { s.pointee.grow(to: carryCount + chunk, keeping: 0) }
            s.pointee.bytes.update(from: carry, count: carryCount)
            var count = carryCount
            var lastBreak = -1
            // Fill until the chunk holds a line break (a line longer than a chunk grows it), or the file ends.
            while lastBreak < 0 {
                if s.pointee.capacity - count < chunk { s.pointee.grow(to: 2 * s.pointee.capacity, keeping: count) }
                let n: Int
                do { n = try source.fill(s.pointee.bytes + count, chunk) } catch {
                    failure = error
                    end = true
                    break
                }
                progress?(source.bytesRead)
                if n == 0 {
                    end = true
                    break
                }
                // The last line break (a line is a hundred bytes or so from the end).
                var k = count + n - 1
                while k >= count, s.pointee.bytes[k] != 0x0A { k -= 1 }
                if k >= count { lastBreak = k }
                count += n
            }
            // At the end of a file read whole, the last line (without a line break) is the chunk's too; a file
            // that could not be read to its end stops at its last whole line.
            let chunkEnd = end && failure == nil ? count : lastBreak + 1
            carryCount = count - chunkEnd
            if carryCount > carryCapacity {
                carry.deallocate()
                carryCapacity = carryCount
                carry = .allocate(capacity: carryCapacity)
            }
            carry.update(from: s.pointee.bytes + chunkEnd, count: carryCount)
            s.pointee.count = chunkEnd
            s.pointee.final = end && failure == nil
            if chunkEnd == 0 { continue }
            if let c = state.columns {
                s.pointee.columns = c
                pipeline.handOut(s)
                filled += 1
            } else {
                // The format is not known before the first line is read: read here until it is (nothing
                // is handed out before, so the order holds).
                lineBase += try serial(s, from: 0, first: lineBase + 1)
            }
        }
        while consumed < filled { try consumeOldest() }
        if let f = failure { throw Problem(path: path, line: f.atLine ? lineBase + 1 : nil, message: f.message) }
    }

    /// The known interfaces as the workers read them: raw memory, no Swift object.
    private func knownInterfaces() -> ReplayKnownInterfaces {
        ReplayKnownInterfaces(knownIDs.map { ($0.bytes, $0.eni) })
    }
}

/// One record of a chunk as a worker read it, or a line it leaves to the counting thread.
struct ReplayItem {
    static let record: UInt8 = 0, noData: UInt8 = 1, line: UInt8 = 2
    var key: ReplayRecords.Key
    /// Line number within the chunk (1-based).
    var line: UInt32
    /// `line`: the line's bytes; `record` with `key.eni == Int32.min`: the interface-id (not a known ENI).
    var offset: UInt32
    var length: UInt32
    var kind: UInt8
    var accept: Bool
    var flags: UInt8
}

/// A chunk of the file and what a worker made of it; raw memory only.
struct ReplaySlot {
    static let free = 0, ready = 1, parsing = 2, parsed = 3
    var bytes: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var count = 0
    /// The file's last chunk: its last line may lack a line break.
    var final = false
    var columns: ReplayRecords.Columns
    var items: UnsafeMutablePointer<ReplayItem>
    var itemCapacity: Int
    var itemCount = 0
    var lines = 0
    var state = ReplaySlot.free
    let starts: UnsafeMutablePointer<Int>
    let ends: UnsafeMutablePointer<Int>

    /// Makes room for `size` bytes, keeping the first `keeping`.
    mutating func grow(to size: Int, keeping: Int) {
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        b.update(from: bytes, count: min(keeping, size))
        bytes.deallocate()
        bytes = b
        capacity = size
    }
}

/// The interfaces the model knows, by the FNV hash of their ids (as `ReplayRecords.known` holds them).
struct ReplayKnownInterfaces {
    private let hashes: UnsafeMutablePointer<UInt64>
    /// ENI + 1 (0: an empty place).
    private let enis: UnsafeMutablePointer<Int32>
    private let ids: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>>
    private let lengths: UnsafeMutablePointer<Int>
    private let mask: Int

    init(_ known: [(bytes: [UInt8], eni: Int32)]) {
        var size = 8
        while size < 2 * known.count { size <<= 1 }
        mask = size - 1
        hashes = .allocate(capacity: size)
        hashes.initialize(repeating: 0, count: size)
        enis = .allocate(capacity: size)
        enis.initialize(repeating: 0, count: size)
        ids = .allocate(capacity: size)
        lengths = .allocate(capacity: size)
        lengths.initialize(repeating: 0, count: size)
        for (bytes, eni) in known {
            let h = ReplayRecords.hash(bytes)
            var i = Int(truncatingIfNeeded: h) & mask
            while enis[i] != 0 { i = (i + 1) & mask }
            hashes[i] = h
            enis[i] = eni + 1
            let b = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            b.initialize(from: bytes, count: bytes.count)
            (ids + i).initialize(to: b)
            lengths[i] = bytes.count
        }
    }

    /// The ENI of an interface id, if known.
    @inline(__always)
    func find(_ f: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = ReplayRecords.hash(f)
        var i = Int(truncatingIfNeeded: h) & mask
        while enis[i] != 0 {
            if hashes[i] == h {
                guard lengths[i] == f.count, memcmp(ids[i], f.baseAddress!, f.count) == 0 else { return nil }
                return enis[i] - 1
            }
            i = (i + 1) & mask
        }
        return nil
    }

    func free() {
        for i in 0...mask where enis[i] != 0 { ids[i].deallocate() }
        hashes.deallocate()
        enis.deallocate()
        ids.deallocate()
        lengths.deallocate()
    }
}

/// What the reading thread and the workers share (raw memory).
struct ReplayWork {
    var mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Signalled when a chunk is handed out (or the workers are to stop).
    var ready: UnsafeMutablePointer<pthread_cond_t>
    /// Signalled when a chunk is parsed.
    var parsed: UnsafeMutablePointer<pthread_cond_t>
    var slots: UnsafeMutablePointer<ReplaySlot>
    var slotCount: Int
    /// Chunks handed out and chunks taken by a worker, since the start.
    var handedOut = 0
    var taken = 0
    var stopping = false
    var known: ReplayKnownInterfaces
}

/// The worker threads and their chunks.
final class ReplayPipeline {
    let work: UnsafeMutablePointer<ReplayWork>
    private var threads: [pthread_t] = []

    init(workers: Int, chunk: Int, known: ReplayKnownInterfaces) throws {
        let slotCount = 4 * workers
        let slots = UnsafeMutablePointer<ReplaySlot>.allocate(capacity: slotCount)
        let columns = try ReplayRecords.Columns(ReplayRecords.Columns.needed, path: "", line: 0)
        for i in 0..<slotCount {
            let items = max(64, chunk / 64)
            (slots + i).initialize(to: ReplaySlot(bytes: .allocate(capacity: 2 * chunk), capacity: 2 * chunk, columns: columns,
                                                  items: .allocate(capacity: items), itemCapacity: items,
                                                  starts: .allocate(capacity: 64), ends: .allocate(capacity: 64)))
        }
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let ready = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        let parsed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(ready, nil)
        pthread_cond_init(parsed, nil)
        work = .allocate(capacity: 1)
        work.initialize(to: ReplayWork(mutex: mutex, ready: ready, parsed: parsed, slots: slots, slotCount: slotCount,
                                       known: known))
        for _ in 0..<workers {
            var t = pthread_t()
            let status = pthread_create(&t, nil, { arg in
                replayWorker(arg!.assumingMemoryBound(to: ReplayWork.self))
                return nil
            }, UnsafeMutableRawPointer(work))
            guard status == 0 else {
                stop()
                throw FlowLogFileError(path: "", message: "cannot start a thread to read flow logs: \(String(cString: strerror(status)))")
            }
            threads.append(t)
        }
    }

    /// Gives a filled chunk to the workers.
    func handOut(_ s: UnsafeMutablePointer<ReplaySlot>) {
        pthread_mutex_lock(work.pointee.mutex)
        s.pointee.state = ReplaySlot.ready
        work.pointee.handedOut += 1
        pthread_cond_signal(work.pointee.ready)
        pthread_mutex_unlock(work.pointee.mutex)
    }

    /// Waits until a worker has parsed `s`.
    func waitParsed(_ s: UnsafeMutablePointer<ReplaySlot>) {
        pthread_mutex_lock(work.pointee.mutex)
        while s.pointee.state != ReplaySlot.parsed { pthread_cond_wait(work.pointee.parsed, work.pointee.mutex) }
        pthread_mutex_unlock(work.pointee.mutex)
    }

    /// Stops the workers (once the chunks handed out are parsed) and frees everything. Idempotent.
    func stop() {
        guard work.pointee.slotCount > 0 else { return }
        pthread_mutex_lock(work.pointee.mutex)
        work.pointee.stopping = true
        pthread_cond_broadcast(work.pointee.ready)
        pthread_mutex_unlock(work.pointee.mutex)
        for t in threads { pthread_join(t, nil) }
        threads = []
        let w = work.pointee
        for i in 0..<w.slotCount {
            let s = w.slots[i]
            s.bytes.deallocate()
            s.items.deallocate()
            s.starts.deallocate()
            s.ends.deallocate()
        }
        w.slots.deallocate()
        w.known.free()
        pthread_mutex_destroy(w.mutex)
        pthread_cond_destroy(w.ready)
        pthread_cond_destroy(w.parsed)
        w.mutex.deallocate()
        w.ready.deallocate()
        w.parsed.deallocate()
        work.pointee.slotCount = 0
    }

    deinit {
        stop()
        work.deallocate()
    }
}

/// A worker: takes the chunks in the order they were handed out and parses each.
private func replayWorker(_ w: UnsafeMutablePointer<ReplayWork>) {
    while true {
        pthread_mutex_lock(w.pointee.mutex)
        while w.pointee.taken == w.pointee.handedOut, !w.pointee.stopping {
            pthread_cond_wait(w.pointee.ready, w.pointee.mutex)
        }
        if w.pointee.taken == w.pointee.handedOut {
            pthread_mutex_unlock(w.pointee.mutex)
            return
        }
        let s = w.pointee.slots + w.pointee.taken % w.pointee.slotCount
        w.pointee.taken += 1
        s.pointee.state = ReplaySlot.parsing
        pthread_mutex_unlock(w.pointee.mutex)
        parseChunk(s, w.pointee.known)
        pthread_mutex_lock(w.pointee.mutex)
        s.pointee.state = ReplaySlot.parsed
        pthread_cond_signal(w.pointee.parsed)
        pthread_mutex_unlock(w.pointee.mutex)
    }
}

/// Splits a chunk into lines and reads each plain record as `ReplayRecords.record` does; any other line becomes
/// an item of kind `line`, for the counting thread to read.
private func parseChunk(_ s: UnsafeMutablePointer<ReplaySlot>, _ known: ReplayKnownInterfaces) {
    let base = s.pointee.bytes
    let count = s.pointee.count
    let c = s.pointee.columns
    let starts = s.pointee.starts, ends = s.pointee.ends
    var items = s.pointee.items
    var capacity = s.pointee.itemCapacity
    var n = 0
    var lineNumber: UInt32 = 0
    var position = 0

    @inline(__always) func add(_ item: ReplayItem) {
        if n == capacity {
            let bigger = UnsafeMutablePointer<ReplayItem>.allocate(capacity: 2 * capacity)
            bigger.moveInitialize(from: items, count: n)
            items.deallocate()
            items = bigger
            capacity *= 2
        }
        items[n] = item
        n += 1
    }
    @inline(__always) func dash(_ k: Int) -> Bool { ends[k] - starts[k] == 1 && base[starts[k]] == 0x2D }
    @inline(__always) func field(_ k: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + starts[k], count: ends[k] - starts[k])
    }
    @inline(__always) func word(_ k: Int, _ w: StaticString) -> Bool {
        ends[k] - starts[k] == w.utf8CodeUnitCount && memcmp(base + starts[k], w.utf8Start, w.utf8CodeUnitCount) == 0
    }

    while position < count {
        let lineStart = position
        var lineEnd: Int
        if let nl = memchr(base + position, 0x0A, count - position) {
            lineEnd = UnsafeMutableRawPointer(base).distance(to: nl)
            position = lineEnd + 1
        } else {
            lineEnd = count
            position = count
        }
        if lineEnd > lineStart, base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        lineNumber += 1
        let fields = ReplayRecords.splitFields(base, lineStart, lineEnd, starts, ends)
        if fields == 0 { continue }  // an empty line, or blanks
        let asLine = ReplayItem(key: ReplayRecords.Key(eni: 0, proto: 0, source: 0, destination: 0, sourcePort: 0, destinationPort: 0),
                                line: lineNumber, offset: UInt32(truncatingIfNeeded: lineStart),
                                length: UInt32(truncatingIfNeeded: lineEnd - lineStart), kind: ReplayItem.line, accept: false, flags: 0)
        // A line of field names (a header) starts with a lower-case letter and has only [a-z-] in its fields.
        let first = base[starts[0]]
        if first >= 0x61, first <= 0x7A {
            var header = fields <= 64
            var k = 0
            while header, k < fields {
                let b0 = base[starts[k]]
                header = b0 >= 0x61 && b0 <= 0x7A
                var j = starts[k]
                while header, j < ends[k] {
                    let b = base[j]
                    header = (b >= 0x61 && b <= 0x7A) || b == 0x2D
                    j += 1
                }
                k += 1
            }
            if header || fields > 64 { add(asLine); continue }
        }
        guard fields == c.count else { add(asLine); continue }
        var noData = ReplayItem(key: asLine.key, line: lineNumber, offset: 0, length: 0, kind: ReplayItem.noData, accept: false, flags: 0)
        if c.logStatus >= 0, !word(c.logStatus, "OK") {
            if word(c.logStatus, "NODATA") || word(c.logStatus, "SKIPDATA") || dash(c.logStatus) { add(noData) } else { add(asLine) }
            continue
        }
        let accept: Bool
        if word(c.action, "ACCEPT") {
            accept = true
        } else if word(c.action, "REJECT") {
            accept = false
        } else {
            if dash(c.action) { add(noData) } else { add(asLine) }
            continue
        }
        if dash(c.source) || dash(c.destination) || dash(c.interface) || dash(c.proto) {
            add(noData)
            continue
        }
        guard let proto = ReplayRecords.number(field(c.proto)), proto <= 255 else { add(asLine); continue }
        var sp: UInt64 = 0, dp: UInt64 = 0, flags: UInt64 = 0
        if !dash(c.sourcePort) {
            guard let v = ReplayRecords.number(field(c.sourcePort)), v <= 65535 else { add(asLine); continue }
            sp = v
        }
        if !dash(c.destinationPort) {
            guard let v = ReplayRecords.number(field(c.destinationPort)), v <= 65535 else { add(asLine); continue }
            dp = v
        }
        if c.tcpFlags >= 0, !dash(c.tcpFlags) {
            guard let v = ReplayRecords.number(field(c.tcpFlags)), v <= 0xFFFF else { add(asLine); continue }
            flags = v
        }
        guard let source = ReplayRecords.ipv4(field(c.source)), let destination = ReplayRecords.ipv4(field(c.destination)) else {
            add(asLine)
            continue
        }
        let iface = field(c.interface)
        guard iface.count > 4, iface[0] == 0x65, iface[1] == 0x6E, iface[2] == 0x69, iface[3] == 0x2D else {  // "eni-"
            add(asLine)
            continue
        }
        noData.kind = ReplayItem.record
        noData.accept = accept
        noData.flags = UInt8(truncatingIfNeeded: flags)
        noData.key = ReplayRecords.Key(eni: known.find(iface) ?? Int32.min, proto: UInt8(proto), source: source,
                                       destination: destination, sourcePort: UInt16(sp), destinationPort: UInt16(dp))
        if noData.key.eni == Int32.min {
            noData.offset = UInt32(truncatingIfNeeded: starts[c.interface])
            noData.length = UInt32(truncatingIfNeeded: iface.count)
        }
        add(noData)
    }
    s.pointee.items = items
    s.pointee.itemCapacity = capacity
    s.pointee.itemCount = n
    s.pointee.lines = Int(lineNumber)
}
