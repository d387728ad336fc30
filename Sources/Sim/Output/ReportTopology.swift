import Packets

/// What report.json carries for drawing a run (report.html): the scenario's topology, its capture points, where
/// each hop of a path happened, each flow's ladder and, per capture point, the addresses its packets had there.
extension RunReport {
    public struct Topology: Codable, Sendable {
        public struct VPC: Codable, Sendable {
            public var id: String
            public var name: String?
            public var cidrs: [String]
            public var internet_gateway: String?
        }
        public struct Subnet: Codable, Sendable {
            public var id: String
            public var name: String?
            public var vpc: String
            public var availability_zone: String
            public var cidr: String
            /// Whether its route table has a route to an internet gateway.
            public var `public`: Bool
            public var route_table: String
            public var route_table_name: String?
            public var network_acl: String
            public var network_acl_name: String?
        }
        public struct Gateway: Codable, Sendable {
            public var id: String
            public var name: String?
            /// `nat-gateway`, `internet-gateway`, or what a route target the model does not have is ("VPC peering",
            /// "transit gateway", …).
            public var kind: String
            public var vpc: String?
            /// A NAT gateway's subnet, private and public address.
            public var subnet: String?
            public var private_ip: String?
            public var public_ip: String?
        }
        public struct ENI: Codable, Sendable {
            public var id: String
            public var subnet: String
            public var private_ip: String
            public var public_ip: String?
            /// `lambda`, `instance` or `nat-gateway`.
            public var kind: String
            /// The functions' names, the instance's or the NAT gateway's display name.
            public var owner: String
            public var security_groups: [String]
        }
        public struct Named: Codable, Sendable {
            public var id: String
            public var name: String?
        }
        public struct Host: Codable, Sendable {
            public var name: String
            public var address: String
        }
        public struct CapturePoint: Codable, Sendable {
            public var name: String
            /// `eni`, `nat-gateway`, `internet-gateway` or `outside-host`.
            public var component: String
            public var component_id: String
            public var description: String
        }
        public var vpcs: [VPC]
        /// In the model's order; a drawing groups them per VPC and availability zone.
        public var subnets: [Subnet]
        public var gateways: [Gateway]
        public var enis: [ENI]
        public var security_groups: [Named]
        public var lambdas: [Named]
        public var outside_hosts: [Host]
        /// Every capture point of the scenario, written or not; a ladder's `points` index this list.
        public var capture_points: [CapturePoint]
    }

    /// One row of a flow's ladder: a packet, or a band of bulk data packets collapsed into one (`count` > 1).
    public struct LadderEntry: Codable, Sendable {
        /// Seconds since the flow started; a band's last packet at `t_end_s`.
        public var t_s: Double
        public var t_end_s: Double?
        public var from_client: Bool
        /// Indexes into `topology.capture_points`, in the order the packet crossed them.
        public var points: [Int]
        public var summary: String
        /// The packets a band holds (absent for one packet) and their payload bytes.
        public var count: Int?
        public var bytes: Int?
        /// Where the packet died and by which rule, as report.txt writes it.
        public var dropped_at: String?
        public var dropped_rule: String?
    }

    /// A flow as one capture point saw it: its addresses there (two conversations at a NAT gateway's point, before
    /// and after translation) and a Wireshark/tshark display filter for exactly those (`tcp.stream eq N` differs
    /// from file to file).
    public struct PointView: Codable, Sendable {
        public struct Conversation: Codable, Sendable {
            public var client: String
            public var server: String
        }
        public var point: Int
        public var capture: String
        public var conversations: [Conversation]
        public var filter: String
    }

    static func topology(_ m: VPCModel, points: [Sim.CapturePoint]) -> Topology {
        func ip(_ a: IPv4Address?) -> String? { a.map { "\($0)" } }
        var gateways: [Topology.Gateway] = []
        for g in m.internetGateways {
            gateways.append(.init(id: g.id, name: g.name, kind: "internet-gateway", vpc: g.vpc.map { m.vpcs[$0].id }))
        }
        for n in m.natGateways {
            let e = m.enis[n.eni]
            gateways.append(.init(id: n.id, name: n.name, kind: "nat-gateway", vpc: m.vpcs[m.subnets[n.subnet].vpc].id,
                                  subnet: m.subnets[n.subnet].id, private_ip: ip(e.privateIP), public_ip: ip(e.publicIP)))
        }
        // The modeled components between VPCs: peering connections, transit gateways (one box per attachment's
        // VPC), gateway endpoints.
        for c in m.peeringConnections {
            gateways.append(.init(id: c.id, name: c.name, kind: "peering-connection", vpc: m.vpcs[c.requesterVPC].id))
        }
        for a in m.tgwAttachments where a.vpc >= 0 {
            let g = m.transitGateways[a.transitGateway]
            gateways.append(.init(id: a.id, name: a.name ?? g.name, kind: "transit-gateway-attachment",
                                  vpc: m.vpcs[a.vpc].id))
        }
        for e in m.vpcEndpoints {
            gateways.append(.init(id: e.id, name: e.name, kind: "vpc-endpoint", vpc: m.vpcs[e.vpc].id))
        }
        for g in m.vpnGateways {
            if let vpc = g.vpc { gateways.append(.init(id: g.id, name: g.name, kind: "vpn-gateway", vpc: m.vpcs[vpc].id)) }
        }
        // Route targets the model does not have, once each, in the order the route tables name them.
        var others: [String] = []
        for t in m.routeTables {
            for r in t.routes {
                var id: String?
                switch r.target {
                case .peering(let p): id = p
                case .notModeled(let n): id = n
                default: break
                }
                if let id, !others.contains(id) {
                    others.append(id)
                    gateways.append(.init(id: id, kind: NotModeledTarget.kind(of: id) ?? "outside the model",
                                          vpc: m.vpcs[t.vpc].id))
                }
            }
        }
        let subnets: [Topology.Subnet] = m.subnets.indices.map { i in
            let s = m.subnets[i]
            let rt = m.routeTables[m.routeTable(of: i)]
            let acl = m.networkACLs[m.networkACL(of: i)]
            let isPublic = rt.routes.contains { if case .internetGateway = $0.target { return true } else { return false } }
            return .init(id: s.id, name: s.name, vpc: m.vpcs[s.vpc].id, availability_zone: s.availabilityZone,
                         cidr: s.hasIPv4 ? "\(s.cidr)" : (s.ipv6Cidr?.description ?? "") + " (IPv6-only)", public: isPublic,
                         route_table: rt.id, route_table_name: rt.name,
                         network_acl: acl.id, network_acl_name: acl.name)
        }
        let enis: [Topology.ENI] = m.enis.map { e in
            let kind: String
            let owner: String
            switch e.owner {
            case .lambda(let fs): kind = "lambda"; owner = fs.map { m.lambdas[$0].name ?? "lambda" }.joined(separator: "+")
            case .instance(let k): kind = "instance"; owner = m.instances[k].display
            case .natGateway(let n): kind = "nat-gateway"; owner = m.natGateways[n].display
            case .vpcEndpoint(let v): kind = "vpc-endpoint"; owner = m.vpcEndpoints[v].display
            }
            // An ENI in an IPv6-only subnet: its IPv6 address.
            let address = m.subnets[e.subnet].hasIPv4 ? "\(e.privateIP)" : e.ipv6Address?.description ?? ""
            return .init(id: e.id, subnet: m.subnets[e.subnet].id, private_ip: address, public_ip: ip(e.publicIP),
                         kind: kind, owner: owner, security_groups: e.securityGroups.map { m.securityGroups[$0].id })
        }
        return Topology(
            vpcs: m.vpcs.map { v in
                .init(id: v.id, name: v.name, cidrs: v.cidrBlocks.map { "\($0)" },
                      internet_gateway: v.internetGateway.map { m.internetGateways[$0].id })
            },
            subnets: subnets, gateways: gateways, enis: enis,
            security_groups: m.securityGroups.map { .init(id: $0.id, name: $0.name) },
            lambdas: m.lambdas.map { .init(id: $0.id, name: $0.name) },
            outside_hosts: m.outsideHosts.map { .init(name: $0.id, address: "\($0.address)") },
            capture_points: points.map { p in
                let c: String
                switch p.component {
                case .eni: c = "eni"
                case .natGateway: c = "nat-gateway"
                case .internetGateway: c = "internet-gateway"
                case .outsideHost: c = "outside-host"
                case .tgwAttachment: c = "transit-gateway-attachment"
                case .vpnConnection: c = "vpn-connection"
                case .vpnConnectionESP: c = "vpn-connection-esp"
                case .peeringConnection: c = "peering-connection"
                }
                return .init(name: p.name, component: c, component_id: p.componentID, description: p.description)
            })
    }

    /// Where in the topology something is: an ENI's, a NAT or internet gateway's id, an outside host's name, or
    /// "internet"; with the subnet it is in, if any.
    struct Place {
        var box: String
        var subnet: Int?
    }

    /// The place a flow's client or server is: its ENI, or the outside host (or the internet for an address no
    /// host of the scenario has).
    static func place(source: FlowSource, _ m: VPCModel) -> Place {
        switch source {
        case .lambda(_, let eni): return Place(box: m.enis[eni].id, subnet: m.enis[eni].subnet)
        case .instance(let k): let e = m.instances[k].eni; return Place(box: m.enis[e].id, subnet: m.enis[e].subnet)
        case .outsideHost(let h): return Place(box: m.outsideHosts[h].id)
        }
    }

    static func place(destination a: IPv4Address, _ m: VPCModel) -> Place {
        if let e = m.enis.firstIndex(where: { $0.privateIP == a || $0.publicIP == a }) {
            return Place(box: m.enis[e].id, subnet: m.enis[e].subnet)
        }
        if let h = m.outsideHosts.firstIndex(where: { $0.address == a }) { return Place(box: m.outsideHosts[h].id) }
        return Place(box: "internet")
    }

    /// Sets each hop's `at`: the box of the topology it happened at. A security group's hop is at the ENI that
    /// sent or receives; a route table's and an outbound NACL's at the subnet the packet is leaving; an inbound
    /// NACL's at the subnet it enters (the NAT gateway's or the receiver's that comes next).
    static func locate(_ hops: inout [Hop], sender: Place, receiver: Place, _ m: VPCModel) {
        var subnet = sender.subnet
        func subnetID(_ s: Int?) -> String? { s.map { m.subnets[$0].id } }
        /// The ENI of the appliance (an instance id) a hop names, if any.
        func applianceENI(_ k: Int) -> Int? {
            guard k >= 0, k < hops.count, hops[k].step == "appliance",
                  let i = m.instances.first(where: { $0.id == hops[k].component }) else { return nil }
            return i.eni
        }
        for k in hops.indices {
            let h = hops[k]
            switch h.step {
            case "security-group-egress":
                // Leaving the sender, or an appliance that forwards the packet on.
                if let e = applianceENI(k - 1) {
                    hops[k].at = m.enis[e].id
                    subnet = m.enis[e].subnet
                } else {
                    hops[k].at = sender.box
                }
            case "security-group-ingress": hops[k].at = applianceENI(k + 1).map { m.enis[$0].id } ?? receiver.box
            case "appliance":
                if let e = applianceENI(k) {
                    hops[k].at = m.enis[e].id
                    subnet = m.enis[e].subnet
                }
            case "transit-gateway":
                // "leaves through subnet-… (name) in us-east-1a …": the packet is in that subnet next.
                hops[k].at = h.component
                if let r = h.rule.range(of: "leaves through ") {
                    let id = h.rule[r.upperBound...].prefix { $0 != " " }
                    subnet = m.subnets.firstIndex { $0.id == id } ?? subnet
                }
            case "tgw-route": hops[k].at = k > 0 ? hops[k - 1].at : h.component
            case "peering", "vpc-endpoint", "vpn-gateway": hops[k].at = h.component
            case "internet": hops[k].at = "internet"
            case "route", "nacl-outbound": hops[k].at = subnetID(subnet) ?? h.component
            case "nacl-inbound":
                var next = receiver.subnet
                for later in hops[(k + 1)...] where later.step == "nat-gateway" {
                    next = m.natGateways.first { $0.id == later.component }.map(\.subnet)
                    break
                }
                subnet = next
                hops[k].at = subnetID(next) ?? h.component
            case "nat-gateway":
                hops[k].at = h.component
                subnet = m.natGateways.first { $0.id == h.component }.map(\.subnet) ?? subnet
            case "internet-gateway":
                hops[k].at = h.component
                subnet = nil
            case "delivered": hops[k].at = h.component
            default: hops[k].at = "internet"
            }
        }
    }

    /// A flow's ladder for report.json: runs of six or more bulk packets (data, or bare ACKs among data) in a
    /// row become one band with their count and bytes.
    static func ladderEntries(_ rows: [LadderRow]) -> [LadderEntry] {
        func bytes(_ s: String) -> Int? {
            guard let r = s.range(of: "len=") else { return nil }
            return Int(s[r.upperBound...].prefix { $0.isNumber })
        }
        func bulk(_ r: LadderRow) -> Bool { r.dropped == nil && (bytes(r.summary) != nil || r.summary == "[ACK]") }
        var out: [LadderEntry] = []
        var i = 0
        while i < rows.count {
            var j = i
            while j < rows.count, bulk(rows[j]) { j += 1 }
            let data = rows[i..<j].filter { bytes($0.summary) != nil }
            if j - i >= 6, data.count >= 3 {
                var points: [Int] = []
                for r in rows[i..<j] { for p in r.points where !points.contains(p) { points.append(p) } }
                let total = data.compactMap { bytes($0.summary) }.reduce(0, +)
                let fromClient = data.filter(\.fromClient).count * 2 >= data.count
                out.append(LadderEntry(t_s: seconds(rows[i].time), t_end_s: seconds(rows[j - 1].time),
                                       from_client: fromClient, points: points,
                                       summary: "bulk data: \(j - i) packets, \(data.count) with data", count: j - i,
                                       bytes: total))
                i = j
                continue
            }
            let r = rows[i]
            out.append(LadderEntry(t_s: seconds(r.time), from_client: r.fromClient, points: r.points, summary: r.summary,
                                   dropped_at: r.dropped.map { "\($0.componentDisplay) \(ReportRenderer.label($0.kind.rawValue))" },
                                   dropped_rule: r.dropped?.rule))
            i += 1
        }
        return out
    }

    /// Per capture point that saw the flow, its addresses there and a display filter for them.
    static func pointViews(_ seen: [(point: Int, key: PacketKey)], points: [Sim.CapturePoint]) -> [PointView] {
        var order: [Int] = []
        for s in seen where !order.contains(s.point) { order.append(s.point) }
        return order.map { p in
            let keys = seen.filter { $0.point == p }.map(\.key)
            var conversations: [PointView.Conversation] = []
            var filters: [String] = []
            for k in keys {
                let proto = k.proto == .tcp ? "tcp" : k.proto == .udp ? "udp" : k.proto == .icmp ? "icmp" : "ip"
                let ports = proto == "tcp" || proto == "udp"
                switch proto {
                case "tcp", "udp":
                    filters.append("ip.addr==\(k.source) && \(proto).port==\(k.sourcePort) && ip.addr==\(k.destination) && "
                        + "\(proto).port==\(k.destinationPort)")
                case "icmp": filters.append("ip.addr==\(k.source) && ip.addr==\(k.destination) && icmp")
                default: filters.append("ip.addr==\(k.source) && ip.addr==\(k.destination)")
                }
                conversations.append(.init(client: ports ? "\(k.source):\(k.sourcePort)" : "\(k.source)",
                                           server: ports ? "\(k.destination):\(k.destinationPort)" : "\(k.destination)"))
            }
            return PointView(point: p, capture: points[p].name, conversations: conversations,
                             filter: filters.count == 1 ? filters[0] : filters.map { "(\($0))" }.joined(separator: " || "))
        }
    }
}

extension RunReport {
    /// Fills `topology`, each hop's `at`, and each explicit flow's `ladder` and `seen_at`.
    mutating func addDrawing(scenario: Scenario, points: [Sim.CapturePoint], ladders: [[LadderRow]],
                             pointKeys: [[(point: Int, key: PacketKey)]]) {
        let m = scenario.model
        topology = Self.topology(m, points: points)
        for (i, f) in scenario.flows.enumerated() where i < flows.count {
            var client = Self.place(source: f.source, m)
            if let e = f.sourceInterface {
                client = Place(box: m.enis[e].id, subnet: m.enis[e].subnet)  // an instance's other interface it was sent from
            }
            if let id = flows[i].source_eni, let e = m.enis.firstIndex(where: { $0.id == id }) {
                client = Place(box: id, subnet: m.enis[e].subnet)  // the Hyperplane ENI the invocation drew
            }
            let server = Self.place(destination: f.destination.address, m)
            Self.locate(&flows[i].hops, sender: client, receiver: server, m)
            Self.locate(&flows[i].reply_hops, sender: server, receiver: client, m)
            if i < ladders.count { flows[i].ladder = Self.ladderEntries(ladders[i]) }
            if i < pointKeys.count { flows[i].seen_at = Self.pointViews(pointKeys[i], points: points) }
        }
    }
}
