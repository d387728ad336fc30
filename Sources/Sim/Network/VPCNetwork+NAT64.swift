import Packets

// NAT64 at a NAT gateway (VPC-UG nat-gateway-nat64-dns64): an IPv6 packet for the NAT64 prefix 64:ff9b::/96, routed
// to a NAT gateway, is translated statefully to IPv4 (RFC 6146; the headers as RFC 7915 §5.1 says): its source
// becomes the gateway's private address and a port the gateway picks as it does for IPv4 (the same mappings, port
// allocation, idle timeout and metrics: the NAT64 traffic is the gateway's traffic), its destination the IPv4
// address the prefix embeds (RFC 6052 §2.2). The IPv4 packet then goes on as the gateway's own translations do:
// through the internet gateway's 1:1 NAT to the Elastic IP for a public gateway, by its subnet's routes for a
// private one. A reply is translated back (RFC 7915 §4.1): to the inside host's IPv6 address and port, from
// 64:ff9b::<the server>. Inside the engine the packet keeps its length field (IPv4-sized for both families), so
// the translation changes addresses, ports and flags only (and an echo's type and identifier, ICMP errors:
// VPCNetwork+NAT64ICMP.swift); captures write each side with its own header and the TCP/UDP checksums over its own
// pseudo-header.
extension VPCNetwork {
    /// The IPv4 address a NAT64 address embeds (RFC 6052 §2.2: the last 32 bits of a /96); nil for an IPv6
    /// address outside 64:ff9b::/96.
    static func nat64Embedded(_ token: IPv4Address) -> IPv4Address? {
        token.ipv6?.nat64Embedded
    }

    /// What a NAT64 translation does, for the step and the capture comment: "NAT64 [2600:…::20]:58838 →
    /// 10.0.0.5:17665, 64:ff9b::cb00:7116 → 203.0.113.22" (the translated end, then the other address).
    static func nat64Text(_ from: IPv4Address, _ fromPort: UInt16, _ to: IPv4Address, _ toPort: UInt16,
                          _ before: IPv4Address, _ after: IPv4Address) -> String {
        "NAT64 \(from.with(port: fromPort)) → \(to.with(port: toPort)), \(before) → \(after)"
    }

    /// NAT64's rewrite of `p` (which arrived as `key`) toward `toIPv6`'s family: its addresses, the gateway's end's
    /// port `port` (the source's from the private side, the destination's from the internet), an echo made the other
    /// family's with `port` as its identifier (RFC 6146 §3.5.3: the gateway maps it as it does an IPv4 ping's). A
    /// fragment (RFC 7915 §4.1, §5.1.1) keeps its offset and M flag (the fragment header's fields either way; the
    /// identification's 16 bits), DF clear, and the first fragment's port and checksum in its bytes follow, over the
    /// new family's pseudo-header (`refreshFirstFragment`). Returns whether `p` is a fragment.
    static func nat64Rewrite(_ p: inout SimPacket, _ key: PacketKey, source: IPv4Address, destination: IPv4Address,
                             port: UInt16, toIPv6: Bool) -> Bool {
        p.ip.source = source
        p.ip.destination = destination
        if !p.translateEcho(toIPv6: toIPv6, identifier: port) {
            if toIPv6 { p.setDestinationPort(port) } else { p.setSourcePort(port) }
        }
        guard p.ip.isFragment else { return false }
        p.ip.dontFragment = false
        p.refreshFirstFragment(from: key)
        return true
    }

    /// An IPv6 packet at NAT gateway `n` from its private side (its flow-log record already taken): translated
    /// to IPv4 and sent on, or dropped as the gateway drops an IPv4 packet.
    @inline(never)
    func nat64Outbound(_ n: Int, _ p: inout SimPacket, _ key: PacketKey) {
        let nat = natRefs[n]
        let settings = natSettings
        let v6Destination = key.destination
        guard let v4Destination = Self.nat64Embedded(v6Destination) else {
            // The loader keeps IPv6 routes to a NAT gateway within the prefix; kept for a model built otherwise.
            let step = nat { $0.step(action: .dropped, rule: "IPv6 to \(v6Destination) is outside the NAT64 prefix "
                                     + "\(IPv6CIDR.nat64)") }
            capture(.natGateway(n, fromInside: true), &p, outgoing: false, comment: "dropped: " + step.text)
            drop(p, step)
            return
        }
        // As for IPv4, the gateway forwards UDP fragments only (VPC-UG vpc-nat-comparison): TCP and ICMPv6 ones
        // are dropped here.
        if p.ip.isFragment, natDropsFragment(n, &p, fromInside: true) { return }
        // ICMPv6 other than an echo: an error (not modeled) or a message without an ICMP counterpart (dropped).
        if key.proto == .icmp, key.icmpType != ICMPType.echoRequest6.rawValue, key.icmpType != ICMPType.echoReply6.rawValue {
            nat64ICMPv6NotTranslated(n, &p, key)
            return
        }
        var key4 = key
        key4.destination = v4Destination
        let size = p.wireLength
        let marks = p.closeMarks
        let outcome = nat { $0.receive(key4, marks, size: size, fromInside: true, now: scheduler.now,
                                       settings: settings, rng: &rng, remote6: v6Destination) }
        scheduleNATExpiry(n)
        switch outcome {
        case .translated(let address, let port, _):
            let text = { Self.nat64Text(key.source, key.sourcePort, address, port, v6Destination, v4Destination) }
            capture(.natGateway(n, fromInside: true), &p, outgoing: false,
                    comment: "arrived from the private side; \(text()) by \(self.model.natGateways[n].id)")
            // RFC 7915 §5.1: DF clear when the IPv4 packet is 1260 bytes or less, set otherwise (or always, RFC 6145's rule:
            // the assumption `nat64_dont_fragment`); MF and the offset zero; the TTL is the hop limit, less one when
            // the gateway counts as a router (`nat_decrements_ttl`). An IPv6 fragment: `nat64Rewrite`.
            if !Self.nat64Rewrite(&p, key, source: address, destination: v4Destination, port: port, toIPv6: false) {
                p.ip.dontFragment = assumptions.nat64DontFragment == .always || p.ip.totalLength > 1260
                p.ip.moreFragments = false
                p.ip.fragmentOffset = 0
            }
            if settings.decrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
            record(&p, nat { $0.step(action: .translated, rule: text()) })
            natDepart(n, fromInside: true, size: Int(p.ip.totalLength))
            // A fusable flow's departure keeps its place in the order of events (`schedule`), as for IPv4.
            if fusable(p) { slots.setReserved(firing, scheduler.drawSequence()) }
        case .dropped(let why):
            let step = nat { $0.step(why, key, settings: settings) }
            capture(.natGateway(n, fromInside: true), &p, outgoing: false, comment: "dropped: " + step.text)
            drop(p, step)
            if why.idle, key.proto == .tcp, let t = p.tcp, !t.flags.contains(.rst) { natSendsReset(n, to: p, tcp: t) }
        }
    }

    /// A packet from the internet at NAT gateway `n` whose NAT64 translation needs what the engine does not carry:
    /// `step` recorded and captured, and the packet's flow ends `not-modeled` with `message`.
    private func nat64NotModeled(_ n: Int, _ p: inout SimPacket, _ step: Step, _ message: String) {
        record(&p, step)
        capture(.natGateway(n, fromInside: false), &p, outgoing: false, comment: step.text)
        drop(p, step)
        let flow = p.flow
        if let s = simulation { s { $0.notModeled(flow: flow, message) } }
    }

    /// A reply from the internet at NAT gateway `n` to a NAT64 connection, its mapping found (`inside`:`port`
    /// the IPv6 host's, `remote6` the server's 64:ff9b:: address): translated to IPv6 and sent on toward the
    /// host. `size`: its IPv4 size, as it arrived.
    @inline(never)
    func nat64Inbound(_ n: Int, _ p: inout SimPacket, _ key: PacketKey, to inside: IPv4Address, port: UInt16,
                      from remote6: IPv4Address) {
        let nat = natRefs[n]
        // RFC 7915 §4.1: an IPv4 fragment becomes an IPv6 fragment, its fragment header carrying the offset, the M
        // flag and the identification (the IPv4 one's 16 bits, the high 16 zero), 8 bytes more on the wire; the
        // first fragment's port and checksum as for an unfragmented packet (its bytes: `refreshFirstFragment`).
        // IPv6 needs a UDP checksum, which a first fragment without one (0) cannot get without the whole datagram
        // (RFC 6146 §3.4: reassemble or drop): its flow ends `not-modeled`.
        if p.ip.isFragment, p.ip.fragmentOffset == 0, p.ip.proto == .udp,
           p.payload.withUnsafeBytes({ $0.count >= 8 && $0[6] == 0 && $0[7] == 0 }) {
            let step = nat { $0.step(action: .notModeled, rule: "NAT64 of a first IPv4 fragment without a UDP checksum "
                                     + "from \(key.source)",
                                     detail: "IPv6 requires one; computing it needs the whole datagram (RFC 6146 §3.4): not modeled") }
            nat64NotModeled(n, &p, step, "\(model.natGateways[n].id) translating a first IPv4 fragment without a UDP "
                            + "checksum to IPv6 (NAT64, RFC 6146 §3.4): not modeled yet")
            return
        }
        let text = { Self.nat64Text(key.destination, key.destinationPort, inside, port, key.source, remote6) }
        capture(.natGateway(n, fromInside: false), &p, outgoing: false,
                comment: "arrived from the internet; \(text()) by \(self.model.natGateways[n].id)")
        _ = Self.nat64Rewrite(&p, key, source: remote6, destination: inside, port: port, toIPv6: true)
        // RFC 7915 §4.1: the hop limit is the TTL (less one as for IPv4); the traffic class is the TOS (kept).
        if natSettings.decrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
        record(&p, nat { $0.step(action: .translated, rule: text()) })
        natDepart(n, fromInside: false, size: p.wireLength)
    }
}
