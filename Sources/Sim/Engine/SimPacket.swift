import Packets

/// A packet's payload bytes, in memory of their own: plain data, so that copying a packet is copying its bytes
/// (an `[UInt8]` here made every copy of every packet a retain and a release, and a SimPacket a type the
/// compiler copies through value witnesses: about a tenth of the engine's instructions in callgrind).
///
/// Ownership is explicit: the network owns a packet's payload from `VPCNetwork.send` on and frees it when the
/// packet leaves the network (delivered, dropped); everything else borrows it during a call. A packet made and
/// never sent would leak its payload; packets without payload (the common case) own nothing.
public struct PacketPayload: @unchecked Sendable {
    private var base: UnsafeMutableRawPointer?
    public private(set) var count: Int

    public init() {
        base = nil
        count = 0
    }

    /// A copy of `bytes` in memory of its own (none for no bytes).
    init(copying bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        guard bytes.count > 0, let source = bytes.baseAddress else {
            base = nil
            return
        }
        let b = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 1)
        b.copyMemory(from: source, byteCount: bytes.count)
        base = b
    }

    @inline(__always) public var isEmpty: Bool { count == 0 }

    /// Calls `body` with the bytes (valid during the call only).
    @inline(__always)
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Calls `body` with the bytes to change in place (valid during the call only; only their owner, the network).
    @inline(__always)
    func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// A copy of the bytes, as an array.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Frees the bytes; the payload is empty afterwards. Only the packet's owner (the network) calls it.
    mutating func free() {
        base?.deallocate()
        base = nil
        count = 0
    }
}

/// A packet in flight: its headers as they are at this point of the path, plus simulation metadata that never
/// reaches the wire (which flow it belongs to, which way it goes). Plain data: see `PacketPayload`.
public struct SimPacket: Sendable {
    public var ip: IPv4Header
    public var transport: TransportHeader
    public var payload: PacketPayload
    /// Index of the flow it belongs to.
    public var flow: Int
    /// True when the flow's client sent it.
    public var fromClient: Bool
    /// Steps are recorded for the first packet of each direction of a flow (the report's path), by the network,
    /// apart from the packet (an array here would be retained and released with every copy of every packet).
    public var traced: Bool
    /// The network's trace slot for this packet, -1 until its first step.
    var traceSlot: Int32 = -1
    /// A serial number per packet sent by an endpoint (kept through translation), for the ladder diagram.
    public var id: Int = 0

    /// A packet without payload.
    public init(ip: IPv4Header, transport: TransportHeader, flow: Int, fromClient: Bool) {
        self.init(ip: ip, transport: transport, payload: PacketPayload(), flow: flow, fromClient: fromClient)
    }

    /// A packet that owns `payload` (see `PacketPayload`).
    init(ip: IPv4Header, transport: TransportHeader, payload: PacketPayload, flow: Int, fromClient: Bool) {
        self.ip = ip
        self.transport = transport
        self.payload = payload
        self.flow = flow
        self.fromClient = fromClient
        self.traced = false
    }

    @inline(__always)
    public var key: PacketKey {
        switch transport {
        case .tcp(let t):
            return PacketKey(proto: .tcp, source: ip.source, destination: ip.destination, sourcePort: t.sourcePort,
                             destinationPort: t.destinationPort)
        case .udp(let u):
            return PacketKey(proto: .udp, source: ip.source, destination: ip.destination, sourcePort: u.sourcePort,
                             destinationPort: u.destinationPort)
        case .icmp(let i):
            // An echo's identifier stands as the requester's port (Linux conntrack and NAT key echo by it): the
            // request's source port, the reply's destination port. Rules never read ICMP ports.
            let echo = i.isEchoRequest ? (i.identifier, UInt16(0)) : i.isEchoReply ? (UInt16(0), i.identifier) : (0, 0)
            return PacketKey(proto: .icmp, source: ip.source, destination: ip.destination, sourcePort: echo.0,
                             destinationPort: echo.1, icmpType: i.type.rawValue, icmpCode: i.code)
        case .none:
            return PacketKey(proto: ip.proto, source: ip.source, destination: ip.destination)
        }
    }

    public var tcp: TCPHeader? { transport.tcp }

    /// The packet's size on the wire, for MTU checks: its total length, and for an IPv6 packet (which carries an
    /// IPv4 header's length inside the engine) the 20 bytes more of the IPv6 header, and 8 more for a fragment's
    /// fragment header.
    @inline(__always) public var wireLength: Int {
        Int(ip.totalLength) + (ip.source.isIPv6Token ? (ip.isFragment ? 28 : 20) : 0)
    }

    /// "SYN", "SYN, ACK", "PSH, ACK len=41".
    public var summary: String {
        switch transport {
        case .tcp(let t):
            var s = "[\(t.flags)]"
            if !payload.isEmpty { s += " len=\(payload.count)" }
            return s
        case .udp: return "UDP len=\(payload.count)"
        case .icmp(let i):
            return ip.proto == .icmpv6 ? "ICMPv6 \(ICMPv6Type(rawValue: i.type.rawValue))" : "ICMP \(i.type)"
        case .none: return "proto \(ip.proto)"
        }
    }

    /// "tcp 10.0.0.5:1024 → 203.0.113.22:22 [SYN]".
    public var description: String { "\(key.description) \(summary)" }
}
