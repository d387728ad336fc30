import ArgumentParser
import Foundation
import Sim

/// `vpcsim compare-logs SIMULATED REAL`: what the real flow logs show that the simulation did not, and the
/// reverse. Exit status: 0 they agree, 1 they differ, 2 a file cannot be read (or a bad option).
struct CompareLogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-logs",
        abstract: "Compare simulated flow logs (flow-logs.txt, tgw-flow-logs.txt) with real ones.",
        discussion: """
            Both files may use any format with a header line of field names, or the default version 2 format \
            without one. Records are matched by interface and 5-tuple; at a NAT gateway's ENI by \
            pkt-srcaddr/pkt-dstaddr when both files have them. Transit Gateway Flow Logs (tgw-flow-logs.txt) are \
            matched by attachment and flow-direction, their packets-lost-* counters compared as the action. \
            Malformed lines are reported and skipped. \
            Files are read line by line (memory follows the number of distinct flows, not of lines); progress \
            goes to stderr when a comparison takes more than a second. \
            Exit status: 0 the logs agree, 1 they differ, 2 a file cannot be read.
            """)

    @Argument(help: "The simulated flow logs (flow-logs.txt from vpcsim run).")
    var simulated: String

    @Argument(help: "The real flow logs (a file exported from CloudWatch Logs or S3).")
    var real: String

    @Option(name: .customLong("map-interface"), parsing: .singleValue,
            help: "REAL=SIMULATED: treat a real interface id as a simulated one (repeatable).")
    var mapInterface: [String] = []

    @Flag(name: .long, help: "Match only the lower port of each record (client and NAT ports vary between runs).")
    var ignoreEphemeralPorts = false

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    func run() throws {
        var map: [String: String] = [:]
        for m in mapInterface {
            let parts = m.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                fail("--map-interface '\(m)': expected REAL=SIMULATED, e.g. eni-0123456789abcdef0=eni-0a1b2c3d4e5f60718")
            }
            map[parts[0]] = parts[1]
        }
        let progress = quiet ? nil : ProgressLine(terminalInterval: 0.2)
        let c: FlowLogComparison
        do {
            c = try FlowLogComparison.compare(simulatedFile: simulated, realFile: real,
                                              options: .init(interfaceMap: map, ignoreEphemeralPorts: ignoreEphemeralPorts),
                                              progress: progress.map { p in { p.update($0) } })
        } catch {
            progress?.finish()
            fail(error.description)
        }
        progress?.finish()
        print(c.text, terminator: "")
        if !c.agree { throw ExitCode(1) }
    }
}

extension ProgressLine {
    /// A comparison's progress, as `vpcsim run` shows its own; made with `terminalInterval: 0.2` (the reader reports
    /// far more often than a terminal needs).
    func update(_ p: FlowLogComparison.Progress) {
        let fraction = p.bytes > 0 ? min(1, Double(p.bytesRead) / Double(p.bytes)) : 0
        show(fraction) {
            let what = p.pass == 1 ? "reading" : "collecting the differing lines of"
            return String(format: "%3.0f%%", fraction * 100) + "  \(what) \(p.file): \(p.lines) lines"
        }
    }
}
