import Foundation
import Testing
@testable import Sim

/// The scenario keys that choose stack and client profiles.
@Suite struct ProfileKeysLoaderTests {
    func story(replacing old: String, with new: String) throws -> String {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios/lambda-sftp-nacl.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(old))
        return text.replacingOccurrences(of: old, with: new)
    }

    @Test func flowsChooseClientConnectTimeoutAndSourcePort() throws {
        let yaml = try story(replacing: "    app: sftp\n", with: "    app: sftp\n    client: openssh\n    connect_timeout: 20s\n    source_port: 56364\n")
        let s = try ScenarioLoader.load(yaml: yaml, file: "x.yaml")
        let f = try #require(s.flows.first { $0.app == .sftp })
        #expect(f.client.name == "openssh")
        #expect(f.client.connectTimeout == 20_000_000_000)
        #expect(f.sourcePort == 56364)
        #expect(s.flows.first { $0.app == .https }?.client.name == "curl")
    }

    @Test func unknownClientIsAnErrorListingTheChoices() throws {
        let yaml = try story(replacing: "    app: sftp\n", with: "    app: sftp\n    client: putty\n")
        #expect(throws: ScenarioError.self) { try ScenarioLoader.load(yaml: yaml, file: "x.yaml") }
        do { _ = try ScenarioLoader.load(yaml: yaml, file: "x.yaml") } catch let e as ScenarioError {
            #expect(e.message == "invalid client 'putty' (expected ssh2, openssh, paramiko, curl, plain)")
        }
    }

    @Test func hostsChooseAStackAndPortsMayHang() throws {
        let yaml = try story(replacing: "{22: sftp,", with: "{22: hang,")
            .replacingOccurrences(of: "    rtt_ms: 20\n", with: "    rtt_ms: 20\n    stack: windows\n")
        let s = try ScenarioLoader.load(yaml: yaml, file: "x.yaml")
        #expect(s.model.outsideHosts[0].stack == .windows)
        #expect(s.model.outsideHosts[0].behaviour(on: 22) == .listen(app: "hang"))
    }
}
