import Foundation
import TestSupport
import Packets
@testable import Sim

func cidr(_ s: String) -> IPv4CIDR { try! IPv4CIDR(parsing: s) }
func ip(_ s: String) -> IPv4Address { IPv4Address(s)! }

func rule(_ n: Int, _ p: ProtocolMatch, _ ports: PortRange?, _ c: String, _ a: NACLRule.Action) -> NACLRule {
    NACLRule(number: n, proto: p, ports: ports, icmpType: nil, icmpCode: nil, cidr: cidr(c), action: a)
}

let tcp = ProtocolMatch.number(.tcp)
let allowAll = [rule(100, .all, nil, "0.0.0.0/0", .allow)]

/// The story's VPC built in code (the YAML scenarios build the same through the loader):
/// private subnet 10.0.1.0/24 with the Lambda at 10.0.1.10 → NAT gateway 10.0.0.5 (EIP 198.51.100.7) in
/// public subnet 10.0.0.0/24 → internet gateway → sftp.example.com 203.0.113.22 (22 sftp, 443 https).
struct StoryModel {
    var publicOutbound: [NACLRule] = [rule(100, tcp, PortRange(443, 443), "0.0.0.0/0", .allow),
                                      rule(110, tcp, PortRange(1024, 65535), "10.0.1.0/24", .allow)]
    var publicInbound: [NACLRule] = [rule(100, tcp, PortRange(443, 443), "10.0.1.0/24", .allow),
                                     rule(110, tcp, PortRange(22, 22), "10.0.1.0/24", .allow),
                                     rule(120, tcp, PortRange(1024, 65535), "0.0.0.0/0", .allow)]
    var lambdaEgress: [SecurityGroupRule] = [SecurityGroupRule(proto: .all, ports: nil, peer: .cidr(cidr("0.0.0.0/0")))]
    var privateDefaultRoute: Route.Target? = .natGateway(0)
    var lambdaSubnet = 1
    var hostPorts: [UInt16: PortBehaviour] = [22: .listen(app: "sftp"), 443: .listen(app: "https")]
    var lambdaTimeout: Int64 = 30_000_000_000

    func build() -> VPCModel {
        var m = VPCModel()
        m.vpcs = [VPC(id: "vpc-0story", name: "story", cidrBlocks: [cidr("10.0.0.0/16")], mainRouteTable: 0,
                      defaultNetworkACL: 2, internetGateway: 0)]
        m.internetGateways = [InternetGatewaySpec(id: "igw-0story", name: nil, vpc: 0)]
        m.subnets = [
            Subnet(id: "subnet-0public", name: "public", vpc: 0, cidr: cidr("10.0.0.0/24"), availabilityZone: "eu-west-1a",
                   routeTable: 0, networkACL: 0),
            Subnet(id: "subnet-0private", name: "private", vpc: 0, cidr: cidr("10.0.1.0/24"),
                   availabilityZone: "eu-west-1a", routeTable: 1, networkACL: 1),
        ]
        var privateRoutes = [Route(destination: cidr("10.0.0.0/16"), target: .local)]
        if let t = privateDefaultRoute { privateRoutes.append(Route(destination: cidr("0.0.0.0/0"), target: t)) }
        m.routeTables = [
            RouteTableSpec(id: "rtb-0public", name: "public", vpc: 0, routes: [
                Route(destination: cidr("10.0.0.0/16"), target: .local),
                Route(destination: cidr("0.0.0.0/0"), target: .internetGateway(0)),
            ]),
            RouteTableSpec(id: "rtb-0private", name: "private", vpc: 0, routes: privateRoutes),
        ]
        m.networkACLs = [
            NetworkACLSpec(id: "acl-0public", name: "public", vpc: 0, isDefault: false, inbound: publicInbound,
                       outbound: publicOutbound),
            NetworkACLSpec(id: "acl-0private", name: "private", vpc: 0, isDefault: false, inbound: allowAll, outbound: allowAll),
            NetworkACLSpec(id: "acl-0default", name: nil, vpc: 0, isDefault: true, inbound: allowAll, outbound: allowAll),
        ]
        m.securityGroups = [SecurityGroupSpec(id: "sg-0lambda", name: "lambda", vpc: 0, ingress: [], egress: lambdaEgress)]
        m.enis = [
            ENI(id: "eni-0lambda", name: nil, subnet: lambdaSubnet, privateIP: lambdaSubnet == 1 ? ip("10.0.1.10") : ip("10.0.0.10"),
                publicIP: nil, securityGroups: [0], owner: .lambda([0]), mac: MACAddress(rawValue: 0x0A00_0000_0010)),
            ENI(id: "eni-0nat", name: nil, subnet: 0, privateIP: ip("10.0.0.5"), publicIP: ip("198.51.100.7"),
                securityGroups: [], owner: .natGateway(0), mac: MACAddress(rawValue: 0x0A00_0000_0005)),
        ]
        m.natGateways = [NATGatewaySpec(id: "nat-0story", name: "nat", subnet: 0, connectivity: .public, eni: 1,
                                        secondaryPrivateIPs: [], secondaryElasticIPs: [])]
        m.lambdas = [LambdaFunction(name: "uploader", subnets: [lambdaSubnet], securityGroups: [0], timeout: lambdaTimeout,
                                    enis: [0])]
        m.outsideHosts = [OutsideHost(name: "sftp.example.com", address: ip("203.0.113.22"), ports: hostPorts,
                                      otherPorts: .closed, rtt: 20_000_000, stack: .linux,
                                      mac: MACAddress(rawValue: 0x0A00_0000_0022))]
        return m
    }

    static func flow(_ name: String, _ app: AppProfile, port: UInt16, start: Int64 = 0, size: Int = 20_000) -> FlowSpec {
        FlowSpec(name: name, source: .lambda(0, eni: 0), sourceLabel: "lambda uploader",
                 destination: FlowDestination(address: ip("203.0.113.22"), port: port, label: "sftp.example.com:\(port)"),
                 app: app, start: start, size: size)
    }

    func scenario(_ flows: [FlowSpec], assumptions: Assumptions = Assumptions()) -> Scenario {
        Scenario(name: "story-test", file: "test", seed: 7, model: build(), flows: flows, assumptions: assumptions)
    }
}

/// Runs a scenario without files, recording drops and paths.
func simulate(_ s: Scenario) -> (Simulation, RunRecorder, [FlowResult]) {
    let sim = Simulation(scenario: s)
    let rec = RunRecorder(sim: sim, captures: nil)
    sim.observer = rec
    let r = sim.run()
    return (sim, rec, r)
}

/// A scenario from YAML text, as the loader reads a file named t.yaml.
func loadScenario(_ yaml: String) throws -> Scenario { try ScenarioLoader.load(yaml: yaml, file: "t.yaml") }

/// The text of shipped scenario `scenarios/<name>.yaml`.
func shippedScenario(_ name: String) throws -> String {
    try String(contentsOfFile: repositoryRoot + "/scenarios/\(name).yaml", encoding: .utf8)
}

/// `yaml` run in memory (no files written).
func runInMemory(_ yaml: String) throws -> Runner.Outcome {
    try Runner.run(scenario: loadScenario(yaml), options: .init(writeFiles: false))
}

/// The loader's error for YAML text (t.yaml), or nil when it loads (or fails otherwise).
func scenarioLoadError(_ yaml: String) -> ScenarioError? {
    do {
        _ = try loadScenario(yaml)
        return nil
    } catch {
        return error as? ScenarioError
    }
}
