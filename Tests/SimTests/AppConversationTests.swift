import Foundation
import Packets
import Sim
import TestSupport
import Testing

// MARK: - Helpers

/// The unencrypted binary packets at the start of `bytes` (RFC 4253 §6), or nil when the framing is broken.
private func sshPlainPackets(_ bytes: [UInt8]) -> [(payload: [UInt8], padding: Int)]? {
    var out: [(payload: [UInt8], padding: Int)] = []
    var i = 0
    while i < bytes.count {
        guard i + 5 <= bytes.count else { return nil }
        let len = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        let pad = Int(bytes[i + 4])
        guard len >= pad + 2, i + 4 + len <= bytes.count, (4 + len) % 8 == 0, pad >= 4 else { return nil }
        out.append((Array(bytes[(i + 5)..<(i + 4 + len - pad)]), pad))
        i += 4 + len
    }
    return out
}

/// The ten name-lists of a KEXINIT payload.
private func kexinitNameLists(_ payload: [UInt8]) -> [[String]]? {
    guard payload.first == 20, payload.count >= 17 else { return nil }
    var i = 17
    var lists: [[String]] = []
    for _ in 0..<10 {
        guard i + 4 <= payload.count else { return nil }
        let n = Int(payload[i]) << 24 | Int(payload[i + 1]) << 16 | Int(payload[i + 2]) << 8 | Int(payload[i + 3])
        guard i + 4 + n <= payload.count else { return nil }
        let text = String(decoding: payload[(i + 4)..<(i + 4 + n)], as: UTF8.self)
        lists.append(text.isEmpty ? [] : text.split(separator: ",").map(String.init))
        i += 4 + n
    }
    guard i + 5 == payload.count else { return nil }  // first_kex_packet_follows + reserved
    return lists
}

/// The TLS records of a message: (type, version, fragment length), nil when a record overruns.
private func tlsRecords(_ bytes: [UInt8]) -> [(type: UInt8, version: Int, length: Int)]? {
    var out: [(type: UInt8, version: Int, length: Int)] = []
    var i = 0
    while i < bytes.count {
        guard i + 5 <= bytes.count else { return nil }
        let len = Int(bytes[i + 3]) << 8 | Int(bytes[i + 4])
        guard i + 5 + len <= bytes.count else { return nil }
        out.append((bytes[i], Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]), len))
        i += 5 + len
    }
    return out
}

private func isEncrypted(_ m: AppMessage) -> Bool { m.label.hasPrefix("SSH encrypted") }

/// The number in a label after `marker`, e.g. "SSH_FXP_WRITE 32768 bytes" → 32768.
private func number(after marker: String, in label: String) -> Int? {
    guard let r = label.range(of: marker) else { return nil }
    return Int(label[r.upperBound...].prefix { $0.isNumber })
}

private struct Segment { var side: AppMessage.Side; var time: Int64; var arrival: Int64; var payload: ArraySlice<UInt8> }

/// When each message starts going out, in sending order: a message is ready at its trigger's complete arrival
/// (or the connection being established: client at 2 × latency, server on accept at 3 × latency) plus its
/// delay; among ready messages the earliest goes first (ties in array order); each direction is one link of
/// `nsPerByte` per byte (66 bytes of headers per 1448-byte segment), `latency` one way.
private func schedule(_ messages: [AppMessage], latency: Int64, nsPerByte: Int64, mss: Int = 1448) -> [(Int, Int64)] {
    let established: [AppMessage.Side: Int64] = [.client: 2 * latency, .server: 3 * latency]
    var linkFree = established
    var arrival = [Int64?](repeating: nil, count: messages.count)
    var sent = [Bool](repeating: false, count: messages.count)
    var order: [(Int, Int64)] = []
    for _ in messages.indices {
        var best: (Int, Int64)?
        for (i, m) in messages.enumerated() where !sent[i] {
            let trigger: Int64
            if let w = m.waitsFor { guard let a = arrival[w] else { continue }; trigger = a } else {
                trigger = established[m.from]!
            }
            let ready = trigger + m.delay
            if best == nil || ready < best!.1 { best = (i, ready) }
        }
        guard let (i, ready) = best else { break }  // dependency cycle: the caller sees messages missing
        let m = messages[i]
        sent[i] = true
        let start = max(ready, linkFree[m.from]!)
        let segs = (m.bytes.count + mss - 1) / mss
        let end = start + Int64(m.bytes.count + 66 * segs) * nsPerByte
        linkFree[m.from] = end
        arrival[i] = end + latency
        order.append((i, start))
    }
    return order
}

/// Writes a conversation as one complete TCP session into a classic pcap: handshake, every message in
/// 1448-byte segments at the time a simple model sends it (each trigger's completion + the message's delay,
/// 0.5 ms one-way latency, 1 Gb/s per direction), acks covering what has arrived, then FIN/ACK both ways.
private func writeSession(_ messages: [AppMessage], serverPort: UInt16, to path: String) throws {
    let clientMAC = MACAddress("02:00:00:00:00:0a")!, serverMAC = MACAddress("02:00:00:00:00:16")!
    let clientIP = IPv4Address(10, 0, 1, 10), serverIP = IPv4Address(203, 0, 113, 22)
    let clientPort: UInt16 = 40112
    let latency: Int64 = 500_000
    let nsPerByte: Int64 = 8
    let mss = 1448
    let t0: Int64 = 1_700_000_000_000_000_000
    let isn: [AppMessage.Side: UInt32] = [.client: 1_000_000, .server: 3_000_000_000]
    let order = schedule(messages, latency: latency, nsPerByte: nsPerByte)
    try #require(order.count == messages.count, "a message never becomes ready: dependency cycle")
    var segments: [Segment] = []
    for (i, t) in order {
        var t = t
        var offset = 0
        let m = messages[i]
        while offset < m.bytes.count {
            let n = min(mss, m.bytes.count - offset)
            let end = t + Int64(n + 66) * nsPerByte
            segments.append(Segment(side: m.from, time: t, arrival: end + latency,
                                    payload: m.bytes[offset..<(offset + n)]))
            t = end
            offset += n
        }
    }
    segments.sort { $0.time < $1.time }

    let w = try PcapWriter(path: path)
    var ipID: [AppMessage.Side: UInt16] = [.client: 1, .server: 1]
    func frame(_ side: AppMessage.Side, seq: UInt32, ack: UInt32, flags: TCPFlags, payload: [UInt8],
               options: [TCPOption], time: Int64) {
        let c = side == .client
        let eth = LinkHeader.ethernet(EthernetHeader(destination: c ? serverMAC : clientMAC,
                                                     source: c ? clientMAC : serverMAC))
        let ip = IPv4Header(source: c ? clientIP : serverIP, destination: c ? serverIP : clientIP, proto: .tcp,
                            identification: ipID[side]!)
        ipID[side]! &+= 1
        let tcp = TCPHeader(sourcePort: c ? clientPort : serverPort, destinationPort: c ? serverPort : clientPort,
                            sequenceNumber: seq, acknowledgmentNumber: ack, flags: flags,
                            window: flags.contains(.syn) ? 64240 : 0xFFFF, options: options)
        w.write(Frame(link: eth, ip: ip, transport: .tcp(tcp), payload: payload).bytes(), timestamp: t0 + time)
    }
    func ts(_ time: Int64) -> [TCPOption] {
        [.noOperation, .noOperation, .timestamps(value: UInt32(time / 1_000_000 + 1), echoReply: 1)]
    }
    let synOptions: [TCPOption] = [.maximumSegmentSize(1460), .sackPermitted, .timestamps(value: 1, echoReply: 0),
                                   .noOperation, .windowScale(7)]
    frame(.client, seq: isn[.client]!, ack: 0, flags: .syn, payload: [], options: synOptions, time: 0)
    frame(.server, seq: isn[.server]!, ack: isn[.client]! + 1, flags: [.syn, .ack], payload: [],
          options: synOptions, time: latency)
    var nextSeq: [AppMessage.Side: UInt32] = [.client: isn[.client]! + 1, .server: isn[.server]! + 1]
    frame(.client, seq: nextSeq[.client]!, ack: nextSeq[.server]!, flags: .ack, payload: [], options: ts(2 * latency),
          time: 2 * latency)
    // What each side has received by time t (segments of the other side arrive in order).
    func received(by side: AppMessage.Side, at t: Int64) -> UInt32 {
        var n: UInt32 = 0
        for s in segments where s.side != side && s.arrival <= t { n &+= UInt32(s.payload.count) }
        return n
    }
    var lastTime: Int64 = 3 * latency
    for s in segments {
        let other: AppMessage.Side = s.side == .client ? .server : .client
        let ack = isn[other]! &+ 1 &+ received(by: s.side, at: s.time)
        frame(s.side, seq: nextSeq[s.side]!, ack: ack, flags: [.psh, .ack], payload: Array(s.payload),
              options: ts(s.time), time: s.time)
        nextSeq[s.side]! &+= UInt32(s.payload.count)
        lastTime = max(lastTime, s.arrival)
    }
    // Orderly close once everything has arrived: client FIN, server FIN-ACK, client ACK.
    let fin = lastTime + 1_000_000
    frame(.client, seq: nextSeq[.client]!, ack: nextSeq[.server]!, flags: [.fin, .ack], payload: [], options: ts(fin),
          time: fin)
    frame(.server, seq: nextSeq[.server]!, ack: nextSeq[.client]! + 1, flags: [.fin, .ack], payload: [],
          options: ts(fin + latency), time: fin + latency)
    frame(.client, seq: nextSeq[.client]! + 1, ack: nextSeq[.server]! + 1, flags: .ack, payload: [],
          options: ts(fin + 2 * latency), time: fin + 2 * latency)
    try w.close()
}

private func ssh(_ fileSize: Int, seed: UInt64 = 7) -> [AppMessage] {
    var rng = SplitMix64(seed: seed)
    return SSHConversation.sftpUpload(fileSize: fileSize, rng: &rng)
}

private func https(_ request: Int, _ response: Int, seed: UInt64 = 7) -> [AppMessage] {
    var rng = SplitMix64(seed: seed)
    return TLSConversation.https(serverName: "lambda.us-east-1.amazonaws.com", requestSize: request,
                                 responseSize: response, rng: &rng)
}

/// Each side's dependencies point to an earlier message of the other side.
private func checkDependencies(_ messages: [AppMessage]) {
    for (i, m) in messages.enumerated() {
        if let w = m.waitsFor {
            #expect(w >= 0 && w < i, "message \(i) (\(m.label)) waits for \(w)")
            #expect(messages[w].from != m.from, "message \(i) (\(m.label)) waits for its own side")
        }
        #expect(m.delay >= 0 && m.delay < 1_000_000_000, "message \(i) delay \(m.delay)")
        #expect(!m.bytes.isEmpty, "message \(i) (\(m.label)) is empty")
    }
}

// MARK: - SSH structure

@Suite struct SSHConversationTests {
    @Test func sshBinaryPacketsArePaddedToEightBytes() throws {
        let msgs = ssh(100_000)
        var plainSeen = 0
        for m in msgs where !m.label.contains("banner") && !isEncrypted(m) {
            let packets = try #require(sshPlainPackets(m.bytes), "\(m.label) is not framed as binary packets")
            #expect(packets.count == 1)
            plainSeen += 1
        }
        #expect(plainSeen == 6)  // KEXINIT ×2, ECDH_INIT, ECDH_REPLY, NEWKEYS ×2
        // Encrypted packets: 4-byte length + (1 + payload + padding ≡ 0 mod 8, padding ≥ 4) + 16-byte tag.
        for n in 0..<300 {
            let len = SSHConversation.encryptedPacketLength(payloadLength: n)
            #expect((len - 20) % 8 == 0)
            #expect(len - 20 - 1 - n >= 4 && len - 20 - 1 - n < 12)
        }
        for m in msgs where isEncrypted(m) {
            if let data = number(after: "SSH_FXP_WRITE ", in: m.label) {
                #expect(m.bytes.count == SSHConversation.channelDataWireLength(29 + data))
            } else {
                #expect((m.bytes.count - 20) % 8 == 0 && m.bytes.count >= 28, "\(m.label): \(m.bytes.count)")
            }
        }
    }

    @Test func sshPlaintextPaddingIsZeroAsOpenSSHSendsIt() throws {
        let p = SSHConversation.newKeys()
        #expect(p == [0, 0, 0, 12, 10, 21] + [UInt8](repeating: 0, count: 10))
    }

    @Test func sshMessageSizesMatchTheOpenSSHReferenceCapture() {
        let msgs = ssh(100_000)
        func size(_ side: AppMessage.Side, _ label: String) -> Int? {
            msgs.first { $0.from == side && $0.label.contains(label) }?.bytes.count
        }
        // captures/reference/linux-netns/ok/lambda-eth0.pcap (OpenSSH 9.2p1 both ends).
        #expect(size(.client, "SSH banner") == 41)
        #expect(size(.server, "SSH banner") == 41)
        #expect(size(.client, "KEX_ECDH_INIT") == 48)  // curve25519, as in zeek_ssh_kex_curve25519.pcap
        #expect(size(.client, "SSH NEWKEYS") == 16)
        #expect(size(.server, "EXT_INFO") == 316)
        #expect(size(.client, "SERVICE_REQUEST") == 44)
        #expect(size(.server, "SERVICE_ACCEPT") == 44)
        #expect(size(.client, "USERAUTH_REQUEST none") == 68)
        #expect(size(.server, "USERAUTH_FAILURE") == 44)
        #expect(size(.client, "publickey (query)") == 140)
        #expect(size(.server, "PK_OK") == 100)
        #expect(size(.client, "(signed)") == 308)
        #expect(size(.server, "USERAUTH_SUCCESS") == 28)
        #expect(size(.client, "DISCONNECT") == 60)
        #expect(size(.client, "SSH_MSG_CHANNEL_CLOSE") == 36)
    }

    /// The KEXINIT name-lists we send, parsed back from our bytes, against the ones OpenSSH 9.2p1 sent in the real
    /// capture (captures/reference/linux-netns/ok/lambda-eth0.pcap), read by tshark: the server's the same;
    /// the client's the same but for the sntrup761x25519 methods, which the upload leaves out (so that curve25519
    /// is negotiated, which Wireshark can parse); the sftp listing's client the same in full.
    @Test func kexinitNameListsAreTheRealOpenSSHOnes() throws {
        let fields = ["ssh.kex_algorithms", "ssh.server_host_key_algorithms",
                      "ssh.encryption_algorithms_client_to_server", "ssh.encryption_algorithms_server_to_client",
                      "ssh.mac_algorithms_client_to_server", "ssh.mac_algorithms_server_to_client",
                      "ssh.compression_algorithms_client_to_server", "ssh.compression_algorithms_server_to_client",
                      "ssh.languages_client_to_server", "ssh.languages_server_to_client"]
        let rows = try TShark.fields(Fixtures.reference("linux-netns/ok/lambda-eth0.pcap"), ["tcp.srcport"] + fields,
                                     filter: "ssh.message_code == 20")
        #expect(rows.count == 2)
        var real: [AppMessage.Side: [[String]]] = [:]
        for row in rows {
            let columns = row.split(separator: "\t", omittingEmptySubsequences: false)
            try #require(columns.count == 11, "\(row)")
            real[columns[0] == "22" ? .server : .client] = columns.dropFirst().map {
                $0.split(separator: ",").map(String.init)
            }
        }
        let realClient = try #require(real[.client]), realServer = try #require(real[.server])
        #expect(realClient[0].contains("curve25519-sha256") && realServer[1] == ["ssh-ed25519"])
        func sent(_ msgs: [AppMessage]) throws -> [AppMessage.Side: [[String]]] {
            let kexinits = msgs.filter { $0.label == "SSH KEXINIT" }
            #expect(kexinits.map(\.from) == [.client, .server])
            var out: [AppMessage.Side: [[String]]] = [:]
            for m in kexinits {
                let packet = try #require(sshPlainPackets(m.bytes)?.first)
                out[m.from] = kexinitNameLists(packet.payload)
            }
            return out
        }
        let upload = try sent(ssh(1))
        var clientWithoutSntrup = realClient
        clientWithoutSntrup[0] = realClient[0].filter { !$0.hasPrefix("sntrup761x25519") }
        #expect(clientWithoutSntrup[0].count == realClient[0].count - 2)
        #expect(upload[.client] == clientWithoutSntrup)
        #expect(upload[.server] == realServer)
        var rng = SplitMix64(seed: 7)
        let listing = try sent(OpenSSHListConversation.messages(rng: &rng))
        #expect(listing[.client] == realClient)
        #expect(listing[.server] == realServer)
        let client = SSHConversation.KexInitLists.openSSH92Client, server = SSHConversation.KexInitLists.openSSH92Server
        // Negotiation (RFC 4253 §7.1: the client's first algorithm the server also supports).
        #expect(client.kex.first { server.kex.contains($0) } == "curve25519-sha256")
        #expect(client.hostKey.first { server.hostKey.contains($0) } == "ssh-ed25519")
        #expect(client.ciphersClientToServer.first { server.ciphersClientToServer.contains($0) }
            == "chacha20-poly1305@openssh.com")
        #expect(!client.kex.contains { $0.hasPrefix("sntrup") })
    }

    @Test func ecdhMessagesCarryCurve25519AndEd25519Sizes() throws {
        var rng = SplitMix64(seed: 1)
        let initPayload = try #require(sshPlainPackets(SSHConversation.ecdhInit(rng: &rng))?.first?.payload)
        #expect(initPayload.count == 1 + 4 + 32 && initPayload[0] == 30)
        let reply = try #require(sshPlainPackets(SSHConversation.ecdhReply(rng: &rng))?.first?.payload)
        #expect(reply[0] == 31)
        #expect(reply.count == 1 + (4 + 51) + (4 + 32) + (4 + 83))
        #expect(Array(reply[5..<9]) == [0, 0, 0, 11] && String(decoding: reply[9..<20], as: UTF8.self) == "ssh-ed25519")
    }

    @Test func sshSameSeedGivesSameBytesAndDifferentSeedDifferentRandomBytes() {
        let a = ssh(70_000, seed: 42), b = ssh(70_000, seed: 42), c = ssh(70_000, seed: 43)
        #expect(a == b)
        #expect(a.count == c.count)
        #expect(a.map(\.bytes.count) == c.map(\.bytes.count))
        #expect(a.map(\.label) == c.map(\.label))
        // Banners are fixed; every KEXINIT cookie and every encrypted packet differs.
        #expect(a[0].bytes == c[0].bytes)
        for (x, y) in zip(a, c) where x.label == "SSH KEXINIT" || isEncrypted(x) { #expect(x.bytes != y.bytes) }
    }

    @Test func sshDependenciesPointToEarlierMessagesOfTheOtherSide() {
        for size in [0, 1, 32768, 100_000, 1_000_000] { checkDependencies(ssh(size)) }
    }

    @Test(arguments: [0, 1, 32768, 32769, 1_000_000, 5_000_000])
    func sftpUploadWritesTheWholeFileInChunksOf32KiB(fileSize: Int) throws {
        let msgs = ssh(fileSize)
        let writes = msgs.filter { $0.label.contains("SSH_FXP_WRITE") }
        let sizes = writes.compactMap { number(after: "SSH_FXP_WRITE ", in: $0.label) }
        #expect(sizes.reduce(0, +) == fileSize)
        #expect(writes.count == (fileSize + 32767) / 32768)
        #expect(sizes.dropLast().allSatisfy { $0 == 32768 })
        let statuses = msgs.filter { $0.label.contains("SSH_FXP_STATUS for write") }
        #expect(statuses.count == writes.count)
        checkDependencies(msgs)
        // The client never has more than 64 writes outstanding nor more channel data in flight than the window
        // the server granted, counting only server messages up to the one it waited for.
        var outstanding = 0, statusesSeenTotal = 0
        var credit = SSHConversation.channelWindow
        var creditSeen = 0
        for (i, m) in msgs.enumerated() where m.from == .client && m.label.contains("SSH_MSG_CHANNEL_DATA") {
            let upTo = m.waitsFor ?? -1
            let before = msgs[0...max(upTo, 0)].enumerated().filter { $0.offset <= upTo && $0.element.from == .server }
            creditSeen = before.compactMap { number(after: "WINDOW_ADJUST ", in: $0.element.label) }.reduce(0, +)
            statusesSeenTotal = before.filter { $0.element.label.contains("for write") }.count
            if let data = number(after: "SSH_FXP_WRITE ", in: m.label) {
                outstanding = msgs[..<i].filter { $0.label.contains("SSH_FXP_WRITE") }.count - statusesSeenTotal
                #expect(outstanding < 64, "message \(i): \(outstanding) writes outstanding")
                credit -= 29 + data
            } else {
                credit -= 20  // INIT/REALPATH/OPEN/CLOSE are small; exact bytes don't matter here
            }
            #expect(credit + creditSeen >= 0, "message \(i) overruns the channel window")
        }
    }
}

// MARK: - TLS structure

@Suite struct TLSConversationTests {
    @Test func tlsRecordLengthsAreConsistent() throws {
        let msgs = https(40_000, 70_000)
        checkDependencies(msgs)
        for m in msgs {
            let records = try #require(tlsRecords(m.bytes), "\(m.label): records overrun")
            for r in records where r.type == 23 { #expect(r.length >= 17 && r.length <= 16384 + 17) }
            #expect(records.allSatisfy { [20, 21, 22, 23].contains($0.type) })
        }
        let hello = try #require(tlsRecords(msgs[0].bytes))
        #expect(hello.count == 1 && hello[0].type == 22 && hello[0].version == 0x0301)
        let hsLength = Int(msgs[0].bytes[6]) << 16 | Int(msgs[0].bytes[7]) << 8 | Int(msgs[0].bytes[8])
        #expect(msgs[0].bytes[5] == 1 && hsLength == hello[0].length - 4)  // ClientHello filling its record
        #expect(msgs[0].bytes[9] == 3 && msgs[0].bytes[10] == 3)  // handshake legacy_version 0x0303
        #expect(msgs[0].bytes[43] == 32)                           // 32-byte legacy session id
        // Request and response plaintext add up.
        func plaintext(_ m: AppMessage) -> Int { tlsRecords(m.bytes)!.reduce(0) { $0 + $1.length - 17 } }
        #expect(plaintext(msgs.first { $0.label.contains("HTTP request") }!) == 40_000)
        #expect(plaintext(msgs.first { $0.label.contains("HTTP response") }!) == 70_000)
        // The client Finished is 53 bytes of ciphertext + tag after a CCS.
        let fin = try #require(tlsRecords(msgs.first { $0.label == "TLS ChangeCipherSpec, Finished" }!.bytes))
        #expect(fin.map(\.type) == [20, 23] && fin[1].length == 53)
        // The server's encrypted handshake is 2.5–4 kB.
        let flight = try #require(tlsRecords(msgs[1].bytes))
        #expect(flight.map(\.type) == [22, 20, 23, 23, 23, 23])
        let encrypted = flight.filter { $0.type == 23 }.reduce(0) { $0 + $1.length + 5 }
        #expect(encrypted >= 2500 && encrypted <= 4000)
    }

    @Test func clientHelloSessionIDIsEchoedByServerHello() {
        let msgs = https(10, 10)
        let ch = msgs[0].bytes, sh = msgs[1].bytes
        #expect(sh[43] == 32)
        #expect(ch[44..<76] == sh[44..<76])
    }

    @Test func tlsSameSeedGivesSameBytesAndDifferentSeedDifferentRandomBytes() {
        let a = https(200, 5000, seed: 1), b = https(200, 5000, seed: 1), c = https(200, 5000, seed: 2)
        #expect(a == b)
        #expect(a.map(\.label) == c.map(\.label))
        for (x, y) in zip(a, c) { #expect(x.bytes != y.bytes, "\(x.label)") }
    }

    @Test func emptyRequestAndResponseStillSendOneRecord() throws {
        let msgs = https(0, 0)
        checkDependencies(msgs)
        for m in msgs where m.label.contains("HTTP") { #expect(m.bytes.count == 5 + 17) }
    }
}

// MARK: - Timing

@Suite struct AppConversationTimingTests {
    /// The simulator's engine, not a model of it: in the sftp listing of reality-ok, each side's TCP payload
    /// (tshark, at the server) splits exactly into that side's messages in array order, so each side's program
    /// sent them in order, whatever it waited for.
    @Test func theEngineSendsEachSidesMessagesInArrayOrder() throws {
        let out = makeTempDirectory("vpcsim-app-order")
        let r = try vpcsim(["run", "scenarios/reality-ok.yaml", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let host = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first { $0.hasPrefix("04-host") })
        let rows = try TShark.fields(out + "/" + host, ["tcp.srcport", "tcp.len"], filter: "tcp.port == 22 && tcp.len > 0")
        var rng = SplitMix64(seed: 1)  // the bytes differ with the seed; their sizes do not
        let msgs = OpenSSHListConversation.messages(rng: &rng)
        for side in [AppMessage.Side.client, .server] {
            let sizes = msgs.filter { $0.from == side }.map(\.bytes.count)
            let segments = rows.map { $0.split(separator: "\t") }.filter { ($0.first == "22") == (side == .server) }
                .map { Int($0[1])! }
            #expect(segments.reduce(0, +) == sizes.reduce(0, +), "\(side)")
            var next = 0, sum = 0
            for n in segments where next < sizes.count {
                sum += n
                if sum == sizes[next] {
                    next += 1
                    sum = 0
                } else if sum > sizes[next] {
                    Issue.record("\(side): message \(next) (\(sizes[next]) bytes) does not end at a segment boundary")
                    break
                }
            }
            #expect(next == sizes.count && sum == 0, "\(side): \(next) of \(sizes.count) messages in order")
        }
    }
}

// MARK: - tshark

@Suite struct AppConversationDissectionTests {
    @Test func tsharkDissectsTheSFTPUploadAsSSHWithoutErrors() throws {
        let path = makeTempDirectory() + "/ssh.pcap"
        try writeSession(ssh(100_000), serverPort: 22, to: path)
        let (frames, problems) = try TShark.problems(in: path)
        #expect(frames > 100)
        #expect(problems == [])
        #expect(try TShark.expertErrors(in: path) == [])
        let codes = Set(try TShark.fields(path, ["ssh.message_code"], filter: "ssh.message_code")
            .flatMap { $0.split(separator: ",").map(String.init) })
        #expect(codes.isSuperset(of: ["20", "30", "31", "21"]))
        let banners = try TShark.fields(path, ["ssh.protocol"], filter: "ssh.protocol")
        #expect(banners == ["SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10"])
        let kex = try TShark.fields(path, ["ssh.kex_algorithms"], filter: "ssh.message_code == 20 && tcp.srcport == 40112")
        #expect(kex.first?.hasPrefix("curve25519-sha256,") == true)
        let hostKey = try TShark.fields(path, ["ssh.host_key.type"], filter: "ssh.message_code == 31")
        #expect(hostKey.first?.contains("ssh-ed25519") == true)
    }

    @Test func tsharkDissectsTheHTTPSExchangeAsTLS13WithoutErrors() throws {
        let path = makeTempDirectory() + "/tls.pcap"
        let msgs = https(200, 50_000)
        try writeSession(msgs, serverPort: 443, to: path)
        let (frames, problems) = try TShark.problems(in: path)
        #expect(frames > 40)
        #expect(problems == [])
        #expect(try TShark.expertErrors(in: path) == [])
        let sni = try TShark.fields(path, ["tls.handshake.extensions_server_name"], filter: "tls.handshake.type == 1")
        #expect(sni == ["lambda.us-east-1.amazonaws.com"])
        let sh = try TShark.fields(path, ["tls.handshake.extensions.supported_version"], filter: "tls.handshake.type == 2")
        #expect(sh == ["0x0304"])
        let alpn = try TShark.fields(path, ["tls.handshake.extensions_alpn_str"], filter: "tls.handshake.type == 1")
        #expect(alpn == ["h2,http/1.1"])
        // Every application_data record, as tshark counts them, and as we wrote them.
        // TLS 1.3 protected records show as tls.record.opaque_type, plaintext ones as tls.record.content_type.
        let types = try TShark.fields(path, ["tls.record.content_type", "tls.record.opaque_type"], filter: "tls.record")
            .flatMap { $0.split(whereSeparator: { $0 == "," || $0 == "\t" }) }
        let expected = msgs.flatMap { tlsRecords($0.bytes)!.map(\.type) }
        #expect(types.filter { $0 == "23" }.count == expected.filter { $0 == 23 }.count)
        #expect(types.count == expected.count)
    }
}
