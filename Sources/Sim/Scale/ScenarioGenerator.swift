import Packets

/// Generates a large, valid scenario (docs/scenarios.md) deterministically from a seed, for load-and-validate
/// benchmarks (`vpcsim-bench large-vpc`) and scale tests.
///
/// Layout, for `Size(subnets: S, routes: R, naclEntries: N, securityGroups: G)`:
/// - one VPC `main` with ⌈S/250⌉ /16 blocks from 10.0.0.0/16 upward, an internet gateway, one public NAT gateway;
/// - S /24 subnets: `public` (10.0.0.0/24, public route table and NACL), `app-a` and `app-b` (main route table,
///   `app-nacl`), and the rest in shuffled order, each with a random route table and NACL association (about a
///   fifth left to the main table / default NACL);
/// - max(2, S/10) route tables holding exactly R explicit routes: each table's first route is 0.0.0.0/0 (to the
///   internet gateway for `public-rt`, the NAT gateway otherwise); the others go to distinct destinations in
///   172.16.0.0/12 and 100.64.0.0/10, targeting the NAT gateway, the internet gateway, a peering connection, an
///   instance or `blackhole`;
/// - max(2, N/50) custom NACLs holding exactly N entries split between inbound and outbound (the public and app
///   NACLs start with an allow-all rule each way); the VPC's default NACL is the implicit one;
/// - G security groups with 1–4 ingress rules each (cidr, another group, or a prefix list) and, for a third of
///   them, explicit egress rules;
/// - 3 instances, 3 Lambda functions (one in `app-a` and `app-b`), one outside host and one HTTPS flow from a
///   Lambda through the NAT gateway, which runs (`vpcsim run`) and succeeds.
/// References use ids or names at random. The same size and seed give byte-identical YAML.
public struct ScenarioGenerator: Sendable {
    public struct Size: Sendable, Equatable {
        public var subnets: Int
        public var routes: Int
        public var naclEntries: Int
        public var securityGroups: Int

        public init(subnets: Int, routes: Int, naclEntries: Int, securityGroups: Int) {
            self.subnets = subnets
            self.routes = routes
            self.naclEntries = naclEntries
            self.securityGroups = securityGroups
        }

        /// The "Fast at scale" benchmark size: 1,000 subnets, 10,000 routes, 5,000 NACL entries, 2,000 groups.
        public static let large = Size(subnets: 1000, routes: 10_000, naclEntries: 5000, securityGroups: 2000)
    }

    public let size: Size
    public let seed: UInt64

    public static let instanceCount = 3
    public static let lambdaCount = 3

    /// Valid sizes: at least 3 subnets, one route per route table, two entries per direction of a NACL's
    /// share, two security groups, and no more subnets than 250 per /16 across 10.0.0.0/8.
    public init(size: Size, seed: UInt64 = 1) {
        precondition(size.subnets >= 3 && size.subnets <= 250 * 256, "subnets must be 3…64000")
        precondition(size.securityGroups >= 2, "at least 2 security groups")
        self.size = size
        self.seed = seed
        precondition(size.routes >= routeTableCount, "at least one route per route table (\(routeTableCount))")
        precondition(size.naclEntries >= 4 * networkACLCount, "at least 4 entries per NACL (\(networkACLCount) NACLs)")
    }

    /// Route tables declared (one of them main).
    public var routeTableCount: Int { max(2, size.subnets / 10) }
    /// Custom network ACLs declared (the VPC's default NACL, implicit, comes on top).
    public var networkACLCount: Int { max(2, size.naclEntries / 50) }
    /// /16 CIDR blocks of the VPC.
    public var vpcBlockCount: Int { (size.subnets + 249) / 250 }

    /// The scenario as YAML text.
    public func yaml() -> String {
        var g = Emitter(seed: seed)
        return g.emit(self)
    }
}

/// The generator's state while writing one scenario.
private struct Emitter {
    var rng: SplitMix64
    var out = ""
    var usedIDs = Set<String>()

    init(seed: UInt64) { rng = SplitMix64(seed: seed ^ 0x5CE7_A210_0000_0001) }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }

    /// An AWS-looking id: prefix + 17 hex digits, unique within the file.
    mutating func id(_ prefix: String) -> String {
        while true {
            let hex = String(rng.next() & 0x0FFF_FFFF_FFFF_FFFF, radix: 16)
            let id = prefix + String(repeating: "0", count: max(0, 17 - hex.count)) + hex
            if usedIDs.insert(id).inserted { return id }
        }
    }

    /// The id or the name, at random (both are valid references; names are unique here).
    mutating func ref(_ id: String, _ name: String) -> String { chance(50) ? id : name }

    mutating func line(_ s: String) {
        out += s
        out += "\n"
    }

    static func address(_ v: UInt32) -> String { IPv4Address(rawValue: v).description }

    mutating func emit(_ gen: ScenarioGenerator) -> String {
        let size = gen.size
        let tables = gen.routeTableCount, acls = gen.networkACLCount, blocks = gen.vpcBlockCount
        let groups = size.securityGroups

        line("# Generated by ScenarioGenerator (vpcsim): \(size.subnets) subnets, \(size.routes) routes, "
             + "\(size.naclEntries) NACL entries, \(groups) security groups, seed \(gen.seed).")
        line("name: large-vpc-\(size.subnets)")
        line("description: generated scale scenario")
        line("seed: \(gen.seed)")
        line("start_time: 2026-11-26T09:00:00Z")

        // VPC and internet gateway.
        let vpcID = id("vpc-")
        let blockList = (0..<blocks).map { "10.\($0).0.0/16" }.joined(separator: ", ")
        line("vpcs:")
        line("  - {id: \(vpcID), name: main, cidr_blocks: [\(blockList)]}")
        let igwID = id("igw-")
        line("internet_gateways:")
        line("  - {id: \(igwID), name: main-igw, vpc: \(ref(vpcID, "main"))}")

        // Ids decided up front: route targets and associations refer to them.
        let natID = id("nat-")
        let tableIDs = (0..<tables).map { _ in id("rtb-") }
        let tableNames = (0..<tables).map { $0 == 0 ? "public-rt" : $0 == 1 ? "private-rt" : "rt-\($0)" }
        let aclIDs = (0..<acls).map { _ in id("acl-") }
        let aclNames = (0..<acls).map { $0 == 0 ? "public-nacl" : $0 == 1 ? "app-nacl" : "nacl-\($0)" }
        let sgIDs = (0..<groups).map { _ in id("sg-") }
        let sgNames = (0..<groups).map { $0 == 0 ? "lambda-sg" : "sg-group-\($0)" }
        let instanceIDs = (0..<ScenarioGenerator.instanceCount).map { _ in id("i-") }
        let instanceNames = (0..<ScenarioGenerator.instanceCount).map { "instance-\($0)" }

        // Route tables: exactly size.routes explicit routes.
        line("route_tables:")
        for t in 0..<tables {
            let count = size.routes / tables + (t < size.routes % tables ? 1 : 0)
            line("  - id: \(tableIDs[t])")
            line("    name: \(tableNames[t])")
            line("    vpc: \(ref(vpcID, "main"))")
            if t == 1 { line("    main: true") }
            line("    routes:")
            let defaultTarget = t == 0 ? ref(igwID, "main-igw") : ref(natID, "public-nat")
            line("      - {destination: 0.0.0.0/0, target: \(defaultTarget)}")
            var destinations = Set<UInt64>()
            for _ in 1..<max(1, count) {
                var dest: (UInt32, Int)
                repeat {
                    let prefix = 16 + int(13)  // /16 … /28
                    let base: UInt32, span: UInt32
                    if chance(50) { base = 0xAC10_0000; span = 1 << 20 } else { base = 0x6440_0000; span = 1 << 22 }
                    let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
                    dest = ((base + UInt32(truncatingIfNeeded: rng.next()) % span) & mask, prefix)
                } while !destinations.insert(UInt64(dest.0) << 8 | UInt64(dest.1)).inserted
                let target: String
                switch int(10) {
                case 0, 1, 2, 3: target = ref(natID, "public-nat")
                case 4, 5: target = ref(igwID, "main-igw")
                case 6, 7: target = "pcx-" + String(int(0xFFFF_FFFF) + 0x1000_0000, radix: 16)
                case 8:
                    let i = int(instanceIDs.count)
                    target = ref(instanceIDs[i], instanceNames[i])
                default: target = "blackhole"
                }
                line("      - {destination: \(Self.address(dest.0))/\(dest.1), target: \(target)}")
            }
        }

        // Network ACLs: exactly size.naclEntries entries.
        line("network_acls:")
        for a in 0..<acls {
            let count = size.naclEntries / acls + (a < size.naclEntries % acls ? 1 : 0)
            line("  - id: \(aclIDs[a])")
            line("    name: \(aclNames[a])")
            line("    vpc: \(ref(vpcID, "main"))")
            for (direction, n) in [("inbound", (count + 1) / 2), ("outbound", count / 2)] {
                line("    \(direction):")
                let step = max(1, min(10, 32000 / max(1, n)))
                for k in 0..<n {
                    let number = (k + 1) * step
                    if a < 2 && k == 0 {
                        line("      - {rule: \(number), protocol: all, cidr: 0.0.0.0/0, action: allow}")
                        continue
                    }
                    let action = chance(70) ? "allow" : "deny"
                    let cidr = randomCIDR()
                    switch int(10) {
                    case 0, 1, 2, 3, 4:
                        line("      - {rule: \(number), protocol: tcp, ports: \(randomPorts()), cidr: \(cidr), action: \(action)}")
                    case 5, 6:
                        line("      - {rule: \(number), protocol: udp, ports: \(randomPorts()), cidr: \(cidr), action: \(action)}")
                    case 7:
                        line("      - {rule: \(number), protocol: icmp, icmp_type: \(int(16)), icmp_code: \(int(2) == 0 ? -1 : int(16)), cidr: \(cidr), action: \(action)}")
                    case 8:
                        line("      - {rule: \(number), protocol: \(["all", "-1", "50", "47"][int(4)]), cidr: \(cidr), action: \(action)}")
                    default:
                        line("      - {rule: \(number), protocol: tcp, cidr: \(cidr), action: \(action)}")
                    }
                }
            }
        }

        // Security groups.
        line("security_groups:")
        for s in 0..<groups {
            line("  - id: \(sgIDs[s])")
            line("    name: \(sgNames[s])")
            line("    vpc: \(ref(vpcID, "main"))")
            if s == 0 {
                line("    ingress: []")
                continue
            }
            line("    description: generated group \(s)")
            line("    ingress:")
            var ports = Set<Int>()
            for _ in 0..<(1 + int(4)) {
                var port: Int
                repeat { port = 1 + int(65535) } while !ports.insert(port).inserted
                let proto = chance(80) ? "tcp" : "udp"
                switch int(10) {
                case 0, 1, 2, 3, 4:
                    line("      - {protocol: \(proto), ports: \(port), cidr: \(randomCIDR())}")
                case 5, 6, 7, 8:
                    let other = int(groups)
                    line("      - {protocol: \(proto), ports: \(port), security_group: \(ref(sgIDs[other], sgNames[other]))}")
                default:
                    let pl = "pl-" + String(int(0x0FFF_FFFF) + 0x1000_0000, radix: 16)
                    line("      - {protocol: \(proto), ports: \(port), prefix_list: {id: \(pl), cidrs: [\(randomCIDR()), \(randomCIDR())]}}")
                }
            }
            if chance(33) {
                line("    egress:")
                line("      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0, description: https out}")
                let other = int(groups)
                line("      - {protocol: all, security_group: \(ref(sgIDs[other], sgNames[other]))}")
            }
        }

        // Subnets: public, app-a, app-b, then the rest in shuffled slot order.
        line("subnets:")
        var slots = Array(3..<(blocks * 250))
        for i in stride(from: slots.count - 1, to: 0, by: -1) { slots.swapAt(i, int(i + 1)) }
        let zones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]
        var subnetIDs: [String] = []
        for i in 0..<size.subnets {
            let sid = id("subnet-")
            subnetIDs.append(sid)
            let slot = i < 3 ? i : slots[i - 3]
            let cidr = "10.\(slot / 250).\(slot % 250).0/24"
            var item = "  - {id: \(sid), "
            let name = i == 0 ? "public" : i == 1 ? "app-a" : i == 2 ? "app-b" : "subnet-name-\(i)"
            item += "name: \(name), vpc: \(ref(vpcID, "main")), cidr: \(cidr), availability_zone: \(zones[int(zones.count)])"
            if i == 0 {
                item += ", route_table: \(ref(tableIDs[0], tableNames[0])), network_acl: \(ref(aclIDs[0], aclNames[0]))"
            } else if i < 3 {
                item += ", network_acl: \(ref(aclIDs[1], aclNames[1]))"
            } else {
                if chance(80) {
                    let t = 1 + int(tables - 1)
                    item += ", route_table: \(ref(tableIDs[t], tableNames[t]))"
                }
                if chance(80) {
                    let a = int(acls)
                    item += ", network_acl: \(ref(aclIDs[a], aclNames[a]))"
                }
            }
            line(item + "}")
        }

        line("nat_gateways:")
        line("  - {id: \(natID), name: public-nat, subnet: \(ref(subnetIDs[0], "public")), connectivity: public, "
             + "elastic_ip: 198.51.100.7}")

        line("instances:")
        for i in 0..<ScenarioGenerator.instanceCount {
            let subnet = otherSubnet(size.subnets)
            let sg1 = 1 + int(groups - 1)
            var sgs = [ref(sgIDs[sg1], sgNames[sg1])]
            if groups > 2 {
                var sg2: Int
                repeat { sg2 = 1 + int(groups - 1) } while sg2 == sg1
                sgs.append(ref(sgIDs[sg2], sgNames[sg2]))
            }
            line("  - {id: \(instanceIDs[i]), name: \(instanceNames[i]), subnet: \(subnetIDs[subnet]), "
                 + "security_groups: [\(sgs.joined(separator: ", "))]}")
        }

        line("lambdas:")
        line("  - {name: uploader, subnets: [app-a, app-b], security_groups: [lambda-sg], timeout: 30}")
        for l in 1..<ScenarioGenerator.lambdaCount {
            let s1 = otherSubnet(size.subnets)
            let g = 1 + int(groups - 1)
            line("  - {name: worker-\(l), subnets: [\(subnetIDs[s1])], security_groups: [lambda-sg, "
                 + "\(ref(sgIDs[g], sgNames[g]))]}")
        }

        line("outside_hosts:")
        line("  - {name: api.example.com, ip: 203.0.113.10, rtt_ms: 20, ports: {443: https}}")
        line("flows:")
        line("  - {name: api-call, from: uploader, to: \"api.example.com:443\", app: https, size: 10KB, "
             + "expect: {outcome: ok, no_drop: true}}")
        return out
    }

    /// A random subnet past public, app-a and app-b (one of the app subnets when there are no others).
    mutating func otherSubnet(_ count: Int) -> Int { count > 3 ? 3 + int(count - 3) : 1 + int(2) }

    /// A random CIDR, /8 to /32, host bits clear.
    mutating func randomCIDR() -> String {
        let prefix = 8 + int(25)
        let mask: UInt32 = ~UInt32(0) << UInt32(32 - prefix)
        return "\(Self.address(UInt32(truncatingIfNeeded: rng.next()) & mask))/\(prefix)"
    }

    /// One port or a range "low-high".
    mutating func randomPorts() -> String {
        let a = int(65536)
        if chance(50) { return "\(a)" }
        let b = a + int(65536 - a)
        return "\(a)-\(b)"
    }
}
