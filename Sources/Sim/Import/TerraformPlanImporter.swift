import Foundation
import Packets

/// `vpcsim import terraform PLAN.json`: a `terraform show -json` plan → a scenario file. The plan's resources are
/// turned into the AWS CLI's JSON shapes and handed to the AWS importer's converter and writer, so a plan and a
/// dump of the same network give the same scenario, with the same checks and repairs. Terraform's own semantics
/// come first: an `aws_security_group` without `egress` blocks has no egress, a subnet without an association uses
/// the VPC's main route table, and the VPC's main route table, default network ACL and default security group
/// exist as AWS creates them. docs/terraform.md.
public enum TerraformPlanImporter {
    /// Which network of the plan: what it leaves (`planned_values` / `resource_changes[].change.after`) or what was
    /// there before it (`prior_state`).
    public enum Side: String, Sendable { case planned, prior }

    public static func importPlan(_ path: String, options: TerraformImportOptions = TerraformImportOptions()) throws
        -> TerraformImport
    {
        let plan = try TerraformPlan.read(path: path)
        return try convert(plan, path: path, options: options)
    }

    static func convert(_ plan: TerraformPlan, path: String, options: TerraformImportOptions) throws -> TerraformImport {
        var with: AWSDump?
        if let w = options.with { with = try TerraformWith.read(w) }
        var c = try TerraformConverter(plan: plan, side: options.side, with: with)
        try c.convert()
        var dump = c.dump
        if let with { c.merge(with, into: &dump) }
        try c.requireNetwork(dump)
        var converter = AWSConverter(dump: dump)
        converter.warnings = c.warnings + converter.warnings
        // An instance without a known IPv6 address in a subnet that assigns them gets one at apply.
        converter.addressesAssignedAtApply = true
        converter.convert()
        c.applyIPv6Requests(to: &converter)
        // AWS makes a function's Hyperplane ENIs: none is in a plan, and the scenario allocates their addresses
        // (listed as invented below), so the dump importer's warning about them says nothing here.
        converter.warnings.removeAll { $0.kind == .missingReference && $0.message.hasPrefix("no Lambda network interface for ") }
        // Likewise an interface endpoint's ENIs.
        converter.warnings.removeAll {
            $0.kind == .repaired && c.interfaceEndpointAddress[$0.id] != nil && $0.message.hasPrefix("its network interfaces are not all")
        }
        converter.plan.flowLogs = c.flowLogs
        // Routes to a transit gateway the scenario models: no longer not-modeled targets; in a VPC without an
        // attachment of it (AWS refuses such a route), a blackhole.
        for g in c.transitGateways {
            for t in converter.plan.routeTables.indices {
                for k in converter.plan.routeTables[t].routes.indices where converter.plan.routeTables[t].routes[k].target == g.id {
                    if g.attachments.contains(where: { $0.vpc == converter.plan.routeTables[t].vpc }) {
                        converter.plan.routeTables[t].routes[k].note = nil
                    } else {
                        converter.plan.routeTables[t].routes[k].target = "blackhole"
                        converter.plan.routeTables[t].routes[k].note = "was \(g.id): no attachment in this VPC"
                        converter.warnings.append(ImportWarning(.repaired, id: converter.plan.routeTables[t].id,
                            "route \(converter.plan.routeTables[t].routes[k].destination) → \(g.id), which has no attachment "
                            + "in \(converter.plan.routeTables[t].vpc); imported as blackhole"))
                    }
                }
            }
            converter.warnings.removeAll { $0.kind == .unsupportedTarget && $0.message.contains("→ \(g.id) (") }
        }
        let base = path.split(separator: "/").last.map(String.init) ?? "plan"
        let stem = base.hasSuffix(".json") ? String(base.dropLast(5)) : base
        var name = "tf-" + String(stem.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" })
        if options.side == .prior { name += "-prior" }
        if let n = options.scenarioName {
            guard let first = n.first, let last = n.last, !first.isWhitespace, !last.isWhitespace else {
                throw AWSImportError(file: path, line: 0, column: 0,
                                     message: "scenario name \(AWSDumpCheck.quoted(n)) is empty or has leading or trailing spaces")
            }
            name = n
        }
        let header = ScenarioYAMLWriter.Header(
            command: "vpcsim import terraform",
            what: "the Terraform plan \(path) (format_version \(plan.formatVersion), "
                + (options.side == .planned ? "the network the plan leaves" : "prior_state: the network before the plan") + ")",
            description: "Imported from the Terraform plan \(path)" + (options.side == .prior ? " (prior_state)" : ""))
        var invented = c.invented
        func write() -> String {
            ScenarioYAMLWriter.write(converter.plan, name: name, source: path, counts: converter.counts,
                                     warnings: converter.warnings, fileCount: 1, header: header, invented: invented)
                + ImportedTransitGateway.yaml(c.transitGateways)
        }
        var yaml = write()
        let scenario: Scenario
        do {
            scenario = try ScenarioLoader.load(yaml: yaml, file: "imported.yaml")
        } catch {
            throw AWSImportError(file: path, line: 0, column: 0,
                                 message: "internal error: the generated scenario does not load (\(error)); please report it")
        }
        // Private addresses the plan leaves to AWS: the scenario allocates them (docs/scenarios.md); listed with
        // the address it gives.
        let m = scenario.model
        for (id, what) in c.allocatedPrivate {
            var ip: IPv4Address?
            if let i = m.instances.first(where: { $0.id == id }) { ip = m.enis[i.eni].privateIP }
            if let n = m.natGateways.first(where: { $0.id == id }) { ip = m.enis[n.eni].privateIP }
            // An instance in an IPv6-only subnet has no IPv4 address (0.0.0.0 in the model).
            if let ip, ip != .any {
                invented.append(.init(what: what, value: ip.description, how: "allocated as the scenario allocates addresses"))
            }
        }
        for f in m.lambdas {
            guard let addr = c.lambdaAddress[f.name ?? ""] else { continue }
            for (k, e) in f.enis.enumerated() where converter.plan.lambdas.first(where: { $0.name == f.name })?.privateIPs.isEmpty ?? true {
                invented.append(.init(what: "\(addr) ENI in \(m.subnets[f.subnets[k]].id)", value: m.enis[e].privateIP.description,
                                      how: "allocated as the scenario allocates addresses"))
            }
        }
        invented += c.inventedIPv6(m, converter.plan)
        for e in m.vpcEndpoints where e.kind == .interface {
            guard let addr = c.interfaceEndpointAddress[e.id] else { continue }
            for (k, x) in e.enis.enumerated() {
                let what = "\(addr) network interface in \(m.subnets[e.subnets[k]].id)"
                invented.append(.init(what: what + ".id", value: m.enis[x].id, how: "from the endpoint and subnet ids, as the scenario names them"))
                invented.append(.init(what: what + ".private_ip", value: m.enis[x].privateIP.description,
                                      how: "allocated as the scenario allocates addresses"))
            }
        }
        yaml = write()
        do {
            _ = try ScenarioLoader.load(yaml: yaml, file: "imported.yaml")
        } catch {
            throw AWSImportError(file: path, line: 0, column: 0,
                                 message: "internal error: the generated scenario does not load (\(error)); please report it")
        }
        return TerraformImport(yaml: yaml, warnings: converter.warnings, counts: converter.counts, invented: invented,
                               formatVersion: plan.formatVersion)
    }
}

public struct TerraformImportOptions: Sendable {
    public var scenarioName: String?
    public var side: TerraformPlanImporter.Side
    /// A scenario fragment (.yaml) or an AWS CLI dump merged in for what the plan refers to but does not hold.
    public var with: String?

    public init(scenarioName: String? = nil, side: TerraformPlanImporter.Side = .planned, with: String? = nil) {
        self.scenarioName = scenarioName
        self.side = side
        self.with = with
    }
}

/// A value the plan knows only after apply, made up deterministically.
public struct InventedValue: Sendable, Equatable {
    /// "aws_subnet.public.id"
    public var what: String
    public var value: String
    /// "from the resource address", "allocated as the scenario allocates addresses", …
    public var how: String

    public init(what: String, value: String, how: String) {
        self.what = what
        self.value = value
        self.how = how
    }
}

public struct TerraformImport: Sendable {
    public var yaml: String
    public var warnings: [ImportWarning]
    public var counts: ImportCounts
    public var invented: [InventedValue]
    public var formatVersion: String
}

// MARK: - Plan → AWS CLI shapes

struct TerraformConverter {
    typealias PathElem = TerraformWiring.PathElem
    let plan: TerraformPlan
    let side: TerraformPlanImporter.Side
    var w: TerraformWiring
    var dump: AWSDump
    var warnings: [ImportWarning] = []
    var invented: [InventedValue] = []
    /// Instance / NAT ids whose private IP the scenario allocates, with the attribute's address.
    var allocatedPrivate: [(String, String)] = []
    var lambdaAddress: [String: String] = [:]
    /// Instance id → its resource address, and what the plan asks of its IPv6 address (TerraformIPv6.swift).
    var instanceAddress: [String: String] = [:]
    /// VPCs with an IPv6 block the plan knows: their default NACL and security group get AWS's IPv6 rules.
    var ipv6VPCs = Set<String>()
    /// Each VPC's IPv6 block (known or invented), and the subnets' /64s taken (TerraformIPv6.swift).
    var vpcIPv6Block: [String: IPv6CIDR] = [:]
    var usedSubnetIPv6 = Set<IPv6CIDR>()
    var ipv6Requests: [String: String] = [:]
    /// Interface endpoint id → its resource address (their ENIs are invented after the scenario loads).
    var interfaceEndpointAddress: [String: String] = [:]
    var flowLogs: ImportPlan.FlowLogs?
    var usedPublic = Set<UInt32>()
    /// Ids named by the plan (known or invented) → the resource.
    var idOwner: [String: Int] = [:]
    var withIDs = Set<String>()
    var withNames: [String: String] = [:]
    /// The plan's transit gateways (TerraformTransitGateways.swift), written after the rest of the scenario.
    var transitGateways: [ImportedTransitGateway] = []
    /// VPN connections to a transit gateway (`readVPN`), which `readTransitGateways` makes its VPN attachments.
    var tgwVPNAttachments: [(tgw: String, attachment: String, connection: String, name: String)] = []
    /// The names of the prefix lists --with holds (a gateway endpoint's service).
    var withPrefixLists = Set<String>()
    var reportedGaps = Set<String>()
    /// Which resources were read, by index of `w.all`.
    var handled = Set<Int>()
    var unknownCIDR: String?

    init(plan: TerraformPlan, side: TerraformPlanImporter.Side, with: AWSDump?) throws {
        self.plan = plan
        self.side = side
        var resources: [TerraformPlan.Resource]
        if side == .planned {
            resources = plan.resources.filter { !($0.mode == "data" && $0.values.isEmpty) }
            // Data sources read at plan time, and resources the plan does not touch, are in prior_state only.
            let present = Set(resources.map(\.address))
            resources += plan.prior.filter { !present.contains($0.address) && !plan.deleted.contains($0.address) }
        } else {
            guard plan.root["prior_state"] != nil else {
                throw plan.error("prior_state", "the plan has no prior_state (format_version \(plan.formatVersion); "
                                 + "Terraform 0.12 wrote none): there is no network before it to compare")
            }
            resources = plan.prior
            // Resources the plan creates are not there before it; data sources it reads at apply time neither.
        }
        w = TerraformWiring(plan: plan, resources: resources)
        dump = AWSDump(directory: plan.file)
        dump.files = [(plan.file, "terraform plan")]
        if let with {
            for key in AWSDump.keys {
                let idKey = Self.idKeys[key] ?? ""
                for item in with[key] {
                    if let id = item.json.awsStr(idKey) { withIDs.insert(id) }
                    if let n = item.json.awsNameTag, let id = item.json.awsStr(idKey) { withNames[n] = id }
                    if key == "PrefixLists", let n = item.json.awsStr("PrefixListName") { withPrefixLists.insert(n) }
                }
            }
        }
    }

    static let idKeys: [String: String] = [
        "Vpcs": "VpcId", "Subnets": "SubnetId", "RouteTables": "RouteTableId", "NetworkAcls": "NetworkAclId",
        "SecurityGroups": "GroupId", "NatGateways": "NatGatewayId", "InternetGateways": "InternetGatewayId",
        "NetworkInterfaces": "NetworkInterfaceId", "Reservations": "InstanceId", "PrefixLists": "PrefixListId",
        "Functions": "FunctionName",
    ]

    /// Id prefixes of the resource types the plan may hold (AWS's own).
    static let idPrefix: [String: String] = [
        "aws_vpc": "vpc-", "aws_subnet": "subnet-", "aws_route_table": "rtb-", "aws_default_route_table": "rtb-",
        "aws_internet_gateway": "igw-", "aws_nat_gateway": "nat-", "aws_eip": "eipalloc-", "aws_network_acl": "acl-",
        "aws_default_network_acl": "acl-", "aws_security_group": "sg-", "aws_default_security_group": "sg-",
        "aws_network_interface": "eni-", "aws_instance": "i-", "aws_ec2_managed_prefix_list": "pl-",
        "awscc_ec2_route_table": "rtb-", "aws_vpn_gateway": "vgw-", "aws_ec2_transit_gateway": "tgw-",
        "aws_ec2_transit_gateway_vpc_attachment": "tgw-attach-", "aws_ec2_transit_gateway_route_table": "tgw-rtb-", "aws_vpc_endpoint": "vpce-",
        "aws_vpc_peering_connection": "pcx-", "aws_egress_only_internet_gateway": "eigw-",
        "aws_ec2_carrier_gateway": "cagw-", "aws_customer_gateway": "cgw-", "aws_vpn_connection": "vpn-",
    ]

    /// Types read here (the rest is listed as unsupported, grouped).
    static let supported: Set<String> = [
        "aws_vpc", "aws_vpc_ipv4_cidr_block_association", "aws_subnet", "aws_route_table", "aws_route",
        "aws_route_table_association", "aws_main_route_table_association", "aws_default_route_table",
        "aws_internet_gateway", "aws_internet_gateway_attachment", "aws_nat_gateway", "aws_eip", "aws_eip_association",
        "aws_network_acl", "aws_network_acl_rule", "aws_network_acl_association", "aws_default_network_acl",
        "aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule", "aws_default_security_group", "aws_network_interface",
        "aws_network_interface_attachment", "aws_network_interface_sg_attachment", "aws_instance",
        "aws_lambda_function", "aws_ec2_managed_prefix_list", "aws_ec2_managed_prefix_list_entry", "aws_flow_log",
        "aws_egress_only_internet_gateway",
        // The Cloud Control provider's route tables (as terraform-aws-modules' aws-ia/vpc makes them).
        "awscc_ec2_route_table", "awscc_ec2_subnet_route_table_association",
    ]

    /// Components the simulator does not have: a route to them is kept as a not-modeled target.
    static let notModeledTypes: [String: String] = [
        "aws_ec2_transit_gateway": "transit gateway", "aws_ec2_transit_gateway_vpc_attachment": "transit gateway attachment",
        "aws_ec2_transit_gateway_route_table": "transit gateway route table",
        "aws_ec2_transit_gateway_route_table_association": "transit gateway route table association",
        "aws_ec2_transit_gateway_route_table_propagation": "transit gateway route propagation",
        "aws_ec2_transit_gateway_route": "transit gateway route", "aws_vpn_gateway": "virtual private gateway",
        "aws_vpn_connection": "site-to-site VPN", "aws_customer_gateway": "customer gateway",
        "aws_vpc_endpoint": "VPC endpoint", "aws_vpc_peering_connection": "VPC peering",
        "aws_vpc_peering_connection_accepter": "VPC peering", "aws_dx_gateway": "Direct Connect gateway",
        "aws_dx_gateway_association": "Direct Connect gateway association",
    ]

    mutating func warn(_ kind: ImportWarning.Kind, _ id: String, _ message: String) {
        let x = ImportWarning(kind, id: id, message)
        if !warnings.contains(x) { warnings.append(x) }
    }

    func address(_ r: Int) -> String { w.all[r].address }
    func type(_ r: Int) -> String { w.all[r].type }
    /// Instances of `type`, managed and data sources, in plan order.
    func indices(_ type: String) -> [Int] { w.all.indices.filter { w.all[$0].type == type } }
    func managed(_ type: String) -> [Int] { indices(type).filter { w.all[$0].mode == "managed" } }

    // MARK: Ids

    /// The resource's id: known, or invented from its address (and listed).
    mutating func id(_ r: Int) -> String {
        if let s = w.string(r, "id") { idOwner[s] = r; return s }
        let prefix = Self.idPrefix[type(r)] ?? "\(type(r).replacingOccurrences(of: "aws_", with: ""))-"
        let made = Self.invent(prefix, address(r))
        if idOwner[made] == nil {
            idOwner[made] = r
            invented.append(.init(what: address(r) + ".id", value: made, how: "from the resource address"))
        }
        return made
    }

    /// prefix + the 64-bit FNV-1a hash of `key` as 17 hex digits (the length of a real id).
    static func invent(_ prefix: String, _ key: String) -> String {
        let hex = String(ScenarioValues.fnv1a(key), radix: 16)
        return prefix + String(repeating: "0", count: 17 - hex.count) + hex
    }

    /// An implicit resource of a VPC (its main route table, default NACL or group): its id from the VPC's
    /// attribute, or invented.
    mutating func implicitID(_ vpc: Int, _ attr: String, prefix: String) -> String {
        if let s = w.string(vpc, attr) { return s }
        let made = Self.invent(prefix, address(vpc) + "." + attr)
        if !invented.contains(where: { $0.value == made }) {
            invented.append(.init(what: address(vpc) + "." + attr, value: made, how: "from the resource address"))
        }
        return made
    }

    /// The ids attribute `path` of `r` refers to, of resources of `types` (an implicit VPC resource through `attr`).
    mutating func refs(_ r: Int, _ path: [PathElem], _ types: [String], what: String) throws -> [String] {
        var out: [String] = []
        let known = w.value(r, path)
        var ids: [String] = []
        if let s = known as? String { ids = [s] }
        if let l = known as? [Any] { ids = l.compactMap { $0 as? String }.filter { !$0.isEmpty } }
        for s in ids where !out.contains(s) {
            out.append(s)
            noteExternal(s, r, what)
        }
        guard w.isUnknown(r, path) || (known == nil && w.expression(r, path) != nil) else { return out }
        let targets = try w.follow(r, path)
        var gaps: [String] = []
        for t in targets {
            switch t {
            case .resource(let i, let attr):
                guard let id = targetID(i, attr: attr, types: types) else { continue }
                if !out.contains(id) { out.append(id) }
            case .external(let s):
                if !out.contains(s), types.contains(where: { Self.idPrefix[$0].map(s.hasPrefix) ?? false }) || !s.contains(" ") {
                    out.append(s)
                    noteExternal(s, r, what)
                }
            case .gap(let g):
                if let id = withNames[g] { out.append(id) } else { gaps.append(g) }
            case .module(let m, let output):
                // The output is a local value: the one resource of the wanted type in that module instance.
                guard let t = types.first else { continue }
                let inside = w.all.indices.filter { w.all[$0].type == t && w.all[$0].mode == "managed" && w.all[$0].module == m }
                guard inside.count == 1, let id = targetID(inside[0], attr: nil, types: types) else { continue }
                if !out.contains(id) { out.append(id) }
                warn(.approximated, address(r), "\(what) comes from output \(output) of \(TerraformWiring.modulePathKey(m)), a "
                     + "local value the plan's JSON does not carry; wired to \(address(inside[0])), the only \(t) there")
            }
        }
        if out.isEmpty, !gaps.isEmpty {
            for g in gaps where reportedGaps.insert(g + "|" + address(r)).inserted {
                warn(.missingReference, g, "\(address(r)).\(what) refers to it, and the plan does not hold it (nor "
                     + "prior_state): a gap; supply it with --with FILE (a scenario fragment or an AWS dump with a "
                     + "resource named \(g))")
            }
        }
        if out.isEmpty, gaps.isEmpty, w.expression(r, path) != nil, types.count >= 1 {
            // Wired through a `local` (not in the plan's JSON): the one resource of the type in the module, else
            // in the plan.
            let t = types[0]
            let same = w.all.indices.filter { w.all[$0].type == t && w.all[$0].module == w.all[r].module && w.all[$0].mode == "managed" }
            let anywhere = w.all.indices.filter { w.all[$0].type == t && w.all[$0].mode == "managed" }
            let sameIndex = same.filter { w.all[$0].index == w.all[r].index && w.all[r].index != nil }
            let pick = same.count == 1 ? same : sameIndex.count == 1 ? sameIndex : anywhere.count == 1 ? anywhere : []
            if let p = pick.first, let id = targetID(p, attr: nil, types: types) {
                out.append(id)
                warn(.approximated, address(r), "\(what) is known only after apply and its expression names no "
                     + "resource the plan's JSON carries (a local value); wired to \(address(p)), the only \(t) "
                     + (same.count == 1 ? "in its module" : sameIndex.count == 1 ? "of its index in its module" : "in the plan"))
            }
        }
        return out
    }

    /// The id a reference to resource `i` (through attribute `attr`) stands for, when it is of one of `types`.
    mutating func targetID(_ i: Int, attr: String?, types: [String]) -> String? {
        let t = type(i)
        if t == "aws_vpc", let attr {
            switch attr {
            case "default_route_table_id", "main_route_table_id":
                return implicitID(i, "default_route_table_id", prefix: "rtb-")
            case "default_network_acl_id": return implicitID(i, attr, prefix: "acl-")
            case "default_security_group_id": return implicitID(i, attr, prefix: "sg-")
            default: break
            }
        }
        if t == "aws_internet_gateway_attachment", types.contains("aws_internet_gateway") {
            return w.string(i, "internet_gateway_id")
        }
        if t == "aws_eip", attr == "public_ip" { return nil }
        // A VPN connection's transit gateway attachment: the connection's attribute, or the data source that looks
        // the attachment up by its connection.
        if t == "aws_vpn_connection", attr == "transit_gateway_attachment_id", types.contains("aws_vpn_connection") {
            return implicitID(i, "transit_gateway_attachment_id", prefix: "tgw-attach-")
        }
        if t == "aws_ec2_transit_gateway_vpn_attachment", types.contains("aws_vpn_connection") {
            guard let c = try? ref(i, "vpn_connection_id", ["aws_vpn_connection"]) else { return nil }
            return tgwVPNAttachments.first { $0.connection == c }?.attachment
        }
        guard types.isEmpty || types.contains(t) || Self.notModeledTypes[t] != nil else { return nil }
        if t == "aws_lambda_function" { return w.string(i, "function_name") }
        return id(i)
    }

    /// A known id that is not a resource of the plan: taken from --with, or reported.
    mutating func noteExternal(_ s: String, _ r: Int, _ what: String) {
        guard idOwner[s] == nil, !w.all.indices.contains(where: { w.string($0, "id") == s }), !withIDs.contains(s),
              !w.all.indices.contains(where: { w.string($0, "network_interface_id") == s }),
              s.contains("-"), reportedGaps.insert(s).inserted else { return }
        warn(.missingReference, s, "\(address(r)).\(what) refers to it, and neither the plan nor prior_state holds it: "
             + "a gap; supply it with --with FILE (a scenario fragment or an AWS dump)")
    }

    mutating func ref(_ r: Int, _ key: String, _ types: [String]) throws -> String? {
        try refs(r, [.key(key)], types, what: key).first
    }

    // MARK: Names and items

    func nameTag(_ r: Int) -> String {
        if let tags = w.value(r, [.key("tags")]) as? [String: Any], let n = tags["Name"] as? String,
           !n.trimmingCharacters(in: .whitespaces).isEmpty { return n }
        if let tags = w.value(r, [.key("tags_all")]) as? [String: Any], let n = tags["Name"] as? String,
           !n.trimmingCharacters(in: .whitespaces).isEmpty { return n }
        // awscc: a list of {key, value}.
        for t in (w.value(r, [.key("tags")]) as? [Any]) ?? [] {
            if let o = t as? [String: Any], o["key"] as? String == "Name", let n = o["value"] as? String,
               !n.trimmingCharacters(in: .whitespaces).isEmpty { return n }
        }
        return address(r)
    }

    static func tags(_ name: String) -> [[String: Any]] { [["Key": "Name", "Value": name]] }

    mutating func add(_ key: String, _ json: [String: Any], _ r: Int?) {
        let origin = r.map { "\(w.all[$0].origin) (\(address($0)))" } ?? "\(plan.file): implied"
        dump.items[key, default: []].append(DumpItem(json: json, origin: origin))
    }

    // MARK: Conversion

    mutating func convert() throws {
        try readPrefixLists()
        try readVPCs()
        try readInternetGateways()
        try readEgressOnlyInternetGateways()
        try readSubnets()
        try readSecurityGroups()
        try readNetworkInterfaces()
        let publicOf = try readElasticIPs()
        try readNATGateways(publicOf)
        try readInstances(publicOf)
        try readRouteTables()
        try readPeeringConnections()
        try readGatewayEndpoints()
        try readInterfaceEndpoints()
        try readVPN()
        transitGateways = try readTransitGateways()
        try readNetworkACLs()
        try readLambdas()
        try readFlowLogs()
        listUnsupported()
    }

    mutating func readPrefixLists() throws {
        var lists: [(r: Int, id: String, json: [String: Any])] = []
        for r in indices("aws_ec2_managed_prefix_list") {
            handled.insert(r)
            var cidrs: [String] = []
            for e in (w.value(r, [.key("entry")]) as? [Any]) ?? [] {
                if let c = (e as? [String: Any])?["cidr"] as? String { cidrs.append(c) }
            }
            lists.append((r, id(r), ["PrefixListId": id(r), "PrefixListName": w.string(r, "name") ?? nameTag(r),
                                     "AddressFamily": w.string(r, "address_family") ?? "IPv4", "Cidrs": cidrs]))
        }
        for r in managed("aws_ec2_managed_prefix_list_entry") {
            handled.insert(r)
            guard let pl = try ref(r, "prefix_list_id", ["aws_ec2_managed_prefix_list"]),
                  let c = w.string(r, "cidr"), let k = lists.firstIndex(where: { $0.id == pl }) else { continue }
            var cidrs = lists[k].json["Cidrs"] as? [String] ?? []
            if !cidrs.contains(c) { cidrs.append(c) }
            lists[k].json["Cidrs"] = cidrs
        }
        for l in lists { add("PrefixLists", l.json, l.r) }
    }

    var vpcBlocks: [String: [String]] = [:]
    var mainTable: [String: String] = [:]  // VPC id → its main route table id
    var defaultNACL: [String: String] = [:]
    var defaultSG: [String: String] = [:]
    var subnetMapsPublic: [String: Bool] = [:]

    mutating func readVPCs() throws {
        for r in indices("aws_vpc") {
            handled.insert(r)
            let vid = id(r)
            guard let cidr = w.string(r, "cidr_block") else {
                if w.isUnknown(r, [.key("cidr_block")]) {
                    unknownCIDR = unknownCIDR ?? "\(w.all[r].origin).change.after_unknown.cidr_block"
                    warn(.missingReference, address(r), "its CIDR block is known only after apply (IPAM?); left out with "
                         + "everything in it")
                }
                continue
            }
            var blocks = [cidr]
            for a in managed("aws_vpc_ipv4_cidr_block_association") {
                guard try ref(a, "vpc_id", ["aws_vpc"]) == vid else { continue }
                handled.insert(a)
                if let c = w.string(a, "cidr_block") { if !blocks.contains(c) { blocks.append(c) } } else {
                    warn(.missingReference, address(a), "CIDR block known only after apply; left out")
                }
            }
            if let assoc = w.value(r, [.key("cidr_block_associations")]) as? [Any] {  // a data source's
                for a in assoc { if let c = (a as? [String: Any])?["cidr_block"] as? String, !blocks.contains(c) { blocks.append(c) } }
            }
            vpcBlocks[vid] = blocks
            var vpc: [String: Any] = ["VpcId": vid, "CidrBlock": cidr, "Tags": Self.tags(nameTag(r)),
                         "CidrBlockAssociationSet": blocks.map { ["CidrBlock": $0, "CidrBlockState": ["State": "associated"]] }]
            addIPv6Block(r, to: &vpc)
            if vpc["Ipv6CidrBlockAssociationSet"] != nil { ipv6VPCs.insert(vid) }
            add("Vpcs", vpc, r)
            guard w.all[r].mode == "managed" else {
                warn(.missingReference, address(r), "a data source (\(vid)): its main route table, default network ACL and "
                     + "default security group are not in the plan; supply them with --with FILE if subnets use them")
                continue
            }
            mainTable[vid] = implicitID(r, "default_route_table_id", prefix: "rtb-")
            defaultNACL[vid] = implicitID(r, "default_network_acl_id", prefix: "acl-")
            defaultSG[vid] = implicitID(r, "default_security_group_id", prefix: "sg-")
        }
    }

    mutating func readInternetGateways() throws {
        var attached: [String: String] = [:]
        for a in managed("aws_internet_gateway_attachment") {
            handled.insert(a)
            if let g = try ref(a, "internet_gateway_id", ["aws_internet_gateway"]), let v = try ref(a, "vpc_id", ["aws_vpc"]) {
                attached[g] = v
            }
        }
        for r in indices("aws_internet_gateway") {
            handled.insert(r)
            let gid = id(r)
            let vpc = try ref(r, "vpc_id", ["aws_vpc"]) ?? attached[gid]
            var j: [String: Any] = ["InternetGatewayId": gid, "Tags": Self.tags(nameTag(r))]
            if let vpc { j["Attachments"] = [["VpcId": vpc, "State": "available"]] }
            add("InternetGateways", j, r)
        }
    }

    mutating func readSubnets() throws {
        for r in indices("aws_subnet") {
            handled.insert(r)
            let sid = id(r)
            if w.bool(r, [.key("ipv6_native")]) == true {
                add("Subnets", try ipv6OnlySubnet(r, sid), r)
                continue
            }
            guard let cidr = w.string(r, "cidr_block") else {
                if w.isUnknown(r, [.key("cidr_block")]) {
                    unknownCIDR = unknownCIDR ?? "\(w.all[r].origin).change.after_unknown.cidr_block"
                    warn(.missingReference, address(r), "its CIDR block is known only after apply; left out")
                }
                continue
            }
            var j: [String: Any] = ["SubnetId": sid, "CidrBlock": cidr, "Tags": Self.tags(nameTag(r))]
            let vpc = try ref(r, "vpc_id", ["aws_vpc"])
            if let vpc { j["VpcId"] = vpc }
            if let az = w.string(r, "availability_zone") { j["AvailabilityZone"] = az }
            subnetMapsPublic[sid] = w.bool(r, [.key("map_public_ip_on_launch")]) ?? false
            addIPv6Block(r, to: &j, vpc: vpc)
            if w.bool(r, [.key("assign_ipv6_address_on_creation")]) == true { j["AssignIpv6AddressOnCreation"] = true }
            if w.bool(r, [.key("enable_dns64")]) == true { j["EnableDns64"] = true }
            add("Subnets", j, r)
        }
    }

    // MARK: Security groups

    /// An inline rule block (`ingress`/`egress` of aws_security_group) → an IpPermission.
    mutating func permission(_ r: Int, _ path: [PathElem], own: String) throws -> [String: Any] {
        let b = (w.value(r, path) as? [String: Any]) ?? [:]
        var p: [String: Any] = ["IpProtocol": (b["protocol"] as? String) ?? "-1"]
        if let f = b["from_port"] as? NSNumber { p["FromPort"] = f.intValue }
        if let t = b["to_port"] as? NSNumber { p["ToPort"] = t.intValue }
        let desc = (b["description"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        let cidrs = try refs(r, path + [.key("cidr_blocks")], [], what: "cidr_blocks")
        p["IpRanges"] = cidrs.map { c -> [String: Any] in desc.map { ["CidrIp": c, "Description": $0] } ?? ["CidrIp": c] }
        p["Ipv6Ranges"] = ((b["ipv6_cidr_blocks"] as? [Any]) ?? []).compactMap { $0 as? String }.map { ["CidrIpv6": $0] }
        p["PrefixListIds"] = try refs(r, path + [.key("prefix_list_ids")], ["aws_ec2_managed_prefix_list"], what: "prefix_list_ids")
            .map { ["PrefixListId": $0] }
        var groups = try refs(r, path + [.key("security_groups")], ["aws_security_group", "aws_default_security_group"],
                              what: "security_groups")
        if (b["self"] as? Bool) == true { groups.append(own) }
        p["UserIdGroupPairs"] = groups.map { ["GroupId": $0] }
        return p
    }

    /// The rule blocks of `key`: as the plan gives them, else the configuration's (when known only after apply);
    /// none when the configuration has no such block (Terraform removes AWS's default egress rule).
    mutating func inlineRules(_ r: Int, _ key: String, own: String) throws -> [[String: Any]] {
        if let list = w.value(r, [.key(key)]) as? [Any] {
            return try list.indices.map { try permission(r, [.key(key), .index($0)], own: own) }
        }
        guard w.isUnknown(r, [.key(key)]), let (expr, _) = w.expression(r, [.key(key)]) else { return [] }
        // Known only after apply, written in the configuration: its constant blocks.
        if let c = (expr as? [String: Any])?["constant_value"] as? [Any] {
            var out: [[String: Any]] = []
            for b in c {
                guard let o = b as? [String: Any] else { continue }
                var p: [String: Any] = ["IpProtocol": (o["protocol"] as? String) ?? "-1"]
                if let f = o["from_port"] as? NSNumber { p["FromPort"] = f.intValue }
                if let t = o["to_port"] as? NSNumber { p["ToPort"] = t.intValue }
                p["IpRanges"] = ((o["cidr_blocks"] as? [Any]) ?? []).compactMap { $0 as? String }.map { ["CidrIp": $0] }
                var groups = ((o["security_groups"] as? [Any]) ?? []).compactMap { $0 as? String }
                if (o["self"] as? Bool) == true { groups.append(own) }
                p["UserIdGroupPairs"] = groups.map { ["GroupId": $0] }
                out.append(p)
            }
            return out
        }
        warn(.missingReference, address(r), "\(key) rules are known only after apply and not constants of the "
             + "configuration; imported as none")
        return []
    }

    var groupItems: [String: Int] = [:]  // SG id → index in dump.items["SecurityGroups"]

    mutating func readSecurityGroups() throws {
        var defaultRules: [String: Int] = [:]  // VPC id → aws_default_security_group
        for r in managed("aws_default_security_group") {
            if let v = try ref(r, "vpc_id", ["aws_vpc"]) { defaultRules[v] = r }
        }
        // The VPC's default group as AWS creates it (all in from itself, all out), unless Terraform manages it.
        for (vpc, sg) in defaultSG.sorted(by: { $0.key < $1.key }) {
            if let r = defaultRules[vpc] {
                handled.insert(r)
                let own = w.string(r, "id") ?? sg
                add("SecurityGroups", ["GroupId": own, "GroupName": "default", "VpcId": vpc,
                                       "Description": "default VPC security group", "Tags": Self.tags(nameTag(r)),
                                       "IpPermissions": try inlineRules(r, "ingress", own: own),
                                       "IpPermissionsEgress": try inlineRules(r, "egress", own: own)], r)
                idOwner[own] = r
                continue
            }
            let vpcAddr = w.all.indices.first { w.string($0, "id") == vpc || idOwner[vpc] == $0 }.map(address) ?? vpc
            add("SecurityGroups", ["GroupId": sg, "GroupName": "default", "VpcId": vpc,
                                   "Description": "default VPC security group", "Tags": Self.tags(vpcAddr + ".default_security_group"),
                                   "IpPermissions": [["IpProtocol": "-1", "UserIdGroupPairs": [["GroupId": sg]]]],
                                   "IpPermissionsEgress": [defaultEgress(vpc)]], nil)
        }
        for r in indices("aws_security_group") {
            handled.insert(r)
            let gid = id(r)
            var j: [String: Any] = ["GroupId": gid, "GroupName": w.string(r, "name") ?? nameTag(r), "Tags": Self.tags(nameTag(r))]
            if let d = w.string(r, "description") { j["Description"] = d }
            if let v = try ref(r, "vpc_id", ["aws_vpc"]) { j["VpcId"] = v } else if w.all[r].mode == "managed" {
                warn(.missingReference, address(r), "has no vpc_id: a group of the region's default VPC, which the plan does "
                     + "not hold; supply it with --with FILE")
            }
            if w.all[r].mode == "data" {
                warn(.missingReference, address(r), "a data source: its rules are not in the plan; supply the group with "
                     + "--with FILE")
                continue
            }
            j["IpPermissions"] = try inlineRules(r, "ingress", own: gid)
            j["IpPermissionsEgress"] = try inlineRules(r, "egress", own: gid)
            add("SecurityGroups", j, r)
        }
        for (i, item) in (dump.items["SecurityGroups"] ?? []).enumerated() {
            if let g = item.json.awsStr("GroupId") { groupItems[g] = i }
        }
        for r in managed("aws_security_group_rule") {
            handled.insert(r)
            guard let g = try ref(r, "security_group_id", ["aws_security_group", "aws_default_security_group"]) else { continue }
            var p = try permission(r, [], own: g)
            if let src = try ref(r, "source_security_group_id", ["aws_security_group", "aws_default_security_group"]) {
                p["UserIdGroupPairs"] = ((p["UserIdGroupPairs"] as? [[String: Any]]) ?? []) + [["GroupId": src]]
            }
            let egress = w.string(r, "type") == "egress"
            appendRule(g, p, egress: egress, r)
        }
        for (t, egress) in [("aws_vpc_security_group_ingress_rule", false), ("aws_vpc_security_group_egress_rule", true)] {
            for r in managed(t) {
                handled.insert(r)
                guard let g = try ref(r, "security_group_id", ["aws_security_group", "aws_default_security_group"]) else { continue }
                var p: [String: Any] = ["IpProtocol": w.string(r, "ip_protocol") ?? "-1"]
                if let f = w.int(r, [.key("from_port")]) { p["FromPort"] = f }
                if let to = w.int(r, [.key("to_port")]) { p["ToPort"] = to }
                if let c = w.string(r, "cidr_ipv4") { p["IpRanges"] = [["CidrIp": c]] }
                if let c = w.string(r, "cidr_ipv6") { p["Ipv6Ranges"] = [["CidrIpv6": c]] }
                if let pl = try ref(r, "prefix_list_id", ["aws_ec2_managed_prefix_list"]) { p["PrefixListIds"] = [["PrefixListId": pl]] }
                if let s = try ref(r, "referenced_security_group_id", ["aws_security_group", "aws_default_security_group"]) {
                    p["UserIdGroupPairs"] = [["GroupId": s]]
                }
                appendRule(g, p, egress: egress, r)
            }
        }
    }

    mutating func appendRule(_ g: String, _ p: [String: Any], egress: Bool, _ r: Int) {
        guard let i = groupItems[g] else {
            if !withIDs.contains(g) {
                warn(.missingReference, address(r), "rule of security group \(g), which the plan does not hold; left out")
            }
            return
        }
        var item = dump.items["SecurityGroups"]![i]
        var json = item.json
        let key = egress ? "IpPermissionsEgress" : "IpPermissions"
        // A plan made after apply lists a separate rule resource's rule in its group's inline rules too.
        if ((json[key] as? [[String: Any]]) ?? []).contains(where: { Self.sameRule($0, p) }) { return }
        json[key] = ((json[key] as? [Any]) ?? []) + [p]
        item = DumpItem(json: json, origin: item.origin)
        dump.items["SecurityGroups"]![i] = item
    }

    static func sameRule(_ a: [String: Any], _ b: [String: Any]) -> Bool {
        func proto(_ p: [String: Any]) -> String {
            let s = ((p["IpProtocol"] as? String) ?? "-1").lowercased()
            return ["all": "-1", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"][s] ?? s
        }
        func peers(_ p: [String: Any]) -> [String] {
            (((p["IpRanges"] as? [[String: Any]]) ?? []).compactMap { $0["CidrIp"] as? String }
                + ((p["UserIdGroupPairs"] as? [[String: Any]]) ?? []).compactMap { $0["GroupId"] as? String }
                + ((p["PrefixListIds"] as? [[String: Any]]) ?? []).compactMap { $0["PrefixListId"] as? String }
                + ((p["Ipv6Ranges"] as? [[String: Any]]) ?? []).compactMap { $0["CidrIpv6"] as? String }).sorted()
        }
        let ports = proto(a) == "-1" || (a["FromPort"] as? Int == b["FromPort"] as? Int && a["ToPort"] as? Int == b["ToPort"] as? Int)
        return proto(a) == proto(b) && ports && peers(a) == peers(b)
    }

    // MARK: Interfaces, addresses, NAT gateways, instances

    var eniSubnet: [String: String] = [:]
    var eniInstance: [String: String] = [:]

    mutating func readNetworkInterfaces() throws {
        for r in managed("aws_network_interface_attachment") {
            handled.insert(r)
            if let e = try ref(r, "network_interface_id", ["aws_network_interface"]), let i = try ref(r, "instance_id", ["aws_instance"]) {
                eniInstance[e] = i
            }
        }
        var extraGroups: [String: [String]] = [:]
        for r in managed("aws_network_interface_sg_attachment") {
            handled.insert(r)
            if let e = try ref(r, "network_interface_id", ["aws_network_interface"]),
               let g = try ref(r, "security_group_id", ["aws_security_group"]) { extraGroups[e, default: []].append(g) }
        }
        for r in indices("aws_network_interface") {
            handled.insert(r)
            let eid = id(r)
            var j: [String: Any] = ["NetworkInterfaceId": eid, "InterfaceType": w.string(r, "interface_type") ?? "interface",
                                    "Description": nameTag(r)]
            if let s = try ref(r, "subnet_id", ["aws_subnet"]) { j["SubnetId"] = s; eniSubnet[eid] = s }
            if let ip = w.string(r, "private_ip") ?? (w.value(r, [.key("private_ips")]) as? [Any])?.first as? String {
                j["PrivateIpAddress"] = ip
            }
            // Its known IPv6 addresses (an instance whose primary interface this is keeps the first).
            let ipv6 = ((w.value(r, [.key("ipv6_addresses")]) as? [Any]) ?? []).compactMap { $0 as? String }
            if !ipv6.isEmpty { j["Ipv6Addresses"] = ipv6.map { ["Ipv6Address": $0] } }
            let groups = try refs(r, [.key("security_groups")], ["aws_security_group", "aws_default_security_group"],
                                  what: "security_groups") + (extraGroups[eid] ?? [])
            j["Groups"] = groups.map { ["GroupId": $0] }
            if let att = (w.value(r, [.key("attachment")]) as? [Any])?.first as? [String: Any] {
                let inst = try refs(r, [.key("attachment"), .index(0), .key("instance")], ["aws_instance"], what: "attachment.instance").first
                if let inst { eniInstance[eid] = inst }
                j["Attachment"] = ["InstanceId": inst ?? "", "DeviceIndex": (att["device_index"] as? NSNumber)?.intValue ?? 1]
            } else if let inst = eniInstance[eid] {
                j["Attachment"] = ["InstanceId": inst, "DeviceIndex": 1]
            }
            add("NetworkInterfaces", j, r)
        }
    }

    /// An unused public address for an Elastic or public IP known only after apply: from TEST-NET-1
    /// (192.0.2.0/24, RFC 5737), then TEST-NET-2 and -3, at the hash of the address of what it is for.
    mutating func inventPublic(_ what: String) -> String {
        let nets: [UInt32] = [0xC000_0200, 0xC633_6400, 0xCB00_7100]
        let h = ScenarioValues.fnv1a(what)
        for net in nets {
            for k in 0..<253 {
                let host = UInt32((h &+ UInt64(k)) % 253) + 1
                let a = net | host
                if usedPublic.insert(a).inserted {
                    let ip = IPv4Address(rawValue: a).description
                    invented.append(.init(what: what, value: ip, how: "from the resource address, in TEST-NET (RFC 5737)"))
                    return ip
                }
            }
        }
        return "192.0.2.254"
    }

    /// Elastic IPs: allocation id → (public IP, instance or ENI it is associated with).
    mutating func readElasticIPs() throws -> [String: (ip: String?, to: String?, r: Int)] {
        for r in w.all.indices where ["aws_instance", "aws_eip", "aws_nat_gateway"].contains(type(r)) {
            for k in ["public_ip", "private_ip"] {
                if let s = w.string(r, k), let a = IPv4Address(s) { usedPublic.insert(a.rawValue) }
            }
        }
        var out: [String: (ip: String?, to: String?, r: Int)] = [:]
        for r in indices("aws_eip") {
            handled.insert(r)
            let alloc = w.string(r, "allocation_id") ?? id(r)
            let to = try ref(r, "instance", ["aws_instance"]) ?? ref(r, "network_interface", ["aws_network_interface"])
            out[alloc] = (w.string(r, "public_ip"), to, r)
        }
        for r in managed("aws_eip_association") {
            handled.insert(r)
            guard let alloc = try ref(r, "allocation_id", ["aws_eip"]), out[alloc] != nil else { continue }
            if let to = try ref(r, "instance_id", ["aws_instance"]) ?? ref(r, "network_interface_id", ["aws_network_interface"]) {
                out[alloc]!.to = to
            }
        }
        return out
    }

    mutating func eipAddress(_ alloc: String, _ eips: inout [String: (ip: String?, to: String?, r: Int)]) -> String? {
        guard let e = eips[alloc] else { return nil }
        if let ip = e.ip { return ip }
        let ip = inventPublic(address(e.r) + ".public_ip")
        eips[alloc]!.ip = ip
        return ip
    }

    mutating func readNATGateways(_ eipsIn: [String: (ip: String?, to: String?, r: Int)]) throws {
        var eips = eipsIn
        for r in indices("aws_nat_gateway") {
            handled.insert(r)
            let nid = id(r)
            let connectivity = w.string(r, "connectivity_type") ?? "public"
            var j: [String: Any] = ["NatGatewayId": nid, "State": "available", "ConnectivityType": connectivity,
                                    "Tags": Self.tags(nameTag(r))]
            if let s = try ref(r, "subnet_id", ["aws_subnet"]) { j["SubnetId"] = s }
            var a: [String: Any] = ["IsPrimary": true]
            if let ip = w.string(r, "private_ip") { a["PrivateIp"] = ip } else { allocatedPrivate.append((nid, address(r) + ".private_ip")) }
            if connectivity == "public" {
                if let alloc = try ref(r, "allocation_id", ["aws_eip"]) {
                    a["AllocationId"] = alloc
                    if let ip = w.string(r, "public_ip") ?? eipAddress(alloc, &eips) { a["PublicIp"] = ip }
                } else if let ip = w.string(r, "public_ip") {
                    a["PublicIp"] = ip
                }
            }
            j["NatGatewayAddresses"] = [a]
            add("NatGateways", j, r)
        }
        publicOfAllocations = eips
    }
    var publicOfAllocations: [String: (ip: String?, to: String?, r: Int)] = [:]

    mutating func readInstances(_ eipsIn: [String: (ip: String?, to: String?, r: Int)]) throws {
        var eips = publicOfAllocations.isEmpty ? eipsIn : publicOfAllocations
        let eniItems = dump.items["NetworkInterfaces"] ?? []
        for r in indices("aws_instance") {
            handled.insert(r)
            let iid = id(r)
            var j: [String: Any] = ["InstanceId": iid, "Tags": Self.tags(nameTag(r))]
            var subnet = try ref(r, "subnet_id", ["aws_subnet"])
            var groups = try refs(r, [.key("vpc_security_group_ids")], ["aws_security_group", "aws_default_security_group"],
                                  what: "vpc_security_group_ids")
            for g in try refs(r, [.key("security_groups")], ["aws_security_group"], what: "security_groups") where g.hasPrefix("sg-") {
                if !groups.contains(g) { groups.append(g) }
            }
            var privateIP = w.string(r, "private_ip")
            var nics: [[String: Any]] = []
            for (k, _) in ((w.value(r, [.key("network_interface")]) as? [Any]) ?? []).enumerated() {
                let path: [PathElem] = [.key("network_interface"), .index(k)]
                let device = w.int(r, path + [.key("device_index")]) ?? k
                guard let e = try refs(r, path + [.key("network_interface_id")], ["aws_network_interface"],
                                       what: "network_interface.network_interface_id").first else { continue }
                nics.append(["NetworkInterfaceId": e, "Attachment": ["DeviceIndex": device]])
                if device == 0, let item = eniItems.first(where: { $0.json.awsStr("NetworkInterfaceId") == e }) {
                    subnet = subnet ?? item.json.awsStr("SubnetId")
                    if groups.isEmpty { groups = item.json.awsObjs("Groups").compactMap { $0.awsStr("GroupId") } }
                    privateIP = privateIP ?? item.json.awsStr("PrivateIpAddress")
                }
            }
            for (e, inst) in eniInstance.sorted(by: { $0.key < $1.key }) where inst == iid && !nics.contains(where: { $0["NetworkInterfaceId"] as? String == e }) {
                nics.append(["NetworkInterfaceId": e, "Attachment": ["DeviceIndex": 1]])
            }
            if !nics.isEmpty { j["NetworkInterfaces"] = nics }
            if let subnet { j["SubnetId"] = subnet }
            j["SecurityGroups"] = groups.map { ["GroupId": $0] }
            if let privateIP { j["PrivateIpAddress"] = privateIP } else { allocatedPrivate.append((iid, address(r) + ".private_ip")) }
            // aws_instance.source_dest_check (default true): off, the AWS importer takes it for a forwarder.
            if w.bool(r, [.key("source_dest_check")]) == false { j["SourceDestCheck"] = false }
            // Its public address: known; an Elastic IP associated with it; or one AWS gives at launch
            // (associate_public_ip_address, else the subnet's map_public_ip_on_launch: EC2-UG using-instance-addressing).
            var pub = w.string(r, "public_ip")
            let primaryENI = nics.first { (($0["Attachment"] as? [String: Any])?["DeviceIndex"] as? Int) == 0 }?["NetworkInterfaceId"] as? String
            if let alloc = eips.keys.sorted().first(where: { eips[$0]!.to == iid || (primaryENI != nil && eips[$0]!.to == primaryENI) }) {
                pub = eipAddress(alloc, &eips)
            }
            if pub == nil, w.isUnknown(r, [.key("public_ip")]) {
                let assoc = w.bool(r, [.key("associate_public_ip_address")])
                if assoc == true || (assoc == nil && subnet.map { subnetMapsPublic[$0] ?? false } ?? false) {
                    pub = inventPublic(address(r) + ".public_ip")
                }
            }
            if let pub { j["PublicIpAddress"] = pub }
            readInstanceIPv6(r, iid, into: &j)
            add("Reservations", j, r)
        }
        publicOfAllocations = eips
    }

    // MARK: Route tables

    static let routeTargets: [(tf: String, aws: String, types: [String])] = [
        ("gateway_id", "GatewayId", ["aws_internet_gateway", "aws_vpn_gateway", "aws_internet_gateway_attachment"]),
        ("nat_gateway_id", "NatGatewayId", ["aws_nat_gateway"]),
        ("network_interface_id", "NetworkInterfaceId", ["aws_network_interface"]),
        ("instance_id", "InstanceId", ["aws_instance"]),
        ("transit_gateway_id", "TransitGatewayId", ["aws_ec2_transit_gateway"]),
        ("vpc_peering_connection_id", "VpcPeeringConnectionId", ["aws_vpc_peering_connection"]),
        ("vpc_endpoint_id", "GatewayId", ["aws_vpc_endpoint"]),
        ("egress_only_gateway_id", "EgressOnlyInternetGatewayId", ["aws_egress_only_internet_gateway"]),
        ("carrier_gateway_id", "CarrierGatewayId", ["aws_ec2_carrier_gateway"]),
        ("local_gateway_id", "LocalGatewayId", []),
        ("core_network_arn", "CoreNetworkArn", []),
    ]

    /// A route (an inline `route` block at `path`, or an aws_route at []) in the AWS CLI's shape.
    mutating func route(_ r: Int, _ path: [PathElem]) throws -> [String: Any]? {
        var j: [String: Any] = [:]
        for (k, a) in [("cidr_block", "DestinationCidrBlock"), ("destination_cidr_block", "DestinationCidrBlock"),
                       ("ipv6_cidr_block", "DestinationIpv6CidrBlock"),
                       ("destination_ipv6_cidr_block", "DestinationIpv6CidrBlock")] {
            if let s = w.value(r, path + [.key(k)]) as? String { j[a] = s }
        }
        if let pl = try refs(r, path + [.key("destination_prefix_list_id")], ["aws_ec2_managed_prefix_list"],
                             what: "destination_prefix_list_id").first { j["DestinationPrefixListId"] = pl }
        for t in Self.routeTargets {
            if let v = try refs(r, path + [.key(t.tf)], t.types, what: t.tf).first { j[t.aws] = v; break }
        }
        guard j["DestinationCidrBlock"] != nil || j["DestinationIpv6CidrBlock"] != nil || j["DestinationPrefixListId"] != nil else {
            warn(.missingReference, address(r), "a route whose destination is known only after apply; left out")
            return nil
        }
        if !Self.routeTargets.contains(where: { j[$0.aws] != nil }) {
            warn(.missingReference, address(r), "route \(j["DestinationCidrBlock"] ?? j["DestinationPrefixListId"] ?? "?"): its "
                 + "target is known only after apply and not wired in the configuration; imported as blackhole")
            j["State"] = "blackhole"
            j["GatewayId"] = "unknown"
        }
        return j
    }

    mutating func readRouteTables() throws {
        var tables: [(id: String, json: [String: Any], r: Int?)] = []
        func localRoutes(_ vpc: String) -> [[String: Any]] {
            (vpcBlocks[vpc] ?? []).map { ["DestinationCidrBlock": $0, "GatewayId": "local"] }
        }
        // Which table is main: aws_main_route_table_association moves it from the VPC's own.
        var mainOverride: [String: String] = [:]
        for r in managed("aws_main_route_table_association") {
            handled.insert(r)
            if let v = try ref(r, "vpc_id", ["aws_vpc"]), let t = try ref(r, "route_table_id", ["aws_route_table"]) { mainOverride[v] = t }
        }
        var managedDefault: [String: Int] = [:]  // VPC's main table id → aws_default_route_table
        for r in managed("aws_default_route_table") {
            handled.insert(r)
            if let t = try ref(r, "default_route_table_id", ["aws_route_table"]) { managedDefault[t] = r }
        }
        for (vpc, t) in mainTable.sorted(by: { $0.key < $1.key }) {
            var routes = localRoutes(vpc)
            var name = (w.all.indices.first { idOwner[vpc] == $0 }.map(address) ?? vpc) + ".default_route_table"
            let r = managedDefault[t]
            if let r {
                name = nameTag(r)
                for k in ((w.value(r, [.key("route")]) as? [Any]) ?? []).indices {
                    if let x = try route(r, [.key("route"), .index(k)]) { routes.append(x) }
                }
            }
            var j: [String: Any] = ["RouteTableId": t, "VpcId": vpc, "Routes": routes, "Tags": Self.tags(name)]
            j["Associations"] = mainOverride[vpc] == nil ? [["Main": true]] : []
            tables.append((t, j, r))
        }
        for r in indices("aws_route_table") + managed("awscc_ec2_route_table") {
            handled.insert(r)
            let tid = id(r)
            guard let vpc = try ref(r, "vpc_id", ["aws_vpc"]) else { continue }
            var routes = localRoutes(vpc)
            for k in ((w.value(r, [.key("route")]) as? [Any]) ?? []).indices {
                if let x = try route(r, [.key("route"), .index(k)]) { routes.append(x) }
            }
            var j: [String: Any] = ["RouteTableId": tid, "VpcId": vpc, "Routes": routes, "Tags": Self.tags(nameTag(r))]
            j["Associations"] = mainOverride[vpc] == tid ? [["Main": true]] : []
            tables.append((tid, j, r))
        }
        for r in managed("aws_route") {
            handled.insert(r)
            guard let t = try ref(r, "route_table_id", ["aws_route_table", "aws_default_route_table", "awscc_ec2_route_table"])
            else { continue }
            guard let k = tables.firstIndex(where: { $0.id == t }) else {
                if !withIDs.contains(t) { warn(.missingReference, address(r), "route of table \(t), which the plan does not hold; left out") }
                continue
            }
            if let x = try route(r, []) { tables[k].json["Routes"] = ((tables[k].json["Routes"] as? [Any]) ?? []) + [x] }
        }
        for r in managed("aws_route_table_association") + managed("awscc_ec2_subnet_route_table_association") {
            handled.insert(r)
            guard let t = try ref(r, "route_table_id", ["aws_route_table", "aws_default_route_table", "awscc_ec2_route_table"]),
                  let k = tables.firstIndex(where: { $0.id == t }) else { continue }
            var a: [String: Any] = [:]
            if let s = try ref(r, "subnet_id", ["aws_subnet"]) { a["SubnetId"] = s }
            if let g = try ref(r, "gateway_id", ["aws_internet_gateway", "aws_vpn_gateway"]) { a["GatewayId"] = g }
            guard !a.isEmpty else { continue }
            tables[k].json["Associations"] = ((tables[k].json["Associations"] as? [Any]) ?? []) + [a]
        }
        for t in tables { add("RouteTables", t.json, t.r) }
    }

    // MARK: Network ACLs

    static func naclEntry(_ b: [String: Any], egress: Bool, numberKey: String, actionKey: String) -> [String: Any]? {
        guard let n = (b[numberKey] as? NSNumber)?.intValue else { return nil }
        var e: [String: Any] = ["RuleNumber": n, "Egress": egress, "Protocol": (b["protocol"] as? String) ?? "-1",
                                "RuleAction": (b[actionKey] as? String) ?? "deny"]
        if let c = b["cidr_block"] as? String, !c.isEmpty { e["CidrBlock"] = c }
        if let c = b["ipv6_cidr_block"] as? String, !c.isEmpty { e["Ipv6CidrBlock"] = c }
        if let f = (b["from_port"] as? NSNumber)?.intValue, let t = (b["to_port"] as? NSNumber)?.intValue {
            e["PortRange"] = ["From": f, "To": t]
        }
        if let t = (b["icmp_type"] as? NSNumber)?.intValue ?? (b["icmp_type"] as? String).flatMap({ Int($0) }) {
            let c = (b["icmp_code"] as? NSNumber)?.intValue ?? (b["icmp_code"] as? String).flatMap { Int($0) } ?? -1
            e["IcmpTypeCode"] = ["Type": t, "Code": c]
        }
        return e
    }

    mutating func naclBlocks(_ r: Int) -> [[String: Any]] {
        var out: [[String: Any]] = []
        for (key, egress) in [("ingress", false), ("egress", true)] {
            if let list = w.value(r, [.key(key)]) as? [Any] {
                out += list.compactMap { ($0 as? [String: Any]).flatMap { Self.naclEntry($0, egress: egress, numberKey: "rule_no", actionKey: "action") } }
            } else if w.isUnknown(r, [.key(key)]), let (e, _) = w.expression(r, [.key(key)]) {
                if let c = (e as? [String: Any])?["constant_value"] as? [Any] {
                    out += c.compactMap { ($0 as? [String: Any]).flatMap { Self.naclEntry($0, egress: egress, numberKey: "rule_no", actionKey: "action") } }
                } else {
                    warn(.missingReference, address(r), "\(key) rules are known only after apply; imported as none (the `*` DENY)")
                }
            }
        }
        return out
    }

    mutating func readNetworkACLs() throws {
        var acls: [(id: String, json: [String: Any], r: Int?)] = []
        var managedDefault: [String: Int] = [:]
        for r in managed("aws_default_network_acl") {
            handled.insert(r)
            let t = try ref(r, "default_network_acl_id", ["aws_network_acl"]) ?? w.string(r, "id")
            if let t { managedDefault[t] = r }
        }
        for (vpc, a) in defaultNACL.sorted(by: { $0.key < $1.key }) {
            var j: [String: Any] = ["NetworkAclId": a, "VpcId": vpc, "IsDefault": true]
            if let r = managedDefault[a] {
                j["Tags"] = Self.tags(nameTag(r))
                j["Entries"] = naclBlocks(r)
                j["Associations"] = try refs(r, [.key("subnet_ids")], ["aws_subnet"], what: "subnet_ids").map { ["SubnetId": $0] }
                acls.append((a, j, r))
                continue
            }
            // AWS's default NACL: rule 100 allows everything both ways (VPC-UG vpc-network-acls, default network ACL).
            let name = (w.all.indices.first { idOwner[vpc] == $0 }.map(address) ?? vpc) + ".default_network_acl"
            j["Tags"] = Self.tags(name)
            j["Entries"] = [false, true].map { ["RuleNumber": 100, "Egress": $0, "Protocol": "-1", "RuleAction": "allow",
                                                "CidrBlock": "0.0.0.0/0"] as [String: Any] } + defaultNACLIPv6Entries(vpc)
            acls.append((a, j, nil))
        }
        for r in indices("aws_network_acl") {
            handled.insert(r)
            let aid = id(r)
            guard let vpc = try ref(r, "vpc_id", ["aws_vpc"]) else { continue }
            var j: [String: Any] = ["NetworkAclId": aid, "VpcId": vpc, "IsDefault": false, "Tags": Self.tags(nameTag(r))]
            j["Entries"] = naclBlocks(r)
            j["Associations"] = try refs(r, [.key("subnet_ids")], ["aws_subnet"], what: "subnet_ids").map { ["SubnetId": $0] }
            acls.append((aid, j, r))
        }
        for r in managed("aws_network_acl_rule") {
            handled.insert(r)
            guard let a = try ref(r, "network_acl_id", ["aws_network_acl", "aws_default_network_acl"]),
                  let k = acls.firstIndex(where: { $0.id == a }) else { continue }
            let egress = w.bool(r, [.key("egress")]) ?? false
            guard let e = Self.naclEntry(w.all[r].values, egress: egress, numberKey: "rule_number", actionKey: "rule_action") else { continue }
            acls[k].json["Entries"] = ((acls[k].json["Entries"] as? [Any]) ?? []) + [e]
        }
        // A subnet is in one NACL: an association replaces the one it had (the default's, or another's).
        for r in managed("aws_network_acl_association") {
            handled.insert(r)
            guard let a = try ref(r, "network_acl_id", ["aws_network_acl", "aws_default_network_acl"]),
                  let s = try ref(r, "subnet_id", ["aws_subnet"]),
                  let k = acls.firstIndex(where: { $0.id == a }) else { continue }
            for i in acls.indices {
                let kept = ((acls[i].json["Associations"] as? [[String: Any]]) ?? []).filter { $0["SubnetId"] as? String != s }
                acls[i].json["Associations"] = kept
            }
            acls[k].json["Associations"] = ((acls[k].json["Associations"] as? [Any]) ?? []) + [["SubnetId": s]]
        }
        for a in acls { add("NetworkAcls", a.json, a.r) }
    }

    // MARK: Lambda, flow logs

    mutating func readLambdas() throws {
        for r in managed("aws_lambda_function") {
            handled.insert(r)
            guard let name = w.string(r, "function_name") else {
                warn(.missingReference, address(r), "function name known only after apply; left out")
                continue
            }
            let path: [PathElem] = [.key("vpc_config"), .index(0)]
            guard w.value(r, [.key("vpc_config")]) != nil || w.isUnknown(r, [.key("vpc_config")]) else {
                warn(.notModelled, address(r), "function \(name) is not connected to a VPC; left out")
                continue
            }
            let subnets = try refs(r, path + [.key("subnet_ids")], ["aws_subnet"], what: "vpc_config.subnet_ids")
            let groups = try refs(r, path + [.key("security_group_ids")], ["aws_security_group", "aws_default_security_group"],
                                  what: "vpc_config.security_group_ids")
            var config: [String: Any] = ["SubnetIds": subnets, "SecurityGroupIds": groups]
            if w.bool(r, path + [.key("ipv6_allowed_for_dual_stack")]) == true { config["Ipv6AllowedForDualStack"] = true }
            var j: [String: Any] = ["FunctionName": name, "VpcConfig": config]
            if let t = w.int(r, [.key("timeout")]) { j["Timeout"] = t }
            lambdaAddress[name] = address(r)
            add("Functions", j, r)
        }
    }

    mutating func readFlowLogs() throws {
        for r in managed("aws_flow_log") {
            handled.insert(r)
            let interval = w.int(r, [.key("max_aggregation_interval")])
            var format = w.string(r, "log_format")
            if let f = format {
                do {
                    _ = try FlowLogFormat(parsing: f)
                } catch {
                    warn(.notModelled, address(r), "log_format \(AWSDumpCheck.quoted(f)): \(error); the default format is used")
                    format = nil
                }
            }
            if let existing = flowLogs {
                if existing.interval != interval || existing.format != format {
                    warn(.notModelled, address(r), "a second flow log with other settings: the scenario records every ENI "
                         + "with the first one's")
                }
                continue
            }
            flowLogs = ImportPlan.FlowLogs(interval: interval.flatMap { [60, 600].contains($0) ? $0 : nil }, format: format)
            warn(.approximated, address(r), "flow log settings (interval, format) taken for the scenario's flow_logs: it "
                 + "records at every ENI, whichever VPC, subnet or ENI the flow log is for")
        }
    }

    // MARK: What is left

    mutating func listUnsupported() {
        var groups: [String: [String]] = [:]
        for r in w.all.indices where w.all[r].mode == "managed" && !handled.contains(r) {
            if Self.supported.contains(type(r)) { continue }
            groups[type(r), default: []].append(address(r))
        }
        for t in groups.keys.sorted() {
            let list = groups[t]!
            let shown = list.prefix(4).joined(separator: ", ") + (list.count > 4 ? ", … \(list.count) in all" : "")
            let why: String
            if let what = Self.notModeledTypes[t] {
                why = "\(what): not modeled by the simulator (routes to it are kept as not-modeled targets)"
            } else if !t.hasPrefix("aws_") {
                why = "not a resource of the aws provider; ignored"
            } else {
                why = "not a part of the network the simulator models; ignored"
            }
            warn(.notModelled, t, "\(list.count) resource\(list.count == 1 ? "" : "s") (\(shown)): \(why)")
        }
    }

    /// A --with dump: its items join the plan's; those with an id the plan already has are left out.
    func merge(_ with: AWSDump, into d: inout AWSDump) {
        for key in AWSDump.keys {
            let idKey = Self.idKeys[key] ?? ""
            let present = Set((d.items[key] ?? []).compactMap { $0.json.awsStr(idKey) })
            for item in with[key] where !present.contains(item.json.awsStr(idKey) ?? "") {
                d.items[key, default: []].append(item)
            }
        }
        d.prefixListEntries += with.prefixListEntries
        d.files += with.files
    }

    /// A plan that leaves no VPC to simulate is an error, at the value that made it so.
    func requireNetwork(_ d: AWSDump) throws {
        guard d["Vpcs"].isEmpty else { return }
        if let u = unknownCIDR {
            throw plan.error(u, "every VPC and subnet CIDR block of the plan is known only after apply: nothing to simulate")
        }
        let types = Set(w.all.map(\.type)).sorted()
        throw plan.error(side == .prior ? "prior_state" : "resource_changes",
                         "no VPC in the plan" + (types.isEmpty ? " (it has no resources)" : " (its resources: \(types.prefix(6).joined(separator: ", "))\(types.count > 6 ? ", …" : ""))")
                         + "; a VPC it only refers to can be supplied with --with FILE")
    }
}
