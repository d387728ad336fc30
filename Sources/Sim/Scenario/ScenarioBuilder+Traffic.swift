import Packets
import Yams

/// Outside hosts and flows.
extension ScenarioBuilder {
    // MARK: Outside hosts

    mutating func readOutsideHosts(_ items: [Node]) throws {
        // On-premises hosts (`onprem_networks:`) are read already: names and addresses are unique across both.
        var names: [String: Int] = [:]
        var addresses: [UInt32: String] = [:]
        for (i, h) in model.outsideHosts.enumerated() {
            names[h.id] = i
            if h.hasIPv4 { addresses[h.address.rawValue] = h.id }
        }
        for item in items { model.outsideHosts.append(try readOutsideHost(item, names: &names, addresses: &addresses)) }
    }

    /// One host of `outside_hosts:` (or of an on-premises network's `hosts:`, `what` "on-premises host").
    func readOutsideHost(_ item: Node, names: inout [String: Int], addresses: inout [UInt32: String],
                         what: String = "outside host") throws -> OutsideHost {
        let behaviours: [(String, PortBehaviour)] = AppProfile.allCases.map { ($0.rawValue, .listen(app: $0.rawValue)) }
            + [("closed", .closed), ("silent", .silent), ("hang", .listen(app: "hang"))]
        do {
            var f = try r.fields(item, what: what, allowed: [
                "name", "ip", "rtt_ms", "bandwidth", "ports", "other_ports", "stack", "mtu", "path_mtu", "ipv6",
            ])
            let nameNode = try f.require("name")
            let name = try r.word(nameNode, key: "name")
            guard names[name] == nil else { throw r.error(at: nameNode, "duplicate outside host name '\(name)'") }
            names[name] = names.count
            f.what = "\(what) \(name)"
            let ipv6 = try readOutsideHostIPv6(f, name: name)
            let ip = f.has("ip") || ipv6 == nil ? try r.address(f.require("ip"), key: "ip") : IPv4Address.any
            if let ipNode = f["ip"] {
                if let holder = addresses[ip.rawValue] {
                    throw r.error(at: ipNode, "ip \(ip) is already used by outside host \(holder)")
                }
                addresses[ip.rawValue] = name
            }
            var rtt = assumptions.internetRTT
            if let n = f["rtt_ms"] {
                let s = try r.string(n, key: "rtt_ms")
                guard let v = ScenarioValues.scaled(Substring(s), by: 1_000_000) else {
                    throw r.error(at: n, "invalid rtt_ms '\(s)' (expected milliseconds, e.g. 20 or 0.5)")
                }
                rtt = v
            }
            var bandwidth: Int64 = 0  // the assumption's
            if let n = f["bandwidth"] {
                let s = try r.string(n, key: "bandwidth")
                guard let v = ScenarioValues.bandwidth(s) else {
                    throw r.error(at: n, "invalid bandwidth '\(s)' (expected bits per second, e.g. 100Mbps or 1.5Gbps)")
                }
                bandwidth = v
            }
            var ports: [UInt16: PortBehaviour] = [:]
            if let n = f["ports"] {
                for (key, keyNode, value) in try r.pairs(n, key: "ports") {
                    guard let p = UInt16(key), p >= 1 else {
                        throw r.error(at: keyNode, "invalid port '\(key)' in ports (expected 1-65535)")
                    }
                    ports[p] = try r.oneOf(value, key: "port behaviour", behaviours)
                }
            }
            let other: PortBehaviour = try f["other_ports"].map {
                try r.oneOf($0, key: "other_ports", [("closed", .closed), ("silent", .silent)])
            } ?? .closed
            let mtu = try f.integer("mtu", range: 576...9001) ?? assumptions.outsideHostMTU
            var host = OutsideHost(name: name, address: ip, ports: ports, otherPorts: other, rtt: rtt,
                                   stack: try readStack(f).withMTU(mtu), mac: ScenarioValues.mac(hashing: name))
            host.bandwidth = bandwidth
            host.mtu = mtu
            host.ipv6Address = ipv6
            host.hasIPv4 = f.has("ip")
            if let n = f["path_mtu"] {
                host.pathMTU = try r.integer(n, key: "path_mtu", range: 576...9001)
                guard host.pathMTU < mtu else {
                    throw r.error(at: n, "path_mtu \(host.pathMTU) is not smaller than the host's mtu \(mtu)")
                }
            }
            return host
        }
    }

    // MARK: Flows

    /// `bytes`: the application bytes of the flows read so far (explicit flows, one conversation per generator),
    /// at most `FlowSpec.maxSize` in all: every conversation is built in memory when the run starts.
    func readFlows(_ items: [Node], bytes: inout Int) throws -> [FlowSpec] {
        var flows: [FlowSpec] = []
        var names = Set<String>()  // a list's contains(where:) made 20,000 flows take seconds
        for item in items {
            var f = try r.fields(item, what: "flow", allowed: [
                "name", "from", "to", "app", "start", "size", "request_size", "expect", "client", "connect_timeout",
                "source_port", "hold", "steps", "keepalive", "server_alive_interval", "server_alive_count_max",
                "server_keepalive", "count", "reply_size", "reply_timeout", "pmtudisc",
                "kill_after", "login_grace_time", "address_family",
            ])
            let nameNode = try f.require("name")
            let name = try r.word(nameNode, key: "name")
            guard names.insert(name).inserted else {
                throw r.error(at: nameNode, "duplicate flow name '\(name)'")
            }
            f.what = "flow '\(name)'"
            let (source, sourceLabel, spread) = try readSource(f.require("from"), flow: name)
            // A ping's destination needs no port (`to: host`).
            let ping = try f["app"].map { try r.string($0, key: "app") } == AppProfile.ping.rawValue
            let (destination, listening) = try readDestination(f.require("to"), flow: name, source: source,
                                                               portless: ping)
            let app: AppProfile
            if let n = f["app"] {
                app = try r.oneOf(n, key: "app", AppProfile.allCases.map { ($0.rawValue, $0) })
            } else if let listening, let a = AppProfile(rawValue: listening) {
                app = a
            } else {
                throw r.error(at: item, "flow '\(name)' has no app (\(AppProfile.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var spec = FlowSpec(name: name, source: source, sourceLabel: sourceLabel, destination: destination, app: app)
            spec.spreadOverSubnets = spread
            if let n = f["start"] { spec.start = try setting(n, key: "start", FlowSettings.start) }
            for key in ["size", "request_size"] {
                guard let n = f[key] else { continue }
                let v = try setting(n, key: key) { try FlowSettings.size($0, key: key) }
                if key == "size" { spec.size = v } else { spec.requestSize = v }
            }
            if let n = f["client"] { spec.client = try setting(n, key: "client", FlowSettings.client) }
            if let n = f["connect_timeout"] {
                spec.client.connectTimeout = try setting(n, key: "connect_timeout", FlowSettings.connectTimeout)
            }
            if let n = f["hold"] { spec.hold = try setting(n, key: "hold", FlowSettings.hold) }
            if let n = f["kill_after"] { spec.client.killAfter = try setting(n, key: "kill_after", FlowSettings.killAfter) }
            if let n = f["source_port"] { spec.sourcePort = try setting(n, key: "source_port", FlowSettings.sourcePort) }
            if let n = f["address_family"] {
                spec.client.addressFamily = try r.oneOf(n, key: "address_family",
                                                        ClientProfile.AddressFamily.allCases.map { ($0.rawValue, $0) })
            }
            try applyAddressFamily(&spec, host: Self.hostPart(try r.word(f.require("to"), key: "to")), node: f.require("to"),
                                   familyNode: f["address_family"])
            try readSession(f, into: &spec)
            try readDatagramSettings(f, into: &spec)
            if let n = f["expect"] { spec.expect = try readExpectation(n, keyNode: f.keyNode("expect")!, flow: name) }
            bytes += spec.size + spec.requestSize
            guard bytes <= FlowSpec.maxSize else {
                throw r.error(at: f["size"] ?? f["request_size"] ?? nameNode,
                              "flow '\(name)': the flows' sizes add up to over \(FlowSpec.maxSizeText)")
            }
            flows.append(spec)
        }
        return flows
    }

    /// An interactive session's settings: `steps`, `keepalive`, `server_alive_interval`, `server_alive_count_max`.
    func readSession(_ f: YAMLFields, into spec: inout FlowSpec) throws {
        if let n = f["keepalive"] { spec.keepalive = try setting(n, key: "keepalive", FlowSettings.keepalive) }
        if let n = f["server_keepalive"] {
            spec.serverKeepalive = try setting(n, key: "server_keepalive", FlowSettings.serverKeepalive)
        }
        if let n = f["login_grace_time"] {
            guard spec.app.isSSH else {
                throw r.error(at: f.keyNode("login_grace_time"),
                              "flow '\(spec.name)': login_grace_time is for sshd (app sftp or sftp-ls), not \(spec.app.rawValue)")
            }
            spec.loginGraceTime = try setting(n, key: "login_grace_time", FlowSettings.loginGraceTime)
        }
        for key in ["steps", "server_alive_interval", "server_alive_count_max"] where f.has(key) && spec.app != .sftp {
            throw r.error(at: f.keyNode(key), "flow '\(spec.name)': \(key) is for app sftp, not \(spec.app.rawValue)")
        }
        if let n = f["server_alive_interval"] {
            spec.serverAliveInterval = try setting(n, key: "server_alive_interval", FlowSettings.serverAliveInterval)
            // Its requests are scripted in idle steps; a hold has none, so ssh(1) would seem to give up on a server
            // that was merely not asked.
            if f.has("hold") {
                throw r.error(at: f.keyNode("hold"), "flow '\(spec.name)': hold with server_alive_interval "
                              + "(write the pause as an idle step: steps: [..., idle 120s])")
            }
        }
        if let n = f["server_alive_count_max"] {
            guard spec.serverAliveInterval != nil else {
                throw r.error(at: f.keyNode("server_alive_count_max"),
                              "flow '\(spec.name)': server_alive_count_max needs server_alive_interval")
            }
            spec.serverAliveCountMax = try setting(n, key: "server_alive_count_max", FlowSettings.serverAliveCountMax)
        }
        guard let n = f["steps"] else { return }
        if f.has("size") {
            throw r.error(at: f.keyNode("size"), "flow '\(spec.name)': size and steps together (a put step gives its size)")
        }
        let items = try r.list(n, key: "steps")
        // FlowSettings.steps's checks (as `vpcsim trace --steps`), each problem placed at its node.
        let name = spec.name
        let (steps, idle) = try FlowSettings.steps(
            count: items.count, item: { try setting(items[$0], key: "steps", FlowSettings.step) },
            serverAliveInterval: spec.serverAliveInterval,
            problem: { place, message in
                r.error(at: place == .list ? n : f.keyNode("server_alive_interval"), "flow '\(name)': \(message)")
            },
            idleProblem: { i, message in r.error(at: items[i], "flow '\(name)': \(message)") })
        spec.steps = steps
        spec.size = steps.reduce(0) { $0 + $1.size }
        spec.idle = idle
    }

    /// A datagram flow's settings (`count`, `reply_size`, `reply_timeout`, `pmtudisc`; `size` at most 65507 and
    /// its default), refused for a TCP application.
    func readDatagramSettings(_ f: YAMLFields, into spec: inout FlowSpec) throws {
        let keys = ["count", "reply_size", "reply_timeout", "pmtudisc"]
        guard spec.app.isDatagram else {
            for key in keys where f.has(key) {
                throw r.error(at: f.keyNode(key), "flow '\(spec.name)': \(key) is for app udp or ping, not \(spec.app.rawValue)")
            }
            return
        }
        if f.has("reply_size"), spec.app == .ping {
            throw r.error(at: f.keyNode("reply_size"), "flow '\(spec.name)': reply_size is for app udp (a ping's reply echoes its data)")
        }
        if let n = f["size"] {
            let v = spec.size
            try setting(n, key: "size") { _ in try FlowSettings.datagramSize(v, key: "size") }
        } else {
            spec.size = FlowSpec.defaultDatagramSize(spec.app)
        }
        spec.requestSize = 0
        if let n = f["count"] { spec.count = try setting(n, key: "count", FlowSettings.count) }
        if let n = f["reply_size"] {
            let v = try setting(n, key: "reply_size") { try FlowSettings.size($0, key: "reply_size") }
            try setting(n, key: "reply_size") { _ in try FlowSettings.datagramSize(v, key: "reply_size") }
            spec.replySize = v
        }
        if let n = f["reply_timeout"] { spec.replyTimeout = try setting(n, key: "reply_timeout", FlowSettings.replyTimeout) }
        if let n = f["pmtudisc"] { spec.pmtuDiscovery = try setting(n, key: "pmtudisc", FlowSettings.pmtuDiscovery) }
    }

    /// A flow setting's value read by `FlowSettings` (as `vpcsim trace` reads its options), a problem placed at
    /// its node.
    func setting<T>(_ n: Node, key: String, _ parse: (String) throws -> T) throws -> T {
        let s = try r.string(n, key: key)
        do {
            return try parse(s)
        } catch let e as FlowSettings.Invalid {
            throw r.error(at: n, e.message)
        }
    }

    enum Endpoint { case lambda(Int), instance(Int), host(Int) }

    /// Lambdas by name, instances by id or name, outside hosts by name.
    func endpoints(named ref: String) -> [Endpoint] {
        var out: [Endpoint] = model.lambdas.indices.filter { model.lambdas[$0].name == ref }.map { .lambda($0) }
        switch registry(.instance).find(ref) {
        case .one(let i): out.append(.instance(i))
        case .ambiguous(let list): out += list.map { .instance($0) }
        case .none: break
        }
        out += model.outsideHosts.indices.filter { model.outsideHosts[$0].name == ref }.map { .host($0) }
        return out
    }

    func label(_ e: Endpoint) -> String {
        switch e {
        case .lambda(let i): return "lambda \(model.lambdas[i].id)"
        case .instance(let i): return "instance \(model.instances[i].display)"
        case .host(let i): return "host \(model.outsideHosts[i].id)"
        }
    }

    /// The source, its label, and whether a Lambda's invocations are spread over its subnets (not pinned to one
    /// with `function@subnet`).
    func readSource(_ node: Node, flow: String) throws -> (FlowSource, String, Bool) {
        let ref = try r.word(node, key: "from")
        let hits = endpoints(named: ref)
        if hits.isEmpty, let at = ref.lastIndex(of: "@") {
            let (source, label) = try readPinnedLambda(node, ref, at: at, flow: flow)
            return (source, label, false)
        }
        guard !hits.isEmpty else {
            throw r.error(at: node, "flow '\(flow)': unknown source '\(ref)'" + didYouMean(endpoint: ref))
        }
        guard hits.count == 1 else {
            throw r.error(at: node, "flow '\(flow)': source '\(ref)' is ambiguous (\(hits.map(label).joined(separator: ", ")))")
        }
        switch hits[0] {
        case .lambda(let i): return (.lambda(i, eni: model.lambdas[i].enis[0]), label(hits[0]), true)
        case .instance(let i): return (.instance(i), label(hits[0]), false)
        case .host(let i): return (.outsideHost(i), label(hits[0]), false)
        }
    }

    /// The host part of a flow's `to` ("sftp.example.com" of "sftp.example.com:22", "[2001:db8::22]" of
    /// "[2001:db8::22]:22"; all of a port-less ping's).
    static func hostPart(_ text: String) -> String {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { return String(text[...close]) }
        if IPv6Address(text) != nil { return text }  // a ping's bare IPv6 address
        guard let colon = text.lastIndex(of: ":") else { return text }
        return String(text[..<colon])
    }

    /// "host:port" → the address and port, plus what listens there when the host is an outside host.
    /// `portless`: the port may be left out (app ping): it is 0.
    func readDestination(_ node: Node, flow: String, source: FlowSource? = nil,
                         portless: Bool = false) throws -> (FlowDestination, String?) {
        let text = try r.word(node, key: "to")
        let host: String, port: UInt16
        if portless, !text.contains(":") || Self.ipv6Literal(text) != nil {
            // A ping's host alone: a name, an IPv4 address, an IPv6 one ("[2001:db8::22]" or bare).
            host = text
            port = 0
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw r.error(at: node, "flow '\(flow)': destination '\(text)' needs a port (host:port)")
            }
            host = String(text[..<colon])
            let portText = String(text[text.index(after: colon)...])
            guard let p = UInt16(portText), p >= 1 else {
                throw r.error(at: node, "flow '\(flow)': invalid port '\(portText)' in '\(text)' (expected 1-65535)")
            }
            port = p
        }
        let address: IPv4Address
        var listening: String?
        if let a = Self.ipv6Literal(host) {
            address = IPv6Token.intern(a)
            // A NAT64 address (64:ff9b::<IPv4>) names the host with that IPv4 address, reached through NAT64.
            let embedded = a.nat64Embedded
            if let h = model.outsideHosts.first(where: { $0.ipv6Address == a || ($0.hasIPv4 && $0.address == embedded) }),
               case .listen(let app) = h.behaviour(on: port) {
                listening = app
            }
        } else if let ip = IPv4Address(host) {
            try r.refuseTokenRange(ip, node: node, key: "to")
            address = ip
            if let h = model.outsideHosts.first(where: { $0.address == ip }), case .listen(let app) = h.behaviour(on: port) {
                listening = app
            }
        } else if let source, let d = serviceDestination(host, port: port, label: text, source: source) {
            // An interface endpoint's service answers HTTPS.
            return (d, d.notModeled == nil && port == 443 ? AppProfile.https.rawValue : nil)
        } else {
            let hits = endpoints(named: host)
            guard !hits.isEmpty else {
                throw r.error(at: node, "flow '\(flow)': unknown destination '\(host)' (not an outside host, an "
                              + "instance or an IPv4 address)" + didYouMean(endpoint: host))
            }
            guard hits.count == 1 else {
                throw r.error(at: node, "flow '\(flow)': destination '\(host)' is ambiguous "
                              + "(\(hits.map(label).joined(separator: ", ")))")
            }
            switch hits[0] {
            case .lambda:
                // Lambda-DG foundation-networking: functions accept no inbound connections.
                throw r.error(at: node, "flow '\(flow)': Lambda function \(host) cannot receive connections")
            case .instance(let i):
                address = model.enis[model.instances[i].eni].privateIP
            case .host(let i):
                let h = model.outsideHosts[i]
                address = h.address
                if case .listen(let app) = h.behaviour(on: port) { listening = app }
            }
        }
        return (FlowDestination(address: address, port: port, label: text), listening)
    }

    /// Every component a packet can die at, by id or name: (kind label, canonical id).
    func components(named ref: String) -> [(kind: ResourceKind?, id: String)] {
        var out: [(kind: ResourceKind?, id: String)] = []
        for k in ResourceKind.allCases {
            switch registry(k).find(ref) {
            case .one(let i): out.append((k, registry(k).ids[i]))
            case .ambiguous(let list): out += list.map { (k, registry(k).ids[$0]) }
            case .none: break
            }
        }
        if model.lambdas.contains(where: { $0.name == ref }) { out.append((nil, ref)) }
        if model.outsideHosts.contains(where: { $0.name == ref }) { out.append((nil, ref)) }
        return out
    }

    func readExpectation(_ node: Node, keyNode: Node, flow: String) throws -> FlowExpectation {
        let f = try r.fields(node, what: "expect", key: "expect",
                             allowed: ["outcome", "dropped_at", "drop_direction", "no_drop"])
        var e = FlowExpectation(location: r.location(of: keyNode))
        if let n = f["outcome"] { e.outcome = try r.oneOf(n, key: "outcome", FlowOutcome.allCases.map { ($0.rawValue, $0) }) }
        e.noDrop = try f.bool("no_drop") ?? false
        var droppedKind: ResourceKind?
        if let n = f["dropped_at"] {
            let ref = try r.word(n, key: "dropped_at")
            let hits = components(named: ref)
            guard !hits.isEmpty else {
                throw r.error(at: n, "flow '\(flow)': dropped_at '\(ref)' is not a component of this scenario"
                              + didYouMean(component: ref))
            }
            guard hits.count == 1 else {
                throw r.error(at: n, "flow '\(flow)': dropped_at '\(ref)' is ambiguous "
                              + "(\(hits.map(\.id).joined(separator: ", "))); use the id")
            }
            if e.noDrop { throw r.error(at: f.keyNode("no_drop"), "flow '\(flow)': no_drop contradicts dropped_at") }
            e.droppedAt = hits[0].id
            droppedKind = hits[0].kind
        }
        if let n = f["drop_direction"] {
            let d = try r.oneOf(n, key: "drop_direction",
                                ["inbound", "outbound", "egress", "ingress"].map { ($0, $0) })
            guard e.droppedAt != nil else { throw r.error(at: n, "flow '\(flow)': drop_direction needs dropped_at") }
            switch droppedKind {
            case .networkACL?:
                guard d == "inbound" || d == "outbound" else {
                    throw r.error(at: n, "flow '\(flow)': a network ACL drops inbound or outbound, not \(d)")
                }
            case .securityGroup?:
                guard d == "egress" || d == "ingress" else {
                    throw r.error(at: n, "flow '\(flow)': a security group drops on egress or ingress, not \(d)")
                }
            default:
                throw r.error(at: n, "flow '\(flow)': drop_direction applies only to a network ACL or a security group")
            }
            e.dropDirection = d
        }
        return e
    }
}
