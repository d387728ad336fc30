import Foundation
import Packets

/// `vpcsim diff BEFORE AFTER`: the same flows through two networks, and every flow whose outcome, drop point or
/// path changed, with the rule changes between the two that explain it. A regression is a flow that was ok and is
/// not. docs/ci.md.
public struct NetworkDiff: Sendable {
    public struct Side: Sendable, Equatable, Codable {
        public var outcome: String
        /// "acl-… (public-nacl) outbound: * DENY …", nil when nothing was dropped.
        public var dropped_at: String?
        public var component: String?
        public var message: String
        /// The components the first packet crossed, in order.
        public var path: [String]
    }

    public struct Flow: Sendable, Equatable, Codable {
        public var name: String
        public var before: Side?
        public var after: Side?
        /// Outcome, drop point or path differ (or the flow is in one network only).
        public var changed: Bool
        /// It was ok and is not.
        public var regressed: Bool
        /// Rule changes on the components where it was or is dropped.
        public var explained_by: [String]
    }

    public var before: String
    public var after: String
    public var flows: [Flow]
    /// "acl-0b1c… (public-nacl) outbound: + #120 ALLOW tcp 22 0.0.0.0/0", in component order.
    public var rule_changes: [String]
    public var regressions: Int { flows.filter(\.regressed).count }

    /// Runs each scenario's flows (no files written) and compares them by name.
    /// `ofPlan`: the two networks are one plan's, and its rule changes are said to be "in this plan".
    public static func run(before: Scenario, after: Scenario, beforeLabel: String, afterLabel: String,
                           ofPlan: Bool = false) throws -> NetworkDiff {
        let b = try Runner.run(scenario: before, options: Runner.Options(writeFiles: false))
        let a = try Runner.run(scenario: after, options: Runner.Options(writeFiles: false))
        func sides(_ s: Scenario, _ o: Runner.Outcome) -> [String: Side] {
            var out: [String: Side] = [:]
            for r in o.results where r.index < s.flows.count {
                let outcome = r.outcome?.rawValue ?? "none"
                var dropped: String?
                if let d = r.drop {
                    dropped = d.componentDisplay + (d.direction.map { " \($0)" } ?? "") + ": " + d.rule
                }
                out[s.flows[r.index].name] = Side(outcome: outcome == "ok" ? "ok" : outcome.uppercased(),
                                                  dropped_at: dropped, component: r.drop?.component, message: r.message,
                                                  path: r.requestPath.map(\.component))
            }
            return out
        }
        let sb = sides(before, b), sa = sides(after, a)
        var names: [String] = before.flows.map(\.name)
        for f in after.flows where !names.contains(f.name) { names.append(f.name) }
        let changes = ruleChanges(before.model, after.model, ofPlan ? " in this plan" : "")
        var flows: [Flow] = []
        for n in names {
            let x = sb[n], y = sa[n]
            let changed = x?.outcome != y?.outcome || x?.dropped_at != y?.dropped_at || x?.path != y?.path
            let regressed = x?.outcome == "ok" && y != nil && y?.outcome != "ok"
            var explained: [String] = []
            for c in [x?.component, y?.component].compactMap({ $0 }) {
                for line in changes where line.component == c && !explained.contains(line.text) { explained.append(line.text) }
            }
            flows.append(Flow(name: n, before: x, after: y, changed: changed, regressed: regressed, explained_by: explained))
        }
        return NetworkDiff(before: beforeLabel, after: afterLabel, flows: flows, rule_changes: changes.map(\.text))
    }

    /// The scenario with a probe flow added from every instance and Lambda function to every port of every
    /// outside host (`probe <source> → <host>:<port>`, 1,000 bytes), each as `vpcsim trace` would make it.
    public static func withProbes(_ base: Scenario) throws -> Scenario {
        var s = base
        let m = base.model
        let sources = m.instances.map { $0.name ?? $0.id } + m.lambdas.compactMap(\.name)
        for source in sources {
            for h in m.outsideHosts {
                guard let host = h.name else { continue }
                for port in h.ports.keys.sorted() {
                    let name = "probe \(source) → \(host):\(port)"
                    guard !s.flows.contains(where: { $0.name == name }) else { continue }
                    var one = try AdHocTrace.scenario(base, from: source, to: "\(host):\(port)",
                                                      options: AdHocTrace.Options(size: "1000"))
                    one.flows[0].name = name
                    s.flows.append(one.flows[0])
                }
            }
        }
        return s
    }

    /// Both networks with the outside-host probes (`withProbes(_:)`) and the ENI-pair probes: a flow from every
    /// instance and Lambda function to every other instance on each TCP port its security groups open
    /// (`ENIPairProbes`), the pairs of both networks in both, so that a port one of them closes is probed in both.
    /// `note`: what was left out when the pairs are more than `ENIPairProbes.cap`.
    public static func withProbes(before: Scenario, after: Scenario) throws -> (before: Scenario, after: Scenario, note: String?) {
        var b = try withProbes(before), a = try withProbes(after)
        var pairs = ENIPairProbes.pairs(before.model)
        for p in ENIPairProbes.pairs(after.model) where !pairs.contains(p) { pairs.append(p) }
        var note: String?
        if pairs.count > ENIPairProbes.cap {
            note = "\(pairs.count) ENI-pair probes; running the first \(ENIPairProbes.cap) (by source, destination and "
                + "port; name the flows to check in --flows instead)"
            pairs.removeLast(pairs.count - ENIPairProbes.cap)
        }
        for p in pairs {
            try ENIPairProbes.add(p, to: &b, base: before)
            try ENIPairProbes.add(p, to: &a, base: after)
        }
        return (b, a, note)
    }

    // MARK: Rule changes

    static func name(_ id: String, _ n: String?) -> String { n.map { "\(id) (\($0))" } ?? id }

    static func naclRule(_ r: NACLRule) -> String {
        var s = "#\(r.number) \(r.action == .allow ? "ALLOW" : "DENY") \(r.proto.consoleName)"
        if let p = r.ports, !p.isAll { s += " \(p.description)" }
        if let t = r.icmpType { s += " type \(t)" }
        if let c = r.icmpCode { s += " code \(c)" }
        return s + " \(r.cidr)"
    }

    static func sgRule(_ r: SecurityGroupRule, _ m: VPCModel) -> String {
        var s = "ALLOW \(r.proto.consoleName)"
        if let p = r.ports, !p.isAll { s += " \(p.description)" }
        switch r.peer {
        case .cidr(let c): s += " \(c)"
        case .securityGroup(let g): s += " \(name(m.securityGroups[g].id, m.securityGroups[g].name))"
        case .prefixList(let id, _): s += " \(id)"
        }
        return s
    }

    static func route(_ r: Route, _ m: VPCModel) -> String {
        if case .blackhole(let was) = r.target {
            return "\(r.destination) → blackhole" + (was.map { " (was \($0))" } ?? "")
        }
        return "\(r.destination) → \(RouteTable.describe(r.target, in: m))"
    }

    /// Rules (NACL entries, security-group rules, routes) in one network and not the other, by component id.
    static func ruleChanges(_ b: VPCModel, _ a: VPCModel, _ context: String = "") -> [(component: String, text: String)] {
        var out: [(String, String)] = []
        func compare(_ id: String, _ label: String, _ x: [String], _ y: [String]) {
            for r in x where !y.contains(r) { out.append((id, "\(label): − \(r) (removed\(context))")) }
            for r in y where !x.contains(r) { out.append((id, "\(label): + \(r) (added\(context))")) }
        }
        var ids: [String] = b.networkACLs.map(\.id)
        for n in a.networkACLs where !ids.contains(n.id) { ids.append(n.id) }
        for id in ids {
            let x = b.networkACLs.first { $0.id == id }, y = a.networkACLs.first { $0.id == id }
            let label = name(id, (y ?? x)?.name)
            compare(id, label + " inbound", x?.inbound.map(naclRule) ?? [], y?.inbound.map(naclRule) ?? [])
            compare(id, label + " outbound", x?.outbound.map(naclRule) ?? [], y?.outbound.map(naclRule) ?? [])
            compare(id, label + " inbound", x?.inboundIPv6.map(NACLEvaluator.describe6) ?? [],
                    y?.inboundIPv6.map(NACLEvaluator.describe6) ?? [])
            compare(id, label + " outbound", x?.outboundIPv6.map(NACLEvaluator.describe6) ?? [],
                    y?.outboundIPv6.map(NACLEvaluator.describe6) ?? [])
        }
        ids = b.securityGroups.map(\.id)
        for g in a.securityGroups where !ids.contains(g.id) { ids.append(g.id) }
        for id in ids {
            let x = b.securityGroups.first { $0.id == id }, y = a.securityGroups.first { $0.id == id }
            let label = name(id, (y ?? x)?.name)
            compare(id, label + " ingress", x?.ingress.map { sgRule($0, b) } ?? [], y?.ingress.map { sgRule($0, a) } ?? [])
            compare(id, label + " egress", x?.egress.map { sgRule($0, b) } ?? [], y?.egress.map { sgRule($0, a) } ?? [])
            compare(id, label + " ingress", x?.ingressIPv6.map(SecurityGroupEvaluator.describe6) ?? [],
                    y?.ingressIPv6.map(SecurityGroupEvaluator.describe6) ?? [])
            compare(id, label + " egress", x?.egressIPv6.map(SecurityGroupEvaluator.describe6) ?? [],
                    y?.egressIPv6.map(SecurityGroupEvaluator.describe6) ?? [])
        }
        ids = b.routeTables.map(\.id)
        for t in a.routeTables where !ids.contains(t.id) { ids.append(t.id) }
        for id in ids {
            let x = b.routeTables.first { $0.id == id }, y = a.routeTables.first { $0.id == id }
            compare(id, name(id, (y ?? x)?.name), x?.routes.map { route($0, b) } ?? [], y?.routes.map { route($0, a) } ?? [])
            compare(id, name(id, (y ?? x)?.name), x?.ipv6Routes.map { "\($0.destination) → \($0.target.id(b))" } ?? [],
                    y?.ipv6Routes.map { "\($0.destination) → \($0.target.id(a))" } ?? [])
        }
        return out
    }

    // MARK: Rendering

    static func short(_ s: Side?) -> String { s?.outcome ?? "(not in this network)" }

    public var text: String {
        var o = "vpcsim diff: \(before) → \(after)\n"
        let changed = flows.filter(\.changed)
        o += "\nCHANGED (\(changed.count) of \(flows.count) flow\(flows.count == 1 ? "" : "s"))\n"
        if changed.isEmpty { o += "  none\n" }
        for f in changed {
            o += "  \(f.name): \(Self.short(f.before)) → \(Self.short(f.after))\(f.regressed ? "  REGRESSION" : "")\n"
            if let d = f.before?.dropped_at { o += "      before: dropped at \(d)\n" }
            if let d = f.after?.dropped_at { o += "      after:  dropped at \(d)\n" }
            if let x = f.before?.path, let y = f.after?.path, x != y, f.before?.dropped_at == f.after?.dropped_at {
                o += "      path: \(x.joined(separator: " → "))\n         ⇒  \(y.joined(separator: " → "))\n"
            }
            for e in f.explained_by { o += "      \(e)\n" }
        }
        let same = flows.filter { !$0.changed }
        if !same.isEmpty {
            o += "\nUNCHANGED\n"
            for f in same { o += "  \(f.name): \(Self.short(f.before))\n" }
        }
        o += "\nRULE CHANGES\n"
        if rule_changes.isEmpty { o += "  none\n" }
        for r in rule_changes { o += "  \(r)\n" }
        o += "\n\(regressions) regression\(regressions == 1 ? "" : "s") (a flow that was ok and is not)\n"
        return o
    }

    public var markdown: String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var o = "### vpcsim diff\n\n`\(cell(before))` → `\(cell(after))`: "
        o += regressions == 0 ? "**no regression**" : "**\(regressions) regression\(regressions == 1 ? "" : "s")**"
        o += "\n\n| flow | before | after | where |\n|---|---|---|---|\n"
        for f in flows {
            var where_ = f.after?.dropped_at.map { "dropped at " + $0 } ?? f.before?.dropped_at.map { "was dropped at " + $0 } ?? ""
            if !f.explained_by.isEmpty { where_ += (where_.isEmpty ? "" : "; ") + f.explained_by.joined(separator: "; ") }
            let mark = f.regressed ? " ❌" : f.changed ? " ✅" : ""
            o += "| \(cell(f.name)) | \(cell(Self.short(f.before))) | \(cell(Self.short(f.after)))\(mark) | \(cell(where_)) |\n"
        }
        if !rule_changes.isEmpty {
            o += "\n<details><summary>rule changes (\(rule_changes.count))</summary>\n\n"
            for r in rule_changes { o += "- \(cell(r))\n" }
            o += "\n</details>\n"
        }
        return o
    }

    public var json: String {
        struct Out: Encodable {
            var tool: String
            var before: String
            var after: String
            var regressions: Int
            var flows: [Flow]
            var rule_changes: [String]
        }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? e.encode(Out(tool: "vpcsim \(vpcsimVersion)", before: before, after: after, regressions: regressions,
                                      flows: flows, rule_changes: rule_changes))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// What `vpcsim diff` compares: a scenario file, an AWS CLI dump (a directory, or a .json file of describe-…
/// output) or a Terraform plan (a .json file with `format_version`: the network it leaves), with the flows of
/// a separate file when given.
public enum DiffInput {
    public static func scenario(_ path: String, flows: String?) throws -> Scenario {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        var yaml: String?
        if exists, isDir.boolValue {
            yaml = try AWSImporter.importDirectory(path).yaml
        } else if path.lowercased().hasSuffix(".json") {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
            let top = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            if top?["format_version"] != nil || top?["resource_changes"] != nil || top?["planned_values"] != nil {
                yaml = try TerraformPlanImporter.importPlan(path).yaml
            } else {
                yaml = try AWSImporter.importDirectory(path).yaml
            }
        }
        return try load(yaml ?? ScenarioLoader.readText(path), file: path, flows: flows)
    }

    /// The two networks of one plan: before it (`prior_state`) and after it.
    public static func plan(_ path: String, flows: String?) throws -> (before: Scenario, after: Scenario) {
        let plan = try TerraformPlan.read(path: path)
        let b = try TerraformPlanImporter.convert(plan, path: path, options: TerraformImportOptions(side: .prior))
        let a = try TerraformPlanImporter.convert(plan, path: path, options: TerraformImportOptions(side: .planned))
        return (try load(b.yaml, file: path + " (prior_state)", flows: flows), try load(a.yaml, file: path, flows: flows))
    }

    static func load(_ yaml: String, file: String, flows: String?) throws -> Scenario {
        if let flows { return try ScenarioLoader.load(networkYAML: yaml, networkFile: file, flowsPath: flows) }
        return try ScenarioLoader.load(yaml: yaml, file: file)
    }
}
