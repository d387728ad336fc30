import Packets
import Testing
@testable import Sim

@Suite struct CaptureWriterTests {
    /// A writer whose files cannot be created throws, leaves nothing behind and frees what it made once (its
    /// deinit runs after the throw: freeing in the initializer too was a double free).
    @Test func writerThatCannotCreateItsFilesThrows() throws {
        let point = CapturePoint(name: "01-lambda", component: .eni(0), componentID: "eni-0", description: "test",
                                 localMAC: MACAddress(rawValue: 0x0A00_0000_0001), peerMAC: MACAddress(rawValue: 0x0A00_0000_0002))
        for _ in 0..<3 {
            #expect(throws: (any Error).self) {
                _ = try CaptureWriter(directory: "/nonexistent-vpcsim-dir/out", points: [point, point], startTime: 0,
                                      application: "test")
            }
        }
        #expect(!TemporaryFiles.registered.contains { $0.hasPrefix("/nonexistent-vpcsim-dir") })
    }
}
