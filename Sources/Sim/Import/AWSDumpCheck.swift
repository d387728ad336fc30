import Foundation

/// A value of the dump the importer cannot use: one line, the file, the JSON path of the value and the problem:
/// `dump/describe-security-groups.json: SecurityGroups[3].IpPermissions[0].IpProtocol: '\u0000' is not a protocol …`.
public struct AWSDumpValueError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// "SecurityGroups[3].IpPermissions[0].IpProtocol"
    public var path: String
    public var message: String

    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var description: String { "\(file): \(path): \(message)" }
}

/// The values of a dump the importer reads, checked by their key before anything is converted: ids have their
/// kind's prefix and AWS's form (letters and digits after it), protocols are names or numbers, numbers are
/// integers, flags are booleans, lists are lists and objects objects. A value of the wrong type or form is an error
/// at its JSON path; a well-formed value the model does not support (an IPv6 CIDR, a port range out of order) is
/// left to the importer's warnings.
enum AWSDumpCheck {
    enum Rule {
        case id([String])
        case ids([String])
        case proto
        case integer
        case flag
        case string
        case strings
        case list
        case object
    }

    /// Every route target prefix AWS prints in `GatewayId` ("local" too).
    static let gatewayPrefixes = ["igw-", "vgw-", "vpce-", "local"]

    static let rules: [String: Rule] = [
        "VpcId": .id(["vpc-"]), "SubnetId": .id(["subnet-"]), "GroupId": .id(["sg-"]),
        "NatGatewayId": .id(["nat-"]), "InstanceId": .id(["i-"]), "NetworkInterfaceId": .id(["eni-"]),
        "RouteTableId": .id(["rtb-"]), "NetworkAclId": .id(["acl-"]), "InternetGatewayId": .id(["igw-"]),
        "VpcPeeringConnectionId": .id(["pcx-"]), "PrefixListId": .id(["pl-"]), "DestinationPrefixListId": .id(["pl-"]),
        "TransitGatewayId": .id(["tgw-"]), "EgressOnlyInternetGatewayId": .id(["eigw-"]),
        "CarrierGatewayId": .id(["cagw-"]), "LocalGatewayId": .id(["lgw-"]), "VpcEndpointId": .id(["vpce-"]),
        "GatewayId": .id(gatewayPrefixes),
        "VpnGatewayId": .id(["vgw-"]), "CustomerGatewayId": .id(["cgw-"]), "VpnConnectionId": .id(["vpn-"]),
        "SecurityGroupIds": .ids(["sg-"]), "SubnetIds": .ids(["subnet-"]),
        "IpProtocol": .proto,
        "FromPort": .integer, "ToPort": .integer, "RuleNumber": .integer, "Timeout": .integer, "DeviceIndex": .integer,
        "From": .integer, "To": .integer,
        "Egress": .flag, "IsDefault": .flag, "Main": .flag, "Primary": .flag, "IsPrimary": .flag, "Ipv6Native": .flag,
        "CidrBlock": .string, "CidrIp": .string, "CidrIpv6": .string, "DestinationCidrBlock": .string, "Cidr": .string,
        "Ipv6CidrBlock": .string, "DestinationIpv6CidrBlock": .string, "PrivateIp": .string, "PublicIp": .string,
        "PrivateIpAddress": .string, "PublicIpAddress": .string, "AllocationId": .string, "RuleAction": .string,
        "ConnectivityType": .string, "InterfaceType": .string, "AddressFamily": .string, "Origin": .string,
        "AvailabilityZone": .string, "FunctionName": .string, "Description": .string, "GroupName": .string,
        "Key": .string, "Value": .string,
        "Cidrs": .strings,
        "IpPermissions": .list, "IpPermissionsEgress": .list, "IpRanges": .list, "Ipv6Ranges": .list,
        "PrefixListIds": .list, "UserIdGroupPairs": .list, "Routes": .list, "Associations": .list, "Entries": .list,
        "Tags": .list, "TagSet": .list, "NetworkInterfaces": .list, "NatGatewayAddresses": .list, "Attachments": .list,
        "CidrBlockAssociationSet": .list, "Ipv6CidrBlockAssociationSet": .list, "Groups": .list,
        "PrivateIpAddresses": .list, "Ipv6Addresses": .list, "PropagatingVgws": .list, "Instances": .list,
        "SecurityGroups": .list, "VpcAttachments": .list, "VgwTelemetry": .list,
        "VpcConfig": .object, "Attachment": .object, "PortRange": .object, "IcmpTypeCode": .object,
        "CidrBlockState": .object, "RequesterVpcInfo": .object, "AccepterVpcInfo": .object,
        "TransitGatewayAttachmentId": .id(["tgw-attach-"]), "TransitGatewayRouteTableId": .id(["tgw-rtb-"]),
        "TransitGatewayAttachments": .list, "TransitGatewayRouteTablePropagations": .list,
        "ResourceType": .string, "Options": .object, "Association": .object, "ApplianceModeSupport": .string,
        "ConnectionTrackingConfiguration": .object, "TcpEstablishedTimeout": .integer, "UdpTimeout": .integer,
        "UdpStreamTimeout": .integer,
        "AssignIpv6AddressOnCreation": .flag, "EnableDns64": .flag, "IsPrimaryIpv6": .flag,
        "Ipv6AllowedForDualStack": .flag,
        "Ipv6Address": .string,
    ]

    /// Rules for a key that means different things in different objects, by the key of the object holding it:
    /// `Type` is an integer in a NACL entry's `IcmpTypeCode` and a word ("static", "propagated") in a transit
    /// gateway route of search-transit-gateway-routes. Checked before `rules`.
    static let rulesWithin: [String: [String: Rule]] = [
        "IcmpTypeCode": ["Type": .integer, "Code": .integer],
        "Routes": ["Type": .string],
    ]

    /// Keys whose lists hold objects (a string or number there is an error).
    static let objectLists: Set<String> = [
        "IpPermissions", "IpPermissionsEgress", "IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs", "Routes",
        "Associations", "Entries", "Tags", "TagSet", "NetworkInterfaces", "NatGatewayAddresses", "Attachments",
        "CidrBlockAssociationSet", "Ipv6CidrBlockAssociationSet", "Groups", "PrivateIpAddresses", "PropagatingVgws",
        "Instances", "SecurityGroups", "TransitGatewayAttachments", "TransitGatewayRouteTablePropagations",
        "VpcAttachments", "VgwTelemetry",
    ]

    /// Checks one item of the dump (`path` is its JSON path, "SecurityGroups[3]").
    /// `within`: the key of the object or list holding `json` ("IcmpTypeCode", "Routes"), for `rulesWithin`.
    static func check(_ json: [String: Any], file: String, path: String, inNACL: Bool = false,
                      within: String? = nil) throws(AWSDumpValueError) {
        func fail(_ p: String, _ m: String) -> AWSDumpValueError { AWSDumpValueError(file: file, path: p, message: m) }
        for key in json.keys.sorted() {
            let value = json[key]!
            let p = path.isEmpty ? key : path + "." + key
            if value is NSNull { continue }
            if inNACL && key == "Protocol" {
                try proto(value, p, fail)
            } else if let rule = within.flatMap({ rulesWithin[$0]?[key] }) ?? rules[key] {
                switch rule {
                case .id(let prefixes): try id(value, prefixes, p, fail)
                case .ids(let prefixes):
                    guard let list = value as? [Any] else { throw fail(p, "expected a list of ids, found \(describe(value))") }
                    for (i, v) in list.enumerated() where !(v is NSNull) { try id(v, prefixes, "\(p)[\(i)]", fail) }
                case .proto: try proto(value, p, fail)
                case .integer:
                    // A VPN resource's "Type" is a string ("ipsec.1"); only an ICMP type is a number.
                    if key == "Type", value is String, !path.hasSuffix("IcmpTypeCode") { break }
                    guard integer(value) != nil else { throw fail(p, "expected an integer, found \(describe(value))") }
                case .flag:
                    guard flag(value) != nil else { throw fail(p, "expected true or false, found \(describe(value))") }
                case .string:
                    guard value is String else { throw fail(p, "expected a string, found \(describe(value))") }
                case .strings:
                    guard let list = value as? [Any] else { throw fail(p, "expected a list of strings, found \(describe(value))") }
                    for (i, v) in list.enumerated() where !(v is String) && !(v is NSNull) {
                        throw fail("\(p)[\(i)]", "expected a string, found \(describe(v))")
                    }
                case .list:
                    guard value is [Any] else { throw fail(p, "expected a list, found \(describe(value))") }
                case .object:
                    guard value is [String: Any] else { throw fail(p, "expected an object, found \(describe(value))") }
                }
            }
            // Deeper: every object inside, by its own keys.
            if let o = value as? [String: Any] {
                try check(o, file: file, path: p, inNACL: inNACL, within: key)
            } else if let list = value as? [Any] {
                for (i, v) in list.enumerated() {
                    if let o = v as? [String: Any] {
                        try check(o, file: file, path: "\(p)[\(i)]", inNACL: inNACL || key == "Entries", within: key)
                    } else if objectLists.contains(key), !(v is NSNull) {
                        throw fail("\(p)[\(i)]", "expected an object, found \(describe(v))")
                    }
                }
            }
        }
    }

    /// AWS's ids: the kind's prefix, then letters and digits (hyphens between them). `GatewayId` may be "local".
    static func id(_ value: Any, _ prefixes: [String], _ p: String,
                   _ fail: (String, String) -> AWSDumpValueError) throws(AWSDumpValueError) {
        guard let s = value as? String else { throw fail(p, "expected an id, found \(describe(value))") }
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { return }  // read as absent
        if t == "local", prefixes.contains("local") { return }
        let expected = prefixes.filter { $0 != "local" }.map { $0 + "…" }.joined(separator: ", ")
        guard let prefix = prefixes.first(where: { $0 != "local" && t.hasPrefix($0) }) else {
            throw fail(p, "\(quoted(s)) is not an id of the right kind (expected \(expected))")
        }
        let rest = t.utf8.dropFirst(prefix.utf8.count)
        let ok = !rest.isEmpty && rest.first != UInt8(ascii: "-") && rest.last != UInt8(ascii: "-")
            && rest.allSatisfy { b in (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D }
        guard ok else { throw fail(p, "\(quoted(s)) is not a well-formed id (expected \(expected) letters and digits)") }
    }

    static func proto(_ value: Any, _ p: String, _ fail: (String, String) -> AWSDumpValueError) throws(AWSDumpValueError) {
        let expected = "(expected tcp, udp, icmp, -1 or a number)"
        if let n = integer(value), !(value is String) {
            guard n == -1 || (0...255).contains(n) else { throw fail(p, "protocol \(n) is outside 0-255 \(expected)") }
            return
        }
        guard let s = value as? String else { throw fail(p, "expected a protocol, found \(describe(value)) \(expected)") }
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if t.isEmpty || ["tcp", "udp", "icmp", "icmpv6", "all", "-1"].contains(t) { return }
        guard let n = Int(t), t.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw fail(p, "\(quoted(s)) is not a protocol \(expected)")
        }
        guard (0...255).contains(n) else { throw fail(p, "protocol \(n) is outside 0-255 \(expected)") }
    }

    /// An integer: a JSON integer, or a string of one (AWS prints some numbers as strings).
    static func integer(_ value: Any) -> Int? {
        if let s = value as? String {
            let t = s.trimmingCharacters(in: .whitespaces)
            return Int(t)
        }
        guard let n = value as? NSNumber, flag(value) == nil else { return nil }
        let d = n.doubleValue
        guard d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }

    static func flag(_ value: Any) -> Bool? {
        if let s = value as? String { return s == "true" ? true : s == "false" ? false : nil }
        guard let n = value as? NSNumber, String(cString: n.objCType) == "c" else { return nil }
        return n.boolValue
    }

    static func describe(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if let b = flag(value), !(value is String) { return String(b) }
        if let s = value as? String { return "the string \(quoted(s))" }
        if let n = value as? NSNumber { return "the number \(n)" }
        if value is [Any] { return "a list" }
        if value is [String: Any] { return "an object" }
        return "\(type(of: value))"
    }

    /// A value in a message: single-quoted, control characters and quotes escaped, so the message is one line.
    static func quoted(_ s: String) -> String {
        "'" + oneLine(s).replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// Text with every control character, line or paragraph separator escaped (`\u0000`, `\n`): always one line.
    static func oneLine(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let v = u.value
                if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029 || v == 0xFEFF
                    || v == 0xFFFE || v == 0xFFFF {
                    let hex = String(v, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }
}
