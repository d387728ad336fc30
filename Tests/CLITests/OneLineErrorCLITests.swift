import Foundation
import TestSupport
import Testing

@Suite struct OneLineErrorCLITests {
    @Test func aValueWithNewlinesAndEscapesStaysOnOneLine() throws {
        let path = try CLIErrors.write("name: x\nseed: \"1\\n\\u001b[2J2\"\n", "t.yaml")
        CLIErrors.expectOneLineError(try vpcsim(["validate", path]),
                                     "\(path):2:7: invalid seed '1\\n\\u{1b}[2J2' (expected an integer 0-18446744073709551615)")
        // A file name with a newline, which the message quotes as it is given.
        let dir = makeTempDirectory("vpcsim-hostile")
        CLIErrors.expectOneLineError(try vpcsim(["validate", dir + "/a\nb.yaml"]),
                                     "\(dir)/a\\nb.yaml:0:0: cannot read scenario: No such file or directory")
    }
}
