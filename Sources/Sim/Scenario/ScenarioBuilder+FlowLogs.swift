import Yams

extension ScenarioBuilder {
    static let flowLogKeys = ["interval", "format", "account_id", "region", "transit_gateways"]

    /// `flow_logs: {interval: 60|600, format: "${…} …", account_id: "123456789012", region: us-east-1}`.
    func readFlowLogs(_ node: Node) throws -> FlowLogSettings {
        let f = try r.fields(node, what: "flow_logs", key: "flow_logs", allowed: Self.flowLogKeys)
        var s = FlowLogSettings()
        if let n = f["interval"] {
            let v = try r.integer(n, key: "interval")
            guard FlowLogSettings.allowedIntervals.contains(v) else {
                throw r.error(at: n, "invalid flow_logs interval \(v) (AWS allows 60 or 600 seconds)")
            }
            s.interval = v
        }
        if let n = f["format"] {
            let text = try r.string(n, key: "format")
            do {
                s.format = try FlowLogFormat(parsing: text)
            } catch {
                throw formatError(at: n, text: text, error)
            }
        }
        if let n = f["account_id"] {
            let v = try r.word(n, key: "account_id")
            guard FlowLogSettings.isValidAccountID(v) else {
                throw r.error(at: n, "invalid account_id '\(v)' (expected 12 digits)")
            }
            s.accountID = v
        }
        if let n = f["region"] {
            let v = try r.word(n, key: "region")
            guard FlowLogSettings.isValidRegion(v) else {
                throw r.error(at: n, "invalid region '\(v)' (expected a region code such as us-east-1)")
            }
            s.region = v
        }
        return s
    }

    /// `flow_logs: {transit_gateways: [hub, tgw-…]}`: the transit gateways (by id or name) whose Transit Gateway
    /// Flow Logs the run writes; read once the transit gateways are.
    func readTGWFlowLogs(_ node: Node?) throws -> [Int] {
        guard let node else { return [] }
        let f = try r.fields(node, what: "flow_logs", key: "flow_logs", allowed: Self.flowLogKeys)
        guard let n = f["transit_gateways"] else { return [] }
        return try resolveList(n, .transitGateway, key: "transit_gateways")
    }

    /// Points at the offending `${field}` inside the string when the scalar sits on one line (plain or quoted);
    /// otherwise at the scalar.
    func formatError(at node: Node, text: String, _ e: FlowLogFormatError) -> ScenarioError {
        var err = r.error(at: node, e.message)
        guard case .scalar(let s) = node, !text.contains("\n"), !text.contains("\\") else { return err }
        switch s.style {
        case .plain, .any: err.column += e.offset
        case .singleQuoted, .doubleQuoted: err.column += e.offset + 1
        default: break
        }
        return err
    }
}
