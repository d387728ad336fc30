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
        var p = FlowLogLineParser()
        var records: [ParsedFlowLog.Record] = []
        var n = 0
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { all in
            forEachLine(in: all) { line in
                n += 1
                if let values = p.record(line, number: n) {
                    records.append(.init(line: n, text: String(decoding: line, as: UTF8.self), values: values))
                }
            }
        }
        return ParsedFlowLog(fields: p.fieldsOrDefault, hasHeader: p.hasHeader, records: records, problems: p.problems)
    }

    /// Calls `body` with each line of `bytes` (split at "\n", a trailing "\r" removed), the last one also when it
    /// has no "\n"; returns the bytes of an unfinished last line when `final` is false (they belong to the next
    /// chunk).
    @discardableResult
    static func forEachLine(in bytes: UnsafeBufferPointer<UInt8>, final: Bool = true,
                            _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows -> Int {
        var start = 0
        let count = bytes.count
        guard let base = bytes.baseAddress else { if final { try body(bytes) }; return 0 }
        while start < count {
            guard let nl = memchr(base + start, 0x0A, count - start) else { break }
            let end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
            var e = end
            if e > start, base[e - 1] == 0x0D { e -= 1 }
            try body(UnsafeBufferPointer(start: base + start, count: e - start))
            start = end + 1
        }
        if final {
            // The last line: after the last "\n" (empty when the text ends with one, as `split` gives).
            var e = count
            if e > start, base[e - 1] == 0x0D { e -= 1 }
            try body(UnsafeBufferPointer(start: base + start, count: e - start))
            return 0
        }
        return count - start
    }

    /// The fields of a line: separated by one or more spaces or tabs. Lines of ASCII (all that AWS writes) are
    /// split byte by byte; others by characters, as Swift's `split` does.
    static func tokens(_ line: UnsafeBufferPointer<UInt8>) -> [String] {
        var ascii = true
        for b in line where b >= 0x80 { ascii = false; break }
        if !ascii {
            return String(decoding: line, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        var out: [String] = []
        out.reserveCapacity(16)
        var i = 0
        let n = line.count
        while i < n {
            while i < n, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
            let s = i
            while i < n, line[i] != 0x20, line[i] != 0x09 { i += 1 }
            if i > s { out.append(String(decoding: UnsafeBufferPointer(rebasing: line[s..<i]), as: UTF8.self)) }
        }
        return out
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
        invalid(values, fields, fields.map(Kind.init))
    }

    /// What a column holds, for `invalid`: worked out once per file rather than per line.
    enum Kind: Sendable, Equatable {
        case number, port, proto, address, action, logStatus, flowDirection, interface, other
        /// Transit Gateway Flow Logs: `TransitGateway` or `TransitGatewayAttachment`; an id with a prefix.
        case resourceType, prefixed(String)
        init(_ field: String) {
            switch field {
            case "version", "packets", "bytes", "start", "end", "tcp-flags", "traffic-path", "packets-lost-no-route",
                 "packets-lost-blackhole", "packets-lost-mtu-exceeded", "packets-lost-ttl-expired":
                self = .number
            case "srcport", "dstport": self = .port
            case "protocol": self = .proto
            case "srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr": self = .address
            case "action": self = .action
            case "log-status": self = .logStatus
            case "flow-direction": self = .flowDirection
            case "interface-id", "tgw-src-eni", "tgw-dst-eni": self = .interface
            case "resource-type": self = .resourceType
            case "tgw-id": self = .prefixed("tgw-")
            case "tgw-attachment-id", "tgw-pair-attachment-id": self = .prefixed("tgw-attach-")
            default: self = .other
            }
        }
    }

    static func invalid(_ values: [String], _ fields: [String], _ kinds: [Kind]) -> String? {
        for i in values.indices {
            let v = values[i], f = fields[i]
            if v == "-" { continue }
            switch kinds[i] {
            case .number, .port, .proto:
                guard let n = UInt64(v) else { return "\(f) '\(v)' is not a number" }
                if kinds[i] == .port, n > 65535 { return "\(f) \(v) is outside 0-65535" }
                if kinds[i] == .proto, n > 255 { return "protocol \(v) is outside 0-255" }
            case .address:
                if !isAddress(v) { return "\(f) '\(v)' is not an IP address" }
            case .action:
                if v != "ACCEPT" && v != "REJECT" { return "action '\(v)' is not ACCEPT or REJECT" }
            case .logStatus:
                if v != "OK" && v != "NODATA" && v != "SKIPDATA" { return "log-status '\(v)' is not OK, NODATA or SKIPDATA" }
            case .flowDirection:
                if v != "ingress" && v != "egress" { return "flow-direction '\(v)' is not ingress or egress" }
            case .interface:
                if !v.hasPrefix("eni-") { return "\(f) '\(v)' does not start with eni-" }
            case .resourceType:
                if v != "TransitGateway" && v != "TransitGatewayAttachment" {
                    return "resource-type '\(v)' is not TransitGateway or TransitGatewayAttachment"
                }
            case .prefixed(let prefix):
                if !v.hasPrefix(prefix) { return "\(f) '\(v)' does not start with \(prefix)" }
            case .other:
                break
            }
        }
        return nil
    }

    static func isAddress(_ s: String) -> Bool {
        // ASCII (every address AWS writes): byte by byte, the same rules as below.
        let u = s.utf8
        if u.allSatisfy({ $0 < 0x80 }) {
            if u.contains(0x3A) {
                var groups = 1, doubles = 0
                var previousColon = false
                for b in u {
                    let hex = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
                    guard hex || b == 0x3A || b == 0x2E else { return false }
                    if b == 0x3A {
                        groups += 1
                        if previousColon { doubles += 1; previousColon = false; continue }  // "::" as split counts it
                    }
                    previousColon = b == 0x3A
                }
                return groups >= 3 && groups <= 8 && doubles <= 1
            }
            var parts = 0
            var digits = 0, value = 0
            for b in u {
                if b == 0x2E {
                    guard digits > 0, value <= 255 else { return false }
                    parts += 1
                    digits = 0
                    value = 0
                    continue
                }
                guard b >= 0x30 && b <= 0x39 else { return isAddressByCharacters(s) }  // "+1": as UInt16 reads it
                digits += 1
                value = value * 10 + Int(b - 0x30)
                if digits > 3 { return false }
            }
            return parts == 3 && digits > 0 && value <= 255
        }
        return isAddressByCharacters(s)
    }

    static func isAddressByCharacters(_ s: String) -> Bool {
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

/// The flow-log reader's state from one line to the next: the fields (from the header line, or the default version 2
/// format), and the lines it could not read. `FlowLogParser.parse` and the streaming comparison both read lines
/// with it, so a file reads the same either way.
public struct FlowLogLineParser: Sendable {
    /// Nil until the first non-blank line.
    public private(set) var fields: [String]?
    public private(set) var hasHeader = false
    public private(set) var problems: [ParsedFlowLog.Problem] = []
    private var kinds: [FlowLogParser.Kind] = []

    public init() {}

    public var fieldsOrDefault: [String] { fields ?? FlowLogFormat.defaultV2.fields.map(\.rawValue) }

    /// The values of line `n` (its bytes without the line break) when it is a record; nil for a blank line, a
    /// header, or a malformed line (kept in `problems`).
    public mutating func record(_ line: UnsafeBufferPointer<UInt8>, number n: Int) -> [String]? {
        let tokens = FlowLogParser.tokens(line)
        if tokens.isEmpty { return nil }
        if fields == nil {
            if FlowLogParser.isHeader(tokens) {
                if let dup = FlowLogParser.firstDuplicate(tokens) {
                    problems.append(.init(line: n, message: "header names field '\(dup)' twice"))
                    setFields(FlowLogFormat.defaultV2.fields.map(\.rawValue))
                    return nil
                }
                setFields(tokens)
                hasHeader = true
                return nil
            }
            // No header: the default Transit Gateway Flow Logs format when the line has its fields and version
            // 6 (TGW-UG tgw-flow-logs, "Transit Gateway Flow Log records"), else the default version 2 format.
            if tokens.count == TGWFlowLogField.allCases.count, tokens[0] == "6" {
                setFields(TGWFlowLogField.allCases.map(\.rawValue))
            } else {
                setFields(FlowLogFormat.defaultV2.fields.map(\.rawValue))
            }
        }
        guard let fs = fields else { return nil }
        guard tokens.count == fs.count else {
            problems.append(.init(line: n, message: "expected \(fs.count) fields (\(hasHeader ? "from the header" : fs.contains("tgw-id") ? "default Transit Gateway format" : "default version 2 format")), found \(tokens.count)"))
            return nil
        }
        if tokens == fs, FlowLogParser.isHeader(tokens) { return nil }  // a repeated header (concatenated files)
        if let why = FlowLogParser.invalid(tokens, fs, kinds) {
            problems.append(.init(line: n, message: why))
            return nil
        }
        return tokens
    }

    private mutating func setFields(_ fs: [String]) {
        fields = fs
        kinds = fs.map(FlowLogParser.Kind.init)
    }
}
