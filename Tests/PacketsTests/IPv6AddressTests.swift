import Packets
import Testing

@Suite struct IPv6AddressTests {
    /// RFC 5952 §4 and its examples: what every spelling of an address is written as.
    @Test(arguments: [
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // §4.2.3: the first of two equal runs
        ("2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // §4.1: no leading zeros
        ("2001:db8::0:1", "2001:db8::1"),
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),  // §4.2.1: as much as possible
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // §4.2.2: one zero group stays
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  // §4.2.3: the longest run
        ("2001:DB8::AAAA", "2001:db8::aaaa"),  // §4.3: lower case
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("fe80::0202:b3ff:fe1e:8329", "fe80::202:b3ff:fe1e:8329"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),  // §5: IPv4-mapped in mixed notation
        ("0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("1:0:0:0:2:0:0:3", "1::2:0:0:3"),
    ])
    func canonicalText(_ input: String, _ expected: String) throws {
        let a = try IPv6Address(parsing: input)
        #expect(a.description == expected)
        #expect(IPv6Address(expected) == a)
    }

    @Test func groupsAndHalves() throws {
        let a = try IPv6Address(parsing: "2001:db8:1:2:3:4:5:6")
        #expect(a.high == 0x2001_0DB8_0001_0002)
        #expect(a.low == 0x0003_0004_0005_0006)
        #expect((0..<8).map { a.group($0) } == [0x2001, 0xDB8, 1, 2, 3, 4, 5, 6])
        #expect(a.octets == [0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6])
        #expect(IPv6Address(mapping: IPv4Address(10, 0, 1, 10)).mappedIPv4 == IPv4Address(10, 0, 1, 10))
        #expect(try IPv6Address(parsing: "2001:db8::1:ff12:3456").solicitedNode.description == "ff02::1:ff12:3456")
        #expect(try IPv6Address(parsing: "ff02::1:ff12:3456").multicastMAC.description == "33:33:ff:12:34:56")
    }

    /// Seeded random addresses, with zero groups made likely, survive text and back.
    @Test func randomAddressesRoundTripThroughText() throws {
        var rng = SplitMix64(seed: 0x6)
        for _ in 0..<5_000 {
            var g = [UInt16](repeating: 0, count: 8)
            for i in 0..<8 where Bool.random(using: &rng) {
                g[i] = UInt16.random(in: 0...(Bool.random(using: &rng) ? 0xF : 0xFFFF), using: &rng)
            }
            let a = IPv6Address(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7])
            let text = a.description
            #expect(IPv6Address(text) == a, "\(text)")
            #expect(text == text.lowercased() && !text.contains(":::"))
            // The uncompressed spelling parses to the same address.
            #expect(IPv6Address(g.map { String($0, radix: 16) }.joined(separator: ":")) == a)
        }
    }

    @Test(arguments: [
        ("", "it is empty"),
        ("10.0.0.1", "it is an IPv4 address"),
        ("2001:db8::1::2", "it has more than one '::'"),
        ("2001:db8:12345::", "group '12345' has more than 4 hex digits"),
        ("2001:dg8::", "group 'dg8' is not hexadecimal"),
        ("1:2:3:4:5:6:7", "it has 7 groups, not 8, and no '::'"),
        ("1:2:3:4:5:6:7:8:9", "it has more than 8 groups"),
        ("1:2:3:4::5:6:7:8", "'::' stands for no group: it has 8 groups besides"),
        (":1::", "it starts with a single ':'"),
        ("1::2:", "it ends with a single ':'"),
        ("1:::2", "it has an empty group (':::' or a ':' at the end)"),
        ("::1.2.3.4:5", "an IPv4 part may only end it"),
        ("::1.2.3.256", "'1.2.3.256' is not an IPv4 dotted quad"),
        ("fe80::1%eth0", "group '1%eth0' is not hexadecimal"),
        ("[::1]", "group '[' is not hexadecimal"),
    ])
    func malformedAddressesSayWhy(_ input: String, _ reason: String) {
        #expect(throws: IPv6Address.ParseError(text: input, reason: reason)) { try IPv6Address(parsing: input) }
        #expect(IPv6Address(input) == nil)
    }

    @Test func cidrParsesAndContains() throws {
        let vpc = try IPv6CIDR(parsing: "2600:1f18:abc:de00::/56")
        #expect(vpc.description == "2600:1f18:abc:de00::/56")
        let subnet = try IPv6CIDR(parsing: "2600:1f18:abc:de01::/64")
        #expect(vpc.contains(subnet) && !subnet.contains(vpc) && vpc.overlaps(subnet))
        #expect(vpc.contains(try IPv6Address(parsing: "2600:1f18:abc:deff:ffff:ffff:ffff:ffff")))
        #expect(!vpc.contains(try IPv6Address(parsing: "2600:1f18:abc:df00::")))
        #expect(vpc.last.description == "2600:1f18:abc:deff:ffff:ffff:ffff:ffff")
        #expect(IPv6CIDR.anyIPv6.contains(try IPv6Address(parsing: "2001:db8::1")))
        #expect(IPv6CIDR.anyIPv6.description == "::/0")
        #expect(IPv6CIDR.nat64.description == "64:ff9b::/96")
        #expect(IPv6CIDR.nat64.contains(try IPv6Address(parsing: "64:ff9b::203.0.113.22")))
        let host = try IPv6CIDR(parsing: "2001:db8::5")
        #expect(host.prefixLength == 128)
        #expect(host.contains(try IPv6Address(parsing: "2001:db8::5")))
        #expect(!host.contains(try IPv6Address(parsing: "2001:db8::4")))
        // Every prefix length masks where it should: the block holds its last address and not the next one.
        for p in 1...128 {
            let c = IPv6CIDR(containing: try IPv6Address(parsing: "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"),
                             prefixLength: p)
            #expect(c.contains(c.last) && c.contains(c.first))
            let past = c.last.low == .max ? IPv6Address(high: c.last.high &+ 1, low: 0)
                : IPv6Address(high: c.last.high, low: c.last.low + 1)
            #expect(!c.contains(past), "/\(p)")
            #expect(try IPv6CIDR(parsing: c.description) == c)
        }
    }

    @Test(arguments: [
        ("2001:db8::/129", "'2001:db8::/129' has an invalid prefix length (0-128)"),
        ("2001:db8::/-1", "'2001:db8::/-1' has an invalid prefix length (0-128)"),
        ("2001:db8::/", "'2001:db8::/' has an invalid prefix length (0-128)"),
        ("2001:db8::1/64", "'2001:db8::1/64' has host bits set (did you mean 2001:db8::/64?)"),
        ("2600:1f18:abc:de10::/56", "'2600:1f18:abc:de10::/56' has host bits set (did you mean 2600:1f18:abc:de00::/56?)"),
        ("10.0.0.0/16", "'10.0.0.0/16' is IPv4 where an IPv6 CIDR block is required"),
        ("0.0.0.0/0", "'0.0.0.0/0' is IPv4 where an IPv6 CIDR block is required"),
        ("2001:db8:::/48", "'2001:db8:::/48' has an invalid IPv6 address: it has an empty group (':::' or a ':' at the end)"),
        ("2001:db8::/48/1", "'2001:db8::/48/1' is not an IPv6 CIDR block (expected address/n, as 2001:db8::/56)"),
        ("2001:xyz::/48", "'2001:xyz::/48' has an invalid IPv6 address: group 'xyz' is not hexadecimal"),
    ])
    func cidrErrorsSayWhatIsWrong(_ input: String, _ message: String) {
        do {
            _ = try IPv6CIDR(parsing: input)
            Issue.record("\(input) parsed")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func eitherFamily() {
        #expect(IPAddress("10.0.0.5") == .v4(IPv4Address(10, 0, 0, 5)))
        #expect(IPAddress("2001:db8::5")?.v6 == IPv6Address(0x2001, 0xDB8, 0, 0, 0, 0, 0, 5))
        #expect(IPAddress("nonsense") == nil)
        #expect(IPAddress("2001:db8::5")!.endpoint(port: 22) == "[2001:db8::5]:22")
        #expect(IPAddress("10.0.0.5")!.endpoint(port: 22) == "10.0.0.5:22")
        #expect(IPAddress("10.0.0.5")! < IPAddress("::1")!)
    }
}
