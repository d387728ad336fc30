/// The two windows of one end of a Linux TCP connection: the congestion window its sender keeps (CUBIC, Linux's
/// default) and the receive window it advertises (the receive buffer's autotuning). Plain values kept in the
/// connection: nothing here allocates.
///
/// Sender (net/ipv4/tcp_cubic.c, tcp_cong.c, tcp_output.c; RFC 9438, RFC 6928, RFC 7661):
/// - initial window 10 segments (RFC 6928; TCP_INIT_CWND), ssthresh unbounded (TCP_INFINITE_SSTHRESH);
/// - slow start: cwnd grows by the segments each ACK acknowledges, up to ssthresh (tcp_slow_start);
/// - HyStart (hystart_update), from 16 segments on: slow start ends (ssthresh = cwnd) when a round's ACKs, each
///   within 2 ms of the one before, span more than half the least RTT (the ACK train: the path's pipe is full;
///   hystart_ack_delay is taken as its 1 ms bound), or when every RTT sample of a round, after its first 8,
///   exceeds the least RTT by more than an eighth of it, clamped to 4–16 ms (the delay test). Approximated: RTT
///   samples come from timestamps, in milliseconds, where the kernel measures microseconds;
/// - congestion avoidance: CUBIC's window W(t) = C·(t − K)³ + W_max with C = 0.4 and K = ∛(W_max·(1 − β)/C),
///   β = 0.7 (bictcp_update, with the kernel's fast convergence and its Reno-friendly estimate), the window growing
///   by one segment per `cnt` segments acknowledged (tcp_cong_avoid_ai);
/// - on a loss: ssthresh = max(0.7·cwnd, 2) (bictcp_recalc_ssthresh); after three duplicate ACKs cwnd drops to
///   ssthresh (the end of PRR's reduction, at once); after a retransmission timeout cwnd is 1 (tcp_enter_loss);
/// - the window grows only while it is used (tcp_is_cwnd_limited, RFC 7661): in slow start while cwnd is less
///   than twice the most packets in flight in the last window of data, otherwise only when sending was held
///   back by cwnd (tcp_cwnd_validate).
///
/// Receiver (net/ipv4/tcp_input.c tcp_grow_window, tcp_rcv_space_adjust, tcp_rcv_rtt_measure_ts; tcp_output.c
/// tcp_select_window), with tcp_rmem = 4096 131072 6291456 and tcp_moderate_rcvbuf on (the defaults):
/// - the buffer starts at tcp_rmem[1] (131,072 bytes); the window is a fraction of the buffer (tcp_win_from_space:
///   Linux 6.6+ takes the measured payload/truesize ratio, `scalingRatio`, where older kernels took
///   1 − 2^−tcp_adv_win_scale = 1/2);
/// - rcv_ssthresh starts at the SYN's window (64,240) and grows by two segments per data segment received, up to
///   the window the buffer allows (tcp_grow_window);
/// - once per receiver-measured RTT (the least RTT the timestamps echoed in full data segments show), when more
///   was read in that RTT than in the one before, the buffer grows to hold about twice that plus a margin for the
///   sender's growth: rcvwin = 2·copied + 16·MSS, plus 2·rcvwin·(copied − previous)/previous, at most
///   tcp_rmem[2] (tcp_rcv_space_adjust); the window clamp follows. Recent kernels split this out
///   (tcp_rcvbuf_grow) with a plainer 2·copied; of the two, this rule comes closer to the 6.18 reference capture
///   (docs/fidelity.md);
/// - the application here reads what arrives at once, so the buffer is empty when a window is chosen: the window
///   is min(rcv_ssthresh, clamp), and never less than offered before (tcp_select_window).
struct TCPWindows {
    // MARK: Sender (segments)

    /// snd_cwnd, segments.
    var cwnd: Int32 = 10
    var ssthresh: Int32 = .max
    /// snd_cwnd_cnt: segments acknowledged toward the next increment.
    private var cwndCount: Int32 = 0
    // tcp_cwnd_validate.
    private var maxPacketsOut: Int32 = 0
    private var isCwndLimited = false
    private var cwndUsageSeq: UInt32 = 0
    private var cwndUsageSet = false
    // CUBIC (struct bictcp).
    private var lastMaxCwnd: Int32 = 0
    private var lastCwnd: Int32 = 0
    private var lastTime: Int64 = 0
    /// -1: no epoch (epoch_start 0 in the kernel).
    private var epochStart: Int64 = -1
    private var originPoint: Int32 = 0
    /// K, seconds.
    private var k: Double = 0
    /// The Reno-friendly window estimate (tcp_cwnd) and its ACK count.
    private var renoCwnd: Int32 = 0
    private var ackCount: Int32 = 0
    private var cnt: Int32 = 0
    /// The least RTT seen, nanoseconds (delay_min).
    private var delayMin: Int64 = 0
    // HyStart (delay test).
    private var roundEnd: UInt32 = 0
    private var roundStarted = false
    private var roundStart: Int64 = 0
    private var lastAck: Int64 = 0
    private var currRTT: Int64 = .max
    private var samples: Int32 = 0
    private var hystartFound = false

    static let beta = 0.7
    static let c = 0.4

    /// A data transmission round: the most packets in flight, and whether cwnd held sending back.
    mutating func validate(sndUna: UInt32, sndNxt: UInt32, packetsOut: Int32, cwndLimited: Bool) {
        if !cwndUsageSet || !seqLT(sndUna, cwndUsageSeq) || cwndLimited
            || (!isCwndLimited && packetsOut > maxPacketsOut) {
            isCwndLimited = cwndLimited
            maxPacketsOut = packetsOut
            cwndUsageSeq = sndNxt
            cwndUsageSet = true
        }
    }

    /// tcp_is_cwnd_limited.
    var cwndLimited: Bool {
        if isCwndLimited { return true }
        return cwnd < ssthresh && Int(cwnd) < 2 * Int(maxPacketsOut)
    }

    /// An ACK of new data outside recovery, with its RTT sample (0: none): bictcp_acked → hystart_update.
    private mutating func hystart(rtt: Int64, sndUna: UInt32, sndNxt: UInt32, now: Int64) {
        if rtt > 0 {
            let rtt = max(rtt, 1_000_000)  // timestamps tick in milliseconds
            if delayMin == 0 || rtt < delayMin { delayMin = rtt }
        }
        guard !hystartFound, cwnd < ssthresh, cwnd >= 16 else { return }
        // A new round when the ACK passes the end of the last (bictcp_hystart_reset).
        if !roundStarted || seqLT(roundEnd, sndUna) {
            roundStarted = true
            roundEnd = sndNxt
            roundStart = now
            lastAck = now
            currRTT = .max
            samples = 0
        }
        // The ACK train.
        if now - lastAck <= 2_000_000 {
            lastAck = now
            if delayMin > 0, now - roundStart > (delayMin + 1_000_000) >> 1 {
                hystartFound = true
                ssthresh = cwnd
                return
            }
        }
        guard rtt > 0 else { return }
        let rtt = max(rtt, 1_000_000)
        if samples < 8 {
            currRTT = min(currRTT, rtt)
            samples += 1
        } else {
            currRTT = min(currRTT, rtt)
            let threshold = min(max(delayMin >> 3, 4_000_000), 16_000_000)
            if currRTT > delayMin + threshold {
                hystartFound = true
                ssthresh = cwnd
            }
        }
    }

    /// `segments` newly acknowledged, outside recovery, with the ACK's RTT sample (0: none): HyStart, then
    /// tcp_cong_avoid → bictcp_cong_avoid.
    mutating func acked(segments: Int32, sndUna: UInt32, sndNxt: UInt32, now: Int64, rtt: Int64) {
        hystart(rtt: rtt, sndUna: sndUna, sndNxt: sndNxt, now: now)
        guard segments > 0, cwndLimited else { return }
        var acked = segments
        if cwnd < ssthresh {
            // tcp_slow_start.
            let grown = min(Int64(cwnd) + Int64(acked), Int64(ssthresh))
            acked -= Int32(grown - Int64(cwnd))
            cwnd = Int32(grown)
            guard acked > 0 else { return }
        }
        update(acked: acked, now: now)
        // tcp_cong_avoid_ai.
        let w = max(cnt, 1)
        if cwndCount >= w {
            cwndCount = 0
            cwnd += 1
        }
        cwndCount += acked
        if cwndCount >= w {
            let delta = cwndCount / w
            cwndCount -= delta * w
            cwnd += delta
        }
    }

    /// bictcp_update: `cnt`, the segments acknowledged per increment of cwnd.
    private mutating func update(acked: Int32, now: Int64) {
        ackCount += acked
        if lastCwnd == cwnd, now - lastTime <= 31_250_000 { return }  // HZ / 32
        lastCwnd = cwnd
        lastTime = now
        if epochStart < 0 {
            epochStart = now
            ackCount = acked
            renoCwnd = cwnd
            if lastMaxCwnd <= cwnd {
                k = 0
                originPoint = cwnd
            } else {
                k = Self.cubeRoot(Double(lastMaxCwnd - cwnd) / Self.c)
                originPoint = lastMaxCwnd
            }
        }
        // The window at one RTT from now (t + delay_min).
        let t = Double(now - epochStart + delayMin) / 1e9
        let offs = t - k
        let target = Double(originPoint) + Self.c * offs * offs * offs
        if target > Double(cwnd) {
            cnt = Int32(clamping: Int64(Double(cwnd) / (target - Double(cwnd))))
        } else {
            cnt = 100 * cwnd
        }
        if lastMaxCwnd == 0, cnt > 20 { cnt = 20 }
        // Reno-friendliness: beta_scale = 8·(1024 + 717) / 3 / (1024 − 717) = 15.
        let delta = max((cwnd * 15) >> 3, 1)
        while ackCount > delta {
            ackCount -= delta
            renoCwnd += 1
        }
        if renoCwnd > cwnd {
            let maxCnt = cwnd / (renoCwnd - cwnd)
            if cnt > maxCnt { cnt = maxCnt }
        }
        cnt = max(cnt, 2)
    }

    /// ∛v for v > 0 by Newton's method (no libm: the same bits everywhere).
    static func cubeRoot(_ v: Double) -> Double {
        guard v > 0 else { return 0 }
        var x = max(v / 3, 1)
        for _ in 0..<60 {
            let next = (2 * x + v / (x * x)) / 3
            if next == x { break }
            x = next
        }
        return x
    }

    /// bictcp_recalc_ssthresh, with fast convergence.
    private mutating func lossThreshold() -> Int32 {
        epochStart = -1
        if cwnd < lastMaxCwnd {
            lastMaxCwnd = Int32(Double(cwnd) * (1 + Self.beta) / 2)
        } else {
            lastMaxCwnd = cwnd
        }
        return max(Int32(Double(cwnd) * Self.beta), 2)
    }

    /// An RTT sample during recovery: only the least RTT learns from it.
    mutating func rttSample(_ rtt: Int64) {
        guard rtt > 0 else { return }
        let rtt = max(rtt, 1_000_000)
        if delayMin == 0 || rtt < delayMin { delayMin = rtt }
    }

    /// Three duplicate ACKs: cwnd to ssthresh.
    mutating func enterRecovery(now: Int64) {
        ssthresh = lossThreshold()
        cwnd = ssthresh
        cwndCount = 0
        hystartFound = true
    }

    /// A retransmission timeout (tcp_enter_loss): cwnd 1, slow start again up to ssthresh.
    mutating func enterLoss(now: Int64) {
        ssthresh = lossThreshold()
        cwnd = 1
        cwndCount = 0
        hystartFound = true
    }

    // MARK: Receiver (bytes)

    static let rmemDefault: Int32 = 131_072
    static let rmemMax: Int32 = 6_291_456
    /// tcp_win_from_space's ratio, /256: the window Linux 6.18 offers from a full buffer in the reference capture
    /// (captures/reference/linux-netns/bulk-upload-10mb: 4,176,512 of tcp_rmem[2] 6,291,456, 0.664).
    static let scalingRatio: Int64 = 170

    private var rcvBuf: Int32 = TCPWindows.rmemDefault
    private var rcvSsthresh: Int32 = 64240
    private var windowClamp: Int32 = TCPWindows.winFromSpace(TCPWindows.rmemDefault)
    private var offered: Int32 = 0
    /// rcvq_space: the bytes read in the last measured RTT, and where and when this one began.
    private var space: Int32 = 0
    private var spaceCopied: Int32 = 0
    private var spaceTime: Int64 = -1
    /// The receiver's RTT estimate (rcv_rtt_est), nanoseconds; 0 until measured.
    private var rcvRTT: Int64 = 0

    static func winFromSpace(_ space: Int32) -> Int32 { Int32((Int64(space) * scalingRatio) >> 8) }
    static func spaceFromWin(_ win: Int64) -> Int64 { (win << 8) / scalingRatio }

    init(initialWindow: UInt16 = 64240) {
        rcvSsthresh = Int32(initialWindow)
    }

    /// `length` bytes arrived in order and were read (`mss`: this end's segment size; `rtt`: from the segment's
    /// timestamp echo, 0 when none).
    mutating func received(_ length: Int, mss: Int32, now: Int64, rtt: Int64) {
        // tcp_rcv_rtt_measure_ts: full segments only; the least sample is kept (tcp_rcv_rtt_update's win_dep rule:
        // an average took in samples inflated by the sender's own delays and measured a round late).
        if rtt > 0, length >= Int(mss) {
            let sample = max(rtt, 1_000_000)
            rcvRTT = rcvRTT == 0 ? sample : min(rcvRTT, sample)
        }
        // tcp_grow_window.
        let free = Self.winFromSpace(rcvBuf)
        if rcvSsthresh < windowClamp, rcvSsthresh < free {
            rcvSsthresh = min(rcvSsthresh + 2 * mss, windowClamp, free)
        }
        // tcp_rcv_space_adjust.
        if spaceTime < 0 {
            spaceTime = now
            space = min(10 * mss, windowClamp)  // tcp_init_buffer_space: TCP_INIT_CWND · advmss
        }
        spaceCopied = spaceCopied &+ Int32(clamping: length)
        guard rcvRTT > 0, now - spaceTime >= rcvRTT else { return }
        let copied = Int64(spaceCopied)
        if copied > Int64(space) {
            var rcvwin = 2 * copied + 16 * Int64(mss)
            rcvwin += 2 * (rcvwin * (copied - Int64(space)) / Int64(max(space, 1)))
            let buf = Int32(min(Self.spaceFromWin(rcvwin), Int64(Self.rmemMax)))
            if buf > rcvBuf {
                rcvBuf = buf
                windowClamp = Self.winFromSpace(buf)
            }
            space = Int32(copied)
        }
        spaceCopied = 0
        spaceTime = now
    }

    /// The window to offer now, bytes (tcp_select_window; never less than offered before).
    mutating func receiveWindow() -> Int32 {
        let w = max(min(rcvSsthresh, windowClamp, Self.winFromSpace(rcvBuf)), offered)
        offered = w
        return w
    }
}
