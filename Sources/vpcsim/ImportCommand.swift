import ArgumentParser
import Foundation
import Packets
import Sim

/// `vpcsim import aws DIR [--out FILE]`: an AWS CLI JSON dump → a scenario file. Thin: the work is
/// `AWSImporter.importDirectory` (Sources/Sim/Import); docs/import.md.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a read-only dump of a real account into a scenario.",
        subcommands: [AWS.self, Terraform.self])

    struct AWS: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "aws",
            abstract: "AWS CLI JSON (describe-vpcs, describe-subnets, …, lambda list-functions; see scripts/dump-aws.sh) "
                + "→ a scenario YAML file.",
            discussion: """
                Every *.json file under DIR (recursively) is recognised by its top-level key, whatever it is called.
                What the model does not support is printed as a warning on stderr and listed in the file's header.
                Exit status: 0 written (warnings or not), 2 unreadable or malformed input (one line on stderr).
                """)

        @Argument(help: "The dump directory (or one JSON file).")
        var dir: String

        @Option(name: .long, help: "Write the scenario here (atomically); default: standard output.")
        var out: String?

        @Option(name: .long, help: "The scenario's name (default: aws-<directory name>).")
        var name: String?

        @Flag(name: .long, help: "Do not print the warnings (the summary line and the file's header still count them).")
        var quiet = false

        func run() throws {
            let result: AWSImport
            do {
                result = try AWSImporter.importDirectory(dir, options: AWSImportOptions(scenarioName: name))
            } catch let e as AWSImportError {
                fail(e.description)
            } catch let e as AWSDumpValueError {
                fail(e.description)
            } catch {
                fail("\(dir): \(error)")
            }
            let err = FileHandle.standardError
            if !quiet {
                for w in result.warnings { err.write(Data("vpcsim: warning: \(w.description)\n".utf8)) }
            }
            if let out {
                do {
                    try writeScenarioAtomically(result.yaml, to: out)
                } catch {
                    fail("\(out):0:0: cannot write: \(error)")
                }
            } else {
                FileHandle.standardOutput.write(Data(result.yaml.utf8))
            }
            let n = result.warnings.count
            err.write(Data(("vpcsim: imported \(dir): \(result.counts.summary); \(n) warning\(n == 1 ? "" : "s")"
                + (out.map { " → \($0)" } ?? "") + "\n").utf8))
        }
    }
}

extension Import {
    struct Terraform: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "terraform",
            abstract: "A Terraform (or OpenTofu) plan as `terraform show -json PLANFILE` prints it → a scenario YAML file.",
            discussion: """
                The network the plan leaves (or, with --prior, the one before it). Values known only after apply are
                wired through the configuration's references and invented deterministically; the scenario lists them
                under `invented:` and the run report prints them with the assumptions. Resources the simulator does not
                model are listed once per type. format_version 0.1 through 1.x; docs/terraform.md.
                Exit status: 0 written (warnings or not), 2 unreadable or malformed input (one line on stderr).
                """)

        @Argument(help: "The plan as JSON (terraform show -json PLANFILE > plan.json).")
        var plan: String

        @Option(name: .long, help: "Write the scenario here (atomically); default: standard output.")
        var out: String?

        @Option(name: .long, help: "What the plan refers to but does not hold: a scenario fragment (.yaml) or an AWS CLI dump (directory or .json).")
        var with: String?

        @Flag(name: .long, help: "The network before the plan (prior_state) instead of the one it leaves.")
        var prior = false

        @Option(name: .long, help: "The scenario's name (default: tf-<plan file name>).")
        var name: String?

        @Flag(name: .long, help: "Do not print the warnings (the summary line and the file's header still count them).")
        var quiet = false

        func run() throws {
            let result: TerraformImport
            do {
                result = try TerraformPlanImporter.importPlan(
                    plan, options: TerraformImportOptions(scenarioName: name, side: prior ? .prior : .planned, with: with))
            } catch let e as AWSImportError {
                fail(e.description)
            } catch let e as AWSDumpValueError {
                fail(e.description)
            } catch {
                fail("\(plan): \(error)")
            }
            let err = FileHandle.standardError
            if !quiet {
                for w in result.warnings { err.write(Data("vpcsim: warning: \(w.description)\n".utf8)) }
            }
            if let out {
                do {
                    try writeScenarioAtomically(result.yaml, to: out)
                } catch {
                    fail("\(out):0:0: cannot write: \(error)")
                }
            } else {
                FileHandle.standardOutput.write(Data(result.yaml.utf8))
            }
            let n = result.warnings.count, k = result.invented.count
            err.write(Data(("vpcsim: imported \(plan) (format_version \(result.formatVersion)): \(result.counts.summary); "
                + "\(k) invented value\(k == 1 ? "" : "s"); \(n) warning\(n == 1 ? "" : "s")"
                + (out.map { " → \($0)" } ?? "") + "\n").utf8))
        }
    }
}

/// Writes beside the target and renames over it, so the file appears only when complete.
func writeScenarioAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
    do {
        try TemporaryFiles.creating(tmp.path) { try Data(text.utf8).write(to: tmp) }
    } catch {
        TemporaryFiles.remove(tmp.path)
        throw ImportWriteError(description: (error as NSError).localizedDescription)
    }
    if rename(tmp.path, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        TemporaryFiles.remove(tmp.path)
        throw ImportWriteError(description: reason)
    }
    TemporaryFiles.forget(tmp.path)
}

struct ImportWriteError: Error, CustomStringConvertible { var description: String }
