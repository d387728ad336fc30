import ArgumentParser
import Foundation
import Packets
import Sim

/// `vpcsim report report.json --html out.html`: draws an existing run (its report.json, and the flow-logs.txt beside
/// it) as `vpcsim run` draws report.html. Exit status: 0 written, 2 the report cannot be read or the page written.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render an existing run's report.json as report.html (topology, paths, ladders, fleets, files).")

    @Argument(help: "A report.json written by vpcsim run or trace.")
    var report: String

    @Option(name: .long, help: "The page to write (one self-contained HTML file).")
    var html: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: report) else {
            fail("\(report): cannot read the file")
        }
        let r: RunReport
        do {
            r = try JSONDecoder().decode(RunReport.self, from: data)
        } catch let e as DecodingError {
            fail("\(report): \(Self.describe(e))")
        } catch {
            fail("\(report): \(error)")
        }
        let dir = (report as NSString).deletingLastPathComponent
        let logs = r.flow_logs.flatMap { HTMLReport.flowLogExcerpt(path: (dir.isEmpty ? "." : dir) + "/" + $0) }
        do {
            try writeFileAtomically(Array(try HTMLReport.page(r, flowLogs: logs).utf8), to: html)
        } catch {
            fail("\(html): cannot write the page: \(error)")
        }
    }

    /// "flows[0].outcome: expected a string" — the JSON path and what is wrong there.
    static func describe(_ e: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            var s = ""
            for k in keys {
                if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
            }
            return s.isEmpty ? "the top level" : s
        }
        switch e {
        case .keyNotFound(let key, let c):
            return "\(path(c.codingPath + [key])): missing (not a report.json of vpcsim run?)"
        case .typeMismatch(let type, let c):
            return "\(path(c.codingPath)): expected \(type == String.self ? "a string" : "a \(type)")"
        case .valueNotFound(let type, let c):
            return "\(path(c.codingPath)): expected \(type == String.self ? "a string" : "a \(type)"), found null"
        case .dataCorrupted(let c):
            if c.codingPath.isEmpty {
                let detail = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return "not valid JSON" + (detail.map { " (\($0))" } ?? "")
            }
            return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default:
            return "\(e)"
        }
    }
}
