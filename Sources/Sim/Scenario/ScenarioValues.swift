import Packets

/// Parsers for the scalar notations a scenario uses (sizes, durations, timestamps, ports, protocols) and the
/// deterministic hash behind generated ids and MACs. Pure functions: they return nil or a reason, and the loader
/// turns that into a positioned `ScenarioError`.
enum ScenarioValues {
    /// 64-bit FNV-1a of the UTF-8 bytes.
    static func fnv1a(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// "eni-" + the hash as 17 lowercase hex digits (zero-padded: a 64-bit hash has 16), the length of a real id.
    static func eniID(hashing key: String) -> String {
        let hex = String(fnv1a(key), radix: 16)
        return "eni-" + String(repeating: "0", count: 17 - hex.count) + hex
    }

    /// A locally administered unicast MAC: 0x0a, then the low 40 bits of the hash of `key`.
    static func mac(hashing key: String) -> MACAddress {
        MACAddress(rawValue: 0x0a << 40 | (fnv1a(key) & 0xFF_FFFF_FFFF))
    }

    /// A decimal number with an optional fraction, scaled by `unit` exactly (no floating point): "1.5" × 1000.
    static func scaled(_ number: Substring, by unit: Int64) -> Int64? {
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigitChar),
              let w = Int64(whole) else { return nil }
        var (value, overflow) = w.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        if parts.count == 2 {
            let frac = parts[1]
            guard !frac.isEmpty, frac.allSatisfy(\.isASCIIDigitChar) else { return nil }
            var scale = unit
            for c in frac {
                guard scale % 10 == 0 else { return nil }  // finer than the unit allows
                scale /= 10
                let digit = Int64(c.asciiValue! - 48)
                (value, overflow) = value.addingReportingOverflow(digit * scale)
                guard !overflow else { return nil }
            }
        }
        return value
    }

    /// Byte sizes: a plain integer is bytes; "B"; KB/MB/GB are powers of 1000 (SI); KiB/MiB/GiB powers of 1024.
    /// "1.5MB" = 1,500,000. Returns nil when malformed.
    static func size(_ text: String) -> Int? {
        let units: [(String, Int64)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
            ("KB", 1_000), ("kB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        let t = text.replacingSpaces()
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            return scaled(t.dropLast(suffix.count), by: factor).map(Int.init)
        }
        return scaled(Substring(t), by: 1).map(Int.init)
    }

    /// Bandwidths: "100Mbps", "1.5Gbps", "800kbps", "1000000bps" (powers of 1000), bits per second, at least 1 kbit/s
    /// and at most 10 Tbit/s. Returns nil when malformed or out of that range.
    static func bandwidth(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("Tbps", 1_000_000_000_000), ("Gbps", 1_000_000_000), ("Mbps", 1_000_000), ("kbps", 1_000), ("Kbps", 1_000),
            ("bps", 1),
        ]
        let t = text.replacingSpaces()
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let v = scaled(t.dropLast(suffix.count), by: factor), v >= 1_000, v <= 10_000_000_000_000 else {
                return nil
            }
            return v
        }
        return nil
    }

    /// Durations: "250ms", "1.5s", "2m", "100us", "10ns"; a bare 0 is allowed. Nanoseconds.
    static func duration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
            ("m", 60_000_000_000), ("h", 3_600_000_000_000),
        ]
        let t = text.replacingSpaces()
        if t == "0" { return 0 }
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count)
            // "ms" also ends in "s": only accept when the rest is a number.
            if let v = scaled(number, by: factor) { return v }
        }
        return nil
    }

    /// An RFC 3339 timestamp ("2026-11-26T09:00:00Z", "2026-11-26 09:00:00.5+01:00") or a date
    /// ("2026-11-26", midnight UTC), as Unix nanoseconds; nil also for a time the nanosecond clock cannot hold
    /// (before 1677-09-21 or after 2262-04-11).
    static func timestamp(_ text: String) -> Int64? {
        guard let (seconds, nanos) = timestampParts(text) else { return nil }
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflow2) = ns.addingReportingOverflow(nanos)
        return overflow2 ? nil : total
    }

    /// An RFC 3339 timestamp or a date, as whole Unix seconds and the nanoseconds after them (any year 0000-9999:
    /// seconds do not overflow).
    static func timestampParts(_ text: String) -> (seconds: Int64, nanos: Int64)? {
        let u = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= u.count else { return nil }
            var v = 0
            for b in u[from..<from + count] {
                guard b >= 48, b <= 57 else { return nil }
                v = v * 10 + Int(b - 48)
            }
            return v
        }
        guard let year = num(0, 4), u.count >= 10, u[4] == 45, let month = num(5, 2), u[7] == 45,
              let day = num(8, 2), (1...12).contains(month), (1...daysIn(month, year)).contains(day) else { return nil }
        let days = daysFromCivil(year, month, day)
        if u.count == 10 { return (Int64(days) * 86_400, 0) }
        guard u.count >= 19, u[10] == 84 || u[10] == 116 || u[10] == 32, let hour = num(11, 2), u[13] == 58,
              let minute = num(14, 2), u[16] == 58, let second = num(17, 2),
              hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if i < u.count, u[i] == 46 {
            i += 1
            var scale: Int64 = 100_000_000
            let start = i
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                nanos += Int64(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start, i - start <= 9 else { return nil }
        }
        var offset = 0
        if i < u.count, u[i] == 90 || u[i] == 122 {
            i += 1
        } else if i < u.count, u[i] == 43 || u[i] == 45 {
            guard let oh = num(i + 1, 2), i + 3 < u.count, u[i + 3] == 58, let om = num(i + 4, 2) else { return nil }
            offset = (oh * 60 + om) * 60 * (u[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil  // a time without a zone is ambiguous
        }
        guard i == u.count else { return nil }
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)
        return (seconds, nanos)
    }

    /// "2106-02-07T06:28:16Z": Unix seconds as an RFC 3339 time in UTC (Howard Hinnant's civil_from_days).
    static func rfc3339(seconds: Int64) -> String {
        let (year, month, day, second) = civil(seconds: seconds)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(second / 3600))"
            + ":\(two(second / 60 % 60)):\(two(second % 60))Z"
    }

    /// The UTC civil date of Unix seconds (H. Hinnant's days-from-civil inverse), and the second of that day.
    static func civil(seconds: Int64) -> (year: Int64, month: Int64, day: Int64, second: Int64) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day, seconds - days * 86_400)
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// "22", "1024-65535" (0–65535, low ≤ high).
    static func portRange(_ text: String) -> PortRange? {
        // Fast path for plain "n" / "lo-hi" (ASCII digits, at most one '-'), the same checks in one pass;
        // anything else (spaces, other characters) takes the general path below.
        var fields: (UInt32, UInt32) = (0, 0), lengths = (0, 0), dashes = 0, plain = true
        for c in text.utf8 {
            if c == UInt8(ascii: "-") {
                dashes += 1
                if dashes > 1 { plain = false; break }
            } else if c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                let d = UInt32(c - UInt8(ascii: "0"))
                if dashes == 0 { fields.0 = fields.0 &* 10 &+ d; lengths.0 += 1 } else { fields.1 = fields.1 &* 10 &+ d; lengths.1 += 1 }
                if lengths.0 > 5 || lengths.1 > 5 { return nil }
            } else {
                plain = false
                break
            }
        }
        if plain {
            if dashes == 0 { fields.1 = fields.0; lengths.1 = lengths.0 }
            guard lengths.0 > 0, lengths.1 > 0, fields.0 <= 65535, fields.1 <= 65535, fields.0 <= fields.1 else { return nil }
            return PortRange(UInt16(fields.0), UInt16(fields.1))
        }
        let t = text.replacingSpaces()
        let parts = t.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 5 && $0.allSatisfy(\.isASCIIDigitChar) }),
              let lo = UInt16(parts[0]), let hi = UInt16(parts[parts.count - 1]), lo <= hi else { return nil }
        return PortRange(lo, hi)
    }

    /// "tcp", "udp", "icmp", "all" / "-1", or a protocol number 0–255.
    static func protocolMatch(_ text: String) -> ProtocolMatch? {
        switch text.lowercased() {
        case "all", "-1": return .all
        case "tcp": return .number(.tcp)
        case "udp": return .number(.udp)
        case "icmp": return .number(.icmp)
        case "icmpv6": return .number(.icmpv6)
        default:
            guard text.allSatisfy(\.isASCIIDigitChar), let n = UInt8(text) else { return nil }
            return .number(IPProtocol(rawValue: n))
        }
    }
}

fileprivate extension Character {
    var isASCIIDigitChar: Bool { isASCII && isNumber }
}

fileprivate extension String {
    func replacingSpaces() -> String { String(filter { $0 != " " }) }
}
