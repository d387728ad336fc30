import Packets

/// What the hop pipeline reads of the model for every packet, as plain data in flat arrays. Reading one field of
/// a model struct through `VPCNetwork.model` (`model.enis[e].subnet`) copies the struct, retaining and releasing
/// each of its strings and arrays, and an array of arrays retains the inner one at each lookup: in perf that was
/// about a tenth of the engine. The model stays the source of every name a step or comment shows.
struct HopTables {
    struct Subnet {
        var vpc: Int32
        var routeTable: Int32
        var networkACL: Int32
    }

    struct ENI {
        var privateIP: IPv4Address
        var subnet: Int32
        /// The NAT gateway whose ENI this is, -1 for none.
        var natGateway: Int32
        var hasSecurityGroups: Bool
    }

    let subnets: [Subnet]
    let enis: [ENI]
    let natSubnet: [Int32]
    let natENI: [Int32]

    init(_ model: VPCModel) {
        subnets = model.subnets.indices.map { s in
            Subnet(vpc: Int32(model.subnets[s].vpc), routeTable: Int32(model.routeTable(of: s)),
                   networkACL: Int32(model.networkACL(of: s)))
        }
        enis = model.enis.map { e in
            var nat: Int32 = -1
            if case .natGateway(let n) = e.owner { nat = Int32(n) }
            return ENI(privateIP: e.privateIP, subnet: Int32(e.subnet), natGateway: nat,
                       hasSecurityGroups: !e.securityGroups.isEmpty)
        }
        natSubnet = model.natGateways.map { Int32($0.subnet) }
        natENI = model.natGateways.map { Int32($0.eni) }
    }
}
