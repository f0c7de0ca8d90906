/// A problem with one record of an input file. Readers report it and carry on with the next record;
/// the caller decides whether to skip the row or stop.
public struct RowError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based physical line where the record starts.
    public var line: Int
    /// 1-based: for CSV the field number, for JSONL the byte offset in the line plus one.
    public var column: Int
    public var reason: String

    public init(line: Int, column: Int, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "line \(line), column \(column): \(reason)" }

    /// The error as a pipeline error pointing into `file`, for callers that stop at the first bad row.
    public func pipelineError(file: String) -> PipelineError {
        PipelineError(.data, reason, location: SourceLocation(file: file, line: line, column: column))
    }
}

/// Where a reader stands between two records, to continue there after a restart.
public struct ReaderPosition: Sendable, Hashable, Codable {
    /// The file offset where the next record starts.
    public var offset: Int64
    /// The 1-based line where the next record starts.
    public var line: Int

    public init(offset: Int64, line: Int) {
        self.offset = offset
        self.line = line
    }
}

/// What a reader found for one record: where it starts and whether it is usable.
public struct RecordStatus: Sendable, Hashable {
    /// 1-based physical line where the record starts.
    public var line: Int
    /// Nil when the record was read into the buffer completely and correctly.
    public var error: RowError?

    public init(line: Int, error: RowError? = nil) {
        self.line = line
        self.error = error
    }

    public var isValid: Bool { error == nil }
}
