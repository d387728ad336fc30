import Packets

/// A conversation's messages with what each side's endpoint needs, worked out once and shared by every flow
/// that plays it (a generator's flows all play one).
final class ConversationScript: Sendable {
    let messages: [AppMessage]
    /// Per side (client, server): cumulative end offsets of the peer's messages in the byte stream, with their
    /// indices, and how many messages the side sends.
    let peerEnds: [[(index: Int, end: Int)]]
    let mine: [Int]
    /// Per side: the side's messages sent when the connection is established (waitsFor nil), then those sent
    /// when peer message k has been received, in message order (indexed by k: an array, where a dictionary
    /// hashed the index for every message received).
    let sentFirst: [[Int]]
    let sentAfter: [[[Int]]]
    /// Message labels the client watches for: an SSH banner, and SSH USERAUTH_SUCCESS (the session is ready).
    let isBanner: [Bool]
    let isUserAuthSuccess: [Bool]

    static let empty = ConversationScript([])

    init(_ messages: [AppMessage]) {
        self.messages = messages
        var ends: [[(index: Int, end: Int)]] = [[], []]
        var first: [[Int]] = [[], []]
        var after: [[[Int]]] = Array(repeating: Array(repeating: [], count: messages.count), count: 2)
        var total = [0, 0]
        for (i, m) in messages.enumerated() {
            let s = m.from == .client ? 0 : 1
            // The other side receives it.
            total[1 - s] += m.bytes.count
            ends[1 - s].append((i, total[1 - s]))
            if let w = m.waitsFor {
                if messages.indices.contains(w) { after[s][w].append(i) }  // (another index: never sent)
            } else {
                first[s].append(i)
            }
        }
        peerEnds = ends
        mine = [messages.count - ends[0].count, messages.count - ends[1].count]
        sentFirst = first
        sentAfter = after
        isBanner = messages.map { $0.label.utf8.contains("banner".utf8) }
        isUserAuthSuccess = messages.map { $0.label.utf8.contains("USERAUTH_SUCCESS".utf8) }
    }
}

/// Told what happens to a conversation: the flow's client bookkeeping.
protocol ConversationObserver: AnyObject {
    func established(_ e: ConversationEndpoint)
    /// The peer's message `index` arrived completely.
    func peerMessage(_ e: ConversationEndpoint, index: Int)
    func ended(_ e: ConversationEndpoint, _ c: TCPConnection, _ reason: TCPCloseReason)
}

/// Plays one side of an application conversation over a TCP connection: sends each message when its trigger
/// (connection established, or a given message of the peer received completely) has happened and its
/// processing delay has passed; tells its observer when the peer's messages arrive.
final class ConversationEndpoint: TCPApplication, ScheduledTarget {
    let script: ConversationScript
    let side: AppMessage.Side
    let env: Borrowed<HostEndpoint>
    /// Held strongly: the connection lets go of its application when it ends, which breaks the cycle; the
    /// pending actions below hold this endpoint, so it and its connection live until the last of them ran.
    var connection: TCPConnection?
    /// Held strongly (a finished flow's bookkeeping lives until its connection has ended); none for a server.
    var observer: ConversationObserver?
    private var nextPeer = 0
    private var received = 0
    private var lastSendTime: Int64 = 0
    private var sentCount = 0
    private(set) var closedBySelf = false

    /// This side's index in the script's per-side tables.
    private var sideIndex: Int { side == .client ? 0 : 1 }

    init(script: ConversationScript, side: AppMessage.Side, env: HostEndpoint) {
        self.script = script
        self.side = side
        self.env = Borrowed(env)
    }

    /// Every message of this side sent and every message of the peer received.
    var complete: Bool { sentCount == script.mine[sideIndex] && nextPeer == script.peerEnds[sideIndex].count }

    func established(_ c: TCPConnection) {
        connection = c
        observer?.established(self)
        if side == .server, loginGraceTime > 0 {
            let grace = loginGraceTime
            graceTimer = env { $0.schedule(after: grace, target: self, tag: Self.graceTag) }
        }
        trigger(script.sentFirst[sideIndex])
        if side == .client { closeIfDone() }  // nothing to say (tcp, size 0): connect, then close
    }

    func received(_ c: TCPConnection, bytes: PacketPayload) {
        received += bytes.count
        let ends = script.peerEnds[sideIndex]
        while nextPeer < ends.count, received >= ends[nextPeer].end {
            let idx = ends[nextPeer].index
            nextPeer += 1
            observer?.peerMessage(self, index: idx)
            let next = script.sentAfter[sideIndex][idx]
            if !next.isEmpty { trigger(next) }
        }
        closeIfDone()
    }

    /// Tags of this endpoint's scheduled actions (`fire(tag:)`); a tag ≥ 0 sends that message.
    private static let closeTag = -1
    private static let readTag = -2
    private static let graceTag = -3

    /// sshd's LoginGraceTime (0: none): a server that has not sent USERAUTH_SUCCESS this long after the
    /// connection was accepted closes it, as sshd's grace_alarm_handler ends the unauthenticated session
    /// ("Timeout before authentication", sshd.c; sshd_config(5) LoginGraceTime, 120 s by default).
    var loginGraceTime: Int64 = 0
    private var authenticated = false
    /// The pending grace alarm, cancelled once the client has authenticated or the connection has ended (a
    /// pending action holds this endpoint).
    private var graceTimer: Scheduler.Handle?

    private func cancelGrace() {
        guard let h = graceTimer else { return }
        graceTimer = nil
        env { $0.cancel(h) }
    }

    func peerClosed(_ c: TCPConnection) {
        // A server closes its side when the client has, after reading the end of the stream (about 1 ms, as
        // the real sshd and Python servers in captures/reference/linux-netns do); a client whose work is
        // done already closed.
        connection = c
        if let r = readDelayAtClose {
            schedule(after: r, tag: Self.readTag)
        }
        schedule(after: closeDelay, tag: Self.closeTag)
    }

    /// How long the server takes to close after reading the client's end of stream (1 ms unless set).
    var closeDelay: Int64 = 1_000_000
    /// When the server reads the client's last data and end of stream (its pending ACK may go out then).
    var readDelayAtClose: Int64?

    func ended(_ c: TCPConnection, _ reason: TCPCloseReason) {
        cancelGrace()
        env { $0.ended(c) }
        observer?.ended(self, c, reason)
    }

    private func trigger(_ indices: [Int]) {
        for i in indices {
            let delay = script.messages[i].delay
            let now = env { $0.now }
            let at = max(now + delay, lastSendTime)
            lastSendTime = at
            if at == now + delay {
                schedule(after: delay, tag: i)
            } else {
                env { $0.schedule(at: at, target: self, tag: i) }
            }
        }
    }

    private func schedule(after delay: Int64, tag: Int) {
        env { $0.schedule(after: delay, target: self, tag: tag) }
    }

    func fire(tag: Int) {
        guard let c = connection else { return }
        switch tag {
        case Self.closeTag:
            cancelGrace()  // closed already: no grace alarm after
            c.close()
            // http_close: simultaneous: the server closes at the same instant.
            if let other = closesWith {
                closesWith = nil
                other.connection?.close()
            }
        case Self.readTag: c.applicationRead()
        case Self.graceTag:
            graceTimer = nil
            guard !authenticated, !closedBySelf, c.state == .established || c.state == .closeWait else { return }
            closedBySelf = true
            c.orphaned = true  // sshd's child exits: the kernel keeps the socket
            c.close()
        default:
            guard c.state == .established || c.state == .closeWait else { return }
            if script.isUserAuthSuccess[tag] {
                authenticated = true
                cancelGrace()
            }
            c.write(script.messages[tag].bytes)
            if script.messages[tag].noDelayAfter { c.nagle = false }
            sentCount += 1
            closeIfDone()
        }
    }

    /// A client that keeps the connection open, idle, this long before closing.
    var holdBeforeClose: Int64 = 0

    /// The other end of the connection, closed at the same instant as this one (http_close: simultaneous).
    var closesWith: ConversationEndpoint?

    /// A server that closes as soon as it has sent its last message (HTTP/1.0), after this delay.
    var serverClosesAfterLast: Int64?

    /// The client closes once the conversation is over, 100 µs later (the time the real curl and ssh take to
    /// tear down, in the linux-netns reference); the server closes when the client has, unless it closes after
    /// its last message.
    private func closeIfDone() {
        guard !closedBySelf, connection != nil else { return }
        if side == .client, complete {
            closedBySelf = true
            schedule(after: 100_000 + holdBeforeClose, tag: Self.closeTag)
        } else if side == .server, let d = serverClosesAfterLast, sentCount == script.mine[sideIndex] {
            closedBySelf = true
            schedule(after: d, tag: Self.closeTag)
        }
    }
}

/// The plain `tcp` profile: the client sends `size` bytes, the server echoes as many back.
enum PlainTCPConversation {
    /// `size` random bytes from the client, echoed by the server; none: the client connects and closes.
    static func echo(size: Int, rng: inout SplitMix64) -> [AppMessage] {
        guard size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: size)
        for i in 0..<size { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        return [
            AppMessage(from: .client, bytes: bytes, label: "data", waitsFor: nil, delay: 0),
            AppMessage(from: .server, bytes: bytes, label: "echo", waitsFor: 0, delay: 100_000),
        ]
    }
}
