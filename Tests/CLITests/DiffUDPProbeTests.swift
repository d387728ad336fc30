import Foundation
import TestSupport
import Testing

/// `vpcsim diff --probes` on UDP: a plan that closes a UDP port on the database's group is a regression of the UDP
/// probe (a static first-datagram verdict each way), dropped at that group's ingress.
@Suite struct DiffUDPProbeTests {
    static func udp(_ port: Int, from group: String) -> [String: Any] {
        var r = DiffProbeTests.rule(port, from: group)
        r["protocol"] = "udp"
        return r
    }

    /// DiffProbeTests' network, the database's group letting in tcp 22 and, before the plan, udp 514 from the app's.
    static func plan() throws -> String {
        func resources(udpOpen: Bool) -> [(String, String, String, [String: Any])] {
            var list = DiffProbeTests.resources(dbPorts: [22])
            if udpOpen, let k = list.firstIndex(where: { $0.0 == "aws_security_group.db" }) {
                var v = list[k].3
                v["ingress"] = ((v["ingress"] as? [[String: Any]]) ?? []) + [udp(514, from: DiffProbeTests.sgApp)]
                list[k].3 = v
            }
            return list
        }
        return try DiffProbeTests.plan(before: resources(udpOpen: true), after: resources(udpOpen: false),
                                       directory: "vpcsim-udp-probes")
    }

    @Test func aClosedUDPPortIsARegressionOfItsProbe() throws {
        let plan = try Self.plan()
        let checks = makeTempDirectory("vpcsim-udp-probes") + "/checks.yaml"
        try "flows:\n  - {name: ssh, from: aws_instance.app, to: aws_instance.db:22, app: sftp}\n"
            .write(toFile: checks, atomically: true, encoding: .utf8)
        let without = try vpcsim(["diff", "--plan", plan, "--flows", checks])
        #expect(without.status == 0, "\(without.stdout)\(without.stderr)")
        #expect(!without.stdout.contains("/udp"))
        let with = try vpcsim(["diff", "--plan", plan, "--flows", checks, "--probes"])
        #expect(with.status == 1, "\(with.stdout)\(with.stderr)")
        #expect(with.stdout.contains("  probe aws_instance.app → aws_instance.db:514/udp: ok → DROPPED  REGRESSION\n"), "\(with.stdout)")
        #expect(with.stdout.contains("      after:  dropped at sg-0000000000000c002 (aws_security_group.db) ingress: no ingress rule allows udp 514"),
                "\(with.stdout)")
        #expect(with.stdout.contains("      sg-0000000000000c002 (aws_security_group.db) ingress: − ALLOW udp 514 sg-0000000000000c001 (aws_security_group.app) (removed in this plan)"),
                "\(with.stdout)")
        // The TCP probe on 22 is unchanged; the database's group opens nothing on UDP the other way.
        #expect(with.stdout.contains("  probe aws_instance.app → aws_instance.db:22: ok\n"))
        #expect(!with.stdout.contains("probe aws_instance.db → aws_instance.app"))
        #expect(with.stdout.contains("1 regression (a flow that was ok and is not)"))
        let json = try vpcsim(["diff", "--plan", plan, "--flows", checks, "--probes", "--json"])
        #expect(json.stdout.contains("\"name\" : \"probe aws_instance.app → aws_instance.db:514/udp\""), "\(json.stdout)")
        #expect(try vpcsim(["diff", "--plan", plan, "--flows", checks, "--probes"]).stdout == with.stdout)
    }
}
