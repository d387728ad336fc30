import Foundation
import TestSupport
import Testing

/// `vpcsim import aws` of a dual-stack dump, then `vpcsim validate`: exit 0 both, the warnings on stderr, and the
/// IPv6 parts listed.
@Suite struct ImportIPv6CLITests {
    @Test func aDualStackDumpImportsAndValidatesWithItsIPv6PartsListed() throws {
        let out = makeTempDirectory("vpcsim-import6") + "/vpc.yaml"
        let r = try vpcsim(["import", "aws", "Tests/Fixtures/aws-json/synthetic/dualstack", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning: rtb-0d5a00000000000c2: route 2001:db8:99::/48 → NAT gateway nat-0d5a1c2b3e4f5678d: "
                                  + "a NAT gateway takes IPv6 routes only within the NAT64 prefix 64:ff9b::/96; imported as blackhole"))
        let v = try vpcsim(["validate", out])
        #expect(v.status == 0, "\(v.stderr)")
        for line in ["subnet-0d5a000000000a003 (v6only) IPv6 2600:1f14:fab:1202::/64 (IPv6-only)",
                     "rtb-0d5a00000000000c2 (private-rt) route 64:ff9b::/96 → nat-0d5a1c2b3e4f5678d",
                     "acl-0d5a00000000000d1 inbound #120 ALLOW icmpv6 type 2 code 0 ::/0",
                     "IPv6 2600:1f14:fab:1202:4f2e:8d1c:b3a9:7e60"] {
            #expect(v.stdout.contains(line), "\(line)\n\(v.stdout)")
        }
    }
}
