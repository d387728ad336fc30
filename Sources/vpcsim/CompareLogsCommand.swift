import ArgumentParser
import Foundation
import Sim

/// `vpcsim compare-logs SIMULATED REAL`: what the real flow logs show that the simulation did not, and the
/// reverse. Exit status: 0 they agree, 1 they differ, 2 a file cannot be read (or a bad option).
struct CompareLogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-logs",
        abstract: "Compare simulated flow logs (flow-logs.txt) with real VPC Flow Logs.",
        discussion: """
            Both files may use any format with a header line of field names, or the default version 2 format \
            without one. Records are matched by interface and 5-tuple; at a NAT gateway's ENI by \
            pkt-srcaddr/pkt-dstaddr when both files have them. Malformed lines are reported and skipped. \
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

    func run() throws {
        var map: [String: String] = [:]
        for m in mapInterface {
            let parts = m.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                fail("--map-interface '\(m)': expected REAL=SIMULATED, e.g. eni-0123456789abcdef0=eni-0a1b2c3d4e5f60718")
            }
            map[parts[0]] = parts[1]
        }
        let simText = read(simulated)
        let realText = read(real)
        let c = FlowLogComparison.compare(simulated: FlowLogParser.parse(simText), real: FlowLogParser.parse(realText),
                                          options: .init(interfaceMap: map, ignoreEphemeralPorts: ignoreEphemeralPorts),
                                          simulatedName: simulated, realName: real)
        print(c.text, terminator: "")
        if !c.agree { throw ExitCode(1) }
    }

    private func read(_ path: String) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            fail("\(path): cannot read: \((error as NSError).localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else { fail("\(path): not a text file (UTF-8)") }
        return text
    }
}
