import Packets

/// The gateway VPC endpoints (AWS PrivateLink guide, docs.aws.amazon.com/vpc/latest/privatelink/: pages
/// gateway-endpoints, vpc-endpoints-s3, vpc-endpoints-ddb): a route target,
/// not an ENI, for S3 or DynamoDB in the VPC's Region. AWS adds to each associated route table a route whose
/// destination is the service's AWS-managed prefix list (the model holds one route per CIDR of it, target
/// `.vpcEndpoint`); a packet leaving a subnet by such a route goes to the service privately: no NAT, no internet
/// gateway, so the service sees the ENI's private address as the source, and the reply comes back to that
/// address through the endpoint.
///
/// What applies on the way (the dispatcher, `VPCNetwork.gatewayEndpointTransit` and
/// `VPCNetwork.gatewayEndpointReturn`, carries the packet through them):
/// - the sending ENI's security group egress, as for any packet (a rule may name the prefix list);
/// - the NACL of the subnet the packet leaves, outbound, and the reply through the same NACL, inbound: NACLs
///   apply to gateway endpoint traffic (vpc-endpoints-s3, "Considerations": "The network ACL for the subnet for
///   your instances that access Amazon S3 through a gateway endpoint must allow traffic to and from Amazon S3";
///   NACL rules cannot name a prefix list, so they match the service's public CIDRs);
/// - never the NACL or route of another subnet: the path does not cross the NAT gateway's subnet, which is why a
///   NACL there that blocks the upload through the NAT does not block it through the endpoint.
/// The endpoint policy is not modeled (the scenario loader warns when one is given): every request passes.
///
/// Behind the endpoint is the service: an outside host of the scenario whose address lies in the prefix list
/// (`outside_hosts:`, with its ports and stack, answering HTTPS as any outside host does). Its one-way time is
/// half its `rtt_ms`.
///
/// The interface endpoints (PrivateLink guide create-interface-endpoint, privatelink-access-aws-services): an ENI
/// of the endpoint in each of its subnets, an ordinary ENI to the path — the route table's local route leads to it,
/// the NACLs of the client's and the endpoint's subnets apply both ways, and the endpoint ENIs' security groups
/// decide what comes in, statefully ("The security group must allow inbound HTTPS traffic from the resources in
/// the VPC"). Behind each ENI the service answers HTTPS (`HostEndpoint.receive`). Flows reach it by the service's
/// DNS name when private DNS is on (`ScenarioBuilder.serviceDestination`). Its ENIs are capture points and write
/// flow logs as any ENI's, with no instance id (VPC-UG flow-logs-records-examples: the endpoint's network
/// interfaces are requester-managed ENIs of the VPC).
final class VPCEndpoint {
    private let model: VPCModel
    /// Per ENI: the interface endpoint it belongs to, -1 for none.
    private let interfaceOf: [Int32]
    /// Whether any gateway endpoint has an IPv6 prefix list: without one, an IPv6 packet from outside is never a
    /// reply through an endpoint, and `gateway(holding:vpc:routeTable:)` answers without reading its address.
    private let anyIPv6PrefixList: Bool

    init(_ model: VPCModel) {
        self.model = model
        var of = [Int32](repeating: -1, count: model.enis.count)
        for (e, ep) in model.vpcEndpoints.enumerated() {
            for eni in ep.enis { of[eni] = Int32(e) }
        }
        interfaceOf = of
        anyIPv6PrefixList = model.vpcEndpoints.contains { !$0.ipv6PrefixListCIDRs.isEmpty }
    }

    /// The interface endpoint whose ENI `eni` is.
    @inline(__always)
    func interface(of eni: Int) -> Int? {
        let e = interfaceOf[eni]
        return e < 0 ? nil : Int(e)
    }

    /// A packet arriving at an interface endpoint's ENI, handed to the service behind it.
    func toInterfaceService(_ e: Int, eni: Int) -> Step {
        let ep = model.vpcEndpoints[e]
        let n = model.enis[eni]
        return step(e, action: .forwarded,
                    rule: "interface endpoint for \(ep.service) ENI \(n.id) (\(n.privateIP)) in "
                        + "\(model.subnets[n.subnet].display) → \(ep.service) service",
                    detail: ep.privateDNS ? "private DNS: \(ep.dnsName) resolves to the endpoint" : nil)
    }

    /// The gateway endpoint of VPC `vpc` whose prefix list holds `service`, the address of a packet coming back
    /// from the service (the first in model order; the loader allows one endpoint per service and route table).
    /// An IPv6 address (an `IPv6Token`): the endpoint whose IPv6 prefix list holds it and whose route tables
    /// include `routeTable`, that of the subnet the reply goes to. The service's IPv6 address is what it is on the
    /// internet too (no NAT tells the two paths apart), so a subnet whose table sends it elsewhere (an egress-only or
    /// internet gateway) gets its replies that way.
    @inline(__always)
    func gateway(holding service: IPv4Address, vpc: Int, routeTable: Int) -> Int? {
        guard service.isIPv6Token else { return gateway(holding: service, vpc: vpc) }
        guard anyIPv6PrefixList, let a = service.ipv6 else { return nil }
        return model.vpcEndpoints.indices.first { e in
            let ep = model.vpcEndpoints[e]
            return ep.vpc == vpc && ep.routeTables.contains(routeTable) && ep.ipv6PrefixListCIDRs.contains { $0.contains(a) }
        }
    }

    @inline(__always)
    func gateway(holding service: IPv4Address, vpc: Int) -> Int? {
        model.vpcEndpoints.withUnsafeBufferPointer { eps in
            for e in eps.indices where eps[e].vpc == vpc {
                for c in eps[e].prefixListCIDRs where c.contains(service) { return e }
            }
            return nil
        }
    }

    /// The service's name as AWS writes it for the endpoint ("s3"), and the endpoint in the console's words.
    func what(_ e: Int, ipv6: Bool = false) -> String {
        let ep = model.vpcEndpoints[e]
        return "gateway endpoint for \(ep.service) (\(ipv6 ? ep.ipv6PrefixListID : ep.prefixListID))"
    }

    /// The step endpoint `e` records.
    func step(_ e: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .vpcEndpoint, component: model.vpcEndpoints[e].id,
             componentDisplay: model.vpcEndpoints[e].display, action: action, rule: rule, detail: detail)
    }

    /// A packet to the service at outside host `h`.
    func toService(_ e: Int, host h: Int, ipv6: Bool) -> Step {
        let host = model.outsideHosts[h]
        let address = ipv6 ? host.ipv6Address.map(\.description) ?? "" : host.address.description
        return step(e, action: .forwarded, rule: "\(what(e, ipv6: ipv6)) → \(host.id) (\(address))",
                    detail: ipv6 ? "private: the source stays the ENI's IPv6 address"
                        : "private: the source stays the ENI's private address")
    }

    /// A packet from the service back into the VPC, to `destination`.
    func fromService(_ e: Int, to destination: IPv4Address) -> Step {
        step(e, action: .forwarded, rule: "\(what(e, ipv6: destination.isIPv6Token)) → \(destination)")
    }

    /// Nothing answers at `destination`, an address of the prefix list: the scenario has no service host there.
    func noService(_ e: Int, _ destination: IPv4Address) -> Step {
        step(e, action: .dropped, rule: "no modeled \(model.vpcEndpoints[e].service) host at \(destination)",
             detail: "add an outside host at that address")
    }
}
