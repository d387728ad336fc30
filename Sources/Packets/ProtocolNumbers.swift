/// Open sets of wire numbers: every value is representable, the known ones have names.

public struct EtherType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let ipv4 = EtherType(rawValue: 0x0800)
    public static let arp = EtherType(rawValue: 0x0806)
    public static let vlan = EtherType(rawValue: 0x8100)
    public static let ipv6 = EtherType(rawValue: 0x86DD)
    public var description: String {
        switch self {
        case .ipv4: return "IPv4"
        case .arp: return "ARP"
        case .vlan: return "802.1Q"
        case .ipv6: return "IPv6"
        default: return "0x" + String(rawValue, radix: 16)
        }
    }
}

public struct IPProtocol: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let icmp = IPProtocol(rawValue: 1)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let gre = IPProtocol(rawValue: 47)
    public static let esp = IPProtocol(rawValue: 50)
    public static let icmpv6 = IPProtocol(rawValue: 58)
    /// The lower-case name AWS uses in the console ("tcp"), or the number.
    public var description: String {
        switch self {
        case .icmp: return "icmp"
        case .tcp: return "tcp"
        case .udp: return "udp"
        case .gre: return "gre"
        case .esp: return "esp"
        case .icmpv6: return "icmpv6"
        default: return String(rawValue)
        }
    }
    public static func < (a: IPProtocol, b: IPProtocol) -> Bool { a.rawValue < b.rawValue }
}

public struct ICMPType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let echoReply = ICMPType(rawValue: 0)
    public static let destinationUnreachable = ICMPType(rawValue: 3)
    public static let redirect = ICMPType(rawValue: 5)
    public static let echoRequest = ICMPType(rawValue: 8)
    public static let timeExceeded = ICMPType(rawValue: 11)
    public static let parameterProblem = ICMPType(rawValue: 12)
    /// ICMPv6 types (RFC 4443), for an ICMPv6 message carried in an `ICMPHeader` (the same eight bytes) by a
    /// packet whose IP protocol says 58: Destination Unreachable, Packet Too Big, Echo Request and Reply.
    public static let destinationUnreachable6 = ICMPType(rawValue: 1)
    public static let packetTooBig = ICMPType(rawValue: 2)
    public static let echoRequest6 = ICMPType(rawValue: 128)
    public static let echoReply6 = ICMPType(rawValue: 129)

    /// Types whose body quotes the offending datagram's IP header and first 8 bytes (RFC 792).
    public var quotesDatagram: Bool {
        self == .destinationUnreachable || self == .timeExceeded || self == .parameterProblem || self == .redirect
            || rawValue == 4
    }

    public var description: String {
        switch self {
        case .echoReply: return "echo-reply"
        case .destinationUnreachable: return "destination-unreachable"
        case .redirect: return "redirect"
        case .echoRequest: return "echo-request"
        case .timeExceeded: return "time-exceeded"
        case .parameterProblem: return "parameter-problem"
        default: return "type \(rawValue)"
        }
    }
}

/// pcap link-layer header types (https://www.tcpdump.org/linktypes.html).
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let ethernet = LinkType(rawValue: 1)
    public static let raw = LinkType(rawValue: 101)
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let nflog = LinkType(rawValue: 239)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let linuxSLL2 = LinkType(rawValue: 276)
    public var description: String {
        switch self {
        case .ethernet: return "Ethernet"
        case .raw: return "raw IP"
        case .linuxSLL: return "Linux cooked (SLL)"
        case .ipv4: return "raw IPv4"
        case .nflog: return "Linux NFLOG"
        case .linuxSLL2: return "Linux cooked v2 (SLL2)"
        default: return "link type \(rawValue)"
        }
    }
}
