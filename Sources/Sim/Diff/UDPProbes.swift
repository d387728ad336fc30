import Packets

/// `vpcsim diff --probes` on UDP between ENIs: from every instance and Lambda function to every other instance on
/// each UDP port the destination's security groups open (a range on its first port, a rule for all traffic or all
/// UDP ports on `allPorts`). Flows are TCP conversations; UDP has none in the model, so each UDP probe is a static
/// verdict per direction, as `vpcsim replay` gives one: the first datagram sent through the network as `vpcsim
/// trace` sends a packet (the same components and rules), and, when it arrives, the destination's reply back.
/// Named `probe <source> → <instance>:<port>/udp`; the source port is 50000, within every source's ephemeral range
/// (Linux 32768-60999, Windows 49152-65535, Lambda 1024-65535) unless a scenario narrows it, then the range's
/// nearest port.
public enum UDPProbes {
    /// The ports probed for a rule that opens every UDP port: DNS.
    public static let allPorts: [UInt16] = [53]
    public static let sourcePort: UInt16 = 50000

    /// The UDP pairs of one network, in `ENIPairProbes.pairs`' order.
    public static func pairs(_ m: VPCModel) -> [ENIPairProbes.Pair] { ENIPairProbes.pairs(m, udp: true) }

    /// The verdict of each pair in scenario `s` (nil: an end of the pair is not in this network).
    static func sides(_ pairs: [ENIPairProbes.Pair], in s: Scenario) -> [NetworkDiff.Side?] {
        let m = s.model
        let probe = ReplayProbe(model: m, assumptions: s.assumptions)
        return pairs.map { pair in
            var from: (eni: Int, ports: ClosedRange<UInt16>)?
            if let i = m.instances.first(where: { ($0.name ?? $0.id) == pair.source }) {
                from = (i.eni, i.stack.ephemeralPorts)
            } else if let f = m.lambdas.first(where: { $0.name == pair.source }), let e = f.enis.first {
                from = (e, s.assumptions.lambdaEphemeralPorts)
            }
            guard let from, let to = m.instances.first(where: { ($0.name ?? $0.id) == pair.destination }) else { return nil }
            let port = min(max(sourcePort, from.ports.lowerBound), from.ports.upperBound)
            let r = probe.probe(from: .eni(from.eni), proto: 17, source: m.enis[from.eni].privateIP, sourcePort: port,
                                destination: m.enis[to.eni].privateIP, destinationPort: pair.port)
            let failed = r.request.drop ?? r.reply?.drop
            let outcome: String
            if failed?.action == .notModeled {
                outcome = "NOT-MODELED"
            } else if r.request.drop != nil || !r.request.delivered {
                outcome = "DROPPED"
            } else if r.reply?.delivered != true {
                outcome = "REPLY DROPPED"
            } else {
                outcome = "ok"
            }
            var path: [String] = []
            for st in r.request.steps where path.last != st.component { path.append(st.component) }
            let message = outcome == "ok" ? "the datagram and the reply arrive"
                : (r.request.drop == nil ? "the reply: " : "the datagram: ") + (failed?.text ?? "not delivered")
            return NetworkDiff.Side(outcome: outcome, dropped_at: failed.map(dropText), component: failed?.component,
                                    message: message, path: path)
        }
    }

    /// "sg-… (db) ingress: no ingress rule allows udp 53 …", as a flow's drop point is written.
    static func dropText(_ s: Step) -> String {
        let direction: String?
        switch s.kind {
        case .naclInbound: direction = "inbound"
        case .naclOutbound: direction = "outbound"
        case .securityGroupIngress: direction = "ingress"
        case .securityGroupEgress: direction = "egress"
        default: direction = nil
        }
        return s.componentDisplay + (direction.map { " \($0)" } ?? "") + ": " + s.rule
    }
}

extension NetworkDiff {
    /// The UDP probes (`UDPProbes`) of both networks, run through both and compared as the flows are; those
    /// beyond `room` pairs are left out (the note says how many there were).
    public mutating func addUDPProbes(before: Scenario, after: Scenario, room: Int = ENIPairProbes.cap)
        -> String?
    {
        var pairs = UDPProbes.pairs(before.model)
        for p in UDPProbes.pairs(after.model) where !pairs.contains(p) { pairs.append(p) }
        var note: String?
        if pairs.count > room {
            note = "\(pairs.count) UDP ENI-pair probes; running the first \(room) (by source, destination and port)"
            pairs.removeLast(pairs.count - room)
        }
        let b = UDPProbes.sides(pairs, in: before), a = UDPProbes.sides(pairs, in: after)
        // The rule changes the flows got (" in this plan" when the two networks are one plan's).
        let changes = Self.ruleChanges(before.model, after.model,
                                       rule_changes.contains { $0.hasSuffix(" in this plan)") } ? " in this plan" : "")
        for (k, p) in pairs.enumerated() where !flows.contains(where: { $0.name == p.name }) {
            let x = b[k], y = a[k]
            var explained: [String] = []
            for c in [x?.component, y?.component].compactMap({ $0 }) {
                for line in changes where line.component == c && !explained.contains(line.text) { explained.append(line.text) }
            }
            flows.append(Flow(name: p.name, before: x, after: y,
                              changed: x?.outcome != y?.outcome || x?.dropped_at != y?.dropped_at || x?.path != y?.path,
                              regressed: x?.outcome == "ok" && y != nil && y?.outcome != "ok", explained_by: explained))
        }
        return note
    }
}
