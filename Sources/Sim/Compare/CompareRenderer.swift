import Foundation
import Packets

/// Writes a `CaptureComparison` for people (side-by-side tables) and for machines (JSON).
public enum CompareRenderer {
    /// Tables longer than this show only the region around the first divergence.
    public static let fullTableLimit = 30
    static let rowsBefore = 3
    static let rowsFrom = 12

    // MARK: Text

    public static func text(_ c: CaptureComparison, full: Bool = false) -> String {
        var out: [String] = []
        for (label, cap) in [("A", c.a), ("B", c.b)] {
            out.append("\(label): \(cap.path) — \(cap.linkType), \(cap.frameCount) frames, "
                + "\(cap.conversations.count) TCP conversation\(cap.conversations.count == 1 ? "" : "s")")
        }
        for (label, cap) in [("A", c.a), ("B", c.b)] {
            if cap.vxlanUnwrapped > 0 { out.append("\(label): \(vxlanNote(cap))") }
            if cap.unparsedFrames > 0 {
                out.append("\(label): skipped \(cap.unparsedFrames) frame\(cap.unparsedFrames == 1 ? "" : "s") "
                    + "that did not parse (first: \(cap.firstUnparsed ?? "?"))")
            }
        }
        out.append("time tolerance: max(\(trim(c.options.tolerancePercent))% of the time since the conversation's "
            + "first packet, \(trim(c.options.toleranceMs)) ms)"
            + (c.options.ignored.isEmpty ? "" : "; ignoring " + ignoredList(c.options).joined(separator: ", ")))
        for (n, p) in c.pairs.enumerated() {
            out.append("")
            out.append("PAIR \(n + 1)  " + (p.agrees ? "agrees (\(p.a.packets.count) packets)" : "DIFFERS"))
            out.append("  A #\(p.a.index) \(p.a.description)  \(p.a.packets.count) packets, "
                + "\(compareFixed(compareSeconds(p.a.duration), 6)) s")
            out.append("  B #\(p.b.index) \(p.b.description)  \(p.b.packets.count) packets, "
                + "\(compareFixed(compareSeconds(p.b.duration), 6)) s")
            out.append("  \(p.match.explanation)")
            for line in p.summary { out.append("  • \(line)") }
            if !p.agrees || full { out += table(p, full: full).map { "  " + $0 } }
        }
        if !c.unpairedA.isEmpty || !c.unpairedB.isEmpty {
            out.append("")
            out.append("UNPAIRED")
            for (label, list) in [("A", c.unpairedA), ("B", c.unpairedB)] {
                for conv in list { out.append("  \(label) #\(conv.index) \(conv.description)  \(shapeNote(conv))") }
            }
        }
        out.append("")
        out.append("SUMMARY: " + summaryLine(c))
        return out.joined(separator: "\n") + "\n"
    }

    static func vxlanNote(_ cap: CompareCapture) -> String {
        let vnis = cap.vxlanVNIs.map(String.init).joined(separator: ", ")
        return "unwrapped \(cap.vxlanUnwrapped) VXLAN packet\(cap.vxlanUnwrapped == 1 ? "" : "s") "
            + "(VNI\(cap.vxlanVNIs.count == 1 ? "" : "s") \(vnis))"
    }

    static func ignoredList(_ o: CompareOptions) -> [String] {
        ComparedField.allCases.filter { o.ignored.contains($0) }.map(\.rawValue)
    }

    /// "5 packets (SYN ×5), client→server only, starts 0.037798 s into the capture".
    static func shapeNote(_ conv: CapturedConversation) -> String {
        var counts: [(String, Int)] = []
        for p in conv.packets {
            let f = compareFlags(p.flags)
            if let i = counts.firstIndex(where: { $0.0 == f }) { counts[i].1 += 1 } else { counts.append((f, 1)) }
        }
        let flags = counts.prefix(4).map { "\($0.0) ×\($0.1)" }.joined(separator: ", ") + (counts.count > 4 ? ", …" : "")
        let c2s = conv.packets.filter { $0.direction == .clientToServer }.count
        let dirs = c2s == conv.packets.count ? ", client→server only"
            : c2s == 0 ? ", server→client only" : ""
        return "\(conv.packets.count) packet\(conv.packets.count == 1 ? "" : "s") (\(flags))\(dirs), starts "
            + "\(compareFixed(compareSeconds(conv.startInCapture), 6)) s into the capture"
    }

    static func summaryLine(_ c: CaptureComparison) -> String {
        let agreeing = c.pairs.count - c.differingPairs
        var s = "\(c.pairs.count) pair\(c.pairs.count == 1 ? "" : "s"): \(agreeing) agree\(agreeing == 1 ? "s" : ""), "
            + "\(c.differingPairs) differ\(c.differingPairs == 1 ? "s" : "")"
        let ua = c.unpairedA.count, ub = c.unpairedB.count
        if ua + ub > 0 {
            s += "; unpaired: \(ua) in A, \(ub) in B"
            if c.nothingPaired { s += " (nothing could be paired)" }
            else if !c.options.strict { s += " (not counted without --strict)" }
        }
        if c.pairs.isEmpty && ua + ub == 0 { s += "; no TCP conversations in either capture" }
        return s + " → " + (c.agrees ? "AGREE (exit 0)" : "DIFFER (exit 1)")
    }

    /// The side-by-side table of a pair: one row per position; cells show `A|B` where the two differ.
    public static func table(_ p: ComparedPair, full: Bool = false) -> [String] {
        let rows = max(p.a.packets.count, p.b.packets.count)
        guard rows > 0 else { return [] }
        var byPacket: [Int: [PacketDifference]] = [:]
        for d in p.differences { byPacket[d.packet, default: []].append(d) }
        var shown = 1...rows
        if !full, rows > fullTableLimit {
            let first = p.firstDivergence ?? 1
            let lo = max(1, first - rowsBefore)
            shown = lo...min(rows, max(lo, first) + rowsFrom - 1)
        }
        let header = ["", "#", "time A", "time B", "dir", "flags", "len", "seq/ack rel.", "difference"]
        var lines: [[String]] = []
        var partner: [Int: Int] = [:]
        for (i, j) in p.alignment { partner[i] = j }
        let crossed = Set(p.crossings.flatMap { Array($0) })
        let raced = p.closeRace ?? 0...0
        for i in shown {
            let pa = i <= p.a.packets.count ? p.a.packets[i - 1] : nil
            let j = partner[i] ?? i
            let pb = j <= p.b.packets.count ? p.b.packets[j - 1] : nil
            func cell(_ f: (ConversationPacket) -> String) -> String {
                switch (pa.map(f), pb.map(f)) {
                case let (x?, y?): return x == y ? x : "\(x)|\(y)"
                case let (x?, nil): return x
                case let (nil, y?): return y
                default: return ""
                }
            }
            let ds = byPacket[i] ?? []
            var what = ds.map { d -> String in
                if d.field == .time, case .seconds(let x) = d.a, case .seconds(let y) = d.b {
                    return "time apart \(compareFixed(abs(x - y), 3)) s"
                }
                return String(d.text.drop(while: { $0 != ":" }).dropFirst(2))
            }
            if pa == nil { what.append("only in B") }
            if pb == nil { what.append("only in A") }
            let marker = i == p.firstDivergence ? ">>" : !what.isEmpty ? "!"
                : crossed.contains(i) || raced.contains(i) ? "~" : ""
            if crossed.contains(i) { what.append("crossed: B's packet \(j)") }
            if raced.contains(i) { what.append("close race") }
            lines.append([
                marker, String(i),
                pa.map { compareFixed(compareSeconds($0.time), 6) } ?? "-",
                pb.map { compareFixed(compareSeconds($0.time), 6) } ?? "-",
                cell { $0.direction.arrow }, cell { compareFlags($0.flags) }, cell { String($0.payloadLength) },
                cell { "\($0.relativeSequence)/\($0.relativeAcknowledgment.map(String.init) ?? "-")" },
                what.joined(separator: "; "),
            ])
        }
        var widths = header.map(\.count)
        for l in lines { for (k, v) in l.enumerated() { widths[k] = max(widths[k], v.count) } }
        func render(_ cols: [String]) -> String {
            var s = ""
            for (k, v) in cols.enumerated() {
                let right = k == 1
                let pad = String(repeating: " ", count: widths[k] - v.count)
                s += (right ? pad + v : k == cols.count - 1 ? v : v + pad) + (k == cols.count - 1 ? "" : "  ")
            }
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        var out = [render(header)]
        if shown.lowerBound > 1 {
            out.append("   … \(shown.lowerBound - 1) row\(shown.lowerBound == 2 ? "" : "s") before agree")
        }
        out += lines.map(render)
        if shown.upperBound < rows {
            let later = (shown.upperBound + 1)...rows
            let differing = later.filter { i in
                byPacket[i] != nil || i > min(p.a.packets.count, p.b.packets.count)
            }.count
            out.append("   … \(later.count) more row\(later.count == 1 ? "" : "s"): \(later.count - differing) agree, "
                + "\(differing) differ (--full shows every row)")
        }
        return out
    }

    static func trim(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : compareFixed(v, 3)
    }

    // MARK: JSON

    struct JSONCapture: Encodable {
        var file: String
        var linkType: String
        var frames: Int
        var tcpSegments: Int
        var tcpConversations: Int
        var vxlanUnwrapped: Int
        var vxlanVnis: [UInt32]
        var unparsedFrames: Int
        var firstUnparsed: String?
    }

    struct JSONConversation: Encodable {
        var index: Int
        var client: String
        var server: String
        var clientDecidedBy: String
        var packets: Int
        var startS: Double
        var durationS: Double
    }

    struct JSONDifference: Encodable {
        var packet: Int
        var field: String
        var a: DiffValue
        var b: DiffValue
        var text: String
    }

    struct JSONExtra: Encodable {
        var side: String
        var from: Int
        var count: Int
        var text: String
    }

    struct JSONPair: Encodable {
        var a: JSONConversation
        var b: JSONConversation
        var score: Double
        var scoreParts: [String: Double]
        var basis: [String]
        var explanation: String
        var agrees: Bool
        var firstDivergence: Int?
        var summary: [String]
        var differences: [JSONDifference]
        var extra: JSONExtra?
        /// A's first and last positions of a close race (`ComparedPair.closeRace`); absent without one.
        var closeRace: [Int]?
    }

    struct JSONUnpaired: Encodable {
        var a: [JSONConversation]
        var b: [JSONConversation]
    }

    struct JSONSummary: Encodable {
        var pairs: Int
        var agreeing: Int
        var differing: Int
        var unpairedA: Int
        var unpairedB: Int
        var strict: Bool
        var agrees: Bool
        var exitStatus: Int32
    }

    struct JSONTolerance: Encodable {
        var ms: Double
        var pct: Double
    }

    struct JSONReport: Encodable {
        var a: JSONCapture
        var b: JSONCapture
        var tolerance: JSONTolerance
        var ignored: [String]
        var pairs: [JSONPair]
        var unpaired: JSONUnpaired
        var summary: JSONSummary
    }

    static func round6(_ v: Double) -> Double { (v * 1e6).rounded() / 1e6 }

    static func json(_ cap: CompareCapture) -> JSONCapture {
        JSONCapture(file: cap.path, linkType: cap.linkType.description, frames: cap.frameCount,
                    tcpSegments: cap.tcpSegmentCount, tcpConversations: cap.conversations.count,
                    vxlanUnwrapped: cap.vxlanUnwrapped, vxlanVnis: cap.vxlanVNIs, unparsedFrames: cap.unparsedFrames,
                    firstUnparsed: cap.firstUnparsed)
    }

    static func json(_ c: CapturedConversation) -> JSONConversation {
        JSONConversation(index: c.index, client: c.clientEndpoint, server: c.serverEndpoint,
                         clientDecidedBy: c.clientDecidedBy.rawValue, packets: c.packets.count,
                         startS: round6(compareSeconds(c.startInCapture)), durationS: round6(compareSeconds(c.duration)))
    }

    /// The machine form: captures, pairs with per-packet differences, unpaired conversations, summary.
    public static func json(_ c: CaptureComparison) throws -> Data {
        let pairs = c.pairs.map { p in
            let s = p.match.score
            return JSONPair(
                a: json(p.a), b: json(p.b), score: round6(s.total),
                scoreParts: ["server_port": s.serverPortMatch ? 1 : 0, "server_address": s.serverAddressMatch ? 1 : 0,
                             "client_address": s.clientAddressMatch ? 1 : 0, "client_port": s.clientPortMatch ? 1 : 0,
                             "shape": round6(s.shape), "timing": round6(s.timing)],
                basis: p.match.basis, explanation: p.match.explanation, agrees: p.agrees,
                firstDivergence: p.firstDivergence, summary: p.summary,
                differences: p.differences.map {
                    JSONDifference(packet: $0.packet, field: $0.field.rawValue, a: $0.a, b: $0.b, text: $0.text)
                },
                extra: p.extra.map { JSONExtra(side: $0.side, from: $0.from, count: $0.count, text: $0.text) },
                closeRace: p.closeRace.map { [$0.lowerBound, $0.upperBound] })
        }
        let report = JSONReport(
            a: json(c.a), b: json(c.b),
            tolerance: JSONTolerance(ms: c.options.toleranceMs, pct: c.options.tolerancePercent),
            ignored: ignoredList(c.options), pairs: pairs,
            unpaired: JSONUnpaired(a: c.unpairedA.map(json), b: c.unpairedB.map(json)),
            summary: JSONSummary(pairs: c.pairs.count, agreeing: c.pairs.count - c.differingPairs,
                                 differing: c.differingPairs, unpairedA: c.unpairedA.count,
                                 unpairedB: c.unpairedB.count, strict: c.options.strict, agrees: c.agrees,
                                 exitStatus: c.exitStatus))
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return try e.encode(report)
    }
}
