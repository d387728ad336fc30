import Foundation
import Packets

/// `vpcsim replay FLOWLOGS --network X`: real VPC Flow Logs replayed against a network. Each connection the
/// logs show is worked out from its records (both directions, at every ENI that logged it), its first packet and
/// the reply to it sent through the network as `vpcsim trace` sends them (`ReplayProbe`), and what flow logs
/// would record at each ENI compared with what AWS did record: every ACCEPT the network would now REJECT, and
/// the reverse, with the rule that decides. docs/replay.md.
public struct FlowLogReplay: Sendable {
    public struct Options: Sendable {
        /// REAL=MODEL: a logged interface id taken as a model ENI's.
        public var interfaceMap: [String: String]
        /// The fields of files without a header line (default: the version 2 default format).
        public var format: FlowLogFormat
        public init(interfaceMap: [String: String] = [:], format: FlowLogFormat = .defaultV2) {
            self.interfaceMap = interfaceMap
            self.format = format
        }
    }

    public struct Progress: Sendable {
        public var file: String
        public var fileIndex: Int
        public var files: Int
        public var bytesRead: Int
        public var bytes: Int
        public var records: Int
    }

    /// Logged actions the network would now turn around, grouped by connection (client ports folded), ENI and rule.
    public struct Disagreement: Sendable, Codable, Equatable {
        /// "ACCEPT → REJECT", "REJECT → ACCEPT", or "ACCEPT → not on the path".
        public var change: String
        public var `protocol`: String
        public var initiator: String
        /// The initiator's port, or "*" when the grouped connections used several.
        public var initiator_port: String
        public var responder: String
        public var responder_port: Int
        public var eni: String
        public var eni_owner: String
        /// "request" (the initiator's packets) or "reply".
        public var side: String
        public var connections: Int
        public var records: Int
        /// file:line of the first record.
        public var first_record: String
        /// The deciding rule, as the console writes it.
        public var rule: String
    }

    public struct NotModeled: Sendable, Codable, Equatable {
        public var what: String
        public var reason: String
        public var records: Int
    }

    public var network: String
    public var files: [String]
    public var records: Int
    public var noData: Int
    public var natTranslated: Int
    public var connections: Int
    /// Connections with a record the network decides otherwise at the connection's own ENIs.
    public var disagreeingConnections: Int
    /// Records the network decides as logged (at NAT gateways' ENIs too).
    public var asLogged: Int
    public var disagreements: [Disagreement]
    public var notModeled: [NotModeled]
    public var assumptions: [String]
    public var agree: Bool { disagreements.isEmpty }

    static let initiatorAssumption = "initiator: the end whose TCP flags show the SYN (tcp-flags, when logged), else "
        + "the end with the higher port (the lower port taken as the service), else the source of the first record; "
        + "a verdict depends on it (a NACL and a security group see the two directions differently)"
    static let portAssumption = "client ports: connections whose client ports every NACL and security-group rule "
        + "matches alike share one probe"

    // MARK: Running

    /// Reads `files` (streaming: memory follows the distinct connections) and replays them against `scenario`.
    public static func run(files: [String], scenario: Scenario, label: String, options: Options = Options(),
                           progress: ((Progress) -> Void)? = nil) throws -> FlowLogReplay {
        let m = scenario.model
        let reader = ReplayRecords(interfaces: try interfaces(m, options.interfaceMap),
                                   format: options.format.fields.map(\.rawValue))
        let sizes = files.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
        for (i, f) in files.enumerated() {
            try reader.read(path: f) { done in
                progress?(Progress(file: f, fileIndex: i, files: files.count, bytesRead: done, bytes: sizes[i],
                                   records: reader.records))
            }
        }
        var r = Replayer(scenario: scenario, reader: reader)
        r.replay()
        var notModeled: [NotModeled] = reader.unknownInterfaces.map {
            NotModeled(what: $0.id, reason: "interface not in the network", records: $0.records)
        }
        notModeled += r.notModeled.keys.sorted { ($0.what, $0.reason) < ($1.what, $1.reason) }.map {
            NotModeled(what: $0.what, reason: $0.reason, records: r.notModeled[$0]!)
        }
        return FlowLogReplay(network: label, files: files, records: reader.records, noData: reader.noData,
                             natTranslated: r.natTranslated, connections: r.connections,
                             disagreeingConnections: r.disagreeingConnections, asLogged: r.agreeing,
                             disagreements: r.disagreements(),
                             notModeled: notModeled, assumptions: [initiatorAssumption, portAssumption] + r.aliases)
    }

    /// Every interface id a record may name: the model's ENIs, and the real ids `map` gives to them.
    static func interfaces(_ m: VPCModel, _ map: [String: String]) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for (i, e) in m.enis.enumerated() { out[e.id] = i }
        for (real, model) in map.sorted(by: { $0.key < $1.key }) {
            guard let i = out[model] ?? m.enis.firstIndex(where: { $0.id == model }) else {
                throw ReplayError(message: "--map-interface \(real)=\(model): the network has no ENI \(model)"
                                  + ScenarioBuilder.didYouMean(model, among: m.enis.map(\.id)))
            }
            out[real] = i
        }
        return out
    }

    // MARK: Rendering

    static func number(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0, (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    static func plural(_ n: Int, _ word: String) -> String { "\(number(n)) \(word)\(n == 1 ? "" : "s")" }

    /// "8 connections replayed (9 records): 8 records as logged, 1 turned around; 3 records not modeled".
    public var summary: String {
        let turned = disagreements.reduce(0) { $0 + $1.records }
        var s = "\(Self.plural(connections, "connection")) replayed (\(Self.plural(records, "record"))): "
        s += "\(Self.number(asLogged)) as logged, \(Self.number(turned)) turned around"
        let nm = notModeled.reduce(0) { $0 + $1.records }
        if nm > 0 { s += "; \(Self.plural(nm, "record")) not modeled" }
        return s
    }

    public var text: String {
        var o = "vpcsim replay: \(Self.plural(files.count, "file")) against \(network)\n"
        o += "\nASSUMPTIONS\n"
        for a in assumptions { o += "  \(a)\n" }
        o += "\nDISAGREE (\(disagreements.count))\n"
        if disagreements.isEmpty { o += "  none: the network decides every logged connection as AWS logged it\n" }
        for d in disagreements {
            let port = d.initiator_port
            o += "  \(d.change)  \(d.protocol) \(d.initiator):\(port) → \(d.responder):\(d.responder_port)  at \(d.eni) "
            o += "(\(d.eni_owner)), the \(d.side): \(Self.plural(d.connections, "connection")), "
            o += "\(Self.plural(d.records, "record")) (first \(d.first_record))\n"
            o += "      \(d.rule)\n"
        }
        if !notModeled.isEmpty {
            o += "\nNOT MODELED (no verdict)\n"
            for n in notModeled { o += "  \(n.what): \(n.reason): \(Self.plural(n.records, "record"))\n" }
        }
        if noData > 0 || natTranslated > 0 {
            o += "\nSKIPPED\n"
            if noData > 0 { o += "  \(Self.plural(noData, "record")) without data (NODATA, SKIPDATA, or \"-\" for a needed value)\n" }
            if natTranslated > 0 {
                o += "  \(Self.plural(natTranslated, "record")) at NAT gateways' ENIs of no replayed connection (a gateway's "
                    + "legs are checked through the client's connection)\n"
            }
        }
        o += "\n\(summary)\n"
        return o
    }

    public var json: String {
        struct Out: Encodable {
            var tool: String
            var network: String
            var files: [String]
            var records: Int
            var records_without_data: Int
            var records_nat_unmatched: Int
            var connections: Int
            var connections_disagreeing: Int
            var records_as_logged: Int
            var records_turned_around: Int
            var agree: Bool
            var assumptions: [String]
            var disagreements: [Disagreement]
            var not_modeled: [NotModeled]
            var summary: String
        }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let out = Out(tool: "vpcsim \(vpcsimVersion)", network: network, files: files, records: records,
                      records_without_data: noData, records_nat_unmatched: natTranslated, connections: connections,
                      connections_disagreeing: disagreeingConnections, records_as_logged: asLogged,
                      records_turned_around: disagreements.reduce(0) { $0 + $1.records }, agree: agree, assumptions: assumptions,
                      disagreements: disagreements, not_modeled: notModeled, summary: summary)
        return String(decoding: (try? e.encode(out)) ?? Data(), as: UTF8.self) + "\n"
    }
}

/// A problem with replay's options (not with a file): one line.
public struct ReplayError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The connections of the records read, worked out and probed.
struct Replayer {
    typealias Key = ReplayRecords.Key
    let model: VPCModel
    let reader: ReplayRecords
    let probe: ReplayProbe
    /// Every private address an ENI has (not a NAT gateway's), and the NAT gateways' addresses.
    /// (Tables of the engine's kind, not Dictionaries: looked up a few times for every connection.)
    let eniByAddress = AddressTable()
    let natAddresses = AddressTable()
    let hostByAddress = AddressTable()
    /// Each ENI's IPv6 address as a token (nil for none): an IPv6 record's end at its own ENI.
    let eniTokens6: [UInt32?]
    /// The VPCs' IPv6 blocks: an IPv6 address outside them (and global unicast) is on the internet.
    let ipv6Blocks: [IPv6CIDR]
    /// Logged addresses taken as an ENI's model address (`learnAddresses`), and what was taken.
    let alias = AddressTable()
    var aliases: [String] = []
    /// Port-range boundaries of every NACL and security-group rule: ports between two match every rule alike.
    let boundaries: [UInt16]

    var connections = 0
    var disagreeingConnections = 0
    /// Records decided as logged; records at NAT gateways' ENIs checked through their connection.
    var agreeing = 0
    var natLegRecords = 0
    var natTranslated = 0
    var notModeled: [Reason: Int] = [:]
    /// The probes run, each once; the tables below hold indices into it.
    var results: [ReplayProbe.Result] = []
    let memo = HashTable<ProbeKey, Int32>(capacity: 64)
    var groups: [GroupKey: Group] = [:]
    var groupOrder: [GroupKey] = []
    /// Records at a NAT gateway's ENI (one end is the gateway's address), replayed once every connection has
    /// been: through the connection they are a leg of (`insideLegs`, `outsideLegs`).
    var natEntries: [(key: Key, counts: ReplayRecords.Counts)] = []
    /// The probe of each connection that crossed a NAT gateway, by its client end and service port (the inside
    /// leg's records name both), and by the server end and the gateway's ENI (the outside leg's, whose port the
    /// gateway chose): the first connection of each.
    let insideLegs = HashTable<InsideLeg, Int32>(capacity: 64)
    let outsideLegs = HashTable<OutsideLeg, Int32>(capacity: 64)
    struct InsideLeg: TableKey {
        var client: UInt64
        var proto: UInt8
        var servicePort: UInt16
        @inline(__always) var tableHash: UInt64 { client &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(proto) << 16 ^ UInt64(servicePort) }
    }
    struct OutsideLeg: TableKey {
        var server: UInt64
        var proto: UInt8
        var eni: Int
        @inline(__always) var tableHash: UInt64 { server &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(proto) << 32 ^ UInt64(eni) }
    }

    struct Reason: Hashable { var what: String; var reason: String }
    struct ProbeKey: TableKey {
        var origin: Int
        var proto: UInt8
        var source: UInt32
        var destination: UInt32
        var destinationPort: UInt16
        var portClass: Int
        @inline(__always) var tableHash: UInt64 {
            (UInt64(source) << 32 | UInt64(destination)) &* 0x9E37_79B9_7F4A_7C15
                ^ (UInt64(UInt(bitPattern: origin)) << 40 ^ UInt64(portClass) << 24 ^ UInt64(destinationPort) << 8 ^ UInt64(proto))
        }
    }
    struct GroupKey: Hashable {
        var change: String
        var proto: UInt8
        var initiator: UInt32
        var responder: UInt32
        var responderPort: UInt16
        var eni: Int
        var reply: Bool
        var rule: String
    }
    struct Group {
        var port: UInt16
        var severalPorts = false
        var connections = 0
        var records = 0
        var firstFile: UInt32
        var firstLine: UInt32
    }

    init(scenario: Scenario, reader: ReplayRecords) {
        model = scenario.model
        self.reader = reader
        probe = ReplayProbe(model: model, assumptions: scenario.assumptions)
        for (i, e) in model.enis.enumerated() {
            if case .natGateway = e.owner { natAddresses.insert(e.privateIP.rawValue) } else { eniByAddress[e.privateIP.rawValue] = UInt32(i) }
        }
        // IPv6 addresses as the records' tokens (IPv6 records carry tokens: `ReplayRecords.token`).
        eniTokens6 = model.enis.map { $0.ipv6Address.map { IPv6Token.intern($0).rawValue } }
        for (i, t) in eniTokens6.enumerated() { if let t { eniByAddress[t] = UInt32(i) } }
        ipv6Blocks = model.vpcs.flatMap(\.ipv6CidrBlocks)
        for n in model.natGateways { for a in n.secondaryPrivateIPs { natAddresses.insert(a.rawValue) } }
        for (i, h) in model.outsideHosts.enumerated() {
            if h.hasIPv4 { hostByAddress[h.address.rawValue] = UInt32(i) }
            if let a = h.ipv6Address { hostByAddress[IPv6Token.intern(a).rawValue] = UInt32(i) }
        }
        var b = Set<UInt16>()
        func add(_ p: PortRange?) {
            guard let p else { return }
            b.insert(p.from)
            if p.to < 65535 { b.insert(p.to + 1) }
        }
        for a in model.networkACLs { for r in a.inbound + a.outbound { add(r.ports) } }
        for g in model.securityGroups { for r in g.ingress + g.egress { add(r.ports) } }
        boundaries = b.sorted()
    }

    /// Whether `a` is an address on the internet: a public IPv4 address, or a global unicast IPv6 address
    /// (2000::/3, RFC 4291 §2.4) outside the VPCs' IPv6 blocks (IPv6 addresses are global: no translation).
    func onInternet(_ a: UInt32) -> Bool {
        let v = IPv4Address(rawValue: a)
        guard v.isIPv6Token else { return !v.isPrivateOrSpecial }
        guard let six = reader.addresses6[a] ?? v.ipv6 else { return false }
        return six.high >> 61 == 1 && !ipv6Blocks.contains { $0.contains(six) }
    }

    /// Whether `a` is one of ENI `e`'s own addresses (its private IPv4 address or its IPv6 address).
    @inline(__always)
    func isOwn(_ e: Int, _ a: UInt32) -> Bool { a == model.enis[e].privateIP.rawValue || a == eniTokens6[e] }

    func portClass(_ p: UInt16) -> Int {
        var lo = 0, hi = boundaries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if boundaries[mid] <= p { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    static func end(_ a: UInt32, _ p: UInt16) -> UInt64 { UInt64(a) << 16 | UInt64(p) }

    /// A connection, whichever way its records went: protocol and lower end (`a`), higher end (`b`).
    struct ConnectionKey: TableKey {
        var a: UInt64
        var b: UInt64
        @inline(__always) var tableHash: UInt64 { a &* 0x9E37_79B9_7F4A_7C15 ^ b }
        @inline(__always) static func < (x: Self, y: Self) -> Bool { x.a != y.a ? x.a < y.a : x.b < y.b }
    }

    @inline(__always)
    static func connectionKey(_ k: Key) -> ConnectionKey {
        let x = end(k.source, k.sourcePort), y = end(k.destination, k.destinationPort)
        return ConnectionKey(a: UInt64(k.proto) << 48 | min(x, y), b: max(x, y))
    }

    /// Replays the connections in the order of their protocol and two ends, each with its records in the order
    /// of their ENI and source end. The records are gathered by connection through a table (linear), and only
    /// the connections are sorted. The records stay where the reader counted them: what is gathered is their
    /// slots in its table (4 bytes a record, where a copy of the records was 40 — on a machine whose fresh
    /// memory costs a page fault each, that copy was a tenth of the run), and each connection's few records are
    /// copied out only when it is replayed.
    mutating func replay() {
        let records = reader.table
        var keys: [ConnectionKey] = []
        var sizes: [Int32] = []
        // The connection of each record, in slot order.
        var connectionOf = [Int32](repeating: 0, count: records.count)
        do {
            // Most connections are logged at two ENIs or more, both ways: an eighth of the records to start.
            let table = HashTable<ConnectionKey, Int32>(capacity: max(8, records.count / 8))
            var n = 0
            var batch = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0),
                         Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
            var slot = 0
            let slotCount = records.slotCount
            withUnsafeMutableBytes(of: &batch) { raw in
                let b = raw.bindMemory(to: Int32.self)
                while slot < slotCount {
                    // The next 16 records' connections are touched together first, so that their cache
                    // misses overlap (`HashTable.touch`): the records come in the reader's slot order, their
                    // connections anywhere in this table.
                    var m = 0
                    while m < 16, slot < slotCount {
                        if records.isUsed(at: slot) {
                            b[m] = Int32(slot)
                            table.touch(Self.connectionKey(records.key(at: slot)))
                            m += 1
                        }
                        slot += 1
                    }
                    for j in 0..<m {
                        let k = Self.connectionKey(records.key(at: Int(b[j])))
                        if let at = table.find(k) {
                            let c = table.value(at: at).pointee
                            connectionOf[n] = c
                            sizes[Int(c)] += 1
                        } else {
                            let c = Int32(keys.count)
                            table.insert(k, c)
                            connectionOf[n] = c
                            keys.append(k)
                            sizes.append(1)
                        }
                        n += 1
                    }
                }
            }
        }
        var order = Array(0..<Int32(keys.count))
        order.sort { keys[Int($0)] < keys[Int($1)] }
        // Where each connection's records go: one after another in `order`.
        var next = [Int32](repeating: 0, count: keys.count)
        var at: Int32 = 0
        for c in order {
            next[Int(c)] = at
            at += sizes[Int(c)]
        }
        // The records' slots, connection after connection.
        var grouped = [Int32](repeating: 0, count: records.count)
        var n = 0
        for slot in 0..<records.slotCount where records.isUsed(at: slot) {
            let c = Int(connectionOf[n])
            grouped[Int(next[c])] = Int32(slot)
            next[c] += 1
            n += 1
        }
        connectionOf = []
        learnAddresses(reader.entrySequence)
        var entries: [(key: Key, counts: ReplayRecords.Counts)] = []
        var i = 0
        for c in order {
            let j = i + Int(sizes[Int(c)])
            entries.removeAll(keepingCapacity: true)
            for x in i..<j {
                let slot = Int(grouped[x])
                let e = (key: records.key(at: slot), counts: records.value(at: slot).pointee)
                // Few records: insertion sort by ENI, then source end.
                var y = entries.count
                entries.append(e)
                while y > 0, Self.before(e.key, entries[y - 1].key) {
                    entries[y] = entries[y - 1]
                    y -= 1
                }
                entries[y] = e
            }
            connection(entries[...])
            i = j
        }
        natLegs()
    }

    @inline(__always)
    static func before(_ x: Key, _ y: Key) -> Bool {
        if x.eni != y.eni { return x.eni < y.eni }
        return end(x.source, x.sourcePort) < end(y.source, y.sourcePort)
    }

    /// The records at NAT gateways' ENIs, each against the connection it is a leg of: the inside leg (client ↔
    /// the gateway's address, on the service port) through the connection with that client end; the outside leg
    /// (the gateway's address ↔ the server) through the first connection to that server through that gateway.
    /// A record of a leg no replayed connection has is counted as the translated side, without a verdict.
    mutating func natLegs() {
        var i = 0
        while i < natEntries.count {
            let (key, counts) = natEntries[i]
            i += 1
            let records = Int(counts.accept + counts.reject)
            let e = Int(key.eni)
            guard case .natGateway = model.enis[e].owner else { natTranslated += records; continue }
            let natIsSource = natAddresses.contains(key.source)
            let (nat, natPort, other, otherPort) = natIsSource
                ? (key.source, key.sourcePort, key.destination, key.destinationPort)
                : (key.destination, key.destinationPort, key.source, key.sourcePort)
            let inside = IPv4Address(rawValue: other).isPrivateOrSpecial
            let result: ReplayProbe.Result?
            let reply: Bool
            if inside {
                // The client sends the request to the gateway (ingress); the gateway sends the reply (egress).
                result = insideLegs.find(InsideLeg(client: Self.end(other, otherPort), proto: key.proto, servicePort: natPort))
                    .map { results[Int(insideLegs.value(at: $0).pointee)] }
                reply = natIsSource
            } else {
                result = outsideLegs.find(OutsideLeg(server: Self.end(other, otherPort), proto: key.proto, eni: e))
                    .map { results[Int(outsideLegs.value(at: $0).pointee)] }
                reply = !natIsSource
            }
            guard let result else { natTranslated += records; continue }
            natLegRecords += records
            guard let (change, n) = Self.change(counts, Self.action(result, eni: e, reply: reply, egress: natIsSource)) else {
                agreeing += records
                continue
            }
            let v = Self.verdict(result, eni: e, reply: reply, egress: natIsSource)
            let (initiator, iport, responder, rport) = inside ? (other, otherPort, nat, natPort) : (nat, natPort, other, otherPort)
            note(GroupKey(change: change, proto: key.proto, initiator: initiator, responder: responder,
                          responderPort: rport, eni: e, reply: reply, rule: v.rule),
                 port: iport, records: n, counts)
        }
    }

    mutating func note(_ g: GroupKey, port: UInt16, records n: Int, _ counts: ReplayRecords.Counts) {
        if groups[g] == nil {
            groups[g] = Group(port: port, firstFile: counts.file, firstLine: counts.line)
            groupOrder.append(g)
        }
        groups[g]!.connections += 1
        groups[g]!.records += n
        if groups[g]!.port != port { groups[g]!.severalPorts = true }
        if (counts.file, counts.line) < (groups[g]!.firstFile, groups[g]!.firstLine) {
            (groups[g]!.firstFile, groups[g]!.firstLine) = (counts.file, counts.line)
        }
    }

    /// A connection worked out from its records: how it is replayed, or why it is not.
    struct Resolved {
        var initiator: UInt32
        var initiatorPort: UInt16
        var responder: UInt32
        var responderPort: UInt16
        var proto: UInt8
        /// Nil when it is not replayed: `natSide`, or `notModeled` says why.
        var result: ReplayProbe.Result?
        /// `result`'s index in `Replayer.results`.
        var resultIndex: Int32 = -1
        var natSide = false
        var notModeled: Reason?
    }

    /// The initiator of the connection `entries` logged, and its probe (from the memo when one of its kind ran).
    mutating func resolve(_ entries: ArraySlice<(key: Key, counts: ReplayRecords.Counts)>) -> Resolved {
        let proto = entries.first!.key.proto
        let (initiator, initiatorPort, responder, responderPort) = Self.initiator(entries)
        var r = Resolved(initiator: initiator, initiatorPort: initiatorPort, responder: responder,
                         responderPort: responderPort, proto: proto)
        if natAddresses.contains(initiator) || natAddresses.contains(responder) {
            r.natSide = true
            return r
        }
        if proto == 58 {
            // The probe sends TCP, UDP and ICMP (IPv4) messages; an ICMPv6 one (its type and code) it does not make.
            r.notModeled = Reason(what: "ICMPv6", reason: "ICMPv6 records are not replayed (no ICMPv6 message is probed)")
            return r
        }
        func address(_ a: UInt32) -> String { IPv4Address(rawValue: a).description }
        // The model's addresses for logged ones taken as an ENI's (`learnAddresses`).
        let (mi, mr) = (alias[initiator] ?? initiator, alias[responder] ?? responder)
        // Where the first packet starts, and where it is sent (an ENI's public address, from the internet).
        let origin: ReplayProbe.Origin
        var destination = mr
        if let e = eniByAddress[mi] {
            origin = .eni(Int(e))
        } else if onInternet(mi) || hostByAddress[mi] != nil {
            origin = .internet
            // An ENI's IPv6 address is reached as it is; its private IPv4 one through its public IP.
            if let e = eniByAddress[mr], !IPv4Address(rawValue: mr).isIPv6Token {
                guard let pub = model.enis[Int(e)].publicIP else {
                    r.notModeled = Reason(what: address(mr),
                                          reason: "reached from outside the VPC without a public IP (through a load "
                                              + "balancer or another path not modeled)")
                    return r
                }
                destination = pub.rawValue
            }
        } else {
            r.notModeled = Reason(what: address(mi), reason: "no ENI or host of the network has this address")
            return r
        }
        if !onInternet(mr), eniByAddress[mr] == nil, hostByAddress[mr] == nil {
            r.notModeled = Reason(what: address(mr), reason: "no ENI or host of the network has this address")
            return r
        }
        let originIndex: Int
        switch origin {
        case .eni(let e): originIndex = e
        case .internet: originIndex = -1
        }
        let pk = ProbeKey(origin: originIndex, proto: proto, source: mi, destination: destination,
                          destinationPort: responderPort, portClass: portClass(initiatorPort))
        let result: ReplayProbe.Result
        let index: Int32
        if let slot = memo.find(pk) {
            index = memo.value(at: slot).pointee
            result = results[Int(index)]
        } else {
            result = probe.probe(from: origin, proto: proto, source: IPv4Address(rawValue: mi),
                                 sourcePort: initiatorPort, destination: IPv4Address(rawValue: destination),
                                 destinationPort: responderPort)
            index = Int32(results.count)
            memo.insert(pk, index)
            results.append(result)
        }
        for d in [result.request.drop, result.reply?.drop].compactMap({ $0 }) where d.action == .notModeled {
            r.notModeled = Reason(what: d.component, reason: d.text)
            return r
        }
        r.result = result
        r.resultIndex = index
        return r
    }

    /// An ENI's address as logged where the network has another (a plan's or a Lambda function's ENI, whose
    /// addresses are known only once AWS allocates them): a record at an instance's or a function's ENI names
    /// neither the ENI's model address nor, at either end, another ENI's, and one end is in the ENI's subnet: that
    /// end is the ENI's. The first such address of each ENI (in the records' order) is taken, and the output says so.
    mutating func learnAddresses(_ entries: some Sequence<(key: Key, counts: ReplayRecords.Counts)>) {
        // The records that may teach an address (what does not change as addresses are taken), in the records'
        // order; usually none, as logs name the network's own addresses.
        var candidates = entries.filter { e in
            guard e.key.eni >= 0 else { return false }
            let eni = model.enis[Int(e.key.eni)]
            if case .natGateway = eni.owner { return false }
            let own = eni.privateIP.rawValue
            guard e.key.source != own, e.key.destination != own else { return false }
            let cidr = model.subnets[eni.subnet].cidr
            func teaches(_ a: UInt32) -> Bool {
                cidr.contains(IPv4Address(rawValue: a)) && eniByAddress[a] == nil && !natAddresses.contains(a)
            }
            return teaches(e.key.source) || teaches(e.key.destination)
        }
        candidates.sort { ($0.counts.file, $0.counts.line) < ($1.counts.file, $1.counts.line) }
        var taken = Set<Int>()
        for (key, _) in candidates {
            let e = Int(key.eni)
            let eni = model.enis[e]
            let own = eni.privateIP.rawValue
            guard !taken.contains(e) else { continue }
            let cidr = model.subnets[eni.subnet].cidr
            for a in [key.source, key.destination] where cidr.contains(IPv4Address(rawValue: a)) {
                guard eniByAddress[a] == nil, alias[a] == nil, !natAddresses.contains(a) else { continue }
                alias[a] = own
                taken.insert(e)
                aliases.append("address: \(IPv4Address(rawValue: a)), logged at \(eni.id), taken as its address "
                               + "(the network has \(eni.privateIP))")
                break
            }
        }
    }

    mutating func connection(_ all: ArraySlice<(key: Key, counts: ReplayRecords.Counts)>) {
        // Records at interfaces not in the network are counted apart.
        let entries = all.contains { $0.key.eni < 0 } ? ArraySlice(all.filter { $0.key.eni >= 0 }) : all
        guard !entries.isEmpty else { return }
        let records = entries.reduce(0) { $0 + Int($1.counts.accept + $1.counts.reject) }
        let c = resolve(entries)
        if c.natSide {
            natEntries += entries
            return
        }
        if let why = c.notModeled {
            notModeled[why, default: 0] += records
            return
        }
        guard let result = c.result else { return }
        connections += 1
        for f in result.request.interfaces {
            guard case .natGateway = model.enis[f.eni].owner else { continue }
            let inside = InsideLeg(client: Self.end(c.initiator, c.initiatorPort), proto: c.proto, servicePort: c.responderPort)
            if insideLegs.find(inside) == nil { insideLegs.insert(inside, c.resultIndex) }
            let outside = OutsideLeg(server: Self.end(c.responder, c.responderPort), proto: c.proto, eni: f.eni)
            if outsideLegs.find(outside) == nil { outsideLegs.insert(outside, c.resultIndex) }
        }
        var disagrees = false
        for (key, counts) in entries {
            let reply = !(key.source == c.initiator && key.sourcePort == c.initiatorPort)
            let e = Int(key.eni)
            let (src, dst) = (alias[key.source] ?? key.source, alias[key.destination] ?? key.destination)
            let egress: Bool? = isOwn(e, src) ? true : isOwn(e, dst) ? false : nil
            guard let (change, n) = Self.change(counts, Self.action(result, eni: e, reply: reply, egress: egress)) else {
                agreeing += Int(counts.accept + counts.reject)
                continue
            }
            let v = Self.verdict(result, eni: e, reply: reply, egress: egress)
            disagrees = true
            note(GroupKey(change: change, proto: key.proto, initiator: c.initiator, responder: c.responder,
                          responderPort: c.responderPort, eni: e, reply: reply, rule: v.rule),
                 port: c.initiatorPort, records: n, counts)
        }
        if disagrees { disagreeingConnections += 1 }
    }

    /// How the network turns around what was logged (and for how many records), nil when it agrees.
    static func change(_ counts: ReplayRecords.Counts, _ model: ModelAction) -> (String, Int)? {
        if counts.accept > 0, model != .accept {
            return (model == .reject ? "ACCEPT → REJECT" : "ACCEPT → not on the path", Int(counts.accept))
        }
        if counts.reject > 0, model == .accept { return ("REJECT → ACCEPT", Int(counts.reject)) }
        return nil
    }

    enum ModelAction { case accept, reject, notOnPath }

    /// What flow logs would record at `eni` for the request (or the reply): `verdict` without the rule's words
    /// (made only for a disagreement).
    @inline(__always)
    static func action(_ r: ReplayProbe.Result, eni: Int, reply: Bool, egress: Bool?) -> ModelAction {
        guard let leg = reply ? r.reply : r.request else { return .reject }
        var seen = false
        for f in leg.interfaces where f.eni == eni && (egress == nil || f.egress == egress) {
            if !f.accepted { return .reject }
            seen = true
        }
        if seen { return .accept }
        return leg.drop != nil ? .reject : .notOnPath
    }

    /// What flow logs would record at `eni` for the request (or the reply), and the rule that decides.
    /// `egress`: the record's direction at the ENI (nil when its addresses do not say: an appliance's).
    static func verdict(_ r: ReplayProbe.Result, eni: Int, reply: Bool, egress: Bool? = nil) -> (model: ModelAction, rule: String) {
        guard let leg = reply ? r.reply : r.request else {
            // The request never arrived: there is no reply.
            return (.reject, "the request is dropped: " + (r.request.drop?.text ?? "not delivered"))
        }
        let here = leg.interfaces.filter { $0.eni == eni && (egress == nil || $0.egress == egress) }
        if here.contains(where: { !$0.accepted }) || (here.isEmpty && leg.drop != nil) {
            return (.reject, leg.drop?.text ?? "rejected")
        }
        if here.isEmpty {
            let path = leg.steps.map(\.componentDisplay).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
            return (.notOnPath, "the network's path: " + path.joined(separator: " → "))
        }
        // Accepted: the rules that let it through.
        let allowed = leg.steps.filter {
            $0.action == .allowed && [.securityGroupEgress, .securityGroupIngress, .naclInbound, .naclOutbound].contains($0.kind)
        }
        return (.accept, allowed.isEmpty ? "allowed (no rule denies it)" : "allowed by " + allowed.map(\.text).joined(separator: "; "))
    }

    /// The connection's initiator and responder (address, port), as `FlowLogReplay.initiatorAssumption` says.
    static func initiator(_ entries: ArraySlice<(key: Key, counts: ReplayRecords.Counts)>)
        -> (UInt32, UInt16, UInt32, UInt16) {
        let k = entries.first!.key
        // TCP flags: SYN without SYN-ACK from the initiator; SYN-ACK (18) from the responder.
        if k.proto == 6 {
            for (key, c) in entries where c.flags & 0x12 != 0 {
                if c.flags & 0x12 == 0x02 { return (key.source, key.sourcePort, key.destination, key.destinationPort) }
                if c.flags & 0x12 == 0x12 { return (key.destination, key.destinationPort, key.source, key.sourcePort) }
            }
        }
        if k.sourcePort != k.destinationPort {
            return k.sourcePort > k.destinationPort ? (k.source, k.sourcePort, k.destination, k.destinationPort)
                : (k.destination, k.destinationPort, k.source, k.sourcePort)
        }
        let first = entries.min { ($0.counts.file, $0.counts.line) < ($1.counts.file, $1.counts.line) }!.key
        return (first.source, first.sourcePort, first.destination, first.destinationPort)
    }

    func owner(_ e: Int) -> String {
        switch model.enis[e].owner {
        case .lambda(let fs): return "lambda " + fs.map { model.lambdas[$0].name ?? "?" }.joined(separator: ", ")
        case .instance(let i): return "instance \(model.instances[i].display)"
        case .natGateway(let n): return "NAT gateway \(model.natGateways[n].display)"
        case .vpcEndpoint(let v): return "VPC endpoint \(model.vpcEndpoints[v].display)"
        }
    }

    static func protoName(_ p: UInt8) -> String {
        switch p {
        case 6: return "tcp"
        case 17: return "udp"
        case 1: return "icmp"
        default: return "proto \(p)"
        }
    }

    /// The disagreements, in a fixed order: the change, then the connection, the ENI and the side.
    func disagreements() -> [FlowLogReplay.Disagreement] {
        let sorted = groupOrder.sorted { a, b in
            if (a.change, a.proto, a.initiator, a.responder) != (b.change, b.proto, b.initiator, b.responder) {
                return (a.change, a.proto, a.initiator, a.responder) < (b.change, b.proto, b.initiator, b.responder)
            }
            return (a.responderPort, a.eni, a.reply ? 1 : 0, a.rule) < (b.responderPort, b.eni, b.reply ? 1 : 0, b.rule)
        }
        return sorted.map { k in
            let g = groups[k]!
            return FlowLogReplay.Disagreement(
                change: k.change, protocol: Self.protoName(k.proto), initiator: IPv4Address(rawValue: k.initiator).description,
                initiator_port: g.severalPorts ? "*" : String(g.port), responder: IPv4Address(rawValue: k.responder).description,
                responder_port: Int(k.responderPort), eni: model.enis[k.eni].id, eni_owner: owner(k.eni),
                side: k.reply ? "reply" : "request", connections: g.connections, records: g.records,
                first_record: "\(reader.files[Int(g.firstFile)]):\(g.firstLine)", rule: k.rule)
        }
    }
}

/// IPv4 addresses, each with a number: an open-addressing table hashed in a few instructions (a Dictionary
/// hashes with SipHash), for the lookups replay makes for every connection.
final class AddressTable {
    private let table = HashTable<UInt64, UInt32>(capacity: 16)

    subscript(_ a: UInt32) -> UInt32? {
        get { table.find(UInt64(a)).map { table.value(at: $0).pointee } }
        set {
            if let slot = table.find(UInt64(a)) {
                if let v = newValue { table.value(at: slot).pointee = v } else { table.remove(at: slot) }
            } else if let v = newValue {
                table.insert(UInt64(a), v)
            }
        }
    }

    func contains(_ a: UInt32) -> Bool { table.find(UInt64(a)) != nil }
    func insert(_ a: UInt32) { if !contains(a) { table.insert(UInt64(a), 0) } }
}
