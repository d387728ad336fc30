import Packets

/// One packet's journey across the capture points, for the ladder diagram.
public struct LadderRow: Sendable {
    public var packetID: Int
    public var time: Int64
    public var fromClient: Bool
    public var summary: String
    /// Capture points that saw it, in order.
    public var points: [Int] = []
    public var dropped: Step?
}

/// Receives what crosses each ENI (the view VPC Flow Logs have).
public protocol InterfaceObserver: AnyObject {
    func interface(eni: Int, time: Int64, packet: SimPacket, egress: Bool, accepted: Bool)
}

/// Observes a run: feeds captures, records drops, paths and the ladder of each flow, and forwards what crosses
/// each ENI to `interfaceObservers` (flow logs).
public final class RunRecorder: NetworkObserver {
    public var interfaceObservers: [InterfaceObserver] = [] {
        didSet {
            soleFlowLogThread = interfaceObservers.count == 1 ? (interfaceObservers[0] as? FlowLogThread).map(Borrowed.init) : nil
        }
    }
    /// The one interface observer when it is a flow-log thread (as in `vpcsim run`), called directly and borrowed
    /// (`interfaceObservers` owns it): iterating the array retained and released it and the array for each of the
    /// some 30 packets a flow shows its ENIs.
    private(set) var soleFlowLogThread: Borrowed<FlowLogThread>?
    /// Whether something other than a sole flow-log thread observes interfaces (then the network hands every
    /// observation over as a packet, `interface(eni:time:packet:egress:accepted:)`).
    var otherInterfaceObservers: Bool { soleFlowLogThread == nil && !interfaceObservers.isEmpty }

    public func interface(eni: Int, time: Int64, packet: SimPacket, egress: Bool, accepted: Bool) {
        var p = packet
        interface(eni: eni, time: time, lent: &p, egress: egress, accepted: accepted)
    }

    /// `interface(eni:time:packet:egress:accepted:)` of a packet lent by address (inout, not changed), as the network
    /// hands over every ENI crossing: a sole flow-log thread gets the fields it logs read in place, with no copy of
    /// the packet.
    @inline(__always)
    func interface(eni: Int, time: Int64, lent packet: inout SimPacket, egress: Bool, accepted: Bool) {
        if let t = soleFlowLogThread {
            t { $0.observe(InterfaceObservation(eni: eni, time: time, packet: packet, egress: egress, accepted: accepted)) }
            return
        }
        for o in interfaceObservers { o.interface(eni: eni, time: time, packet: packet, egress: egress, accepted: accepted) }
    }

    unowned let sim: Simulation
    let captures: CaptureWriter?
    /// `captures`, borrowed for the call of every packet seen.
    private let capturesRef: Borrowed<CaptureWriter>?
    public private(set) var ladders: [[LadderRow]]
    private var ladderIndex: [[Int: Int]]
    /// Per explicit flow, each capture point that saw it with the flow's addresses there, client to server (a
    /// reply's key reversed), in the order the points first saw them: a NAT gateway's point has two (the flow
    /// before and after translation).
    public private(set) var pointKeys: [[(point: Int, key: PacketKey)]]
    /// Rows kept per flow for the ladder (the report shows the first ones; the captures keep everything).
    let ladderLimit: Int

    public init(sim: Simulation, captures: CaptureWriter?, ladderLimit: Int = 60) {
        self.sim = sim
        self.captures = captures
        capturesRef = captures.map(Borrowed.init)
        self.ladderLimit = ladderLimit
        ladders = Array(repeating: [], count: sim.scenario.flows.count)
        ladderIndex = Array(repeating: [:], count: sim.scenario.flows.count)
        pointKeys = Array(repeating: [], count: sim.scenario.flows.count)
    }

    public func seen(point: Int, time: Int64, packet: SimPacket, outgoing: Bool, comment: UnsafeRawBufferPointer) {
        if let c = capturesRef { c { $0.write(point: point, time: time, packet: packet, outgoing: outgoing, comment: comment) } }
        guard packet.flow >= 0, packet.flow < ladders.count else { return }
        let f = packet.flow
        // At most two per point (a NAT gateway's sees the flow before and after translation).
        if pointKeys[f].count < 16 {
            var k = packet.key
            if !packet.fromClient {
                swap(&k.source, &k.destination)
                swap(&k.sourcePort, &k.destinationPort)
            }
            if !pointKeys[f].contains(where: { $0.point == point && $0.key == k }) { pointKeys[f].append((point, k)) }
        }
        if let r = ladderIndex[f][packet.id] {
            if ladders[f][r].points.last != point { ladders[f][r].points.append(point) }
        } else if ladders[f].count < ladderLimit {
            ladderIndex[f][packet.id] = ladders[f].count
            ladders[f].append(LadderRow(packetID: packet.id, time: time - sim.flowStart(f),
                                        fromClient: packet.fromClient, summary: packet.summary, points: [point]))
        }
    }

    public func dropped(time: Int64, packet: SimPacket, step: Step) {
        // A packet routed outside the model was not dropped by the network: its flow ends `not-modeled`.
        guard packet.flow >= 0, step.action != .notModeled else { return }
        let f = packet.flow
        if f < ladders.count, let r = ladderIndex[f][packet.id] { ladders[f][r].dropped = step }
        let kind: String
        let direction: String?
        switch step.kind {
        case .naclInbound: kind = "nacl"; direction = "inbound"
        case .naclOutbound: kind = "nacl"; direction = "outbound"
        case .securityGroupEgress: kind = "security-group"; direction = "egress"
        case .securityGroupIngress: kind = "security-group"; direction = "ingress"
        case .route: kind = "route"; direction = nil
        case .internetGateway: kind = "internet-gateway"; direction = nil
        case .egressOnlyInternetGateway: kind = "egress-only-internet-gateway"; direction = nil
        case .natGateway: kind = "nat-gateway"; direction = nil
        case .appliance: kind = "appliance"; direction = nil
        case .peering: kind = "peering"; direction = nil
        case .transitGateway, .transitGatewayRoute: kind = "transit-gateway"; direction = nil
        case .vpnGateway, .vpnConnection: kind = "vpn"; direction = nil
        case .vpcEndpoint: kind = "vpc-endpoint"; direction = nil
        case .internet, .delivered: kind = "internet"; direction = nil
        case .pathMTU: kind = "path-mtu"; direction = nil
        }
        let start = sim.flowStart(f)
        let fragment = packet.ip.isFragment ? 1 : 0
        let datagram = packet.ip.isFragment && packet.ip.fragmentOffset == 0 ? 1 : 0
        sim.noteDrop(flow: f) { drops in
            if let k = drops.firstIndex(where: { $0.component == step.component && $0.rule == step.rule
                && $0.direction == direction }) {
                drops[k].count += 1
                drops[k].fragments += fragment
                drops[k].datagrams += datagram
            } else {
                var d = DropInfo(kind: kind, component: step.component, componentDisplay: step.componentDisplay,
                                 direction: direction, rule: step.rule, packet: packet.description,
                                 firstTime: time - start, count: 1, key: packet.key,
                                 fromClient: packet.fromClient, tcpFlags: packet.tcp?.flags)
                d.fragments = fragment
                d.datagrams = datagram
                drops.append(d)
            }
        }
    }

    public func traced(packet: SimPacket, steps: [Step]) {
        guard packet.flow >= 0 else { return }
        sim.noteTrace(flow: packet.flow, fromClient: packet.fromClient, steps,
                      fragment: packet.ip.isFragment ? VPCNetwork.fragmentWords(packet) : nil)
    }
}
