#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An output that appears at its path complete or not at all: bytes go to `.NAME.tmp-PID` in the same
/// folder and `commit()` renames that into place. Without a commit the temporary file is removed.
/// One process must not write the same path through two atomic files at once (they share the temporary).
public final class AtomicOutputFile: OutputFile {
    public let path: String
    public var temporaryPath: String { writtenPath }
    public private(set) var isCommitted = false
    private var isDiscarded = false

    /// `suffix` names the temporary file (`.NAME.tmp-SUFFIX`); by default the process id. A resumable
    /// writer passes a suffix that a later process can find again.
    public init(path: String, temporarySuffix suffix: String? = nil, bufferSize: Int = 1 << 20) throws {
        let folder = FileSupport.parentDirectory(of: path)
        try FileSupport.createDirectories(folder)
        let temporary = Self.temporaryPath(for: path, suffix: suffix)
        let descriptor = try Self.openForWriting(temporary, flags: O_TRUNC)
        self.path = path
        super.init(descriptor: descriptor, path: temporary, closes: true, alreadyWritten: 0, bufferSize: bufferSize)
    }

    private init(path: String, temporary: String, descriptor: Int32, length: Int64, bufferSize: Int) {
        self.path = path
        super.init(descriptor: descriptor, path: temporary, closes: true, alreadyWritten: length, bufferSize: bufferSize)
    }

    /// Continues an interrupted write: reopens the temporary file of the earlier run, cuts it back to the
    /// length recorded at its last checkpoint and appends from there.
    public static func resume(path: String, temporaryPath: String, committedLength: Int64, bufferSize: Int = 1 << 20)
        throws -> AtomicOutputFile
    {
        let descriptor = try FileSupport.openDescriptor(temporaryPath, O_WRONLY)
        var status = stat()
        if fstat(descriptor, &status) == 0 && Int64(status.st_size) < committedLength {
            FileSupport.closeDescriptor(descriptor)
            throw PipelineError(
                .io, "cannot resume \(temporaryPath): it holds \(status.st_size) bytes, the checkpoint recorded \(committedLength)")
        }
        let file = AtomicOutputFile(
            path: path, temporary: temporaryPath, descriptor: descriptor, length: 0, bufferSize: bufferSize)
        try file.truncate(to: committedLength)
        return file
    }

    /// Whether a write recorded as complete at `length` bytes was already renamed into place (the
    /// process ended between the rename and recording that it was done).
    public static func wasCommitted(path: String, temporaryPath: String, length: Int64) -> Bool {
        var status = stat()
        guard stat(temporaryPath, &status) != 0, errno == ENOENT else { return false }
        return stat(path, &status) == 0 && Int64(status.st_size) == length
    }

    public static func temporaryPath(for path: String, suffix: String? = nil) -> String {
        let folder = FileSupport.parentDirectory(of: path)
        let name = ".\(FileSupport.fileName(of: path)).tmp-\(suffix ?? String(getpid()))"
        return path.contains("/") ? (folder == "/" ? "/\(name)" : "\(folder)/\(name)") : name
    }

    deinit {
        if !isCommitted { discard() }
    }

    /// Flushes, syncs and renames the temporary file into place, then syncs the folder.
    public func commit() throws {
        guard !isCommitted else { return }
        guard isOpen else { throw PipelineError(.internal, "commit of discarded file \(path)") }
        do {
            try sync()
            try close()
        } catch {
            discard()
            throw error
        }
        guard rename(writtenPath, path) == 0 else {
            let error = FileSupport.ioError("rename \(writtenPath) to", path)
            discard()
            throw error
        }
        isCommitted = true
        try FileSupport.syncDirectory(FileSupport.parentDirectory(of: path))
    }

    /// Removes the temporary file; the final path is left untouched.
    public func discard() {
        guard !isCommitted && !isDiscarded else { return }
        isDiscarded = true
        abandon()
        _ = unlink(writtenPath)
    }
}
