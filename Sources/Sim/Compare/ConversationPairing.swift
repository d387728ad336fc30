import Packets

/// Why two conversations were paired, and how strongly.
public struct PairingScore: Sendable, Equatable {
    public var serverPortMatch: Bool
    public var serverAddressMatch: Bool
    public var clientAddressMatch: Bool
    public var clientPortMatch: Bool
    /// 0…1: how alike the sequences of (direction, flags, payload size) are.
    public var shape: Double
    /// 0…1: how alike the start (within each capture) and the duration are.
    public var timing: Double

    /// Weights of the parts of the score (they sum to 1).
    public static let weights = (serverPort: 0.30, serverAddress: 0.10, clientAddress: 0.05, clientPort: 0.05,
                                 shape: 0.35, timing: 0.15)

    public var total: Double {
        let w = PairingScore.weights
        return (serverPortMatch ? w.serverPort : 0) + (serverAddressMatch ? w.serverAddress : 0)
            + (clientAddressMatch ? w.clientAddress : 0) + (clientPortMatch ? w.clientPort : 0)
            + w.shape * shape + w.timing * timing
    }

    /// Conversations pair only on the same server port or, across ports, a shape at least this alike.
    public static let minimumShapeAcrossPorts = 0.6

    public var acceptable: Bool { serverPortMatch || shape >= PairingScore.minimumShapeAcrossPorts }
}

/// Pairs the conversations of two captures: every candidate pair is scored (server port, addresses where
/// they agree, shape, timing) and pairs are taken best score first, each conversation at most once.
public enum ConversationPairing {
    public struct Match: Sendable {
        public var a: Int
        public var b: Int
        public var score: PairingScore
        /// What the pairing rests on: "server port 22", "server address 203.0.113.22", "shape 0.93", …
        public var basis: [String]
        public var explanation: String
    }

    /// Indices (into the arrays given) of the pairs made, in order of A's conversations.
    public static func pair(_ a: [CapturedConversation], _ b: [CapturedConversation]) -> [Match] {
        var candidates: [(Int, Int, PairingScore)] = []
        let allPairs = a.count * b.count <= 40_000
        let tokensA = a.map { ShapeTokens($0) }
        let tokensB = b.map { ShapeTokens($0) }
        for i in a.indices {
            for j in b.indices where allPairs || a[i].serverPort == b[j].serverPort {
                let s = score(a[i], b[j], tokensA[i], tokensB[j])
                if s.acceptable { candidates.append((i, j, s)) }
            }
        }
        // Best first; ties go to the earlier conversations, so equal captures pair in order.
        candidates.sort { x, y in
            let (sx, sy) = (x.2.total, y.2.total)
            if abs(sx - sy) > 1e-12 { return sx > sy }
            return (x.0, x.1) < (y.0, y.1)
        }
        var usedA = Set<Int>(), usedB = Set<Int>()
        var out: [Match] = []
        for (i, j, s) in candidates where !usedA.contains(i) && !usedB.contains(j) {
            usedA.insert(i)
            usedB.insert(j)
            let (basis, text) = explain(a[i], b[j], s)
            out.append(Match(a: i, b: j, score: s, basis: basis, explanation: text))
        }
        return out.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
    }

    public static func score(_ a: CapturedConversation, _ b: CapturedConversation) -> PairingScore {
        score(a, b, ShapeTokens(a), ShapeTokens(b))
    }

    static func score(_ a: CapturedConversation, _ b: CapturedConversation, _ ta: ShapeTokens,
                      _ tb: ShapeTokens) -> PairingScore {
        let exact = lcsRatio(ta.exact, tb.exact)
        let loose = lcsRatio(ta.loose, tb.loose)
        let (na, nb) = (Double(a.packets.count), Double(b.packets.count))
        let counts = min(na, nb) / max(na, nb, 1)
        let shape = 0.4 * exact + 0.4 * loose + 0.2 * counts
        let startGap = Double(abs(a.startInCapture - b.startInCapture)) / 1e9
        let closeness = 1 / (1 + startGap)
        let (da, db) = (Double(a.duration), Double(b.duration))
        let durations = max(da, db) < 1e6 ? 1 : min(da, db) / max(da, db)  // both under 1 ms: alike
        return PairingScore(
            serverPortMatch: a.serverPort == b.serverPort, serverAddressMatch: sameHost(a.server, b.server),
            clientAddressMatch: a.client == b.client, clientPortMatch: a.clientPort == b.clientPort,
            shape: shape, timing: 0.5 * closeness + 0.5 * durations)
    }

    static func explain(_ a: CapturedConversation, _ b: CapturedConversation,
                        _ s: PairingScore) -> ([String], String) {
        var basis: [String] = []
        if s.serverPortMatch { basis.append("server port \(a.serverPort)") }
        if s.serverAddressMatch {
            basis.append(a.server == b.server ? "server address \(a.server)"
                         : "server address \(a.server) / \(b.server) (NAT64)")
        }
        if s.clientAddressMatch { basis.append("client address \(a.client)") }
        if s.clientPortMatch { basis.append("client port \(a.clientPort)") }
        basis.append("shape \(compareFixed(s.shape, 2))")
        if s.timing >= 0.5 { basis.append("timing \(compareFixed(s.timing, 2))") }
        var text = "paired by " + listed(basis)
        if !s.serverPortMatch { text += " (server ports differ: \(a.serverPort) vs \(b.serverPort))" }
        text += "; score \(compareFixed(s.total, 2))"
        return (basis, text)
    }

    /// The same address, or an IPv6 address of the NAT64 well-known prefix (64:ff9b::/96, RFC 6052) and the IPv4
    /// address it embeds: the server as an IPv6-only client reaches it through a NAT64 gateway and as it is.
    static func sameHost(_ a: IPAddress, _ b: IPAddress) -> Bool {
        switch (a, b) {
        case let (.v6(x), .v4(y)), let (.v4(y), .v6(x)):
            return x.nat64Embedded == y
        default:
            return a == b
        }
    }

    /// "a", "a and b", "a, b and c".
    static func listed(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    /// The first packets of a conversation as tokens: exact (direction, flags, payload length) and loose
    /// (direction, SYN/FIN/RST/ACK, payload or not).
    struct ShapeTokens {
        static let limit = 64
        var exact: [UInt64]
        var loose: [UInt64]
        init(_ c: CapturedConversation) {
            let ps = c.packets.prefix(ShapeTokens.limit)
            exact = ps.map { p in
                UInt64(p.direction == .clientToServer ? 1 : 0) << 40 | UInt64(p.flags.rawValue) << 24
                    | UInt64(min(p.payloadLength, 0xFF_FFFF))
            }
            let core: TCPFlags = [.syn, .fin, .rst, .ack]
            loose = ps.map { p in
                UInt64(p.direction == .clientToServer ? 1 : 0) << 40
                    | UInt64(p.flags.intersection(core).rawValue) << 24 | (p.payloadLength > 0 ? 1 : 0)
            }
        }
    }

    /// 2·LCS / (|x| + |y|): 1 for equal sequences, 0 for nothing in common.
    static func lcsRatio(_ x: [UInt64], _ y: [UInt64]) -> Double {
        if x.isEmpty && y.isEmpty { return 1 }
        if x.isEmpty || y.isEmpty { return 0 }
        var prev = [Int](repeating: 0, count: y.count + 1)
        var cur = prev
        for i in 1...x.count {
            for j in 1...y.count {
                cur[j] = x[i - 1] == y[j - 1] ? prev[j - 1] + 1 : max(prev[j], cur[j - 1])
            }
            swap(&prev, &cur)
        }
        return 2 * Double(prev[y.count]) / Double(x.count + y.count)
    }
}

/// `value` with `digits` decimals (no Foundation formatting, so the output is the same everywhere).
func compareFixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = value < 0
    let n = Int64((abs(value) * scale).rounded())
    let whole = n / Int64(scale)
    var frac = String(n % Int64(scale))
    while frac.count < digits { frac = "0" + frac }
    return (negative && n != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + frac : "")
}
