import Packets

// MARK: IPv4 fragments

/// IPv4 fragmentation and reassembly (RFC 791 §3.2; RFC 815). A hop that cannot forward a packet bigger than its
/// next link's MTU fragments it when DF is clear (with DF set it drops it and sends ICMP type 3 code 4: `tooBig…`).
///
/// A fragment is a `SimPacket` whose header says so (`ip.isFragment`: MF set or an offset): its payload is its
/// share of the bytes after the IP header as the wire has them — the first fragment's begins with the transport
/// header, checksum computed over the whole datagram — and the capture writes those bytes after the IP header,
/// nothing else (`CaptureWriter`). Its `transport` stays the datagram's, as metadata the wire does not show: every
/// fragment belongs to its datagram's flow for the components that follow one (a security group tracks the
/// datagram; a NAT gateway translates a UDP datagram's later fragments as it did the first, which AWS does
/// without documenting how). An unfragmented packet pays one test of its header flags where it is written,
/// delivered and translated.
///
/// Receivers (outside hosts, instances, Lambda ENIs) reassemble: the fragments are captured as they arrive, and
/// the datagram is handed to its endpoint once every byte has come (`FragmentReassembly`).
extension VPCNetwork {
    /// Cuts `p` into fragments for a link of `mtu` bytes, in order, each given to `body`, which owns its payload
    /// (frees or sends it). `p` may itself be a fragment (its bytes are cut again, offsets counted from its own).
    /// Data per fragment: the largest multiple of 8 that fits after the header; every fragment carries the
    /// header as it is (the simulation's packets have no options), the identification kept, MF on all but the
    /// last (on the last too if `p` had it), its own total length; the header checksum is computed per fragment
    /// when it is written. Returns how many fragments.
    @discardableResult
    static func fragments(of p: SimPacket, mtu: Int, _ body: (inout SimPacket) -> Void) -> Int {
        let bytes = p.ip.isFragment ? p.payload.bytes
            : p.payload.withUnsafeBytes { Frame.datagramBytes(ip: p.ip, transport: p.transport, payload: $0) }
        let headerLength = p.ip.byteCount
        let limit = Frame.fragmentDataLimit(mtu: mtu, headerLength: headerLength)
        guard limit >= 8 else { return 0 }
        let base = Int(p.ip.fragmentOffset) * 8
        var start = 0
        var count = 0
        while start < bytes.count {
            let end = min(start + limit, bytes.count)
            var f = p
            f.ip.fragmentOffset = UInt16(truncatingIfNeeded: (base + start) / 8)
            f.ip.moreFragments = end < bytes.count || p.ip.moreFragments
            f.ip.totalLength = UInt16(truncatingIfNeeded: headerLength + end - start)
            f.ip.checksum = 0
            f.traced = false
            f.traceSlot = -1
            f.payload = bytes.withUnsafeBytes { PacketPayload(copying: UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
            body(&f)
            count += 1
            start = end
        }
        return count
    }

    /// How many fragments `fragments(of:mtu:_:)` makes of `p`.
    static func fragmentCount(of p: SimPacket, mtu: Int) -> Int {
        let limit = Frame.fragmentDataLimit(mtu: mtu, headerLength: p.ip.byteCount)
        let data = Int(p.ip.totalLength) - p.ip.byteCount
        return limit < 8 ? 0 : (data + limit - 1) / limit
    }

    /// "fragment 2 of 3 (offset 1376, MF)": a capture comment's words for fragment `f`.
    static func fragmentWords(_ f: SimPacket, _ k: Int? = nil, of n: Int? = nil) -> String {
        let which = k.map { "fragment \($0) of \(n ?? 0)" } ?? "fragment"
        return "\(which) (offset \(Int(f.ip.fragmentOffset) * 8)\(f.ip.moreFragments ? ", MF" : ""))"
    }

    /// A packet bigger than the path MTU in front of outside host `h`, DF clear, arrives there: the router in
    /// front of the host fragments it and the fragments arrive at the host, which reassembles them.
    func fragmentAtPath(_ h: Int, _ p: inout SimPacket) {
        let mtu = hostPathMTU[h]
        let n = Self.fragmentCount(of: p, mtu: mtu)
        let host = model.outsideHosts[h].id
        let size = p.ip.totalLength
        record(&p, Step(kind: .pathMTU, component: "path-mtu \(host)",
                        componentDisplay: "link in front of \(host) (path MTU \(mtu))", action: .forwarded,
                        rule: "path MTU \(mtu) < packet \(size) bytes (DF clear): fragmented into \(n)"))
        Self.fragments(of: p, mtu: mtu) { f in
            let k = Int(f.ip.fragmentOffset) * 8 / Frame.fragmentDataLimit(mtu: mtu, headerLength: f.ip.byteCount) + 1
            let comment = "received \(Self.fragmentWords(f, k, of: n)); fragmented by the link in front of the host "
                + "(path MTU \(mtu))"
            hostTakesFragment(h, &f, comment: comment)
            f.payload.free()
        }
        record(&p, Step(kind: .delivered, component: host, componentDisplay: host, action: .delivered,
                        rule: "delivered to \(model.outsideHosts[h].address) in \(n) fragments, reassembled"))
        endTrace(&p)
    }

    /// Outside host `h` sends a packet bigger than the link in front of it, DF clear: the router there fragments
    /// it, and the fragments go on as the host's packets.
    func fragmentLeaving(_ h: Int, _ p: inout SimPacket) {
        let id = p.id
        Self.fragments(of: p, mtu: hostPathMTU[h]) { f in send(fromHost: h, f, id: id) }
    }

    /// A fragment arriving at outside host `h` (not from its own path MTU link: fragmented on the way).
    func hostReceivesFragment(_ h: Int, _ p: inout SimPacket) {
        let to = p.ip.destination
        record(&p, Step(kind: .delivered, component: model.outsideHosts[h].id,
                        componentDisplay: model.outsideHosts[h].id, action: .delivered,
                        rule: "fragment delivered to \(to)"))
        endTrace(&p)
        let comment = "received " + Self.fragmentWords(p)
        hostTakesFragment(h, &p, comment: comment)
    }

    private func hostTakesFragment(_ h: Int, _ f: inout SimPacket, comment: String) {
        capture(.outsideHost(h), &f, outgoing: false, comment: comment)
        let complete = reassembly.add(f, now: scheduler.now)
        reassemblyChanged()
        guard var whole = complete else { return }
        if let d = deliverToHost { d(h, whole) } else if let s = simulation { s { $0.deliver(&whole, toHost: h) } }
        whole.payload.free()
    }

    /// A fragment arriving at ENI `eni` for its own address: captured, counted in its flow logs, and reassembled
    /// there; the datagram goes to the ENI's host once complete.
    func eniReceivesFragment(_ eni: Int, _ p: inout SimPacket) {
        let to = p.ip.destination
        record(&p, Step(kind: .delivered, component: model.enis[eni].id, componentDisplay: model.enis[eni].display,
                        action: .delivered, rule: "fragment delivered to \(to)"))
        endTrace(&p)
        let comment = "received " + Self.fragmentWords(p)
        capture(.eni(eni), &p, outgoing: false, comment: comment)
        observeInterface(eni, &p, egress: false, accepted: true)
        let complete = reassembly.add(p, now: scheduler.now)
        reassemblyChanged()
        guard var whole = complete else { return }
        if let d = deliverToENI { d(eni, whole) } else if let s = simulation { s { $0.deliver(&whole, toENI: eni) } }
        whole.payload.free()
    }
}

extension VPCNetwork {
    /// After the reassembly changed: the ICMP for each datagram it discarded, and the timer for the next expiry
    /// (one pending at a time: a datagram's expiry only comes after those before it).
    func reassemblyChanged() {
        sendTimeExceeded()
        let t = reassembly.nextExpiryTime
        guard reassembly.inProgress > 0, t != .max, reassemblyExpiryAt < 0 else { return }
        reassemblyExpiryAt = t
        _ = scheduler.schedule(at: t) { [weak self] in self?.reassemblyExpiryDue() }
    }

    /// ICMPv6 time exceeded, code 1 (fragment reassembly time exceeded; RFC 8200 §4.5, sent only when the first
    /// fragment came), from the host that gave up to the sender, quoting the first fragment: its IPv6 and fragment
    /// headers and the first 8 bytes of its data (what the reassembly keeps of it).
    static func timeExceeded6(_ first: SimPacket, _ data: [UInt8]) -> SimPacket {
        var f = first
        f.ip.totalLength = UInt16(20 + data.count)
        f.payload = data.withUnsafeBytes { PacketPayload(copying: $0) }
        let icmp = icmpv6Error(quoting: f, from: first.ip.destination, ICMPHeader(type: ICMPType(rawValue: 3), code: 1))
        f.payload.free()
        return icmp
    }

    /// Incomplete datagrams expire at their time, whether or not another fragment comes (Linux ip_expire runs on
    /// the fragment queue's timer).
    private func reassemblyExpiryDue() {
        runDeferredDepartures()
        reassemblyExpiryAt = -1
        reassembly.expire(now: scheduler.now)
        reassemblyChanged()
    }

    /// RFC 792 time exceeded, code 1 (fragment reassembly time exceeded), from the host that gave up on a
    /// datagram to its sender, quoting the first fragment's header and first 8 bytes of data: sent only when the
    /// first fragment had come, as Linux's ip_expire does (icmp_send(head, ICMP_TIME_EXCEEDED,
    /// ICMP_EXC_FRAGTIME)). It leaves the host as any of its packets: an ENI's security group egress and NACL,
    /// the NAT gateway's translation back of an error quoting what it translated.
    private func sendTimeExceeded() {
        for (first, data) in reassembly.takeDiscarded() {
            let at = first.ip.destination
            let icmp = first.ip.source.isIPv6Token ? Self.timeExceeded6(first, data)
                : Self.icmpError(quoting: first.ip, data: data, from: at, type: .timeExceeded, code: 1, rest: 0,
                                 flow: first.flow, fromClient: !first.fromClient)
            let id = simulation.map { s in s { $0.nextPacketID() } } ?? 0
            if let h = hostByAddress[at] ?? onPremByAddress[at] {
                send(fromHost: h, icmp, id: id)
            } else if let e = eniByAddress[at], tables.enis[e].natGateway < 0 {
                send(fromENI: e, icmp, id: id)
            } else {
                var q = icmp
                q.payload.free()
            }
        }
    }
}

/// Datagrams being reassembled, by (source, destination, protocol, identification) as RFC 791 keys them. A
/// datagram is complete once its last fragment (MF clear) has come and every 8-byte block before its end has.
/// An incomplete datagram is discarded `timeout` after its first fragment came (Linux ip_expire after
/// net.ipv4.ipfrag_time, the assumption `fragment_reassembly_timeout_s`, 30 s): a fragment of it arriving later
/// starts a new datagram, which the fragments that came before can no longer complete.
struct FragmentReassembly {
    struct Key: Hashable {
        var source: IPv4Address
        var destination: IPv4Address
        var proto: UInt8
        var identification: UInt16
    }
    struct Partial {
        var bytes: [UInt8] = []
        var blocks: [Bool] = []
        /// The datagram's data length, known from its last fragment.
        var total = -1
        /// The first fragment, without its payload: the datagram's headers.
        var first: SimPacket?
        /// When its first fragment (in arrival order) came, nanoseconds.
        var started: Int64 = 0
    }
    private var partial: [Key: Partial] = [:]
    /// How long an incomplete datagram is kept, nanoseconds.
    var timeout: Int64 = 30_000_000_000
    /// The earliest time an incomplete datagram expires (`Int64.max`: none kept).
    private var nextExpiry = Int64.max
    /// Incomplete datagrams discarded so far.
    private(set) var expired = 0
    /// The discarded datagrams whose first fragment had come, oldest first, until `takeDiscarded`: that fragment
    /// (without its bytes) and its first 8 bytes of data, which the ICMP time exceeded quotes.
    private var discarded: [(first: SimPacket, data: [UInt8])] = []
    /// When the next incomplete datagram expires (`Int64.max`: none kept).
    var nextExpiryTime: Int64 { nextExpiry }

    var inProgress: Int { partial.count }

    /// Adds fragment `f` (lent), arriving at `now`; returns the datagram when `f` completes it, with a payload of
    /// its own (the caller frees it), its transport header as the first fragment had it. Datagrams incomplete for
    /// longer than `timeout` are discarded first.
    mutating func add(_ f: SimPacket, now: Int64) -> SimPacket? {
        if now >= nextExpiry { expire(now: now) }
        let key = Key(source: f.ip.source, destination: f.ip.destination, proto: f.ip.proto.rawValue,
                      identification: f.ip.identification)
        var d = partial.removeValue(forKey: key) ?? Partial(started: now)
        let start = Int(f.ip.fragmentOffset) * 8
        let end = start + f.payload.count
        if d.bytes.count < end { d.bytes += [UInt8](repeating: 0, count: end - d.bytes.count) }
        let blocks = (end + 7) / 8
        if d.blocks.count < blocks { d.blocks += [Bool](repeating: false, count: blocks - d.blocks.count) }
        f.payload.withUnsafeBytes { b in
            for i in 0..<b.count { d.bytes[start + i] = b[i] }
        }
        for i in (start / 8)..<blocks { d.blocks[i] = true }
        if !f.ip.moreFragments { d.total = end }
        if start == 0 {
            var first = f
            first.payload = PacketPayload()
            d.first = first
        }
        guard d.total >= 0, var whole = d.first, d.blocks.prefix((d.total + 7) / 8).allSatisfy({ $0 }) else {
            nextExpiry = min(nextExpiry, d.started + timeout)
            partial[key] = d
            return nil
        }
        let headerLength = whole.transport.headerLength
        whole.ip.fragmentOffset = 0
        whole.ip.moreFragments = false
        whole.ip.totalLength = UInt16(truncatingIfNeeded: whole.ip.byteCount + d.total)
        whole.payload = d.bytes.withUnsafeBytes {
            PacketPayload(copying: UnsafeRawBufferPointer(rebasing: $0[min(headerLength, d.total)..<d.total]))
        }
        return whole
    }

    /// Discards the datagrams incomplete for `timeout` at `now` (their fragments are freed with them); those
    /// whose first fragment had come are kept for `takeDiscarded`, in the order they started (then by key: never
    /// the dictionary's order).
    mutating func expire(now: Int64) {
        guard now >= nextExpiry else { return }
        var gone: [(key: Key, value: Partial)] = []
        partial = partial.filter { e in
            if now - e.value.started < timeout { return true }
            gone.append((e.key, e.value))
            return false
        }
        expired += gone.count
        gone.sort { a, b in
            (a.value.started, a.key.source.rawValue, a.key.destination.rawValue, a.key.proto, a.key.identification)
                < (b.value.started, b.key.source.rawValue, b.key.destination.rawValue, b.key.proto, b.key.identification)
        }
        for g in gone {
            if let first = g.value.first { discarded.append((first, Array(g.value.bytes.prefix(8)))) }
        }
        nextExpiry = partial.values.map { $0.started + timeout }.min() ?? .max
    }

    /// The datagrams `expire` discarded with their first fragment, since the last call.
    mutating func takeDiscarded() -> [(first: SimPacket, data: [UInt8])] {
        defer { discarded = [] }
        return discarded
    }
}

extension TransportHeader {
    /// The header's length on the wire (0: none).
    var headerLength: Int {
        switch self {
        case .tcp(let t): return t.byteCount
        case .udp: return UDPHeader.byteCount
        case .icmp: return ICMPHeader.byteCount
        case .none: return 0
        }
    }
}

extension SimPacket {
    /// After a translation changed a fragment's addresses or ports (its metadata): a first UDP or TCP fragment's
    /// ports in its bytes become the new ones and its transport checksum, over the whole datagram, is updated
    /// for the changed pseudo-header and ports (RFC 1624 eq. 3). A UDP checksum of 0 (none) stays 0. Other
    /// fragments carry no transport header: nothing to do. An IPv6 token's address counts as its 128 bits (RFC 8200
    /// §8.1), so a translation between families (NAT64) moves the checksum from one pseudo-header to the other: the
    /// length and protocol count the same in both.
    mutating func refreshFirstFragment(from old: PacketKey) {
        guard ip.fragmentOffset == 0, ip.proto == .udp || ip.proto == .tcp else { return }
        let new = key
        let udp = ip.proto == .udp
        let at = udp ? 6 : 16
        payload.withUnsafeMutableBytes { b in
            guard b.count >= at + 2 else { return }
            let stored = UInt16(b[at]) << 8 | UInt16(b[at + 1])
            b[0] = UInt8(new.sourcePort >> 8)
            b[1] = UInt8(truncatingIfNeeded: new.sourcePort)
            b[2] = UInt8(new.destinationPort >> 8)
            b[3] = UInt8(truncatingIfNeeded: new.destinationPort)
            if udp, stored == 0 { return }
            var sum = UInt32(~stored)
            func change(_ from: UInt16, _ to: UInt16) { sum += UInt32(~from) + UInt32(to) }
            // Each address's 16-bit words: the old ones taken out (their complement added), the new ones added.
            func add(_ a: IPv4Address, out: Bool) {
                func word(_ w: UInt16) { sum += UInt32(out ? ~w : w) }
                if a.isIPv6Token, let v6 = a.ipv6 {
                    for k in 0..<8 { word(UInt16(truncatingIfNeeded: (k < 4 ? v6.high : v6.low) >> UInt64(48 - 16 * (k % 4)))) }
                } else {
                    word(UInt16(a.rawValue >> 16))
                    word(UInt16(truncatingIfNeeded: a.rawValue))
                }
            }
            add(old.source, out: true)
            add(old.destination, out: true)
            add(new.source, out: false)
            add(new.destination, out: false)
            change(old.sourcePort, new.sourcePort)
            change(old.destinationPort, new.destinationPort)
            while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
            var c = ~UInt16(sum)
            if udp, c == 0 { c = 0xFFFF }
            b[at] = UInt8(c >> 8)
            b[at + 1] = UInt8(truncatingIfNeeded: c)
        }
    }
}
