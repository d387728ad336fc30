import Packets
import Yams

/// The times a run may take: every packet's timestamp is `start_time` plus virtual time, and the per-point pcaps
/// (classic pcap) hold seconds since 1970 in 32 bits, which libpcap reads as signed (Wireshark as unsigned), so a
/// run must start and end between 1970-01-01T00:00:00Z and 2038-01-19T03:14:07Z for every reader to see its times.
/// A time outside would wrap in the file or in a reader, or overflow the nanosecond clock (which ends in 2262)
/// during the run; both are refused when the scenario loads.
extension ScenarioBuilder {
    /// The first second classic pcap cannot hold for every reader: 2^31 seconds after 1970-01-01.
    static let pcapSecondsLimit: Int64 = 1 << 31
    /// The longest a single duration of a scenario may be (a flow's start, hold or connect timeout, a generator's
    /// span): a year, far more than any run needs. With the default `start_time` the run then always ends before
    /// 2038 (four such durations add up to four years), so a run too long is always an error at `start_time`.
    static let maxSpan: Int64 = 365 * 86_400 * 1_000_000_000
    static let maxSpanText = "a year (8760h), the longest a duration in a scenario may be"
    /// What the run may still do after its last timer the scenario sets (TCP retransmissions, closes, a NAT
    /// gateway's idle timeout): a day, besides the idle timeout itself.
    static let runMargin: Int64 = 86_400 * 1_000_000_000
    static let pcapRangeText = "classic pcap (the per-point captures) holds seconds since 1970 in 32 bits, which "
        + "libpcap reads as signed: from 1970-01-01T00:00:00Z to 2038-01-19T03:14:07Z"

    /// `start_time`: an RFC 3339 time within the range classic pcap can hold.
    func readStartTime(_ n: Node) throws -> Int64 {
        let s = try r.string(n, key: "start_time")
        guard let (seconds, nanos) = ScenarioValues.timestampParts(s) else {
            throw r.error(at: n, "invalid start_time \(quoted(s)) (expected an RFC 3339 time such as 2026-11-26T09:00:00Z)")
        }
        guard seconds >= 0, seconds < Self.pcapSecondsLimit else {
            throw r.error(at: n, "start_time \(quoted(s)) is out of range: \(Self.pcapRangeText)")
        }
        return seconds * 1_000_000_000 + nanos
    }

    /// A duration read from `n` is at most `maxSpan`.
    func checkSpan(_ v: Int64, _ n: Node, key: String, text: String) throws {
        guard v <= Self.maxSpan else { throw r.error(at: n, "\(key) \(quoted(text)) is over \(Self.maxSpanText)") }
    }

    /// The latest virtual time the run may reach: the latest start of a flow plus its hold, its idle steps, the
    /// client's and Lambda's timeouts, the NAT gateways' idle timeout and `runMargin`. Every term is bounded by the
    /// loader (`maxSpan`, Lambda timeouts of at most 900 s, idle timeouts of at most a day), so the sum cannot
    /// overflow.
    static func latestTime(flows: [FlowSpec], generators: [FlowGenerator], model: VPCModel, assumptions: Assumptions) -> Int64 {
        let lambdaTimeout = model.lambdas.map(\.timeout).max() ?? 0
        func end(_ spec: FlowSpec, start: Int64) -> Int64 {
            let client = max(spec.client.readyTimeout ?? 0, spec.client.connectTimeout ?? 0, spec.client.bannerTimeout ?? 0,
                             spec.client.killAfter ?? 0)
            return start + spec.hold + spec.idle + client
        }
        var latest: Int64 = 0
        for f in flows { latest = max(latest, end(f, start: f.start)) }
        for g in generators { latest = max(latest, end(g.template, start: g.start + g.over)) }
        return latest + lambdaTimeout + assumptions.natIdleTimeout + runMargin
    }

    /// The run's last possible second is within classic pcap's range; else an error at `start_time` (without one,
    /// the default start and `maxSpan` keep it in range; the top of the file, should they change).
    func checkTimeRange(startTime: Int64, startNode: Node?, latest: Int64) throws {
        let end = startTime + latest
        guard end / 1_000_000_000 >= Self.pcapSecondsLimit else { return }
        let endText = ScenarioValues.rfc3339(seconds: end / 1_000_000_000)
        let message = "the run may last until \(endText) (its latest flow start, hold and timeouts, and a day for "
            + "the connections to close), after 2038-01-19T03:14:07Z: \(Self.pcapRangeText)"
        if let startNode {
            let text = (try? r.string(startNode, key: "start_time")) ?? ""
            throw r.error(at: startNode, "start_time \(quoted(text)): \(message)")
        }
        throw ScenarioError(file: r.file, line: 1, column: 1, message: message)
    }
}
