#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Yams

/// Where the lines of included files start. Each included file is composed after as many blank lines as the
/// files read before it hold, so every node's line is unique across the files; a line maps back to its file and
/// its line there.
struct IncludedLines {
    /// Ascending; lines before the first belong to the including (top) file.
    var starts: [(firstLine: Int, file: String)] = []

    func place(line: Int, default file: String) -> (file: String, line: Int) {
        var result = (file: file, line: line)
        guard line > 0 else { return result }
        for s in starts where line >= s.firstLine { result = (s.file, line - s.firstLine + 1) }
        return result
    }
}

/// `include: [network.yaml, checks.yaml]` at the top of a scenario: the top-level keys of each named file (a path
/// relative to the including file; included files may include others) join the scenario's own, as
/// `vpcsim run --network N --flows F` composes two files, so a network regenerated from each plan and the checks
/// the user keeps can be one scenario. A key may be in one file only. A file that cannot be read, an include
/// cycle, includes nested deeper than `maxDepth` and a key defined twice are errors at the `include` entry of the
/// including file; an error inside an included file names that file.
enum ScenarioIncludes {
    static let maxDepth = 8

    /// `root` (composed from `yaml`, read from `file`) with its includes merged in, and the reader whose errors
    /// name the file each node came from. Without an `include` key, `root` as it is.
    static func resolve(_ root: Node, yaml: String, file: String) throws -> (root: Node, reader: YAMLReader) {
        var reader = YAMLReader(file: file)
        guard case .mapping(let m) = root,
              m.contains(where: { if case .scalar(let k) = $0.key { return k.string == "include" } else { return false } })
        else { return (root, reader) }
        var resolver = Resolver(top: file, nextLine: lineCount(yaml) + 1)
        let pairs = try resolver.expand(m, file: file, chain: [canonical(file) ?? file], display: [file])
        reader.sources = resolver.sources
        return (.mapping(Node.Mapping(pairs, m.tag, m.style, m.mark)), reader)
    }

    static func lineCount(_ text: String) -> Int {
        var n = 1
        for b in text.utf8 where b == 0x0A { n += 1 }
        return n
    }

    static func canonical(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    struct Resolver {
        let top: String
        var nextLine: Int
        var sources = IncludedLines()

        init(top: String, nextLine: Int) {
            self.top = top
            self.nextLine = nextLine
        }

        var reader: YAMLReader {
            var r = YAMLReader(file: top)
            r.sources = sources
            return r
        }

        /// The pairs of mapping `m` (from `file`) without its `include`, followed by each included file's.
        mutating func expand(_ m: Node.Mapping, file: String, chain: [String], display: [String]) throws -> [(Node, Node)] {
            var pairs: [(Node, Node)] = []
            var includeNode: Node?
            for (k, v) in m {
                if case .scalar(let ks) = k, ks.string == "include" {
                    if includeNode != nil { throw reader.error(at: k, "duplicate key 'include' in scenario") }
                    includeNode = v
                } else {
                    pairs.append((k, v))
                }
            }
            guard let includeNode else { return pairs }
            let r = reader
            let items: [Node]
            if case .scalar = includeNode, !YAMLReader.isNull(includeNode) {
                items = [includeNode]
            } else {
                guard case .sequence(let seq) = includeNode else {
                    throw r.error(at: includeNode, "expected a list of files for 'include', found \(YAMLReader.describe(includeNode))")
                }
                items = Array(seq)
            }
            for item in items {
                let name = try r.word(item, key: "include")
                let path: String
                if name.hasPrefix("/") {
                    path = name
                } else if let slash = file.lastIndex(of: "/") {
                    path = String(file[...slash]) + name
                } else {
                    path = name
                }
                guard let real = ScenarioIncludes.canonical(path) else {
                    throw reader.error(at: item, "cannot read include \(path): \(String(cString: strerror(errno)))")
                }
                if let i = chain.firstIndex(of: real) {
                    let cycle = (display[i...] + [path]).joined(separator: " → ")
                    throw reader.error(at: item, "include cycle: \(cycle)")
                }
                guard chain.count < ScenarioIncludes.maxDepth else {
                    throw reader.error(at: item, "includes nested deeper than \(ScenarioIncludes.maxDepth) files")
                }
                let text: String
                switch ScenarioLoader.readFile(path) {
                case .success(let bytes):
                    guard let s = String(validating: bytes, as: UTF8.self) else {
                        throw reader.error(at: item, "cannot read include \(path): not valid UTF-8")
                    }
                    text = s
                case .failure(let reason):
                    throw reader.error(at: item, "cannot read include \(path): \(reason.text)")
                }
                if let (line, column) = NestingLimit.firstTooDeep(yaml: text) {
                    throw ScenarioError(file: path, line: line, column: column, message: NestingLimit.message)
                }
                // Composed after the lines of every file read so far, so that its nodes' lines are its own.
                let base = nextLine - 1
                sources.starts.append((nextLine, path))
                nextLine += ScenarioIncludes.lineCount(text)
                let composed: Node?
                do {
                    composed = try Yams.compose(yaml: String(repeating: "\n", count: base) + text)
                } catch is YamlError {
                    // Reported at its place in the file itself (composed again, without the blank lines).
                    do { _ = try Yams.compose(yaml: text) } catch let e as YamlError {
                        throw ScenarioLoader.syntaxError(e, file: path, yaml: text)
                    }
                    throw ScenarioError(file: path, line: 0, column: 0, message: "YAML error")
                }
                guard let composed, !YAMLReader.isNull(composed) else {
                    throw ScenarioError(file: path, line: 1, column: 1, message: "the file is empty")
                }
                guard case .mapping(let im) = composed else {
                    throw reader.error(at: composed, "expected a mapping of scenario keys, found \(YAMLReader.describe(composed))")
                }
                let included = try expand(im, file: path, chain: chain + [real], display: display + [path])
                for (k, v) in included {
                    guard case .scalar(let ks) = k else { pairs.append((k, v)); continue }  // reported by the builder
                    if let (earlier, _) = pairs.first(where: { if case .scalar(let e) = $0.0 { return e.string == ks.string } else { return false } }) {
                        throw reader.error(at: item, "'\(ks.string)' is defined twice: at \(reader.location(of: earlier)) "
                                           + "and at \(reader.location(of: k)); keep it in one file")
                    }
                    pairs.append((k, v))
                }
            }
            return pairs
        }
    }
}
