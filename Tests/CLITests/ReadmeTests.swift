import Foundation
import TestSupport
import Testing

/// What README.md shows a user, held against what the tool does: the quoted story output, the flow-log excerpt,
/// the output files, report.json's keys and the options of the command synopsis.
@Suite struct ReadmeTests {
    static func readme() throws -> String {
        try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
    }

    /// The lines of the first fenced block that follows `marker`.
    static func block(after marker: String, in text: String) throws -> [String] {
        let start = try #require(text.range(of: marker), "README has \(marker)")
        let open = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        let body = try #require(text[open.upperBound...].firstIndex(of: "\n"))
        let close = try #require(text.range(of: "\n```", range: body..<text.endIndex))
        return text[text.index(after: body)..<close.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
    }

    @Test func theQuotedStoryRunIsWhatRunPrintsAndTheFilesAreThere() throws {
        let quoted = try Self.block(after: "## The story, run", in: Self.readme())
        #expect(quoted.first == "$ swift run vpcsim run scenarios/lambda-sftp-nacl.yaml")
        let out = makeTempDirectory("vpcsim-readme")
        let r = try vpcsim(["run", "scenarios/lambda-sftp-nacl.yaml", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let printed = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Every quoted line but the elisions is printed, in the quoted order.
        var at = 0
        var matched = 0
        for line in quoted.dropFirst() where !line.isEmpty && line.trimmingCharacters(in: .whitespaces) != "…" {
            guard let found = printed[at...].firstIndex(of: line) else {
                Issue.record("README quotes a line the run does not print (in this order): \(line)")
                continue
            }
            at = found + 1
            matched += 1
        }
        #expect(matched >= 30)
        // The files of "What comes out".
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        for prefix in ["01-lambda-", "02-nat-", "03-igw-internet-side-", "04-host-"] {
            #expect(files.contains { $0.hasPrefix(prefix) && $0.hasSuffix(".pcap") }, "\(prefix)…pcap")
        }
        for name in ["all-hops.pcapng", "report.txt", "flow-logs.txt", "report.json", "report.html"] {
            #expect(files.contains(name), "\(name)")
        }
        #expect(try String(contentsOfFile: out + "/report.txt", encoding: .utf8) == r.stdout)
        // The flow-log excerpt: the header and every record quoted are in flow-logs.txt.
        let excerpt = try Self.block(after: "The story's flow logs", in: Self.readme()).filter { !$0.isEmpty }
        #expect(excerpt.count == 4)
        let log = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        for line in excerpt { #expect(log.contains(line), "\(line)") }
        // report.json's keys as README lists them.
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
            as? [String: Any])
        for key in ["scenario", "seed", "flows", "captures", "nat_gateways", "assumptions", "topology"] {
            #expect(json[key] != nil, "report.json: \(key)")
        }
        for flow in try #require(json["flows"] as? [[String: Any]]) {
            for key in ["name", "from", "to", "outcome", "elapsed_s", "drop", "hops", "reply_hops", "expectation", "ladder",
                        "seen_at"] {
                #expect(flow[key] != nil, "report.json flows[]: \(key)")
            }
        }
        for capture in try #require(json["captures"] as? [[String: Any]]) {
            for key in ["name", "file", "component"] { #expect(capture[key] != nil, "report.json captures[]: \(key)") }
        }
    }

    /// The sessions quoted in docs/compare.md (`$ vpcsim compare …` on the fixtures): every line shown, but the
    /// elisions, is printed in that order, and the exit status is the one stated after the block.
    @Test func theComparisonsQuotedInTheCompareDocsAreWhatComparePrints() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/docs/compare.md", encoding: .utf8)
        let blocks = text.components(separatedBy: "```\n$ vpcsim compare ").dropFirst()
        #expect(blocks.count == 3)
        var stated = 0
        for block in blocks {
            let body = try #require(block.components(separatedBy: "\n```").first)
            var lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let arguments = lines.removeFirst().split(separator: " ").map(String.init)
            let r = try vpcsim(["compare"] + arguments)
            // "(exit N…)" on the line after the block states the status.
            let next = block.components(separatedBy: "\n```\n").dropFirst().first?.split(separator: "\n").first ?? ""
            if next.hasPrefix("(exit ") {
                #expect(next.hasPrefix("(exit \(r.status)"), "\(arguments): exit \(r.status), docs say \(next)")
                stated += 1
            }
            let printed = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var at = 0
            for line in lines where line != "…" && !line.isEmpty {
                guard let found = printed[at...].firstIndex(of: line) else {
                    Issue.record("docs/compare.md quotes a line compare does not print (in this order): \(line)")
                    continue
                }
                at = found + 1
            }
        }
        #expect(stated == 2)
    }

    /// docs/import.md quotes the `vpcsim trace` line of the header an import writes, as the header prints it, and
    /// every `--app` value there is one `trace` takes.
    @Test func theImportDocsQuoteTheGeneratedHeadersTraceLine() throws {
        let r = try vpcsim(["import", "aws", "Tests/Fixtures/aws-json/synthetic/full", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("vpcsim trace THIS.yaml") })
        let docs = try String(contentsOfFile: repositoryRoot + "/docs/import.md", encoding: .utf8)
        #expect(docs.split(separator: "\n").contains(line), "docs/import.md does not quote: \(line)")
        let apps = try #require(line.range(of: "[--app ")).upperBound
        let values = line[apps...].prefix { $0 != "]" }.split(separator: "|")
        #expect(!values.isEmpty)
        let help = try vpcsim(["trace", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
        for v in values { #expect(help.contains(" \(v),") || help.contains(" \(v).") || help.contains(" \(v) "), "\(v)") }
    }

    /// Every option of the synopsis under "## Commands" is one the subcommand's --help lists.
    @Test func theCommandSynopsisNamesOptionsTheCommandsTake() throws {
        let synopsis = try Self.block(after: "## Commands", in: Self.readme()).filter { $0.hasPrefix("vpcsim ") }
        #expect(synopsis.count == 10)
        var checked = 0
        for line in synopsis {
            let words = line.split(separator: " ")
            let command = words[1] == "import" ? ["import", String(words[2])] : [String(words[1])]
            let help = try vpcsim(command + ["--help"])
            #expect(help.status == 0, "\(command)")
            let options = words.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }.filter { $0.hasPrefix("--") }
            for option in options {
                #expect(help.stdout.contains(option), "README: `\(line)` names \(option), which `vpcsim \(command.joined(separator: " ")) --help` does not")
                checked += 1
            }
        }
        #expect(checked >= 15)
    }
}
