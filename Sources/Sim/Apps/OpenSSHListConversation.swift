import Packets

/// An OpenSSH 9.2 `sftp` session that lists a directory, as the real client and sshd exchange it in the
/// linux-netns reference capture (captures/reference/linux-netns/ok): the same key exchange
/// (sntrup761x25519-sha512, so tshark 4.0 flags the key lengths exactly as it does on the real capture), the
/// same message sizes, and the real processing delays. The encrypted messages are random bytes of the observed
/// sizes; their meaning is named where the OpenSSH debug log in run.log shows it.
public enum OpenSSHListConversation {
    /// (side, bytes on the wire, delay after the trigger in µs, label). Each waits for the previous message of
    /// the other side; delays are the gaps measured at the sender in the reference capture.
    static let encrypted: [(AppMessage.Side, Int, Int64, String)] = [
        (.client, 44, 100, "SERVICE_REQUEST ssh-userauth"),
        (.server, 44, 104, "SERVICE_ACCEPT"),
        (.client, 68, 216, "USERAUTH_REQUEST none"),
        (.server, 44, 7628, "USERAUTH_FAILURE"),
        (.client, 140, 416, "USERAUTH_REQUEST publickey (query)"),
        (.server, 100, 507, "USERAUTH_PK_OK"),
        (.client, 308, 754, "USERAUTH_REQUEST publickey (signed)"),
        (.server, 28, 13890, "USERAUTH_SUCCESS"),
        (.client, 112, 567, "GLOBAL_REQUEST no-more-sessions, CHANNEL_OPEN session"),
        (.server, 264, 2255, "GLOBAL_REQUEST hostkeys-00, CHANNEL_OPEN_CONFIRMATION"),
        // Written right after the 264 bytes; Nagle holds it until the client's delayed ACK (41 ms).
        (.server, 192, 2400, "CHANNEL_WINDOW_ADJUST, CHANNEL_SUCCESS"),
    ]

    /// After the session is open: each message answers the other side's previous one.
    static let session: [(AppMessage.Side, Int, Int64, String)] = [
        (.client, 52, 423, "CHANNEL_REQUEST subsystem sftp"),
        (.server, 72, 609, "CHANNEL_SUCCESS, SSH_FXP data"),
        (.client, 44, 132, "SSH_FXP_INIT"),
        (.server, 356, 900, "SSH_FXP_VERSION"),
        (.client, 68, 165, "SSH_FXP_REALPATH ."),
        (.server, 76, 1659, "SSH_FXP_NAME"),
        (.client, 52, 169, "SSH_FXP_STAT"),
        (.server, 116, 83, "SSH_FXP_ATTRS"),
        (.client, 76, 231, "SSH_FXP_OPENDIR"),
        (.server, 52, 108, "SSH_FXP_HANDLE"),
        (.client, 52, 137, "SSH_FXP_READDIR"),
        (.server, 364, 229, "SSH_FXP_NAME (entries)"),
        (.client, 52, 105, "SSH_FXP_READDIR"),
        (.server, 68, 108, "SSH_FXP_STATUS EOF"),
        (.client, 52, 93, "SSH_FXP_CLOSE"),
        (.server, 68, 76, "SSH_FXP_STATUS OK"),
        (.client, 108, 91, "CHANNEL_EOF, CHANNEL_CLOSE"),
        (.server, 92, 113, "CHANNEL_REQUEST exit-status, CHANNEL_EOF, CHANNEL_CLOSE"),
        (.client, 36, 229, "CHANNEL_CLOSE"),
        (.server, 124, 547, "GLOBAL_REQUEST (keepalive)"),
        (.client, 36, 64, "REQUEST_FAILURE"),
        (.client, 60, 230, "DISCONNECT"),
    ]

    /// OpenSSH 9.2p1's client KEXINIT lists (sntrup761x25519 first), as in the reference capture.
    public static let clientLists: SSHConversation.KexInitLists = {
        var l = SSHConversation.KexInitLists.openSSH92Client
        l.kex = ["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"] + l.kex
        return l
    }()

    public static func messages(software: String = "OpenSSH_9.2p1 Debian-2+deb12u10", rng: inout SplitMix64)
        -> [AppMessage]
    {
        var m: [AppMessage] = []
        func add(_ side: AppMessage.Side, _ bytes: [UInt8], _ label: String, _ waitsFor: Int?, _ delayMicros: Int64) {
            m.append(AppMessage(from: side, bytes: bytes, label: "SSH " + label, waitsFor: waitsFor,
                                delay: delayMicros * 1000))
        }
        // Banners: the client's at once, sshd's after forking (18.5 ms in the reference).
        add(.client, SSHConversation.banner(software: software), "banner", nil, 120)
        add(.server, SSHConversation.banner(software: software), "banner", nil, 18_500)
        add(.client, SSHConversation.kexinit(clientLists, rng: &rng), "KEXINIT", 1, 400)
        add(.server, SSHConversation.kexinit(.openSSH92Server, rng: &rng), "KEXINIT", 0, 23_700)
        // sntrup761x25519: Q_C is 1190 bytes (a 1158-byte sntrup key and a 32-byte x25519 key); generating it
        // took the client 102 ms.
        add(.client, SSHConversation.binaryPacket(payload: [30] + sshString(randomBytes(1190, &rng))),
            "KEX_ECDH_INIT (sntrup761x25519)", 3, 102_150)
        // KEX_ECDH_REPLY (ed25519 host key, a 1071-byte Q_S, signature), NEWKEYS and EXT_INFO in one write.
        var reply: [UInt8] = [31]
        reply += sshString(SSHConversation.ed25519KeyBlob(&rng))
        reply += sshString(randomBytes(1071, &rng))
        reply += sshString(SSHConversation.ed25519SignatureBlob(&rng))
        let serverKex = SSHConversation.binaryPacket(payload: reply) + SSHConversation.newKeys()
            + SSHConversation.encryptedPacket(payloadLength: 316 - 4 - 16 - 8, rng: &rng).prefix(316)
        add(.server, Array(serverKex.prefix(1564)), "KEX_ECDH_REPLY, NEWKEYS, EXT_INFO", 4, 9_485)
        add(.client, SSHConversation.newKeys(), "NEWKEYS", 5, 23_900)
        var lastClient = 6
        var lastServer = 5
        // The first encrypted client message is written with NEWKEYS; Nagle holds it until sshd's delayed ACK.
        for (k, (side, size, delay, label)) in (encrypted + session).enumerated() {
            let waits = side == .client ? lastServer : lastClient
            let trigger = k == 0 ? 5 : waits
            add(side, randomBytes(size, &rng), "encrypted (\(label))", trigger, k == 0 ? 24_000 : delay)
            if side == .client { lastClient = m.count - 1 } else { lastServer = m.count - 1 }
            // ssh and sshd set TCP_NODELAY when the session is set up (packet.c ssh_packet_set_interactive):
            // the client on the channel confirmation, sshd when it starts the subsystem.
            if label.hasPrefix("CHANNEL_REQUEST subsystem") || label.hasPrefix("CHANNEL_SUCCESS, SSH_FXP") {
                m[m.count - 1].noDelayAfter = true
            }
        }
        // The final DISCONNECT follows the client's previous message rather than a server one.
        if let last = m.indices.last, m[last].label.hasSuffix("(DISCONNECT)") {
            m[last].waitsFor = m[last - 1].waitsFor
            m[last].delay = m[last - 1].delay + 166_000
        }
        return m
    }

    static func sshString(_ b: [UInt8]) -> [UInt8] {
        let n = UInt32(b.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + b
    }
}

/// Plain HTTP/1.0 as curl and Python's http.server exchange it (the linux-netns reference probes port 443
/// with plain HTTP): an 80-byte GET, the response headers after 5.7 ms, the body 3.6 ms later.
public enum PlainHTTPConversation {
    public static func messages(host: String, bodySize: Int) -> [AppMessage] {
        let request = "GET / HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
        let headers = "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\nDate: Thu, 26 Nov 2026 19:25:04 GMT\r\n"
            + "Content-type: text/html\r\nContent-Length: \(bodySize)\r\nLast-Modified: Thu, 26 Nov 2026 19:25:03 GMT\r\n\r\n"
        var body = Array("hello from \(host)\n".utf8)
        while body.count < bodySize { body += body }
        return [
            AppMessage(from: .client, bytes: Array(request.utf8), label: "HTTP GET /", waitsFor: nil, delay: 64_000),
            AppMessage(from: .server, bytes: Array(headers.utf8), label: "HTTP response headers", waitsFor: 0,
                       delay: 5_705_000),
            AppMessage(from: .server, bytes: Array(body.prefix(bodySize)), label: "HTTP response body", waitsFor: 0,
                       delay: 9_265_000),
        ]
    }
}
