import Foundation
import TestSupport
import Testing

/// `esp_view: true` on a VPN connection: a second capture of its tunnel, each inner packet wrapped in ESP between
/// the tunnel's outside addresses (`nat_traversal: true`: in UDP 4500 too), which tshark reads without a problem.
@Suite struct VPNESPViewCLITests {
    static func run(_ extra: String) throws -> (out: String, esp: String, inner: String) {
        var yaml = try String(contentsOfFile: "scenarios/onprem-sftp-over-vpn-fixed.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "    active_tunnel: 1\n", with: "    active_tunnel: 1\n" + extra)
        let dir = makeTempDirectory("vpcsim-esp")
        let file = dir + "/esp.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let out = dir + "/out"
        let r = try vpcsim(["run", file, "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        let esp = try #require(files.first { $0.contains("-vpn-esp-") && $0.hasSuffix(".pcap") })
        let inner = try #require(files.first { $0.contains("-vpn-datacentre-vpn-") && $0.hasSuffix(".pcap") })
        return (out, out + "/" + esp, out + "/" + inner)
    }

    @Test func theTunnelIsAlsoWrittenAsESPBetweenItsOutsideAddresses() throws {
        let (_, esp, inner) = try Self.run("    esp_view: true\n")
        let (frames, problems) = try TShark.problems(in: esp)
        #expect(problems.isEmpty, "\(problems)")
        let innerFrames = try TShark.fields(inner, ["frame.number"]).count
        #expect(frames == innerFrames && frames > 0)
        // Toward the customer gateway from tunnel 1's outside address, and back; one SPI per direction, sequence
        // numbers from 1; nothing of the inner packet readable.
        let rows = try TShark.fields(esp, ["ip.src", "ip.dst", "ip.proto", "esp.spi", "esp.sequence", "tcp.port"])
        let out = rows.filter { $0.hasPrefix("34.192.10.1\t") }, back = rows.filter { $0.hasSuffix("\t") && !$0.hasPrefix("34.192.10.1\t") }
        #expect(out.count + back.count == rows.count)
        #expect(Set(out.map { $0.split(separator: "\t")[3] }).count == 1)
        #expect(Set(back.map { $0.split(separator: "\t")[3] }).count == 1)
        #expect(!out.isEmpty && out.map { Int($0.split(separator: "\t")[4]) } == out.indices.map { $0 + 1 })
        #expect(rows.allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false)[2] == "50" })
        #expect(rows.allSatisfy { $0.hasSuffix("\t") })  // no TCP port: the inner packet is not readable
        // The same run gives the same bytes.
        let again = try Self.run("    esp_view: true\n").esp
        #expect(FileManager.default.contents(atPath: esp) == FileManager.default.contents(atPath: again))
    }

    @Test func natTraversalPutsESPInUDP4500() throws {
        let (_, esp, _) = try Self.run("    esp_view: true\n    nat_traversal: true\n")
        let (frames, problems) = try TShark.problems(in: esp)
        #expect(problems.isEmpty && frames > 0, "\(problems)")
        let rows = try TShark.fields(esp, ["udp.srcport", "udp.dstport", "esp.spi"])
        #expect(rows.count == frames)
        #expect(rows.allSatisfy { r in
            let f = r.split(separator: "\t", omittingEmptySubsequences: false)
            return f[0] == "4500" && f[1] == "4500" && !f[2].isEmpty
        })
    }

    @Test func natTraversalWithoutTheESPViewIsRefused() throws {
        let dir = makeTempDirectory("vpcsim-esp")
        var yaml = try String(contentsOfFile: "scenarios/onprem-sftp-over-vpn-fixed.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "    active_tunnel: 1\n", with: "    active_tunnel: 1\n    nat_traversal: true\n")
        try yaml.write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let r = try vpcsim(["run", dir + "/bad.yaml", "--out", dir + "/out", "--quiet"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("bad.yaml:") && r.stderr.contains("nat_traversal applies to the ESP view (esp_view: true)"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}
