import Foundation
import Packets
import Sim

/// Fleet benchmarks on the story topology (scenarios/lambda-sftp-nacl-fixed.yaml): many short TCP flows from the
/// Lambda through the NAT gateway and the internet gateway to the server, each a handshake, one 200-byte exchange
/// and a close. `ipv6`: the dual-stack story instead (scenarios/lambda-sftp-ipv6-nacl.yaml with its fix, the
/// `::/0` NACL entries both ways): the dual-stack Lambda's flows go over IPv6 to the server's IPv6 address,
/// through the `::/0` NACL entries and security-group rule and the egress-only internet gateway.
enum FlowBench {
    static func peakRSSKiB() -> Int {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss)
    }

    static func scenario(flows: Int, over: Int64, ipv6: Bool = false) throws -> Scenario {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        var s: Scenario
        var template: FlowSpec
        if ipv6 {
            // The story's fix: the IPv4 entries' ::/0 twins.
            let path = root + "/scenarios/lambda-sftp-ipv6-nacl.yaml"
            let text = try String(contentsOfFile: path, encoding: .utf8)
                .replacingOccurrences(of: "      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0, action: allow}   # replies\n",
                                      with: "      - {rule: 100, protocol: tcp, ports: 1024-65535, cidr: 0.0.0.0/0, action: allow}\n"
                                        + "      - {rule: 101, protocol: tcp, ports: 1024-65535, cidr: \"::/0\", action: allow}\n")
                .replacingOccurrences(of: "      - {rule: 100, protocol: tcp, ports: 22, cidr: 0.0.0.0/0, action: allow}\n",
                                      with: "      - {rule: 100, protocol: tcp, ports: 22, cidr: 0.0.0.0/0, action: allow}\n"
                                        + "      - {rule: 101, protocol: tcp, ports: 22, cidr: \"::/0\", action: allow}\n")
            s = try ScenarioLoader.load(yaml: text, file: path)
            precondition(s.model.networkACLs.contains { $0.inboundIPv6.count == 1 && $0.outboundIPv6.count == 1 },
                         "lambda-sftp-ipv6-nacl.yaml's NACL entries moved: the benchmark adds their ::/0 twins")
            template = s.flows.first { $0.client.addressFamily == .ipv6 }!  // its destination is the IPv6 address
        } else {
            s = try ScenarioLoader.load(path: root + "/scenarios/lambda-sftp-nacl-fixed.yaml")
            template = s.flows[0]
        }
        let family = template.client.addressFamily
        template.app = .tcp
        template.client = .plain
        template.client.addressFamily = family
        template.size = 200
        template.expect = nil
        template.destination.port = 22
        s.flows = []
        s.generators = [FlowGenerator(name: "fleet", template: template, count: flows, start: 0, over: over)]
        // One Hyperplane ENI has 64,512 source ports: spread the fleet over time so ports are reused.
        s.model.lambdas[0].timeout = 900_000_000_000
        return s
    }

    /// Runs `flows` flows; returns wall seconds, capture records written and peak RSS.
    static func run(flows: Int, over: Int64, capture: Bool, allHops: Bool, flowLogs: Bool = true, ipv6: Bool = false)
        throws -> (seconds: Double, records: Int, bytes: Int, ok: Int, rss: Int, concurrent: Int) {
        let s = try scenario(flows: flows, over: over, ipv6: ipv6)
        let dir = (ProcessInfo.processInfo.environment["VPCSIM_BENCH_DIR"] ?? NSTemporaryDirectory())
            + "/vpcsim-bench-\(getpid())"
        var options = Runner.Options(outDir: dir, capture: capture ? nil : [])
        options.allHops = allHops
        options.flowLogs = flowLogs
        let t0 = Date()
        let o = try Runner.run(scenario: s, options: options)
        let seconds = Date().timeIntervalSince(t0)
        let records = o.report.captures.map(\.packets).reduce(0, +)
        var bytes = 0
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            let a = try? FileManager.default.attributesOfItem(atPath: dir + "/" + f)
            bytes += (a?[.size] as? Int) ?? 0
        }
        try? FileManager.default.removeItem(atPath: dir)
        // How many flows were open at once: the NAT gateway's peak ActiveConnectionCount.
        let concurrent = o.report.nat_gateways.map(\.metrics.peakActiveConnectionCount).max() ?? 0
        return (seconds, records, bytes, o.report.generators.first?.outcomes["ok"] ?? 0, peakRSSKiB(), concurrent)
    }

    static func main(_ args: [String]) throws {
        let mode = args.first ?? "hops"
        let n = args.count > 1 ? Int(args[1]) ?? 20_000 : 20_000
        // "all-hops" also writes all-hops.pcapng (a comment on every packet); by default the per-point pcaps only.
        let allHops = args.contains("all-hops")
        let what = allHops ? "per-point pcaps + all-hops.pcapng" : "per-point pcaps"
        // "no-flow-logs": without flow-logs.txt.
        let flowLogs = !args.contains("no-flow-logs")
        // "ipv6": the dual-stack story's flows, over IPv6 through the egress-only internet gateway.
        let ipv6 = args.contains("ipv6")
        switch mode {
        case "hops":
            let r = try run(flows: n, over: Int64(n) * 100_000, capture: true, allHops: allHops)  // 10,000 flows/s
            print("hops: \(n) TCP flows on the story topology, captures on (\(what)): \(r.records) packet-hops captured in "
                + String(format: "%.2f s: %.0f thousand packet-hops/s", r.seconds, Double(r.records) / r.seconds / 1e3)
                + "; \(r.bytes / 1_000_000) MB written; \(r.ok) ok, at most \(r.concurrent) at once; peak RSS \(r.rss / 1024) MiB; "
                + "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(BuildInfo.optimization)")
        case "engine":
            // The simulation alone: no observer (no captures, no flow logs, no report).
            let s = try scenario(flows: n, over: Int64(n) * 100_000, ipv6: ipv6)
            let t0 = Date()
            let sim = Simulation(scenario: s)
            sim.run()
            let seconds = Date().timeIntervalSince(t0)
            print("engine: \(n) TCP flows\(ipv6 ? " over IPv6" : ""), no observer: " + String(format: "%.2f s", seconds)
                + ", \(sim.scheduler.eventsRun) events (" + String(format: "%.0f ns/event", seconds * 1e9 / Double(sim.scheduler.eventsRun))
                + "), \(sim.generatorResults.first?.outcomes[.ok] ?? 0) ok, at most \(sim.scheduler.peakPending) events pending, peak RSS \(peakRSSKiB() / 1024) MiB; SimPacket \(MemoryLayout<SimPacket>.size) bytes; \(BuildInfo.optimization)")
        case "flows":
            let which = args.count > 2 && ["on", "off", "both", "all-hops"].contains(args[2]) ? args[2] : "both"
            // "all-hops" alone: captures on, with all-hops.pcapng ("both all-hops": off, then that).
            for capture in [false, true]
            where which == "both" || (which == "off" && !capture) || ((which == "on" || which == "all-hops") && capture) {
                let r = try run(flows: n, over: Int64(n) * 100_000, capture: capture, allHops: allHops,
                                flowLogs: flowLogs, ipv6: ipv6)  // 10,000 flows/s
                let through = ipv6 ? "over IPv6 through the egress-only internet gateway" : "through the NAT gateway"
                print("flows: \(n) TCP flows \(through), captures \(capture ? "on (\(what))" : "off")"
                    + (flowLogs ? "" : ", no flow logs") + ": "
                    + String(format: "%.2f s", r.seconds) + ", \(r.records) records, \(r.bytes / 1_000_000) MB written, "
                    + "\(r.ok) ok, \(ipv6 ? "" : "at most \(r.concurrent) at once, ")peak RSS \(r.rss / 1024) MiB (\(ProcessInfo.processInfo.activeProcessorCount) cores, \(BuildInfo.optimization))")
            }
        default:
            print("usage: vpcsim-bench hops [FLOWS] [all-hops] | vpcsim-bench flows [FLOWS] [on|off|both|all-hops] [no-flow-logs] [ipv6]"
                + " | vpcsim-bench engine [FLOWS] [ipv6]")
        }
    }
}
