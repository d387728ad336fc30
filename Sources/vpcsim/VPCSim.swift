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
        subcommands: [Run.self, Validate.self])
}

/// Prints a one-line error to stderr and exits with status 2 (invalid input).
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("vpcsim: error: \(message)\n".utf8))
    Foundation.exit(2)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario: captures per hop, all-hops.pcapng, report.txt and report.json.")

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Option(name: .long, help: "Output directory (default: captures/<scenario name>).")
    var out: String?

    @Option(name: .long, help: "Random seed (default: the scenario's, else 1).")
    var seed: UInt64?

    @Option(name: .long, help: "Capture points: all, none, or a comma-separated list of names or component ids.")
    var capture: String = "all"

    @Flag(name: .long, help: "Print only the flow summary lines.")
    var quiet = false

    func run() throws {
        var selection: Set<String>?
        switch capture {
        case "all": selection = nil
        case "none": selection = []
        default: selection = Set(capture.split(separator: ",").map(String.init))
        }
        let outcome: Runner.Outcome
        do {
            outcome = try Runner.run(path: scenario, options: .init(outDir: out, seed: seed, capture: selection))
        } catch let e as ScenarioError {
            fail(e.description)
        } catch let e as CaptureFileError {
            fail(e.description)
        } catch {
            fail("\(scenario): \(error)")
        }
        if quiet {
            let lines = outcome.text.split(separator: "\n", omittingEmptySubsequences: false)
            var inFlows = false
            for l in lines {
                if l == "FLOWS" { inFlows = true; continue }
                if inFlows, l.isEmpty { break }
                if inFlows { print(l) }
            }
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
        } catch let e as ScenarioError {
            fail(e.description)
        } catch {
            fail("\(scenario): \(error)")
        }
    }
}
