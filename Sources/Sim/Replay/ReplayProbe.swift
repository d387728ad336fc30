import Packets

/// One connection's first packet sent through the network as `vpcsim trace` sends it — the same components,
/// the same decisions, its steps recorded — and, when it arrives, the responder's first reply back: a static
/// verdict per direction, with what VPC Flow Logs would record at each ENI on the way (`NetworkObserver.interface`).
/// No conversation runs: no endpoint answers, retransmits or closes.
final class ReplayProbe: NetworkObserver {
    /// Where a probe's packet starts.
    enum Origin: Equatable {
        case eni(Int)
        /// The internet (an address outside the network): sent by a stand-in outside host.
        case internet
    }

    /// A direction's verdict: the ENIs crossed and what flow logs would say there, the steps, and how it ended.
    struct Leg {
        /// (ENI, leaving it, ACCEPT) in the order the packet crossed them.
        var interfaces: [(eni: Int, egress: Bool, accepted: Bool)] = []
        var steps: [Step] = []
        /// The step that dropped it (or ended it not-modeled), nil when it arrived.
        var drop: Step?
        var delivered = false
        var notModeled: Bool { drop?.action == .notModeled }
    }

    struct Result {
        var request: Leg
        /// Nil when the request did not arrive (nothing replies).
        var reply: Leg?
    }

    let network: VPCNetwork
    let scheduler = Scheduler()
    /// The stand-in for every address on the internet (`Origin.internet`, and destinations the model has no
    /// host for).
    let internetHost: Int
    private var leg = Leg()
    private var arrived: (eni: Int?, host: Int?, packet: SimPacket)?
    private var serial = 0

    init(model base: VPCModel, assumptions: Assumptions) {
        var model = base
        internetHost = model.outsideHosts.count
        model.outsideHosts.append(OutsideHost(
            name: "internet", address: IPv4Address(rawValue: 0), ports: [:], otherPorts: .listen(app: "tcp"),
            rtt: assumptions.internetRTT, stack: .linux, mac: MACAddress(rawValue: 0x0A00_0000_0001)))
        network = VPCNetwork(model: model, assumptions: assumptions, scheduler: scheduler, seed: 1)
        network.describesPackets = false
        network.observer = self
        let host = internetHost
        network.unknownInternetDestination = { _ in host }
        network.deliverToENI = { [unowned self] eni, p in
            if Self.reportsTooBig(p) { self.icmpArrived = true }
            self.arrived = (eni, nil, p)
        }
        network.deliverToHost = { [unowned self] h, p in
            if Self.reportsTooBig(p) { self.icmpArrived = true }
            self.arrived = (nil, h, p)
        }
    }

    /// An ICMP destination unreachable, or an ICMPv6 Packet Too Big: what a size probe waits for.
    static func reportsTooBig(_ p: SimPacket) -> Bool {
        guard let i = p.transport.icmp else { return false }
        return p.ip.proto == .icmpv6 ? i.type == .packetTooBig : p.ip.proto == .icmp && i.type == .destinationUnreachable
    }

    /// The first packet of a connection from `source`:`sourcePort` to `destination`:`destinationPort`, sent from
    /// `origin`, and the reply to it.
    func probe(from origin: Origin, proto: UInt8, source: IPv4Address, sourcePort: UInt16, destination: IPv4Address,
               destinationPort: UInt16) -> Result {
        let first = packet(proto: proto, source: source, sourcePort: sourcePort, destination: destination,
                           destinationPort: destinationPort, reply: false)
        let request = run(first) { p in
            switch origin {
            case .eni(let e): network.send(fromENI: e, p)
            case .internet: network.send(fromHost: internetHost, p)
            }
        }
        guard request.delivered, let a = arrived else {
            scheduler.run()
            return Result(request: request, reply: nil)
        }
        // The reply: the arrived packet's addresses and ports swapped, from where it arrived.
        let k = a.packet.key
        let back = packet(proto: proto, source: k.destination, sourcePort: k.destinationPort, destination: k.source,
                          destinationPort: k.sourcePort, reply: true)
        let reply = run(back) { p in
            if let e = a.eni { network.send(fromENI: e, p) } else if let h = a.host { network.send(fromHost: h, p) }
        }
        // Then the gateways forget the connection (idle expiry), as they would long before the next one.
        scheduler.run()
        return Result(request: request, reply: reply)
    }

    /// `PathMTUProbe`: a TCP SYN of `size` bytes with DF set (a SYN: it passes the security groups and NAT
    /// gateways as the flow's first packet does), and what became of it and of the ICMP a link too small for it
    /// sent back.
    func sized(fromENI eni: Int?, fromHost host: Int?, source: IPv4Address, destination: IPv4Address, destinationPort: UInt16,
               size: Int) -> PathMTUProbe.Result {
        var p = packet(proto: 6, source: source, sourcePort: UDPProbes.sourcePort, destination: destination,
                       destinationPort: destinationPort, reply: false)
        // `size` is on the wire: an IPv6 packet's length inside the engine is 20 bytes less (`wireLength`).
        p.ip.totalLength = UInt16(clamping: size - (destination.isIPv6Token ? 20 : 0))
        p.ip.dontFragment = true
        icmpArrived = false
        let leg = run(p) { p in
            if let eni { network.send(fromENI: eni, p) } else { network.send(fromHost: host ?? internetHost, p) }
        }
        scheduler.run()
        let big = drops.first { $0.packet.transport.icmp == nil && $0.step.kind == .pathMTU }?.step
        let other = big == nil ? drops.first { $0.packet.transport.icmp == nil }?.step : nil
        let icmp = drops.first { $0.packet.transport.icmp != nil }?.step
        return PathMTUProbe.Result(size: size, tooBig: big, otherDrop: other,
                                   delivered: leg.delivered && !icmpArrived, icmpDrop: icmp, icmpArrived: icmpArrived,
                                   ipv6: destination.isIPv6Token)
    }

    /// Every drop of a size probe and its ICMP, in order.
    private var drops: [(packet: SimPacket, step: Step)] = []
    private var icmpArrived = false

    private func run(_ p: SimPacket, _ send: (SimPacket) -> Void) -> Leg {
        leg = Leg()
        arrived = nil
        drops = []
        send(p)
        // A packet's way takes milliseconds; the NAT gateways' idle expiry (minutes later) waits for the reply.
        scheduler.run(until: scheduler.now + 60_000_000_000)
        leg.delivered = arrived != nil
        return leg
    }

    private func packet(proto: UInt8, source: IPv4Address, sourcePort: UInt16, destination: IPv4Address,
                        destinationPort: UInt16, reply: Bool) -> SimPacket {
        let ip = IPv4Header(source: source, destination: destination, proto: IPProtocol(rawValue: proto),
                            totalLength: 60)
        let transport: TransportHeader
        switch proto {
        case 6:
            transport = .tcp(TCPHeader(sourcePort: sourcePort, destinationPort: destinationPort,
                                       flags: reply ? [.syn, .ack] : .syn))
        case 17:
            transport = .udp(UDPHeader(sourcePort: sourcePort, destinationPort: destinationPort, length: 8))
        case 1:
            transport = .icmp(ICMPHeader(type: reply ? .echoReply : .echoRequest))
        default:
            transport = .none
        }
        serial += 1
        var p = SimPacket(ip: ip, transport: transport, flow: 0, fromClient: !reply)
        p.traced = true
        p.id = serial
        return p
    }

    // MARK: NetworkObserver

    func seen(point: Int, time: Int64, packet: SimPacket, outgoing: Bool, comment: UnsafeRawBufferPointer) {}

    func dropped(time: Int64, packet: SimPacket, step: Step) {
        drops.append((packet, step))
        if leg.drop == nil { leg.drop = step }
    }

    func traced(packet: SimPacket, steps: [Step]) {
        leg.steps = steps
    }

    func interface(eni: Int, time: Int64, packet: SimPacket, egress: Bool, accepted: Bool) {
        // Transit gateway attachment ENIs (numbered past the model's) are not among the ENIs a replay reads.
        guard eni < network.model.enis.count else { return }
        leg.interfaces.append((eni, egress, accepted))
    }
}
