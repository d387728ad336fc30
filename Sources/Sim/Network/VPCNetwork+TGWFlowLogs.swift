import Packets

/// What VPC Flow Logs see of transit gateway attachment ENIs. AWS logs the ENIs other services create in a VPC,
/// a transit gateway attachment's among them (VPC-UG flow-logs: "flow logs can capture traffic for network
/// interfaces that other AWS services create"), as it logs a NAT gateway's: a packet entering the gateway through
/// an attachment ENI is an ingress record there, one leaving through an attachment ENI an egress record, srcaddr
/// or dstaddr the ENI's own address and pkt-srcaddr/pkt-dstaddr the packet's (VPC-UG flow-logs-records-examples,
/// "Traffic through a transit gateway"). Flow logs number attachment ENI `e` (`TransitGateway.enis`)
/// `model.enis.count + e` (`FlowLogRecorder` lists them after the model's ENIs).
extension VPCNetwork {
    /// The flow-log interface number of attachment ENI `e`.
    @inline(__always)
    func tgwFlowLogInterface(_ e: Int) -> Int { model.enis.count + e }

    /// A packet arrived at the transit gateway through attachment ENI `e` (its subnet's NACL inbound passed): an
    /// ingress ACCEPT at that ENI, whatever the gateway then does with it.
    @inline(__always)
    func tgwObserveArrival(_ e: Int, _ p: inout SimPacket) {
        guard observer != nil else { return }
        observeInterface(tgwFlowLogInterface(e), &p, egress: false, accepted: true)
    }

    /// A packet leaving the transit gateway through attachment ENI `e` by `t`: an egress record at that ENI,
    /// REJECT when its own subnet's NACL dropped it outbound (as `logEgress` for the model's ENIs).
    @inline(__always)
    func tgwLogEgress(_ e: Int, _ p: inout SimPacket, _ t: Transit) {
        guard observer != nil else { return }
        let subnet = Int(transitGateways.enis[e].subnet)
        let rejected = drop(of: t).map {
            $0.kind == .naclOutbound && $0.component == model.networkACLs[model.networkACL(of: subnet)].id
        } ?? false
        observeInterface(tgwFlowLogInterface(e), &p, egress: true, accepted: !rejected)
    }

    /// Transit Gateway Flow Logs (`TGWFlowLogRecorder`): a packet crossing the gateway of attachment `a`, in
    /// through it (its ENI `srcENI`, -1 for a VPN attachment) and out through attachment `to` (ENI `dstENI`), or
    /// `lost`. Nothing is built unless that gateway is logged.
    @inline(__always)
    func tgwLog(_ p: inout SimPacket, from a: Int, srcENI: Int, to: Int, dstENI: Int, lost: TGWFlowLogRecorder.Lost?) {
        guard let r = tgwFlowLogs, r.logs(model.tgwAttachments[a].transitGateway) else { return }
        r.crossed(time: scheduler.now, packet: p, from: a, srcENI: srcENI, to: to, dstENI: dstENI, lost: lost)
    }
}
