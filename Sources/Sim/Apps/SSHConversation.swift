import Packets

/// The application-layer byte streams of an OpenSSH 9.2 session (RFC 4253 transport, RFC 4252 user
/// authentication, RFC 4254 connection protocol, draft-ietf-secsh-filexfer-02 SFTP version 3).
///
/// Everything before NEWKEYS is real SSH (banners, KEXINIT with OpenSSH's name-lists, curve25519 ECDH with
/// ed25519 host key and signature of the right sizes, with random values in place of keys and signatures).
/// Everything after NEWKEYS is what chacha20-poly1305@openssh.com puts on the wire: a 4-byte encrypted length, the
/// encrypted padding_length/payload/padding (a multiple of 8 bytes, padding ≥ 4) and a 16-byte Poly1305 tag —
/// random bytes of exactly that size, the size computed from the plaintext message each packet stands for.
public enum SSHConversation {
    /// Cipher block size used for padding: 8 before keys are taken into use (RFC 4253 §6) and for
    /// chacha20-poly1305@openssh.com, whose block size OpenSSH declares as 8.
    public static let blockSize = 8
    /// Poly1305 tag length of chacha20-poly1305@openssh.com.
    public static let macLength = 16
    /// OpenSSH's session channel defaults (channels.h): CHAN_SES_PACKET_DEFAULT and CHAN_SES_WINDOW_DEFAULT.
    public static let channelMaxPacket = 32 * 1024
    public static let channelWindow = 64 * 32 * 1024
    /// sftp(1)'s default request size (-B) and number of outstanding requests (-R).
    public static let sftpChunk = 32768
    public static let sftpMaxOutstanding = 64
    /// The user the simulated client logs in as.
    public static let defaultUser = "ec2-user"

    // MARK: - Message numbers (RFC 4250 §4.1)

    public enum Msg {
        public static let disconnect: UInt8 = 1
        public static let serviceRequest: UInt8 = 5
        public static let serviceAccept: UInt8 = 6
        public static let extInfo: UInt8 = 7
        public static let kexinit: UInt8 = 20
        public static let newKeys: UInt8 = 21
        public static let kexECDHInit: UInt8 = 30
        public static let kexECDHReply: UInt8 = 31
        public static let userauthRequest: UInt8 = 50
        public static let userauthFailure: UInt8 = 51
        public static let userauthSuccess: UInt8 = 52
        public static let userauthPKOK: UInt8 = 60
        public static let globalRequest: UInt8 = 80
        public static let channelOpen: UInt8 = 90
        public static let channelOpenConfirmation: UInt8 = 91
        public static let channelWindowAdjust: UInt8 = 93
        public static let channelData: UInt8 = 94
        public static let channelEOF: UInt8 = 96
        public static let channelClose: UInt8 = 97
        public static let channelRequest: UInt8 = 98
        public static let channelSuccess: UInt8 = 99
    }

    // MARK: - KEXINIT name-lists

    /// The ten name-lists of SSH_MSG_KEXINIT, in wire order (RFC 4253 §7.1).
    public struct KexInitLists: Sendable, Equatable {
        public var kex: [String]
        public var hostKey: [String]
        public var ciphersClientToServer: [String]
        public var ciphersServerToClient: [String]
        public var macsClientToServer: [String]
        public var macsServerToClient: [String]
        public var compressionClientToServer: [String]
        public var compressionServerToClient: [String]
        public var languagesClientToServer: [String] = []
        public var languagesServerToClient: [String] = []

        public init(kex: [String], hostKey: [String], ciphers: [String], macs: [String], compression: [String]) {
            self.kex = kex
            self.hostKey = hostKey
            ciphersClientToServer = ciphers
            ciphersServerToClient = ciphers
            macsClientToServer = macs
            macsServerToClient = macs
            compressionClientToServer = compression
            compressionServerToClient = compression
        }

        public var all: [[String]] {
            [kex, hostKey, ciphersClientToServer, ciphersServerToClient, macsClientToServer, macsServerToClient,
             compressionClientToServer, compressionServerToClient, languagesClientToServer, languagesServerToClient]
        }

        static let ciphers = ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
                              "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]
        static let macs = ["umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
                           "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com", "umac-64@openssh.com",
                           "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1"]

        /// OpenSSH 9.2p1 Debian-2+deb12u10 client as captured (captures/reference/linux-netns/ok), except
        /// that the sntrup761x25519 methods are left out (as `KexAlgorithms -sntrup761x25519-sha512*` would),
        /// so curve25519-sha256 is negotiated: Wireshark 4.0 cannot parse sntrup761 keys. ext-info-c and the
        /// Terrapin strict-kex marker stay. The host key list is the order OpenSSH uses when known_hosts already
        /// holds an ed25519 key for the server.
        public static let openSSH92Client = KexInitLists(
            kex: ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
                  "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
                  "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256", "ext-info-c",
                  "kex-strict-c-v00@openssh.com"],
            hostKey: ["ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
                      "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
                      "sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
                      "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", "ssh-ed25519",
                      "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                      "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "rsa-sha2-512",
                      "rsa-sha2-256"],
            ciphers: ciphers, macs: macs, compression: ["none", "zlib@openssh.com", "zlib"])

        /// OpenSSH 9.2p1 Debian sshd as captured: stock kex list (sntrup first, but the client's preference
        /// decides, RFC 4253 §7.1), an ed25519 host key only.
        public static let openSSH92Server = KexInitLists(
            kex: ["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256",
                  "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
                  "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
                  "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256", "kex-strict-s-v00@openssh.com"],
            hostKey: ["ssh-ed25519"],
            ciphers: ciphers, macs: macs, compression: ["none", "zlib@openssh.com"])
    }

    // MARK: - Building blocks

    /// The identification string (RFC 4253 §4.2).
    public static func banner(software: String) -> [UInt8] { Array("SSH-2.0-\(software)\r\n".utf8) }

    /// Padding length for `unpadded` bytes that must reach a multiple of the block size with at least 4 bytes
    /// of padding (RFC 4253 §6; OpenSSH packet.c: padlen = bs - len % bs, plus bs if below 4).
    public static func paddingLength(unpadded: Int) -> Int {
        var pad = blockSize - unpadded % blockSize
        if pad < 4 { pad += blockSize }
        return pad
    }

    /// An unencrypted binary packet: uint32 packet_length, byte padding_length, payload, padding; no MAC.
    /// OpenSSH zero-fills padding while no cipher is in use (packet.c explicit_bzero), as the reference capture
    /// shows; random padding only starts with encryption.
    public static func binaryPacket(payload: [UInt8]) -> [UInt8] {
        let pad = paddingLength(unpadded: 5 + payload.count)
        var out: [UInt8] = []
        out.reserveCapacity(5 + payload.count + pad)
        out.appendU32(1 + payload.count + pad)
        out.appendU8(UInt8(pad))
        out += payload
        out += [UInt8](repeating: 0, count: pad)
        return out
    }

    /// Wire size of one chacha20-poly1305@openssh.com packet carrying `payloadLength` plaintext payload bytes:
    /// the length field is not part of the padded block (OpenSSH treats it as AAD).
    public static func encryptedPacketLength(payloadLength: Int) -> Int {
        let body = 1 + payloadLength
        return 4 + body + paddingLength(unpadded: body) + macLength
    }

    /// One chacha20-poly1305@openssh.com packet for a payload of `payloadLength` bytes: random bytes of the
    /// exact wire size.
    public static func encryptedPacket(payloadLength: Int, rng: inout SplitMix64) -> [UInt8] {
        randomBytes(encryptedPacketLength(payloadLength: payloadLength), &rng)
    }

    /// SSH_MSG_KEXINIT: 16-byte random cookie, ten name-lists, first_kex_packet_follows false, reserved 0.
    public static func kexinit(_ lists: KexInitLists, rng: inout SplitMix64) -> [UInt8] {
        var p: [UInt8] = [Msg.kexinit]
        p += randomBytes(16, &rng)
        for list in lists.all { p.appendString(Array(list.joined(separator: ",").utf8)) }
        p.appendU8(0)
        p.appendU32(0)
        return binaryPacket(payload: p)
    }

    /// ssh-ed25519 public key blob: string "ssh-ed25519", string 32-byte key (51 bytes).
    static func ed25519KeyBlob(_ rng: inout SplitMix64) -> [UInt8] {
        var b: [UInt8] = []
        b.appendString(Array("ssh-ed25519".utf8))
        b.appendString(randomBytes(32, &rng))
        return b
    }

    /// ssh-ed25519 signature blob: string "ssh-ed25519", string 64-byte signature (83 bytes).
    static func ed25519SignatureBlob(_ rng: inout SplitMix64) -> [UInt8] {
        var b: [UInt8] = []
        b.appendString(Array("ssh-ed25519".utf8))
        b.appendString(randomBytes(64, &rng))
        return b
    }

    /// SSH_MSG_KEX_ECDH_INIT (RFC 5656 §4, RFC 8731): string Q_C, the client's 32-byte X25519 public key.
    public static func ecdhInit(rng: inout SplitMix64) -> [UInt8] {
        var p: [UInt8] = [Msg.kexECDHInit]
        p.appendString(randomBytes(32, &rng))
        return binaryPacket(payload: p)
    }

    /// SSH_MSG_KEX_ECDH_REPLY: string K_S (ed25519 host key blob), string Q_S (32 bytes), string signature of
    /// the exchange hash (ed25519 signature blob).
    public static func ecdhReply(rng: inout SplitMix64) -> [UInt8] {
        var p: [UInt8] = [Msg.kexECDHReply]
        p.appendString(ed25519KeyBlob(&rng))
        p.appendString(randomBytes(32, &rng))
        p.appendString(ed25519SignatureBlob(&rng))
        return binaryPacket(payload: p)
    }

    /// SSH_MSG_NEWKEYS (16 bytes on the wire).
    public static func newKeys() -> [UInt8] { binaryPacket(payload: [Msg.newKeys]) }

    // MARK: - Plaintext payload sizes after NEWKEYS

    /// Sizes of the plaintext payloads (message number included) that the encrypted packets stand for.
    public enum PayloadSize {
        static func s(_ text: String) -> Int { 4 + text.utf8.count }  // string
        static let keyBlob = 51        // ssh-ed25519 public key blob
        static let signatureBlob = 83  // ssh-ed25519 signature blob

        /// SSH_MSG_EXT_INFO (RFC 8308) as sshd 9.2 sends it: server-sig-algs and publickey-hostbound@openssh.com.
        public static let extInfo = 1 + 4 + s("server-sig-algs") + s(serverSigAlgs)
            + s("publickey-hostbound@openssh.com") + s("0")
        static let serverSigAlgs = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,"
            + "ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
            + "sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com"
        public static func serviceRequest(_ name: String) -> Int { 1 + s(name) }
        /// USERAUTH_REQUEST header: user, service "ssh-connection", method.
        static func userauth(_ user: String, _ method: String) -> Int { 1 + s(user) + s("ssh-connection") + s(method) }
        public static func userauthNone(user: String) -> Int { userauth(user, "none") }
        /// publickey query (RFC 4252 §7): FALSE, algorithm, key blob.
        public static func userauthPublickeyQuery(user: String) -> Int {
            userauth(user, "publickey") + 1 + s("ssh-ed25519") + 4 + keyBlob
        }
        /// The signed request: OpenSSH 9.2 uses publickey-hostbound-v00@openssh.com when the server advertised it
        /// in EXT_INFO, which adds the server's host key blob after the user key.
        public static func userauthPublickeySigned(user: String) -> Int {
            userauth(user, "publickey-hostbound-v00@openssh.com") + 1 + s("ssh-ed25519") + 4 + keyBlob
                + 4 + keyBlob + 4 + signatureBlob
        }
        public static func userauthFailure(_ methods: String) -> Int { 1 + s(methods) + 1 }
        public static let userauthPKOK = 1 + s("ssh-ed25519") + 4 + keyBlob
        public static let userauthSuccess = 1
        /// hostkeys-00@openssh.com: sshd announces its host keys after authentication (want_reply FALSE).
        public static let globalHostkeys = 1 + s("hostkeys-00@openssh.com") + 1 + 4 + keyBlob
        public static let globalNoMoreSessions = 1 + s("no-more-sessions@openssh.com") + 1
        /// CHANNEL_OPEN "session": sender channel, initial window, maximum packet size.
        public static let channelOpenSession = 1 + s("session") + 4 + 4 + 4
        public static let channelOpenConfirmation = 1 + 4 + 4 + 4 + 4
        /// CHANNEL_REQUEST "env" (Debian's ssh_config has `SendEnv LANG LC_*`), want_reply FALSE.
        public static func channelRequestEnv(_ name: String, _ value: String) -> Int {
            1 + 4 + s("env") + 1 + s(name) + s(value)
        }
        public static let channelRequestSubsystemSFTP = 1 + 4 + s("subsystem") + 1 + s("sftp")
        public static let channelRequestExitStatus = 1 + 4 + s("exit-status") + 1 + 4
        public static let channelSuccess = 1 + 4
        public static let channelWindowAdjust = 1 + 4 + 4
        public static let channelEOF = 1 + 4
        public static let channelClose = 1 + 4
        /// CHANNEL_DATA header: recipient channel and the data's length field.
        public static func channelData(_ dataLength: Int) -> Int { 1 + 4 + 4 + dataLength }
        /// DISCONNECT by application as ssh(1) sends it on exit.
        public static let disconnect = 1 + 4 + s("disconnected by user") + s("")
    }

    /// SFTP version 3 message lengths (uint32 length + byte type + body), as OpenSSH sftp/sftp-server 9.2 send them.
    public enum SFTPSize {
        static func s(_ text: String) -> Int { 4 + text.utf8.count }
        static let handle = 4  // sftp-server handles are a 4-byte string
        public static let initRequest = 4 + 1 + 4
        /// SSH_FXP_VERSION with sftp-server 9.2's extensions.
        public static let version = 4 + 1 + 4 + versionExtensions.reduce(0) { $0 + s($1.0) + s($1.1) }
        static let versionExtensions = [
            ("posix-rename@openssh.com", "1"), ("statvfs@openssh.com", "2"), ("fstatvfs@openssh.com", "2"),
            ("hardlink@openssh.com", "1"), ("fsync@openssh.com", "1"), ("lsetstat@openssh.com", "1"),
            ("limits@openssh.com", "1"), ("expand-path@openssh.com", "1"), ("copy-data", "1"),
            ("home-directory", "1"), ("users-groups-by-id@openssh.com", "1"),
        ]
        public static let realpathDot = 4 + 1 + 4 + s(".")
        /// SSH_FXP_NAME, one entry: filename, longname (sftp-server repeats the path), empty attrs.
        public static func name(_ path: String) -> Int { 4 + 1 + 4 + 4 + s(path) + s(path) + 4 }
        /// SSH_FXP_OPEN WRITE|CREAT|TRUNC with attrs {PERMISSIONS 0644}.
        public static func open(_ path: String) -> Int { 4 + 1 + 4 + s(path) + 4 + 4 + 4 }
        public static let handleReply = 4 + 1 + 4 + 4 + handle
        public static let writeHeader = 4 + 1 + 4 + 4 + handle + 8 + 4
        public static let status = 4 + 1 + 4 + 4 + s("Success") + s("")
        public static let close = 4 + 1 + 4 + 4 + handle
    }

    // MARK: - The conversation

    /// `sftp -b - user@host <<< "put file"` uploading `fileSize` bytes, from TCP connect to DISCONNECT.
    ///
    /// SFTP WRITEs of 32768 bytes are pipelined as OpenSSH sftp does: at most 64 outstanding (write i never
    /// goes before the STATUS of write i-64). The session channel's 2 MiB window is modelled too: sshd sends
    /// CHANNEL_WINDOW_ADJUST as channel_check_window() does (consumed > 3 × 32 KiB or window below half), and a
    /// write that would not fit the client's remaining window waits for the adjust that makes it fit — so after
    /// a first burst of 63 writes, an upload runs 3 writes per adjust, window-limited like the real thing.
    /// Channel data is cut into CHANNEL_DATA packets of at most the 32 KiB maximum packet size (a full WRITE is
    /// 32768 + 29 bytes: two packets, 32872 bytes on the wire).
    ///
    /// Each side's messages go out in array order at any network latency (the delays are chosen for it).
    public static func sftpUpload(fileSize: Int,
                                  clientSoftware: String = "OpenSSH_9.2p1 Debian-2+deb12u10",
                                  serverSoftware: String = "OpenSSH_9.2p1 Debian-2+deb12u10",
                                  user: String = defaultUser,
                                  rng: inout SplitMix64) -> [AppMessage] {
        precondition(fileSize >= 0, "fileSize must not be negative")
        return sftpSession(steps: [.put(fileSize)], clientSoftware: clientSoftware, serverSoftware: serverSoftware,
                           user: user, rng: &rng)
    }

    /// An interactive `sftp` session running `steps` in order (`SFTPStep`: ls, put, idle) between the same
    /// session setup and teardown as `sftpUpload`. With `serverAlive` (ssh_config ServerAliveInterval), ssh(1)
    /// sends keepalive@openssh.com when the server has been silent for the interval during an idle step, and
    /// sshd answers REQUEST_FAILURE (clientloop.c server_alive_check; serverloop.c answers unknown global
    /// requests with failure).
    public static func sftpSession(steps: [SFTPStep],
                                   serverAlive: Int64? = nil,
                                   clientSoftware: String = "OpenSSH_9.2p1 Debian-2+deb12u10",
                                   serverSoftware: String = "OpenSSH_9.2p1 Debian-2+deb12u10",
                                   user: String = defaultUser,
                                   rng: inout SplitMix64) -> [AppMessage] {
        var m = Builder()
        let us: Int64 = 1_000, ms: Int64 = 1_000_000

        // Delays are chosen so that each side's messages go out in array order whatever the network latency:
        // a message that a real program sends after an earlier one of its own but that waits for a different
        // trigger gets a delay covering the earlier one's.
        //
        // Identification. ssh(1) writes its banner right after connect() (~0.1 ms); sshd re-execs itself for
        // every connection (rexec) before writing its banner (~2 ms; the reference capture: 18 ms, busy host).
        let cBanner = m.add(.client, banner(software: clientSoftware), "SSH banner", nil, 100 * us)
        let sBanner = m.add(.server, banner(software: serverSoftware), "SSH banner", nil, 2 * ms)
        // KEXINIT: each side sends it once it has read the peer's banner (building it takes ~0.3 ms). sshd reads
        // the client's banner only after writing its own, so its delay also covers its 2 ms banner delay.
        m.add(.client, kexinit(.openSSH92Client, rng: &rng), "SSH KEXINIT", sBanner, 300 * us)
        let sKexinit = m.add(.server, kexinit(.openSSH92Server, rng: &rng), "SSH KEXINIT", cBanner, 2300 * us)
        // ECDH: the client needs the server's KEXINIT to choose curve25519, then generates an X25519 key (~0.2 ms).
        let ecdhI = m.add(.client, ecdhInit(rng: &rng), "SSH KEX_ECDH_INIT", sKexinit, 300 * us)
        // sshd: X25519 key generation + shared secret + ed25519 signature of the exchange hash (~1 ms), then
        // NEWKEYS and, the moment its keys are in use, EXT_INFO — written together.
        let reply = m.add(.server, ecdhReply(rng: &rng), "SSH KEX_ECDH_REPLY", ecdhI, 1 * ms)
        let sNewKeys = m.add(.server, newKeys(), "SSH NEWKEYS", ecdhI, 1 * ms)
        let extInfo = m.enc(.server, PayloadSize.extInfo, "SSH_MSG_EXT_INFO", ecdhI, 1 * ms, &rng)
        _ = sNewKeys
        // ssh(1): shared secret, ed25519 verification, known_hosts lookup (~2 ms), then NEWKEYS.
        m.add(.client, newKeys(), "SSH NEWKEYS", reply, 2 * ms)
        // Once the server's NEWKEYS and EXT_INFO are in (they arrive right behind the reply), and after its own
        // NEWKEYS, the client asks for user authentication (+0.3 ms: ssh_userauth2 loads the identity list).
        let svcReq = m.enc(.client, PayloadSize.serviceRequest("ssh-userauth"),
                           "SSH_MSG_SERVICE_REQUEST ssh-userauth", extInfo, 2300 * us, &rng)
        let svcAcc = m.enc(.server, PayloadSize.serviceRequest("ssh-userauth"),
                           "SSH_MSG_SERVICE_ACCEPT ssh-userauth", svcReq, 100 * us, &rng)
        // RFC 4252: "none" first, to learn the methods (~0.1 ms each way).
        let authNone = m.enc(.client, PayloadSize.userauthNone(user: user), "SSH_MSG_USERAUTH_REQUEST none",
                             svcAcc, 100 * us, &rng)
        let failure = m.enc(.server, PayloadSize.userauthFailure("publickey"), "SSH_MSG_USERAUTH_FAILURE",
                            authNone, 300 * us, &rng)
        // publickey query: reading ~/.ssh/id_ed25519.pub (~0.3 ms); sshd scans authorized_keys (~0.5 ms).
        let query = m.enc(.client, PayloadSize.userauthPublickeyQuery(user: user),
                          "SSH_MSG_USERAUTH_REQUEST publickey (query)", failure, 300 * us, &rng)
        let pkOK = m.enc(.server, PayloadSize.userauthPKOK, "SSH_MSG_USERAUTH_PK_OK", query, 500 * us, &rng)
        // ed25519 signature over the session id (~0.5 ms, key already decrypted or in the agent).
        let signed = m.enc(.client, PayloadSize.userauthPublickeySigned(user: user),
                           "SSH_MSG_USERAUTH_REQUEST publickey-hostbound-v00@openssh.com (signed)",
                           pkOK, 500 * us, &rng)
        // sshd verifies the signature and runs PAM account/session (~6 ms); the post-auth process announces its
        // host keys before it reads anything else (+0.1 ms).
        let success = m.enc(.server, PayloadSize.userauthSuccess, "SSH_MSG_USERAUTH_SUCCESS", signed, 6 * ms, &rng)
        m.enc(.server, PayloadSize.globalHostkeys, "SSH_MSG_GLOBAL_REQUEST hostkeys-00@openssh.com",
              signed, 6100 * us, &rng)
        // ssh(1) session setup (~0.2 ms).
        m.enc(.client, PayloadSize.globalNoMoreSessions, "SSH_MSG_GLOBAL_REQUEST no-more-sessions@openssh.com",
              success, 200 * us, &rng)
        let chOpen = m.enc(.client, PayloadSize.channelOpenSession, "SSH_MSG_CHANNEL_OPEN session",
                           success, 200 * us, &rng)
        let chConf = m.enc(.server, PayloadSize.channelOpenConfirmation, "SSH_MSG_CHANNEL_OPEN_CONFIRMATION",
                           chOpen, 200 * us, &rng)
        m.enc(.client, PayloadSize.channelRequestEnv("LANG", "C.UTF-8"), "SSH_MSG_CHANNEL_REQUEST env",
              chConf, 100 * us, &rng)
        let subsys = m.enc(.client, PayloadSize.channelRequestSubsystemSFTP,
                           "SSH_MSG_CHANNEL_REQUEST subsystem sftp", chConf, 100 * us, &rng)
        // sshd forks sftp-server (~2 ms) before confirming.
        let chSuccess = m.enc(.server, PayloadSize.channelSuccess, "SSH_MSG_CHANNEL_SUCCESS", subsys, 2 * ms, &rng)

        // SFTP over the channel (`Builder.data`).
        func data(_ side: AppMessage.Side, _ sftpLength: Int, _ label: String, _ waits: Int?, _ delay: Int64,
                  _ rng: inout SplitMix64) -> Int {
            m.data(side, sftpLength, label, waits, delay, &rng)
        }
        // sftp(1) starts talking as soon as the subsystem is accepted; sftp-server answers at once.
        let fxInit = data(.client, SFTPSize.initRequest, "SSH_FXP_INIT", chSuccess, 200 * us, &rng)
        let fxVersion = data(.server, SFTPSize.version, "SSH_FXP_VERSION", fxInit, 100 * us, &rng)
        let fxRealpath = data(.client, SFTPSize.realpathDot, "SSH_FXP_REALPATH .", fxVersion, 100 * us, &rng)
        let home = "/home/\(user)"
        let fxName = data(.server, SFTPSize.name(home), "SSH_FXP_NAME", fxRealpath, 100 * us, &rng)
        // Each step starts after the server's last message (`last`), `pause` later than the command's own delay.
        var last = fxName
        var pause: Int64 = 0
        for step in steps {
            switch step {
            case .idle(let d):
                var left = d
                // ServerAliveInterval: each check finds the server silent for the interval and sends a request.
                if let interval = serverAlive, interval > 0 {
                    while left > interval {
                        let ka = m.enc(.client, PayloadSize.globalKeepalive,
                                       "SSH_MSG_GLOBAL_REQUEST keepalive@openssh.com", last, pause + interval, &rng)
                        last = m.enc(.server, PayloadSize.requestFailure, "SSH_MSG_REQUEST_FAILURE", ka, 50 * us, &rng)
                        left -= interval
                        pause = 0
                    }
                }
                pause += left
            case .ls:
                last = listing(after: last, pause: pause, home: home, &m, &rng)
                pause = 0
            case .put(let fileSize):
                last = put(fileSize, after: last, pause: pause, home: home, &m, &rng)
                pause = 0
            case .get(let fileSize):
                last = get(fileSize, after: last, pause: pause, home: home, &m, &rng)
                pause = 0
            }
        }
        // sftp(1) exits; ssh(1) sees EOF on its pipe and sends CHANNEL_EOF (~0.5 ms).
        let cEOF = m.enc(.client, PayloadSize.channelEOF, "SSH_MSG_CHANNEL_EOF", last, pause + 500 * us, &rng)
        // sftp-server exits on EOF; sshd reports its exit status, then EOF and CLOSE (~1 ms).
        m.enc(.server, PayloadSize.channelRequestExitStatus, "SSH_MSG_CHANNEL_REQUEST exit-status", cEOF, 1 * ms, &rng)
        m.enc(.server, PayloadSize.channelEOF, "SSH_MSG_CHANNEL_EOF", cEOF, 1 * ms, &rng)
        let sClose = m.enc(.server, PayloadSize.channelClose, "SSH_MSG_CHANNEL_CLOSE", cEOF, 1 * ms, &rng)
        // ssh(1) closes its side, then leaves (~0.1 ms).
        m.enc(.client, PayloadSize.channelClose, "SSH_MSG_CHANNEL_CLOSE", sClose, 100 * us, &rng)
        m.enc(.client, PayloadSize.disconnect, "SSH_MSG_DISCONNECT", sClose, 150 * us, &rng)
        return m.messages
    }

    /// "put": the SFTP messages of one upload after server message `trigger`; returns the server's last.
    static func put(_ fileSize: Int, after trigger: Int, pause: Int64, home: String, _ m: inout Builder,
                    _ rng: inout SplitMix64) -> Int {
        let us: Int64 = 1_000
        // "put": sftp(1) stats the local file and opens the remote one (~0.2 ms); sftp-server's open(2) ~0.1 ms.
        let remotePath = home + "/upload.bin"
        let fxOpen = m.data(.client, SFTPSize.open(remotePath), "SSH_FXP_OPEN", trigger, pause + 200 * us, &rng)
        let fxHandle = m.data(.server, SFTPSize.handleReply, "SSH_FXP_HANDLE", fxOpen, 100 * us, &rng)

        // WRITEs. After HANDLE the client sends writes until it has 64 outstanding or the next one would not fit
        // the window; every later write is placed right after the server message (STATUS or WINDOW_ADJUST) that
        // lets it go, and waits for it. The server sends in array order, so the credit the client has seen when
        // a write is sent is that of the adjusts appended before its trigger.
        let chunks = stride(from: 0, to: fileSize, by: sftpChunk).map { min(sftpChunk, fileSize - $0) }
        var clientWindow = m.granted - m.flow.clientSent
        let firstWrite = m.writeIndices.count
        var nextWrite = 0
        var statusIndex: [Int] = []
        func placeWrites(after trigger: Int, statusesSeen: Int, firstDelay: Int64, _ rng: inout SplitMix64) {
            while nextWrite < chunks.count {
                let i = nextWrite
                let need = SFTPSize.writeHeader + chunks[i]
                guard i < statusesSeen + sftpMaxOutstanding, need <= clientWindow else { break }
                clientWindow -= need
                // All writes released by one trigger share its delay and go out in array order (sftp(1) queues
                // them back to back; the socket serialises them).
                m.add(.client, channelDataPackets(need, &rng),
                      "SSH encrypted (SSH_MSG_CHANNEL_DATA SSH_FXP_WRITE \(chunks[i]) bytes at \(i * sftpChunk))",
                      trigger, firstDelay)
                nextWrite += 1
            }
        }
        placeWrites(after: fxHandle, statusesSeen: 0, firstDelay: 100 * us, &rng)
        for k in 0..<chunks.count {
            precondition(firstWrite + k < m.writeIndices.count, "write \(k) placed before the server processes it")
            let write = m.writeIndices[firstWrite + k]
            m.flow.serverReceives(SFTPSize.writeHeader + chunks[k])
            // sshd hands the data to sftp-server and may grow the window; sftp-server's pwrite(2) and STATUS
            // follow. Both take ~60 µs and share the trigger (same delay, array order), so a server response
            // never overtakes the one to the previous write.
            let adj = m.flow.checkWindow()
            if adj > 0 {
                let a = m.enc(.server, PayloadSize.channelWindowAdjust, "SSH_MSG_CHANNEL_WINDOW_ADJUST \(adj)",
                              write, 60 * us, &rng)
                clientWindow += adj
                m.granted += adj
                placeWrites(after: a, statusesSeen: k, firstDelay: 40 * us, &rng)
            }
            let st = m.add(.server, channelDataPackets(SFTPSize.status, &rng),
                           "SSH encrypted (SSH_MSG_CHANNEL_DATA SSH_FXP_STATUS for write \(k))", write, 60 * us)
            statusIndex.append(st)
            placeWrites(after: st, statusesSeen: k + 1, firstDelay: 40 * us, &rng)
        }
        precondition(nextWrite == chunks.count, "every write placed")

        // sftp(1) waits for every STATUS, then closes the handle.
        let fxClose = m.data(.client, SFTPSize.close, "SSH_FXP_CLOSE", statusIndex.last ?? fxHandle, 100 * us, &rng)
        return m.data(.server, SFTPSize.status, "SSH_FXP_STATUS for close", fxClose, 100 * us, &rng)
    }

    /// Wire size of `length` bytes of channel data as CHANNEL_DATA packets of at most 32 KiB of data each.
    public static func channelDataWireLength(_ length: Int) -> Int {
        var total = 0
        var left = length
        repeat {
            let n = min(left, channelMaxPacket)
            total += encryptedPacketLength(payloadLength: PayloadSize.channelData(n))
            left -= n
        } while left > 0
        return total
    }

    /// CHANNEL_DATA packets carrying `length` bytes of channel data, cut at the peer's 32 KiB maximum packet.
    static func channelDataPackets(_ length: Int, _ rng: inout SplitMix64) -> [UInt8] {
        var out: [UInt8] = []
        var left = length
        repeat {
            let n = min(left, channelMaxPacket)
            out += encryptedPacket(payloadLength: PayloadSize.channelData(n), rng: &rng)
            left -= n
        } while left > 0
        return out
    }

    /// sshd's receive window for the session channel (channels.c channel_check_window).
    struct ChannelFlow {
        var window = SSHConversation.channelWindow
        var consumed = 0
        var clientSent = 0
        mutating func serverReceives(_ n: Int) {
            clientSent += n
            window -= n
            consumed += n
        }
        /// The CHANNEL_WINDOW_ADJUST sshd sends now, or 0.
        mutating func checkWindow() -> Int {
            let max = SSHConversation.channelWindow
            guard consumed > 0, max - window > 3 * SSHConversation.channelMaxPacket || window < max / 2 else { return 0 }
            let adj = consumed
            window += adj
            consumed = 0
            return adj
        }
    }

    /// Appends messages and remembers where the client's WRITEs went.
    struct Builder {
        var messages: [AppMessage] = []
        var writeIndices: [Int] = []

        @discardableResult
        mutating func add(_ side: AppMessage.Side, _ bytes: [UInt8], _ label: String, _ waits: Int?,
                          _ delay: Int64) -> Int {
            if side == .client, label.contains("SSH_FXP_WRITE") { writeIndices.append(messages.count) }
            messages.append(AppMessage(from: side, bytes: bytes, label: label, waitsFor: waits, delay: delay))
            return messages.count - 1
        }

        /// sshd's receive window for the session channel, and what it has let the client send in all.
        var flow = ChannelFlow()
        var granted = SSHConversation.channelWindow

        /// SFTP bytes as CHANNEL_DATA; the client's may make sshd grow its window (small messages never do).
        mutating func data(_ side: AppMessage.Side, _ sftpLength: Int, _ label: String, _ waits: Int?,
                           _ delay: Int64, _ rng: inout SplitMix64) -> Int {
            let i = add(side, channelDataPackets(sftpLength, &rng), "SSH encrypted (SSH_MSG_CHANNEL_DATA \(label))",
                        waits, delay)
            if side == .client {
                flow.serverReceives(sftpLength)
                let adj = flow.checkWindow()
                if adj > 0 {
                    enc(.server, PayloadSize.channelWindowAdjust, "SSH_MSG_CHANNEL_WINDOW_ADJUST \(adj)", i, 20_000, &rng)
                    granted += adj
                }
            }
            return i
        }

        /// One encrypted packet standing for a message with `payload` plaintext bytes.
        @discardableResult
        mutating func enc(_ side: AppMessage.Side, _ payload: Int, _ what: String, _ waits: Int?, _ delay: Int64,
                          _ rng: inout SplitMix64) -> Int {
            add(side, encryptedPacket(payloadLength: payload, rng: &rng), "SSH encrypted (\(what))", waits, delay)
        }
    }
}

extension Array where Element == UInt8 {
    /// SSH `string`: uint32 length + bytes.
    mutating func appendString(_ s: [UInt8]) {
        appendU32(s.count)
        self += s
    }
}
