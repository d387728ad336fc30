import Yams

/// `generators:` — many flows from one template: "1,000 invocations per second for 60 s" in a few lines.
///
/// ```yaml
/// generators:
///   - name: invocations
///     from: uploader                 # as a flow: source, destination, app, size, client, hold …
///     to: sftp.example.com:22
///     app: tcp
///     count: 60000                   # how many flows
///     start: 0s                      # first possible start
///     over: 60s                      # starts spread uniformly (seeded) over this long; 0 = all at once
///     hold: 120s                     # each keeps its connection open, idle, this long
///     expect: {min_ok: 55000, max_ok: 55000, dropped_at: nat-0ab…}
///     # a Lambda's generator may also expect, per subnet, that every invocation from it ends ok or fails:
///     # expect: {subnets: {private-a: ok, private-b: failed}}
/// ```
extension ScenarioBuilder {
    static let generatorKeys = ["count", "over", "expect"]

    func readGenerators(_ items: [Node], flowNames: Set<String>, bytes: inout Int) throws -> [FlowGenerator] {
        var out: [FlowGenerator] = []
        for item in items {
            guard case .mapping(let m) = item else {
                throw r.error(at: item, "expected a mapping for generator, found \(YAMLReader.describe(item))")
            }
            // The flow part is read by the flow reader, with the generator's own keys taken out.
            var flowPairs: [(Node, Node)] = []
            var own: [String: (Node, Node)] = [:]
            for (k, v) in m {
                if case .scalar(let ks) = k, Self.generatorKeys.contains(ks.string) {
                    own[ks.string] = (k, v)
                } else {
                    flowPairs.append((k, v))
                }
            }
            let flowNode = Node.mapping(Node.Mapping(flowPairs, .implicit, .block, m.mark))
            guard let template = try readFlows([flowNode], bytes: &bytes).first else { continue }
            let name = template.name
            guard !flowNames.contains(name), !out.contains(where: { $0.name == name }) else {
                throw r.error(at: item, "duplicate flow or generator name '\(name)'")
            }
            guard let (_, countNode) = own["count"] else {
                throw r.error(at: item, "generator '\(name)' has no count")
            }
            let count = try r.integer(countNode, key: "count", range: 1...5_000_000)
            var over: Int64 = 0
            if let (_, n) = own["over"] {
                let s = try r.string(n, key: "over")
                guard let v = ScenarioValues.duration(s) else {
                    throw r.error(at: n, "invalid over '\(s)' (expected a duration such as 60s)")
                }
                try checkSpan(v, n, key: "over", text: s)
                over = v
            }
            var expect: GeneratorExpectation?
            if let (keyNode, n) = own["expect"] {
                let f = try r.fields(n, what: "expect", key: "expect",
                                     allowed: ["min_ok", "max_ok", "dropped_at", "subnets"])
                var e = GeneratorExpectation(location: r.location(of: keyNode))
                e.minOK = try f.integer("min_ok", range: 0...count)
                e.maxOK = try f.integer("max_ok", range: 0...count)
                if let d = f["dropped_at"] {
                    let ref = try r.word(d, key: "dropped_at")
                    let hits = components(named: ref)
                    guard hits.count == 1 else {
                        throw r.error(at: d, "generator '\(name)': dropped_at '\(ref)' is "
                                      + (hits.isEmpty ? "not a component of this scenario" + didYouMean(component: ref)
                                         : "ambiguous; use the id"))
                    }
                    e.droppedAt = hits[0].id
                }
                if let n = f["subnets"] { e.subnets = try readSubnetOutcomes(n, template: template, generator: name) }
                expect = e
            }
            out.append(FlowGenerator(name: name, template: template, count: count, start: template.start, over: over,
                                     expect: expect))
        }
        return out
    }
}
