import Packets

/// `vpcsim trace` as a library call: one ad-hoc flow through a scenario, without editing it.
public enum AdHocTrace {
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// How an address the scenario does not know answers when it is a public address on the internet.
    public enum UnknownHost: String, Sendable, CaseIterable {
        /// Listens on the port and speaks the flow's application (a Linux host).
        case listen
        /// RST,ACK: nothing listens.
        case closed
        /// No answer at all.
        case silent
    }

    /// The scenario with its flows and generators replaced by one flow `from` → `to` ("host:port" or "ip:port"):
    /// one flow, alone (a generator's 60,000 flows ran with it before).
    public static func scenario(_ base: Scenario, from: String, to: String, app: AppProfile, size: Int = 100_000,
                                unknownHost: UnknownHost = .listen) throws -> Scenario {
        guard (0...FlowSpec.maxSize).contains(size) else {
            throw Problem(message: "--size \(size): expected 0 to \(FlowSpec.maxSizeText)")
        }
        var s = base
        let source = try resolveSource(s.model, from)
        guard let colon = to.lastIndex(of: ":"), let port = UInt16(to[to.index(after: colon)...]) else {
            throw Problem(message: "--to '\(to)': expected <host|ip>:<port>")
        }
        let host = String(to[..<colon])
        let address: IPv4Address
        if let h = s.model.outsideHosts.first(where: { $0.name == host }) {
            address = h.address
        } else if let i = s.model.instances.first(where: { $0.id == host || $0.name == host }) {
            address = s.model.enis[i.eni].privateIP
        } else if let a = IPv4Address(host) {
            address = a
            let known = s.model.outsideHosts.contains { $0.address == a }
                || s.model.enis.contains { $0.privateIP == a || $0.publicIP == a }
            if !known {
                // A private address the source routes outside the model (a peered VPC, a transit gateway, …) is
                // traced as a flow to it runs: to its `not-modeled` end.
                guard !a.isPrivateOrSpecial || routesOutsideTheModel(s.model, source.source, a) else {
                    throw Problem(message: "--to \(a): no ENI or host in the scenario has this private address")
                }
                // An unknown public address is a Linux host on the internet (configurable with --unknown-host).
                let behaviour: PortBehaviour
                switch unknownHost {
                case .listen: behaviour = .listen(app: app.rawValue)
                case .closed: behaviour = .closed
                case .silent: behaviour = .silent
                }
                s.model.outsideHosts.append(OutsideHost(
                    name: a.description, address: a, ports: [port: behaviour], otherPorts: .closed,
                    rtt: s.assumptions.internetRTT, stack: .linux,
                    mac: MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("host|" + a.description) & 0xFF_FFFF_FFFF))))
            }
        } else {
            throw Problem(message: "--to '\(host)': not an outside host, an instance or an IPv4 address of the scenario")
        }
        let name = "trace"
        s.generators = []
        s.flows = [FlowSpec(name: name, source: source.source, sourceLabel: source.label,
                            destination: FlowDestination(address: address, port: port, label: to), app: app,
                            start: 0, size: size)]
        return s
    }

    /// Whether the route `source`'s subnet takes to `address` leads to a component the model does not have.
    static func routesOutsideTheModel(_ m: VPCModel, _ source: FlowSource, _ address: IPv4Address) -> Bool {
        let eni: Int
        switch source {
        case .lambda(_, let e): eni = e
        case .instance(let k): eni = m.instances[k].eni
        case .outsideHost: return false
        }
        switch RouteLookup.match(m.routeTables[m.routeTable(of: m.enis[eni].subnet)], address)?.target {
        case .peering?, .notModeled?, .networkInterface?: return true
        default: return false
        }
    }

    static func resolveSource(_ m: VPCModel, _ from: String) throws -> (source: FlowSource, label: String) {
        if let f = m.lambdas.firstIndex(where: { $0.name == from }) {
            return (.lambda(f, eni: m.lambdas[f].enis[0]), "lambda \(from)")
        }
        if let i = m.instances.firstIndex(where: { $0.id == from || $0.name == from }) {
            return (.instance(i), "instance \(m.instances[i].display)")
        }
        if let h = m.outsideHosts.firstIndex(where: { $0.name == from }) {
            return (.outsideHost(h), "host \(from)")
        }
        let byENI = m.enis.firstIndex { $0.id == from }
        let byIP = IPv4Address(from).flatMap { a in m.enis.firstIndex { $0.privateIP == a } }
        if let e = byENI ?? byIP {
            switch m.enis[e].owner {
            case .lambda(let fs): return (.lambda(fs[0], eni: e), "lambda \(m.lambdas[fs[0]].name ?? "") (\(m.enis[e].id))")
            case .instance(let i): return (.instance(i), "instance \(m.instances[i].display)")
            case .natGateway: throw Problem(message: "--from \(from): a NAT gateway opens no connections")
            }
        }
        if let a = IPv4Address(from), let h = m.outsideHosts.firstIndex(where: { $0.address == a }) {
            return (.outsideHost(h), "host \(m.outsideHosts[h].id)")
        }
        throw Problem(message: "--from '\(from)': not a Lambda function, instance, ENI, outside host or known IP")
    }
}
