import Packets
@testable import Sim
import Testing

/// A conversation's script (worked out once per conversation, shared by the flows that play it) says what each
/// side's endpoint needs, as derived message by message from the conversation itself.
struct ConversationScriptTests {
    static func conversations() -> [(String, [AppMessage])] {
        var rng = SplitMix64(seed: 3)
        return [
            ("sftp", SSHConversation.sftpUpload(fileSize: 100_000, rng: &rng)),
            ("https", TLSConversation.https(serverName: "example.com", requestSize: 300, responseSize: 20_000, rng: &rng)),
            ("sftp-list", OpenSSHListConversation.messages(rng: &rng)),
            ("http", PlainHTTPConversation.messages(host: "203.0.113.5:8000", bodySize: 500)),
        ]
    }

    @Test(arguments: [AppMessage.Side.client, .server])
    func scriptMatchesTheConversationMessageByMessage(side: AppMessage.Side) {
        for (name, messages) in Self.conversations() {
            let script = ConversationScript(messages)
            let s = side == .client ? 0 : 1
            // The peer's messages, with where each ends in the byte stream this side receives.
            var total = 0
            var ends: [Int] = []
            var indices: [Int] = []
            for (i, m) in messages.enumerated() where m.from != side {
                total += m.bytes.count
                ends.append(total)
                indices.append(i)
            }
            #expect(script.peerEnds[s].map(\.index) == indices, "\(name)")
            #expect(script.peerEnds[s].map(\.end) == ends, "\(name)")
            #expect(script.mine[s] == messages.filter { $0.from == side }.count, "\(name)")
            // What this side sends first, and after each peer message, in message order.
            #expect(script.sentFirst[s] == messages.indices.filter { messages[$0].from == side && messages[$0].waitsFor == nil },
                    "\(name)")
            for k in messages.indices {
                let after = messages.indices.filter { messages[$0].from == side && messages[$0].waitsFor == k }
                #expect(script.sentAfter[s][k] == after, "\(name) after \(k)")
            }
            #expect(script.isBanner == messages.map { $0.label.contains("banner") }, "\(name)")
            #expect(script.isUserAuthSuccess == messages.map { $0.label.contains("USERAUTH_SUCCESS") }, "\(name)")
        }
    }

    /// The labels the client watches for are there to be found (else the checks above prove little).
    @Test func sshConversationsHaveABannerAndUserAuthSuccess() {
        for (name, messages) in Self.conversations() where name.hasPrefix("sftp") {
            let script = ConversationScript(messages)
            #expect(script.isBanner.contains(true), "\(name)")
            #expect(script.isUserAuthSuccess.contains(true), "\(name)")
        }
    }
}
