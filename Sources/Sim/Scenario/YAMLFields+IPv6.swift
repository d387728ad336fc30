import Packets
import Yams

/// A CIDR of either family, where the scenario format takes both (NACL and security-group rules, routes).
enum EitherCIDR: Equatable {
    case v4(IPv4CIDR)
    case v6(IPv6CIDR)
}

extension YAMLReader {
    /// For an IPv4-only key given an IPv6 value: where the IPv6 one goes.
    static let ipv6Keys: [String: String] = [
        "cidr_blocks": "a VPC's IPv6 block goes in ipv6_cidr",
        "cidr": "a subnet's IPv6 block goes in ipv6_cidr",
        "private_ip": "an IPv6 address goes in ipv6_address",
        "private_ips": "a Lambda function's ENIs take IPv6 addresses with ipv6_allowed_for_dual_stack",
        "ip": "an outside host's IPv6 address goes in ipv6",
    ]

    /// An IPv6 CIDR block ("2001:db8::/56"), host bits clear; an IPv4 one is refused naming the key.
    func ipv6CIDR(_ node: Node, key: String) throws -> IPv6CIDR {
        let s = try string(node, key: key)
        if (try? IPv4CIDR(parsing: s)) != nil || IPv4Address(s) != nil {
            throw error(at: node, "`\(s)` is IPv4 where '\(key)' takes an IPv6 CIDR block")
        }
        do {
            return try IPv6CIDR(parsing: s)
        } catch {
            throw self.error(at: node, "invalid IPv6 CIDR '\(s)': \(error.description)")
        }
    }

    /// An IPv6 address; an IPv4 one is refused naming the key.
    func ipv6Address(_ node: Node, key: String) throws -> IPv6Address {
        let s = try string(node, key: key)
        if IPv4Address(s) != nil { throw error(at: node, "`\(s)` is IPv4 where '\(key)' takes an IPv6 address") }
        do {
            return try IPv6Address(parsing: s)
        } catch {
            throw self.error(at: node, "invalid IPv6 address '\(s)' for '\(key)': \(error.reason)")
        }
    }

    /// A CIDR of either family: IPv6 when written as IPv6 is (`looksLikeIPv6`), else IPv4.
    func eitherCIDR(_ node: Node, key: String) throws -> EitherCIDR {
        let s = try string(node, key: key)
        return Self.looksLikeIPv6(s) ? .v6(try ipv6CIDR(node, key: key)) : .v4(try cidr(node, key: key))
    }
}
