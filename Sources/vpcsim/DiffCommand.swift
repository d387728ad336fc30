import ArgumentParser
import Foundation
import Sim

/// `vpcsim diff BEFORE AFTER` / `vpcsim diff --plan plan.json`: the same flows through two networks; what changed.
/// Thin: the work is `NetworkDiff` (Sources/Sim/Diff); docs/ci.md.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Run the same flows through two networks and report each flow whose outcome, drop point or path changed.",
        discussion: """
            BEFORE and AFTER are scenario files, AWS CLI dumps (a directory or .json) or Terraform plans (.json:
            the network the plan leaves); --plan takes both from one plan (prior_state and the planned values).
            The flows are --flows FILE's (outside_hosts, flows), else each scenario's own, matched by name.
            Exit status: 0 nothing regressed, 1 a flow that was ok is not, 2 invalid input.
            """)

    @Argument(help: "BEFORE and AFTER (or none, with --plan).")
    var networks: [String] = []

    @Option(name: .long, help: "A Terraform plan (terraform show -json): its prior_state against what it leaves.")
    var plan: String?

    @Option(name: .long, help: "The flows (outside_hosts, flows) to run through both, in a file of their own.")
    var flows: String?

    @Flag(name: .long, help: "Add a probe from every instance and Lambda function to every port of every outside host, and to every other instance on the TCP and UDP ports its security groups open (UDP: a first-datagram verdict each way).")
    var probes = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Option(name: .long, help: "text (default) or markdown (a pull-request comment).")
    var format: String = "text"

    func run() throws {
        guard ["text", "markdown"].contains(format) else { fail("--format \(format): expected text or markdown") }
        var before: Scenario, after: Scenario
        let labels: (String, String)
        do {
            switch (plan, networks.count) {
            case (let p?, 0):
                (before, after) = try DiffInput.plan(p, flows: flows)
                labels = ("\(p) (prior_state)", "\(p) (planned)")
            case (nil, 2):
                before = try DiffInput.scenario(networks[0], flows: flows)
                after = try DiffInput.scenario(networks[1], flows: flows)
                labels = (networks[0], networks[1])
            case (_?, _):
                fail("--plan takes the two networks from the plan: give no BEFORE AFTER with it")
            default:
                fail("expected BEFORE AFTER (scenarios, AWS dumps or plans) or --plan PLAN.json")
            }
        } catch let e as ScenarioError {
            fail(e.description)
        } catch let e as AWSDumpValueError {
            fail(e.description)
        } catch {
            fail("\(error)")
        }
        if probes {
            do {
                let note: String?
                (before, after, note) = try NetworkDiff.withProbes(before: before, after: after)
                if let note { FileHandle.standardError.write(Data("vpcsim: warning: \(note)\n".utf8)) }
            } catch let e as AdHocTrace.Problem {
                fail(e.message)
            } catch {
                fail("\(error)")
            }
        }
        if before.flows.isEmpty && after.flows.isEmpty {
            fail("\(flows ?? labels.0): no flows to run through the two networks (give --flows FILE with outside_hosts and flows)")
        }
        var d: NetworkDiff
        do {
            d = try NetworkDiff.run(before: before, after: after, beforeLabel: labels.0, afterLabel: labels.1,
                                    ofPlan: plan != nil)
        } catch {
            fail("\(error)")
        }
        if probes, let note = d.addUDPProbes(before: before, after: after) {
            FileHandle.standardError.write(Data("vpcsim: warning: \(note)\n".utf8))
        }
        print(json ? d.json : format == "markdown" ? d.markdown : d.text, terminator: "")
        if d.regressions > 0 { throw ExitCode(1) }
    }
}
