import Packets

/// The second view of a Site-to-Site VPN tunnel (`esp_view: true` on a VPN connection): each inner packet as it
/// travels between the tunnel's outside addresses, wrapped in ESP in tunnel mode (RFC 4303), and in UDP port 4500
/// as well with `nat_traversal: true` (RFC 3948, as IPsec does when a NAT sits between the gateways). The layout is
/// AES-CBC's (RFC 3602: a 16-byte IV, 16-byte blocks) with HMAC-SHA1-96's 12-byte ICV (RFC 2404); the "cipher
/// text" is the inner packet mixed with a keystream drawn from the SPI and sequence number, so it looks encrypted,
/// decrypts to nothing, and is the same from run to run. One SPI per direction; sequence numbers count from 1 per
/// direction, in the order the packets enter the tunnel. The frame: `ESPTunnelFrame`.
public struct ESPTunnelView: Sendable, Equatable {
    /// The capture point of the inner packets (`CapturePoint.Component.vpnConnection`).
    public var innerPoint: Int
    /// The active tunnel's outside address on the Amazon side, and the customer gateway's.
    public var amazonAddress: IPv4Address
    public var customerAddress: IPv4Address
    public var natTraversal: Bool
    public var spiToCustomer: UInt32
    public var spiFromCustomer: UInt32

    /// SPIs from the connection's id: any 32-bit value above 255 (RFC 4303 section 2.1 reserves 1-255).
    public init(innerPoint: Int, connectionID: String, amazonAddress: IPv4Address, customerAddress: IPv4Address,
                natTraversal: Bool) {
        self.innerPoint = innerPoint
        self.amazonAddress = amazonAddress
        self.customerAddress = customerAddress
        self.natTraversal = natTraversal
        spiToCustomer = Self.spi("out|" + connectionID)
        spiFromCustomer = Self.spi("in|" + connectionID)
    }

    static func spi(_ s: String) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for b in s.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        return h < 256 ? h | 0x1000_0000 : h
    }

    /// The outer frame of `inner` (its bytes from the IP header on), `toCustomer` or from it.
    func write(to w: inout ByteWriter, inner: UnsafeRawBufferPointer, toCustomer: Bool, sequence: UInt32,
               source: MACAddress, destination: MACAddress) {
        ESPTunnelFrame.write(to: &w, inner: inner, spi: toCustomer ? spiToCustomer : spiFromCustomer,
                             sequence: sequence, from: toCustomer ? amazonAddress : customerAddress,
                             to: toCustomer ? customerAddress : amazonAddress, natTraversal: natTraversal,
                             source: source, destination: destination)
    }
}
