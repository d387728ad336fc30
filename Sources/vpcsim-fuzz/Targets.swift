import Foundation
import Packets
import Sim

/// The parsers under test, each called through the entry point its command calls.
enum Parser: String, CaseIterable {
    case scenario  // vpcsim validate: ScenarioLoader
    case pcap  // vpcsim compare: CaptureComparison (pcap and pcapng through libpcap)
    case logs  // vpcsim compare-logs: FlowLogParser, FlowLogComparison
    case `import`  // vpcsim import aws: AWSImporter

    var ext: String {
        switch self {
        case .scenario: return "yaml"
        case .pcap: return "pcap"
        case .logs: return "log"
        case .import: return "dump"
        }
    }
}

/// What a command would do with an input: its exit status and, for status 2, its error line (without `vpcsim: error: `).
struct Verdict {
    var status: Int32
    var error: String?
    /// Problems the command would show other than through its status (a warning on several lines).
    var problems: [(kind: String, detail: String)] = []
}

/// Runs the input through the parser in this process, mapping thrown errors to the command's exit status and
/// message as Sources/vpcsim does.
func check(_ parser: Parser, input: String, partner: String?) -> Verdict {
    switch parser {
    case .scenario:
        do {
            _ = try ScenarioLoader.load(path: input)
            return Verdict(status: 0)
        } catch let e as ScenarioError {
            return Verdict(status: 2, error: e.description)
        } catch {
            return Verdict(status: 2, error: "\(input): \(error)")
        }
    case .pcap:
        do {
            let c = try CaptureComparison.compare(pathA: input, pathB: partner ?? input, options: CompareOptions())
            _ = CompareRenderer.text(c)
            return Verdict(status: c.exitStatus)
        } catch {
            return Verdict(status: 2, error: error.description)
        }
    case .logs:
        // As `vpcsim compare-logs SIMULATED REAL` runs it: both files streamed, without --ignore-ephemeral-ports.
        do {
            let c = try FlowLogComparison.compare(simulatedFile: partner ?? input, realFile: input, options: .init())
            _ = c.text
            return Verdict(status: c.agree ? 0 : 1)
        } catch {
            return Verdict(status: 2, error: "\(error)")
        }
    case .import:
        do {
            let r = try AWSImporter.importDirectory(input)
            var v = Verdict(status: 0)
            for w in r.warnings where !isOneLine(w.description) {
                v.problems.append(("multi-line-warning", w.description))
            }
            return v
        } catch let e as AWSImportError {
            return Verdict(status: 2, error: e.description)
        } catch let e as AWSDumpValueError {
            return Verdict(status: 2, error: e.description)
        } catch {
            return Verdict(status: 2, error: "\(input): \(error)")
        }
    }
}

struct ErrorLine: Error {
    var line: String
    init(_ line: String) { self.line = line }
}

/// No line breaks of any kind, no control characters but tab.
func isOneLine(_ s: String) -> Bool {
    !s.unicodeScalars.contains { c in
        (c.value < 0x20 && c != "\t") || c.value == 0x7F || c.value == 0x85 || c.value == 0x2028 || c.value == 0x2029
    }
}

/// What is wrong with a verdict: the findings the harness records.
func findings(_ parser: Parser, _ v: Verdict, input: String, partner: String?) -> [(kind: String, detail: String)] {
    var out = v.problems
    guard (0...2).contains(v.status) else { return out + [("status-\(v.status)", v.error ?? "")] }
    guard v.status == 2 else { return out }
    guard let e = v.error, !e.isEmpty else { return out + [("no-message", "")] }
    if e.contains("\n") || e.contains("\r") {
        out.append(("multi-line", e))
    } else if !isOneLine(e) {
        out.append(("control-characters", e))
    }
    if e.contains("internal error") { out.append(("internal-error", e)) }
    let files = [input] + (partner.map { [$0] } ?? [])
    // The input itself, or (a dump) a file in it.
    guard let file = files.first(where: { e.hasPrefix($0 + ":") || (parser == .import && e.hasPrefix($0 + "/")) }) else {
        return out + [("no-location", e)]
    }
    if parser == .scenario {
        // file:line:column:, the line from 1 (0:0 only for a file that cannot be read at all).
        let rest = e.dropFirst(file.count + 1).split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        let line = rest.count == 3 ? Int(rest[0]) : nil
        let column = rest.count == 3 ? Int(rest[1]) : nil
        if line == nil || column == nil || (line == 0 && !e.contains("cannot read")) { out.append(("no-location", e)) }
    }
    return out
}

/// The arguments of the vpcsim command that runs the same input end to end.
func commandLine(_ parser: Parser, input: String, partner: String?, work: String) -> [String] {
    switch parser {
    case .scenario: return ["validate", input]
    case .pcap: return ["compare", input, partner ?? input]
    case .logs: return ["compare-logs", partner ?? input, input]
    case .import: return ["import", "aws", input, "--out", work + "/e2e-imported.yaml", "--quiet"]
    }
}

/// Runs a program with a time limit; nil status and the signal when it died of one; `timedOut` when killed.
struct ChildResult {
    var exitStatus: Int32?
    var signal: Int32?
    var timedOut = false
    var stderr: String
}

func runChild(_ executable: String, _ arguments: [String], timeout: Double, stderrPath: String,
              environment: [String: String]? = nil) -> ChildResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    var env = environment ?? ProcessInfo.processInfo.environment
    env["SWIFT_BACKTRACE"] = "enable=no"  // a crash is reported by its signal; a backtrace costs seconds
    p.environment = env
    _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
    let err = FileHandle(forWritingAtPath: stderrPath)
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    p.standardInput = FileHandle.nullDevice
    do { try p.run() } catch {
        return ChildResult(exitStatus: 127, stderr: "cannot start \(executable): \(error)")
    }
    let deadline = Date().addingTimeInterval(timeout)
    var timedOut = false
    while p.isRunning {
        if Date() > deadline {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
            break
        }
        usleep(2_000)
    }
    p.waitUntilExit()
    try? err?.close()
    let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    if timedOut { return ChildResult(timedOut: true, stderr: text) }
    if p.terminationReason == .uncaughtSignal { return ChildResult(signal: p.terminationStatus, stderr: text) }
    return ChildResult(exitStatus: p.terminationStatus, stderr: text)
}
