/// Every component of the path (`SecurityGroup`, `NetworkACL`, `RouteTable`, `NATGateway`, `InternetGateway`, …)
/// has the same small surface: what it does to a packet arriving from a given side (a NACL's inbound or
/// outbound list, a security group's ingress or egress, a gateway's private or public side), and the `Step` it
/// records, naming the deciding rule as the console does. The components decide; `VPCNetwork`, the dispatcher,
/// moves packets between them in virtual time, captures them and tells the observers.
///
/// What a filter (a network ACL, a security group) decided for a packet: let through or not, and the step that
/// says which rule decided. The step is built only when it is needed, for a traced packet or a drop: an allowed
/// packet nobody traces costs a rule scan and nothing else.
struct Verdict {
    var allowed: Bool
    var step: Step?

    @inline(__always) static var pass: Verdict { Verdict(allowed: true, step: nil) }
}
