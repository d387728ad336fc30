import Packets

/// One flow-log record: what AWS writes for one flow at one ENI in one aggregation interval.
public struct FlowLogRecord: Sendable, Equatable {
    public enum Action: String, Sendable, Comparable {
        case accept = "ACCEPT", reject = "REJECT"
        public static func < (a: Action, b: Action) -> Bool { a.rawValue < b.rawValue }
    }
    public enum Direction: String, Sendable, Comparable {
        case ingress, egress
        public static func < (a: Direction, b: Direction) -> Bool { a.rawValue < b.rawValue }
    }

    /// Index into `VPCModel.enis`.
    public var eni: Int
    public var interfaceID: String
    public var srcaddr: IPv4Address
    public var dstaddr: IPv4Address
    public var srcport: UInt16
    public var dstport: UInt16
    public var proto: UInt8
    public var action: Action
    public var direction: Direction
    /// The addresses in the packet's IP header at the ENI.
    public var pktSrcaddr: IPv4Address
    public var pktDstaddr: IPv4Address
    public var packets: Int
    /// IP total length, summed.
    public var bytes: Int
    /// Unix seconds of the first and last packet within the interval.
    public var start: Int64
    public var end: Int64
    /// FIN 1, SYN 2, RST 4, and ACK (16) only as part of SYN-ACK, OR-ed over the interval.
    public var tcpFlags: Int
    /// AWS's traffic-path code for egress records; nil writes "-".
    public var trafficPath: Int?
    public var vpcID: String
    public var subnetID: String
    public var instanceID: String?
    public var azID: String
}

/// Aggregates what crosses each ENI into the records VPC Flow Logs would write (VPC-UG flow-log-records;
/// aws-semantics §7). Fed by `RunRecorder.interfaceObservers`.
public final class FlowLogRecorder: InterfaceObserver {
    struct Key: Hashable {
        var eni: Int
        var window: Int64
        var srcaddr: IPv4Address
        var dstaddr: IPv4Address
        var srcport: UInt16
        var dstport: UInt16
        var proto: UInt8
        var action: FlowLogRecord.Action
        var direction: FlowLogRecord.Direction
        var pktSrcaddr: IPv4Address
        var pktDstaddr: IPv4Address
    }

    public let model: VPCModel
    public let settings: FlowLogSettings
    /// Unix time (ns) of virtual time 0.
    public let startTime: Int64
    private var aggregates: [Key: FlowLogRecord] = [:]

    public init(model: VPCModel, settings: FlowLogSettings, startTime: Int64) {
        self.model = model
        self.settings = settings
        self.startTime = startTime
    }

    /// The flow-log `tcp-flags` value of one packet. AWS logs FIN (1), SYN (2), RST (4) and SYN-ACK (18); "tcp-flags
    /// does not support logging ACK or PSH flags" on their own (VPC-UG flow-log-records).
    public static func loggedFlags(_ f: TCPFlags) -> Int {
        var v = 0
        if f.contains(.fin) { v |= 1 }
        if f.contains(.syn) { v |= 2 }
        if f.contains(.rst) { v |= 4 }
        if f.contains(.syn), f.contains(.ack) { v |= 16 }
        return v
    }

    public func interface(eni: Int, time: Int64, packet: SimPacket, egress: Bool, accepted: Bool) {
        guard eni >= 0, eni < model.enis.count else { return }
        let e = model.enis[eni]
        let k = packet.key
        var srcport: UInt16 = 0, dstport: UInt16 = 0, flags = 0
        switch packet.transport {
        case .tcp(let t):
            srcport = t.sourcePort
            dstport = t.destinationPort
            flags = Self.loggedFlags(t.flags)
        case .udp(let u):
            srcport = u.sourcePort
            dstport = u.destinationPort
        default:
            break  // ICMP and others: ports 0, as in AWS's ping example.
        }
        // At an ENI that is not the packet's endpoint (a NAT gateway) srcaddr/dstaddr name the ENI itself and
        // pkt-srcaddr/pkt-dstaddr the packet's addresses (VPC-UG flow-logs-records-examples, NAT gateway).
        let src = egress ? e.privateIP : k.source
        let dst = egress ? k.destination : e.privateIP
        let unixNs = startTime + time
        let unix = floorDiv(unixNs, 1_000_000_000)
        // Windows start at virtual time 0 (start_time) and follow each other (named assumption).
        let window = floorDiv(time, Int64(settings.interval) * 1_000_000_000)
        let key = Key(eni: eni, window: window, srcaddr: src, dstaddr: dst, srcport: srcport, dstport: dstport,
                      proto: k.proto.rawValue, action: accepted ? .accept : .reject, direction: egress ? .egress : .ingress,
                      pktSrcaddr: k.source, pktDstaddr: k.destination)
        let size = Int(packet.ip.totalLength)
        if var r = aggregates[key] {
            r.packets += 1
            r.bytes += size
            r.start = min(r.start, unix)
            r.end = max(r.end, unix)
            r.tcpFlags |= flags
            aggregates[key] = r
            return
        }
        let subnet = model.subnets[e.subnet]
        var instance: String?
        if case .instance(let i) = e.owner { instance = model.instances[i].id }
        aggregates[key] = FlowLogRecord(
            eni: eni, interfaceID: e.id, srcaddr: src, dstaddr: dst, srcport: srcport, dstport: dstport,
            proto: k.proto.rawValue, action: key.action, direction: key.direction, pktSrcaddr: k.source,
            pktDstaddr: k.destination, packets: 1, bytes: size, start: unix, end: unix, tcpFlags: flags,
            trafficPath: egress ? trafficPath(subnet: e.subnet, destination: k.destination) : nil,
            vpcID: model.vpcs[subnet.vpc].id, subnetID: subnet.id, instanceID: instance,
            azID: availabilityZoneID(subnet.availabilityZone))
    }

    /// traffic-path for egress (VPC-UG flow-log-records): 1 through another resource in the same VPC (local
    /// routes, a NAT gateway's or an ENI's), 8 through an internet gateway (the code AWS gives Nitro-based
    /// instances; 2 on others: named assumption), 4 through an intra-region peering connection (assumed); "-"
    /// when no route matches or the route is a blackhole.
    func trafficPath(subnet: Int, destination: IPv4Address) -> Int? {
        let rt = model.routeTables[model.routeTable(of: subnet)]
        guard let route = RouteLookup.match(rt, destination) else { return nil }
        switch route.target {
        case .local, .natGateway, .networkInterface: return 1
        case .internetGateway: return 8
        case .peering: return 4
        case .blackhole: return nil
        }
    }

    /// The records, ordered by interface (model order), start time, then the key fields.
    public var records: [FlowLogRecord] {
        aggregates.map { (window: $0.key.window, record: $0.value) }.sorted { a, b in
            let x = a.record, y = b.record
            if x.eni != y.eni { return x.eni < y.eni }
            if a.window != b.window { return a.window < b.window }
            if x.start != y.start { return x.start < y.start }
            if x.srcaddr != y.srcaddr { return x.srcaddr < y.srcaddr }
            if x.dstaddr != y.dstaddr { return x.dstaddr < y.dstaddr }
            if x.srcport != y.srcport { return x.srcport < y.srcport }
            if x.dstport != y.dstport { return x.dstport < y.dstport }
            if x.proto != y.proto { return x.proto < y.proto }
            if x.action != y.action { return x.action < y.action }
            if x.direction != y.direction { return x.direction < y.direction }
            if x.pktSrcaddr != y.pktSrcaddr { return x.pktSrcaddr < y.pktSrcaddr }
            return x.pktDstaddr < y.pktDstaddr
        }.map(\.record)
    }

    /// A field's value as AWS writes it.
    public func value(_ field: FlowLogField, of r: FlowLogRecord) -> String {
        switch field {
        case .version: return String(settings.format.version)
        case .accountID: return settings.accountID
        case .interfaceID: return r.interfaceID
        case .srcaddr: return r.srcaddr.description
        case .dstaddr: return r.dstaddr.description
        case .srcport: return String(r.srcport)
        case .dstport: return String(r.dstport)
        case .protocol: return String(r.proto)
        case .packets: return String(r.packets)
        case .bytes: return String(r.bytes)
        case .start: return String(r.start)
        case .end: return String(r.end)
        case .action: return r.action.rawValue
        case .logStatus: return "OK"
        case .vpcID: return r.vpcID
        case .subnetID: return r.subnetID
        case .instanceID: return r.instanceID ?? "-"
        case .tcpFlags: return String(r.tcpFlags)
        case .type: return "IPv4"
        case .pktSrcaddr: return r.pktSrcaddr.description
        case .pktDstaddr: return r.pktDstaddr.description
        case .region: return settings.region
        case .azID: return r.azID
        case .sublocationType, .sublocationID: return "-"
        case .pktSrcAWSService, .pktDstAWSService: return "-"
        case .flowDirection: return r.direction.rawValue
        case .trafficPath: return r.trafficPath.map(String.init) ?? "-"
        }
    }

    public func line(_ r: FlowLogRecord) -> String {
        settings.format.fields.map { value($0, of: r) }.joined(separator: " ")
    }

    /// The file: a header naming the fields, then one line per record.
    public var text: String { text(of: records) }

    public func text(of records: [FlowLogRecord]) -> String {
        var s = settings.format.header + "\n"
        for r in records { s += line(r) + "\n" }
        return s
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
