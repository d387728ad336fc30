/// Frames carrying IPv6: parsing, writing and fragmenting.

extension Frame {
    /// Bytes of the IPv6 header, its extension headers and the ICMPv6 header (zero for an IPv4 frame).
    var ipv6ByteCount: Int {
        guard ipv6 != nil else { return 0 }
        var n = IPv6Header.byteCount + (icmpv6 == nil ? 0 : ICMPv6Header.byteCount)
        for e in ipv6Extensions { n += e.byteCount }
        return n
    }

    /// The upper-layer protocol: what the last extension header (or the fixed header) names.
    public var ipv6UpperLayer: IPProtocol? {
        guard let ipv6 else { return nil }
        return ipv6Extensions.last?.nextHeader ?? ipv6.nextHeader
    }

    /// The fragment header, when this frame is a fragment.
    public var ipv6Fragment: IPv6FragmentHeader? { ipv6Extensions.lazy.compactMap(\.fragment).first }

    /// The IPv6 part of parsing: `r` is at the IPv6 header.
    mutating func parseIPv6(_ bytes: [UInt8], _ r: inout ByteReader) throws {
        let ipStart = r.offset
        let header = try IPv6Header(parsing: &r)
        ipv6 = header
        // Zero: a jumbogram (RFC 2675) or a segmentation-offloaded capture; the datagram runs to the end.
        let end: Int
        (end, truncated, trailer) = Self.datagram(in: bytes, endingAt: header.payloadLength == 0 ? bytes.count
                                                   : ipStart + IPv6Header.byteCount + Int(header.payloadLength))
        var l = ByteReader(bytes, offset: r.offset, end: end)
        let chain = try IPv6Chain(parsing: &l, first: header.nextHeader)
        ipv6Extensions = chain.headers
        let fragment = chain.fragment
        if let fragment, fragment.fragmentOffset != 0 {
            payload = l.readRest()
            return
        }
        let l4Start = l.offset
        switch chain.upperLayer {
        case .tcp:
            transport = .tcp(try TCPHeader(parsing: &l))
        case .udp:
            transport = .udp(try UDPHeader(parsing: &l))
        case .icmpv6:
            icmpv6 = try ICMPv6Header(parsing: &l)
        default:
            payload = l.readRest()
            return
        }
        payload = l.readRest()
        // A first fragment's checksum covers the whole datagram: not verifiable here.
        guard !truncated, fragment == nil else { return }
        checksums.transport = bytes.withUnsafeBytes { raw in
            Frame.transportChecksumStatus(segment: UnsafeRawBufferPointer(rebasing: raw[l4Start..<end]), ipv6: header,
                                          upperLayer: chain.upperLayer)
        }
    }

    /// The TCP, UDP or ICMPv6 checksum over the IPv6 pseudo-header. UDP over IPv6 must carry one: zero is
    /// invalid (RFC 8200 §8.1).
    static func transportChecksumStatus(segment: UnsafeRawBufferPointer, ipv6: IPv6Header,
                                        upperLayer: IPProtocol) -> ChecksumStatus {
        let field: Int
        switch upperLayer {
        case .tcp: field = 16
        case .udp: field = 6
        case .icmpv6: field = 2
        default: return .unverifiable
        }
        guard segment.count >= field + 2 else { return .unverifiable }
        let sum = InternetChecksum.add(
            InternetChecksum.sum(segment),
            InternetChecksum.pseudoHeaderSum(source: ipv6.source, destination: ipv6.destination,
                                             nextHeader: upperLayer, length: segment.count))
        let stored = UInt16(segment[field]) << 8 | UInt16(segment[field + 1])
        var expected = ~InternetChecksum.add(sum, ~stored)
        if upperLayer == .udp {
            if expected == 0 { expected = 0xFFFF }
            if stored == 0 { return .invalid(expected: expected) }
        }
        if sum == 0xFFFF { return .valid }
        return stored == expected || (expected == 0 && stored == 0xFFFF) ? .valid : .invalid(expected: expected)
    }

    /// Writes an IPv6 frame; with `filling`, the payload length, the UDP length and the TCP, UDP or ICMPv6
    /// checksum are computed from the bytes written (a fragment's are not: its piece is written as it is).
    func writeIPv6(to w: inout ByteWriter, _ header: IPv6Header, filling: Bool) {
        link.write(to: &w)
        let ipStart = w.count
        header.write(to: &w)
        for e in ipv6Extensions { e.write(to: &w) }
        let l4Start = w.count
        Frame.writeTransport(to: &w, transport)
        icmpv6?.write(to: &w)
        w.writeBytes(payload)
        if filling {
            let l4End = w.count
            w.setU16(UInt16(truncatingIfNeeded: l4End - ipStart - IPv6Header.byteCount), at: ipStart + 4)
            let upper = ipv6UpperLayer ?? header.nextHeader
            if ipv6Fragment == nil {
                Frame.fillIPv6(&w, header: header, upperLayer: upper, l4Start: l4Start, l4End: l4End)
            }
        }
        w.writeBytes(trailer)
    }

    /// The frame of an IPv6 packet as the simulator carries it (`IPv6Token`s for its addresses in an IPv4 header):
    /// a real IPv6 header with the addresses the tokens stand for, the IPv4 TTL as the hop limit, no extension
    /// headers, then the transport header and payload, with the payload length and the TCP or UDP checksum over
    /// the IPv6 pseudo-header (RFC 8200 §8.1). A fragment (its header's offset or MF set) gets a fragment header
    /// (RFC 8200 §4.5) from its offset, MF and identification, then its bytes as they are (the first fragment's
    /// transport header with the whole datagram's checksum: `datagramBytes`).
    static func writeIPv6(to w: inout ByteWriter, parts: FrameParts, source: IPv6Address, destination: IPv6Address,
                          payload: UnsafeRawBufferPointer) {
        w.append(count: 14) { p in
            parts.destination.store(to: p)
            parts.source.store(to: p + 6)
            p.storeBE(EtherType.ipv6.rawValue, at: 12)
        }
        let fragment = parts.ip.isFragment
        let header = IPv6Header(source: source, destination: destination,
                                nextHeader: fragment ? .ipv6Fragment : parts.ip.proto, hopLimit: parts.ip.ttl,
                                trafficClass: parts.ip.typeOfService)
        let ipStart = w.count
        header.write(to: &w)
        if fragment {
            IPv6FragmentHeader(nextHeader: parts.ip.proto, fragmentOffset: parts.ip.fragmentOffset,
                               moreFragments: parts.ip.moreFragments,
                               identification: UInt32(parts.ip.identification)).write(to: &w)
        }
        let l4Start = w.count
        writeTransport(to: &w, parts.transport)
        w.writeBytes(payload)
        let l4End = w.count
        w.setU16(UInt16(truncatingIfNeeded: l4End - ipStart - IPv6Header.byteCount), at: ipStart + 4)
        if !fragment { fillIPv6(&w, header: header, upperLayer: parts.ip.proto, l4Start: l4Start, l4End: l4End) }
    }

    /// Sets the UDP length and the TCP, UDP or ICMPv6 checksum of the segment at `l4Start..<l4End`.
    @inline(__always)
    static func fillIPv6(_ w: inout ByteWriter, header: IPv6Header, upperLayer: IPProtocol, l4Start: Int,
                         l4End: Int) {
        let field: Int
        switch upperLayer {
        case .tcp: field = 16
        case .udp:
            field = 6
            w.setU16(UInt16(truncatingIfNeeded: l4End - l4Start), at: l4Start + 4)
        case .icmpv6: field = 2
        default: return
        }
        guard l4End - l4Start >= field + 2 else { return }
        w.setU16(0, at: l4Start + field)
        let s = InternetChecksum.add(
            InternetChecksum.sum(w.view(l4Start..<l4End)),
            InternetChecksum.pseudoHeaderSum(source: header.source, destination: header.destination,
                                             nextHeader: upperLayer, length: l4End - l4Start))
        let c = ~s
        w.setU16(upperLayer == .udp && c == 0 ? 0xFFFF : c, at: l4Start + field)
    }

    /// The fragments of this IPv6 frame (RFC 8200 §4.5) for a path of `mtu` bytes (IPv6 header included):
    /// the frame is filled, its extension headers stay in front of each fragment's header (the unfragmentable
    /// part; a real sender would move destination options after it), and the upper layer with its payload is cut
    /// in pieces of a multiple of 8 bytes. A frame that fits is returned alone. Nil for an IPv4 frame or an MTU
    /// under 1280.
    public func ipv6Fragments(mtu: Int, identification: UInt32) -> [Frame]? {
        guard let ipv6, mtu >= ICMPv6.minimumMTU else { return nil }
        let whole = bytes(filling: true)
        let ipStart = link.byteCount
        var extensionBytes = 0
        for e in ipv6Extensions { extensionBytes += e.byteCount }
        let upperStart = ipStart + IPv6Header.byteCount + extensionBytes
        let upperEnd = whole.count - trailer.count
        guard upperEnd - ipStart > mtu else { return [self.filled()] }
        let upper = ipv6UpperLayer ?? ipv6.nextHeader
        let room = (mtu - IPv6Header.byteCount - extensionBytes - IPv6FragmentHeader.byteCount) & ~7
        var out: [Frame] = []
        var at = upperStart
        while at < upperEnd {
            let n = min(room, upperEnd - at)
            let more = at + n < upperEnd
            var header = ipv6
            var extensions = ipv6Extensions
            let fragment = IPv6FragmentHeader(nextHeader: upper, fragmentOffset: UInt16((at - upperStart) / 8),
                                              moreFragments: more, identification: identification)
            if extensions.isEmpty {
                header.nextHeader = .ipv6Fragment
            } else {
                extensions[extensions.count - 1].nextHeader = .ipv6Fragment
            }
            extensions.append(IPv6ExtensionHeader(fragment: fragment))
            let f = Frame(link: link, ipv6: header, extensions: extensions, payload: Array(whole[at..<(at + n)]))
            out.append(f)
            at += n
        }
        return out
    }
}
