import Packets

/// A route table: where a packet leaving a subnet goes next, by longest prefix match on its destination
/// (VPC-UG VPC_Route_Tables). Stateless and the same for requests and replies: each direction is routed by the
/// table of the subnet it leaves. Every table of the model is compiled once into `CompiledRoutes`; the dispatcher
/// (`VPCNetwork`) asks `route(_:_:)` for each packet leaving a subnet and moves the packet to the component the
/// route leads to. A traced packet records the route's `step` ("rtb-… (private) route: 0.0.0.0/0 → nat-…").
final class RouteTable {
    let compiled: CompiledRoutes
    private let model: VPCModel

    init(_ model: VPCModel) {
        self.model = model
        compiled = CompiledRoutes(model)
    }

    /// The route `destination` takes in table `t`, nil when none matches (the packet is dropped: `noRoute`).
    @inline(__always)
    func route(_ t: Int, _ destination: IPv4Address) -> CompiledRoutes.Route? { compiled.route(t, destination) }

    /// The step table `t` records for a packet.
    func step(_ t: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .route, component: model.routeTables[t].id, componentDisplay: model.routeTables[t].display,
             action: action, rule: rule, detail: detail)
    }

    /// The route `r` of table `t` as the console lists it: "10.1.0.0/16 → pcx-0123…".
    func describe(_ t: Int, _ r: CompiledRoutes.Route) -> String {
        if r.isIPv6 {
            let route = model.routeTables[t].ipv6Routes[Int(r.index)]
            let destination = route.prefixList.map { "\($0) (\(route.destination))" } ?? route.destination.description
            return "\(destination) → \(route.target.id(model))"
        }
        // A propagated route (no index in the table's own routes): as the console's Propagated column says it.
        if r.index < 0 { return "\(r.cidr) → \(model.vpnGateways[Int(r.target)].id) (propagated)" }
        let route = model.routeTables[t].routes[Int(r.index)]
        let destination = route.prefixList.map { "\($0) (\(route.destination))" } ?? route.destination.description
        return "\(destination) → \(Self.describe(route.target, in: model))"
    }

    /// A packet forwarded by route `r`.
    func forwarded(_ t: Int, _ r: CompiledRoutes.Route) -> Step { step(t, action: .forwarded, rule: describe(t, r)) }

    /// No route matches `destination`: dropped.
    func noRoute(_ t: Int, _ destination: IPv4Address) -> Step {
        step(t, action: .dropped, rule: "no route matches \(destination)")
    }

    /// A route's target as its id ("nat-0123…", "local", "blackhole").
    static func describe(_ target: Route.Target, in model: VPCModel) -> String {
        switch target {
        case .local: return "local"
        case .internetGateway(let g): return model.internetGateways[g].id
        case .natGateway(let n): return model.natGateways[n].id
        case .networkInterface(let e): return model.enis[e].id
        case .peering(let p), .notModeled(let p): return p
        case .peeringConnection(let k): return model.peeringConnections[k].id
        case .transitGateway(let g): return model.transitGateways[g].id
        case .blackhole: return "blackhole"
        case .vpcEndpoint(let e): return model.vpcEndpoints[e].id
        case .vpnGateway(let g): return model.vpnGateways[g].id
        }
    }
}


public enum RouteLookup {
    /// Longest prefix match (VPC-UG VPC_Route_Tables). Among equal prefixes the first listed wins: the model
    /// holds static routes only, which AWS does not allow to duplicate.
    public static func match(_ table: RouteTableSpec, _ destination: IPv4Address) -> Route? {
        matchIndex(compile(table), destination).map { table.routes[$0] }
    }

    /// A table's routes as (prefix, index in the table), longest prefix first and listed order among equal
    /// prefixes: the first that contains an address is the match. The hop pipeline compiles each table once.
    public static func compile(_ table: RouteTableSpec) -> [(cidr: IPv4CIDR, index: Int)] {
        table.routes.enumerated().map { (cidr: $0.element.destination, index: $0.offset) }
            .sorted { a, b in
                a.cidr.prefixLength != b.cidr.prefixLength ? a.cidr.prefixLength > b.cidr.prefixLength : a.index < b.index
            }
    }

    /// The index of the matching route of a compiled table.
    @inline(__always)
    public static func matchIndex(_ compiled: [(cidr: IPv4CIDR, index: Int)], _ destination: IPv4Address) -> Int? {
        compiled.withUnsafeBufferPointer { routes in
            for r in routes where r.cidr.contains(destination) { return r.index }
            return nil
        }
    }
}

/// Every route table of a model in one flat array of plain data, each table's routes in match order (longest
/// prefix first, listed order among equal ones: `RouteLookup.compile`), with where each leads. The hop pipeline
/// routes packets with it and the flow-log recorder derives traffic-path from it, each from a copy of its own.
struct CompiledRoutes {
    struct Route {
        enum Kind: UInt8 {
            case local, natGateway, internetGateway, networkInterface, peering, notModeled, blackhole, peeringConnection
            case transitGateway, vpcEndpoint, vpnGateway, egressOnlyInternetGateway
        }
        /// The destination of an IPv4 route; 0.0.0.0/0 for an IPv6 one (`isIPv6`: its destination is in
        /// `RouteTableSpec.ipv6Routes[index]`).
        var cidr: IPv4CIDR
        /// The route's index in its table (`model.routeTables[t].routes`); -1 for a route propagated from a
        /// virtual private gateway (`target` names it).
        var index: Int32
        var kind: Kind
        /// The NAT gateway, internet gateway, ENI, (modeled) peering connection, transit gateway or VPC endpoint it
        /// leads to (or the egress-only internet gateway, for an IPv6 route); -1 for the other kinds.
        var target: Int32
        /// A route to an IPv6 destination (`RouteTableSpec.ipv6Routes`).
        var isIPv6 = false
    }

    /// An IPv6 route as the lookup of an IPv6 packet (its destination an `IPv6Token`) reads it.
    struct Route6 {
        var cidr: IPv6CIDR
        var route: Route
    }

    /// Table t's routes are `routes[start[t]..<start[t + 1]]`.
    let routes: [Route]
    let start: [Int32]
    /// Table t's IPv6 routes, longest prefix first: `routes6[start6[t]..<start6[t + 1]]`. IPv4 and IPv6 routes are
    /// matched apart, each family against its own packets (VPC-UG VPC_Route_Tables: IPv4 and IPv6 routes are
    /// separate): 0.0.0.0/0 never takes an IPv6 packet, nor ::/0 an IPv4 one.
    let routes6: [Route6]
    let start6: [Int32]

    /// A route target as the lookup reads it: its kind, and the component it leads to (-1 for none).
    static func compiled(_ target: Sim.Route.Target) -> (Route.Kind, Int) {
        switch target {
        case .local: (.local, -1)
        case .natGateway(let n): (.natGateway, n)
        case .internetGateway(let g): (.internetGateway, g)
        case .networkInterface(let e): (.networkInterface, e)
        case .peering: (.peering, -1)
        case .peeringConnection(let k): (.peeringConnection, k)
        case .notModeled: (.notModeled, -1)
        case .blackhole: (.blackhole, -1)
        case .transitGateway(let g): (.transitGateway, g)
        case .vpcEndpoint(let e): (.vpcEndpoint, e)
        case .vpnGateway(let g): (.vpnGateway, g)
        }
    }

    /// The tables' own routes and the routes propagated into them (`VPCModel.propagatedRoutes`): a propagated
    /// route of the same prefix as one of the table's own is left out, and the others take their place by prefix
    /// length after the table's own of the same length (VPC-UG route-tables-priority: "If the destination of a
    /// propagated route is identical to the destination of a static route, the static route takes priority").
    init(_ model: VPCModel) {
        var routes: [Route] = []
        var start: [Int32] = []
        for (ti, t) in model.routeTables.enumerated() {
            start.append(Int32(routes.count))
            var propagated = model.propagatedRoutes(ti).filter { p in !t.routes.contains { $0.destination == p.cidr } }
            for (cidr, index) in RouteLookup.compile(t) {
                while let p = propagated.first, p.cidr.prefixLength > cidr.prefixLength {
                    routes.append(Route(cidr: p.cidr, index: -1, kind: .vpnGateway, target: Int32(p.vpnGateway)))
                    propagated.removeFirst()
                }
                let (kind, target) = Self.compiled(t.routes[index].target)
                routes.append(Route(cidr: cidr, index: Int32(index), kind: kind, target: Int32(target)))
            }
            for p in propagated {
                routes.append(Route(cidr: p.cidr, index: -1, kind: .vpnGateway, target: Int32(p.vpnGateway)))
            }
        }
        start.append(Int32(routes.count))
        self.routes = routes
        self.start = start
        var routes6: [Route6] = []
        var start6: [Int32] = []
        for t in model.routeTables {
            start6.append(Int32(routes6.count))
            let order = t.ipv6Routes.indices.sorted { a, b in
                let (x, y) = (t.ipv6Routes[a].destination.prefixLength, t.ipv6Routes[b].destination.prefixLength)
                return x != y ? x > y : a < b
            }
            for i in order {
                let (kind, target): (Route.Kind, Int) = switch t.ipv6Routes[i].target {
                case .egressOnlyInternetGateway(let g): (.egressOnlyInternetGateway, g)
                case .common(let common): Self.compiled(common)
                }
                routes6.append(Route6(cidr: t.ipv6Routes[i].destination,
                                      route: Route(cidr: IPv4CIDR(containing: .any, prefixLength: 0), index: Int32(i),
                                                   kind: kind, target: Int32(target), isIPv6: true)))
            }
        }
        start6.append(Int32(routes6.count))
        self.routes6 = routes6
        self.start6 = start6
    }

    /// The route `destination` takes in table `t` (longest prefix match, VPC-UG VPC_Route_Tables).
    @inline(__always)
    func route(_ t: Int, _ destination: IPv4Address) -> Route? {
        if destination.isIPv6Token { return route6(t, destination) }
        return routes.withUnsafeBufferPointer { r in
            start.withUnsafeBufferPointer { start in
                for i in Int(start[t])..<Int(start[t + 1]) where r[i].cidr.contains(destination) { return r[i] }
                return nil
            }
        }
    }

    /// `route` for an IPv6 packet: the table's IPv6 routes, out of line (the IPv4 scan stays small).
    @inline(never)
    func route6(_ t: Int, _ token: IPv4Address) -> Route? {
        guard let destination = token.ipv6 else { return nil }
        for i in Int(start6[t])..<Int(start6[t + 1]) where routes6[i].cidr.contains(destination) { return routes6[i].route }
        return nil
    }
}
