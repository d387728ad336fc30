#if canImport(CYaml)
import CYaml
#endif

/// How deeply mappings and lists may nest in a scenario or an AWS dump, checked before anything builds a tree
/// of the input: the YAML composer (Yams) recurses once per level, and a few thousand levels overflow the stack (a
/// crash, not an error); JSONSerialization stops at 512 levels, with a message that gives no line. No scenario or
/// AWS CLI output comes near the limit (a scenario nests about eight levels, describe-security-groups about six).
public enum NestingLimit {
    public static let maxDepth = 64

    /// "nesting deeper than 64 levels"
    static var message: String { "nesting deeper than \(maxDepth) levels" }

    /// The line and column (from 1, columns in Unicode scalars, as Yams counts them) of the first mapping or list
    /// that opens deeper than `maxDepth`, or of an alias that would put its anchor's node deeper in the composed
    /// tree (`k2: &k2 [*k1]`, line after line, nests without indenting), found in libyaml's event stream (the
    /// parser itself keeps its state on the heap, not the stack); nil when there is none, or when the text is not
    /// valid YAML before such a place (the composer then reports the syntax error where it is).
    static func firstTooDeep(yaml: String) -> (line: Int, column: Int)? {
        var text = yaml
        return text.withUTF8 { buffer -> (line: Int, column: Int)? in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // Per open mapping or list: the height of its tallest child so far, and its anchor if it has one.
            var open: [(tallestChild: Int, anchor: String?)] = []
            // The height of each anchored node (a scalar's is 0, a collection's 1 + its tallest child's).
            var heights: [String: Int] = [:]
            func anchor(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                p.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            }
            func child(_ height: Int) {
                if !open.isEmpty { open[open.count - 1].tallestChild = max(open[open.count - 1].tallestChild, height) }
            }
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                let mark = event.start_mark
                let position = (Int(mark.line) + 1, Int(mark.column) + 1)
                switch event.type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let name = event.type == YAML_SEQUENCE_START_EVENT
                        ? anchor(event.data.sequence_start.anchor) : anchor(event.data.mapping_start.anchor)
                    open.append((0, name))
                    if open.count > maxDepth { return position }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    let closed = open.removeLast()
                    let height = closed.tallestChild + 1
                    if let name = closed.anchor { heights[name] = height }
                    child(height)
                case YAML_SCALAR_EVENT:
                    if let name = anchor(event.data.scalar.anchor) { heights[name] = 0 }
                case YAML_ALIAS_EVENT:
                    let height = anchor(event.data.alias.anchor).flatMap { heights[$0] } ?? 0
                    if open.count + height > maxDepth { return position }
                    child(height)
                case YAML_STREAM_END_EVENT:
                    return nil
                default:
                    break
                }
            }
            return nil
        }
    }

    /// The byte offset of the first `[` or `{` that opens deeper than `maxDepth` in JSON text (brackets inside
    /// strings do not count); nil when there is none. Malformed JSON is left to the JSON parser to report.
    static func firstTooDeep(json bytes: [UInt8]) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for (i, b) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if b == 0x5C {  // backslash
                    escaped = true
                } else if b == 0x22 {
                    inString = false
                }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x5B, 0x7B:  // [ {
                depth += 1
                if depth > maxDepth { return i }
            case 0x5D, 0x7D: depth -= 1
            default: break
            }
        }
        return nil
    }

    /// Line and column (from 1, columns in Unicode scalars) of a byte offset in UTF-8 text.
    static func position(ofByte offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for b in bytes[..<min(offset, bytes.count)] {
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}
