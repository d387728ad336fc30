import Packets

/// A field of a Transit Gateway Flow Logs record (TGW-UG tgw-flow-logs, "Transit Gateway Flow Log records"), in
/// the order of the default format, which holds every field (TGW-UG flow-logs-api-cli: "--log-format includes
/// all log fields for transit gateway resource types if you do not set which fields you want to include").
public enum TGWFlowLogField: String, CaseIterable, Sendable {
    case version
    case resourceType = "resource-type"
    case accountID = "account-id"
    case tgwID = "tgw-id"
    case tgwAttachmentID = "tgw-attachment-id"
    case tgwSrcVPCAccountID = "tgw-src-vpc-account-id"
    case tgwDstVPCAccountID = "tgw-dst-vpc-account-id"
    case tgwSrcVPCID = "tgw-src-vpc-id"
    case tgwDstVPCID = "tgw-dst-vpc-id"
    case tgwSrcSubnetID = "tgw-src-subnet-id"
    case tgwDstSubnetID = "tgw-dst-subnet-id"
    case tgwSrcENI = "tgw-src-eni"
    case tgwDstENI = "tgw-dst-eni"
    case tgwSrcAZID = "tgw-src-az-id"
    case tgwDstAZID = "tgw-dst-az-id"
    case tgwPairAttachmentID = "tgw-pair-attachment-id"
    case srcaddr, dstaddr, srcport, dstport
    case `protocol`
    case packets, bytes, start, end
    case logStatus = "log-status"
    case type
    case packetsLostNoRoute = "packets-lost-no-route"
    case packetsLostBlackhole = "packets-lost-blackhole"
    case packetsLostMTUExceeded = "packets-lost-mtu-exceeded"
    case packetsLostTTLExpired = "packets-lost-ttl-expired"
    case tcpFlags = "tcp-flags"
    case region
    case flowDirection = "flow-direction"
    case pktSrcAWSService = "pkt-src-aws-service"
    case pktDstAWSService = "pkt-dst-aws-service"

    /// The header line of a file in the default format.
    public static let header = allCases.map(\.rawValue).joined(separator: " ")
}

/// Aggregates what crosses the transit gateways a scenario's `flow_logs: transit_gateways:` names into the records
/// Transit Gateway Flow Logs write (TGW-UG tgw-flow-logs), in version 6's default format: for each packet an
/// `ingress` record at the attachment it arrived by and, unless the gateway dropped it, an `egress` record at the
/// attachment it left by, each naming the other (`tgw-pair-attachment-id`), the source attachment's VPC, subnet,
/// ENI and AZ as `tgw-src-…` and the destination attachment's as `tgw-dst-…` ("-" for a VPN attachment, or on an
/// ingress record of a packet dropped). A packet the gateway drops (no route table association or no matching route:
/// packets-lost-no-route; a blackhole route: packets-lost-blackhole; routed back into the gateway until its TTL ran
/// out: packets-lost-ttl-expired) counts in its ingress record's `packets` and in the lost counter.
///
/// One record per attachment, direction, pair, ENIs and 5-tuple in each 60-second aggregation interval, the only one
/// AWS takes for transit gateways (TGW-UG flow-logs-api-cli: "--max-aggregation-interval has a default value of 60,
/// and is the only accepted value for transit gateway resource types"); intervals start at virtual time 0. The file
/// lists attachment by attachment (model order), each attachment's records by interval, within an interval in
/// order of direction (ingress first), addresses, ports, protocol.
public final class TGWFlowLogRecorder {
    public static let interval: Int64 = 60
    public enum Lost: Int { case noRoute = 0, blackhole, mtuExceeded, ttlExpired }

    /// What a record is for: everything but its counts.
    struct Key: Hashable {
        var attachment: Int32
        var egress: Bool
        var pair: Int32
        var srcENI: Int32
        var dstENI: Int32
        var source: UInt32
        var destination: UInt32
        var sourcePort: UInt16
        var destinationPort: UInt16
        var proto: UInt8
    }

    struct Aggregate {
        var key: Key
        var packets = 0
        var bytes = 0
        var start: Int64
        var end: Int64
        var tcpFlags = 0
        var lost: (Int, Int, Int, Int) = (0, 0, 0, 0)
    }

    /// An attachment ENI's ids (`TransitGateway.enis` order).
    struct ENIInfo { var vpc: String; var subnet: String; var eni: String; var az: String }

    let settings: FlowLogSettings
    let startTime: Int64
    /// Whether each transit gateway is logged.
    let logged: [Bool]
    let attachmentIDs: [String]
    let attachmentTGW: [Int]
    let tgwIDs: [String]
    let enis: [ENIInfo]
    private var live: [Key: Int] = [:]  // looked up only; the output is in `pending`'s sorted order
    private var pending: [Aggregate] = []
    private var window: Int64 = .min
    /// Completed lines, per attachment.
    private var lines: [[String]]
    public private(set) var recordCount = 0

    public init(model: VPCModel, settings: FlowLogSettings, startTime: Int64) {
        self.settings = settings
        self.startTime = startTime
        var logged = [Bool](repeating: false, count: model.transitGateways.count)
        for g in settings.transitGateways { logged[g] = true }
        self.logged = logged
        attachmentIDs = model.tgwAttachments.map(\.id)
        attachmentTGW = model.tgwAttachments.map(\.transitGateway)
        tgwIDs = model.transitGateways.map(\.id)
        var enis: [ENIInfo] = []
        for a in model.tgwAttachments {
            for (k, s) in a.subnets.enumerated() {
                let subnet = model.subnets[s]
                enis.append(ENIInfo(vpc: model.vpcs[subnet.vpc].id, subnet: subnet.id,
                                    eni: k < a.eniIDs.count ? a.eniIDs[k] : "-",
                                    az: availabilityZoneID(subnet.availabilityZone)))
            }
        }
        self.enis = enis
        lines = Array(repeating: [], count: model.tgwAttachments.count)
    }

    /// Whether transit gateway `g` is logged (the network asks before it builds anything for a record).
    @inline(__always)
    func logs(_ g: Int) -> Bool { g < logged.count && logged[g] }

    /// A packet crossed a transit gateway at virtual time `time`: in through attachment `from` (its ENI `srcENI`,
    /// -1 for a VPN attachment), out through attachment `to` (ENI `dstENI`), or lost (`to` -1 when no route
    /// chose one).
    func crossed(time: Int64, packet: SimPacket, from: Int, srcENI: Int, to: Int, dstENI: Int, lost: Lost?) {
        let w = floorDiv(time, Self.interval * 1_000_000_000)
        if w != window {
            completeInterval()
            window = w
        }
        let o = InterfaceObservation(eni: 0, time: time, packet: packet, egress: false, accepted: true)
        let second = floorDiv(startTime + time, 1_000_000_000)
        let flags = o.isTCP ? FlowLogRecorder.loggedFlags(o.tcpFlags) : 0
        var key = Key(attachment: Int32(from), egress: false, pair: Int32(to), srcENI: Int32(srcENI),
                      dstENI: Int32(lost == nil ? dstENI : -1), source: o.source.rawValue,
                      destination: o.destination.rawValue, sourcePort: o.sourcePort,
                      destinationPort: o.destinationPort, proto: o.proto.rawValue)
        if lost != nil { key.pair = -1 }
        add(key, size: Int(o.size), second: second, flags: flags, lost: lost)
        guard lost == nil, to >= 0 else { return }
        key.attachment = Int32(to)
        key.egress = true
        key.pair = Int32(from)
        add(key, size: Int(o.size), second: second, flags: flags, lost: nil)
    }

    /// A packet the gateway itself sent at virtual time `time` (the ICMP fragmentation needed it answers a packet
    /// too big with) out through attachment `a`'s ENI `eni`: an egress record there, with no source attachment
    /// (`tgw-src-…` and `tgw-pair-attachment-id` "-"), as nothing entered the gateway for it. TGW-UG tgw-flow-logs
    /// logs "the IP traffic going to and from your transit gateways" by attachment and direction; AWS documents no
    /// example of a packet the gateway originates, so its record is the egress half of a crossing.
    func sent(time: Int64, packet: SimPacket, through a: Int, eni: Int) {
        let w = floorDiv(time, Self.interval * 1_000_000_000)
        if w != window {
            completeInterval()
            window = w
        }
        let o = InterfaceObservation(eni: 0, time: time, packet: packet, egress: true, accepted: true)
        let key = Key(attachment: Int32(a), egress: true, pair: -1, srcENI: -1, dstENI: Int32(eni),
                      source: o.source.rawValue, destination: o.destination.rawValue, sourcePort: o.sourcePort,
                      destinationPort: o.destinationPort, proto: o.proto.rawValue)
        add(key, size: Int(o.size), second: floorDiv(startTime + time, 1_000_000_000), flags: 0, lost: nil)
    }

    private func add(_ key: Key, size: Int, second: Int64, flags: Int, lost: Lost?) {
        let i: Int
        if let found = live[key] {
            i = found
        } else {
            i = pending.count
            live[key] = i
            pending.append(Aggregate(key: key, start: second, end: second))
        }
        pending[i].packets += 1
        pending[i].bytes += size
        pending[i].end = second
        pending[i].tcpFlags |= flags
        switch lost {
        case .noRoute?: pending[i].lost.0 += 1
        case .blackhole?: pending[i].lost.1 += 1
        case .mtuExceeded?: pending[i].lost.2 += 1
        case .ttlExpired?: pending[i].lost.3 += 1
        case nil: break
        }
    }

    /// The records of the interval that ended, in file order within each attachment.
    private func completeInterval() {
        guard !pending.isEmpty else { return }
        pending.sort { x, y in
            let a = x.key, b = y.key
            if a.attachment != b.attachment { return a.attachment < b.attachment }
            if a.egress != b.egress { return !a.egress }
            if a.source != b.source { return IPv6Token.precedes(IPv4Address(rawValue: a.source), IPv4Address(rawValue: b.source)) }
            if a.destination != b.destination { return IPv6Token.precedes(IPv4Address(rawValue: a.destination), IPv4Address(rawValue: b.destination)) }
            if a.sourcePort != b.sourcePort { return a.sourcePort < b.sourcePort }
            if a.destinationPort != b.destinationPort { return a.destinationPort < b.destinationPort }
            if a.proto != b.proto { return a.proto < b.proto }
            if a.pair != b.pair { return a.pair < b.pair }
            if a.srcENI != b.srcENI { return a.srcENI < b.srcENI }
            return a.dstENI < b.dstENI
        }
        for r in pending {
            lines[Int(r.key.attachment)].append(line(r))
            recordCount += 1
        }
        pending.removeAll(keepingCapacity: true)
        live.removeAll(keepingCapacity: true)
    }

    private func line(_ r: Aggregate) -> String {
        let k = r.key
        func eni(_ e: Int32, _ part: (ENIInfo) -> String) -> String { e < 0 ? "-" : part(enis[Int(e)]) }
        func vpcAccount(_ e: Int32) -> String { e < 0 ? "-" : settings.accountID }
        let values: [String] = TGWFlowLogField.allCases.map { f in
            switch f {
            case .version: "6"
            case .resourceType: "TransitGateway"
            case .accountID: settings.accountID
            case .tgwID: tgwIDs[attachmentTGW[Int(k.attachment)]]
            case .tgwAttachmentID: attachmentIDs[Int(k.attachment)]
            case .tgwSrcVPCAccountID: vpcAccount(k.srcENI)
            case .tgwDstVPCAccountID: vpcAccount(k.dstENI)
            case .tgwSrcVPCID: eni(k.srcENI, \.vpc)
            case .tgwDstVPCID: eni(k.dstENI, \.vpc)
            case .tgwSrcSubnetID: eni(k.srcENI, \.subnet)
            case .tgwDstSubnetID: eni(k.dstENI, \.subnet)
            case .tgwSrcENI: eni(k.srcENI, \.eni)
            case .tgwDstENI: eni(k.dstENI, \.eni)
            case .tgwSrcAZID: eni(k.srcENI, \.az)
            case .tgwDstAZID: eni(k.dstENI, \.az)
            case .tgwPairAttachmentID: k.pair < 0 ? "-" : attachmentIDs[Int(k.pair)]
            case .srcaddr: IPv4Address(rawValue: k.source).description
            case .dstaddr: IPv4Address(rawValue: k.destination).description
            case .srcport: String(k.sourcePort)
            case .dstport: String(k.destinationPort)
            case .protocol: String(k.proto)
            case .packets: String(r.packets)
            case .bytes: String(r.bytes)
            case .start: String(r.start)
            case .end: String(r.end)
            case .logStatus: "OK"
            // TGW-UG tgw-flow-logs-records: type is "the type of traffic. The possible values are: IPv4 | IPv6 | EFA".
            case .type: IPv4Address(rawValue: k.source).isIPv6Token ? "IPv6" : "IPv4"
            case .packetsLostNoRoute: String(r.lost.0)
            case .packetsLostBlackhole: String(r.lost.1)
            case .packetsLostMTUExceeded: String(r.lost.2)
            case .packetsLostTTLExpired: String(r.lost.3)
            case .tcpFlags: String(r.tcpFlags)
            case .region: settings.region
            case .flowDirection: k.egress ? "egress" : "ingress"
            case .pktSrcAWSService, .pktDstAWSService: "-"
            }
        }
        return values.joined(separator: " ")
    }

    /// The end of the run: every open record is complete. Returns the file's text: the header, then the records
    /// attachment by attachment.
    public func finish() -> String {
        completeInterval()
        var out = TGWFlowLogField.header + "\n"
        for a in lines { for l in a { out += l + "\n" } }
        return out
    }
}
