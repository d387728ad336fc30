import Packets
import Yams

/// Builds a `Scenario` from the composed YAML, section by section in dependency order.
struct ScenarioBuilder {
    /// The file being read: the scenario's, or (while its sections are read) a separate flows file's.
    var r: YAMLReader
    var model = VPCModel()
    var assumptions = Assumptions()
    var registries = [ResourceRegistry](repeating: ResourceRegistry(), count: ResourceKind.allCases.count)

    /// The YAML mapping of each VPC / route table / NACL, for messages raised after the section is read.
    var vpcNodes: [Node] = []
    /// Routes are resolved last, once every gateway and ENI exists.
    var pendingRoutes: [(table: Int, node: Node)] = []
    /// Route tables' `propagating_vgws:`, resolved once the virtual private gateways are read.
    var pendingPropagations: [(table: Int, node: Node)] = []
    /// Security-group rules are resolved after every group is known (they may reference each other).
    var pendingSGRules: [(group: Int, ingress: Node?, egress: Node?, egressKey: Node?)] = []
    /// The `tcp_mtu_probing` value of `assumptions:`, for the check against Windows hosts once the hosts are read.
    var tcpMTUProbingNode: Node?
    /// Addresses taken in each subnet: address → who holds it.
    var usedAddresses: [Int: [UInt32: String]] = [:]
    /// Public and Elastic IPs taken: address → who holds it.
    var usedPublic: [UInt32: String] = [:]
    /// ENIs whose private IP is still to be chosen, in allocation order, with who they are for.
    var pendingAllocations: [(eni: Int, owner: String, node: Node)] = []
    /// Interface VPC endpoints whose subnets and security groups are read once those exist.
    var pendingInterfaceEndpoints: [(endpoint: Int, fields: YAMLFields)] = []
    /// Gateway endpoints of ip_address_type dualstack or ipv6, with that value's node: their subnets are checked
    /// once subnets are read (`checkGatewayEndpointSubnets`).
    var ipv6GatewayEndpoints: [(endpoint: Int, node: Node)] = []
    /// Route tables' `gateway:` naming no internet gateway: a virtual private gateway, resolved once those are read.
    var pendingVGWEdges: [(table: Int, node: Node)] = []
    /// Lambda Hyperplane ENIs by "lambda|<subnet id>|<sorted sg ids>".
    var lambdaENIs: [String: Int] = [:]
    /// The function (and node) that fixed each Lambda ENI's private IP.
    var lambdaENIAddressSource: [Int: String] = [:]
    /// Transit gateway attachment ENIs whose private IP is still to be chosen (`allocateAttachmentAddresses`).
    var pendingAttachmentENIs: [(attachment: Int, index: Int, node: Node)] = []
    /// Transit gateway attachments' `network_interface_ids` entries, checked once every ENI is read
    /// (`checkAttachmentENIIDs`).
    var pendingAttachmentENIIDs: [(attachment: Int, index: Int, node: Node)] = []
    /// IPv6 addresses taken in each subnet, and ENIs whose IPv6 address is still to be chosen
    /// (ScenarioBuilder+IPv6.swift).
    var usedIPv6: [Int: [IPv6Address: String]] = [:]
    var pendingIPv6Allocations: [(eni: Int, owner: String, node: Node)] = []
    /// Subnets' IPv6 /64s, for the overlap check.
    var ipv6Subnets: [IPv6CIDR: Int] = [:]

    static let topKeys = [
        "name", "description", "seed", "start_time", "assumptions", "vpcs", "internet_gateways", "route_tables",
        "network_acls", "security_groups", "subnets", "nat_gateways", "transit_gateways", "lambdas", "instances",
        "outside_hosts", "flows", "generators", "flow_logs", "peering_connections", "vpc_endpoints", "invented",
        "vpn_gateways", "customer_gateways", "vpn_connections", "onprem_networks", "include",
        "egress_only_internet_gateways",
    ]

    init(reader: YAMLReader) { r = reader }

    func registry(_ k: ResourceKind) -> ResourceRegistry { registries[k.rawValue] }

    mutating func register(_ k: ResourceKind, id: String, name: String?, index: Int) {
        registries[k.rawValue].add(id: id, name: name, index: index)
    }

    /// The sections a separate flows file (`vpcsim run --network N --flows F`) may hold.
    static let flowsFileKeys = ["outside_hosts", "flows", "generators"]

    /// `flowsFile`: a second document holding the traffic (outside hosts, flows, generators), read with its own
    /// reader so that its errors name that file.
    mutating func build(_ root: Node, flowsFile: (root: Node, reader: YAMLReader)? = nil) throws -> Scenario {
        let top = try r.fields(root, what: "scenario", allowed: Self.topKeys)
        let networkReader = r
        var traffic: [String: (fields: YAMLFields, reader: YAMLReader)] = [:]
        for k in Self.flowsFileKeys { traffic[k] = (top, r) }
        if let ff = flowsFile {
            let ft = try ff.reader.fields(ff.root, what: "flows file", allowed: Self.flowsFileKeys)
            for e in ft.entries {
                if top.has(e.key) {
                    throw ff.reader.error(at: e.keyNode, "'\(e.key)' is also in \(r.location(of: top.keyNode(e.key)!)); keep it in one of the two files")
                }
                traffic[e.key] = (ft, ff.reader)
            }
        }
        try checkIDs(top)

        var name = try top.word("name") ?? ""
        if name.isEmpty {
            let base = r.file.split(separator: "/").last.map(String.init) ?? r.file
            name = base.hasSuffix(".yaml") ? String(base.dropLast(5)) : base.hasSuffix(".yml") ? String(base.dropLast(4)) : base
        }
        let description = try top.string("description")
        var seed: UInt64 = 1
        if let n = top["seed"] {
            let s = try r.string(n, key: "seed")
            guard let v = UInt64(s) else { throw r.error(at: n, "invalid seed '\(s)' (expected an integer 0-18446744073709551615)") }
            seed = v
        }
        var startTime: Int64?
        if let n = top["start_time"] { startTime = try readStartTime(n) }
        if let n = top["assumptions"] { try readAssumptions(n) }
        var flowLogs = FlowLogSettings()
        if let n = top["flow_logs"] { flowLogs = try readFlowLogs(n) }

        try readVPCs(top.list("vpcs") ?? [])
        try readPeeringConnections(top.list("peering_connections") ?? [], region: flowLogs.region)
        try readInternetGateways(top.list("internet_gateways") ?? [])
        try readEgressOnlyInternetGateways(top.list("egress_only_internet_gateways") ?? [])
        try readNetworkACLs(top.list("network_acls") ?? [])
        try readSecurityGroups(top.list("security_groups") ?? [])
        try readRouteTables(top.list("route_tables") ?? [])
        let warnings = try readVPCEndpoints(top.list("vpc_endpoints") ?? [])
        try readSubnets(top.list("subnets") ?? [])
        try checkGatewayEndpointSubnets()
        try readVPN(top)
        try readTransitGateways(top.list("transit_gateways") ?? [])
        flowLogs.transitGateways = try readTGWFlowLogs(top["flow_logs"])
        try checkVPNConnectionsBound(top)
        try readNATGateways(top.list("nat_gateways") ?? [])
        try readInstances(top.list("instances") ?? [])
        try readLambdas(top.list("lambdas") ?? [])
        try readInterfaceEndpoints()
        try allocatePendingAddresses()
        try allocatePendingIPv6Addresses()
        try allocateAttachmentAddresses()
        try checkAttachmentENIIDs()
        try resolveSecurityGroupRules()
        try resolveRoutes()
        try checkGatewayRouteTables()
        r = traffic["outside_hosts"]!.reader
        try readOutsideHosts(traffic["outside_hosts"]!.fields.list("outside_hosts") ?? [])
        var bytes = 0
        r = traffic["flows"]!.reader
        let flows = try readFlows(traffic["flows"]!.fields.list("flows") ?? [], bytes: &bytes)
        r = traffic["generators"]!.reader
        let generators = try readGenerators(traffic["generators"]!.fields.list("generators") ?? [],
                                            flowNames: Set(flows.map(\.name)), bytes: &bytes)
        r = networkReader
        try checkMTUProbingStacks()

        var scenario = Scenario(name: name, description: description, file: r.file, seed: seed, model: model,
                                flows: flows, assumptions: assumptions)
        if let startTime { scenario.startTime = startTime }
        try checkTimeRange(startTime: scenario.startTime, startNode: top["start_time"],
                           latest: Self.latestTime(flows: flows, generators: generators, model: model,
                                                   assumptions: assumptions))
        scenario.flowLogs = flowLogs
        scenario.warnings = warnings
        scenario.generators = generators
        scenario.invented = try readInvented(top.list("invented") ?? [])
        return scenario
    }

    /// Before anything else, in file order: every declared id has its kind's prefix and is unique.
    mutating func checkIDs(_ top: YAMLFields) throws {
        var seen: [String: ResourceKind] = [:]
        for entry in top.entries {
            guard let kind = ResourceKind.allCases.first(where: { $0.section == entry.key }) else { continue }
            guard case .sequence(let items) = entry.value else { continue }  // reported when the section is read
            for item in items {
                // The last `id` pair, as Yams' `m["id"]` finds it, compared by key text: `m["id"]` builds a Node
                // and resolves its tag (regular expressions) for every item, a sixth of a large file's load time.
                guard case .mapping(let m) = item else { continue }
                var found: Node?
                for (k, v) in m { if case .scalar(let ks) = k, ks.string == "id" { found = v } }
                guard let idNode = found, case .scalar(let s) = idNode, !YAMLReader.isNull(idNode) else { continue }
                let id = s.string
                guard id.hasPrefix(kind.idPrefix), id.count > kind.idPrefix.count else {
                    throw r.error(at: idNode, "\(kind.title) id '\(id)' must start with '\(kind.idPrefix)'")
                }
                if seen[id] != nil { throw r.error(at: idNode, "duplicate id \(id)") }
                seen[id] = kind
            }
        }
    }

    /// Reads `id` and `name` of a resource and registers it.
    mutating func identify(_ f: inout YAMLFields, _ kind: ResourceKind, index: Int) throws -> (id: String, name: String?) {
        let id = try f.requireWord("id")
        let name = try f.word("name")
        f.what = "\(kind.title) \(id)"
        register(kind, id: id, name: name, index: index)
        return (id, name)
    }

    /// A reference (id or name) to a resource of `kind`; `role` names it in messages ("route table").
    func resolve(_ node: Node, _ kind: ResourceKind, key: String, role: String? = nil) throws -> Int {
        let ref = try r.word(node, key: key)
        let role = role ?? kind.title
        switch registry(kind).find(ref) {
        case .one(let i): return i
        case .ambiguous(let list):
            let ids = list.map { registry(kind).ids[$0] }.joined(separator: ", ")
            throw r.error(at: node, "\(role) name '\(ref)' is ambiguous (\(ids)); use the id")
        case .none:
            throw r.error(at: node, "\(role) \(ref) is not defined" + didYouMean(ref, [kind]))
        }
    }

    /// A list of references, each resolved, duplicates rejected.
    func resolveList(_ node: Node, _ kind: ResourceKind, key: String) throws -> [Int] {
        var out: [Int] = []
        for item in try r.list(node, key: key) {
            let i = try resolve(item, kind, key: key)
            if out.contains(i) { throw r.error(at: item, "\(kind.title) \(registry(kind).ids[i]) is listed twice") }
            out.append(i)
        }
        return out
    }

    // MARK: Assumptions

    /// `tcp_mtu_probing` is Linux's net.ipv4.tcp_mtu_probing, which every host's TCP would run: refused when a host
    /// runs the `windows` stack, which has no such setting. Its black-hole detection is the registry entry
    /// EnablePMTUBHDetect, off by default (Microsoft, TCP/IP registry entries: "0 Disables black hole detection",
    /// default 0, https://technet.microsoft.com/en-US/library/cc960465), which the model does not run.
    func checkMTUProbingStacks() throws {
        guard assumptions.tcpMTUProbing > 0, let node = tcpMTUProbingNode else { return }
        let windows = model.instances.first { $0.stack.name == StackProfile.windows.name }.map { "instance \($0.id)" }
            ?? model.outsideHosts.first { $0.stack.name == StackProfile.windows.name }.map { "outside host \($0.id)" }
        guard let windows else { return }
        throw r.error(at: node, "tcp_mtu_probing \(assumptions.tcpMTUProbing) is Linux's net.ipv4.tcp_mtu_probing, but "
                      + "\(windows) runs the windows stack, which has no such setting (its black-hole detection, "
                      + "EnablePMTUBHDetect, is off by default and not modeled)")
    }

    mutating func readAssumptions(_ node: Node) throws {
        let names = assumptions.listing.map(\.name)
        let f = try r.fields(node, what: "assumptions", key: "assumptions", allowed: names)
        var a = assumptions
        for e in f.entries {
            let v = e.value, k = e.key
            switch k {
            case "nat_port_selection":
                a.natPortSelection = try r.oneOf(v, key: k, Assumptions.NATPortSelection.allCases.map { ($0.rawValue, $0) })
            case "vpc_hop_latency_us": a.vpcHopLatency = Int64(try r.integer(v, key: k, range: 0...10_000_000)) * 1000
            case "nat_processing_us": a.natProcessing = Int64(try r.integer(v, key: k, range: 0...10_000_000)) * 1000
            case "internet_rtt_ms": a.internetRTT = Int64(try r.integer(v, key: k, range: 0...600_000)) * 1_000_000
            case "internet_hops": a.internetHops = try r.integer(v, key: k, range: 0...64)
            case "nat_decrements_ttl": a.natDecrementsTTL = try r.bool(v, key: k)
            case "igw_decrements_ttl": a.igwDecrementsTTL = try r.bool(v, key: k)
            case "nat_idle_timeout_s": a.natIdleTimeout = Int64(try r.integer(v, key: k, range: 1...86_400)) * 1_000_000_000
            case "nat_connections_per_destination":
                a.natConnectionsPerDestination = try r.integer(v, key: k, range: 1...64_512)
            case "server_synack_retries": a.serverSynAckRetries = try r.integer(v, key: k, range: 0...255)
            case "lambda_ephemeral_ports":
                let s = try r.string(v, key: k)
                guard let p = ScenarioValues.portRange(s), p.from >= 1 else {
                    throw r.error(at: v, "invalid lambda_ephemeral_ports '\(s)' (expected 'low-high' within 1-65535)")
                }
                a.lambdaEphemeralPorts = p.from...p.to
            case "flow_log_record_per_connection": a.flowLogRecordPerConnection = try r.bool(v, key: k)
            case "lambda_subnet_spread":
                a.lambdaSubnetSpread = try r.oneOf(v, key: k, Assumptions.LambdaSubnetSpread.allCases.map { ($0.rawValue, $0) })
            case "outside_host_bandwidth_mbps":
                a.outsideHostBandwidth = Int64(try r.integer(v, key: k, range: 1...1_000_000)) * 1_000_000
            case "lambda_bandwidth_mbps": a.lambdaBandwidth = Int64(try r.integer(v, key: k, range: 1...1_000_000)) * 1_000_000
            case "instance_bandwidth_mbps":
                a.instanceBandwidth = Int64(try r.integer(v, key: k, range: 1...1_000_000)) * 1_000_000
            case "nat_gateway_bandwidth_mbps":
                a.natGatewayBandwidth = Int64(try r.integer(v, key: k, range: 1...1_000_000)) * 1_000_000
            case "inter_region_peering_latency_ms":
                a.interRegionPeeringLatency = Int64(try r.integer(v, key: k, range: 0...2_000)) * 1_000_000
            case "http_close": a.httpClose = try r.oneOf(v, key: k, HTTPCloseOrder.allCases.map { ($0.rawValue, $0) })
            case "tgw_cross_az": a.tgwCrossAZ = try r.oneOf(v, key: k, Assumptions.TGWCrossAZ.allCases.map { ($0.rawValue, $0) })
            case "tgw_processing_us": a.tgwProcessing = Int64(try r.integer(v, key: k, range: 0...10_000_000)) * 1000
            case "sg_tcp_established_timeout_s":
                a.sgTCPEstablishedTimeout = Int64(try r.integer(v, key: k, range: ConnectionTracking.tcpEstablishedRange)) * 1_000_000_000
            case "sg_tcp_established_timeout_nitro_v6_s":
                a.sgTCPEstablishedTimeoutNitroV6 = Int64(try r.integer(v, key: k, range: ConnectionTracking.tcpEstablishedRange)) * 1_000_000_000
            case "sg_udp_timeout_s":
                a.sgUDPTimeout = Int64(try r.integer(v, key: k, range: ConnectionTracking.udpRange)) * 1_000_000_000
            case "sg_udp_stream_timeout_s":
                a.sgUDPStreamTimeout = Int64(try r.integer(v, key: k, range: ConnectionTracking.udpStreamRange)) * 1_000_000_000
            case "sg_other_timeout_s": a.sgOtherTimeout = Int64(try r.integer(v, key: k, range: 1...432_000)) * 1_000_000_000
            case "instance_mtu": a.instanceMTU = try r.integer(v, key: k, range: 576...9001)
            case "lambda_mtu": a.lambdaMTU = try r.integer(v, key: k, range: 576...9001)
            case "outside_host_mtu": a.outsideHostMTU = try r.integer(v, key: k, range: 576...9001)
            case "igw_mtu": a.igwMTU = try r.integer(v, key: k, range: 576...9001)
            case "sg_untracked_flows": a.sgUntrackedFlows = try r.bool(v, key: k)
            case "sg_admits_related_icmp": a.sgAdmitsRelatedICMP = try r.bool(v, key: k)
            case "pmtu_expires_s": a.pmtuExpires = Int64(try r.integer(v, key: k, range: 1...86_400)) * 1_000_000_000
            case "tcp_mtu_probing":
                tcpMTUProbingNode = v
                a.tcpMTUProbing = try r.integer(v, key: k, range: 0...2)
                guard a.tcpMTUProbing < 2 else {
                    throw r.error(at: v, "tcp_mtu_probing 2 (always probe) is not modeled (0, Linux's default, and 1, "
                                  + "black-hole detection, are)")
                }
            case "appliance_egress_interface":
                a.applianceEgress = try r.oneOf(v, key: k, Assumptions.ApplianceEgress.allCases.map { ($0.rawValue, $0) })
            case "tgw_sends_frag_needed": a.tgwSendsFragNeeded = try r.bool(v, key: k)
            case "vpn_tunnel_mtu": a.vpnTunnelMTU = try r.integer(v, key: k, range: 576...1500)
            case "fragment_reassembly_timeout_s":
                a.fragmentReassemblyTimeout = Int64(try r.integer(v, key: k, range: 1...3600)) * 1_000_000_000
            case "ipv6_address_allocation":
                a.ipv6AddressAllocation = try r.oneOf(v, key: k, Assumptions.IPv6AddressAllocation.allCases.map { ($0.rawValue, $0) })
            case "eigw_admits_related_icmpv6": a.eigwAdmitsRelatedICMPv6 = try r.bool(v, key: k)
            case "eigw_idle_timeout_s":
                a.eigwIdleTimeout = Int64(try r.integer(v, key: k, range: 1...86_400)) * 1_000_000_000
            case "sg_default_egress_ipv6": a.sgDefaultEgressIPv6 = try r.bool(v, key: k)
            case "nat64_translates_icmp_errors": a.nat64TranslatesICMPErrors = try r.bool(v, key: k)
            case "nat64_dont_fragment":
                a.nat64DontFragment = try r.oneOf(v, key: k, Assumptions.NAT64DontFragment.allCases.map { ($0.rawValue, $0) })
            case "ipv6_inbound_entry":
                a.ipv6InboundEntry = try r.oneOf(v, key: k, Assumptions.IPv6InboundEntry.allCases.map { ($0.rawValue, $0) })
            default:
                throw r.error(at: e.keyNode, "unknown key '\(k)' in assumptions")
            }
            a.overridden.insert(k)
        }
        assumptions = a
    }

    /// `invented:` — what an importer made up: `{of: what, value: v, how: text}` each.
    func readInvented(_ items: [Node]) throws -> [InventedValue] {
        try items.map { n in
            let f = try r.fields(n, what: "invented value", key: "invented", allowed: ["of", "value", "how"])
            return InventedValue(what: try f.requireWord("of"), value: try f.requireWord("value"),
                                 how: try f.string("how") ?? "")
        }
    }
}
