/// What a Transit Gateway Flow Logs record says happened to its packets, for `vpcsim compare-logs`: the format has
/// no action field; a record counts its packets and, of those, the ones the gateway lost and why (TGW-UG
/// tgw-flow-logs, "Transit Gateway Flow Log records": packets-lost-no-route, packets-lost-blackhole,
/// packets-lost-mtu-exceeded, packets-lost-ttl-expired).
enum TGWFlowLogOutcome {
    static let lostFields = [
        "packets-lost-no-route", "packets-lost-blackhole", "packets-lost-mtu-exceeded", "packets-lost-ttl-expired",
    ]
    static let lostNames = ["LOST-NO-ROUTE", "LOST-BLACKHOLE", "LOST-MTU-EXCEEDED", "LOST-TTL-EXPIRED"]

    /// Calls `body` with FORWARDED when some of the packets were not lost (or the record does not say how many it
    /// had), and with LOST-… for each counter above 0. `lost` holds the four counters' values (nil: no such
    /// column); "-" counts as 0.
    static func outcomes(packets: String?, lost: [String?], _ body: (String) -> Void) {
        var lostTotal = 0
        for (i, v) in lost.enumerated() {
            guard let v, let n = Int(v), n > 0 else { continue }
            lostTotal += n
            body(lostNames[i])
        }
        if let p = packets.flatMap({ Int($0) }), p <= lostTotal, lostTotal > 0 { return }
        body("FORWARDED")
    }
}
