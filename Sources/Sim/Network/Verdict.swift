/// Every component of the path (`SecurityGroup`, `NetworkACL`, `RouteTable`, `NATGateway`, `InternetGateway`, …)
/// has the same small surface: what it does to a packet arriving from a given side (a NACL's inbound or
/// outbound list, a security group's ingress or egress, a gateway's private or public side), and the `Step` it
/// records, naming the deciding rule as the console does. The components decide; `VPCNetwork`, the dispatcher,
/// moves packets between them in virtual time, captures them and tells the observers.
///
/// What a filter (a network ACL, a security group, an appliance) decided for a packet: let through or not, and
/// what decided, in the deciding component's own terms (a NACL's rule, a security group's group and rule, an
/// appliance's reason), which that component's `step(…, of:)` says in words when the step is recorded — for a
/// traced packet, or a drop. Plain data: a verdict is made at every filter for every packet, and costs nothing to
/// make or to let go (a `Step` in it, with its strings, cost a copy and a destroy at every hop); an allowed packet
/// nobody traces costs a rule scan and nothing else.
struct Verdict {
    var allowed: Bool
    /// Whether the step is recorded: the packet is traced, or dropped.
    var recorded: Bool
    /// What decided, for the component's `step(…, of:)`.
    var reason: Int32 = 0
    var detail: Int32 = 0

    @inline(__always) static var pass: Verdict { Verdict(allowed: true, recorded: false) }
}
