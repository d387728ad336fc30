import Foundation

/// A flow-log file as read back: its fields (from its header line, or the default version 2 format when it has
/// none), its records, and the lines it could not read.
public struct ParsedFlowLog: Sendable {
    public struct Record: Sendable, Equatable {
        /// 1-based line number in the file.
        public var line: Int
        public var text: String
        public var values: [String]
    }
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Field names in column order.
    public var fields: [String]
    public var hasHeader: Bool
    public var records: [Record]
    public var problems: [Problem]

    public func index(of field: String) -> Int? { fields.firstIndex(of: field) }
    public func has(_ field: String) -> Bool { fields.contains(field) }

    /// The value of `field` in `record`, nil when the file has no such column.
    public func value(_ field: String, _ record: Record) -> String? {
        index(of: field).map { record.values[$0] }
    }
}

/// Reads flow-log files: any format with a header line of field names, or the default version 2 format without
/// one. Fields are separated by one or more spaces or tabs (a line of AWS's own v3 example has two). A line
/// whose column count or values do not fit is reported with its number and skipped.
public enum FlowLogParser {
    public static func parse(_ text: String) -> ParsedFlowLog {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var fields: [String]?
        var hasHeader = false
        var records: [ParsedFlowLog.Record] = []
        var problems: [ParsedFlowLog.Problem] = []
        for (i, raw) in lines.enumerated() {
            let n = i + 1
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if tokens.isEmpty { continue }
            if fields == nil {
                if isHeader(tokens) {
                    if let dup = firstDuplicate(tokens) {
                        problems.append(.init(line: n, message: "header names field '\(dup)' twice"))
                        fields = FlowLogFormat.defaultV2.fields.map(\.rawValue)
                        continue
                    }
                    fields = tokens
                    hasHeader = true
                    continue
                }
                fields = FlowLogFormat.defaultV2.fields.map(\.rawValue)
            }
            guard let fs = fields else { continue }
            if isHeader(tokens), tokens == fs { continue }  // a repeated header (concatenated files)
            guard tokens.count == fs.count else {
                problems.append(.init(line: n, message: "expected \(fs.count) fields (\(hasHeader ? "from the header" : "default version 2 format")), found \(tokens.count)"))
                continue
            }
            if let why = invalid(tokens, fs) {
                problems.append(.init(line: n, message: why))
                continue
            }
            records.append(.init(line: n, text: String(line), values: tokens))
        }
        return ParsedFlowLog(fields: fields ?? FlowLogFormat.defaultV2.fields.map(\.rawValue), hasHeader: hasHeader,
                             records: records, problems: problems)
    }

    /// A header: every token is a lower-case field name (letters and hyphens).
    static func isHeader(_ tokens: [String]) -> Bool {
        tokens.allSatisfy { t in
            t.first?.isLetter == true && t.allSatisfy { ($0.isASCII && $0.isLowercase) || $0 == "-" }
        }
    }

    static func firstDuplicate(_ tokens: [String]) -> String? {
        var seen = Set<String>()
        for t in tokens where !seen.insert(t).inserted { return t }
        return nil
    }

    /// Checks the values of the fields whose form AWS fixes; "-" is accepted everywhere (AWS writes it when a
    /// value is unavailable, and for NODATA/SKIPDATA records).
    static func invalid(_ values: [String], _ fields: [String]) -> String? {
        for (f, v) in zip(fields, values) where v != "-" {
            switch f {
            case "version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "tcp-flags",
                 "traffic-path":
                if UInt64(v) == nil { return "\(f) '\(v)' is not a number" }
                if f == "srcport" || f == "dstport", UInt64(v)! > 65535 { return "\(f) \(v) is outside 0-65535" }
                if f == "protocol", UInt64(v)! > 255 { return "protocol \(v) is outside 0-255" }
            case "srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr":
                if !isAddress(v) { return "\(f) '\(v)' is not an IP address" }
            case "action":
                if v != "ACCEPT" && v != "REJECT" { return "action '\(v)' is not ACCEPT or REJECT" }
            case "log-status":
                if !["OK", "NODATA", "SKIPDATA"].contains(v) { return "log-status '\(v)' is not OK, NODATA or SKIPDATA" }
            case "flow-direction":
                if v != "ingress" && v != "egress" { return "flow-direction '\(v)' is not ingress or egress" }
            case "interface-id":
                if !v.hasPrefix("eni-") { return "interface-id '\(v)' does not start with eni-" }
            default:
                break
            }
        }
        return nil
    }

    static func isAddress(_ s: String) -> Bool {
        if s.contains(":") {
            // IPv6: hex groups and colons, at most one "::".
            let ok = s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
            let groups = s.components(separatedBy: ":")
            return ok && groups.count >= 3 && groups.count <= 8 && s.components(separatedBy: "::").count <= 2
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in !p.isEmpty && p.count <= 3 && UInt16(p).map { $0 <= 255 } == true }
    }
}
