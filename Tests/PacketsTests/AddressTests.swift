import Packets
import Testing

@Suite struct AddressTests {
    @Test func cidrParsesNetworkAndPrefix() throws {
        let c = try IPv4CIDR(parsing: "10.0.0.0/16")
        #expect(c.network == IPv4Address(10, 0, 0, 0))
        #expect(c.prefixLength == 16)
        #expect(c.description == "10.0.0.0/16")
        #expect(c.addressCount == 65536)
        #expect(c.last == IPv4Address(10, 0, 255, 255))
    }

    @Test func cidrRejectsPrefixAbove32() {
        #expect(throws: IPv4CIDR.ParseError.badPrefix("10.0.0.1/33")) { try IPv4CIDR(parsing: "10.0.0.1/33") }
        #expect(throws: IPv4CIDR.ParseError.self) { try IPv4CIDR(parsing: "10.0.0.0/-1") }
        #expect(throws: IPv4CIDR.ParseError.self) { try IPv4CIDR(parsing: "10.0.0.0/") }
    }

    @Test func cidrRejectsHostBitsAsAWSDoes() {
        #expect(throws: IPv4CIDR.ParseError.hostBitsSet("10.0.1.5/24", network: IPv4Address(10, 0, 1, 0))) {
            try IPv4CIDR(parsing: "10.0.1.5/24")
        }
        #expect(throws: IPv4CIDR.ParseError.self) { try IPv4CIDR(network: IPv4Address(10, 0, 0, 1), prefixLength: 31) }
    }

    @Test func cidrRejectsMalformedAddresses() {
        for bad in ["10.0.0/8", "256.0.0.0/8", "10.0.0.0.0/8", "a.b.c.d/8", "", "/8", "010.0.0.0/8", "10..0.0/8"] {
            #expect(throws: IPv4CIDR.ParseError.self, "\(bad)") { try IPv4CIDR(parsing: bad) }
        }
    }

    @Test func bareAddressIsSlash32() throws {
        let c = try IPv4CIDR(parsing: "203.0.113.22")
        #expect(c.prefixLength == 32)
        #expect(c.contains(IPv4Address(203, 0, 113, 22)))
        #expect(!c.contains(IPv4Address(203, 0, 113, 23)))
    }

    @Test func containmentOfAddressesAndBlocks() throws {
        let vpc = try IPv4CIDR(parsing: "10.0.0.0/16")
        let subnet = try IPv4CIDR(parsing: "10.0.1.0/24")
        let other = try IPv4CIDR(parsing: "10.1.0.0/24")
        #expect(vpc.contains(subnet))
        #expect(!subnet.contains(vpc))
        #expect(!vpc.contains(other))
        #expect(vpc.overlaps(subnet) && subnet.overlaps(vpc))
        #expect(!vpc.overlaps(other))
        #expect(IPv4CIDR.anyIPv4.contains(IPv4Address(255, 255, 255, 255)))
        #expect(IPv4CIDR.anyIPv4.contains(IPv4Address(0, 0, 0, 0)))
        #expect(vpc.contains(IPv4Address(10, 0, 255, 255)))
        #expect(!vpc.contains(IPv4Address(10, 1, 0, 0)))
    }

    @Test func ipv4AddressTextRoundTrips() {
        #expect(IPv4Address("198.51.100.7")?.description == "198.51.100.7")
        for text in ["0.0.0.0", "255.255.255.255", "10.100.9.99", "1.20.100.0", "100.64.0.10"] {
            #expect(IPv4Address(text)?.description == text)
        }
        #expect(IPv4Address("0.0.0.0") == IPv4Address.any)
        #expect(IPv4Address("1.2.3") == nil)
        #expect(IPv4Address("1.2.3.4 ") == nil)
        #expect(IPv4Address("10.0.1.10")!.isPrivateOrSpecial)
        #expect(!IPv4Address("8.8.8.8")!.isPrivateOrSpecial)
    }

    @Test func macAddressParsesAndPrints() {
        let m = MACAddress("02:42:0A:00:01:0a")
        #expect(m?.rawValue == 0x0242_0A00_010A)
        #expect(m?.description == "02:42:0a:00:01:0a")
        #expect(MACAddress("02:42:0a:00:01") == nil)
        #expect(MACAddress("02:42:0a:00:01:zz") == nil)
        #expect(MACAddress.broadcast.description == "ff:ff:ff:ff:ff:ff")
    }
}

@Suite struct ChecksumTests {
    /// RFC 1071 §3's worked example: the sum of 00 01 f2 03 f4 f5 f6 f7 is 0xddf2.
    @Test func rfc1071Example() {
        #expect(InternetChecksum.sum([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]) == 0xDDF2)
        #expect(InternetChecksum.checksum([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]) == 0x220D)
    }

    /// The IPv4 header on Wikipedia's "Internet checksum" page: checksum 0xb861.
    @Test func ipv4HeaderExample() {
        let header: [UInt8] = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
                               0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7]
        #expect(InternetChecksum.checksum(header) == 0xB861)
    }

    @Test func oddLengthPadsWithZero() {
        #expect(InternetChecksum.sum([0xAB]) == 0xAB00)
        #expect(InternetChecksum.sum([0x12, 0x34, 0xAB]) == 0xBD34)
    }

    @Test func longInputsMatchAWordAtATimeReference() {
        var rng = SplitMix64(seed: 7)
        for n in [0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1499, 1500] {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var ref: UInt32 = 0
            var i = 0
            while i < n {
                ref += UInt32(bytes[i]) << 8 | (i + 1 < n ? UInt32(bytes[i + 1]) : 0)
                i += 2
            }
            while ref >> 16 != 0 { ref = (ref & 0xFFFF) + (ref >> 16) }
            #expect(InternetChecksum.sum(bytes) == UInt16(ref), "length \(n)")
        }
    }
}
