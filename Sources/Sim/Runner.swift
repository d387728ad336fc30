import Foundation
import Packets

/// `vpcsim run` as a library call: load, simulate, write captures and reports, check expectations.
public enum Runner {
    public struct Options: Sendable {
        public var outDir: String?
        public var seed: UInt64?
        /// Capture point names or component ids; nil = all; empty = none.
        public var capture: Set<String>?
        public var writeFiles: Bool
        /// Whether to write all-hops.pcapng besides the per-point pcaps (its per-packet comments make it the
        /// largest output of a fleet run).
        public var allHops = true
        /// Whether to record flow logs (flow-logs.txt): a fleet's records are the largest output after its pcaps.
        public var flowLogs = true
        /// Whether to write report.html (the report drawn: topology, paths, ladders) beside report.txt.
        public var html = true
        /// Called every 65,536 events with the run's progress (for a progress bar; never part of an output).
        public var progress: (@Sendable (Progress) -> Void)?
        /// Whether generated flows cross internet gateways without events of their own (`VPCNetwork.fusesFlowsFrom`;
        /// the same outputs either way, which a test checks).
        var fusesHops = true

        public init(outDir: String? = nil, seed: UInt64? = nil, capture: Set<String>? = nil, writeFiles: Bool = true) {
            self.outDir = outDir
            self.seed = seed
            self.capture = capture
            self.writeFiles = writeFiles
        }
    }

    public struct Progress: Sendable {
        /// Virtual time, nanoseconds.
        public var now: Int64
        public var flowsStarted: Int
        public var flowsTotal: Int
        public var activeFlows: Int
    }

    public struct Outcome: Sendable {
        public var report: RunReport
        public var text: String
        /// The run's flow-log records in file order and the file's text (as `flow-logs.txt` holds it), when there
        /// are at most `FlowLogRecorder.keptRecordLimit` (10,000); nil for a bigger run, whose records are only in
        /// the file: memory follows the active connections, not the run's history.
        public var flowLogRecords: [FlowLogRecord]?
        public var flowLogText: String?
        /// How many flow-log records the run wrote.
        public var flowLogRecordCount: Int = 0
        /// The Transit Gateway Flow Logs' text (as `tgw-flow-logs.txt` holds it), when the scenario asks for them.
        public var tgwFlowLogText: String?
        public var outDir: String?
        public var results: [FlowResult]
        /// 0: every expectation held and no flow ended `not-modeled` unexpectedly; 1 otherwise.
        public var exitCode: Int32 { report.expectations_failed > 0 || report.not_modeled_unexpected > 0 ? 1 : 0 }
    }

    public static func run(path: String, options: Options = Options()) throws -> Outcome {
        var scenario = try ScenarioLoader.load(path: path)
        if let seed = options.seed { scenario.seed = seed }
        return try run(scenario: scenario, options: options)
    }

    /// A run option that does not fit the scenario (a `--capture` name that is no capture point of it).
    public struct OptionError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Every name in `selection` is a capture point's name or its component's id: a misspelt one would otherwise
    /// capture nothing, silently.
    static func checkCaptureSelection(_ selection: Set<String>?, _ points: [CapturePoint]) throws {
        guard let selection else { return }
        let known = Set(points.flatMap(\.names))
        let unknown = selection.filter { !known.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let listed = points.prefix(6).map(\.name).joined(separator: ", ")
        throw OptionError(description: "--capture '\(first)': not a capture point or component id of this scenario "
            + "(its points: \(listed)\(points.count > 6 ? ", … \(points.count) in all" : ""); or all, none)")
    }

    public static func run(scenario: Scenario, options: Options = Options()) throws -> Outcome {
        if let names = options.capture, !names.isEmpty {
            // Before the simulation builds every conversation: a misspelt name fails at once.
            try checkCaptureSelection(names, VPCNetwork.capturePoints(of: scenario.model))
        }
        let sim = Simulation(scenario: scenario)
        sim.network.fusesHops = options.fusesHops
        var writer: CaptureWriter?
        var outDir: String?
        // Locked until the run returns, after its last rename (this defer runs after the others): a second run
        // into the directory fails at once rather than mix its files with this one's.
        var directory: OutputDirectory?
        defer { directory?.unlock() }
        if options.writeFiles {
            let dir = options.outDir ?? "captures/\(scenario.name)"
            try ReferenceCaptures.refuseOutput(into: dir, scenario: scenario, defaulted: options.outDir == nil)
            directory = try OutputDirectory(dir)
            outDir = dir
            removeStaleOutputs(in: dir)
            if options.capture.map({ !$0.isEmpty }) ?? true {
                writer = try CaptureWriter(directory: dir, points: sim.network.capturePoints,
                                           startTime: scenario.startTime, application: "vpcsim \(vpcsimVersion)",
                                           select: options.capture, allHops: options.allHops)
            }
        }
        let recorder = RunRecorder(sim: sim, captures: writer)
        sim.network.describesPackets = writer != nil && options.allHops
        // Without captures only the explicit flows' ladders (RunRecorder) look at the packets seen.
        if writer == nil { sim.network.seenFlows = scenario.flows.count }
        sim.network.capturesPoint = writer?.selectedPoints ?? []
        let flowLogs = options.flowLogs
            ? FlowLogRecorder(model: scenario.model, settings: scenario.flowLogs, startTime: scenario.startTime,
                              perConnection: scenario.assumptions.flowLogRecordPerConnection)
            : nil
        // A run that fails leaves none of its outputs, complete or not (some pcaps without a report would be taken
        // for its results); one that succeeds lets go of them, which an interrupt would otherwise remove
        // (TemporaryFiles.renamed).
        var complete = false
        defer {
            if !complete { writer?.abandon() }  // its thread stopped and its temporaries removed first
            if let outDir {
                if !complete { removeStaleOutputs(in: outDir) }
                TemporaryFiles.forget(under: outDir)
            }
        }
        // The recorder runs on a thread of its own during the simulation (FlowLogThread).
        var flowLogThread: FlowLogThread?
        // A failed run leaves no flow-logs.txt (not even an earlier run's) and no spool files; nor does a run
        // without flow logs (an earlier run's file would read as this one's).
        defer {
            flowLogThread?.finish()
            flowLogs?.abandon()
        }
        if let outDir { try flowLogs?.writeFile(to: "\(outDir)/flow-logs.txt") }  // an earlier run's is gone
        if let flowLogs {
            flowLogThread = try FlowLogThread(recorder: flowLogs)
            recorder.interfaceObservers.append(flowLogThread!)
        }
        sim.observer = recorder
        if options.flowLogs, !scenario.flowLogs.transitGateways.isEmpty {
            sim.network.tgwFlowLogs = TGWFlowLogRecorder(model: scenario.model, settings: scenario.flowLogs,
                                                         startTime: scenario.startTime)
        }
        if let progress = options.progress {
            let total = scenario.flows.count + scenario.generators.map(\.count).reduce(0, +)
            sim.onProgress = { s in
                progress(Progress(now: s.scheduler.now, flowsStarted: s.flowsStarted, flowsTotal: total,
                                  activeFlows: s.activeFlows))
            }
        }
        let results = sim.run()
        flowLogThread?.finish()
        var written: [CaptureWriter.Written] = []
        if let writer { written = try writer.close() }

        var flows: [RunReport.Flow] = []
        var checked = 0
        var failed = 0
        var notModeled = 0
        for (i, f) in scenario.flows.enumerated() {
            let r = results[i]
            if r.outcome == .notModeled, f.expect?.outcome != .notModeled { notModeled += 1 }
            var expectation: RunReport.Expectation?
            if let e = f.expect {
                let x = RunReport.check(e, r)
                checked += 1
                if !x.held { failed += 1 }
                expectation = x
            }
            var fix: RunReport.Fix?
            if let found = FixFinder.fix(scenario: scenario, flow: i, result: r) {
                fix = RunReport.Fix(found)
            }
            flows.append(blackHoleNamed(r, RunReport.Flow(
                name: f.name, from: f.sourceLabel, to: f.destination.label, app: f.app.rawValue, app_basis: f.appBasis,
                outcome: r.outcome?.rawValue ?? "timeout", elapsed_s: RunReport.seconds(r.elapsed), message: r.message,
                client_port: r.clientPort == 0 ? nil : Int(r.clientPort), syn_times_s: r.synTimes.map { RunReport.seconds($0) },
                drop: r.drop.map(RunReport.drop), drops: r.drops.map(RunReport.drop),
                hops: r.requestPath.map(RunReport.hop), reply_hops: r.replyPath.map(RunReport.hop), fix: fix,
                expectation: expectation, first_fragment: r.requestPathFragment)))
        }
        var generators: [RunReport.Generator] = []
        for (g, gen) in scenario.generators.enumerated() {
            let gr = sim.generatorResults[g]
            if gen.expect == nil { notModeled += gr.outcomes[.notModeled] ?? 0 }
            var outcomes: [String: Int] = [:]
            for o in FlowOutcome.allCases { outcomes[o.rawValue] = gr.outcomes[o] ?? 0 }
            var expectation: RunReport.GeneratorExpectationResult?
            if let e = gen.expect {
                var failures: [String] = []
                let ok = gr.outcomes[.ok] ?? 0
                if let m = e.minOK, ok < m { failures.append("expected at least \(m) ok, got \(ok)") }
                if let m = e.maxOK, ok > m { failures.append("expected at most \(m) ok, got \(ok)") }
                if let at = e.droppedAt, !gr.drops.contains(where: { $0.component == at }) {
                    failures.append("expected drops at \(at), got " + (gr.drops.isEmpty ? "none"
                        : gr.drops.map(\.componentDisplay).joined(separator: ", ")))
                }
                failures += RunReport.subnetFailures(e, gr, scenario.model)
                checked += 1
                if !failures.isEmpty { failed += 1 }
                expectation = .init(min_ok: e.minOK, max_ok: e.maxOK, dropped_at: e.droppedAt, held: failures.isEmpty,
                                    failures: failures)
            }
            // The fix of the first failed flow a drop explains, found as for an explicit flow (re-run alone: a
            // fix for a NAT gateway's port pressure is not a rule change, and none is proposed for it).
            var fix: RunReport.Fix?
            if let (spec, result) = gr.firstDropped {
                var alone = scenario
                alone.flows = [spec]
                alone.generators = []
                if let found = FixFinder.fix(scenario: alone, flow: 0, result: result),
                   !found.changes.isEmpty || found.advice != nil {
                    fix = RunReport.Fix(found)
                }
            }
            generators.append(RunReport.Generator(
                name: gen.name, from: gen.template.sourceLabel, to: gen.template.destination.label,
                app: gen.template.app.rawValue, flows: gr.total, outcomes: outcomes,
                max_elapsed_s: RunReport.seconds(gr.maxElapsed), drops: gr.drops.map(RunReport.drop),
                first_failures: gr.firstFailures.map {
                    .init(name: $0.name, start_s: RunReport.seconds($0.start), outcome: $0.outcome.rawValue,
                          message: $0.message, drop: $0.drop)
                },
                expectation: expectation, fix: fix, fix_flow: fix == nil ? nil : gr.firstDropped?.spec.name))
        }
        var report = RunReport(
            tool: "vpcsim \(vpcsimVersion)", scenario: scenario.name, file: scenario.file, seed: scenario.seed,
            assumptions: scenario.assumptions.listing.map {
                .init(name: $0.name, value: $0.value, basis: $0.basis,
                      overridden: scenario.assumptions.overridden.contains($0.name))
            } + scenario.invented.map {
                // Values an importer made up (known only after apply in a Terraform plan): assumptions too.
                .init(name: $0.what, value: $0.value, basis: "invented: \($0.how)", overridden: false)
            },
            flows: flows,
            captures: written.map { .init(name: $0.name, file: $0.file, component: $0.component,
                                          description: $0.description, packets: $0.packets) },
            all_hops: writer == nil || !options.allHops ? nil : "all-hops.pcapng",
            nat_gateways: scenario.model.natGateways.enumerated().map { i, n in
                let m = sim.network.natMetrics[i]
                let firstMinute = floorDiv(scenario.startTime, 1_000_000_000)
                let minutes = sim.network.natMetricsPerMinute[i].map { k, pm in
                    RunReport.NATMinute(minute_start: firstMinute + Int64(k) * 60, metrics: pm)
                }
                return .init(id: n.id, name: n.name, metrics: m, reading: RunReport.reading(m), per_minute: minutes)
            },
            expectations_checked: checked, expectations_failed: failed,
            flow_logs: outDir == nil || flowLogs == nil ? nil : "flow-logs.txt")
        report.generators = generators
        report.not_modeled_unexpected = notModeled
        if !scenario.warnings.isEmpty { report.warnings = scenario.warnings }
        report.addLambdaSubnets(scenario: scenario, results: results, generators: sim.generatorResults)
        report.addDrawing(scenario: scenario, points: sim.network.capturePoints, ladders: recorder.ladders,
                          pointKeys: recorder.pointKeys)
        let text = ReportRenderer.text(report, ladders: recorder.ladders, points: sim.network.capturePoints,
                                       outDir: outDir)
        // Records still open complete now; flow-logs.txt, written as they completed, moves into place.
        try flowLogs?.finish()
        let flowLogRecords = flowLogs?.records
        let tgwFlowLogText = sim.network.tgwFlowLogs?.finish()
        if let outDir {
            if let tgwFlowLogText { try writeAtomically(Data(tgwFlowLogText.utf8), to: "\(outDir)/tgw-flow-logs.txt") }
            try writeAtomically(Data(text.utf8), to: "\(outDir)/report.txt")
            try writeAtomically(try encodeReport(report) + Data("\n".utf8), to: "\(outDir)/report.json")
            if options.html {
                let logs = flowLogs == nil ? nil : HTMLReport.flowLogExcerpt(path: "\(outDir)/flow-logs.txt")
                try writeAtomically(Data(try HTMLReport.page(report, flowLogs: logs).utf8), to: "\(outDir)/report.html")
            }
        }
        complete = true
        return Outcome(report: report, text: text, flowLogRecords: flowLogRecords,
                       flowLogText: flowLogs.flatMap { f in flowLogRecords.map(f.text(of:)) },
                       flowLogRecordCount: flowLogs?.recordCount ?? 0, tgwFlowLogText: tgwFlowLogText,
                       outDir: outDir, results: results)
    }

    /// Outputs of an earlier run in the same directory would mix with this run's, or, if this run fails, be
    /// taken for its results: remove the files vpcsim names ("NN-….pcap", all-hops.pcapng, report.txt,
    /// report.json, report.html, flow-logs.txt, tgw-flow-logs.txt), nothing else. Also the unfinished files of a run that was killed outright
    /// (SIGKILL, the OOM killer: `TemporaryFiles` cleans up after the signals that can be caught): an output's
    /// ".NAME.PID.tmp" and its spools "NAME.ifN.PID.spool" / "NAME.eniN.PID.spool", when no process PID is left.
    static func removeStaleOutputs(in dir: String) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir) else { return }
        func isOutput(_ n: Substring) -> Bool {
            ["all-hops.pcapng", "report.txt", "report.json", "report.html", "flow-logs.txt", "tgw-flow-logs.txt"].contains(n)
                || (n.hasSuffix(".pcap") && n.count > 3 && n.prefix(2).allSatisfy(\.isNumber) && n.dropFirst(2).first == "-")
        }
        for n in names.sorted() {
            var ours = isOutput(n[...])
            if !ours, let dead = unfinishedFileOfDeadRun(n), isOutput(dead) { ours = true }
            var isDirectory: ObjCBool = false
            if ours, fm.fileExists(atPath: dir + "/" + n, isDirectory: &isDirectory), !isDirectory.boolValue {
                try? fm.removeItem(atPath: dir + "/" + n)
            }
        }
    }

    /// For ".NAME.PID.tmp", "NAME.ifN.PID.spool" and "NAME.eniN.PID.spool" whose process PID no longer exists:
    /// NAME. Nil for anything else.
    static func unfinishedFileOfDeadRun(_ n: String) -> Substring? {
        let parts = n.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 4, let pid = Int32(parts[parts.count - 2]), pid > 0 else { return nil }
        let name: Substring
        if n.hasPrefix("."), parts.last == "tmp" {
            name = n.dropFirst().dropLast(".\(parts[parts.count - 2]).tmp".count)
        } else if parts.last == "spool", parts.count >= 5 {
            let part = parts[parts.count - 3]
            let digits = part.drop { $0.isLetter }
            guard part.hasPrefix("if") || part.hasPrefix("eni"), !digits.isEmpty, digits.allSatisfy(\.isNumber)
            else { return nil }
            name = n.dropLast(".\(part).\(parts[parts.count - 2]).spool".count)
        } else {
            return nil
        }
        // kill(pid, 0): ESRCH when no such process (EPERM: it exists, someone else's). Our own pid is a killed
        // run's that had it before (a container often gives every run the same one): this run made nothing yet.
        guard pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH) else { return nil }
        return name
    }

    /// Under a temporary name, registered (Foundation's `.atomic` writes use a name of its own that an
    /// interrupted run would leave behind).
    static func writeAtomically(_ data: Data, to path: String) throws {
        try writeFileAtomically([UInt8](data), to: path)
    }
}

/// `flow` with the black hole `r` shows named (report.json's `black_hole`, report.txt's "PATH MTU BLACK HOLE").
private func blackHoleNamed(_ r: FlowResult, _ flow: RunReport.Flow) -> RunReport.Flow {
    var f = flow
    f.black_hole = r.blackHole
    if !r.attempts.isEmpty { f.address_family = r.attempts }
    return f
}
