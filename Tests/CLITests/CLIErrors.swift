import Foundation
import TestSupport
import Testing

/// Helpers for the tests of errors: a scenario written to a temporary file; exit status 2 and exactly one line.
enum CLIErrors {
    static func write(_ text: String, _ name: String) throws -> String {
        let path = makeTempDirectory("vpcsim-hostile") + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func expectOneLineError(_ r: ProcessResult, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr == "vpcsim: error: \(expected)\n", sourceLocation: sourceLocation)
    }
}
