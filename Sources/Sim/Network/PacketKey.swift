import Packets

/// What a rule check looks at in a packet.
public struct PacketKey: Sendable, Equatable, Hashable {
    public var proto: IPProtocol
    public var source: IPv4Address
    public var destination: IPv4Address
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// ICMP type and code (ports are zero for ICMP).
    public var icmpType: UInt8
    public var icmpCode: UInt8

    public init(proto: IPProtocol, source: IPv4Address, destination: IPv4Address, sourcePort: UInt16 = 0,
                destinationPort: UInt16 = 0, icmpType: UInt8 = 0, icmpCode: UInt8 = 0) {
        self.proto = proto
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.icmpType = icmpType
        self.icmpCode = icmpCode
    }

    /// Two words instead of seven fields: connection tracking hashes a key for every packet at every hop.
    @inline(__always)
    public func hash(into h: inout Hasher) {
        h.combine(addressWord)
        h.combine(portWord)
    }

    /// Inlined, and the fields compared as two words: the derived `==` was a call in every table lookup.
    @inline(__always)
    public static func == (a: PacketKey, b: PacketKey) -> Bool {
        a.addressWord == b.addressWord && a.portWord == b.portWord
    }
    @inline(__always) var addressWord: UInt64 { UInt64(source.rawValue) << 32 | UInt64(destination.rawValue) }
    @inline(__always) var portWord: UInt64 {
        UInt64(sourcePort) << 48 | UInt64(destinationPort) << 32 | UInt64(proto.rawValue) << 16 | UInt64(icmpType) << 8
            | UInt64(icmpCode)
    }

    /// The same flow seen from the other end.
    public var reversed: PacketKey {
        PacketKey(proto: proto, source: destination, destination: source, sourcePort: destinationPort,
                  destinationPort: sourcePort, icmpType: icmpType, icmpCode: icmpCode)
    }

    public var hasPorts: Bool { proto == .tcp || proto == .udp }

    public var description: String {
        hasPorts ? "\(proto) \(source.with(port: sourcePort)) → \(destination.with(port: destinationPort))"
            : "\(proto) \(source) → \(destination)"
    }
}

/// Which way a packet crosses a subnet boundary (network ACLs) or an ENI (security groups: inbound = ingress).
public enum Direction: String, Sendable, Codable {
    case inbound, outbound
}

extension PacketKey: TableKey {
    /// The two words `hash(into:)` combines, folded into one for `HashTable`.
    @inline(__always) public var tableHash: UInt64 {
        (UInt64(source.rawValue) << 32 | UInt64(destination.rawValue))
            ^ (UInt64(sourcePort) << 48 | UInt64(destinationPort) << 32 | UInt64(proto.rawValue) << 16
                | UInt64(icmpType) << 8 | UInt64(icmpCode)) &* 0x9E37_79B9_7F4A_7C15
    }
}

extension IPv4Address: TableKey {
    @inline(__always) public var tableHash: UInt64 { UInt64(rawValue) }
}
