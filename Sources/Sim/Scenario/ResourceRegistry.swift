/// The kinds of resource that carry an AWS id.
enum ResourceKind: Int, CaseIterable {
    case vpc, internetGateway, routeTable, networkACL, securityGroup, subnet, natGateway, instance, eni, peeringConnection
    case transitGateway, tgwAttachment, tgwRouteTable, vpcEndpoint
    case vpnGateway, customerGateway, vpnConnection
    case egressOnlyInternetGateway

    var title: String {
        switch self {
        case .vpc: return "VPC"
        case .internetGateway: return "internet gateway"
        case .routeTable: return "route table"
        case .networkACL: return "network ACL"
        case .securityGroup: return "security group"
        case .subnet: return "subnet"
        case .natGateway: return "NAT gateway"
        case .instance: return "instance"
        case .eni: return "network interface"
        case .peeringConnection: return "peering connection"
        case .transitGateway: return "transit gateway"
        case .tgwAttachment: return "transit gateway attachment"
        case .tgwRouteTable: return "transit gateway route table"
        case .vpcEndpoint: return "VPC endpoint"
        case .vpnGateway: return "virtual private gateway"
        case .customerGateway: return "customer gateway"
        case .vpnConnection: return "VPN connection"
        case .egressOnlyInternetGateway: return "egress-only internet gateway"
        }
    }

    var idPrefix: String {
        switch self {
        case .vpc: return "vpc-"
        case .internetGateway: return "igw-"
        case .routeTable: return "rtb-"
        case .networkACL: return "acl-"
        case .securityGroup: return "sg-"
        case .subnet: return "subnet-"
        case .natGateway: return "nat-"
        case .instance: return "i-"
        case .eni: return "eni-"
        case .peeringConnection: return "pcx-"
        case .transitGateway: return "tgw-"
        case .tgwAttachment: return "tgw-attach-"
        case .tgwRouteTable: return "tgw-rtb-"
        case .vpcEndpoint: return "vpce-"
        case .vpnGateway: return "vgw-"
        case .customerGateway: return "cgw-"
        case .vpnConnection: return "vpn-"
        case .egressOnlyInternetGateway: return "eigw-"
        }
    }

    /// The top-level list holding this kind, when a scenario declares it.
    var section: String? {
        switch self {
        case .vpc: return "vpcs"
        case .internetGateway: return "internet_gateways"
        case .routeTable: return "route_tables"
        case .networkACL: return "network_acls"
        case .securityGroup: return "security_groups"
        case .subnet: return "subnets"
        case .natGateway: return "nat_gateways"
        case .instance: return "instances"
        case .eni, .tgwAttachment, .tgwRouteTable: return nil
        case .peeringConnection: return "peering_connections"
        case .transitGateway: return "transit_gateways"
        case .vpcEndpoint: return "vpc_endpoints"
        case .vpnGateway: return "vpn_gateways"
        case .customerGateway: return "customer_gateways"
        case .vpnConnection: return "vpn_connections"
        case .egressOnlyInternetGateway: return "egress_only_internet_gateways"
        }
    }
}

/// Ids and names of one kind of resource, for resolving references. Lookups only; iterated (names sorted)
/// only to suggest one for a reference that resolves to none.
struct ResourceRegistry {
    var byID: [String: Int] = [:]
    var byName: [String: [Int]] = [:]
    var ids: [String] = []
    /// Names by index (nil: unnamed), for "did you mean".
    var names: [String?] = []

    mutating func add(id: String, name: String?, index: Int) {
        byID[id] = index
        if let name { byName[name, default: []].append(index) }
        if ids.count <= index { ids.append(contentsOf: repeatElement("", count: index + 1 - ids.count)) }
        ids[index] = id
        if names.count <= index { names.append(contentsOf: repeatElement(nil, count: index + 1 - names.count)) }
        names[index] = name
    }

    enum Match { case one(Int), ambiguous([Int]), none }

    func find(_ ref: String) -> Match {
        if let i = byID[ref] { return .one(i) }
        guard let list = byName[ref] else { return .none }
        return list.count == 1 ? .one(list[0]) : .ambiguous(list)
    }
}
