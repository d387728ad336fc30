import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// The transit gateway's route lookup (an index by prefix length) finds what a scan of the table in match order
/// finds: longest prefix, a static route before a propagated one of the same prefix, blackholes, no match.
@Suite struct TransitGatewayLookupTests {
    @Test func theIndexAgreesWithAScanInMatchOrder() throws {
        var rng = SplitMix64(seed: 7)
        var seen = Set<String>()
        var routes: [String] = []
        // 600 static routes inside and around the two VPCs' blocks (10.1/16 and 10.2/16, propagated), some with the
        // propagated routes' own prefixes, of every length from /8 to /32.
        while routes.count < 600 {
            let length = 8 + Int(rng.next() % 25)
            let raw = UInt32(0x0A00_0000) | UInt32(truncatingIfNeeded: rng.next()) & (rng.next() % 2 == 0 ? 0x0003_FFFF : 0x00FF_FFFF)
            let mask: UInt32 = ~UInt32(0) << UInt32(32 - length)
            let cidr = "\(IPv4Address(rawValue: raw & mask))/\(length)"
            guard seen.insert(cidr).inserted else { continue }
            let target = ["a", "b", "blackhole"][Int(rng.next() % 3)]
            routes.append("{destination: \(cidr), target: \(target)}")
        }
        var o = TransitGatewayTests.Options()
        o.staticRoutes = routes.joined(separator: ", ")
        let model = try ScenarioLoader.load(yaml: TransitGatewayTests.yaml(o), file: "tgw.yaml").model
        let tgw = TransitGateway(model, assumptions: Assumptions())
        var matched = 0, missed = 0
        for i in 0..<200_000 {
            let a = i % 2 == 0 ? UInt32(0x0A00_0000) | UInt32(truncatingIfNeeded: rng.next()) & 0x0003_FFFF
                : UInt32(truncatingIfNeeded: rng.next())
            let d = IPv4Address(rawValue: a)
            let indexed = tgw.route(0, d), scanned = tgw.routeByScan(0, d)
            #expect(indexed == scanned, "\(d)")
            if indexed == nil { missed += 1 } else { matched += 1 }
        }
        #expect(matched > 50_000 && missed > 50_000)
    }
}
