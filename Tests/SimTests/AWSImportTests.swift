import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// `AWSImporter`: AWS CLI JSON dumps → scenarios that load, carry the dump's resources, and behave as the real
/// topology would.
@Suite struct AWSImportTests {
    static let batfish = Fixtures.reference("public/aws-json/batfish_test-nat-gateway")
    static let synthetic = Fixtures.path("aws-json/synthetic/full")
    static let broken = Fixtures.path("aws-json/broken")

    /// The items under a top-level key of the dump's JSON files, counted independently of the importer.
    static func dumpItems(_ dir: String, _ key: String) throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        for f in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where f.hasSuffix(".json") {
            let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + f)))
            if let top = o as? [String: Any], let list = top[key] as? [[String: Any]] { out += list }
        }
        return out
    }

    static func load(_ i: AWSImport) throws -> Scenario { try ScenarioLoader.load(yaml: i.yaml, file: "imported.yaml") }

    static func host(_ name: String, _ address: String, ports: [UInt16: PortBehaviour]) -> OutsideHost {
        OutsideHost(name: name, address: IPv4Address(address)!, ports: ports, otherPorts: .closed, rtt: 20_000_000,
                    stack: .linux, mac: MACAddress(rawValue: 0x0A00_0000_0000 | UInt64(IPv4Address(address)!.rawValue)))
    }

    static func run(_ s: Scenario, _ flow: FlowSpec) -> FlowResult {
        var s = s
        s.flows = [flow]
        let sim = Simulation(scenario: s)
        let rec = RunRecorder(sim: sim, captures: nil)
        sim.observer = rec
        return sim.run()[0]
    }

    static func to(_ address: String, _ port: UInt16) -> FlowDestination {
        FlowDestination(address: IPv4Address(address)!, port: port, label: "\(address):\(port)")
    }

    // MARK: The Batfish dump (a real account: VPC 10.1.0.0/16, public / private / isolated subnets, NAT, IGW)

    @Test func batfishDumpLoadsWithEverySubnetRouteNACLEntrySecurityGroupRuleAndENIOfTheDump() throws {
        let imported = try AWSImporter.importDirectory(Self.batfish)
        let m = try Self.load(imported).model
        let dir = Self.batfish

        let subnets = try Self.dumpItems(dir, "Subnets")
        #expect(m.subnets.count == subnets.count)
        #expect(Set(m.subnets.map(\.id)) == Set(subnets.compactMap { $0["SubnetId"] as? String }))

        let routes = try Self.dumpItems(dir, "RouteTables").flatMap { ($0["Routes"] as? [[String: Any]]) ?? [] }
        let localRoutes = routes.filter { $0["GatewayId"] as? String == "local" }
        #expect(m.routeTables.flatMap(\.routes).count == routes.count)  // 5
        #expect(m.routeTables.flatMap(\.routes).filter { $0.target == .local }.count == localRoutes.count)  // 3
        #expect(imported.counts.routes == routes.count && imported.counts.localRoutes == localRoutes.count)

        // NACL entries, except the `*` (32767) ones the loader adds itself to every NACL.
        let entries = try Self.dumpItems(dir, "NetworkAcls").flatMap { ($0["Entries"] as? [[String: Any]]) ?? [] }
        let stars = entries.filter { $0["RuleNumber"] as? Int == 32767 }
        #expect(stars.count == 4)
        #expect(m.networkACLs.reduce(0) { $0 + $1.inbound.count + $1.outbound.count } == entries.count - stars.count)  // 5
        #expect(imported.counts.naclImplicitDenyEntries == stars.count)

        var ruleCount = 0
        for g in try Self.dumpItems(dir, "SecurityGroups") {
            for key in ["IpPermissions", "IpPermissionsEgress"] {
                for p in (g[key] as? [[String: Any]]) ?? [] {
                    for peers in ["IpRanges", "PrefixListIds", "UserIdGroupPairs"] { ruleCount += ((p[peers] as? [Any]) ?? []).count }
                }
            }
        }
        #expect(m.securityGroups.reduce(0) { $0 + $1.ingress.count + $1.egress.count } == ruleCount)  // 7

        let enis = try Self.dumpItems(dir, "NetworkInterfaces")
        #expect(m.enis.count == enis.count)  // 3 instances + the NAT gateway
        #expect(imported.counts.networkInterfacesInDump == enis.count && imported.counts.networkInterfaces == enis.count)
        #expect(Set(m.enis.map { $0.privateIP.description }) == Set(enis.compactMap { $0["PrivateIpAddress"] as? String }))
    }

    @Test func batfishIdsNamesMainTableNATAndPublicAddressesAreKept() throws {
        let imported = try AWSImporter.importDirectory(Self.batfish)
        let m = try Self.load(imported).model
        #expect(m.vpcs.map(\.id) == ["vpc-0008a7b45e3ddf1dd"])
        #expect(m.vpcs[0].name == "vpc_a")
        #expect(m.routeTables[m.vpcs[0].mainRouteTable].id == "rtb-0e169c4a1e0b27b55")
        #expect(m.natGateways.map(\.id) == ["nat-07ab4846da51f4612"])
        let natENI = m.enis[m.natGateways[0].eni]
        #expect(natENI.privateIP == IPv4Address("10.1.250.210") && natENI.publicIP == IPv4Address("3.135.127.225"))
        let jump = try #require(m.instances.first { $0.name == "Jump Host" })
        #expect(m.enis[jump.eni].publicIP == IPv4Address("18.216.129.140"))
        #expect(m.internetGateways[0].vpc == 0)
        // Every rule is said exactly, the ICMP type 8 security-group rule too.
        #expect(imported.warnings.isEmpty, "\(imported.warnings)")
        #expect(m.securityGroups.first { $0.id == "sg-0253af84ae6485905" }?.ingress.contains { $0.icmpType == 8 } == true)
        #expect(imported.yaml.hasPrefix("# Imported by `vpcsim import aws` from "))
        #expect(imported.yaml.contains("vpcsim trace"))
        #expect(!imported.yaml.contains("\nflows:") && !imported.yaml.contains("\noutside_hosts:"))
    }

    @Test func batfishSSHFromTheInternetReachesTheJumpHostsPublicIP() throws {
        var s = try Self.load(AWSImporter.importDirectory(Self.batfish))
        s.model.outsideHosts.append(Self.host("laptop", "203.0.113.50", ports: [:]))
        let r = Self.run(s, FlowSpec(name: "ssh", source: .outsideHost(0), sourceLabel: "host laptop",
                                     destination: Self.to("18.216.129.140", 22), app: .tcp, size: 2_000))
        #expect(r.outcome == .ok, "\(r.message) \(r.drop.map { $0.componentDisplay + " " + $0.rule } ?? "")")
        #expect(r.requestPath.contains { $0.kind == .internetGateway && $0.component == "igw-071753b9c23d8a9b2" })
        #expect(r.requestPath.contains { $0.kind == .securityGroupIngress && $0.component == "sg-0253af84ae6485905" })
        #expect(r.drop == nil)
    }

    @Test func batfishPrivateInstanceReachesTheInternetThroughTheNATGateway() throws {
        var s = try Self.load(AWSImporter.importDirectory(Self.batfish))
        s.model.outsideHosts.append(Self.host("dns.google", "8.8.8.8", ports: [443: .listen(app: "https")]))
        let test1 = try #require(s.model.instances.firstIndex { $0.name == "test1" })
        let r = Self.run(s, FlowSpec(name: "out", source: .instance(test1), sourceLabel: "instance test1",
                                     destination: Self.to("8.8.8.8", 443), app: .https, size: 5_000))
        #expect(r.outcome == .ok, "\(r.message)")
        let nat = try #require(r.requestPath.first { $0.kind == .natGateway })
        #expect(nat.component == "nat-07ab4846da51f4612")
        #expect(nat.action == .translated)
        #expect(r.requestPath.contains { $0.kind == .route && $0.component == "rtb-02fe228b42de92a7c" })
    }

    @Test func batfishIsolatedSubnetTimesOutDroppedAtItsMainRouteTable() throws {
        var s = try Self.load(AWSImporter.importDirectory(Self.batfish))
        s.model.outsideHosts.append(Self.host("dns.google", "8.8.8.8", ports: [443: .listen(app: "https")]))
        let test20 = try #require(s.model.instances.firstIndex { $0.name == "test20" })
        let r = Self.run(s, FlowSpec(name: "out", source: .instance(test20), sourceLabel: "instance test20",
                                     destination: Self.to("8.8.8.8", 443), app: .https))
        #expect(r.outcome == .timeout)
        #expect(r.drop?.component == "rtb-0e169c4a1e0b27b55")
        #expect(r.drop?.kind == Step.Kind.route.rawValue)
        #expect(!r.requestPath.contains { $0.kind == .natGateway })
    }

    // MARK: Synthetic dump: every file kind

    @Test func syntheticDumpCarriesLambdaHyperplaneENIPrefixListsBlackholesPeeringAndNATSecondaries() throws {
        let imported = try AWSImporter.importDirectory(Self.synthetic)
        let s = try Self.load(imported)
        let m = s.model
        // The Lambda function keeps its Hyperplane ENI's address; get-function-configuration repeats it, once.
        #expect(m.lambdas.map(\.name) == ["uploader"])
        let uploader = m.lambdas[0]
        #expect(m.enis[uploader.enis[0]].privateIP == IPv4Address("10.0.1.10"))
        #expect(uploader.timeout == 30_000_000_000)
        #expect(m.securityGroups[uploader.securityGroups[0]].id == "sg-0d1e2f3a4b5c6d7e8")

        let priv = try #require(m.routeTables.first { $0.id == "rtb-0123456789abcdef0" })
        func target(_ rt: RouteTableSpec, _ c: String) -> Route.Target? { rt.routes.first { $0.destination == (try! IPv4CIDR(parsing: c)) }?.target }
        // A prefix-list destination: one route per CIDR of the list (entries from the file named after it).
        #expect(target(priv, "203.0.113.0/24") == .natGateway(0) && target(priv, "192.0.2.0/24") == .natGateway(0))
        #expect(target(priv, "10.50.0.0/16") == .blackhole(was: nil))        // State: blackhole
        #expect(target(priv, "172.16.0.0/12") == .notModeled("tgw-0123456789abcdef0"))  // transit gateway: not modeled
        #expect(target(priv, "10.60.0.0/16") == .peering("pcx-0a1b2c3d4e5f60718"))
        let pub = try #require(m.routeTables.first { $0.id == "rtb-0f1e2d3c4b5a69788" })
        #expect(target(pub, "52.216.0.0/15") == .vpcEndpoint(0))  // S3 gateway endpoint, list found in a subdirectory
        #expect(pub.routes.first { $0.destination == cidr("52.216.0.0/15") }?.prefixList == "pl-63a5400a")
        #expect(m.vpcEndpoints.map(\.id) == ["vpce-0123456789abcdef0", "vpce-0fedcba9876543210"] && m.vpcEndpoints[0].service == "s3")
        #expect(m.vpcEndpoints[0].routeTables == [m.routeTables.firstIndex { $0.id == "rtb-0f1e2d3c4b5a69788" }!])
        #expect(m.vpcEndpoints[0].prefixListCIDRs == [cidr("52.216.0.0/15"), cidr("3.5.0.0/19")])
        #expect(pub.routes.count == 4 && pub.ipv6Routes.count == 2)           // ::/0 and the IPv6 local route apart

        let bastion = try #require(m.securityGroups.first { $0.id == "sg-0a1a2a3a4a5a6a7a8" })
        #expect(bastion.ingress.contains { $0.peer == .prefixList(id: "pl-0f1e2d3c4b5a69788", cidrs: [cidr("203.0.113.0/24"), cidr("192.0.2.0/24")]) })
        let app = try #require(m.securityGroups.first { $0.id == "sg-0b1b2b3b4b5b6b7b8" })
        #expect(app.ingress.map(\.peer) == [.securityGroup(m.securityGroups.firstIndex { $0.id == "sg-0a1a2a3a4a5a6a7a8" }!)])
        let privateACL = try #require(m.networkACLs.first { $0.id == "acl-0c1d2e3f4a5b6c7d8" })
        #expect(privateACL.inbound.map(\.number) == [80, 90, 100])
        #expect(privateACL.inbound[1].icmpType == 3 && privateACL.inbound[1].icmpCode == 4)
        #expect(privateACL.inbound[0].ports == PortRange(53, 53) && privateACL.inbound[0].action == .deny)
        #expect(m.natGateways[0].secondaryPrivateIPs == [IPv4Address("10.0.0.6")!])
        #expect(m.natGateways[0].secondaryElasticIPs == [IPv4Address("198.51.100.8")!])
        #expect(imported.counts.naclImplicitDenyEntries == 8)                // IPv4 32767 and IPv6 32768 `*` entries
        #expect(imported.counts.prefixLists == 2)
        #expect(m.enis.count == 5 && imported.counts.networkInterfacesInDump == 5)  // the interface endpoint's ENI too
        #expect(imported.files.contains { $0.path.hasSuffix("README.txt") } == false)
    }

    @Test func syntheticDumpWarnsAboutIPv6TransitGatewayEndpointsPeeringAndTheRestByID() throws {
        let w = try AWSImporter.importDirectory(Self.synthetic).warnings
        func has(_ kind: ImportWarning.Kind, _ id: String, _ text: String = "") -> Bool {
            w.contains { $0.kind == kind && $0.id == id && (text.isEmpty || $0.message.contains(text)) }
        }
        // IPv6 blocks, routes and rules are imported (AWSImportIPv6Tests): no warning for them.
        #expect(!has(.ipv6, "vpc-0a1b2c3d4e5f60718") && !has(.ipv6, "rtb-0f1e2d3c4b5a69788"))
        #expect(has(.unsupportedTarget, "rtb-0123456789abcdef0", "tgw-0123456789abcdef0 (transit gateway)"))
        // The S3 gateway endpoint is imported: no warning for it or its routes.
        #expect(!w.contains { $0.message.contains("vpce-0123456789abcdef0") || $0.id == "vpce-0123456789abcdef0" })
        // The interface endpoint and its ENI are imported too (InterfaceEndpointTests).
        #expect(!w.contains { $0.id == "vpce-0fedcba9876543210" || $0.id == "eni-0d0d0d0d0d0d0d0d1" })
        #expect(has(.notModelled, "report", "not connected to a VPC"))
        #expect(has(.peering, "pcx-0a1b2c3d4e5f60718"))
        #expect(has(.missingReference, "sg-0b1b2b3b4b5b6b7b8", "sg-0999999999999999a"))
        // A security-group ICMP rule keeps its type (FromPort 8; ToPort -1: all codes): no warning.
        #expect(!has(.approximated, "sg-0a1a2a3a4a5a6a7a8", "ICMP"))
        #expect(has(.inactive, "vpc-0a1b2c3d4e5f60718", "100.64.0.0/16"))
        #expect(has(.notModelled, "eipalloc-0c1b2c3d4e5f60718", "198.51.100.99"))
        #expect(!w.contains { $0.message.contains("32768") })                 // the IPv6 `*` entries are implicit too
    }

    @Test func syntheticLambdaReproducesTheStoryHTTPSOkSFTPDroppedAtThePublicNACLOutbound() throws {
        var s = try Self.load(AWSImporter.importDirectory(Self.synthetic))
        s.model.outsideHosts.append(Self.host("sftp.example.com", "203.0.113.22", ports: [22: .listen(app: "sftp"), 443: .listen(app: "https")]))
        let eni = s.model.lambdas[0].enis[0]
        let https = Self.run(s, FlowSpec(name: "https", source: .lambda(0, eni: eni), sourceLabel: "lambda uploader",
                                         destination: Self.to("203.0.113.22", 443), app: .https, size: 5_000))
        #expect(https.outcome == .ok, "\(https.message)")
        let sftp = Self.run(s, FlowSpec(name: "sftp", source: .lambda(0, eni: eni), sourceLabel: "lambda uploader",
                                        destination: Self.to("203.0.113.22", 22), app: .sftp, size: 5_000))
        #expect(sftp.outcome == .timeout)
        #expect(sftp.drop?.component == "acl-0b1c2d3e4f5a6b7c8")
        #expect(sftp.drop?.direction == "outbound")
    }

    @Test func importIsDeterministic() throws {
        #expect(try AWSImporter.importDirectory(Self.synthetic).yaml == AWSImporter.importDirectory(Self.synthetic).yaml)
    }

    // MARK: Broken dumps

    @Test func missingDirectoryIsAnErrorNamingIt() {
        #expect(throws: AWSImportError(file: "/no/such/dump", line: 0, column: 0,
                                       message: "cannot read the dump: No such file or directory")) {
            try AWSImporter.importDirectory("/no/such/dump")
        }
    }

    @Test func emptyDirectoryIsAnErrorNotAnEmptyScenario() throws {
        let dir = makeTempDirectory("aws-empty")
        try "not json".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        do {
            _ = try AWSImporter.importDirectory(dir)
            Issue.record("expected an error")
        } catch let e as AWSImportError {
            #expect(e.file == dir)
            #expect(e.message.contains("no JSON files"))
        }
    }

    @Test func malformedJSONNamesTheFileLineAndColumn() throws {
        do {
            _ = try AWSImporter.importDirectory(Self.broken + "/malformed")
            Issue.record("expected an error")
        } catch let e as AWSImportError {
            #expect(e.file.hasSuffix("broken/malformed/describe-subnets.json"))
            #expect(e.line == 5 && e.column == 13)  // the "SubnetId" after a missing comma
            #expect(e.description.split(separator: "\n").count == 1)
            #expect(e.message.hasPrefix("malformed JSON"))
        }
    }

    @Test func truncatedJSONIsReportedAtTheEndOfTheFileAndAWrongTypeAtItsKey() throws {
        let dir = makeTempDirectory("aws-truncated")
        try "{\n  \"Vpcs\": [\n    {\"VpcId\": \"vpc-1\"".write(toFile: dir + "/vpcs.json", atomically: true, encoding: .utf8)
        #expect(throws: AWSImportError(file: dir + "/vpcs.json", line: 3, column: 22, message: "malformed JSON: Unexpected end of file during JSON parse")) {
            try AWSImporter.importDirectory(dir)
        }
        try "{\n  \"Subnets\": {}\n}".write(toFile: dir + "/vpcs.json", atomically: true, encoding: .utf8)
        #expect(throws: AWSImportError(file: dir + "/vpcs.json", line: 2, column: 3, message: "\"Subnets\" is not a list")) {
            try AWSImporter.importDirectory(dir)
        }
    }

    /// The synthetic dump routes 10.60.0.0/16 to a peering connection, 172.16.0.0/12 to a transit gateway and S3's
    /// prefix list to a gateway endpoint: imported as those targets, and a flow routed there ends not-modeled.
    @Test func importedPeeringTransitAndEndpointRoutesRunToNotModeled() throws {
        let imported = try AWSImporter.importDirectory(Fixtures.path("aws-json/synthetic/full"))
        var s = try ScenarioLoader.load(yaml: imported.yaml, file: "imported.yaml")
        for (address, target) in [("10.60.1.2", "pcx-0a1b2c3d4e5f60718"), ("172.16.5.9", "tgw-0123456789abcdef0")] {
            let lambda = s.model.lambdas.firstIndex { $0.name == "uploader" }!
            s.flows = [FlowSpec(name: "f", source: .lambda(lambda, eni: s.model.lambdas[lambda].enis[0]), sourceLabel: "uploader",
                                destination: FlowDestination(address: IPv4Address(address)!, port: 22, label: address),
                                app: .tcp)]
            var o = Runner.Options(writeFiles: false)
            o.flowLogs = false
            let out = try Runner.run(scenario: s, options: o)
            #expect(out.report.flows[0].outcome == "not-modeled")
            #expect(out.report.flows[0].message.contains(target))
            #expect(out.report.flows[0].fix == nil)
        }
        // What the warnings say is what was written.
        for w in imported.warnings where w.message.contains("not-modeled target") {
            #expect(!w.message.contains("blackhole"), "\(w)")
        }
        #expect(imported.warnings.contains { $0.message.contains("tgw-0123456789abcdef0 (transit gateway) is not modeled; imported as a not-modeled target") })
        #expect(!imported.warnings.contains { $0.message.contains("imported as blackhole") && $0.message.contains("tgw-") })
    }

    @Test func missingReferencesBecomeWarningsWithModelledConsequencesAndTheResultStillLoads() throws {
        let imported = try AWSImporter.importDirectory(Self.broken + "/missing-references")
        let m = try Self.load(imported).model
        let w = imported.warnings
        func has(_ kind: ImportWarning.Kind, _ id: String, _ text: String) -> Bool {
            w.contains { $0.kind == kind && $0.id == id && $0.message.contains(text) }
        }
        // A route to a NAT gateway / internet gateway not in the dump: blackhole; to an ENI not in the dump: kept as
        // a target outside the model.
        let rt = try #require(m.routeTables.first { $0.id == "rtb-0b0b0b0b0b0b0b0b1" })
        #expect(rt.routes.filter { $0.target == .blackhole(was: nil) }.count == 2)
        #expect(rt.routes.filter { $0.target == .notModeled("eni-0missing000000000") }.count == 1)
        #expect(has(.missingReference, "rtb-0b0b0b0b0b0b0b0b1", "nat-0missing000000000"))
        #expect(has(.missingReference, "rtb-0b0b0b0b0b0b0b0b1", "pl-0abc0abc0abc0abc0"))
        #expect(imported.yaml.contains("target: blackhole}  # was nat-0missing000000000"))
        // A subnet of an unknown VPC, a NAT gateway and an instance in an unknown subnet: skipped.
        #expect(m.subnets.map(\.id) == ["subnet-0b0b0b0b0b0b0b0b1", "subnet-0b0b0b0b0b0b0b0b3"])
        #expect(has(.missingReference, "subnet-0b0b0b0b0b0b0b0b2", "vpc-0missing00000000000"))
        #expect(m.natGateways.isEmpty && has(.missingReference, "nat-0b0b0b0b0b0b0b0b1", "subnet-0nowhere000000000"))
        #expect(m.instances.isEmpty)
        #expect(has(.missingReference, "i-0b0b0b0b0b0b0b0b2", "subnet-0nowhere000000000"))
        // A security-group reference to a missing group: that rule skipped, the others kept.
        #expect(m.securityGroups[0].ingress.count == 1)
        #expect(has(.missingReference, "sg-0b0b0b0b0b0b0b0b1", "sg-0missing000000000"))
        // Repairs the loader would otherwise refuse: host bits, no main table, a 1200 s timeout.
        #expect(has(.repaired, "subnet-0b0b0b0b0b0b0b0b3", "10.9.2.0/24"))
        #expect(m.routeTables[m.vpcs[0].mainRouteTable].id == "rtb-main-of-vpc-0b0b0b0b0b0b0b0b0")
        #expect(m.lambdas.map(\.name) == ["worker"] && m.lambdas[0].timeout == 900_000_000_000)
        #expect(has(.missingReference, "orphan", "left out"))
    }

    @Test func unknownJSONFilesAreWarnedAboutAndIgnored() throws {
        let dir = makeTempDirectory("aws-unknown")
        try FileManager.default.copyItem(atPath: Self.batfish + "/Vpcs.json", toPath: dir + "/v.json")
        try "{\"name\": \"left-pad\"}".write(toFile: dir + "/package.json", atomically: true, encoding: .utf8)
        let imported = try AWSImporter.importDirectory(dir)
        #expect(imported.warnings.contains { $0.kind == .unrecognisedFile && $0.id.hasSuffix("package.json") })
        #expect(imported.files.count == 2)
        _ = try Self.load(imported)
    }

    @Test func lambdaENIDescriptionsNameTheirFunctionAndPrefixListIdsComeFromThePath() {
        #expect(AWSConverter.lambdaFunctionName(fromENIDescription: "AWS Lambda VPC ENI-my-fn-3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d") == "my-fn")
        #expect(AWSConverter.lambdaFunctionName(fromENIDescription: "AWS Lambda VPC ENI-legacy") == "legacy")
        #expect(AWSConverter.lambdaFunctionName(fromENIDescription: "ELB app/x") == nil)
        #expect(AWSDump.prefixListID(in: "d/get-managed-prefix-list-entries-pl-0f1e2d3c.json") == "pl-0f1e2d3c")
        #expect(AWSDump.prefixListID(in: "d/prefix-lists/pl-63a5400a.json") == "pl-63a5400a")
        #expect(AWSDump.prefixListID(in: "d/entries.json") == nil)
    }
}
