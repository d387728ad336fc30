import Packets

/// A field compared packet by packet.
public enum ComparedField: String, Sendable, Codable, CaseIterable {
    case direction, flags, seq, ack, payload, options, ttl, time
}

public struct CompareOptions: Sendable {
    /// A time difference is within tolerance when it is at most max(`tolerancePercent`% of the time, `toleranceMs`).
    public var toleranceMs: Double = 50
    public var tolerancePercent: Double = 5
    /// Fields left out of the comparison.
    public var ignored: Set<ComparedField> = []
    /// Unpaired conversations make the captures differ.
    public var strict = false

    public init(toleranceMs: Double = 50, tolerancePercent: Double = 5, ignored: Set<ComparedField> = [],
                strict: Bool = false) {
        self.toleranceMs = toleranceMs
        self.tolerancePercent = tolerancePercent
        self.ignored = ignored
        self.strict = strict
    }

    /// The tolerance, in nanoseconds, for packets at `a` and `b` ns after their conversations' first packets.
    public func tolerance(_ a: Int64, _ b: Int64) -> Int64 {
        max(Int64(Double(max(a, b)) * tolerancePercent / 100), Int64(toleranceMs * 1e6))
    }
}

/// A value in a difference: a number, text, or a list of option kinds.
public enum DiffValue: Sendable, Equatable, Encodable, CustomStringConvertible {
    case int(Int)
    case seconds(Double)
    case text(String)
    case kinds([UInt8])
    case none

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .seconds(let v): try c.encode(v)
        case .text(let v): try c.encode(v)
        case .kinds(let v): try c.encode(v.map(Int.init))
        case .none: try c.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .seconds(let v): return compareFixed(v, 6) + " s"
        case .text(let v): return v
        case .kinds(let v): return compareOptionNames(v)
        case .none: return "-"
        }
    }
}

/// One field of one packet that differs.
public struct PacketDifference: Sendable, Equatable {
    /// 1-based position in the conversation.
    public var packet: Int
    public var field: ComparedField
    public var a: DiffValue
    public var b: DiffValue
    /// "packet 7: payload 1448 vs 1208".
    public var text: String
}

/// Packets one side has beyond the other's last.
public struct ExtraPackets: Sendable, Equatable {
    /// "A" or "B".
    public var side: String
    /// 1-based position of the first extra packet.
    public var from: Int
    public var count: Int
    /// "B has 12 more packets from 45 on: 45 ← ACK 1448, …".
    public var text: String
}

/// Two paired conversations and how they compare.
public struct ComparedPair: Sendable {
    public var a: CapturedConversation
    public var b: CapturedConversation
    public var match: ConversationPairing.Match
    public var differences: [PacketDifference]
    public var extra: ExtraPackets?
    /// 1-based position of the first packet that differs (a field, or the first extra packet).
    public var firstDivergence: Int?
    /// Human summary of the differences, field by field ("TTL: client→server 64 vs 62 (32 packets)…").
    public var summary: [String]
    /// Which packet of B each packet of A was compared with (1-based positions, in A's order).
    public var alignment: [(Int, Int)]
    /// Blocks of A's positions seen in another order in B (packets crossing in flight), not differences.
    public var crossings: [ClosedRange<Int>]
    /// A's positions from the first FIN on when the two sides closed at the same time and the captures show
    /// the close in another order (`closeRace`): not differences.
    public var closeRace: ClosedRange<Int>? = nil
    public var agrees: Bool { firstDivergence == nil }
}

/// The comparison of two captures.
public struct CaptureComparison: Sendable {
    public var a: CompareCapture
    public var b: CompareCapture
    public var options: CompareOptions
    public var pairs: [ComparedPair]
    public var unpairedA: [CapturedConversation]
    public var unpairedB: [CapturedConversation]

    public var differingPairs: Int { pairs.filter { !$0.agrees }.count }
    /// Conversations existed but none could be paired: nothing was compared, so the captures differ.
    public var nothingPaired: Bool { pairs.isEmpty && !(unpairedA.isEmpty && unpairedB.isEmpty) }
    /// Every pair agrees; unpaired conversations count only with `strict`, or when nothing paired at all.
    public var agrees: Bool {
        differingPairs == 0 && !nothingPaired && !(options.strict && !(unpairedA.isEmpty && unpairedB.isEmpty))
    }
    /// 0 the captures agree, 1 they differ.
    public var exitStatus: Int32 { agrees ? 0 : 1 }

    /// Loads both files and compares them. Throws `CaptureFileError` for an unreadable file.
    public static func compare(pathA: String, pathB: String,
                               options: CompareOptions = CompareOptions()) throws(CaptureFileError) -> CaptureComparison {
        let a = try CompareCapture.load(path: pathA)
        let b = try CompareCapture.load(path: pathB)
        return compare(a, b, options: options)
    }

    public static func compare(_ a: CompareCapture, _ b: CompareCapture,
                               options: CompareOptions = CompareOptions()) -> CaptureComparison {
        let matches = ConversationPairing.pair(a.conversations, b.conversations)
        let pairs = matches.map { m in
            comparePackets(a.conversations[m.a], b.conversations[m.b], match: m, options: options)
        }
        let usedA = Set(matches.map(\.a)), usedB = Set(matches.map(\.b))
        return CaptureComparison(
            a: a, b: b, options: options, pairs: pairs,
            unpairedA: a.conversations.indices.filter { !usedA.contains($0) }.map { a.conversations[$0] },
            unpairedB: b.conversations.indices.filter { !usedB.contains($0) }.map { b.conversations[$0] })
    }

    /// Compares two conversations packet by packet, aligned by position.
    public static func comparePackets(_ a: CapturedConversation, _ b: CapturedConversation,
                                      match: ConversationPairing.Match,
                                      options: CompareOptions) -> ComparedPair {
        var diffs: [PacketDifference] = []
        let on = { (f: ComparedField) in !options.ignored.contains(f) }
        let (alignment, found) = align(a, b)
        var crossingsFound = found
        for (i, j) in alignment {
            let (pa, pb) = (a.packets[i - 1], b.packets[j - 1])
            let n = i
            func add(_ f: ComparedField, _ va: DiffValue, _ vb: DiffValue, _ text: String) {
                diffs.append(PacketDifference(packet: n, field: f, a: va, b: vb, text: "packet \(n): \(text)"))
            }
            if on(.direction), pa.direction != pb.direction {
                add(.direction, .text(pa.direction.rawValue), .text(pb.direction.rawValue),
                    "direction \(pa.direction.rawValue) vs \(pb.direction.rawValue)")
            }
            if on(.flags), pa.flags != pb.flags {
                add(.flags, .text(compareFlags(pa.flags)), .text(compareFlags(pb.flags)),
                    "flags \(compareFlags(pa.flags)) vs \(compareFlags(pb.flags))")
            }
            // Sequence numbers and TTLs of packets going opposite ways say nothing more than the direction does.
            let sameWay = pa.direction == pb.direction
            if on(.seq), sameWay, pa.relativeSequence != pb.relativeSequence {
                add(.seq, .int(Int(pa.relativeSequence)), .int(Int(pb.relativeSequence)),
                    "relative seq \(pa.relativeSequence) vs \(pb.relativeSequence)")
            }
            if on(.ack), sameWay, let x = pa.relativeAcknowledgment, let y = pb.relativeAcknowledgment, x != y {
                add(.ack, .int(Int(x)), .int(Int(y)), "relative ack \(x) vs \(y)")
            }
            if on(.payload), pa.payloadLength != pb.payloadLength {
                add(.payload, .int(pa.payloadLength), .int(pb.payloadLength),
                    "payload \(pa.payloadLength) vs \(pb.payloadLength)")
            }
            if on(.options), pa.optionKinds != pb.optionKinds {
                add(.options, .kinds(pa.optionKinds), .kinds(pb.optionKinds),
                    "TCP options \(compareOptionNames(pa.optionKinds)) vs \(compareOptionNames(pb.optionKinds))")
            }
            if on(.ttl), sameWay, pa.ttl != pb.ttl {
                add(.ttl, .int(Int(pa.ttl)), .int(Int(pb.ttl)), "TTL \(pa.ttl) vs \(pb.ttl)")
            }
            if on(.time) {
                let gap = abs(pa.time - pb.time)
                let tol = options.tolerance(pa.time, pb.time)
                if gap > tol {
                    add(.time, .seconds(compareSeconds(pa.time)), .seconds(compareSeconds(pb.time)),
                        "time \(compareFixed(compareSeconds(pa.time), 6)) s vs \(compareFixed(compareSeconds(pb.time), 6)) s "
                            + "(apart \(compareFixed(compareSeconds(gap), 6)) s, tolerance \(compareFixed(compareSeconds(tol), 6)) s)")
                }
            }
        }
        var extra: ExtraPackets?
        if a.packets.count != b.packets.count {
            let (side, longer) = a.packets.count > b.packets.count ? ("A", a) : ("B", b)
            let from = min(a.packets.count, b.packets.count) + 1
            let rest = Array(longer.packets[(from - 1)...])
            let shown = rest.prefix(4).map { "\($0.index) \($0.direction.arrow) \(compareFlags($0.flags)) \($0.payloadLength)" }
            let c2s = rest.filter { $0.direction == .clientToServer }.count
            let bytes = rest.reduce(0) { $0 + $1.payloadLength }
            let text = "\(side) has \(rest.count) more packet\(rest.count == 1 ? "" : "s") from \(from) on: "
                + shown.joined(separator: ", ") + (rest.count > 4 ? ", …" : "")
                + " (\(c2s) client→server, \(rest.count - c2s) server→client, \(bytes) payload bytes)"
            extra = ExtraPackets(side: side, from: from, count: rest.count, text: text)
        }
        let race = closeRace(a, b, crossings: crossingsFound)
        var raceNote: String?
        if let race {
            // The order of the close is the race's, not a difference: what differs there follows from it.
            let excused: Set<ComparedField> = [.direction, .flags, .seq, .ack]
            diffs.removeAll { race.range.contains($0.packet) && excused.contains($0.field) }
            if let e = extra, e.from >= race.range.lowerBound { extra = nil }
            crossingsFound.removeAll { race.range.contains($0.lowerBound) }
            let first = { (d: SegmentDirection) in d == .clientToServer ? "the client's FIN first" : "the server's FIN first" }
            let order = race.firstA == race.firstB
                ? "both \(first(race.firstA)), the packets after it in another order"
                : "A \(first(race.firstA)), B \(first(race.firstB))"
            let shown = race.range.count == 1 ? "\(race.range.lowerBound)" : "\(race.range.lowerBound)–\(race.range.upperBound)"
            raceNote = "not a difference: a race: client and server closed at the same time; order differs "
                + "(\(order)): A \(shown)"
        }
        let crossings = crossingsFound
        let first = [diffs.first?.packet, extra?.from].compactMap { $0 }.min()
        var summary = summarize(diffs, extra: extra, a: a, b: b)
        if let raceNote { summary.append(raceNote) }
        if !crossings.isEmpty {
            let count = crossings.reduce(0) { $0 + $1.count }
            let shown = crossings.prefix(6).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)–\($0.upperBound)" }
            summary.append("not a difference: \(count) packet\(count == 1 ? "" : "s") seen in another order "
                + "relative to the other direction (capture points apart on the path): A "
                + shown.joined(separator: ", ") + (crossings.count > 6 ? ", …" : ""))
        }
        return ComparedPair(a: a, b: b, match: match, differences: diffs, extra: extra, firstDivergence: first,
                            summary: summary, alignment: alignment, crossings: crossings, closeRace: race?.range)
    }

    /// Whether the two conversations end in a close race: they agree on where the close starts (the first
    /// FIN is at the same position), from there each holds only payload-less FIN/ACK segments with one FIN
    /// each way, and the order differs: the first FIN comes from the other side, or packets of the close were
    /// seen in another order (`crossings`). Both ends closing within a round trip of each other make either
    /// order happen, at any one capture point, from run to run (curl and Python's http.server, docs/fidelity.md).
    /// The range: A's positions from the first FIN to the end of the longer conversation's close.
    static func closeRace(_ a: CapturedConversation, _ b: CapturedConversation, crossings: [ClosedRange<Int>])
        -> (range: ClosedRange<Int>, firstA: SegmentDirection, firstB: SegmentDirection)?
    {
        guard let fa = a.packets.firstIndex(where: { $0.flags.contains(.fin) }),
              let fb = b.packets.firstIndex(where: { $0.flags.contains(.fin) }), fa == fb else { return nil }
        func closing(_ ps: ArraySlice<ConversationPacket>) -> Bool {
            let fins = ps.filter { $0.flags.contains(.fin) }
            return fins.count == 2 && fins[0].direction != fins[1].direction
                && ps.allSatisfy { $0.payloadLength == 0 && $0.flags.subtracting([.fin, .ack]).isEmpty }
        }
        guard closing(a.packets[fa...]), closing(b.packets[fb...]) else { return nil }
        let range = (fa + 1)...max(a.packets.count, b.packets.count)
        let (da, db) = (a.packets[fa].direction, b.packets[fb].direction)
        guard da != db || crossings.contains(where: { range.contains($0.lowerBound) }) else { return nil }
        return (range, da, db)
    }

    /// Which packet of B each of A's first min(|A|, |B|) packets is compared with (1-based positions), and
    /// the runs of A's positions compared with a packet at another position of B.
    ///
    /// Positions pair in order. Capture points apart on a path see packets going opposite ways interleaved
    /// differently (a crossing; with latency between them, whole flights), so where A's packet does not match
    /// B's at the same position but does match the packet of B that holds the same place among its own
    /// direction (the k-th client→server packet with the k-th client→server packet) in flags, payload length
    /// and relative seq/ack, it is compared with that one and the reordering is noted, not counted.
    static func align(_ a: CapturedConversation, _ b: CapturedConversation) -> ([(Int, Int)], [ClosedRange<Int>]) {
        let n = min(a.packets.count, b.packets.count)
        var positionsB: [SegmentDirection: [Int]] = [:]
        for p in b.packets { positionsB[p.direction, default: []].append(p.index) }
        var seen: [SegmentDirection: Int] = [:]
        func alike(_ x: ConversationPacket, _ y: ConversationPacket) -> Bool {
            x.direction == y.direction && x.flags == y.flags && x.payloadLength == y.payloadLength
                && x.relativeSequence == y.relativeSequence && x.relativeAcknowledgment == y.relativeAcknowledgment
        }
        var out: [(Int, Int)] = []
        var used = Set<Int>()
        var moved: [Int] = []
        for pa in a.packets.prefix(n) {
            let k = seen[pa.direction, default: 0]
            seen[pa.direction] = k + 1
            let list = positionsB[pa.direction] ?? []
            let sameRank = k < list.count ? list[k] : nil
            let i = pa.index
            var j = i
            if !alike(pa, b.packets[i - 1]) || used.contains(i), let r = sameRank, r != i, !used.contains(r),
               alike(pa, b.packets[r - 1]) {
                j = r
                moved.append(i)
            }
            used.insert(j)
            out.append((i, j))
        }
        var runs: [ClosedRange<Int>] = []
        for i in moved {
            if let last = runs.last, last.upperBound == i - 1 { runs[runs.count - 1] = last.lowerBound...i }
            else { runs.append(i...i) }
        }
        return (out, runs)
    }

    /// One line per differing field, most telling first.
    static func summarize(_ diffs: [PacketDifference], extra: ExtraPackets?, a: CapturedConversation,
                          b: CapturedConversation) -> [String] {
        var lines: [String] = []
        if let extra { lines.append(extra.text) }
        let paired = min(a.packets.count, b.packets.count)
        for field in ComparedField.allCases {
            let ds = diffs.filter { $0.field == field }
            guard let first = ds.first else { continue }
            let of = "\(ds.count) of \(paired) packets differ"
            if field == .ttl {
                lines.append(ttlSummary(ds, a: a, paired: paired))
            } else if field == .payload {
                let la = a.packets.prefix(paired).reduce(0) { $0 + $1.payloadLength }
                let lb = b.packets.prefix(paired).reduce(0) { $0 + $1.payloadLength }
                lines.append("payload size: \(of) (\(la) vs \(lb) bytes in all); first: \(first.text)")
            } else {
                let name = ["direction": "direction", "flags": "flags", "seq": "relative seq", "ack": "relative ack",
                            "options": "TCP options", "time": "time beyond tolerance"][field.rawValue] ?? field.rawValue
                lines.append("\(name): \(of); first: \(first.text)")
            }
        }
        return lines
    }

    /// "TTL: 59 of 59 packets differ: client→server 64 vs 62 (32), server→client 62 vs 64 (27): B is 2 routers
    /// further from the client".
    static func ttlSummary(_ ds: [PacketDifference], a: CapturedConversation, paired: Int) -> String {
        var groups: [(SegmentDirection, Int, Int, Int)] = []  // direction, ttl A, ttl B, count
        for d in ds {
            guard case .int(let x) = d.a, case .int(let y) = d.b else { continue }
            let dir = a.packets[d.packet - 1].direction
            if let i = groups.firstIndex(where: { $0.0 == dir && $0.1 == x && $0.2 == y }) {
                groups[i].3 += 1
            } else {
                groups.append((dir, x, y, 1))
            }
        }
        var text = "TTL: \(ds.count) of \(paired) packets differ: "
            + groups.map { "\($0.0.rawValue) \($0.1) vs \($0.2) (\($0.3))" }.joined(separator: ", ")
        let c2s = groups.filter { $0.0 == .clientToServer }.map { $0.1 - $0.2 }
        let s2c = groups.filter { $0.0 == .serverToClient }.map { $0.2 - $0.1 }
        // Both directions off by the same number the opposite way: the capture points are that many routers apart.
        let deltas = Set(c2s + s2c)
        if !c2s.isEmpty, !s2c.isEmpty, deltas.count == 1, let hops = deltas.first, hops != 0 {
            let n = abs(hops)
            text += ": " + (hops > 0 ? "B" : "A") + " is \(n) router\(n == 1 ? "" : "s") further from the client"
        }
        return text
    }
}

func compareSeconds(_ ns: Int64) -> Double { Double(ns) / 1e9 }

/// "SYN,ACK"; "-" for none.
func compareFlags(_ f: TCPFlags) -> String {
    f.isEmpty ? "-" : f.description.replacingOccurrences(", ", with: ",")
}

/// "MSS,SACK_PERM,TS,NOP,WS"; "none" when there are none.
func compareOptionNames(_ kinds: [UInt8]) -> String {
    if kinds.isEmpty { return "none" }
    let names: [UInt8: String] = [0: "EOL", 1: "NOP", 2: "MSS", 3: "WS", 4: "SACK_PERM", 5: "SACK", 8: "TS",
                                  28: "UTO", 29: "TCP-AO", 30: "MPTCP", 34: "TFO"]
    return kinds.map { names[$0] ?? "kind \($0)" }.joined(separator: ",")
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
