import Packets

// MARK: Path MTU

/// A link smaller than a packet, and the ICMP that reports it (RFC 1191; VPC-UG path_mtu_discovery): a packet
/// bigger than the next link's MTU with DF set is dropped by the router before that link, which sends ICMP
/// "destination unreachable, fragmentation needed and DF set" (type 3 code 4) with the link's MTU back to the
/// packet's source, quoting the packet's IP header and first 8 bytes. That ICMP crosses the network as any packet
/// does: an internet gateway translates it (and the header it quotes), the NACLs are stateless and need a rule
/// for it, a security group needs an inbound ICMP rule unless `sg_admits_related_icmp`.
///
/// The link modeled is an outside host's `path_mtu` (the router in front of the host: a PPPoE line, a VPN). The
/// router answers from the host's address: a home or office router in front of a client is usually the address
/// the client's traffic leaves with (a named simplification, docs/scenarios.md).
extension VPCNetwork {
    /// A packet bigger than the path MTU in front of outside host `h` arrives there: with DF set (every packet
    /// the modeled TCP stacks send) it is dropped and ICMP type 3 code 4 goes back to its source. Without DF
    /// it is fragmented and the host gets the fragments (`fragmentAtPath`).
    /// Returns whether the packet was dealt with here (dropped, or delivered in fragments).
    @inline(never)
    func tooBigForPath(_ h: Int, _ p: inout SimPacket) -> Bool {
        // IPv6 routers never fragment (RFC 8200 §5): an IPv6 packet too big is dropped as if DF were set.
        guard p.ip.dontFragment || p.ip.source.isIPv6Token else {
            fragmentAtPath(h, &p)
            return true
        }
        let mtu = model.outsideHosts[h].pathMTU
        let step = pathMTUDrop(h, p)
        record(&p, step)
        let comment = Self.tooBigComment(mtu: mtu, icmpSent: true, p)
        capture(.outsideHost(h), &p, outgoing: false, comment: comment)
        drop(p, step)
        // The host's address in the packet's family (its IPv6 address for an IPv6 packet).
        let icmp = Self.fragmentationNeeded(quoting: p, from: p.ip.destination, mtu: mtu)
        let id = simulation.map { s in s { $0.nextPacketID() } } ?? 0
        send(fromHost: h, icmp, id: id)
        return true
    }

    /// Outside host `h` sends a packet bigger than the link in front of it, DF set: the router there drops it and
    /// sends the ICMP back to the host at once (a router next to it). The ICMP comes from the host's own address,
    /// standing in for the router's, which the model does not have. An IPv6 packet (never fragmented by routers)
    /// is dropped the same way, and an ICMPv6 Packet Too Big goes back.
    @inline(never)
    func tooBigLeaving(_ h: Int, _ p: inout SimPacket) {
        let mtu = model.outsideHosts[h].pathMTU
        let step = pathMTUDrop(h, p)
        record(&p, step)
        let comment = "sent; " + Self.tooBigComment(mtu: mtu, icmpSent: true, p)
        capture(.outsideHost(h), &p, outgoing: true, comment: comment)
        drop(p, step)
        let icmp = Self.fragmentationNeeded(quoting: p, from: p.ip.source, mtu: mtu)
        let slot = slots.take()
        let q = slots.packet(slot)
        q.initialize(to: icmp)
        q.pointee.id = simulation.map { s in s { $0.nextPacketID() } } ?? 0
        schedule(slot, &q.pointee, to: .outsideHost(h), after: 0, carried: .max)
    }

    /// ICMP type 3 code 4 from `source` for packet `p`, reporting next-hop MTU `mtu`: the packet's IP header as it
    /// arrived (checksum filled) and its first 8 bytes (RFC 792), sent as a Linux router sends it (TTL 64, DF
    /// clear). The ICMP checksum is filled when the packet is written. For an IPv6 packet (`source` an IPv6
    /// token): ICMPv6 Packet Too Big (`packetTooBig`), what an IPv6 router sends instead.
    static func fragmentationNeeded(quoting p: SimPacket, from source: IPv4Address, mtu: Int) -> SimPacket {
        if p.ip.source.isIPv6Token { return packetTooBig(quoting: p, from: source, mtu: mtu) }
        let data = [UInt8].writing(capacity: 8) { w in
            switch p.transport {
            case .tcp(let t):
                w.writeU16(t.sourcePort)
                w.writeU16(t.destinationPort)
                w.writeU32(t.sequenceNumber)
            case .udp(let u):
                w.writeU16(u.sourcePort)
                w.writeU16(u.destinationPort)
                w.writeU16(UInt16(truncatingIfNeeded: 8 + p.payload.count))
                w.writeU16(0)
            case .icmp(let i):
                w.writeU8(i.type.rawValue)
                w.writeU8(i.code)
                w.writeU16(i.checksum)
                w.writeU32(i.restOfHeader)
            case .none:
                w.writeU32(0)
                w.writeU32(0)
            }
        }
        return icmpError(quoting: p.ip, data: data, from: source, type: .destinationUnreachable, code: 4,
                         rest: UInt32(UInt16(clamping: mtu)), identification: UInt16(truncatingIfNeeded: p.id),
                         flow: p.flow, fromClient: !p.fromClient)
    }

    /// ICMPv6 Packet Too Big (type 2 code 0, RFC 4443 §3.2) from `source` (an IPv6 token) to the sender of IPv6
    /// packet `p`, reporting MTU `mtu`: as much of the packet as it arrived (its IPv6 header, transport header and
    /// data, as a capture shows them) as fits in a 1280-byte ICMPv6 packet (RFC 4443 §2.4(c)), hop limit 64
    /// (Linux's default, net.ipv6.conf.all.hop_limit). The ICMPv6 checksum is filled when the packet is written.
    static func packetTooBig(quoting p: SimPacket, from source: IPv4Address, mtu: Int) -> SimPacket {
        icmpv6Error(quoting: p, from: source, ICMPHeader(type: .packetTooBig, restOfHeader: UInt32(mtu)))
    }

    /// An ICMPv6 error (`header`: its type, code and four bytes) from `source` to the sender of IPv6 packet `p`,
    /// quoting as much of `p` as it is on the wire (a fragment with its fragment header) as fits in 1280 bytes
    /// (RFC 4443 §2.4(c)), hop limit 64. The checksum is filled when the packet is written.
    static func icmpv6Error(quoting p: SimPacket, from source: IPv4Address, _ header: ICMPHeader) -> SimPacket {
        let parts = FrameParts(destination: .zero, source: .zero, ip: p.ip, transport: p.ip.isFragment ? .none : p.transport)
        let invoking = p.payload.withUnsafeBytes { payload in
            [UInt8].writing(capacity: FrameParts.maxHeaderBytes + 8 + payload.count) { w in
                Frame.write(to: &w, parts: parts, payload: payload)
            }
        }
        let quote = ICMPv6.quote(of: Array(invoking.dropFirst(14)))
        var ip = IPv4Header(source: source, destination: p.ip.source, proto: .icmpv6, ttl: 64, identification: 0,
                            dontFragment: false)
        ip.totalLength = UInt16(20 + ICMPv6Header.byteCount + quote.count)
        let payload = quote.withUnsafeBytes { PacketPayload(copying: $0) }
        return SimPacket(ip: ip, transport: .icmp(header), payload: payload, flow: p.flow, fromClient: !p.fromClient)
    }

    /// An ICMP error of `type` and `code` from `source` to the sender of the datagram whose header is `inner`,
    /// quoting that header (checksum filled) and `data`, its first 8 bytes after the header (RFC 792), sent as
    /// Linux sends it (TTL 64, DF clear). The ICMP checksum is filled when the packet is written.
    static func icmpError(quoting inner: IPv4Header, data: [UInt8], from source: IPv4Address, type: ICMPType,
                          code: UInt8, rest: UInt32, identification: UInt16 = 0, flow: Int, fromClient: Bool) -> SimPacket {
        var header = inner
        header.checksum = 0
        var quote = [UInt8].writing(capacity: 60 + 8) { w in header.write(to: &w) }
        let headerLength = quote.count
        quote += data.prefix(8)
        let sum = ~InternetChecksum.sum(Array(quote[0..<headerLength]))
        quote[10] = UInt8(sum >> 8)
        quote[11] = UInt8(truncatingIfNeeded: sum)
        var ip = IPv4Header(source: source, destination: inner.source, proto: .icmp, ttl: 64,
                            identification: identification, dontFragment: false)
        ip.totalLength = UInt16(20 + ICMPHeader.byteCount + quote.count)
        let payload = quote.withUnsafeBytes { PacketPayload(copying: $0) }
        return SimPacket(ip: ip, transport: .icmp(ICMPHeader(type: type, code: code, restOfHeader: rest)),
                         payload: payload, flow: flow, fromClient: fromClient)
    }

    /// The step of the link in front of outside host `h` dropping `p`, too big for it with DF set.
    func pathMTUDrop(_ h: Int, _ p: SimPacket) -> Step {
        let mtu = model.outsideHosts[h].pathMTU
        let host = model.outsideHosts[h].id
        return Step(kind: .pathMTU, component: "path-mtu \(host)",
                    componentDisplay: "link in front of \(host) (path MTU \(mtu))", action: .dropped,
                    rule: "path MTU \(mtu) < \(Self.tooBigPacket(p)); \(Self.tooBigICMPName(p)) sent to \(p.ip.source)")
    }

    /// An ICMP error's quoted datagram, after a 1:1 translation of the ICMP's destination `from` → `to`: the quoted
    /// packet was sent from `from`, so its source becomes `to` (its header checksum updated), as the translation
    /// of the packet it quotes would have it. Nothing else in the ICMP changes.
    func translateQuotedSource(_ p: inout SimPacket, from: IPv4Address, to: IPv4Address) {
        guard let i = p.transport.icmp, i.type.quotesDatagram, p.payload.count >= 20,
              p.payload.withUnsafeBytes({ b in
                  UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15])
              }) == from.rawValue else { return }
        Self.rewriteQuotedSource(&p, address: to, port: nil)
    }

    /// The connection an ICMP error quotes, as its sender sent it (source: the host the ICMP goes to). An ICMPv6
    /// error quotes an IPv6 packet: its addresses come back as the tokens they are interned as.
    static func quotedKey(_ p: SimPacket) -> PacketKey? {
        guard let i = p.transport.icmp else { return nil }
        if p.ip.proto == .icmpv6 { return i.type.rawValue < 128 ? quotedKey6(p) : nil }
        guard i.type.quotesDatagram, p.payload.count >= 28 else { return nil }
        return p.payload.withUnsafeBytes { b -> PacketKey? in
            guard b[0] >> 4 == 4 else { return nil }
            let h = Int(b[0] & 0x0F) * 4
            guard h >= 20, b.count >= h + 4 else { return nil }
            func address(_ at: Int) -> IPv4Address {
                IPv4Address(rawValue: UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3]))
            }
            let proto = IPProtocol(rawValue: b[9])
            guard proto == .tcp || proto == .udp else { return nil }
            return PacketKey(proto: proto, source: address(12), destination: address(16),
                             sourcePort: UInt16(b[h]) << 8 | UInt16(b[h + 1]),
                             destinationPort: UInt16(b[h + 2]) << 8 | UInt16(b[h + 3]))
        }
    }

    /// `quotedKey` of an ICMPv6 error: the quoted IPv6 header and, for TCP or UDP right after it (or after a first
    /// fragment's fragment header, as the engine's senders write it), the ports.
    @inline(never)
    static func quotedKey6(_ p: SimPacket) -> PacketKey? {
        let quote = p.payload.bytes
        guard let (header, direct) = ICMPv6.quotedHeader(quote),
              let source = IPv6Token.token(ifInterned: header.source),
              let destination = IPv6Token.token(ifInterned: header.destination) else { return nil }
        var proto = header.nextHeader
        var ports = direct
        // A first fragment (offset 0): the upper layer and its ports after the 8-byte fragment header.
        if proto == .ipv6Fragment, quote.count >= 52, quote[42] == 0, quote[43] & 0xF8 == 0 {
            proto = IPProtocol(rawValue: quote[40])
            if proto == .tcp || proto == .udp {
                ports = (UInt16(quote[48]) << 8 | UInt16(quote[49]), UInt16(quote[50]) << 8 | UInt16(quote[51]))
            }
        }
        guard let ports else { return nil }
        return PacketKey(proto: proto, source: source, destination: destination, sourcePort: ports.0,
                         destinationPort: ports.1)
    }

    /// With `sg_admits_related_icmp`: the step of `eni`'s groups admitting an ICMP error that quotes a connection
    /// they track (Linux conntrack's RELATED), or nil.
    func relatedICMP(_ eni: Int, _ p: SimPacket) -> Step? {
        guard assumptions.sgAdmitsRelatedICMP, let quoted = Self.quotedKey(p),
              securityGroups.isTracked(eni, quoted) else { return nil }
        return securityGroups.step(eni, .inbound, action: .allowed,
                                   rule: "ICMP error related to tracked connection \(quoted) (sg_admits_related_icmp)")
    }

    /// A capture comment for a transit that drops an ICMP "fragmentation needed": "ICMP type 3 code 4 dropped:
    /// acl-… (public) inbound: * DENY all 0.0.0.0/0" ("ICMPv6 type 2 code 0 dropped: …" for a Packet Too Big); nil
    /// for another packet or a transit that does not drop.
    func icmpDropComment(_ t: Transit, _ p: SimPacket) -> String? {
        guard let d = drop(of: t), let i = p.transport.icmp else { return nil }
        let v6 = p.ip.proto == .icmpv6
        guard v6 ? i.type == .packetTooBig : i.type == .destinationUnreachable else { return nil }
        return "ICMP\(v6 ? "v6" : "") type \(i.type.rawValue) code \(i.code) dropped: \(d.componentDisplay) "
            + "\(d.kindLabel): \(d.rule)"
    }

    /// What a step says of a packet too big for a link: "packet 1500 bytes (DF set)", or "IPv6 packet 1500 bytes"
    /// (its size on the wire; routers never fragment IPv6, DF or not).
    static func tooBigPacket(_ p: SimPacket) -> String {
        p.ip.source.isIPv6Token ? "IPv6 packet \(p.wireLength) bytes" : "packet \(p.ip.totalLength) bytes (DF set)"
    }

    /// The error a router sends for packet `p`, too big: "ICMP fragmentation needed" or "ICMPv6 packet too big".
    static func tooBigICMPName(_ p: SimPacket) -> String {
        p.ip.source.isIPv6Token ? "ICMPv6 packet too big" : "ICMP fragmentation needed"
    }
}
