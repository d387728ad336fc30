import Packets

/// A NAT gateway: source NAT of packets from its private side to one of its private IPs and a port in
/// 1024–65535 (a public gateway's Elastic IP then comes from the internet gateway's 1:1 NAT), replies from the
/// internet translated back, per-connection state with a 350 s idle timeout after which the client gets an RST,
/// and CloudWatch's metrics (VPC-UG vpc-nat-gateway, nat-gateway-troubleshooting; aws-semantics §4). `receive` is
/// what it does to a packet arriving from either side, `step` what it records; the translation state below.
final class NATGateway {
    struct InsideKey: TableKey {
        var proto: IPProtocol
        var source: IPv4Address
        var sourcePort: UInt16
        var destination: IPv4Address
        var destinationPort: UInt16
        var tableHash: UInt64 {
            (UInt64(source.rawValue) << 32 | UInt64(destination.rawValue))
                ^ (UInt64(sourcePort) << 32 | UInt64(destinationPort) << 16 | UInt64(proto.rawValue)) &* 0x9E37_79B9_7F4A_7C15
        }
    }
    struct OutsideKey: TableKey {
        var proto: IPProtocol
        var natAddress: IPv4Address
        var natPort: UInt16
        var remote: IPv4Address
        var remotePort: UInt16
        var tableHash: UInt64 {
            (UInt64(natAddress.rawValue) << 32 | UInt64(remote.rawValue))
                ^ (UInt64(natPort) << 32 | UInt64(remotePort) << 16 | UInt64(proto.rawValue)) &* 0x9E37_79B9_7F4A_7C15
        }
    }
    struct DestinationKey: TableKey {
        var natAddress: IPv4Address
        var proto: IPProtocol
        var remote: IPv4Address
        var remotePort: UInt16
        var tableHash: UInt64 {
            (UInt64(natAddress.rawValue) << 32 | UInt64(remote.rawValue))
                ^ (UInt64(remotePort) << 16 | UInt64(proto.rawValue)) &* 0x9E37_79B9_7F4A_7C15
        }
    }
    struct Mapping {
        var inside: InsideKey
        var natAddress: IPv4Address
        var natPort: UInt16
        var lastActivity: Int64
        /// The TCP close so far (side a: the inside).
        var close = TCPCloseState()
        var established = false
        /// Neighbours in the list of mappings by last activity (-1: none): the oldest is the next to expire.
        var older: Int32 = -1
        var newer: Int32 = -1
        /// A TCP mapping past its idle timeout, kept so that the client's next packets get the gateway's RST
        /// (its port and its outside entry are released; a new SYN with the same addresses and ports replaces it).
        var expired = false
        /// NAT64: the IPv6 address (its token) the inside host sent to, 64:ff9b::<`inside.destination`>, which
        /// becomes the source of the replies translated back; 0.0.0.0 for an IPv4 mapping.
        var remote6: IPv4Address = .any
    }

    let index: Int
    let spec: NATGatewaySpec
    /// The primary private IP, then the secondary ones: each gives another 55,000 connections per destination.
    let addresses: [IPv4Address]
    var address: IPv4Address { addresses[0] }
    /// The mappings, by slot (a freed slot is reused); each direction's table gives the slot, so that a packet
    /// finds its mapping with one lookup.
    private var mappings = RawVec<Mapping>(capacity: 64)
    private var freeMappings = RawVec<Int32>(capacity: 64)
    private var mappingCount = 0
    private let byInside = HashTable<InsideKey, Int32>()
    private let byOutside = HashTable<OutsideKey, Int32>()
    private let usedPorts = HashTable<DestinationKey, DestinationPorts>()
    /// The live mappings by last activity, oldest first (slots, -1: none).
    private var oldest: Int32 = -1
    private var newest: Int32 = -1
    /// When the pending idle-expiry event runs (-1: none pending); the network schedules it
    /// (`VPCNetwork.scheduleNATExpiry`).
    var expiryEventAt: Int64 = -1

    /// The ports of one NAT address in use toward one destination, and the lowest that may be free: every port
    /// from 1024 up to it is in use, so the lowest free port is found without rescanning from 1024.
    struct DestinationPorts {
        var used = UsedPorts()
        var lowestFree: UInt16 = 1024

        /// The lowest free port from 1024 (one must exist).
        mutating func firstFree() -> UInt16 {
            var p = lowestFree
            while used.contains(p) { p += 1 }
            lowestFree = p
            return p
        }

        mutating func remove(_ port: UInt16) {
            used.remove(port)
            if port < lowestFree { lowestFree = port }
        }
    }
    /// Totals for the run, and per minute of virtual time (CloudWatch publishes NAT gateway metrics per minute).
    var metrics = NATMetrics()
    /// The minutes anything was counted in, by minute of virtual time, in order. Empty minutes are left out, so
    /// that memory follows activity, not virtual time: a flow starting 136 years in exhausted memory with them.
    var perMinute: [(minute: Int, metrics: NATMetrics)] {
        minuteCounted ? finishedMinutes + [(currentMinute, minuteMetrics)] : finishedMinutes
    }
    /// The minutes before the current one; when the current one ends; its metrics; whether anything was counted
    /// in it yet. The current minute is kept apart so that a count (several a packet) checks a bound, not divides
    /// and indexes.
    private var finishedMinutes: [(minute: Int, metrics: NATMetrics)] = []
    private var currentMinute = 0
    private var minuteEnd: Int64 = 60_000_000_000
    private var minuteMetrics = NATMetrics()
    private var minuteCounted = false
    /// The minute `count` attributes to; set by the network before translating.
    var now: Int64 = 0

    /// Applies `change` to the totals and to the current minute.
    @inline(__always)
    func count(_ change: (inout NATMetrics) -> Void) {
        change(&metrics)
        if now >= minuteEnd { moveToMinute(Int(now / 60_000_000_000)) }  // virtual time never goes back
        minuteCounted = true
        change(&minuteMetrics)
        let active = mappingCount
        minuteMetrics.peakActiveConnectionCount = max(minuteMetrics.peakActiveConnectionCount, active)
        metrics.peakActiveConnectionCount = max(metrics.peakActiveConnectionCount, active)
    }

    /// Applies `change` in the minute of `time`, which may be before `now` (an expiry found late): to that minute's
    /// metrics, kept in order, so a count lands in the minute its event happened.
    func count(at time: Int64, _ change: (inout NATMetrics) -> Void) {
        let minute = Int(time / 60_000_000_000)
        guard minute < currentMinute else {
            let saved = now
            now = max(time, now)
            count(change)
            now = saved
            return
        }
        change(&metrics)
        var k = finishedMinutes.count
        while k > 0, finishedMinutes[k - 1].minute > minute { k -= 1 }
        if k > 0, finishedMinutes[k - 1].minute == minute {
            change(&finishedMinutes[k - 1].metrics)
        } else {
            var m = NATMetrics()
            change(&m)
            finishedMinutes.insert((minute, m), at: k)
        }
    }

    /// Keeps the current minute if anything was counted in it and makes `m` current.
    @inline(never)
    private func moveToMinute(_ m: Int) {
        if minuteCounted { finishedMinutes.append((currentMinute, minuteMetrics)) }
        currentMinute = m
        minuteEnd = Int64(m + 1) * 60_000_000_000
        minuteMetrics = NATMetrics()
        minuteCounted = false
    }

    init(index: Int, spec: NATGatewaySpec, address: IPv4Address) {
        self.index = index
        self.spec = spec
        addresses = [address] + spec.secondaryPrivateIPs
    }

    deinit {
        mappings.free()
        freeMappings.free()
    }

    var activeConnections: Int { mappingCount }

    enum OutboundResult {
        case translated(natAddress: IPv4Address, natPort: UInt16, new: Bool)
        /// The mapping had been idle longer than the idle timeout (its last packet at `lastPacket`): the packet is
        /// dropped and, for TCP, the client gets an RST (VPC-UG nat-gateway-troubleshooting).
        case idleTimedOut(lastPacket: Int64)
        /// No free port for this destination (ErrorPortAllocation).
        case portAllocationError
        /// A TCP packet that opens nothing (not a SYN) with no mapping.
        case noMapping
        case unsupportedProtocol
    }

    func translateOutbound(_ key: PacketKey, tcp: TCPSegmentMarks?, now: Int64, settings: Settings,
                           rng: inout SplitMix64, remote6: IPv4Address = .any) -> OutboundResult {
        let tcpFlags = tcp?.flags
        guard key.proto == .tcp || key.proto == .udp || key.proto == .icmp else { return .unsupportedProtocol }
        let ik = InsideKey(proto: key.proto, source: key.source, sourcePort: key.sourcePort,
                           destination: key.destination, destinationPort: key.destinationPort)
        expireIdle(now: now, timeout: settings.idleTimeout)
        if let id = byInside[ik], mappings[Int(id)].expired {
            // "When a connection times out, a NAT gateway returns an RST packet to any resources behind the NAT
            // gateway that attempt to continue the connection (it does not send a FIN packet)" (VPC-UG
            // nat-gateway-troubleshooting). A new connection on the same addresses and ports starts afresh.
            guard tcpFlags.map({ $0.contains(.syn) && !$0.contains(.ack) }) == true else {
                return .idleTimedOut(lastPacket: mappings[Int(id)].lastActivity)
            }
            free(id)
        }
        if let id = byInside[ik] {
            let m = mappings.pointer(Int(id))
            touch(id, now: now)
            let result = OutboundResult.translated(natAddress: m.pointee.natAddress, natPort: m.pointee.natPort, new: false)
            if closes(m, tcp, fromInside: true) { remove(id) }
            return result
        }
        if key.proto == .tcp, let f = tcpFlags, !(f.contains(.syn) && !f.contains(.ack)) {
            return .noMapping
        }
        // With several addresses, the one with the fewest connections to this destination (the lowest on a tie):
        // how AWS spreads connections over a NAT gateway's addresses is undocumented.
        var best: (address: IPv4Address, used: Int)?
        for a in addresses {
            let u = usedPorts[DestinationKey(natAddress: a, proto: key.proto, remote: key.destination,
                                             remotePort: key.destinationPort)]?.used.count ?? 0
            if u < settings.connectionsPerDestination, best == nil || u < best!.used {
                best = (a, u)
            }
        }
        guard let natAddress = best?.address else {
            count { $0.errorPortAllocation += 1 }
            return .portAllocationError
        }
        let dk = DestinationKey(natAddress: natAddress, proto: key.proto, remote: key.destination,
                                remotePort: key.destinationPort)
        // Chosen and inserted in place: copying a destination's set (up to 55,000 ports) per new connection
        // would make a NAT gateway under pressure quadratic.
        let ds = usedPorts.find(dk) ?? usedPorts.insert(dk, DestinationPorts())
        let port = choosePort(for: key, ports: &usedPorts.value(at: ds).pointee, selection: settings.portSelection,
                              rng: &rng)
        usedPorts.value(at: ds).pointee.used.insert(port)
        var mapping = Mapping(inside: ik, natAddress: natAddress, natPort: port, lastActivity: now)
        mapping.remote6 = remote6
        let id: Int32
        if let free = freeMappings.popLast() {
            id = free
            mappings.pointer(Int(id)).pointee = mapping
        } else {
            id = Int32(mappings.count)
            mappings.append(mapping)
        }
        mappingCount += 1
        link(id)
        byInside[ik] = id
        byOutside[OutsideKey(proto: key.proto, natAddress: natAddress, natPort: port, remote: key.destination,
                             remotePort: key.destinationPort)] = id
        if key.proto == .tcp { count { $0.connectionAttemptCount += 1 } }
        return .translated(natAddress: natAddress, natPort: port, new: true)
    }

    /// The port choice is undocumented by AWS: a named assumption (`nat_port_selection`).
    private func choosePort(for key: PacketKey, ports: inout DestinationPorts,
                            selection: Assumptions.NATPortSelection, rng: inout SplitMix64) -> UInt16 {
        switch selection {
        case .preserve where key.sourcePort >= 1024 && !ports.used.contains(key.sourcePort):
            return key.sourcePort
        case .sequential:
            return ports.firstFree()
        default:
            for _ in 0..<64 {
                let p = UInt16.random(in: 1024...65535, using: &rng)
                if !ports.used.contains(p) { return p }
            }
            return ports.firstFree()
        }
    }

    enum InboundResult {
        /// `remote6`: a NAT64 mapping's IPv6 address of the remote (the reply's new source), else 0.0.0.0.
        case translated(to: IPv4Address, port: UInt16, remote6: IPv4Address)
        /// No mapping: never made, closed, or expired (replies after the idle timeout are dropped).
        case noMapping
    }

    func translateInbound(_ key: PacketKey, tcp: TCPSegmentMarks?, now: Int64, settings: Settings) -> InboundResult {
        expireIdle(now: now, timeout: settings.idleTimeout)
        let ok = OutsideKey(proto: key.proto, natAddress: key.destination, natPort: key.destinationPort,
                            remote: key.source, remotePort: key.sourcePort)
        guard let id = byOutside[ok] else { return .noMapping }
        let m = mappings.pointer(Int(id))
        touch(id, now: now)
        if let f = tcp?.flags, f.contains(.syn), f.contains(.ack), !m.pointee.established {
            m.pointee.established = true
            count { $0.connectionEstablishedCount += 1 }
        }
        let result = InboundResult.translated(to: m.pointee.inside.source, port: m.pointee.inside.sourcePort,
                                              remote6: m.pointee.remote6)
        if closes(m, tcp, fromInside: false) { remove(id) }
        return result
    }

    /// Whether this TCP segment ends mapping `m`: an RST, or the ACK that completes the close, both FINs
    /// acknowledged (`TCPCloseState`: when the FINs crossed, the second of the two ACKs, not the first, which a
    /// mapping gone would leave untranslated). How long AWS keeps a closed connection's mapping is undocumented
    /// (VPC-UG vpc-nat-gateway documents the 350 s idle timeout only); freeing it then makes memory follow open
    /// connections.
    @inline(__always)
    private func closes(_ m: UnsafeMutablePointer<Mapping>, _ tcp: TCPSegmentMarks?, fromInside: Bool) -> Bool {
        guard let t = tcp else { return false }
        return t.flags.contains(.rst) || m.pointee.close.follow(t, fromA: fromInside)
    }

    // MARK: Idle expiry

    /// Expires every mapping idle longer than `timeout` at `now`, each established one counted in IdleTimeoutCount
    /// in the minute it expired (its last packet plus the timeout), whether or not a packet comes later.
    func expireIdle(now: Int64, timeout: Int64) {
        while oldest >= 0 {
            let id = oldest
            let last = mappings[Int(id)].lastActivity
            guard now - last > timeout else { return }
            let established = mappings[Int(id)].established
            release(id)
            if mappings[Int(id)].inside.proto == .tcp {
                mappings.pointer(Int(id)).pointee.expired = true
            } else {
                free(id)  // UDP and ICMP get no RST: a later packet opens a new mapping
            }
            // IdleTimeoutCount: "connections that transitioned from the active state to the idle state" (VPC-UG
            // vpc-nat-gateway-cloudwatch): an established TCP connection; a SYN never answered is not one.
            if established { count(at: last + timeout) { $0.idleTimeoutCount += 1 } }
        }
    }

    /// When the oldest live mapping expires (the first instant it has been idle longer than `timeout`), if any.
    func nextExpiry(timeout: Int64) -> Int64? {
        oldest >= 0 ? mappings[Int(oldest)].lastActivity + timeout + 1 : nil
    }

    /// A packet of mapping `id` at `now`: it becomes the newest.
    @inline(__always)
    private func touch(_ id: Int32, now: Int64) {
        mappings.pointer(Int(id)).pointee.lastActivity = now
        guard id != newest else { return }
        unlink(id)
        link(id)
    }

    private func link(_ id: Int32) {
        let m = mappings.pointer(Int(id))
        m.pointee.older = newest
        m.pointee.newer = -1
        if newest >= 0 { mappings.pointer(Int(newest)).pointee.newer = id } else { oldest = id }
        newest = id
    }

    private func unlink(_ id: Int32) {
        let m = mappings[Int(id)]
        if m.older >= 0 { mappings.pointer(Int(m.older)).pointee.newer = m.newer } else { oldest = m.newer }
        if m.newer >= 0 { mappings.pointer(Int(m.newer)).pointee.older = m.older } else { newest = m.older }
    }

    /// Closes mapping `id`: frees its slot, and its port unless it had expired (then already released).
    private func remove(_ id: Int32) {
        if !mappings[Int(id)].expired { release(id) }
        free(id)
    }

    private func free(_ id: Int32) {
        byInside[mappings[Int(id)].inside] = nil
        mappings.pointer(Int(id)).pointee.expired = false
        freeMappings.append(id)
    }

    /// Takes live mapping `id` out of the outside table, the activity list and the count, and frees its port.
    private func release(_ id: Int32) {
        let m = mappings[Int(id)]
        unlink(id)
        mappingCount -= 1
        byOutside[OutsideKey(proto: m.inside.proto, natAddress: m.natAddress, natPort: m.natPort,
                             remote: m.inside.destination, remotePort: m.inside.destinationPort)] = nil
        let dk = DestinationKey(natAddress: m.natAddress, proto: m.inside.proto, remote: m.inside.destination,
                                remotePort: m.inside.destinationPort)
        if let ds = usedPorts.find(dk) {
            usedPorts.value(at: ds).pointee.remove(m.natPort)
            if usedPorts.value(at: ds).pointee.used.isEmpty { usedPorts.remove(at: ds) }
        }
    }
}

// MARK: What a NAT gateway does to a packet

extension NATGateway {
    /// The assumptions the gateway's translation follows, apart from the rest: a few words, passed in
    /// registers (the whole `Assumptions`, passed for every packet, cost a copy of it each time).
    struct Settings {
        var idleTimeout: Int64
        var connectionsPerDestination: Int
        var portSelection: Assumptions.NATPortSelection
        var decrementsTTL: Bool

        init(_ a: Assumptions) {
            idleTimeout = a.natIdleTimeout
            connectionsPerDestination = a.natConnectionsPerDestination
            portSelection = a.natPortSelection
            decrementsTTL = a.natDecrementsTTL
        }
    }

    func translateOutbound(_ key: PacketKey, tcp: TCPSegmentMarks?, now: Int64, assumptions: Assumptions,
                           rng: inout SplitMix64) -> OutboundResult {
        translateOutbound(key, tcp: tcp, now: now, settings: Settings(assumptions), rng: &rng)
    }

    func translateInbound(_ key: PacketKey, tcp: TCPSegmentMarks?, now: Int64, assumptions: Assumptions) -> InboundResult {
        translateInbound(key, tcp: tcp, now: now, settings: Settings(assumptions))
    }

    /// What the gateway does to a packet. Plain data (an outcome is made for every packet the gateway
    /// receives): a drop's words are built by `step(_:_:settings:)` only when the drop is recorded.
    enum Outcome {
        /// Translated: the packet's source (from the private side) or destination (from the internet) becomes
        /// `address`:`port` (`apply`); `remote6`, for a reply to a NAT64 connection, its new source (else 0.0.0.0).
        case translated(address: IPv4Address, port: UInt16, remote6: IPv4Address)
        /// Dropped, and counted in PacketsDropCount.
        case dropped(Drop)
    }

    /// Why the gateway dropped a packet.
    enum Drop {
        /// No mapping for a packet from the internet (or for a private-side packet of an unknown connection).
        case noMapping
        /// The connection had been idle since `last` (ns) beyond the idle timeout: a TCP client gets an RST
        /// (`reset(answering:)`).
        case idleTimedOut(last: Int64)
        /// ErrorPortAllocation: every port toward the destination is in use.
        case portAllocationError
        case unsupportedProtocol

        var idle: Bool { if case .idleTimedOut = self { true } else { false } }
    }

    /// What the gateway does at `now` to a packet of `size` bytes with `key` (and TCP `marks`) arriving from its
    /// private side (`fromInside`) or from the internet; counts it in the metrics.
    func receive(_ key: PacketKey, _ marks: TCPSegmentMarks?, size: Int, fromInside: Bool, now: Int64,
                 settings: Settings, rng: inout SplitMix64, remote6: IPv4Address = .any) -> Outcome {
        self.now = now
        if !fromInside {
            count {
                $0.packetsInFromDestination += 1
                $0.bytesInFromDestination += size
            }
            switch translateInbound(key, tcp: marks, now: now, settings: settings) {
            case .translated(let to, let port, let remote6): return .translated(address: to, port: port, remote6: remote6)
            case .noMapping: return dropped(.noMapping)
            }
        }
        count {
            $0.packetsInFromSource += 1
            $0.bytesInFromSource += size
        }
        let result = translateOutbound(key, tcp: marks, now: now, settings: settings, rng: &rng, remote6: remote6)
        switch result {
        case .translated(let natAddress, let port, _):
            return .translated(address: natAddress, port: port, remote6: .any)
        case .idleTimedOut(let last): return dropped(.idleTimedOut(last: last))
        case .portAllocationError: return dropped(.portAllocationError)
        case .noMapping: return dropped(.noMapping)
        case .unsupportedProtocol: return dropped(.unsupportedProtocol)
        }
    }

    private func dropped(_ d: Drop) -> Outcome {
        count { $0.packetsDropCount += 1 }
        return .dropped(d)
    }

    /// The step the gateway records for dropping a packet with `key`.
    func step(_ d: Drop, _ key: PacketKey, settings: Settings) -> Step {
        switch d {
        case .noMapping:
            return step(action: .dropped, rule: "no translation for \(key.description)")
        case .idleTimedOut(let last):
            return step(action: .dropped,
                        rule: "connection idle longer than \(settings.idleTimeout / 1_000_000_000) s "
                            + "(its last packet at \(format3(Double(last) / 1e9)) s)",
                        detail: key.proto == .tcp ? "the NAT gateway answers with RST" : nil)
        case .portAllocationError:
            return step(action: .dropped, rule: "ErrorPortAllocation",
                        detail: "\(settings.connectionsPerDestination) connections to "
                            + "\(key.destination):\(key.destinationPort) already")
        case .unsupportedProtocol:
            return step(action: .dropped, rule: "protocol \(key.proto) is not supported (TCP, UDP, ICMP only)")
        }
    }

    /// Rewrites `p` as `receive` decided: its source (from the private side) or destination becomes
    /// `address`:`port`; its TTL goes down when the gateway counts as a router (`nat_decrements_ttl`).
    @inline(__always)
    func apply(_ address: IPv4Address, _ port: UInt16, to p: inout SimPacket, fromInside: Bool,
               settings: Settings) {
        if p.ip.isFragment {
            applyToFragment(address, port, to: &p, fromInside: fromInside, settings: settings)
            return
        }
        translate(address, port, &p, fromInside: fromInside, settings: settings)
    }

    @inline(__always)
    private func translate(_ address: IPv4Address, _ port: UInt16, _ p: inout SimPacket, fromInside: Bool,
                           settings: Settings) {
        if fromInside {
            p.ip.source = address
            p.setSourcePort(port)
        } else {
            p.ip.destination = address
            p.setDestinationPort(port)
        }
        if settings.decrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
    }

    /// A packet of `size` bytes leaving the gateway at `time` toward the internet (`fromInside`) or its private
    /// side, in the metrics.
    @inline(__always)
    func countDeparture(at time: Int64, fromInside: Bool, size: Int) {
        now = time
        if fromInside {
            count {
                $0.packetsOutToDestination += 1
                $0.bytesOutToDestination += size
            }
        } else {
            count {
                $0.packetsOutToSource += 1
                $0.bytesOutToSource += size
            }
        }
    }

    /// The RST the gateway sends a client that uses a timed-out connection (VPC-UG nat-gateway-troubleshooting:
    /// "the NAT gateway returns a RST packet"), from the address and port the client was talking to.
    static func reset(answering p: SimPacket, tcp: TCPHeader) -> SimPacket {
        var ip = IPv4Header(source: p.ip.destination, destination: p.ip.source, proto: .tcp, ttl: 64)
        ip.identification = 0
        let rst = TCPHeader(sourcePort: tcp.destinationPort, destinationPort: tcp.sourcePort,
                            sequenceNumber: tcp.acknowledgmentNumber, acknowledgmentNumber: 0, flags: .rst, window: 0)
        var r = SimPacket(ip: ip, transport: .tcp(rst), flow: p.flow, fromClient: !p.fromClient)
        r.ip.totalLength = 40
        return r
    }

    /// The step the gateway records.
    func step(action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .natGateway, component: spec.id, componentDisplay: spec.display, action: action, rule: rule,
             detail: detail)
    }
}

// MARK: Fragments and ICMP errors

extension NATGateway {
    /// A fragment's verdict: "Supports forwarding of IP fragmented packets for the UDP protocol. Does not support
    /// fragmentation for the TCP and ICMP protocols" (VPC-UG vpc-nat-comparison, "IP fragmentation"; also
    /// nat-gateway-troubleshooting). Nil for a UDP fragment (translated as its datagram is); for a TCP or ICMP
    /// fragment the step that drops it, counted in PacketsDropCount.
    func fragmentDrop(_ p: SimPacket) -> Step? {
        guard p.ip.proto != .udp else { return nil }
        count { $0.packetsDropCount += 1 }
        // One rule for every fragment (the report lists a datagram's fragments once); which fragment, in the detail.
        return step(action: .dropped, rule: "\(p.ip.proto) fragments: a NAT gateway forwards UDP fragments only",
                    detail: "offset \(Int(p.ip.fragmentOffset) * 8)\(p.ip.moreFragments ? ", MF" : ""); TCP and ICMP "
                        + "fragments are dropped (VPC-UG vpc-nat-comparison)")
    }

    /// `apply` for a fragment: the same translation, and a first fragment's transport header (in its bytes)
    /// rewritten to match, its checksum updated (`SimPacket.refreshFirstFragment`).
    func applyToFragment(_ address: IPv4Address, _ port: UInt16, to p: inout SimPacket, fromInside: Bool,
                         settings: Settings) {
        let old = p.key
        translate(address, port, &p, fromInside: fromInside, settings: settings)
        p.refreshFirstFragment(from: old)
    }

    /// The inside address and port of the connection an ICMP error from the internet quotes: `quoted` is the
    /// packet as the gateway sent it (source: the gateway's address and port). Nil when the gateway has no such
    /// connection (then the ICMP is dropped as any packet without a translation). `remote6`: a NAT64 connection's
    /// (`Mapping.remote6`), else 0.0.0.0.
    func insideEndpoint(quoted: PacketKey) -> (address: IPv4Address, port: UInt16, remote6: IPv4Address)? {
        let ok = OutsideKey(proto: quoted.proto, natAddress: quoted.source, natPort: quoted.sourcePort,
                            remote: quoted.destination, remotePort: quoted.destinationPort)
        guard let id = byOutside[ok], !mappings[Int(id)].expired else { return nil }
        let m = mappings[Int(id)]
        return (m.inside.source, m.inside.sourcePort, m.remote6)
    }
}

extension SimPacket {
    /// Sets a TCP or UDP packet's source port, an echo request's identifier (a NAT's translation: the
    /// identifier is the requester's port in `key`; the ICMP checksum is computed when the packet is written).
    /// "NAT gateways support the following protocols: TCP, UDP, and ICMP" (VPC-UG nat-gateway-basics).
    @inline(__always)
    mutating func setSourcePort(_ port: UInt16) {
        switch transport {
        case .tcp(var t): t.sourcePort = port; transport = .tcp(t)
        case .udp(var u): u.sourcePort = port; transport = .udp(u)
        case .icmp(let i) where i.type == .echoRequest:
            transport = .icmp(.echo(request: true, identifier: port, sequence: i.sequence))
        default: break
        }
    }

    /// Sets a TCP or UDP packet's destination port, an echo reply's identifier.
    @inline(__always)
    mutating func setDestinationPort(_ port: UInt16) {
        switch transport {
        case .tcp(var t): t.destinationPort = port; transport = .tcp(t)
        case .udp(var u): u.destinationPort = port; transport = .udp(u)
        case .icmp(let i) where i.type == .echoReply:
            transport = .icmp(.echo(request: false, identifier: port, sequence: i.sequence))
        default: break
        }
    }
}

/// The target of a NAT gateway's idle-expiry event (`VPCNetwork.natExpiryDue`).
final class NATExpiryTimer: ScheduledTarget {
    let nat: Int
    /// The network that owns this timer (and outlives its events).
    unowned(unsafe) var network: VPCNetwork?
    init(nat: Int) { self.nat = nat }
    func fire(tag: Int) { network?.natExpiryDue(nat) }
}

/// The CloudWatch metrics of a NAT gateway (AWS/NATGateway namespace), totals for the run.
public struct NATMetrics: Sendable, Equatable, Codable {
    public var connectionAttemptCount = 0
    public var connectionEstablishedCount = 0
    public var errorPortAllocation = 0
    public var idleTimeoutCount = 0
    public var packetsDropCount = 0
    public var packetsInFromSource = 0
    public var packetsOutToDestination = 0
    public var packetsInFromDestination = 0
    public var packetsOutToSource = 0
    public var bytesInFromSource = 0
    public var bytesOutToDestination = 0
    public var bytesInFromDestination = 0
    public var bytesOutToSource = 0
    /// The largest number of simultaneous connections (CloudWatch ActiveConnectionCount, Maximum).
    public var peakActiveConnectionCount = 0
}
