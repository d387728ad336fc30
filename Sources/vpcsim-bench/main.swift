// vpcsim-bench: release-build benchmarks (not tests). Run: swift run -c release vpcsim-bench [syn-pcap] [N] [KEEP.pcap] [direct]
//                                                        or: swift run -c release vpcsim-bench large-vpc [RUNS] [SEED] [KEEP.yaml]
//                                                        or: swift run -c release vpcsim-bench compare-logs [LINES] [KEEP-DIR]
//                                                        or: swift run -c release vpcsim-bench tgw-account [RUNS] [KEEP-DIR]
//                                                        or: swift run -c release vpcsim-bench tgw-flows [FLOWS]
//                                                        or: swift run -c release vpcsim-bench replay [RECORDS] [KEEP-DIR]
import Foundation
import Packets
import Sim
#if canImport(Glibc)
import Glibc
#endif

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func cores() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

/// Builds N TCP SYN frames (Linux's SYN options: MSS, SACK-permitted, timestamps, NOP, window scale), each
/// with its own source port, sequence number and timestamp, fills lengths and checksums, and writes them to
/// a nanosecond pcap through libpcap. `direct`: whole 1 MiB buffers written with O_DIRECT, past the kernel's page
/// cache, as `vpcsim run` writes its captures (`PcapWriter(direct:)`); by default through the page cache, as in
/// the figures of every session before the sixteenth.
func benchSYNToPcap(count: Int, path: String, direct: Bool = false) throws
    -> (seconds: Double, bytes: Int, direct: Bool) {
    let writer = try PcapWriter(path: path, direct: direct)
    let wroteDirect = writer.writesDirect
    let link = LinkHeader.ethernet(EthernetHeader(destination: MACAddress(rawValue: 0x0242_0a00_0101),
                                                  source: MACAddress(rawValue: 0x0242_0a00_010a)))
    var ip = IPv4Header(source: IPv4Address(10, 0, 1, 10), destination: IPv4Address(203, 0, 113, 22), proto: .tcp)
    var tcp = TCPHeader(sourcePort: 40000, destinationPort: 22, flags: .syn, window: 64240, options: [
        .maximumSegmentSize(1460), .sackPermitted, .timestamps(value: 0, echoReply: 0), .noOperation, .windowScale(7),
    ])
    let payload: [UInt8] = []
    let capacity = 256
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    defer { buffer.deallocate() }
    var bytes = 0
    let start = monotonicNanos()
    for i in 0..<count {
        tcp.sourcePort = UInt16(truncatingIfNeeded: 1024 + i % 64512)
        tcp.sequenceNumber = UInt32(truncatingIfNeeded: i &* 2_654_435_761)
        var options = TCPOptionBytes()
        options.append(.maximumSegmentSize(1460))
        options.append(.sackPermitted)
        options.append(.timestamps(value: UInt32(truncatingIfNeeded: i), echoReply: 0))
        options.append(.noOperation)
        options.append(.windowScale(7))
        tcp.optionBytes = options
        ip.identification = UInt16(truncatingIfNeeded: i)
        var w = ByteWriter(base: buffer, capacity: capacity)
        Frame.write(to: &w, link: link, ip: ip, transport: .tcp(tcp), payload: payload, filling: true)
        writer.write(w.written, timestamp: 1_700_000_000_000_000_000 + Int64(i) * 1000)
        bytes += w.count
    }
    try writer.close()
    let end = monotonicNanos()
    return (Double(end - start) / 1e9, bytes, wroteDirect)
}

let args = CommandLine.arguments.dropFirst()
let which = args.first ?? "syn-pcap"
switch which {
case "syn-pcap":
    // `direct` anywhere after the subcommand: past the page cache (see benchSYNToPcap).
    let positional = args.filter { $0 != "direct" }
    let direct = positional.count < args.count
    let n = max(1, positional.count > 1 ? Int(positional[positional.startIndex + 1]) ?? 5_000_000 : 5_000_000)
    // An output path to keep (scripts/bench-scapy.sh).
    let keep = positional.count > 2 ? positional[positional.startIndex + 2] : nil
    let path = keep ?? "/tmp/vpcsim-bench-syn.pcap"
    _ = try benchSYNToPcap(count: 100_000, path: path, direct: direct)  // warm up
    let (s, bytes, wroteDirect) = try benchSYNToPcap(count: n, path: path, direct: direct)
    let rate = Double(n) / s
    print("syn-pcap: \(n) SYN frames (\(bytes / n) bytes each) built with options and checksums and written to a "
        + "nanosecond pcap via libpcap\(wroteDirect ? " (O_DIRECT)" : direct ? " (O_DIRECT not used: buffered)" : "") in \(String(format: "%.3f", s)) s: "
        + "\(String(format: "%.2f", rate / 1e6)) million frames/s on \(cores()) cores, \(BuildInfo.optimization)")
    if keep == nil { unlink(path) }
case "large-vpc":
    try benchLargeVPC(runs: args.count > 1 ? Int(args[args.startIndex + 1]) ?? 7 : 7,
                      seed: args.count > 2 ? UInt64(args[args.startIndex + 2]) ?? 1 : 1,
                      keep: args.count > 3 ? args[args.startIndex + 3] : nil)
case "compare-logs":
    try benchCompareLogs(lines: args.count > 1 ? Int(args[args.startIndex + 1]) ?? 1_000_000 : 1_000_000,
                         keep: args.count > 2 ? args[args.startIndex + 2] : nil)
case "replay":
    try benchReplay(records: args.count > 1 ? Int(args[args.startIndex + 1]) ?? 10_000_000 : 10_000_000,
                    keep: args.count > 2 ? args[args.startIndex + 2] : nil)
case "hops", "flows", "engine":
    try FlowBench.main(Array(args))
case "tgw-account":
    try TGWBench.account(runs: args.count > 1 ? Int(args[args.startIndex + 1]) ?? 7 : 7,
                         keep: args.count > 2 ? args[args.startIndex + 2] : nil)
case "tgw-flows":
    try TGWBench.flows(args.count > 1 ? Int(args[args.startIndex + 1]) ?? 1_000_000 : 1_000_000)
default:
    print("usage: vpcsim-bench [syn-pcap] [N] [KEEP.pcap] [direct] | vpcsim-bench large-vpc [RUNS] [SEED] [KEEP.yaml]"
        + " | vpcsim-bench hops [FLOWS] [all-hops] | vpcsim-bench flows [FLOWS] [on|off|both|all-hops] [ipv6] | vpcsim-bench engine [FLOWS] [ipv6]"
        + " | vpcsim-bench compare-logs [LINES] [KEEP-DIR] | vpcsim-bench tgw-account [RUNS] [KEEP-DIR]"
        + " | vpcsim-bench tgw-flows [FLOWS] | vpcsim-bench replay [RECORDS] [KEEP-DIR]")
    exit(2)
}
