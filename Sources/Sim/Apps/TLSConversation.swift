import Packets

/// The application-layer byte streams of an HTTPS request over TLS 1.3 (RFC 8446), client as curl 7.88 with
/// OpenSSL 3.0 (Debian 12) sends it, server as an AWS endpoint answers (TLS_AES_128_GCM_SHA256, an RSA-2048
/// certificate chain of leaf + intermediate).
///
/// ClientHello and ServerHello are real. From the server's ChangeCipherSpec on, every record is what AEAD
/// protection puts on the wire (RFC 8446 §5.2): an application_data header (23, 0x0303, length) and
/// plaintext + 1 content-type byte + 16-byte tag of random bytes, sized from the message it stands for.
public enum TLSConversation {
    /// Largest plaintext per record (RFC 8446 §5.1).
    public static let maxPlaintext = 16384
    /// AES-128-GCM tag length.
    public static let tagLength = 16

    public enum ContentType {
        public static let changeCipherSpec: UInt8 = 20
        public static let alert: UInt8 = 21
        public static let handshake: UInt8 = 22
        public static let applicationData: UInt8 = 23
    }

    public enum HandshakeType {
        public static let clientHello: UInt8 = 1
        public static let serverHello: UInt8 = 2
        public static let newSessionTicket: UInt8 = 4
        public static let encryptedExtensions: UInt8 = 8
        public static let certificate: UInt8 = 11
        public static let certificateVerify: UInt8 = 15
        public static let finished: UInt8 = 20
    }

    /// OpenSSL 3.0's default cipher list as curl offers it: the three TLS 1.3 suites, then TLS 1.2 and below,
    /// then TLS_EMPTY_RENEGOTIATION_INFO_SCSV.
    public static let clientCipherSuites: [UInt16] = [
        0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0x009F, 0xCCA9, 0xCCA8, 0xCCAA, 0xC02B, 0xC02F, 0x009E, 0xC024,
        0xC028, 0x006B, 0xC023, 0xC027, 0x0067, 0xC00A, 0xC014, 0x0039, 0xC009, 0xC013, 0x0033, 0x009D, 0x009C,
        0x003D, 0x003C, 0x0035, 0x002F, 0x00FF,
    ]
    /// x25519, secp256r1, x448, secp521r1, secp384r1, ffdhe2048..8192 (OpenSSL 3.0 default order).
    public static let clientGroups: [UInt16] = [
        0x001D, 0x0017, 0x001E, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104,
    ]
    /// OpenSSL 3.0 signature_algorithms.
    public static let clientSignatureAlgorithms: [UInt16] = [
        0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080A, 0x080B, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501,
        0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602,
    ]
    /// The suite the server picks: TLS_AES_128_GCM_SHA256 (32-byte Finished verify_data).
    public static let serverCipherSuite: UInt16 = 0x1301
    public static let alpn = ["h2", "http/1.1"]
    /// The protocol the server selects (AWS service endpoints speak HTTP/1.1).
    public static let selectedALPN = "http/1.1"

    // MARK: - Building blocks

    /// A TLS record: type, legacy version, uint16 length, fragment.
    public static func record(_ type: UInt8, version: UInt16 = 0x0303, _ fragment: [UInt8]) -> [UInt8] {
        precondition(fragment.count <= maxPlaintext + 256, "record too long")
        var r: [UInt8] = [type]
        r.appendU16(Int(version))
        r.appendU16(fragment.count)
        return r + fragment
    }

    /// A handshake message: type, uint24 length, body.
    static func handshake(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
        var h: [UInt8] = [type]
        h.appendU24(body.count)
        return h + body
    }

    static func ext(_ type: Int, _ data: [UInt8]) -> [UInt8] {
        var e: [UInt8] = []
        e.appendU16(type)
        e.appendU16(data.count)
        return e + data
    }

    static func u16List(_ values: [UInt16]) -> [UInt8] {
        var b: [UInt8] = []
        b.appendU16(values.count * 2)
        for v in values { b.appendU16(Int(v)) }
        return b
    }

    /// The ClientHello record curl/OpenSSL 3 sends (record version 0x0301, handshake version 0x0303).
    public static func clientHello(serverName: String, rng: inout SplitMix64) -> [UInt8] {
        var body: [UInt8] = []
        body.appendU16(0x0303)
        body += randomBytes(32, &rng)                 // random
        body.appendU8(32)
        body += randomBytes(32, &rng)                 // legacy_session_id (middlebox compatibility mode)
        body += u16List(clientCipherSuites)
        body += [1, 0]                                // compression methods: null
        var exts: [UInt8] = []
        let name = Array(serverName.utf8)
        var sni: [UInt8] = []
        sni.appendU16(3 + name.count)
        sni.appendU8(0)                               // host_name
        sni.appendU16(name.count)
        sni += name
        exts += ext(0, sni)                           // server_name
        exts += ext(11, [3, 0, 1, 2])                 // ec_point_formats
        exts += ext(10, u16List(clientGroups))        // supported_groups
        exts += ext(35, [])                           // session_ticket
        var protocols: [UInt8] = []
        for p in alpn { protocols.appendU8(UInt8(p.utf8.count)); protocols += Array(p.utf8) }
        var alpnData: [UInt8] = []
        alpnData.appendU16(protocols.count)
        exts += ext(16, alpnData + protocols)         // application_layer_protocol_negotiation
        exts += ext(22, [])                           // encrypt_then_mac
        exts += ext(23, [])                           // extended_master_secret
        exts += ext(13, u16List(clientSignatureAlgorithms))  // signature_algorithms
        exts += ext(43, [4, 0x03, 0x04, 0x03, 0x03])  // supported_versions: TLS 1.3, TLS 1.2
        exts += ext(45, [1, 1])                       // psk_key_exchange_modes: psk_dhe_ke
        var share: [UInt8] = []
        share.appendU16(0x001D)
        share.appendU16(32)
        share += randomBytes(32, &rng)
        var shares: [UInt8] = []
        shares.appendU16(share.count)
        exts += ext(51, shares + share)               // key_share: x25519
        body.appendU16(exts.count)
        body += exts
        return record(ContentType.handshake, version: 0x0301, handshake(HandshakeType.clientHello, body))
    }

    /// The ServerHello record: TLS 1.2 legacy fields, the echoed session id, TLS_AES_128_GCM_SHA256, and
    /// supported_versions (TLS 1.3) + key_share (x25519).
    public static func serverHello(sessionID: [UInt8], rng: inout SplitMix64) -> [UInt8] {
        var body: [UInt8] = []
        body.appendU16(0x0303)
        body += randomBytes(32, &rng)
        body.appendU8(UInt8(sessionID.count))
        body += sessionID
        body.appendU16(Int(serverCipherSuite))
        body.appendU8(0)
        var exts: [UInt8] = []
        exts += ext(43, [0x03, 0x04])
        var share: [UInt8] = []
        share.appendU16(0x001D)
        share.appendU16(32)
        share += randomBytes(32, &rng)
        exts += ext(51, share)
        body.appendU16(exts.count)
        body += exts
        return record(ContentType.handshake, handshake(HandshakeType.serverHello, body))
    }

    /// The session id of a ClientHello record (what the ServerHello echoes).
    public static func sessionID(ofClientHello record: [UInt8]) -> [UInt8] {
        // record header 5, handshake header 4, version 2, random 32, then the length byte.
        let n = Int(record[43])
        return Array(record[44..<(44 + n)])
    }

    /// The middlebox-compatibility ChangeCipherSpec record (RFC 8446 §D.4).
    public static func changeCipherSpec() -> [UInt8] { record(ContentType.changeCipherSpec, [1]) }

    /// One protected record carrying `length` plaintext bytes (0...16384): header + ciphertext of
    /// length + 1 (inner content type) + 16 (tag), random.
    public static func applicationData(length: Int, rng: inout SplitMix64) -> [UInt8] {
        precondition(length >= 0 && length <= maxPlaintext, "record plaintext must be 0...16384 bytes")
        return record(ContentType.applicationData, randomBytes(length + 1 + tagLength, &rng))
    }

    /// `length` plaintext bytes as full records of 16384 bytes and a last shorter one; 0 bytes give one empty
    /// record (zero-length application data is allowed, RFC 8446 §5.1), so a write is never empty.
    public static func applicationDataRecords(length: Int, rng: inout SplitMix64) -> [UInt8] {
        var out: [UInt8] = []
        var left = length
        repeat {
            let n = min(left, maxPlaintext)
            out += applicationData(length: n, rng: &rng)
            left -= n
        } while left > 0
        return out
    }

    /// Plaintext sizes of the server's encrypted handshake messages, handshake headers included.
    public struct ServerFlight: Sendable, Equatable {
        public var encryptedExtensions: Int
        public var certificate: Int
        public var certificateVerify: Int
        public var finished: Int
        public var all: [Int] { [encryptedExtensions, certificate, certificateVerify, finished] }

        /// A leaf certificate of 1500–1999 bytes DER (an Amazon-issued RSA-2048 certificate with a handful of
        /// SANs) and an intermediate of 1100–1299 bytes.
        public static func random(_ rng: inout SplitMix64) -> ServerFlight {
            let leaf = 1500 + Int(rng.next() % 500)
            let intermediate = 1100 + Int(rng.next() % 200)
            // EncryptedExtensions: extensions length + server_name (empty) + ALPN with one protocol.
            let ee = 4 + 2 + 4 + (4 + 2 + 1 + selectedALPN.utf8.count)
            // Certificate: context length 0, list length, per entry uint24 length + DER + uint16 extensions.
            let cert = 4 + 1 + 3 + (3 + leaf + 2) + (3 + intermediate + 2)
            // CertificateVerify: rsa_pss_rsae_sha256 + uint16 length + 256-byte signature.
            let cv = 4 + 2 + 2 + 256
            // Finished: HMAC-SHA256 verify_data.
            return ServerFlight(encryptedExtensions: ee, certificate: cert, certificateVerify: cv, finished: 4 + 32)
        }
    }

    /// The server's protected handshake: one record per message (EncryptedExtensions, Certificate,
    /// CertificateVerify, Finished).
    public static func encryptedHandshake(_ flight: ServerFlight, rng: inout SplitMix64) -> [UInt8] {
        flight.all.flatMap { applicationData(length: $0, rng: &rng) }
    }

    /// The client's Finished as a protected record (36 plaintext bytes → 53 bytes of ciphertext + tag).
    public static func clientFinished(rng: inout SplitMix64) -> [UInt8] { applicationData(length: 4 + 32, rng: &rng) }

    /// A NewSessionTicket (lifetime, age_add, 8-byte nonce, 192-byte ticket, no extensions) as a protected record.
    public static func newSessionTicket(rng: inout SplitMix64) -> [UInt8] {
        applicationData(length: 4 + 4 + 4 + 1 + 8 + 2 + 192 + 2, rng: &rng)
    }

    /// close_notify as a protected record (2 plaintext bytes).
    public static func closeNotify(rng: inout SplitMix64) -> [UInt8] { applicationData(length: 2, rng: &rng) }

    // MARK: - The conversation

    /// `curl https://serverName/` sending `requestSize` bytes of HTTP request and receiving `responseSize` bytes
    /// of HTTP response, from TCP connect to both close_notify alerts.
    public static func https(serverName: String, requestSize: Int, responseSize: Int,
                             rng: inout SplitMix64) -> [AppMessage] {
        precondition(requestSize >= 0 && responseSize >= 0, "sizes must not be negative")
        precondition(!serverName.isEmpty && serverName.utf8.count < 256, "server name must be 1...255 bytes")
        let us: Int64 = 1_000, ms: Int64 = 1_000_000
        var m: [AppMessage] = []
        func add(_ side: AppMessage.Side, _ bytes: [UInt8], _ label: String, _ waits: Int?, _ delay: Int64) -> Int {
            m.append(AppMessage(from: side, bytes: bytes, label: label, waitsFor: waits, delay: delay))
            return m.count - 1
        }
        // curl: X25519 key generation and building the hello (~0.3 ms after connect).
        let ch = clientHello(serverName: serverName, rng: &rng)
        let hello = add(.client, ch, "TLS ClientHello", nil, 300 * us)
        // Server: X25519, key schedule and an RSA-2048 PSS signature (~1.5 ms); the whole flight in one write.
        let flight = ServerFlight.random(&rng)
        let serverFlight = serverHello(sessionID: sessionID(ofClientHello: ch), rng: &rng) + changeCipherSpec()
            + encryptedHandshake(flight, rng: &rng)
        let sFlight = add(.server, serverFlight,
                          "TLS ServerHello, ChangeCipherSpec, EncryptedExtensions, Certificate, CertificateVerify, Finished",
                          hello, 1500 * us)
        // curl: chain verification against the CA store and the RSA signature check (~0.8 ms), then its
        // ChangeCipherSpec + Finished, then the request in a second write.
        let cFinished = add(.client, changeCipherSpec() + clientFinished(rng: &rng), "TLS ChangeCipherSpec, Finished",
                            sFlight, 800 * us)
        let request = add(.client, applicationDataRecords(length: requestSize, rng: &rng),
                          "TLS application data (HTTP request, \(requestSize) bytes)", sFlight, 850 * us)
        // Server: two session tickets once the client's Finished is verified (~0.1 ms).
        _ = add(.server, newSessionTicket(rng: &rng) + newSessionTicket(rng: &rng), "TLS NewSessionTicket ×2",
                cFinished, 100 * us)
        // The service handles the request (~2 ms).
        let response = add(.server, applicationDataRecords(length: responseSize, rng: &rng),
                           "TLS application data (HTTP response, \(responseSize) bytes)", request, 2 * ms)
        // curl is done with the connection; the server answers close_notify with its own.
        let cClose = add(.client, closeNotify(rng: &rng), "TLS Alert close_notify (encrypted)", response, 100 * us)
        _ = add(.server, closeNotify(rng: &rng), "TLS Alert close_notify (encrypted)", cClose, 50 * us)
        return m
    }
}
