import Foundation

/// A `terraform show -json PLANFILE` (or `tofu show -json`) document, read for `vpcsim import terraform`:
/// the resource instances the plan leaves (`resource_changes[].change.after`, what `after_unknown` marks known
/// only after apply), the state before it (`prior_state`), and the configuration's expressions and references that
/// wire resources together when their ids are not known yet. format_version 0.1 through 1.x
/// (https://developer.hashicorp.com/terraform/internals/json-format). docs/terraform.md.
struct TerraformPlan {
    /// A count index or for_each key.
    enum Key: Hashable, CustomStringConvertible {
        case int(Int), string(String)
        var description: String {
            switch self {
            case .int(let i): return "[\(i)]"
            case .string(let s): return "[\"\(s)\"]"
            }
        }
    }

    /// One step of a module instance path: `module.vpcs["a"]`.
    struct ModuleStep: Hashable { var name: String; var key: Key? }

    /// One resource instance, as the plan leaves it (or as `prior_state` holds it).
    struct Resource {
        var module: [ModuleStep]
        var mode: String  // "managed" | "data"
        var type: String
        var name: String
        var index: Key?
        /// Known values (`after`, or the state's `values`).
        var values: [String: Any]
        /// `after_unknown`: true where a value is known only after apply (nested as the value is).
        var unknown: Any?
        /// The JSON path it was read from ("resource_changes[3]").
        var origin: String
        var fromPriorState = false
        var actions: [String] = []

        var modulePrefix: String { module.map { "module.\($0.name)\($0.key?.description ?? "")." }.joined() }
        /// "module.vpc.aws_subnet.public[0]"
        var address: String { modulePrefix + (mode == "data" ? "data." : "") + type + "." + name + (index?.description ?? "") }
        /// "aws_subnet.public", the configuration's name for it within its module.
        var configAddress: String { (mode == "data" ? "data." : "") + type + "." + name }
        var configModule: [String] { module.map(\.name) }
    }

    let file: String
    let formatVersion: String
    let root: [String: Any]
    /// What the plan leaves (deleted resources left out).
    var resources: [Resource] = []
    /// The state before the plan (empty for a format without `prior_state`).
    var prior: [Resource] = []
    /// Resources the plan deletes (by address).
    var deleted: [String] = []

    /// The largest major format version read.
    static let newestMajor = 1

    static func read(path: String) throws -> TerraformPlan {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AWSImportError(file: path, line: 0, column: 0, message: "cannot read: \(AWSDump.reason(error))")
        }
        return try read(data, path: path)
    }

    static func read(_ data: Data, path: String) throws -> TerraformPlan {
        let bytes = [UInt8](data)
        guard bytes.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            throw AWSImportError(file: path, line: 1, column: 1, message: "malformed JSON: the file is empty")
        }
        if let offset = NestingLimit.firstTooDeep(json: bytes) {
            let (l, c) = NestingLimit.position(ofByte: offset, in: bytes)
            throw AWSImportError(file: path, line: l, column: c, message: NestingLimit.message)
        }
        let any: Any
        do {
            any = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw AWSDump.syntaxError(error, path: path, bytes: bytes)
        }
        func bad(_ jsonPath: String, _ message: String) -> AWSDumpValueError {
            AWSDumpValueError(file: path, path: jsonPath, message: message)
        }
        guard let root = any as? [String: Any] else {
            throw bad("$", "not a Terraform plan: the top level is not a JSON object (expected `terraform show -json PLANFILE`)")
        }
        guard let fv = root["format_version"] as? String else {
            let hint = AWSDump.keys.contains { root[$0] != nil } ? "an AWS CLI dump? `vpcsim import aws` reads those"
                : "expected `terraform show -json PLANFILE`"
            throw bad("format_version", root["format_version"] == nil
                ? "not a Terraform plan: no format_version (\(hint))"
                : "not a string")
        }
        let parts = fv.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else {
            throw bad("format_version", "'\(AWSDumpCheck.oneLine(fv))' is not a format version (major.minor)")
        }
        guard major <= newestMajor else {
            throw bad("format_version", "\(fv) is newer than this importer reads (0.1 through 1.x); "
                      + "a newer vpcsim may read it")
        }
        guard root["planned_values"] != nil || root["resource_changes"] != nil else {
            let what = root["values"] != nil ? "a Terraform state (`terraform show -json` without a plan file)"
                : "no planned_values or resource_changes"
            throw bad("$", "not a Terraform plan: \(what) (expected `terraform show -json PLANFILE`)")
        }
        var plan = TerraformPlan(file: path, formatVersion: fv, root: root)
        try plan.readResourceChanges()
        try plan.readPriorState()
        return plan
    }

    init(file: String, formatVersion: String, root: [String: Any]) {
        self.file = file
        self.formatVersion = formatVersion
        self.root = root
    }

    func error(_ jsonPath: String, _ message: String) -> AWSDumpValueError {
        AWSDumpValueError(file: file, path: jsonPath, message: message)
    }

    /// JSONSerialization's true and false (NSNumber too, of their own class).
    static func isBool(_ v: Any) -> Bool { String(describing: type(of: v)).contains("Boolean") || type(of: v) == Bool.self }

    static func key(_ v: Any?) -> Key? {
        if let s = v as? String { return .string(s) }
        if let n = v as? NSNumber, !TerraformPlan.isBool(n) { return .int(n.intValue) }
        return nil
    }

    /// `module.a["x"].module.b[0]` → steps.
    static func moduleSteps(_ address: String) -> [ModuleStep]? {
        var steps: [ModuleStep] = []
        var rest = Substring(address)
        while !rest.isEmpty {
            guard rest.hasPrefix("module.") else { return nil }
            rest = rest.dropFirst("module.".count)
            let name = rest.prefix { $0 != "." && $0 != "[" }
            guard !name.isEmpty else { return nil }
            rest = rest.dropFirst(name.count)
            var key: Key?
            if rest.hasPrefix("[") {
                guard let (k, after) = parseKey(rest) else { return nil }
                key = k
                rest = after
            }
            steps.append(ModuleStep(name: String(name), key: key))
            if rest.hasPrefix(".") { rest = rest.dropFirst() }
        }
        return steps
    }

    /// `[0]…` or `["a"]…` at the start of `s` → the key and the rest.
    static func parseKey(_ s: Substring) -> (Key, Substring)? {
        guard s.hasPrefix("[") else { return nil }
        var rest = s.dropFirst()
        if rest.hasPrefix("\"") {
            rest = rest.dropFirst()
            var out = ""
            var escaped = false
            while let c = rest.first {
                rest = rest.dropFirst()
                if escaped { out.append(c); escaped = false; continue }
                if c == "\\" { escaped = true; continue }
                if c == "\"" { break }
                out.append(c)
            }
            guard rest.hasPrefix("]") else { return nil }
            return (.string(out), rest.dropFirst())
        }
        let digits = rest.prefix { $0.isNumber }
        guard let n = Int(digits), rest.dropFirst(digits.count).hasPrefix("]") else { return nil }
        return (.int(n), rest.dropFirst(digits.count + 1))
    }

    mutating func readResourceChanges() throws {
        guard let any = root["resource_changes"] else {
            // Only planned_values (an old or trimmed plan): read its resources as they are.
            if let pv = root["planned_values"] as? [String: Any], let rm = pv["root_module"] as? [String: Any] {
                try readModuleValues(rm, path: "planned_values.root_module", into: &resources, prior: false)
            }
            return
        }
        guard let list = any as? [Any] else { throw error("resource_changes", "not a list") }
        for (i, v) in list.enumerated() {
            let jp = "resource_changes[\(i)]"
            guard let rc = v as? [String: Any] else { throw error(jp, "not a JSON object") }
            guard let type = rc["type"] as? String, let name = rc["name"] as? String else {
                throw error(jp, "a resource change without type and name")
            }
            let mode = (rc["mode"] as? String) ?? "managed"
            var module: [ModuleStep] = []
            if let ma = rc["module_address"] {
                guard let s = ma as? String, let steps = Self.moduleSteps(s) else {
                    throw error(jp + ".module_address", "not a module address (module.NAME[KEY]…)")
                }
                module = steps
            }
            guard let change = rc["change"] as? [String: Any] else { throw error(jp + ".change", "missing or not an object") }
            let actions = (change["actions"] as? [Any])?.compactMap { $0 as? String } ?? []
            if rc["deposed"] != nil { continue }
            var r = Resource(module: module, mode: mode, type: type, name: name, index: Self.key(rc["index"]),
                             values: [:], unknown: change["after_unknown"], origin: jp, actions: actions)
            if actions == ["delete"] {
                deleted.append(r.address)
                continue
            }
            if let after = change["after"] {
                if after is NSNull {
                    r.values = [:]
                } else {
                    guard let a = after as? [String: Any] else { throw error(jp + ".change.after", "not a JSON object") }
                    r.values = a
                }
            }
            resources.append(r)
        }
    }

    mutating func readPriorState() throws {
        guard let ps = root["prior_state"] else { return }
        guard let o = ps as? [String: Any] else { throw error("prior_state", "not a JSON object") }
        guard let values = o["values"] as? [String: Any], let rm = values["root_module"] as? [String: Any] else { return }
        try readModuleValues(rm, path: "prior_state.values.root_module", into: &prior, prior: true)
    }

    /// A `values`-shaped module (`planned_values.root_module`, `prior_state.values.root_module`), recursively.
    func readModuleValues(_ m: [String: Any], path: String, into out: inout [Resource], prior: Bool) throws {
        for (i, v) in ((m["resources"] as? [Any]) ?? []).enumerated() {
            let jp = "\(path).resources[\(i)]"
            guard let r = v as? [String: Any], let type = r["type"] as? String, let name = r["name"] as? String else {
                throw error(jp, "a resource without type and name")
            }
            var module: [ModuleStep] = []
            if let a = r["address"] as? String, let cut = a.range(of: ".\(r["mode"] as? String == "data" ? "data." : "")\(type).\(name)", options: .backwards),
               a.hasPrefix("module.") {
                module = Self.moduleSteps(String(a[..<cut.lowerBound])) ?? []
            }
            var res = Resource(module: module, mode: (r["mode"] as? String) ?? "managed", type: type, name: name,
                               index: Self.key(r["index"]), values: (r["values"] as? [String: Any]) ?? [:], unknown: nil,
                               origin: jp)
            res.fromPriorState = prior
            out.append(res)
        }
        for (i, v) in ((m["child_modules"] as? [Any]) ?? []).enumerated() {
            guard let c = v as? [String: Any] else { throw error("\(path).child_modules[\(i)]", "not a JSON object") }
            try readModuleValues(c, path: "\(path).child_modules[\(i)]", into: &out, prior: prior)
        }
    }

    // MARK: Configuration

    /// The configuration of a module (by names, without instance keys), and its JSON path.
    func configModule(_ names: [String]) -> (module: [String: Any], path: String)? {
        guard let c = root["configuration"] as? [String: Any], var m = c["root_module"] as? [String: Any] else { return nil }
        var path = "configuration.root_module"
        for n in names {
            guard let calls = m["module_calls"] as? [String: Any], let call = calls[n] as? [String: Any],
                  let sub = call["module"] as? [String: Any] else { return nil }
            m = sub
            path += ".module_calls.\(n).module"
        }
        return (m, path)
    }

    /// A resource's configuration block (`expressions`, `count_expression`, …) and its JSON path.
    func configResource(_ module: [String], _ address: String) -> (block: [String: Any], path: String)? {
        guard let (m, path) = configModule(module) else { return nil }
        for (i, v) in ((m["resources"] as? [Any]) ?? []).enumerated() {
            guard let r = v as? [String: Any], r["address"] as? String == address else { continue }
            return (r, "\(path).resources[\(i)]")
        }
        return nil
    }

    /// A module call of the module at `parent`, and its JSON path.
    func moduleCall(_ parent: [String], _ name: String) -> (call: [String: Any], path: String)? {
        guard let (m, path) = configModule(parent), let calls = m["module_calls"] as? [String: Any],
              let call = calls[name] as? [String: Any] else { return nil }
        return (call, "\(path).module_calls.\(name)")
    }
}
