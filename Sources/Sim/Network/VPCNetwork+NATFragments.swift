import Packets

// MARK: NAT gateway: fragments and ICMP errors

extension VPCNetwork {
    /// A fragment at NAT gateway `n`: a TCP or ICMP one is dropped (`NATGateway.fragmentDrop`); a UDP one goes on
    /// to be translated as its datagram is. Returns whether it was dropped.
    @inline(never)
    func natDropsFragment(_ n: Int, _ p: inout SimPacket, fromInside: Bool) -> Bool {
        guard let step = natRefs[n]({ $0.fragmentDrop(p) }) else { return false }
        record(&p, step)
        capture(.natGateway(n, fromInside: fromInside), &p, outgoing: false, comment: "dropped: " + step.text)
        drop(p, step)
        return true
    }

    /// An ICMP error from the internet (destination unreachable, time exceeded…) quoting a packet NAT gateway
    /// `n` translated: as a Linux NAT does it (nf_nat_icmp_reply_translation), the ICMP's destination becomes
    /// the inside host's address and the quoted header's source address and port the inside host's, the quoted
    /// IP header's checksum recomputed (the ICMP checksum is computed when the packet is written); the quoted
    /// TCP or UDP checksum is left as it was. "The NAT gateway translates ICMP errors for its connections"
    /// (aws-semantics: VPC-UG nat-gateway-troubleshooting, ICMP). Returns false, having changed nothing, for
    /// another ICMP or one the gateway has no connection for (then dropped as any packet without a translation).
    @inline(never)
    func natTranslatesICMPError(_ n: Int, _ p: inout SimPacket) -> Bool {
        guard let quoted = Self.quotedKey(p), let icmp = p.transport.icmp,
              let inside = natRefs[n]({ $0.insideEndpoint(quoted: quoted) }) else { return false }
        if inside.remote6 != .any {
            nat64TranslatesICMPError(n, &p, icmp, quoted: quoted, inside: inside)
            return true
        }
        let size = Int(p.ip.totalLength)
        let nat = natRefs[n]
        nat {
            $0.now = scheduler.now
            $0.count {
                $0.packetsInFromDestination += 1
                $0.bytesInFromDestination += size
            }
        }
        capture(.natGateway(n, fromInside: false), &p, outgoing: false,
                comment: "arrived from the internet; ICMP type \(icmp.type.rawValue) code \(icmp.code) for "
                    + "\(quoted.source):\(quoted.sourcePort) translated to \(inside.address):\(inside.port) by "
                    + model.natGateways[n].id)
        p.ip.destination = inside.address
        if natSettings.decrementsTTL { p.ip.ttl = p.ip.ttl &- 1 }
        Self.rewriteQuotedSource(&p, address: inside.address, port: inside.port)
        record(&p, nat { $0.step(action: .translated,
                                 rule: "ICMP error for \(quoted.source):\(quoted.sourcePort) → "
                                     + "\(inside.address):\(inside.port) (quoted header rewritten)") })
        natDepart(n, fromInside: false, size: size)
        return true
    }

    /// The datagram an ICMP error quotes gets source `address` and (TCP, UDP) source port `port` (nil: the port
    /// stays), its IP header checksum recomputed; nothing else changes (the quoted transport checksum stays as it
    /// was). A NAT gateway's translation back, and an internet gateway's 1:1 one (address only).
    static func rewriteQuotedSource(_ p: inout SimPacket, address: IPv4Address, port: UInt16?) {
        guard p.payload.count >= (port == nil ? 20 : 28) else { return }
        p.payload.withUnsafeMutableBytes { b in
            guard b[0] >> 4 == 4 else { return }
            let h = Int(b[0] & 0x0F) * 4
            guard h >= 20, b.count >= h + (port == nil ? 0 : 2) else { return }
            for k in 0..<4 { b[12 + k] = UInt8(truncatingIfNeeded: address.rawValue >> (24 - 8 * k)) }
            if let port, b[9] == IPProtocol.tcp.rawValue || b[9] == IPProtocol.udp.rawValue {
                b[h] = UInt8(port >> 8)
                b[h + 1] = UInt8(truncatingIfNeeded: port)
            }
            b[10] = 0
            b[11] = 0
            let sum = ~InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: b[0..<h]))
            b[10] = UInt8(sum >> 8)
            b[11] = UInt8(truncatingIfNeeded: sum)
        }
    }
}
