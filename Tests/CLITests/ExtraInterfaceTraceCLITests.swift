import Foundation
import TestSupport
import Testing

/// An instance's extra interfaces (`network_interfaces:`, scenarios/appliance-two-legs.yaml): `vpcsim trace --from`
/// one of them (by id or address) sends from it, and report.html draws each one in its subnet.
@Suite struct ExtraInterfaceTraceCLITests {
    static let scenario = "scenarios/appliance-two-legs.yaml"

    @Test(arguments: ["eni-0d00000000000a001", "10.0.1.5"])
    func traceFromASecondInterfaceSendsFromIt(from: String) throws {
        let dir = makeTempDirectory("vpcsim-eni-trace")
        let r = try vpcsim(["trace", Self.scenario, "--from", from, "--to", "web:443", "--out", dir])
        #expect(r.status == 0 || r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("instance i-0d0000000000000fwa (fw-a) (eni-0d00000000000a001)"), "\(r.stdout)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        let inside = try #require(files.first { $0.contains("eni-0d00000000000a001") && $0.hasSuffix(".pcap") })
        let syns = try TShark.fields(dir + "/" + inside, ["ip.src"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0")
        #expect(!syns.isEmpty && syns.allSatisfy { $0 == "10.0.1.5" }, "\(syns)")
        // Nothing of the trace leaves by the primary (outside) interface.
        let primary = try #require(files.first { $0.contains("instance-fw-a-") && !$0.contains("eni-0d00000000000a001") && $0.hasSuffix(".pcap") })
        #expect(try TShark.fields(dir + "/" + primary, ["frame.number"]).isEmpty)
    }

    @Test func reportHTMLDrawsTheExtraInterfaces() throws {
        let dir = makeTempDirectory("vpcsim-eni-html")
        let r = try vpcsim(["run", Self.scenario, "--out", dir, "--quiet"])
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        for (eni, ip, owner) in [("eni-0d00000000000a001", "10.0.1.5", "i-0d0000000000000fwa (fw-a)"),
                                 ("eni-0d00000000000b001", "10.0.2.5", "i-0d0000000000000fwb (fw-b)")] {
            #expect(html.contains("instance ENI \(eni) of \(owner) in subnet-"), "\(eni)")
            #expect(html.contains("\(ip) \(eni)"), "\(eni)")
        }
    }
}
