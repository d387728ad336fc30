// vpcsim-bench compare-logs [LINES] [KEEP-DIR]: `vpcsim compare-logs` on two generated flow-log files.
import Foundation
import Sim
#if canImport(Glibc)
import Glibc
#endif

/// Writes two flow-log files of `lines` records each (the default version 2 format with its header, one NAT
/// gateway ENI and two instance ENIs): half the records in 1,000 busy flows (600 keys with the ports ignored, many
/// records a key, as a NAT gateway's log has), the other half a flow and a key each. The second file is the
/// first with every 1,000th record's action flipped and its last 1,000 records left out, so the comparison reports
/// differences with their lines. Then times `FlowLogComparison.compare(simulatedFile:realFile:)` with
/// `--ignore-ephemeral-ports` (as `vpcsim compare-logs` runs it) and prints records per second and peak RSS.
func benchCompareLogs(lines: Int, keep: String?) throws {
    let dir = keep ?? NSTemporaryDirectory() + "/vpcsim-bench-compare-logs-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
    let sim = dir + "/simulated.txt", real = dir + "/real.txt"
    let header = FlowLogFormat.defaultV2.header + "\n"
    let enis = ["eni-0877dd6f5cceb3209", "eni-0c83aca23d1a66d8b", "eni-0aa11bb22cc33dd44"]
    // Written 1 MB at a time: the generator's memory stays small, so peak RSS is the comparison's.
    guard FileManager.default.createFile(atPath: sim, contents: nil), FileManager.default.createFile(atPath: real, contents: nil),
          let fa = FileHandle(forWritingAtPath: sim), let fb = FileHandle(forWritingAtPath: real) else {
        throw CocoaError(.fileWriteUnknown)
    }
    var a = header, b = header
    var bytes = 0
    func flush(_ force: Bool) {
        if force || a.utf8.count > 1 << 20 { bytes += a.utf8.count; fa.write(Data(a.utf8)); a = "" }
        if force || b.utf8.count > 1 << 20 { bytes += b.utf8.count; fb.write(Data(b.utf8)); b = "" }
    }
    var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {  // splitmix64: deterministic
        rng &+= 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    // The busy flows' distinct keys with the ports ignored (interface, client, server, server port).
    let busyKeys = Set((0..<1000).map { f in "\(f % 3) \(f % 3) \(f % 200) \(f % 50)" }).count
    for i in 0..<lines {
        let r = next()
        let busy = i % 2 == 0
        let flow = busy ? Int(r % 1000) : i
        let eni = enis[flow % 3]
        // Busy flows: 1,000 clients; the others: a client each (a key each, even with the ports ignored).
        let client = busy ? "10.0.\(1 + flow % 3).\(10 + flow % 200)" : "10.\(1 + (flow >> 16) % 250).\((flow >> 8) & 255).\(flow & 255)"
        let server = busy ? "203.0.113.\(1 + flow % 50)" : "198.51.100.\(1 + flow % 200)"
        let port = busy ? 1024 + (flow * 7919 + i) % 64000 : 1024 + (flow * 104_729) % 64000
        let dport = [22, 443, 80][flow % 3]
        let start = 1_795_683_600 + (i / 1000) * 60
        let action = r % 97 == 0 ? "REJECT" : "ACCEPT"
        let line = "2 123456789012 \(eni) \(client) \(server) \(port) \(dport) 6 \(1 + r % 20) \(60 + r % 1400) \(start) \(start + 60) "
        a += line + action + " OK\n"
        if i >= lines - 1000 { flush(false); continue }
        b += line + (i % 1000 == 999 ? (action == "ACCEPT" ? "REJECT" : "ACCEPT") : action) + " OK\n"
        flush(false)
    }
    flush(true)
    try fa.close()
    try fb.close()
    let rssBefore = FlowBench.peakRSSKiB()
    let cpu0 = cpuSeconds()
    let t0 = monotonicNanos()
    let c = try FlowLogComparison.compare(simulatedFile: sim, realFile: real,
                                          options: .init(ignoreEphemeralPorts: true))
    let seconds = Double(monotonicNanos() - t0) / 1e9
    let cpu = cpuSeconds() - cpu0
    let records = 2 * lines - 1000
    print("compare-logs: \(lines) + \(lines - 1000) records (\(bytes / 1_000_000) MB, \(busyKeys + lines / 2) distinct keys), "
        + "--ignore-ephemeral-ports: " + String(format: "%.2f s, %.2f million records/s", seconds, Double(records) / seconds / 1e6)
        + String(format: " (CPU %.2f s: %.2f million records per CPU second)", cpu, Double(records) / cpu / 1e6)
        + "; \(c.matched) matched, \(c.onlyInSimulated.count) only simulated, \(c.actionMismatches.count) action mismatches; "
        + "peak RSS \(FlowBench.peakRSSKiB() / 1024) MiB (\(rssBefore / 1024) MiB before it); "
        + "\(cores()) cores, \(BuildInfo.optimization)")
}

/// User and system CPU seconds of this process so far (on a shared machine, wall time includes other work's).
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
