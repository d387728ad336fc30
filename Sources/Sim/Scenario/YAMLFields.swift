import Packets
import Yams

/// Typed, position-aware reading of composed YAML nodes. Every failure is a `ScenarioError` at the offending
/// node, so a scenario author is pointed at the exact line and column.
struct YAMLReader {
    let file: String
    /// Where the lines of included files start (`include:`, ScenarioIncludes): a node's line is looked up here.
    var sources = IncludedLines()

    func error(at node: Node?, _ message: String) -> ScenarioError {
        let mark = node?.mark
        let (f, line) = sources.place(line: mark?.line ?? 0, default: file)
        return ScenarioError(file: f, line: line, column: mark?.column ?? 0, message: message)
    }

    /// "file:line:col" of a node, for locations kept in the model.
    func location(of node: Node) -> String {
        let (f, line) = sources.place(line: node.mark?.line ?? 0, default: file)
        return "\(f):\(line):\(node.mark?.column ?? 0)"
    }

    /// What a node is, for "expected …, found …" messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s):
            if isNull(node) { return "nothing (null)" }
            return quoted(s.string)
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// A mapping whose keys must all be in `allowed`. Duplicate keys and unknown keys (with a suggestion for
    /// typos) are errors.
    func fields(_ node: Node, what: String, key: String? = nil, allowed: [String]) throws -> YAMLFields {
        guard case .mapping(let mapping) = node else {
            let subject = key.map { "'\($0)'" } ?? what
            throw error(at: node, "expected a mapping for \(subject), found \(Self.describe(node))")
        }
        // A mapping has a handful of keys: linear scans beat building a dictionary for each of a large file's
        // tens of thousands of mappings.
        var entries: [YAMLFields.Entry] = []
        entries.reserveCapacity(mapping.count)
        for (k, v) in mapping {
            guard case .scalar(let ks) = k else {
                throw error(at: k, "expected a plain key in \(what), found \(Self.describe(k))")
            }
            let name = ks.string
            if entries.contains(where: { $0.key == name }) {
                throw error(at: k, "duplicate key '\(name)' in \(what)")
            }
            if !allowed.contains(name) {
                var message = "unknown key '\(name)' in \(what)"
                if let guess = Self.suggestion(for: name, among: allowed) {
                    message += " (did you mean '\(guess)'?)"
                } else {
                    message += " (expected one of: \(allowed.joined(separator: ", ")))"
                }
                throw error(at: k, message)
            }
            entries.append(YAMLFields.Entry(key: name, keyNode: k, value: v))
        }
        return YAMLFields(reader: self, node: node, what: what, entries: entries)
    }

    /// A mapping with free keys (outside-host ports, Lambda private_ips): its pairs in file order, duplicate keys
    /// rejected.
    func pairs(_ node: Node, key: String) throws -> [(key: String, keyNode: Node, value: Node)] {
        guard case .mapping(let mapping) = node else {
            throw error(at: node, "expected a mapping for '\(key)', found \(Self.describe(node))")
        }
        var out: [(key: String, keyNode: Node, value: Node)] = []
        var seen = Set<String>()
        for (k, v) in mapping {
            guard case .scalar(let ks) = k else {
                throw error(at: k, "expected a plain key in '\(key)', found \(Self.describe(k))")
            }
            guard seen.insert(ks.string).inserted else {
                throw error(at: k, "duplicate key '\(ks.string)' in '\(key)'")
            }
            out.append((ks.string, k, v))
        }
        return out
    }

    func list(_ node: Node, key: String) throws -> [Node] {
        guard case .sequence(let seq) = node else {
            throw error(at: node, "expected a list for '\(key)', found \(Self.describe(node))")
        }
        return Array(seq)
    }

    func string(_ node: Node, key: String) throws -> String {
        guard case .scalar(let s) = node, !Self.isNull(node) else {
            throw error(at: node, "expected a string for '\(key)', found \(Self.describe(node))")
        }
        return s.string
    }

    /// A non-empty string without surrounding whitespace.
    func word(_ node: Node, key: String) throws -> String {
        let s = try string(node, key: key)
        guard !s.isEmpty else { throw error(at: node, "'\(key)' is empty") }
        // Leading or trailing whitespace (Character.isWhitespace), tested without building a trimmed copy.
        guard !s.first!.isWhitespace, !s.last!.isWhitespace else {
            throw error(at: node, "'\(key)' has leading or trailing spaces")
        }
        return s
    }

    func integer(_ node: Node, key: String, range: ClosedRange<Int>? = nil, what: String? = nil) throws -> Int {
        let s = try string(node, key: key)
        guard let v = Int(s) else { throw error(at: node, "expected an integer for '\(key)', found '\(s)'") }
        if let range, !range.contains(v) {
            throw error(at: node, "\(what ?? "'\(key)'") \(v) is outside \(range.lowerBound)-\(range.upperBound)")
        }
        return v
    }

    func bool(_ node: Node, key: String) throws -> Bool {
        let s = try string(node, key: key)
        switch s {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw error(at: node, "expected true or false for '\(key)', found '\(s)'")
        }
    }

    func oneOf<T>(_ node: Node, key: String, _ choices: [(String, T)]) throws -> T {
        let s = try string(node, key: key)
        if let hit = choices.first(where: { $0.0 == s }) { return hit.1 }
        throw error(at: node, "invalid \(key) '\(s)' (expected \(choices.map(\.0).joined(separator: ", ")))")
    }

    func cidr(_ node: Node, key: String) throws -> IPv4CIDR {
        let s = try string(node, key: key)
        if Self.looksLikeIPv6(s) { throw error(at: node, Self.ipv6WhereIPv4(s, key: key)) }
        do {
            return try IPv4CIDR(parsing: s)
        } catch let e as IPv4CIDR.ParseError {
            throw error(at: node, "invalid CIDR '\(s)': \(e.description)")
        }
    }

    func address(_ node: Node, key: String) throws -> IPv4Address {
        let s = try string(node, key: key)
        guard let a = IPv4Address(s) else {
            if Self.looksLikeIPv6(s) { throw error(at: node, Self.ipv6WhereIPv4(s, key: key)) }
            throw error(at: node, "invalid IPv4 address '\(s)' for '\(key)'")
        }
        try refuseTokenRange(a, node: node, key: key)
        return a
    }

    /// An IPv4 address in 240.0.0.0/4 (class E, reserved: RFC 1112 §4) is never a VPC, on-premises or internet
    /// address, and the simulator stands its IPv6 addresses there (`IPv6Token`): refused.
    func refuseTokenRange(_ a: IPv4Address, node: Node, key: String) throws {
        guard IPv4Address.tokenRange.contains(a) else { return }
        throw error(at: node, Self.tokenRangeMessage(a, key: key))
    }

    static func tokenRangeMessage(_ a: IPv4Address, key: String) -> String {
        "IPv4 address \(IPv4Address.dotted(a)) for '\(key)' is in 240.0.0.0/4 (class E, reserved: never a VPC or internet "
            + "address; the simulator keeps it for IPv6)"
    }

    /// Written as an IPv6 address or CIDR is: hex digits, dots and at least two colons, a prefix length after `/`.
    static func looksLikeIPv6(_ s: String) -> Bool {
        let address = s.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return address.filter { $0 == ":" }.count >= 2
            && s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "/" }
    }

    /// An IPv6 address or CIDR in a field that takes IPv4 only; where the IPv6 one goes, when there is one
    /// (YAMLFields+IPv6.swift).
    static func ipv6WhereIPv4(_ s: String, key: String) -> String {
        "`\(s)` is IPv6 where '\(key)' takes IPv4 " + (ipv6Keys[key].map { "(\($0))" } ?? "(IPv6 is not modeled there yet)")
    }

    /// The closest allowed key within edit distance 2 (or a third of the word), for "did you mean".
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        var best: (String, Int)?
        for c in candidates {
            let d = editDistance(word, c)
            if d <= max(2, word.count / 3), best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}

/// A checked mapping: its keys are known, in file order.
struct YAMLFields {
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }
    let reader: YAMLReader
    let node: Node
    /// "subnet subnet-0a1b" — the subject of messages about this mapping.
    var what: String
    let entries: [Entry]

    /// Where `key` is in `entries` (keys are unique).
    func position(_ key: String) -> Int? { entries.firstIndex { $0.key == key } }
    func has(_ key: String) -> Bool { position(key) != nil }
    subscript(_ key: String) -> Node? { position(key).map { entries[$0].value } }
    func keyNode(_ key: String) -> Node? { position(key).map { entries[$0].keyNode } }

    /// The value of a required key; "NAT gateway nat-0ab has no subnet" at the mapping when it is missing.
    func require(_ key: String) throws -> Node {
        guard let v = self[key] else { throw reader.error(at: node, "\(what) has no \(key)") }
        return v
    }

    func string(_ key: String) throws -> String? { try self[key].map { try reader.string($0, key: key) } }
    func word(_ key: String) throws -> String? { try self[key].map { try reader.word($0, key: key) } }
    func requireWord(_ key: String) throws -> String { try reader.word(require(key), key: key) }
    func bool(_ key: String) throws -> Bool? { try self[key].map { try reader.bool($0, key: key) } }
    func list(_ key: String) throws -> [Node]? { try self[key].map { try reader.list($0, key: key) } }
    func integer(_ key: String, range: ClosedRange<Int>? = nil, what: String? = nil) throws -> Int? {
        try self[key].map { try reader.integer($0, key: key, range: range, what: what) }
    }
    func address(_ key: String) throws -> IPv4Address? { try self[key].map { try reader.address($0, key: key) } }
    func cidr(_ key: String) throws -> IPv4CIDR? { try self[key].map { try reader.cidr($0, key: key) } }
}
