import Foundation
import TestSupport
import Testing

/// The fuzzing harness (Sources/vpcsim-fuzz, docs/robustness.md) on a time budget: structure-aware mutations of
/// every parser's inputs, none of which may crash, hang, exhaust memory or fail without one located line. And the
/// inputs it found once, kept in Tests/Fixtures/fuzz/<parser>/, replayed every time.
@Suite(.serialized) struct FuzzTests {
    /// The built `vpcsim-fuzz`, beside the test bundle or in .build/debug.
    static func harness() -> String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vpcsim-fuzz").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return repositoryRoot + "/.build/debug/vpcsim-fuzz"
    }

    static let fixtures = Fixtures.path("fuzz")

    /// Whether Tests/Fixtures/fuzz/pending holds any input (git keeps no empty folder).
    static var pendingInputs: Bool {
        let dir = fixtures + "/pending"
        guard let files = FileManager.default.enumerator(atPath: dir) else { return false }
        for case let f as String in files where !isDirectory(dir + "/" + f) { return true }
        return false
    }

    static func isDirectory(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
    }

    @Test func theKeptInputsPass() throws {
        let r = try run(Self.harness(), ["replay", Self.fixtures], cwd: repositoryRoot)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let summary = try #require(r.stdout.split(separator: "\n").last)
        #expect(summary.hasSuffix(" inputs, 0 failing"), "\(r.stdout)")
        let count = Int(summary.split(separator: " ")[2]) ?? 0
        #expect(count >= 5, "\(summary)")
    }

    /// The inputs of problems found and not yet fixed still show them: once one passes, move it to
    /// Tests/Fixtures/fuzz/<parser>/ (replayed above) so that it stays fixed.
    @Test(.enabled(if: FuzzTests.pendingInputs, "no pending inputs: every problem found is fixed"))
    func thePendingInputsStillFail() throws {
        let r = try run(Self.harness(), ["replay", Self.fixtures + "/pending"], cwd: repositoryRoot)
        let lines = r.stdout.split(separator: "\n")
        let summary = try #require(lines.last)
        let total = Int(summary.split(separator: " ")[2]) ?? -1
        let failing = lines.filter { $0.hasPrefix("FAIL ") }.count
        #expect(total > 0 && failing == total, "fixed, to be moved to Tests/Fixtures/fuzz/<parser>/: \(r.stdout)")
    }

    /// Seed 1, 20 s per parser in the debug build (some 300–1,500 inputs each on two cores), one input in 25 run
    /// through the vpcsim binary as well. Problems the pending inputs (if any) show are reported, not failed.
    @Test func fuzzingFindsNothingNew() throws {
        let work = makeTempDirectory("vpcsim-fuzz")
        let pending = Self.pendingInputs ? ["--pending", Self.fixtures + "/pending"] : []
        let r = try run(Self.harness(), ["--seed", "1", "--seconds", "20", "--work", work, "--e2e-every", "25",
                                         "--minimize-seconds", "20", "--vpcsim", vpcsimExecutable()] + pending,
                        cwd: repositoryRoot)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        for parser in ["scenario", "pcap", "logs", "import"] {
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix(parser + ": ") }
            let inputs = line.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
            #expect(inputs >= 50, "\(parser): \(line ?? "no summary")")
        }
        #expect(!r.stdout.contains(" NEW "), "\(r.stdout)")
    }
}
