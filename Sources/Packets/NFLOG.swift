/// Linux netfilter log captures (LINKTYPE_NFLOG, 239): what `tcpdump -i nflog:N` writes for packets an
/// nftables `log group N` or iptables `NFLOG` rule logged. Each record is a 4-byte header (address family,
/// version, resource id) and then type-length-value attributes; attribute 9 (NFULA_PAYLOAD) holds the packet
/// from its IP header on. Attribute lengths and types are in the byte order of the machine reading the file
/// (libpcap swaps them for a file written on a machine of the other order); each attribute is padded to a
/// multiple of 4 bytes. https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html
public enum NFLOG {
    /// NFULA_PAYLOAD: the logged packet.
    public static let payloadAttribute: UInt16 = 9

    /// The logged packet's bytes and their offset in `bytes`. A header or attribute cut short, an attribute
    /// shorter than its own header, or a record with no payload attribute throws a `PacketError`.
    public static func payload(of bytes: [UInt8]) throws -> (bytes: [UInt8], offset: Int) {
        guard bytes.count >= 4 else {
            throw PacketError(layer: "NFLOG", offset: 0, problem: .truncated(needed: 4, available: bytes.count))
        }
        var offset = 4
        while offset < bytes.count {
            guard bytes.count - offset >= 4 else {
                throw PacketError(layer: "NFLOG attribute", offset: offset,
                                  problem: .truncated(needed: 4, available: bytes.count - offset))
            }
            let length = Int(UInt16(native: bytes[offset], bytes[offset + 1]))
            let type = UInt16(native: bytes[offset + 2], bytes[offset + 3]) & 0x7FFF
            guard length >= 4 else {
                throw PacketError(layer: "NFLOG attribute", offset: offset,
                                  problem: .invalid("length \(length) is shorter than the attribute header"))
            }
            guard length <= bytes.count - offset else {
                throw PacketError(layer: "NFLOG attribute", offset: offset,
                                  problem: .truncated(needed: length, available: bytes.count - offset))
            }
            if type == payloadAttribute {
                return (Array(bytes[(offset + 4)..<(offset + length)]), offset + 4)
            }
            offset += (length + 3) & ~3
        }
        throw PacketError(layer: "NFLOG", offset: 4, problem: .invalid("no payload attribute (type 9)"))
    }
}

extension UInt16 {
    /// Two bytes in this machine's byte order.
    fileprivate init(native b0: UInt8, _ b1: UInt8) {
        var v: UInt16 = 0
        Swift.withUnsafeMutableBytes(of: &v) {
            $0[0] = b0
            $0[1] = b1
        }
        self = v
    }
}
