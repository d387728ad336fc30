import Packets

/// A problem in a scenario file, at the line and column of the offending YAML node (1-based; 0:0 when the
/// file itself could not be read); also an AWS dump's (`AWSImportError`), at its JSON's line and column.
public struct ScenarioError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        // A value quoted into the message (or a file name) may hold a newline or another control character.
        self.message = escapingControlCharacters(message)
    }

    /// "scenarios/x.yaml:12:7: route target nat-0ab is not defined" — always one line.
    public var description: String { escapingControlCharacters("\(file):\(line):\(column): \(message)") }
}
