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

    /// What the ad-hoc flow takes besides its two ends, as the text of `trace`'s options: the settings a flow of
    /// a scenario file takes, read by the same parser (`FlowSettings`). Nil: as a flow without the key.
    public struct Options: Sendable {
        /// The application; nil: what the destination declares listening on the port, else the port's usual
        /// application, else `tcp` — the last two reported as assumed.
        public var app: AppProfile?
        public var size: String?
        public var requestSize: String?
        public var client: String?
        public var connectTimeout: String?
        public var hold: String?
        public var sourcePort: String?
        /// An interactive sftp session's commands and pauses, comma-separated ("ls, idle 400s, put 1MB"), as a
        /// flow's `steps`; and the session's `keepalive`, `server_alive_interval`, `server_alive_count_max`.
        public var steps: String?
        public var keepalive: String?
        public var serverAliveInterval: String?
        public var serverAliveCountMax: String?
        /// How an address the scenario does not know answers.
        public var unknownHost: UnknownHost = .listen
        /// `--address-family`: the family to reach a destination named by its host or instance over (`ipv4` or
        /// `ipv6`); nil: IPv4 unless IPv6 is needed (`ipv6Destination`).
        public var addressFamily: ClientProfile.AddressFamily?

        public init(app: AppProfile? = nil, size: String? = nil, requestSize: String? = nil, client: String? = nil,
                    connectTimeout: String? = nil, hold: String? = nil, sourcePort: String? = nil,
                    unknownHost: UnknownHost = .listen) {
            self.app = app
            self.size = size
            self.requestSize = requestSize
            self.client = client
            self.connectTimeout = connectTimeout
            self.hold = hold
            self.sourcePort = sourcePort
            self.unknownHost = unknownHost
        }
    }

    /// The scenario with its flows and generators replaced by one flow `from` → `to` ("host:port" or "ip:port"):
    /// one flow, alone (a generator's 60,000 flows ran with it before).
    public static func scenario(_ base: Scenario, from: String, to: String, options: Options = Options()) throws -> Scenario {
        var s = base
        let source = try resolveSource(s.model, from)
        guard let colon = to.lastIndex(of: ":"), let port = UInt16(to[to.index(after: colon)...]), port >= 1 else {
            throw Problem(message: "--to '\(to)': expected <host|ip>:<port>")
        }
        let host = String(to[..<colon])
        let ipv6 = try ipv6Destination(s.model, source: source.source, to: host, family: options.addressFamily,
                                       interface: secondaryInterface(s.model, from))
        let address: IPv4Address
        // What the scenario declares on the port: an outside host's `ports` (instances declare none).
        var declared: (host: String, behaviour: PortBehaviour)?
        var unknown = false
        /// An address a VPN connection routes toward its customer gateway: an on-premises host behind it.
        var onPrem: Int?
        if let ipv6 {
            address = ipv6
            // A NAT64 address (DNS64's or written) declares what the host of the IPv4 address it embeds does.
            let embedded = VPCNetwork.nat64Embedded(ipv6)
            if let h = s.model.outsideHosts.first(where: { $0.ipv6Address == ipv6.ipv6 || ($0.hasIPv4 && $0.address == embedded) }) {
                declared = (h.id, h.behaviour(on: port))
            }
        } else if let h = s.model.outsideHosts.first(where: { $0.name == host }) {
            address = h.address
            declared = (h.id, h.behaviour(on: port))
        } else if let i = s.model.instances.first(where: { $0.id == host || $0.name == host }) {
            address = s.model.enis[i.eni].privateIP
        } else if let a = IPv4Address(host) {
            if IPv4Address.tokenRange.contains(a) {
                throw Problem(message: "--to: " + YAMLReader.tokenRangeMessage(a, key: "to"))
            }
            address = a
            if let h = s.model.outsideHosts.first(where: { $0.address == a }) {
                declared = (h.id, h.behaviour(on: port))
            } else if !s.model.enis.contains(where: { $0.privateIP == a || $0.publicIP == a }),
                      let c = s.model.vpnConnections.first(where: { $0.prefixes.contains { $0.contains(a) } }) {
                onPrem = c.customerGateway
                unknown = true
            } else if !s.model.enis.contains(where: { $0.privateIP == a || $0.publicIP == a }) {
                // A private address the source routes outside the model (a peered VPC, a transit gateway, …) is
                // traced as a flow to it runs: to its `not-modeled` end.
                guard !a.isPrivateOrSpecial || routesOutsideTheModel(s.model, source.source, a) else {
                    throw Problem(message: "--to \(a): no ENI or host in the scenario has this private address")
                }
                unknown = true
            }
        } else {
            throw Problem(message: "--to '\(host)': not an outside host, an instance or an IPv4 address of the scenario")
        }
        let (app, basis) = options.app.map { ($0, nil) } ?? defaultApp(declared: declared, port: port, to: to)
        if unknown {
            // An unknown public address is a Linux host on the internet (configurable with --unknown-host).
            let behaviour: PortBehaviour
            switch options.unknownHost {
            case .listen: behaviour = .listen(app: app.rawValue)
            case .closed: behaviour = .closed
            case .silent: behaviour = .silent
            }
            s.model.outsideHosts.append(OutsideHost(
                name: address.description, address: address, ports: [port: behaviour], otherPorts: .closed,
                rtt: s.assumptions.internetRTT, stack: .linux,
                mac: MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("host|" + address.description) & 0xFF_FFFF_FFFF))))
            s.model.outsideHosts[s.model.outsideHosts.count - 1].customerGateway = onPrem
        }
        var flow = FlowSpec(name: "trace", source: source.source, sourceLabel: source.label,
                            destination: FlowDestination(address: address, port: port, label: to), app: app, start: 0)
        flow.appBasis = basis
        flow.spreadOverSubnets = source.spread
        flow.sourceInterface = secondaryInterface(s.model, from)
        if app.isDatagram { flow.size = FlowSpec.defaultDatagramSize(app) }
        try read(options.size, "--size") {
            flow.size = try FlowSettings.size($0)
            if app.isDatagram { try FlowSettings.datagramSize(flow.size, key: "--size") }
        }
        try read(options.requestSize, "--request-size") { flow.requestSize = try FlowSettings.size($0, key: "request_size") }
        try read(options.client, "--client") { flow.client = try FlowSettings.client($0) }
        try read(options.connectTimeout, "--connect-timeout") { flow.client.connectTimeout = try FlowSettings.connectTimeout($0) }
        try read(options.hold, "--hold") { flow.hold = try FlowSettings.hold($0) }
        try read(options.sourcePort, "--source-port") { flow.sourcePort = try FlowSettings.sourcePort($0) }
        try readSession(options, into: &flow)
        guard flow.size + flow.requestSize <= FlowSpec.maxSize else {
            throw Problem(message: "--size and --request-size add up to over \(FlowSpec.maxSizeText)")
        }
        s.generators = []
        s.flows = [flow]
        // The run must end where classic pcap can still hold its times, as the loader checks a scenario's flows.
        let latest = ScenarioBuilder.latestTime(flows: s.flows, generators: [], model: s.model, assumptions: s.assumptions)
        let end = s.startTime + latest
        if end / 1_000_000_000 >= ScenarioBuilder.pcapSecondsLimit {
            throw Problem(message: "the trace may last until \(ScenarioValues.rfc3339(seconds: end / 1_000_000_000)) "
                + "(the scenario's start_time, the flow's hold and timeouts, and a day for the connection to close), "
                + "after 2038-01-19T03:14:07Z: \(ScenarioBuilder.pcapRangeText)")
        }
        return s
    }

    /// `--steps`, `--keepalive`, `--server-alive-interval`, `--server-alive-count-max`: a flow's interactive session
    /// settings, with the checks the scenario loader makes of them, stated in options.
    static func readSession(_ options: Options, into flow: inout FlowSpec) throws {
        try read(options.keepalive, "--keepalive") { flow.keepalive = try FlowSettings.keepalive($0) }
        let sftpOnly = [("--steps", options.steps), ("--server-alive-interval", options.serverAliveInterval),
                        ("--server-alive-count-max", options.serverAliveCountMax)]
        for (option, value) in sftpOnly where value != nil && flow.app != .sftp {
            throw Problem(message: "\(option) is for app sftp, not \(flow.app.rawValue)")
        }
        try read(options.serverAliveInterval, "--server-alive-interval") {
            flow.serverAliveInterval = try FlowSettings.serverAliveInterval($0)
        }
        // Its requests are scripted in idle steps; a hold has none, so ssh(1) would seem to give up on a server
        // that was merely not asked.
        if options.serverAliveInterval != nil, options.hold != nil {
            throw Problem(message: "--hold with --server-alive-interval (write the pause as an idle step: "
                          + "--steps \"..., idle 120s\")")
        }
        if options.serverAliveCountMax != nil, options.serverAliveInterval == nil {
            throw Problem(message: "--server-alive-count-max needs --server-alive-interval")
        }
        try read(options.serverAliveCountMax, "--server-alive-count-max") {
            flow.serverAliveCountMax = try FlowSettings.serverAliveCountMax($0)
        }
        guard let text = options.steps else { return }
        if options.size != nil { throw Problem(message: "--size and --steps together (a put step gives its size)") }
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
        try read(text, "--steps") { _ in
            let (steps, idle) = try FlowSettings.steps(items.count == 1 && items[0].isEmpty ? [] : items,
                                                       serverAliveInterval: flow.serverAliveInterval)
            flow.steps = steps
            flow.size = steps.reduce(0) { $0 + $1.size }
            flow.idle = idle
        }
    }

    /// An option's value read by `FlowSettings`, a problem stated after the option's name.
    static func read(_ value: String?, _ option: String, _ apply: (String) throws -> Void) throws {
        guard let value else { return }
        do {
            try apply(value)
        } catch let e as FlowSettings.Invalid {
            throw Problem(message: "\(option): \(e.message)")
        }
    }

    /// The application of a trace without `--app`, and why, as the report says it: what the destination declares
    /// listening on the port; else the port's usual application (22 sftp, 443 https, 80 http: what the scenarios'
    /// hosts declare there), assumed; else `tcp`, assumed.
    static func defaultApp(declared: (host: String, behaviour: PortBehaviour)?, port: UInt16,
                           to: String) -> (AppProfile, String) {
        if let d = declared, case .listen(let name) = d.behaviour, let app = AppProfile(rawValue: name) {
            return (app, "what \(d.host) declares listening on port \(port)")
        }
        let none: String
        switch declared?.behaviour {
        case .closed?: none = "\(to) is closed in the scenario"
        case .silent?: none = "\(to) is silent in the scenario"
        case .listen?: none = "the server at \(to) hangs in the scenario"
        case nil: none = "the scenario declares no application at \(to)"
        }
        if let app = conventionalApp(port) {
            return (app, "assumed, port \(port)'s usual application (\(none); --app names one)")
        }
        return (.tcp, "assumed (\(none); --app names one)")
    }

    /// What usually listens on a port: the applications the model speaks, on their IANA well-known ports.
    public static func conventionalApp(_ port: UInt16) -> AppProfile? {
        switch port {
        case 22: return .sftp
        case 443: return .https
        case 80: return .http
        default: return nil
        }
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
        case .peering?, .notModeled?: return true
        case .networkInterface(let e)?:
            // An instance of the same VPC may forward (`Appliance`); any other ENI is outside the model.
            guard case .instance = m.enis[e].owner else { return true }
            return m.subnets[m.enis[e].subnet].vpc != m.subnets[m.enis[eni].subnet].vpc
        default: return false
        }
    }

    /// The source `--from` names, its label, and whether a Lambda's invocation is spread over the function's
    /// subnets (a function's name) or pinned (`function@subnet`, or one of its ENIs by id or address).
    static func resolveSource(_ m: VPCModel, _ from: String) throws -> (source: FlowSource, label: String, spread: Bool) {
        let (source, label) = try resolvePinned(m, from)
        if case .lambda = source, m.lambdas.contains(where: { $0.name == from }) { return (source, label, true) }
        return (source, label, false)
    }

    /// The ENI `from` names (by id, private address or IPv6 address) when it is one of an instance's
    /// `network_interfaces` (not its primary): the trace is sent from it.
    static func secondaryInterface(_ m: VPCModel, _ from: String) -> Int? {
        let e = m.enis.firstIndex { $0.id == from } ?? eni(m, address: from)
        guard let e, case .instance(let i) = m.enis[e].owner, m.instances[i].eni != e else { return nil }
        return e
    }

    /// The ENI whose private IPv4 address or IPv6 address (bare or in brackets) `text` is.
    static func eni(_ m: VPCModel, address text: String) -> Int? {
        if let a = IPv4Address(text) { return m.enis.firstIndex { $0.privateIP == a } }
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        guard let a = IPv6Address(bare) else { return nil }
        return m.enis.firstIndex { $0.ipv6Address == a }
    }

    static func resolvePinned(_ m: VPCModel, _ from: String) throws -> (source: FlowSource, label: String) {
        if let f = m.lambdas.firstIndex(where: { $0.name == from }) {
            return (.lambda(f, eni: m.lambdas[f].enis[0]), "lambda \(from)")
        }
        if let i = m.instances.firstIndex(where: { $0.id == from || $0.name == from }) {
            return (.instance(i), "instance \(m.instances[i].display)")
        }
        if let h = m.outsideHosts.firstIndex(where: { $0.name == from }) {
            return (.outsideHost(h), "host \(from)")
        }
        if let at = from.lastIndex(of: "@") {
            let function = String(from[..<at]), subnet = String(from[from.index(after: at)...])
            guard let f = m.lambdas.firstIndex(where: { $0.name == function }) else {
                throw Problem(message: "--from '\(from)': '\(function)' is not a Lambda function (@ pins a function to "
                              + "one of its subnets)" + ScenarioBuilder.didYouMean(function, among: m.lambdas.compactMap(\.name)))
            }
            switch m.pin(function: f, subnet: subnet) {
            case .eni(let e): return (.lambda(f, eni: e), "lambda \(function)@\(subnet)")
            case .problem(let message): throw Problem(message: "--from '\(from)': \(message)")
            }
        }
        let byENI = m.enis.firstIndex { $0.id == from }
        if let e = byENI ?? eni(m, address: from) {
            switch m.enis[e].owner {
            case .lambda(let fs): return (.lambda(fs[0], eni: e), "lambda \(m.lambdas[fs[0]].name ?? "") (\(m.enis[e].id))")
            case .instance(let i):
                let extra = e == m.instances[i].eni ? "" : " (\(m.enis[e].id))"
                return (.instance(i), "instance \(m.instances[i].display)" + extra)
            case .natGateway: throw Problem(message: "--from \(from): a NAT gateway opens no connections")
            case .vpcEndpoint: throw Problem(message: "--from \(from): an interface endpoint opens no connections")
            }
        }
        if let a = IPv4Address(from), let h = m.outsideHosts.firstIndex(where: { $0.address == a }) {
            return (.outsideHost(h), "host \(m.outsideHosts[h].id)")
        }
        let names = m.lambdas.compactMap(\.name) + m.instances.flatMap { [$0.name, $0.id].compactMap { $0 } }
            + m.outsideHosts.compactMap(\.name) + m.enis.map(\.id)
        throw Problem(message: "--from '\(from)': not a Lambda function, instance, ENI, outside host or known IP"
                      + ScenarioBuilder.didYouMean(from, among: names))
    }
}
