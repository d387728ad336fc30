import Foundation
import Packets
import Sim

// vpcsim-fuzz: structure-aware fuzzing of vpcsim's parsers (docs/robustness.md).
//
//   vpcsim-fuzz [--parsers scenario,pcap,logs,import] [--seed N] [--cases N] [--seconds S] [--work DIR]
//               [--findings DIR] [--pending DIR] [--e2e-every K] [--timeout S] [--max-rss-mb M]
//               [--minimize-seconds S] [--vpcsim PATH] [--root DIR]
//   vpcsim-fuzz replay DIR        every input under DIR/<parser>/ must pass (the regression fixtures)
//   vpcsim-fuzz one PARSER INPUT [PARTNER]
//   vpcsim-fuzz make PARSER SEED INDEX DIR   input INDEX of SEED, written under DIR
//
// A worker process runs the inputs in-process, one after another, each written to a file first; a crash ends
// the worker and leaves its input behind, the driver records it, minimizes it and starts a new worker at the
// next input. Input N of a parser depends only on the seed and N.

let usage = """
    usage: vpcsim-fuzz [--parsers LIST] [--seed N] [--cases N] [--seconds S] [--work DIR] [--findings DIR]
                       [--pending DIR] [--e2e-every K] [--timeout S] [--max-rss-mb M] [--minimize-seconds S]
                       [--vpcsim PATH] [--root DIR]
           vpcsim-fuzz replay DIR
           vpcsim-fuzz one PARSER INPUT [PARTNER]
           vpcsim-fuzz make PARSER SEED INDEX DIR
    """

func die(_ message: String) -> Never {
    FileHandle.standardError.write(Data("vpcsim-fuzz: \(message)\n".utf8))
    exit(2)
}

func now() -> Double { Date().timeIntervalSince1970 }

/// Exit statuses of a worker or `one`: a hang and too much memory, found by the watchdog.
let hangStatus: Int32 = 3
let memoryStatus: Int32 = 4
let findingStatus: Int32 = 10

/// Ends the process when one input takes longer than `timeout` or the resident memory passes `maxRSS`.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var started = 0.0
    let timeout: Double
    let maxRSS: Int
    let report: @Sendable (String, String) -> Void

    init(timeout: Double, maxRSSBytes: Int, report: @escaping @Sendable (String, String) -> Void) {
        self.timeout = timeout
        self.maxRSS = maxRSSBytes
        self.report = report
        Thread.detachNewThread { [self] in self.loop() }
    }

    func begin() { lock.lock(); started = now(); lock.unlock() }
    func end() { lock.lock(); started = 0; lock.unlock() }

    private func loop() {
        let page = sysconf(Int32(_SC_PAGESIZE))
        while true {
            usleep(50_000)
            lock.lock()
            let s = started
            lock.unlock()
            if s > 0, now() - s > timeout {
                report("hang", String(format: "no answer in %.0f s", timeout))
                _exit(hangStatus)
            }
            if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
                let fields = statm.split(separator: " ")
                if fields.count > 1, let pages = Int(fields[1]), pages * page > maxRSS {
                    report("memory", "resident memory \(pages * page / 1_048_576) MiB")
                    _exit(memoryStatus)
                }
            }
        }
    }
}

func escape(_ s: String) -> String {
    String(s.prefix(300)).unicodeScalars.map { c in
        c.value < 0x20 || c.value == 0x7F ? String(format: "\\x%02x", c.value) : String(c)
    }.joined()
}

func listFiles(_ dir: String, recursive: Bool = true) -> [String] {
    var out: [String] = []
    if recursive {
        let e = FileManager.default.enumerator(atPath: dir)
        while let f = e?.nextObject() as? String { out.append(dir + "/" + f) }
    } else {
        out = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).map { dir + "/" + $0 }
    }
    return out.sorted()
}

func isDirectory(_ path: String) -> Bool {
    var d: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
}

func bytes(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

/// A new file under the name, without fsync: a crash of the process leaves the bytes in the page cache. (A file
/// replaced by FileManager's atomic write is synced, and one truncated and rewritten is flushed at close by ext4:
/// a hundredth of a second each.)
func write(_ b: [UInt8], _ path: String) {
    unlink(path)
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { die("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var done = 0
    while done < b.count {
        let n = b.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, b.count - done) }
        guard n > 0 else { die("cannot write \(path): \(String(cString: strerror(errno)))") }
        done += n
    }
}

func copyItem(_ from: String, _ to: String) {
    try? FileManager.default.removeItem(atPath: to)
    do { try FileManager.default.copyItem(atPath: from, toPath: to) } catch { die("cannot copy \(from) to \(to): \(error)") }
}

// MARK: - Seeds

/// The inputs mutations start from: the shipped scenarios, the reference captures, flow logs and AWS dumps, and
/// outputs of a run (all-hops.pcapng, flow-logs.txt in the default and in a custom format).
struct Seeds {
    var files: [Parser: [String]] = [:]

    static func make(root: String, work: String) -> Seeds {
        var s = Seeds()
        let generated = work + "/seeds"
        if !FileManager.default.fileExists(atPath: generated + "/done") { generate(root: root, into: generated) }
        let captures = root + "/captures/reference"
        s.files[.scenario] = listFiles(root + "/scenarios", recursive: false).filter { $0.hasSuffix(".yaml") }
        // Under 100 KB: a large capture slows every input down and finds nothing a small one does not.
        let small = { (p: String) in ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0) < 100_000 }
        s.files[.pcap] = (listFiles(captures) + listFiles(generated))
            .filter { ($0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng")) && small($0) }
        s.files[.logs] = listFiles(captures + "/public/flowlogs").filter { $0.hasSuffix(".log") }
            + listFiles(generated).filter { $0.hasSuffix("flow-logs.txt") }
        var dumps = Set<String>()
        for base in [root + "/Tests/Fixtures/aws-json", captures + "/public/aws-json"] {
            for f in listFiles(base) where f.hasSuffix(".json") {
                // The dump is the first directory below the base.
                let rel = f.dropFirst(base.count + 1).split(separator: "/")
                var dir = base
                for part in rel.dropLast() {
                    dir += "/" + part
                    if listFiles(dir, recursive: false).contains(where: { $0.hasSuffix(".json") }) { break }
                }
                dumps.insert(dir)
            }
        }
        s.files[.import] = dumps.sorted()
        for p in Parser.allCases where (s.files[p] ?? []).isEmpty { die("no seed inputs for \(p.rawValue) under \(root)") }
        return s
    }

    /// A run of closed-port.yaml with every output, and again with a custom flow-log format.
    static func generate(root: String, into dir: String) {
        try? FileManager.default.removeItem(atPath: dir)
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let scenario = root + "/scenarios/closed-port.yaml"
        guard var text = try? String(contentsOfFile: scenario, encoding: .utf8) else { die("cannot read \(scenario)") }
        do {
            _ = try Runner.run(path: scenario, options: .init(outDir: dir + "/default"))
            text += "\nflow_logs:\n  interval: 60\n  format: \"${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} "
                + "${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} "
                + "${subnet-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${traffic-path}\"\n"
            try text.write(toFile: dir + "/custom.yaml", atomically: true, encoding: .utf8)
            var options = Runner.Options(outDir: dir + "/custom", capture: [])
            options.allHops = false
            _ = try Runner.run(path: dir + "/custom.yaml", options: options)
        } catch {
            die("cannot make seed outputs from \(scenario): \(error)")
        }
        // Only what is kept as a seed.
        for f in listFiles(dir) where !(f.hasSuffix("all-hops.pcapng") || f.hasSuffix("flow-logs.txt")) && !isDirectory(f) {
            try? FileManager.default.removeItem(atPath: f)
        }
        _ = FileManager.default.createFile(atPath: dir + "/done", contents: nil)
    }
}

// MARK: - Inputs

/// The generator of a parser's input number `index`.
func generator(_ parser: Parser, seed: UInt64, index: Int) -> SplitMix64 {
    var mix = SplitMix64(seed: seed ^ (UInt64(Parser.allCases.firstIndex(of: parser)!) << 56) ^ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
    _ = mix.next()
    return mix
}

struct Case {
    var input: String
    var partner: String?
    /// For a dump: the file that was mutated (relative to the dump).
    var target: String?
}

/// The dump the last input was written to (this process).
nonisolated(unsafe) var lastDump: (source: String, target: String?, removed: Bool) = ("", nil, false)

/// Writes input number `index` under `dir` (the files of the last one are replaced).
func makeCase(_ parser: Parser, seeds: Seeds, seed: UInt64, index: Int, dir: String, cache: inout [String: [UInt8]]) -> Case {
    var rng = generator(parser, seed: seed, index: index)
    let source = rng.pick(seeds.files[parser]!)
    func original(_ path: String) -> [UInt8] {
        if let b = cache[path] { return b }
        let b = bytes(path)
        cache[path] = b
        return b
    }
    switch parser {
    case .scenario:
        let path = dir + "/input.yaml"
        write(mutateYAML(String(decoding: original(source), as: UTF8.self), &rng), path)
        return Case(input: path)
    case .pcap:
        let path = dir + "/input" + (source.hasSuffix(".pcapng") ? ".pcapng" : ".pcap")
        write(mutateCapture(original(source), &rng), path)
        return Case(input: path, partner: rng.chance(0.5) ? source : nil)
    case .logs:
        let path = dir + "/input.log"
        write(mutateFlowLog(String(decoding: original(source), as: UTF8.self), &rng), path)
        return Case(input: path, partner: rng.chance(0.5) ? source : nil)
    case .import:
        // The dump is written whole when it changes; otherwise only the file mutated last time is restored.
        let dump = dir + "/dump"
        let files = listFiles(source).filter { !isDirectory($0) }
        let jsons = files.filter { $0.hasSuffix(".json") }
        let target = rng.pick(jsons)
        let relative = { (f: String) in String(f.dropFirst(source.count + 1)) }
        if lastDump.source != source || lastDump.removed {
            try? FileManager.default.removeItem(atPath: dump)
            for f in files {
                let to = dump + "/" + relative(f)
                try? FileManager.default.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                write(original(f), to)
            }
        } else if let last = lastDump.target {
            write(original(last), dump + "/" + relative(last))
        }
        write(mutateJSON(original(target), &rng), dump + "/" + relative(target))
        lastDump = (source, target, false)
        if rng.chance(0.05), let other = jsons.filter({ $0 != target }).first {  // a file gone
            try? FileManager.default.removeItem(atPath: dump + "/" + relative(other))
            lastDump.removed = true
        }
        return Case(input: dump, target: String(target.dropFirst(source.count + 1)))
    }
}

/// Keeps an input (and its partner, when it is another file) under `dir` as `name`.
func keep(_ c: Case, parser: Parser, dir: String, name: String) -> String {
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let ext = parser == .import ? "" : "." + (c.input as NSString).pathExtension
    let dest = dir + "/" + name + ext
    copyItem(c.input, dest)
    if let p = c.partner, p != c.input { copyItem(p, dir + "/" + name + ".partner." + (p as NSString).pathExtension) }
    return dest
}

/// The partner kept beside a stored input, if any.
func partner(of input: String) -> String? {
    let dir = (input as NSString).deletingLastPathComponent
    let base = ((input as NSString).lastPathComponent as NSString).deletingPathExtension
    return listFiles(dir, recursive: false).first { ($0 as NSString).lastPathComponent.hasPrefix(base + ".partner.") }
}

// MARK: - Worker: inputs FROM..<TO in this process

final class Results: @unchecked Sendable {
    let handle: FileHandle
    private let lock = NSLock()
    init(_ path: String) {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { die("cannot write \(path)") }
        h.seekToEndOfFile()
        handle = h
    }
    func line(_ fields: [String]) {
        lock.lock()
        handle.write(Data((fields.map(escape).joined(separator: "\t") + "\n").utf8))
        lock.unlock()
    }
}

func worker(_ a: [String]) -> Never {
    guard a.count == 11, let parser = Parser(rawValue: a[0]), let seed = UInt64(a[1]), let from = Int(a[2]), let to = Int(a[3]),
          let deadline = Double(a[4]), let e2eEvery = Int(a[7]), let timeout = Double(a[8]), let maxRSS = Int(a[9])
    else { die("worker: bad arguments") }
    let (work, vpcsim, findingsDir) = (a[5], a[6], a[10])
    let seeds = Seeds.make(root: FileManager.default.currentDirectoryPath, work: work)
    let caseDir = work + "/case-" + parser.rawValue
    try? FileManager.default.createDirectory(atPath: caseDir, withIntermediateDirectories: true)
    let results = Results(work + "/results-" + parser.rawValue + ".txt")
    let current = ManagedIndex()
    let watchdog = Watchdog(timeout: timeout, maxRSSBytes: maxRSS) { kind, detail in
        results.line(["F", parser.rawValue, String(current.value), kind, detail, ""])
    }
    var counts = [Int32: Int](), e2e = 0, saved = [String: Int](), cache = [String: [UInt8]]()
    var index = from
    func summary() { results.line(["S", parser.rawValue, String(from), String(index), String(counts[0] ?? 0), String(counts[1] ?? 0), String(counts[2] ?? 0), String(e2e)]) }
    while index < to, now() < deadline {
        current.value = index
        let c = makeCase(parser, seeds: seeds, seed: seed, index: index, dir: caseDir, cache: &cache)
        write(Array("\(index)\n\(c.partner ?? "")\n\(c.target ?? "")\n\(c.input)\n".utf8), work + "/current-" + parser.rawValue)
        watchdog.begin()
        let v = check(parser, input: c.input, partner: c.partner)
        watchdog.end()
        counts[v.status, default: 0] += 1
        var found = findings(parser, v, input: c.input, partner: c.partner)
        if e2eEvery > 0, index % e2eEvery == 0 {
            e2e += 1
            found += endToEnd(parser, c, v, vpcsim: vpcsim, work: work, timeout: max(30, timeout * 3))
        }
        for f in found {
            var kept = ""
            if saved[f.kind, default: 0] < 3 {  // the first few of each kind; the rest are counted
                saved[f.kind, default: 0] += 1
                kept = keep(c, parser: parser, dir: findingsDir + "/" + parser.rawValue, name: "case\(index)-\(f.kind)")
            }
            results.line(["F", parser.rawValue, String(index), f.kind, f.detail, kept, c.target ?? ""])
        }
        index += 1
        if index % 100 == 0 { summary() }
    }
    summary()
    exit(0)
}

final class ManagedIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var v = 0
    var value: Int {
        get { lock.lock(); defer { lock.unlock() }; return v }
        set { lock.lock(); v = newValue; lock.unlock() }
    }
}

/// The same input through the real binary: no signal, the same exit status, and for invalid input exactly the
/// in-process error on one line; an imported scenario is written whole or not at all.
func endToEnd(_ parser: Parser, _ c: Case, _ v: Verdict, vpcsim: String, work: String, timeout: Double) -> [(kind: String, detail: String)] {
    let imported = work + "/e2e-imported.yaml"
    try? FileManager.default.removeItem(atPath: imported)
    let args = commandLine(parser, input: c.input, partner: c.partner, work: work)
    let r = runChild(vpcsim, args, timeout: timeout, stderrPath: work + "/e2e-" + parser.rawValue + ".err")
    if r.timedOut { return [("e2e-hang", "vpcsim \(args.joined(separator: " ")): no answer in \(Int(timeout)) s")] }
    if let s = r.signal { return [("signal-\(s)", "vpcsim \(args.first!): killed by signal \(s)")] }
    let status = r.exitStatus ?? -1
    guard (0...2).contains(status) else { return [("status-\(status)", "vpcsim \(args.first!): exit status \(status): \(r.stderr)")] }
    if status != v.status { return [("e2e-mismatch", "vpcsim exits \(status), in-process \(v.status): \(r.stderr)")] }
    if status == 2, let e = v.error, r.stderr != "vpcsim: error: \(e)\n" {
        return [("e2e-stderr", "expected one line 'vpcsim: error: \(e)', got: \(r.stderr)")]
    }
    if parser == .import {
        let exists = FileManager.default.fileExists(atPath: imported)
        if status == 0, !exists { return [("e2e-no-output", "exit 0 without \(imported)")] }
        if status == 2, exists { return [("e2e-partial-output", "exit 2 left \(imported)")] }
        if status == 0, (try? ScenarioLoader.load(path: imported)) == nil { return [("import-unloadable", "the imported scenario does not load")] }
    }
    return []
}

// MARK: - One input, in a process of its own (minimizing, replaying)

func one(_ a: [String]) -> Never {
    guard a.count >= 2, let parser = Parser(rawValue: a[0]) else { die(usage) }
    let input = a[1]
    let partner = a.count > 2 ? a[2] : nil
    let watchdog = Watchdog(timeout: 10, maxRSSBytes: 2 << 30) { kind, detail in
        FileHandle.standardError.write(Data("finding\t\(kind)\t\(escape(detail))\n".utf8))
    }
    watchdog.begin()
    let v = check(parser, input: input, partner: partner)
    watchdog.end()
    let found = findings(parser, v, input: input, partner: partner)
    for f in found { FileHandle.standardError.write(Data("finding\t\(f.kind)\t\(escape(f.detail))\n".utf8)) }
    exit(found.isEmpty ? 0 : findingStatus)
}

/// The kinds of finding an input shows when run alone: `signal-N`, `hang`, `memory` or those `findings` makes.
func kinds(of input: String, parser: Parser, partner: String?, self executable: String, work: String) -> Set<String> {
    let r = runChild(executable, ["one", parser.rawValue, input] + (partner.map { [$0] } ?? []), timeout: 20,
                     stderrPath: work + "/one.err")
    if r.timedOut { return ["hang"] }
    if let s = r.signal { return ["signal-\(s)"] }
    if r.exitStatus == memoryStatus { return ["memory"] }
    var out = Set<String>()
    for line in r.stderr.split(separator: "\n") where line.hasPrefix("finding\t") {
        out.insert(String(line.split(separator: "\t")[1]))
    }
    if r.exitStatus != 0, r.exitStatus != findingStatus, out.isEmpty { out.insert("status-\(r.exitStatus ?? -1)") }
    return out
}

// MARK: - Minimizing: delta debugging over lines, then bytes

func minimize(_ file: String, budget: Double, stillFails: ([UInt8]) -> Bool) -> Int {
    let end = now() + budget
    var current = bytes(file)
    func reduce(_ units: [[UInt8]]) -> [[UInt8]] {
        var units = units
        var chunk = max(1, units.count / 2)
        while chunk >= 1, now() < end {
            var i = 0, removed = false
            while i < units.count, now() < end {
                let candidate = Array(units[..<i]) + Array(units[min(units.count, i + chunk)...])
                if !candidate.isEmpty, stillFails(candidate.flatMap { $0 }) {
                    units = candidate
                    removed = true
                } else {
                    i += chunk
                }
            }
            if !removed { if chunk == 1 { break }; chunk /= 2 }
        }
        return units
    }
    var lines: [[UInt8]] = []
    var line: [UInt8] = []
    for b in current {
        line.append(b)
        if b == 0x0A { lines.append(line); line = [] }
    }
    if !line.isEmpty { lines.append(line) }
    current = reduce(lines).flatMap { $0 }
    current = reduce(stride(from: 0, to: current.count, by: 8).map { Array(current[$0..<min(current.count, $0 + 8)]) }).flatMap { $0 }
    current = reduce(current.map { [$0] }).flatMap { $0 }
    write(current, file)
    return current.count
}

/// Minimizes a kept input in place so that it still shows `kind`; a dump loses the files it does not need first.
func minimizeKept(_ kept: String, parser: Parser, kind: String, target: String?, budget: Double, work: String, executable: String) -> String {
    let partnerPath = partner(of: kept)
    let scratch = work + "/minimizing"
    try? FileManager.default.removeItem(atPath: scratch)
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    guard kinds(of: kept, parser: parser, partner: partnerPath, self: executable, work: work).contains(kind) else {
        return "not reproduced alone"
    }
    let start = now()
    if parser == .import {
        for f in listFiles(kept).filter({ !isDirectory($0) && !$0.hasSuffix("/" + (target ?? "")) }) {
            let data = bytes(f)
            try? FileManager.default.removeItem(atPath: f)
            if !kinds(of: kept, parser: parser, partner: nil, self: executable, work: work).contains(kind) { write(data, f) }
        }
        guard let target, FileManager.default.fileExists(atPath: kept + "/" + target) else { return "files reduced" }
        let file = kept + "/" + target
        let n = minimize(file, budget: budget - (now() - start)) { candidate in
            write(candidate, file)
            return kinds(of: kept, parser: parser, partner: nil, self: executable, work: work).contains(kind)
        }
        return "\(target) minimized to \(n) bytes"
    }
    let trial = scratch + "/trial." + (kept as NSString).pathExtension
    let n = minimize(kept, budget: budget) { candidate in
        write(candidate, trial)
        return kinds(of: trial, parser: parser, partner: partnerPath, self: executable, work: work).contains(kind)
    }
    return "minimized to \(n) bytes"
}

/// `make PARSER SEED INDEX DIR`: writes input INDEX of SEED under DIR (to look at, or to keep) and prints its
/// path and partner.
func make(_ a: [String]) -> Never {
    guard a.count == 4, let parser = Parser(rawValue: a[0]), let seed = UInt64(a[1]), let index = Int(a[2]) else { die(usage) }
    let dir = URL(fileURLWithPath: a[3]).standardizedFileURL.path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let seeds = Seeds.make(root: FileManager.default.currentDirectoryPath, work: dir)
    var cache: [String: [UInt8]] = [:]
    let c = makeCase(parser, seeds: seeds, seed: seed, index: index, dir: dir, cache: &cache)
    print(c.input + (c.partner.map { " " + $0 } ?? ""))
    exit(0)
}

// MARK: - Stored inputs: the regression fixtures and the known, not yet fixed ones

func storedInputs(_ dir: String) -> [(Parser, String)] {
    var out: [(Parser, String)] = []
    for p in Parser.allCases {
        for f in listFiles(dir + "/" + p.rawValue, recursive: false) {
            let name = (f as NSString).lastPathComponent
            if name.contains(".partner.") || name.hasPrefix(".") || name.hasSuffix(".md") { continue }
            out.append((p, f))
        }
    }
    return out
}

func replay(_ a: [String], executable: String) -> Never {
    guard a.count == 1 else { die(usage) }
    let work = NSTemporaryDirectory() + "vpcsim-fuzz-replay-\(getpid())"
    try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    var failed = 0
    let stored = storedInputs(a[0])
    for (p, f) in stored {
        let k = kinds(of: f, parser: p, partner: partner(of: f), self: executable, work: work)
        if !k.isEmpty {
            failed += 1
            print("FAIL \(p.rawValue) \(f): \(k.sorted().joined(separator: ", "))")
        }
    }
    print("vpcsim-fuzz replay: \(stored.count) inputs, \(failed) failing")
    try? FileManager.default.removeItem(atPath: work)
    exit(failed == 0 ? 0 : 1)
}

// MARK: - Driver

struct Options {
    var parsers = Parser.allCases
    var seed: UInt64 = 1
    var cases = 100_000
    var seconds = Double.infinity
    var work = NSTemporaryDirectory() + "vpcsim-fuzz"
    var findings: String?
    var pending: String?
    var e2eEvery = 100
    var timeout = 10.0
    var maxRSSMB = 2_048
    var minimizeSeconds = 60.0
    var vpcsim: String?
    var root = FileManager.default.currentDirectoryPath
}

func parseOptions(_ a: [String]) -> Options {
    var o = Options()
    var i = 0
    func value() -> String {
        i += 1
        guard i < a.count else { die("\(a[i - 1]) needs a value\n\(usage)") }
        return a[i]
    }
    while i < a.count {
        switch a[i] {
        case "--parsers": o.parsers = value().split(separator: ",").map { name in
            guard let p = Parser(rawValue: String(name)) else { die("unknown parser \(name)") }
            return p
        }
        case "--seed": o.seed = number(value(), "--seed")
        case "--cases": o.cases = number(value(), "--cases")
        case "--seconds": o.seconds = number(value(), "--seconds")
        case "--work": o.work = value()
        case "--findings": o.findings = value()
        case "--pending": o.pending = value()
        case "--e2e-every": o.e2eEvery = number(value(), "--e2e-every")
        case "--timeout": o.timeout = number(value(), "--timeout")
        case "--max-rss-mb": o.maxRSSMB = number(value(), "--max-rss-mb")
        case "--minimize-seconds": o.minimizeSeconds = number(value(), "--minimize-seconds")
        case "--vpcsim": o.vpcsim = value()
        case "--root": o.root = value()
        default: die("unknown argument \(a[i])\n\(usage)")
        }
        i += 1
    }
    return o
}

func number<T: LosslessStringConvertible>(_ text: String, _ option: String) -> T {
    guard let v = T(text) else { die("\(option): expected a number, got \(text)") }
    return v
}

struct Finding {
    var parser: Parser
    var index: Int
    var kind: String
    var detail: String
    var kept: String
    var target: String
}

func fuzz(_ o: Options, executable: String) -> Never {
    let root = URL(fileURLWithPath: o.root).standardizedFileURL.path
    guard FileManager.default.changeCurrentDirectoryPath(root) else { die("cannot change to \(root)") }
    let work = URL(fileURLWithPath: o.work).standardizedFileURL.path
    try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    let findingsDir = o.findings ?? work + "/findings"
    let vpcsim = o.vpcsim ?? ((executable as NSString).deletingLastPathComponent + "/vpcsim")
    if o.e2eEvery > 0, !FileManager.default.isExecutableFile(atPath: vpcsim) { die("\(vpcsim) not found (--vpcsim PATH, or --e2e-every 0)") }
    _ = Seeds.make(root: root, work: work)
    // The kinds of finding the inputs under --pending show: found, not yet fixed; reported, not failed.
    var pending = Set<String>()
    if let dir = o.pending {
        for (p, f) in storedInputs(dir) {
            for k in kinds(of: f, parser: p, partner: partner(of: f), self: executable, work: work) { pending.insert(p.rawValue + " " + k) }
        }
    }
    var newFindings = 0
    for parser in o.parsers {
        let started = now()
        let deadline = started + o.seconds
        let resultsPath = work + "/results-" + parser.rawValue + ".txt"
        try? FileManager.default.removeItem(atPath: resultsPath)
        var next = 0, crashes = 0, unsummarized = 0
        var found: [Finding] = []
        var counts = [0, 0, 0], e2e = 0
        var offset = 0
        while next < o.cases, now() < deadline {
            let from = next
            let r = runChild(executable, ["worker", parser.rawValue, String(o.seed), String(from), String(o.cases), String(deadline),
                                          work, vpcsim, String(o.e2eEvery), String(o.timeout), String(o.maxRSSMB << 20), findingsDir],
                             timeout: .infinity, stderrPath: work + "/worker-" + parser.rawValue + ".err")
            let all = bytes(resultsPath)
            let lines = String(decoding: all[min(offset, all.count)...], as: UTF8.self).split(separator: "\n")
            offset = all.count
            var last: [Substring]?
            for line in lines {
                let f = line.split(separator: "\t", omittingEmptySubsequences: false)
                if f.first == "S" { last = f }
                if f.first == "F", f.count >= 6 {
                    found.append(Finding(parser: parser, index: Int(f[2]) ?? -1, kind: String(f[3]), detail: String(f[4]),
                                         kept: String(f[5]), target: f.count > 6 ? String(f[6]) : ""))
                }
            }
            if let s = last {
                for k in 0..<3 { counts[k] += Int(s[4 + k]) ?? 0 }
                e2e += Int(s[7]) ?? 0
            }
            if r.exitStatus == 0 {
                next = last.flatMap { Int($0[3]) } ?? o.cases
                break
            }
            // The worker died: a signal, a hang or memory (reported by its watchdog), or something else.
            let state = String(decoding: bytes(work + "/current-" + parser.rawValue), as: UTF8.self).components(separatedBy: "\n")
            let index = Int(state[0]) ?? from
            let c = Case(input: state.count > 3 ? state[3] : "", partner: state.count > 1 && !state[1].isEmpty ? state[1] : nil,
                         target: state.count > 2 ? state[2] : nil)
            let kind = r.signal.map { "signal-\($0)" } ?? (r.exitStatus == hangStatus ? "hang" : r.exitStatus == memoryStatus ? "memory" : "status-\(r.exitStatus ?? -1)")
            let crashLine = r.stderr.split(separator: "\n").first { $0.contains("Fatal error") || $0.contains("error:") }.map(String.init) ?? ""
            let kept = keep(c, parser: parser, dir: findingsDir + "/" + parser.rawValue, name: "case\(index)-\(kind)")
            if found.last?.index == index, found.last?.kind == kind { found.removeLast() }  // the watchdog's line
            found.append(Finding(parser: parser, index: index, kind: kind, detail: crashLine, kept: kept, target: c.target ?? ""))
            crashes += 1
            next = index + 1
            // The inputs the worker ran after its last summary and before the crash: run, their statuses unknown.
            unsummarized += max(0, index - (last.flatMap { Int($0[3]) } ?? from))
        }
        let total = counts.reduce(0, +) + unsummarized + crashes
        // One line per kind of finding; the first of each kind minimized.
        var byKind: [String: [Finding]] = [:]
        for f in found { byKind[f.kind, default: []].append(f) }
        print(String(format: "%@: %d inputs in %.0f s (exit 0: %d, 1: %d, 2: %d, ended the worker: %d, not counted by status: %d), "
                        + "%d end to end; %d finding%@", parser.rawValue, total, now() - started, counts[0], counts[1], counts[2],
                     crashes, unsummarized, e2e, found.count, found.count == 1 ? "" : "s"))
        for kind in byKind.keys.sorted() {
            let list = byKind[kind]!
            let first = list[0]
            let known = pending.contains(parser.rawValue + " " + kind)
            if !known { newFindings += 1 }
            var note = ""
            if !known, !first.kept.isEmpty, o.minimizeSeconds > 0, !["hang", "memory", "e2e-hang"].contains(kind), !kind.hasPrefix("e2e-") {
                note = " (" + minimizeKept(first.kept, parser: parser, kind: kind, target: first.target.isEmpty ? nil : first.target,
                                           budget: o.minimizeSeconds, work: work, executable: executable) + ")"
            }
            print("  \(known ? "pending" : "NEW") \(kind): \(list.count)× (first: input \(first.index)) \(first.detail)")
            if !first.kept.isEmpty { print("    kept: \(first.kept)\(note)") }
        }
    }
    exit(newFindings == 0 ? 0 : 1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
switch arguments.first {
case "worker": worker(Array(arguments.dropFirst()))
case "one": one(Array(arguments.dropFirst()))
case "replay": replay(Array(arguments.dropFirst()), executable: executable)
case "make": make(Array(arguments.dropFirst()))
case "-h", "--help": print(usage); exit(0)
default: fuzz(parseOptions(arguments), executable: executable)
}
