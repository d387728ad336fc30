import Foundation
import TestSupport
import Testing

/// A capture point at each VPC peering connection (scenarios/peering-missing-route.yaml): the packets that cross
/// it, both ways.
@Suite struct PeeringCaptureCLITests {
    /// Runs `yaml`; `status`: its exit status (1 when an expectation of the story no longer holds).
    static func run(_ yaml: String, status: Int32 = 0) throws -> (out: String, files: [String]) {
        let dir = makeTempDirectory("vpcsim-pcx")
        try yaml.write(toFile: dir + "/peering.yaml", atomically: true, encoding: .utf8)
        let r = try vpcsim(["run", dir + "/peering.yaml", "--out", dir + "/out", "--quiet"])
        #expect(r.status == status, "\(r.stdout)\(r.stderr)")
        return (dir + "/out", try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted())
    }

    static let story = "scenarios/peering-missing-route.yaml"
    static let routeBack = "routes: []                                             # missing: 10.0.0.0/16 → app-files"

    @Test func theStorysRequestsCrossTheConnectionAndNoReplyComesBack() throws {
        let (out, files) = try Self.run(try String(contentsOfFile: Self.story, encoding: .utf8))
        let pcx = try #require(files.first { $0.contains("-pcx-app-files-pcx-0a1b2c3d4e5f60718") && $0.hasSuffix(".pcap") })
        #expect(files.contains { $0.contains("-pcx-") && $0.hasSuffix(".pcap") && $0 != pcx })  // the other connection
        let (frames, problems) = try TShark.problems(in: out + "/" + pcx)
        #expect(problems.isEmpty, "\(problems)")
        // The SYNs toward the files VPC cross; the replies have no route back into the connection.
        #expect(frames == 5)
        #expect(try TShark.fields(out + "/" + pcx, ["frame.number"], filter: "tcp.dstport == 22 && tcp.flags.syn == 1").count == 5)
        let comments = try TShark.fields(out + "/all-hops.pcapng", ["frame.comment"],
                                         filter: "frame.interface_name contains \"pcx-app-files\"")
        #expect(comments.count == 5)
        #expect(comments.allSatisfy { $0.hasPrefix("across pcx-0a1b2c3d4e5f60718 from vpc-0a1b2c3d4e5f60718 to vpc-0b2c3d4e5f6071829; ") })
    }

    @Test func withTheRouteBackBothDirectionsCross() throws {
        let text = try String(contentsOfFile: Self.story, encoding: .utf8)
            .replacingOccurrences(of: Self.routeBack, with: "routes: [{destination: 10.0.0.0/16, target: app-files}]")
        let (out, files) = try Self.run(text, status: 1)  // the story expects the upload to time out
        let pcx = out + "/" + (try #require(files.first { $0.contains("-pcx-app-files-") && $0.hasSuffix(".pcap") }))
        #expect(try TShark.problems(in: pcx).problems.isEmpty)
        let requests = try TShark.fields(pcx, ["eth.src"], filter: "tcp.dstport == 22")
        let replies = try TShark.fields(pcx, ["eth.src"], filter: "tcp.srcport == 22")
        #expect(!requests.isEmpty && !replies.isEmpty)
        // Requester to accepter is outgoing: the two directions have opposite link addresses.
        #expect(Set(requests).count == 1 && Set(replies).count == 1 && Set(requests) != Set(replies))
    }
}
