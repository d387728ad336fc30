import Packets

/// How a Lambda function's invocations split over its subnets: per subnet (and so AZ and Hyperplane ENI) and per
/// NAT gateway, how many ended ok, how many failed, and where the failed ones died.
extension RunReport {
    public struct Death: Codable, Sendable, Equatable {
        /// Empty when the invocations failed with no packet dropped (`rule` says how they ended).
        public var component: String
        public var component_name: String
        public var direction: String?
        public var rule: String
        public var count: Int
    }
    public struct SubnetSplit: Codable, Sendable {
        public var subnet: String
        public var subnet_name: String?
        public var availability_zone: String
        public var eni: String
        /// The NAT gateways the subnet's route table sent these invocations to (none: no NAT gateway on the way).
        public var nat_gateways: [String]
        public var ok: Int
        public var failed: Int
        public var died_at: [Death]
    }
    public struct NATSplit: Codable, Sendable {
        public var id: String
        public var name: String?
        public var ok: Int
        public var failed: Int
        public var died_at: [Death]
    }
    /// One function whose invocations used several subnets.
    public struct LambdaSubnets: Codable, Sendable {
        public var function: String
        /// The `lambda_subnet_spread` assumption in force.
        public var spread: String
        public var invocations: Int
        /// Ordered by availability zone, then subnet id (not by the order `subnets` lists them).
        public var subnets: [SubnetSplit]
        /// Ordered by NAT gateway id.
        public var nat_gateways: [NATSplit]
    }

    /// Fills each Lambda flow's `source_subnet`/`source_eni` and `lambda_subnets` (left nil when no function's
    /// invocations used more than one subnet, so a single-subnet run's report is as it was).
    mutating func addLambdaSubnets(scenario: Scenario, results: [FlowResult], generators: [GeneratorResult]) {
        let m = scenario.model
        for (i, f) in scenario.flows.enumerated() where i < flows.count && i < results.count {
            guard case .lambda = f.source, let e = results[i].sourceENI else { continue }
            flows[i].source_eni = m.enis[e].id
            flows[i].source_subnet = m.subnets[m.enis[e].subnet].id
        }
        var out: [LambdaSubnets] = []
        for fn in m.lambdas.indices where m.lambdas[fn].subnets.count > 1 {
            // Invocations per (ENI, NAT gateway on the way to their destination).
            var groups: [(eni: Int, nat: Int?, tally: ENITally)] = []
            func add(_ t: ENITally, to destination: IPv4Address) {
                let table = m.routeTables[m.routeTable(of: m.enis[t.eni].subnet)]
                var nat: Int?
                if case .natGateway(let n)? = RouteLookup.match(table, destination)?.target { nat = n }
                if let k = groups.firstIndex(where: { $0.eni == t.eni && $0.nat == nat }) {
                    groups[k].tally.merge(t)
                } else {
                    groups.append((t.eni, nat, t))
                }
            }
            for (i, f) in scenario.flows.enumerated() where i < results.count {
                guard case .lambda(fn, _) = f.source, let e = results[i].sourceENI else { continue }
                var t = ENITally(eni: e)
                t.add(results[i].outcome ?? .timeout, drop: results[i].drop)
                add(t, to: f.destination.address)
            }
            for (g, gen) in scenario.generators.enumerated() where g < generators.count {
                guard case .lambda(fn, _) = gen.template.source else { continue }
                for t in generators[g].perENI { add(t, to: gen.template.destination.address) }
            }
            let enis = groups.map(\.eni)
            guard Set(enis).count > 1 else { continue }
            func key(_ e: Int) -> (String, String) {
                let s = m.subnets[m.enis[e].subnet]
                return (s.availabilityZone, s.id)
            }
            var subnets: [SubnetSplit] = []
            for e in enis.reduce(into: [Int](), { if !$0.contains($1) { $0.append($1) } }).sorted(by: { key($0) < key($1) }) {
                var t = ENITally(eni: e)
                var nats: [String] = []
                for g in groups where g.eni == e {
                    t.merge(g.tally)
                    if let n = g.nat, !nats.contains(m.natGateways[n].id) { nats.append(m.natGateways[n].id) }
                }
                let s = m.subnets[m.enis[e].subnet]
                subnets.append(SubnetSplit(subnet: s.id, subnet_name: s.name, availability_zone: s.availabilityZone,
                                           eni: m.enis[e].id, nat_gateways: nats.sorted(), ok: t.ok, failed: t.failed,
                                           died_at: t.deaths.map(Self.death)))
            }
            var nats: [NATSplit] = []
            for n in Set(groups.compactMap(\.nat)).sorted(by: { m.natGateways[$0].id < m.natGateways[$1].id }) {
                var t = ENITally(eni: -1)
                for g in groups where g.nat == n { t.merge(g.tally) }
                nats.append(NATSplit(id: m.natGateways[n].id, name: m.natGateways[n].name, ok: t.ok, failed: t.failed,
                                     died_at: t.deaths.map(Self.death)))
            }
            out.append(LambdaSubnets(function: m.lambdas[fn].id, spread: scenario.assumptions.lambdaSubnetSpread.rawValue,
                                     invocations: subnets.reduce(0) { $0 + $1.ok + $1.failed }, subnets: subnets,
                                     nat_gateways: nats))
        }
        lambda_subnets = out.isEmpty ? nil : out
    }

    static func death(_ d: ENITally.Death) -> Death {
        Death(component: d.component, component_name: d.componentName, direction: d.direction, rule: d.rule,
              count: d.count)
    }
}

extension ENITally {
    /// Adds `other`'s counts (of the same ENI, or of a NAT gateway's ENIs).
    mutating func merge(_ other: ENITally) {
        ok += other.ok
        failed += other.failed
        for d in other.deaths {
            if let k = deaths.firstIndex(where: {
                $0.component == d.component && $0.direction == d.direction && $0.rule == d.rule
            }) {
                deaths[k].count += d.count
            } else {
                deaths.append(d)
            }
        }
    }
}

extension ReportRenderer {
    /// The LAMBDA SUBNETS section: per subnet (AZ, ENI, NAT gateway) and per NAT gateway, ok and failed
    /// invocations and where the failed ones died. Empty when no function's invocations used several subnets.
    static func lambdaSubnetsText(_ r: RunReport) -> String {
        guard let list = r.lambda_subnets, !list.isEmpty else { return "" }
        var s = "\nLAMBDA SUBNETS (invocations per subnet, AZ, Hyperplane ENI and NAT gateway)\n"
        for f in list {
            s += "  \(f.function): \(f.invocations) invocation\(f.invocations == 1 ? "" : "s") over \(f.subnets.count) "
                + "subnets (lambda_subnet_spread: \(f.spread))\n"
            let subnetW = max(6, f.subnets.map { subnetText($0).count }.max() ?? 6)
            let eniW = max(3, f.subnets.map(\.eni.count).max() ?? 3)
            let natW = max(11, f.subnets.map { natText($0).count }.max() ?? 11)
            let azW = max(2, f.subnets.map(\.availability_zone.count).max() ?? 2)
            s += "    \(pad("subnet", subnetW))  \(pad("AZ", azW))  \(pad("ENI", eniW))  \(pad("NAT gateway", natW))  "
                + "\(lpad("ok", 6))  \(lpad("failed", 6))\n"
            for x in f.subnets {
                s += "    \(pad(subnetText(x), subnetW))  \(pad(x.availability_zone, azW))  \(pad(x.eni, eniW))  "
                    + "\(pad(natText(x), natW))  \(lpad(String(x.ok), 6))  \(lpad(String(x.failed), 6))\n"
                s += deathsText(x.died_at, indent: "      ")
            }
            if !f.nat_gateways.isEmpty {
                s += "    per NAT gateway:\n"
                for n in f.nat_gateways {
                    s += "      \(n.name.map { "\(n.id) (\($0))" } ?? n.id): \(n.ok) ok, \(n.failed) failed\n"
                }
            }
        }
        return s
    }

    static func subnetText(_ x: RunReport.SubnetSplit) -> String {
        x.subnet_name.map { "\(x.subnet) (\($0))" } ?? x.subnet
    }

    static func natText(_ x: RunReport.SubnetSplit) -> String {
        x.nat_gateways.isEmpty ? "none" : x.nat_gateways.joined(separator: ", ")
    }

    static func deathsText(_ deaths: [RunReport.Death], indent: String) -> String {
        var s = ""
        for d in deaths {
            let place = d.component.isEmpty ? d.rule
                : "\(d.component_name)" + (d.direction.map { " \($0)" } ?? "") + ": \(d.rule)"
            s += "\(indent)\(d.count) failed: \(d.component.isEmpty ? "" : "died at ")\(place)\n"
        }
        return s
    }
}

extension ReportRenderer {
    /// "  from eni-… in subnet-… (private-b), us-east-1b" under a flow of a function whose invocations used
    /// several subnets; "" otherwise.
    static func sourceSubnetText(_ f: RunReport.Flow, _ r: RunReport) -> String {
        guard let eni = f.source_eni, let split = r.lambda_subnets?.lazy.flatMap(\.subnets).first(where: { $0.eni == eni })
        else { return "" }
        return "  from \(eni) in \(subnetText(split)), \(split.availability_zone)\n"
    }
}

extension RunReport {
    /// What a generator's `expect: {subnets: …}` finds wrong: a subnet no invocation used, an `ok` subnet with
    /// failed invocations, a `failed` one with invocations that ended ok.
    static func subnetFailures(_ e: GeneratorExpectation, _ gr: GeneratorResult, _ m: VPCModel) -> [String] {
        var failures: [String] = []
        for x in e.subnets {
            let name = m.subnets[x.subnet].name ?? m.subnets[x.subnet].id
            var t = ENITally(eni: -1)
            for p in gr.perENI where m.enis[p.eni].subnet == x.subnet { t.merge(p) }
            if t.ok + t.failed == 0 {
                failures.append("expected invocations from subnet \(name), none used it")
            } else if x.allOK, t.failed > 0 {
                failures.append("expected every invocation from subnet \(name) ok, \(t.failed) of \(t.ok + t.failed) failed")
            } else if !x.allOK, t.ok > 0 {
                failures.append("expected every invocation from subnet \(name) to fail, \(t.ok) of \(t.ok + t.failed) ended ok")
            }
        }
        return failures
    }
}
