import Packets

/// A socket's TCP keepalive (SO_KEEPALIVE), off unless the application sets it (Linux's default for every
/// socket). The values are the kernel's sysctls (Documentation/networking/ip-sysctl.rst): tcp_keepalive_time
/// (7200 s by default; a program or sysctl sets it lower), tcp_keepalive_intvl 75 s, tcp_keepalive_probes 9.
/// The timer itself runs in `TCPConnection` (tcp_keepalive_timer, net/ipv4/tcp_timer.c).
final class TCPKeepalive {
    /// Idle time before the first probe (tcp_keepalive_time), nanoseconds.
    let time: Int64
    /// Between unanswered probes (tcp_keepalive_intvl), nanoseconds.
    let interval: Int64
    /// Unanswered probes before the connection is given up (tcp_keepalive_probes).
    let probes: Int32
    /// Probes sent since the peer last acknowledged anything (icsk_probes_out).
    var probesOut: Int32 = 0
    /// When a segment last arrived (keepalive_time_elapsed: icsk_ack.lrcvtime, rcv_tstamp).
    var lastHeard: Int64 = 0
    var timer: Scheduler.Handle?

    static let linuxInterval: Int64 = 75_000_000_000
    static let linuxProbes = 9

    init(time: Int64, interval: Int64 = linuxInterval, probes: Int = linuxProbes) {
        self.time = time
        self.interval = interval
        self.probes = Int32(clamping: probes)
    }

    /// A segment arrived at `now`: an ACK answers the probes (tcp_ack clears icsk_probes_out).
    @inline(__always)
    func heard(_ t: TCPHeader, at now: Int64) {
        lastHeard = now
        if t.flags.contains(.ack) { probesOut = 0 }
    }

    /// Whether `t` is a keepalive probe: a bare ACK with no data one byte before what this end expects, while
    /// everything received has been acknowledged (so it is old, not merely ahead of a delayed ACK).
    @inline(__always)
    static func isProbe(_ t: TCPHeader, payload: Int, rcvNxt: UInt32, rcvWup: UInt32) -> Bool {
        payload == 0 && t.flags == .ack && rcvWup == rcvNxt && t.sequenceNumber == rcvNxt &- 1
    }
}
