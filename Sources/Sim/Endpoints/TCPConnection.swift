import Packets

/// Why a connection ended.
public enum TCPCloseReason: Sendable, Equatable {
    case closed
    /// connect() gave up after the last SYN retransmission.
    case connectTimeout
    /// The peer answered the SYN with RST.
    case refused
    /// RST on an established connection.
    case reset
    /// Data retransmissions exhausted.
    case retransmitTimeout
    /// The application gave up (readyTimeout, Lambda timeout).
    case aborted
    /// TCP keepalive probes went unanswered (ETIMEDOUT).
    case keepaliveTimeout
}

/// The application on one end of a connection.
public protocol TCPApplication: AnyObject {
    func established(_ c: TCPConnection)
    /// New in-order bytes arrived (borrowed: valid during the call).
    func received(_ c: TCPConnection, bytes: PacketPayload)
    /// The peer sent FIN.
    func peerClosed(_ c: TCPConnection)
    func ended(_ c: TCPConnection, _ reason: TCPCloseReason)
}

/// A TCP endpoint with Linux's behaviour where it shows on the wire: SYN options (MSS, SACK-permitted,
/// timestamps, NOP, window scale), the SYN retransmission schedule of the host's stack profile, SYN-ACK
/// retransmission (1 s doubling) and again at once for a duplicate SYN, delayed ACKs (every second full
/// segment at once, else after 40 ms), RTO retransmission; a receive window that grows as Linux's receive
/// buffer autotunes, and a CUBIC sender (initial window 10 segments, slow start, HyStart's delay test, CUBIC
/// growth after a loss, growth only while the window is used). States are named as in RFC 9293.
public final class TCPConnection: ScheduledTarget {
    public enum State: String, Sendable {
        case closed, synSent = "SYN-SENT", synReceived = "SYN-RECEIVED", established = "ESTABLISHED"
        case finWait1 = "FIN-WAIT-1", finWait2 = "FIN-WAIT-2", closeWait = "CLOSE-WAIT", closing = "CLOSING"
        case lastAck = "LAST-ACK", timeWait = "TIME-WAIT"
    }

    // Stored properties are laid out in declaration order: the ones each segment reads and writes come first,
    // and none is wider than it needs be (a connection took 440 bytes, now 328: less memory per open connection;
    // no change in time was measurable; the windows' state, `TCPWindows`, has been added since).
    public private(set) var state: State = .closed
    /// Why it ended (nil while it has not).
    public private(set) var closeReason: TCPCloseReason?
    public let isClient: Bool
    /// Nagle's algorithm with Minshall's variant (tcp_nagle_check): off for TCP_NODELAY sockets.
    public var nagle: Bool
    /// Whether the first SYN each way records its path (the report's path); off for generated flows, whose
    /// paths the report does not show.
    public var traces = true
    /// Timestamps are used when both SYNs carried them (RFC 7323 §3.2).
    private var useTimestamps: Bool
    private var finQueued = false
    private var finSent = false
    private var peerFinReceived = false
    private var peerWindowScale: UInt8 = 0
    private var ackScheduled = false
    /// ICSK_ACK_PUSHED / PUSHED2: small segments received since the last ACK (tcp_measure_rcv_mss).
    private var pushed = false
    private var pushed2 = false
    private var delayedAckArmed = false
    private var ipID: UInt16
    /// The host it runs on: the time, a way to send, timers.
    let env: Borrowed<HostEndpoint>
    /// The host's stack, shared by its connections (a copy in each retained its name and delays per connection).
    private let sharedStack: SharedStack
    @inline(__always) var stack: StackProfile { sharedStack.profile }
    public internal(set) var app: TCPApplication?
    public let local: (address: IPv4Address, port: UInt16)
    public let remote: (address: IPv4Address, port: UInt16)
    public let flow: Int

    // Send side.
    let iss: UInt32
    private var sndUna: UInt32
    /// Where sending goes on: sndMax, except after a go-back retransmission (an RTO, three duplicate ACKs, a smaller
    /// path MTU), when it walks the unacknowledged data again.
    private var sndNxt: UInt32
    /// The highest sequence number sent (Linux's snd_nxt, which never goes back): what ACKs may acknowledge, and
    /// the sequence number of a segment without data.
    private var sndMax: UInt32
    /// Sequence number of sendBuffer[sendHead].
    private var bufferStart: UInt32
    private var sendBuffer: [UInt8] = []
    /// Bytes at the front of sendBuffer already acknowledged: dropped in one move once they are half of it (a
    /// move at each ACK made a window of megabytes cost its size per ACK).
    private var sendHead = 0
    private var finSeq: UInt32 = 0
    /// End of the last segment shorter than a full one (snd_sml).
    private var sndSml: UInt32 = 0
    private var peerMSS: Int32 = 536
    /// The MSS the path MTU allows (path MTU less 40) since an ICMP "fragmentation needed" reported it, until
    /// `pmtuExpiry`; .max: none learned (`pathMTUReported`).
    private var pmtuMSS: Int32 = .max
    private var pmtuExpiry: Int64 = 0
    /// How long a learned path MTU lasts (assumption pmtu_expires_s: Linux net.ipv4.route.mtu_expires, 600 s).
    var pmtuExpires: Int64 = 600_000_000_000
    /// net.ipv4.tcp_mtu_probing (assumption tcp_mtu_probing): 1 turns on black-hole detection (`blackHoleSuspected`).
    var mtuProbing = 0
    /// The MSS black-hole detection allows (an MSS as `pmtuMSS`: the options' bytes not yet taken off), .max
    /// while it has not struck: icsk_mtup.search_low as tcp_sync_mss applies it.
    private var blackHoleMSS: Int32 = .max
    /// When the segment the retransmissions resend first went out (retrans_stamp; 0: none resent). The model does
    /// not keep each segment's send time: it takes the last time new data went out before the first resend, the
    /// lost segment's own time when it went last (a burst lost whole, as in a black hole), else a little later.
    private var retransStamp: Int64 = 0
    /// The peer's window in bytes (at most 65535 << 14).
    private var peerWindow: Int32 = 65535
    /// The congestion controller (CUBIC) and the receive-window autotuning: `TCPWindows`.
    private var w = TCPWindows()
    /// The path's bottleneck, bits per second (0: none modeled; `Simulation.pathRate`), and when the last segment
    /// queued there has been serialised. Each connection queues alone: flows do not share a bottleneck.
    var pathRate: Int64 = 0
    private var bottleneckFree: Int64 = 0
    /// The congestion window and slow-start threshold, segments (for tests and reports).
    var congestionWindow: Int { Int(w.cwnd) }
    var slowStartThreshold: Int { Int(w.ssthresh) }
    /// The window scale this end applies to the windows it advertises (RFC 7323 §2.2: 0 unless both SYNs
    /// carried the option).
    private var rcvWindowScale: UInt8 = 0
    // Receive side.
    private var irs: UInt32 = 0
    private var rcvNxt: UInt32 = 0
    /// rcv_nxt when the last ACK went out.
    private var rcvWup: UInt32 = 0
    // Timestamps (RFC 7323): Linux randomises the offset per connection.
    private let tsOffset: UInt32
    private var tsRecent: UInt32 = 0
    // Linux's delayed-ACK engine (net/ipv4/tcp_input.c tcp_event_data_recv, __tcp_ack_snd_check,
    // tcp_send_delayed_ack; tcp_output.c tcp_event_data_sent, tcp_event_ack_sent; tcp_timer.c
    // tcp_delack_timer_handler): quick ACKs for the first segments, delayed ACKs once the connection is
    // interactive ("pingpong": this end answers within ato of receiving).
    private var rcvMSS: Int32 = 536
    private var quick: Int32 = 0
    /// Segments sent within ato of receiving (saturates).
    private var pingpong: Int32 = 0
    private var delayedAckGeneration: UInt32 = 0
    private var ato: Int64 = 0
    private var lrcvtime: Int64 = 0
    private var delackDeadline: Int64 = 0
    static let atoMin: Int64 = 40_000_000
    static let delackMax: Int64 = 200_000_000
    // Timers: a generation number cancels stale timer events.
    private var rtoGeneration: UInt32 = 0
    /// rtoGeneration when the SYN timer (SYN, SYN-ACK or retry after reset) was armed: stale if it moved on.
    private var synTimerGeneration: UInt32 = 0
    /// delayedAckGeneration when the delayed-ACK timer was armed.
    private var delackTimerGeneration: UInt32 = 0
    /// rtoGeneration when the retransmission timer was last armed.
    private var rtoArmedGeneration: UInt32 = .max
    private var rto: Int64 = 1_000_000_000
    private var srtt: Int64 = 0
    private var rttvar: Int64 = 0
    /// The least RTT measured (tcp_min_rtt), for RACK's reordering window.
    private var minRTT: Int64 = .max
    /// When the SYN or SYN-ACK went out last: the handshake's RTT sample (tcp_synack_rtt_meas, tcp_ack_update_rtt).
    private var synSentAt: Int64 = 0
    /// When data beyond sndMax last went out, and when data was last sent again: RACK (RFC 8985) counts a hole lost
    /// when the segments SACKed beyond it were sent after it.
    private var newDataSentAt: Int64 = 0
    private var retransmittedAt: Int64 = -1
    /// SACK (RFC 2018): both SYNs carried SACK-permitted. The out-of-order queue and the scoreboard: `TCPSACK`.
    private var sackOK = false
    private var sack = TCPSACK()
    private var rtoDeadline: Int64 = 0
    private var rtoEventAt: Int64 = -1
    /// The pending timer events: a connection cancels them when it ends, so they never outlive it (they
    /// hold it unowned) and a finished connection is freed at once.
    private var synTimer: Scheduler.Handle?
    private var rtoTimer: Scheduler.Handle?
    private var delackTimer: Scheduler.Handle?
    private var rackTimer: Scheduler.Handle?
    private var retransmissions: Int32 = 0
    /// The process that owned the socket closed it and exited (sshd's LoginGraceTime): the kernel keeps the
    /// orphaned socket until its data and FIN are acknowledged, retransmitting as tcp_orphan_retries allows
    /// (`retransmitTimeout`).
    var orphaned = false
    /// Duplicate ACKs in a row, and the end of the data outstanding at the last loss (no growth before it).
    private var dupAcks: Int32 = 0
    private var recoveryPoint: UInt32 = 0
    private var synRetries: Int32 = 0
    private var resetRetries: Int32 = 0
    private var synAckAttempt: Int32 = 0
    private var synsSentCount: Int32 = 0
    private let synAckRetries: Int32
    /// SYNs sent, retransmissions included.
    public var synsSent: Int { Int(synsSentCount) }
    /// When they were sent: kept for the connections that trace (`traces`: the report lists those flows' SYN
    /// times); a generated flow's would be an array allocated per connection that nothing reads.
    public private(set) var synSentTimes: [Int64] = []
    /// SO_KEEPALIVE, when the application set it (TCPKeepalive.swift); nil: off, Linux's default.
    var keepalive: TCPKeepalive?

    /// The MSS this end announces and sends with: its stack's (MTU − 40) for IPv4, 20 less over IPv6, whose header
    /// is 40 bytes (Linux tcp_mtu_to_mss: MTU − 60 for a 1500-byte link, 1440). Set once: read for every segment.
    let ownMSS: UInt16
    /// The window this end's SYN announces: the stack's for IPv4; over IPv6 the largest multiple of the smaller
    /// MSS within 65535, as Linux's tcp_select_initial_window rounds the initial window down to a multiple of the
    /// MSS (64800 = 45 × 1440 where IPv4's is 64240 = 44 × 1460). The windows profile takes the same rounding (its
    /// IPv4 SYN's 64240 is 44 × 1460 too; not checked against a capture of Windows over IPv6).
    let synWindow: UInt16

    init(env: HostEndpoint, app: TCPApplication?, local: (IPv4Address, UInt16), remote: (IPv4Address, UInt16),
                flow: Int, isClient: Bool, stack: SharedStack, synAckRetries: Int = 5, nagle: Bool = false,
                rng: inout SplitMix64) {
        self.nagle = nagle
        self.env = Borrowed(env)
        self.app = app
        self.local = local
        self.remote = remote
        self.flow = flow
        self.isClient = isClient
        sharedStack = stack
        ownMSS = remote.0.isIPv6Token ? stack.profile.mss - 20 : stack.profile.mss
        synWindow = remote.0.isIPv6Token ? Self.initialWindow(mss: ownMSS) : stack.profile.synWindow
        self.synAckRetries = Int32(clamping: synAckRetries)
        iss = UInt32(truncatingIfNeeded: rng.next())
        recoveryPoint = iss
        w = TCPWindows(initialWindow: synWindow)
        sndUna = iss
        sndNxt = iss
        sndMax = iss
        bufferStart = iss &+ 1
        tsOffset = UInt32(truncatingIfNeeded: rng.next())
        ipID = UInt16(truncatingIfNeeded: rng.next())
        useTimestamps = stack.profile.timestamps
    }

    /// Payload bytes per segment: the smaller MSS less the 12 bytes of the timestamp option.
    var segmentSize: Int {
        min(Int(peerMSS), Int(ownMSS), Int(pmtuMSS), Int(blackHoleMSS)) - Int(optionBytes)
    }

    // MARK: Opening

    /// Active open: send SYN, retransmit on the stack's schedule, give up after the last.
    public func connect() {
        state = .synSent
        sendSYN()
        armSYNTimer()
    }

    private func sendSYN() {
        synsSentCount += 1
        synSentAt = now
        if traces { synSentTimes.append(now) }
        switch stack.synOptions {
        case .linux:
            emit(flags: .syn, seq: iss, ack: 0, window: synWindow,
                 options: .linuxSYN(mss: ownMSS, timestamps: stack.timestamps ? (tsVal, 0) : nil,
                                    windowScale: stack.windowScale))
        case .windows:
            // Windows leaves window scaling out of its third SYN, whether the earlier two timed out or were
            // reset (both seen in the public captures in captures/reference/public/timeout).
            let lastTry = synRetries + resetRetries >= 2
            let options: [TCPOption] = lastTry
                ? [.maximumSegmentSize(ownMSS), .noOperation, .noOperation, .sackPermitted]
                : [.maximumSegmentSize(ownMSS), .noOperation, .windowScale(stack.windowScale), .noOperation,
                   .noOperation, .sackPermitted]
            emit(flags: .syn, seq: iss, ack: 0, window: synWindow, options: TCPOptionBytes(options))
        }
    }

    private func armSYNTimer() {
        rtoGeneration &+= 1
        let delays = stack.synRetransmitDelays
        let delay = Int(synRetries) < delays.count ? delays[Int(synRetries)] : stack.synGiveUpAfterLast
        arm(&synTimer, .syn, at: now + delay)
    }

    private func synTimerFired() {
        guard rtoGeneration == synTimerGeneration, state == .synSent else { return }
        if Int(synRetries) < stack.synRetransmitDelays.count {
            synRetries += 1
            sendSYN()
            armSYNTimer()
        } else {
            end(.connectTimeout)
        }
    }

    /// Passive open: answer this SYN.
    public func accept(_ syn: TCPHeader) {
        irs = syn.sequenceNumber
        rcvNxt = irs &+ 1
        rcvWup = rcvNxt
        let o = syn.synOptions
        readPeerOptions(syn, o)
        useTimestamps = stack.timestamps && o.timestamps != nil
        state = .synReceived
        sendSYNACK()
        armSYNACKTimer(attempt: 0)
    }

    /// The largest multiple of `mss` within 65535 (tcp_select_initial_window's rounding of the initial window).
    static func initialWindow(mss: UInt16) -> UInt16 { UInt16(65535 / Int(max(mss, 1)) * Int(max(mss, 1))) }

    private func sendSYNACK() {
        synSentAt = now
        // 65160 = 45 × 1448 (the MSS less the timestamp option) over IPv4; over IPv6 the same rounding of its
        // smaller MSS: 64260 = 45 × 1428 with timestamps, 64800 without.
        let window = remote.0.isIPv6Token ? Self.initialWindow(mss: ownMSS - (useTimestamps ? 12 : 0)) : 65160
        emit(flags: [.syn, .ack], seq: iss, ack: rcvNxt, window: window,
             options: .linuxSYN(mss: ownMSS, timestamps: useTimestamps ? (tsVal, tsRecent) : nil,
                                windowScale: stack.windowScale))
    }

    private func armSYNACKTimer(attempt: Int) {
        rtoGeneration &+= 1
        synAckAttempt = Int32(attempt)
        // Linux: initial SYN-ACK timeout 1 s, doubling, tcp_synack_retries times, each at most TCP_RTO_MAX (120 s):
        // reqsk_timer_handler, `timeo = min(TCP_TIMEOUT_INIT << req->num_timeout, TCP_RTO_MAX)` (net/ipv4/
        // inet_connection_sock.c). Unbounded, server_synack_retries: 255 overflowed the time.
        let delay = min(Int64(1_000_000_000) << Int64(min(attempt, 7)), 120_000_000_000)
        arm(&synTimer, .synAck, at: now + delay)
    }

    private func synAckTimerFired() {
        guard rtoGeneration == synTimerGeneration, state == .synReceived else { return }
        if synAckAttempt < synAckRetries {
            sendSYNACK()
            armSYNACKTimer(attempt: Int(synAckAttempt) + 1)
        } else {
            end(.connectTimeout)
        }
    }

    /// A SYN's options `o` (read once: `TCPHeader.synOptions`) and its window.
    private func readPeerOptions(_ t: TCPHeader, _ o: TCPHeader.SYNOptions) {
        if let m = o.mss { peerMSS = Int32(m) }
        peerWindowScale = o.windowScale ?? 0
        rcvWindowScale = o.windowScale == nil ? 0 : min(stack.windowScale, 14)
        if let ts = o.timestamps { tsRecent = ts.value }
        peerWindow = Int32(t.window)
        // Linux offers SACK-permitted on every SYN (tcp_sack 1); Windows' SYNs carry it too.
        sackOK = o.sackPermitted
    }

    // MARK: Sending data

    /// Queues bytes for sending.
    public func write(_ bytes: [UInt8]) {
        // An empty buffer takes the message's own storage (no copy); one segment of all of it goes out the same.
        if sendBuffer.isEmpty { sendBuffer = bytes } else { sendBuffer += bytes }
        pump()
    }

    /// Sends FIN after everything queued.
    public func close() {
        guard !finQueued else { return }
        finQueued = true
        pump()
    }

    /// Stops without a packet, as closing a socket in SYN-SENT does; an established connection sends RST
    /// when the application aborts it, as Linux does on close with unread data or SO_LINGER 0.
    public func abort(sendReset: Bool) {
        if sendReset, state != .closed, state != .synSent {
            emit(flags: [.rst, .ack], seq: sndMax, ack: rcvNxt, window: 0, options: TCPOptionBytes())
        }
        end(.aborted)
    }

    private var inFlight: Int { Int(sndNxt &- sndUna) }

    private func pump() {
        guard state == .established || state == .closeWait else { return }
        if pmtuMSS != .max, now >= pmtuExpiry { pmtuMSS = .max }  // the route exception expired
        let mss = segmentSize
        let cwndBytes = Int(w.cwnd) * mss
        let window = min(cwndBytes, Int(peerWindow))
        var cwndLimited = false
        while true {
            let offset = Int(sndNxt &- bufferStart)
            let available = sendBuffer.count - sendHead - offset
            guard available > 0 else { break }
            let room = window - inFlight
            guard room > 0 else {
                cwndLimited = cwndBytes <= Int(peerWindow)
                break
            }
            var n = min(available, mss, room)
            if seqLT(sndNxt, sndMax), sackOK {
                // Walking the unacknowledged data again: what the peer SACKed is not sent again (tcp_xmit_retransmit_queue
                // skips TCPCB_SACKED_ACKED), and a segment stops where a SACKed range starts.
                if let end = sack.sackedEnd(at: sndNxt) {
                    sndNxt = seqLT(end, sndMax) ? end : sndMax
                    continue
                }
                if let next = sack.nextSacked(after: sndNxt) { n = min(n, Int(next &- sndNxt)) }
            }
            // Nagle (Minshall): hold a partial segment while an earlier partial one is unacknowledged.
            if nagle, n < segmentSize, inFlight > 0, seqLT(sndUna, sndSml), seqLEQ(sndSml, sndNxt) { break }
            if n < segmentSize { sndSml = sndNxt &+ UInt32(n) }
            let last = n == available
            let from = sendHead + offset
            let data = sendBuffer.withUnsafeBytes { PacketPayload(copying: UnsafeRawBufferPointer(rebasing: $0[from..<from + n])) }
            let resent = seqLT(sndNxt, sndMax)
            emit(flags: last ? [.psh, .ack] : .ack, seq: sndNxt, ack: rcvNxt, window: advertisedWindow,
                 options: tsOptions, payload: data)
            sndNxt = sndNxt &+ UInt32(n)
            if resent {
                retransmittedAt = now
                if retransStamp == 0 { retransStamp = newDataSentAt }
            }
            if seqLT(sndMax, sndNxt) { sndMax = sndNxt; newDataSentAt = now }
            armRTO()
        }
        w.validate(sndUna: sndUna, sndNxt: sndNxt, packetsOut: Int32((inFlight + mss - 1) / max(mss, 1)),
                   cwndLimited: cwndLimited)
        let unsent = sendBuffer.count - sendHead - Int(sndNxt &- bufferStart)
        if finQueued, !finSent, unsent == 0 {
            finSent = true
            finSeq = sndNxt
            emit(flags: [.fin, .ack], seq: sndNxt, ack: rcvNxt, window: advertisedWindow, options: tsOptions)
            sndNxt = sndNxt &+ 1
            if seqLT(sndMax, sndNxt) { sndMax = sndNxt }
            state = state == .closeWait ? .lastAck : .finWait1
            armRTO()
        }
    }

    /// The window field of a segment this end sends now: `TCPWindows.receiveWindow`, scaled (tcp_select_window
    /// rounds the window up to the scale's unit; it never offers less than it did: RFC 9293 §3.8.6.2.2).
    private var advertisedWindow: UInt16 {
        let bytes = w.receiveWindow()
        let scale = Int(rcvWindowScale)
        let units = (Int(bytes) + (1 << scale) - 1) >> scale
        return UInt16(min(units, 65535))
    }

    /// The options of a segment after the SYN: timestamps, and SACK blocks while segments beyond a hole are held
    /// (tcp_established_options puts them on every segment, data and FIN too).
    private var tsOptions: TCPOptionBytes {
        var o = TCPOptionBytes()
        if useTimestamps { o.appendPaddedTimestamps(value: tsVal, echoReply: tsRecent) }
        if sack.holding, sackOK { sack.appendOption(to: &o, maxBlocks: useTimestamps ? 3 : 4) }
        return o
    }

    /// The simulation's time.
    private var now: Int64 { env { $0.now } }

    /// Linux TSval: a millisecond clock plus a per-connection random offset.
    private var tsVal: UInt32 { tsOffset &+ UInt32(truncatingIfNeeded: now / 1_000_000) }

    /// The timers, as the scheduler's tags (`fire(tag:)`).
    private enum Timer: Int {
        case syn, synAck, retryAfterReset, rto, delayedAck, keepalive, rack
    }

    /// Schedules `kind` as `timer`, cancelling the event it replaces (which would have found itself stale).
    private func arm(_ timer: inout Scheduler.Handle?, _ kind: Timer, at time: Int64) {
        if let old = timer { env { $0.cancel(old) } }
        switch kind {
        case .syn, .synAck, .retryAfterReset: synTimerGeneration = rtoGeneration
        case .delayedAck: delackTimerGeneration = delayedAckGeneration
        case .rto, .keepalive, .rack: break
        }
        timer = env { $0.schedule(at: time, target: self, tag: kind.rawValue) }
    }

    /// A timer is due (the scheduler calls this).
    public func fire(tag: Int) {
        switch Timer(rawValue: tag) {
        case .syn: synTimer = nil; synTimerFired()
        case .synAck: synTimer = nil; synAckTimerFired()
        case .retryAfterReset:
            synTimer = nil
            guard rtoGeneration == synTimerGeneration, state == .synSent else { return }
            sendSYN()
            armSYNTimer()
        case .rto: rtoTimer = nil; rtoTimerFired()
        case .delayedAck: delackTimer = nil; delayedAckTimerFired()
        case .keepalive: keepalive?.timer = nil; keepaliveTimerFired()
        case .rack: rackTimer = nil; rackTimerFired()
        case nil: break
        }
    }

    /// The retransmission timer, re-armed on every segment sent: like the kernel's mod_timer it moves one
    /// deadline; an event is scheduled only when none is pending at or before it (a pending earlier one
    /// re-schedules itself for the deadline when it finds it moved).
    private func armRTO() {
        rtoGeneration &+= 1
        rtoArmedGeneration = rtoGeneration
        rtoDeadline = LinuxTimers.fireTime(now: now, delay: rto)
        if rtoEventAt >= 0, rtoEventAt <= rtoDeadline { return }
        scheduleRTOEvent()
    }

    private func scheduleRTOEvent() {
        rtoEventAt = rtoDeadline
        arm(&rtoTimer, .rto, at: rtoDeadline)
    }

    private func rtoTimerFired() {
        // An event superseded by an earlier one (the deadline moved closer) was cancelled: the one that fires
        // is the last scheduled, at rtoEventAt.
        rtoEventAt = -1
        guard rtoGeneration == rtoArmedGeneration else { return }
        if now < rtoDeadline {
            scheduleRTOEvent()
            return
        }
        retransmitTimeout()
    }

    private func retransmitTimeout() {
        guard sndUna != sndMax else { return }
        if retransStamp == 0 { retransStamp = newDataSentAt }
        // tcp_write_timeout: after tcp_retries1 (3) timeouts' worth of time, black-hole detection (tcp_mtu_probing).
        if mtuProbing > 0, retransmissions > 0, now - retransStamp >= Self.retries1Timeout { blackHoleSuspected() }
        retransmissions += 1
        // tcp_retries2 = 15: give up after the 15th retransmission (≥ 924.6 s). An orphaned socket gives up by
        // tcp_orphan_retries (net.ipv4.tcp_orphan_retries 0: 8 retries while its RTO is under the 120 s maximum,
        // none once it is there; tcp_write_timeout, tcp_orphan_retries in net/ipv4/tcp_timer.c), silently.
        let limit: Int32 = !orphaned ? 15 : rto < 120_000_000_000 ? 8 : 0
        guard retransmissions <= limit else {
            end(.retransmitTimeout)
            return
        }
        rto = min(rto * 2, 120_000_000_000)
        // tcp_enter_loss: ssthresh from the congestion controller (CUBIC: 0.7 × cwnd), cwnd 1 segment.
        if retransmissions == 1 { w.enterLoss(now: now) } else { w.cwnd = 1 }
        dupAcks = 0
        recoveryPoint = sndMax
        // Go back to the first unacknowledged byte.
        let wasFin = finSent && sndMax == finSeq &+ 1 && sndUna == finSeq
        if wasFin {
            emit(flags: [.fin, .ack], seq: finSeq, ack: rcvNxt, window: advertisedWindow, options: tsOptions)
            armRTO()
            return
        }
        sndNxt = sndUna
        if finSent { finSent = false; state = state == .lastAck ? .closeWait : .established }
        pump()
    }

    // MARK: Path MTU

    /// tcp_model_timeout(sk, tcp_retries1 = 3, TCP_RTO_MIN): ((2 << 3) − 1) × 200 ms, the time three timeouts
    /// take from the minimum RTO (net/ipv4/tcp_timer.c retransmits_timed_out).
    static let retries1Timeout: Int64 = 15 * 200_000_000

    /// Linux black-hole detection (net/ipv4/tcp_timer.c tcp_mtu_probing, with net.ipv4.tcp_mtu_probing = 1): the
    /// first time, MTU probing is enabled with its floor at tcp_base_mss (1024), which tcp_sync_mss makes the
    /// MSS; each later time the floor halves (min tcp_base_mss, at least tcp_mtu_probe_floor 48). Segments then
    /// carry that many payload bytes, options or not (search_low is an MTU: the options' bytes are added to it).
    /// Probing back up (tcp_mtu_probe: a larger segment once cwnd reaches 11 with enough data queued) is not
    /// modeled: the MSS stays at the floor (docs/scenarios.md says so).
    private func blackHoleSuspected() {
        let payload: Int32 = blackHoleMSS == .max ? 1024 : max(min(1024, (blackHoleMSS - optionBytes) >> 1), 48)
        blackHoleMSS = payload + optionBytes
    }

    /// The options' bytes on every segment after the SYN (the timestamps).
    private var optionBytes: Int32 { useTimestamps ? 12 : 0 }

    /// An ICMP "fragmentation needed" reported next-hop MTU `mtu` for a segment starting at `quotedSequence`.
    /// As Linux (net/ipv4/tcp_ipv4.c tcp_v4_err, tcp_v4_mtu_reduced): ignored unless the quoted segment is one
    /// still unacknowledged (snd_una ≤ seq < snd_nxt); the path MTU is kept (a route exception, `pmtuExpires`;
    /// never below 552, ip_rt_min_pmtu), and when it shrinks the MSS (tcp_sync_mss) the segments in flight larger
    /// than the new MSS and not SACKed go again at once, each in pieces of the new size, the last with PSH as the
    /// reference captures show (tcp_simple_retransmit marks exactly those lost; tcp_xmit_retransmit_queue sends
    /// them), with no RTO backoff; smaller ones are left to the ACKs and the RTO. The segments' edges are not kept:
    /// the flight is walked from snd_una in segments of the old size, which is how it went out unless a write
    /// smaller than a segment came between (a single write, a bulk transfer).
    ///
    /// Over IPv6 (`ipv6`: an ICMPv6 Packet Too Big; net/ipv6/tcp_ipv6.c tcp_v6_err, tcp_v6_mtu_reduced) the path
    /// MTU is never taken below 1280 (RFC 8200 §5; Linux rt6_do_update_pmtu keeps IPV6_MIN_MTU) and the MSS is
    /// the MTU less 60 (the 40-byte IPv6 header and TCP's 20).
    func pathMTUReported(_ mtu: Int, quotedSequence seq: UInt32, ipv6: Bool = false) {
        guard state != .closed, state != .synSent, state != .synReceived else { return }
        guard seqLEQ(sndUna, seq), seqLT(seq, sndMax) else { return }
        let mss = Int32(ipv6 ? max(mtu, ICMPv6.minimumMTU) - 60 : max(mtu, 552) - 40)
        let before = segmentSize
        pmtuMSS = min(pmtuMSS == .max ? mss : pmtuMSS, mss)
        pmtuExpiry = now + pmtuExpires
        let size = segmentSize
        guard size < before else { return }
        dupAcks = 0
        recoveryPoint = sndMax
        let dataEnd = finSent ? finSeq : sndMax
        var at = sndUna
        while seqLT(at, dataEnd) {
            if let end = sack.sackedEnd(at: at) { at = end; continue }
            var end = at &+ UInt32(min(before, Int(dataEnd &- at)))
            if let next = sack.nextSacked(after: at), seqLT(next, end) { end = next }
            if Int(end &- at) > size { resend(from: at, to: end, segment: size, pushLast: true) }
            at = end
        }
    }

    // MARK: Receiving

    public func receive(_ p: SimPacket) {
        var p = p
        receive(lent: &p)
    }

    /// `receive(_:)` of a packet lent (inout: by address, not copied; not changed).
    func receive(lent p: inout SimPacket) {
        guard let t = p.tcp else { return }
        if let k = keepalive { k.heard(t, at: now) }
        // A SYN's options are read once, here (a walk each for its timestamps, MSS and window scale cost more).
        let syn = t.flags.contains(.syn) ? t.synOptions : nil
        if let ts = syn.map({ $0.timestamps }) ?? t.timestamps, syn != nil || seqLEQ(t.sequenceNumber, rcvNxt) {
            tsRecent = ts.value
        }
        if t.flags.contains(.rst) {
            switch state {
            case .synSent where t.flags.contains(.ack) && t.acknowledgmentNumber == iss &+ 1:
                if resetRetries < stack.retriesAfterReset {
                    // Windows tries again after an RST, with the same port and sequence number.
                    resetRetries += 1
                    rtoGeneration &+= 1
                    arm(&synTimer, .retryAfterReset, at: now + stack.retryAfterResetDelay)
                } else {
                    end(.refused)
                }
            case .synSent, .closed: break
            default: end(.reset)
            }
            return
        }
        switch state {
        case .closed, .timeWait:
            return
        case .synSent:
            guard t.flags.contains(.syn), t.flags.contains(.ack), t.acknowledgmentNumber == iss &+ 1 else { return }
            irs = t.sequenceNumber
            rcvNxt = irs &+ 1
            rcvWup = rcvNxt
            let o = syn ?? t.synOptions
            readPeerOptions(t, o)
            useTimestamps = useTimestamps && o.timestamps != nil
            sndUna = t.acknowledgmentNumber
            sndNxt = sndUna
            sndMax = sndUna
            state = .established
            rtoGeneration &+= 1  // cancel the SYN timer
            rto = max(200_000_000, rto)
            if synRetries == 0 { rttSampled(now - synSentAt) }  // Karn: no sample from a retransmitted SYN
            emit(flags: .ack, seq: sndNxt, ack: rcvNxt, window: advertisedWindow, options: tsOptions)
            // tcp_finish_connect: a keepalive socket's timer starts with the connection.
            if let k = keepalive { arm(&k.timer, .keepalive, at: now + k.time) }
            app?.established(self)
            return
        case .synReceived:
            if t.flags.contains(.syn), !t.flags.contains(.ack) {
                // A duplicate SYN: the SYN-ACK again at once.
                sendSYNACK()
                return
            }
            guard t.flags.contains(.ack), t.acknowledgmentNumber == iss &+ 1 else { return }
            sndUna = t.acknowledgmentNumber
            sndNxt = sndUna
            sndMax = sndUna
            state = .established
            rtoGeneration &+= 1
            if synAckAttempt == 0 { rttSampled(now - synSentAt) }  // Karn: none from a retransmitted SYN-ACK
            peerWindow = scaledWindow(t)
            // A server socket with SO_KEEPALIVE (sshd's TCPKeepAlive) times from its establishment.
            if let k = keepalive { arm(&k.timer, .keepalive, at: now + k.time) }
            app?.established(self)
            // The ACK may carry data.
            if p.payload.isEmpty && !t.flags.contains(.fin) { return }
        default:
            if t.flags.contains(.syn) {
                // A retransmitted SYN-ACK: our ACK was lost or late; ACK again.
                emit(flags: .ack, seq: sndMax, ack: rcvNxt, window: advertisedWindow, options: tsOptions)
                return
            }
            if TCPKeepalive.isProbe(t, payload: p.payload.count, rcvNxt: rcvNxt, rcvWup: rcvWup) {
                sendAck()  // tcp_validate_incoming: an old segment is answered with a duplicate ACK at once
                return
            }
        }
        if t.flags.contains(.ack) { processAck(t, empty: p.payload.isEmpty) }
        guard state != .closed else { return }
        // Data and FIN. The modeled network does not reorder, so a segment beyond rcv_nxt follows a lost one: it is
        // held (tcp_data_queue_ofo) and ACKed at once with a SACK option; the segment that fills the hole releases
        // it, and that ACK too goes at once (RFC 5681 §4.2; tcp_data_queue's ICSK_ACK_NOW).
        let seq = t.sequenceNumber
        var heldFin = false
        if !p.payload.isEmpty {
            if seq == rcvNxt {
                let filled = sack.holding
                rcvNxt = rcvNxt &+ UInt32(p.payload.count)
                dataReceived(p.payload.count)
                // The application reads at once: what arrived is what was copied (tcp_rcv_space_adjust).
                let echo = t.timestamps.map { $0.echoReply } ?? 0
                w.received(p.payload.count, mss: Int32(segmentSize), now: now,
                           rtt: echo == 0 ? 0 : Int64(tsVal &- echo) * 1_000_000)
                let released = filled ? sack.takeInOrder(rcvNxt: rcvNxt) : []
                for h in released {
                    rcvNxt = h.end
                    if h.fin { heldFin = true }
                }
                // The kernel decides about the ACK before the application runs (softirq, then wake-up).
                if filled {
                    sendAck()
                } else if !(t.flags.contains(.fin) && seq &+ UInt32(p.payload.count) == rcvNxt) {
                    ackSendCheck()
                }
                app?.received(self, bytes: p.payload)
                for h in released where !h.bytes.isEmpty && state != .closed {
                    var bytes = h.bytes.withUnsafeBytes { PacketPayload(copying: $0) }
                    app?.received(self, bytes: bytes)
                    bytes.free()
                }
                if state == .closed { return }
            } else if seqLT(rcvNxt, seq) {
                p.payload.withUnsafeBytes { sack.hold(seq: seq, payload: $0, fin: t.flags.contains(.fin)) }
                sendAck()
                return
            } else {
                sendAck()  // duplicate or out of window: ACK at once
            }
        }
        if heldFin || (t.flags.contains(.fin) && seq &+ UInt32(p.payload.count) == rcvNxt), !peerFinReceived {
            peerFinReceived = true
            rcvNxt = rcvNxt &+ 1
            ackScheduled = true
            switch state {
            case .established:
                state = .closeWait
                pingpong = max(pingpong, 1)  // tcp_fin: inet_csk_enter_pingpong_mode
            case .finWait1:
                // A simultaneous close: both FINs crossed. tcp_fin (net/ipv4/tcp_input.c), TCP_FIN_WAIT1: "This case
                // occurs when a simultaneous close happens, we must ack the received FIN and enter the CLOSING
                // state": tcp_send_ack at once, not a delayed ACK (which would die with the connection when the
                // ACK of our FIN, next, moves it on: CLOSING → TIME-WAIT in tcp_rcv_state_process, in processAck).
                sendAck()
                state = .closing
            case .finWait2: state = .timeWait
            default: break
            }
            app?.peerClosed(self)
            if state == .timeWait {
                sendAck()
                end(.closed)
                return
            }
        }
        ackSendCheck()
    }

    /// tcp_event_data_recv: learn the peer's segment size, start or adapt the ACK timeout (ato).
    private func dataReceived(_ length: Int) {
        let now = now
        ackScheduled = true
        if length >= Int(rcvMSS) {
            rcvMSS = Int32(min(length, segmentSize))
        } else {
            if pushed { pushed2 = true }
            pushed = true
        }
        if ato == 0 {
            incrementQuickAcks()
            ato = Self.atoMin
        } else {
            let m = now - lrcvtime
            if m <= Self.atoMin / 2 {
                ato = ato / 2 + Self.atoMin / 2
            } else if m < ato {
                ato = min(ato / 2 + m, rto)
            } else if m > rto {
                incrementQuickAcks()
            }
        }
        lrcvtime = now
    }

    private func incrementQuickAcks() {
        var q = Int(synWindow) / (2 * max(Int(rcvMSS), 1))  // rcvMSS is 0 only if a peer MSS were 12 or less
        if q == 0 { q = 2 }
        quick = max(quick, Int32(min(q, 16)))
    }

    private var inPingpong: Bool { pingpong >= 1 }

    /// __tcp_ack_snd_check: ACK now after more than one full segment or in quick-ACK mode; otherwise later.
    private func ackSendCheck() {
        guard ackScheduled, state != .closed else { return }
        if Int(rcvNxt &- rcvWup) > Int(rcvMSS) || (quick > 0 && !inPingpong) {
            sendAck()
        } else {
            sendDelayedAck()
        }
    }

    /// tcp_send_delayed_ack: ato, bounded by 200 ms when interactive (500 ms otherwise) and by the RTT.
    private func sendDelayedAck() {
        let now = now
        var a = ato
        if a > Self.atoMin {
            var maxAto: Int64 = inPingpong ? Self.delackMax : 500_000_000
            if srtt > 0 {
                let r = max(srtt, Self.atoMin)
                if r < maxAto { maxAto = r }
            }
            a = min(a, maxAto)
        }
        a = min(a, Self.delackMax)
        var timeout = now + a
        if delayedAckArmed {
            if delackDeadline <= now + a / 4 {
                sendAck()
                return
            }
            if timeout >= delackDeadline { timeout = delackDeadline }
        }
        delayedAckArmed = true
        delackDeadline = timeout
        delayedAckGeneration &+= 1
        arm(&delackTimer, .delayedAck, at: timeout)
    }

    private func delayedAckTimerFired() {
        guard delayedAckArmed, delayedAckGeneration == delackTimerGeneration, state != .closed else { return }
        delayedAckArmed = false
        guard ackScheduled else { return }
        if !inPingpong {
            ato = min(ato * 2, rto)  // delayed ACK missed: inflate ato
        } else {
            pingpong = 0  // delayed ACK missed: leave pingpong mode
            ato = Self.atoMin
        }
        sendAck()
    }

    /// The window `t` advertises, in bytes (a window scale over 14 is taken as 14, RFC 7323 §2.3).
    @inline(__always)
    private func scaledWindow(_ t: TCPHeader) -> Int32 { Int32(Int(t.window) << Int(min(peerWindowScale, 14))) }

    private func processAck(_ t: TCPHeader, empty: Bool) {
        let ack = t.acknowledgmentNumber
        let newWindow = scaledWindow(t)
        // SACK blocks (only an option list longer than the timestamps' 12 bytes can hold one: the common ACK is not
        // decoded).
        if sackOK, t.optionsByteCount > 12, sndMax != sndUna {
            for case .sack(let blocks) in t.options { sack.record(blocks, sndUna: sndUna, sndMax: sndMax) }
            armRACK()
        }
        // A duplicate ACK (RFC 5681 §2: nothing new acknowledged, no data, same window, data outstanding).
        if ack == sndUna, sndMax != sndUna, newWindow == peerWindow, !t.flags.contains(.syn), !t.flags.contains(.fin),
           empty {
            duplicateAck()
        }
        peerWindow = newWindow
        guard seqLT(sndUna, ack), seqLEQ(ack, sndMax) else { return }
        let acked = Int(ack &- sndUna)
        sndUna = ack
        if seqLT(sndNxt, ack) { sndNxt = ack }  // the peer had what a go-back was about to send again
        sack.acknowledged(to: ack)
        retransmissions = 0
        retransStamp = 0
        // RTT from the timestamp echo (RFC 6298 with RFC 7323 samples).
        var rttSample: Int64 = 0
        if let ts = t.timestamps, ts.echoReply != 0 {
            let sample = Int64(tsVal &- ts.echoReply) * 1_000_000
            rttSampled(sample)
            rttSample = sample
        }
        dupAcks = 0
        if seqLT(ack, recoveryPoint) {
            // Still recovering (tcp_fastretrans_alert): no growth until everything sent before the loss is
            // acknowledged.
            w.rttSample(rttSample)
        } else {
            recoveryPoint = ack  // trails sndUna, so that the comparison stays within 2^31 as sequence numbers wrap
            w.acked(segments: Int32((acked + segmentSize - 1) / max(segmentSize, 1)), sndUna: ack, sndNxt: sndNxt,
                    now: now, rtt: rttSample)
        }
        // Free acknowledged bytes.
        let consumed = min(Int(sndUna &- bufferStart), sendBuffer.count - sendHead)
        if consumed > 0 {
            // All of it: let go of the storage (it may be the message's, shared) rather than shift it.
            sendHead += consumed
            if sendHead == sendBuffer.count {
                sendBuffer = []
                sendHead = 0
            } else if sendHead >= 65536, 2 * sendHead >= sendBuffer.count {
                sendBuffer.removeFirst(sendHead)
                sendHead = 0
            }
            bufferStart = bufferStart &+ UInt32(consumed)
        }
        if finSent, sndUna == finSeq &+ 1 {
            switch state {
            case .finWait1: state = .finWait2
            case .closing: state = .timeWait; end(.closed)
            case .lastAck: end(.closed)
            default: break
            }
        }
        if sndUna == sndMax { rtoGeneration &+= 1 } else { armRTO() }
        pump()
    }

    /// An RTT sample (RFC 6298 §2), and the RTO as Linux sets it (net/ipv4/tcp_input.c tcp_rtt_estimator,
    /// tcp_set_rto): srtt plus the deviation term, which is at least tcp_rto_min (200 ms, TCP_RTO_MIN) — so the
    /// RTO is 200 ms plus srtt, not 200 ms, on a short path.
    private func rttSampled(_ sample: Int64) {
        let sample = max(sample, 1_000)
        if srtt == 0 {
            srtt = sample
            rttvar = sample / 2
        } else {
            rttvar = (3 * rttvar + abs(srtt - sample)) / 4
            srtt = (7 * srtt + sample) / 8
        }
        minRTT = min(minRTT, sample)
        // icsk_rto is kept in jiffies (usecs_to_jiffies rounds up), and doubles in jiffies.
        let j = LinuxTimers.jiffy
        rto = min((srtt + max(4 * rttvar, 200_000_000) + j - 1) / j * j, 120_000_000_000)
    }

    /// RACK (RFC 8985 §6.2, net/ipv4/tcp_recovery.c tcp_rack_detect_loss): a SACK for data sent after the first
    /// unacknowledged segment marks that segment lost once RACK.rtt plus the reordering window (min_rtt / 4) has
    /// passed since it was sent; Linux arms its reordering timer for what is left of that plus TCP_TIMEOUT_MIN
    /// (2 ms; tcp_rack_mark_lost) and retransmits the segment when it fires (tcp_rack_reo_timeout). Not when the
    /// hole was sent again after the SACKed data (then only the RTO is left to find it lost), nor once in recovery
    /// (three duplicate ACKs went back already).
    private func armRACK() {
        guard let first = sack.sacked.first, seqLT(sndUna, first.start), retransmittedAt < newDataSentAt,
              !seqLT(sndUna, recoveryPoint), rackTimer == nil else { return }
        // RACK.rtt is the SACKed segment's, sent about when the hole was: what is left is the reordering window.
        let reorderWindow = minRTT == .max ? 0 : min(minRTT / 4, srtt)
        arm(&rackTimer, .rack, at: LinuxTimers.fireTime(now: now, delay: reorderWindow + 2_000_000))
    }

    private func rackTimerFired() {
        guard state != .closed, let first = sack.sacked.first, seqLT(sndUna, first.start),
              retransmittedAt < newDataSentAt, !seqLT(sndUna, recoveryPoint) else { return }
        // tcp_xmit_retransmit_queue: the lost segment goes again as it was, and the RTO restarts from it.
        w.enterRecovery(now: now)
        recoveryPoint = sndMax
        resend(from: sndUna, to: first.start, segment: segmentSize, pushLast: false)
    }

    /// Sends [from, to) again in segments of at most `segment` bytes without moving sndNxt, the last piece with PSH
    /// when `pushLast`.
    private func resend(from: UInt32, to: UInt32, segment: Int, pushLast: Bool) {
        var seq = from
        while seqLT(seq, to) {
            let n = min(Int(to &- seq), segment)
            let from = sendHead + Int(seq &- bufferStart)
            guard from >= sendHead, from + n <= sendBuffer.count else { return }
            let data = sendBuffer.withUnsafeBytes { PacketPayload(copying: UnsafeRawBufferPointer(rebasing: $0[from..<from + n])) }
            let last = seq &+ UInt32(n) == to
            emit(flags: last && pushLast ? [.psh, .ack] : .ack, seq: seq, ack: rcvNxt, window: advertisedWindow,
                 options: tsOptions, payload: data)
            seq = seq &+ UInt32(n)
        }
        retransmittedAt = now
        if retransStamp == 0 { retransStamp = newDataSentAt }
        armRTO()
    }

    /// Three duplicate ACKs: a segment was lost (RFC 5681 §3.2, tcp_fastretrans_alert). The congestion window
    /// drops to the controller's ssthresh (CUBIC: 0.7 × cwnd) once per window of data; as the receiver keeps no
    /// out-of-order segments (the modeled network does not reorder), sending resumes from the first
    /// unacknowledged byte.
    private func duplicateAck() {
        dupAcks += 1
        guard dupAcks == 3, !seqLT(sndUna, recoveryPoint) else { return }
        w.enterRecovery(now: now)
        recoveryPoint = sndMax
        if sackOK, let first = sack.sacked.first, seqLT(sndUna, first.start) {
            // SACK-based recovery (RFC 6675; tcp_fastretrans_alert, tcp_xmit_retransmit_queue): only the hole below
            // what the peer SACKed is lost and goes again; the rest is not sent twice.
            resend(from: sndUna, to: first.start, segment: segmentSize, pushLast: false)
            return
        }
        if finSent, sndMax == finSeq &+ 1 {
            finSent = false
            state = state == .lastAck || state == .closing ? .closeWait : .established
        }
        sndNxt = sndUna
        pump()
    }

    /// An ACK without data: seq is snd_nxt, the highest sent (tcp_acceptable_seq), and while segments beyond a
    /// hole are held it reports them in a SACK option (tcp_build_sack).
    private func sendAck() {
        emit(flags: .ack, seq: sndMax, ack: rcvNxt, window: advertisedWindow, options: tsOptions)
    }

    /// tcp_event_ack_sent: every segment carrying an ACK counts against the quick ACKs and clears the timer.
    private func ackSent() {
        if quick > 0 {
            let packets: Int32 = ackScheduled ? 1 : 0
            if packets >= quick {
                quick = 0
                ato = Self.atoMin
            } else {
                quick -= packets
            }
        }
        ackScheduled = false
        pushed = false
        pushed2 = false
        delayedAckArmed = false
        rcvWup = rcvNxt
    }

    /// The application read what arrived (tcp_recvmsg → tcp_cleanup_rbuf): a pending ACK goes out now if two
    /// small segments came in a row, or one while not interactive.
    public func applicationRead() {
        guard ackScheduled, state != .closed else { return }
        if pushed2 || (pushed && !inPingpong) { sendAck() }
    }

    /// tcp_keepalive_timer (net/ipv4/tcp_timer.c): while data is in flight or queued the retransmission timer
    /// watches the connection; otherwise, once nothing arrived for the keepalive time, a probe (tcp_write_wakeup
    /// → tcp_xmit_probe_skb: an ACK with seq snd_una − 1 and no data, which the peer must answer), then one per
    /// interval; with `probes` unanswered the connection is reset (tcp_send_active_reset, ETIMEDOUT).
    private func keepaliveTimerFired() {
        guard let k = keepalive, state == .established || state == .closeWait else { return }
        var next = k.time
        if sndUna == sndNxt, sendBuffer.count == Int(sndNxt &- bufferStart), !finQueued {
            let elapsed = now - k.lastHeard
            if elapsed >= k.time {
                if k.probesOut >= k.probes {
                    emit(flags: [.rst, .ack], seq: sndMax, ack: rcvNxt, window: 0, options: TCPOptionBytes())
                    end(.keepaliveTimeout)
                    return
                }
                emit(flags: .ack, seq: sndUna &- 1, ack: rcvNxt, window: advertisedWindow, options: tsOptions)
                k.probesOut += 1
                next = k.interval
            } else {
                next = k.time - elapsed
            }
        }
        arm(&k.timer, .keepalive, at: now + next)
    }

    private func end(_ reason: TCPCloseReason) {
        guard state != .closed else { return }
        state = .closed
        closeReason = reason
        rtoGeneration &+= 1
        delayedAckArmed = false
        env { host in
            if let t = synTimer { host.cancel(t) }
            if let t = rtoTimer { host.cancel(t) }
            if let t = delackTimer { host.cancel(t) }
            if let t = keepalive?.timer { host.cancel(t) }
            if let t = rackTimer { host.cancel(t) }
        }
        keepalive?.timer = nil
        synTimer = nil
        rtoTimer = nil
        delackTimer = nil
        rackTimer = nil
        sack.reset()
        // The application's callbacks may hold this connection (a client's timers close it): letting go of the
        // application here breaks that cycle, so a finished connection is freed (memory follows open ones).
        let a = app
        app = nil
        sendBuffer = []
        sendHead = 0
        a?.ended(self, reason)
    }

    private func emit(flags: TCPFlags, seq: UInt32, ack: UInt32, window: UInt16, options: TCPOptionBytes,
                      payload: PacketPayload = PacketPayload()) {
        var ip = IPv4Header(source: local.address, destination: remote.address, proto: .tcp, ttl: stack.initialTTL,
                            identification: ipID, dontFragment: true)
        ipID &+= 1
        let tcp = TCPHeader(sourcePort: local.port, destinationPort: remote.port, sequenceNumber: seq,
                            acknowledgmentNumber: flags.contains(.ack) ? ack : 0, flags: flags, window: window,
                            optionBytes: options)
        ip.totalLength = UInt16(20 + tcp.byteCount + payload.count)
        if flags.contains(.ack) { ackSent() }
        // tcp_event_data_sent: answering within ato of receiving makes the connection interactive.
        if !payload.isEmpty, ato > 0, now - lrcvtime < ato, pingpong < .max { pingpong += 1 }
        var p = SimPacket(ip: ip, transport: .tcp(tcp), payload: payload, flow: flow, fromClient: isClient)
        p.traced = traces && flags.contains(.syn) && (isClient ? synsSent == 1 : true)
        var queued: Int64 = 0
        if pathRate > 0 {
            // Serialised at the bottleneck after the segments queued before it (FIFO: order is kept), so it reaches
            // its next hop that much later than the latency alone. The frame: the IP packet and Ethernet's header,
            // FCS, preamble and gap (38 bytes). The capture at the sender shows it when sent, as tcpdump at a
            // sender whose bottleneck is further along the path does.
            let bits = (Int64(ip.totalLength) + 38) * 8
            let start = max(now, bottleneckFree)
            bottleneckFree = start + (bits * 1_000_000_000 + pathRate - 1) / pathRate
            queued = bottleneckFree - now
        }
        env { $0.send(p, queued: queued) }
    }
}

@inline(__always) func seqLT(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
@inline(__always) func seqLEQ(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) <= 0 }
