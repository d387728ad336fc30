import Packets

/// One application-layer write: the bytes one side of a TCP connection hands to its socket in one go.
/// A conversation is an array of these; the TCP layer decides segmentation and timing.
public struct AppMessage: Sendable, Equatable {
    public enum Side: Sendable, Equatable { case client, server }
    public var from: Side
    public var bytes: [UInt8]
    /// What it is, for reports and pcapng comments: "SSH banner", "SSH KEXINIT", "SSH KEX_ECDH_INIT", "SSH NEWKEYS",
    /// "SSH encrypted (SSH_MSG_USERAUTH_REQUEST)", "TLS ClientHello", ...
    public var label: String
    /// Index (into the same array) of an earlier message from the OTHER side that must have been completely
    /// received before this one is sent; nil = sent as soon as the TCP connection is established (client: on
    /// SYN-ACK; server: on accept).
    public var waitsFor: Int?
    /// Processing time in nanoseconds between the trigger (connection established or waitsFor received) and sending.
    public var delay: Int64
    /// After writing this message the program sets TCP_NODELAY (OpenSSH does when the session is set up).
    public var noDelayAfter: Bool = false

    public init(from: Side, bytes: [UInt8], label: String, waitsFor: Int?, delay: Int64) {
        self.from = from
        self.bytes = bytes
        self.label = label
        self.waitsFor = waitsFor
        self.delay = delay
    }
}

/// Random bytes from the caller's generator (ciphertext, nonces, keys: anything that looks uniformly random).
@inline(__always)
func randomBytes(_ count: Int, _ rng: inout SplitMix64) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(count)
    var word: UInt64 = 0
    for i in 0..<count {
        if i & 7 == 0 { word = rng.next() }
        out.append(UInt8(truncatingIfNeeded: word))
        word >>= 8
    }
    return out
}

/// Big-endian appenders shared by the SSH and TLS builders.
extension Array where Element == UInt8 {
    mutating func appendU8(_ v: UInt8) { append(v) }
    mutating func appendU16(_ v: Int) { append(UInt8(truncatingIfNeeded: v >> 8)); append(UInt8(truncatingIfNeeded: v)) }
    mutating func appendU24(_ v: Int) { append(UInt8(truncatingIfNeeded: v >> 16)); appendU16(v) }
    mutating func appendU32(_ v: Int) { appendU16(v >> 16); appendU16(v) }
    mutating func appendU64(_ v: Int) { appendU32(v >> 32); appendU32(v) }
}
