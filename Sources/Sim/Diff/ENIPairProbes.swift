import Packets

/// `vpcsim diff --probes` between ENIs: from every instance and Lambda function to every other instance, on each
/// TCP port the destination's security groups open (its ingress rules' ports, whatever the peer): a port range is
/// probed on its first port, a rule for all traffic or all TCP ports on `allPorts`. A Lambda function accepts no
/// inbound connection, so it is a source only; flows are TCP, so UDP rules are probed apart (`UDPProbes`) and ICMP
/// rules not at all.
public enum ENIPairProbes {
    public struct Pair: Equatable, Sendable {
        /// An instance's name (else id) or a Lambda function's name.
        public var source: String
        /// An instance's name (else id).
        public var destination: String
        public var port: UInt16
        /// A UDP probe (`UDPProbes`): a static verdict per direction, not a flow.
        public var udp = false
        /// "probe app → db:5432", "probe app → dns:53/udp"
        public var name: String { "probe \(source) → \(destination):\(port)" + (udp ? "/udp" : "") }
    }

    /// The ports probed for a rule that opens every port: SSH/SFTP, HTTP and HTTPS, the applications flows speak.
    public static let allPorts: [UInt16] = [22, 80, 443]
    /// At most this many pairs are probed (each is a simulated connection); beyond it, the first ones in order.
    public static let cap = 1000

    /// The pairs of one network, by source (instances in file order, then Lambda functions), destination (file
    /// order) and port (ascending); UDP ports (`UDPProbes`) when `udp`.
    public static func pairs(_ m: VPCModel, udp: Bool = false) -> [Pair] {
        var out: [Pair] = []
        let sources = m.instances.map { $0.name ?? $0.id } + m.lambdas.compactMap(\.name)
        for (si, source) in sources.enumerated() {
            for (di, destination) in m.instances.enumerated() where di != si {
                for port in ports(destination, m, udp: udp) {
                    out.append(Pair(source: source, destination: destination.name ?? destination.id, port: port, udp: udp))
                }
            }
        }
        return out
    }

    /// The TCP (or UDP) ports an instance's groups open, ascending, each once.
    static func ports(_ instance: Instance, _ m: VPCModel, udp: Bool = false) -> [UInt16] {
        let wanted: IPProtocol = udp ? .udp : .tcp
        let every = udp ? UDPProbes.allPorts : allPorts
        var set: [UInt16] = []
        for g in m.enis[instance.eni].securityGroups {
            for rule in m.securityGroups[g].ingress {
                switch rule.proto {
                case .all: set += every
                case .number(let p) where p == wanted:
                    if let r = rule.ports, !r.isAll { set.append(max(r.from, 1)) } else { set += every }
                default: break
                }
            }
        }
        return Array(Set(set)).sorted()
    }

    /// `pair` as a flow of `s` (1,000 bytes, as `vpcsim trace` makes it from `base`), unless `s` has a flow of
    /// that name or either end is not in this network (the probe is then in the other network only).
    static func add(_ pair: Pair, to s: inout Scenario, base: Scenario) throws {
        guard !s.flows.contains(where: { $0.name == pair.name }) else { return }
        let m = base.model
        guard m.instances.contains(where: { ($0.name ?? $0.id) == pair.source }) || m.lambdas.contains(where: { $0.name == pair.source }),
              m.instances.contains(where: { ($0.name ?? $0.id) == pair.destination }) else { return }
        let one = try AdHocTrace.scenario(base, from: pair.source, to: "\(pair.destination):\(pair.port)",
                                          options: AdHocTrace.Options(size: "1000"))
        var flow = one.flows[0]
        flow.name = pair.name
        s.flows.append(flow)
    }
}
