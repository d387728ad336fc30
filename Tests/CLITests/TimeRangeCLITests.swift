import Foundation
import TestSupport
import Testing

@Suite struct TimeRangeCLITests {
    /// A start time past 2262 overflowed the nanosecond clock (SIGILL); one in 2262 loaded and trapped during the
    /// run, leaving its spool files; one after 2038 wrapped in libpcap's reading. All are refused when the scenario
    /// loads, and nothing is written.
    @Test func startTimesTheClockOrPcapCannotHoldAreRefusedBeforeTheRun() throws {
        let scenario = try String(contentsOfFile: repositoryRoot + "/scenarios/closed-port.yaml", encoding: .utf8)
        for time in ["9999-12-31T23:59:59Z", "2262-04-11T23:00:00Z", "2107-01-01T00:00:00Z", "1677-01-01T00:00:00Z"] {
            let path = try CLIErrors.write(scenario.replacingOccurrences(of: "2026-11-26T09:00:00Z", with: time), "t.yaml")
            let out = makeTempDirectory("vpcsim-hostile-out")
            let r = try vpcsim(["run", path, "--out", out])
            CLIErrors.expectOneLineError(r, "\(path):13:13: start_time '\(time)' is out of range: classic pcap (the "
                + "per-point captures) holds seconds since 1970 in 32 bits, which libpcap reads as signed: from "
                + "1970-01-01T00:00:00Z to 2038-01-19T03:14:07Z")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [])
        }
    }
}
