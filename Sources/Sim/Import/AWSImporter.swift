import Foundation
import Packets

/// `vpcsim import aws DIR`: an AWS CLI JSON dump (describe-vpcs, describe-subnets, … and lambda list-functions) →
/// a scenario file. Everything the model knows is carried over with its AWS id and Name tag; everything else is an
/// `ImportWarning`, never dropped silently; anything the scenario loader would refuse is repaired or left out with a
/// warning, and the result is loaded once before it is returned, so it always validates. docs/import.md.
public enum AWSImporter {
    /// Reads every *.json under `path` (or the one file `path`) and builds the scenario.
    /// Throws `AWSImportError` for a missing directory, an unreadable or malformed file, or a dump without any AWS
    /// CLI output in it.
    public static func importDirectory(_ path: String, options: AWSImportOptions = AWSImportOptions()) throws -> AWSImport {
        try convert(AWSDump.read(path), path: path, options: options)
    }

    /// The same from files already read (for tests: `path` names each file in messages).
    static func importFiles(_ files: [(path: String, data: Data)], directory: String,
                            options: AWSImportOptions = AWSImportOptions()) throws -> AWSImport {
        try convert(AWSDump.read(files: files, directory: directory), path: directory, options: options)
    }

    static func convert(_ dump: AWSDump, path: String, options: AWSImportOptions) throws -> AWSImport {
        var c = AWSConverter(dump: dump)
        c.convert()
        let base = path.split(separator: "/").last.map(String.init) ?? "dump"
        var name = "aws-" + String(base.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" })
        if let n = options.scenarioName {
            // The loader's rule for a name: not empty, no surrounding whitespace.
            guard let first = n.first, let last = n.last, !first.isWhitespace, !last.isWhitespace else {
                throw AWSImportError(file: path, line: 0, column: 0,
                                     message: "scenario name \(AWSDumpCheck.quoted(n)) is empty or has leading or trailing spaces")
            }
            name = n
        }
        let yaml = ScenarioYAMLWriter.write(c.plan, name: name, source: path, counts: c.counts, warnings: c.warnings,
                                            fileCount: dump.files.count)
        do {
            _ = try ScenarioLoader.load(yaml: yaml, file: "imported.yaml")
        } catch {
            // An importer bug, never the user's: say so rather than write a file that does not load.
            throw AWSImportError(file: path, line: 0, column: 0,
                                 message: "internal error: the generated scenario does not load (\(error)); please report it")
        }
        return AWSImport(yaml: yaml, warnings: c.warnings, counts: c.counts, files: dump.files)
    }
}

// MARK: - The plan: the scenario to write, in the loader's terms (references are AWS ids)

struct ImportPlan {
    struct VPC { var id: String; var name: String?; var blocks: [IPv4CIDR]; var ipv6Blocks: [IPv6CIDR] = [] }
    struct IGW { var id: String; var name: String?; var vpc: String? }
    struct Route { var destination: IPv4CIDR; var target: String; var note: String? }
    struct RouteTable {
        var id: String; var name: String?; var vpc: String; var main: Bool; var routes: [Route]
        /// Virtual private gateways whose routes the table receives (PropagatingVgws).
        var propagating: [String] = []
        /// The internet gateway of an edge association (a gateway route table).
        var gateway: String? = nil
        /// Routes to IPv6 destinations (AWSImporter+IPv6.swift).
        var routes6: [Route6] = []
    }
    struct NACLRule {
        var number: Int; var proto: String; var ports: String?; var icmpType: Int?; var icmpCode: Int?
        var cidr: IPv4CIDR; var allow: Bool
        /// An IPv6 entry's block (Ipv6CidrBlock); `cidr` is then unused.
        var cidr6: IPv6CIDR? = nil
    }
    struct NACL { var id: String; var name: String?; var vpc: String; var isDefault: Bool; var inbound: [NACLRule]; var outbound: [NACLRule] }
    enum Peer: Equatable {
        case cidr(IPv4CIDR), group(String), prefixList(String, [IPv4CIDR]), cidr6(IPv6CIDR)
        /// A prefix list of IPv6 entries (AddressFamily IPv6).
        case prefixList6(String, [IPv6CIDR])
    }
    struct SGRule: Equatable {
        var proto: String; var ports: String?; var peer: Peer; var description: String?
        /// An ICMP rule's type and code (FromPort, ToPort; nil: -1, all).
        var icmpType: Int? = nil
        var icmpCode: Int? = nil
    }
    struct SG { var id: String; var name: String?; var vpc: String; var description: String?; var ingress: [SGRule]; var egress: [SGRule] }
    struct Subnet {
        var id: String; var name: String?; var vpc: String; var cidr: IPv4CIDR; var az: String?; var routeTable: String?; var nacl: String?
        var ipv6: IPv6CIDR? = nil
        /// An IPv6-only subnet (Ipv6Native): `cidr` is `Subnet.ipv6OnlyPlaceholder`, never written.
        var ipv6Only = false
        /// AssignIpv6AddressOnCreation (always on in an IPv6-only subnet).
        var assignIPv6 = false
        /// EnableDns64 (`enable_dns64`).
        var dns64 = false
    }
    struct NAT {
        var id: String; var name: String?; var subnet: String; var isPublic: Bool; var privateIP: IPv4Address?
        var elasticIP: IPv4Address?; var secondaryPrivate: [IPv4Address]; var secondaryElastic: [IPv4Address]
    }
    struct Instance {
        var id: String; var name: String?; var subnet: String; var privateIP: IPv4Address?; var publicIP: IPv4Address?; var groups: [String]
        /// nil: EC2's source/destination check is on (the default); else what the instance is taken to do with packets for others.
        var forwarding: String? = nil
        /// The primary ENI's ConnectionTrackingConfiguration, when set (written as `connection_tracking`).
        var connectionTracking = ConnectionTracking()
        /// With `forwarding`: the primary interface's check is still on (only another interface's is off).
        var primaryCheckOn = false
        /// The other network interfaces attached, by device index.
        var interfaces: [Interface] = []
        /// The primary ENI's IPv6 address as the scenario's `ipv6_address` takes it: an address, `auto` (the
        /// scenario allocates one) or `none` (none, though its subnet assigns them); nil: the key is left out.
        var ipv6: String? = nil
    }
    /// A network interface attached to an instance at device index 1 or more.
    struct Interface {
        var id: String; var subnet: String; var privateIP: IPv4Address?; var publicIP: IPv4Address?; var groups: [String]
        var sourceDestCheck: Bool
        /// Its `ipv6_address` (an address, `auto` or `none`), as an instance's.
        var ipv6: String? = nil
    }
    struct Lambda {
        var name: String; var subnets: [String]; var groups: [String]; var timeout: Int?; var privateIPs: [(subnet: String, ip: IPv4Address)]
        /// VpcConfig.Ipv6AllowedForDualStack, when every subnet kept has an IPv6 block.
        var dualStack = false
    }
    /// An active peering connection whose two VPCs are both imported.
    struct Peering {
        var id: String; var name: String?; var requester: String; var accepter: String
        var requesterRegion: String?; var accepterRegion: String?
        var interRegion: Bool { requesterRegion != nil && accepterRegion != nil && requesterRegion != accepterRegion }
        func other(_ vpc: String) -> String? { vpc == requester ? accepter : vpc == accepter ? requester : nil }
    }
    /// A gateway endpoint for S3 or DynamoDB, with its prefix list's CIDRs.
    struct Endpoint {
        var id: String; var name: String?; var vpc: String; var service: String; var routeTables: [String]
        var prefixList: String; var cidrs: [IPv4CIDR]
        /// A gateway endpoint's IPv6 prefix list and its CIDRs, when a route table routes it to the endpoint
        /// (IpAddressType dualstack: PrivateLink guide gateway-endpoints, "IP address type"); empty otherwise.
        var prefixList6 = ""; var cidrs6: [IPv6CIDR] = []
        /// An interface endpoint's subnets, groups, private DNS and ENIs (ids and addresses, per subnet; empty ids:
        /// the loader names them); nil for a gateway endpoint.
        struct Interface {
            var subnets: [String]; var groups: [String]; var privateDNS: Bool; var dnsName: String?
            var eniIDs: [String]; var privateIPs: [IPv4Address?]
            /// IpAddressType dualstack, kept when every kept subnet has an IPv6 block.
            var dualStack = false
        }
        var interface: Interface? = nil
    }

    var vpcs: [VPC] = []
    var igws: [IGW] = []
    var eigws: [EIGW] = []
    var routeTables: [RouteTable] = []
    var nacls: [NACL] = []
    var groups: [SG] = []
    var subnets: [Subnet] = []
    var nats: [NAT] = []
    var instances: [Instance] = []
    var lambdas: [Lambda] = []
    var peerings: [Peering] = []
    var endpoints: [Endpoint] = []
    var tgws: [TGW] = []
    /// Virtual private gateways attached to an imported VPC, customer gateways, and VPN connections between them.
    struct VGW { var id: String; var name: String?; var vpc: String; var asn: Int? }
    struct CGW { var id: String; var name: String?; var ip: IPv4Address; var asn: Int? }
    struct VPNConnection {
        var id: String; var name: String?; var vgw: String; var cgw: String; var staticOnly: Bool
        var staticRoutes: [IPv4CIDR]; var bgpPrefixes: [IPv4CIDR]; var tunnels: [IPv4Address]; var activeTunnel: Int
        /// A connection that ends at a transit gateway (its vpn attachment names it; `vgw` is empty).
        var tgw: String? = nil
        /// Options.TunnelInsideIpVersion ipv6: its routes are IPv6 (`staticRoutes6`, `bgpPrefixes6`).
        var insideIPv6 = false
        var staticRoutes6: [IPv6CIDR] = []
        var bgpPrefixes6: [IPv6CIDR] = []
    }
    var vgws: [VGW] = []
    var cgws: [CGW] = []
    var vpnConnections: [VPNConnection] = []
    /// The scenario's `flow_logs:` (from a Terraform aws_flow_log); nil: the defaults.
    struct FlowLogs { var interval: Int?; var format: String? }
    var flowLogs: FlowLogs?
}

// MARK: - Conversion

struct AWSConverter {
    let dump: AWSDump
    var plan = ImportPlan()
    var warnings: [ImportWarning] = []
    var counts = ImportCounts()

    var vpcIndex: [String: Int] = [:]
    var subnetIndex: [String: Int] = [:]
    var groupIndex: [String: Int] = [:]
    var natIndex: [String: Int] = [:]
    var instanceIndex: [String: Int] = [:]
    var igwIndex: [String: Int] = [:]
    var prefixLists: [String: [IPv4CIDR]] = [:]
    /// Prefix lists of IPv6 entries (AWSImporter+IPv6.swift).
    var prefixLists6: [String: [IPv6CIDR]] = [:]
    /// ENI id → what the model calls it as a route target (an instance or NAT gateway id).
    var eniOwner: [String: String] = [:]
    /// describe-network-interfaces' ENIs attached to an instance at device index 1 and up, by instance id.
    var attachedENIs: [String: [[String: Any]]] = [:]
    /// ENI ids the model covers (instance primaries, NAT gateways, matched Lambda ENIs).
    var coveredENIs: Set<String> = []
    var peeringStatus: [String: String] = [:]
    var warnedPeerings: Set<String> = []
    /// Modeled peering connections (both VPCs imported, active): id → index in `plan.peerings`.
    var peeringIndex: [String: Int] = [:]
    var usedPrivate: [String: [UInt32: String]] = [:]
    var usedPublic: [UInt32: String] = [:]
    /// IPv6 addresses of the import's ENIs (AWSImporter+IPv6.swift).
    var usedIPv6: [IPv6Address: String] = [:]
    /// A Terraform plan's: an instance without a known IPv6 address in a subnet that assigns them gets one at apply
    /// (a dump's was launched without one).
    var addressesAssignedAtApply = false
    var allIDs: Set<String> = []

    init(dump: AWSDump) {
        self.dump = dump
        warnings = dump.warnings
    }

    mutating func warn(_ kind: ImportWarning.Kind, _ id: String, _ message: String) {
        let w = ImportWarning(kind, id: id, message)
        if !warnings.contains(w) { warnings.append(w) }
    }

    /// Distinct items by their id key; later duplicates warned about and dropped.
    mutating func unique(_ key: String, idKey: String) -> [(id: String, item: DumpItem)] {
        var seen = Set<String>()
        var out: [(String, DumpItem)] = []
        for item in dump[key] {
            guard let id = item.json.awsStr(idKey) else {
                warn(.repaired, item.origin, "has no \(idKey); left out")
                continue
            }
            guard seen.insert(id).inserted else {
                warn(.duplicate, id, "appears again in \(item.origin); the first is kept")
                continue
            }
            out.append((id, item))
        }
        return out
    }

    /// A CIDR as AWS prints it; host bits set are cleared (with a warning), anything else unparsable is nil.
    mutating func cidr(_ text: String?, _ id: String, _ what: String) -> IPv4CIDR? {
        guard let text else { return nil }
        do {
            return try IPv4CIDR(parsing: text)
        } catch IPv4CIDR.ParseError.hostBitsSet(_, let network) {
            let prefix = Int(text.split(separator: "/").last ?? "") ?? 32
            guard let c = try? IPv4CIDR(network: network, prefixLength: prefix) else { return nil }
            warn(.repaired, id, "\(what) \(text) has host bits set; imported as \(c)")
            return c
        } catch {
            warn(.repaired, id, "\(what) '\(text)' is not an IPv4 CIDR; left out")
            return nil
        }
    }

    mutating func convert() {
        counts.files = dump.files.count
        readPrefixLists()
        readVPCs()
        readPeerings()
        readInternetGateways()
        readEgressOnlyInternetGateways()
        readSubnets()
        readSecurityGroups()
        indexNetworkInterfaces()
        readNATGateways()
        readInstances()
        readGatewayEndpoints()
        readVPN()
        readTransitGateways()  // after the VPN connections: a vpn attachment names one
        readRouteTables()
        readNetworkACLs()
        readLambdas()
        readInterfaceEndpoints()
        reportLeftovers()
        counts.vpcs = plan.vpcs.count
        counts.internetGateways = plan.igws.count
        counts.subnets = plan.subnets.count
        counts.routeTables = plan.routeTables.count
        // IPv6 routes too, with the `local` one of each IPv6 block the loader adds to every table.
        let blocks6 = Dictionary(plan.vpcs.map { ($0.id, $0.ipv6Blocks.count) }, uniquingKeysWith: { a, _ in a })
        let ipv6Locals = { (t: ImportPlan.RouteTable) in blocks6[t.vpc] ?? 0 }
        counts.routes = plan.routeTables.reduce(0) { $0 + $1.routes.count + $1.routes6.count + ipv6Locals($1) }
        counts.localRoutes = plan.routeTables.reduce(0) { $0 + $1.routes.filter { $0.target == "local" }.count + ipv6Locals($1) }
        counts.networkACLs = plan.nacls.count
        counts.naclEntries = plan.nacls.reduce(0) { $0 + $1.inbound.count + $1.outbound.count }
        counts.securityGroups = plan.groups.count
        counts.securityGroupRules = plan.groups.reduce(0) { $0 + $1.ingress.count + $1.egress.count }
        counts.natGateways = plan.nats.count
        counts.instances = plan.instances.count
        counts.lambdaFunctions = plan.lambdas.count
        counts.peeringConnections = plan.peerings.count
        counts.networkInterfacesInDump = dump["NetworkInterfaces"].count
        var lambdaENIKeys = Set<String>()
        for f in plan.lambdas { for s in f.subnets { lambdaENIKeys.insert(s + "|" + f.groups.sorted().joined(separator: ",")) } }
        counts.networkInterfaces = plan.instances.reduce(0) { $0 + 1 + $1.interfaces.count } + plan.nats.count
            + lambdaENIKeys.count
            + plan.endpoints.reduce(0) { $0 + ($1.interface?.subnets.count ?? 0) }
    }

    // MARK: Gateway endpoints

    /// describe-vpc-endpoints: each available gateway endpoint for S3 or DynamoDB of an imported VPC whose
    /// prefix list's CIDRs the dump holds (the list a route to the endpoint names, else the AWS-managed list
    /// named after the service). The others stay not modelled (`reportLeftovers`). Its policy is not imported:
    /// the model lets every request through.
    mutating func readGatewayEndpoints() {
        var listByName: [String: String] = [:]
        for item in dump["PrefixLists"] {
            if let id = item.json.awsStr("PrefixListId"), let n = item.json.awsStr("PrefixListName") { listByName[n] = id }
        }
        var listByEndpoint: [String: String] = [:], listByEndpoint6: [String: String] = [:]
        for item in dump["RouteTables"] {
            for r in item.json.awsObjs("Routes") {
                if let g = r.awsStr("GatewayId"), g.hasPrefix("vpce-"), let pl = r.awsStr("DestinationPrefixListId") {
                    // A dualstack endpoint's tables route its IPv4 and its IPv6 prefix list to it.
                    if prefixLists6[pl] != nil { listByEndpoint6[g] = pl } else { listByEndpoint[g] = pl }
                }
            }
        }
        for item in dump["VpcEndpoints"] {
            let j = item.json
            guard let id = j.awsStr("VpcEndpointId"), j.awsStr("VpcEndpointType") == "Gateway",
                  let vpc = j.awsStr("VpcId"), vpcIndex[vpc] != nil, j.awsStr("State").map({ $0 == "available" }) ?? true,
                  let serviceName = j.awsStr("ServiceName"),
                  let service = serviceName.split(separator: ".").last.map(String.init), service == "s3" || service == "dynamodb",
                  let pl = listByEndpoint[id] ?? listByName[serviceName], let cidrs = prefixLists[pl]
            else { continue }
            let blocks = plan.vpcs[vpcIndex[vpc]!].blocks
            guard !cidrs.contains(where: { c in blocks.contains { $0.overlaps(c) } }) else { continue }
            guard !plan.endpoints.contains(where: { $0.id == id }) else {
                warn(.duplicate, id, "a second VPC endpoint with this id; left out")
                continue
            }
            let name = j.awsObjs("Tags").first { $0.awsStr("Key") == "Name" }?.awsStr("Value")
            var e = ImportPlan.Endpoint(id: id, name: name, vpc: vpc, service: service,
                                        routeTables: j.awsStrs("RouteTableIds"), prefixList: pl, cidrs: cidrs)
            if let pl6 = listByEndpoint6[id], let cidrs6 = prefixLists6[pl6] { (e.prefixList6, e.cidrs6) = (pl6, cidrs6) }
            plan.endpoints.append(e)
        }
        counts.vpcEndpoints = plan.endpoints.count
    }

    // MARK: Prefix lists and peering

    mutating func readPrefixLists() {
        var lists: [String: [String]] = [:]
        for item in dump["PrefixLists"] {
            guard let id = item.json.awsStr("PrefixListId") else { continue }
            // describe-prefix-lists (AWS-managed lists) carries the CIDRs; describe-managed-prefix-lists does not.
            let cidrs = item.json.awsStrs("Cidrs")
            if !cidrs.isEmpty { lists[id, default: []] += cidrs }
        }
        for e in dump.prefixListEntries { lists[e.id, default: []] += e.cidrs }
        for (id, texts) in lists.sorted(by: { $0.key < $1.key }) {
            if texts.contains(where: { $0.contains(":") }) {
                readIPv6PrefixList(id, texts)
                continue
            }
            var out: [IPv4CIDR] = []
            for t in texts {
                if let c = cidr(t, id, "entry"), !out.contains(c) { out.append(c) }
            }
            if !out.isEmpty { prefixLists[id] = out }
        }
        counts.prefixLists = prefixLists.count + prefixLists6.count
    }

    /// A peering connection whose VPCs are both imported becomes one of the scenario's (`peering_connections`); one
    /// whose far VPC is not in the dump keeps its routes as a not-modeled target, with a warning; an inactive one's
    /// routes become blackholes (as AWS shows them). Runs after the VPCs are read.
    mutating func readPeerings() {
        /// The Region each VPC was given by a modeled connection, for connections that disagree.
        var vpcRegion: [String: String] = [:]
        for item in dump["VpcPeeringConnections"] {
            guard let id = item.json.awsStr("VpcPeeringConnectionId") else { continue }
            let status = item.json.awsObj("Status")?.awsStr("Code") ?? "active"
            peeringStatus[id] = status
            let req = item.json.awsObj("RequesterVpcInfo"), acc = item.json.awsObj("AccepterVpcInfo")
            let sides = [req, acc].compactMap { $0 }.map { "\($0.awsStr("VpcId") ?? "?") (\($0.awsStr("CidrBlock") ?? "?"))" }
            guard status == "active" else {
                warn(.inactive, id, "peering connection is \(status); routes through it are imported as blackhole")
                continue
            }
            if peeringIndex[id] == nil, let r = req?.awsStr("VpcId"), let a = acc?.awsStr("VpcId"), r != a,
               let ri = vpcIndex[r], let ai = vpcIndex[a] {
                let rr = req?.awsStr("Region"), ar = acc?.awsStr("Region")
                // What the loader would refuse (AWS too): overlapping blocks, a second connection between the two,
                // a VPC in two Regions.
                var problem: String?
                if plan.vpcs[ri].blocks.contains(where: { b in plan.vpcs[ai].blocks.contains { $0.overlaps(b) } }) {
                    problem = "the imported CIDR blocks of \(r) and \(a) overlap"
                } else if let other = plan.peerings.first(where: { $0.other(r) == a }) {
                    problem = "\(r) and \(a) are already joined by \(other.id)"
                } else if let x = rr, let y = vpcRegion[r], x != y {
                    problem = "it puts \(r) in \(x), another connection in \(y)"
                } else if let x = ar, let y = vpcRegion[a], x != y {
                    problem = "it puts \(a) in \(x), another connection in \(y)"
                } else if (rr == nil) != (ar == nil) || (rr == nil && (vpcRegion[r] != nil || vpcRegion[a] != nil)) {
                    problem = "the Regions of its two sides are not both in the dump"
                }
                if let problem {
                    warn(.repaired, id, "peering \(sides.joined(separator: " ↔ ")) is not modelled: \(problem); routes "
                         + "through it are kept (flows routed there end not-modeled)")
                    warnedPeerings.insert(id)
                    continue
                }
                if let rr { vpcRegion[r] = rr }
                if let ar { vpcRegion[a] = ar }
                peeringIndex[id] = plan.peerings.count
                allIDs.insert(id)
                plan.peerings.append(.init(id: id, name: item.json.awsNameTag, requester: r, accepter: a,
                                           requesterRegion: rr, accepterRegion: ar))
                continue
            }
            warnedPeerings.insert(id)
            warn(.peering, id, "peering \(sides.joined(separator: " ↔ ")): routes through it are kept; the far side "
                 + "is not modelled (flows routed there end not-modeled)")
        }
    }

    /// The modeled peering connection joining VPCs `a` and `b` in the same Region (a group reference may cross it:
    /// VPC-PG vpc-peering-security-groups); nil when there is none.
    func peeringForReference(_ a: String, _ b: String) -> ImportPlan.Peering? {
        plan.peerings.first { $0.other(a) == b && !$0.interRegion }
    }

    // MARK: VPCs, internet gateways, subnets

    mutating func readVPCs() {
        for (id, item) in unique("Vpcs", idKey: "VpcId") {
            let j = item.json
            var texts: [String] = []
            let assoc = j.awsObjs("CidrBlockAssociationSet")
            if assoc.isEmpty {
                if let c = j.awsStr("CidrBlock") { texts = [c] }
            } else {
                for a in assoc {
                    let state = a.awsObj("CidrBlockState")?.awsStr("State") ?? "associated"
                    guard let c = a.awsStr("CidrBlock") else { continue }
                    if state == "associated" || state == "associating" { texts.append(c) } else {
                        warn(.inactive, id, "CIDR block \(c) is \(state); left out")
                    }
                }
            }
            var blocks: [IPv4CIDR] = []
            for t in texts {
                guard let c = cidr(t, id, "CIDR block") else { continue }
                guard (16...28).contains(c.prefixLength) else {
                    warn(.repaired, id, "CIDR block \(c) is not between /16 and /28; left out"); continue
                }
                if let o = blocks.first(where: { $0.overlaps(c) }) {
                    warn(.repaired, id, "CIDR block \(c) overlaps \(o); left out"); continue
                }
                blocks.append(c)
            }
            guard !blocks.isEmpty else {
                warn(.repaired, id, "VPC has no usable IPv4 CIDR block; left out with everything in it")
                continue
            }
            vpcIndex[id] = plan.vpcs.count
            allIDs.insert(id)
            plan.vpcs.append(.init(id: id, name: j.awsNameTag, blocks: blocks, ipv6Blocks: vpcIPv6Blocks(j, id)))
        }
    }

    mutating func readInternetGateways() {
        var vpcHasIGW: [String: String] = [:]
        for (id, item) in unique("InternetGateways", idKey: "InternetGatewayId") {
            var vpc: String?
            for a in item.json.awsObjs("Attachments") {
                guard let v = a.awsStr("VpcId") else { continue }
                let state = a.awsStr("State") ?? "available"
                guard state == "available" || state == "attached" else {
                    warn(.inactive, id, "attachment to \(v) is \(state); imported detached"); continue
                }
                guard vpcIndex[v] != nil else {
                    warn(.missingReference, id, "attached to \(v), which is not in the dump; imported detached"); continue
                }
                if let other = vpcHasIGW[v] {
                    warn(.repaired, id, "\(v) already has internet gateway \(other) (a VPC takes only one); imported detached")
                    continue
                }
                if vpc == nil { vpc = v; vpcHasIGW[v] = id }
            }
            igwIndex[id] = plan.igws.count
            allIDs.insert(id)
            plan.igws.append(.init(id: id, name: item.json.awsNameTag, vpc: vpc))
        }
    }

    mutating func readSubnets() {
        for (id, item) in unique("Subnets", idKey: "SubnetId") {
            let j = item.json
            guard let vpcID = j.awsStr("VpcId"), let v = vpcIndex[vpcID] else {
                warn(.missingReference, id, "subnet of \(j.awsStr("VpcId") ?? "no VPC"), which is not in the dump; left out")
                continue
            }
            if let st = j.awsStr("State"), st != "available", st != "pending" {
                warn(.inactive, id, "subnet is \(st); left out"); continue
            }
            if j.awsBool("Ipv6Native") == true {
                readIPv6OnlySubnet(j, id, vpc: plan.vpcs[v])
                continue
            }
            guard let c = cidr(j.awsStr("CidrBlock"), id, "subnet CIDR") else {
                warn(.repaired, id, "subnet has no IPv4 CIDR block; left out"); continue
            }
            let vpc = plan.vpcs[v]
            guard vpc.blocks.contains(where: { $0.contains(c) }) else {
                warn(.repaired, id, "subnet \(c) is outside \(vpcID)'s imported CIDR blocks; left out"); continue
            }
            guard (16...28).contains(c.prefixLength) else {
                warn(.repaired, id, "subnet \(c) is not between /16 and /28; left out"); continue
            }
            if let o = plan.subnets.first(where: { $0.vpc == vpcID && !$0.ipv6Only && $0.cidr.overlaps(c) }) {
                warn(.repaired, id, "subnet \(c) overlaps \(o.id) (\(o.cidr)); left out"); continue
            }
            subnetIndex[id] = plan.subnets.count
            allIDs.insert(id)
            let ipv6 = subnetIPv6Block(j, id, vpc: vpc)
            plan.subnets.append(.init(id: id, name: j.awsNameTag, vpc: vpcID, cidr: c, az: j.awsStr("AvailabilityZone"),
                                      ipv6: ipv6, assignIPv6: ipv6 != nil && j.awsBool("AssignIpv6AddressOnCreation") == true,
                                      dns64: j.awsBool("EnableDns64") == true))
        }
    }

    func vpcOfSubnet(_ s: String) -> String? { subnetIndex[s].map { plan.subnets[$0].vpc } }

    // MARK: Addresses

    /// A private IP the loader will accept for `subnet`: inside it, not reserved, not taken. Else nil (the loader
    /// allocates one) and a warning.
    mutating func claimPrivate(_ text: String?, subnet: String, owner: String) -> IPv4Address? {
        guard let text else { return nil }
        guard let a = IPv4Address(text), let s = subnetIndex[subnet] else {
            warn(.repaired, owner, "private IP '\(text)' is not an IPv4 address; the scenario allocates one")
            return nil
        }
        guard !plan.subnets[s].ipv6Only else {
            warn(.repaired, owner, "private IP \(a) in IPv6-only subnet \(subnet), which has no IPv4 addresses; left out")
            return nil
        }
        let c = plan.subnets[s].cidr
        guard c.contains(a) else {
            warn(.repaired, owner, "private IP \(a) is outside \(subnet) (\(c)); the scenario allocates one"); return nil
        }
        guard a.rawValue - c.network.rawValue >= 4, a != c.last else {
            warn(.repaired, owner, "private IP \(a) is reserved by AWS in \(subnet); the scenario allocates one"); return nil
        }
        if let holder = usedPrivate[subnet]?[a.rawValue] {
            warn(.repaired, owner, "private IP \(a) is already used by \(holder); the scenario allocates one"); return nil
        }
        usedPrivate[subnet, default: [:]][a.rawValue] = owner
        return a
    }

    mutating func claimPublic(_ text: String?, owner: String) -> IPv4Address? {
        guard let text else { return nil }
        guard let a = IPv4Address(text) else {
            warn(.repaired, owner, "public IP '\(text)' is not an IPv4 address; left out"); return nil
        }
        guard !a.isPrivateOrSpecial else {
            warn(.repaired, owner, "public IP \(a) is not a public address; left out"); return nil
        }
        if let holder = usedPublic[a.rawValue] {
            warn(.repaired, owner, "public IP \(a) is already used by \(holder); left out"); return nil
        }
        usedPublic[a.rawValue] = owner
        return a
    }

    // MARK: Security groups

    mutating func readSecurityGroups() {
        let items = unique("SecurityGroups", idKey: "GroupId")
        var accepted: [(String, DumpItem)] = []
        for (id, item) in items {
            guard let vpcID = item.json.awsStr("VpcId"), vpcIndex[vpcID] != nil else {
                warn(.missingReference, id, "security group of \(item.json.awsStr("VpcId") ?? "no VPC (EC2-Classic)"), "
                     + "which is not in the dump; left out")
                continue
            }
            groupIndex[id] = plan.groups.count
            allIDs.insert(id)
            plan.groups.append(.init(id: id, name: item.json.awsNameTag ?? item.json.awsStr("GroupName"), vpc: vpcID,
                                     description: item.json.awsStr("Description"), ingress: [], egress: []))
            accepted.append((id, item))
        }
        for (id, item) in accepted {
            let g = groupIndex[id]!
            plan.groups[g].ingress = sgRules(item.json.awsObjs("IpPermissions"), group: plan.groups[g], direction: "ingress")
            plan.groups[g].egress = sgRules(item.json.awsObjs("IpPermissionsEgress"), group: plan.groups[g], direction: "egress")
        }
    }

    mutating func sgRules(_ perms: [[String: Any]], group sg: ImportPlan.SG, direction: String) -> [ImportPlan.SGRule] {
        var out: [ImportPlan.SGRule] = []
        let id = sg.id
        for p in perms {
            let raw = (p.awsStr("IpProtocol") ?? "-1").lowercased()
            let proto: String
            switch raw {
            case "-1", "all": proto = "all"
            case "tcp", "6": proto = "tcp"
            case "udp", "17": proto = "udp"
            case "icmp", "1": proto = "icmp"
            case "icmpv6", "58":
                proto = "icmpv6"
            default:
                guard let n = Int(raw), (0...255).contains(n) else {
                    warn(.repaired, id, "\(direction) rule with protocol '\(raw)' left out"); continue
                }
                proto = String(n)
            }
            var ports: String?
            var icmpType: Int?, icmpCode: Int?
            // Said only when a rule is written (a permission whose every peer is left out imports nothing).
            var widened: (ImportWarning.Kind, String)?
            let from = p.awsInt("FromPort"), to = p.awsInt("ToPort")
            if proto == "tcp" || proto == "udp", let from, let to, from >= 0, to >= 0 {
                if from <= to, to <= 65535 { ports = from == to ? "\(from)" : "\(from)-\(to)" } else {
                    widened = (.repaired, "\(direction) \(proto) port range \(from)-\(to) is invalid; imported as all ports")
                }
            } else if proto == "icmp" || proto == "icmpv6", let from, from >= 0 {
                // EC2 API IpPermission: for ICMP, FromPort is the type and ToPort the code (-1: all codes).
                if from <= 255, (to ?? -1) <= 255 {
                    icmpType = from
                    if let to, to >= 0 { icmpCode = to }
                } else {
                    widened = (.repaired, "\(direction) ICMP type \(from) code \(to ?? -1) is invalid; imported as all ICMP")
                }
            }
            var peers: [(ImportPlan.Peer, String?)] = []
            for r in p.awsObjs("IpRanges") {
                if let c = cidr(r.awsStr("CidrIp"), id, "\(direction) CIDR") { peers.append((.cidr(c), r.awsStr("Description"))) }
            }
            for r in p.awsObjs("Ipv6Ranges") {
                if let c = ipv6CIDR(r.awsStr("CidrIpv6"), id, "\(direction) IPv6 CIDR") { peers.append((.cidr6(c), r.awsStr("Description"))) }
            }
            for r in p.awsObjs("PrefixListIds") {
                guard let pl = r.awsStr("PrefixListId") else { continue }
                if let cidrs = prefixLists6[pl] {
                    peers.append((.prefixList6(pl, cidrs), r.awsStr("Description")))
                    continue
                }
                guard let cidrs = prefixLists[pl] else {
                    warn(.missingReference, id, "\(direction) rule for prefix list \(pl) left out: its entries are not in the "
                         + "dump (add get-managed-prefix-list-entries --prefix-list-id \(pl))")
                    continue
                }
                peers.append((.prefixList(pl, cidrs), r.awsStr("Description")))
            }
            for r in p.awsObjs("UserIdGroupPairs") {
                guard let gid = r.awsStr("GroupId") else { continue }
                if let pcx = r.awsStr("VpcPeeringConnectionId") {
                    guard let k = peeringIndex[pcx], let g = groupIndex[gid], plan.peerings[k].other(sg.vpc) == plan.groups[g].vpc
                    else {
                        warn(.peering, id, "\(direction) rule for \(gid) across \(pcx) left out (peered VPCs are not modelled)")
                        continue
                    }
                    guard !plan.peerings[k].interRegion else {
                        warn(.repaired, id, "\(direction) rule for \(gid) across inter-Region \(pcx) left out (group "
                             + "references cross a peering in the same Region only)")
                        continue
                    }
                }
                guard let g = groupIndex[gid] else {
                    warn(.missingReference, id, "\(direction) rule for security group \(gid), which is not in the dump; left out")
                    continue
                }
                guard plan.groups[g].vpc == sg.vpc || peeringForReference(plan.groups[g].vpc, sg.vpc) != nil else {
                    warn(.missingReference, id, "\(direction) rule for \(gid) of \(plan.groups[g].vpc), another VPC; left out")
                    continue
                }
                peers.append((.group(gid), r.awsStr("Description")))
            }
            if let widened, !peers.isEmpty { warn(widened.0, id, widened.1) }
            for (peer, description) in peers {
                let rule = ImportPlan.SGRule(proto: proto, ports: ports, peer: peer, description: description,
                                             icmpType: icmpType, icmpCode: icmpCode)
                if out.contains(where: { $0.proto == rule.proto && $0.ports == rule.ports && $0.peer == rule.peer
                                         && $0.icmpType == rule.icmpType && $0.icmpCode == rule.icmpCode }) {
                    warn(.duplicate, id, "\(direction) rule \(proto) \(ports ?? "") appears twice; kept once")
                    continue
                }
                out.append(rule)
            }
        }
        return out
    }

    // MARK: Network interfaces, NAT gateways, instances

    mutating func indexNetworkInterfaces() {
        for item in dump["NetworkInterfaces"] {
            guard let eni = item.json.awsStr("NetworkInterfaceId") else { continue }
            if let inst = item.json.awsObj("Attachment")?.awsStr("InstanceId") {
                eniOwner[eni] = inst
                if (item.json.awsObj("Attachment")?.awsInt("DeviceIndex") ?? 0) > 0 { attachedENIs[inst, default: []].append(item.json) }
            }
        }
        for item in dump["NatGateways"] {
            guard let nat = item.json.awsStr("NatGatewayId") else { continue }
            for a in item.json.awsObjs("NatGatewayAddresses") { if let e = a.awsStr("NetworkInterfaceId") { eniOwner[e] = nat } }
        }
        for item in dump["Reservations"] {
            guard let inst = item.json.awsStr("InstanceId") else { continue }
            for n in item.json.awsObjs("NetworkInterfaces") { if let e = n.awsStr("NetworkInterfaceId") { eniOwner[e] = inst } }
        }
    }

    /// The Elastic IP associated with an ENI or allocation, from describe-addresses.
    func elasticIP(eni: String?, allocation: String?) -> String? {
        for item in dump["Addresses"] {
            if let eni, item.json.awsStr("NetworkInterfaceId") == eni { return item.json.awsStr("PublicIp") }
            if let allocation, item.json.awsStr("AllocationId") == allocation { return item.json.awsStr("PublicIp") }
        }
        return nil
    }

    mutating func readNATGateways() {
        for (id, item) in unique("NatGateways", idKey: "NatGatewayId") {
            let j = item.json
            let state = j.awsStr("State") ?? "available"
            guard state == "available" || state == "pending" else {
                warn(.inactive, id, "NAT gateway is \(state); left out (routes to it become blackhole, as in AWS)")
                continue
            }
            guard let subnet = j.awsStr("SubnetId"), subnetIndex[subnet] != nil else {
                warn(.missingReference, id, "NAT gateway in \(j.awsStr("SubnetId") ?? "no subnet"), which is not in the dump; "
                     + "left out (routes to it become blackhole)")
                continue
            }
            if plan.subnets[subnetIndex[subnet]!].ipv6Only {
                warn(.repaired, id, "NAT gateway in IPv6-only subnet \(subnet), which has no IPv4 address for it; left out "
                     + "(routes to it become blackhole)")
                continue
            }
            let isPublic = (j.awsStr("ConnectivityType") ?? "public") == "public"
            var addresses = j.awsObjs("NatGatewayAddresses").filter {
                let s = $0.awsStr("Status") ?? "succeeded"
                return s == "succeeded" || s == "associating" || s == "assigning"
            }
            if let p = addresses.firstIndex(where: { $0.awsBool("IsPrimary") == true }), p != 0 { addresses.swapAt(0, p) }
            let owner = "NAT gateway \(id)"
            var privateIP: IPv4Address?, elastic: IPv4Address?
            var secondaryPrivate: [IPv4Address] = [], secondaryElastic: [IPv4Address] = []
            for (i, a) in addresses.enumerated() {
                for e in [a.awsStr("NetworkInterfaceId")].compactMap({ $0 }) { coveredENIs.insert(e) }
                let pub = isPublic ? (a.awsStr("PublicIp") ?? elasticIP(eni: nil, allocation: a.awsStr("AllocationId"))) : nil
                if i == 0 {
                    privateIP = claimPrivate(a.awsStr("PrivateIp"), subnet: subnet, owner: id)
                    if isPublic { elastic = claimPublic(pub, owner: owner) }
                    continue
                }
                guard secondaryPrivate.count < 7 else {
                    warn(.repaired, id, "more than 8 private IPs; \(a.awsStr("PrivateIp") ?? "?") left out"); continue
                }
                if isPublic, pub == nil {
                    warn(.notModelled, id, "secondary private IP \(a.awsStr("PrivateIp") ?? "?") has no Elastic IP; left out")
                    continue
                }
                guard let ip = claimPrivate(a.awsStr("PrivateIp"), subnet: subnet, owner: id) else { continue }
                if isPublic {
                    guard let e = claimPublic(pub, owner: owner) else {
                        usedPrivate[subnet]?[ip.rawValue] = nil
                        continue
                    }
                    secondaryElastic.append(e)
                }
                secondaryPrivate.append(ip)
            }
            if isPublic, elastic == nil {
                if let pub = elasticIP(eni: addresses.first?.awsStr("NetworkInterfaceId"), allocation: nil) {
                    elastic = claimPublic(pub, owner: owner)
                }
                guard elastic != nil else {
                    if let p = privateIP { usedPrivate[subnet]?[p.rawValue] = nil }
                    for p in secondaryPrivate { usedPrivate[subnet]?[p.rawValue] = nil }
                    for e in secondaryElastic { usedPublic[e.rawValue] = nil }
                    warn(.repaired, id, "public NAT gateway without an Elastic IP in the dump; left out (routes to it "
                         + "become blackhole)")
                    continue
                }
            }
            natIndex[id] = plan.nats.count
            allIDs.insert(id)
            plan.nats.append(.init(id: id, name: j.awsNameTag, subnet: subnet, isPublic: isPublic, privateIP: privateIP,
                                   elasticIP: elastic, secondaryPrivate: secondaryPrivate, secondaryElastic: secondaryElastic))
        }
    }

    mutating func readInstances() {
        var seen = Set<String>()
        var sources: [(id: String, json: [String: Any], fromENI: Bool)] = []
        for item in dump["Reservations"] {
            guard let id = item.json.awsStr("InstanceId") else { warn(.repaired, item.origin, "has no InstanceId; left out"); continue }
            guard seen.insert(id).inserted else { warn(.duplicate, id, "appears again in \(item.origin); the first is kept"); continue }
            sources.append((id, item.json, false))
        }
        // An instance that only describe-network-interfaces shows (describe-instances missing): from its primary ENI.
        for item in dump["NetworkInterfaces"] {
            let j = item.json
            guard let att = j.awsObj("Attachment"), let inst = att.awsStr("InstanceId"), att.awsInt("DeviceIndex") ?? 0 == 0,
                  !seen.contains(inst), j.awsStr("InterfaceType") ?? "interface" == "interface" else { continue }
            seen.insert(inst)
            var synth: [String: Any] = [
                "SubnetId": j["SubnetId"] as Any, "PrivateIpAddress": j["PrivateIpAddress"] as Any,
                "SecurityGroups": j["Groups"] as Any, "NetworkInterfaces": [j],
            ]
            if let pub = j.awsObj("Association")?.awsStr("PublicIp") { synth["PublicIpAddress"] = pub }
            synth["Tags"] = j["TagSet"]
            sources.append((inst, synth, true))
        }
        for (id, j, fromENI) in sources {
            if fromENI {
                warn(.missingReference, id, "instance is not in describe-instances; imported from its network interface")
            }
            let state = j.awsObj("State")?.awsStr("Name") ?? "running"
            guard state != "terminated", state != "shutting-down" else {
                warn(.inactive, id, "instance is \(state); left out"); continue
            }
            if state != "running" && state != "pending" {
                warn(.approximated, id, "instance is \(state); imported as if running (its addresses stay taken)")
            }
            guard let subnet = j.awsStr("SubnetId"), subnetIndex[subnet] != nil else {
                warn(.missingReference, id, "instance in \(j.awsStr("SubnetId") ?? "no subnet (EC2-Classic?)"), which is not in "
                     + "the dump; left out")
                continue
            }
            let vpc = vpcOfSubnet(subnet)!
            var groups: [String] = []
            for g in j.awsObjs("SecurityGroups") {
                guard let gid = g.awsStr("GroupId") else { continue }
                guard let gi = groupIndex[gid], plan.groups[gi].vpc == vpc else {
                    warn(.missingReference, id, "security group \(gid) is not in the dump (or in another VPC); left off the instance")
                    continue
                }
                if !groups.contains(gid) { groups.append(gid) }
            }
            if groups.isEmpty {
                guard let d = plan.groups.first(where: { $0.vpc == vpc && ($0.name == "default" || $0.description == "default VPC security group") }) else {
                    warn(.missingReference, id, "instance has no security group in the dump; left out (the model needs one)")
                    continue
                }
                warn(.repaired, id, "instance has no security group in the dump; given the VPC's default group \(d.id)")
                groups = [d.id]
            }
            for n in j.awsObjs("NetworkInterfaces") {
                guard let eni = n.awsStr("NetworkInterfaceId") else { continue }
                let device = n.awsObj("Attachment")?.awsInt("DeviceIndex") ?? 0
                if device == 0 {
                    coveredENIs.insert(eni)
                    let secondaries = n.awsObjs("PrivateIpAddresses").filter { $0.awsBool("Primary") == false }.compactMap { $0.awsStr("PrivateIpAddress") }
                    if !secondaries.isEmpty {
                        warn(.notModelled, eni, "secondary private IPs \(secondaries.joined(separator: ", ")) of \(id) are not modelled")
                    }
                }
            }
            let owner = "instance \(id)"
            let privateIP = claimPrivate(j.awsStr("PrivateIpAddress"), subnet: subnet, owner: owner)
            var publicText = j.awsStr("PublicIpAddress")
            if publicText == nil, let primary = j.awsObjs("NetworkInterfaces").first(where: { ($0.awsObj("Attachment")?.awsInt("DeviceIndex") ?? 0) == 0 }) {
                publicText = elasticIP(eni: primary.awsStr("NetworkInterfaceId"), allocation: nil)
            }
            let publicIP = claimPublic(publicText, owner: owner)
            instanceIndex[id] = plan.instances.count
            allIDs.insert(id)
            var instance = ImportPlan.Instance(id: id, name: j.awsNameTag, subnet: subnet, privateIP: privateIP,
                                               publicIP: publicIP, groups: groups)
            instance.interfaces = readAttachedInterfaces(of: id, j, subnet: subnet)
            let primaryENI = j.awsObjs("NetworkInterfaces").first { ($0.awsObj("Attachment")?.awsInt("DeviceIndex") ?? 0) == 0 }
            if (j.awsBool("SourceDestCheck") ?? primaryENI?.awsBool("SourceDestCheck")) == false {
                // The operating system's forwarding is not in the dump: an instance with the check off and a public
                // address is taken for a NAT instance (its translation is not modeled: flows through it end
                // not-modeled), any other for a router.
                instance.forwarding = publicIP != nil ? "nat" : "router"
                warn(.approximated, id, "source/destination check off: taken to forward as "
                     + (publicIP != nil ? "a NAT instance (`forwarding: nat`: its translation is not modeled)"
                        : "a router (`forwarding: router`)") + "; set `forwarding:` to what its operating system does")
            } else if let off = instance.interfaces.first(where: { !$0.sourceDestCheck }) {
                instance.forwarding = "router"
                instance.primaryCheckOn = true
                warn(.approximated, id, "source/destination check off on \(off.id): taken to forward as a router "
                     + "(`forwarding: router`); set `forwarding:` to what its operating system does")
            }
            instance.connectionTracking = connectionTracking(of: primaryENI, instance: id)
            instance.ipv6 = instanceIPv6(j, primary: primaryENI, instance: id, subnet: subnet)
            plan.instances.append(instance)
        }
    }

    /// An ENI's `ConnectionTrackingConfiguration` (describe-network-interfaces, or the instance's own entry for
    /// it in describe-instances): TcpEstablishedTimeout, UdpTimeout, UdpStreamTimeout, seconds. A value outside
    /// the range the EC2 API accepts is left out with a warning (the ENI keeps the default).
    mutating func connectionTracking(of primary: [String: Any]?, instance id: String) -> ConnectionTracking {
        guard let primary else { return ConnectionTracking() }
        let eniID = primary.awsStr("NetworkInterfaceId")
        let described = dump["NetworkInterfaces"].first { $0.json.awsStr("NetworkInterfaceId") == eniID }?.json
        guard let c = described?.awsObj("ConnectionTrackingConfiguration") ?? primary.awsObj("ConnectionTrackingConfiguration")
        else { return ConnectionTracking() }
        func value(_ key: String, _ range: ClosedRange<Int>) -> Int? {
            guard let v = c.awsInt(key) else { return nil }
            guard range.contains(v) else {
                warn(.repaired, eniID ?? id, "ConnectionTrackingConfiguration.\(key) \(v) is outside "
                     + "\(range.lowerBound)-\(range.upperBound); left out (the default applies)")
                return nil
            }
            return v
        }
        return ConnectionTracking(tcpEstablishedTimeout: value("TcpEstablishedTimeout", ConnectionTracking.tcpEstablishedRange),
                                  udpTimeout: value("UdpTimeout", ConnectionTracking.udpRange),
                                  udpStreamTimeout: value("UdpStreamTimeout", ConnectionTracking.udpStreamRange))
    }

    // MARK: Route tables

    mutating func readRouteTables() {
        var associated: [String: String] = [:]
        var mainOf: [String: String] = [:]
        for (id, item) in unique("RouteTables", idKey: "RouteTableId") {
            let j = item.json
            guard let vpcID = j.awsStr("VpcId"), vpcIndex[vpcID] != nil else {
                warn(.missingReference, id, "route table of \(j.awsStr("VpcId") ?? "no VPC"), which is not in the dump; left out")
                continue
            }
            var main = false
            var edge: String?
            for a in j.awsObjs("Associations") {
                if let st = a.awsObj("AssociationState")?.awsStr("State"), st != "associated", st != "associating" { continue }
                if a.awsBool("Main") == true {
                    if let other = mainOf[vpcID] {
                        warn(.repaired, id, "\(vpcID) already has main route table \(other); imported as a non-main table")
                    } else {
                        main = true
                        mainOf[vpcID] = id
                    }
                }
                if let s = a.awsStr("SubnetId") {
                    guard let si = subnetIndex[s] else {
                        warn(.missingReference, id, "association with subnet \(s), which is not in the dump; left out"); continue
                    }
                    guard plan.subnets[si].vpc == vpcID else {
                        warn(.repaired, id, "association with \(s) of another VPC; left out"); continue
                    }
                    if let other = associated[s] {
                        warn(.duplicate, id, "\(s) is already associated with \(other); this association is left out"); continue
                    }
                    associated[s] = id
                    plan.subnets[si].routeTable = id
                }
                if let g = a.awsStr("GatewayId") {
                    if g.hasPrefix("igw-"), let k = igwIndex[g], plan.igws[k].vpc == vpcID,
                       !plan.routeTables.contains(where: { $0.gateway == g }) {
                        edge = g
                    } else if g.hasPrefix("vgw-"), plan.vgws.contains(where: { $0.id == g && $0.vpc == vpcID }),
                              !plan.routeTables.contains(where: { $0.gateway == g }) {
                        edge = g  // VPC-UG gateway-route-tables: an internet gateway or a virtual private gateway
                    } else {
                        warn(.notModelled, id, "edge association with \(g) (a gateway route table) is not modelled; the "
                             + "table's routes apply only to its subnets")
                    }
                }
            }
            var propagating: [String] = []
            for g in j.awsObjs("PropagatingVgws").compactMap({ $0.awsStr("GatewayId") }) where !propagating.contains(g) {
                guard plan.vgws.contains(where: { $0.id == g && $0.vpc == vpcID }) else {
                    warn(.missingReference, id, "route propagation from \(g), a virtual private gateway not in the dump (or "
                         + "not attached to \(vpcID)); left out")
                    continue
                }
                propagating.append(g)
            }
            allIDs.insert(id)
            var table = ImportPlan.RouteTable(id: id, name: j.awsNameTag, vpc: vpcID, main: main, routes: [],
                                              propagating: propagating)
            for r in j.awsObjs("Routes") { addRoute(r, to: &table) }
            if let g = edge, !propagating.isEmpty {
                // VPC-UG gateway-route-tables: a table with route propagation cannot be associated with a gateway.
                warn(.repaired, id, "edge association with \(g) left out: the table propagates routes, which a gateway "
                     + "route table does not")
            } else if let g = edge { table.gateway = edgeAssociation(g, of: table) }
            plan.routeTables.append(table)
        }
        // The loader needs exactly one main table per VPC.
        for v in plan.vpcs where mainOf[v.id] == nil {
            var id = "rtb-main-of-\(v.id)"
            while allIDs.contains(id) { id += "-x" }
            allIDs.insert(id)
            warn(.missingReference, v.id, "no main route table in the dump; added \(id) with only the local route(s), "
                 + "used by subnets without an association")
            plan.routeTables.append(.init(id: id, name: "main (not in the dump)", vpc: v.id, main: true,
                                          routes: v.blocks.map { .init(destination: $0, target: "local", note: nil) }))
        }
    }

    /// Target names for messages and the kinds the model does not have.
    static let unsupportedTargets: [(prefix: String, what: String)] = [
        ("tgw-", "transit gateway"), ("vgw-", "virtual private gateway"), ("vpce-", "VPC endpoint"),
        ("eigw-", "egress-only internet gateway"), ("cagw-", "carrier gateway"), ("lgw-", "local gateway"),
        ("arn:", "Cloud WAN core network"),
    ]

    mutating func addRoute(_ r: [String: Any], to table: inout ImportPlan.RouteTable) {
        let id = table.id
        let targetKeys = ["GatewayId", "NatGatewayId", "NetworkInterfaceId", "InstanceId", "VpcPeeringConnectionId",
                          "TransitGatewayId", "EgressOnlyInternetGatewayId", "CarrierGatewayId", "LocalGatewayId",
                          "CoreNetworkArn"]
        // InstanceId and NetworkInterfaceId come together for an instance route: the instance wins.
        let rawTarget = r.awsStr("InstanceId") ?? targetKeys.lazy.compactMap { r.awsStr($0) }.first ?? "?"
        if let v6 = r.awsStr("DestinationIpv6CidrBlock") {
            if let dest = ipv6CIDR(v6, id, "route destination") { addIPv6Route(r, dest, origin: nil, rawTarget: rawTarget, to: &table) }
            return
        }
        // A route the table's propagation brings back (`resolveTarget`); beside a static route of the same prefix
        // (which wins, VPC-UG route-tables-priority) it is no duplicate.
        if r.awsStr("Origin") == "EnableVgwRoutePropagation", table.propagating.contains(rawTarget) { return }
        var destinations: [(IPv4CIDR, String?)] = []
        if let pl = r.awsStr("DestinationPrefixListId"), let cidrs = prefixLists6[pl] {
            for c in cidrs { addIPv6Route(r, c, origin: "from \(pl)", rawTarget: rawTarget, to: &table) }
            return
        }
        if let pl = r.awsStr("DestinationPrefixListId") {
            guard let cidrs = prefixLists[pl] else {
                warn(.missingReference, id, "route to prefix list \(pl) → \(rawTarget) left out: its entries are not in the dump "
                     + "(add get-managed-prefix-list-entries --prefix-list-id \(pl))")
                return
            }
            destinations = cidrs.map { ($0, "from \(pl)") }
        } else if let c = cidr(r.awsStr("DestinationCidrBlock"), id, "route destination") {
            destinations = [(c, nil)]
        } else {
            warn(.repaired, id, "route without an IPv4 destination → \(rawTarget) left out")
            return
        }
        let vpc = plan.vpcs[vpcIndex[table.vpc]!]
        for (dest, origin) in destinations {
            if let existing = table.routes.first(where: { $0.destination == dest }) {
                warn(.duplicate, id, "second route to \(dest) (→ \(rawTarget)\(origin.map { ", " + $0 } ?? "")) left out; "
                     + "the route → \(existing.target) is kept")
                continue
            }
            var (target, note) = resolveTarget(r, rawTarget: rawTarget, destination: dest.description,
                                               inVPC: vpc.blocks.contains { $0.contains(dest) }, table: table, vpc: vpc)
            if let origin { note = note.map { origin + "; " + $0 } ?? origin }
            guard let target else { continue }
            table.routes.append(.init(destination: dest, target: target, note: note))
        }
    }

    /// The loader's target for a route ("local", "blackhole", an id), or nil to leave the route out.
    /// `dest` names the destination (IPv4 or IPv6) in warnings; `inVPC`: it lies within one of the VPC's blocks
    /// of its family.
    mutating func resolveTarget(_ r: [String: Any], rawTarget: String, destination dest: String, inVPC: Bool,
                                table: ImportPlan.RouteTable, vpc: ImportPlan.VPC) -> (String?, String?) {
        let id = table.id
        if r.awsStr("State") == "blackhole" {
            return ("blackhole", "was \(rawTarget) (blackhole in the dump)")
        }
        if let g = plan.vgws.first(where: { $0.id == rawTarget }) {
            // An imported virtual private gateway: the loader takes routes to it from its own VPC's tables only.
            if g.vpc == vpc.id, !inVPC { return (rawTarget, nil) }
            warn(.repaired, id, "route \(dest) → \(rawTarget) (attached to \(g.vpc)) "
                 + (inVPC ? "lies inside \(vpc.id)" : "is in a table of \(vpc.id)") + "; imported as blackhole")
            return ("blackhole", "was \(rawTarget): " + (inVPC ? "inside the VPC" : "gateway of another VPC"))
        }
        if r.awsStr("Origin") == "EnableVgwRoutePropagation" {
            // Brought back by the table's propagation from the gateway's VPN connections (`readVPN` gives a BGP
            // connection the prefixes its gateway propagates): not written as a route of the table's own.
            if table.propagating.contains(rawTarget) { return (nil, nil) }
            return notModeled(rawTarget, dest, "propagated", table: id, inVPC: inVPC)
        }
        let blackhole: (ImportWarning.Kind, String) -> (String?, String?) = { _, why in
            ("blackhole", "was \(rawTarget): \(why)")
        }
        if rawTarget == "local" {
            guard vpc.blocks.contains(where: { $0.description == dest }) else {
                warn(.repaired, id, "local route \(dest) is not an imported CIDR block of \(vpc.id); left out")
                return (nil, nil)
            }
            return ("local", nil)
        }
        // A route to an instance's other network interface targets that interface (AWS names the instance too).
        if let eni = r.awsStr("NetworkInterfaceId"), let inst = eniOwner[eni], let i = instanceIndex[inst],
           plan.instances[i].interfaces.contains(where: { $0.id == eni }) {
            guard vpcOfSubnet(plan.instances[i].subnet) == vpc.id else {
                warn(.missingReference, id, "route \(dest) → \(eni): instance \(inst) is in another VPC; imported as blackhole")
                return blackhole(.missingReference, "instance in another VPC")
            }
            return (eni, nil)
        }
        if let inst = r.awsStr("InstanceId") ?? r.awsStr("NetworkInterfaceId").flatMap({ eniOwner[$0] }), inst.hasPrefix("i-") {
            guard let i = instanceIndex[inst] else { return notModeled(inst, dest, "not in the dump", table: id, inVPC: inVPC) }
            guard vpcOfSubnet(plan.instances[i].subnet) == vpc.id else {
                warn(.missingReference, id, "route \(dest) → \(rawTarget): instance \(inst) is in another VPC; imported as "
                     + "blackhole")
                return blackhole(.missingReference, "instance in another VPC")
            }
            return (inst, rawTarget == inst ? nil : "via \(rawTarget)")
        }
        if let nat = r.awsStr("NatGatewayId") ?? r.awsStr("NetworkInterfaceId").flatMap({ eniOwner[$0] }).flatMap({ $0.hasPrefix("nat-") ? $0 : nil }) {
            guard let n = natIndex[nat], vpcOfSubnet(plan.nats[n].subnet) == vpc.id else {
                warn(.missingReference, id, "route \(dest) → NAT gateway \(nat), which is not in the dump (or was left out); "
                     + "imported as blackhole")
                return blackhole(.missingReference, "NAT gateway not in the dump")
            }
            return (nat, nil)
        }
        if let eni = r.awsStr("NetworkInterfaceId") {
            return notModeled(eni, dest, "belongs to no instance or NAT gateway of the dump", table: id, inVPC: inVPC)
        }
        if let pcx = r.awsStr("VpcPeeringConnectionId") {
            if let st = peeringStatus[pcx], st != "active" {
                return blackhole(.inactive, "peering \(st)")
            }
            if inVPC {
                warn(.repaired, id, "route \(dest) → \(pcx) lies inside \(vpc.id); imported as blackhole")
                return blackhole(.repaired, "inside the VPC")
            }
            if let k = peeringIndex[pcx] {
                guard plan.peerings[k].other(vpc.id) != nil else {
                    warn(.repaired, id, "route \(dest) → \(pcx), which does not join \(vpc.id); imported as blackhole")
                    return blackhole(.repaired, "not a side of the peering")
                }
                return (pcx, nil)
            }
            if !warnedPeerings.contains(pcx) {
                warnedPeerings.insert(pcx)
                warn(.peering, pcx, "routes through this peering connection are kept; it is not in the dump and the far side "
                     + "is not modelled (flows routed there end not-modeled)")
            }
            return (pcx, nil)
        }
        if let gw = r.awsStr("GatewayId"), gw.hasPrefix("igw-") {
            guard let g = igwIndex[gw] else {
                warn(.missingReference, id, "route \(dest) → internet gateway \(gw), which is not in the dump; imported as blackhole")
                return blackhole(.missingReference, "internet gateway not in the dump")
            }
            guard plan.igws[g].vpc == vpc.id else {
                warn(.repaired, id, "route \(dest) → \(gw), which is not attached to \(vpc.id) in the import; imported as blackhole")
                return blackhole(.repaired, "not attached")
            }
            if inVPC {
                warn(.repaired, id, "route \(dest) → \(gw) lies inside \(vpc.id); imported as blackhole")
                return blackhole(.repaired, "inside the VPC")
            }
            return (gw, nil)
        }
        // A gateway endpoint the plan holds: the loader routes to it.
        if plan.endpoints.contains(where: { $0.id == rawTarget && $0.vpc == vpc.id && $0.interface == nil }) {
            return (rawTarget, nil)
        }
        if let t = transitGatewayRouteTarget(r, destination: dest, table: id, vpc: vpc, inVPC: inVPC) { return t }
        // Targets the scenario keeps as not modeled (tgw-, vgw-, vpce-, cagw-, lgw-): written as they are.
        if NotModeledTarget.kinds.contains(where: { rawTarget.hasPrefix($0.prefix) && rawTarget.count > $0.prefix.count }) {
            return notModeled(rawTarget, dest, nil, table: id, inVPC: inVPC)
        }
        let what = Self.unsupportedTargets.first { rawTarget.hasPrefix($0.prefix) }?.what ?? "unknown target"
        warn(.unsupportedTarget, id, "route \(dest) → \(rawTarget) (\(what)) is not modelled; imported as blackhole")
        return blackhole(.unsupportedTarget, what)
    }

    /// A route to a target the model does not have, written with its id: the loader keeps it as a not-modeled
    /// target, and a flow routed there ends `not-modeled` (never a network verdict, as a blackhole would give).
    mutating func notModeled(_ target: String, _ dest: String, _ why: String?, table id: String, inVPC: Bool)
        -> (String?, String?)
    {
        let what = NotModeledTarget.kind(of: target) ?? "target"
        // Only a network interface, an instance or a VPC endpoint may take a destination within the VPC (the
        // loader refuses the others, as AWS does).
        if inVPC, !["vpce-", "eni-", "i-"].contains(where: { target.hasPrefix($0) }) {
            warn(.repaired, id, "route \(dest) → \(target) lies inside the VPC; imported as blackhole")
            return ("blackhole", "was \(target): inside the VPC")
        }
        warn(.unsupportedTarget, id, "route \(dest) → \(target) (\(what)\(why.map { ", " + $0 } ?? "")) "
             + "is not modeled; imported as a not-modeled target (flows routed there end not-modeled)")
        return (target, "not modeled: \(what)")
    }

    // MARK: Network ACLs

    mutating func readNetworkACLs() {
        var associated: [String: String] = [:]
        var defaultOf: [String: String] = [:]
        for (id, item) in unique("NetworkAcls", idKey: "NetworkAclId") {
            let j = item.json
            guard let vpcID = j.awsStr("VpcId"), vpcIndex[vpcID] != nil else {
                warn(.missingReference, id, "network ACL of \(j.awsStr("VpcId") ?? "no VPC"), which is not in the dump; left out")
                continue
            }
            var isDefault = j.awsBool("IsDefault") ?? false
            if isDefault {
                if let other = defaultOf[vpcID] {
                    warn(.repaired, id, "\(vpcID) already has default network ACL \(other); imported as a custom NACL")
                    isDefault = false
                } else {
                    defaultOf[vpcID] = id
                }
            }
            for a in j.awsObjs("Associations") {
                guard let s = a.awsStr("SubnetId") else { continue }
                guard let si = subnetIndex[s] else {
                    warn(.missingReference, id, "association with subnet \(s), which is not in the dump; left out"); continue
                }
                guard plan.subnets[si].vpc == vpcID else { warn(.repaired, id, "association with \(s) of another VPC; left out"); continue }
                if let other = associated[s] {
                    warn(.duplicate, id, "\(s) is already associated with \(other); this association is left out"); continue
                }
                associated[s] = id
                plan.subnets[si].nacl = id
            }
            var inbound: [ImportPlan.NACLRule] = [], outbound: [ImportPlan.NACLRule] = []
            for e in j.awsObjs("Entries") {
                let egress = e.awsBool("Egress") ?? false
                let direction = egress ? "outbound" : "inbound"
                guard let number = e.awsInt("RuleNumber") else { warn(.repaired, id, "\(direction) entry without a rule number left out"); continue }
                if number == 32767 || number == 32768 {  // the `*` DENY (32768: its IPv6 twin)
                    counts.naclImplicitDenyEntries += 1
                    continue
                }
                guard (1...32766).contains(number) else { warn(.repaired, id, "\(direction) rule #\(number) is outside 1-32766; left out"); continue }
                var c6: IPv6CIDR?
                if let v6 = e.awsStr("Ipv6CidrBlock") {
                    guard let c = ipv6CIDR(v6, id, "\(direction) rule #\(number) IPv6 CIDR") else { continue }
                    c6 = c
                }
                guard let c = c6 != nil ? IPv4CIDR.anyIPv4 : cidr(e.awsStr("CidrBlock"), id, "\(direction) rule #\(number) CIDR") else { continue }
                let action = (e.awsStr("RuleAction") ?? "").lowercased()
                guard action == "allow" || action == "deny" else {
                    warn(.repaired, id, "\(direction) rule #\(number) has action '\(action)'; left out"); continue
                }
                let raw = (e.awsStr("Protocol") ?? "-1").lowercased()
                var proto: String
                switch raw {
                case "-1", "all": proto = "all"
                case "6", "tcp": proto = "tcp"
                case "17", "udp": proto = "udp"
                case "1", "icmp": proto = "icmp"
                case "58", "icmpv6": proto = "icmpv6"
                default:
                    guard let n = Int(raw), (0...255).contains(n) else {
                        warn(.repaired, id, "\(direction) rule #\(number) has protocol '\(raw)'; left out"); continue
                    }
                    proto = String(n)
                }
                var rule = ImportPlan.NACLRule(number: number, proto: proto, ports: nil, icmpType: nil, icmpCode: nil,
                                               cidr: c, allow: action == "allow")
                rule.cidr6 = c6
                var widened: String?  // said only when the rule is written (not a second rule of its number)
                if proto == "tcp" || proto == "udp", let pr = e.awsObj("PortRange"), let from = pr.awsInt("From"), let to = pr.awsInt("To") {
                    if from >= 0, from <= to, to <= 65535 { rule.ports = from == to ? "\(from)" : "\(from)-\(to)" } else {
                        widened = "\(direction) rule #\(number) port range \(from)-\(to) is invalid; imported as all ports"
                    }
                }
                // EC2 API NetworkAclEntry IcmpTypeCode: for ICMP and ICMPv6 (protocol 1 or 58) entries.
                if proto == "icmp" || proto == "icmpv6", let tc = e.awsObj("IcmpTypeCode") {
                    if let t = tc.awsInt("Type"), (0...255).contains(t) { rule.icmpType = t }
                    if let code = tc.awsInt("Code"), (0...255).contains(code) { rule.icmpCode = code }
                }
                if (egress ? outbound : inbound).contains(where: { $0.number == number }) {
                    warn(.duplicate, id, "\(direction) rule #\(number) appears twice; the first is kept"); continue
                }
                if let widened { warn(.repaired, id, widened) }
                if egress { outbound.append(rule) } else { inbound.append(rule) }
            }
            allIDs.insert(id)
            plan.nacls.append(.init(id: id, name: j.awsNameTag, vpc: vpcID, isDefault: isDefault,
                                    inbound: inbound.sorted { $0.number < $1.number },
                                    outbound: outbound.sorted { $0.number < $1.number }))
        }
        for v in plan.vpcs where defaultOf[v.id] == nil {
            if plan.subnets.contains(where: { $0.vpc == v.id && $0.nacl == nil }) {
                warn(.missingReference, v.id, "no default network ACL in the dump; subnets without an association get the "
                     + "loader's default (rule 100 ALLOW all, both directions)")
            }
        }
    }

    // MARK: Lambda functions

    /// "AWS Lambda VPC ENI-my-func-1a2b3c4d-…-…" → "my-func" (the trailing UUID removed).
    static func lambdaFunctionName(fromENIDescription d: String) -> String? {
        let prefix = "AWS Lambda VPC ENI-"
        guard d.hasPrefix(prefix) else { return nil }
        var rest = String(d.dropFirst(prefix.count))
        let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
        let uuidShape = [8, 4, 4, 4, 12]
        if parts.count > 5 {
            let tail = parts.suffix(5)
            if zip(tail, uuidShape).allSatisfy({ $0.count == $1 && $0.allSatisfy(\.isHexDigit) }) {
                rest = parts.dropLast(5).joined(separator: "-")
            }
        }
        return rest.isEmpty ? nil : rest
    }

    mutating func readLambdas() {
        // Hyperplane ENIs: one per (subnet, security-group set), shared by the functions with that combination.
        struct HyperplaneENI {
            var id: String; var subnet: String; var groups: [String]; var ip: String?; var function: String?
            var ipv6: [String] = []
        }
        var hyperplane: [HyperplaneENI] = []
        for item in dump["NetworkInterfaces"] {
            let j = item.json
            let description = j.awsStr("Description") ?? ""
            guard j.awsStr("InterfaceType") == "lambda" || description.hasPrefix("AWS Lambda VPC ENI"),
                  let id = j.awsStr("NetworkInterfaceId"), let subnet = j.awsStr("SubnetId") else { continue }
            hyperplane.append(.init(id: id, subnet: subnet, groups: j.awsObjs("Groups").compactMap { $0.awsStr("GroupId") }.sorted(),
                                    ip: j.awsStr("PrivateIpAddress"), function: Self.lambdaFunctionName(fromENIDescription: description),
                                    ipv6: j.awsObjs("Ipv6Addresses").compactMap { $0.awsStr("Ipv6Address") }))
        }
        var seen = Set<String>()
        var claimedENI: [String: IPv4Address] = [:]  // "subnet|groups" → address
        for item in dump["Functions"] {
            let j = item.json
            guard let name = j.awsStr("FunctionName") else { continue }
            guard seen.insert(name).inserted else { continue }  // list-functions and get-function-configuration
            let config = j.awsObj("VpcConfig") ?? [:]
            let subnetIDs = config.awsStrs("SubnetIds"), groupIDs = config.awsStrs("SecurityGroupIds")
            guard !subnetIDs.isEmpty else {
                warn(.notModelled, name, "function is not connected to a VPC; left out")
                continue
            }
            guard name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                warn(.repaired, name, "function name is not 1-64 letters, digits, - or _; left out"); continue
            }
            var subnets: [String] = []
            for s in subnetIDs {
                guard let si = subnetIndex[s] else {
                    warn(.missingReference, name, "subnet \(s) is not in the dump; the function is imported without it"); continue
                }
                if plan.subnets[si].ipv6Only {
                    // Lambda-DG configuration-vpc: a function's subnets need IPv4 (IPv6-only subnets are not supported).
                    warn(.repaired, name, "subnet \(s) is IPv6-only, which Lambda does not support; the function is imported "
                         + "without it")
                    continue
                }
                if let first = subnets.first, vpcOfSubnet(first) != vpcOfSubnet(s) {
                    warn(.repaired, name, "subnet \(s) is in another VPC than \(first); left out"); continue
                }
                if subnets.count == 16 { warn(.repaired, name, "more than 16 subnets; \(s) left out"); continue }
                if !subnets.contains(s) { subnets.append(s) }
            }
            guard let first = subnets.first else {
                warn(.missingReference, name, "none of the function's subnets (\(subnetIDs.joined(separator: ", "))) is in the dump; "
                     + "left out")
                continue
            }
            let vpc = vpcOfSubnet(first)!
            var groups: [String] = []
            for g in groupIDs {
                guard let gi = groupIndex[g], plan.groups[gi].vpc == vpc else {
                    warn(.missingReference, name, "security group \(g) is not in the dump (or in another VPC); left off the function")
                    continue
                }
                if groups.count == 5 { warn(.repaired, name, "more than 5 security groups; \(g) left out"); continue }
                if !groups.contains(g) { groups.append(g) }
            }
            guard !groups.isEmpty else {
                warn(.missingReference, name, "none of the function's security groups is in the dump; left out (the model needs one)")
                continue
            }
            var timeout = j.awsInt("Timeout")
            if let t = timeout, !(1...900).contains(t) {
                let c = min(max(t, 1), 900)
                warn(.repaired, name, "timeout \(t) s is outside 1-900 s; imported as \(c) s")
                timeout = c
            }
            let groupKey = groups.sorted()
            var privateIPs: [(subnet: String, ip: IPv4Address)] = []
            for s in subnets {
                let key = s + "|" + groupKey.joined(separator: ",")
                if let ip = claimedENI[key] { privateIPs.append((s, ip)); continue }
                let candidates = hyperplane.filter { $0.subnet == s && $0.groups == groupKey }
                guard let eni = candidates.first(where: { $0.function == name }) ?? candidates.first else {
                    warn(.missingReference, name, "no Lambda network interface for \(s) with \(groupKey.joined(separator: ",")) "
                         + "in the dump; the scenario allocates its address")
                    continue
                }
                coveredENIs.insert(eni.id)
                if !eni.ipv6.isEmpty {
                    warn(.approximated, eni.id, "IPv6 address \(eni.ipv6.joined(separator: ", ")) of this Lambda ENI is not "
                         + "kept: the scenario allocates the Lambda ENIs' IPv6 addresses")
                }
                for extra in candidates where extra.id != eni.id {
                    warn(.notModelled, extra.id, "a second Lambda ENI for \(s) with the same security groups; the model "
                         + "shares one (\(eni.id))")
                    coveredENIs.insert(extra.id)
                }
                guard let ip = claimPrivate(eni.ip, subnet: s, owner: "the Lambda ENI \(eni.id)") else { continue }
                claimedENI[key] = ip
                privateIPs.append((s, ip))
            }
            var function = ImportPlan.Lambda(name: name, subnets: subnets, groups: groups, timeout: timeout, privateIPs: privateIPs)
            function.dualStack = lambdaDualStack(config, name: name, subnets: subnets)
            plan.lambdas.append(function)
        }
    }

    // MARK: What is left

    mutating func reportLeftovers() {
        for item in dump["NetworkInterfaces"] {
            let j = item.json
            guard let id = j.awsStr("NetworkInterfaceId"), !coveredENIs.contains(id) else { continue }
            let type = j.awsStr("InterfaceType") ?? "interface"
            let description = j.awsStr("Description").map { " (\($0))" } ?? ""
            if let owner = eniOwner[id], owner.hasPrefix("i-") || owner.hasPrefix("nat-") {
                if instanceIndex[owner] == nil && natIndex[owner] == nil {
                    warn(.missingReference, id, "network interface of \(owner), which was left out; not modelled")
                }
                continue  // a secondary ENI of an imported instance: warned about with the instance
            }
            switch type {
            case "lambda":
                warn(.notModelled, id, "Lambda network interface\(description) matches no function of the dump (or its "
                     + "subnet/security groups changed); not modelled")
            case "nat_gateway":
                warn(.missingReference, id, "NAT gateway network interface\(description) of a NAT gateway not imported")
            default:
                warn(.notModelled, id, "network interface of type \(type)\(description) is not modelled")
            }
        }
        for item in dump["VpcEndpoints"] {
            guard let id = item.json.awsStr("VpcEndpointId"), !plan.endpoints.contains(where: { $0.id == id }) else { continue }
            let type = item.json.awsStr("VpcEndpointType") ?? "?"
            warn(.notModelled, id, "\(type) VPC endpoint for \(item.json.awsStr("ServiceName") ?? "?") is not modelled (routes "
                 + "to it become blackhole; its interfaces are left out)")
        }
        for item in dump["Addresses"] {
            let j = item.json
            guard let ip = j.awsStr("PublicIp") else { continue }
            let id = j.awsStr("AllocationId") ?? ip
            if let a = IPv4Address(ip), usedPublic[a.rawValue] != nil { continue }
            if j.awsStr("AssociationId") == nil && j.awsStr("NetworkInterfaceId") == nil && j.awsStr("InstanceId") == nil {
                warn(.notModelled, id, "Elastic IP \(ip) is not associated; nothing to model")
            } else {
                let to = j.awsStr("InstanceId") ?? j.awsStr("NetworkInterfaceId") ?? "?"
                warn(.missingReference, id, "Elastic IP \(ip) is associated with \(to), which is not modelled")
            }
        }
        for pl in Set(dump.prefixListEntries.map(\.id)).sorted() where prefixLists[pl] == nil && prefixLists6[pl] == nil {
            warn(.repaired, pl, "prefix list entries file has no usable CIDR; the list is treated as missing")
        }
    }
}
