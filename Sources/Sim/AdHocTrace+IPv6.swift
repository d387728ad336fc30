import Packets

extension AdHocTrace {
    /// The IPv6 destination of a trace, when it goes over IPv6: `--to` written as an IPv6 address (an outside
    /// host's or an ENI's of the scenario), or naming a host with an IPv6 address only or an instance in an
    /// IPv6-only subnet, or from a source without IPv4 (to an IPv4-only destination: the AAAA DNS64 synthesizes,
    /// 64:ff9b::<IPv4>, when the source's subnet has `enable_dns64`). nil: the trace runs over IPv4. A trace over
    /// IPv6 whose source has no IPv6 address, or to an IPv6 address the scenario does not have (a NAT64 address
    /// counts as the IPv4 address it embeds), is refused.
    ///
    /// `family` (`--address-family`) picks the family for a destination named by its host or instance: `ipv6` its
    /// IPv6 address, `ipv4` its IPv4 one; refused in one line when that end (or the source) has no such address.
    /// `interface`: the instance's ENI the trace is sent from (`secondaryInterface`), nil for its primary.
    static func ipv6Destination(_ m: VPCModel, source: FlowSource, to host: String,
                                family: ClientProfile.AddressFamily? = nil, interface: Int? = nil) throws -> IPv4Address? {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var destination: IPv6Address?
        var name = bare
        let sourceENI: Int? = if case .instance(let i) = source { interface ?? m.instances[i].eni } else { nil }
        if family == .ipv4 {
            try requireIPv4(m, source: source, sourceENI: sourceENI, to: host, bare: bare)
            return nil
        }
        if let a = IPv6Address(bare) {
            let embedded = a.nat64Embedded
            guard m.outsideHosts.contains(where: { ($0.ipv6Address == a || ($0.hasIPv4 && $0.address == embedded))
                                                   && $0.customerGateway == nil })
                    || m.enis.contains(where: { $0.ipv6Address == a || (embedded != nil && $0.privateIP == embedded) }) else {
                throw Problem(message: "--to \(a): no outside host or ENI in the scenario has this IPv6 address")
            }
            destination = a
        } else if family == .ipv6 {
            if IPv4Address(bare) != nil {
                throw Problem(message: "--address-family ipv6, but --to \(bare) is an IPv4 address")
            }
            if let h = m.outsideHosts.first(where: { $0.name == host }) {
                guard let a = h.ipv6Address else {
                    throw Problem(message: "--address-family ipv6, but host \(h.id) has no IPv6 address (its ipv6)")
                }
                (destination, name) = (a, "host \(h.id)")
            } else if let i = m.instances.first(where: { $0.id == host || $0.name == host }) {
                guard let a = m.enis[i.eni].ipv6Address else {
                    throw Problem(message: "--address-family ipv6, but instance \(i.id) has no IPv6 address (its ipv6_address)")
                }
                (destination, name) = (a, "instance \(i.id)")
            }
        } else if let h = m.outsideHosts.first(where: { $0.name == host }), !h.hasIPv4 {
            (destination, name) = (h.ipv6Address, "host \(h.id)")
        } else if let i = m.instances.first(where: { $0.id == host || $0.name == host }),
                  !m.subnets[m.enis[i.eni].subnet].hasIPv4 {
            (destination, name) = (m.enis[i.eni].ipv6Address, "instance \(i.id)")
        }
        let sourceENIs: [Int]
        if destination == nil, case .instance(let i) = source, let e = sourceENI, !m.subnets[m.enis[e].subnet].hasIPv4 {
            // From an IPv6-only subnet: the destination's IPv6 address.
            let h = m.outsideHosts.first { $0.name == host }
            let instance = m.instances.first { $0.id == host || $0.name == host }
            var d = h?.ipv6Address ?? instance.flatMap { m.enis[$0.eni].ipv6Address }
            if d == nil, m.subnets[m.enis[e].subnet].enableDNS64 {
                // DNS64: the synthesized AAAA of an IPv4-only destination.
                if let h, h.hasIPv4 { d = IPv6Address(nat64: h.address) }
                if let instance, m.subnets[m.enis[instance.eni].subnet].hasIPv4 {
                    d = IPv6Address(nat64: m.enis[instance.eni].privateIP)
                }
            }
            guard let d else {
                throw Problem(message: "--from \(m.instances[i].id) is in an IPv6-only subnet, and --to \(host) has no IPv6 "
                              + "address")
            }
            destination = d
        }
        switch source {
        case .lambda(let f, _): sourceENIs = m.lambdas[f].enis
        case .instance: sourceENIs = sourceENI.map { [$0] } ?? []
        case .outsideHost(let h):
            if destination == nil, !m.outsideHosts[h].hasIPv4 {
                throw Problem(message: "--from \(m.outsideHosts[h].id) has an IPv6 address only: give --to as an IPv6 "
                              + "address or a destination with one")
            }
            if destination != nil, m.outsideHosts[h].ipv6Address == nil {
                throw Problem(message: "--to \(name) is reached over IPv6, but host \(m.outsideHosts[h].id) has no IPv6 "
                              + "address")
            }
            sourceENIs = []
        }
        guard let destination else { return nil }
        if let e = sourceENIs.first(where: { m.enis[$0].ipv6Address == nil }) {
            throw Problem(message: "--to \(name) is reached over IPv6, but the source's ENI \(m.enis[e].id) has no IPv6 "
                          + "address")
        }
        return IPv6Token.intern(destination)
    }

    /// `--address-family ipv4`: both ends need an IPv4 address, and `--to` is not written as an IPv6 one.
    private static func requireIPv4(_ m: VPCModel, source: FlowSource, sourceENI: Int?, to host: String, bare: String) throws {
        if let a = IPv6Address(bare) {
            throw Problem(message: "--address-family ipv4, but --to \(a) is an IPv6 address")
        }
        if let h = m.outsideHosts.first(where: { $0.name == host }), !h.hasIPv4 {
            throw Problem(message: "--address-family ipv4, but host \(h.id) has no IPv4 address (it has an ipv6 only)")
        }
        if let i = m.instances.first(where: { $0.id == host || $0.name == host }), !m.subnets[m.enis[i.eni].subnet].hasIPv4 {
            throw Problem(message: "--address-family ipv4, but instance \(i.id) is in an IPv6-only subnet (no IPv4 address)")
        }
        switch source {
        case .instance(let i):
            if let e = sourceENI, !m.subnets[m.enis[e].subnet].hasIPv4 {
                throw Problem(message: "--address-family ipv4, but --from \(m.instances[i].id) is in an IPv6-only subnet "
                              + "(no IPv4 address)")
            }
        case .outsideHost(let h):
            if !m.outsideHosts[h].hasIPv4 {
                throw Problem(message: "--address-family ipv4, but --from \(m.outsideHosts[h].id) has no IPv4 address (it has "
                              + "an ipv6 only)")
            }
        case .lambda:
            break
        }
    }
}
