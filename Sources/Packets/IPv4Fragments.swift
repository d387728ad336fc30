/// IPv4 fragmentation (RFC 791 §3.2, "Fragmentation and Reassembly"): the bytes a datagram carries after its
/// header are cut at multiples of 8 bytes; every fragment repeats the header with the same identification, its
/// own fragment offset (in 8-byte units), MF set on all but the last, its own total length and header checksum.
/// The transport header and its checksum (over the whole datagram) travel in the first fragment only.
extension Frame {
    /// The bytes after `ip`'s header of a datagram carrying `transport` and `payload`, as the wire has them:
    /// the transport header with the UDP length and the transport checksum computed over the whole datagram,
    /// then the payload. What fragmentation cuts.
    public static func datagramBytes(ip: IPv4Header, transport: TransportHeader,
                                     payload: UnsafeRawBufferPointer) -> [UInt8] {
        // An IPv6 datagram (its addresses tokens): the checksum over the IPv6 pseudo-header (RFC 8200 §8.1).
        if ip.source.isIPv6Token, let source = ip.source.ipv6, let destination = ip.destination.ipv6 {
            return [UInt8].writing(capacity: 60 + payload.count) { w in
                writeTransport(to: &w, transport)
                w.writeBytes(payload)
                fillIPv6(&w, header: IPv6Header(source: source, destination: destination, nextHeader: ip.proto),
                         upperLayer: ip.proto, l4Start: 0, l4End: w.count)
            }
        }
        let headerLength = ip.byteCount
        let whole = [UInt8].writing(capacity: headerLength + 60 + payload.count) { w in
            ip.write(to: &w)
            writeTransport(to: &w, transport)
            w.writeBytes(payload)
            fill(&w, ip: ip, ipStart: 0, l4Start: headerLength, l4End: w.count, transport: transport)
        }
        return Array(whole[headerLength...])
    }

    /// The largest number of data bytes a fragment with a header of `headerLength` bytes carries on a link of
    /// `mtu` bytes: a multiple of 8 (the offset counts 8-byte units). 0 when not even 8 fit.
    @inline(__always)
    public static func fragmentDataLimit(mtu: Int, headerLength: Int) -> Int {
        max(mtu - headerLength, 0) & ~7
    }
}
