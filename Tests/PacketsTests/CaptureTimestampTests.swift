import Foundation
import Packets
import TestSupport
import Testing

/// A capture's timestamps outside what nanoseconds since 1970 hold (a pcapng timestamp is 64 bits, in units the
/// interface chooses) are refused with the packet's number, not let overflow (a trap: SIGILL).
@Suite struct CaptureTimestampTests {
    /// A pcapng file, little-endian: a section, one Ethernet interface with `if_tsresol` = `resolution` (10^-n
    /// seconds), one packet at `timestamp` units.
    static func pcapng(resolution: UInt8, timestamp: UInt64) -> [UInt8] {
        var b: [UInt8] = []
        func u16(_ v: UInt16) { b += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) { for k in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) } }
        // Section Header Block: byte-order magic, version 1.0, section length unknown.
        u32(0x0A0D_0D0A); u32(28); u32(0x1A2B_3C4D); u16(1); u16(0); u32(0xFFFF_FFFF); u32(0xFFFF_FFFF); u32(28)
        // Interface Description Block: Ethernet, snaplen 65535, if_tsresol, end of options.
        u32(1); u32(32); u16(1); u16(0); u32(65535); u16(9); u16(1); b += [resolution, 0, 0, 0]; u16(0); u16(0); u32(32)
        // Enhanced Packet Block: interface 0, the timestamp's high and low words, a 14-byte Ethernet header.
        let frame: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00]
        u32(6); u32(48); u32(0); u32(UInt32(timestamp >> 32)); u32(UInt32(truncatingIfNeeded: timestamp))
        u32(UInt32(frame.count)); u32(UInt32(frame.count)); b += frame + [0, 0]; u32(48)
        return b
    }

    static func read(_ bytes: [UInt8]) throws -> [CapturedPacket] {
        let path = makeTempDirectory("vpcsim-timestamps") + "/t.pcapng"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try CaptureReader(path: path).readAll()
    }

    @Test func theLastNanosecondOf2262IsRead() throws {
        let packets = try Self.read(Self.pcapng(resolution: 9, timestamp: UInt64(Int64.max)))
        #expect(packets.map(\.timestamp) == [Int64.max])
    }

    /// A classic pcap's seconds are unsigned 32 bits, to 2106-02-07 (libpcap reads them signed): 2040 is 2040.
    @Test func aClassicPcapAfter2038IsRead() throws {
        var b: [UInt8] = []
        func u32(_ v: UInt32) { for k in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) } }
        u32(0xA1B2_C3D4); b += [2, 0, 4, 0]; u32(0); u32(0); u32(65535); u32(1)  // microseconds, Ethernet
        let seconds: UInt32 = 2_209_075_200  // 2040-01-01T00:00:00Z
        u32(seconds); u32(5); u32(14); u32(14); b += [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00]
        let path = makeTempDirectory("vpcsim-timestamps") + "/t.pcap"
        try Data(b).write(to: URL(fileURLWithPath: path))
        let packets = try CaptureReader(path: path).readAll()
        #expect(packets.map(\.timestamp) == [Int64(seconds) * 1_000_000_000 + 5_000])
    }

    @Test(arguments: [
        (UInt8(9), UInt64(Int64.max) + 1),  // one nanosecond later
        (UInt8(6), UInt64(0xFFFF_FFFF) << 32),  // microseconds: the year 586,524
        (UInt8(0), UInt64(1) << 63),  // seconds: past 2^63, a negative time_t in libpcap
    ])
    func aTimestampPast2262IsRefusedWithThePacketNumber(resolution: UInt8, timestamp: UInt64) throws {
        #expect {
            _ = try Self.read(Self.pcapng(resolution: resolution, timestamp: timestamp))
        } throws: { error in
            guard let e = error as? CaptureFileError else { return false }
            return e.packet == 1 && e.message.hasSuffix("is outside what vpcsim reads (1970 to 2262-04-11)")
        }
    }
}
