/// How a client program waits: its timeouts and what it prints when one fires. Chosen per flow (`client:`);
/// each default below cites where it comes from.
public struct ClientProfile: Sendable, Equatable {
    public var name: String
    /// From the start of connect() until the application is ready (authenticated), nanoseconds.
    public var readyTimeout: Int64?
    /// From the start of connect() until the TCP connection is established — or, with `coversBanner`, until the
    /// server's banner has arrived.
    public var connectTimeout: Int64?
    public var connectTimeoutCoversBanner: Bool
    /// From the established connection until the server's banner has arrived.
    public var bannerTimeout: Int64?
    /// The message the program prints when a timeout fires.
    public var timeoutMessage: String
    /// Where the defaults come from.
    public var source: String
    /// Whether the client's socket leaves Nagle's algorithm on (no TCP_NODELAY).
    public var nagle: Bool = false
    /// `kill_after`: the program is ended this long after it starts, whatever it is doing (timeout(1), a job
    /// scheduler): a connected socket closes with FIN, as the kernel closes it when the process exits.
    public var killAfter: Int64? = nil
    /// Which address family the client connects over to a destination that has both (`address_family`).
    public var addressFamily: AddressFamily = .ipv4

    /// How a client picks between a destination's IPv4 and IPv6 addresses.
    public enum AddressFamily: String, Sendable, CaseIterable {
        /// IPv4 only (OpenSSH `AddressFamily inet`, `ssh -4`; Node's `family: 4`). The model's default, so that a
        /// flow to a dual-stack destination runs as it did before the destination had IPv6.
        case ipv4
        /// IPv6 only (`ssh -6`, OpenSSH `AddressFamily inet6`; Node's `family: 6`; and a client that tries the
        /// IPv6 address getaddrinfo puts first and waits on it: OpenSSH `AddressFamily any` with no ConnectTimeout
        /// tries the next address only after the kernel gives up on the first, ssh_connect_direct in sshconnect.c).
        case ipv6
        /// Happy Eyeballs v2 (RFC 8305 §5): IPv6 first, IPv4 started when IPv6 has not connected after the
        /// Connection Attempt Delay, 250 ms (RFC 8305 §8 recommends 250 ms; Node's `autoSelectFamily`, the default
        /// since Node 20, waits `autoSelectFamilyAttemptTimeout`, 250 ms, net.md); the first to connect wins and
        /// the other attempt is abandoned.
        case happyEyeballs = "happy_eyeballs"

        /// RFC 8305 §5's Connection Attempt Delay, nanoseconds.
        public static let attemptDelay: Int64 = 250_000_000
    }

    /// node ssh2 / ssh2-sftp-client: readyTimeout 20000 ms, started before connect, covering TCP, banner, key
    /// exchange and authentication; "Timed out while waiting for handshake" (mscdex/ssh2 lib/client.js).
    public static let ssh2 = ClientProfile(
        name: "ssh2", readyTimeout: 20_000_000_000, connectTimeout: nil, connectTimeoutCoversBanner: false,
        bannerTimeout: nil, timeoutMessage: "Timed out while waiting for handshake",
        source: "mscdex/ssh2 lib/client.js: readyTimeout 20000")

    /// OpenSSH ssh/sftp: no ConnectTimeout by default, so the operating system gives up; when set, it covers
    /// connect and the banner exchange (ssh_config(5) ConnectTimeout).
    public static let openssh = ClientProfile(
        name: "openssh", readyTimeout: nil, connectTimeout: nil, connectTimeoutCoversBanner: true, bannerTimeout: nil,
        timeoutMessage: "Connection timed out during banner exchange",
        source: "ssh_config(5): ConnectTimeout unset; TCP_NODELAY only for interactive sessions (packet.c)",
        nagle: true)

    /// paramiko: connect timeout None (the OS decides), banner_timeout 15 s after connecting, auth_timeout 30 s
    /// (paramiko transport.py).
    public static let paramiko = ClientProfile(
        name: "paramiko", readyTimeout: nil, connectTimeout: nil, connectTimeoutCoversBanner: false,
        bannerTimeout: 15_000_000_000, timeoutMessage: "Error reading SSH protocol banner",
        source: "paramiko transport.py: banner_timeout 15, auth_timeout 30")

    /// curl: CURLOPT_CONNECTTIMEOUT defaults to 300 s, covering TCP and the TLS handshake (libcurl docs); the
    /// Linux connect fails first, at 127 s.
    public static let curl = ClientProfile(
        name: "curl", readyTimeout: nil, connectTimeout: 300_000_000_000, connectTimeoutCoversBanner: false,
        bannerTimeout: nil, timeoutMessage: "curl: (28) Connection timed out",
        source: "libcurl CURLOPT_CONNECTTIMEOUT default 300 s")

    /// A plain socket client: no timeout of its own.
    public static let plain = ClientProfile(
        name: "plain", readyTimeout: nil, connectTimeout: nil, connectTimeoutCoversBanner: false, bannerTimeout: nil,
        timeoutMessage: "Connection timed out", source: "no application timeout")

    public static let all: [ClientProfile] = [ssh2, openssh, paramiko, curl, plain]

    public static func named(_ name: String) -> ClientProfile? { all.first { $0.name == name } }

    /// The client a flow uses when the scenario names none.
    public static func `default`(for app: AppProfile) -> ClientProfile {
        switch app {
        case .sftp: return .ssh2
        case .sftpList: return .openssh
        case .https, .http: return .curl
        case .tcp, .udp, .ping: return .plain
        }
    }
}
