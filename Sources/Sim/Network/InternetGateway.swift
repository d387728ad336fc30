import Packets

/// The internet gateways: each attached to one VPC, each doing 1:1 NAT between an ENI's private address and its
/// public or Elastic IP (VPC-UG VPC_Internet_Gateway): a packet leaving for the internet gets the public address
/// of its private source, a packet from the internet to a public address gets its ENI's private address, and
/// nothing else changes (no port translation, no state). An ENI without a public address cannot use it: a Lambda
/// Hyperplane ENI never has one, nor does a private NAT gateway. A packet to a public address of the VPC goes out
/// and comes back in through it (hairpin: `VPCNetwork.igwHairpin`). The dispatcher calls `publicAddress` and
/// `translateToInternet` for a packet leaving, `eni(publicAddress:)` and `translateFromInternet` for one
/// arriving, and records `step`.
final class InternetGateway {
    /// Whether each internet gateway is attached to a VPC.
    let attached: [Bool]
    /// Public/Elastic IP → ENI.
    let publicToENI = AddressMap<Int>()
    /// Public ↔ private, including NAT gateways' secondary addresses.
    private let publicToPrivate = AddressMap<IPv4Address>()
    private let privateToPublic = AddressMap<IPv4Address>()
    private let model: VPCModel
    private let assumptions: Assumptions

    init(_ model: VPCModel, assumptions: Assumptions) {
        self.model = model
        self.assumptions = assumptions
        attached = model.internetGateways.indices.map { g in model.vpcs.contains { $0.internetGateway == g } }
        for (i, e) in model.enis.enumerated() {
            if let p = e.publicIP {
                publicToENI[p] = i
                publicToPrivate[p] = e.privateIP
                privateToPublic[e.privateIP] = p
            }
        }
        // An ENI's IPv6 address is global: the gateway forwards it as it is (VPC-UG VPC_Internet_Gateway, "IPv6
        // addresses are globally unique … there is no need for NAT"), an identity in these maps (`IPv6Token`).
        for (i, e) in model.enis.enumerated() {
            guard let a = e.ipv6Address else { continue }
            let token = IPv6Token.intern(a)
            publicToENI[token] = i
            publicToPrivate[token] = token
            privateToPublic[token] = token
        }
        for n in model.natGateways {
            for (k, a) in n.secondaryPrivateIPs.enumerated() where k < n.secondaryElasticIPs.count {
                let p = n.secondaryElasticIPs[k]
                publicToENI[p] = n.eni
                publicToPrivate[p] = a
                privateToPublic[a] = p
            }
        }
    }

    /// The internet gateway of `eni`'s VPC, if it has one.
    func gateway(of eni: Int) -> Int? { model.vpcs[model.subnets[model.enis[eni].subnet].vpc].internetGateway }

    /// The public address the gateway gives `source` (a private address of an ENI), nil when it has none.
    @inline(__always)
    func publicAddress(of source: IPv4Address) -> IPv4Address? { privateToPublic[source] }

    /// A packet leaving for the internet: its private source becomes `pub`.
    @inline(__always)
    func translateToInternet(_ p: inout SimPacket, publicAddress pub: IPv4Address) {
        let old = p.ip.isFragment ? p.key : nil
        p.ip.source = pub
        if let old { p.refreshFirstFragment(from: old) }
        if assumptions.igwDecrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
    }

    /// A packet from the internet to a public address of `eni`: its destination becomes the private address.
    @inline(__always)
    func translateFromInternet(_ p: inout SimPacket, to eni: Int) {
        if assumptions.igwDecrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
        let old = p.ip.isFragment ? p.key : nil
        p.ip.destination = publicToPrivate[p.ip.destination] ?? model.enis[eni].privateIP
        if let old { p.refreshFirstFragment(from: old) }
    }

    /// The step gateway `g` records.
    func step(_ g: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .internetGateway, component: model.internetGateways[g].id,
             componentDisplay: model.internetGateways[g].display, action: action, rule: rule, detail: detail)
    }

    /// Gateway `g` cannot translate `source`, leaving VPC `vpc`: why, in the step that drops the packet.
    func noPublicAddress(_ g: Int, source: IPv4Address, vpc: Int) -> Step {
        let why: String
        if let eni = model.eni(privateIP: source, in: vpc), case .lambda = model.enis[eni].owner {
            why = "\(source) is a Lambda Hyperplane ENI, which never has a public IP"
        } else if let eni = model.eni(privateIP: source, in: vpc), case .natGateway(let n) = model.enis[eni].owner {
            why = "\(model.natGateways[n].display) is a private NAT gateway (no Elastic IP)"
        } else if !model.vpcs[vpc].cidrBlocks.contains(where: { $0.contains(source) }) {
            // A packet from elsewhere (a reply a NAT gateway translated back toward another VPC, routed here for
            // want of a route to a transit gateway): the gateway translates only the VPC's own addresses.
            why = "\(source) is not an address of \(model.vpcs[vpc].display)"
        } else {
            why = "\(source) has no public IP"
        }
        return step(g, action: .dropped, rule: "no public IP for \(source)", detail: why)
    }
}
