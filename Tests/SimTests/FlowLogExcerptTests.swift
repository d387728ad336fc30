import Foundation
import Testing
import TestSupport
@testable import Sim

/// The start of flow-logs.txt that report.html shows: the header and at most `flowLogRowLimit` records, whether
/// the file has more, never a line cut by the 1 MiB read.
@Suite struct FlowLogExcerptTests {
    static func excerpt(_ text: String) throws -> HTMLReport.FlowLogExcerpt {
        let dir = makeTempDirectory("vpcsim-excerpt")
        let path = dir + "/flow-logs.txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try #require(HTMLReport.flowLogExcerpt(path: path))
    }

    static let header = "version account-id interface-id srcaddr dstaddr"

    static func records(_ n: Int) -> [String] { (0..<n).map { "2 123456789012 eni-0a \($0) 10.0.0.\($0 % 250)" } }

    @Test func aShortLogIsShownWholeWithoutItsBlankLines() throws {
        let e = try Self.excerpt(([Self.header] + Self.records(3)).joined(separator: "\n") + "\n\n")
        #expect(e.file == "flow-logs.txt" && e.lines == [Self.header] + Self.records(3) && !e.more)
        // Without the last newline the last record is whole all the same.
        #expect(try Self.excerpt(([Self.header] + Self.records(2)).joined(separator: "\n")).lines.count == 3)
    }

    @Test func aLongLogStopsAtTheLimitAndSaysThereIsMore() throws {
        let limit = HTMLReport.flowLogRowLimit
        let exact = try Self.excerpt(([Self.header] + Self.records(limit)).joined(separator: "\n") + "\n")
        #expect(exact.lines.count == limit + 1 && !exact.more)
        let longer = try Self.excerpt(([Self.header] + Self.records(limit + 1)).joined(separator: "\n") + "\n")
        #expect(longer.lines == [Self.header] + Self.records(limit) && longer.more)
    }

    @Test func aLineCutByTheReadIsNotShown() throws {
        // Two lines filling 1 MiB and more: the first whole, the second cut by the read.
        let first = String(repeating: "a", count: 600_000), second = String(repeating: "b", count: 600_000)
        let e = try Self.excerpt(first + "\n" + second + "\n")
        #expect(e.lines == [first] && e.more)
    }
}
