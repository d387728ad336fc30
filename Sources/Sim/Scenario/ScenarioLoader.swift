#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Packets
import Yams

/// Reads a scenario file (docs/scenarios.md) and resolves it into a `Scenario`: every reference becomes an
/// index, AWS's implicit defaults are filled in, and anything AWS would refuse is a `ScenarioError` naming the
/// file, line and column of the offending YAML node.
public enum ScenarioLoader {
    public static func load(path: String) throws -> Scenario {
        let text: String
        switch readFile(path) {
        case .success(let bytes):
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw ScenarioError(file: path, line: 0, column: 0, message: "cannot read scenario: not valid UTF-8")
            }
            text = s
        case .failure(let reason):
            throw ScenarioError(file: path, line: 0, column: 0, message: "cannot read scenario: \(reason.text)")
        }
        return try load(yaml: text, file: path)
    }

    /// A network scenario and, from a second file the user keeps, the traffic to run through it (`outside_hosts`,
    /// `flows`, `generators`): the network can be regenerated (`vpcsim import terraform`) while the checks stay.
    /// Errors name the file they are in.
    public static func load(networkPath: String, flowsPath: String) throws -> Scenario {
        try load(networkYAML: readText(networkPath), networkFile: networkPath, flowsPath: flowsPath)
    }

    /// The same with the network's text already at hand (an import's).
    public static func load(networkYAML network: String, networkFile networkPath: String, flowsPath: String) throws -> Scenario {
        let flows = try readText(flowsPath)
        let (root, reader) = try ScenarioIncludes.resolve(compose(network, file: networkPath), yaml: network, file: networkPath)
        let flowsRoot = try compose(flows, file: flowsPath)
        var builder = ScenarioBuilder(reader: reader)
        return try builder.build(root, flowsFile: (flowsRoot, YAMLReader(file: flowsPath)))
    }

    static func readText(_ path: String) throws -> String {
        switch readFile(path) {
        case .success(let bytes):
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw ScenarioError(file: path, line: 0, column: 0, message: "cannot read scenario: not valid UTF-8")
            }
            return s
        case .failure(let reason):
            throw ScenarioError(file: path, line: 0, column: 0, message: "cannot read scenario: \(reason.text)")
        }
    }

    /// `yaml` parsed into its node tree: too deep a nesting, a syntax error or an empty file (`empty` says what
    /// was empty) is a one-line error at its place in `file`.
    static func compose(_ yaml: String, file: String, empty: String = "the file is empty") throws -> Node {
        // Before the composer recurses into it: thousands of levels would overflow the stack.
        if let (line, column) = NestingLimit.firstTooDeep(yaml: yaml) {
            throw ScenarioError(file: file, line: line, column: column, message: NestingLimit.message)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let e as YamlError {
            throw syntaxError(e, file: file, yaml: yaml)
        }
        guard let root, !YAMLReader.isNull(root) else {
            throw ScenarioError(file: file, line: 1, column: 1, message: empty)
        }
        return root
    }

    public static func load(yaml: String, file: String) throws -> Scenario {
        let (root, reader) = try ScenarioIncludes.resolve(compose(yaml, file: file, empty: "the scenario is empty"),
                                                         yaml: yaml, file: file)
        var builder = ScenarioBuilder(reader: reader)
        return try builder.build(root)
    }

    struct OSError: Error { var text: String }

    /// The whole file, or the OS's reason it cannot be read ("No such file or directory").
    static func readFile(_ path: String) -> Result<[UInt8], OSError> {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return .failure(OSError(text: String(cString: strerror(errno)))) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(OSError(text: String(cString: strerror(errno))))
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return .success(out)
    }

    /// A YAML syntax error at Yams' own mark, on one line.
    static func syntaxError(_ e: YamlError, file: String, yaml: String) -> ScenarioError {
        func make(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> ScenarioError {
            var message = "YAML syntax error: "
            if let context { message += "\(context.text) (line \(context.mark.line)), " }
            message += problem
            return ScenarioError(file: file, line: mark.line, column: mark.column, message: message)
        }
        switch e {
        case let .scanner(context, problem, mark, _): return make(context, problem, mark)
        case let .parser(context, problem, mark, _): return make(context, problem, mark)
        case let .composer(context, problem, mark, _): return make(context, problem, mark)
        case let .reader(problem, offset, _, _):
            var line = 0, column = 0
            if let offset {
                line = 1
                column = 1
                for c in yaml.prefix(offset) {
                    if c == "\n" { line += 1; column = 1 } else { column += 1 }
                }
            }
            return ScenarioError(file: file, line: line, column: column, message: "YAML error: \(problem)")
        default:
            return ScenarioError(file: file, line: 0, column: 0, message: "YAML error: \(e)")
        }
    }
}
