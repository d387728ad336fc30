import Packets

/// Writes what capture points see: one pcap per point and `all-hops.pcapng` with every point as an interface
/// and a comment on every packet. Streams to disk; files appear under their names only when complete.
public final class CaptureWriter {
    public struct Written: Sendable {
        public var name: String
        public var file: String
        public var component: String
        public var description: String
        public var packets: Int
    }

    public let directory: String
    let points: [CapturePoint]
    let startTime: Int64
    private var pcaps: [PcapWriter?]
    /// Writes the pcaps' records, and all-hops.pcapng's, on a thread of its own (see PcapWriterThread).
    private var pcapThread: PcapWriterThread? {
        didSet { thread = pcapThread.map(Borrowed.init) }
    }
    /// `pcapThread`, borrowed for the call of every packet (the optional was retained and released each time);
    /// set with it.
    private var thread: Borrowed<PcapWriterThread>?
    /// all-hops.pcapng: used by the writer thread alone until `close()` or `abandon()` (this thread only checks
    /// `hasPcapng`, so that no reference count of it is touched from two threads).
    private var pcapng: PcapngWriter?
    private let hasPcapng: Bool
    /// What `write` reads and counts per point, as plain data (no names: copying a CapturePoint per packet would
    /// retain three strings; and no Swift arrays, checked for uniqueness at each count).
    private struct PointState {
        var selected: Bool
        var local: MACAddress
        var peer: MACAddress
        var interface: Int
        var count: Int
        /// The point that shows this one's packets wrapped in ESP (`CapturePoint.esp`), -1: none.
        var esp: Int
    }
    private var state: RawVec<PointState>
    /// ESP sequence numbers, two per point (toward the customer gateway, from it): the last one written.
    private var espSequences: [UInt32] = []
    private let buffer: UnsafeMutableRawPointer
    private let capacity = 1 << 17

    /// Whether each point is written (`select`).
    public let selectedPoints: [Bool]

    /// `select` chooses points by name or component id; nil captures all. `allHops` false writes the per-point
    /// pcaps only.
    public init(directory: String, points: [CapturePoint], startTime: Int64, application: String,
                select: Set<String>? = nil, allHops: Bool = true) throws {
        self.directory = directory
        self.points = points
        self.startTime = startTime
        let selected = points.map { p in select.map { !$0.isDisjoint(with: p.names) } ?? true }
        selectedPoints = selected
        var interfaces: [Int] = []
        state = RawVec(capacity: points.count)
        pcaps = []
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        hasPcapng = allHops
        // stdio buffers: 1 MiB a pcap and 256 KiB a pcapng spool, less when there are many points (an imported
        // account's hundreds of ENIs), so that they hold some 32 MiB in all, and at least 64 KiB each.
        let files = max(selected.filter { $0 }.count, 1)
        let pcapBuffer = min(1 << 20, max(1 << 16, (32 << 20) / files))
        let spoolBuffer = min(1 << 18, max(1 << 16, (8 << 20) / files))
        do {
            for (i, p) in points.enumerated() {
                // Direct writes (no copy into the page cache) where the file system takes them: `OutputFile`.
                pcaps.append(selected[i] ? try PcapWriter(path: "\(directory)/\(p.name).pcap", bufferSize: pcapBuffer,
                                                          direct: true) : nil)
            }
            if hasPcapng {
                // Grouped by capture point, so Wireshark's TCP reassembly sees each hop's stream once.
                let ng = try PcapngWriter(path: "\(directory)/all-hops.pcapng", application: application,
                                          groupByInterface: true, spoolBufferSize: spoolBuffer, direct: true)
                for (i, p) in points.enumerated() {
                    interfaces.append(selected[i] ? ng.addInterface(name: p.name, description: p.description) : -1)
                }
                pcapng = ng
            }
            for (i, p) in points.enumerated() {
                state.append(PointState(selected: selected[i], local: p.localMAC, peer: p.peerMAC,
                                        interface: i < interfaces.count ? interfaces[i] : -1, count: 0, esp: -1))
            }
            for (i, p) in points.enumerated() { if let v = p.esp { state.pointer(v.innerPoint).pointee.esp = i } }
            espSequences = Array(repeating: 0, count: 2 * points.count)
            if pcaps.contains(where: { $0 != nil }) {
                // Retained here, so that no strong reference is released after the thread has started.
                let ng = pcapng.map { Unmanaged.passRetained($0) }
                pcapThread = try PcapWriterThread(writers: pcaps, pcapng: ng)
                thread = pcapThread.map(Borrowed.init)  // didSet does not run in an initializer
            }
        } catch {
            // Every stored property is set: deinit runs after the throw and frees the buffer and the state.
            pcapThread?.finish()
            for w in pcaps { w?.abandon() }
            pcapng?.abandon()
            throw error
        }
    }

    deinit {
        abandon()
        buffer.deallocate()
        state.free()
    }

    public func write(point: Int, time: Int64, packet p: SimPacket, outgoing: Bool, comment: UnsafeRawBufferPointer) {
        let s = state.pointer(point)
        // Saturating: a time the pcap cannot hold is refused by its writer, never a trap here.
        let (sum, overflow) = startTime.addingReportingOverflow(time)
        let ts = overflow ? Int64.max : sum
        if s.pointee.esp >= 0 { writeESP(s.pointee.esp, timestamp: ts, packet: p, outgoing: outgoing, comment: comment) }
        guard s.pointee.selected else { return }
        let local = s.pointee.local, peer = s.pointee.peer, interface = s.pointee.interface
        s.pointee.count += 1
        guard let borrowed = thread else { return }  // there whenever a point is selected
        // A fragment's bytes after its IP header are its payload (its `transport` is its datagram's: Fragmentation).
        let parts = FrameParts(destination: outgoing ? peer : local, source: outgoing ? local : peer, ip: p.ip,
                               transport: p.ip.isFragment ? .none : p.transport)
        borrowed { thread in
            if !thread.isBehind {
                // The writer thread builds the frame (headers, lengths, checksums) and writes it to the pcap and,
                // with its comment, to all-hops.pcapng; unless it is behind (libpcap's writes and the kernel's
                // copy keep it busy): then this thread builds the frame.
                p.payload.withUnsafeBytes { payload in
                    if hasPcapng {
                        thread.append(writer: point, parts: parts, payload: payload, timestamp: ts,
                                      pcapngInterface: interface, comment: comment)
                    } else {
                        thread.append(writer: point, parts: parts, payload: payload, timestamp: ts)
                    }
                }
                return
            }
            var w = ByteWriter(base: buffer, capacity: capacity)
            p.payload.withUnsafeBytes { Frame.write(to: &w, parts: parts, payload: $0) }
            if hasPcapng {
                thread.append(writer: point, w.written, timestamp: ts, pcapngInterface: interface, comment: comment)
            } else {
                thread.append(writer: point, w.written, timestamp: ts)
            }
        }
    }

    /// ESP point `k`'s frame of a packet its VPN connection's point saw: the inner packet built, then wrapped
    /// (`ESPTunnelView`), in this thread (VPN tunnels carry few packets). `outgoing`: toward the customer gateway.
    private func writeESP(_ k: Int, timestamp ts: Int64, packet p: SimPacket, outgoing: Bool,
                          comment: UnsafeRawBufferPointer) {
        let e = state.pointer(k)
        guard e.pointee.selected, let view = points[k].esp, let borrowed = thread else { return }
        e.pointee.count += 1
        let half = capacity / 2
        var inner = ByteWriter(base: buffer, capacity: half)
        let parts = FrameParts(destination: e.pointee.peer, source: e.pointee.local, ip: p.ip, transport: p.transport)
        p.payload.withUnsafeBytes { Frame.write(to: &inner, parts: parts, payload: $0) }
        let direction = 2 * k + (outgoing ? 0 : 1)
        espSequences[direction] &+= 1
        var outer = ByteWriter(base: buffer + half, capacity: half)
        view.write(to: &outer, inner: inner.view(14..<inner.count), toCustomer: outgoing,
                   sequence: espSequences[direction], source: outgoing ? e.pointee.local : e.pointee.peer,
                   destination: outgoing ? e.pointee.peer : e.pointee.local)
        let interface = e.pointee.interface
        borrowed { thread in
            if hasPcapng {
                thread.append(writer: k, outer.written, timestamp: ts, pcapngInterface: interface, comment: comment)
            } else {
                thread.append(writer: k, outer.written, timestamp: ts)
            }
        }
    }

    /// Closes every file; throws if any failed to write (and removes it).
    public func close() throws -> [Written] {
        var out: [Written] = []
        var firstError: Error?
        pcapThread?.finish()
        pcapThread = nil
        for (i, w) in pcaps.enumerated() {
            guard let w else { continue }
            do { try w.close() } catch { firstError = firstError ?? error }
            out.append(Written(name: points[i].name, file: points[i].name + ".pcap", component: points[i].componentID,
                               description: points[i].description, packets: state[i].count))
        }
        pcaps = []
        do { try pcapng?.close() } catch { firstError = firstError ?? error }
        pcapng = nil
        if let firstError { throw firstError }
        return out
    }

    public func abandon() {
        pcapThread?.finish()
        pcapThread = nil
        for w in pcaps { w?.abandon() }
        pcaps = []
        pcapng?.abandon()
        pcapng = nil
    }
}
