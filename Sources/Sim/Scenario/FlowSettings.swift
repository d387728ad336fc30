import Packets

/// The settings of a flow besides its two ends — `size`, `request_size`, `start`, `connect_timeout`, `hold`,
/// `client`, `source_port`, `steps`, `keepalive`, `server_alive_interval`, `server_alive_count_max` — read from
/// their text by one parser, whether they come from a scenario file or from `vpcsim trace`'s options: the same
/// notations (docs/scenarios.md, value notations), the same limits, the same words when a value is wrong. The
/// scenario loader places a problem at its YAML node, `trace` at its option.
public enum FlowSettings {
    /// A value a flow does not take: the problem as a scenario file states it after the place
    /// ("invalid hold '5x' (expected a duration such as 120s)").
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Bytes (`size`, `request_size`): an integer, or a decimal number with B, KB/kB/MB/GB (SI) or KiB/MiB/GiB;
    /// at most `FlowSpec.maxSize`.
    public static func size(_ text: String, key: String = "size") throws -> Int {
        guard let v = ScenarioValues.size(text) else {
            throw Invalid(message: "invalid \(key) '\(text)' (expected bytes, e.g. 1234, 100KB, 2MB or 1MiB)")
        }
        guard v <= FlowSpec.maxSize else { throw Invalid(message: "\(key) '\(text)' is over \(FlowSpec.maxSizeText)") }
        return v
    }

    /// A duration (`start`, `hold`, `connect_timeout`), nanoseconds: a number with ns, us/µs, ms, s, m or h, or a
    /// bare 0; at most a year (`ScenarioBuilder.maxSpan`). `positive`: 0 is refused too.
    public static func duration(_ text: String, key: String, example: String, positive: Bool = false) throws -> Int64 {
        guard let v = ScenarioValues.duration(text), !positive || v > 0 else {
            throw Invalid(message: "invalid \(key) '\(text)' (expected a duration such as \(example))")
        }
        guard v <= ScenarioBuilder.maxSpan else {
            throw Invalid(message: "\(key) \(quoted(text)) is over \(ScenarioBuilder.maxSpanText)")
        }
        return v
    }

    /// `start`: when the flow starts, from the run's start.
    public static func start(_ text: String) throws -> Int64 {
        try duration(text, key: "start", example: "0s, 1.5s or 250ms")
    }

    /// `hold`: how long the client keeps the connection open, idle, after its conversation.
    public static func hold(_ text: String) throws -> Int64 {
        try duration(text, key: "hold", example: "120s")
    }

    /// `connect_timeout`: the client program's connect timeout (more than 0).
    public static func connectTimeout(_ text: String) throws -> Int64 {
        try duration(text, key: "connect_timeout", example: "20s", positive: true)
    }

    /// `kill_after`: how long after it starts the client program is killed (more than 0).
    public static func killAfter(_ text: String) throws -> Int64 {
        try duration(text, key: "kill_after", example: "75s", positive: true)
    }

    /// `client`: a client program's profile by name (`ClientProfile.all`).
    public static func client(_ text: String) throws -> ClientProfile {
        guard let c = ClientProfile.named(text) else {
            throw Invalid(message: "invalid client '\(text)' (expected \(ClientProfile.all.map(\.name).joined(separator: ", ")))")
        }
        return c
    }

    /// `keepalive`: the client socket's TCP keepalive time (tcp_keepalive_time; more than 0).
    public static func keepalive(_ text: String) throws -> Int64 {
        try duration(text, key: "keepalive", example: "60s", positive: true)
    }

    /// `server_keepalive`: the server socket's TCP keepalive time (more than 0).
    public static func serverKeepalive(_ text: String) throws -> Int64 {
        try duration(text, key: "server_keepalive", example: "400s", positive: true)
    }

    /// `login_grace_time`: sshd's LoginGraceTime (0: no limit, as sshd_config(5) has it).
    public static func loginGraceTime(_ text: String) throws -> Int64 {
        try duration(text, key: "login_grace_time", example: "120s")
    }

    /// `server_alive_interval`: OpenSSH's ServerAliveInterval (more than 0).
    public static func serverAliveInterval(_ text: String) throws -> Int64 {
        try duration(text, key: "server_alive_interval", example: "60s", positive: true)
    }

    /// `server_alive_count_max`: OpenSSH's ServerAliveCountMax, 0-1000.
    public static func serverAliveCountMax(_ text: String) throws -> Int {
        guard let v = Int(text), (0...1000).contains(v) else {
            throw Invalid(message: "invalid server_alive_count_max '\(text)' (expected 0-1000, e.g. 3)")
        }
        return v
    }

    /// One of `steps`: `ls`, `put SIZE`, `get SIZE` or `idle DURATION`.
    public static func step(_ text: String) throws -> SFTPStep {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        let expected = "(expected ls, put SIZE, get SIZE or idle DURATION, e.g. put 1MB or idle 400s)"
        switch (words.first, words.count) {
        case ("ls"?, 1): return .ls
        case ("put"?, 2): return .put(try size(String(words[1]), key: "put size"))
        case ("get"?, 2): return .get(try size(String(words[1]), key: "get size"))
        case ("idle"?, 2):
            return .idle(try duration(String(words[1]), key: "idle", example: "400s", positive: true))
        default: throw Invalid(message: "invalid step '\(text)' \(expected)")
        }
    }

    /// Where a problem of a `steps` list lies, for a reader that places it (the scenario loader: at a node).
    public enum StepsPlace: Sendable { case list, serverAliveInterval }

    /// `steps` whole: each item a `step`, at least one and at most `FlowSpec.maxSteps`, their idles at most a year
    /// in all and, with `serverAliveInterval`, not more than `FlowSpec.maxSteps` × 100 keepalive requests (they
    /// are messages of the conversation, built in memory when the run starts). Returns the steps and their idle.
    /// `vpcsim trace --steps` reads its list here.
    public static func steps(_ items: [String], serverAliveInterval: Int64?) throws -> (steps: [SFTPStep], idle: Int64) {
        try steps(count: items.count, item: { try step(items[$0]) }, serverAliveInterval: serverAliveInterval,
                  problem: { _, message in Invalid(message: message) })
    }

    /// The same checks for a list read item by item: `item(i)` reads the i-th step (its own problems are its to
    /// place), `problem` makes the error for a problem of the list or of `serverAliveInterval`, and the idle steps'
    /// sum is checked after each (so the scenario loader places that problem at the step that goes over).
    static func steps(count: Int, item: (Int) throws -> SFTPStep, serverAliveInterval: Int64?,
                      problem: (_ place: StepsPlace, _ message: String) -> any Error,
                      idleProblem: ((_ index: Int, _ message: String) -> any Error)? = nil) throws
        -> (steps: [SFTPStep], idle: Int64) {
        guard count > 0 else { throw problem(.list, "steps is empty (expected e.g. [ls, idle 400s, put 1MB])") }
        guard count <= FlowSpec.maxSteps else { throw problem(.list, "over \(FlowSpec.maxSteps) steps") }
        let steps = try (0..<count).map(item)
        var idle: Int64 = 0
        for (i, step) in steps.enumerated() {
            guard case .idle(let d) = step else { continue }
            idle += d
            guard idle <= ScenarioBuilder.maxSpan else {
                let message = "the idle steps add up to over \(ScenarioBuilder.maxSpanText)"
                throw idleProblem?(i, message) ?? problem(.list, message)
            }
            if let interval = serverAliveInterval, idle / interval > Int64(FlowSpec.maxSteps) * 100 {
                throw problem(.serverAliveInterval, "server_alive_interval \(formatDuration(interval)) over "
                              + "\(formatDuration(idle)) of idle steps sends over \(FlowSpec.maxSteps * 100) keepalive requests")
            }
        }
        return (steps, idle)
    }

    /// `count`: a datagram flow's datagrams (udp) or echo requests (ping), 1-10000.
    public static func count(_ text: String) throws -> Int {
        guard let v = Int(text), (1...10_000).contains(v) else {
            throw Invalid(message: "invalid count '\(text)' (expected 1-10000, e.g. 4)")
        }
        return v
    }

    /// `reply_timeout`: how long a datagram flow's client waits for replies after its last datagram (more than 0).
    public static func replyTimeout(_ text: String) throws -> Int64 {
        try duration(text, key: "reply_timeout", example: "5s", positive: true)
    }

    /// `pmtudisc`: how a datagram flow's socket sets DF: want, do or dont (ping -M).
    public static func pmtuDiscovery(_ text: String) throws -> PMTUDiscovery {
        guard let v = PMTUDiscovery(rawValue: text) else {
            throw Invalid(message: "invalid pmtudisc '\(text)' (expected want, do or dont, as ping -M)")
        }
        return v
    }

    /// A datagram flow's `size` or `reply_size`: bytes of data, at most 65507 (what an IPv4 datagram carries
    /// after its IP and UDP or ICMP headers).
    public static func datagramSize(_ v: Int, key: String) throws {
        guard v <= FlowSpec.maxDatagramData else {
            throw Invalid(message: "\(key) \(v) is over \(FlowSpec.maxDatagramData), the most data an IPv4 datagram carries")
        }
    }

    /// `source_port`: a fixed client port, 1-65535.
    public static func sourcePort(_ text: String) throws -> UInt16 {
        guard let v = UInt16(text), v >= 1 else { throw Invalid(message: "invalid source_port '\(text)' (expected 1-65535)") }
        return v
    }
}
