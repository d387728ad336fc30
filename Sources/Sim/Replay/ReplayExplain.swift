import Foundation
import Packets

/// `vpcsim replay --explain RECORD --network X`: one flow-log record, and the network's reasoning about it hop by
/// hop — the connection it is taken to belong to, its first packet's steps and the reply's, and what flow logs
/// would record at the record's ENI.
public struct ReplayExplanation: Sendable {
    public var text: String
    /// The network decides the record as AWS logged it (or gives no verdict: not modeled).
    public var agrees: Bool

    /// `record`: a record's text (in `options.format` unless it is a file's `path:line`, read with that file's
    /// header).
    public static func explain(_ record: String, scenario: Scenario, label: String,
                               options: FlowLogReplay.Options = .init()) throws -> ReplayExplanation {
        let m = scenario.model
        let reader = ReplayRecords(interfaces: try FlowLogReplay.interfaces(m, options.interfaceMap),
                                   format: options.format.fields.map(\.rawValue))
        var source = "--explain"
        if let colon = record.lastIndex(of: ":"), let n = Int(record[record.index(after: colon)...]), n >= 1,
           FileManager.default.fileExists(atPath: String(record[..<colon])) {
            source = record
            try reader.read(path: String(record[..<colon]), only: n)
        } else {
            try reader.read(text: record, label: "--explain")
        }
        var o = "vpcsim replay --explain \(source == "--explain" ? "(a record)" : source) against \(label)\n\n"
        let entries = reader.entries()
        guard let (key, counts) = entries.first else {
            if let u = reader.unknownInterfaces.first {
                o += "not modeled: \(u.id) is not an interface of the network (--map-interface REAL=MODEL names one)\n"
            } else {
                o += "no verdict: the record carries no data (NODATA, SKIPDATA or \"-\")\n"
            }
            return ReplayExplanation(text: o, agrees: true)
        }
        var r = Replayer(scenario: scenario, reader: reader)
        let e = Int(key.eni)
        let logged = counts.accept > 0 ? "ACCEPT" : "REJECT"
        let tuple = "\(Replayer.protoName(key.proto)) \(IPv4Address(rawValue: key.source)):\(key.sourcePort) → "
            + "\(IPv4Address(rawValue: key.destination)):\(key.destinationPort)"
        o += "RECORD\n  \(m.enis[e].id) (\(r.owner(e))): \(tuple) \(logged)\n"
        r.learnAddresses([(key, counts)])
        for a in r.aliases { o += "  assumed: \(a)\n" }
        let c = r.resolve([(key, counts)])
        let flags = key.proto == 6 && counts.flags & 0x12 != 0
        o += "\nCONNECTION\n  initiator \(IPv4Address(rawValue: c.initiator)):\(c.initiatorPort), responder "
            + "\(IPv4Address(rawValue: c.responder)):\(c.responderPort) ("
            + (flags ? "from the record's TCP flags" : "assumed: " + FlowLogReplay.initiatorAssumption) + ")\n"
        if c.natSide {
            o += "  a leg of a NAT gateway's connection: explain the client's record of it (at the client's ENI), or "
                + "replay the logs, which check each leg through the connection it belongs to\n"
            return ReplayExplanation(text: o, agrees: true)
        }
        if let why = c.notModeled {
            o += "\nnot modeled: \(why.what): \(why.reason)\n"
            return ReplayExplanation(text: o, agrees: true)
        }
        guard let result = c.result else { return ReplayExplanation(text: o, agrees: true) }
        func leg(_ title: String, _ l: ReplayProbe.Leg) {
            o += "\n\(title)\n"
            for (i, s) in l.steps.enumerated() { o += "  \(i + 1). \(s.text)\n" }
            if let d = l.drop, !l.steps.contains(d) { o += "  \(l.steps.count + 1). \(d.text)\n" }
            for f in l.interfaces {
                o += "  flow log at \(m.enis[f.eni].id): \(f.egress ? "egress" : "ingress") \(f.accepted ? "ACCEPT" : "REJECT")\n"
            }
        }
        leg("REQUEST (the first packet, as `vpcsim trace` sends it)", result.request)
        if let reply = result.reply {
            leg("REPLY (the responder's first packet back)", reply)
        } else {
            o += "\nREPLY\n  none: the request does not arrive\n"
        }
        let reply = !(key.source == c.initiator && key.sourcePort == c.initiatorPort)
        let (src, dst) = (r.alias[key.source] ?? key.source, r.alias[key.destination] ?? key.destination)
        let v = Replayer.verdict(result, eni: e, reply: reply, egress: r.isOwn(e, src) ? true : r.isOwn(e, dst) ? false : nil)
        let model = v.model == .accept ? "ACCEPT" : v.model == .reject ? "REJECT" : "not on the path"
        let change = Replayer.change(counts, v.model)
        o += "\nVERDICT\n  at \(m.enis[e].id), the \(reply ? "reply" : "request"): logged \(logged), the network: \(model)\n"
        o += "  \(v.rule)\n"
        o += change == nil ? "  agrees\n" : "  DISAGREES: \(change!.0)\n"
        return ReplayExplanation(text: o, agrees: change == nil)
    }
}
