import Foundation
import Packets
import TestSupport
import Testing

/// The writers register every file they write under a temporary name while it exists, so that an interrupted run
/// can remove them (`TemporaryFiles.removeOnSignals`, exercised end to end in CLITests/InterruptedRunTests).
@Suite struct TemporaryFilesTests {
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test func aPcapIsRegisteredWhileItIsWrittenAndForgottenOnceInPlace() throws {
        let dir = makeTempDirectory()
        let path = dir + "/01-a.pcap"
        let temp = dir + "/.01-a.pcap.\(getpid()).tmp"
        let w = try PcapWriter(path: path)
        #expect(TemporaryFiles.registered.contains(temp))
        #expect(exists(temp) && !exists(path))
        w.write([UInt8](repeating: 0xAB, count: 60), timestamp: 1)
        try w.close()
        #expect(!TemporaryFiles.registered.contains(temp))
        #expect(!exists(temp) && exists(path))
        // In place, it stays listed (an interrupt would remove it) until its run is complete.
        #expect(TemporaryFiles.registered.contains(path))
        TemporaryFiles.forget(under: dir)
        #expect(!TemporaryFiles.registered.contains(path))
        #expect(exists(path))
    }

    @Test func anAbandonedPcapngAndItsSpoolsAreRemovedAndForgotten() throws {
        let dir = makeTempDirectory()
        let path = dir + "/all-hops.pcapng"
        let w = try PcapngWriter(path: path, application: "t", groupByInterface: true)
        w.addInterface(name: "a", description: "a")
        w.addInterface(name: "b", description: "b")
        let pid = getpid()
        let files = [dir + "/.all-hops.pcapng.\(pid).tmp", path + ".if0.\(pid).spool", path + ".if1.\(pid).spool"]
        let registered = Set(TemporaryFiles.registered)
        for f in files {
            #expect(registered.contains(f), "\(f) not registered")
            #expect(exists(f), "\(f) not created")
        }
        w.write(interface: 1, timestamp: 5, data: [UInt8](repeating: 1, count: 60))
        w.abandon()
        let after = Set(TemporaryFiles.registered)
        for f in files {
            #expect(!after.contains(f), "\(f) still registered")
            #expect(!exists(f), "\(f) left behind")
        }
        #expect(!exists(path))
    }

    @Test func aFileThatCannotBeCreatedIsNotLeftRegistered() throws {
        let path = makeTempDirectory() + "/no-such-dir/01-a.pcap"
        #expect(throws: CaptureFileError.self) { try PcapWriter(path: path) }
        #expect(!TemporaryFiles.registered.contains { $0.hasPrefix((path as NSString).deletingLastPathComponent) })
    }

    @Test func openCreatesAndRegistersAndAFailedOpenIsForgotten() throws {
        let dir = makeTempDirectory()
        let fp = try #require(TemporaryFiles.open(dir + "/a.spool", "wb"))
        fclose(fp)
        #expect(exists(dir + "/a.spool") && TemporaryFiles.registered.contains(dir + "/a.spool"))
        let again = try #require(TemporaryFiles.reopen(dir + "/a.spool", "ab"))
        fclose(again)
        #expect(TemporaryFiles.registered.filter { $0 == dir + "/a.spool" }.count == 1)
        TemporaryFiles.remove(dir + "/a.spool")
        #expect(!exists(dir + "/a.spool") && !TemporaryFiles.registered.contains(dir + "/a.spool"))
        #expect(TemporaryFiles.open(dir + "/missing/b.spool", "wb") == nil)
        #expect(errno == ENOENT)
        #expect(!TemporaryFiles.registered.contains(dir + "/missing/b.spool"))
    }

    @Test func forgettingOneOfSeveralKeepsTheOthers() {
        let base = makeTempDirectory() + "/f"
        for i in 0..<100 { TemporaryFiles.creating(base + "\(i)") {} }  // past the first allocation (64)
        for i in stride(from: 0, to: 100, by: 2) { TemporaryFiles.forget(base + "\(i)") }
        let mine = TemporaryFiles.registered.filter { $0.hasPrefix(base) }
        #expect(mine == stride(from: 1, to: 100, by: 2).map { base + "\($0)" }.sorted())
        for i in stride(from: 1, to: 100, by: 2) { TemporaryFiles.forget(base + "\(i)") }
        #expect(!TemporaryFiles.registered.contains { $0.hasPrefix(base) })
    }
}
