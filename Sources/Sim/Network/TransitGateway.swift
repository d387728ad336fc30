import Packets

/// The transit gateways: regional routers between VPC attachments (TGW-UG what-is-transit-gateway).
///
/// A packet a VPC route table sends to a transit gateway leaves its subnet (that subnet's NACL outbound) and
/// enters the gateway through the source VPC's attachment ENI in the source's Availability Zone; the attachment
/// has an ENI in each of its subnets, one per AZ, and no subnet in the source's AZ means the packet cannot
/// enter (TGW-UG transit-gateway-vpc-attachments: "When you attach a VPC … resources in Availability Zones
/// without a subnet for the attachment cannot reach the transit gateway"). The ENIs sit in their subnets, so
/// those subnets' NACLs apply and security groups do not (TGW-UG tgw-nacls: the attachment subnet's inbound
/// rules see packets from the instances to the gateway, its outbound rules packets from the gateway to the
/// instances; within one subnet, packets from the gateway cross no NACL).
///
/// At the gateway, the route table associated with the arrival attachment decides (TGW-UG tgw-route-tables):
/// longest prefix over its static routes and the CIDR blocks its propagating attachments' VPCs bring; for the
/// same prefix a static route wins over a propagated one; a blackhole route drops; no association or no
/// matching route drops. The packet leaves through the destination attachment's ENI in the same AZ when it
/// has one (AZ affinity), else in another (`Assumptions.tgwCrossAZ`); with appliance mode on, through one AZ
/// per flow, chosen by a flow hash that is the same both ways (TGW-UG transit-gateway-appliance-scenario:
/// "uses a flow hash algorithm to select a single network interface … for the life of the flow"). From that
/// ENI the VPC's route table of the attachment subnet routes it on, as it does any packet leaving that subnet;
/// sent straight back into a transit gateway from there, it loses a TTL each time, so that a loop ends.
///
/// The dispatcher (`VPCNetwork.tgwEnter`, `tgwReceive`) asks `ingress` for the ENI a packet enters by, `route`
/// for the gateway's decision and `egress` for the ENI it leaves by, and records the steps made here.
final class TransitGateway {
    /// TGW-UG transit-gateway-quotas: "maximum transmission unit (MTU) … 8500 bytes" for VPC attachments;
    /// larger packets are dropped. Recorded; not enforced yet.
    static let mtu = 8500

    /// An attachment's ENI in one of its subnets: the nodes of the path (`PathNode.transitGateway`).
    struct AttachmentENI {
        var attachment: Int32
        var subnet: Int32
        var zone: Int32
    }

    /// One compiled route of a TGW route table, in match order.
    struct Route: Equatable {
        var cidr: IPv4CIDR
        /// The attachment it leads to; -1: blackhole.
        var attachment: Int32
        var propagated: Bool
        /// An IPv6 route's destination (`cidr` is then unused).
        var cidr6: IPv6CIDR? = nil
    }

    /// Every attachment's ENIs; attachment a's are `enis[eniStart[a]..<eniStart[a + 1]]`, in its listed order.
    let enis: [AttachmentENI]
    let eniStart: [Int32]
    /// Each attachment's associated route table, -1 for none; whether appliance mode is on.
    let association: [Int32]
    let applianceMode: [Bool]
    /// The attachment of each (transit gateway, VPC), by `tgw * vpcCount + vpc`; -1 for none.
    private let attachmentOf: [Int32]
    private let vpcCount: Int
    /// Each subnet's AZ as a number (the same number for the same zone name).
    let subnetZone: [Int32]
    /// Table t's routes are `routes[routeStart[t]..<routeStart[t + 1]]`.
    private let routes: [Route]
    private let routeStart: [Int32]
    /// The lookup index (`route(_:_:)`): table t's prefix lengths, longest first, are
    /// `levels[levelStart[t]..<levelStart[t + 1]]`; a level's networks, sorted, are
    /// `networks[level.start..<level.end]`, each with the route it takes (`networkRoute`, into `routes`).
    private struct Level { var mask: UInt32; var start: Int32; var end: Int32 }
    private let levels: [Level]
    private let levelStart: [Int32]
    private let networks: [UInt32]
    private let networkRoute: [Int32]
    /// Table t's IPv6 routes in match order (`compile6`): few, scanned.
    private let routes6: [[Route]]
    private let model: VPCModel
    private let crossAZ: Assumptions.TGWCrossAZ

    init(_ model: VPCModel, assumptions: Assumptions) {
        self.model = model
        crossAZ = assumptions.tgwCrossAZ
        var zones: [String: Int32] = [:]
        subnetZone = model.subnets.map { s in
            if let z = zones[s.availabilityZone] { return z }
            let z = Int32(zones.count)
            zones[s.availabilityZone] = z
            return z
        }
        var enis: [AttachmentENI] = []
        var start: [Int32] = []
        for (a, att) in model.tgwAttachments.enumerated() {
            start.append(Int32(enis.count))
            for s in att.subnets { enis.append(AttachmentENI(attachment: Int32(a), subnet: Int32(s), zone: subnetZone[s])) }
        }
        start.append(Int32(enis.count))
        self.enis = enis
        eniStart = start
        association = model.tgwAttachments.map { Int32($0.routeTable ?? -1) }
        applianceMode = model.tgwAttachments.map(\.applianceMode)
        vpcCount = model.vpcs.count
        var of = [Int32](repeating: -1, count: model.transitGateways.count * model.vpcs.count)
        for (a, att) in model.tgwAttachments.enumerated() where att.vpc >= 0 {
            of[att.transitGateway * model.vpcs.count + att.vpc] = Int32(a)
        }
        attachmentOf = of
        var routes: [Route] = []
        var routeStart: [Int32] = []
        for t in model.tgwRouteTables {
            routeStart.append(Int32(routes.count))
            routes += Self.compile(t, model)
        }
        routeStart.append(Int32(routes.count))
        self.routes = routes
        self.routeStart = routeStart
        (levels, levelStart, networks, networkRoute) = Self.index(routes, routeStart)
        routes6 = model.tgwRouteTables.map { Self.compile6($0, model) }
    }

    /// A table's IPv6 routes in match order, as `compile` orders IPv4 ones: its static IPv6 routes and, from each
    /// propagating VPC attachment with IPv6 support, its VPC's IPv6 blocks (EC2 API
    /// CreateTransitGatewayVpcAttachmentRequestOptions Ipv6Support: "When you enable route propagation, IPv6 VPC
    /// CIDRs propagate to the transit gateway route tables. When disabled … IPv6 routes do not propagate"); from a
    /// propagating VPN attachment whose connection's tunnels carry IPv6, its IPv6 static routes or BGP prefixes.
    static func compile6(_ t: TGWRouteTableSpec, _ model: VPCModel) -> [Route] {
        var all: [Route] = t.ipv6Routes.map { r in
            switch r.target {
            case .attachment(let a): Route(cidr: .anyIPv4, attachment: Int32(a), propagated: false, cidr6: r.destination)
            case .blackhole: Route(cidr: .anyIPv4, attachment: -1, propagated: false, cidr6: r.destination)
            }
        }
        for a in t.propagations {
            let att = model.tgwAttachments[a]
            let blocks = att.vpnConnection.map { model.vpnConnections[$0].prefixes6 }
                ?? (att.ipv6Support ? model.vpcs[att.vpc].ipv6CidrBlocks : [])
            for c in blocks {
                all.append(Route(cidr: .anyIPv4, attachment: Int32(a), propagated: true, cidr6: c))
            }
        }
        return all.enumerated().sorted { x, y in
            let lx = x.element.cidr6!.prefixLength, ly = y.element.cidr6!.prefixLength
            if lx != ly { return lx > ly }
            if x.element.propagated != y.element.propagated { return !x.element.propagated }
            return x.offset < y.offset
        }.map(\.element)
    }

    /// The IPv6 route an IPv6 destination (an `IPv6Token`) takes in table `t`: the first in match order that
    /// holds it. An IPv6 packet meets no IPv4 route.
    @inline(never)
    func route6(_ t: Int, _ destination: IPv4Address) -> Route? {
        guard let a = destination.ipv6 else { return nil }
        return routes6[t].first { $0.cidr6!.contains(a) }
    }

    /// Per table and prefix length, its routes' networks sorted, each with the first route in match order that
    /// has it: the route a linear scan in match order finds first, found by one binary search per prefix length
    /// (a table of 10,000 routes has a handful of lengths).
    private static func index(_ routes: [Route], _ routeStart: [Int32])
        -> (levels: [Level], levelStart: [Int32], networks: [UInt32], networkRoute: [Int32]) {
        var levels: [Level] = [], levelStart: [Int32] = [], networks: [UInt32] = [], networkRoute: [Int32] = []
        for t in 0..<max(0, routeStart.count - 1) {
            levelStart.append(Int32(levels.count))
            var i = Int(routeStart[t])
            let end = Int(routeStart[t + 1])
            while i < end {
                let length = routes[i].cidr.prefixLength
                var j = i
                while j < end, routes[j].cidr.prefixLength == length { j += 1 }
                // Stable by network: among routes of the same network the first in match order comes first.
                let sorted = (i..<j).sorted { a, b in
                    let x = routes[a].cidr.network.rawValue, y = routes[b].cidr.network.rawValue
                    return x != y ? x < y : a < b
                }
                let start = networks.count
                for r in sorted where networks.count == start || networks.last != routes[r].cidr.network.rawValue {
                    networks.append(routes[r].cidr.network.rawValue)
                    networkRoute.append(Int32(r))
                }
                let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
                levels.append(Level(mask: mask, start: Int32(start), end: Int32(networks.count)))
                i = j
            }
        }
        levelStart.append(Int32(levels.count))
        return (levels, levelStart, networks, networkRoute)
    }

    /// A table's routes in match order: longest prefix first; for the same prefix static before propagated
    /// (TGW-UG tgw-route-tables, "route evaluation order"); then listed order (static), propagation order.
    static func compile(_ t: TGWRouteTableSpec, _ model: VPCModel) -> [Route] {
        var all: [Route] = t.routes.map { r in
            switch r.target {
            case .attachment(let a): Route(cidr: r.destination, attachment: Int32(a), propagated: false)
            case .blackhole: Route(cidr: r.destination, attachment: -1, propagated: false)
            }
        }
        for a in t.propagations {
            // A VPN attachment propagates its connection's static routes or BGP prefixes (TGW-UG
            // tgw-route-tables, "Route propagation"); a VPC attachment its VPC's CIDR blocks.
            let cidrs = model.tgwAttachments[a].vpnConnection.map { model.vpnConnections[$0].prefixes }
                ?? model.vpcs[model.tgwAttachments[a].vpc].cidrBlocks
            for c in cidrs {
                all.append(Route(cidr: c, attachment: Int32(a), propagated: true))
            }
        }
        return all.enumerated().sorted { x, y in
            if x.element.cidr.prefixLength != y.element.cidr.prefixLength {
                return x.element.cidr.prefixLength > y.element.cidr.prefixLength
            }
            if x.element.propagated != y.element.propagated { return !x.element.propagated }
            return x.offset < y.offset
        }.map(\.element)
    }

    /// The attachment of transit gateway `tgw` in `vpc`, nil when it has none.
    @inline(__always)
    func attachment(_ tgw: Int, vpc: Int) -> Int? {
        let a = attachmentOf[tgw * vpcCount + vpc]
        return a < 0 ? nil : Int(a)
    }

    /// The ENI of attachment `a` in AZ `zone`, nil when none of its subnets is there.
    @inline(__always)
    func eni(_ a: Int, zone: Int32) -> Int? {
        for e in Int(eniStart[a])..<Int(eniStart[a + 1]) where enis[e].zone == zone { return e }
        return nil
    }

    /// The route `destination` takes in TGW route table `t`, nil when none matches: the first of the table's
    /// routes in match order that contains it, found through the index (`index`).
    @inline(__always)
    func route(_ t: Int, _ destination: IPv4Address) -> Route? {
        if destination.isIPv6Token { return route6(t, destination) }
        return levels.withUnsafeBufferPointer { levels in
            networks.withUnsafeBufferPointer { networks in
                for l in Int(levelStart[t])..<Int(levelStart[t + 1]) {
                    let key = destination.rawValue & levels[l].mask
                    var lo = Int(levels[l].start), hi = Int(levels[l].end)
                    while lo < hi {
                        let mid = (lo &+ hi) >> 1
                        if networks[mid] < key { lo = mid + 1 } else { hi = mid }
                    }
                    if lo < Int(levels[l].end), networks[lo] == key { return routes[Int(networkRoute[lo])] }
                }
                return nil
            }
        }
    }

    /// `route(_:_:)` by a scan of the table in match order: what the index must agree with (tests).
    func routeByScan(_ t: Int, _ destination: IPv4Address) -> Route? {
        if destination.isIPv6Token { return route6(t, destination) }
        for i in Int(routeStart[t])..<Int(routeStart[t + 1]) where routes[i].cidr.contains(destination) {
            return routes[i]
        }
        return nil
    }

    /// How the leaving ENI was chosen, for the step.
    enum Choice { case sameAZ, otherAZ, applianceMode }

    /// The ENI a packet with `key` that entered in AZ `zone` leaves attachment `a` by.
    @inline(__always)
    func egress(_ a: Int, zone: Int32, _ key: PacketKey) -> (eni: Int, choice: Choice) {
        let first = Int(eniStart[a]), count = Int(eniStart[a + 1]) - first
        if applianceMode[a] { return (first + Int(Self.flowHash(key) % UInt64(count)), .applianceMode) }
        if let e = eni(a, zone: zone) { return (e, .sameAZ) }
        switch crossAZ {
        case .first: return (first, .otherAZ)
        case .flowHash: return (first + Int(Self.flowHash(key) % UInt64(count)), .otherAZ)
        }
    }

    /// A hash of a flow's addresses, ports and protocol that is the same for both directions (the two ends
    /// ordered): a reply takes the AZ its request took.
    @inline(__always)
    static func flowHash(_ key: PacketKey) -> UInt64 {
        let a = UInt64(key.source.rawValue) << 16 | UInt64(key.sourcePort)
        let b = UInt64(key.destination.rawValue) << 16 | UInt64(key.destinationPort)
        var h = min(a, b) &* 0x9E37_79B9_7F4A_7C15 ^ max(a, b) &* 0xC2B2_AE3D_27D4_EB4F ^ UInt64(key.proto.rawValue)
        h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 29)
    }

    // MARK: Steps

    /// "tgw-attach-0abc (spoke)".
    func attachmentDisplay(_ a: Int) -> String { model.tgwAttachments[a].display }

    /// "tgw-attach-0abc (vpc)", the console's way of naming a route's target.
    func target(_ r: Route) -> String {
        r.attachment < 0 ? "blackhole"
            : "\(model.tgwAttachments[Int(r.attachment)].id) (\(model.tgwAttachments[Int(r.attachment)].vpnConnection == nil ? "vpc" : "vpn"))"
    }

    /// A step of TGW route table `t`: "tgw-rtb-0abc (spokes) route: 10.2.0.0/16 → tgw-attach-0def (vpc)".
    func step(table t: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .transitGatewayRoute, component: model.tgwRouteTables[t].id,
             componentDisplay: model.tgwRouteTables[t].display, action: action, rule: rule, detail: detail)
    }

    /// A step of attachment `a`: "tgw-attach-0abc (spoke) TGW: entered through subnet-… (us-east-1a)".
    func step(attachment a: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .transitGateway, component: model.tgwAttachments[a].id,
             componentDisplay: model.tgwAttachments[a].display, action: action, rule: rule, detail: detail)
    }

    /// The route `r` of table `t` matched: forwarded, or dropped by a blackhole.
    func routed(_ t: Int, _ r: Route) -> Step {
        let rule = "\(r.cidr6?.description ?? r.cidr.description) → \(target(r))" + (r.propagated ? " (propagated)" : "")
        return step(table: t, action: r.attachment < 0 ? .dropped : .forwarded, rule: rule)
    }

    /// Attachment ENI `e`, "subnet-0abc (tgw-a) in us-east-1a".
    func describe(eni e: Int) -> String {
        let s = model.subnets[Int(enis[e].subnet)]
        return "\(s.display) in \(s.availabilityZone)"
    }

    /// The step of a packet leaving through ENI `e`, chosen by `choice`.
    func left(_ e: Int, _ choice: Choice, enteredIn zone: String) -> Step {
        let why: String = switch choice {
        case .sameAZ: "AZ affinity"
        case .otherAZ: "no subnet in \(zone); tgw_cross_az \(crossAZ.rawValue)"
        case .applianceMode: "appliance mode: one AZ per flow by flow hash"
        }
        return step(attachment: Int(enis[e].attachment), action: .forwarded, rule: "leaves through \(describe(eni: e))",
                    detail: why)
    }
}
