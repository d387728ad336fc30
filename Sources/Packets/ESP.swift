/// An IPv4 or IPv6 packet wrapped in ESP in tunnel mode (RFC 4303), and in UDP port 4500 with NAT traversal (RFC 3948), as
/// it travels between two IPsec gateways. The layout is AES-CBC's (RFC 3602: a 16-byte IV, 16-byte blocks) with
/// HMAC-SHA1-96's 12-byte ICV (RFC 2404); the "cipher text" is the inner packet mixed with a keystream drawn from
/// the SPI and sequence number: it looks encrypted, decrypts to nothing, and is the same for the same input.
public enum ESPTunnelFrame {
    public static let natTraversalPort: UInt16 = 4500
    static let ivBytes = 16, icvBytes = 12, block = 16
    /// Next header of the inner packet in tunnel mode (RFC 4303 section 2.6): IPv4 (4) or IPv6 (41), by the
    /// inner header's version.
    static let ipv4NextHeader: UInt8 = 4, ipv6NextHeader: UInt8 = 41

    /// The bytes beyond the inner packet's: Ethernet, outer IPv4, UDP, ESP header, IV, at most a block of padding
    /// and trailer, ICV.
    public static let maxOverhead = 14 + 20 + 8 + 8 + ivBytes + block + 1 + icvBytes

    /// The frame of the inner IP packet `inner` (its bytes from the IP header on): Ethernet, the outer IPv4 header
    /// `from` → `to`, UDP 4500 both ways with `natTraversal`, ESP with `spi` and `sequence`.
    public static func write(to w: inout ByteWriter, inner: UnsafeRawBufferPointer, spi: UInt32, sequence: UInt32,
                             from: IPv4Address, to: IPv4Address, natTraversal: Bool, source: MACAddress,
                             destination: MACAddress) {
        // Plaintext: the inner packet, padding 1, 2, 3, … (RFC 4303 section 2.4), pad length, next header; a
        // whole number of blocks.
        let unpadded = inner.count + 2
        let padding = (Self.block - unpadded % Self.block) % Self.block
        let nextHeader = inner.first.map { $0 >> 4 == 6 } == true ? Self.ipv6NextHeader : Self.ipv4NextHeader
        let cipherBytes = unpadded + padding
        let espBytes = 8 + Self.ivBytes + cipherBytes + Self.icvBytes
        let udpBytes = natTraversal ? 8 + espBytes : 0
        let ipBytes = 20 + (natTraversal ? udpBytes : espBytes)
        w.append(count: 14) { p in
            destination.store(to: p)
            source.store(to: p + 6)
            p.storeBE(EtherType.ipv4.rawValue, at: 12)
        }
        let ipStart = w.count
        w.append(count: 20) { p in
            p.store(UInt8(0x45), at: 0)
            p.store(UInt8(0), at: 1)
            p.storeBE(UInt16(truncatingIfNeeded: ipBytes), at: 2)
            p.storeBE(UInt16(truncatingIfNeeded: sequence), at: 4)
            p.storeBE(UInt16(0x4000), at: 6)  // don't fragment
            p.store(UInt8(64), at: 8)
            p.store(natTraversal ? UInt8(17) : UInt8(50), at: 9)
            p.storeBE(UInt16(0), at: 10)
            p.storeBE(from.rawValue, at: 12)
            p.storeBE(to.rawValue, at: 16)
        }
        w.setU16(~InternetChecksum.sum(w.view(ipStart..<(ipStart + 20))), at: ipStart + 10)
        if natTraversal {
            // RFC 3948 section 2.1: the UDP checksum is sent as zero.
            w.append(count: 8) { p in
                p.storeBE(Self.natTraversalPort, at: 0)
                p.storeBE(Self.natTraversalPort, at: 2)
                p.storeBE(UInt16(truncatingIfNeeded: udpBytes), at: 4)
                p.storeBE(UInt16(0), at: 6)
            }
        }
        var iv = SplitMix64(seed: ~(UInt64(spi) << 32 | UInt64(sequence)))
        w.append(count: 8 + Self.ivBytes) { p in
            p.storeBE(spi, at: 0)
            p.storeBE(sequence, at: 4)
            for k in 0..<(Self.ivBytes / 8) {
                let v = iv.next()
                p.storeBE(UInt32(truncatingIfNeeded: v >> 32), at: 8 + 8 * k)
                p.storeBE(UInt32(truncatingIfNeeded: v), at: 12 + 8 * k)
            }
        }
        var keystream = SplitMix64(seed: UInt64(spi) << 32 | UInt64(sequence))
        var icv: UInt64 = 0xCBF2_9CE4_8422_2325
        w.append(count: cipherBytes) { p in
            var word: UInt64 = 0
            for i in 0..<cipherBytes {
                if i % 8 == 0 { word = keystream.next() }
                let plain: UInt8 = i < inner.count ? inner[i]
                    : i < inner.count + padding ? UInt8(truncatingIfNeeded: i - inner.count + 1)
                    : i == cipherBytes - 2 ? UInt8(padding) : nextHeader
                let c = plain ^ UInt8(truncatingIfNeeded: word >> (8 * UInt64(i % 8)))
                p.store(c, at: i)
                icv = (icv ^ UInt64(c)) &* 0x0000_0100_0000_01B3
            }
        }
        var mac = SplitMix64(seed: icv)
        w.append(count: Self.icvBytes) { p in
            let a = mac.next()
            p.storeBE(UInt32(truncatingIfNeeded: a >> 32), at: 0)
            p.storeBE(UInt32(truncatingIfNeeded: a), at: 4)
            p.storeBE(UInt32(truncatingIfNeeded: mac.next()), at: 8)
        }
    }
}
