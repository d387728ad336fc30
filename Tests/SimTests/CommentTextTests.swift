import Packets
import Testing
@testable import Sim

/// The capture comments written as bytes (`CommentText`) read as the `String` interpolation they replace.
@Suite struct CommentTextTests {
    /// Every octet value at every place in an address and every digit count of a port (both ends included),
    /// literals with multi-byte UTF-8 ("→"), a model's id, and a text long enough to grow the buffer several times.
    @Test func bytesReadAsTheInterpolatedString() {
        var text = CommentText()
        defer { text.free() }
        var rng = SplitMix64(seed: 7)
        let ports: [UInt16] = [0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 40000, 65535]
        var checked = 0
        for octet in 0...255 {
            for place in 0..<4 {
                let other = UInt32(truncatingIfNeeded: rng.next())
                let a = IPv4Address(rawValue: other & ~(0xFF << (8 * place)) | UInt32(octet) << (8 * place))
                let b = IPv4Address(rawValue: UInt32(truncatingIfNeeded: rng.next()))
                let p = ports[(octet + place) % ports.count], q = ports[(octet * 3 + place) % ports.count]
                let id = place == 0 ? "nat-0a1b2c3d4e5f67890" : "NAT gateway « \(octet) »"
                text.clear()
                text.append("arrived from the private side; translated ")
                text.append(a, port: p)
                text.append(" → ")
                text.append(b, port: q)
                text.append(" by ")
                text.append(id)
                let expected = "arrived from the private side; translated \(a):\(p) → \(b):\(q) by \(id)"
                #expect(String(decoding: text.utf8, as: UTF8.self) == expected)
                #expect(Array(text.utf8) == Array(expected.utf8))
                checked += 1
            }
        }
        #expect(checked == 1024)
        text.clear()
        var long = ""
        for k in 0..<500 {
            let a = IPv4Address(rawValue: UInt32(k) &* 2_654_435_761)
            text.append(a, port: UInt16(k))
            text.append("; ")
            long += "\(a):\(k); "
        }
        #expect(String(decoding: text.utf8, as: UTF8.self) == long)
        text.clear()
        #expect(text.utf8.count == 0)
    }
}
