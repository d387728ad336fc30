import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// Traffic from inside a VPC to a public address of the same VPC (an instance's Elastic IP): out through the NAT
/// gateway and the internet gateway, back in through the gateway with the NAT gateway's Elastic IP as the
/// source (scenarios/igw-hairpin.yaml).
@Suite struct HairpinTests {
    static let path = repositoryRoot + "/scenarios/igw-hairpin.yaml"

    static func yaml() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// Runs the scenario text (with `replacing` applied), in memory or into `out`.
    static func run(_ text: String, out: String? = nil) throws -> Runner.Outcome {
        try ScenarioText.run(text, file: "igw-hairpin.yaml", out: out)
    }

    static func replacing(_ text: String, _ old: String, _ new: String) -> String {
        ScenarioText.replacing(text, old, new)
    }

    @Test func theShippedScenarioHoldsItsExpectationsAndNamesTheNATElasticIPInTheFix() throws {
        let out = makeTempDirectory("vpcsim-hairpin")
        let o = try Self.run(try Self.yaml(), out: out)
        #expect(o.exitCode == 0, "\(o.text)")
        let flows = o.report.flows
        #expect(flows.map(\.outcome) == ["ok", "timeout", "ok"])
        let https = flows[0]
        #expect(https.hops.contains { $0.step == "internet" && $0.rule.hasSuffix("back in (hairpin)") })
        #expect(https.hops.contains { $0.step == "internet-gateway" && $0.rule == "1:1 NAT 198.51.100.20 → 10.0.0.20" })
        #expect(https.reply_hops.contains { $0.step == "internet-gateway" && $0.rule == "1:1 NAT 198.51.100.7 → 10.0.0.5" })
        #expect(https.hops.last?.action == "delivered" && https.reply_hops.last?.action == "delivered")
        let sftp = flows[1]
        let drop = try #require(sftp.drop)
        #expect(drop.component == "sg-0a9b8c7d6e5f40312" && drop.kind == "security-group" && drop.direction == "ingress")
        #expect(drop.rule == "no ingress rule allows tcp 22 from 198.51.100.7")
        let fix = try #require(sftp.fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["ingress: add ALLOW tcp 22 198.51.100.7/32"])
        #expect(fix.changes.first?.component == "sg-0a9b8c7d6e5f40312 (web-sg)")

        // Flow logs: the instance's ENI records the NAT gateway's Elastic IP as the source, ACCEPT on 443 and
        // REJECT on 22; the NAT gateway's ENI records its private address and the instance's public one.
        let logs = try String(contentsOfFile: out + "/flow-logs.txt", encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: " ").map(String.init)
        }
        let web = logs.filter { $0.count > 12 && $0[2] == "eni-0852a5730939dc415" }
        #expect(web.contains { $0[3] == "198.51.100.7" && $0[4] == "10.0.0.20" && $0[6] == "443" && $0[12] == "ACCEPT" })
        #expect(web.contains { $0[3] == "198.51.100.7" && $0[4] == "10.0.0.20" && $0[6] == "22" && $0[12] == "REJECT" })
        #expect(web.filter { $0[6] == "443" }.allSatisfy { $0[3] == "198.51.100.7" })
        #expect(web.filter { $0[5] == "443" }.allSatisfy { $0[4] == "198.51.100.7" })
        let nat = logs.filter { $0.count > 12 && $0[2] == "eni-0877dd6f5cceb3209" }
        #expect(nat.contains { $0[3] == "10.0.0.5" && $0[4] == "198.51.100.20" && $0[6] == "443" })

        // The internet gateway's capture point sees each hairpinned packet once, with both public addresses;
        // the instance's sees the NAT gateway's Elastic IP.
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        let igw = out + "/" + (try #require(files.first { $0.contains("igw-internet-side") && $0.hasSuffix(".pcap") }))
        let rows = try TShark.fields(igw, ["ip.src", "ip.dst", "tcp.dstport", "tcp.flags.str"], filter: "tcp.port == 443")
        #expect(!rows.isEmpty)
        #expect(rows.allSatisfy { $0 == "" || $0.hasPrefix("198.51.100.7\t198.51.100.20") || $0.hasPrefix("198.51.100.20\t198.51.100.7") })
        let syns = try TShark.fields(igw, ["ip.src"], filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 22")
        #expect(syns.filter { !$0.isEmpty }.count == 5, "each SYN once at the gateway")
        let inst = out + "/" + (try #require(files.first { $0.hasPrefix("01-instance-web") }))
        let seen = try TShark.fields(inst, ["ip.src"], filter: "tcp.dstport == 443 && tcp.flags.syn == 1")
        #expect(seen.filter { !$0.isEmpty } == ["198.51.100.7"])
    }

    /// The NACLs on the way decide: the public subnet's NACL is crossed outbound as the packet leaves for the
    /// gateway and inbound as it comes back in, for the request and for the replies.
    @Test func theNACLsOnTheWayDecideBothWays() throws {
        // The SYN comes back in from 198.51.100.7: an inbound rule for the VPC's CIDR does not admit it.
        var text = Self.replacing(try Self.yaml(), "{rule: 110, protocol: tcp, ports: 443, cidr: 0.0.0.0/0, action: allow}",
                                  "{rule: 110, protocol: tcp, ports: 443, cidr: 10.0.0.0/16, action: allow}")
        var o = try Self.run(text)
        var f = o.report.flows[0]
        #expect(f.outcome == "timeout")
        #expect(f.drop?.component == "acl-0b1c2d3e4f5a6b7c8" && f.drop?.direction == "inbound")
        #expect(f.drop?.packet.contains("198.51.100.7") == true)
        #expect(f.fix?.changes.map(\.change) == ["inbound: add #130 ALLOW tcp 443 198.51.100.7/32"])
        #expect(f.fix?.verified == true)
        // The replies come back in from the instance's Elastic IP to the NAT gateway's ephemeral port.
        text = Self.replacing(try Self.yaml(), "{rule: 120, protocol: tcp, ports: \"1024-65535\", cidr: 0.0.0.0/0, action: allow}",
                              "{rule: 120, protocol: tcp, ports: \"1024-65535\", cidr: 10.0.0.0/16, action: allow}")
        o = try Self.run(text)
        f = o.report.flows[0]
        #expect(f.outcome == "timeout")
        #expect(f.drop?.component == "acl-0b1c2d3e4f5a6b7c8" && f.drop?.direction == "inbound")
        #expect(f.drop?.packet.hasPrefix("tcp 198.51.100.20:443 → 10.0.0.5:") == true, "\(f.drop?.packet ?? "")")
    }

    /// From an instance with a public address of its own to another's Elastic IP: the internet gateway's 1:1
    /// NAT gives the source its public address, and the destination sees that. (The client's MTU is 1500: the
    /// gateway forwards 1500 bytes, and a jumbo-frame pair would need ICMP fragmentation needed let in.)
    @Test func anInstanceWithAPublicIPReachesAnotherByItsElasticIP() throws {
        var text = try Self.yaml()
        text = Self.replacing(text, "lambdas:", """
              - id: i-0fedcba9876543210
                name: client
                subnet: public
                private_ip: 10.0.0.30
                public_ip: 198.51.100.30
                security_groups: [lambda-sg]
                mtu: 1500                      # through the internet gateway (1500) without needing ICMP
            lambdas:
            """)
        text = Self.replacing(text, "flows:\n", """
            flows:
              - {name: from-instance, from: client, to: "198.51.100.20:443", app: https, start: 3s, expect: {outcome: ok}}
              - {name: from-instance-22, from: client, to: "198.51.100.20:22", app: tcp, size: 10, start: 3s, expect: {outcome: timeout}}

            """)
        let o = try Self.run(text)
        let f = try #require(o.report.flows.first { $0.name == "from-instance" })
        #expect(f.outcome == "ok", "\(f.message)")
        #expect(f.hops.contains { $0.step == "internet-gateway" && $0.rule == "1:1 NAT 10.0.0.30 → 198.51.100.30" })
        let g = try #require(o.report.flows.first { $0.name == "from-instance-22" })
        #expect(g.drop?.rule == "no ingress rule allows tcp 22 from 198.51.100.30")
        #expect(g.fix?.changes.map(\.change) == ["ingress: add ALLOW tcp 22 198.51.100.30/32"])
    }

    /// To a public address behind another VPC's internet gateway the packet crosses the internet (half of
    /// internet_rtt_ms each way) and comes in through that gateway: no hairpin, the same translations.
    @Test func anElasticIPInAnotherVPCIsReachedAcrossTheInternet() throws {
        var text = try Self.yaml()
        text = Self.replacing(text, "internet_gateways:\n", """
            internet_gateways:
              - {id: igw-0other000000000001, name: other-igw, vpc: other}

            """)
        text = Self.replacing(text, "vpcs:\n", """
            vpcs:
              - {id: vpc-0other000000000001, name: other, cidr_blocks: [10.1.0.0/16]}

            """)
        text = Self.replacing(text, "route_tables:\n", """
            route_tables:
              - {id: rtb-0other000000000001, name: other-rt, vpc: other, main: true, routes: [{destination: 0.0.0.0/0, target: other-igw}]}

            """)
        text = Self.replacing(text, "security_groups:\n", """
            security_groups:
              - {id: sg-0other000000000001, name: other-web-sg, vpc: other, ingress: [{protocol: tcp, ports: 443, cidr: 0.0.0.0/0}]}

            """)
        text = Self.replacing(text, "subnets:\n", """
            subnets:
              - {id: subnet-0other0000000001, name: other-public, vpc: other, cidr: 10.1.0.0/24}

            """)
        text = Self.replacing(text, "lambdas:", """
              - {id: i-0other000000000001, name: other-web, subnet: other-public, private_ip: 10.1.0.20, public_ip: 198.51.100.40, security_groups: [other-web-sg]}
            lambdas:
            """)
        let start = try #require(text.range(of: "flows:\n"))
        text = String(text[..<start.upperBound]) + "  - {name: f, from: uploader, to: \"198.51.100.40:443\", app: https, expect: {outcome: ok}}\n"
        let o = try Self.run(text)
        let f = o.report.flows[0]
        #expect(f.outcome == "ok", "\(f.message)")
        #expect(f.hops.contains { $0.step == "internet" && $0.rule == "198.51.100.40 is a public address of igw-0other000000000001 (other-igw)" })
        #expect(f.hops.contains { $0.component == "igw-0other000000000001" && $0.rule == "1:1 NAT 198.51.100.40 → 10.1.0.20" })
        #expect(f.elapsed_s > 0.04, "two round trips of 20 ms at least (handshake, then the exchange)")
    }
}
