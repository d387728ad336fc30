/// An ENI's security-group connection-tracking idle timeouts, as the EC2 API's ConnectionTrackingSpecification
/// sets them (`connection_tracking:` on an instance; `ConnectionTrackingConfiguration` in
/// describe-network-interfaces): seconds, nil where the ENI keeps the default. The defaults are assumptions
/// (`Assumptions.sgTCPEstablishedTimeout` and the others): 432,000 s for established TCP, 350 s on Nitro v6
/// instances, UDP 30 s, a UDP stream 180 s, other protocols 600 s (EC2 API ConnectionTrackingSpecification;
/// EC2-UG security-group-connection-tracking).
public struct ConnectionTracking: Sendable, Equatable {
    public var tcpEstablishedTimeout: Int?
    public var udpTimeout: Int?
    public var udpStreamTimeout: Int?

    /// The ranges the EC2 API accepts (ConnectionTrackingSpecificationRequest: TcpEstablishedTimeout min 60,
    /// max 432000; UdpTimeout 30–60; UdpStreamTimeout 60–180).
    public static let tcpEstablishedRange = 60...432_000
    public static let udpRange = 30...60
    public static let udpStreamRange = 60...180

    public init(tcpEstablishedTimeout: Int? = nil, udpTimeout: Int? = nil, udpStreamTimeout: Int? = nil) {
        self.tcpEstablishedTimeout = tcpEstablishedTimeout
        self.udpTimeout = udpTimeout
        self.udpStreamTimeout = udpStreamTimeout
    }

    public var isEmpty: Bool { tcpEstablishedTimeout == nil && udpTimeout == nil && udpStreamTimeout == nil }
}
