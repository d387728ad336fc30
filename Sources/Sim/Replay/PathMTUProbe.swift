import Packets

/// `vpcsim trace --probe-size N`: one TCP SYN of N bytes (IP total length), DF set, from a flow's source to its
/// destination and port (source port 50000), through the same components as the flow's packets (`ReplayProbe`). It tells the
/// first link whose MTU it exceeds (`VPCNetwork+LinkMTU.swift`, an outside host's `path_mtu`) and what became of
/// the ICMP "fragmentation needed" that link's router sent: back at the source, dropped (by which rule), or none
/// sent (a Site-to-Site VPN, a transit gateway with `tgw_sends_frag_needed: false`).
public enum PathMTUProbe {
    public struct Result: Sendable, Equatable {
        public var size: Int
        /// The step that dropped the probe as too big for a link, nil when it fit (or something else stopped it).
        public var tooBig: Step?
        /// What else dropped the probe (a rule, a missing route), when no link was too small first.
        public var otherDrop: Step?
        public var delivered: Bool
        /// The ICMP's fate: dropped by this step, or arrived at the source.
        public var icmpDrop: Step?
        public var icmpArrived: Bool
        /// An IPv6 probe: no DF (routers never fragment IPv6), the error an ICMPv6 Packet Too Big.
        public var ipv6 = false

        /// One line: "fits: path MTU ≥ 9001 (delivered)", or "9001 bytes (DF set) too big for tgw-… (hub) (link
        /// MTU 8500); ICMP fragmentation needed sent to 10.1.1.10: arrived (the source learns the path MTU)".
        public var text: String {
            guard let big = tooBig else {
                if let d = otherDrop { return "probe of \(size) bytes dropped before any link too small: \(d.text)" }
                return delivered ? "fits: path MTU ≥ \(size) (the \(size)-byte \(ipv6 ? "IPv6 probe" : "probe with DF set") arrived)"
                    : "probe of \(size) bytes did not arrive"
            }
            let head = "\(size) bytes \(ipv6 ? "(IPv6)" : "(DF set)") too big for \(big.componentDisplay): \(big.rule)"
            if big.rule.contains("no ICMP") { return head + " — a black hole for packets this size" }
            if icmpArrived { return head + "; the ICMP arrived: the source learns the path MTU" }
            if let d = icmpDrop {
                return head + "; the ICMP was dropped at \(UDPProbes.dropText(d)) — a path MTU black hole"
            }
            return head + "; the ICMP did not arrive"
        }
    }

    /// The probe of `size` bytes from flow `flow`'s source (a Lambda's first ENI when the flow does not pin one)
    /// to its destination and port, in scenario `s`.
    public static func run(_ s: Scenario, flow: FlowSpec, size: Int) -> Result {
        let m = s.model
        let probe = ReplayProbe(model: m, assumptions: s.assumptions)
        var eni: Int?, host: Int?
        let source: IPv4Address
        switch flow.source {
        case .lambda(let fn, let e):
            let e = e >= 0 ? e : (m.lambdas[fn].enis.first ?? 0)
            eni = e
            source = m.enis[e].privateIP
        case .instance(let k):
            eni = m.instances[k].eni
            source = m.enis[m.instances[k].eni].privateIP
        case .outsideHost(let h):
            host = h
            source = m.outsideHosts[h].address
        }
        // Over IPv6 (a flow to an IPv6 address): from the source's IPv6 address.
        var source6 = source
        if flow.destination.address.isIPv6Token,
           let a = eni.map({ m.enis[$0].ipv6Address }) ?? host.map({ m.outsideHosts[$0].ipv6Address }), let a {
            source6 = IPv6Token.intern(a)
        }
        let r = probe.sized(fromENI: eni, fromHost: host, source: source6, destination: flow.destination.address,
                            destinationPort: flow.destination.port, size: size)
        return r
    }
}
