import Foundation
import TestSupport
import Testing

/// What tshark's SSH dissector says about the SSH in every shipped scenario's captures: nothing it does not also
/// say about real OpenSSH 9.2 traffic (captures/reference/linux-netns), and every cleartext binary packet
/// (banners aside, everything up to NEWKEYS) framed as RFC 4253 §6 has it.
@Suite struct SSHDissectionTests {
    /// One line of `tshark -q -z expert`: its severity section, protocol and summary.
    struct Expert: Hashable, CustomStringConvertible {
        var severity: String
        var proto: String
        var summary: String
        var description: String { "\(severity) \(proto): \(summary)" }
    }

    /// The errors and warnings of `tshark -q -z expert` for one file, each distinct line once.
    static func expertProblems(_ path: String) throws -> Set<Expert> {
        let r = try TShark.run(["-n", "-r", path, "-q", "-z", "expert,warn"])
        var out = Set<Expert>()
        var severity: String?
        for line in r.stdout.split(separator: "\n") {
            if line.hasPrefix("Errors (") { severity = "error"; continue }
            if line.hasPrefix("Warns (") { severity = "warning"; continue }
            if line.hasPrefix("Notes (") || line.hasPrefix("Chats (") { severity = nil; continue }
            guard let severity else { continue }
            // "   Frequency      Group           Protocol  Summary", then "  1   Protocol   SSH  Decoded …".
            let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
            guard words.count == 4, Int(words[0]) != nil else { continue }
            out.insert(Expert(severity: severity, proto: String(words[2]),
                              summary: words[3].trimmingCharacters(in: .whitespaces)))
        }
        return out
    }

    /// The shipped scenarios but the two whose 60,000 generated flows take minutes and the 100 MB uploads, whose
    /// captures are a gigabyte (their SFTP sessions are built by the same code as the story's; the 10 MB upload
    /// of reality-bulk-upload-10mb is here).
    static let scenarios: [String] = {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/scenarios")) ?? []
        return all.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("nat-port-exhaustion") && $0 != "bulk-upload-100mb.yaml" }
            .sorted()
    }()

    @Test func theRealOpenSSHCaptureDrawsTheDissectorsEd25519SignatureWarning() throws {
        let real = try Self.expertProblems(repositoryRoot + "/captures/reference/linux-netns/ok/server-eth0.pcap")
        // Wireshark 4.0's ssh dissector parses the host signature of ssh-rsa and ssh-dss only; for any other type
        // (ssh-ed25519 here) it decodes the 4-byte length and the type string, 19 bytes, and warns that the blob
        // has 83 (packet-ssh.c ssh_tree_add_hostsignature, its spelling).
        #expect(real.contains(Expert(severity: "warning", proto: "SSH",
                                     summary: "Decoded 19 bytes, but packet legnth is 83 bytes")), "\(real)")
    }

    /// The SSH lines of the real OpenSSH capture, read once for all the scenarios below.
    static let realSSH = Result {
        try expertProblems(repositoryRoot + "/captures/reference/linux-netns/ok/server-eth0.pcap").filter { $0.proto == "SSH" }
    }

    @Test(arguments: scenarios)
    func tsharkFindsNothingInTheSSHItDoesNotFindInRealOpenSSHTraffic(_ file: String) throws {
        #expect(Self.scenarios.count >= 10)
        let real = try Self.realSSH.get()
        let out = makeTempDirectory("vpcsim-ssh")
        let r = try vpcsim(["run", "scenarios/" + file, "--out", out, "--quiet", "--no-all-hops", "--no-flow-logs"])
        #expect(r.status == 0, "\(r.stderr)")
        let pcaps = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".pcap") }.sorted()
        #expect(!pcaps.isEmpty)
        for pcap in pcaps {
            let path = out + "/" + pcap
            let ssh = try Self.expertProblems(path).filter { $0.proto == "SSH" }
            #expect(ssh.isSubset(of: real), "\(file) \(pcap): \(ssh.subtracting(real))")
            // Every cleartext binary packet: packet_length + 4 a multiple of the 8-byte block, 4 to 255 bytes of
            // padding inside packet_length, a message code. A segment quoted by an ICMP error (an ICMPv6 Packet Too
            // Big quotes up to 1232 bytes of it) is cut short: not a packet on the wire.
            let rows = try TShark.fields(path, ["frame.number", "ssh.packet_length", "ssh.padding_length",
                                                "ssh.message_code"],
                                         filter: "ssh.packet_length && ssh.padding_length && !icmp && !icmpv6")
            for row in rows {
                let cols = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard cols.count == 4 else { Issue.record("\(pcap): \(row)"); continue }
                let lengths = cols[1].split(separator: ",").compactMap { Int($0) }
                let paddings = cols[2].split(separator: ",").compactMap { Int($0) }
                let codes = cols[3].split(separator: ",").compactMap { Int($0) }
                #expect(lengths.count == paddings.count && lengths.count == codes.count, "\(file) \(pcap): \(row)")
                for (length, padding) in zip(lengths, paddings) {
                    #expect((length + 4) % 8 == 0 && padding >= 4 && padding + 1 < length,
                            "\(file) \(pcap) frame \(cols[0]): packet_length \(length), padding_length \(padding)")
                }
            }
        }
    }
}
