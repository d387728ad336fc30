import Packets

/// A NAT gateway's translation state: source NAT to its private IP and a port in 1024–65535, replies
/// translated back (VPC-UG vpc-nat-gateway; aws-semantics §4).
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
        var finFromInside = false
        var finFromOutside = false
        var established = false
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
        /// The mapping had been idle longer than the idle timeout: the packet is dropped and, for TCP, the
        /// client gets an RST (VPC-UG nat-gateway-troubleshooting).
        case idleTimedOut
        /// No free port for this destination (ErrorPortAllocation).
        case portAllocationError
        /// A TCP packet that opens nothing (not a SYN) with no mapping.
        case noMapping
        case unsupportedProtocol
    }

    func translateOutbound(_ key: PacketKey, tcpFlags: TCPFlags?, now: Int64, assumptions: Assumptions,
                           rng: inout SplitMix64) -> OutboundResult {
        guard key.proto == .tcp || key.proto == .udp || key.proto == .icmp else { return .unsupportedProtocol }
        let ik = InsideKey(proto: key.proto, source: key.source, sourcePort: key.sourcePort,
                           destination: key.destination, destinationPort: key.destinationPort)
        if let id = byInside[ik] {
            let m = mappings.pointer(Int(id))
            if now - m.pointee.lastActivity > assumptions.natIdleTimeout {
                remove(id)
                count { $0.idleTimeoutCount += 1 }
                return .idleTimedOut
            }
            m.pointee.lastActivity = now
            if tcpFlags?.contains(.fin) == true { m.pointee.finFromInside = true }
            let result = OutboundResult.translated(natAddress: m.pointee.natAddress, natPort: m.pointee.natPort, new: false)
            if tcpFlags?.contains(.rst) == true || closingAck(m.pointee, tcpFlags) { remove(id) }
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
            if u < assumptions.natConnectionsPerDestination, best == nil || u < best!.used {
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
        let port = choosePort(for: key, ports: &usedPorts.value(at: ds).pointee, selection: assumptions.natPortSelection,
                              rng: &rng)
        usedPorts.value(at: ds).pointee.used.insert(port)
        let mapping = Mapping(inside: ik, natAddress: natAddress, natPort: port, lastActivity: now)
        let id: Int32
        if let free = freeMappings.popLast() {
            id = free
            mappings.pointer(Int(id)).pointee = mapping
        } else {
            id = Int32(mappings.count)
            mappings.append(mapping)
        }
        mappingCount += 1
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
        case translated(to: IPv4Address, port: UInt16, flow: Int?)
        case noMapping
        case idleTimedOut
    }

    func translateInbound(_ key: PacketKey, tcpFlags: TCPFlags?, now: Int64, assumptions: Assumptions) -> InboundResult {
        let ok = OutsideKey(proto: key.proto, natAddress: key.destination, natPort: key.destinationPort,
                            remote: key.source, remotePort: key.sourcePort)
        guard let id = byOutside[ok] else { return .noMapping }
        let m = mappings.pointer(Int(id))
        if now - m.pointee.lastActivity > assumptions.natIdleTimeout {
            remove(id)
            count { $0.idleTimeoutCount += 1 }
            return .idleTimedOut
        }
        m.pointee.lastActivity = now
        if let f = tcpFlags {
            if f.contains(.syn), f.contains(.ack), !m.pointee.established {
                m.pointee.established = true
                count { $0.connectionEstablishedCount += 1 }
            }
            if f.contains(.fin) { m.pointee.finFromOutside = true }
        }
        let result = InboundResult.translated(to: m.pointee.inside.source, port: m.pointee.inside.sourcePort, flow: nil)
        if tcpFlags?.contains(.rst) == true || closingAck(m.pointee, tcpFlags) { remove(id) }
        return result
    }

    /// The last ACK of a connection both sides have closed: the mapping goes with it. How long AWS keeps a
    /// closed connection's mapping is undocumented; freeing it here makes memory follow open connections.
    private func closingAck(_ m: Mapping, _ flags: TCPFlags?) -> Bool {
        guard let f = flags else { return false }
        return m.finFromInside && m.finFromOutside && !f.contains(.fin)
    }

    private func remove(_ id: Int32) {
        let m = mappings[Int(id)]
        freeMappings.append(id)
        mappingCount -= 1
        byInside[m.inside] = nil
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
