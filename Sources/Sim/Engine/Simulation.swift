import Packets

/// What happened to one flow.
public struct FlowResult: Sendable {
    public var index: Int
    public var outcome: FlowOutcome?
    /// From the flow's start to its outcome, nanoseconds.
    public var elapsed: Int64 = 0
    public var message: String = ""
    public var drop: DropInfo?
    /// Every distinct (component, rule) that dropped packets of this flow, in order of first drop.
    public var drops: [DropInfo] = []
    /// The path of the first packet each way (the client's first SYN, the server's first SYN-ACK).
    public var requestPath: [Step] = []
    /// When the packet `requestPath` follows was a fragment: which ("fragment (offset 0, MF)").
    public var requestPathFragment: String?
    public var replyPath: [Step] = []
    /// When the client sent its SYNs, relative to the flow's start: explicit flows only (a generated flow's
    /// connection does not keep them: `TCPConnection.traces` is off; `TCPConnection.synsSent` counts them).
    public var synTimes: [Int64] = []
    public var clientPort: UInt16 = 0
    public var ready = false
    /// The Hyperplane ENI a Lambda flow used (index into the model's ENIs); nil for other sources.
    public var sourceENI: Int?
    /// A flow over IPv6: each address the client tried and when (from the flow's start), and which attempt won
    /// ("IPv6 2001:db8::22 port 22 tried at the start", "IPv4 connected first at 270 ms; the IPv6 attempt
    /// abandoned"). Empty for a flow over IPv4 alone. The first is written when read: every IPv6 flow of a fleet
    /// has one, and few are read.
    public var attempts: [String] {
        (startedOverIPv6.map { s in
            let synthesized = s.dns64 ? VPCNetwork.nat64Embedded(s.address).map { " (AAAA synthesized by DNS64 from \($0))" } : nil
            return ["IPv6 \(s.address) port \(s.port) tried at the start" + (synthesized ?? "")]
        } ?? []) + laterAttempts
    }
    /// The IPv6 address and port the flow started with (`attempts`' first).
    var startedOverIPv6: IPv6Start?
    /// `attempts` after the first.
    var laterAttempts: [String] = []

    struct IPv6Start: Sendable {
        var address: IPv4Address
        var port: UInt16
        /// The address is the AAAA DNS64 synthesized (64:ff9b::<IPv4>).
        var dns64: Bool
    }

    /// The drop a flow is known by: the first, unless it is a packet too big for a link (`path-mtu`) and
    /// something else dropped too — then the ICMP that would have reported it, dropped later, is what a rule
    /// change can fix (a path MTU black hole).
    static func primary(_ drops: [DropInfo]) -> DropInfo? {
        guard let first = drops.first, first.kind == "path-mtu" else { return drops.first }
        return drops.first { $0.kind != "path-mtu" } ?? first
    }

    /// The path MTU black hole, named: "path MTU 1400 < packet 1500 bytes; the ICMP that would report it was
    /// dropped at acl-… (public) inbound: * DENY all 0.0.0.0/0"; nil unless a packet was too big for a link and
    /// an ICMP of this flow was dropped.
    public var blackHole: String? {
        guard let big = drops.first(where: { $0.kind == "path-mtu" }) else { return nil }
        let size = big.rule.split(separator: ";").first.map(String.init) ?? big.rule
        guard let icmp = drops.first(where: { $0.key.proto == .icmp && $0.kind != "path-mtu" }) else { return nil }
        return "\(size); the ICMP that would report it was dropped at \(icmp.componentDisplay)"
            + (icmp.direction.map { " \($0)" } ?? "") + ": \(icmp.rule)"
    }
}

/// A flow in progress: its spec, its result so far, and its client's bookkeeping: it observes the client's
/// conversation and runs the client program's and the Lambda's timers (`fire(tag:)`, no closure per flow).
final class ActiveFlow: ConversationObserver, ScheduledTarget {
    /// The flow's spec but its start: shared by a generator's flows (a copy a flow would retain and release
    /// every string and array of it).
    let template: FlowTemplate
    /// The flow's start, nanoseconds (`template.spec.start` is the template's).
    let start: Int64
    var result: FlowResult
    let index: Int
    let sim: Borrowed<Simulation>
    /// Endpoints live as long as the simulation.
    let host: Borrowed<HostEndpoint>
    let port: UInt16
    let script: ConversationScript
    /// The client's connection, until it ends (it holds this flow through its application: letting go breaks
    /// the cycle).
    var conn: TCPConnection?
    var bannerReceived = false
    var established = false
    /// The client program's and Lambda's timers, cancelled when the flow ends (so a finished flow keeps
    /// nothing alive until its Lambda timeout would have fired).
    var readyTimer: Scheduler.Handle?
    var connectTimer: Scheduler.Handle?
    var lambdaTimer: Scheduler.Handle?
    /// OpenSSH's ServerAliveInterval: when ssh(1) gives up on a silent server (`serverAliveDeadline`).
    var serverAliveTimer: Scheduler.Handle?
    /// A datagram flow's client (`udp`, `ping`), in place of a connection.
    var datagram: DatagramClient?
    /// `kill_after`: timeout(1) ends the client program.
    var killTimer: Scheduler.Handle?
    /// Happy Eyeballs: the other connection attempt while both race (`conn` is the IPv6 one until one of them
    /// connects), and the timer that starts the IPv4 one.
    var racing: TCPConnection?
    var happyEyeballsTimer: Scheduler.Handle?

    /// Timer tags.
    enum Timer: Int, CaseIterable { case ready, connect, lambda, banner, serverAlive, kill, happyEyeballs }

    /// Cancels the client program's and the Lambda's timers (the flow has its outcome).
    func cancelTimers(_ scheduler: Scheduler) {
        if let t = readyTimer { scheduler.cancel(t) }
        if let t = connectTimer { scheduler.cancel(t) }
        if let t = lambdaTimer { scheduler.cancel(t) }
        if let t = serverAliveTimer { scheduler.cancel(t) }
        if let t = killTimer { scheduler.cancel(t) }
        if let t = happyEyeballsTimer { scheduler.cancel(t) }
        happyEyeballsTimer = nil
        if let r = racing {
            racing = nil
            if r.state == .synSent { r.abort(sendReset: false) }
        }
        serverAliveTimer = nil
        killTimer = nil
        readyTimer = nil
        connectTimer = nil
        lambdaTimer = nil
        datagram?.stop()
        datagram = nil
    }

    init(template: FlowTemplate, start: Int64, index: Int, sim: Simulation, host: HostEndpoint, port: UInt16,
         script: ConversationScript) {
        self.template = template
        self.start = start
        result = FlowResult(index: index)
        self.index = index
        self.sim = Borrowed(sim)
        self.host = Borrowed(host)
        self.port = port
        self.script = script
    }

    func established(_ e: ConversationEndpoint) {
        if let r = racing { settleRace(e, r) }
        established = true
        // Read in place (a copy of the spec would retain its strings).
        if !template.spec.app.isSSH { result.ready = true }
        if let t = template.spec.client.bannerTimeout, template.spec.app.isSSH {
            host { $0.schedule(at: $0.now + t, target: self, tag: Timer.banner.rawValue) }
        }
    }

    /// ServerAliveInterval (clientloop.c, from the session's start: authentication done): every interval of silence from the server ssh(1) sends a
    /// keepalive@openssh.com request (scripted in the conversation's idle steps); any packet from the server
    /// resets the count, and the check that finds ServerAliveCountMax requests unanswered ends the session
    /// ("Timeout, server … not responding."): count_max + 1 intervals after the server's last message.
    private func armServerAlive() {
        guard let interval = template.spec.serverAliveInterval, result.outcome == nil else { return }
        let wait = interval * Int64(template.spec.serverAliveCountMax + 1)
        host { h in
            if let t = serverAliveTimer { h.cancel(t) }
            serverAliveTimer = h.schedule(at: h.now + wait, target: self, tag: Timer.serverAlive.rawValue)
        }
    }

    func peerMessage(_ e: ConversationEndpoint, index: Int) {
        if script.isBanner[index] { bannerReceived = true }
        if template.spec.app.isSSH, script.isUserAuthSuccess[index] { result.ready = true }
        if result.ready { armServerAlive() }
    }

    func ended(_ e: ConversationEndpoint, _ c: TCPConnection, _ reason: TCPCloseReason) {
        host { $0.usedPorts.remove(c.local.port) }
        if raceGoesOn(c, reason) { return }
        conn = nil
        let start = start
        result.synTimes = c.synSentTimes.map { $0 - start }
        let i = index
        switch reason {
        case .closed where e.complete: sim { $0.finish(i, .ok, "completed") }
        case .closed: sim { $0.finish(i, .reset, "connection closed by the peer before the conversation ended") }
        case .connectTimeout: sim { $0.finish(i, .timeout, "connect ETIMEDOUT (the OS gave up after \(c.synsSent) SYNs)") }
        case .refused: sim { $0.finish(i, .refused, "connect ECONNREFUSED") }
        case .reset: sim { $0.finish(i, .reset, "read ECONNRESET") }
        case .retransmitTimeout: sim { $0.finish(i, .timeout, "write ETIMEDOUT (retransmissions exhausted)") }
        case .keepaliveTimeout: sim { $0.finish(i, .timeout, "read ETIMEDOUT (TCP keepalive probes unanswered)") }
        case .aborted: break
        }
    }

    func fire(tag: Int) {
        let f = template.spec
        switch Timer(rawValue: tag) {
        case .ready:
            readyTimer = nil
            guard result.outcome == nil, !result.ready, let t = f.client.readyTimeout else { return }
            giveUp("readyTimeout \(formatDuration(t))")
        case .connect:
            connectTimer = nil
            guard result.outcome == nil, let t = f.client.connectTimeout else { return }
            let done = f.client.connectTimeoutCoversBanner && f.app.isSSH ? bannerReceived : established
            guard !done else { return }
            giveUp("connect timeout \(formatDuration(t))")
        case .lambda:
            lambdaTimer = nil
            guard result.outcome == nil, let conn, case .lambda(let fn, _) = f.source else { return }
            let start = start
            result.synTimes = conn.synSentTimes.map { $0 - start }
            let timeout = sim { $0.scenario.model.lambdas[fn].timeout }
            let secs = Double(timeout) / 1e9
            sim { $0.finish(index, .timeout, "Task timed out after \(format2dp(secs)) seconds (Lambda timeout)") }
            conn.abort(sendReset: conn.state != .synSent)
        case .banner:
            guard result.outcome == nil, !bannerReceived, let t = f.client.bannerTimeout else { return }
            sim { $0.finish(index, .timeout, "\(f.client.timeoutMessage) (\(f.client.name) banner timeout \(formatDuration(t)))") }
            conn?.close()
        case .serverAlive:
            serverAliveTimer = nil
            guard result.outcome == nil, let conn else { return }
            let host = f.destination.label.split(separator: ":").first.map(String.init) ?? "\(f.destination.address)"
            sim { $0.finish(index, .timeout, "Timeout, server \(host) not responding. (ServerAliveInterval "
                            + "\(formatDuration(f.serverAliveInterval ?? 0)), ServerAliveCountMax \(f.serverAliveCountMax))") }
            conn.close()
        case .kill:
            killTimer = nil
            guard result.outcome == nil, let t = f.client.killAfter else { return }
            giveUp("kill_after \(formatDuration(t))", message: "killed (timeout(1))")
        case .happyEyeballs:
            happyEyeballsTimer = nil
            guard result.outcome == nil, !established, let v4 = f.destination.fallback else { return }
            sim { $0.startFallback(self, to: v4) }
        case nil: break
        }
    }

    /// The client program gives up: a socket still connecting is closed without a packet; a connected one is
    /// ended with FIN.
    private func giveUp(_ what: String, message killed: String? = nil) {
        guard let conn else { return }
        let f = template.spec
        let start = start
        result.synTimes = conn.synSentTimes.map { $0 - start }
        // OpenSSH names the stage that timed out: the TCP connect, or the banner exchange after it.
        let message = killed ?? (f.client.name == "openssh" && conn.state == .synSent
            ? "ssh: connect to host \(f.destination.address) port \(f.destination.port): Connection timed out"
            : f.client.timeoutMessage)
        sim { $0.finish(index, .timeout, "\(message) (\(f.client.name) \(what))") }
        if conn.state == .synSent { conn.abort(sendReset: false) } else { conn.close() }
    }
}

/// A flow's spec, shared (by reference) by the flows started from it: a generator's flows have one, with the
/// generator's template (its start is not theirs: `ActiveFlow.start`).
final class FlowTemplate {
    let spec: FlowSpec
    init(_ spec: FlowSpec) { self.spec = spec }
}

/// Starts a generator's flows, one at a time (`fire(tag:)` starts flow `tag` and schedules the next).
final class GeneratorStarter: ScheduledTarget {
    let sim: Borrowed<Simulation>
    let generator: Int
    init(sim: Simulation, generator: Int) {
        self.sim = Borrowed(sim)
        self.generator = generator
    }
    func fire(tag: Int) { sim { $0.startGenerated(generator, tag) } }
}

/// The outcome of a generator's flows, aggregated.
public struct GeneratorResult: Sendable {
    public var index: Int
    public var name: String
    /// Flows that ended, per outcome (the outcomes no flow had are left out).
    public var outcomes: [FlowOutcome: Int] {
        var d: [FlowOutcome: Int] = [:]
        for (k, o) in FlowOutcome.allCases.enumerated() where outcomeCounts[k] > 0 { d[o] = outcomeCounts[k] }
        return d
    }
    /// `outcomes`, counted by the outcome's place in FlowOutcome.allCases (a dictionary hashed every flow's).
    private var outcomeCounts = [Int](repeating: 0, count: FlowOutcome.allCases.count)
    /// Every distinct (component, rule) that dropped packets of these flows.
    public var drops: [DropInfo] = []
    /// A Lambda generator's flows per Hyperplane ENI they used, in order of first use.
    public internal(set) var perENI: [ENITally] = []
    /// The first failed flows, for the report: flow name, start, outcome, message, where it died.
    public var firstFailures: [(name: String, start: Int64, outcome: FlowOutcome, message: String, drop: String?)] = []
    public var maxElapsed: Int64 = 0
    /// The flow index of the generator's first flow (flow k is named "NAME#k+1").
    var firstFlow = 0
    /// The first failed flow a packet drop explains, with its spec (named): what the report's fix is found for.
    public internal(set) var firstDropped: (spec: FlowSpec, result: FlowResult)?
    public var total: Int { outcomeCounts.reduce(0, +) }

    public init(index: Int, name: String) {
        self.index = index
        self.name = name
    }

    /// Counts `active`'s result: a flow that succeeded without a drop (nearly all of a fleet) read in place, where
    /// passing its `FlowResult` copied it out of the flow, retaining its strings and arrays, and released the copy.
    mutating func add(_ active: ActiveFlow, flow: Int, template: FlowTemplate, start: Int64) {
        guard active.result.outcome == .ok, active.result.drops.isEmpty else {
            return add(active.result, flow: flow, template: template, start: start)
        }
        outcomeCounts[FlowOutcome.ok.index] += 1
        maxElapsed = max(maxElapsed, active.result.elapsed)
        if let e = active.result.sourceENI { perENI.add(eni: e, .ok, drop: nil) }
    }

    mutating func add(_ r: FlowResult, flow: Int, template: FlowTemplate, start: Int64) {
        let o = r.outcome ?? .timeout
        outcomeCounts[o.index] += 1
        maxElapsed = max(maxElapsed, r.elapsed)
        if let e = r.sourceENI { perENI.add(eni: e, o, drop: r.drop) }
        for d in r.drops {
            if let k = drops.firstIndex(where: { $0.component == d.component && $0.rule == d.rule && $0.direction == d.direction }) {
                drops[k].count += d.count
            } else {
                drops.append(d)
            }
        }
        if o != .ok, r.drop != nil, firstDropped == nil {
            var named = template.spec
            named.name = flowName(flow)
            named.start = start
            // Re-run from the ENI it used (a spread flow of another name could draw another).
            if let e = r.sourceENI, case .lambda(let fn, _) = named.source {
                named.source = .lambda(fn, eni: e)
                named.spreadOverSubnets = false
            }
            firstDropped = (named, r)
        }
        if o != .ok, firstFailures.count < 20 {
            firstFailures.append((flowName(flow), start, o, r.message,
                                  r.drop.map { "\($0.componentDisplay): \($0.rule)" }))
        }
    }

    /// "NAME#k": named here, for the few flows that fail, rather than for every flow as it starts.
    func flowName(_ flow: Int) -> String { "\(name)#\(flow - firstFlow + 1)" }
}

/// A stack profile that a host's connections share (one object, where a copy in each connection retained the
/// profile's name and SYN delays for every connection).
final class SharedStack {
    let profile: StackProfile
    init(_ profile: StackProfile) { self.profile = profile }
}

/// One host's TCP endpoints: a Lambda Hyperplane ENI, an instance's ENI, or an outside host. It gives its
/// connections what they need from the world: the time, a way to send, timers.
final class HostEndpoint {
    enum Kind { case eni(Int), outside(Int) }
    let kind: Kind
    let address: IPv4Address
    /// The host's IPv6 address, as its token (`IPv6Token`); nil for a host without one.
    var address6: IPv4Address?
    let sim: Borrowed<Simulation>
    /// The simulation's (held: neither holds a host, so there is no cycle).
    let scheduler: Scheduler
    let network: VPCNetwork
    let connections = HashTable<ConnectionKey, TCPConnection>()
    var usedPorts = PortSet()
    /// Datagram flows' clients here (`DatagramClient`), by local port (a ping's: its echo identifier), remote
    /// address and port (0 for ping).
    let datagrams = HashTable<ConnectionKey, DatagramClient>()
    /// The path MTUs ICMP errors reported for the addresses this host answers datagrams to (Linux keeps them as
    /// route exceptions, which every socket to that address uses: an echo reply, a UDP server's reply). Empty
    /// unless a "fragmentation needed" or Packet Too Big came.
    var routeMTU: [IPv4Address: Int] = [:]
    /// The IP identification of the datagrams this host answers with.
    private var answerID: UInt16 = 0
    func nextIPID() -> UInt16 {
        answerID &+= 1
        return answerID
    }

    struct ConnectionKey: TableKey {
        var localPort: UInt16
        var remote: IPv4Address
        var remotePort: UInt16
        var tableHash: UInt64 { UInt64(remote.rawValue) << 32 | UInt64(localPort) << 16 | UInt64(remotePort) }
    }

    /// A connection that ended (its application tells): it leaves the host's table.
    func ended(_ c: TCPConnection) { connections[ConnectionKey(c)] = nil }

    init(kind: Kind, address: IPv4Address, sim: Simulation) {
        self.kind = kind
        self.address = address
        self.sim = Borrowed(sim)
        scheduler = sim.scheduler
        network = sim.network
    }

    var now: Int64 { scheduler.now }

    /// The address this host sends from to `remote`: its IPv6 one to an IPv6 address (a token), else its IPv4 one.
    @inline(__always)
    func localAddress(toward remote: IPv4Address) -> IPv4Address {
        remote.isIPv6Token ? address6 ?? address : address
    }

    /// Sends `packet`; `queued`: how long it waits at its path's bottleneck before its first hop
    /// (`TCPConnection.pathRate`).
    func send(_ packet: consuming SimPacket, queued: Int64 = 0) {
        let id = sim { $0.nextPacketID() }
        switch kind {
        case .eni(let e): network.send(fromENI: e, packet, id: id, queued: queued)
        case .outside(let h): network.send(fromHost: h, packet, id: id, queued: queued)
        }
    }

    @discardableResult
    func schedule(at time: Int64, target: ScheduledTarget, tag: Int) -> Scheduler.Handle {
        scheduler.schedule(at: time, target: target, tag: tag)
    }

    /// `target.fire(tag:)` `delay` from now (in the scheduler's lane for that delay).
    @discardableResult
    func schedule(after delay: Int64, target: ScheduledTarget, tag: Int) -> Scheduler.Handle {
        scheduler.schedule(after: delay, target: target, tag: tag)
    }

    func cancel(_ handle: Scheduler.Handle) { scheduler.cancel(handle) }
}

extension HostEndpoint.ConnectionKey {
    /// `c`'s key in its host's table.
    init(_ c: TCPConnection) { self.init(localPort: c.local.port, remote: c.remote.address, remotePort: c.remote.port) }
}

/// Runs a scenario: builds the network and the endpoints, starts every flow at its time, runs the scheduler,
/// and collects results. Outputs go to the observer (captures, traces) — the simulation writes no files.
public final class Simulation {
    public let scenario: Scenario
    public let scheduler = Scheduler()
    public let network: VPCNetwork
    var rng: SplitMix64
    /// Each ENI's endpoint, made when first used.
    private var enis: [HostEndpoint?]
    private var hosts: [HostEndpoint] = []
    /// `enis` and `hosts`, borrowed (they own them), for each packet delivered.
    private var eniRefs: [Borrowed<HostEndpoint>?]
    private var hostRefs: [Borrowed<HostEndpoint>] = []
    /// Results of the scenario's explicit flows, in order.
    public internal(set) var results: [FlowResult]
    /// Results of generated flows, aggregated per generator: memory follows active flows, not their number.
    public internal(set) var generatorResults: [GeneratorResult] = []
    private var packetCounter = 0
    private var conversations: [ConversationScript] = []
    /// Flows in progress (explicit and generated), by flow index.
    private let active = HashTable<Int, ActiveFlow>()
    /// Generated flows have indices from generatorBase[g] on.
    private var generatorBase: [Int] = []
    private var generatorConversation: [ConversationScript] = []
    /// Each generator's template (without `expect`: a generated flow's outcome is its generator's).
    private var generatorTemplates: [FlowTemplate] = []
    private var generatorStarters: [GeneratorStarter] = []
    private var generatorStarts: [[Int64]] = []
    /// Which ENI each invocation of a Lambda function in several subnets uses, and the invocations' identities:
    /// each explicit flow's, each generator's (its flow k's is derived from it).
    private let spread: LambdaSpread
    private var flowInvocations: [UInt64] = []
    private var generatorInvocations: [UInt64] = []
    /// Per generator, scheduler lanes for its flows' readyTimeout, connect timeout and Lambda timeout: each
    /// is the flow's start plus a constant, and flows start in order.
    private var timerLanes: [[Int]] = []
    public private(set) var flowsStarted = 0
    public var activeFlows: Int { active.count }
    /// Connections the endpoints still hold.
    var openConnections: Int { endpoints.reduce(0) { $0 + $1.connections.count } }
    /// Every host's endpoints: outside hosts and the ENIs used so far.
    private var endpoints: [HostEndpoint] { hosts + enis.compactMap { $0 } }
    /// Told of every TCP connection created (tests check that finished ones are freed).
    var connectionCreated: ((TCPConnection) -> Void)?
    /// Called now and then with the virtual time, for progress reports (not part of any output).
    public var onProgress: ((Simulation) -> Void)?
    /// Extra observers of flow completion (the recorder).
    public var observer: NetworkObserver? {
        didSet { network.observer = observer }
    }

    public init(scenario: Scenario) {
        self.scenario = scenario
        instanceStacks = scenario.model.instances.map { SharedStack($0.stack) }
        lambdaStack = SharedStack(StackProfile.linux.withMTU(scenario.assumptions.lambdaMTU))
        hostStacks = scenario.model.outsideHosts.map { SharedStack($0.stack) }
        rng = SplitMix64(seed: scenario.seed)
        spread = LambdaSpread(model: scenario.model, rule: scenario.assumptions.lambdaSubnetSpread, seed: scenario.seed)
        flowInvocations = scenario.flows.map { LambdaSpread.invocation(flow: $0.name) }
        generatorInvocations = scenario.generators.map { LambdaSpread.invocation(generator: $0.name) }
        network = VPCNetwork(model: scenario.model, assumptions: scenario.assumptions, scheduler: scheduler,
                             seed: scenario.seed)
        results = scenario.flows.indices.map { FlowResult(index: $0) }
        enis = Array(repeating: nil, count: scenario.model.enis.count)
        eniRefs = Array(repeating: nil, count: scenario.model.enis.count)
        for (i, h) in scenario.model.outsideHosts.enumerated() {
            hosts.append(HostEndpoint(kind: .outside(i), address: h.address, sim: self))
            hosts[i].address6 = h.ipv6Address.map(IPv6Token.intern)
            hostRefs.append(Borrowed(hosts[i]))
        }
        network.fusesFlowsFrom = scenario.flows.count  // generated flows: no ladder, no traced path
        network.simulation = Borrowed(self)
        // Each flow's conversation is drawn from its own seeded stream, so adding a flow changes no other.
        for (i, f) in scenario.flows.enumerated() {
            var r = SplitMix64(seed: scenario.seed &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15)
            conversations.append(ConversationScript(Simulation.conversation(for: f, rng: &r)))
        }
        // A generator's flows share one conversation (the same message sizes; the bytes are random anyway).
        var base = scenario.flows.count
        generatorResults = []
        for (g, gen) in scenario.generators.enumerated() {
            generatorBase.append(base)
            base += gen.count
            var r = SplitMix64(seed: scenario.seed &+ 0x6E6E_0000 &+ UInt64(g))
            generatorConversation.append(ConversationScript(Simulation.conversation(for: gen.template, rng: &r)))
            var template = gen.template
            template.expect = nil
            generatorTemplates.append(FlowTemplate(template))
            generatorResults.append(GeneratorResult(index: g, name: gen.name))
            generatorResults[g].firstFlow = generatorBase[g]
        }
    }

    deinit {
        // Connections still open when the run ended hold their applications, which hold them back.
        for h in endpoints {
            h.connections.forEach { _, c in c.app = nil }
        }
    }

    /// The generator a flow index belongs to, if it is a generated flow.
    func generator(of flow: Int) -> Int? {
        guard flow >= scenario.flows.count else { return nil }
        var g = generatorBase.count - 1
        while g > 0, generatorBase[g] > flow { g -= 1 }
        return g >= 0 ? g : nil
    }

    func conversation(of flow: Int) -> ConversationScript {
        if flow >= 0, flow < conversations.count { return conversations[flow] }
        if let g = generator(of: flow) { return generatorConversation[g] }
        return .empty
    }

    /// Reads the spec of a flow in progress or of an explicit one, in place (a FlowSpec copy retains its strings).
    /// A generated flow's is its generator's template: its `start` is not the flow's (`flowStart`).
    func withSpec<T>(of flow: Int, _ body: (FlowSpec) -> T) -> T? {
        if let i = active.find(flow) { return body(active.value(at: i).pointee.template.spec) }
        return flow >= 0 && flow < scenario.flows.count ? body(scenario.flows[flow]) : nil
    }

    /// When a flow started (for relative times in reports).
    func flowStart(_ flow: Int) -> Int64 {
        if let i = active.find(flow) { return active.value(at: i).pointee.start }
        return flow >= 0 && flow < scenario.flows.count ? scenario.flows[flow].start : 0
    }

    /// A dropped packet of `flow`, recorded on its result or its generator's.
    func noteDrop(flow: Int, _ make: (inout [DropInfo]) -> Void) {
        if let a = active[flow] {
            make(&a.result.drops)
            a.result.drop = FlowResult.primary(a.result.drops)
        } else if flow >= 0, flow < results.count {
            make(&results[flow].drops)
            results[flow].drop = FlowResult.primary(results[flow].drops)
        } else if let g = generator(of: flow) {
            make(&generatorResults[g].drops)
        }
    }

    func noteTrace(flow: Int, fromClient: Bool, _ trace: [Step], fragment: String? = nil) {
        func note(_ r: inout FlowResult) {
            if fromClient, r.requestPath.isEmpty {
                r.requestPath = trace
                r.requestPathFragment = fragment
            }
            if !fromClient, r.replyPath.isEmpty { r.replyPath = trace }
        }
        guard let a = active[flow] else {
            guard flow >= 0, flow < results.count else { return }
            note(&results[flow])
            return
        }
        note(&a.result)
    }

    static func conversation(for f: FlowSpec, rng: inout SplitMix64) -> [AppMessage] {
        switch f.app {
        case .sftp:
            var m = f.steps.map { SSHConversation.sftpSession(steps: $0, serverAlive: f.serverAliveInterval, rng: &rng) }
                ?? SSHConversation.sftpUpload(fileSize: f.size, rng: &rng)
            // sshd sets TCP_NODELAY when it starts the subsystem, an OpenSSH client when it requests it
            // (packet.c ssh_packet_set_interactive); before that Nagle applies.
            if let k = m.firstIndex(where: { $0.from == .server && $0.label.contains("CHANNEL_SUCCESS") }) {
                m[k].noDelayAfter = true
            }
            if let k = m.firstIndex(where: { $0.from == .client && $0.label.contains("subsystem") }) {
                m[k].noDelayAfter = true
            }
            return m
        case .https:
            return TLSConversation.https(serverName: f.destination.label.split(separator: ":").first.map(String.init)
                                             ?? f.destination.address.description,
                                         requestSize: f.requestSize, responseSize: f.size, rng: &rng)
        case .tcp: return PlainTCPConversation.echo(size: f.size, rng: &rng)
        case .http:
            return PlainHTTPConversation.messages(host: "\(f.destination.address):\(f.destination.port)", bodySize: f.size)
        case .sftpList: return OpenSSHListConversation.messages(rng: &rng)
        case .udp, .ping: return []  // datagrams (`DatagramClient`), no conversation
        }
    }

    /// A packet arrives at an ENI's host, or at an outside host (`VPCNetwork.simulation`); lent (inout: by address,
    /// not copied; not changed). The endpoint is borrowed (reading it from `enis` or `hosts` retained and released
    /// it for every packet).
    func deliver(_ p: inout SimPacket, toENI eni: Int) {
        if let e = eniRefs[eni] { e { $0.receive(&p, sim: self) } } else { endpoint(eni: eni).receive(&p, sim: self) }
    }
    func deliver(_ p: inout SimPacket, toHost h: Int) {
        let host = hostRefs[h]
        host { $0.receive(&p, sim: self) }
    }

    func nextPacketID() -> Int {
        packetCounter += 1
        return packetCounter
    }

    func endpoint(eni: Int) -> HostEndpoint {
        if let e = enis[eni] { return e }  // enis is as long as the model's ENIs
        let e = HostEndpoint(kind: .eni(eni), address: scenario.model.enis[eni].privateIP, sim: self)
        e.address6 = scenario.model.enis[eni].ipv6Address.map(IPv6Token.intern)
        enis[eni] = e
        eniRefs[eni] = Borrowed(e)
        return e
    }

    /// Runs every flow to its end. Returns the results, in flow order.
    @discardableResult
    public func run() -> [FlowResult] {
        for (i, f) in scenario.flows.enumerated() {
            let template = FlowTemplate(f)
            let start = f.start
            scheduler.schedule(at: start) { [unowned(unsafe) self] in
                self.startFlow(i, template: template, start: start, conversation: self.conversations[i])
            }
        }
        for (g, gen) in scenario.generators.enumerated() {
            // A lane per kind of timer (`timer(_:_:at:)` indexes them by kind).
            timerLanes.append(ActiveFlow.Timer.allCases.map { _ in scheduler.makeLane() })
            generatorStarts.append(gen.startTimes(seed: scenario.seed, index: g))
            generatorStarters.append(GeneratorStarter(sim: self, generator: g))
            scheduleGenerated(g, 0)
        }
        if let onProgress {
            scheduler.run(progressEvery: 1 << 16) { onProgress(self) }
        } else {
            scheduler.run()
        }
        network.runAllDeferredDepartures()
        var left: [Int] = []
        active.forEach { i, _ in left.append(i) }
        for i in left.sorted() {
            // Nothing left to happen and the client never finished: it waits forever.
            finish(i, .timeout, "no reply and no timer left (the client would wait for ever)")
        }
        return results
    }

    func sourceEndpoint(_ source: FlowSource, interface: Int? = nil) -> (HostEndpoint, SharedStack, ClosedRange<UInt16>) {
        // The model read in place (`scenario.model.…`): a copy of it, or of an instance or host, would retain
        // their arrays and strings for every flow.
        switch source {
        case .lambda(_, let eni):
            return (endpoint(eni: eni), lambdaStack, scenario.assumptions.lambdaEphemeralPorts)
        case .instance(let k):
            return (endpoint(eni: interface ?? scenario.model.instances[k].eni), instanceStacks[k],
                    scenario.model.instances[k].stack.ephemeralPorts)
        case .outsideHost(let h):
            return (hosts[h], hostStacks[h], scenario.model.outsideHosts[h].stack.ephemeralPorts)
        }
    }

    /// The stacks connections share: Lambda's (Linux), each instance's, each outside host's (made with the
    /// simulation: read at every accept and reset, where `lazy` checked each time).
    let lambdaStack: SharedStack
    /// The AWS services behind interface endpoints (Linux).
    let serviceStack = SharedStack(.linux)
    let instanceStacks: [SharedStack]
    let hostStacks: [SharedStack]

    /// Schedules generated flow `k` of generator `g`: one pending event per generator.
    private func scheduleGenerated(_ g: Int, _ k: Int) {
        guard k < generatorStarts[g].count else {
            generatorStarts[g] = []
            return
        }
        scheduler.schedule(at: generatorStarts[g][k], target: generatorStarters[g], tag: k)
    }

    /// Starts generated flow `k` of generator `g` and schedules the next.
    fileprivate func startGenerated(_ g: Int, _ k: Int) {
        startFlow(generatorBase[g] + k, template: generatorTemplates[g], start: generatorStarts[g][k],
                  conversation: generatorConversation[g])
        scheduleGenerated(g, k + 1)
    }

    /// Starts flow `i` from `template`'s spec at `start`. The spec is read in place (a copy would retain and
    /// release every string of it, for every flow).
    private func startFlow(_ i: Int, template: FlowTemplate, start: Int64, conversation: ConversationScript) {
        var source = template.spec.source
        if template.spec.spreadOverSubnets, case .lambda(let fn, _) = source {
            let invocation = i < flowInvocations.count ? flowInvocations[i]
                : generator(of: i).map { LambdaSpread.invocation(generator: generatorInvocations[$0], k: i - generatorBase[$0]) } ?? 0
            source = .lambda(fn, eni: spread.eni(function: fn, invocation: invocation))
        }
        var sourceENI: Int?
        if case .lambda(_, let e) = source { sourceENI = e }
        let (host, stack, ports) = sourceEndpoint(source, interface: template.spec.sourceInterface)
        flowsStarted += 1
        if let why = template.spec.destination.notModeled {
            // The destination's name leads outside the model (`FlowDestination.notModeled`): nothing is sent.
            let flow = ActiveFlow(template: template, start: start, index: i, sim: self, host: host, port: 0,
                                  script: conversation)
            flow.result.sourceENI = sourceENI
            active[i] = flow
            finish(i, .notModeled, why)
            return
        }
        var remote = template.spec.destination.address
        if let e = template.spec.destination.interfaceEndpoint, let s = sourceENI {
            // Private DNS answers with the endpoint ENI in the invocation's AZ.
            let m = scenario.model
            if let eni = m.vpcEndpoints[e].eni(forZone: m.subnets[m.enis[s].subnet].availabilityZone, m) {
                // Over IPv6 the AAAA record of that ENI (a dual-stack endpoint).
                remote = remote.isIPv6Token ? m.enis[eni].ipv6Address.map(IPv6Token.intern) ?? remote : m.enis[eni].privateIP
            }
        }
        // A source port in use by another of the host's connections is never taken: the connection would replace
        // the other one at the host. Linux fails the call at once and sends nothing: bind() with EADDRINUSE for a
        // fixed port, connect() with EADDRNOTAVAIL when no port of the range is free (inet_hash_connect). A
        // Hyperplane ENI serves "up to 65,000 connections" (Lambda-DG foundation-networking); what a function sees
        // past that is not documented, and is modelled the same way (docs/fidelity.md).
        var port: UInt16
        var failure: String?
        if let fixed = template.spec.sourcePort {
            port = fixed
            if host.usedPorts.contains(port) {
                failure = "bind EADDRINUSE \(host.address):\(port) (the flow's source_port is in use by another connection)"
            }
        } else {
            port = drawPort(host, ports)
            if host.usedPorts.contains(port) {
                let d = template.spec.destination
                failure = "connect EADDRNOTAVAIL \(d.address):\(d.port) "
                    + "(all \(ports.count) source ports \(ports.lowerBound)-\(ports.upperBound) of \(host.address) in use)"
            }
        }
        if let failure {
            let flow = ActiveFlow(template: template, start: start, index: i, sim: self, host: host, port: 0,
                                  script: conversation)
            flow.result.sourceENI = sourceENI
            active[i] = flow
            finish(i, .noPort, failure)
            return
        }
        host.usedPorts.insert(port)
        let flow = ActiveFlow(template: template, start: start, index: i, sim: self, host: host, port: port,
                              script: conversation)
        active[i] = flow
        flow.result.clientPort = port
        flow.result.sourceENI = sourceENI
        if template.spec.app.isDatagram {
            let client = DatagramClient(flow: flow, host: host, local: port, remote: remote, stack: stack.profile,
                                        rng: &rng)
            flow.datagram = client
            client.start()
            return
        }
        let app = ConversationEndpoint(script: conversation, side: .client, env: host)
        app.holdBeforeClose = template.spec.hold
        app.observer = flow
        let conn = TCPConnection(env: host, app: app, local: (host.localAddress(toward: remote), port),
                                 remote: (remote, template.spec.destination.port), flow: i, isClient: true,
                                 stack: stack, nagle: template.spec.client.nagle, rng: &rng)
        configureClient(conn, flow: i, spec: template.spec)
        flow.conn = conn
        connectionCreated?(conn)
        host.connections[.init(conn)] = conn
        // The client program's own timers (ClientProfile), and the Lambda's.
        if let t = template.spec.client.readyTimeout {
            flow.readyTimer = timer(flow, .ready, at: start + t)
        }
        if let t = template.spec.client.connectTimeout {
            flow.connectTimer = timer(flow, .connect, at: start + t)
        }
        if let t = template.spec.client.killAfter { flow.killTimer = timer(flow, .kill, at: start + t) }
        if case .lambda(let fn, _) = template.spec.source {
            flow.lambdaTimer = timer(flow, .lambda, at: start + scenario.model.lambdas[fn].timeout)
        }
        if template.spec.destination.isIPv6 { startedOverIPv6(flow) }
        conn.connect()
    }

    /// A source port from `ports` at random, the next free one when that one is in use (in use still when
    /// every port is).
    @inline(__always)
    func drawPort(_ host: HostEndpoint, _ ports: ClosedRange<UInt16>) -> UInt16 {
        var port = UInt16.random(in: ports, using: &rng)
        var tries = 1
        while host.usedPorts.contains(port), tries < ports.count {
            port = port == ports.upperBound ? ports.lowerBound : port + 1
            tries += 1
        }
        return port
    }

    /// The narrowest bandwidth on a flow's path, bits per second: the source's (a Lambda's, an instance's, an
    /// outside host's), the destination's when it is an outside host or an instance, and a NAT gateway's when a
    /// VPC source reaches an outside host (through one unless it has a public IP: either way, a NAT gateway's
    /// 5 Gbps is never the narrowest by default).
    func pathRate(_ f: FlowSpec) -> Int64 {
        // A generator's flows share a source and a destination: the last answer is kept.
        if let (source, destination, rate) = lastPathRate, source == f.source, destination == f.destination.address {
            return rate
        }
        let rate = computePathRate(f)
        lastPathRate = (f.source, f.destination.address, rate)
        return rate
    }

    private var lastPathRate: (FlowSource, IPv4Address, Int64)?

    private func computePathRate(_ f: FlowSpec) -> Int64 {
        let a = scenario.assumptions
        let m = scenario.model
        /// An outside host's `bandwidth`, else the assumption's.
        func hostRate(_ h: Int) -> Int64 { m.outsideHosts[h].bandwidth > 0 ? m.outsideHosts[h].bandwidth : a.outsideHostBandwidth }
        var rate: Int64
        var inVPC = true
        switch f.source {
        case .lambda: rate = a.lambdaBandwidth
        case .instance: rate = a.instanceBandwidth
        case .outsideHost(let h):
            rate = hostRate(h)
            inVPC = false
        }
        let d = f.destination.address
        if let h = m.outsideHosts.firstIndex(where: { $0.address == d }) {
            rate = min(rate, hostRate(h))
            if inVPC, case .lambda = f.source { rate = min(rate, a.natGatewayBandwidth) }
        } else if case .instance = m.enis.first(where: { $0.privateIP == d || $0.publicIP == d })?.owner {
            rate = min(rate, a.instanceBandwidth)
        }
        return rate
    }

    /// A flow's client or Lambda timer: in its generator's lane for generated flows.
    func timer(_ flow: ActiveFlow, _ kind: ActiveFlow.Timer, at time: Int64) -> Scheduler.Handle {
        if let g = generator(of: flow.index) {
            return scheduler.schedule(lane: timerLanes[g][kind.rawValue], at: time, target: flow, tag: kind.rawValue)
        }
        return scheduler.schedule(at: time, target: flow, tag: kind.rawValue)
    }

    /// A packet of flow `i` was routed to a component the model does not have: the flow ends `not-modeled`
    /// with `message`, its connection closed without a packet. At the current time but after the event under
    /// way (the packet may be in the middle of its connection's send).
    func notModeled(flow i: Int, _ message: String) {
        guard active[i].map({ $0.result.outcome == nil }) == true else { return }
        scheduler.schedule(at: scheduler.now) { [unowned(unsafe) self] in
            guard let flow = self.active[i], flow.result.outcome == nil else { return }
            let conn = flow.conn
            if let conn { flow.result.synTimes = conn.synSentTimes.map { $0 - flow.start } }
            self.finish(i, .notModeled, message)
            conn?.abort(sendReset: false)
        }
    }

    func finish(_ i: Int, _ outcome: FlowOutcome, _ message: String) {
        guard let flow = active[i], flow.result.outcome == nil else { return }
        flow.result.outcome = outcome
        flow.result.message = message
        flow.result.elapsed = scheduler.now - flow.start
        active[i] = nil
        flow.cancelTimers(scheduler)
        if i < results.count {
            var r = flow.result
            r.index = i
            results[i] = r
        } else if let g = generator(of: i) {
            generatorResults[g].add(flow, flow: i, template: flow.template, start: flow.start)
        }
    }

    /// The server side of a flow: what answers at an outside host, or at an instance.
    func accept(_ p: SimPacket, at host: HostEndpoint, behaviour: PortBehaviour, stack: SharedStack) {
        guard let syn = p.tcp else { return }
        switch behaviour {
        case .silent:
            return
        case .closed:
            host.sendReset(answering: p, stack: stack.profile)
        case .listen:
            let key = HostEndpoint.ConnectionKey(localPort: syn.destinationPort, remote: p.ip.source,
                                                 remotePort: syn.sourcePort)
            // "hang": a server that accepts connections and never says anything (a hung daemon, a load balancer
            // with no healthy target).
            let hung = behaviour == .listen(app: "hang")
            let script = hung ? .empty : conversation(of: p.flow)
            let app_ = withSpec(of: p.flow) { $0.app }
            let app = ConversationEndpoint(script: script, side: .server, env: host)
            // Python's http.server answers HTTP/1.0 and closes after the response; curl closes too: who first is
            // the assumption http_close.
            if app_ == .http {
                let client = active[p.flow]?.conn?.app as? ConversationEndpoint
                scenario.assumptions.httpClose.configure(app, client: client, seed: scenario.seed, flow: p.flow)
            }
            // sshd reads the client's DISCONNECT and end of stream 1.2 ms later and closes 2.4 ms later
            // (the linux-netns reference).
            if app_?.isSSH == true {
                app.readDelayAtClose = 1_180_000
                app.closeDelay = 2_370_000
                app.loginGraceTime = (withSpec(of: p.flow) { $0.loginGraceTime } ?? nil) ?? FlowSpec.defaultLoginGraceTime
            }
            let conn = TCPConnection(env: host, app: app, local: (host.localAddress(toward: p.ip.source), syn.destinationPort),
                                     remote: (p.ip.source, syn.sourcePort), flow: p.flow, isClient: false,
                                     stack: stack, synAckRetries: scenario.assumptions.serverSynAckRetries,
                                     nagle: app_?.serverNagle ?? false,
                                     rng: &rng)
            conn.traces = p.flow < scenario.flows.count
            conn.pmtuExpires = scenario.assumptions.pmtuExpires
            conn.mtuProbing = scenario.assumptions.tcpMTUProbing
            conn.pathRate = withSpec(of: p.flow) { pathRate($0) } ?? 0
            if let k = withSpec(of: p.flow, { $0.serverKeepalive }) ?? nil { conn.keepalive = TCPKeepalive(time: k) }
            connectionCreated?(conn)
            host.connections[key] = conn
            conn.accept(syn)
        }
    }
}

extension HostEndpoint {
    /// `p` is lent (inout: by address, not copied; not changed).
    func receive(_ p: inout SimPacket, sim: Simulation) {
        guard let t = p.tcp else {
            receiveDatagram(&p, sim: sim)
            return
        }
        let key = ConnectionKey(localPort: t.destinationPort, remote: p.ip.source, remotePort: t.sourcePort)
        if let c = connections[key] {
            c.receive(lent: &p)
            return
        }
        guard !t.flags.contains(.rst) else { return }
        switch kind {
        case .outside(let h):
            // Read in place: a copy of the host would retain its strings, port table and stack.
            let behaviour = sim.scenario.model.outsideHosts[h].behaviour(on: t.destinationPort)
            if t.flags == .syn {
                sim.accept(p, at: self, behaviour: behaviour, stack: sim.hostStacks[h])
            } else if behaviour != .silent {
                sendReset(answering: p, stack: sim.hostStacks[h].profile)
            }
        case .eni(let e):
            // An instance accepts connections on the ports flows target (a named simplification); Lambda ENIs
            // accept nothing (Lambda-DG: outbound only).
            let model = sim.scenario.model
            if case .instance(let k) = model.enis[e].owner {
                if t.flags == .syn {
                    sim.accept(p, at: self, behaviour: .listen(app: "tcp"), stack: sim.instanceStacks[k])
                } else {
                    sendReset(answering: p, stack: sim.instanceStacks[k].profile)
                }
            } else if case .vpcEndpoint = model.enis[e].owner {
                // The AWS service behind an interface endpoint answers HTTPS on 443 (its API endpoints listen
                // there only); another port is refused (a named simplification, docs/scenarios.md).
                let https = t.destinationPort == 443
                if t.flags == .syn {
                    sim.accept(p, at: self, behaviour: https ? .listen(app: "https") : .closed, stack: sim.serviceStack)
                } else {
                    sendReset(answering: p, stack: sim.serviceStack.profile)
                }
            }
        }
    }

    /// An ICMP "fragmentation needed" (type 3 code 4) quoting a segment of one of this host's connections: the
    /// connection learns the path MTU (Linux tcp_v4_err → tcp_v4_mtu_reduced); an ICMPv6 Packet Too Big (type
    /// 2) the same for an IPv6 connection (tcp_v6_err → tcp_v6_mtu_reduced). Other ICMP changes nothing.
    func receiveICMP(_ p: inout SimPacket) {
        guard let i = p.transport.icmp else { return }
        let v6 = p.ip.proto == .icmpv6
        guard v6 ? i.type == .packetTooBig : i.type == .destinationUnreachable && i.code == 4,
              let quoted = VPCNetwork.quotedKey(p), quoted.proto == .tcp,
              quoted.source == localAddress(toward: quoted.destination) else { return }
        let key = ConnectionKey(localPort: quoted.sourcePort, remote: quoted.destination, remotePort: quoted.destinationPort)
        guard let c = connections[key] else { return }
        let seq = p.payload.withUnsafeBytes { b -> UInt32 in
            let h = v6 ? IPv6Header.byteCount : Int(b[0] & 0x0F) * 4
            guard b.count >= h + 8 else { return 0 }
            return UInt32(b[h + 4]) << 24 | UInt32(b[h + 5]) << 16 | UInt32(b[h + 6]) << 8 | UInt32(b[h + 7])
        }
        // Packet Too Big carries a 32-bit MTU; fragmentation needed a 16-bit next-hop MTU.
        c.pathMTUReported(v6 ? Int(i.restOfHeader) : Int(i.nextHopMTU), quotedSequence: seq, ipv6: v6)
    }

    /// RST,ACK as Linux answers a SYN to a closed port (or RST for a stray segment).
    func sendReset(answering p: SimPacket, stack: StackProfile) {
        guard let t = p.tcp else { return }
        let seqLen = UInt32(p.payload.count) + (t.flags.contains(.syn) ? 1 : 0) + (t.flags.contains(.fin) ? 1 : 0)
        let rst: TCPHeader
        if t.flags.contains(.ack) {
            rst = TCPHeader(sourcePort: t.destinationPort, destinationPort: t.sourcePort,
                            sequenceNumber: t.acknowledgmentNumber, flags: .rst, window: 0)
        } else {
            rst = TCPHeader(sourcePort: t.destinationPort, destinationPort: t.sourcePort, sequenceNumber: 0,
                            acknowledgmentNumber: t.sequenceNumber &+ seqLen, flags: [.rst, .ack], window: 0)
        }
        var ip = IPv4Header(source: localAddress(toward: p.ip.source), destination: p.ip.source, proto: .tcp, ttl: stack.initialTTL,
                            identification: 0, dontFragment: true)
        ip.totalLength = 40
        send(SimPacket(ip: ip, transport: .tcp(rst), flow: p.flow, fromClient: !p.fromClient))
    }
}

func format2dp(_ v: Double) -> String {
    let c = Int((v * 100).rounded())
    let frac = c % 100
    return "\(c / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
}
