/// The topology of report.html as SVG, laid out here (not in the browser) so that the same scenario gives the
/// same bytes: VPCs stacked top to bottom, each with its gateways along the top and its availability zones side
/// by side; in each zone its subnets (public first), in each subnet its NAT gateways and ENIs as chips; Lambda
/// functions to the left, linked to their Hyperplane ENIs; the internet and its hosts to the right.
///
/// Every box a path can pass carries `data-id` (the component's id, as report.json's hops' `at` names it) and
/// `data-box` ("x y width height"), which the page's script draws paths between.
enum HTMLTopology {
    /// Gateway kinds the simulation models (drawn without "not modeled").
    static let modeledKinds: Set<String> = ["nat-gateway", "peering-connection", "transit-gateway-attachment", "vpc-endpoint",
                                                  "vpn-gateway"]

    static let chipW = 210, chipH = 50, gap = 10
    static let subnetW = chipW + 2 * gap, subnetHead = 42
    static let azW = subnetW + 2 * gap, azHead = 22
    static let vpcHead = 40, gatewayRowH = chipH + gap
    static let leftW = 170, internetW = 230

    struct Node {
        var x: Int, y: Int, w: Int, h: Int
    }

    static func svg(_ t: RunReport.Topology) -> String {
        var body = ""
        var boxes: [String: Node] = [:]
        func box(_ id: String, _ n: Node) { boxes[id] = n }
        let sgName: [String: String] = Dictionary(t.security_groups.map { ($0.id, $0.name ?? $0.id) },
                                                  uniquingKeysWith: { a, _ in a })
        let x0 = leftW + 40
        var y = 10
        var right = x0
        for v in t.vpcs {
            let subnets = t.subnets.filter { $0.vpc == v.id }
            var zones: [String] = []
            for s in subnets where !zones.contains(s.availability_zone) { zones.append(s.availability_zone) }
            zones.sort()
            let gateways = t.gateways.filter { $0.vpc == v.id && $0.kind != "nat-gateway" }
            let top = y + vpcHead + (gateways.isEmpty ? 0 : gatewayRowH)
            var inner = ""
            var zoneHeights: [Int] = []
            for (zi, z) in zones.enumerated() {
                let zx = x0 + gap + zi * (azW + gap)
                var sy = top + azHead
                var zs = subnets.filter { $0.availability_zone == z }
                zs = zs.filter(\.public) + zs.filter { !$0.public }
                for s in zs {
                    let nats = t.gateways.filter { $0.kind == "nat-gateway" && $0.subnet == s.id }
                    let enis = t.enis.filter { $0.subnet == s.id && $0.kind != "nat-gateway" }
                    let n = nats.count + enis.count
                    let h = subnetHead + n * (chipH + gap) + (n == 0 ? 6 : 0)
                    let sx = zx + gap
                    box(s.id, Node(x: sx, y: sy, w: subnetW, h: h))
                    let kind = s.public ? "public" : "private"
                    inner += "<g class=\"subnet \(kind)\" data-id=\"\(esc(s.id))\" data-box=\"\(sx) \(sy) \(subnetW) \(h)\">"
                        + "<title>\(esc(s.id))\(s.name.map { " (\(esc($0)))" } ?? "") \(esc(s.cidr)), \(kind); "
                        + "route table \(esc(s.route_table))\(s.route_table_name.map { " (\(esc($0)))" } ?? ""); "
                        + "network ACL \(esc(s.network_acl))\(s.network_acl_name.map { " (\(esc($0)))" } ?? "")</title>"
                        + "<rect x=\"\(sx)\" y=\"\(sy)\" width=\"\(subnetW)\" height=\"\(h)\" rx=\"6\"/>"
                        + text(sx + 8, sy + 15, clip("\(s.name ?? s.id) \(s.cidr)", 25), cls: "t-subnet")
                        + "<text x=\"\(sx + subnetW - 8)\" y=\"\(sy + 31)\" class=\"badge-\(kind)\" text-anchor=\"end\">"
                        + "\(s.public ? "PUBLIC" : "PRIVATE")</text>"
                        + text(sx + 8, sy + 31, clip("NACL \(s.network_acl_name ?? s.network_acl) · RT \(s.route_table_name ?? s.route_table)", 27),
                               cls: "t-small")
                        + "</g>"
                    var cy = sy + subnetHead
                    for g in nats {
                        box(g.id, Node(x: sx + gap, y: cy, w: chipW, h: chipH))
                        inner += chip(id: g.id, kind: "nat", x: sx + gap, y: cy, title: "NAT \(g.name ?? g.id)",
                                      line2: "\(g.id)",
                                      line3: "\(g.private_ip ?? "")\(g.public_ip.map { " → \($0)" } ?? "")",
                                      tip: "NAT gateway \(g.id)\(g.name.map { " (\($0))" } ?? "") in \(s.id)")
                        cy += chipH + gap
                    }
                    for e in enis {
                        box(e.id, Node(x: sx + gap, y: cy, w: chipW, h: chipH))
                        let groups = e.security_groups.map { sgName[$0] ?? $0 }.joined(separator: ", ")
                        let title = e.kind == "lambda" ? "λ \(e.owner)" : "EC2 \(e.owner)"
                        inner += chip(id: e.id, kind: e.kind, x: sx + gap, y: cy, title: title,
                                      line2: "\(e.private_ip)\(e.public_ip.map { " / \($0)" } ?? "") \(e.id)",
                                      line3: "SG \(groups)",
                                      tip: "\(e.kind == "lambda" ? "Lambda Hyperplane ENI" : "instance ENI") \(e.id) of "
                                        + "\(e.owner) in \(s.id); security groups: "
                                        + e.security_groups.map { "\($0) (\(sgName[$0] ?? $0))" }.joined(separator: ", "))
                        cy += chipH + gap
                    }
                    sy += h + gap
                }
                zoneHeights.append(sy - top)
                inner = "<g class=\"az\"><rect x=\"\(zx)\" y=\"\(top)\" width=\"\(azW)\" height=\"AZH\(zi)\" rx=\"8\"/>"
                    + text(zx + 8, top + 15, z, cls: "t-az") + "</g>" + inner
            }
            let contentH = (zoneHeights.max() ?? 20) + gap
            for zi in zoneHeights.indices { inner = inner.replacingOccurrences(of: "\"AZH\(zi)\"", with: "\"\(contentH - gap)\"") }
            let w = max(gap + zones.count * (azW + gap), gap + max(1, gateways.count) * (chipW + gap), 300)
            let h = top + contentH - y
            box(v.id, Node(x: x0, y: y, w: w, h: h))
            body += "<g class=\"vpc\" data-id=\"\(esc(v.id))\" data-box=\"\(x0) \(y) \(w) \(h)\">"
                + "<rect x=\"\(x0)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\" rx=\"10\"/>"
                + text(x0 + 10, y + 18, "VPC \(v.name ?? v.id)", cls: "t-vpc")
                + text(x0 + 10, y + 33, "\(v.id) \(v.cidrs.joined(separator: ", "))", cls: "t-small") + "</g>"
            var gx = x0 + gap
            for g in gateways {
                let gy = y + vpcHead
                box(g.id, Node(x: gx, y: gy, w: chipW, h: chipH))
                let isIGW = g.kind == "internet-gateway"
                body += chip(id: g.id, kind: isIGW ? "igw" : "other", x: gx, y: gy,
                             title: isIGW ? "Internet gateway" : g.kind, line2: g.id,
                             line3: isIGW || Self.modeledKinds.contains(g.kind) ? (g.name ?? "") : "not modeled",
                             tip: "\(g.kind) \(g.id)")
                gx += chipW + gap
            }
            body += inner
            right = max(right, x0 + w)
            y += h + 30
        }
        // The internet and the outside hosts, to the right.
        let ix = right + 60
        let ih = 40 + t.outside_hosts.count * (chipH + gap) + gap
        box("internet", Node(x: ix, y: 10, w: internetW, h: ih))
        body += "<g class=\"internet\" data-id=\"internet\" data-box=\"\(ix) 10 \(internetW) \(ih)\">"
            + "<rect x=\"\(ix)\" y=\"10\" width=\"\(internetW)\" height=\"\(ih)\" rx=\"14\"/>"
            + text(ix + 10, 30, "Internet", cls: "t-vpc") + "</g>"
        var hy = 50
        for hst in t.outside_hosts {
            box(hst.name, Node(x: ix + gap, y: hy, w: chipW, h: chipH))
            body += chip(id: hst.name, kind: "host", x: ix + gap, y: hy, title: hst.name, line2: hst.address,
                         line3: "outside host", tip: "outside host \(hst.name) \(hst.address)")
            hy += chipH + gap
        }
        // Lambda functions, to the left, linked to their Hyperplane ENIs.
        var ly = 10
        for f in t.lambdas {
            let name = f.name ?? f.id
            let enis = t.enis.filter { $0.kind == "lambda" && $0.owner.split(separator: "+").contains(Substring(name)) }
            // Beside its first ENI, below the function before it.
            if let top = enis.compactMap({ boxes[$0.id]?.y }).min() { ly = max(ly, top - 6) }
            for e in enis {
                guard let b = boxes[e.id] else { continue }
                body += "<path class=\"lambda-link\" d=\"M\(10 + leftW) \(ly + 20) C\(leftW + 30) \(ly + 20) "
                    + "\(b.x - 30) \(b.y + b.h / 2) \(b.x) \(b.y + b.h / 2)\"/>"
            }
            let fid = "lambda:" + name
            box(fid, Node(x: 10, y: ly, w: leftW, h: 40))
            body += "<g class=\"chip lambda-fn\" data-id=\"\(esc(fid))\" data-box=\"10 \(ly) \(leftW) 40\">"
                + "<title>Lambda function \(esc(name)): \(enis.count) Hyperplane ENI\(enis.count == 1 ? "" : "s")</title>"
                + "<rect x=\"10\" y=\"\(ly)\" width=\"\(leftW)\" height=\"40\" rx=\"6\"/>"
                + text(18, ly + 17, clip("λ \(name)", 22), cls: "t-chip")
                + text(18, ly + 32, "\(enis.count) Hyperplane ENI\(enis.count == 1 ? "" : "s")", cls: "t-small") + "</g>"
            ly += 50
        }
        let width = ix + internetW + 20
        let height = max(y, ih + 20, ly) + 10
        let vpcCount = t.vpcs.count, subnetCount = t.subnets.count
        return "<svg id=\"topology\" viewBox=\"0 0 \(width) \(height)\" "
            + "width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-labelledby=\"topology-title topology-desc\">"
            + "<title id=\"topology-title\">Topology</title><desc id=\"topology-desc\">\(vpcCount) VPC\(vpcCount == 1 ? "" : "s"), "
            + "\(subnetCount) subnet\(subnetCount == 1 ? "" : "s"), \(t.enis.count) ENIs, "
            + "\(t.outside_hosts.count) outside host\(t.outside_hosts.count == 1 ? "" : "s"); the list below the "
            + "drawing says the same in words.</desc>"
            + body + "<g id=\"paths\"></g></svg>"
    }

    static func chip(id: String, kind: String, x: Int, y: Int, title: String, line2: String, line3: String,
                     tip: String) -> String {
        "<g class=\"chip \(kind)\" data-id=\"\(esc(id))\" data-box=\"\(x) \(y) \(chipW) \(chipH)\"><title>\(esc(tip))</title>"
            + "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(chipW)\" height=\"\(chipH)\" rx=\"5\"/>"
            + text(x + 8, y + 15, clip(title, 30), cls: "t-chip")
            + text(x + 8, y + 29, clip(line2, 36), cls: "t-small")
            + text(x + 8, y + 43, clip(line3, 36), cls: "t-small") + "</g>"
    }

    static func text(_ x: Int, _ y: Int, _ s: String, cls: String) -> String {
        "<text x=\"\(x)\" y=\"\(y)\" class=\"\(cls)\">\(esc(s))</text>"
    }

    /// At most `n` characters, an ellipsis marking a cut (the box's title has the whole).
    static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    /// Text for HTML and SVG, outside and inside attribute values.
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
