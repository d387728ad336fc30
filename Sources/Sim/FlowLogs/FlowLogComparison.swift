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

        public var description: String {
            let p = ["6": "tcp", "17": "udp", "1": "icmp"][proto] ?? "proto \(proto)"
            return "\(interface) \(p) \(src):\(srcport) → \(dst):\(dstport)"
        }
        public static func < (a: Key, b: Key) -> Bool {
            (a.interface, a.src, a.dst, a.proto, a.srcport, a.dstport)
                < (b.interface, b.src, b.dst, b.proto, b.srcport, b.dstport)
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
        var c = FlowLogComparison(simulatedName: simulatedName, realName: realName, matchedOn: [])
        c.simulatedProblems = sim.problems
        c.realProblems = real.problems
        let both = { (f: String) in sim.has(f) && real.has(f) }
        let usePkt = both("pkt-srcaddr") && both("pkt-dstaddr")
        let srcField = usePkt ? "pkt-srcaddr" : "srcaddr"
        let dstField = usePkt ? "pkt-dstaddr" : "dstaddr"
        var on: [String] = []
        for f in ["interface-id", "protocol", srcField, dstField, "srcport", "dstport"] where both(f) { on.append(f) }
        c.matchedOn = on
        if !both(srcField) || !both(dstField) {
            c.notes.append("the files share no address fields: records cannot be told apart by flow")
        }
        if !usePkt, sim.has("pkt-srcaddr") != real.has("pkt-srcaddr") {
            c.notes.append("only one file has pkt-srcaddr/pkt-dstaddr: a NAT gateway's records are matched by srcaddr/dstaddr, which name its own address")
        }

        func pool(_ log: ParsedFlowLog, mapped: Bool) -> ([Key: Side], [String: Int]) {
            var out: [Key: Side] = [:]
            var perInterface: [String: Int] = [:]
            var skipped = 0
            for r in log.records {
                let status = log.value("log-status", r)
                if status == "NODATA" { continue }
                if status == "SKIPDATA" { skipped += 1; continue }
                func v(_ f: String) -> String { on.contains(f) ? (log.value(f, r) ?? "-") : "*" }
                var iface = v("interface-id")
                if mapped, let m = options.interfaceMap[iface] { iface = m }
                var sp = v("srcport"), dp = v("dstport")
                if options.ignoreEphemeralPorts, let a = Int(sp), let b = Int(dp) {
                    if a > b { sp = "*" } else if b > a { dp = "*" }
                }
                let key = Key(interface: iface, proto: v("protocol"), src: v(srcField), srcport: sp, dst: v(dstField),
                              dstport: dp)
                let action = log.value("action", r) ?? "-"
                let packets = Int(log.value("packets", r) ?? "") ?? 0
                var side = out[key] ?? Side(actions: [], packets: 0, lines: [])
                if !side.actions.contains(action) { side.actions.append(action); side.actions.sort() }
                side.packets += packets
                side.lines.append(r)
                out[key] = side
                perInterface[iface, default: 0] += 1
            }
            if skipped > 0 {
                c.notes.append("\(mapped ? realName : simulatedName) has \(skipped) SKIPDATA record\(skipped == 1 ? "" : "s"): flows may be missing from it")
            }
            return (out, perInterface)
        }
        let (s, sIfaces) = pool(sim, mapped: false)
        let (r, rIfaces) = pool(real, mapped: true)
        c.interfacesOnlyInReal = rIfaces.filter { sIfaces[$0.key] == nil }.sorted { $0.key < $1.key }
            .map { ($0.key, $0.value) }
        c.interfacesOnlyInSimulated = sIfaces.filter { rIfaces[$0.key] == nil }.sorted { $0.key < $1.key }
            .map { ($0.key, $0.value) }
        let shared = Set(sIfaces.keys).intersection(rIfaces.keys)
        for key in Set(s.keys).union(r.keys).sorted() where shared.contains(key.interface) {
            switch (s[key], r[key]) {
            case (let a?, let b?):
                if a.actions == b.actions { c.matched += 1 } else {
                    c.actionMismatches.append(Difference(key: key, simulated: a, real: b))
                }
            case (let a?, nil): c.onlyInSimulated.append(Difference(key: key, simulated: a, real: nil))
            case (nil, let b?): c.onlyInReal.append(Difference(key: key, simulated: nil, real: b))
            case (nil, nil): break
            }
        }
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

extension ParsedFlowLog {
    public typealias Side = FlowLogComparison.Side
}
