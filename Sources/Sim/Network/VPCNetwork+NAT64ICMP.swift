import Packets

// ICMP through NAT64 at a NAT gateway. An echo is a query the gateway maps as it maps an IPv4 ping, its identifier
// standing as the port (RFC 6146 §3.5.3): ICMPv6 echo 128/129 from the IPv6 host becomes ICMP 8/0 (RFC 7915 §5.2)
// with the gateway's identifier, the reply ICMP 0 becomes ICMPv6 129 with the host's (§4.2). An ICMP error from the
// IPv4 side quoting a NAT64 connection becomes the ICMPv6 error of RFC 7915 §4.2's table (fragmentation needed →
// Packet Too Big, the MTU raised by the 20 bytes IPv6's header adds), its quoted IPv4 packet the IPv6 packet it was
// translated from (§4.3), from 64:ff9b::<the IPv4 sender> (RFC 6052 §2.2), to the IPv6 host. The checksums follow
// the family when the packet is written: ICMPv6's over its pseudo-header, ICMP's over the message alone.
extension VPCNetwork {
    /// 64:ff9b::`v4`, the NAT64 address of an IPv4 address (RFC 6052 §2.2), as a token.
    static func nat64Address(_ v4: IPv4Address) -> IPv4Address {
        IPv6Token.intern(IPv6Address(nat64: v4))
    }

    /// ICMPv6 from the private side at NAT gateway `n` that NAT64 does not turn into an echo: an error (types
    /// 0–127: RFC 7915 §5.2 translates them to ICMP, quoting the packet translated back, which the model does not
    /// do) ends its flow `not-modeled`; any other message has no ICMP counterpart and is dropped (§5.2: "silently
    /// drop", MLD and Neighbor Discovery among them).
    @inline(never)
    func nat64ICMPv6NotTranslated(_ n: Int, _ p: inout SimPacket, _ key: PacketKey) {
        let what = "ICMPv6 type \(key.icmpType) code \(key.icmpCode)"
        let nat = natRefs[n]
        guard key.icmpType < 128 else {
            let step = nat { $0.step(action: .dropped, rule: "NAT64 of \(what): no ICMP counterpart",
                                     detail: "RFC 7915 §5.2: silently dropped") }
            capture(.natGateway(n, fromInside: true), &p, outgoing: false, comment: "dropped: " + step.text)
            drop(p, step)
            return
        }
        let step = nat { $0.step(action: .notModeled, rule: "NAT64 of \(what) from \(key.source)",
                                 detail: "ICMPv6 to ICMP (RFC 7915 §5.2): not modeled") }
        record(&p, step)
        capture(.natGateway(n, fromInside: true), &p, outgoing: false, comment: step.text)
        drop(p, step)
        let flow = p.flow
        let message = "\(model.natGateways[n].id) translating an ICMPv6 error (type \(key.icmpType) code \(key.icmpCode)) "
            + "to ICMP (NAT64): not modeled yet"
        if let s = simulation { s { $0.notModeled(flow: flow, message) } }
    }

    /// An ICMP error from the internet at NAT gateway `n` quoting (`quoted`, as the gateway sent it) a NAT64
    /// connection of IPv6 host `inside` (its address and port; `remote6` the server's 64:ff9b:: address):
    /// translated to ICMPv6 (RFC 7915 §4.2, §4.3) and sent on to the host, or dropped when the table gives it no
    /// ICMPv6 counterpart (or with `nat64_translates_icmp_errors` false). Counted in the gateway's metrics as the IPv4 translation of an error is.
    @inline(never)
    func nat64TranslatesICMPError(_ n: Int, _ p: inout SimPacket, _ icmp: ICMPHeader, quoted: PacketKey,
                                  inside: (address: IPv4Address, port: UInt16, remote6: IPv4Address)) {
        let nat = natRefs[n]
        let size = Int(p.ip.totalLength)
        nat {
            $0.now = scheduler.now
            $0.count {
                $0.packetsInFromDestination += 1
                $0.bytesInFromDestination += size
            }
        }
        let what = "ICMP type \(icmp.type.rawValue) code \(icmp.code)"
        guard assumptions.nat64TranslatesICMPErrors else {
            let step = nat { $0.step(action: .dropped, rule: "NAT64 of \(what) from \(p.ip.source): not translated",
                                     detail: "assumption nat64_translates_icmp_errors false") }
            capture(.natGateway(n, fromInside: false), &p, outgoing: false, comment: "dropped: " + step.text)
            drop(p, step)
            return
        }
        let quotedLength = p.payload.withUnsafeBytes { b in b.count >= 4 ? UInt16(b[2]) << 8 | UInt16(b[3]) : 0 }
        guard let header = Self.nat64ICMPv6(icmp, quotedLength: quotedLength),
              let source6 = inside.address.ipv6, let destination6 = inside.remote6.ipv6,
              let quote = p.payload.withUnsafeBytes({ Self.nat64Quote($0, source: source6, destination: destination6,
                                                                      port: inside.port) }) else {
            let step = nat { $0.step(action: .dropped, rule: "NAT64 of \(what) from \(p.ip.source): no ICMPv6 counterpart",
                                     detail: "RFC 7915 §4.2: silently dropped") }
            capture(.natGateway(n, fromInside: false), &p, outgoing: false, comment: "dropped: " + step.text)
            drop(p, step)
            return
        }
        let from6 = Self.nat64Address(p.ip.source)
        let text = "NAT64 of \(what)\(Self.mtuText(icmp, v6: false)) from \(p.ip.source) for "
            + "\(quoted.source.with(port: quoted.sourcePort)) → ICMPv6 type \(header.type.rawValue) code \(header.code)"
            + "\(Self.mtuText(header, v6: true)) from \(from6) for \(inside.address.with(port: inside.port))"
        capture(.natGateway(n, fromInside: false), &p, outgoing: false,
                comment: "arrived from the internet; \(text) by \(model.natGateways[n].id)")
        p.ip.source = from6
        p.ip.destination = inside.address
        p.ip.proto = .icmpv6
        p.ip.dontFragment = false
        p.ip.moreFragments = false
        p.ip.fragmentOffset = 0
        // RFC 7915 §4.1: the hop limit is the TTL, less one as for IPv4 (`nat_decrements_ttl`).
        if natSettings.decrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
        p.transport = .icmp(header)
        p.payload = quote.withUnsafeBytes { PacketPayload(copying: $0) }
        // Inside the engine an IPv6 packet's length field is IPv4-sized: 20 + the message.
        p.ip.totalLength = UInt16(20 + ICMPv6Header.byteCount + quote.count)
        record(&p, nat { $0.step(action: .translated, rule: text) })
        natDepart(n, fromInside: false, size: p.wireLength)
    }

    /// " (MTU 1400)" for a fragmentation needed or a Packet Too Big, else "".
    private static func mtuText(_ i: ICMPHeader, v6: Bool) -> String {
        if v6 { return i.type == .packetTooBig ? " (MTU \(i.restOfHeader))" : "" }
        return i.type == .destinationUnreachable && i.code == 4 ? " (MTU \(i.nextHopMTU))" : ""
    }

    /// The ICMPv6 header RFC 7915 §4.2 makes of ICMP error `icmp` (`quotedLength`: the total length its quoted
    /// IPv4 header gives), or nil for one it silently drops:
    /// - destination unreachable (3): codes 0, 1, 5–8, 11, 12 → destination unreachable (1) code 0 (no route);
    ///   code 2 (protocol) → parameter problem (4) code 1, pointer 6 (the Next Header field); code 3 (port) → 1/4;
    ///   codes 9, 10, 13, 15 → 1/1 (administratively prohibited); code 4 (fragmentation needed) → Packet Too Big
    ///   (2/0) (`nat64PacketTooBigMTU`); code 14 and others dropped;
    /// - time exceeded (11) → 3, the code kept;
    /// - parameter problem (12) codes 0 and 2 → 4/0, the pointer moved to the IPv6 header's field (§4.2 Figure 3;
    ///   a pointer to a field IPv6 lacks: dropped); code 1 and others dropped;
    /// - every other type (source quench, redirect, …) dropped.
    static func nat64ICMPv6(_ icmp: ICMPHeader, quotedLength: UInt16) -> ICMPHeader? {
        switch icmp.type {
        case .destinationUnreachable:
            switch icmp.code {
            case 0, 1, 5, 6, 7, 8, 11, 12: return ICMPHeader(type: .destinationUnreachable6, code: 0)
            case 2: return ICMPHeader(type: ICMPType(rawValue: 4), code: 1, restOfHeader: 6)
            case 3: return ICMPHeader(type: .destinationUnreachable6, code: 4)
            case 4:
                return ICMPHeader(type: .packetTooBig,
                                  restOfHeader: nat64PacketTooBigMTU(icmp.nextHopMTU, quotedLength: quotedLength))
            case 9, 10, 13, 15: return ICMPHeader(type: .destinationUnreachable6, code: 1)
            default: return nil
            }
        case .timeExceeded:
            return ICMPHeader(type: ICMPType(rawValue: 3), code: icmp.code)
        case .parameterProblem where icmp.code == 0 || icmp.code == 2:
            // §4.2 Figure 3: the IPv4 header's byte → the IPv6 header's (nil: a field IPv6 does not have).
            let pointers: [UInt8?] = [0, 1, 4, 4, nil, nil, nil, nil, 7, 6, nil, nil, 8, 8, 8, 8, 24, 24, 24, 24]
            let at = Int(icmp.restOfHeader >> 24)
            guard at < pointers.count, let to = pointers[at] else { return nil }
            return ICMPHeader(type: ICMPType(rawValue: 4), code: 0, restOfHeader: UInt32(to))
        default:
            return nil
        }
    }

    /// The MTU of the Packet Too Big NAT64 makes of fragmentation needed reporting next-hop MTU `mtu` (RFC 7915
    /// §4.2): the MTU plus the 20 bytes the IPv6 header has over IPv4's (the gateway's own links, 1500 bytes and
    /// more on either side, are never the smaller), at least 1280, the IPv6 minimum link MTU (RFC 8200 §5; a host
    /// goes no lower, RFC 8201 §4). A router that reports no MTU (0, before RFC 1191): the largest RFC 1191 §7
    /// plateau below the quoted packet's total length `quotedLength`, as §4.2 says.
    static func nat64PacketTooBigMTU(_ mtu: UInt16, quotedLength: UInt16) -> UInt32 {
        var m = Int(mtu)
        if m == 0 {
            let plateaus = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68]
            m = plateaus.first { $0 < Int(quotedLength) } ?? 68
        }
        return UInt32(max(ICMPv6.minimumMTU, m + 20))
    }

    /// RFC 7915 §4.3: the IPv4 packet an ICMP error quotes (`quote`: its header and what follows), as the IPv6
    /// packet NAT64 translated it from: an IPv6 header (traffic class the TOS, payload length the total length
    /// less the IPv4 header, next header the protocol or 58 for ICMP, hop limit the TTL, `source` → `destination`),
    /// a fragment header for a fragment (§4.1: offset, M flag and identification from the IPv4 header), then the
    /// bytes after the IPv4 header, a TCP or UDP source port set back to `port`. As much as fits in a 1280-byte
    /// ICMPv6 packet (RFC 4443 §2.4(c)). Nil for bytes that are not an IPv4 header.
    static func nat64Quote(_ q: UnsafeRawBufferPointer, source: IPv6Address, destination: IPv6Address,
                           port: UInt16) -> [UInt8]? {
        guard q.count >= 20, q[0] >> 4 == 4 else { return nil }
        let h = Int(q[0] & 0x0F) * 4
        guard h >= 20, q.count >= h else { return nil }
        let total = Int(UInt16(q[2]) << 8 | UInt16(q[3]))
        let proto = q[9] == IPProtocol.icmp.rawValue ? IPProtocol.icmpv6 : IPProtocol(rawValue: q[9])
        let flags = UInt16(q[6]) << 8 | UInt16(q[7])
        let offset = flags & 0x1FFF
        let more = flags & 0x2000 != 0
        let fragment = offset != 0 || more
        let extra = fragment ? 8 : 0
        let header = IPv6Header(source: source, destination: destination, nextHeader: fragment ? .ipv6Fragment : proto,
                                hopLimit: q[8], trafficClass: q[1],
                                payloadLength: UInt16(clamping: max(0, total - h) + extra))
        var out = [UInt8].writing(capacity: IPv6Header.byteCount + extra + q.count - h) { w in
            header.write(to: &w)
            if fragment {
                w.writeU8(proto.rawValue)
                w.writeU8(0)
                w.writeU16(offset << 3 | (more ? 1 : 0))
                w.writeU32(UInt32(UInt16(q[4]) << 8 | UInt16(q[5])))
            }
            w.writeBytes(UnsafeRawBufferPointer(rebasing: q[h...]))
        }
        let t = IPv6Header.byteCount + extra
        if proto == .tcp || proto == .udp, offset == 0, out.count >= t + 2 {
            out[t] = UInt8(port >> 8)
            out[t + 1] = UInt8(truncatingIfNeeded: port)
            // The quoted checksum follows its new pseudo-header and port (RFC 1624 incremental update, as
            // RFC 7915 §4.3 asks of the inner transport header): the IPv4 addresses and the gateway's port out, the
            // IPv6 addresses and the host's port in. Length and protocol sum the same in both pseudo-headers.
            let c = t + (proto == .tcp ? 16 : 6)
            if out.count >= c + 2, out[c] | out[c + 1] != 0 {
                var sum = UInt32(~(UInt16(out[c]) << 8 | UInt16(out[c + 1])))
                for k in stride(from: 12, to: 20, by: 2) { sum += UInt32(~(UInt16(q[k]) << 8 | UInt16(q[k + 1]))) }
                sum += UInt32(~(UInt16(q[h]) << 8 | UInt16(q[h + 1])))
                for a in [source, destination] {
                    for word in [a.high, a.low] {
                        for shift in stride(from: 48, through: 0, by: -16) { sum += UInt32(UInt16(truncatingIfNeeded: word >> UInt64(shift))) }
                    }
                }
                sum += UInt32(port)
                while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
                var checksum = ~UInt16(sum)
                if proto == .udp, checksum == 0 { checksum = 0xFFFF }
                out[c] = UInt8(checksum >> 8)
                out[c + 1] = UInt8(truncatingIfNeeded: checksum)
            }
        }
        return ICMPv6.quote(of: out)
    }
}

extension SimPacket {
    /// An echo request or reply of one family made the other's (RFC 7915 §4.2, §5.2: 8 ↔ 128, 0 ↔ 129) with
    /// identifier `identifier`, its IP protocol following; false, nothing changed, for any other packet. The
    /// checksum is computed when the packet is written (ICMPv6's with the pseudo-header, ICMP's without).
    @inline(__always)
    mutating func translateEcho(toIPv6: Bool, identifier: UInt16) -> Bool {
        guard case .icmp(let i) = transport, i.isEchoRequest || i.isEchoReply else { return false }
        ip.proto = toIPv6 ? .icmpv6 : .icmp
        transport = .icmp(.echo(request: i.isEchoRequest, identifier: identifier, sequence: i.sequence, ipv6: toIPv6))
        return true
    }
}
