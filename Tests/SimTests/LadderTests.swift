import Foundation
import Testing
import TestSupport
@testable import Sim

/// The ladder diagram of the text report: columns in the order the flow's first packet crossed the capture points,
/// every arrow from the sending column toward the receiving one, a drop's ✘ beyond the last point that saw it.
@Suite struct LadderTests {
    /// One flow's ladder as the report prints it: the column headings, and per packet its summary and the
    /// diagram's scalars (a ● at `2 + 14 × column`).
    struct Ladder {
        var columns: [String]
        var rows: [(summary: String, line: [Unicode.Scalar])]

        /// The column a ● stands in at `x`.
        static func column(_ x: Int) -> Int { (x - 2) / 14 }

        /// The column an arrowhead points at (▶: the ● right after it; ◀: the ● right before it), and whether it
        /// points right; nil when the row has no arrowhead.
        func arrow(_ row: Int) -> (column: Int, right: Bool)? {
            let line = rows[row].line
            if let x = line.firstIndex(of: "▶") { return (Self.column(x + 1), true) }
            if let x = line.firstIndex(of: "◀") { return (Self.column(x - 1), false) }
            return nil
        }

        func row(_ summary: String) -> Int? { rows.firstIndex { $0.summary == summary } }
    }

    /// The ladder under the section of flow `flow` in report text `text`.
    static func ladder(_ text: String, flow: String) throws -> Ladder {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let section = try #require(lines.firstIndex { $0.hasPrefix("── \(flow) ") })
        let start = try #require(lines[section...].firstIndex { $0.hasPrefix("  ladder (") })
        let header = Array(lines[start + 1].unicodeScalars.dropFirst(16))
        let columns = stride(from: 0, to: header.count, by: 14).map {
            String(String.UnicodeScalarView(header[$0..<min($0 + 14, header.count)])).trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        var rows: [(String, [Unicode.Scalar])] = []
        for l in lines[(start + 2)...] {
            guard l.hasPrefix("    "), l.dropFirst(4).first?.isNumber == true else { break }
            let scalars = Array(l.unicodeScalars)
            let width = columns.count * 14 + 2
            guard scalars.count > 16 + width else { break }
            let line = Array(scalars[16..<(16 + width)])
            var summary = String(String.UnicodeScalarView(scalars[(16 + width)...])).trimmingCharacters(in: .whitespaces)
            if let cut = summary.range(of: "  ✘ ") { summary = String(summary[..<cut.lowerBound]) }
            rows.append((summary, line))
        }
        return Ladder(columns: columns, rows: rows)
    }

    static func run() throws -> String {
        let s = try ScenarioLoader.load(path: repositoryRoot + "/scenarios/inbound-to-instance.yaml")
        let o = try Runner.run(scenario: s, options: .init(outDir: nil, capture: [], writeFiles: false))
        #expect(o.report.expectations_failed == 0)
        return o.text
    }

    /// An outside host connecting in to an instance's public IP: it is the highest-numbered capture point, so the
    /// columns sorted by number put it on the right and drew its SYN pointing at itself.
    @Test func anOutsideHostConnectingInIsTheLeftColumnAndItsSYNPointsAtTheInstance() throws {
        let ladder = try Self.ladder(try Self.run(), flow: "admin-sftp")
        #expect(ladder.columns == ["04 admin-pc", "03 igw", "01 instance"])
        let syn = try #require(ladder.row("[SYN]"))
        let synAck = try #require(ladder.row("[SYN, ACK]"))
        #expect(ladder.arrow(syn).map { ladder.columns[$0.column] } == "01 instance")
        #expect(ladder.arrow(syn)?.right == true)
        #expect(ladder.arrow(synAck).map { ladder.columns[$0.column] } == "04 admin-pc")
        #expect(ladder.arrow(synAck)?.right == false)
        // The SYN leaves the client's column: its first ● is in column 0.
        #expect(ladder.rows[syn].line.firstIndex(of: "●").map(Ladder.column) == 0)
    }

    /// A Lambda function calling an instance in its VPC: the instance's ENI comes first in the numbering.
    @Test func aLambdaCallingAnInstanceIsTheLeftColumnAndItsSYNPointsAtTheInstance() throws {
        let ladder = try Self.ladder(try Self.run(), flow: "lambda-sftp")
        #expect(ladder.columns == ["02 lambda", "01 instance"])
        let syn = try #require(ladder.row("[SYN]"))
        let synAck = try #require(ladder.row("[SYN, ACK]"))
        #expect(ladder.arrow(syn).map { ladder.columns[$0.column] } == "01 instance")
        #expect(ladder.arrow(syn)?.right == true)
        #expect(ladder.arrow(synAck).map { ladder.columns[$0.column] } == "02 lambda")
        #expect(ladder.arrow(synAck)?.right == false)
    }

    /// A SYN dropped at the instance's security group dies past the internet gateway, on the way in: its ✘ is to
    /// the right of the gateway's ●, not beyond the client.
    @Test func aDropOnTheWayInIsMarkedPastTheLastPointTowardTheInstance() throws {
        let ladder = try Self.ladder(try Self.run(), flow: "admin-https")
        #expect(ladder.columns == ["04 admin-pc", "03 igw"])
        let syn = try #require(ladder.row("[SYN]"))
        let line = ladder.rows[syn].line
        let igw = try #require(line.lastIndex(of: "●"))
        let cross = try #require(line.firstIndex(of: "✘"))
        #expect(Ladder.column(igw) == 1)
        #expect(cross == igw + 7)
        #expect(!line.contains("▶") && !line.contains("◀"))
    }

    /// The story's ladders keep their shape: the Lambda is point 01 and the first column, its SYNs die past the
    /// NAT gateway (the README quotes them).
    @Test func theStorysLadderIsUnchanged() throws {
        let s = try ScenarioLoader.load(path: repositoryRoot + "/scenarios/lambda-sftp-nacl.yaml")
        let o = try Runner.run(scenario: s, options: .init(outDir: nil, capture: [], writeFiles: false))
        let ladder = try Self.ladder(o.text, flow: "sftp-upload")
        #expect(ladder.columns == ["01 lambda", "02 nat"])
        #expect(o.text.contains("    0.000000      ●─────────────●──────✘       [SYN]  ✘ acl-0b1c2d3e4f5a6b7c8"))
        let https = try Self.ladder(o.text, flow: "https-api")
        #expect(https.columns == ["01 lambda", "02 nat", "03 igw", "04 sftp.exam"])
        let syn = try #require(https.row("[SYN]"))
        #expect(https.arrow(syn).map { https.columns[$0.column] } == "04 sftp.exam")
    }
}
