import Foundation
import Packets
import TestSupport
import Testing
@testable import Sim

/// AWSImportMutationTests' single-value mutations, on the dual-stack dump (aws-json/synthetic/dualstack): each
/// mutated dump imports into a scenario the loader loads, or is refused with one line at its file and JSON path —
/// never the importer's internal error.
@Suite struct AWSImportIPv6MutationTests {
    typealias M = AWSImportMutationTests
    static let dir = Fixtures.path("aws-json/synthetic/dualstack")

    static let fileNames = ["describe-egress-only-internet-gateways.json", "describe-instances.json",
                            "describe-internet-gateways.json", "describe-managed-prefix-lists.json",
                            "describe-nat-gateways.json", "describe-network-acls.json", "describe-network-interfaces.json",
                            "describe-route-tables.json", "describe-security-groups.json", "describe-subnets.json",
                            "describe-vpcs.json", "get-managed-prefix-list-entries-pl-0d5a1c2b3e4f5678e.json",
                            "lambda-list-functions.json"]

    @Test func everyFileOfTheDumpIsMutatedAndTheUnmutatedDumpImports() throws {
        #expect(try M.files(Self.dir).map { String($0.path.dropFirst(Self.dir.count + 1)) } == Self.fileNames)
        #expect(M.problem(try M.files(Self.dir), Self.dir) == nil)
    }

    @Test(arguments: fileNames)
    func everyJSONPathMutatedImportsOrIsRefusedAtItsPath(_ name: String) throws {
        let (runs, failures) = try M.mutate(name, in: Self.dir)
        #expect(runs >= 3)
        #expect(failures.isEmpty, "\(failures.count) of \(runs):\n\(failures.prefix(40).joined(separator: "\n"))")
    }
}
