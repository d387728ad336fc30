import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// The window of an IPv6 SYN and SYN-ACK: Linux's tcp_select_initial_window rounds the initial window down to a
/// multiple of the MSS, which over IPv6 is 20 bytes smaller (1440 on a 1500-byte link): 64800 = 45 × 1440 in the
/// SYN, 64260 = 45 × 1428 in the SYN-ACK (the MSS less the timestamp option), where IPv4's are 64240 = 44 × 1460
/// (62727 = 7 × 8961 at an MTU of 9001) and 65160 = 45 × 1448. Read back from the capture by tshark.
@Suite struct IPv6SYNWindowTests {
    @Test func theIPv6HandshakeAnnouncesWindowsInMultiplesOfItsMSS() throws {
        let flows = """
              - {name: v6, from: uploader, to: "both.example.com:22", app: sftp, size: 10KB, address_family: ipv6}
              - {name: v4, from: web, to: "both.example.com:22", app: sftp, size: 10KB, start: 5s}
            """
        let s = try DualStackScenarioTests.load(DualStackScenarioTests.yaml(flows: flows))
        let out = makeTempDirectory("vpcsim-syn6")
        let o = try Runner.run(scenario: s, options: .init(outDir: out))
        #expect(o.report.flows.map(\.outcome) == ["ok", "ok"], "\(o.text)")
        let all = out + "/all-hops.pcapng"
        func handshake(_ family: String) throws -> [String] {
            try TShark.fields(all, ["tcp.flags.ack", "tcp.window_size_value", "tcp.options.mss_val"],
                              filter: "\(family) && tcp.flags.syn == 1")
        }
        let v6 = Set(try handshake("ipv6")), v4 = Set(try handshake("ip"))
        #expect(v6 == ["0\t64800\t1440", "1\t64260\t1440"], "\(v6)")
        // Over IPv4 from the instance (MTU 9001: MSS 8961, 62727 = 7 × 8961), answered with 65160 as before.
        #expect(v4 == ["0\t62727\t8961", "1\t65160\t1460"], "\(v4)")
    }

    /// The windows as the connection computes them, for a jumbo-frame MTU too: 9001 − 60 = 8941, 7 × 8941.
    @Test(arguments: [(1440, 64800), (1428, 64260), (8941, 62587), (1460, 64240), (536, 65392)])
    func theInitialWindowIsTheLargestMultipleOfTheMSSWithin65535(_ mss: Int, _ window: Int) {
        #expect(Int(TCPConnection.initialWindow(mss: UInt16(mss))) == window)
    }
}
