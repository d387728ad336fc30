import Foundation
import Packets

/// The records of flow-log files, read for `vpcsim replay`: each line's interface, 5-tuple, action and TCP flags
/// taken from its bytes (no string is made for a record), and counted per interface and 5-tuple. Memory follows
/// the distinct (interface, 5-tuple) pairs, never the number of lines.
///
/// Formats: a file whose first line is field names (`version account-id …`, as AWS's examples and
/// `vpcsim run`'s flow-logs.txt have) is read in that format; a file without one in `format` (the default
/// version 2 format unless `--format` gives the custom format the logs were made with). A line that does not
/// fit its format is an error naming the file and line: replaying a log that is not what it seems would give
/// verdicts about something else.
public final class ReplayRecords {
    /// One interface and 5-tuple, as logged.
    struct Key: TableKey {
        /// Index into the model's ENIs, or `-1 - k` for the k-th interface not in the network.
        var eni: Int32
        var proto: UInt8
        var source: UInt32
        var destination: UInt32
        var sourcePort: UInt16
        var destinationPort: UInt16
        @inline(__always) var tableHash: UInt64 {
            (UInt64(source) << 32 | UInt64(destination))
                ^ (UInt64(sourcePort) << 48 | UInt64(destinationPort) << 32 | UInt64(proto) << 24 | UInt64(UInt32(bitPattern: eni)))
                &* 0x9E37_79B9_7F4A_7C15
        }
    }

    /// What was logged for one key.
    struct Counts {
        var accept: UInt32
        var reject: UInt32
        /// The records' tcp-flags, OR-ed (0 when the format has none).
        var flags: UInt8
        /// The first record's file (index into `files`) and line.
        var file: UInt32
        var line: UInt32
    }

    /// A flow log that cannot be replayed: `file:line: problem`.
    public typealias Problem = FlowLogFileError

    let eniIndex: [String: Int]
    let defaultFields: [String]
    public internal(set) var files: [String] = []
    let table = HashTable<Key, Counts>(capacity: 1 << 12)
    /// Interfaces not in the network, in the order first seen, with their record counts.
    public private(set) var unknownInterfaces: [(id: String, records: Int)] = []
    private var unknownByID: [String: Int] = [:]
    /// Records read, and those without data (NODATA, SKIPDATA, "-" where a value is needed).
    public internal(set) var records = 0
    public internal(set) var noData = 0
    /// IPv6 records, by count (replayed as the IPv4 ones: their addresses are `IPv6Token`s in the keys).
    public private(set) var ipv6 = 0
    /// The token of each IPv6 address read so far: a record's addresses are found here without the process-wide
    /// token table's lock, which only an address's first record takes (`IPv6Token.intern`).
    private let tokens6 = HashTable<Address6, UInt32>(capacity: 64)
    /// The IPv6 address of each token `token(_:)` gave, for the replay's questions about a connection's ends
    /// (asked per connection, not per record), again without the lock.
    private(set) var addresses6: [UInt32: IPv6Address] = [:]

    struct Address6: TableKey {
        var high: UInt64
        var low: UInt64
        @inline(__always) var tableHash: UInt64 { (high &* 0x9E37_79B9_7F4A_7C15) ^ low }
    }
    /// ENI ids known by their bytes' hash (`eniIndex` through it without making a String per line).
    private let known = HashTable<HashKey, Int32>(capacity: 64)
    private(set) var knownIDs: [(bytes: [UInt8], eni: Int32)] = []
    private var unknownBytes: [[UInt8]] = []
    private var lastUnknown: (hash: UInt64, index: Int32)?

    struct HashKey: TableKey {
        var hash: UInt64
        var tableHash: UInt64 { hash }
    }

    /// `interfaces`: each interface id the records may name and the model ENI it stands for.
    init(interfaces: [String: Int], format: [String]) {
        eniIndex = interfaces
        defaultFields = format
        for (id, e) in interfaces.sorted(by: { $0.key < $1.key }) {
            let bytes = Array(id.utf8)
            let h = Self.hash(bytes)
            if known.find(HashKey(hash: h)) == nil {
                known.insert(HashKey(hash: h), Int32(knownIDs.count))
                knownIDs.append((bytes, Int32(e)))
            }
        }
    }

    @inline(__always)
    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01B3
        }
        return h
    }

    /// The columns replay reads, by index in a format's fields.
    struct Columns: Equatable {
        var count: Int
        var interface: Int
        var source: Int
        var destination: Int
        var sourcePort: Int
        var destinationPort: Int
        var proto: Int
        var action: Int
        var logStatus: Int
        var tcpFlags: Int

        static let needed = ["interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "action"]

        init(_ fields: [String], path: String, line: Int) throws(Problem) {
            for f in Self.needed where !fields.contains(f) {
                throw Problem(path: path, line: line,
                              message: "the format has no \(f) field (replay needs \(Self.needed.joined(separator: ", ")))")
            }
            func at(_ f: String) -> Int { fields.firstIndex(of: f) ?? -1 }
            count = fields.count
            interface = at("interface-id")
            source = at("srcaddr")
            destination = at("dstaddr")
            sourcePort = at("srcport")
            destinationPort = at("dstport")
            proto = at("protocol")
            action = at("action")
            logStatus = at("log-status")
            tcpFlags = at("tcp-flags")
        }
    }

    /// Reads `path`, adding its records. `progress`: bytes of the file read so far. `only`: the one line wanted
    /// (its file's header read too); an error when the file has no such record.
    func read(path: String, only: Int? = nil, progress: ((Int) -> Void)? = nil) throws {
        if only == nil, Self.workerCount >= 2,
           let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size >= Self.parallelBytes {
            return try readParallel(path: path, workers: Self.workerCount, progress: progress)
        }
        var lines = 0
        var state = LineState(file: UInt32(files.count), path: path, only: only)
        defer {
            state.free()
            countPending()
        }
        files.append(path)
        try FlowLogStream.forEachLine(path: path, progress: progress) { n, line in
            lines = n
            try consume(line, n, &state)
        }
        if let only, !state.found {
            throw Problem(path: path, line: only, message: lines < only ? "the file has \(lines) line\(lines == 1 ? "" : "s")"
                          : "not a record (a header or an empty line)")
        }
    }

    /// Reads one record given as text (in `format`, as `label` names it).
    func read(text: String, label: String) throws {
        var state = LineState(file: UInt32(files.count), path: label, only: nil)
        defer { state.free() }
        files.append(label)
        var n = 0
        let bytes = Array(text.utf8)
        _ = try bytes.withUnsafeBufferPointer { all in
            try FlowLogParser.forEachLine(in: all) { line in
                n += 1
                try consume(line, n, &state)
            }
        }
        countPending()
    }

    struct LineState {
        var file: UInt32
        var path: String
        var only: Int?
        var columns: Columns?
        var found = false
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        let ends = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        init(file: UInt32, path: String, only: Int?) {
            self.file = file
            self.path = path
            self.only = only
        }
        func free() {
            starts.deallocate()
            ends.deallocate()
        }
    }

    @inline(__always)
    func consume(_ line: UnsafeBufferPointer<UInt8>, _ n: Int, _ state: inout LineState) throws {
        let starts = state.starts, ends = state.ends
        guard line.count > 0, let base = line.baseAddress else { return }  // an empty line
        let count = Self.splitFields(base, 0, line.count, starts, ends)
        if count == 0 { return }  // a line of blanks
        let path = state.path
        guard let c = state.columns else {
            // The first line: a header of field names, or the first record of a file in the default format.
            let tokens = (0..<min(count, 64)).map { String(decoding: UnsafeBufferPointer(rebasing: line[starts[$0]..<ends[$0]]), as: UTF8.self) }
            if FlowLogParser.isHeader(tokens) {
                if let d = FlowLogParser.firstDuplicate(tokens) {
                    throw Problem(path: path, line: n, message: "field '\(d)' appears twice in the header")
                }
                state.columns = try Columns(tokens, path: path, line: n)
                return
            }
            let c = try Columns(defaultFields, path: path, line: n)
            state.columns = c
            if let only = state.only, only != n { return }
            state.found = true
            try record(line, n, count, starts, ends, c, state.file, path)
            return
        }
        // A header line further on (files joined with `cat`): the format from there on. Records never start
        // with a lower-case letter followed by letters and hyphens only.
        if line[starts[0]] >= 0x61, line[starts[0]] <= 0x7A {
            let tokens = (0..<min(count, 64)).map { String(decoding: UnsafeBufferPointer(rebasing: line[starts[$0]..<ends[$0]]), as: UTF8.self) }
            if FlowLogParser.isHeader(tokens) {
                state.columns = try Columns(tokens, path: path, line: n)
                return
            }
        }
        if let only = state.only, only != n { return }
        state.found = true
        try record(line, n, count, starts, ends, c, state.file, path)
    }

    /// The fields of bytes `from..<to` of `base`: separated by one or more spaces or tabs; the first 64 fields'
    /// bounds go to `starts` and `ends`. Returns the number of fields. Most bytes are above 0x20: one comparison
    /// each. (The worker threads split with it too: it touches raw memory only.)
    @inline(__always)
    static func splitFields(_ base: UnsafePointer<UInt8>, _ from: Int, _ to: Int, _ starts: UnsafeMutablePointer<Int>,
                            _ ends: UnsafeMutablePointer<Int>) -> Int {
        @inline(__always) func separator(_ b: UInt8) -> Bool { b <= 0x20 && (b == 0x20 || b == 0x09) }
        var count = 0
        var i = from
        while i < to {
            if separator(base[i]) { i += 1; continue }
            let s = i
            i += 1
            while i < to, !separator(base[i]) { i += 1 }
            if count < 64 { starts[count] = s; ends[count] = i }
            count += 1
        }
        return count
    }

    @inline(__always)
    private func record(_ line: UnsafeBufferPointer<UInt8>, _ n: Int, _ count: Int, _ starts: UnsafeMutablePointer<Int>,
                        _ ends: UnsafeMutablePointer<Int>, _ c: Columns, _ file: UInt32, _ path: String) throws {
        guard count == c.count else {
            throw Problem(path: path, line: n, message: "\(count) field\(count == 1 ? "" : "s"), the format has \(c.count)")
        }
        records += 1
        @inline(__always) func field(_ k: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: line[starts[k]..<ends[k]])
        }
        @inline(__always) func dash(_ f: UnsafeBufferPointer<UInt8>) -> Bool { f.count == 1 && f[0] == 0x2D }
        func bad(_ k: Int, _ what: String) -> Problem {
            let name = k == c.interface ? "interface-id" : k == c.source ? "srcaddr" : k == c.destination ? "dstaddr"
                : k == c.sourcePort ? "srcport" : k == c.destinationPort ? "dstport" : k == c.proto ? "protocol"
                : k == c.action ? "action" : k == c.logStatus ? "log-status" : "tcp-flags"
            return Problem(path: path, line: n, message: "\(name) '\(String(decoding: field(k), as: UTF8.self))' \(what)")
        }
        if c.logStatus >= 0 {
            let s = field(c.logStatus)
            if !(s.count == 2 && s[0] == 0x4F && s[1] == 0x4B) {  // "OK"
                let t = String(decoding: s, as: UTF8.self)
                guard t == "NODATA" || t == "SKIPDATA" || t == "-" else { throw bad(c.logStatus, "is not OK, NODATA or SKIPDATA") }
                noData += 1
                return
            }
        }
        let a = field(c.action)
        let accept: Bool
        if a.count == 6, a[0] == 0x41, a[1] == 0x43, a[2] == 0x43, a[3] == 0x45, a[4] == 0x50, a[5] == 0x54 {  // ACCEPT
            accept = true
        } else if a.count == 6, a[0] == 0x52, a[1] == 0x45, a[2] == 0x4A, a[3] == 0x45, a[4] == 0x43, a[5] == 0x54 {  // REJECT
            accept = false
        } else if dash(a) {
            noData += 1
            return
        } else {
            throw bad(c.action, "is not ACCEPT or REJECT")
        }
        let src = field(c.source), dst = field(c.destination)
        if dash(src) || dash(dst) || dash(field(c.interface)) || dash(field(c.proto)) {
            noData += 1
            return
        }
        guard let proto = Self.number(field(c.proto)), proto <= 255 else { throw bad(c.proto, "is not a protocol number (0-255)") }
        func port(_ k: Int) throws -> UInt16 {
            let f = field(k)
            if dash(f) { return 0 }
            guard let v = Self.number(f), v <= 65535 else { throw bad(k, "is not a port (0-65535)") }
            return UInt16(v)
        }
        let sp = try port(c.sourcePort), dp = try port(c.destinationPort)
        var flags: UInt8 = 0
        if c.tcpFlags >= 0, !dash(field(c.tcpFlags)) {
            guard let v = Self.number(field(c.tcpFlags)), v <= 0xFFFF else { throw bad(c.tcpFlags, "is not a number") }
            flags = UInt8(truncatingIfNeeded: v)
        }
        var s: UInt32, d: UInt32
        if let s4 = Self.ipv4(src), let d4 = Self.ipv4(dst) {
            (s, d) = (s4, d4)
        } else if src.contains(0x3A) || dst.contains(0x3A) {
            // An IPv6 record (AWS logs both addresses of one family): its addresses as tokens, through the IPv6
            // rules, routes and gateways.
            guard let s6 = Self.ipv6(src), let d6 = Self.ipv6(dst) else {
                let k = Self.ipv6(src) == nil ? c.source : c.destination
                throw bad(k, Self.ipv4(field(k)) == nil ? "is not an IP address"
                          : "is IPv4 where the record's other address is IPv6 (a record's addresses are one family)")
            }
            (s, d) = (token(s6), token(d6))
            ipv6 += 1
        } else {
            throw bad(Self.ipv4(src) == nil ? c.source : c.destination, "is not an IP address")
        }
        let eni = try interface(field(c.interface)) { bad(c.interface, "does not start with eni-") }
        let key = Key(eni: eni, proto: UInt8(proto), source: s, destination: d, sourcePort: sp, destinationPort: dp)
        add(key, Counts(accept: accept ? 1 : 0, reject: accept ? 0 : 1, flags: flags, file: file, line: UInt32(n)))
    }

    /// Counts a record (in a batch: `countPending`).
    @inline(__always)
    func add(_ key: Key, _ counts: Counts) {
        pending[pendingCount] = (key, counts)
        pendingCount += 1
        if pendingCount == Self.batch { countPending() }
    }

    /// Records parsed but not yet counted: counted `batch` at a time, so that their table slots are fetched
    /// together (`HashTable.touch`). A log of millions of connections has a table far larger than the caches,
    /// and nearly every connection's first record misses: one at a time, each miss waited for the one before.
    private static var batch: Int { 16 }
    private let pending = UnsafeMutablePointer<(key: Key, counts: Counts)>.allocate(capacity: 16)
    private var pendingCount = 0

    /// Counts the pending records, in the order they were read (a key's first record is the one it keeps).
    func countPending() {
        for j in 0..<pendingCount { table.touch(pending[j].key) }
        for j in 0..<pendingCount {
            let (key, c) = pending[j]
            if let i = table.find(key) {
                let v = table.value(at: i)
                v.pointee.accept &+= c.accept
                v.pointee.reject &+= c.reject
                v.pointee.flags |= c.flags
            } else {
                table.insert(key, c)
            }
        }
        pendingCount = 0
    }

    deinit { pending.deallocate() }

    /// The interface a record names: its model ENI, or `-1 - k` for the k-th unknown one.
    @inline(__always)
    func interface(_ f: UnsafeBufferPointer<UInt8>, _ bad: () -> Problem) throws -> Int32 {
        guard f.count > 4, f[0] == 0x65, f[1] == 0x6E, f[2] == 0x69, f[3] == 0x2D else { throw bad() }  // "eni-"
        let h = Self.hash(f)
        if let i = known.find(HashKey(hash: h)) {
            // A different id with the same hash is not this ENI.
            let k = Int(known.value(at: i).pointee)
            let same = knownIDs[k].bytes.withUnsafeBufferPointer { b in
                b.count == f.count && memcmp(b.baseAddress!, f.baseAddress!, f.count) == 0
            }
            if same { return knownIDs[k].eni }
        }
        if let last = lastUnknown, last.hash == h, unknownBytes[Int(-1 - last.index)].elementsEqual(f) {
            unknownInterfaces[Int(-1 - last.index)].records += 1
            return last.index
        }
        let id = String(decoding: f, as: UTF8.self)
        let k: Int
        if let j = unknownByID[id] {
            k = j
        } else {
            k = unknownInterfaces.count
            unknownByID[id] = k
            unknownInterfaces.append((id, 0))
            unknownBytes.append(Array(f))
        }
        unknownInterfaces[k].records += 1
        let index = Int32(-1 - k)
        lastUnknown = (h, index)
        return index
    }

    @inline(__always)
    static func number(_ f: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !f.isEmpty, f.count <= 19 else { return nil }
        var v: UInt64 = 0
        for b in f {
            guard b >= 0x30, b <= 0x39 else { return nil }
            v = v * 10 + UInt64(b - 0x30)
        }
        return v
    }

    /// The token of an IPv6 address, from this reader's table (interned on the address's first record).
    @inline(__always)
    func token(_ a: IPv6Address) -> UInt32 {
        let k = Address6(high: a.high, low: a.low)
        if let i = tokens6.find(k) { return tokens6.value(at: i).pointee }
        let t = IPv6Token.intern(a).rawValue
        tokens6.insert(k, t)
        addresses6[t] = a
        return t
    }

    /// An IPv6 address as RFC 4291 §2.2 writes it (hex groups, at most one `::`; the compressed form AWS logs),
    /// read from its bytes without making a String; the rare form with a trailing dotted quad through
    /// `IPv6Address(_:)`. Nil when it is not one.
    @inline(__always)
    static func ipv6(_ f: UnsafeBufferPointer<UInt8>) -> IPv6Address? {
        let n = f.count
        guard n >= 2, n <= 45 else { return nil }
        var g = SIMD8<UInt16>(repeating: 0)
        var count = 0, gap = -1, i = 0
        if f[0] == 0x3A {
            guard f[1] == 0x3A else { return nil }
            gap = 0
            i = 2
        }
        while i < n {
            var v: UInt16 = 0, digits = 0
            while i < n, f[i] != 0x3A {
                let b = f[i]
                let h: UInt8
                if b >= 0x30, b <= 0x39 { h = b - 0x30 } else if b >= 0x61, b <= 0x66 { h = b - 0x57 }
                else if b >= 0x41, b <= 0x46 { h = b - 0x37 }
                else if b == 0x2E { return IPv6Address(String(decoding: f, as: UTF8.self)) }  // a dotted quad
                else { return nil }
                digits += 1
                guard digits <= 4 else { return nil }
                v = v << 4 | UInt16(h)
                i += 1
            }
            guard digits > 0, count < 8 else { return nil }
            g[count] = v
            count += 1
            if i < n {
                i += 1  // the ':'
                if i < n, f[i] == 0x3A {
                    guard gap < 0 else { return nil }
                    gap = count
                    i += 1
                } else if i == n {
                    return nil
                }
            }
        }
        if gap >= 0 {
            guard count <= 7 else { return nil }
            // The groups after the `::` move to the end; the ones it stands for are zero.
            let shift = 8 - count
            var k = count - 1
            while k >= gap {
                g[k + shift] = g[k]
                k -= 1
            }
            for z in gap..<(gap + shift) { g[z] = 0 }
        } else {
            guard count == 8 else { return nil }
        }
        return IPv6Address(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7])
    }

    /// A dotted quad, strictly (four decimal octets of at most three digits).
    @inline(__always)
    static func ipv4(_ f: UnsafeBufferPointer<UInt8>) -> UInt32? {
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, dots = 0
        for b in f {
            if b == 0x2E {
                guard digits > 0, octet <= 255, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if b >= 0x30, b <= 0x39 {
                digits += 1
                guard digits <= 3 else { return nil }
                octet = octet * 10 + UInt32(b - 0x30)
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0, octet <= 255 else { return nil }
        return value << 8 | octet
    }

    /// Every (interface, 5-tuple) and its counts, in a fixed order (by key), for the replay.
    /// Every (interface, 5-tuple) and its counts, in the table's slot order, read where they are.
    var entrySequence: some Sequence<(key: Key, counts: Counts)> {
        let t = table
        return (0..<t.slotCount).lazy.filter { t.isUsed(at: $0) }.map { (key: t.key(at: $0), counts: t.value(at: $0).pointee) }
    }

    func entries() -> [(key: Key, counts: Counts)] {
        var out: [(key: Key, counts: Counts)] = []
        out.reserveCapacity(table.count)
        table.forEach { out.append(($0, $1)) }
        return out
    }
}
