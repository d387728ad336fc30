import Foundation

/// Compares simulated flow logs with real ones: which flows the real logs show that the simulation did not,
/// which the simulation shows that the real logs do not, and where the two disagree on ACCEPT / REJECT.
///
/// Records are matched by interface (a real interface id may be mapped to a simulated one), protocol,
/// addresses and ports. At an ENI that is not an endpoint (a NAT gateway) srcaddr/dstaddr name the ENI itself,
/// so when both files carry pkt-srcaddr/pkt-dstaddr those are used: they name the packet's real endpoints.
/// Fields only one file has are left out of the match. Records of one key are pooled over all intervals.
public struct FlowLogComparison: Sendable {
    public struct Options: Sendable {
        /// Real interface id → simulated interface id.
        public var interfaceMap: [String: String]
        /// Match ports as "the lower port of the two" only: the higher is taken as an ephemeral port (client
        /// ports and NAT ports differ from run to run).
        public var ignoreEphemeralPorts: Bool

        public init(interfaceMap: [String: String] = [:], ignoreEphemeralPorts: Bool = false) {
            self.interfaceMap = interfaceMap
            self.ignoreEphemeralPorts = ignoreEphemeralPorts
        }
    }

    /// The match key of a record.
    public struct Key: Hashable, Sendable, Comparable, CustomStringConvertible {
        public var interface: String
        public var proto: String
        public var src: String
        public var srcport: String
        public var dst: String
        public var dstport: String
        /// `ingress` or `egress` for Transit Gateway Flow Logs records (an attachment sees a flow both ways when
        /// the gateway sends it back out by the attachment it came in by, as through an inspection VPC); "" for
        /// VPC Flow Logs.
        public var direction: String = ""

        public var description: String {
            let p = ["6": "tcp", "17": "udp", "1": "icmp"][proto] ?? "proto \(proto)"
            return "\(interface)\(direction.isEmpty ? "" : " " + direction) \(p) \(src):\(srcport) → \(dst):\(dstport)"
        }
        /// By interface, source, destination, protocol, source port, destination port (field by field, without
        /// building tuples: the report sorts every key).
        public static func < (a: Key, b: Key) -> Bool {
            if a.interface != b.interface { return a.interface < b.interface }
            if a.src != b.src { return a.src < b.src }
            if a.dst != b.dst { return a.dst < b.dst }
            if a.proto != b.proto { return a.proto < b.proto }
            if a.srcport != b.srcport { return a.srcport < b.srcport }
            if a.dstport != b.dstport { return a.dstport < b.dstport }
            return a.direction < b.direction
        }
    }

    /// The records of one key in one file.
    public struct Side: Sendable, Equatable {
        public var actions: [String]
        public var packets: Int
        /// (line number, line text) of each record.
        public var lines: [ParsedFlowLog.Record]
    }

    public struct Difference: Sendable {
        public var key: Key
        public var simulated: Side?
        public var real: Side?
    }

    public var simulatedName: String
    public var realName: String
    /// What records were matched on ("interface-id, protocol, pkt-srcaddr, pkt-dstaddr, srcport, dstport").
    public var matchedOn: [String]
    public var onlyInReal: [Difference] = []
    public var onlyInSimulated: [Difference] = []
    public var actionMismatches: [Difference] = []
    public var matched = 0
    /// Interfaces with records in only one file, with their record counts (their records are not listed one by
    /// one).
    public var interfacesOnlyInReal: [(id: String, records: Int)] = []
    public var interfacesOnlyInSimulated: [(id: String, records: Int)] = []
    public var simulatedProblems: [ParsedFlowLog.Problem] = []
    public var realProblems: [ParsedFlowLog.Problem] = []
    public var notes: [String] = []

    public var agree: Bool {
        onlyInReal.isEmpty && onlyInSimulated.isEmpty && actionMismatches.isEmpty && interfacesOnlyInReal.isEmpty
            && interfacesOnlyInSimulated.isEmpty
    }

    public static func compare(simulated sim: ParsedFlowLog, real: ParsedFlowLog, options: Options = Options(),
                               simulatedName: String = "SIMULATED", realName: String = "REAL") -> FlowLogComparison {
        func source(_ log: ParsedFlowLog) -> Source {
            Source(fields: log.fields, forEach: { body in
                for r in log.records { body(r.line, r.values) { r.text } }
                return log.problems
            })
        }
        // Records in memory cannot fail to be read.
        return try! compare(simulated: source(sim), real: source(real), options: options,
                            simulatedName: simulatedName, realName: realName)
    }

    /// What the comparison is doing, for a progress line: reading `file` (`pass` 1: every record's key; 2: the
    /// lines of the keys that differ), `bytesRead` of `bytes`.
    public struct Progress: Sendable {
        public var file: String
        public var pass: Int
        public var bytesRead: Int
        public var bytes: Int
        public var lines: Int
    }

    /// Compares two files without holding their lines: each file is read once for the keys (a summary per key:
    /// its actions and packets), and once more, only when there are differences, for the lines of
    /// the keys that differ. Memory follows the number of distinct keys (and the lines reported), not the length of
    /// the files. The result is the same as `compare(simulated:real:)` of the parsed files.
    public static func compare(simulatedFile: String, realFile: String, options: Options = Options(),
                               simulatedName: String? = nil, realName: String? = nil,
                               progress: ((Progress) -> Void)? = nil) throws(FlowLogFileError) -> FlowLogComparison {
        let simReader = try FlowLogFileReader(path: simulatedFile)
        let realReader = try FlowLogFileReader(path: realFile)
        func source(_ reader: FlowLogFileReader, _ name: String) throws(FlowLogFileError) -> Source {
            // The fields: from the first line that is not blank (a header, or the default format).
            var head = FlowLogLineParser()
            try reader.forEachLine { n, line in
                _ = head.record(line, number: n)
                return head.fields == nil
            }
            var pass = 0
            return Source(fields: head.fieldsOrDefault, forEach: { (body) throws(FlowLogFileError) in
                pass += 1
                let thisPass = pass
                var p = FlowLogLineParser()
                var lines = 0
                try reader.forEachLine(progress: progress.map { report in
                    { done in report(Progress(file: name, pass: thisPass, bytesRead: done, bytes: reader.size, lines: lines)) }
                }) { n, line in
                    lines = n
                    if let values = p.record(line, number: n) {
                        body(n, values) { String(decoding: line, as: UTF8.self) }
                    }
                    return true
                }
                return p.problems
            })
        }
        return try compare(simulated: source(simReader, simulatedName ?? simulatedFile),
                           real: source(realReader, realName ?? realFile), options: options,
                           simulatedName: simulatedName ?? simulatedFile, realName: realName ?? realFile)
    }

    /// Records to compare: the fields, and a way to go through the records in order (line number, values, the
    /// line's text when asked), as many times as needed; it returns the malformed lines.
    struct Source {
        var fields: [String]
        var forEach: ((Int, [String], () -> String) -> Void) throws(FlowLogFileError) -> [ParsedFlowLog.Problem]
        func has(_ f: String) -> Bool { fields.contains(f) }
    }

    /// A key's records in one file, without their lines.
    struct Summary {
        var actions: [String] = []
        var packets = 0
    }

    static func compare(simulated sim: Source, real: Source, options: Options,
                        simulatedName: String, realName: String) throws(FlowLogFileError) -> FlowLogComparison {
        var c = FlowLogComparison(simulatedName: simulatedName, realName: realName, matchedOn: [])
        let both = { (f: String) in sim.has(f) && real.has(f) }
        // Transit Gateway Flow Logs: records are an attachment's, in one direction; what happened to the packets is
        // in the packets-lost-* counters (there is no action field).
        let tgw = both("tgw-attachment-id") && !sim.has("interface-id") && !real.has("interface-id")
        if sim.has("tgw-attachment-id") != real.has("tgw-attachment-id") {
            c.notes.append("one file is a Transit Gateway flow log (tgw-attachment-id) and the other is not: their records cannot match")
        }
        if tgw {
            c.notes.append("Transit Gateway Flow Logs: records are matched by attachment and flow-direction; the action "
                + "compared is FORWARDED or the packets-lost-* counter that counted packets")
        }
        let interfaceField = tgw ? "tgw-attachment-id" : "interface-id"
        let directionField = tgw && both("flow-direction") ? "flow-direction" : nil
        let usePkt = both("pkt-srcaddr") && both("pkt-dstaddr")
        let srcField = usePkt ? "pkt-srcaddr" : "srcaddr"
        let dstField = usePkt ? "pkt-dstaddr" : "dstaddr"
        var on: [String] = []
        for f in [interfaceField] + (directionField.map { [$0] } ?? []) + ["protocol", srcField, dstField, "srcport", "dstport"]
        where both(f) {
            on.append(f)
        }
        c.matchedOn = on
        if !both(srcField) || !both(dstField) {
            c.notes.append("the files share no address fields: records cannot be told apart by flow")
        }
        if !usePkt, sim.has("pkt-srcaddr") != real.has("pkt-srcaddr") {
            c.notes.append("only one file has pkt-srcaddr/pkt-dstaddr: a NAT gateway's records are matched by srcaddr/dstaddr, which name its own address")
        }

        /// The key of a record (nil for NODATA and SKIPDATA records), by column indexes worked out once.
        struct Columns {
            var key: [Int?]  // interface, protocol, src, dst, srcport, dstport, direction: nil when not matched on
            var status, action, packets: Int?
            /// packets-lost-no-route, -blackhole, -mtu-exceeded, -ttl-expired (Transit Gateway Flow Logs).
            var lost: [Int?]
            init(_ s: Source, _ on: [String], _ fields: [String]) {
                key = fields.map { f in on.contains(f) ? s.fields.firstIndex(of: f) : nil }
                status = s.fields.firstIndex(of: "log-status")
                action = s.fields.firstIndex(of: "action")
                packets = s.fields.firstIndex(of: "packets")
                lost = TGWFlowLogOutcome.lostFields.map { s.fields.firstIndex(of: $0) }
            }
            /// What happened to the record's packets: its action, or for a Transit Gateway record without one
            /// FORWARDED and/or LOST-… (`TGWFlowLogOutcome`).
            func actions(_ values: [String], _ body: (String) -> Void) {
                if let a = action { body(values[a]); return }
                if lost.allSatisfy({ $0 == nil }) { body("-"); return }
                TGWFlowLogOutcome.outcomes(packets: packets.map { values[$0] },
                                           lost: lost.map { $0.map { values[$0] } }, body)
            }
        }
        let keyFields = [interfaceField, "protocol", srcField, dstField, "srcport", "dstport", directionField ?? ""]
        func key(_ values: [String], _ cols: Columns, mapped: Bool) -> Key {
            func v(_ i: Int) -> String { cols.key[i].map { values[$0] } ?? "*" }
            var iface = v(0)
            if mapped, let m = options.interfaceMap[iface] { iface = m }
            var sp = v(4), dp = v(5)
            if options.ignoreEphemeralPorts, let a = Int(sp), let b = Int(dp) {
                if a > b { sp = "*" } else if b > a { dp = "*" }
            }
            return Key(interface: iface, proto: v(1), src: v(2), srcport: sp, dst: v(3), dstport: dp,
                       direction: cols.key[6].map { values[$0] } ?? "")
        }

        func pool(_ log: Source, mapped: Bool) throws(FlowLogFileError)
            -> ([Key: Summary], [String: Int], [ParsedFlowLog.Problem]) {
            let cols = Columns(log, on, keyFields)
            var out: [Key: Summary] = [:]
            var perInterface: [String: Int] = [:]
            var skipped = 0
            let problems = try log.forEach { _, values, _ in
                if let i = cols.status {
                    if values[i] == "NODATA" { return }
                    if values[i] == "SKIPDATA" { skipped += 1; return }
                }
                let k = key(values, cols, mapped: mapped)
                let packets = cols.packets.flatMap { Int(values[$0]) } ?? 0
                if let a = cols.action {
                    out[k, default: Summary()].add(action: values[a], packets: packets)
                } else {
                    var summary = out[k, default: Summary()]
                    cols.actions(values) { summary.add(action: $0, packets: 0) }
                    summary.packets += packets
                    out[k] = summary
                }
                perInterface[k.interface, default: 0] += 1
            }
            if skipped > 0 {
                c.notes.append("\(mapped ? realName : simulatedName) has \(skipped) SKIPDATA record\(skipped == 1 ? "" : "s"): flows may be missing from it")
            }
            return (out, perInterface, problems)
        }
        let (s, sIfaces, sProblems) = try pool(sim, mapped: false)
        let (r, rIfaces, rProblems) = try pool(real, mapped: true)
        c.simulatedProblems = sProblems
        c.realProblems = rProblems
        c.interfacesOnlyInReal = rIfaces.filter { sIfaces[$0.key] == nil }.sorted { $0.key < $1.key }
            .map { ($0.key, $0.value) }
        c.interfacesOnlyInSimulated = sIfaces.filter { rIfaces[$0.key] == nil }.sorted { $0.key < $1.key }
            .map { ($0.key, $0.value) }
        let shared = Set(sIfaces.keys).intersection(rIfaces.keys)
        // Where each differing key's lines go: (list, index) with list 0 only in real, 1 only in simulated,
        // 2 action mismatches.
        var wantSim: [Key: (Int, Int)] = [:], wantReal: [Key: (Int, Int)] = [:]
        func side(_ x: Summary) -> Side { Side(actions: x.actions, packets: x.packets, lines: []) }
        var keys = Array(s.keys)
        keys.reserveCapacity(s.count + r.count)
        for k in r.keys where s[k] == nil { keys.append(k) }
        keys.sort()
        for key in keys where shared.contains(key.interface) {
            switch (s[key], r[key]) {
            case (let a?, let b?):
                if a.actions == b.actions { c.matched += 1 } else {
                    wantSim[key] = (2, c.actionMismatches.count)
                    wantReal[key] = (2, c.actionMismatches.count)
                    c.actionMismatches.append(Difference(key: key, simulated: side(a), real: side(b)))
                }
            case (let a?, nil):
                wantSim[key] = (1, c.onlyInSimulated.count)
                c.onlyInSimulated.append(Difference(key: key, simulated: side(a), real: nil))
            case (nil, let b?):
                wantReal[key] = (0, c.onlyInReal.count)
                c.onlyInReal.append(Difference(key: key, simulated: nil, real: side(b)))
            case (nil, nil): break
            }
        }
        // The lines of the keys that differ, in file order.
        func collect(_ log: Source, _ want: [Key: (Int, Int)], mapped: Bool) throws(FlowLogFileError) {
            guard !want.isEmpty else { return }
            let cols = Columns(log, on, keyFields)
            _ = try log.forEach { n, values, text in
                if let i = cols.status, values[i] == "NODATA" || values[i] == "SKIPDATA" { return }
                guard let (list, index) = want[key(values, cols, mapped: mapped)] else { return }
                let record = ParsedFlowLog.Record(line: n, text: text(), values: values)
                switch (list, mapped) {
                case (0, _): c.onlyInReal[index].real!.lines.append(record)
                case (1, _): c.onlyInSimulated[index].simulated!.lines.append(record)
                case (_, true): c.actionMismatches[index].real!.lines.append(record)
                default: c.actionMismatches[index].simulated!.lines.append(record)
                }
            }
        }
        try collect(sim, wantSim, mapped: false)
        try collect(real, wantReal, mapped: true)
        return c
    }

    /// The comparison for people.
    public var text: String {
        var s = "compare-logs: \(simulatedName) (simulated) vs \(realName) (real)\n"
        s += "  matched on: " + (matchedOn.isEmpty ? "nothing in common" : matchedOn.joined(separator: ", ")) + "\n"
        for n in notes { s += "  note: \(n)\n" }
        func lines(_ side: ParsedFlowLog.Side?, _ name: String) -> String {
            guard let side else { return "" }
            return side.lines.map { "      \(name) line \($0.line): \($0.text)\n" }.joined()
        }
        if !onlyInReal.isEmpty {
            s += "\nONLY IN THE REAL LOGS (\(onlyInReal.count)): the simulation did not produce these\n"
            for d in onlyInReal {
                s += "  \(d.key) \(d.real!.actions.joined(separator: "+"))\n" + lines(d.real, realName)
            }
        }
        if !onlyInSimulated.isEmpty {
            s += "\nONLY IN THE SIMULATED LOGS (\(onlyInSimulated.count)): the real logs do not show these\n"
            for d in onlyInSimulated {
                s += "  \(d.key) \(d.simulated!.actions.joined(separator: "+"))\n" + lines(d.simulated, simulatedName)
            }
        }
        if !actionMismatches.isEmpty {
            s += "\nACTION MISMATCHES (\(actionMismatches.count))\n"
            for d in actionMismatches {
                s += "  \(d.key): simulated \(d.simulated!.actions.joined(separator: "+")), real \(d.real!.actions.joined(separator: "+"))\n"
                s += lines(d.simulated, simulatedName) + lines(d.real, realName)
            }
        }
        if !interfacesOnlyInReal.isEmpty || !interfacesOnlyInSimulated.isEmpty {
            s += "\nINTERFACES IN ONE FILE ONLY (map a real id to a simulated one with --map-interface REAL=SIM)\n"
            for i in interfacesOnlyInReal { s += "  \(i.id): \(i.records) record\(i.records == 1 ? "" : "s") in \(realName) only\n" }
            for i in interfacesOnlyInSimulated {
                s += "  \(i.id): \(i.records) record\(i.records == 1 ? "" : "s") in \(simulatedName) only\n"
            }
        }
        if !simulatedProblems.isEmpty || !realProblems.isEmpty {
            s += "\nMALFORMED LINES (skipped)\n"
            for p in simulatedProblems { s += "  \(simulatedName) line \(p.line): \(p.message)\n" }
            for p in realProblems { s += "  \(realName) line \(p.line): \(p.message)\n" }
        }
        if agree {
            s += "\nAGREE: \(matched) flow\(matched == 1 ? "" : "s") match, with the same actions\n"
        } else {
            s += "\nDIFFER: \(onlyInReal.count) only in the real logs, \(onlyInSimulated.count) only in the simulated, "
                + "\(actionMismatches.count) action mismatch\(actionMismatches.count == 1 ? "" : "es"), "
                + "\(interfacesOnlyInReal.count + interfacesOnlyInSimulated.count) interface\(interfacesOnlyInReal.count + interfacesOnlyInSimulated.count == 1 ? "" : "s") in one file only; \(matched) matched\n"
        }
        return s
    }
}

extension FlowLogComparison.Summary {
    mutating func add(action: String, packets: Int) {
        if !actions.contains(action) { actions.append(action); actions.sort() }
        self.packets += packets
    }
}

extension ParsedFlowLog {
    public typealias Side = FlowLogComparison.Side
}
