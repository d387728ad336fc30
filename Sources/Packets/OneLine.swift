/// Text for a one-line message: control characters (a newline, a tab, an escape, C1 controls) and Unicode's line
/// and paragraph separators written as escapes ("\n", "\t", "\u{1b}"), so that a value quoted into an error
/// message can never break it into several lines or drive the terminal. Other text is returned unchanged.
public func escapingControlCharacters(_ text: String) -> String {
    func escaped(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029
    }
    guard text.unicodeScalars.contains(where: escaped) else { return text }
    var out = String.UnicodeScalarView()
    for u in text.unicodeScalars {
        let escape: String
        switch u {
        case "\n": escape = "\\n"
        case "\r": escape = "\\r"
        case "\t": escape = "\\t"
        case "\0": escape = "\\0"
        default:
            guard escaped(u) else { out.append(u); continue }
            escape = "\\u{" + String(u.value, radix: 16) + "}"
        }
        out.append(contentsOf: escape.unicodeScalars)
    }
    return String(out)
}

/// 'value', its control characters escaped: how a message quotes a value from the input.
public func quoted(_ value: String) -> String {
    "'" + escapingControlCharacters(value) + "'"
}
