import Foundation
import TestSupport
import Testing

/// Nesting that crashed the YAML composer (stack overflow), or that JSONSerialization refuses without saying
/// where: exit status 2 and one line with the file, line and column.
@Suite struct NestingLimitCLITests {
    /// Some thousands of levels overflowed the YAML composer's stack (SIGSEGV; 10,000 in every build), and a
    /// chain of aliases the release of the composed tree: refused before either, in flow and block style.
    @Test func deeplyNestedYAMLIsRefusedNotACrash() throws {
        let n = 10_000
        for (yaml, location) in [
            ("name: x\nflows: " + String(repeating: "{a: ", count: n) + "1" + String(repeating: "}", count: n), "2:260"),
            ("name: x\nflows: " + String(repeating: "[", count: n) + String(repeating: "]", count: n), "2:71"),
            ("name: x\nflows:\n" + String(repeating: "- ", count: n) + "x\n", "3:127"),
            // 100,000 aliases, each a list of the one before: a tree as deep, in lines of one level each.
            ("name: x\nflows: []\nk0: &k0 [x]\n" + (1..<100_000).map { "k\($0): &k\($0) [*k\($0 - 1)]\n" }.joined(), "66:12"),
        ] {
            let path = try CLIErrors.write(yaml, "deep.yaml")
            CLIErrors.expectOneLineError(try vpcsim(["validate", path]), "\(path):\(location): nesting deeper than 64 levels")
        }
    }

    @Test func deeplyNestedJSONInADumpIsRefusedWithItsPlace() throws {
        let dir = makeTempDirectory("vpcsim-hostile-aws")
        let n = 100_000
        try ("{\"Vpcs\": " + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "}")
            .write(toFile: dir + "/vpcs.json", atomically: true, encoding: .utf8)
        let r = try vpcsim(["import", "aws", dir, "--out", dir + "/out.yaml"])
        CLIErrors.expectOneLineError(r, "\(dir)/vpcs.json:1:73: nesting deeper than 64 levels")
    }
}
