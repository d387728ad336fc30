// vpcsim-bench large-vpc [RUNS] [SEED] [KEEP.yaml]: load-and-validate time of a generated large scenario.
import Foundation
import Sim
import Yams
#if canImport(Glibc)
import Glibc
#endif

/// Generates `ScenarioGenerator.Size.large` (1,000 subnets, 10,000 routes, 5,000 NACL entries, 2,000 security
/// groups) with `seed`, writes it to a temp file, and times `ScenarioLoader.load(path:)` — read, YAML parse,
/// validate, resolve — `runs` times after one warm-up load. Also times the YAML parse alone (`Yams.compose`), the
/// part of the load that is not vpcsim's code. With `keep`, the scenario is written there and left in place.
func benchLargeVPC(runs: Int, seed: UInt64, keep: String? = nil) throws {
    let generator = ScenarioGenerator(size: .large, seed: seed)
    let yaml = generator.yaml()
    let path = keep ?? "/tmp/vpcsim-bench-large-vpc-\(getpid()).yaml"
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    defer { if keep == nil { unlink(path) } }

    let warm = try ScenarioLoader.load(path: path)
    let m = warm.model
    let explicitRoutes = m.routeTables.reduce(0) { $0 + $1.routes.count } - m.routeTables.count * m.vpcs[0].cidrBlocks.count
    let customEntries = m.networkACLs.filter { !$0.isDefault }.reduce(0) { $0 + $1.inbound.count + $1.outbound.count }
    let sgRules = m.securityGroups.reduce(0) { $0 + $1.ingress.count + $1.egress.count }
    print("large-vpc: \(yaml.utf8.count) bytes, \(yaml.split(separator: "\n").count) lines, seed \(seed): "
          + "\(m.subnets.count) subnets, \(m.routeTables.count) route tables with \(explicitRoutes) routes "
          + "(+ local), \(m.networkACLs.count - 1) NACLs with \(customEntries) entries (+ the default), "
          + "\(m.securityGroups.count) security groups with \(sgRules) rules, \(m.enis.count) ENIs, "
          + "\(warm.flows.count) flow")

    var loads: [Double] = []
    var parses: [Double] = []
    for _ in 0..<runs {
        let t0 = monotonicNanos()
        let s = try ScenarioLoader.load(path: path)
        let t1 = monotonicNanos()
        precondition(s.model.subnets.count == m.subnets.count)
        loads.append(Double(t1 - t0) / 1e9)
        let t2 = monotonicNanos()
        _ = try Yams.compose(yaml: yaml)
        let t3 = monotonicNanos()
        parses.append(Double(t3 - t2) / 1e9)
    }
    func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    func ms(_ v: Double) -> String { String(format: "%.1f ms", v * 1000) }
    print("large-vpc: ScenarioLoader.load(path:) over \(runs) runs: median \(ms(median(loads))), "
          + "min \(ms(loads.min() ?? 0)) on \(cores()) cores, \(BuildInfo.optimization) "
          + "(of which YAML parse alone, Yams.compose: median \(ms(median(parses))), min \(ms(parses.min() ?? 0)))")
}
