import ArgumentParser
import Foundation
import Packets
import Sim

/// `vpcsim compare A B`: pairs the TCP conversations of two captures and compares them packet by packet.
/// Exit status: 0 every pair agrees, 1 a pair differs (or, with --strict, a conversation is unpaired),
/// 2 unreadable input.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare the TCP conversations of two captures (pcap/pcapng; VXLAN unwrapped) packet by packet.",
        discussion: """
            Conversations are paired by server port and the addresses where they agree, then by shape and \
            timing, so captures taken before and after NAT pair. Compared per packet: direction, flags, \
            relative seq/ack, payload length, TCP option kinds, TTL, and time since the conversation's first \
            packet within max(--time-tolerance-pct of the time, --time-tolerance-ms). Exit status: 0 agree, \
            1 differ, 2 unreadable input.
            """)

    @Argument(help: "The first capture (A).")
    var a: String

    @Argument(help: "The second capture (B).")
    var b: String

    @Flag(name: .long, help: "Print the comparison as JSON.")
    var json = false

    @Flag(name: .long, help: "Unpaired conversations make the captures differ.")
    var strict = false

    @Flag(name: .long, help: "Print every row of every pair's table, agreeing pairs too.")
    var full = false

    @Option(name: .customLong("time-tolerance-ms"), help: "Smallest time tolerance in milliseconds.")
    var timeToleranceMs: Double = 50

    @Option(name: .customLong("time-tolerance-pct"), help: "Time tolerance as a percentage of the time since the conversation's first packet.")
    var timeTolerancePct: Double = 5

    @Option(name: .long, help: "Fields to leave out, comma-separated: direction, flags, seq, ack, payload, options, ttl, time.")
    var ignore: String?

    func run() throws {
        guard timeToleranceMs >= 0, timeToleranceMs.isFinite else { fail("--time-tolerance-ms must be 0 or more") }
        guard timeTolerancePct >= 0, timeTolerancePct.isFinite else { fail("--time-tolerance-pct must be 0 or more") }
        var ignored = Set<ComparedField>()
        for name in (ignore ?? "").split(separator: ",") {
            let n = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard let f = ComparedField(rawValue: n) else {
                fail("--ignore: unknown field '\(n)' (fields: "
                    + ComparedField.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            ignored.insert(f)
        }
        let options = CompareOptions(toleranceMs: timeToleranceMs, tolerancePercent: timeTolerancePct,
                                     ignored: ignored, strict: strict)
        let comparison: CaptureComparison
        do {
            comparison = try CaptureComparison.compare(pathA: a, pathB: b, options: options)
        } catch {
            fail(error.description)
        }
        if json {
            let data = try CompareRenderer.json(comparison)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            print(CompareRenderer.text(comparison, full: full), terminator: "")
        }
        if comparison.exitStatus != 0 { throw ExitCode(comparison.exitStatus) }
    }
}
