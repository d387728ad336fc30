// vpcsim-bench tgw-account [RUNS] [KEEP-DIR] | vpcsim-bench tgw-flows [FLOWS]: an imported account of 50 VPCs on one
// transit gateway (50 attachments, 10,000 static routes): its import, load and validation, and a fleet of flows
// across the gateway.
import Foundation
import Sim
#if canImport(Glibc)
import Glibc
#endif

enum TGWBench {
    static let vpcs = 50
    static let staticRoutes = 10_000

    /// An AWS CLI dump (the files `scripts/dump-aws.sh` writes) of `vpcs` VPCs 10.V.0.0/16, each with an app subnet
    /// and two attachment subnets (us-east-1a, us-east-1b), a main route table sending 10.0.0.0/8 to the gateway,
    /// an instance (10.V.1.10) whose group admits TCP from 10.0.0.0/8; one transit gateway with an attachment per
    /// VPC, one route table associated with and propagated from all of them, and `staticRoutes` static /24 routes
    /// in 100.64.0.0/10 (one in ten a blackhole); a Lambda function in VPC 1.
    static func dump() -> [(name: String, json: Any)] {
        let tgw = "tgw-0b0000000000000001"
        let rtb = "tgw-rtb-0b000000000000001"
        func hex(_ v: Int, _ width: Int = 12) -> String {
            let h = String(v, radix: 16)
            return String(repeating: "0", count: max(0, width - h.count)) + h
        }
        func vpc(_ v: Int) -> String { "vpc-0a\(hex(v))" }
        func subnet(_ v: Int, _ k: Int) -> String { "subnet-0a\(hex(v * 4 + k))" }
        func attachment(_ v: Int) -> String { "tgw-attach-0a\(hex(v))" }
        func sg(_ v: Int) -> String { "sg-0a\(hex(v))" }
        func name(_ n: String) -> [[String: String]] { [["Key": "Name", "Value": n]] }
        let range = 1...vpcs
        var subnets: [[String: Any]] = [], routeTables: [[String: Any]] = [], groups: [[String: Any]] = []
        var instances: [[String: Any]] = [], attachments: [[String: Any]] = [], vpcAttachments: [[String: Any]] = []
        var routes: [[String: Any]] = [], propagations: [[String: Any]] = []
        for v in range {
            for (k, (cidr, az, n)) in [("10.\(v).1.0/24", "us-east-1a", "app"), ("10.\(v).255.0/28", "us-east-1a", "tgw-1a"),
                                       ("10.\(v).255.16/28", "us-east-1b", "tgw-1b")].enumerated() {
                subnets.append(["SubnetId": subnet(v, k), "VpcId": vpc(v), "CidrBlock": cidr, "AvailabilityZone": az,
                                "State": "available", "Tags": name("vpc\(v)-\(n)")])
            }
            routeTables.append(["RouteTableId": "rtb-0a\(hex(v))", "VpcId": vpc(v), "Tags": name("vpc\(v)-main"),
                                 "Associations": [["Main": true, "AssociationState": ["State": "associated"]]],
                                 "Routes": [["DestinationCidrBlock": "10.\(v).0.0/16", "GatewayId": "local", "State": "active"],
                                            ["DestinationCidrBlock": "10.0.0.0/8", "TransitGatewayId": tgw, "State": "active"]]])
            groups.append(["GroupId": sg(v), "GroupName": "vpc\(v)-hosts", "VpcId": vpc(v), "Description": "hosts",
                           "IpPermissions": [["IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535,
                                              "IpRanges": [["CidrIp": "10.0.0.0/8"]]]],
                           "IpPermissionsEgress": [["IpProtocol": "-1", "IpRanges": [["CidrIp": "0.0.0.0/0"]]]]])
            instances.append(["InstanceId": "i-0a\(hex(v, 15))", "SubnetId": subnet(v, 0), "VpcId": vpc(v),
                              "PrivateIpAddress": "10.\(v).1.10", "State": ["Name": "running"],
                              "SecurityGroups": [["GroupId": sg(v)]], "Tags": name("host-\(v)")])
            attachments.append(["TransitGatewayAttachmentId": attachment(v), "TransitGatewayId": tgw, "ResourceType": "vpc",
                                "ResourceId": vpc(v), "State": "available", "Tags": name("vpc\(v)"),
                                "Association": ["TransitGatewayRouteTableId": rtb, "State": "associated"]])
            vpcAttachments.append(["TransitGatewayAttachmentId": attachment(v), "TransitGatewayId": tgw, "VpcId": vpc(v),
                                   "State": "available", "SubnetIds": [subnet(v, 1), subnet(v, 2)],
                                   "Options": ["ApplianceModeSupport": "disable", "DnsSupport": "enable"]])
            propagations.append(["TransitGatewayAttachmentId": attachment(v), "ResourceId": vpc(v), "ResourceType": "vpc",
                                 "State": "enabled"])
            routes.append(["DestinationCidrBlock": "10.\(v).0.0/16", "Type": "propagated", "State": "active",
                           "TransitGatewayAttachments": [["TransitGatewayAttachmentId": attachment(v), "ResourceType": "vpc",
                                                          "ResourceId": vpc(v)]]])
        }
        for i in 0..<staticRoutes {
            let cidr = "100.\(64 + i / 256).\(i % 256).0/24"
            if i % 10 == 9 {
                routes.append(["DestinationCidrBlock": cidr, "Type": "static", "State": "blackhole"])
            } else {
                let v = 1 + i % vpcs
                routes.append(["DestinationCidrBlock": cidr, "Type": "static", "State": "active",
                               "TransitGatewayAttachments": [["TransitGatewayAttachmentId": attachment(v), "ResourceType": "vpc",
                                                              "ResourceId": vpc(v)]]])
            }
        }
        return [
            ("describe-vpcs", ["Vpcs": range.map { ["VpcId": vpc($0), "CidrBlock": "10.\($0).0.0/16", "State": "available",
                                                    "Tags": name("vpc\($0)")] }]),
            ("describe-subnets", ["Subnets": subnets]),
            ("describe-route-tables", ["RouteTables": routeTables]),
            ("describe-security-groups", ["SecurityGroups": groups]),
            ("describe-instances", ["Reservations": [["Instances": instances]]]),
            ("describe-transit-gateways", ["TransitGateways": [["TransitGatewayId": tgw, "State": "available",
                                                                "Tags": name("hub")]]]),
            ("describe-transit-gateway-attachments", ["TransitGatewayAttachments": attachments]),
            ("describe-transit-gateway-vpc-attachments", ["TransitGatewayVpcAttachments": vpcAttachments]),
            ("describe-transit-gateway-route-tables", ["TransitGatewayRouteTables": [
                ["TransitGatewayRouteTableId": rtb, "TransitGatewayId": tgw, "State": "available", "Tags": name("all")]]]),
            ("get-transit-gateway-route-table-propagations-\(rtb)", ["TransitGatewayRouteTablePropagations": propagations]),
            ("search-transit-gateway-routes-\(rtb)", ["Routes": routes, "AdditionalRoutesAvailable": false]),
            ("lambda-list-functions", ["Functions": [["FunctionName": "caller", "Timeout": 900,
                                                      "VpcConfig": ["SubnetIds": [subnet(1, 0)], "SecurityGroupIds": [sg(1)],
                                                                    "VpcId": vpc(1)]]]]),
        ]
    }

    /// The dump written under `dir`, imported; returns the scenario's YAML and the import's time and warnings.
    static func importAccount(into dir: String) throws -> (yaml: String, seconds: Double, imported: AWSImport) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, json) in dump() {
            try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: "\(dir)/\(name).json"))
        }
        let t0 = monotonicNanos()
        let imported = try AWSImporter.importDirectory(dir)
        let t1 = monotonicNanos()
        return (imported.yaml, Double(t1 - t0) / 1e9, imported)
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// `tgw-account`: import once, then load and validate the scenario (`ScenarioLoader.load(path:)`) and build its
    /// network (`Simulation(scenario:)`: the route tables and the gateway's lookup index compiled) `runs` times.
    static func account(runs: Int, keep: String?) throws {
        let dir = keep ?? "/tmp/vpcsim-bench-tgw-\(getpid())"
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let (yaml, importSeconds, imported) = try importAccount(into: dir + "/dump")
        let path = dir + "/account.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let warm = try ScenarioLoader.load(path: path)
        let m = warm.model
        print("tgw-account: \(m.vpcs.count) VPCs, \(m.subnets.count) subnets, \(m.transitGateways.count) transit gateway "
              + "with \(m.tgwAttachments.count) attachments and \(m.tgwRouteTables.map(\.routes.count).reduce(0, +)) static "
              + "routes (+ \(m.tgwRouteTables.map(\.propagations.count).reduce(0, +)) propagations); \(yaml.utf8.count) bytes "
              + "of YAML; import of the dump: \(String(format: "%.0f ms", importSeconds * 1000)), "
              + "\(imported.warnings.count) warning\(imported.warnings.count == 1 ? "" : "s")")
        var loads: [Double] = [], builds: [Double] = []
        for _ in 0..<runs {
            let t0 = monotonicNanos()
            let s = try ScenarioLoader.load(path: path)
            let t1 = monotonicNanos()
            let sim = Simulation(scenario: s)
            let t2 = monotonicNanos()
            precondition(sim.scenario.model.tgwAttachments.count == vpcs)
            loads.append(Double(t1 - t0) / 1e9)
            builds.append(Double(t2 - t1) / 1e9)
        }
        func ms(_ v: Double) -> String { String(format: "%.1f ms", v * 1000) }
        print("tgw-account: over \(runs) runs, ScenarioLoader.load(path:) median \(ms(median(loads))) (min "
              + "\(ms(loads.min() ?? 0))), then Simulation(scenario:) median \(ms(median(builds))) (min "
              + "\(ms(builds.min() ?? 0))); \(cores()) cores, \(BuildInfo.optimization)")
    }

    /// `tgw-flows`: `flows` TCP flows (handshake, 200 bytes each way, close) from the Lambda in VPC 1 to the instance
    /// of VPC 2 across the transit gateway (its 10,000-route table), 10,000 flows a second, as `vpcsim run` runs them
    /// with captures off: report and flow-logs.txt.
    static func flows(_ n: Int) throws {
        let dir = (ProcessInfo.processInfo.environment["VPCSIM_BENCH_DIR"] ?? NSTemporaryDirectory())
            + "/vpcsim-bench-tgw-flows-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (yaml, _, _) = try importAccount(into: dir + "/dump")
        var s = try ScenarioLoader.load(yaml: yaml + "\nflows:\n  - {name: call, from: caller, to: \"host-2:22\", app: tcp}\n",
                                        file: "account.yaml")
        var template = s.flows[0]
        template.size = 200
        template.expect = nil
        s.flows = []
        s.generators = [FlowGenerator(name: "fleet", template: template, count: n, start: 0, over: Int64(n) * 100_000)]
        var options = Runner.Options(outDir: dir + "/out", capture: [])
        options.flowLogs = true
        let t0 = monotonicNanos()
        let o = try Runner.run(scenario: s, options: options)
        let seconds = Double(monotonicNanos() - t0) / 1e9
        let outcomes = o.report.generators.first?.outcomes ?? [:]
        print("tgw-flows: \(n) TCP flows Lambda (VPC 1) → transit gateway (\(staticRoutes) static routes) → instance "
              + "(VPC 2), captures off: " + String(format: "%.2f s", seconds) + ", outcomes \(outcomes.sorted { $0.key < $1.key }), "
              + "peak RSS \(FlowBench.peakRSSKiB() / 1024) MiB; \(cores()) cores, \(BuildInfo.optimization)")
    }
}
