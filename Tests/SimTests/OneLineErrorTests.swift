import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// A value with a newline or another control character, quoted into an error, leaves it one line.
@Suite struct OneLineErrorTests {
    @Test func controlCharactersInAQuotedValueAreEscaped() {
        let e = scenarioLoadError("name: x\nseed: \"1\\n2\\t3\\u001b[31m\"\n")
        #expect(e?.message == "invalid seed '1\\n2\\t3\\u{1b}[31m' (expected an integer 0-18446744073709551615)")
        #expect(e.map { !$0.description.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) } == true)
        #expect(escapingControlCharacters("a\u{2028}b\r\0\u{85}") == "a\\u{2028}b\\r\\0\\u{85}")
        #expect(quoted("plain") == "'plain'")
    }
}
