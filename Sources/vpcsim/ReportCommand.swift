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
        let r: RunReport
        do {
            r = try HTMLReport.readReport(path: report)
        } catch let e as HTMLReport.ReportFileError {
            fail(e.description)
        }
        let dir = (report as NSString).deletingLastPathComponent
        let logs = r.flow_logs.flatMap { HTMLReport.flowLogExcerpt(path: (dir.isEmpty ? "." : dir) + "/" + $0) }
        do {
            try writeFileAtomically(Array(try HTMLReport.page(r, flowLogs: logs).utf8), to: html)
        } catch {
            fail("\(html): cannot write the page: \(error)")
        }
    }
}
