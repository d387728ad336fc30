import Packets

/// How a datagram socket sets DF (ip(7) IP_MTU_DISCOVER; ping -M want|do|dont), the flow setting `pmtudisc`.
public enum PMTUDiscovery: String, Sendable, CaseIterable {
    /// IP_PMTUDISC_WANT, Linux's default for UDP and ping sockets (net.ipv4.ip_no_pmtu_disc 0; iputils ping
    /// without -M): DF on a datagram that fits the path MTU the sender knows; a bigger one is fragmented by the
    /// sender and its fragments go without DF (net/ipv4/ip_output.c __ip_make_skb).
    case want
    /// IP_PMTUDISC_DO (ping -M do): DF always; a datagram bigger than the sender's path MTU is not sent (EMSGSIZE,
    /// ping's "local error: message too long").
    case `do`
    /// IP_PMTUDISC_DONT (ping -M dont): never DF.
    case dont
}

extension FlowSpec {
    /// The most data a UDP datagram or an ICMP echo request carries over IPv4: 65535 less the IP and UDP/ICMP
    /// headers.
    public static let maxDatagramData = 65507
    /// `count`, or the app's default: one datagram for udp, four echo requests for ping (iputils sends until
    /// stopped; four is what Windows' ping sends and what a scenario usually wants).
    public var datagramCount: Int { count ?? (app == .ping ? 4 : 1) }
    /// `reply_timeout`, or the app's default: ping waits 10 s after its last request for missing replies (iputils
    /// ping_common.c: lingertime MAXWAIT 10 s, set by -W); a UDP client 5 s (a guess: dig's default +timeout).
    public var datagramReplyTimeout: Int64 { replyTimeout ?? (app == .ping ? 10_000_000_000 : 5_000_000_000) }
    /// `size` when the flow does not give one: 56 data bytes for ping (iputils' default -s), 512 for udp.
    static func defaultDatagramSize(_ app: AppProfile) -> Int { app == .ping ? 56 : 512 }
}

/// The client of a datagram flow (`udp`, `ping`): it sends `count` datagrams 1 s apart (ping's default interval;
/// the same for udp), each `size` bytes of data, and counts the replies. The flow is `ok` once every datagram has
/// its reply, `timeout` when `reply_timeout` after the last one passes without them all, `refused` when an ICMP
/// port unreachable comes back (a connected UDP socket's ECONNREFUSED). A datagram bigger than the sender's path
/// MTU is fragmented by the sender (`PMTUDiscovery`); an ICMP "fragmentation needed" quoting one lowers that path
/// MTU for the datagrams after it (a Linux route exception). A ping's identifier is the socket's local "port"
/// (Linux ping sockets number echo identifiers as ports: net/ipv4/ping.c ping_get_port), its sequence from 1
/// (iputils icmp_seq); its data begins with the send time as a struct timeval, then the bytes 0x10, 0x11, …
/// (iputils ping_common.c fill).
final class DatagramClient: ScheduledTarget {
    unowned(unsafe) let flow: ActiveFlow
    let host: Borrowed<HostEndpoint>
    /// The UDP source port, or the ICMP echo identifier.
    let local: UInt16
    let remote: IPv4Address
    let remotePort: UInt16
    let ttl: UInt8
    /// The sender's path MTU toward `remote`: its interface's, lowered by ICMP "fragmentation needed".
    var mtu: Int
    var ipID: UInt16
    var sent = 0
    var received = 0
    /// Which sequence numbers have had their reply (ping; duplicates are not counted twice).
    var answered: [Bool]
    var timer: Scheduler.Handle?
    var lastReply: Int64 = 0

    enum Tag: Int { case send, giveUp }

    init(flow: ActiveFlow, host: HostEndpoint, local: UInt16, remote: IPv4Address, stack: StackProfile,
         rng: inout SplitMix64) {
        self.flow = flow
        self.host = Borrowed(host)
        self.local = local
        self.remote = remote
        remotePort = flow.template.spec.destination.port
        ttl = stack.initialTTL
        mtu = Int(stack.mss) + 40
        ipID = UInt16(truncatingIfNeeded: rng.next())
        answered = [Bool](repeating: false, count: flow.template.spec.datagramCount)
    }

    var isPing: Bool { flow.template.spec.app == .ping }

    /// The key the host finds this client by when a reply arrives.
    var key: HostEndpoint.ConnectionKey {
        HostEndpoint.ConnectionKey(localPort: local, remote: remote, remotePort: isPing ? 0 : remotePort)
    }

    func start() {
        host { $0.datagrams[key] = self }
        fire(tag: Tag.send.rawValue)
    }

    func fire(tag: Int) {
        timer = nil
        guard flow.result.outcome == nil else { return }
        switch Tag(rawValue: tag) {
        case .send:
            sent += 1
            guard send(sequence: sent) else { return }
            let spec = flow.template.spec
            if sent < spec.datagramCount {
                timer = host { $0.schedule(after: 1_000_000_000, target: self, tag: Tag.send.rawValue) }
            } else {
                timer = host { $0.schedule(after: spec.datagramReplyTimeout, target: self, tag: Tag.giveUp.rawValue) }
            }
        case .giveUp:
            finish(.timeout, summary() + " (no reply within reply_timeout \(formatDuration(flow.template.spec.datagramReplyTimeout)) of the last)")
        case nil: break
        }
    }

    /// Sends datagram `sequence` (from 1), fragmented when it is bigger than the path MTU; false when the socket
    /// refused it (DF demanded and too big: the flow has ended).
    private func send(sequence: Int) -> Bool {
        let spec = flow.template.spec
        let size = spec.size
        guard size <= FlowSpec.maxDatagramData else {
            // (A scenario's and trace's sizes are checked when read; a generator's template is not.)
            finish(.unreachable, "sendto EMSGSIZE (\(size) bytes of data: an IPv4 datagram carries at most \(FlowSpec.maxDatagramData))")
            return false
        }
        let total = 28 + size
        let fits = total + (remote.isIPv6Token ? 20 : 0) <= mtu
        if !fits, spec.pmtuDiscovery == .do {
            finish(.unreachable, isPing ? "ping: local error: message too long, mtu=\(mtu)"
                   : "sendto EMSGSIZE (\(size) bytes do not fit the path MTU \(mtu) with DF)")
            return false
        }
        let df = spec.pmtuDiscovery == .do || (spec.pmtuDiscovery == .want && fits)
        let now = host { $0.now }
        var data = [UInt8](repeating: 0, count: size)
        if isPing {
            // struct timeval of the send time (x86-64: two little-endian 64-bit words), then i & 0xFF.
            let unix = flow.sim { $0.scenario.startTime } + now
            var first = 0
            if size >= 16 {
                let sec = UInt64(unix / 1_000_000_000), usec = UInt64(unix % 1_000_000_000 / 1000)
                for k in 0..<8 {
                    data[k] = UInt8(truncatingIfNeeded: sec >> (8 * k))
                    data[8 + k] = UInt8(truncatingIfNeeded: usec >> (8 * k))
                }
                first = 16
            }
            for i in first..<size { data[i] = UInt8(truncatingIfNeeded: i) }
        } else {
            for i in 0..<size { data[i] = UInt8(truncatingIfNeeded: i &+ sequence) }
        }
        // Over IPv6 a ping is ICMPv6 echo (type 128, protocol 58).
        let v6 = remote.isIPv6Token
        let transport: TransportHeader = isPing
            ? .icmp(.echo(request: true, identifier: local, sequence: UInt16(truncatingIfNeeded: sequence), ipv6: v6))
            : .udp(UDPHeader(sourcePort: local, destinationPort: remotePort))
        let ip = IPv4Header(source: host { $0.localAddress(toward: remote) }, destination: remote,
                            proto: isPing ? (v6 ? .icmpv6 : .icmp) : .udp, ttl: ttl,
                            identification: ipID, dontFragment: df, totalLength: UInt16(total))
        ipID &+= 1
        let payload = data.withUnsafeBytes { PacketPayload(copying: $0) }
        var p = SimPacket(ip: ip, transport: transport, payload: payload, flow: flow.index, fromClient: true)
        // The report's path: the first datagram of an explicit flow (sent in fragments: its first fragment's).
        let index = flow.index
        p.traced = sequence == 1 && flow.sim { index < $0.scenario.flows.count }
        host { $0.sendDatagram(p, mtu: mtu) }
        return true
    }

    /// A reply arrived (sequence `sequence` for ping; nil for udp).
    func replied(sequence: UInt16?) {
        guard flow.result.outcome == nil else { return }
        if let s = sequence {
            let k = Int(s) - 1
            guard k >= 0, k < answered.count, k < sent, !answered[k] else { return }
            answered[k] = true
        }
        received += 1
        lastReply = host { $0.now }
        flow.result.ready = true
        if received >= flow.template.spec.datagramCount { finish(.ok, summary()) }
    }

    /// An ICMP error quoting one of this client's datagrams: "fragmentation needed" lowers the path MTU (Linux
    /// keeps it as a route exception); "port unreachable" ends a UDP flow refused.
    /// Over IPv6: ICMPv6 port unreachable (type 1 code 4) ends a UDP flow refused the same way; a Packet Too Big
    /// lowers the path MTU, never below 1280 (RFC 8200 §5), and later datagrams go in fragments that fit.
    func icmpError(_ p: SimPacket) {
        guard flow.result.outcome == nil, let i = p.transport.icmp else { return }
        let portUnreachable: Bool
        if p.ip.proto == .icmpv6 {
            let reported = max(Int(i.restOfHeader), ICMPv6.minimumMTU)
            if i.type == .packetTooBig, reported < mtu { mtu = reported }
            portUnreachable = i.type == .destinationUnreachable6 && i.code == 4
        } else {
            if i.code == 4, Int(i.nextHopMTU) >= 68, Int(i.nextHopMTU) < mtu { mtu = Int(i.nextHopMTU) }
            portUnreachable = i.code == 3
        }
        if portUnreachable, !isPing {
            finish(.refused, "recv ECONNREFUSED (ICMP\(p.ip.proto == .icmpv6 ? "v6" : "") port unreachable from \(remote))")
        }
    }

    /// "4 packets transmitted, 4 received, 0% packet loss" (ping's summary), "1 datagram sent, 1 reply received".
    func summary() -> String {
        if isPing {
            let loss = sent == 0 ? 0 : (sent - received) * 100 / sent
            return "\(sent) packets transmitted, \(received) received, \(loss)% packet loss"
        }
        return "\(sent) datagram\(sent == 1 ? "" : "s") sent, \(received) repl\(received == 1 ? "y" : "ies") received"
    }

    private func finish(_ outcome: FlowOutcome, _ message: String) {
        let i = flow.index
        flow.sim { $0.finish(i, outcome, message) }
    }

    /// The flow has its outcome: no more timers, and the host forgets the client.
    func stop() {
        if let t = timer { host { $0.cancel(t) } }
        timer = nil
        let k = key
        host {
            $0.datagrams[k] = nil
            $0.usedPorts.remove(local)
        }
    }
}

// MARK: Datagrams at a host

extension HostEndpoint {
    /// Sends datagram `p` (which owns its payload) from this host: as it is when it fits `mtu`, else in fragments
    /// the host cuts itself (DF clear: the caller decided).
    /// An IPv6 datagram is cut the same way, each fragment with a fragment header (8 bytes more after the 40 of
    /// the IPv6 header: only the source fragments in IPv6, RFC 8200 §4.5).
    func sendDatagram(_ p: consuming SimPacket, mtu: Int) {
        guard p.wireLength > mtu else {
            send(p)
            return
        }
        var whole = p
        // The report's path of a traced datagram sent in fragments is its first fragment's.
        let traced = whole.traced
        // Inside the engine an IPv6 fragment's header counts 20 bytes; on the wire 48 (IPv6 and fragment header).
        VPCNetwork.fragments(of: whole, mtu: whole.ip.source.isIPv6Token ? mtu - 28 : mtu) { f in
            f.traced = traced && f.ip.fragmentOffset == 0
            send(f)
        }
        whole.payload.free()
    }

    /// A packet that is not TCP (lent): an ICMP echo request is answered (by an outside host or an instance: Linux
    /// answers pings; a Lambda ENI accepts nothing), an echo reply or a UDP datagram goes to the flow's client, a
    /// UDP datagram for no client to the server (an outside host's port as it is declared; an instance listens on
    /// every port flows target, as for TCP), an ICMP error to the connection or client it quotes.
    func receiveDatagram(_ p: inout SimPacket, sim: Simulation) {
        switch p.transport {
        case .icmp(let i) where i.isEchoRequest:
            guard let stack = answeringStack(sim) else { return }
            // Linux answers from its ICMP socket, whose pmtudisc is IP_PMTUDISC_DONT: no DF, fragmented when
            // bigger than the interface (net/ipv4/icmp.c icmp_sk_init, icmp_reply); an ICMPv6 echo with an echo
            // reply (type 129) quoting its data (net/ipv6/icmp.c icmpv6_echo_reply).
            let v6 = p.ip.proto == .icmpv6
            var ip = IPv4Header(source: localAddress(toward: p.ip.source), destination: p.ip.source, proto: v6 ? .icmpv6 : .icmp,
                                ttl: stack.initialTTL, identification: nextIPID(), dontFragment: false,
                                totalLength: p.ip.totalLength)
            ip.totalLength = UInt16(truncatingIfNeeded: 28 + p.payload.count)
            let payload = p.payload.withUnsafeBytes { PacketPayload(copying: $0) }
            let echo = ICMPHeader.echo(request: false, identifier: i.identifier, sequence: i.sequence, ipv6: v6)
            var reply = SimPacket(ip: ip, transport: .icmp(echo), payload: payload, flow: p.flow, fromClient: !p.fromClient)
            reply.traced = i.sequence == 1 && p.flow >= 0 && p.flow < sim.scenario.flows.count
            sendDatagram(reply, mtu: min(Int(stack.mss) + 40, routeMTU.isEmpty ? .max : routeMTU[p.ip.source] ?? .max))
        case .icmp(let i) where i.isEchoReply:
            let k = ConnectionKey(localPort: i.identifier, remote: p.ip.source, remotePort: 0)
            datagrams[k]?.replied(sequence: i.sequence)
        case .icmp(let i):
            let error = p.ip.proto == .icmpv6 ? i.type == .destinationUnreachable6 || i.type == .packetTooBig
                : i.type == .destinationUnreachable
            if error, let q = VPCNetwork.quotedKey(p), q.proto == .udp, q.source == localAddress(toward: q.destination) {
                let k = ConnectionKey(localPort: q.sourcePort, remote: q.destination, remotePort: q.destinationPort)
                datagrams[k]?.icmpError(p)
                return
            }
            // One quoting this host's echo request: ping's socket learns the path MTU as a UDP one does (Linux
            // keeps it for the route: ping4_receive_error / ping's IPV6_RECVERR, the kernel's route exception).
            if error, let (identifier, remote) = Self.quotedEchoRequest(p),
               let c = datagrams[ConnectionKey(localPort: identifier, remote: remote, remotePort: 0)] {
                c.icmpError(p)
                return
            }
            if error { learnRouteMTU(p, i) }
            receiveICMP(&p)
        case .udp(let u):
            let k = ConnectionKey(localPort: u.destinationPort, remote: p.ip.source, remotePort: u.sourcePort)
            if let c = datagrams[k] {
                c.replied(sequence: nil)
                return
            }
            serveUDP(&p, u, sim: sim)
        default:
            return
        }
    }

    /// A UDP datagram to a server: answered with the flow's `reply_size` (else its size), from the port it came
    /// to, as a Linux UDP socket sends it (DF when it fits, else fragmented: `PMTUDiscovery.want`); a closed port
    /// answers ICMP port unreachable (Linux icmp_send ICMP_PORT_UNREACH), a silent one nothing.
    private func serveUDP(_ p: inout SimPacket, _ u: UDPHeader, sim: Simulation) {
        guard let stack = answeringStack(sim) else { return }
        if case .outside(let h) = kind {
            switch sim.scenario.model.outsideHosts[h].behaviour(on: u.destinationPort) {
            case .silent: return
            case .closed:
                var icmp = VPCNetwork.fragmentationNeeded(quoting: p, from: localAddress(toward: p.ip.source), mtu: 0)
                // ICMPv6 says port unreachable with type 1 code 4 (RFC 4443 §3.1).
                icmp.transport = .icmp(p.ip.source.isIPv6Token ? ICMPHeader(type: .destinationUnreachable6, code: 4)
                                           : ICMPHeader(type: .destinationUnreachable, code: 3))
                icmp.ip.ttl = stack.initialTTL
                send(icmp)
                return
            case .listen: break
            }
        }
        let size = sim.withSpec(of: p.flow) { $0.replySize ?? $0.size } ?? p.payload.count
        let mtu = min(Int(stack.mss) + 40, routeMTU.isEmpty ? .max : routeMTU[p.ip.source] ?? .max)
        let total = 28 + size
        let ip = IPv4Header(source: localAddress(toward: p.ip.source), destination: p.ip.source, proto: .udp, ttl: stack.initialTTL,
                            identification: nextIPID(), dontFragment: total <= mtu, totalLength: UInt16(truncatingIfNeeded: total))
        var data = [UInt8](repeating: 0, count: size)
        p.payload.withUnsafeBytes { b in
            for i in 0..<min(size, b.count) { data[i] = b[i] }
        }
        let payload = data.withUnsafeBytes { PacketPayload(copying: $0) }
        var reply = SimPacket(ip: ip, transport: .udp(UDPHeader(sourcePort: u.destinationPort, destinationPort: u.sourcePort)),
                              payload: payload, flow: p.flow, fromClient: !p.fromClient)
        // The report's path: the reply to an explicit flow's first datagram (its data begins with 1).
        reply.traced = p.flow >= 0 && p.flow < sim.scenario.flows.count && size > 0 && data[0] == 1
        sendDatagram(reply, mtu: mtu)
    }

    /// The stack that answers datagrams here: an outside host's or an instance's; nil for a Lambda ENI or an
    /// endpoint's (they answer nothing).
    private func answeringStack(_ sim: Simulation) -> StackProfile? {
        switch kind {
        case .outside(let h): return sim.hostStacks[h].profile
        case .eni(let e):
            if case .instance(let k) = sim.scenario.model.enis[e].owner { return sim.instanceStacks[k].profile }
            return nil
        }
    }
}

extension HostEndpoint {
    /// A "fragmentation needed" or Packet Too Big quoting a packet this host sent: the path MTU to the quoted
    /// destination, for the datagrams it answers (`routeMTU`; never below 1280 over IPv6, RFC 8200 §5, or 68 over
    /// IPv4, RFC 791).
    func learnRouteMTU(_ p: SimPacket, _ i: ICMPHeader) {
        let v6 = p.ip.proto == .icmpv6
        let reported = v6 ? (i.type == .packetTooBig ? max(Int(i.restOfHeader), ICMPv6.minimumMTU) : 0)
            : (i.code == 4 && Int(i.nextHopMTU) >= 68 ? Int(i.nextHopMTU) : 0)
        guard reported > 0 else { return }
        let quoted = p.payload.withUnsafeBytes { b -> (IPv4Address, IPv4Address)? in
            if v6 {
                guard b.count >= 40, b[0] >> 4 == 6 else { return nil }
                guard let s = IPv6Token.token(ifInterned: Self.ipv6Address(b, at: 8)),
                      let d = IPv6Token.token(ifInterned: Self.ipv6Address(b, at: 24))
                else { return nil }
                return (s, d)
            }
            guard b.count >= 20, b[0] >> 4 == 4 else { return nil }
            func address(_ at: Int) -> IPv4Address {
                IPv4Address(rawValue: UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3]))
            }
            return (address(12), address(16))
        }
        guard let (source, destination) = quoted, source == localAddress(toward: destination) else { return }
        if reported < routeMTU[destination] ?? .max { routeMTU[destination] = reported }
    }

    /// The IPv6 address in the 16 bytes of `b` from `at` (a quoted header's source at 8, destination at 24).
    private static func ipv6Address(_ b: UnsafeRawBufferPointer, at: Int) -> IPv6Address {
        var high: UInt64 = 0, low: UInt64 = 0
        for k in 0..<8 { high = high << 8 | UInt64(b[at + k]); low = low << 8 | UInt64(b[at + 8 + k]) }
        return IPv6Address(high: high, low: low)
    }

    /// The identifier and destination of the echo request an ICMP or ICMPv6 error quotes (after a first
    /// fragment's fragment header too, as the engine's senders write it); nil for any other quote.
    static func quotedEchoRequest(_ p: SimPacket) -> (UInt16, IPv4Address)? {
        p.payload.withUnsafeBytes { b -> (UInt16, IPv4Address)? in
            func u16(_ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
            if p.ip.proto == .icmpv6 {
                guard b.count >= 48, b[0] >> 4 == 6 else { return nil }
                var at = 40
                if b[6] == 44 {  // a fragment header: only a first fragment (offset 0) holds the echo header
                    guard b.count >= 56, b[40] == 58, b[42] == 0, b[43] & 0xF8 == 0 else { return nil }
                    at = 48
                } else if b[6] != 58 { return nil }
                guard b[at] == 128 else { return nil }
                guard let remote = IPv6Token.token(ifInterned: Self.ipv6Address(b, at: 24)) else { return nil }
                return (u16(at + 4), remote)
            }
            guard b.count >= 28, b[0] >> 4 == 4 else { return nil }
            let h = Int(b[0] & 0x0F) * 4
            guard h >= 20, b.count >= h + 8, b[9] == 1, b[h] == 8 else { return nil }
            let remote = IPv4Address(rawValue: UInt32(b[16]) << 24 | UInt32(b[17]) << 16 | UInt32(b[18]) << 8 | UInt32(b[19]))
            return (u16(h + 4), remote)
        }
    }
}
