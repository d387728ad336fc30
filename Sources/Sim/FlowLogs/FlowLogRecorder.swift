import Packets

/// One flow-log record: what AWS writes for one flow at one ENI in one aggregation interval (by default a TCP
/// connection's records end at its close: assumption `flow_log_record_per_connection`). The strings are the ENI's,
/// shared by all its records; `FlowLogRecorder` builds these only for the records it keeps in memory.
public struct FlowLogRecord: Sendable, Equatable {
    public enum Action: String, Sendable, Comparable {
        case accept = "ACCEPT", reject = "REJECT"
        public static func < (a: Action, b: Action) -> Bool { a.rawValue < b.rawValue }
    }
    public enum Direction: String, Sendable, Comparable {
        case ingress, egress
        public static func < (a: Direction, b: Direction) -> Bool { a.rawValue < b.rawValue }
    }

    /// Index into `VPCModel.enis`; past them, a transit gateway attachment's ENI (`VPCNetwork.tgwFlowLogInterface`).
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
/// aws-semantics §7). Fed by `RunRecorder.interfaceObservers`, directly or (as `vpcsim run` does) through a
/// `FlowLogThread`, which runs it on a thread of its own.
///
/// Memory follows the active connections, not the run's history: a record leaves memory as soon as it is complete
/// and goes to `flow-logs.txt` (`writeFile(to:)`) as it does. A TCP connection's records are complete when it has
/// closed as seen at the ENI — both FINs, each acknowledged by the other side (the last ACK), or an RST — under the
/// named assumption `flow_log_record_per_connection` (on by default); every other record (UDP, ICMP, a connection
/// that never closes: a rejected SYN, a timeout) is complete when its aggregation interval ends, noticed when a
/// packet of a later interval arrives and at the end of the run (`finish()`). With the assumption off, every record
/// lives until its interval ends, as AWS's own description has it: one record per 5-tuple and interval, so a
/// connection reusing a 5-tuple in the same interval adds to its record.
///
/// Per packet it does one hash lookup of a packed key (a TCP connection's records hang off its connection
/// entry; other records are found by key); what every record of an ENI shares (its ids, the az-id, its
/// address, its route table) is computed once, and a record holds no strings.
public final class FlowLogRecorder: InterfaceObserver {
    /// Completed records kept in memory (`records`, `Runner.Outcome.flowLogRecords`) up to this many; a bigger
    /// run keeps none (its records are in `flow-logs.txt`).
    public static let keptRecordLimit = 10_000

    /// A record's identity packed into three words: the packet's addresses (pkt-srcaddr, pkt-dstaddr), its
    /// ports, protocol, action and direction, and the ENI and aggregation interval. srcaddr and dstaddr are not
    /// in it: they follow from the ENI, the direction and the packet's addresses.
    struct Key: Hashable, TableKey {
        /// pkt-srcaddr << 32 | pkt-dstaddr.
        var addresses: UInt64
        /// srcport << 48 | dstport << 32 | protocol << 8 | reject << 1 | egress.
        var ports: UInt64
        /// ENI << 32 | interval (its low 32 bits).
        var place: UInt64

        var eni: Int { Int(place >> 32) }
        var pktSrcaddr: IPv4Address { IPv4Address(rawValue: UInt32(truncatingIfNeeded: addresses >> 32)) }
        var pktDstaddr: IPv4Address { IPv4Address(rawValue: UInt32(truncatingIfNeeded: addresses)) }
        var srcport: UInt16 { UInt16(truncatingIfNeeded: ports >> 48) }
        var dstport: UInt16 { UInt16(truncatingIfNeeded: ports >> 32) }
        var proto: UInt8 { UInt8(truncatingIfNeeded: ports >> 8) }
        var reject: Bool { ports & 2 != 0 }
        var egress: Bool { ports & 1 != 0 }
        var tableHash: UInt64 { addresses ^ (ports &* 0x9E37_79B9_7F4A_7C15) ^ (place &* 0xC2B2_AE3D_27D4_EB4F) }
    }

    /// A record being aggregated.
    struct Aggregate {
        var key: Key
        var window: Int64
        var packets: Int
        var bytes: Int
        /// Unix seconds of the first and last packet.
        var start: Int64
        var end: Int64
        var tcpFlags: UInt8
        /// -1 writes "-".
        var trafficPath: Int8
        /// The next record of the same TCP connection at the ENI, -1 at the end of the list.
        var next: Int32
        var live: Bool
    }

    /// A TCP connection at one ENI: its two endpoints (address and port, the lower first) and the ENI, packed.
    struct ConnectionKey: Hashable, TableKey {
        var high: UInt64
        var low: UInt64
        var tableHash: UInt64 { high ^ (low &* 0x9E37_79B9_7F4A_7C15) }
    }

    struct Connection {
        /// The connection's records in the current interval (a list through `Aggregate.next`), -1 for none.
        var first: Int32 = -1
        /// Its close as seen at the ENI (side a: the lower endpoint).
        var close = TCPCloseState()
        /// Interval of its last packet.
        var lastWindow: Int64
    }

    /// What every record of one ENI shares, computed once.
    struct ENIInfo {
        var ip: IPv4Address
        var routeTable: Int
        var interfaceID: String
        var vpcID: String
        var subnetID: String
        var instanceID: String?
        var azID: String
        var interfaceIDBytes: [UInt8]
        var vpcIDBytes: [UInt8]
        var subnetIDBytes: [UInt8]
        var instanceIDBytes: [UInt8]
        var azIDBytes: [UInt8]
    }

    /// One line's values (from a live record or a `FlowLogRecord`): what `appendLine` writes.
    struct Row {
        var eni: Int
        var srcaddr: IPv4Address
        var dstaddr: IPv4Address
        var srcport: UInt16
        var dstport: UInt16
        var proto: UInt8
        var reject: Bool
        var egress: Bool
        var pktSrcaddr: IPv4Address
        var pktDstaddr: IPv4Address
        var packets: Int
        var bytes: Int
        var start: Int64
        var end: Int64
        var tcpFlags: Int
        var trafficPath: Int?
    }

    public let settings: FlowLogSettings
    /// Unix time (ns) of virtual time 0.
    public let startTime: Int64
    /// Assumption `flow_log_record_per_connection`: a TCP connection's records complete when it closes.
    public let perConnection: Bool
    let keepLimit: Int
    let intervalNs: Int64
    let enis: [ENIInfo]
    /// The model's route tables, for traffic-path (the recorder's own copy).
    private let routes: CompiledRoutes
    /// Whether each peering connection joins two Regions (traffic-path 5, else 4).
    private let interRegionPeering: [Bool]
    /// The format's fields, in order.
    let fields: [FlowLogField]
    let versionBytes: [UInt8]
    let accountBytes: [UInt8]
    let regionBytes: [UInt8]
    /// The longest a line can be: every field at its longest (21 bytes for a number, or the longest id), the
    /// separators and the newline.
    let lineBound: Int

    /// Live records; freed slots are reused. Plain memory (RawVec): an array here checked its uniqueness at
    /// every change of a record, several times a packet.
    private var slots = RawVec<Aggregate>(capacity: 64)
    private var freeSlots = RawVec<Int32>(capacity: 64)
    /// Live records found by key: every record without the assumption, else those not of TCP.
    private let index = HashTable<Key, Int32>()
    /// Open TCP connections per ENI (with the assumption).
    private var connections = HashTable<ConnectionKey, Connection>()
    /// The interval of the latest packet; records of earlier intervals are complete.
    private var currentWindow: Int64?
    /// traffic-path per (ENI, destination), bounded.
    private let trafficPathCache = HashTable<UInt64, Int8>()
    private var scratch: [Int32] = []
    private var file: FlowLogFile?
    /// Completed records in completion order, while there are at most `keepLimit`.
    private var kept: [FlowLogRecord]? = []
    public private(set) var recordCount = 0
    public private(set) var finished = false

    /// `perConnection`: the scenario's `flow_log_record_per_connection`. `keep`: completed records kept in
    /// memory at most (`records` is nil past it).
    ///
    /// The recorder keeps no storage it shares with `model` or `settings`: every string and array it holds is its
    /// own copy, so that `FlowLogThread` can run it on a thread of its own while the simulation goes on (release
    /// builds count references non-atomically).
    public init(model: VPCModel, settings: FlowLogSettings, startTime: Int64, perConnection: Bool = true,
                keep: Int = FlowLogRecorder.keptRecordLimit) {
        self.settings = FlowLogSettings(interval: settings.interval,
                                        format: FlowLogFormat(fields: settings.format.fields.map { $0 }),
                                        accountID: unshared(settings.accountID), region: unshared(settings.region))
        self.startTime = startTime
        self.perConnection = perConnection
        keepLimit = keep
        intervalNs = Int64(settings.interval) * 1_000_000_000
        func info(_ id: String, subnet s: Int, ip: IPv4Address, instance: String?) -> ENIInfo {
            let subnet = model.subnets[s]
            let vpc = unshared(model.vpcs[subnet.vpc].id)
            let az = unshared(availabilityZoneID(subnet.availabilityZone))
            return ENIInfo(ip: ip, routeTable: model.routeTable(of: s), interfaceID: unshared(id),
                           vpcID: vpc, subnetID: unshared(subnet.id), instanceID: instance, azID: az,
                           interfaceIDBytes: Array(id.utf8), vpcIDBytes: Array(vpc.utf8),
                           subnetIDBytes: Array(subnet.id.utf8), instanceIDBytes: Array((instance ?? "-").utf8),
                           azIDBytes: Array(az.utf8))
        }
        var enis = model.enis.map { e in
            var instance: String?
            if case .instance(let i) = e.owner { instance = unshared(model.instances[i].id) }
            return info(e.id, subnet: e.subnet, ip: e.privateIP, instance: instance)
        }
        // Then the transit gateway attachments' ENIs, in `TransitGateway.enis` order (`VPCNetwork.tgwFlowLogInterface`).
        for a in model.tgwAttachments {
            for (k, s) in a.subnets.enumerated() where k < a.eniIDs.count && k < a.eniAddresses.count {
                enis.append(info(a.eniIDs[k], subnet: s, ip: a.eniAddresses[k], instance: nil))
            }
        }
        self.enis = enis
        routes = CompiledRoutes(model)
        interRegionPeering = model.peeringConnections.map(\.interRegion)
        fields = self.settings.format.fields
        versionBytes = Array(String(settings.format.version).utf8)
        accountBytes = Array(settings.accountID.utf8)
        regionBytes = Array(settings.region.utf8)
        let longestID = enis.map {
            max($0.interfaceIDBytes.count, $0.vpcIDBytes.count, $0.subnetIDBytes.count, $0.instanceIDBytes.count,
                $0.azIDBytes.count)
        }.max() ?? 0
        // 40: a field's text is at most 39 bytes (an IPv6 address's; a decimal is 20), and a separator.
        lineBound = fields.count * (40 + longestID) + versionBytes.count + accountBytes.count + regionBytes.count + 8
    }

    deinit {
        file?.abandon()
        slots.free()
        freeSlots.free()
    }

    /// Writes completed records to `path` as they complete (under a temporary name until `finish()`).
    public func writeFile(to path: String) throws { try writeFile(to: path, buffer: 4 << 20) }

    /// `buffer`: bytes of lines held in memory, in all, before they are written out (tests make it tiny).
    func writeFile(to path: String, buffer: Int) throws {
        file?.abandon()
        file = try FlowLogFile(path: path, header: settings.format.header, interfaces: enis.count, budget: buffer)
    }

    /// The end of the run: every record still open is complete (ordered as at the end of an interval); the
    /// file, if any, is moved into place. Throws if it could not be written (and leaves no file).
    public func finish() throws {
        guard !finished else { return }
        completeAll()
        finished = true
        if let f = file {
            file = nil
            try f.commit()
        }
    }

    /// Discards the file being written, if any (a failed run leaves no `flow-logs.txt` and no spool files).
    public func abandon() {
        file?.abandon()
        file = nil
    }

    /// Records held in memory, waiting to complete, now and at most.
    var liveRecordCount: Int { slots.count - freeSlots.count }
    private(set) var peakLiveRecordCount = 0
    /// TCP connections tracked (with the assumption).
    var liveConnectionCount: Int { connections.count }

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

    /// The aggregation interval and the Unix second of the last time asked, with the range of times they hold
    /// for: packets come in time order, so two 64-bit divisions per packet become two comparisons.
    private var windowRange: Range<Int64> = 0..<0
    private var cachedWindow: Int64 = 0
    private var secondRange: Range<Int64> = 0..<0
    private var cachedSecond: Int64 = 0

    @inline(__always)
    private func windowOf(_ time: Int64) -> Int64 {
        if windowRange.contains(time) { return cachedWindow }
        cachedWindow = floorDiv(time, intervalNs)
        windowRange = cachedWindow * intervalNs..<(cachedWindow + 1) * intervalNs
        return cachedWindow
    }

    @inline(__always)
    private func unixSecond(_ time: Int64) -> Int64 {
        if secondRange.contains(time) { return cachedSecond }
        cachedSecond = floorDiv(startTime + time, 1_000_000_000)
        let start = cachedSecond * 1_000_000_000 - startTime
        secondRange = start..<start + 1_000_000_000
        return cachedSecond
    }

    public func interface(eni: Int, time: Int64, packet: SimPacket, egress: Bool, accepted: Bool) {
        observe(InterfaceObservation(eni: eni, time: time, packet: packet, egress: egress, accepted: accepted))
    }

    /// One packet crossing an ENI (`interface(…)`, or `FlowLogThread` on a thread of its own).
    func observe(_ o: InterfaceObservation) {
        let eni = Int(o.eni), time = o.time
        guard eni >= 0, eni < enis.count, !finished else { return }
        // Intervals start at virtual time 0 (start_time) and follow each other (named assumption). A packet of
        // a later interval means the earlier ones have ended: their records are complete.
        let window = windowOf(time)
        if let w = currentWindow {
            if window > w {
                completeAll()
                currentWindow = window
            }
        } else {
            currentWindow = window
        }
        let source = o.source, destination = o.destination
        let srcport = o.sourcePort, dstport = o.destinationPort
        let flags = o.isTCP ? Self.loggedFlags(o.tcpFlags) : 0
        let tcp: TCPFlags? = o.isTCP ? o.tcpFlags : nil
        let key = Key(
            addresses: UInt64(source.rawValue) << 32 | UInt64(destination.rawValue),
            ports: UInt64(srcport) << 48 | UInt64(dstport) << 32 | UInt64(o.proto.rawValue) << 8
                | (o.accepted ? 0 : 2) | (o.egress ? 1 : 0),
            place: UInt64(UInt32(truncatingIfNeeded: eni)) << 32 | UInt64(UInt32(truncatingIfNeeded: window)))
        let unix = unixSecond(time)
        let size = Int(o.size)

        guard perConnection, let tcp else {
            if let s = index[key] {
                add(Int(s), size: size, unix: unix, flags: flags)
            } else {
                index[key] = newRecord(key, window: window, size: size, unix: unix, flags: flags,
                                       destination: destination)
            }
            return
        }

        // A TCP connection at this ENI: its two endpoints, the lower first, whichever way the packet goes.
        let src = UInt64(source.rawValue) << 16 | UInt64(srcport)
        let dst = UInt64(destination.rawValue) << 16 | UInt64(dstport)
        let fromLow = src <= dst
        let (lo, hi) = fromLow ? (src, dst) : (dst, src)
        let ck = ConnectionKey(high: lo << 16 | hi >> 32,
                               low: (hi & 0xFFFF_FFFF) << 32 | UInt64(UInt32(truncatingIfNeeded: eni)))
        let c = connections.find(ck) ?? connections.insert(ck, Connection(lastWindow: window))
        let conn = connections.value(at: c)
        var s = conn.pointee.first
        while s >= 0, slots[Int(s)].key != key { s = slots[Int(s)].next }
        if s >= 0 {
            add(Int(s), size: size, unix: unix, flags: flags)
        } else {
            s = newRecord(key, window: window, size: size, unix: unix, flags: flags, destination: destination)
            slots[Int(s)].next = conn.pointee.first
            conn.pointee.first = s
        }
        // Closed as seen at this ENI: an RST, or both FINs acknowledged, each by the other side (the last ACK;
        // when the FINs crossed, the second of the two ACKs: `TCPCloseState`). Named assumption
        // flow_log_record_per_connection: AWS says only that a record captures a flow "characterized by a 5-tuple
        // on a per network interface basis" within an aggregation interval (VPC-UG flow-log-records), not what a
        // connection's close does to it. Packets after the close (a reused 5-tuple) start new records.
        let marks = TCPSegmentMarks(flags: tcp, end: o.tcpEnd, ack: o.tcpAck)
        let closed = conn.pointee.close.follow(marks, fromA: fromLow)
        conn.pointee.lastWindow = window
        if closed || tcp.contains(.rst) {
            let first = conn.pointee.first
            connections.remove(at: c)
            completeConnection(first)
        }
    }

    @inline(__always)
    private func add(_ s: Int, size: Int, unix: Int64, flags: Int) {
        slots[s].packets += 1
        slots[s].bytes += size
        if unix < slots[s].start { slots[s].start = unix }
        if unix > slots[s].end { slots[s].end = unix }
        slots[s].tcpFlags |= UInt8(truncatingIfNeeded: flags)
    }

    private func newRecord(_ key: Key, window: Int64, size: Int, unix: Int64, flags: Int,
                           destination: IPv4Address) -> Int32 {
        let a = Aggregate(key: key, window: window, packets: 1, bytes: size, start: unix, end: unix,
                          tcpFlags: UInt8(truncatingIfNeeded: flags),
                          trafficPath: key.egress ? trafficPath(eni: key.eni, destination: destination) : -1,
                          next: -1, live: true)
        let s: Int32
        if let free = freeSlots.popLast() {
            slots[Int(free)] = a
            s = free
        } else {
            slots.append(a)
            s = Int32(slots.count - 1)
        }
        if liveRecordCount > peakLiveRecordCount { peakLiveRecordCount = liveRecordCount }
        return s
    }

    /// traffic-path for egress (VPC-UG flow-log-records): 1 through another resource in the same VPC (local
    /// routes, a NAT gateway's or an ENI's), 8 through an internet gateway (the code AWS gives Nitro-based
    /// instances; 2 on others: named assumption), 4 through an intra-Region peering connection, 5 through an
    /// inter-Region one (a peering the scenario does not define: 4, assumed); "-"
    /// when no route matches, the route is a blackhole or leads to a target outside the model. Looked up once per ENI and destination.
    private func trafficPath(eni: Int, destination: IPv4Address) -> Int8 {
        let cacheKey = UInt64(eni) << 32 | UInt64(destination.rawValue)
        if let p = trafficPathCache[cacheKey] { return p }
        if trafficPathCache.count >= 1 << 16 { trafficPathCache.removeAll() }
        let p = Int8(trafficPath(routeTable: enis[eni].routeTable, destination: destination) ?? -1)
        trafficPathCache[cacheKey] = p
        return p
    }

    private func trafficPath(routeTable: Int, destination: IPv4Address) -> Int? {
        let route = routes.route(routeTable, destination)
        switch route?.kind {
        case .local?, .natGateway?, .networkInterface?: return 1
        case .internetGateway?: return 8
        // An egress-only internet gateway is the internet gateway of IPv6 egress; AWS lists no value of its own.
        case .egressOnlyInternetGateway?: return 8
        case .peering?: return 4
        case .peeringConnection?: return interRegionPeering[Int(route!.target)] ? 5 : 4
        // VPC-UG flow-logs-records, traffic-path 1: "through another resource in the same VPC, including resources
        // that create a network interface in the VPC" (a transit gateway attachment's ENI).
        case .transitGateway?: return 1
        case .vpcEndpoint?: return 7  // through a gateway VPC endpoint (VPC-UG flow-log-records)
        case .vpnGateway?: return 3  // "through a virtual private gateway" (VPC-UG flow-log-records)
        case .notModeled?, .blackhole?, nil: return nil
        }
    }

    // MARK: Completion

    /// The order of records completing together (at the end of an interval, or a connection's at its close):
    /// interface (model order), interval, start time, then the key fields — a total order, never hash order.
    private func precedes(_ i: Int32, _ j: Int32) -> Bool {
        let x = slots[Int(i)], y = slots[Int(j)]
        if x.key.eni != y.key.eni { return x.key.eni < y.key.eni }
        if x.window != y.window { return x.window < y.window }
        if x.start != y.start { return x.start < y.start }
        let rx = row(x), ry = row(y)
        // Addresses by what they are (IPv4 before IPv6, each by value), not by an IPv6 token's hash bits.
        if rx.srcaddr != ry.srcaddr { return IPv6Token.precedes(rx.srcaddr, ry.srcaddr) }
        if rx.dstaddr != ry.dstaddr { return IPv6Token.precedes(rx.dstaddr, ry.dstaddr) }
        if rx.srcport != ry.srcport { return rx.srcport < ry.srcport }
        if rx.dstport != ry.dstport { return rx.dstport < ry.dstport }
        if rx.proto != ry.proto { return rx.proto < ry.proto }
        if rx.reject != ry.reject { return !rx.reject }  // ACCEPT before REJECT
        if rx.egress != ry.egress { return rx.egress }  // egress before ingress
        if rx.pktSrcaddr != ry.pktSrcaddr { return IPv6Token.precedes(rx.pktSrcaddr, ry.pktSrcaddr) }
        return IPv6Token.precedes(rx.pktDstaddr, ry.pktDstaddr)
    }

    /// A closed connection's records.
    private func completeConnection(_ first: Int32) {
        scratch.removeAll(keepingCapacity: true)
        var s = first
        while s >= 0 {
            scratch.append(s)
            s = slots[Int(s)].next
        }
        if scratch.count > 1 { scratch.sort(by: precedes) }
        for s in scratch { emit(s) }
    }

    /// Every live record: the end of an interval, or of the run.
    private func completeAll() {
        scratch.removeAll(keepingCapacity: true)
        for s in 0..<slots.count where slots[s].live { scratch.append(Int32(s)) }
        scratch.sort(by: precedes)
        for s in scratch { emit(s) }
        scratch = []
        slots.removeAll()
        freeSlots.removeAll()
        index.removeAll()
        // Connections keep their FINs, without records, while they were active in the interval that ended; one
        // without a FIN is as good as new, and one idle for a whole interval is forgotten (it will not close).
        if !connections.isEmpty {
            let ended = currentWindow ?? 0
            let open = HashTable<ConnectionKey, Connection>(capacity: connections.count)
            connections.forEach { k, c in
                if c.close.finSeen && c.lastWindow >= ended {
                    open.insert(k, Connection(first: -1, close: c.close, lastWindow: c.lastWindow))
                }
            }
            connections = open
        }
    }

    private func emit(_ s: Int32) {
        let a = slots[Int(s)]
        slots[Int(s)].live = false
        freeSlots.append(s)
        recordCount += 1
        let r = row(a)
        if kept != nil {
            if kept!.count < keepLimit { kept!.append(record(r)) } else { kept = nil }
        }
        if let file { file.append(eni: r.eni) { appendLine(&$0, r) } }
    }

    private func row(_ a: Aggregate) -> Row {
        let k = a.key, e = k.eni
        // At an ENI that is not the packet's endpoint (a NAT gateway) srcaddr/dstaddr name the ENI itself and
        // pkt-srcaddr/pkt-dstaddr the packet's addresses (VPC-UG flow-logs-records-examples, NAT gateway).
        // An IPv6 packet's record names the ENI by its IPv6 address ("the IPv4 or IPv6 address of the network
        // interface", VPC-UG flow-logs-records): the packet's own. A NAT gateway's ENI has none, so the IPv6 side of
        // NAT64 is written with the packet's addresses too (the client's and 64:ff9b::<server>): AWS documents no
        // NAT64 example, and this is the model's reading.
        let v6 = k.pktSrcaddr.isIPv6Token
        return Row(eni: e, srcaddr: k.egress && !v6 ? enis[e].ip : k.pktSrcaddr,
                   dstaddr: k.egress || v6 ? k.pktDstaddr : enis[e].ip,
                   srcport: k.srcport, dstport: k.dstport, proto: k.proto, reject: k.reject, egress: k.egress,
                   pktSrcaddr: k.pktSrcaddr, pktDstaddr: k.pktDstaddr, packets: a.packets, bytes: a.bytes,
                   start: a.start, end: a.end, tcpFlags: Int(a.tcpFlags),
                   trafficPath: a.trafficPath < 0 ? nil : Int(a.trafficPath))
    }

    private func row(_ r: FlowLogRecord) -> Row {
        Row(eni: r.eni, srcaddr: r.srcaddr, dstaddr: r.dstaddr, srcport: r.srcport, dstport: r.dstport, proto: r.proto,
            reject: r.action == .reject, egress: r.direction == .egress, pktSrcaddr: r.pktSrcaddr,
            pktDstaddr: r.pktDstaddr, packets: r.packets, bytes: r.bytes, start: r.start, end: r.end,
            tcpFlags: r.tcpFlags, trafficPath: r.trafficPath)
    }

    private func record(_ r: Row) -> FlowLogRecord {
        let e = enis[r.eni]
        return FlowLogRecord(
            eni: r.eni, interfaceID: e.interfaceID, srcaddr: r.srcaddr, dstaddr: r.dstaddr, srcport: r.srcport,
            dstport: r.dstport, proto: r.proto, action: r.reject ? .reject : .accept,
            direction: r.egress ? .egress : .ingress, pktSrcaddr: r.pktSrcaddr, pktDstaddr: r.pktDstaddr,
            packets: r.packets, bytes: r.bytes, start: r.start, end: r.end, tcpFlags: r.tcpFlags,
            trafficPath: r.trafficPath, vpcID: e.vpcID, subnetID: e.subnetID, instanceID: e.instanceID, azID: e.azID)
    }

    // MARK: Output

    /// The completed records in file order — interface by interface (model order), each interface's in the
    /// order they completed — or nil when there were more than `keep` (the file has them all). Before
    /// `finish()`, only the records completed so far.
    public var records: [FlowLogRecord]? {
        guard let kept else { return nil }
        var byENI = [[FlowLogRecord]](repeating: [], count: enis.count)
        for r in kept { byENI[r.eni].append(r) }
        return byENI.flatMap { $0 }
    }

    /// The file's text for `records`, nil when they were not kept.
    public var text: String? { records.map(text(of:)) }

    /// A field's value as AWS writes it.
    public func value(_ field: FlowLogField, of r: FlowLogRecord) -> String {
        var out: [UInt8] = []
        appendField(&out, field, row(r))
        return String(decoding: out, as: UTF8.self)
    }

    public func line(_ r: FlowLogRecord) -> String {
        var out: [UInt8] = []
        appendLine(&out, row(r))
        out.removeLast()
        return String(decoding: out, as: UTF8.self)
    }

    /// A header naming the fields, then one line per record.
    public func text(of records: [FlowLogRecord]) -> String {
        var out = Array(settings.format.header.utf8)
        out.append(0x0A)
        for r in records { appendLine(&out, row(r)) }
        return String(decoding: out, as: UTF8.self)
    }

    /// One line, newline included, in the settings' format: what `flow-logs.txt` holds. Written into stack
    /// scratch sized for the longest possible line (`write(into:bound:_:)`), then copied: no capacity check per
    /// byte.
    func appendLine(_ out: inout [UInt8], _ r: Row) {
        write(into: &out, bound: lineBound) { w in
            var first = true
            for f in fields {
                if !first { w.byte(0x20) }
                first = false
                writeField(&w, f, r)
            }
            w.byte(0x0A)
        }
    }

    func appendField(_ out: inout [UInt8], _ field: FlowLogField, _ r: Row) {
        write(into: &out, bound: lineBound) { w in writeField(&w, field, r) }
    }

    /// Appends what `body` writes, at most `bound` bytes: written into scratch memory on the stack (with
    /// `LineWriter.slack` bytes more, which its word-wide stores may touch), then copied. (Appending `bound`
    /// zeros to `out` and cutting them back was a tenth of the flow-log thread's work.)
    @inline(__always)
    private func write(into out: inout [UInt8], bound: Int, _ body: (inout LineWriter) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound + LineWriter.slack) { scratch in
            var w = LineWriter(base: scratch.baseAddress!)
            body(&w)
            precondition(w.count <= bound, "flow-log line longer than its bound")
            out.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<w.count]))
        }
    }

    @inline(__always)
    private func writeField(_ w: inout LineWriter, _ field: FlowLogField, _ r: Row) {
        // enis[r.eni].x, never a copy of the ENI's entry: that would retain and release all its strings per field.
        switch field {
        case .version: w.bytes(versionBytes)
        case .accountID: w.bytes(accountBytes)
        case .interfaceID: w.bytes(enis[r.eni].interfaceIDBytes)
        case .srcaddr: w.address(r.srcaddr)
        case .dstaddr: w.address(r.dstaddr)
        case .srcport: w.decimal(Int64(r.srcport))
        case .dstport: w.decimal(Int64(r.dstport))
        case .protocol: w.decimal(Int64(r.proto))
        case .packets: w.decimal(Int64(r.packets))
        case .bytes: w.decimal(Int64(r.bytes))
        case .start: w.decimal(r.start)
        case .end: w.decimal(r.end)
        case .action: w.ascii(r.reject ? "REJECT" : "ACCEPT")
        case .logStatus: w.ascii("OK")
        case .vpcID: w.bytes(enis[r.eni].vpcIDBytes)
        case .subnetID: w.bytes(enis[r.eni].subnetIDBytes)
        case .instanceID: w.bytes(enis[r.eni].instanceIDBytes)
        case .tcpFlags: w.decimal(Int64(r.tcpFlags))
        case .type: if r.pktSrcaddr.isIPv6Token { w.ascii("IPv6") } else { w.ascii("IPv4") }
        case .pktSrcaddr: w.address(r.pktSrcaddr)
        case .pktDstaddr: w.address(r.pktDstaddr)
        case .region: w.bytes(regionBytes)
        case .azID: w.bytes(enis[r.eni].azIDBytes)
        case .sublocationType, .sublocationID: w.byte(0x2D)
        case .pktSrcAWSService, .pktDstAWSService: w.byte(0x2D)
        case .flowDirection: w.ascii(r.egress ? "egress" : "ingress")
        case .trafficPath:
            if let p = r.trafficPath { w.decimal(Int64(p)) } else { w.byte(0x2D) }
        }
    }
}

/// A copy of `s` with storage of its own (not shared with `s`).
func unshared(_ s: String) -> String { String(decoding: Array(s.utf8), as: UTF8.self) }

/// What a flow log needs of a packet crossing an ENI, as plain data: its 5-tuple as `packet.key` has it (the
/// protocol the transport header says; ports 0 for ICMP, as in AWS's ping example), read in one pass. 32 bytes (the
/// field order packs it).
struct InterfaceObservation {
    var time: Int64
    var source: IPv4Address
    var destination: IPv4Address
    var eni: Int32
    var size: UInt16
    var sourcePort: UInt16
    var destinationPort: UInt16
    var tcpFlags: TCPFlags
    /// A TCP packet's sequence number past its data, and its acknowledgment number (`TCPSegmentMarks`).
    var tcpEnd: UInt32
    var tcpAck: UInt32
    var proto: IPProtocol
    var isTCP: Bool
    var egress: Bool
    var accepted: Bool

    @inline(__always)
    init(eni: Int, time: Int64, packet: SimPacket, egress: Bool, accepted: Bool) {
        self.time = time
        self.eni = Int32(truncatingIfNeeded: eni)
        self.egress = egress
        self.accepted = accepted
        source = packet.ip.source
        destination = packet.ip.destination
        // An IPv6 packet is carried with an IPv4 header's length: its own header is 20 bytes longer.
        size = UInt16(truncatingIfNeeded: packet.wireLength)
        sourcePort = 0
        destinationPort = 0
        tcpFlags = []
        tcpEnd = 0
        tcpAck = 0
        isTCP = false
        proto = packet.ip.proto
        switch packet.transport {
        case .tcp(let t):
            sourcePort = t.sourcePort
            destinationPort = t.destinationPort
            tcpFlags = t.flags
            tcpEnd = t.sequenceNumber &+ UInt32(truncatingIfNeeded: packet.payload.count)
            tcpAck = t.acknowledgmentNumber
            isTCP = true
            proto = .tcp
        case .udp(let u):
            sourcePort = u.sourcePort
            destinationPort = u.destinationPort
            proto = .udp
        case .icmp:
            // ICMPv6 (protocol 58) travels as ICMP's header in an IPv6 packet: the IP protocol tells them apart.
            proto = packet.ip.proto == .icmpv6 ? .icmpv6 : .icmp
        case .none:
            break
        }
    }
}

/// Writes a flow-log line into memory known to have room for it, and `slack` bytes more.
struct LineWriter {
    let base: UnsafeMutablePointer<UInt8>
    var count = 0
    /// The digit tables, read from their globals once a line (each read of a global is a `swift_once` call: 7 a
    /// line when `decimal` and `address` read them).
    let pairs: UnsafePointer<UInt8>
    let octets: UnsafePointer<UInt32>
    /// Bytes past the line's end that a word-wide store may overwrite (an address's octet is stored as 4 bytes).
    static let slack = 8

    init(base: UnsafeMutablePointer<UInt8>) {
        self.base = base
        pairs = decimalPairs
        octets = octetText
    }

    @inline(__always) mutating func byte(_ b: UInt8) {
        base[count] = b
        count += 1
    }

    @inline(__always) mutating func bytes(_ a: [UInt8]) {
        a.withUnsafeBufferPointer { b in
            (base + count).update(from: b.baseAddress!, count: b.count)
            count += b.count
        }
    }

    /// An IPv6 address's text (`address` of a token), out of line.
    @inline(never) mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { b in
            (base + count).update(from: b.baseAddress!, count: b.count)
            count += b.count
        }
    }

    @inline(__always) mutating func ascii(_ s: StaticString) {
        (base + count).update(from: s.utf8Start, count: s.utf8CodeUnitCount)
        count += s.utf8CodeUnitCount
    }

    /// `v` in decimal: the digits counted first, then written from the last, two at a time.
    @inline(__always) mutating func decimal(_ v: Int64) {
        var m = v.magnitude
        if v < 0 { byte(0x2D) }
        if m < 10 {
            byte(0x30 &+ UInt8(truncatingIfNeeded: m))
            return
        }
        var digits = 2
        var power: UInt64 = 100
        while digits < 20, m >= power {  // UInt64 has at most 20 digits; 10^20 would overflow
            digits &+= 1
            power &*= 10
        }
        var i = count &+ digits
        while m >= 100 {
            let q = m / 100
            i &-= 2
            (base + i).update(from: pairs + 2 &* Int(truncatingIfNeeded: m &- q &* 100), count: 2)
            m = q
        }
        if m >= 10 {
            (base + (i &- 2)).update(from: pairs + 2 &* Int(truncatingIfNeeded: m), count: 2)
        } else {
            base[i &- 1] = 0x30 &+ UInt8(truncatingIfNeeded: m)
        }
        count &+= digits
    }

    /// The dotted quad: each octet's text from a table, stored as one 4-byte word (the bytes past it are
    /// overwritten next, or are slack), then the count advanced by its length.
    @inline(__always) mutating func address(_ a: IPv4Address) {
        if a.isIPv6Token { return text(a.description) }
        let v = a.rawValue, table = octets
        octet(table[Int(v >> 24)])
        byte(0x2E)
        octet(table[Int((v >> 16) & 0xFF)])
        byte(0x2E)
        octet(table[Int((v >> 8) & 0xFF)])
        byte(0x2E)
        octet(table[Int(v & 0xFF)])
    }

    @inline(__always) private mutating func octet(_ entry: UInt32) {
        UnsafeMutableRawPointer(base + count).storeBytes(of: (entry & 0xFF_FFFF).littleEndian, as: UInt32.self)
        count &+= Int(entry >> 24)
    }
}

/// "00", "01", … "99": 200 bytes, for `LineWriter.decimal` (never freed; read-only once made, so safe to share).
nonisolated(unsafe) private let decimalPairs: UnsafePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 200)
    for n in 0..<100 {
        p[2 * n] = 0x30 + UInt8(n / 10)
        p[2 * n + 1] = 0x30 + UInt8(n % 10)
    }
    return UnsafePointer(p)
}()

/// "0" … "255", for `LineWriter.address`: octet n's digits in the low three bytes, first digit lowest, and its
/// length in the top byte (never freed).
nonisolated(unsafe) private let octetText: UnsafePointer<UInt32> = {
    let p = UnsafeMutablePointer<UInt32>.allocate(capacity: 256)
    for n in 0..<256 {
        let digits = Array(String(n).utf8)
        var e = UInt32(digits.count) << 24
        for (k, d) in digits.enumerated() { e |= UInt32(d) << (8 * k) }
        p[n] = e
    }
    return UnsafePointer(p)
}()

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
