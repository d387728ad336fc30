import Packets

/// A packet in flight: its headers as they are at this point of the path, plus simulation metadata that never
/// reaches the wire (which flow it belongs to, which way it goes).
public struct SimPacket: Sendable {
    public var ip: IPv4Header
    public var transport: TransportHeader
    public var payload: [UInt8]
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

    public init(ip: IPv4Header, transport: TransportHeader, payload: [UInt8] = [], flow: Int, fromClient: Bool) {
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
            return PacketKey(proto: .icmp, source: ip.source, destination: ip.destination, icmpType: i.type.rawValue,
                             icmpCode: i.code)
        case .none:
            return PacketKey(proto: ip.proto, source: ip.source, destination: ip.destination)
        }
    }

    public var tcp: TCPHeader? { transport.tcp }

    /// "SYN", "SYN, ACK", "PSH, ACK len=41".
    public var summary: String {
        switch transport {
        case .tcp(let t):
            var s = "[\(t.flags)]"
            if !payload.isEmpty { s += " len=\(payload.count)" }
            return s
        case .udp: return "UDP len=\(payload.count)"
        case .icmp(let i): return "ICMP \(i.type)"
        case .none: return "proto \(ip.proto)"
        }
    }

    /// "tcp 10.0.0.5:1024 → 203.0.113.22:22 [SYN]".
    public var description: String { "\(key.description) \(summary)" }
}
