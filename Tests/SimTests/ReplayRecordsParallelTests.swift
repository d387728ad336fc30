import Foundation
@testable import Sim
import TestSupport
import Testing

/// `ReplayRecords.readParallel` (worker threads parsing chunks) against `read` with one thread: the same table of
/// (interface, 5-tuple) counts with the same first lines, the same unknown interfaces in the same order, the same
/// counters and the same errors, on logs that have every kind of line a worker hands back — headers in the middle
/// (files joined with `cat`), IPv6, NODATA and SKIPDATA, "-", blanks, CRLF, interfaces not in the network, a last
/// line without a line break — with chunks small enough that lines and headers fall across them.
@Suite("Reading flow logs with worker threads")
struct ReplayRecordsParallelTests {
    static let interfaces = ["eni-1235b8ca123456789": 0, "eni-0f00000000000000a": 1]
    static let v2 = FlowLogFormat.defaultV2.fields.map(\.rawValue)

    /// A log of `n` records in the default format, then (from `switchAt`) a header and records in a custom one.
    static func log(_ n: Int, switchAt: Int? = nil, crlf: Bool = false, finalBreak: Bool = true, bad: Int? = nil) -> String {
        var lines: [String] = []
        var custom = false
        for i in 0..<n {
            if i == switchAt {
                lines.append("version interface-id srcaddr dstaddr srcport dstport protocol action log-status tcp-flags")
                custom = true
            }
            let eni = i % 11 == 0 ? "eni-0aaaaaaaaaaaa\(i % 5)" : i % 2 == 0 ? "eni-1235b8ca123456789" : "eni-0f00000000000000a"
            let src = "10.0.\(i % 7).\(i % 250)", dst = "52.213.\(i % 3).42"
            let action = i % 13 == 0 ? "REJECT" : "ACCEPT"
            var status = "OK"
            if i % 17 == 0 { status = "NODATA" }
            if i % 19 == 0 { status = "SKIPDATA" }
            var line: String
            if custom {
                line = "5 \(eni) \(src) \(dst) \(1024 + i % 50) 22 6 \(action) \(status) \(i % 4 == 0 ? 2 : 18)"
            } else if i % 23 == 0 {
                line = "2 123456789010 \(eni) 2001:db8::\(i) 2001:db8::1 443 \(40000 + i) 6 1 40 1418530010 1418530070 ACCEPT OK"
            } else if i % 29 == 0 {
                line = "2 123456789010 \(eni) - - - - - - - 1418530010 1418530070 - NODATA"
            } else {
                line = "2 123456789010 \(eni) \(src) \(dst) \(1024 + i % 60) 5001 \(i % 31 == 0 ? 17 : 6) "
                    + "\(i) \(i * 40) 1418530010 1418530070 \(action) \(status)"
            }
            if i == bad { line = line.replacingOccurrences(of: " 5001 ", with: " 70000 ") }
            if i % 37 == 0 { lines.append(i % 2 == 0 ? "" : "   ") }
            lines.append(crlf && i % 3 == 0 ? line + "\r" : line)
        }
        return lines.joined(separator: "\n") + (finalBreak ? "\n" : "")
    }

    struct Outcome: Equatable, CustomStringConvertible {
        var entries: [String]
        var unknown: [String]
        var records: Int, noData: Int, ipv6: Int
        var error: String?
        var description: String {
            "\(entries.count) entries (first \(entries.first ?? "-")), unknown \(unknown), records \(records), "
                + "noData \(noData), ipv6 \(ipv6), error \(error ?? "none")"
        }
    }

    static func outcome(_ path: String, workers: Int?, chunk: Int = 300) -> Outcome {
        let r = ReplayRecords(interfaces: interfaces, format: v2)
        var failure: String?
        do {
            if let workers { try r.readParallel(path: path, workers: workers, chunk: chunk) } else { try r.read(path: path) }
        } catch {
            failure = "\(error)"
        }
        let entries = r.entries().map { e in
            "\(e.key.eni) \(e.key.proto) \(e.key.source) \(e.key.destination) \(e.key.sourcePort) \(e.key.destinationPort) "
                + "\(e.counts.accept)/\(e.counts.reject) \(e.counts.flags) \(e.counts.file):\(e.counts.line)"
        }
        return Outcome(entries: entries, unknown: r.unknownInterfaces.map { "\($0.id) \($0.records)" }, records: r.records,
                       noData: r.noData, ipv6: r.ipv6, error: failure)
    }

    static func write(_ text: String, _ name: String, gzip: Bool = false) throws -> String {
        let dir = makeTempDirectory("replay-parallel")
        let path = dir + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        guard gzip else { return path }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "gzip -c '\(path)' > '\(path).gz'"]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return path + ".gz"
    }

    @Test("every kind of line, across chunks of 64 to 4096 bytes, one and two workers: as one thread reads it",
          arguments: [(false, false, true), (true, false, true), (false, true, false), (true, true, false)])
    func sameAsSerial(header: Bool, crlf: Bool, finalBreak: Bool) throws {
        let text = (header ? "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" : "")
            + Self.log(3000, switchAt: 2000, crlf: crlf, finalBreak: finalBreak)
        let path = try Self.write(text, "mixed.log")
        let serial = Self.outcome(path, workers: nil)
        #expect(serial.error == nil)
        #expect(serial.records > 2500 && serial.ipv6 > 50 && serial.noData > 100 && !serial.unknown.isEmpty)
        // Records after the custom header counted with their own columns (tcp-flags from the custom format).
        #expect(serial.entries.contains { $0.contains(" 22 ") })
        for workers in [1, 2] {
            for chunk in [64, 300, 4096] {
                #expect(Self.outcome(path, workers: workers, chunk: chunk) == serial, "workers \(workers), chunk \(chunk)")
            }
        }
    }

    @Test("gzip: inflated by the reading thread, parsed by the workers: the same")
    func gzip() throws {
        let path = try Self.write(Self.log(3000, switchAt: 1500), "mixed.log", gzip: true)
        let serial = Self.outcome(path, workers: nil)
        #expect(serial.error == nil && serial.records > 2500)
        #expect(Self.outcome(path, workers: 2, chunk: 500) == serial)
    }

    @Test("a bad record, a header without a needed field, a gzip cut short: the same error, the same line")
    func errors() throws {
        let bad = try Self.write(Self.log(2000, bad: 1234), "bad.log")
        let serialBad = Self.outcome(bad, workers: nil)
        #expect(serialBad.error?.hasSuffix("dstport '70000' is not a port (0-65535)") == true)
        #expect(Self.outcome(bad, workers: 2, chunk: 200) == serialBad)

        let noAction = try Self.write(Self.log(500) + "version interface-id srcaddr dstaddr srcport dstport protocol\n"
                                      + Self.log(10), "no-action.log")
        let serialNoAction = Self.outcome(noAction, workers: nil)
        #expect(serialNoAction.error?.contains("the format has no action field") == true)
        #expect(Self.outcome(noAction, workers: 2, chunk: 200) == serialNoAction)

        let gz = try Self.write(Self.log(3000), "cut.log", gzip: true)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: gz))
        let cut = gz + ".cut.gz"
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
        let serialCut = Self.outcome(cut, workers: nil)
        #expect(serialCut.error?.contains("gzip data is cut short") == true)
        #expect(Self.outcome(cut, workers: 2, chunk: 256) == serialCut)
    }

    @Test("a line longer than a chunk, and a file of one line")
    func longLines() throws {
        let long = "2 123456789010 eni-1235b8ca123456789 10.0.0.1 52.213.180.42 1024 5001 6 1 40 1418530010 1418530070 ACCEPT OK"
            + String(repeating: " ", count: 5000) + "\n"
        let path = try Self.write(Self.log(100) + long + Self.log(100), "long.log")
        let serial = Self.outcome(path, workers: nil)
        #expect(serial.error == nil)
        #expect(Self.outcome(path, workers: 2, chunk: 128) == serial)
        let one = try Self.write(String(long.dropLast()), "one.log")
        #expect(Self.outcome(one, workers: 2, chunk: 64) == Self.outcome(one, workers: nil))
        #expect(Self.outcome(one, workers: nil).records == 1)
    }
}
