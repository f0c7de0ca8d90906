/// The one error type that crosses from the library to the `pipeline` executable.
///
/// Like swift-nio's `FileSystemError`: a code to match on, a message for people, where it happened,
/// and the underlying cause. The executable alone turns `code` into an exit status.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable, CaseIterable {
        /// The command line was wrong.
        case usage
        /// Input data was bad past what the stage tolerates.
        case data
        /// An input file or directory does not exist.
        case noInput
        /// A bug or an impossible state inside the tool.
        case `internal`
        /// Reading or writing a file or talking to a database failed.
        case io
        /// Another run holds the lock; try again later.
        case locked
        /// The pipeline file or configuration is wrong.
        case config
        /// The run was stopped by a signal (see `signal`).
        case interrupted
    }

    public var code: Code
    public var message: String
    public var location: SourceLocation?
    public var cause: (any Error)?
    /// For `.interrupted`: the signal that stopped the run.
    public var signal: Int32?
    /// A failure that may go away when tried again: a lost connection, a deadlock, a busy database.
    public var isTransient: Bool
    /// The run that failed, when one had started: its id goes on the log line that reports the failure.
    public var run: RunTag?

    public init(
        _ code: Code, _ message: String, location: SourceLocation? = nil, cause: (any Error)? = nil,
        signal: Int32? = nil, isTransient: Bool = false
    ) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause
        self.signal = signal
        self.isTransient = isTransient
    }

    public var description: String {
        var text = location.map { "\($0): \(message)" } ?? message
        if let cause, !message.contains(String(describing: cause)) {
            text += " (\(cause))"
        }
        return text
    }
}

extension PipelineError {
    /// Wraps any error as a `PipelineError`, keeping it when it already is one.
    public static func wrapping(_ error: any Error, as code: Code = .internal, _ message: String? = nil)
        -> PipelineError
    {
        if let error = error as? PipelineError { return error }
        if let convertible = error as? any PipelineErrorConvertible { return convertible.pipelineError }
        return PipelineError(code, message ?? String(describing: error), cause: error)
    }
}

/// Errors of lower layers (database drivers, codecs) that know which pipeline error code they mean.
public protocol PipelineErrorConvertible: Error {
    var pipelineError: PipelineError { get }
}
