import Foundation
import Packets
import TestSupport
import Testing

/// Classic pcap holds seconds since 1970 in 32 bits, which libpcap reads as signed: a writer refuses a timestamp
/// outside 1970-01-01 to 2038-01-19T03:14:07Z (the file is not written, `close()` throws) rather than wrap it.
@Suite struct PcapTimestampRangeTests {
    static let frame = [UInt8](repeating: 0xAB, count: 60)
    static let lastSecond = Int64(Int32.max) * 1_000_000_000  // 2038-01-19T03:14:07Z

    @Test func theLastSecondClassicPcapHoldsIsWrittenAndReadBack() throws {
        let dir = makeTempDirectory("vpcsim-pcap-range")
        let w = try PcapWriter(path: dir + "/last.pcap")
        w.write(Self.frame, timestamp: Self.lastSecond + 999_999_999)
        try w.close()
        let packets = try CaptureReader(path: dir + "/last.pcap").readAll()
        #expect(packets.map(\.timestamp) == [Self.lastSecond + 999_999_999])
    }

    @Test func aTimestampAfter2038OrBefore1970IsRefusedNotWrapped() throws {
        let dir = makeTempDirectory("vpcsim-pcap-range")
        for (name, ts) in [("after", Self.lastSecond + 1_000_000_000), ("before", Int64(-1))] {
            let w = try PcapWriter(path: "\(dir)/\(name).pcap")
            w.write(Self.frame, timestamp: 1_700_000_000_000_000_000)
            w.write(Self.frame, timestamp: ts)
            #expect(throws: CaptureFileError(path: "\(dir)/\(name).pcap", message: "write failed: a packet's timestamp is "
                + "outside 1970-01-01T00:00:00Z to 2038-01-19T03:14:07Z, the times classic pcap's 32-bit seconds hold for "
                + "every reader")) {
                try w.close()
            }
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/\(name).pcap"))
        }
    }

    @Test func theWriterThreadRefusesItToo() throws {
        let dir = makeTempDirectory("vpcsim-pcap-range")
        let good = try PcapWriter(path: dir + "/good.pcap"), bad = try PcapWriter(path: dir + "/bad.pcap")
        let thread = try PcapWriterThread(writers: [good, bad], chunks: 2)
        Self.frame.withUnsafeBytes { bytes in
            thread.append(writer: 0, bytes, timestamp: Self.lastSecond)
            thread.append(writer: 1, bytes, timestamp: Self.lastSecond)
            thread.append(writer: 1, bytes, timestamp: Self.lastSecond + 1_000_000_000)
        }
        thread.finish()
        try good.close()
        #expect(throws: CaptureFileError.self) { try bad.close() }
        #expect(try CaptureReader(path: dir + "/good.pcap").readAll().map(\.timestamp) == [Self.lastSecond])
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.pcap"))
    }
}
