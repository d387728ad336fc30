import Packets

/// Writes an `ImportPlan` as a scenario file (docs/scenarios.md): flow style, one resource or rule per line,
/// references by AWS id, strings from the dump double-quoted.
enum ScenarioYAMLWriter {
    /// A YAML double-quoted scalar.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7F || (0x80...0x9F).contains(u.value) || u.value == 0xFEFF
                    || (0xD800...0xDFFF).contains(u.value) || u.value == 0x2028 || u.value == 0x2029
                    || u.value == 0xFFFE || u.value == 0xFFFF {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// A comment line's text: no line breaks, no character YAML refuses (control characters escaped).
    static func comment(_ s: String) -> String { AWSDumpCheck.oneLine(s) }

    static func name(_ n: String?) -> String { n.map { ", name: \(quote($0))" } ?? "" }

    /// What the header says the scenario was imported from (`vpcsim import aws` unless given).
    struct Header {
        var command: String
        /// "the Terraform plan x.json (…)"
        var what: String
        var description: String
    }

    static func write(_ p: ImportPlan, name scenarioName: String, source: String, counts: ImportCounts,
                      warnings: [ImportWarning], fileCount: Int, header: Header? = nil,
                      invented: [InventedValue] = []) -> String {
        var o: [String] = []
        if let header {
            o.append("# Imported by `\(header.command)` from \(comment(header.what)).")
        } else {
            o.append("# Imported by `vpcsim import aws` from \(comment(source)) (\(fileCount) JSON file\(fileCount == 1 ? "" : "s")).")
        }
        o.append("#")
        var line = "#"
        for part in counts.summary.split(separator: ",") {
            let piece = String(part).trimmingPrefixSpaces()
            if line.count + piece.count + 2 > 110 {
                o.append(line + ",")
                line = "#"
            }
            line += (line == "#" ? " " : ", ") + piece
        }
        o.append(line + ".")
        o.append("#")
        if warnings.isEmpty {
            o.append("# Nothing was left out or changed.")
        } else {
            o.append("# \(warnings.count) warning\(warnings.count == 1 ? "" : "s") (what the model leaves out or the import changed; docs/import.md):")
            for w in warnings.prefix(60) { o.append("#   - " + comment(w.description)) }
            if warnings.count > 60 { o.append("#   … and \(warnings.count - 60) more (printed by `\(header?.command ?? "vpcsim import aws")`)") }
        }
        o += [
            "#",
            "# No outside hosts and no flows are imported. To run traffic through this network, either trace one flow:",
            "#   vpcsim trace THIS.yaml --from <lambda|instance|eni|ip> --to <host|ip>:<port> [--app sftp|https|tcp]",
            "# (an unknown public address is a Linux host listening there), or append hosts and flows and `vpcsim run` it:",
            "#   outside_hosts:",
            "#     - {name: api.example.com, ip: 203.0.113.10, ports: {443: https, 22: sftp}}",
            "#   flows:",
            "#     - {name: api, from: <instance id or name | lambda name>, to: api.example.com:443, app: https, expect: {outcome: ok}}",
            "",
            "name: \(quote(scenarioName))",
            "description: \(quote(header?.description ?? "Imported from the AWS CLI dump in \(source)"))",
        ]
        if !invented.isEmpty {
            // Values the source knows only after apply, made up here: the run report lists them with the assumptions.
            o.append("")
            o.append("invented:")
            for v in invented {
                o.append("  - {of: \(quote(v.what)), value: \(quote(v.value)), how: \(quote(v.how))}")
            }
        }
        if let f = p.flowLogs, f.interval != nil || f.format != nil {
            o.append("")
            o.append("flow_logs:")
            if let i = f.interval { o.append("  interval: \(i)") }
            if let t = f.format { o.append("  format: \(quote(t))") }
        }

        func section(_ key: String, _ lines: [String]) {
            o.append("")
            o.append(lines.isEmpty ? "\(key): []" : "\(key):")
            o += lines
        }

        section("vpcs", p.vpcs.map { v in
            "  - {id: \(v.id)\(name(v.name)), cidr_blocks: [\(v.blocks.map(\.description).joined(separator: ", "))]"
                + (v.ipv6Blocks.isEmpty ? "" : ", ipv6_cidr: [\(v.ipv6Blocks.map { quote($0.description) }.joined(separator: ", "))]")
                + "}"
        })
        if !p.peerings.isEmpty {
            section("peering_connections", p.peerings.map { c in
                var s = "  - {id: \(c.id)\(name(c.name)), requester_vpc: \(c.requester), accepter_vpc: \(c.accepter)"
                if let r = c.requesterRegion { s += ", requester_region: \(r)" }
                if let r = c.accepterRegion { s += ", accepter_region: \(r)" }
                return s + "}"
            })
        }
        o += vpnSections(p)
        section("internet_gateways", p.igws.map { g in
            "  - {id: \(g.id)\(name(g.name))\(g.vpc.map { ", vpc: \($0)" } ?? "")}"
        })
        if !p.eigws.isEmpty {
            section("egress_only_internet_gateways", p.eigws.map { "  - {id: \($0.id)\(name($0.name)), vpc: \($0.vpc)}" })
        }
        var rt: [String] = []
        for t in p.routeTables {
            rt.append("  - id: \(t.id)")
            if let n = t.name { rt.append("    name: \(quote(n))") }
            rt.append("    vpc: \(t.vpc)")
            if t.main { rt.append("    main: true") }
            if !t.propagating.isEmpty { rt.append("    propagating_vgws: [\(t.propagating.joined(separator: ", "))]") }
            if let g = t.gateway { rt.append("    gateway: \(g)                # edge association: a gateway route table") }
            if t.routes.isEmpty && t.routes6.isEmpty {
                rt.append("    routes: []")
            } else {
                rt.append("    routes:")
                for r in t.routes {
                    rt.append("      - {destination: \(r.destination), target: \(r.target)}" + (r.note.map { "  # " + comment($0) } ?? ""))
                }
                for r in t.routes6 {
                    rt.append("      - {destination: \(quote(r.destination.description)), target: \(r.target)}"
                              + (r.note.map { "  # " + comment($0) } ?? ""))
                }
            }
        }
        section("route_tables", rt)
        if !p.endpoints.isEmpty {
            let tables = Set(p.routeTables.map(\.id))
            section("vpc_endpoints", p.endpoints.map { e in
                if let i = e.interface {
                    var line = "  - {id: \(e.id)\(name(e.name)), type: interface, service: \(e.service), vpc: \(e.vpc), "
                        + "subnets: [\(i.subnets.joined(separator: ", "))], security_groups: ["
                        + "\(i.groups.joined(separator: ", "))], private_dns: \(i.privateDNS)"
                    if let d = i.dnsName { line += ", dns_name: \(quote(d))" }
                    if i.dualStack { line += ", ip_address_type: dualstack" }
                    if !i.eniIDs.isEmpty { line += ", network_interface_ids: [\(i.eniIDs.joined(separator: ", "))]" }
                    if !i.privateIPs.isEmpty, i.privateIPs.allSatisfy({ $0 != nil }) {
                        line += ", private_ips: [\(i.privateIPs.map { $0!.description }.joined(separator: ", "))]"
                    }
                    return line + "}"
                }
                return "  - {id: \(e.id)\(name(e.name)), type: gateway, service: \(e.service), vpc: \(e.vpc), route_tables: ["
                    + e.routeTables.filter { tables.contains($0) }.joined(separator: ", ") + "], prefix_list: {id: "
                    + "\(e.prefixList), cidrs: [\(e.cidrs.map(\.description).joined(separator: ", "))]}"
                    + (e.cidrs6.isEmpty ? "" : ", ip_address_type: dualstack, ipv6_prefix_list: {id: \(e.prefixList6), cidrs: ["
                        + e.cidrs6.map { quote($0.description) }.joined(separator: ", ") + "]}") + "}"
            })
        }
        var acl: [String] = []
        for a in p.nacls {
            acl.append("  - id: \(a.id)")
            if let n = a.name { acl.append("    name: \(quote(n))") }
            acl.append("    vpc: \(a.vpc)")
            if a.isDefault { acl.append("    default: true") }
            for (key, rules) in [("inbound", a.inbound), ("outbound", a.outbound)] {
                guard !rules.isEmpty else { acl.append("    \(key): []"); continue }
                acl.append("    \(key):")
                for r in rules {
                    var s = "      - {rule: \(r.number), protocol: \(r.proto)"
                    if let ports = r.ports { s += ", ports: \(quote(ports))" }
                    if let t = r.icmpType { s += ", icmp_type: \(t)" }
                    if let c = r.icmpCode { s += ", icmp_code: \(c)" }
                    s += ", cidr: \(r.cidr6.map { quote($0.description) } ?? r.cidr.description), action: \(r.allow ? "allow" : "deny")}"
                    acl.append(s)
                }
            }
        }
        section("network_acls", acl)
        var sg: [String] = []
        for g in p.groups {
            sg.append("  - id: \(g.id)")
            if let n = g.name { sg.append("    name: \(quote(n))") }
            sg.append("    vpc: \(g.vpc)")
            if let d = g.description { sg.append("    description: \(quote(d))") }
            for (key, rules) in [("ingress", g.ingress), ("egress", g.egress)] {
                // Always written: a missing `egress` would mean AWS's default allow-all to the loader.
                guard !rules.isEmpty else { sg.append("    \(key): []"); continue }
                sg.append("    \(key):")
                for r in rules {
                    var s = "      - {protocol: \(r.proto)"
                    if let ports = r.ports { s += ", ports: \(quote(ports))" }
                    if let t = r.icmpType { s += ", icmp_type: \(t)" }
                    if let c = r.icmpCode { s += ", icmp_code: \(c)" }
                    switch r.peer {
                    case .cidr(let c): s += ", cidr: \(c)"
                    case .cidr6(let c): s += ", cidr: \(quote(c.description))"
                    case .group(let id): s += ", security_group: \(id)"
                    case .prefixList(let id, let cidrs):
                        s += ", prefix_list: {id: \(id), cidrs: [\(cidrs.map(\.description).joined(separator: ", "))]}"
                    case .prefixList6(let id, let cidrs):
                        s += ", prefix_list: {id: \(id), cidrs: [\(cidrs.map { quote($0.description) }.joined(separator: ", "))]}"
                    }
                    if let d = r.description { s += ", description: \(quote(d))" }
                    sg.append(s + "}")
                }
            }
        }
        section("security_groups", sg)
        section("subnets", p.subnets.map { s in
            var l = "  - {id: \(s.id)\(name(s.name)), vpc: \(s.vpc)" + (s.ipv6Only ? "" : ", cidr: \(s.cidr)")
            if let c = s.ipv6 { l += ", ipv6_cidr: \(quote(c.description))" }
            // An IPv6-only subnet assigns IPv6 addresses whatever is written (the loader's default there).
            if s.assignIPv6, !s.ipv6Only { l += ", assign_ipv6_address_on_creation: true" }
            if let az = s.az { l += ", availability_zone: \(quote(az))" }
            if let r = s.routeTable { l += ", route_table: \(r)" }
            if let a = s.nacl { l += ", network_acl: \(a)" }
            if s.dns64 { l += ", enable_dns64: true" }
            return l + "}"
        })
        section("nat_gateways", p.nats.map { n in
            var l = "  - {id: \(n.id)\(name(n.name)), subnet: \(n.subnet), connectivity: \(n.isPublic ? "public" : "private")"
            if let ip = n.privateIP { l += ", private_ip: \(ip)" }
            if let e = n.elasticIP { l += ", elastic_ip: \(e)" }
            if !n.secondaryPrivate.isEmpty {
                l += ", secondary_private_ips: [\(n.secondaryPrivate.map(\.description).joined(separator: ", "))]"
            }
            if !n.secondaryElastic.isEmpty {
                l += ", secondary_elastic_ips: [\(n.secondaryElastic.map(\.description).joined(separator: ", "))]"
            }
            return l + "}"
        })
        section("instances", p.instances.map { i in
            var l = "  - {id: \(i.id)\(name(i.name)), subnet: \(i.subnet)"
            if let ip = i.privateIP { l += ", private_ip: \(ip)" }
            if let ip = i.publicIP { l += ", public_ip: \(ip)" }
            if let a = i.ipv6 { l += ", ipv6_address: \(quote(a))" }
            if let f = i.forwarding { l += (i.primaryCheckOn ? "" : ", source_dest_check: false") + ", forwarding: \(f)" }
            let c = i.connectionTracking
            if !c.isEmpty {
                let parts = [("tcp_established_timeout", c.tcpEstablishedTimeout), ("udp_timeout", c.udpTimeout),
                             ("udp_stream_timeout", c.udpStreamTimeout)].compactMap { k, v in v.map { "\(k): \($0)" } }
                l += ", connection_tracking: {\(parts.joined(separator: ", "))}"
            }
            l += ", security_groups: [\(i.groups.joined(separator: ", "))]"
            guard !i.interfaces.isEmpty else { return l + "}" }
            l += ",\n     network_interfaces: ["
            l += i.interfaces.map { e in
                var n = "{id: \(e.id), subnet: \(e.subnet)"
                if let ip = e.privateIP { n += ", private_ip: \(ip)" }
                if let ip = e.publicIP { n += ", public_ip: \(ip)" }
                if let a = e.ipv6 { n += ", ipv6_address: \(quote(a))" }
                if !e.sourceDestCheck { n += ", source_dest_check: false" }
                return n + ", security_groups: [\(e.groups.joined(separator: ", "))]}"
            }.joined(separator: ",\n       ")
            return l + "]}"
        })
        section("lambdas", p.lambdas.map { f in
            var l = "  - {name: \(quote(f.name)), subnets: [\(f.subnets.joined(separator: ", "))], "
                + "security_groups: [\(f.groups.joined(separator: ", "))]"
            if let t = f.timeout { l += ", timeout: \(t)" }
            if f.dualStack { l += ", ipv6_allowed_for_dual_stack: true" }
            if !f.privateIPs.isEmpty {
                l += ", private_ips: {\(f.privateIPs.map { "\($0.subnet): \($0.ip)" }.joined(separator: ", "))}"
            }
            return l + "}"
        })
        o += transitGateways(p)
        return o.joined(separator: "\n") + "\n"
    }
}

fileprivate extension String {
    func trimmingPrefixSpaces() -> String { String(drop { $0 == " " }) }
}
