/// VPC Flow Logs record formats: the fields through version 5 (VPC-UG flow-log-records, "Available fields"),
/// the default version 2 format, and custom formats written as AWS takes them: `${field} ${field} …`.
public enum FlowLogField: String, CaseIterable, Sendable, Hashable {
    // Version 2 (the default format, in its order).
    case version
    case accountID = "account-id"
    case interfaceID = "interface-id"
    case srcaddr, dstaddr, srcport, dstport
    case `protocol`
    case packets, bytes, start, end, action
    case logStatus = "log-status"
    // Version 3.
    case vpcID = "vpc-id"
    case subnetID = "subnet-id"
    case instanceID = "instance-id"
    case tcpFlags = "tcp-flags"
    case type
    case pktSrcaddr = "pkt-srcaddr"
    case pktDstaddr = "pkt-dstaddr"
    // Version 4.
    case region
    case azID = "az-id"
    case sublocationType = "sublocation-type"
    case sublocationID = "sublocation-id"
    // Version 5.
    case pktSrcAWSService = "pkt-src-aws-service"
    case pktDstAWSService = "pkt-dst-aws-service"
    case flowDirection = "flow-direction"
    case trafficPath = "traffic-path"

    /// The flow-log version that introduced the field.
    public var version: Int {
        switch self {
        case .version, .accountID, .interfaceID, .srcaddr, .dstaddr, .srcport, .dstport, .protocol, .packets, .bytes,
             .start, .end, .action, .logStatus:
            return 2
        case .vpcID, .subnetID, .instanceID, .tcpFlags, .type, .pktSrcaddr, .pktDstaddr:
            return 3
        case .region, .azID, .sublocationType, .sublocationID:
            return 4
        case .pktSrcAWSService, .pktDstAWSService, .flowDirection, .trafficPath:
            return 5
        }
    }

    /// Fields AWS defines after version 5 (ECS, reject reasons, …): known names the model cannot fill, so a
    /// format naming them is refused with a clearer message than "unknown".
    static let laterFields: Set<String> = [
        "ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
        "ecs-container-id", "ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn",
        "ecs-task-arn", "ecs-task-id", "reject-reason", "resource-id", "encryption-status",
    ]
}

/// A problem in a format string, at a character offset (0-based) within it.
public struct FlowLogFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public var description: String { message }
}

/// The fields of a flow-log record, in order.
public struct FlowLogFormat: Sendable, Equatable {
    public var fields: [FlowLogField]

    public init(fields: [FlowLogField]) { self.fields = fields }

    /// The default format: the version 2 fields in AWS's order.
    public static let defaultV2 = FlowLogFormat(fields: [
        .version, .accountID, .interfaceID, .srcaddr, .dstaddr, .srcport, .dstport, .protocol, .packets, .bytes,
        .start, .end, .action, .logStatus,
    ])

    /// "The version is the highest version among the specified fields" (VPC-UG flow-log-records); 2 for the
    /// default format.
    public var version: Int { fields.map(\.version).max() ?? 2 }

    /// The format as AWS writes it: `${version} ${account-id} …`.
    public var formatString: String { fields.map { "${\($0.rawValue)}" }.joined(separator: " ") }

    /// The header line of a log file: the field names, as in AWS's examples.
    public var header: String { fields.map(\.rawValue).joined(separator: " ") }

    /// Parses `${field} ${field} …`: fields separated by single or repeated spaces, nothing else. Throws at
    /// the first problem: text outside `${…}`, an unclosed `${`, an empty or unknown field, a repeated field.
    public init(parsing text: String) throws(FlowLogFormatError) {
        let chars = Array(text)
        var i = 0
        var out: [FlowLogField] = []
        func err(_ at: Int, _ m: String) -> FlowLogFormatError { FlowLogFormatError(offset: at, message: m) }
        while i < chars.count {
            if chars[i] == " " { i += 1; continue }
            let start = i
            guard chars[i] == "$", i + 1 < chars.count, chars[i + 1] == "{" else {
                var j = i
                while j < chars.count, chars[j] != " " { j += 1 }
                throw err(start, "malformed flow log format: expected '${field}', found '\(String(chars[i..<j]))'")
            }
            guard let close = chars[(i + 2)...].firstIndex(of: "}") else {
                throw err(start, "malformed flow log format: '${' without a closing '}'")
            }
            let name = String(chars[(i + 2)..<close])
            if name.isEmpty { throw err(start, "malformed flow log format: empty field '${}'") }
            guard let f = FlowLogField(rawValue: name) else {
                if FlowLogField.laterFields.contains(name) {
                    throw err(start, "flow log field ${\(name)} is after version 5 and not modelled")
                }
                var m = "unknown flow log field ${\(name)}"
                let names = FlowLogField.allCases.map(\.rawValue)
                if let guess = Self.closest(name, names) { m += " (did you mean ${\(guess)}?)" }
                throw err(start, m)
            }
            if out.contains(f) { throw err(start, "flow log field ${\(name)} appears twice") }
            out.append(f)
            i = close + 1
            if i < chars.count, chars[i] != " " {
                throw err(i, "malformed flow log format: fields must be separated by spaces")
            }
        }
        if out.isEmpty { throw err(0, "malformed flow log format: no fields (expected '${field} ${field} …')") }
        fields = out
    }

    static func closest(_ word: String, _ candidates: [String]) -> String? {
        var best: (String, Int)?
        for c in candidates {
            let d = editDistance(Array(word.utf8), Array(c.utf8))
            if d <= max(2, word.count / 3), best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}

/// A scenario's `flow_logs:` settings.
public struct FlowLogSettings: Sendable, Equatable {
    /// The maximum aggregation interval in seconds: 600 (AWS's default) or 60.
    public var interval: Int
    public var format: FlowLogFormat
    public var accountID: String
    public var region: String
    /// Transit gateways whose Transit Gateway Flow Logs the run writes (`tgw-flow-logs.txt`, `TGWFlowLogRecorder`),
    /// indices into `VPCModel.transitGateways`.
    public var transitGateways: [Int] = []

    public init(interval: Int = 600, format: FlowLogFormat = .defaultV2, accountID: String = "123456789012",
                region: String = "us-east-1") {
        self.interval = interval
        self.format = format
        self.accountID = accountID
        self.region = region
    }

    public static let allowedIntervals = [60, 600]

    /// "us-east-1", "ap-southeast-2", "us-gov-west-1".
    public static func isValidRegion(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let last = parts.last, !last.isEmpty, last.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return false }
        return parts.dropLast().allSatisfy { p in !p.isEmpty && p.allSatisfy { $0.isASCII && $0.isLowercase } }
    }

    public static func isValidAccountID(_ s: String) -> Bool {
        s.count == 12 && s.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

/// The availability-zone ID for an AZ name: the region's short code ("use1", "apse2") and the zone letter's
/// position ("a" → az1). Named assumption `flow_logs az-id`: AWS maps AZ names to IDs differently per
/// account, so a real log's az-id may differ.
public func availabilityZoneID(_ az: String) -> String {
    guard let letter = az.last, letter.isLetter, let ascii = letter.asciiValue, ascii >= 97, ascii <= 122 else {
        return "-"
    }
    let region = String(az.dropLast())
    let parts = region.split(separator: "-")
    guard parts.count >= 3, let number = parts.last else { return "-" }
    let directions: [String: String] = [
        "east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne", "northwest": "nw",
        "southeast": "se", "southwest": "sw",
    ]
    var code = String(parts[0])
    for p in parts.dropFirst().dropLast() { code += directions[String(p)] ?? String(p) }
    return "\(code)\(number)-az\(Int(ascii) - 96)"
}
