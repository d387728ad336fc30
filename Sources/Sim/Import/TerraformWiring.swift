import Foundation

/// What a resource's attribute refers to. A known value is taken as it is; a value known only after apply is
/// followed through the configuration's `references`: `count.index` and `each.*` pick the instance of the same
/// index, `var.X` goes up to the module call's argument, `module.M.OUT` down to the module's output. `local.*`
/// values are not in the plan's JSON: when nothing else names the target, it is the one resource of the wanted type
/// in the module (said as a warning). A reference that goes round in circles is an error.
struct TerraformWiring {
    typealias Resource = TerraformPlan.Resource
    typealias Key = TerraformPlan.Key

    enum PathElem { case key(String), index(Int) }

    /// Where a reference leads.
    enum Target: Equatable {
        /// A resource instance of `all`, through one of its attributes ("id" when nil).
        case resource(Int, attr: String?)
        /// An id (or other value) given as a constant.
        case external(String)
        /// Something the plan does not contain: a data source not read, a root variable without value, a resource
        /// from another state.
        case gap(String)
        /// A module output whose expression names only local values (not in the plan's JSON): somewhere in this
        /// module instance.
        case module([TerraformPlan.ModuleStep], output: String)
    }

    let plan: TerraformPlan
    var all: [Resource]
    /// "module names|config address" → indices into `all`.
    var byConfig: [String: [Int]] = [:]
    /// Distinct instance keys of each module call path ("a.b" → keys), nil keys included.
    var moduleKeys: [String: [Key?]] = [:]
    /// Expressions that named a `local.*` value (whose wiring the JSON does not carry).
    var usedLocals = false

    init(plan: TerraformPlan, resources: [Resource]) {
        self.plan = plan
        all = resources
        for (i, r) in all.enumerated() {
            byConfig[Self.configKey(r.configModule, r.configAddress), default: []].append(i)
            for n in 1...max(1, r.module.count) where n <= r.module.count {
                let path = r.module.prefix(n)
                let k = Self.modulePathKey(Array(path.dropLast())) + "|" + path.last!.name
                if !(moduleKeys[k] ?? []).contains(path.last!.key) { moduleKeys[k, default: []].append(path.last!.key) }
            }
        }
    }

    static func configKey(_ module: [String], _ address: String) -> String { module.joined(separator: ".") + "|" + address }
    static func modulePathKey(_ steps: [TerraformPlan.ModuleStep]) -> String {
        steps.map { $0.name + ($0.key?.description ?? "") }.joined(separator: ".")
    }

    // MARK: Values

    static func walk(_ v: Any?, _ path: [PathElem]) -> Any? {
        var cur = v
        for p in path {
            switch p {
            case .key(let k): cur = (cur as? [String: Any])?[k]
            case .index(let i):
                guard let l = cur as? [Any], i < l.count else { return nil }
                cur = l[i]
            }
        }
        return cur
    }

    /// The known value at `path`, nil when absent, null or "" (Terraform's "not set" for strings).
    func value(_ r: Int, _ path: [PathElem]) -> Any? {
        let v = Self.walk(all[r].values, path)
        if v == nil || v is NSNull { return nil }
        if let s = v as? String, s.isEmpty { return nil }
        return v
    }
    func string(_ r: Int, _ key: String) -> String? { value(r, [.key(key)]) as? String }
    func int(_ r: Int, _ path: [PathElem]) -> Int? {
        let v = value(r, path)
        if let n = v as? NSNumber, !TerraformPlan.isBool(n) { return n.intValue }
        if let s = v as? String { return Int(s) }
        return nil
    }
    func bool(_ r: Int, _ path: [PathElem]) -> Bool? {
        let v = value(r, path)
        if let n = v as? NSNumber, TerraformPlan.isBool(n) { return n.boolValue }
        if let s = v as? String { return s == "true" ? true : s == "false" ? false : nil }
        return nil
    }

    /// Whether `after_unknown` marks the value at `path` (or anything in it) known only after apply.
    func isUnknown(_ r: Int, _ path: [PathElem]) -> Bool {
        var cur: Any? = all[r].unknown
        for p in path {
            if let b = cur as? Bool { return b }
            switch p {
            case .key(let k): cur = (cur as? [String: Any])?[k]
            case .index(let i):
                guard let l = cur as? [Any] else { return false }
                cur = i < l.count ? l[i] : nil
            }
        }
        return Self.containsTrue(cur)
    }

    static func containsTrue(_ v: Any?) -> Bool {
        if let b = v as? Bool { return b }
        if let l = v as? [Any] { return l.contains { containsTrue($0) } }
        if let o = v as? [String: Any] { return o.values.contains { containsTrue($0) } }
        return false
    }

    // MARK: Configuration

    /// The configuration's expression at `path` of resource `r` (blocks are lists of expression objects), with its
    /// JSON path; nil when the configuration does not set it.
    func expression(_ r: Int, _ path: [PathElem]) -> (expr: Any, path: String)? {
        guard let (block, bp) = plan.configResource(all[r].configModule, all[r].configAddress) else { return nil }
        var cur: Any? = block["expressions"]
        var jp = bp + ".expressions"
        for p in path {
            switch p {
            case .key(let k):
                guard let o = cur as? [String: Any] else { return nil }
                cur = o[k]
                jp += ".\(k)"
            case .index(let i):
                if let l = cur as? [Any] {
                    guard !l.isEmpty else { return nil }
                    let j = min(i, l.count - 1)  // a dynamic block: its one template
                    cur = l[j]
                    jp += "[\(j)]"
                } else if cur is [String: Any] {
                    continue  // a single block
                } else {
                    return nil
                }
            }
        }
        guard let cur else { return nil }
        return (cur, jp)
    }

    /// Whether the configuration writes `key` for resource `r` at all (a block or an argument).
    func configSets(_ r: Int, _ key: String) -> Bool { expression(r, [.key(key)]) != nil }

    static func references(_ expr: Any) -> [String] {
        ((expr as? [String: Any])?["references"] as? [Any])?.compactMap { $0 as? String } ?? []
    }

    /// What the references of attribute `path` of resource `r` lead to.
    mutating func follow(_ r: Int, _ path: [PathElem]) throws -> [Target] {
        guard let (expr, jp) = expression(r, path) else { return [] }
        if let o = expr as? [String: Any], let c = o["constant_value"] {
            return Self.constants(c).map { .external($0) }
        }
        let refs = Self.references(expr)
        guard !refs.isEmpty else { return [] }
        var forEach: [String] = []
        if let (block, _) = plan.configResource(all[r].configModule, all[r].configAddress),
           let fe = block["for_each_expression"] {
            forEach = Self.references(fe)
        }
        var visiting: [String] = []
        return try resolve(refs, module: all[r].module, index: all[r].index, forEach: forEach, jsonPath: jp,
                           visiting: &visiting)
    }

    static func constants(_ c: Any) -> [String] {
        if let s = c as? String { return s.isEmpty ? [] : [s] }
        if let l = c as? [Any] { return l.compactMap { $0 as? String }.filter { !$0.isEmpty } }
        return []
    }

    /// A reference "aws_subnet.public[0].id" → ("aws_subnet.public", key 0, "id").
    static func parseResourceRef(_ s: String) -> (base: String, key: Key?, attr: String?)? {
        var rest = Substring(s)
        var base = ""
        if rest.hasPrefix("data.") { base = "data."; rest = rest.dropFirst(5) }
        let type = rest.prefix { $0 != "." && $0 != "[" }
        guard !type.isEmpty, rest.dropFirst(type.count).hasPrefix(".") else { return nil }
        rest = rest.dropFirst(type.count + 1)
        let name = rest.prefix { $0 != "." && $0 != "[" }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        base += "\(type).\(name)"
        var key: Key?
        if let (k, after) = TerraformPlan.parseKey(rest) { key = k; rest = after }
        var attr: String?
        if rest.hasPrefix(".") {
            let a = rest.dropFirst().prefix { $0 != "." && $0 != "[" }
            if !a.isEmpty { attr = String(a) }
        }
        return (base, key, attr)
    }

    /// Follows references in the module instance `module`, for the resource (or module call) instance `index`.
    mutating func resolve(_ refs: [String], module: [TerraformPlan.ModuleStep], index: Key?, forEach: [String],
                          jsonPath: String, visiting: inout [String]) throws -> [Target] {
        let iterates = refs.contains { $0 == "count.index" || $0.hasPrefix("each.") }
        var out: [Target] = []
        var gaps: [Target] = []
        func add(_ t: Target) { if !out.contains(t) { out.append(t) } }
        var seenBases = Set<String>()
        for ref in refs {
            if ref == "count.index" || ref == "each.key" || ref.hasPrefix("path.") || ref.hasPrefix("terraform.")
                || ref.hasPrefix("self.") || ref == "self" { continue }
            if ref.hasPrefix("local.") { usedLocals = true; continue }
            if ref.hasPrefix("each.value") {
                // each.value.X of `for_each = module.M` (or a resource): module.M.X for the same key.
                let rest = ref.dropFirst("each.value".count)
                let attr = rest.hasPrefix(".") ? String(rest.dropFirst().prefix { $0 != "." && $0 != "[" }) : ""
                let rewritten = forEach.filter { !$0.hasPrefix("each.") && $0 != "count.index" }.map { attr.isEmpty ? $0 : $0 + "." + attr }
                guard !rewritten.isEmpty else { continue }
                for t in try resolve(rewritten + ["each.key"], module: module, index: index, forEach: [], jsonPath: jsonPath,
                                     visiting: &visiting) { add(t) }
                continue
            }
            if ref.hasPrefix("var.") {
                let name = String(ref.dropFirst(4).prefix { $0 != "." && $0 != "[" })
                guard seenBases.insert("var." + name).inserted else { continue }
                guard let step = module.last else {
                    // A root variable: its value, when the plan has it.
                    let vars = plan.root["variables"] as? [String: Any]
                    if let v = (vars?[name] as? [String: Any])?["value"] {
                        for c in Self.constants(v) { add(.external(c)) }
                    } else {
                        gaps.append(.gap("var.\(name)"))
                    }
                    continue
                }
                let parent = Array(module.dropLast())
                guard let (call, cp) = plan.moduleCall(parent.map(\.name), step.name) else { continue }
                let exprs = call["expressions"] as? [String: Any]
                guard let e = exprs?[name] else { continue }  // the variable's default: not in the JSON
                if let c = (e as? [String: Any])?["constant_value"] {
                    for s in Self.constants(c) { add(.external(s)) }
                    continue
                }
                let mark = "var \(TerraformWiring.modulePathKey(module)).\(name)"
                try enter(mark, &visiting, jsonPath: "\(cp).expressions.\(name)")
                let fe = (call["for_each_expression"]).map(Self.references) ?? []
                for t in try resolve(Self.references(e), module: parent, index: step.key, forEach: fe,
                                     jsonPath: "\(cp).expressions.\(name)", visiting: &visiting) { add(t) }
                visiting.removeLast()
                continue
            }
            if ref.hasPrefix("module.") {
                var rest = Substring(ref.dropFirst("module.".count))
                let name = String(rest.prefix { $0 != "." && $0 != "[" })
                rest = rest.dropFirst(name.count)
                var key: Key?
                var explicitKey = false
                if let (k, after) = TerraformPlan.parseKey(rest) { key = k; explicitKey = true; rest = after }
                guard rest.hasPrefix(".") else { continue }  // "module.M" alone: its outputs are listed too
                let output = String(rest.dropFirst().prefix { $0 != "." && $0 != "[" })
                guard seenBases.insert(ref).inserted else { continue }
                let existing = moduleKeys[Self.modulePathKey(module) + "|" + name] ?? []
                var keys: [Key?]
                if existing.isEmpty {
                    keys = [key]  // a module without resources of its own: one instance, as far as the plan shows
                } else if explicitKey {
                    keys = [key]
                } else if existing.count == 1 {
                    keys = existing
                } else if iterates, existing.contains(index) {
                    keys = [index]
                } else {
                    keys = existing
                }
                let childNames = module.map(\.name) + [name]
                guard let (cm, cpath) = plan.configModule(childNames),
                      let outputs = cm["outputs"] as? [String: Any], let o = outputs[output] as? [String: Any] else { continue }
                let expr = o["expression"] ?? [:]
                let jp = "\(cpath).outputs.\(output).expression"
                if let c = (expr as? [String: Any])?["constant_value"] {
                    for s in Self.constants(c) { add(.external(s)) }
                    continue
                }
                for k in keys {
                    let child = module + [TerraformPlan.ModuleStep(name: name, key: k)]
                    let mark = "output \(TerraformWiring.modulePathKey(child)).\(output)"
                    try enter(mark, &visiting, jsonPath: jp)
                    let found = try resolve(Self.references(expr), module: child, index: nil, forEach: [], jsonPath: jp,
                                            visiting: &visiting)
                    for t in found { add(t) }
                    if found.isEmpty, Self.references(expr).contains(where: { $0.hasPrefix("local.") }) {
                        add(.module(child, output: output))
                    }
                    visiting.removeLast()
                }
                continue
            }
            guard let (base, key, attr) = Self.parseResourceRef(ref) else { continue }
            guard seenBases.insert(base + (key?.description ?? "")).inserted else { continue }
            let candidates = (byConfig[Self.configKey(module.map(\.name), base)] ?? [])
                .filter { all[$0].module == module }
            var chosen: [Int]
            if let key {
                chosen = candidates.filter { all[$0].index == key }
            } else if candidates.count == 1 {
                chosen = candidates
            } else if iterates, let m = candidates.first(where: { all[$0].index == index }) {
                chosen = [m]
            } else {
                chosen = candidates
            }
            if chosen.isEmpty {
                if base.hasPrefix("data.") {
                    gaps.append(.gap(module.map { "module.\($0.name)\($0.key?.description ?? "")." }.joined() + base
                                     + (key?.description ?? "")))
                }
                continue  // a resource with count 0: another reference is the one taken
            }
            for c in chosen { add(.resource(c, attr: attr == "id" ? nil : attr)) }
        }
        return out.isEmpty ? gaps : out
    }

    func enter(_ mark: String, _ visiting: inout [String], jsonPath: String) throws {
        if let i = visiting.firstIndex(of: mark) {
            let loop = (visiting[i...] + [mark]).joined(separator: " → ")
            throw plan.error(jsonPath, "module cycle: \(loop)")
        }
        guard visiting.count < 64 else { throw plan.error(jsonPath, "references nest more than 64 deep") }
        visiting.append(mark)
    }
}
