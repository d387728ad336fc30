import Foundation
import Packets
import TestSupport
import Testing

/// `O_DIRECT` writes (`OutputFile(direct:)`, `PcapWriter(direct:)`): the same bytes as writes through the page
/// cache, whatever the sizes written and whether the file system takes direct writes or not. The files are made
/// under the package's `.build` (a disk's file system, where `/tmp` may be a tmpfs that refuses `O_DIRECT`).
@Suite struct DirectWriteTests {
    func directory() -> String {
        let dir = repositoryRoot + "/.build/direct-write-tests/\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes of 1 byte to 3 MiB (more than the buffer, more than half of it: cut into pieces in direct mode) in
    /// a seeded order, a spool appended half way (by the kernel when buffered, read and written on when direct),
    /// and an odd buffer size (rounded down to whole 4 KiB blocks in direct mode): both files hold exactly what
    /// was written.
    @Test("direct and buffered OutputFiles hold the same bytes", arguments: [false, true])
    func outputFileBytes(withSpool: Bool) throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var expected: [UInt8] = []
        var rng = SplitMix64(seed: 11)
        var chunks: [[UInt8]] = []
        for k in 0..<300 {
            let size = k % 50 == 0 ? Int(rng.next() % (3 << 20)) + 1 : Int(rng.next() % 5000) + 1
            chunks.append((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ k) })
        }
        let spoolBytes: [UInt8] = (0..<123_457).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let spoolPath = dir + "/spool"
        try Data(spoolBytes).write(to: URL(fileURLWithPath: spoolPath))
        var sawDirect = false
        for direct in [false, true] {
            let file = try OutputFile(path: dir + "/out-\(direct).bin", bufferSize: (1 << 20) + 1234, direct: direct)
            sawDirect = sawDirect || file.writesDirect
            #expect(!file.writesDirect || direct)
            for (k, c) in chunks.enumerated() {
                c.withUnsafeBytes { file.write($0) }
                if withSpool, k == 150 {
                    // Direct mode reads the spool and writes it on as whole buffers (no kernel copy), and stays on.
                    let wasDirect = file.writesDirect
                    let fp = fopen(spoolPath, "rb")!
                    #expect(file.append(contentsOf: fp) == nil)
                    fclose(fp)
                    #expect(file.writesDirect == wasDirect)
                }
            }
            try file.commit()
        }
        for (k, c) in chunks.enumerated() {
            expected += c
            if withSpool, k == 150 { expected += spoolBytes }
        }
        let buffered = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/out-false.bin")))
        let direct = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/out-true.bin")))
        #expect(buffered.count == expected.count)
        #expect(buffered == expected)
        #expect(direct == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["out-false.bin", "out-true.bin", "spool"])
        if !sawDirect { print("DirectWriteTests: this file system refused O_DIRECT; buffered writes compared") }
    }

    /// Pcaps written the way a run writes them (records handed to `PcapWriterThread`, the files direct) come out
    /// byte for byte as a buffered writer's, across many whole buffers and a partial last one; an abandoned
    /// direct file leaves nothing.
    @Test func directPcapsMatchBufferedOnes() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let frames = sampleFrames().map { $0.bytes() }
        let buffered = try PcapWriter(path: dir + "/buffered.pcap")
        let direct = try PcapWriter(path: dir + "/direct.pcap", bufferSize: 200_000, direct: true)
        let dropped = try PcapWriter(path: dir + "/dropped.pcap", direct: true)
        // Direct only when asked for and with buffers of 128 KiB or more (`writesDirect` says which).
        let small = try PcapWriter(path: dir + "/small.pcap", bufferSize: 1 << 16, direct: true)
        #expect(!buffered.writesDirect && !small.writesDirect)
        small.abandon()
        let thread = try PcapWriterThread(writers: [direct, dropped], chunks: 2)
        var rng = SplitMix64(seed: 3)
        for k in 0..<40_000 {
            var frame = frames[k % frames.count]
            frame.append(contentsOf: repeatElement(UInt8(truncatingIfNeeded: k), count: Int(rng.next() % 300)))
            let ts = 1_700_000_000_000_000_000 + Int64(k) * 997
            buffered.write(frame, timestamp: ts)
            frame.withUnsafeBytes { thread.append(writer: 0, $0, timestamp: ts) }
            if k % 3 == 0 { frame.withUnsafeBytes { thread.append(writer: 1, $0, timestamp: ts) } }
        }
        thread.finish()
        try buffered.close()
        try direct.close()
        dropped.abandon()
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/buffered.pcap"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/direct.pcap"))
        #expect(a.count > 5_000_000 && a.count % 4096 != 0)
        #expect(a == b)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["buffered.pcap", "direct.pcap"])
    }

    /// all-hops.pcapng as a run writes it (grouped by interface, the spools and the file direct, a spool buffer
    /// that is no whole number of blocks, records up to 40 KB, more than half that buffer) holds the same bytes
    /// as one written through the page cache, and tshark reads every packet without a complaint.
    @Test func directPcapngMatchesABufferedOne() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let frames = sampleFrames().map { $0.bytes() }
        var writers: [PcapngWriter] = []
        for direct in [false, true] {
            let ng = try PcapngWriter(path: dir + "/\(direct).pcapng", application: "t", groupByInterface: true,
                                      spoolBufferSize: 70_000, direct: direct)
            for i in 0..<3 { ng.addInterface(name: "if\(i)", description: "interface \(i)") }
            writers.append(ng)
        }
        var rng = SplitMix64(seed: 21)
        for k in 0..<30_000 {
            let interface = Int(rng.next() % 3)
            var bytes = frames[k % frames.count]
            let extra = k % 1000 == 0 ? 40_000 : Int(rng.next() % 400)
            bytes.append(contentsOf: repeatElement(UInt8(truncatingIfNeeded: k), count: extra))
            let comment = k % 5 == 0 ? nil : "packet \(k): " + String(repeating: "y", count: k % 60)
            for ng in writers {
                ng.write(interface: interface, timestamp: 1_700_000_000_000_000_000 + Int64(k) * 1_000, data: bytes,
                         comment: comment)
            }
        }
        for ng in writers { try ng.close() }
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/false.pcapng"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/true.pcapng"))
        #expect(a.count > 5_000_000)
        #expect(a == b)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["false.pcapng", "true.pcapng"])
        let (count, problems) = try TShark.problems(in: dir + "/true.pcapng")
        #expect(count == 30_000)
        #expect(problems == [])
    }
}
