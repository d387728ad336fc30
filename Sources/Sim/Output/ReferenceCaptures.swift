#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// `captures/reference` holds the real captures runs are compared against (captures/README.md). No run writes
/// into it: not a scenario named `reference`, whose default output directory (`captures/<scenario>`) it would be,
/// nor an `--out` that names it or a directory inside it. Both are refused before anything is written.
enum ReferenceCaptures {
    /// Relative to the working directory, as a run's default output directory is.
    static let directory = "captures/reference"

    /// Throws a one-line `Runner.OptionError` when `outDir` is captures/reference or inside it (compared as real
    /// paths: `.`, `..` and symbolic links resolved). `defaulted`: `outDir` is the scenario's default, not `--out`.
    static func refuseOutput(into outDir: String, scenario: Scenario, defaulted: Bool) throws {
        let cwd = FileManager.default.currentDirectoryPath
        let reference = resolved(directory, in: cwd)
        let out = resolved(outDir, in: cwd)
        guard out == reference || out.hasPrefix(reference + "/") else { return }
        let place = (out == reference ? "" : "inside ") + directory
            + ", which holds the reference captures and is never written by a run; choose another with --out DIR"
        if defaulted {
            let what = out == reference ? "" : " " + outDir
            throw Runner.OptionError(description: "\(scenario.file): the default output directory\(what) is \(place)")
        }
        throw Runner.OptionError(description: "\(outDir): not an output directory: it is \(place)")
    }

    /// `path` made absolute against `cwd`, component by component: `.` dropped, `..` taken to the parent, and each
    /// existing prefix replaced by its real path (symbolic links followed); a part that does not exist is kept
    /// as written.
    static func resolved(_ path: String, in cwd: String) -> String {
        let absolute = path.hasPrefix("/") ? path : cwd + "/" + path
        var current = "/"
        for part in absolute.split(separator: "/") where part != "." {
            if part == ".." {
                if let slash = current.lastIndex(of: "/") {
                    current = slash == current.startIndex ? "/" : String(current[..<slash])
                }
                continue
            }
            let next = current == "/" ? "/" + part : current + "/" + part
            if let real = realpath(next, nil) {
                current = String(cString: real)
                free(real)
            } else {
                current = next
            }
        }
        return current
    }
}
