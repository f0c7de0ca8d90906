/// A place in a text file: 1-based line and column.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found in a pipeline file, reported with every other problem of that file in one go.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// All the problems of a pipeline file; thrown when loading fails.
public struct DiagnosticList: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    /// The code that decides the exit status: `.config` for a broken file, `.noInput` for a missing one.
    public var code: PipelineError.Code

    public init(_ diagnostics: [Diagnostic], code: PipelineError.Code = .config) {
        self.diagnostics = diagnostics
        self.code = code
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
