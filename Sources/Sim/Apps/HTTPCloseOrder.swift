import Packets

/// Who closes an HTTP/1.0 connection first (the assumption `http_close`).
///
/// Python's http.server answers HTTP/1.0 and then closes its side (`shutdown_request`: shutdown(SHUT_WR) and
/// close, whenever the handler returns); curl closes as soon as it has the whole body (Content-Length), about
/// 100 µs after it arrives. Neither waits for the other, so which FIN comes first depends on microseconds: in
/// the linux-netns reference the server closed 61 µs after sending the body in one run
/// (captures/reference/linux-netns/nacl-out-22-blocked: its FIN first) and 1.351 ms after it in the
/// other (…/ok: the client's FIN first, the server's 1.224 ms after it arrived). Over a round trip longer than
/// the server's delay (any path through the internet) the server's FIN always comes first: the default.
public enum HTTPCloseOrder: String, Sendable, CaseIterable {
    /// The server closes 61 µs after its last byte (the nacl-out-22-blocked run): its FIN first at any RTT.
    case serverFirst = "server-first"
    /// The server closes 1.224 ms after reading the client's FIN (the ok run): the client's FIN first.
    case clientFirst = "client-first"
    /// Either, per flow: a seeded choice, as likely one way as the other (a short path, where the two
    /// reference runs went one each way).
    case race
    /// Both at the same instant: the server closes when the client does (curl 100 µs after the body), so the two
    /// FINs cross on any path (a simultaneous close, RFC 9293 §3.6: both ends go through CLOSING to TIME-WAIT).
    /// A bound case real runs only come near on a short path; for checking that such a close completes.
    case simultaneous

    static let serverFirstDelay: Int64 = 61_000
    static let afterClientFIN: Int64 = 1_224_000

    /// The order flow `flow` closes in (`seed`: the scenario's; the choice has its own stream, so it changes
    /// no other random choice).
    static func order(_ assumed: HTTPCloseOrder, seed: UInt64, flow: Int) -> HTTPCloseOrder {
        guard assumed == .race else { return assumed }
        var r = SplitMix64(seed: seed ^ 0x4854_5450_434C_4F53 ^ (UInt64(truncatingIfNeeded: flow) &* 0x9E37_79B9_7F4A_7C15))
        return r.next() >> 63 == 0 ? .serverFirst : .clientFirst
    }

    /// Sets up the server side of flow `flow`'s HTTP conversation (`client`: the flow's client, if it is playing).
    func configure(_ server: ConversationEndpoint, client: ConversationEndpoint?, seed: UInt64, flow: Int) {
        switch Self.order(self, seed: seed, flow: flow) {
        case .clientFirst:
            server.serverClosesAfterLast = nil
            server.closeDelay = Self.afterClientFIN
        case .simultaneous where client != nil:
            server.serverClosesAfterLast = nil
            server.closeDelay = Self.afterClientFIN  // (its FIN is out before the client's arrives)
            client?.closesWith = server
        case .serverFirst, .race, .simultaneous:
            server.serverClosesAfterLast = Self.serverFirstDelay
        }
    }
}
