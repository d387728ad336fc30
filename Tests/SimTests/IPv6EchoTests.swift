import Foundation
import Packets
import Testing
import TestSupport
@testable import Sim

/// eigw-inbound-blocked with pings both ways: out from the worker (through the egress-only gateway, which tracks
/// the echo) and in from the scanner (dropped at the gateway).
private func pings(_ extra: String = "") throws -> String {
    try shippedScenario("eigw-inbound-blocked").replacingOccurrences(of: "  - name: scan-ssh-in\n", with: """
          - {name: ping-out, from: worker, to: api.example.com, app: ping, address_family: ipv6, start: 2s\(extra),
             expect: {outcome: ok}}
          - {name: ping-in, from: scanner.example.net, to: worker, app: ping, address_family: ipv6, start: 2s,
             expect: {outcome: timeout, dropped_at: main-eigw}}
          - name: scan-ssh-in

        """)
}

@Suite("ICMPv6 echo: ping over IPv6 through NACLs, security groups and the gateways")
struct IPv6EchoTests {
    @Test func pingTakesAnIPv6DestinationInEveryForm() throws {
        for to in ["\"[2001:db8::30]\"", "\"2001:db8::30\"", "api.example.com, address_family: ipv6",
                   "api.example.com, address_family: happy_eyeballs"] {
            let s = try loadScenario(try shippedScenario("eigw-inbound-blocked").replacingOccurrences(
                of: "  - name: scan-ssh-in\n", with: "  - {name: p, from: worker, to: \(to), app: ping, expect: {outcome: ok}}\n"
                    + "  - name: scan-ssh-in\n"))
            let f = try #require(s.flows.first { $0.name == "p" })
            #expect(f.destination.address == IPv6Token.intern(IPv6Address("2001:db8::30")!), "\(to)")
            #expect(f.destination.port == 0 && f.destination.fallback == nil, "\(to): ping has one address")
        }
    }

    @Test func pingOutThroughTheEgressOnlyGatewayAndInIsDroppedThere() throws {
        let o = try runInMemory(try pings())
        let out = o.results[1]  // worker-https-out, ping-out, ping-in, scan-ssh-in
        #expect(out.outcome == .ok && out.message == "4 packets transmitted, 4 received, 0% packet loss")
        #expect(out.drops.isEmpty)
        let inbound = o.results[2]
        #expect(inbound.outcome == .timeout)
        let drop = try #require(inbound.drop)
        #expect(drop.kind == "egress-only-internet-gateway" && drop.count == 4)
        #expect(drop.key.proto == .icmp && drop.key.icmpType == 128 && drop.packet.hasSuffix("ICMPv6 echo-request"))
        // The report calls the identifier what ping calls it.
        #expect(o.text.contains("instance i-0123456789abcdef0 (worker) → api.example.com (ping), echo id "))
        #expect(o.exitCode == 0, "the expectations hold")
    }

    /// A ping to an instance's IPv6 address through the internet gateway: the NACL meets ICMPv6 (protocol 58)
    /// entries only, the security group its ICMPv6 rules; the fix names both.
    @Test func pingInThroughTheInternetGatewayNeedsICMPv6EntriesAndRules() throws {
        let base = try shippedScenario("ipv6-pmtud-blackhole").replacingOccurrences(of: """
              - name: sftp-session
                from: branch-pc
                to: sftp-server:22
                address_family: ipv6               # ssh -6: the instance's IPv6 address, through the internet gateway
                app: sftp-ls
                client: ssh2                       # ready timeout 20 s
                expect:
                  outcome: timeout
                  dropped_at: public-nacl
                  drop_direction: inbound
            """, with: "  - {name: ping6, from: branch-pc, to: sftp-server, app: ping, address_family: ipv6, count: 2}")
        let blocked = try runInMemory(base)
        let r = blocked.results[0]
        #expect(r.outcome == .timeout)
        #expect(r.drop?.kind == "nacl" && r.drop?.rule == "* DENY all ::/0" && r.drop?.key.icmpType == 128)
        let fix = try #require(blocked.report.flows[0].fix)
        #expect(fix.verified)
        #expect(fix.changes.map(\.change) == ["inbound: add #110 ALLOW icmpv6 type all 2001:db8:50::50/128",
                                              "ingress: add ALLOW icmpv6 2001:db8:50::50/128",
                                              "outbound: add #110 ALLOW icmpv6 type all 2001:db8:50::50/128"],
                "\(fix.changes.map(\.change))")
        // The entries and rule written in: echo and reply pass; a rule for another ICMPv6 type does not.
        let open = base
            .replacingOccurrences(of: "      # missing: {rule: 111, protocol: icmpv6, icmp_type: 2, cidr: \"::/0\", action: allow}",
                                  with: "      - {rule: 111, protocol: icmpv6, icmp_type: 128, cidr: \"::/0\", action: allow}")
            .replacingOccurrences(of: "      - {rule: 101, protocol: tcp, ports: 1024-65535, cidr: \"::/0\", action: allow}",
                                  with: "      - {rule: 101, protocol: tcp, ports: 1024-65535, cidr: \"::/0\", action: allow}\n"
                                      + "      - {rule: 111, protocol: icmpv6, icmp_type: 129, cidr: \"::/0\", action: allow}")
            .replacingOccurrences(of: "      - {protocol: tcp, ports: 22, cidr: \"::/0\", description: SFTP over IPv6}",
                                  with: "      - {protocol: tcp, ports: 22, cidr: \"::/0\", description: SFTP over IPv6}\n"
                                      + "      - {protocol: icmpv6, icmp_type: 128, cidr: \"::/0\"}")
        let ok = try runInMemory(open)
        #expect(ok.results[0].outcome == .ok && ok.results[0].message == "2 packets transmitted, 2 received, 0% packet loss")
        let path = ok.results[0].requestPath
        #expect(path.contains { $0.text.contains("#111 ALLOW icmpv6 type 128 ::/0") })
        #expect(path.contains { $0.text.contains("ALLOW icmpv6 type 128 ::/0") && $0.component.hasPrefix("sg-") })
        let wrong = try runInMemory(open.replacingOccurrences(of: "{protocol: icmpv6, icmp_type: 128, cidr: \"::/0\"}",
                                                      with: "{protocol: icmpv6, icmp_type: 2, cidr: \"::/0\"}"))
        #expect(wrong.results[0].drop?.kind == "security-group")
    }
}
