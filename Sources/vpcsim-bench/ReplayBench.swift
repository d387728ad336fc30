// vpcsim-bench replay [RECORDS] [KEEP-DIR]: `vpcsim replay` on a generated flow log of the story's network.
import Foundation
import Sim
#if canImport(Glibc)
import Glibc
#endif

/// Writes a flow log of about `records` records (the default version 2 format with its header) as AWS would log
/// the story's network (scenarios/lambda-sftp-nacl-fixed.yaml) carrying many connections: the Lambda function's
/// connections to 500 servers on ports 22 and 443 (which the network lets through), each logged at the function's ENI (both directions) and at
/// the NAT gateway's ENI (both directions of both legs), in 1 to 5 aggregation intervals; one connection in 1,000
/// logged REJECT where the network accepts. Then times `FlowLogReplay.run` (as `vpcsim replay` runs it) and prints
/// records per second, distinct connections and peak RSS.
func benchReplay(records: Int, keep: String?) throws {
    let dir = keep ?? NSTemporaryDirectory() + "/vpcsim-bench-replay-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
    let path = dir + "/flow-logs.txt"
    // A log kept from an earlier run of the same size is read again rather than written again.
    let sizeFile = dir + "/records"
    if keep != nil, (try? String(contentsOfFile: sizeFile, encoding: .utf8)) == String(records),
       let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int {
        try time(path: path, bytes: size, connections: nil)
        return
    }
    let lambda = "eni-0c83aca23d1a66d8b", nat = "eni-0877dd6f5cceb3209"
    guard FileManager.default.createFile(atPath: path, contents: nil), let f = FileHandle(forWritingAtPath: path) else {
        throw CocoaError(.fileWriteUnknown)
    }
    var out = FlowLogFormat.defaultV2.header + "\n"
    var bytes = 0
    var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {  // splitmix64: deterministic
        rng &+= 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    var written = 0, connections = 0
    while written < records {
        let r = next()
        let server = "203.0.\(113 + Int(r % 2)).\(1 + Int((r >> 8) % 250))"
        let port = [22, 443][Int((r >> 16) % 2)]
        let client = 1024 + Int((r >> 24) % 64000), natPort = 1024 + Int((r >> 40) % 64000)
        let windows = 1 + Int((r >> 56) % 5)
        let action = connections % 1000 == 999 ? "REJECT" : "ACCEPT"
        connections += 1
        for w in 0..<windows {
            let start = 1_795_683_600 + w * 600
            let t = " 6 10 4000 \(start) \(start + 600) "
            out += "2 123456789012 \(lambda) 10.0.1.10 \(server) \(client) \(port)\(t)\(action) OK\n"
            out += "2 123456789012 \(lambda) \(server) 10.0.1.10 \(port) \(client)\(t)ACCEPT OK\n"
            out += "2 123456789012 \(nat) 10.0.1.10 10.0.0.5 \(client) \(port)\(t)ACCEPT OK\n"
            out += "2 123456789012 \(nat) 10.0.0.5 \(server) \(natPort) \(port)\(t)ACCEPT OK\n"
            out += "2 123456789012 \(nat) \(server) 10.0.0.5 \(port) \(natPort)\(t)ACCEPT OK\n"
            out += "2 123456789012 \(nat) 10.0.0.5 10.0.1.10 \(port) \(client)\(t)ACCEPT OK\n"
            written += 6
        }
        if out.utf8.count > 1 << 20 { bytes += out.utf8.count; f.write(Data(out.utf8)); out = "" }
    }
    bytes += out.utf8.count
    f.write(Data(out.utf8))
    try f.close()
    if keep != nil { try String(records).write(toFile: sizeFile, atomically: true, encoding: .utf8) }
    try time(path: path, bytes: bytes, connections: connections)
}

/// Times `FlowLogReplay.run` on the log at `path`, as `vpcsim replay` runs it, and prints the figures.
private func time(path: String, bytes: Int, connections: Int?) throws {
    let scenario = try ScenarioLoader.load(path: "scenarios/lambda-sftp-nacl-fixed.yaml")
    let rssBefore = FlowBench.peakRSSKiB()
    let cpu0 = cpuSeconds()
    let t0 = monotonicNanos()
    let r = try FlowLogReplay.run(files: [path], scenario: scenario, label: "lambda-sftp-nacl-fixed")
    let seconds = Double(monotonicNanos() - t0) / 1e9
    let cpu = cpuSeconds() - cpu0
    print("replay: \(r.records) records (\(bytes / 1_000_000) MB, "
        + (connections.map { "\($0) logged connections, " } ?? "")
        + "\(r.connections) connections and NAT legs replayed) in " + String(format: "%.2f s: %.2f million records/s", seconds, Double(r.records) / seconds / 1e6)
        + String(format: " (CPU %.2f s: %.2f million records per CPU second)", cpu, Double(r.records) / cpu / 1e6)
        + "; \(r.disagreements.count) disagreements; peak RSS \(FlowBench.peakRSSKiB() / 1024) MiB (\(rssBefore / 1024) MiB before it); "
        + "\(cores()) cores, \(BuildInfo.optimization)")
}
