import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// `tcp_mtu_probing` is Linux's sysctl: a scenario that turns it on while a host runs the windows stack (which has
/// no such setting) is refused in one line at the assumption's value; the shipped scenario that uses it loads.
@Suite struct MTUProbingStackTests {
    static func yaml(probing: Int, webStack: String?, hostStack: String?) -> String {
        var text = DualStackScenarioTests.yaml()
        if let webStack {
            text = text.replacingOccurrences(of: "name: web, subnet: public,", with: "name: web, subnet: public, stack: \(webStack),")
        }
        if let hostStack {
            text = text.replacingOccurrences(of: "{name: v6.example.com,", with: "{name: v6.example.com, stack: \(hostStack),")
        }
        return text.replacingOccurrences(of: "name: ds\n", with: "name: ds\nassumptions:\n  tcp_mtu_probing: \(probing)\n")
    }

    @Test(arguments: [
        (nil, "windows", "outside host v6.example.com"),
        ("windows", nil, "instance i-0123456789abcdef0"),
        ("windows", "windows", "instance i-0123456789abcdef0"),
    ] as [(String?, String?, String)])
    func aWindowsHostRefusesTheLinuxSysctl(_ web: String?, _ host: String?, _ who: String) throws {
        let text = Self.yaml(probing: 1, webStack: web, hostStack: host)
        let e = try #require(DualStackScenarioTests.error(text))
        #expect(e.message == "tcp_mtu_probing 1 is Linux's net.ipv4.tcp_mtu_probing, but \(who) runs the windows stack, "
                + "which has no such setting (its black-hole detection, EnablePMTUBHDetect, is off by default and not modeled)",
                "\(e)")
        // At the value: line 3, column 20 ("  tcp_mtu_probing: 1").
        #expect(e.file == "ds.yaml" && e.line == 3 && e.column == 20, "\(e)")
    }

    @Test func linuxHostsAndTheDefaultLoad() throws {
        #expect(try DualStackScenarioTests.load(Self.yaml(probing: 1, webStack: "linux-6.5", hostStack: "linux"))
            .assumptions.tcpMTUProbing == 1)
        // 0 (Linux's default) says nothing a Windows host would not do.
        #expect(try DualStackScenarioTests.load(Self.yaml(probing: 0, webStack: "windows", hostStack: "windows"))
            .assumptions.tcpMTUProbing == 0)
        let shipped = try ScenarioLoader.load(path: repositoryRoot + "/scenarios/sftp-pmtud-blackhole-mtu-probing.yaml")
        #expect(shipped.assumptions.tcpMTUProbing == 1)
    }
}
