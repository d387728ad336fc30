import Foundation
import Testing
@testable import Sim

/// A scenario's YAML text run through `Runner` and varied for one test, as the story suites do it (hairpin,
/// appliances, peering, endpoints).
enum ScenarioText {
    /// Loads `text` as the file named `file` and runs it: into `out`, or in memory without flow logs.
    static func run(_ text: String, file: String, out: String? = nil) throws -> Runner.Outcome {
        let s = try ScenarioLoader.load(yaml: text, file: file)
        var o = out.map { Runner.Options(outDir: $0) } ?? Runner.Options(writeFiles: false)
        if out == nil { o.flowLogs = false }
        return try Runner.run(scenario: s, options: o)
    }

    /// The error loading `text` as the file named `file` gives; nil when it loads.
    static func error(_ text: String, file: String) -> ScenarioError? {
        do {
            _ = try ScenarioLoader.load(yaml: text, file: file)
            return nil
        } catch let e as ScenarioError {
            return e
        } catch {
            return nil
        }
    }

    /// `text` with every `old` replaced by `new`; `old` must be there (a test never varies what is not).
    static func replacing(_ text: String, _ old: String, _ new: String) -> String {
        precondition(text.contains(old), "the scenario has \(old)")
        return text.split(separator: old, omittingEmptySubsequences: false).joined(separator: new)
    }
}
