import Packets

/// A scenario: the network, the traffic to run through it, and the assumptions in force.
public struct Scenario: Sendable {
    public var name: String
    public var description: String?
    /// The file it was loaded from, for messages.
    public var file: String
    public var seed: UInt64
    /// Unix time (nanoseconds) that virtual time 0 maps to in captures and flow logs.
    public var startTime: Int64
    public var model: VPCModel
    public var flows: [FlowSpec]
    /// Many flows described in a few lines: "1,000 invocations per second for 60 s".
    public var generators: [FlowGenerator] = []
    public var assumptions: Assumptions
    /// What VPC Flow Logs would write (`flow_logs:`): interval, format, account and region.
    public var flowLogs = FlowLogSettings()
    /// What the scenario says that the simulation does not model (an endpoint policy), one line each, in file
    /// order: shown in the report.
    public var warnings: [String] = []
    /// Values the scenario's importer made up (`invented:`), reported among the assumptions.
    public var invented: [InventedValue] = []

    public init(name: String, description: String? = nil, file: String, seed: UInt64 = 1,
                startTime: Int64 = 1_795_689_600_000_000_000, model: VPCModel, flows: [FlowSpec],
                assumptions: Assumptions = Assumptions()) {
        self.name = name
        self.description = description
        self.file = file
        self.seed = seed
        self.startTime = startTime
        self.model = model
        self.flows = flows
        self.assumptions = assumptions
    }
}

/// Where a flow starts.
public enum FlowSource: Sendable, Equatable {
    /// A Lambda function (index), from one of its Hyperplane ENIs: this one when the flow pins it
    /// (`from: uploader@private-b`), else the one each invocation draws (`FlowSpec.spreadOverSubnets`).
    case lambda(Int, eni: Int)
    case instance(Int)
    case outsideHost(Int)
}

/// Where a flow goes: an address (of an outside host, an instance's private or public IP, …) and a port.
public struct FlowDestination: Sendable, Equatable {
    public var address: IPv4Address
    public var port: UInt16
    /// What the scenario called it ("sftp.example.com:22").
    public var label: String
    /// The interface VPC endpoint whose private DNS name the scenario called it: `address` is its ENI in the AZ of
    /// the flow's first source ENI; a flow started from another ENI gets the ENI in that one's AZ.
    public var interfaceEndpoint: Int? = nil
    /// Why the name leads nowhere modeled (a service name that resolves to the public service, with no outside
    /// host for it): the flow ends `not-modeled` with this message before it sends anything.
    public var notModeled: String? = nil
    /// Happy Eyeballs (`ClientProfile.AddressFamily.happyEyeballs`): the IPv4 address the client tries when the
    /// IPv6 one (`address`) has not connected after the Connection Attempt Delay.
    public var fallback: IPv4Address? = nil
    /// `address` is the AAAA record Route 53 Resolver synthesized with DNS64 (64:ff9b::<IPv4>) for a name with an
    /// A record only, the source's subnet having `enable_dns64`.
    public var dns64 = false

    /// Whether the flow goes over IPv6 (its address an `IPv6Token`).
    public var isIPv6: Bool { address.isIPv6Token }
}

/// The application a flow speaks, with the client's timeouts.
public enum AppProfile: String, Sendable, CaseIterable {
    /// ssh2-sftp-client defaults: readyTimeout 20 s covers connect, banners, key exchange and authentication
    /// (mscdex/ssh2 lib/client.js).
    case sftp
    /// A curl-like HTTPS client: TLS 1.3, request and response; connect timeout left to the OS.
    case https
    /// Plain TCP: connect, send `size` bytes, receive an echo of the same size, close.
    case tcp
    /// Plain HTTP/1.0 (curl against Python's http.server): GET, headers, a body of `size` bytes.
    case http
    /// An OpenSSH 9.2 `sftp` session listing a directory, message for message as in the linux-netns reference.
    case sftpList = "sftp-ls"
    /// UDP datagrams of `size` bytes, `count` of them 1 s apart, each answered by the server with `reply_size`
    /// bytes (`DatagramClient`).
    case udp
    /// ICMP echo requests with `size` bytes of data (ping -s), `count` of them 1 s apart, as iputils ping sends
    /// them (`DatagramClient`).
    case ping

    /// Whether the application speaks SSH (banners, authentication readiness).
    public var isSSH: Bool { self == .sftp || self == .sftpList }

    /// Whether the flow is datagrams (UDP, ICMP echo) rather than a TCP conversation.
    public var isDatagram: Bool { self == .udp || self == .ping }

}

extension AppProfile {
    /// Whether the server side leaves Nagle's algorithm on: sshd sets TCP_NODELAY only for interactive
    /// sessions (OpenSSH packet.c ssh_packet_set_interactive, called when the session starts) and Python's
    /// http.server never does; HTTPS and plain TCP servers are taken to set it.
    public var serverNagle: Bool { isSSH || self == .http }
}

public enum FlowOutcome: String, Sendable, Codable, CaseIterable {
    case ok, timeout, refused, reset, unreachable
    /// The source had no free ephemeral port (Linux's connect() fails at once with EADDRNOTAVAIL): nothing sent.
    case noPort = "no-port"
    /// The flow's packet was routed to a component the model does not have (a peering connection, a transit
    /// gateway, an appliance ENI, …): no network verdict, and so no fix. `run` exits 1 unless it is expected.
    case notModeled = "not-modeled"

    /// The place in `allCases`.
    var index: Int {
        switch self {
        case .ok: 0
        case .timeout: 1
        case .refused: 2
        case .reset: 3
        case .unreachable: 4
        case .noPort: 5
        case .notModeled: 6
        }
    }
}

/// What a scenario expects of a flow, so scenarios double as network tests.
public struct FlowExpectation: Sendable, Equatable {
    public var outcome: FlowOutcome?
    /// The component (id or name) where the flow's first packet dies, e.g. "acl-public".
    public var droppedAt: String?
    /// "inbound" / "outbound" / "egress" / "ingress", when the drop is at a NACL or security group.
    public var dropDirection: String?
    /// Expect no drop at all.
    public var noDrop: Bool
    /// Where in the scenario file the expectation was written, for messages ("x.yaml:40:7").
    public var location: String

    public init(outcome: FlowOutcome? = nil, droppedAt: String? = nil, dropDirection: String? = nil,
                noDrop: Bool = false, location: String = "") {
        self.outcome = outcome
        self.droppedAt = droppedAt
        self.dropDirection = dropDirection
        self.noDrop = noDrop
        self.location = location
    }
}

public struct FlowSpec: Sendable {
    public var name: String
    public var source: FlowSource
    /// How the scenario named the source ("lambda uploader").
    public var sourceLabel: String
    public var destination: FlowDestination
    public var app: AppProfile
    /// How `app` was chosen when the flow did not name it (`vpcsim trace` without `--app`), as the report says
    /// it; nil when it was named.
    public var appBasis: String?
    /// Virtual start time, nanoseconds.
    public var start: Int64
    /// Bytes: the file size for sftp, the response size for https, the payload for tcp.
    public var size: Int
    /// The most `size` and `requestSize` may be, and add up to over a scenario's flows (a generator's counted
    /// once: its flows share one conversation): 1 GiB. Every conversation's bytes are built in memory when the run
    /// starts (about 1.4 times the size), so more could exhaust it rather than fail cleanly.
    public static let maxSize = 1 << 30
    /// `maxSize` and why, as the messages that enforce it say it.
    static let maxSizeText = "1 GiB (\(maxSize) bytes), the most a run transfers (its bytes are built in memory)"
    /// The request size for https.
    public var requestSize: Int
    public var expect: FlowExpectation?
    /// The client program's timeouts (default: ssh2 for sftp, curl for https, none for tcp).
    public var client: ClientProfile
    /// A fixed source port instead of a random one from the source's ephemeral range.
    public var sourcePort: UInt16?
    /// The client keeps the connection open, idle, this long after its conversation before closing
    /// (a pooled connection, a Lambda that holds its SFTP session), nanoseconds.
    public var hold: Int64 = 0
    /// A Lambda source whose invocations are spread over the function's subnets (`from: uploader`): each one
    /// uses the ENI `LambdaSpread` draws for it; false: the ENI in `source` (`from: uploader@private-b`).
    public var spreadOverSubnets = false
    /// An instance source's interface the flow is sent from (`vpcsim trace --from` one of its `network_interfaces`);
    /// nil: its primary interface.
    public var sourceInterface: Int?
    /// An interactive session's commands and pauses (`steps`, app sftp); nil: the app's own conversation.
    public var steps: [SFTPStep]?
    /// The most `steps` a flow may have.
    public static let maxSteps = 1000
    /// The idle steps' total, nanoseconds (at most a year: `ScenarioBuilder.maxSpan`).
    public var idle: Int64 = 0
    /// The client socket's TCP keepalive time (SO_KEEPALIVE with tcp_keepalive_time), nanoseconds; nil: off,
    /// as Linux sockets are unless the program turns it on.
    public var keepalive: Int64?
    /// The server socket's TCP keepalive time, nanoseconds (sshd sets SO_KEEPALIVE by default, TCPKeepAlive yes;
    /// the time is the server's tcp_keepalive_time sysctl, 7200 s unless lowered); nil: off.
    public var serverKeepalive: Int64?
    /// sshd's LoginGraceTime for SSH flows, nanoseconds: a connection that has not authenticated that long after
    /// sshd accepted it is closed (sshd_config(5): 120 s by default; 0: no limit). Nil: the default.
    public var loginGraceTime: Int64?
    public static let defaultLoginGraceTime: Int64 = 120_000_000_000
    /// OpenSSH ServerAliveInterval (ssh_config; 0, off, by default), nanoseconds, and ServerAliveCountMax (3).
    public var serverAliveInterval: Int64?
    public var serverAliveCountMax = 3
    /// Datagram flows (`udp`, `ping`): how many datagrams (`count`), the server's reply size (`reply_size`, udp; nil:
    /// `size`), how long the client waits for replies after its last datagram (`reply_timeout`), and how its
    /// socket sets DF (`pmtudisc`). Nil: the app's default (`FlowSpec.datagramCount`, `datagramReplyTimeout`).
    public var count: Int?
    public var replySize: Int?
    public var replyTimeout: Int64?
    public var pmtuDiscovery: PMTUDiscovery = .want

    public init(name: String, source: FlowSource, sourceLabel: String, destination: FlowDestination, app: AppProfile,
                start: Int64 = 0, size: Int = 100_000, requestSize: Int = 300, expect: FlowExpectation? = nil) {
        self.name = name
        self.source = source
        self.sourceLabel = sourceLabel
        self.destination = destination
        self.app = app
        self.start = start
        self.size = size
        self.requestSize = requestSize
        self.expect = expect
        self.client = .default(for: app)
        self.sourcePort = nil
    }
}

/// Behaviour AWS does not document, as named values a scenario can override (`assumptions:` in YAML).
/// Each is printed in the report with its value and whether the scenario overrode it.
public struct Assumptions: Sendable, Equatable {
    public enum NATPortSelection: String, Sendable, CaseIterable {
        /// A seeded random port in 1024–65535 per new connection.
        case random
        /// Keep the client's source port when free (as Linux masquerade does), else pick randomly.
        case preserve
        /// The lowest free port from 1024 upward.
        case sequential
    }

    /// How a Lambda function's invocations are spread over its subnets (its Hyperplane ENIs).
    public enum LambdaSubnetSpread: String, Sendable, CaseIterable {
        /// Each invocation draws one of the function's subnets with equal chance (seeded; independent of the
        /// order the subnets are listed in).
        case uniform
        /// Every invocation uses the first subnet listed.
        case first
    }

    /// How the NAT gateway picks its source port (AWS: "port choice algorithm undocumented").
    public var natPortSelection: NATPortSelection = .random
    /// One-way latency of one hop inside the VPC (ENI ↔ VPC router ↔ gateway), nanoseconds.
    public var vpcHopLatency: Int64 = 50_000
    /// Processing time of the NAT gateway per packet, nanoseconds.
    public var natProcessing: Int64 = 20_000
    /// Default round-trip time between the internet gateway and an outside host, nanoseconds.
    public var internetRTT: Int64 = 20_000_000
    /// Routers between the internet gateway and an outside host (each decrements the TTL).
    public var internetHops: Int = 8
    /// Whether the NAT gateway decrements the TTL as a router does.
    public var natDecrementsTTL: Bool = true
    /// Whether the internet gateway decrements the TTL (an AWS IGW does not show as a hop; a Linux router
    /// standing in for one, as in the linux-netns reference, does).
    public var igwDecrementsTTL: Bool = false
    /// The NAT gateway's idle timeout (VPC-UG nat-gateway-troubleshooting: 350 s, not configurable).
    public var natIdleTimeout: Int64 = 350_000_000_000
    /// Simultaneous connections per NAT address and destination (VPC-UG: 55,000).
    public var natConnectionsPerDestination: Int = 55_000
    /// Server SYN-ACK retransmissions (Linux tcp_synack_retries default 5).
    public var serverSynAckRetries: Int = 5
    /// Lambda source ports (Lambda-DG foundation-networking: 1024–65535).
    public var lambdaEphemeralPorts: ClosedRange<UInt16> = 1024...65535
    /// Which subnet (Hyperplane ENI) an invocation of a function in several subnets uses. Lambda-DG
    /// configuration-vpc asks for subnets in several AZs for availability but does not say how invocations are
    /// spread over them.
    public var lambdaSubnetSpread: LambdaSubnetSpread = .uniform
    /// Whether a TCP connection's flow-log records end when it closes (as seen at the ENI: both FINs, each
    /// acknowledged by the other side, or an RST), so that a later connection reusing the 5-tuple in the same
    /// aggregation interval gets records of its own; false: a record lasts until its interval ends, pooling such
    /// connections. AWS documents records per 5-tuple and interval (VPC-UG flow-log-records), not what a close
    /// does.
    public var flowLogRecordPerConnection: Bool = true
    /// Bandwidths, bits per second: each TCP connection's packets leave its sender no faster than the narrowest of
    /// the path's (`Simulation.pathRate`).
    /// An outside host's link when the scenario gives none (`bandwidth:`): a guess, a server on a 1 Gbit/s port.
    public var outsideHostBandwidth: Int64 = 1_000_000_000
    /// A Lambda function's network throughput: AWS publishes no figure; about 600 Mbit/s is what practitioners
    /// measure (undocumented, practitioner knowledge).
    public var lambdaBandwidth: Int64 = 600_000_000
    /// An instance's single flow: EC2-UG ec2-instance-network-bandwidth: "single-flow … limited to 5 Gbps"
    /// outside a cluster placement group.
    public var instanceBandwidth: Int64 = 5_000_000_000
    /// A NAT gateway: VPC-UG nat-gateway-basics: "supports 5 Gbps of bandwidth and automatically scales up to
    /// 100 Gbps"; the starting figure, as a flow meets it.
    public var natGatewayBandwidth: Int64 = 5_000_000_000
    /// Who closes an HTTP/1.0 connection (`http` application) first: which FIN comes first depends on
    /// microseconds (`HTTPCloseOrder`).
    public var httpClose: HTTPCloseOrder = .serverFirst
    /// One-way latency a packet gains crossing an inter-Region VPC peering connection, nanoseconds: AWS publishes
    /// no figure (it depends on the two Regions); a guess, about half of us-east-1 ↔ eu-west-1's round trip.
    public var interRegionPeeringLatency: Int64 = 35_000_000

    /// Which ENI of a transit gateway attachment a packet leaves by when the attachment has no subnet in the AZ
    /// it entered the gateway in (and appliance mode is off): AWS documents AZ affinity, not this case.
    public enum TGWCrossAZ: String, Sendable, CaseIterable {
        /// The attachment's first subnet listed.
        case first
        /// One of its subnets by a flow hash, the same both ways.
        case flowHash = "flow-hash"
    }
    public var tgwCrossAZ: TGWCrossAZ = .first
    /// Time a transit gateway takes to route a packet, nanoseconds (undocumented by AWS).
    public var tgwProcessing: Int64 = 50_000
    /// Security-group connection tracking's idle timeouts, nanoseconds (EC2 API ConnectionTrackingSpecification:
    /// TcpEstablishedTimeout default 432,000 s, 350 s on Nitro v6; UdpTimeout 30 s; UdpStreamTimeout 180 s;
    /// EC2-UG security-group-connection-tracking: other protocols 600 s). An ENI's `connection_tracking`
    /// overrides the first three. The model applies the TCP timeout in every TCP state (AWS documents no
    /// SYN_SENT or FIN timeouts) and the "other" one to ICMP.
    public var sgTCPEstablishedTimeout: Int64 = 432_000_000_000_000
    public var sgTCPEstablishedTimeoutNitroV6: Int64 = 350_000_000_000
    public var sgUDPTimeout: Int64 = 30_000_000_000
    public var sgUDPStreamTimeout: Int64 = 180_000_000_000
    public var sgOtherTimeout: Int64 = 600_000_000_000

    /// Interface MTUs, bytes; each stack's MSS follows its MTU less 40 (9001 → 8961). An instance's: EC2-UG
    /// network_mtu ("all current generation instances support jumbo frames": 9001); per instance `mtu:`.
    public var instanceMTU: Int = 9001
    /// A Lambda function's Hyperplane ENI: AWS documents no MTU for it; 1500 is what the function's network
    /// interface shows (undocumented).
    public var lambdaMTU: Int = 1500
    /// An outside or on-premises host's interface: Ethernet's 1500 unless the host says (`mtu:`).
    public var outsideHostMTU: Int = 1500
    /// What an internet gateway forwards: EC2-UG network_mtu ("traffic that flows through an internet gateway …
    /// will forward packets up to 1500 bytes only").
    public var igwMTU: Int = 1500
    /// Whether a security group leaves untracked the TCP and UDP flows AWS does not track: allowed by a rule for
    /// 0.0.0.0/0 (an IPv6 flow: ::/0) one way with a rule for 0.0.0.0/0 (::/0) and every port the other way, not
    /// through a NAT gateway, egress-only internet gateway, transit gateway attachment or interface endpoint, not
    /// at a Lambda ENI (EC2-UG
    /// security-group-connection-tracking, "Untracked connections", "Automatically tracked connections"). Such a
    /// flow keeps no state, so no idle timeout expires it. `false`: every allowed flow is tracked.
    public var sgUntrackedFlows: Bool = true
    /// Whether a security group admits an ICMP error (type 3) quoting a connection it tracks without an inbound
    /// ICMP rule, as Linux conntrack admits RELATED packets. AWS documents the opposite need: EC2-UG
    /// security-group-rules-reference, "Path MTU Discovery": "To ensure that your instance can receive this
    /// message, you must add this rule to the inbound security group rules" (Custom ICMP, Destination Unreachable,
    /// fragmentation required); it does not document related ICMP. Default: not admitted.
    public var sgAdmitsRelatedICMP: Bool = false
    /// How long a Linux sender keeps a path MTU learned from ICMP "fragmentation needed" (a route exception):
    /// net.ipv4.route.mtu_expires, 600 s (Documentation/networking/ip-sysctl.rst).
    public var pmtuExpires: Int64 = 600_000_000_000
    /// net.ipv4.tcp_mtu_probing (ip-sysctl.rst: default 0, off; 1: "disabled by default, enabled when an ICMP black
    /// hole detected"): black-hole detection, `TCPConnection.blackHoleSuspected`. 2 (always) is not modeled.
    public var tcpMTUProbing: Int = 0

    /// Which of an instance's network interfaces a packet it forwards leaves by: the instance's operating system
    /// routes it by its own table, which the model does not have.
    public enum ApplianceEgress: String, Sendable, CaseIterable {
        /// The interface whose subnet holds the destination (a connected route), else the primary (the default
        /// route through eth0, as a Linux instance configures it).
        case connected
        /// The interface the packet arrived on.
        case arrival
    }
    public var applianceEgress: ApplianceEgress = .connected

    /// Whether a transit gateway answers a packet too big for the link it would leave by (over 8500 bytes between
    /// VPCs, over 1500 toward a VPN attachment) with ICMP "fragmentation needed" when the packet arrived through a
    /// VPC attachment. AWS's transit gateway quotas (TGW-UG transit-gateway-quotas#mtu-quotas) long said it
    /// "does not generate the FRAG_NEEDED for ICMPv4 packet"; since November 2024 it sends FragNeeded / Packet
    /// Too Big for VPC attachments (AWS Networking & Content Delivery blog, "Performance and metrics
    /// enhancements for AWS Transit Gateway and AWS Cloud WAN"). `false`: the older silent drop.
    public var tgwSendsFragNeeded: Bool = true
    /// The inner MTU of a Site-to-Site VPN tunnel (VPN-UG vpn-limits, cgw-best-practice: 1446 with AES-GCM and no
    /// NAT traversal, MSS 1406; 1438 / MSS 1398 with NAT-T). Bigger packets with DF set are dropped with no ICMP
    /// ("Site-to-Site VPN does not support Path MTU Discovery"); TCP SYNs through the tunnel have their MSS
    /// clamped to this less 40.
    public var vpnTunnelMTU: Int = 1446
    /// How long a receiver keeps the fragments of an incomplete datagram before discarding them: Linux
    /// net.ipv4.ipfrag_time, 30 s (Documentation/networking/ip-sysctl.rst; RFC 791 suggests 15 s).
    public var fragmentReassemblyTimeout: Int64 = 30_000_000_000
    /// How an ENI without an `ipv6_address` gets one in a subnet that assigns them (ScenarioBuilder+IPv6.swift).
    public var ipv6AddressAllocation: IPv6AddressAllocation = .lowest

    /// AWS chooses an ENI's IPv6 address in its subnet's /64 without saying how (EC2 API RunInstances
    /// Ipv6AddressCount: "Amazon EC2 chooses the IPv6 addresses from the range of your subnet",
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html; CreateNetworkInterface: "Amazon
    /// EC2 automatically selects the IPv6 addresses from the subnet range"); the addresses it gives look random
    /// across the /64.
    public enum IPv6AddressAllocation: String, Sendable, CaseIterable {
        /// The lowest free address from `::4` up, in file order after the given ones (short, readable addresses).
        case lowest
        /// An interface identifier hashed from the ENI's id, spread over the /64 as AWS's are (still the same every
        /// run).
        case hashed
    }
    /// How long an egress-only internet gateway keeps an idle connection's state: AWS documents none; the NAT
    /// gateway's 350 s (VPC-UG nat-gateway-troubleshooting) is assumed.
    public var eigwIdleTimeout: Int64 = 350_000_000_000
    /// Whether every security group written without `egress:` in a VPC with an IPv6 block also allows all IPv6
    /// out (`::/0`): AWS documents that rule for the VPC's default group only (VPC-UG default-security-group: it
    /// "is added only if your VPC has an associated IPv6 CIDR block"); a group one creates gets the IPv4 rule
    /// alone (AWS CDK SecurityGroupProps allowAllIpv6Outbound adds `::/0` for that reason). Default false: only a
    /// group named `default` gets it.
    public var sgDefaultEgressIPv6 = false
    /// Whether an egress-only internet gateway lets in an ICMPv6 error (a Packet Too Big) quoting a connection it
    /// tracks, as a stateful gateway (Linux conntrack's RELATED, a NAT gateway for ICMP) does. AWS documents
    /// only that it "prevents the internet from initiating an IPv6 connection" (VPC-UG
    /// egress-only-internet-gateway). Default: let in (else IPv6 Path MTU Discovery could never work through one).
    public var eigwAdmitsRelatedICMPv6: Bool = true
    /// The DF flag of the IPv4 packets a NAT gateway's NAT64 makes of IPv6 ones (VPCNetwork+NAT64.swift): AWS does
    /// not say which translation rules it follows.
    public var nat64DontFragment: NAT64DontFragment = .rfc7915
    /// Whether a NAT gateway's NAT64 translates an ICMP error from the IPv4 side for one of its connections to
    /// ICMPv6 (RFC 7915 §4.2: fragmentation needed → Packet Too Big) or drops it. AWS documents that a NAT gateway
    /// supports ICMP and performs NAT64 (VPC-UG nat-gateway-basics), not how its NAT64 treats ICMP errors.
    /// Default: translated, as RFC 7915 has it (else IPv6 Path MTU Discovery through NAT64 could never work).
    public var nat64TranslatesICMPErrors: Bool = true

    public enum NAT64DontFragment: String, Sendable, CaseIterable {
        /// RFC 7915 §5.1: DF clear on a translated packet of 1260 bytes or less (an IPv6 packet of 1280 or less), set
        /// on the others.
        case rfc7915
        /// RFC 6145 §5.1 (which RFC 7915 replaced): DF set on every translated packet.
        case always
    }

    /// Where an IPv6 packet from the internet enters a VPC that has both an internet gateway and an egress-only
    /// one, when it is not a reply to a connection that went out through the egress-only gateway (such a reply
    /// comes back through it, which "sends the response back to the instances", VPC-UG
    /// egress-only-internet-gateway-basics). AWS documents the internet gateway as the VPC's way in from the
    /// internet (VPC-UG VPC_Internet_Gateway) and subnet route tables as deciding where traffic leaving a subnet
    /// goes (VPC-UG VPC_Route_Tables: ingress is routed only by a gateway route table), not which gateway an
    /// unsolicited packet meets: undocumented, so named. A VPC without an internet gateway is entered at its
    /// egress-only gateway either way, which drops what no connection from inside asked for.
    public var ipv6InboundEntry: IPv6InboundEntry = .internetGateway

    public enum IPv6InboundEntry: String, Sendable, CaseIterable {
        /// The internet gateway: the packet then meets the subnet's NACL and the ENI's security groups.
        case internetGateway = "internet_gateway"
        /// The egress-only gateway when the destination's subnet routes the sender's address to it (the way the
        /// connection would go out), which drops it; the internet gateway otherwise.
        case subnetRoute = "subnet_route"
    }

    /// Names the scenario overrode.
    public var overridden: Set<String> = []

    public init() {}

    /// Every assumption as (name, value, documented source or "undocumented"), in a fixed order.
    public var listing: [(name: String, value: String, basis: String)] {
        [
            ("nat_port_selection", natPortSelection.rawValue, "undocumented by AWS (port choice algorithm)"),
            ("vpc_hop_latency_us", String(vpcHopLatency / 1000), "undocumented by AWS"),
            ("nat_processing_us", String(natProcessing / 1000), "undocumented by AWS"),
            ("internet_rtt_ms", String(internetRTT / 1_000_000), "per outside host, default"),
            ("internet_hops", String(internetHops), "undocumented"),
            ("nat_decrements_ttl", String(natDecrementsTTL), "undocumented by AWS"),
            ("igw_decrements_ttl", String(igwDecrementsTTL), "undocumented by AWS"),
            ("nat_idle_timeout_s", String(natIdleTimeout / 1_000_000_000), "VPC-UG nat-gateway-troubleshooting"),
            ("nat_connections_per_destination", String(natConnectionsPerDestination), "VPC-UG nat-gateway-basics"),
            ("server_synack_retries", String(serverSynAckRetries), "Linux tcp_synack_retries default"),
            ("lambda_ephemeral_ports", "\(lambdaEphemeralPorts.lowerBound)-\(lambdaEphemeralPorts.upperBound)",
             "Lambda-DG foundation-networking"),
            ("lambda_subnet_spread", lambdaSubnetSpread.rawValue,
             "undocumented by AWS (which of a function's subnets each call uses)"),
            ("flow_log_record_per_connection", String(flowLogRecordPerConnection),
             "undocumented by AWS (when a flow-log record ends)"),
            ("outside_host_bandwidth_mbps", String(outsideHostBandwidth / 1_000_000),
             "per outside host (bandwidth:), default; a guess (a 1 Gbit/s server port)"),
            ("lambda_bandwidth_mbps", String(lambdaBandwidth / 1_000_000),
             "undocumented by AWS (practitioners measure about 600 Mbit/s)"),
            ("instance_bandwidth_mbps", String(instanceBandwidth / 1_000_000),
             "EC2-UG ec2-instance-network-bandwidth (single flow, 5 Gbps)"),
            ("nat_gateway_bandwidth_mbps", String(natGatewayBandwidth / 1_000_000),
             "VPC-UG nat-gateway-basics (5 Gbps, scaling to 100 Gbps)"),
            ("http_close", httpClose.rawValue, "timing of curl and Python's http.server (docs/fidelity.md)"),
            ("inter_region_peering_latency_ms", String(interRegionPeeringLatency / 1_000_000),
             "undocumented by AWS (depends on the two Regions; a guess, half of us-east-1 ↔ eu-west-1's round trip)"),
            ("tgw_cross_az", tgwCrossAZ.rawValue,
             "undocumented by AWS (an attachment without a subnet in the packet's AZ)"),
            ("tgw_processing_us", String(tgwProcessing / 1000), "undocumented by AWS"),
            ("sg_tcp_established_timeout_s", String(sgTCPEstablishedTimeout / 1_000_000_000),
             "EC2 API ConnectionTrackingSpecification (TcpEstablishedTimeout default)"),
            ("sg_tcp_established_timeout_nitro_v6_s", String(sgTCPEstablishedTimeoutNitroV6 / 1_000_000_000),
             "EC2 API ConnectionTrackingSpecification (Nitro v6 default)"),
            ("sg_udp_timeout_s", String(sgUDPTimeout / 1_000_000_000), "EC2 API ConnectionTrackingSpecification"),
            ("sg_udp_stream_timeout_s", String(sgUDPStreamTimeout / 1_000_000_000),
             "EC2 API ConnectionTrackingSpecification"),
            ("sg_other_timeout_s", String(sgOtherTimeout / 1_000_000_000),
             "EC2-UG security-group-connection-tracking (other protocols; ICMP assumed alike)"),
            ("instance_mtu", String(instanceMTU), "EC2-UG network_mtu (jumbo frames, 9001)"),
            ("lambda_mtu", String(lambdaMTU), "undocumented by AWS (a Lambda ENI's MTU)"),
            ("outside_host_mtu", String(outsideHostMTU), "Ethernet's 1500; per host (mtu:)"),
            ("igw_mtu", String(igwMTU), "EC2-UG network_mtu (internet gateway: 1500)"),
            ("sg_untracked_flows", String(sgUntrackedFlows),
             "EC2-UG security-group-connection-tracking (untracked connections; automatically tracked ones)"),
            ("sg_admits_related_icmp", String(sgAdmitsRelatedICMP),
             "EC2-UG security-group-rules-reference (Path MTU Discovery needs an inbound ICMP rule)"),
            ("pmtu_expires_s", String(pmtuExpires / 1_000_000_000), "Linux net.ipv4.route.mtu_expires default"),
            ("tcp_mtu_probing", String(tcpMTUProbing), tcpMTUProbing == 0 ? "Linux net.ipv4.tcp_mtu_probing default (off)"
                : "Linux black-hole detection: MSS 1024 after 3 s of timeouts, halved at each later one; no probing up"),
            ("appliance_egress_interface", applianceEgress.rawValue,
             "the instance's own routing table (not in AWS's model; a Linux instance's connected and default routes)"),
            ("tgw_sends_frag_needed", String(tgwSendsFragNeeded),
             "AWS N&CD blog, Nov 2024 (TGW sends FragNeeded for VPC attachments); before: silent drop"),
            ("vpn_tunnel_mtu", String(vpnTunnelMTU), "VPN-UG vpn-limits (inner MTU 1446, 1438 with NAT-T)"),
            ("fragment_reassembly_timeout_s", String(fragmentReassemblyTimeout / 1_000_000_000),
             "Linux net.ipv4.ipfrag_time default"),
            ("ipv6_address_allocation", ipv6AddressAllocation.rawValue,
             "undocumented by AWS (EC2 API Ipv6AddressCount: EC2 \"chooses the IPv6 addresses from the range of your subnet\")"),
            ("eigw_idle_timeout_s", String(eigwIdleTimeout / 1_000_000_000),
             "undocumented for an egress-only internet gateway; the NAT gateway's idle timeout"),
            ("sg_default_egress_ipv6", String(sgDefaultEgressIPv6),
             "VPC-UG default-security-group (the default group's ::/0 outbound rule); a created group's is IPv4 only (AWS CDK allowAllIpv6Outbound)"),
            ("eigw_admits_related_icmpv6", String(eigwAdmitsRelatedICMPv6),
             "undocumented by AWS (a stateful gateway lets in ICMPv6 errors of the connections it tracks)"),
            ("nat64_dont_fragment", nat64DontFragment.rawValue,
             "undocumented by AWS (NAT64's DF flag; RFC 7915 §5.1: set above 1260 bytes)"),
            ("nat64_translates_icmp_errors", String(nat64TranslatesICMPErrors),
             "undocumented by AWS (VPC-UG nat-gateway-basics: ICMP and NAT64; RFC 7915 §4.2 makes the errors ICMPv6)"),
            ("ipv6_inbound_entry", ipv6InboundEntry.rawValue,
             "undocumented: the gateway an unsolicited IPv6 packet meets in a VPC with an internet gateway and an egress-only one "
             + "(VPC-UG VPC_Internet_Gateway: the internet gateway is the VPC's way in)"),
        ]
    }
}

/// N flows from one template, with seeded start times: uniformly spread over `over` from `start`.
public struct FlowGenerator: Sendable {
    public var name: String
    /// Source, destination, application, size, client and hold of every generated flow; its name and start
    /// are replaced per flow ("<generator>#<n>").
    public var template: FlowSpec
    public var count: Int
    public var start: Int64
    public var over: Int64
    public var expect: GeneratorExpectation?

    public init(name: String, template: FlowSpec, count: Int, start: Int64 = 0, over: Int64 = 0,
                expect: GeneratorExpectation? = nil) {
        self.name = name
        self.template = template
        self.count = count
        self.start = start
        self.over = over
        self.expect = expect
    }

    /// The start times, sorted: the same seed gives the same times.
    public func startTimes(seed: UInt64, index: Int) -> [Int64] {
        var rng = SplitMix64(seed: seed ^ (0xA5A5_0000 &+ UInt64(index)) &* 0x9E37_79B9_7F4A_7C15)
        guard over > 0 else { return Array(repeating: start, count: count) }
        var offsets = (0..<count).map { _ in UInt64(Int64.random(in: 0..<over, using: &rng)) }
        FlowGenerator.sortOffsets(&offsets, below: UInt64(over))
        return offsets.map { start + Int64($0) }
    }

    /// Sorts `values`, each below `bound`: a radix sort, least significant digit first, when there are many (the
    /// same order as `sort()`, which a million start times took some 65 ms, 1.4% of a million-flow run).
    static func sortOffsets(_ values: inout [UInt64], below bound: UInt64) {
        guard values.count >= 4096 else { return values.sort() }
        let digitBits = 11
        let buckets = 1 << digitBits
        let bits = 64 - max(bound, 1).leadingZeroBitCount
        var other = [UInt64](repeating: 0, count: values.count)
        var counts = [Int](repeating: 0, count: buckets)
        var shift = 0
        while shift < bits {
            values.withUnsafeBufferPointer { from in
                other.withUnsafeMutableBufferPointer { to in
                    counts.withUnsafeMutableBufferPointer { c in
                        for i in 0..<buckets { c[i] = 0 }
                        for v in from { c[Int(truncatingIfNeeded: v >> UInt64(shift)) & (buckets - 1)] += 1 }
                        var sum = 0
                        for i in 0..<buckets {
                            let n = c[i]
                            c[i] = sum
                            sum += n
                        }
                        for v in from {
                            let d = Int(truncatingIfNeeded: v >> UInt64(shift)) & (buckets - 1)
                            to[c[d]] = v
                            c[d] += 1
                        }
                    }
                }
            }
            swap(&values, &other)
            shift += digitBits
        }
    }
}

/// What a scenario expects of a generator's flows.
public struct GeneratorExpectation: Sendable, Equatable {
    public var minOK: Int?
    public var maxOK: Int?
    /// Where the failures die (component id), e.g. the NAT gateway for ErrorPortAllocation.
    public var droppedAt: String?
    /// A Lambda generator's subnets (indices into the model's subnets) whose invocations all end ok (true) or
    /// all fail (false), each used by at least one invocation.
    public var subnets: [SubnetOutcome] = []
    public var location: String

    public struct SubnetOutcome: Sendable, Equatable {
        public var subnet: Int
        public var allOK: Bool
    }

    public init(minOK: Int? = nil, maxOK: Int? = nil, droppedAt: String? = nil, location: String = "") {
        self.minOK = minOK
        self.maxOK = maxOK
        self.droppedAt = droppedAt
        self.location = location
    }
}
