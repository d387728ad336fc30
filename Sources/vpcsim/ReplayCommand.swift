import ArgumentParser
import Foundation
import Sim

/// `vpcsim replay FLOWLOGS… --network X`: real VPC Flow Logs against a network; `--explain RECORD`: one record's
/// reasoning. Thin: the work is `FlowLogReplay` and `ReplayExplanation` (Sources/Sim/Replay); docs/replay.md.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay real VPC Flow Logs against a network: each logged ACCEPT it would now REJECT, and the reverse.",
        discussion: """
            Each connection in the logs (its records in both directions, at every ENI) is worked out once, its first \
            packet and the reply sent through the network as `vpcsim trace` sends them, and what flow logs would \
            record at each ENI compared with what AWS recorded. FLOWLOGS: files in the default version 2 format or \
            any format with a header line of field names (--format for custom-format files without one), plain or \
            gzip. The network: a scenario, an AWS CLI dump (a directory or .json) or a Terraform plan (.json). \
            Exit status: 0 the network agrees with the logs, 1 it disagrees, 2 invalid input.
            """)

    @Argument(help: "Flow-log files (plain text or gzip).")
    var flowLogs: [String] = []

    @Option(name: .long, help: "The network: a scenario file, an AWS CLI dump (directory or .json) or a Terraform plan (.json).")
    var network: String

    @Option(name: .long, help: "Explain one record: its text, or FILE:LINE of a flow-log file.")
    var explain: String?

    @Option(name: .long, help: "The format of files without a header line, as AWS takes it: '${version} ${interface-id} …' (default: the version 2 default format).")
    var format: String?

    @Option(name: .customLong("map-interface"), parsing: .singleValue,
            help: "REAL=MODEL: take a logged interface id as a network ENI's (repeatable).")
    var mapInterface: [String] = []

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    func run() throws {
        var options = FlowLogReplay.Options()
        for m in mapInterface {
            let parts = m.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                fail("--map-interface '\(m)': expected REAL=MODEL, e.g. eni-0123456789abcdef0=eni-0a1b2c3d4e5f60718")
            }
            options.interfaceMap[parts[0]] = parts[1]
        }
        if let format {
            do {
                options.format = try FlowLogFormat(parsing: format)
            } catch {
                fail("--format: \(error.description) (at character \(error.offset + 1))")
            }
        }
        switch (explain, flowLogs.isEmpty) {
        case (nil, true): fail("missing expected argument '<flow-logs> ...' (see 'vpcsim replay --help')")
        case (_?, false): fail("--explain takes one record: give no flow-log files with it")
        default: break
        }
        let scenario: Scenario
        do {
            scenario = try DiffInput.scenario(network, flows: nil)
        } catch let e as ScenarioError {
            fail(e.description)
        } catch let e as AWSDumpValueError {
            fail(e.description)
        } catch {
            fail("\(network): \(error)")
        }
        if let explain {
            let x: ReplayExplanation
            do {
                x = try ReplayExplanation.explain(explain, scenario: scenario, label: network, options: options)
            } catch {
                fail("\(error)")
            }
            print(x.text, terminator: "")
            if !x.agrees { throw ExitCode(1) }
            return
        }
        let progress = quiet ? nil : ReplayProgress()
        let r: FlowLogReplay
        do {
            r = try FlowLogReplay.run(files: flowLogs, scenario: scenario, label: network, options: options,
                                      progress: progress.map { p in { p.update($0) } })
        } catch {
            progress?.finish()
            fail("\(error)")
        }
        progress?.finish()
        print(json ? r.json : r.text, terminator: "")
        if !r.agree { throw ExitCode(1) }
    }
}

/// A progress bar on stderr while the logs are read, when stderr is a terminal (nothing otherwise).
final class ReplayProgress {
    private let line = ProgressLine(terminalInterval: 0.2)
    private let terminal = isatty(FileHandle.standardError.fileDescriptor) != 0

    func update(_ p: FlowLogReplay.Progress) {
        guard terminal else { return }
        let fraction = p.bytes > 0 ? min(1, Double(p.bytesRead) / Double(p.bytes)) : 0
        let overall = (Double(p.fileIndex) + fraction) / Double(max(p.files, 1))
        line.show(overall) {
            String(format: "%3.0f%%", overall * 100) + "  reading \(p.file) (\(p.fileIndex + 1)/\(p.files)): \(p.records) records"
        }
    }

    func finish() { line.finish() }
}
