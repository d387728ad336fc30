import Packets

/// The egress-only internet gateways (VPC-UG egress-only-internet-gateway): each lets IPv6 traffic out of its
/// VPC to the internet and the replies back in, and drops every connection the internet opens: "It prevents the
/// internet from initiating an IPv6 connection with your instances". Stateful: a connection a packet going out
/// opens is tracked (by its canonical key, as a security group tracks it), and a packet from the internet passes
/// only when it belongs to one. No translation: IPv6 addresses are global. A connection idle longer than the
/// assumption `eigw_idle_timeout_s` (AWS documents none; the NAT gateway's 350 s) is forgotten. The dispatcher calls `leaving` for a packet going out and `admits`
/// for one coming in (`VPCNetwork+IPv6.swift`), and records `step`.
final class EgressOnlyInternetGateway {
    struct Key: TableKey {
        var key: PacketKey
        var gateway: Int32
        @inline(__always) var tableHash: UInt64 { key.tableHash ^ UInt64(UInt32(bitPattern: gateway)) &* 0x9E37_79B9_7F4A_7C15 }
    }

    /// When each tracked connection's last packet passed (ns).
    private let tracked = HashTable<Key, Int64>()
    private let model: VPCModel
    private let idleTimeout: Int64

    init(_ model: VPCModel, idleTimeout: Int64) {
        self.model = model
        self.idleTimeout = idleTimeout
    }

    /// A packet leaving through gateway `g` at `now`: its connection is tracked (a new one, or one seen before).
    func leaving(_ g: Int, _ key: PacketKey, now: Int64) {
        tracked[Key(key: SecurityGroup.canonical(key).key, gateway: Int32(g))] = now
    }

    /// Whether gateway `g` holds state for the connection of `key` (either direction), expired or not: a packet
    /// from the internet of such a connection comes back through the gateway (`VPCNetwork.eigwInbound`).
    func tracks(_ g: Int, _ key: PacketKey) -> Bool {
        tracked.find(Key(key: SecurityGroup.canonical(key).key, gateway: Int32(g))) != nil
    }

    /// Whether a packet arriving from the internet at gateway `g` at `now` belongs to a connection opened from
    /// inside and not idle past the timeout (then its idle time starts anew).
    func admits(_ g: Int, _ key: PacketKey, now: Int64) -> Bool {
        guard let slot = tracked.find(Key(key: SecurityGroup.canonical(key).key, gateway: Int32(g))) else { return false }
        let last = tracked.value(at: slot)
        guard now - last.pointee <= idleTimeout else {
            tracked.remove(at: slot)
            return false
        }
        last.pointee = now
        return true
    }

    /// The step gateway `g` records.
    func step(_ g: Int, action: Step.Action, rule: String, detail: String? = nil) -> Step {
        Step(kind: .egressOnlyInternetGateway, component: model.egressOnlyInternetGateways[g].id,
             componentDisplay: model.egressOnlyInternetGateways[g].display, action: action, rule: rule, detail: detail)
    }
}
