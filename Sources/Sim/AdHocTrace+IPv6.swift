import Packets

extension AdHocTrace {
    /// A trace that would need IPv6 packets — to an IPv6 address, to an IPv6-only host or instance, or from an
    /// IPv6-only source — is refused: packets cross the network over IPv4 only.
    static func refuseIPv6(_ m: VPCModel, source: FlowSource, to host: String) throws {
        func problem(_ why: String) -> Problem {
            Problem(message: "IPv6 traffic is not modeled yet (\(why)); traces run over IPv4 only")
        }
        func ipv6Only(instance i: Int) -> String? {
            let s = m.subnets[m.enis[m.instances[i].eni].subnet]
            return s.hasIPv4 ? nil : "instance \(m.instances[i].id) is in IPv6-only subnet \(s.id)"
        }
        switch source {
        case .instance(let i): if let why = ipv6Only(instance: i) { throw problem(why) }
        case .outsideHost(let h) where !m.outsideHosts[h].hasIPv4:
            throw problem("host \(m.outsideHosts[h].id) has an IPv6 address only")
        default: break
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if IPv6Address(bare) != nil { throw problem("--to \(bare) is an IPv6 address") }
        if let h = m.outsideHosts.first(where: { $0.name == host }), !h.hasIPv4 {
            throw problem("host \(h.id) has an IPv6 address only")
        }
        if let i = m.instances.firstIndex(where: { $0.id == host || $0.name == host }), let why = ipv6Only(instance: i) {
            throw problem(why)
        }
    }
}
