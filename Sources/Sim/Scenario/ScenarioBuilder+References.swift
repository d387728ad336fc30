import Yams

/// References that do not resolve get a "did you mean" (as unknown keys do); a Lambda flow can be pinned to one of
/// its subnets (`from: uploader@private-b`).
extension ScenarioBuilder {
    /// " (did you mean 'X'?)" when an id or name of `kinds` (or one of `extra`) is close to `ref`, by the measure
    /// unknown keys use (`YAMLReader.suggestion`); else "".
    func didYouMean(_ ref: String, _ kinds: [ResourceKind], extra: [String] = []) -> String {
        var candidates: [String] = []
        for k in kinds {
            let reg = registry(k)
            for (i, id) in reg.ids.enumerated() where !id.isEmpty {
                candidates.append(id)
                if i < reg.names.count, let n = reg.names[i] { candidates.append(n) }
            }
        }
        return Self.didYouMean(ref, among: candidates + extra)
    }

    /// A name that shares nothing with `ref` (a one-letter name for another) is no suggestion.
    static func didYouMean(_ ref: String, among candidates: [String]) -> String {
        guard let guess = YAMLReader.suggestion(for: ref, among: candidates),
              YAMLReader.editDistance(ref, guess) < min(ref.count, guess.count) else { return "" }
        return " (did you mean '\(guess)'?)"
    }

    /// "did you mean" among a flow's possible ends: Lambda functions, instances, outside hosts.
    func didYouMean(endpoint ref: String) -> String {
        didYouMean(ref, [.instance], extra: model.lambdas.compactMap(\.name) + model.outsideHosts.compactMap(\.name))
    }

    /// "did you mean" among the components a packet can die at (`dropped_at`).
    func didYouMean(component ref: String) -> String {
        didYouMean(ref, ResourceKind.allCases,
                   extra: model.lambdas.compactMap(\.name) + model.outsideHosts.compactMap(\.name))
    }

    /// `function@subnet`: the function's Hyperplane ENI in that subnet (by id or name).
    func readPinnedLambda(_ node: Node, _ ref: String, at: String.Index, flow: String) throws -> (FlowSource, String) {
        let function = String(ref[..<at]), subnet = String(ref[ref.index(after: at)...])
        guard let fn = model.lambdas.firstIndex(where: { $0.name == function }) else {
            throw r.error(at: node, "flow '\(flow)': '\(function)' in '\(ref)' is not a Lambda function (@ pins a "
                          + "function to one of its subnets)" + Self.didYouMean(function, among: model.lambdas.compactMap(\.name)))
        }
        switch model.pin(function: fn, subnet: subnet) {
        case .eni(let e): return (.lambda(fn, eni: e), "lambda \(function)@\(subnet)")
        case .problem(let message): throw r.error(at: node, "flow '\(flow)': \(message)")
        }
    }
}

extension VPCModel {
    enum SubnetPin: Equatable {
        case eni(Int)
        /// Why the subnet cannot be pinned, for a message.
        case problem(String)
    }

    /// The Hyperplane ENI function `fn` has in subnet `ref` (its id or name), or why there is none: no such
    /// subnet (with a "did you mean"), an ambiguous name, or a subnet the function is not in.
    func pin(function fn: Int, subnet ref: String) -> SubnetPin {
        let f = lambdas[fn]
        let hits = subnets.indices.filter { subnets[$0].id == ref }
        let named = hits.isEmpty ? subnets.indices.filter { subnets[$0].name == ref } : hits
        guard !named.isEmpty else {
            let candidates = f.subnets.flatMap { [subnets[$0].name, subnets[$0].id].compactMap { $0 } }
                + subnets.flatMap { [$0.name, $0.id].compactMap { $0 } }
            return .problem("unknown subnet '\(ref)' in '\(f.id)@\(ref)'"
                            + ScenarioBuilder.didYouMean(ref, among: candidates))
        }
        guard named.count == 1 else {
            return .problem("subnet name '\(ref)' is ambiguous (\(named.map { subnets[$0].id }.joined(separator: ", "))); "
                            + "use the id")
        }
        guard let k = f.subnets.firstIndex(of: named[0]) else {
            return .problem("subnet \(subnets[named[0]].display) is not one of \(f.id)'s subnets "
                            + "(\(f.subnets.map { subnets[$0].name ?? subnets[$0].id }.joined(separator: ", ")))")
        }
        return .eni(f.enis[k])
    }
}

extension ScenarioBuilder {
    /// A generator's `expect: {subnets: {private-a: ok, private-b: failed}}`: each key one of the Lambda
    /// function's subnets, each value `ok` (every invocation from it ends ok) or `failed` (none does).
    func readSubnetOutcomes(_ node: Node, template: FlowSpec, generator: String) throws -> [GeneratorExpectation.SubnetOutcome] {
        guard case .lambda(let fn, _) = template.source else {
            throw r.error(at: node, "generator '\(generator)': subnets applies only to a Lambda function's invocations")
        }
        let f = model.lambdas[fn]
        var out: [GeneratorExpectation.SubnetOutcome] = []
        for (_, keyNode, value) in try r.pairs(node, key: "subnets") {
            let s = try resolve(keyNode, .subnet, key: "subnets")
            guard f.subnets.contains(s) else {
                throw r.error(at: keyNode, "generator '\(generator)': subnet \(model.subnets[s].display) is not one of "
                              + "\(f.id)'s subnets")
            }
            let allOK = try r.oneOf(value, key: "subnets", [("ok", true), ("failed", false)])
            out.append(.init(subnet: s, allOK: allOK))
        }
        return out
    }
}
