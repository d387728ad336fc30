import Foundation
import Packets
import Yams

/// Structure-aware mutations of each parser's inputs. Every function is deterministic given the generator.

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
}

/// Stands for a value nested many levels deep: replaced in the serialized text (serializing the nesting itself
/// would recurse as deep as the parser under test).
let deepSentinel = "@@VPCSIM-FUZZ-DEEP@@"

func deepNesting(_ rng: inout SplitMix64, json: Bool) -> String {
    let depth = rng.pick([8, 64, 500, 1_000, 2_000, 3_000, 5_000, 20_000])
    if json || rng.chance(0.5) { return String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
    return String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth)
}

/// Odd text: edge numbers, control characters, unicode, long strings, the clock's limits.
let edgeStrings: [String] = [
    "-1", "0", "1", "99999999999999999999", "1e400", "-1e400", "abc", "", " ", "[]", "{}", "null", "~", "0.0.0.0/33",
    "10.0.0.0/-1", "256.1.1.1/8", "10.0.0.0/8/8", "4294967296", "-9223372036854775808", "9223372036854775807",
    "9223372036854775808", "18446744073709551616", "1.5", "-0", "0x1F", "1_000", ".nan", ".inf", "-.inf", "all", "-",
    "true", "no", "65535", "65536", "-5s", "0s", "1ns", "1000000h", "99999999999999h", "1e30s", "4294967295MB",
    "9999999999999999999GiB", "1677-09-21T00:12:43Z", "1677-09-20T23:59:59Z", "2262-04-11T23:47:16Z",
    "2262-04-12T00:00:00Z", "2106-02-07T06:28:16Z", "2106-02-08T00:00:00Z", "1970-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-13-45T25:61:61Z", "line1\nline2", "a\rb", "tab\there",
    "nul\u{0}byte", "esc\u{1B}[31mred", "bell\u{7}", "del\u{7F}", "\u{85}next-line", "\u{2028}ls", "\u{FEFF}bom",
    "\u{202E}rtl", "é", "日本語", "🙂", "e\u{301}", String(repeating: "x", count: 10_000),
    String(repeating: "9", count: 400), "*alias", "&anchor x", "!!binary AA==", "!!int x", "? complex", "%TAG",
    "eni-", "sg-0", "subnet-zzzz", "vpc-12345678", "nat-0", "igw-", "rtb-", "acl-", "tcp", "udp", "icmp", "-1:-1",
    "1-65535", "65535-1", "0-0",
]

// MARK: - Bytes (every parser, and what the structured mutators fall back to)

let edgeWords: [UInt32] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x1_0000, 0x4_0000, 0x4_0001, 0x7FFF_FFFF,
                           0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF, 0x0A0D_0D0A, 0x1A2B_3C4D, 0x4D3C_2B1A, 0xA1B2_C3D4,
                           0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1, 0x0000_0006, 0x0000_0001, 0x0000_0002]

func mutateBytes(_ input: [UInt8], _ rng: inout SplitMix64, focus: Range<Int>? = nil) -> [UInt8] {
    var b = input
    if b.isEmpty { return [UInt8(truncatingIfNeeded: rng.next())] }
    if rng.chance(0.15) { return Array(b.prefix(rng.below(b.count))) }
    for _ in 0..<(1 + rng.below(6)) {
        guard !b.isEmpty else { break }
        var range = focus ?? 0..<b.count
        if range.upperBound > b.count || range.isEmpty { range = 0..<b.count }
        let i = range.lowerBound + rng.below(range.count)
        switch rng.below(8) {
        case 0, 1: b[i] ^= UInt8(1) << UInt8(rng.below(8))
        case 2: b[i] = rng.pick([0, 1, 0x7F, 0x80, 0xFF, 0x0A, 0x0D, 0x3A, 0x22, 0x5B, 0x7B])
        case 3: b[i] = UInt8(truncatingIfNeeded: rng.next())
        case 4:
            let w = rng.pick(edgeWords)
            for k in 0..<4 where i + k < b.count { b[i + k] = UInt8(truncatingIfNeeded: w >> (8 * UInt32(k))) }
        case 5: b.removeSubrange(i..<min(b.count, i + 1 + rng.below(16)))
        case 6: b.insert(contentsOf: (0..<(1 + rng.below(16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: i)
        default:
            let n = min(b.count - i, 1 + rng.below(64))
            b.insert(contentsOf: Array(b[i..<(i + n)]), at: i)
        }
    }
    return b
}

// MARK: - Scenario YAML: the tree, then the text

/// The seeds' YAML trees, composed once.
nonisolated(unsafe) var composed: [String: Node] = [:]

func mutateYAML(_ text: String, _ rng: inout SplitMix64) -> [UInt8] {
    if rng.chance(0.3) { return mutateYAMLText(text, &rng) }
    if composed[text] == nil, let node = try? Yams.compose(yaml: text) { composed[text] = node }
    guard let root = composed[text] else { return mutateYAMLText(text, &rng) }
    var node = root
    for _ in 0..<(1 + rng.below(3)) {
        let count = countNodes(node)
        var target = rng.below(count)
        node = mutateNode(node, &target, &rng)
    }
    guard var out = try? Yams.serialize(node: node, allowUnicode: rng.chance(0.5)) else { return mutateYAMLText(text, &rng) }
    out = out.replacingOccurrences(of: deepSentinel, with: deepNesting(&rng, json: false))
    return Array(out.utf8)
}

func countNodes(_ n: Node) -> Int {
    switch n {
    case .scalar: return 1
    case let .mapping(m): return 1 + m.reduce(0) { $0 + countNodes($1.key) + countNodes($1.value) }
    case let .sequence(s): return 1 + s.reduce(0) { $0 + countNodes($1) }
    }
}

let scenarioKeys = ["name", "seed", "start_time", "vpcs", "subnets", "route_tables", "routes", "network_acls",
                    "security_groups", "nat_gateways", "internet_gateways", "instances", "lambdas", "outside",
                    "flows", "generators", "assumptions", "flow_logs", "expect", "from", "to", "app", "size", "start",
                    "hold", "count", "over", "cidr", "id", "vpc", "subnet", "rules", "egress", "ingress", "port",
                    "ports", "protocol", "action", "number", "target", "destination", "format", "connect_timeout"]

/// Pre-order: the node numbered `target` (counted down as nodes are passed) is mutated.
func mutateNode(_ n: Node, _ target: inout Int, _ rng: inout SplitMix64) -> Node {
    if target == 0 {
        target = -1
        return replacement(for: n, &rng)
    }
    target -= 1
    switch n {
    case let .mapping(m):
        var pairs = m.map { ($0.key, $0.value) }
        for i in pairs.indices where target >= 0 {
            pairs[i].0 = mutateNode(pairs[i].0, &target, &rng)
            pairs[i].1 = mutateNode(pairs[i].1, &target, &rng)
        }
        return .mapping(Node.Mapping(pairs, m.tag, m.style))
    case let .sequence(s):
        var items = Array(s)
        for i in items.indices where target >= 0 { items[i] = mutateNode(items[i], &target, &rng) }
        return .sequence(Node.Sequence(items, s.tag, s.style))
    default:
        return n
    }
}

func replacement(for n: Node, _ rng: inout SplitMix64) -> Node {
    let edge = { (rng: inout SplitMix64) -> Node in .scalar(Node.Scalar(rng.pick(edgeStrings))) }
    switch (n, rng.below(10)) {
    case (.mapping(let m), 0...3) where !m.isEmpty:  // delete, duplicate or rename a key; wrong value
        var pairs = m.map { ($0.key, $0.value) }
        let i = rng.below(pairs.count)
        switch rng.below(4) {
        case 0: pairs.remove(at: i)
        case 1: pairs.insert(pairs[i], at: rng.below(pairs.count + 1))
        case 2: pairs[i].0 = .scalar(Node.Scalar(rng.chance(0.5) ? rng.pick(scenarioKeys) : rng.pick(edgeStrings)))
        default: pairs[i].1 = edge(&rng)
        }
        return .mapping(Node.Mapping(pairs, m.tag, m.style))
    case (.sequence(let s), 0...3) where !s.isEmpty:  // delete, duplicate (many times) or swap items
        var items = Array(s)
        let i = rng.below(items.count)
        switch rng.below(3) {
        case 0: items.remove(at: i)
        case 1: items.append(contentsOf: Array(repeating: items[i], count: rng.pick([1, 2, 10, 300])))
        default: items.swapAt(i, rng.below(items.count))
        }
        return .sequence(Node.Sequence(items, s.tag, s.style))
    default:
        switch rng.below(8) {
        case 0: return .scalar(Node.Scalar(deepSentinel))
        case 1: return .mapping(Node.Mapping([(edge(&rng), edge(&rng))]))
        case 2: return .sequence(Node.Sequence([edge(&rng), n]))
        case 3: return .scalar(Node.Scalar(rng.pick(edgeStrings), .implicit, rng.pick([.plain, .singleQuoted, .doubleQuoted, .literal, .folded])))
        default: return edge(&rng)
        }
    }
}

func mutateYAMLText(_ text: String, _ rng: inout SplitMix64) -> [UInt8] {
    var lines = text.components(separatedBy: "\n")
    for _ in 0..<(1 + rng.below(3)) {
        let k = rng.below(lines.count)
        let line = lines[k]
        switch rng.below(9) {
        case 0: lines.remove(at: k)
        case 1, 2:
            if let colon = line.firstIndex(of: ":") { lines[k] = String(line[..<colon]) + ": " + rng.pick(edgeStrings) }
        case 3: lines.insert(lines[rng.below(lines.count)], at: k)
        case 4: lines[k] = String(line.prefix(rng.below(line.count + 1)))
        case 5: lines[k] = String(repeating: rng.chance(0.8) ? " " : "\t", count: rng.below(9)) + line.drop { $0 == " " }
        case 6: if let colon = line.firstIndex(of: ":") { lines[k] = String(line[..<colon]) + ": " + deepNesting(&rng, json: false) }
        case 7: lines[k] = line + rng.pick(["\r", " #", " &a", " *a", "\u{0}", "\u{1B}", "\u{FEFF}", " : x", "\"", "'"])
        default: if lines.count > 1 { lines.swapAt(k, rng.below(lines.count)) }
        }
    }
    let text = lines.joined(separator: rng.chance(0.1) ? "\r\n" : "\n")
    let bytes = Array(text.utf8)
    return rng.chance(0.2) ? mutateBytes(bytes, &rng) : bytes
}

// MARK: - pcap and pcapng: header fields, record and block lengths, truncation, bit flips

func mutateCapture(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    guard input.count >= 24 else { return mutateBytes(input, &rng) }
    if rng.chance(0.15) { return mutateBytes(input, &rng) }
    let magic = readU32(input, 0, little: true)
    if magic == 0x0A0D_0D0A { return mutatePcapng(input, &rng) }
    let little = magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D
    var b = input
    // Records: offsets of the 16-byte record headers.
    var records: [Int] = []
    var o = 24
    while o + 16 <= b.count, records.count < 100_000 {
        records.append(o)
        o += 16 + Int(readU32(b, o + 8, little: little))
    }
    for _ in 0..<(1 + rng.below(3)) {
        switch rng.below(9) {
        case 0:  // a global header field: magic, version, thiszone, sigfigs, snaplen, link type
            let field = rng.pick([0, 4, 6, 8, 12, 16, 20])
            if field == 4 || field == 6 {
                writeU16(&b, field, UInt16(truncatingIfNeeded: rng.pick(edgeWords)), little: little)
            } else {
                writeU32(&b, field, field == 20 ? rng.pick([0, 1, 12, 101, 113, 228, 239, 276, 0xFFFF, 0x7FFF_FFFF, UInt32(rng.below(300))]) : rng.pick(edgeWords), little: little)
            }
        case 1, 2:  // a record's lengths
            guard let r = records.isEmpty ? nil : rng.pick(records), r + 16 <= b.count else { continue }
            let incl = readU32(b, r + 8, little: little)
            let value = rng.pick([0, 1, 13, 14, 19, 20, 33, 34, 53, 54, incl &+ 1, incl &- 1, incl &* 2, 0x4_0000, 0x4_0001, 0x7FFF_FFFF, 0xFFFF_FFFF])
            writeU32(&b, r + (rng.chance(0.7) ? 8 : 12), value, little: little)
        case 3:  // a record's time: seconds and sub-seconds past their range
            guard let r = records.isEmpty ? nil : rng.pick(records), r + 16 <= b.count else { continue }
            writeU32(&b, r + rng.pick([0, 4]), rng.pick([0, 999_999, 1_000_000, 999_999_999, 1_000_000_000, 0x7FFF_FFFF, 0xFFFF_FFFF]), little: little)
        case 4:  // truncated inside a record
            guard let r = records.isEmpty ? nil : rng.pick(records) else { continue }
            let cut = min(b.count, r + rng.below(40))
            b = Array(b.prefix(cut))
            records = records.filter { $0 < cut }
        case 5:  // header fields of a frame: Ethernet type, IP version and lengths, TCP offset
            guard let r = records.isEmpty ? nil : rng.pick(records), r + 16 < b.count else { continue }
            b = mutateBytes(b, &rng, focus: (r + 16)..<min(b.count, r + 16 + 80))
            return b
        case 6:  // a record deleted or duplicated
            guard records.count > 1 else { continue }
            let k = rng.below(records.count - 1)
            let (s, e) = (records[k], records[k + 1])
            guard s <= e, e <= b.count else { continue }
            let rec = Array(b[s..<e])
            if rng.chance(0.5) { b.removeSubrange(s..<e) } else { b.insert(contentsOf: rec, at: e) }
            return b
        default:
            b = mutateBytes(b, &rng)
            return b
        }
    }
    return b
}

func mutatePcapng(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var b = input
    let little = input.count >= 12 && readU32(input, 8, little: true) == 0x1A2B_3C4D
    var blocks: [(offset: Int, length: Int)] = []
    var o = 0
    while o + 12 <= b.count, blocks.count < 100_000 {
        let len = Int(readU32(b, o + 4, little: little))
        guard len >= 12 else { break }
        blocks.append((o, len))
        o += len
    }
    guard !blocks.isEmpty else { return mutateBytes(b, &rng) }
    let blk = rng.pick(blocks)
    switch rng.below(8) {
    case 0:  // the leading or trailing length
        let at = rng.chance(0.6) ? blk.offset + 4 : blk.offset + blk.length - 4
        let v = rng.pick([0, 4, 11, 12, 13, UInt32(blk.length + 4), UInt32(max(0, blk.length - 4)), 0x7FFF_FFFF, 0xFFFF_FFFF])
        if at + 4 <= b.count { writeU32(&b, at, v, little: little) }
    case 1:  // the block type
        writeU32(&b, blk.offset, rng.pick([0, 1, 2, 3, 4, 5, 6, 0x0A0D_0D0A, 0xBAD, 0x8000_0001]), little: little)
    case 2:  // a word in the body: SHB version and section length, IDB link type and snaplen, EPB interface and lengths
        let words = max(1, (blk.length - 12) / 4)
        let at = blk.offset + 8 + 4 * rng.below(min(words, 8))
        if at + 4 <= b.count { writeU32(&b, at, rng.pick(edgeWords), little: little) }
    case 3:  // an option's length (options follow the fixed fields; any 16-bit word in the block's tail)
        let tail = max(blk.offset + 8, blk.offset + blk.length - 4 - 2 * (1 + rng.below(16)))
        if tail + 2 <= b.count { writeU16(&b, tail, rng.pick([0, 1, 3, 0xFF, 0xFFFF]), little: little) }
    case 4:  // truncated inside a block
        b = Array(b.prefix(min(b.count, blk.offset + rng.below(blk.length))))
    case 5:  // deleted or duplicated
        let end = min(b.count, blk.offset + blk.length)
        let block = Array(b[blk.offset..<end])
        if rng.chance(0.5) { b.removeSubrange(blk.offset..<end) } else { b.insert(contentsOf: block, at: end) }
    case 6:  // the packet's bytes
        b = mutateBytes(b, &rng, focus: (blk.offset + 28)..<min(b.count, blk.offset + blk.length))
    default:
        b = mutateBytes(b, &rng)
    }
    return b
}

func readU32(_ b: [UInt8], _ o: Int, little: Bool) -> UInt32 {
    guard o + 4 <= b.count else { return 0 }
    let v = (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[o + $1]) << (8 * UInt32($1)) }
    return little ? v : v.byteSwapped
}

func writeU32(_ b: inout [UInt8], _ o: Int, _ value: UInt32, little: Bool) {
    guard o + 4 <= b.count else { return }
    let v = little ? value : value.byteSwapped
    for k in 0..<4 { b[o + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
}

func writeU16(_ b: inout [UInt8], _ o: Int, _ value: UInt16, little: Bool) {
    guard o + 2 <= b.count else { return }
    let v = little ? value : value.byteSwapped
    b[o] = UInt8(truncatingIfNeeded: v)
    b[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
}

// MARK: - Flow logs: fields, lines, custom format headers

let flowLogFields = ["version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
                     "packets", "bytes", "start", "end", "action", "log-status", "vpc-id", "subnet-id", "instance-id",
                     "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr", "region", "az-id", "sublocation-type",
                     "sublocation-id", "pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path",
                     "ecs-cluster-name", "reject-reason"]

let flowLogValues = ["-", "", "0", "-1", "2", "6", "17", "255", "256", "65535", "65536", "4294967295", "4294967296",
                     "18446744073709551616", "99999999999999999999999", "ACCEPT", "REJECT", "OK", "NODATA", "SKIPDATA",
                     "eni-", "eni-0123456789abcdef0", "10.0.0.1", "10.0.0.256", "1.2.3.4.5", "::1", "0.0.0.0", "abc",
                     "1e9", "1.5", "é", "🙂", "a\u{0}b", "\u{1B}[1m", "x\ry", "ingress", "egress", "IPv4", "IPv6"]

func mutateFlowLog(_ text: String, _ rng: inout SplitMix64) -> [UInt8] {
    var lines = text.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    if lines.isEmpty { lines = [""] }
    let hasHeader = lines[0].split(separator: " ").first.map { flowLogFields.contains(String($0)) } ?? false
    for _ in 0..<(1 + rng.below(3)) {
        let k = rng.below(lines.count)
        var fields = lines[k].components(separatedBy: " ")
        switch rng.below(10) {
        case 0, 1, 2:  // a field's value
            fields[rng.below(fields.count)] = rng.pick(flowLogValues)
            lines[k] = fields.joined(separator: " ")
        case 3:  // a field removed or added
            if rng.chance(0.5), fields.count > 1 { fields.remove(at: rng.below(fields.count)) } else {
                fields.insert(rng.pick(flowLogValues), at: rng.below(fields.count + 1))
            }
            lines[k] = fields.joined(separator: rng.chance(0.1) ? "\t" : " ")
        case 4:  // a custom format header: some fields, in some order, duplicates and unknown names too
            var header = (0..<(1 + rng.below(20))).map { _ in rng.pick(flowLogFields) }
            if rng.chance(0.2) { header.append(rng.pick(["bogus", "", "Version", "srcaddr"])) }
            if hasHeader { lines[0] = header.joined(separator: " ") } else { lines.insert(header.joined(separator: " "), at: 0) }
        case 5:  // the header removed, or a header line in the middle
            if hasHeader, rng.chance(0.5) { lines.remove(at: 0) } else { lines.insert(lines[0], at: k) }
            if lines.isEmpty { lines = [""] }
        case 6:  // a line repeated, up to thousands of times
            lines.insert(contentsOf: Array(repeating: lines[k], count: rng.pick([1, 2, 50, 2_000])), at: k)
        case 7: lines.remove(at: k); if lines.isEmpty { lines = [""] }
        case 8: lines[k] = String(lines[k].prefix(rng.below(lines[k].count + 1)))
        default: lines[k] = lines[k] + rng.pick(["\r", " ", "  x", String(repeating: " 1", count: 500), "\u{0}"])
        }
    }
    let bytes = Array((lines.joined(separator: "\n") + (rng.chance(0.9) ? "\n" : "")).utf8)
    return rng.chance(0.1) ? mutateBytes(bytes, &rng) : bytes
}

// MARK: - describe-* JSON: the tree

func mutateJSON(_ data: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    guard !rng.chance(0.1), var root = try? JSONSerialization.jsonObject(with: Data(data), options: [.fragmentsAllowed]) else {
        return mutateBytes(data, &rng)
    }
    for _ in 0..<(1 + rng.below(3)) { root = mutateJSONNode(root, depth: 0, &rng) }
    guard let out = try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .prettyPrinted, .fragmentsAllowed]),
          var text = String(data: out, encoding: .utf8) else { return mutateBytes(data, &rng) }
    text = text.replacingOccurrences(of: "\"" + deepSentinel + "\"", with: deepNesting(&rng, json: true))
    return Array(text.utf8)
}

let jsonEdgeValues: [Any] = [NSNull(), -1, 0, 1, 65535, 65536, -65536, 4_294_967_296, Double(1e300), 1.5, true, false,
                             "", "x", [Any](), [String: Any](), "10.0.0.0/33", "10.0.0.0/8", "0.0.0.0/0", "999.1.1.1",
                             "-1", "tcp", "6", "all", "a\u{0}b", "two\nlines", "esc\u{1B}", "🙂", "sg-", "subnet-0",
                             "vpc-0", "igw-0", "nat-0", "eni-0", "rtb-0", "acl-0", "pl-0", "i-0",
                             String(repeating: "y", count: 5_000), deepSentinel]

func mutateJSONNode(_ node: Any, depth: Int, _ rng: inout SplitMix64) -> Any {
    let descend = depth < 12 && rng.chance(0.85)
    if var dict = node as? [String: Any], !dict.isEmpty {
        let keys = dict.keys.sorted()
        let key = rng.pick(keys)
        if descend, let child = dict[key], child is [String: Any] || child is [Any] {
            dict[key] = mutateJSONNode(child, depth: depth + 1, &rng)
            return dict
        }
        switch rng.below(6) {
        case 0: dict[key] = nil
        case 1: dict[key + (rng.chance(0.5) ? "x" : "")] = dict[key]; if rng.chance(0.5) { dict[key] = nil }  // renamed
        case 2: dict[key] = dict[rng.pick(keys)]  // another field's value: ids of the wrong kind
        default: dict[key] = rng.pick(jsonEdgeValues)
        }
        return dict
    }
    if var list = node as? [Any], !list.isEmpty {
        let i = rng.below(list.count)
        if descend, list[i] is [String: Any] || list[i] is [Any] {
            list[i] = mutateJSONNode(list[i], depth: depth + 1, &rng)
            return list
        }
        switch rng.below(5) {
        case 0: list.remove(at: i)
        case 1: list.append(contentsOf: Array(repeating: list[i], count: rng.pick([1, 2, 100])))
        case 2: list.swapAt(i, rng.below(list.count))
        default: list[i] = rng.pick(jsonEdgeValues)
        }
        return list
    }
    return rng.pick(jsonEdgeValues)
}
