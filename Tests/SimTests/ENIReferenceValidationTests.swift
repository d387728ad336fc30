import Foundation
import TestSupport
import Testing
@testable import Sim

/// ENI ids across the whole scenario: a transit gateway attachment's `network_interface_ids` against every ENI,
/// whether read before or after the transit gateways; a gateway route table's target that is an instance's extra
/// interface (`network_interfaces:`).
@Suite struct ENIReferenceValidationTests {
    static func loadError(_ text: String) -> String? {
        do {
            _ = try ScenarioLoader.load(yaml: text, file: "e.yaml")
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The 1-based line of the first line holding `s`.
    static func line(of s: String, in text: String) -> Int {
        (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(s) } ?? -1) + 1
    }

    static let attachmentB = "{id: tgw-attach-0b0000000000000b, name: b, vpc: b, subnets: [b-tgw-1a, b-tgw-1b], appliance_mode: false}"

    static func withAttachmentENIs(_ a: String?, _ b: String, instanceENI: String? = nil) -> String {
        var text = TransitGatewayTests.yaml()
        text = ScenarioText.replacing(text, Self.attachmentB, String(Self.attachmentB.dropLast()) + ", network_interface_ids: \(b)}")
        if let a {
            text = ScenarioText.replacing(text, "subnets: [a-tgw-1a, a-tgw-1b]}", "subnets: [a-tgw-1a, a-tgw-1b], network_interface_ids: \(a)}")
        }
        if let instanceENI {
            // The instance (read after the transit gateways) gets a second interface with that id.
            text = ScenarioText.replacing(text, "private_ip: 10.2.1.20, security_groups: [b-sg]}",
                                          "private_ip: 10.2.1.20, security_groups: [b-sg], network_interfaces: "
                                            + "[{id: \(instanceENI), subnet: b-app-1a, private_ip: 10.2.1.21, security_groups: [b-sg]}]}")
        }
        return text
    }

    @Test func anAttachmentENIIDAnInstanceInterfaceHasIsRefusedAtItsPlace() throws {
        let text = Self.withAttachmentENIs(nil, "[eni-0b000000000000091, eni-0b000000000000092]",
                                           instanceENI: "eni-0b000000000000092")
        let e = try #require(Self.loadError(text))
        #expect(e.hasPrefix("e.yaml:\(Self.line(of: "name: b, vpc: b", in: text)):") && !e.contains("\n"), "\(e)")
        #expect(e.hasSuffix("duplicate network interface id eni-0b000000000000092: instance i-0b00000000000000b has it"), "\(e)")
        // A different id loads.
        #expect(Self.loadError(Self.withAttachmentENIs(nil, "[eni-0b000000000000091, eni-0b000000000000092]",
                                                        instanceENI: "eni-0b000000000000093")) == nil)
    }

    @Test func twoAttachmentsWithOneENIIDAreRefused() throws {
        let text = Self.withAttachmentENIs("[eni-0a000000000000091, eni-0a000000000000092]",
                                           "[eni-0b000000000000091, eni-0a000000000000091]")
        let e = try #require(Self.loadError(text))
        #expect(e.hasPrefix("e.yaml:\(Self.line(of: "name: b, vpc: b", in: text)):") && !e.contains("\n"), "\(e)")
        #expect(e.hasSuffix("duplicate network interface id eni-0a000000000000091: transit gateway attachment "
            + "tgw-attach-0a0000000000000a has it"), "\(e)")
    }

    /// A gateway route table may send to an appliance's extra interface in its VPC, by id or name.
    @Test func aGatewayRouteTableTargetsAnInstancesExtraInterface() throws {
        let base = try String(contentsOfFile: TwoLegApplianceTests.path, encoding: .utf8)
        let text = ScenarioText.replacing(base, "      - {destination: 10.0.2.0/24, target: fw-b}",
                                          "      - {destination: 10.0.2.0/24, target: eni-0d00000000000b001}")
        let s = try ScenarioLoader.load(yaml: text, file: "a.yaml")
        let edge = try #require(s.model.routeTables.first { $0.id == "rtb-0d000000000000014" })
        let eni = try #require(s.model.enis.firstIndex { $0.id == "eni-0d00000000000b001" })
        #expect(edge.routes.contains { $0.target == .networkInterface(eni) })
        guard case .instance = s.model.enis[eni].owner else { Issue.record("not an instance's interface"); return }
    }

    /// An extra interface of an instance in another VPC is refused as the target.
    @Test func anExtraInterfaceInAnotherVPCIsRefused() throws {
        var text = try String(contentsOfFile: TwoLegApplianceTests.path, encoding: .utf8)
        text = ScenarioText.replacing(text, "  - {id: vpc-0d000000000000001, name: edge, cidr_blocks: [10.0.0.0/16]}\n",
                                      "  - {id: vpc-0d000000000000001, name: edge, cidr_blocks: [10.0.0.0/16]}\n"
                                        + "  - {id: vpc-0d0000000000000ff, name: other, cidr_blocks: [10.9.0.0/16]}\n")
        text = ScenarioText.replacing(text, "outside_hosts:\n", """
              - id: i-0d0000000000000ff
                name: elsewhere
                subnet: other-a
                private_ip: 10.9.1.10
                security_groups: [other-sg]
                network_interfaces:
                  - {id: eni-0d0000000000000f1, name: elsewhere-2, subnet: other-a, private_ip: 10.9.1.11, security_groups: [other-sg]}

            outside_hosts:

            """)
        text = ScenarioText.replacing(text, "\nroute_tables:\n", "\nroute_tables:\n  - {id: rtb-0d0000000000000ff, name: other-rt, vpc: other, main: true}\n")
        text = ScenarioText.replacing(text, "\nsecurity_groups:\n", "\nsecurity_groups:\n  - {id: sg-0d0000000000000ff, name: other-sg, vpc: other, ingress: []}\n")
        text = ScenarioText.replacing(text, "\nsubnets:\n", "\nsubnets:\n  - {id: subnet-0d0000000000000ff, name: other-a, vpc: other, cidr: 10.9.1.0/24, availability_zone: us-east-1a}\n")
        #expect(Self.loadError(text) == nil, "\(Self.loadError(text) ?? "")")
        let bad = ScenarioText.replacing(text, "      - {destination: 10.0.2.0/24, target: fw-b}",
                                         "      - {destination: 10.0.2.0/24, target: elsewhere-2}")
        let e = try #require(Self.loadError(bad))
        #expect(e.hasPrefix("e.yaml:") && !e.contains("\n"), "\(e)")
        #expect(e.contains("eni-0d0000000000000f1") && e.contains("vpc-0d0000000000000ff"), "\(e)")
    }
}
