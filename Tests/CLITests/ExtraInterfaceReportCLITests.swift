import Foundation
import TestSupport
import Testing

/// `vpcsim trace --from` an instance's extra interface: the report places the flow's client at that interface
/// (each hop's `at` in report.json, which report.html draws the path from), not at the instance's primary one.
@Suite struct ExtraInterfaceReportCLITests {
    /// Fails without the report taking the flow's interface: the SYN's first hops were at the primary interface
    /// (eni-0e2f2f14d9e557e69) and its subnet (outside), the reply's last at that interface.
    @Test func theReportPlacesTheClientAtTheInterfaceUsed() throws {
        let dir = makeTempDirectory("vpcsim-eni-place")
        let r = try vpcsim(["trace", ExtraInterfaceTraceCLITests.scenario, "--from", "eni-0d00000000000a001",
                            "--to", "web:443", "--out", dir])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: dir + "/report.json"))) as? [String: Any])
        let flow = try #require((json["flows"] as? [[String: Any]])?.first)
        func at(_ key: String) -> [String] {
            ((flow[key] as? [[String: Any]]) ?? []).map { "\($0["step"] ?? "") \($0["at"] ?? "")" }
        }
        #expect(at("hops") == ["security-group-egress eni-0d00000000000a001", "route subnet-0d000000000000032",
                               "security-group-ingress eni-0625bb0b42b1f4d4f", "delivered eni-0625bb0b42b1f4d4f"])
        #expect(at("reply_hops").suffix(2) == ["security-group-ingress eni-0d00000000000a001",
                                               "delivered eni-0d00000000000a001"])
        // report.html draws from the same hops.
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        #expect(html.contains(#""at":"eni-0d00000000000a001""#) && !html.contains(#""at":"eni-0e2f2f14d9e557e69""#))
        // report.txt names the interface the trace was sent from.
        let text = try String(contentsOfFile: dir + "/report.txt", encoding: .utf8)
        #expect(text.contains("instance i-0d0000000000000fwa (fw-a) (eni-0d00000000000a001) → web:443"))
    }
}
