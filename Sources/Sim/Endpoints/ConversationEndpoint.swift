import Packets

/// Plays one side of an application conversation over a TCP connection: sends each message when its trigger
/// (connection established, or a given message of the peer received completely) has happened and its
/// processing delay has passed; tells its owner when the peer's messages arrive.
final class ConversationEndpoint: TCPApplication {
    let messages: [AppMessage]
    let side: AppMessage.Side
    unowned(unsafe) let env: TCPEnvironment
    /// Held strongly: the connection lets go of its application when it ends, which breaks the cycle; the
    /// pending actions below hold this endpoint, so it and its connection live until the last of them ran.
    var connection: TCPConnection?
    /// Cumulative end offsets of the peer's messages in the byte stream, with their indices.
    private let peerEnds: [(index: Int, end: Int)]
    private var nextPeer = 0
    private var received = 0
    private var lastSendTime: Int64 = 0
    private var sentCount = 0
    private let mine: Int
    var onPeerMessage: (Int) -> Void = { _ in }
    var onEnded: (TCPCloseReason) -> Void = { _ in }
    var onEstablished: () -> Void = {}
    var onPeerClosed: () -> Void = {}
    private(set) var closedBySelf = false

    init(messages: [AppMessage], side: AppMessage.Side, env: TCPEnvironment) {
        self.messages = messages
        self.side = side
        self.env = env
        var ends: [(Int, Int)] = []
        var total = 0
        for (i, m) in messages.enumerated() where m.from != side {
            total += m.bytes.count
            ends.append((i, total))
        }
        peerEnds = ends
        mine = messages.count - ends.count
    }

    /// Every message of this side sent and every message of the peer received.
    var complete: Bool { sentCount == mine && nextPeer == peerEnds.count }

    func established(_ c: TCPConnection) {
        connection = c
        onEstablished()
        trigger(waitingFor: nil)
    }

    func received(_ c: TCPConnection, bytes: ArraySlice<UInt8>) {
        received += bytes.count
        while nextPeer < peerEnds.count, received >= peerEnds[nextPeer].end {
            let idx = peerEnds[nextPeer].index
            nextPeer += 1
            onPeerMessage(idx)
            trigger(waitingFor: idx)
        }
        closeIfDone()
    }

    func peerClosed(_ c: TCPConnection) {
        onPeerClosed()
        // A server closes its side when the client has, after reading the end of the stream (about 1 ms, as
        // the real sshd and Python servers in Tests/Fixtures/captures/linux-netns do); a client whose work is
        // done already closed.
        if let r = readDelayAtClose {
            env.schedule(at: env.now + r) { [c] in c.applicationRead() }
        }
        env.schedule(at: env.now + closeDelay) { [c] in c.close() }
    }

    /// How long the server takes to close after reading the client's end of stream (1 ms unless set).
    var closeDelay: Int64 = 1_000_000
    /// When the server reads the client's last data and end of stream (its pending ACK may go out then).
    var readDelayAtClose: Int64?

    func ended(_ c: TCPConnection, _ reason: TCPCloseReason) { onEnded(reason) }

    private func trigger(waitingFor index: Int?) {
        for (i, m) in messages.enumerated() where m.from == side && m.waitsFor == index {
            let at = max(env.now + m.delay, lastSendTime)
            lastSendTime = at
            env.schedule(at: at) { [self] in
                guard let c = self.connection, c.state == .established || c.state == .closeWait else { return }
                c.write(self.messages[i].bytes)
                if self.messages[i].noDelayAfter { c.nagle = false }
                self.sentCount += 1
                self.closeIfDone()
            }
        }
    }

    /// A client that keeps the connection open, idle, this long before closing.
    var holdBeforeClose: Int64 = 0

    /// A server that closes as soon as it has sent its last message (HTTP/1.0), after this delay.
    var serverClosesAfterLast: Int64?

    /// The client closes once the conversation is over, 100 µs later (the time the real curl and ssh take to
    /// tear down, in the linux-netns reference); the server closes when the client has, unless it closes after
    /// its last message.
    private func closeIfDone() {
        guard !closedBySelf, let c = connection else { return }
        if side == .client, complete {
            closedBySelf = true
            env.schedule(at: env.now + 100_000 + holdBeforeClose) { [c] in c.close() }
        } else if side == .server, let d = serverClosesAfterLast, sentCount == mine {
            closedBySelf = true
            env.schedule(at: env.now + d) { [c] in c.close() }
        }
    }
}

/// The plain `tcp` profile: the client sends `size` bytes, the server echoes as many back.
enum PlainTCPConversation {
    static func echo(size: Int, rng: inout SplitMix64) -> [AppMessage] {
        let n = max(1, size)
        var bytes = [UInt8](repeating: 0, count: n)
        for i in 0..<n { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        return [
            AppMessage(from: .client, bytes: bytes, label: "data", waitsFor: nil, delay: 0),
            AppMessage(from: .server, bytes: bytes, label: "echo", waitsFor: 0, delay: 100_000),
        ]
    }
}
