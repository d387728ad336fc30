import Packets

// A flow over IPv6, and Happy Eyeballs (`ClientProfile.AddressFamily.happyEyeballs`, RFC 8305): the client
// connects to the IPv6 address; when that has not connected after the Connection Attempt Delay (250 ms) it starts
// a second connection to the IPv4 address, and the first of the two to connect carries the conversation — the
// other, still connecting, is closed without a packet (a socket in SYN-SENT sends nothing when closed). Each
// attempt is written down for the report (`FlowResult.attempts`).
extension Simulation {
    /// Flow `flow` starts over IPv6: the attempt noted, and with Happy Eyeballs the timer that starts IPv4.
    func startedOverIPv6(_ flow: ActiveFlow) {
        let d = flow.template.spec.destination
        flow.result.startedOverIPv6 = FlowResult.IPv6Start(address: d.address, port: d.port, dns64: d.dns64)
        guard d.fallback != nil else { return }
        flow.happyEyeballsTimer = timer(flow, .happyEyeballs, at: flow.start + ClientProfile.AddressFamily.attemptDelay)
    }

    /// Happy Eyeballs: IPv6 has not connected after the Connection Attempt Delay: the client starts IPv4 too, from
    /// the same host (the same Hyperplane ENI for a Lambda function) and another source port.
    func startFallback(_ flow: ActiveFlow, to address: IPv4Address,
                       why: String = "IPv6 not connected after \(formatDuration(ClientProfile.AddressFamily.attemptDelay))") {
        let spec = flow.template.spec
        var v4 = address
        if let e = spec.destination.interfaceEndpoint, let s = flow.result.sourceENI {
            // Private DNS's A record, as its AAAA: the endpoint ENI in the invocation's AZ.
            let m = scenario.model
            if let eni = m.vpcEndpoints[e].eni(forZone: m.subnets[m.enis[s].subnet].availabilityZone, m) {
                v4 = m.enis[eni].privateIP
            }
        }
        var source = spec.source
        if case .lambda(let fn, _) = source, let e = flow.result.sourceENI { source = .lambda(fn, eni: e) }
        let (host, stack, ports) = sourceEndpoint(source, interface: spec.sourceInterface)
        let port = drawPort(host, ports)
        let at = formatDuration(scheduler.now - flow.start)
        guard !host.usedPorts.contains(port) else {
            flow.result.laterAttempts.append("IPv4 \(v4) not tried at \(at): every source port in use")
            return
        }
        host.usedPorts.insert(port)
        let app = ConversationEndpoint(script: flow.script, side: .client, env: host)
        app.holdBeforeClose = spec.hold
        app.observer = flow
        let conn = TCPConnection(env: host, app: app, local: (host.address, port), remote: (v4, spec.destination.port),
                                 flow: flow.index, isClient: true, stack: stack, nagle: spec.client.nagle, rng: &rng)
        configureClient(conn, flow: flow.index, spec: spec)
        connectionCreated?(conn)
        host.connections[.init(conn)] = conn
        flow.racing = conn
        flow.result.laterAttempts.append("IPv4 \(v4) port \(spec.destination.port) tried at \(at): \(why) (Happy Eyeballs, RFC 8305)")
        conn.connect()
    }
}

extension Simulation {
    /// What a flow's client connection takes from the scenario and the flow: the same for its first connection and
    /// a Happy Eyeballs fallback.
    func configureClient(_ conn: TCPConnection, flow: Int, spec: FlowSpec) {
        conn.traces = flow < scenario.flows.count
        conn.pmtuExpires = scenario.assumptions.pmtuExpires
        conn.mtuProbing = scenario.assumptions.tcpMTUProbing
        if let k = spec.keepalive { conn.keepalive = TCPKeepalive(time: k) }
        conn.pathRate = pathRate(spec)
    }
}

extension ActiveFlow {
    /// One attempt of the race connected (its application `e` says so): it carries the flow, and the other,
    /// still connecting, is closed without a packet.
    func settleRace(_ e: ConversationEndpoint, _ other: TCPConnection) {
        guard let current = conn else { return }
        racing = nil
        let otherWon = (other.app as AnyObject?) === e
        let (winner, loser) = otherWon ? (other, current) : (current, other)
        conn = winner
        result.clientPort = winner.local.port
        let at = formatDuration(host { $0.now } - start)
        let family = { (c: TCPConnection) in c.remote.address.isIPv6Token ? "IPv6" : "IPv4" }
        result.laterAttempts.append("\(family(winner)) connected first at \(at); the \(family(loser)) attempt abandoned")
        if loser.state == .synSent { loser.abort(sendReset: false) } else { loser.close() }
    }

    /// Connection `c` ended: true when the flow goes on — `c` lost the race, or failed while the other attempt
    /// still runs (which then carries the flow alone).
    func raceGoesOn(_ c: TCPConnection, _ reason: TCPCloseReason) -> Bool {
        if c !== conn {
            if racing === c { racing = nil }
            return conn != nil
        }
        guard let other = racing else {
            // Happy Eyeballs: IPv6 failed before the Connection Attempt Delay ran out: IPv4 starts at once
            // (RFC 8305 §5: the next attempt starts when the previous one fails).
            guard let t = happyEyeballsTimer, let v4 = template.spec.destination.fallback, !established,
                  result.outcome == nil else { return false }
            host { $0.cancel(t) }
            happyEyeballsTimer = nil
            sim { $0.startFallback(self, to: v4, why: "IPv6 failed (\(reason))") }
            guard let fallback = racing else { return false }
            racing = nil
            conn = fallback
            result.clientPort = fallback.local.port
            return true
        }
        racing = nil
        conn = other
        result.clientPort = other.local.port
        let at = formatDuration(host { $0.now } - start)
        result.laterAttempts.append("\(c.remote.address.isIPv6Token ? "IPv6" : "IPv4") attempt failed at \(at) "
                               + "(\(reason)); the other goes on")
        return true
    }
}
