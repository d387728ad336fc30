/// The result of turning an AWS CLI JSON dump into a scenario (`vpcsim import aws DIR`): the YAML text, what was
/// left out or changed and why, and how much was carried over. See docs/import.md.
public struct AWSImport: Sendable {
    /// A scenario file (docs/scenarios.md) that `ScenarioLoader` loads without error; no outside hosts, no flows.
    public var yaml: String
    /// Everything the model does not support, every inconsistency and every repair, in dump order.
    public var warnings: [ImportWarning]
    public var counts: ImportCounts
    /// The JSON files read (paths as found under the directory, sorted), with the top-level key that identified them
    /// ("Subnets", "Entries", …), or nil for a JSON file that is not an AWS CLI output the importer knows.
    public var files: [(path: String, key: String?)]

    public init(yaml: String, warnings: [ImportWarning], counts: ImportCounts, files: [(path: String, key: String?)]) {
        self.yaml = yaml
        self.warnings = warnings
        self.counts = counts
        self.files = files
    }
}

/// Something of the dump that is not carried over as it is, with the AWS id it concerns.
public struct ImportWarning: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// IPv6 parts the model does not hold (an IPv6 block known only after apply, an IPv6 address of an instance's
        /// other interface): left out.
        case ipv6
        /// A route to a transit gateway, virtual private gateway, VPC endpoint, carrier or local gateway, or a
        /// network interface or instance outside the dump: imported with its target id, which the scenario keeps as
        /// a not-modeled target (a flow routed there ends `not-modeled`). A Cloud WAN route: a `blackhole` route.
        case unsupportedTarget = "unsupported-target"
        /// A resource the model has no place for (VPC endpoints, gateway route-table associations, an instance's ENI
        /// in another VPC, secondary private IPs, ENIs of other services, functions outside a VPC): left out.
        case notModelled = "not-modelled"
        /// A peering connection whose far VPC is not in the dump: routes through it are kept; the far VPC is not
        /// modelled. (One whose two VPCs are both imported is modelled, without a warning.)
        case peering
        /// A reference to something that is not in the dump (or was left out): the consequence is in the message
        /// (a route becomes a blackhole, a rule or the object is skipped).
        case missingReference = "missing-reference"
        /// A value the scenario loader would refuse (as AWS would), repaired or dropped: the message says which.
        case repaired
        /// A resource that is deleted, failed, terminated or otherwise not in service: left out.
        case inactive
        /// A rule the model can only express more broadly (security-group ICMP type/code): widened.
        case approximated
        /// The same id twice in the dump: the first is kept.
        case duplicate
        /// A JSON file whose top-level key is not an AWS CLI output the importer reads: ignored.
        case unrecognisedFile = "unrecognised-file"
    }

    public var kind: Kind
    /// The AWS id concerned ("rtb-0ab…", "sg-…", a function name, or a file path for `unrecognised-file`).
    public var id: String
    public var message: String

    public init(_ kind: Kind, id: String, _ message: String) {
        self.kind = kind
        self.id = id
        self.message = message
    }

    /// "rtb-0ab…: route 0.0.0.0/0 → tgw-… (transit gateway) is not modelled; imported as blackhole [unsupported-target]"
    /// Always one line: control characters of the dump's values are escaped.
    public var description: String { "\(AWSDumpCheck.oneLine(id)): \(AWSDumpCheck.oneLine(message)) [\(kind.rawValue)]" }
}

/// How much of the dump the scenario carries (the generated scenario's numbers, after repairs and omissions).
public struct ImportCounts: Sendable, Equatable {
    public var files = 0
    public var vpcs = 0
    public var internetGateways = 0
    public var subnets = 0
    public var routeTables = 0
    /// Routes written, `local` ones included (a prefix-list route counts once per CIDR it expands to).
    public var routes = 0
    public var localRoutes = 0
    public var networkACLs = 0
    /// NACL entries written (inbound and outbound).
    public var naclEntries = 0
    /// The `*` entries (rule 32767, DENY all) of the dump, not written: the loader adds them to every NACL.
    public var naclImplicitDenyEntries = 0
    public var securityGroups = 0
    /// Security-group rules written: one per CIDR, prefix list or group of each permission, ingress and egress.
    public var securityGroupRules = 0
    public var natGateways = 0
    public var instances = 0
    public var lambdaFunctions = 0
    /// Peering connections between two imported VPCs (modelled).
    public var peeringConnections = 0
    /// Managed prefix lists whose CIDRs are in the dump.
    public var prefixLists = 0
    /// Gateway VPC endpoints (S3, DynamoDB) imported.
    public var vpcEndpoints = 0
    /// Site-to-Site VPN connections (to an imported virtual private gateway) imported.
    public var vpnConnections = 0
    /// Interface VPC endpoints imported.
    public var interfaceEndpoints = 0
    /// Network interfaces in describe-network-interfaces.
    public var networkInterfacesInDump = 0
    /// Network interfaces the scenario will have: one per instance and NAT gateway, one per Lambda (subnet,
    /// security-group set).
    public var networkInterfaces = 0
    /// Transit gateways and their VPC attachments imported.
    public var transitGateways = 0
    public var tgwAttachments = 0

    public init() {}

    /// "1 VPC, 3 subnets, …" — one line for people.
    public var summary: String {
        func n(_ v: Int, _ one: String, _ many: String? = nil) -> String { "\(v) \(v == 1 ? one : many ?? one + "s")" }
        var parts: [String] = [
            n(vpcs, "VPC"), n(subnets, "subnet"),
            n(routeTables, "route table") + " (\(n(routes, "route")), \(localRoutes) local)",
            n(networkACLs, "network ACL") + " (\(n(naclEntries, "entry", "entries")) + \(naclImplicitDenyEntries) `*` left implicit)",
            n(securityGroups, "security group") + " (\(n(securityGroupRules, "rule")))",
            n(natGateways, "NAT gateway"), n(internetGateways, "internet gateway"), n(instances, "instance"),
            n(lambdaFunctions, "Lambda function"), n(prefixLists, "prefix list"),
        ]
        if peeringConnections > 0 { parts.append(n(peeringConnections, "peering connection")) }
        if vpcEndpoints > 0 { parts.append(n(vpcEndpoints, "gateway VPC endpoint")) }
        if transitGateways > 0 {
            parts.append(n(transitGateways, "transit gateway") + " (\(n(tgwAttachments, "VPC attachment")))")
        }
        if vpnConnections > 0 { parts.append(n(vpnConnections, "VPN connection")) }
        if interfaceEndpoints > 0 { parts.append(n(interfaceEndpoints, "interface VPC endpoint")) }
        parts.append("\(n(networkInterfacesInDump, "network interface")) in the dump, \(networkInterfaces) in the model")
        return parts.joined(separator: ", ")
    }
}

/// Input the importer cannot read: a missing directory, an unreadable or malformed file. One line,
/// `file:line:column: problem` (0:0 when there is no position): the same error as a scenario file's.
public typealias AWSImportError = ScenarioError

public struct AWSImportOptions: Sendable {
    /// The scenario's `name:`; nil: "aws-" + the directory's name.
    public var scenarioName: String?

    public init(scenarioName: String? = nil) { self.scenarioName = scenarioName }
}
