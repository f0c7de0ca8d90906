import CArchive

/// A failed libarchive call, like `DatabaseError`: a code to match on, libarchive's own message and
/// errno, the archive file, and the entry it happened at.
public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The archive could not be opened, read or written.
        case io
        /// The archive is damaged, or not an archive of a kind this tool reads.
        case malformed
        /// An entry is refused: a path out of the folder, a link, a device, a duplicate, too large.
        case refused
    }

    public var code: Code
    public var message: String
    public var archive: String
    public var entry: String?
    public var errno: Int32?

    public init(_ code: Code, _ message: String, archive: String, entry: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.archive = archive
        self.entry = entry
        self.errno = errno
    }

    /// libarchive's last error on `handle`.
    init(_ code: Code, handle: OpaquePointer?, archive: String, entry: String? = nil, action: String) {
        let detail = handle.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown error"
        let number = handle.map { archive_errno($0) }
        self.init(code, "\(action): \(detail)", archive: archive, entry: entry, errno: number)
    }

    public var description: String {
        entry.map { "\(archive): entry '\($0)': \(message)" } ?? "\(archive): \(message)"
    }

    /// As a `PipelineError` with its exit code: a refused or damaged archive is bad data (65).
    public var pipelineError: PipelineError {
        PipelineError(code == .io ? .io : .data, description, cause: self)
    }
}
