import Foundation
import Packets

public let vpcsimVersion = "0.1.0"

/// The machine-readable report (`report.json`). Field names are snake_case and stable.
public struct RunReport: Codable, Sendable {
    public struct Assumption: Codable, Sendable {
        public var name: String
        public var value: String
        public var basis: String
        public var overridden: Bool
    }
    public struct Drop: Codable, Sendable {
        public var component: String
        public var component_name: String
        public var kind: String
        public var direction: String?
        public var rule: String
        public var packet: String
        public var first_time_s: Double
        public var count: Int
        /// When the packets were fragments: how many datagrams they were (`count` is the fragments).
        public var datagrams: Int? = nil
    }
    public struct Hop: Codable, Sendable {
        public var step: String
        public var component: String
        public var component_name: String
        public var action: String
        public var rule: String
        public var detail: String?
        /// The box of `topology` the hop happened at: an ENI's, a subnet's (route tables, NACLs) or a gateway's id,
        /// an outside host's name, or "internet".
        public var at: String? = nil
    }
    public struct Fix: Codable, Sendable {
        public var changes: [RuleChange]
        public var verified: Bool
        public var advice: String?
        public var notes: [String]

        init(_ found: FixFinder.Result) {
            changes = found.changes
            verified = found.verified
            advice = found.advice
            notes = found.notes
        }
    }
    public struct Expectation: Codable, Sendable {
        public var outcome: String?
        public var dropped_at: String?
        public var drop_direction: String?
        public var no_drop: Bool
        public var held: Bool
        public var failures: [String]
    }
    public struct Flow: Codable, Sendable {
        public var name: String
        public var from: String
        public var to: String
        public var app: String
        /// How `app` was chosen when the flow did not name it (`vpcsim trace` without `--app`); absent when named.
        public var app_basis: String? = nil
        public var outcome: String
        public var elapsed_s: Double
        public var message: String
        /// Nil when the flow never had one (`no-port`).
        public var client_port: Int?
        public var syn_times_s: [Double]
        public var drop: Drop?
        public var drops: [Drop]
        public var hops: [Hop]
        public var reply_hops: [Hop]
        public var fix: Fix?
        public var expectation: Expectation?
        /// A Lambda flow's subnet and Hyperplane ENI (ids); absent for other sources.
        public var source_subnet: String? = nil
        public var source_eni: String? = nil
        /// The packets of the flow across the capture points (report.txt's ladder), bulk data collapsed into bands.
        public var ladder: [LadderEntry]? = nil
        /// Per capture point that saw the flow: its addresses there and a display filter for them.
        public var seen_at: [PointView]? = nil
        /// A path MTU black hole, named (`FlowResult.blackHole`); absent when there is none.
        public var black_hole: String? = nil
        /// When the first packet of the flow (its path is `hops`) was a fragment: which one ("fragment (offset 0,
        /// MF)"); absent otherwise.
        public var first_fragment: String? = nil
        /// Which address family the client tried, when, and how each attempt ended (`FlowResult.attempts`);
        /// absent for a flow over IPv4 alone.
        public var address_family: [String]? = nil

        /// As synthesized, except that `drop` is always there: null when nothing dropped the flow.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(from, forKey: .from)
            try c.encode(to, forKey: .to)
            try c.encode(app, forKey: .app)
            try c.encodeIfPresent(app_basis, forKey: .app_basis)
            try c.encode(outcome, forKey: .outcome)
            try c.encode(elapsed_s, forKey: .elapsed_s)
            try c.encode(message, forKey: .message)
            try c.encodeIfPresent(client_port, forKey: .client_port)
            try c.encode(syn_times_s, forKey: .syn_times_s)
            try c.encode(drop, forKey: .drop)
            try c.encode(drops, forKey: .drops)
            try c.encode(hops, forKey: .hops)
            try c.encode(reply_hops, forKey: .reply_hops)
            try c.encodeIfPresent(fix, forKey: .fix)
            try c.encodeIfPresent(expectation, forKey: .expectation)
            try c.encodeIfPresent(source_subnet, forKey: .source_subnet)
            try c.encodeIfPresent(source_eni, forKey: .source_eni)
            try c.encodeIfPresent(ladder, forKey: .ladder)
            try c.encodeIfPresent(seen_at, forKey: .seen_at)
            try c.encodeIfPresent(black_hole, forKey: .black_hole)
            try c.encodeIfPresent(first_fragment, forKey: .first_fragment)
            try c.encodeIfPresent(address_family, forKey: .address_family)
        }
    }
    public struct Capture: Codable, Sendable {
        public var name: String
        public var file: String
        public var component: String
        public var description: String
        public var packets: Int
    }
    public struct GeneratedFailure: Codable, Sendable {
        public var name: String
        public var start_s: Double
        public var outcome: String
        public var message: String
        public var drop: String?
    }
    public struct GeneratorExpectationResult: Codable, Sendable {
        public var min_ok: Int?
        public var max_ok: Int?
        public var dropped_at: String?
        public var held: Bool
        public var failures: [String]
    }
    public struct Generator: Codable, Sendable {
        public var name: String
        public var from: String
        public var to: String
        public var app: String
        public var flows: Int
        /// Flows per outcome, every outcome listed.
        public var outcomes: [String: Int]
        public var max_elapsed_s: Double
        public var drops: [Drop]
        public var first_failures: [GeneratedFailure]
        public var expectation: GeneratorExpectationResult?
        /// The rule changes that make the first failed flow a drop explains succeed, re-run alone (`fix_flow`).
        public var fix: Fix?
        public var fix_flow: String?
    }
    public struct NATGateway: Codable, Sendable {
        public var id: String
        public var name: String?
        public var metrics: NATMetrics
        public var reading: [String]
        /// CloudWatch's one-minute periods, from the run's first minute to its last active one.
        public var per_minute: [NATMinute] = []
    }
    /// One minute of a NAT gateway's metrics; `minute_start` in Unix seconds.
    public struct NATMinute: Codable, Sendable {
        public var minute_start: Int64
        public var metrics: NATMetrics
    }

    public var tool: String
    public var scenario: String
    public var file: String
    public var seed: UInt64
    public var assumptions: [Assumption]
    public var flows: [Flow]
    public var captures: [Capture]
    public var all_hops: String?
    public var nat_gateways: [NATGateway]
    public var generators: [Generator] = []
    public var expectations_checked: Int
    public var expectations_failed: Int
    /// Flows that ended `not-modeled` without expecting it (an explicit flow's `expect: {outcome: not-modeled}`;
    /// a generator's flows when the generator has an `expect`): the run exits 1 when there are any.
    public var not_modeled_unexpected: Int = 0
    /// The flow-log file written beside the captures (`flow-logs.txt`), nil when no files were written.
    public var flow_logs: String? = nil
    /// Functions whose invocations used several subnets, split per subnet and NAT gateway; nil when none did.
    public var lambda_subnets: [LambdaSubnets]? = nil
    /// What the scenario says that the simulation does not model (`Scenario.warnings`); nil when nothing.
    public var warnings: [String]? = nil
    /// The scenario's VPCs, subnets, gateways, ENIs and capture points, for drawing (report.html).
    public var topology: Topology? = nil
}

extension RunReport {
    static func seconds(_ ns: Int64) -> Double { (Double(ns) / 1e3).rounded() / 1e6 }

    static func hop(_ s: Step) -> Hop {
        Hop(step: s.kind.rawValue, component: s.component, component_name: s.componentDisplay, action: s.action.rawValue,
            rule: s.rule, detail: s.detail)
    }

    /// "path of the first SYN", of a datagram flow "path of the first echo request" or "… datagram", and when that
    /// was sent in fragments "path of the first echo request's first fragment (offset 0, MF)".
    static func firstPacketHeading(_ f: Flow) -> String {
        let what = f.app == AppProfile.ping.rawValue ? "echo request" : f.app == AppProfile.udp.rawValue ? "datagram" : "SYN"
        return "path of the first \(what)" + (f.first_fragment.map { "'s first \($0)" } ?? "")
    }

    static func drop(_ d: DropInfo) -> Drop {
        Drop(component: d.component, component_name: d.componentDisplay, kind: d.kind, direction: d.direction,
             rule: d.rule, packet: d.packet, first_time_s: seconds(d.firstTime), count: d.count,
             datagrams: d.fragments == d.count && d.datagrams > 0 ? d.datagrams : nil)
    }

    /// "3 packets", or for fragments "3 datagrams (9 fragments)": a datagram's fragments are listed once.
    static func dropCount(_ d: Drop) -> String {
        if let n = d.datagrams { return "\(n) datagram\(n == 1 ? "" : "s") (\(d.count) fragments)" }
        return "\(d.count) packet\(d.count == 1 ? "" : "s")"
    }

    /// Checks a flow's expectation against its result.
    static func check(_ e: FlowExpectation, _ r: FlowResult) -> Expectation {
        var failures: [String] = []
        if let o = e.outcome, o != r.outcome {
            failures.append("expected outcome \(o.rawValue), got \(r.outcome?.rawValue ?? "none")")
        }
        if let at = e.droppedAt {
            if let d = r.drop {
                let names = [d.component] + d.component.split(separator: ",").map(String.init) + [d.componentDisplay]
                let hit = names.contains(at) || d.componentDisplay.contains("(\(at))")
                    || d.componentDisplay.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(at + " ") }
                if !hit { failures.append("expected the drop at \(at), got \(d.componentDisplay)") }
                if let dir = e.dropDirection, d.direction != dir {
                    failures.append("expected the drop \(dir), got \(d.direction ?? "no direction")")
                }
            } else {
                failures.append("expected a drop at \(at), nothing was dropped")
            }
        }
        if e.noDrop, let d = r.drop {
            failures.append("expected no drop, got \(d.count) at \(d.componentDisplay) (\(d.rule))")
        }
        return Expectation(outcome: e.outcome?.rawValue, dropped_at: e.droppedAt, drop_direction: e.dropDirection,
                           no_drop: e.noDrop, held: failures.isEmpty, failures: failures)
    }

    /// What engineers read from NAT gateway metrics (VPC-UG vpc-nat-gateway-cloudwatch).
    static func reading(_ m: NATMetrics) -> [String] {
        var out: [String] = []
        if m.connectionAttemptCount > m.connectionEstablishedCount {
            out.append("ConnectionAttemptCount (\(m.connectionAttemptCount)) > ConnectionEstablishedCount "
                + "(\(m.connectionEstablishedCount)): replies are not coming back")
        }
        if m.errorPortAllocation > 0 {
            out.append("ErrorPortAllocation \(m.errorPortAllocation): more than 55,000 simultaneous connections to "
                + "one destination; add NAT gateway addresses")
        }
        if m.idleTimeoutCount > 0 {
            out.append("IdleTimeoutCount \(m.idleTimeoutCount): connections idle over 350 s were closed; "
                       + "send keepalives more often (TCP keepalive, ssh ServerAliveInterval)")
        }
        if m.packetsDropCount > 0 { out.append("PacketsDropCount \(m.packetsDropCount)") }
        return out
    }
}

/// Renders a run for people: flows, their paths and drops, fixes, a ladder diagram, NAT metrics, assumptions.
public enum ReportRenderer {
    /// A fix's changes, return-path notes and advice, as the report prints them under a flow or a generator.
    static func fixText(_ fix: RunReport.Fix, heading: String, verified: String) -> String {
        var s = ""
        if !fix.changes.isEmpty {
            s += "  \(heading)\(fix.verified ? " (verified: \(verified))" : " (partial)"):\n"
            for c in fix.changes { s += "    • \(c.component) \(c.change)\n        \(c.reason)\n" }
        }
        for n in fix.notes { s += "    ✓ return path: \(n)\n" }
        if let a = fix.advice { s += "  ADVICE: \(a)\n" }
        return s
    }

    public static func text(_ r: RunReport, ladders: [[LadderRow]], points: [CapturePoint], outDir: String?) -> String {
        var s = "vpcsim \(vpcsimVersion) — scenario \(r.scenario) (\(r.file)), seed \(r.seed)\n\n"
        s += "FLOWS\n"
        let nameW = max(4, r.flows.map(\.name.count).max() ?? 4)
        let routeW = max(5, r.flows.map { "\($0.from) → \($0.to)".count }.max() ?? 5)
        for f in r.flows {
            let mark = f.outcome == "ok" ? "✔" : f.outcome == FlowOutcome.notModeled.rawValue ? "?" : "✘"
            let route = "\(f.from) → \(f.to)"
            s += "  \(mark) \(pad(f.name, nameW))  \(pad(route, routeW))  \(pad(f.app, 5))  "
                + "\(pad(f.outcome == "ok" ? "ok" : f.outcome.uppercased(), 11)) \(lpad(format3(f.elapsed_s), 8)) s"
            if f.outcome != "ok" { s += "  \(f.message)" }
            s += "\n"
        }
        for g in r.generators {
            let ok = g.outcomes["ok"] ?? 0
            s += "  \(ok == g.flows ? "✔" : "✘") \(g.name) ×\(g.flows)  \(g.from) → \(g.to)  \(g.app)  "
                + FlowOutcome.allCases.compactMap { o in g.outcomes[o.rawValue].flatMap { $0 > 0 ? "\($0) \(o.rawValue)" : nil } }
                    .joined(separator: ", ") + "\n"
        }
        for (i, f) in r.flows.enumerated() {
            s += "\n── \(f.name) " + String(repeating: "─", count: max(3, 76 - f.name.count)) + "\n"
            // A ping's "port" is its echo identifier (iputils ping: the ICMP socket's id).
            s += "  \(f.from) → \(f.to) (\(f.app)), \(f.app == AppProfile.ping.rawValue ? "echo id" : "client port") "
                + "\(f.client_port.map(String.init) ?? "none")\n"
            if let basis = f.app_basis { s += "  app \(f.app): \(basis)\n" }
            s += "  outcome: \(f.outcome) after \(format3(f.elapsed_s)) s — \(f.message)\n"
            s += sourceSubnetText(f, r)
            for line in f.address_family ?? [] { s += "  address family: \(line)\n" }
            if !f.syn_times_s.isEmpty, f.syn_times_s.count > 1 || f.outcome != "ok" {
                s += "  SYNs sent at: " + f.syn_times_s.map { trim($0) + " s" }.joined(separator: ", ") + "\n"
            }
            if !f.hops.isEmpty {
                s += "  \(RunReport.firstPacketHeading(f)):\n"
                for (k, h) in f.hops.enumerated() { s += "    \(lpad(String(k + 1), 2))  \(hopText(h))\n" }
            }
            if !f.reply_hops.isEmpty {
                s += "  path of the first reply:\n"
                for (k, h) in f.reply_hops.enumerated() { s += "    \(lpad(String(k + 1), 2))  \(hopText(h))\n" }
            }
            for d in f.drops {
                s += "  DROPPED \(RunReport.dropCount(d)) at \(d.component_name)"
                    + (d.direction.map { " \($0)" } ?? "") + ": \(d.rule)\n"
                s += "          first: \(d.packet) at \(format6(d.first_time_s)) s\n"
            }
            if let hole = f.black_hole { s += "  PATH MTU BLACK HOLE: \(hole)\n" }
            if let fix = f.fix {
                s += fixText(fix, heading: "FIX", verified: "the flow succeeds when re-run with these changes")
            }
            if let e = f.expectation {
                s += e.held ? "  expectation held\n" : "  EXPECTATION FAILED: " + e.failures.joined(separator: "; ") + "\n"
            }
            // A failed flow's ladder shows every packet kept; a successful one its opening.
            if i < ladders.count, !ladders[i].isEmpty {
                s += ladder(Array(ladders[i].prefix(f.outcome == "ok" ? 12 : ladders[i].count)), points: points)
            }
        }
        for g in r.generators {
            s += "\n── generator \(g.name) " + String(repeating: "─", count: max(3, 66 - g.name.count)) + "\n"
            s += "  \(g.flows) flows \(g.from) → \(g.to) (\(g.app)): "
                + FlowOutcome.allCases.compactMap { o in g.outcomes[o.rawValue].flatMap { $0 > 0 ? "\($0) \(o.rawValue)" : nil } }
                    .joined(separator: ", ")
                + "; the longest took \(format3(g.max_elapsed_s)) s\n"
            for d in g.drops {
                s += "  DROPPED \(RunReport.dropCount(d)) at \(d.component_name)"
                    + (d.direction.map { " \($0)" } ?? "") + ": \(d.rule)\n"
            }
            if !g.first_failures.isEmpty {
                s += "  first failed flows:\n"
                for f in g.first_failures {
                    s += "    \(pad(f.name, 18)) started \(lpad(format3(f.start_s), 9)) s  \(f.outcome): \(f.message)"
                        + (f.drop.map { " — dropped at \($0)" } ?? "") + "\n"
                }
            }
            if let fix = g.fix, let flow = g.fix_flow {
                s += fixText(fix, heading: "FIX for \(flow)", verified: "it succeeds when re-run alone with these changes")
            }
            if let e = g.expectation {
                s += e.held ? "  expectation held\n" : "  EXPECTATION FAILED: " + e.failures.joined(separator: "; ") + "\n"
            }
        }
        s += lambdaSubnetsText(r)
        if !r.nat_gateways.isEmpty {
            s += "\nNAT GATEWAYS (CloudWatch AWS/NATGateway, totals for the run)\n"
            for n in r.nat_gateways {
                let m = n.metrics
                s += "  \(n.name.map { "\(n.id) (\($0))" } ?? n.id): ConnectionAttemptCount \(m.connectionAttemptCount), "
                    + "ConnectionEstablishedCount \(m.connectionEstablishedCount), ErrorPortAllocation \(m.errorPortAllocation), "
                    + "IdleTimeoutCount \(m.idleTimeoutCount), PacketsDropCount \(m.packetsDropCount), "
                    + "peak ActiveConnectionCount \(m.peakActiveConnectionCount)\n"
                for line in n.reading { s += "    → \(line)\n" }
                s += natMinuteTable(n.per_minute)
            }
        }
        if let w = r.warnings {
            s += "\nWARNINGS (in the scenario, not modeled)\n"
            for line in w { s += "  \(line)\n" }
        }
        s += "\nASSUMPTIONS (AWS behaviour the documentation leaves open; override under `assumptions:`)\n"
        for a in r.assumptions {
            s += "  \(pad(a.name, 32)) \(pad(a.value, 12)) \(a.overridden ? "set by the scenario" : a.basis)\n"
        }
        if !r.captures.isEmpty {
            // The output directory is not named: the same scenario and seed give the same bytes wherever written.
            s += "\nCAPTURES\n"
            for c in r.captures { s += "  \(pad(c.file, 58)) \(lpad(String(c.packets), 6)) packets\n" }
            if let a = r.all_hops { s += "  \(pad(a, 58)) every point, one interface each, a comment on every packet\n" }
        }
        if let f = r.flow_logs {
            s += "\nFLOW LOGS\n  \(pad(f, 58)) what VPC Flow Logs would record at each ENI (docs/flow-logs.md)\n"
        }
        if r.expectations_checked > 0 {
            s += "\nEXPECTATIONS: \(r.expectations_checked - r.expectations_failed) of \(r.expectations_checked) held\n"
        }
        if r.not_modeled_unexpected > 0 {
            s += "\nNOT MODELED: \(r.not_modeled_unexpected) flow\(r.not_modeled_unexpected == 1 ? "" : "s") routed to a "
                + "component the model does not have; no verdict, no fix (expect: {outcome: not-modeled} accepts it)\n"
        }
        return s
    }

    /// NAT metrics per minute: a row per minute with activity (minutes without any are left out).
    static func natMinuteTable(_ minutes: [RunReport.NATMinute]) -> String {
        let active = minutes.filter { $0.metrics != NATMetrics() }
        guard !active.isEmpty else { return "" }
        let cols: [(String, (NATMetrics) -> Int)] = [
            ("Attempt", \.connectionAttemptCount), ("Established", \.connectionEstablishedCount),
            ("Active", \.peakActiveConnectionCount), ("IdleTimeout", \.idleTimeoutCount),
            ("PortAlloc", \.errorPortAllocation), ("Drop", \.packetsDropCount),
            ("PktInSrc", \.packetsInFromSource), ("PktOutDst", \.packetsOutToDestination),
            ("PktInDst", \.packetsInFromDestination), ("PktOutSrc", \.packetsOutToSource),
        ]
        var s = "    per minute (UTC)  " + cols.map { lpad($0.0, max(6, $0.0.count)) }.joined(separator: " ") + "\n"
        for m in active {
            s += "    \(pad(utcMinute(m.minute_start), 16))  "
                + cols.map { lpad(String($0.1(m.metrics)), max(6, $0.0.count)) }.joined(separator: " ") + "\n"
        }
        return s
    }

    /// "2026-11-26 09:00" for Unix seconds.
    static func utcMinute(_ unix: Int64) -> String {
        let (y, m, d, secs) = ScenarioValues.civil(seconds: unix)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d)) \(two(secs / 3600)):\(two(secs % 3600 / 60))"
    }

    static func hopText(_ h: RunReport.Hop) -> String {
        var s: String
        switch h.step {
        case "internet": s = "internet: \(h.rule)"
        case "delivered": s = "\(h.component_name): \(h.rule)"
        default: s = "\(h.component_name) \(label(h.step)): \(h.rule)"
        }
        if let d = h.detail { s += " (\(d))" }
        if h.action == "denied" || h.action == "dropped" { s += "   ✘ DROPPED" }
        return s
    }

    static func label(_ step: String) -> String {
        switch step {
        case "security-group-egress": return "egress"
        case "security-group-ingress": return "ingress"
        case "nacl-outbound": return "outbound"
        case "nacl-inbound": return "inbound"
        case "route": return "route"
        case "nat-gateway": return "NAT"
        case "internet-gateway": return "IGW"
        case "tgw-route": return "route"
        case "transit-gateway": return "TGW"
        case "vpn": return "VPN"
        case "vpc-endpoint": return "endpoint"
        default: return step
        }
    }

    /// A ladder of packets across capture points: ● where a point saw the packet, ✘ where it died.
    ///
    /// The columns follow the path of the flow's first packet, in the order it crossed the capture points (so its
    /// sender is on the left, whichever point number it has: an outside host connecting in, a Lambda function
    /// calling an instance), then any point only later packets crossed, in the order they first did. Each arrow
    /// points from the column that sent the packet toward the one that received it (▶ left to right, ◀ right to
    /// left); a dropped packet's ✘ is half a column beyond the last point that saw it, in its direction of travel.
    static func ladder(_ rows: [LadderRow], points: [CapturePoint]) -> String {
        var cols: [Int] = []
        var column: [Int: Int] = [:]
        for r in rows {
            for p in r.points where column[p] == nil {
                column[p] = cols.count
                cols.append(p)
            }
        }
        guard !cols.isEmpty else { return "" }
        let w = 14
        var s = "  ladder (\(rows.count) packets shown; every packet is in the captures):\n"
        s += "    " + pad("time (s)", 12)
        for c in cols { s += pad(shortName(points[c]), w) }
        s += "\n"
        // Whether a packet seen at one point only travels left to right: the way the first packet's sender's do.
        let firstFromClient = rows.first?.fromClient ?? true
        for r in rows {
            // Scalars, not Characters, made a String through their UTF-8: a String of 20,000 flows' ladders built
            // from Characters spent most of its time breaking graphemes.
            var line = Array(repeating: Unicode.Scalar(UInt8(0x20)), count: cols.count * w + 2)
            let pos = r.points.compactMap { column[$0] }.map { $0 * w + 2 }
            if let first = pos.first, let last = pos.last, let lo = pos.min(), let hi = pos.max() {
                // The direction of travel: from the first point that saw the packet toward the last.
                let rightward = first != last ? first < last : r.fromClient == firstFromClient
                var end = hi
                var start = lo
                if r.dropped != nil {
                    if rightward { end = min(hi + w / 2, line.count - 1) } else { start = max(lo - w / 2, 0) }
                }
                if start < end { for x in start...end { line[x] = "─" } }
                for p in pos { line[p] = "●" }
                if r.dropped != nil {
                    line[rightward ? end : start] = "✘"
                } else if rightward, hi > lo {
                    line[hi - 1] = "▶"
                } else if !rightward, hi > lo {
                    line[lo + 1] = "◀"
                }
            }
            // The line is exactly as wide as its columns (trimmed and padded back, it was the same).
            var utf8: [UInt8] = []
            utf8.reserveCapacity(line.count * 3)
            for c in line { utf8.append(contentsOf: c.utf8) }
            s += "    " + pad(format6(seconds(r.time)), 12) + String(decoding: utf8, as: UTF8.self) + " " + r.summary
            if let d = r.dropped { s += "  ✘ \(d.componentDisplay) \(label(d.kind.rawValue)) \(d.rule)" }
            s += "\n"
        }
        return s
    }

    /// A column heading: the point's number and what it is ("01 lambda", "02 nat", "04 sftp.example").
    static func shortName(_ p: CapturePoint) -> String {
        let number = String(p.name.prefix(2))
        let what: String
        switch p.component {
        case .eni:
            let kind = p.name.dropFirst(3)
            what = kind.hasPrefix("lambda") ? "lambda" : kind.hasPrefix("vpce") ? "vpce" : "instance"
        case .natGateway: what = "nat"
        case .internetGateway: what = "igw"
        case .outsideHost: what = String(p.componentID.prefix(9))
        case .tgwAttachment: what = "tgw"
        case .vpnConnection: what = "vpn"
        case .vpnConnectionESP: what = "vpn esp"
        case .peeringConnection: what = "pcx"
        }
        return number + " " + what
    }

    static func seconds(_ ns: Int64) -> Double { Double(ns) / 1e9 }
    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
    static func format6(_ v: Double) -> String { String(format: "%.6f", v) }
    static func trim(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%.3f", v)
    }
}

/// Encodes the report deterministically (sorted keys).
public func encodeReport(_ r: RunReport) throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try e.encode(r)
}
