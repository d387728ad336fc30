import ArgumentParser
import Foundation
import Packets
import Sim

/// The command line: parses arguments, calls Sim, prints. Exit status: 0 every expectation held, 1 an
/// expectation failed, 2 invalid input.
@main
struct VPCSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpcsim",
        abstract: "A packet-level simulator of AWS VPC networking: real traffic through your VPC, a pcap per hop.",
        version: vpcsimVersion,
        subcommands: [Run.self, Validate.self, Trace.self, ReportCommand.self, CompareCommand.self, Import.self,
                      CompareLogsCommand.self, DiffCommand.self, ReplayCommand.self])

    /// Before anything else (before any thread starts): Ctrl-C, SIGTERM and SIGHUP remove the files still being
    /// written, and a file-size limit makes a write fail rather than kill the process (`TemporaryFiles`).
    /// A usage error (an unknown option, a missing argument, a value that does not parse) is invalid input like
    /// any other: one line, `vpcsim: error: …`, exit status 2. `--help` and `--version` print in full and exit 0.
    static func main() {
        TemporaryFiles.removeOnSignals(name: "vpcsim")
        var command: ParsableCommand
        do {
            command = try parseAsRoot(nil)
        } catch {
            exitForUsage(error)
        }
        do {
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    /// Help and version requests as ArgumentParser prints them; every other parsing error as one line, exit 2.
    static func exitForUsage(_ error: Error) -> Never {
        guard exitCode(for: error) != .success else { exit(withError: error) }
        // The message without ArgumentParser's help and usage lines; a control character in an argument it
        // quotes is escaped, so that the error stays on one line.
        let kept = message(for: error).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("Help:") && !$0.hasPrefix("Usage:") && !$0.contains("--help' for more") }
        var text = escapingControlCharacters(kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
        if text.isEmpty { text = "invalid arguments" }
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        if let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase == true {
            text = first.lowercased() + text.dropFirst()
        }
        // ArgumentParser's pointer to the help of the subcommand concerned, kept on the same line.
        let help = fullMessage(for: error).split(separator: "\n")
            .first { $0.contains("See '") && $0.contains("--help'") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let hint = help.flatMap { line -> String? in
            guard let start = line.range(of: "'"), let end = line.range(of: "'", options: .backwards),
                  start.upperBound < end.lowerBound else { return nil }
            return String(line[start.upperBound..<end.lowerBound])
        } ?? "vpcsim --help"
        FileHandle.standardError.write(Data("vpcsim: error: \(text) (see '\(hint)')\n".utf8))
        Foundation.exit(2)
    }
}

/// `--capture all|none|NAME,…` as Runner wants it: nil for all, empty for none.
func captureSelection(_ option: String) -> Set<String>? {
    switch option.trimmingCharacters(in: .whitespaces) {
    case "all": return nil
    case "none": return []
    default:
        let names = option.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if names.isEmpty { fail("--capture '\(option)': expected all, none or capture point names (comma-separated)") }
        return Set(names)
    }
}

/// The lines of the report's FLOWS section (after its heading, up to the first empty line), each with its newline:
/// what `--quiet` prints. Found in the UTF-8 bytes: splitting a report of many flows into lines took seconds.
func flowsSection(_ text: String) -> String {
    let bytes = Array(text.utf8)
    let heading = Array("FLOWS\n".utf8)
    var start = -1
    var i = 0
    while i + heading.count <= bytes.count {
        if (i == 0 || bytes[i - 1] == 0x0A), bytes[i..<(i + heading.count)].elementsEqual(heading) {
            start = i + heading.count
            break
        }
        guard let next = bytes[i...].firstIndex(of: 0x0A) else { break }
        i = next + 1
    }
    guard start >= 0 else { return "" }
    var end = start
    while end < bytes.count, bytes[end] != 0x0A {
        guard let next = bytes[end...].firstIndex(of: 0x0A) else { end = bytes.count; break }
        end = next + 1
    }
    return String(decoding: bytes[start..<end], as: UTF8.self)
}

/// "a, b or c": the values an option takes, for its error.
func alternatives(_ names: [String]) -> String {
    names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
}

/// Prints a one-line error to stderr and exits with status 2 (invalid input). Any control character in the
/// message (a newline in a value or a path it quotes) is escaped: the error stays one line.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("vpcsim: error: \(escapingControlCharacters(message))\n".utf8))
    Foundation.exit(2)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario: captures per hop, all-hops.pcapng, flow-logs.txt, report.txt, report.json and report.html.")

    @Argument(help: "The scenario file (YAML); or give --network and --flows.")
    var scenario: String?

    @Option(name: .long, help: "The network: a scenario file (e.g. from `vpcsim import terraform`), run with --flows.")
    var network: String?

    @Option(name: .long, help: "The traffic (outside_hosts, flows, generators) in a file of its own, run through --network.")
    var flows: String?

    @Option(name: .long, help: "Output directory (default: captures/<scenario name>).")
    var out: String?

    @Option(name: .long, help: "Random seed (default: the scenario's, else 1).")
    var seed: UInt64?

    @Option(name: .long, help: "Capture points: all, none, or a comma-separated list of names or component ids.")
    var capture: String = "all"

    @Flag(inversion: .prefixedNo,
          help: "Write all-hops.pcapng (every point as an interface, a comment on every packet) besides the per-point pcaps.")
    var allHops = true

    @Flag(inversion: .prefixedNo, help: "Write flow-logs.txt (what VPC Flow Logs would record at each ENI).")
    var flowLogs = true

    @Flag(inversion: .prefixedNo, help: "Write report.html (the topology with each flow's path, a ladder per flow, fleets, files).")
    var html = true

    @Flag(name: .long, help: "Print only the flow summary lines.")
    var quiet = false

    func run() throws {
        let selection = captureSelection(capture)
        let outcome: Runner.Outcome
        do {
            var options = Runner.Options(outDir: out, seed: seed, capture: selection)
            options.allHops = allHops
            options.flowLogs = flowLogs
            options.html = html
            if !quiet { options.progress = ProgressLine.shared.update }
            switch (scenario, network, flows) {
            case (let path?, nil, nil):
                outcome = try Runner.run(path: path, options: options)
            case (nil, let n?, let f?):
                var s = try ScenarioLoader.load(networkPath: n, flowsPath: f)
                if let seed { s.seed = seed }
                outcome = try Runner.run(scenario: s, options: options)
            case (nil, _?, nil), (nil, nil, _?):
                fail("--network and --flows go together: the network, and the flows to run through it (see 'vpcsim run --help')")
            case (_?, _, _):
                fail("a scenario file, or --network and --flows, not both (see 'vpcsim run --help')")
            default:
                // As ArgumentParser says it when the one argument was required.
                fail("missing expected argument '<scenario>' (see 'vpcsim run --help')")
            }
            ProgressLine.shared.finish()
        } catch let e as ScenarioError {
            fail(e.description)
        } catch let e as CaptureFileError {
            fail(e.description)
        } catch let e as Runner.OptionError {
            fail(e.description)  // about an option, not the scenario file
        } catch {
            fail("\(scenario ?? network ?? ""): \(error)")
        }
        if quiet {
            print(flowsSection(outcome.text), terminator: "")
        } else {
            print(outcome.text, terminator: "")
        }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a scenario file without running it.")

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    func run() throws {
        do {
            let s = try ScenarioLoader.load(path: scenario)
            let m = s.model
            print("\(scenario): ok — \(m.vpcs.count) VPC, \(m.subnets.count) subnets, \(m.routeTables.count) route tables, "
                + "\(m.networkACLs.count) network ACLs, \(m.securityGroups.count) security groups, "
                + "\(m.natGateways.count) NAT gateways, \(m.enis.count) ENIs, \(s.flows.count) flows")
            let ipv6 = m.ipv6Listing
            if !ipv6.isEmpty { print("IPv6:\n" + ipv6.map { "  " + $0 + "\n" }.joined(), terminator: "") }
            for w in s.warnings { FileHandle.standardError.write(Data("vpcsim: warning: \(w)\n".utf8)) }
        } catch let e as ScenarioError {
            fail(e.description)
        } catch {
            fail("\(scenario): \(error)")
        }
    }
}

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one ad-hoc flow through a scenario: same report, captures and exit codes as run.")

    @Argument(help: "The scenario file (YAML), hand-written or from `vpcsim import aws`.")
    var scenario: String

    @Option(name: .long, help: "Source: a Lambda function name (its subnet drawn as for a flow; function@subnet pins one), an instance id or name, an ENI id, or an IP.")
    var from: String

    @Option(name: .long, help: "Destination: <outside host|instance|IP>:<port>.")
    var to: String

    @Option(name: .long, help: "Application: \(AppProfile.allCases.map(\.rawValue).joined(separator: ", ")) (default: what the destination declares listening on the port, else the port's usual one — 22 sftp, 443 https, 80 http — else tcp; the report says when it was assumed).")
    var app: String?

    @Option(name: .long, help: "Bytes to transfer, as a flow's size: 1234, 100KB, 2MB, 1MiB (file size for sftp, response for https, echo for tcp; default 100000, at most 1 GiB).")
    var size: String?

    @Option(name: .long, help: "HTTPS request size, as a flow's request_size (default 300).")
    var requestSize: String?

    @Option(name: .long, help: "Client program: \(ClientProfile.all.map(\.name).joined(separator: ", ")) (default per app, as a flow's client).")
    var client: String?

    @Option(name: .long, help: "The client's connect timeout, as a flow's connect_timeout: 20s, 1500ms.")
    var connectTimeout: String?

    @Option(name: .long, help: "Keep the connection open, idle, this long after the exchange, as a flow's hold: 120s, 6m.")
    var hold: String?

    @Option(name: .long, help: "A fixed client port, as a flow's source_port (1-65535).")
    var sourcePort: String?

    @Option(name: .long, help: "An interactive sftp session's commands and pauses, as a flow's steps, comma-separated: \"ls, idle 400s, put 1MB\" (not with --size).")
    var steps: String?

    @Option(name: .long, help: "The client's TCP keepalive time, as a flow's keepalive: 60s (default off, as on Linux).")
    var keepalive: String?

    @Option(name: .long, help: "OpenSSH ServerAliveInterval (sftp), as a flow's server_alive_interval: 60s (default off).")
    var serverAliveInterval: String?

    @Option(name: .long, help: "OpenSSH ServerAliveCountMax (sftp, with --server-alive-interval), as a flow's server_alive_count_max: 0-1000 (default 3).")
    var serverAliveCountMax: String?

    @Option(name: .long, help: "An unknown public destination: listen, closed or silent.")
    var unknownHost: String = "listen"

    @Option(name: .long, help: "The address family to reach a destination named by host or instance over: ipv4 or ipv6 (default: IPv4 unless an end has IPv6 only; an IPv6 --to is IPv6).")
    var addressFamily: String?

    @Option(name: .long, help: "Expected outcome (\(FlowOutcome.allCases.map(\.rawValue).joined(separator: ", "))): exit 1 otherwise.")
    var expect: String?

    @Option(name: .long, help: "Output directory (default: captures/<scenario name>-trace).")
    var out: String?

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64?

    @Option(name: .long, help: "Capture points: all, none, or a comma-separated list of names or component ids.")
    var capture: String = "all"

    @Flag(inversion: .prefixedNo, help: "Write report.html (the topology with the flow's path, its ladder, files).")
    var html = true

    @Flag(name: .long, help: "Print only the flow summary line.")
    var quiet = false

    @Option(name: .long, help: "Also send one TCP SYN of this many bytes (IP total length, 68-65535), DF set, along the traced path, and say which link's MTU it exceeds first and what becomes of the ICMP (docs/scenarios.md).")
    var probeSize: String?

    func run() throws {
        var probeBytes: Int?
        if let probeSize {
            guard let n = Int(probeSize), (68...65535).contains(n) else {
                fail("--probe-size \(probeSize): expected a whole number of bytes from 68 to 65535")
            }
            probeBytes = n
        }
        var options = AdHocTrace.Options(size: size, requestSize: requestSize, client: client,
                                         connectTimeout: connectTimeout, hold: hold, sourcePort: sourcePort)
        options.steps = steps
        options.keepalive = keepalive
        options.serverAliveInterval = serverAliveInterval
        options.serverAliveCountMax = serverAliveCountMax
        if let app {
            guard let a = AppProfile(rawValue: app) else {
                fail("--app \(app): expected \(alternatives(AppProfile.allCases.map(\.rawValue)))")
            }
            options.app = a
        }
        guard let unknown = AdHocTrace.UnknownHost(rawValue: unknownHost) else {
            fail("--unknown-host \(unknownHost): expected listen, closed or silent")
        }
        options.unknownHost = unknown
        if let addressFamily {
            guard let f = ClientProfile.AddressFamily(rawValue: addressFamily), f != .happyEyeballs else {
                fail("--address-family \(addressFamily): expected ipv4 or ipv6")
            }
            options.addressFamily = f
        }
        var expected: FlowOutcome?
        if let expect {
            guard let o = FlowOutcome(rawValue: expect) else {
                fail("--expect \(expect): expected \(alternatives(FlowOutcome.allCases.map(\.rawValue)))")
            }
            expected = o
        }
        var s: Scenario
        do {
            s = try ScenarioLoader.load(path: scenario)
            s = try AdHocTrace.scenario(s, from: from, to: to, options: options)
        } catch let e as ScenarioError {
            fail(e.description)
        } catch let e as AdHocTrace.Problem {
            fail(e.message)  // about an option, not the scenario file
        } catch {
            fail("\(scenario): \(error)")
        }
        if let expected { s.flows[0].expect = FlowExpectation(outcome: expected, location: "--expect") }
        if let seed { s.seed = seed }
        let selection = captureSelection(capture)
        let outcome: Runner.Outcome
        do {
            var runOptions = Runner.Options(outDir: out ?? "captures/\(s.name)-trace", capture: selection)
            runOptions.html = html
            if !quiet { runOptions.progress = ProgressLine.shared.update }
            outcome = try Runner.run(scenario: s, options: runOptions)
            ProgressLine.shared.finish()
        } catch {
            fail("\(error)")
        }
        print(quiet ? flowsSection(outcome.text) : outcome.text, terminator: "")
        if let probeBytes {
            print("path MTU probe: " + PathMTUProbe.run(s, flow: s.flows[0], size: probeBytes).text)
        }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}

/// Progress on stderr for work longer than a second: a bar redrawn in place on a terminal (at most every
/// `terminalInterval` seconds), a line every five seconds otherwise. Reads the wall clock only to decide when to
/// draw; nothing of it reaches an output file.
final class ProgressLine: @unchecked Sendable {
    /// A run's and a trace's.
    static let shared = ProgressLine()
    private let lock = NSLock()
    private let started = Date()
    private let terminalInterval: Double
    private var lastDrawn: Date?
    private let terminal = isatty(FileHandle.standardError.fileDescriptor) != 0
    private var drew = false

    init(terminalInterval: Double = 0) { self.terminalInterval = terminalInterval }

    func update(_ p: Runner.Progress) {
        let fraction = p.flowsTotal > 0 ? Double(p.flowsStarted) / Double(p.flowsTotal) : 0
        show(fraction) {
            String(format: "%3.0f%%  virtual %.1f s  %d/%d flows started, %d in progress",
                   fraction * 100, Double(p.now) / 1e9, p.flowsStarted, p.flowsTotal, p.activeFlows)
        }
    }

    /// Draws `fraction` done with the line `text` makes, when it is time to.
    func show(_ fraction: Double, _ text: () -> String) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(started) > 1 else { return }
        if let last = lastDrawn, now.timeIntervalSince(last) < (terminal ? terminalInterval : 5) { return }
        lastDrawn = now
        if terminal {
            let width = 24
            let done = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: done) + String(repeating: ".", count: width - done)
            FileHandle.standardError.write(Data("\r[\(bar)] \(text())\u{1B}[K".utf8))
        } else {
            FileHandle.standardError.write(Data("vpcsim: \(text())\n".utf8))
        }
        drew = true
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if terminal && drew { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
