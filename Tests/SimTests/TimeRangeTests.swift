import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// A run's times fit the nanosecond clock and classic pcap's 32-bit seconds, checked when the scenario loads.
@Suite struct TimeRangeTests {
    @Test func startTimeBefore1970OrAfter2038IsRefusedAtTheField() {
        for time in ["1969-12-31T23:59:59Z", "2038-01-19T03:14:08Z", "2200-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                     "1600-01-01"] {
            let e = scenarioLoadError("name: x\nstart_time: \(time)\n")
            #expect(e == ScenarioError(file: "t.yaml", line: 2, column: 13, message: "start_time '\(time)' is out of "
                + "range: classic pcap (the per-point captures) holds seconds since 1970 in 32 bits, which libpcap reads "
                + "as signed: from 1970-01-01T00:00:00Z to 2038-01-19T03:14:07Z"))
        }
        #expect(try! loadScenario("name: x\nstart_time: 1970-01-01T00:00:00Z\n").startTime == 0)
    }

    /// closed-port.yaml (start_time on line 13, the flow's `start: 0s` on line 87) with another start time, and
    /// `start`/`hold` for the flow.
    static func closedPort(startTime: String, start: String = "0s", hold: String? = nil) throws -> String {
        let text = try String(contentsOfFile: repositoryRoot + "/scenarios/closed-port.yaml", encoding: .utf8)
        return text.replacingOccurrences(of: "start_time: 2026-11-26T09:00:00Z", with: "start_time: \(startTime)")
            .replacingOccurrences(of: "    start: 0s\n", with: "    start: \(start)\n" + (hold.map { "    hold: \($0)\n" } ?? ""))
    }

    /// The run's whole range counts: a start that fits, with a flow's start and hold that take it past 2038.
    @Test func aRunThatWouldEndAfter2038IsRefusedAtStartTime() throws {
        #expect(scenarioLoadError(try Self.closedPort(startTime: "2038-01-15T00:00:00Z", start: "20h", hold: "48h")) == nil)
        let e = try #require(scenarioLoadError(try Self.closedPort(startTime: "2038-01-16T00:00:00Z", start: "20h", hold: "48h")))
        #expect(e.line == 13 && e.column == 13)
        // 20 h + 48 h, a day, the NAT gateway's idle timeout (350 s) and the Lambda's (30 s): 2038-01-19T20:06:20Z.
        #expect(e.message == "start_time '2038-01-16T00:00:00Z': the run may last until 2038-01-19T20:06:20Z (its latest "
            + "flow start, hold and timeouts, and a day for the connections to close), after 2038-01-19T03:14:07Z: classic "
            + "pcap (the per-point captures) holds seconds since 1970 in 32 bits, which libpcap reads as signed: from "
            + "1970-01-01T00:00:00Z to 2038-01-19T03:14:07Z")
    }

    @Test func aDurationOverAYearIsRefusedAtItsField() throws {
        #expect(scenarioLoadError(try Self.closedPort(startTime: "2026-11-26T09:00:00Z", hold: "8760h")) == nil)
        let e = scenarioLoadError(try Self.closedPort(startTime: "2026-11-26T09:00:00Z", hold: "8761h"))
        #expect(e == ScenarioError(file: "t.yaml", line: 88, column: 11,
                                   message: "hold '8761h' is over a year (8760h), the longest a duration in a scenario may be"))
    }

    @Test func rfc3339FormatsTheEndsOfClassicPcap() {
        #expect(ScenarioValues.rfc3339(seconds: 0) == "1970-01-01T00:00:00Z")
        #expect(ScenarioValues.rfc3339(seconds: 1 << 31) == "2038-01-19T03:14:08Z")
        #expect(ScenarioValues.rfc3339(seconds: 1 << 32) == "2106-02-07T06:28:16Z")
        #expect(ScenarioValues.rfc3339(seconds: 1_795_683_600) == "2026-11-26T09:00:00Z")
        #expect(ScenarioValues.rfc3339(seconds: 951_782_400) == "2000-02-29T00:00:00Z")
    }
}
