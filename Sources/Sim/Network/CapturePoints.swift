import Packets

/// The nodes of the path where a packet is captured and processed.
enum PathNode {
    case eni(Int)
    case natGateway(Int, fromInside: Bool)
    case internetGateway(Int, toInternet: Bool)
    case outsideHost(Int)
    /// Arriving at a transit gateway through an attachment's ENI (`TransitGateway.enis`).
    case transitGateway(Int)
    /// A VPN connection's active tunnel (`VPCModel.vpnConnections`), toward the customer gateway or from it.
    case vpnTunnel(Int, toOnPrem: Bool)
    /// An egress-only internet gateway (`EgressOnlyInternetGateway`), toward the internet or from it.
    case egressOnlyInternetGateway(Int, toInternet: Bool)
}

/// Capture points, in path order: Lambda/instance ENIs, NAT gateways, internet gateways, outside hosts.
public struct CapturePoint: Sendable {
    public enum Component: Sendable, Equatable {
        case eni(Int)
        case natGateway(Int)
        case internetGateway(Int)
        case outsideHost(Int)
        /// A transit gateway attachment (`VPCModel.tgwAttachments`): packets entering and leaving the gateway
        /// through its ENIs.
        case tgwAttachment(Int)
        /// A Site-to-Site VPN connection's tunnel: the inner packets both ways.
        case vpnConnection(Int)
        /// The same tunnel's packets wrapped in ESP between its outside addresses (`esp_view: true`): the capture
        /// writer makes them from what the connection's point sees (`CapturePoint.esp`).
        case vpnConnectionESP(Int)
        /// A VPC peering connection (`VPCModel.peeringConnections`): the packets that cross it, both ways.
        case peeringConnection(Int)
    }
    public var name: String
    public var component: Component
    public var componentID: String
    public var description: String
    /// The names that select it (`--capture`): its own and its component's id.
    public var names: [String] { [name, componentID] }
    /// This point's own MAC and the MAC of the next hop it talks to (the VPC router, the internet).
    public var localMAC: MACAddress
    public var peerMAC: MACAddress
    /// For a `vpnConnectionESP` point: how its packets are made from the inner ones.
    public var esp: ESPTunnelView? = nil
}

/// Which capture point each component's packets are seen at (`CapturePoint` index), for the lookup of every
/// packet.
struct CapturePointIndex {
    var eni: [Int?] = []
    var nat: [Int] = []
    var igw: [Int] = []
    var host: [Int] = []
    /// By attachment ENI (`TransitGateway.enis`): its attachment's point.
    var tgwENI: [Int] = []
    var vpn: [Int] = []
    /// By peering connection: its point.
    var peering: [Int] = []

    init() {}

    init(_ points: [CapturePoint], model: VPCModel) {
        eni = Array(repeating: nil, count: model.enis.count)
        nat = Array(repeating: 0, count: model.natGateways.count)
        igw = Array(repeating: 0, count: model.internetGateways.count)
        host = Array(repeating: 0, count: model.outsideHosts.count)
        var attachment: [Int] = Array(repeating: 0, count: model.tgwAttachments.count)
        vpn = Array(repeating: 0, count: model.vpnConnections.count)
        for (k, p) in points.enumerated() {
            switch p.component {
            case .eni(let i): eni[i] = k
            case .natGateway(let i): nat[i] = k
            case .internetGateway(let i): igw[i] = k
            case .outsideHost(let i): host[i] = k
            case .tgwAttachment(let i): attachment[i] = k
            case .vpnConnection(let i): vpn[i] = k
            case .vpnConnectionESP: break
            case .peeringConnection(let i):
                if peering.isEmpty { peering = Array(repeating: 0, count: model.peeringConnections.count) }
                peering[i] = k
            }
        }
        tgwENI = model.tgwAttachments.indices.flatMap { a in model.tgwAttachments[a].subnets.map { _ in attachment[a] } }
    }

    @inline(__always)
    func point(_ node: PathNode) -> Int? {
        switch node {
        case .eni(let e): return eni[e]
        case .natGateway(let n, _): return nat[n]
        case .internetGateway(let g, _): return igw[g]
        case .outsideHost(let h): return host[h]
        case .transitGateway(let e): return tgwENI[e]
        case .vpnTunnel(let c, _): return vpn[c]
        case .egressOnlyInternetGateway: return nil  // no capture point of its own
        }
    }
}

extension VPCNetwork {
    static func routerMAC(_ model: VPCModel, subnet: Int) -> MACAddress {
        MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("router|" + model.subnets[subnet].id) & 0xFF_FFFF_FFFF))
    }

    /// The points of `model` where packets are captured, in file order (a function of the model alone, so that
    /// `--capture` names are checked before a simulation is built).
    public static func capturePoints(of model: VPCModel) -> [CapturePoint] {
        var points: [CapturePoint] = []
        func add(_ name: String, _ c: CapturePoint.Component, _ id: String, _ desc: String, _ local: MACAddress,
                 _ peer: MACAddress) {
            let n = String(format2(points.count + 1)) + "-" + name
            points.append(CapturePoint(name: n, component: c, componentID: id, description: desc, localMAC: local,
                                       peerMAC: peer))
        }
        for (i, e) in model.enis.enumerated() {
            switch e.owner {
            case .lambda(let fs):
                let names = fs.map { model.lambdas[$0].name ?? "lambda" }.joined(separator: "+")
                add("lambda-\(safe(names))-\(e.id)", .eni(i), e.id,
                    "Lambda Hyperplane ENI \(e.id) (\(names)) \(e.privateIP) in \(model.subnets[e.subnet].display)",
                    e.mac, routerMAC(model, subnet: e.subnet))
            case .instance(let k):
                let inst = model.instances[k]
                add("instance-\(safe(inst.name ?? inst.id))-\(e.id)", .eni(i), e.id,
                    "EC2 instance \(inst.display) ENI \(e.id) \(e.privateIP) in \(model.subnets[e.subnet].display)",
                    e.mac, routerMAC(model, subnet: e.subnet))
            case .natGateway:
                break
            case .vpcEndpoint(let k):
                let ep = model.vpcEndpoints[k]
                add("vpce-\(safe(ep.name ?? ep.id))-\(e.id)", .eni(i), e.id,
                    "interface endpoint \(ep.display) (\(ep.service)) ENI \(e.id) \(e.privateIP) in "
                        + model.subnets[e.subnet].display, e.mac, routerMAC(model, subnet: e.subnet))
            }
        }
        for (i, n) in model.natGateways.enumerated() {
            let e = model.enis[n.eni]
            add("nat-\(safe(n.name ?? n.id))-\(e.id)", .natGateway(i), n.id,
                "NAT gateway \(n.display) ENI \(e.id) \(e.privateIP) in \(model.subnets[n.subnet].display)",
                e.mac, routerMAC(model, subnet: n.subnet))
        }
        for (i, g) in model.internetGateways.enumerated() {
            let mac = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("igw|" + g.id) & 0xFF_FFFF_FFFF))
            let peer = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("internet|" + g.id) & 0xFF_FFFF_FFFF))
            add("igw-internet-side-\(g.id)", .internetGateway(i), g.id,
                "internet side of \(g.display): public addresses", mac, peer)
        }
        for (i, a) in model.tgwAttachments.enumerated() where a.vpnConnection == nil {
            let mac = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("tgw-attach|" + a.id) & 0xFF_FFFF_FFFF))
            let subnets = a.subnets.map { "\(model.subnets[$0].id) (\(model.subnets[$0].availabilityZone))" }
            add("tgw-\(safe(a.name ?? a.id))-\(a.id)", .tgwAttachment(i), a.id,
                "transit gateway \(model.transitGateways[a.transitGateway].display) attachment \(a.display) to "
                    + "\(model.vpcs[a.vpc].display) through " + subnets.joined(separator: ", "),
                mac, routerMAC(model, subnet: a.subnets[0]))
        }
        for (i, c) in model.vpnConnections.enumerated() {
            let mac = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("vpn|" + c.id) & 0xFF_FFFF_FFFF))
            let peer = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("cgw|" + c.id) & 0xFF_FFFF_FFFF))
            let amazonSide: String = switch c.gateway {
            case .vpnGateway(let g): model.vpnGateways[g].display
            case .transitGateway(let a): "\(model.transitGateways[model.tgwAttachments[a].transitGateway].display) "
                + "attachment \(model.tgwAttachments[a].display)"
            }
            add("vpn-\(safe(c.name ?? c.id))-\(c.id)", .vpnConnection(i), c.id,
                "Site-to-Site VPN \(c.display) tunnel \(c.activeTunnel + 1) between \(amazonSide) and "
                    + "\(model.customerGateways[c.customerGateway].display): inner packets (MTU \(VPNGateway.innerMTU))",
                mac, peer)
            if c.espView, c.activeTunnel < c.tunnelOutsideAddresses.count {
                let inner = points.count - 1
                let aws = c.tunnelOutsideAddresses[c.activeTunnel], cgw = model.customerGateways[c.customerGateway].address
                add("vpn-esp-\(safe(c.name ?? c.id))-\(c.id)", .vpnConnectionESP(i), c.id,
                    "Site-to-Site VPN \(c.display) tunnel \(c.activeTunnel + 1) \(aws) ↔ \(cgw): ESP"
                        + (c.natTraversal ? " in UDP 4500 (NAT traversal)" : "") + ", payload opaque", mac, peer)
                points[points.count - 1].esp = ESPTunnelView(innerPoint: inner, connectionID: c.id, amazonAddress: aws,
                                                             customerAddress: cgw, natTraversal: c.natTraversal)
            }
        }
        for (i, h) in model.outsideHosts.enumerated() {
            let gw = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("gw|" + h.id) & 0xFF_FFFF_FFFF))
            let what = h.customerGateway.map { "on-premises host \(h.id) \(h.address) behind \(model.customerGateways[$0].display)" }
                ?? "outside host \(h.id) \(h.address)"
            add("host-\(safe(h.id))", .outsideHost(i), h.id, what, h.mac, gw)
        }
        // After the outside hosts, so that adding a peering connection renumbers no other point.
        for (i, c) in model.peeringConnections.enumerated() {
            let mac = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("pcx-requester|" + c.id) & 0xFF_FFFF_FFFF))
            let peer = MACAddress(rawValue: 0x0A00_0000_0000 | (fnv1a("pcx-accepter|" + c.id) & 0xFF_FFFF_FFFF))
            add("pcx-\(safe(c.name ?? c.id))-\(c.id)", .peeringConnection(i), c.id,
                "VPC peering connection \(c.display) between \(model.vpcs[c.requesterVPC].display) (requester, "
                    + "outgoing) and \(model.vpcs[c.accepterVPC].display) (accepter): packets as they cross it", mac, peer)
        }
        return points
    }
}
