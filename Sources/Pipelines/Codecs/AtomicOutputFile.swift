#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An output that appears at its path complete or not at all: bytes go to a temporary file in the same
/// folder and `commit()` renames that into place. Without a commit the temporary file is removed, unless
/// `keepForResume()` was called.
///
/// The temporary file is created exclusively (`O_EXCL`: a link planted at its name is never followed)
/// under a name nobody can guess: `.NAME.OWNER.RANDOM.tmp`, with NAME shortened so that the whole stays
/// within the 255-byte limit of a file name. An `owner` (a stage's checkpoint key) lets a later run of
/// the same stage find and remove what a killed run left behind; files of other owners are never touched.
public final class AtomicOutputFile: OutputFile {
    public let path: String
    public var temporaryPath: String { writtenPath }
    public private(set) var isCommitted = false
    private var isDiscarded = false
    private var isKept = false

    /// Creates the temporary file; with an `owner`, first removes that owner's leftovers for `path`.
    public init(path: String, owner: String? = nil, bufferSize: Int = 1 << 20) throws {
        let folder = FileSupport.parentDirectory(of: path)
        try FileSupport.createDirectories(folder)
        if let owner { Self.removeLeftovers(of: path, owner: owner) }
        for _ in 0..<8 {
            let temporary = Self.temporaryPath(for: path, owner: owner)
            guard let descriptor = try FileSupport.createExclusively(temporary) else { continue }
            self.path = path
            super.init(descriptor: descriptor, path: temporary, closes: true, alreadyWritten: 0, bufferSize: bufferSize)
            return
        }
        throw PipelineError(.io, "cannot create a temporary file beside \(path): every name tried exists")
    }

    private init(path: String, temporary: String, descriptor: Int32, length: Int64, bufferSize: Int) {
        self.path = path
        super.init(descriptor: descriptor, path: temporary, closes: true, alreadyWritten: length, bufferSize: bufferSize)
    }

    /// Continues an interrupted write: reopens the temporary file of the earlier run (never through a
    /// link), cuts it back to the length recorded at its last checkpoint and appends from there. Other
    /// leftovers of the same owner are removed.
    public static func resume(
        path: String, temporaryPath: String, committedLength: Int64, owner: String? = nil, bufferSize: Int = 1 << 20
    ) throws -> AtomicOutputFile {
        if let owner { removeLeftovers(of: path, owner: owner, except: temporaryPath) }
        let descriptor = try FileSupport.openDescriptor(temporaryPath, O_WRONLY | O_NOFOLLOW)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            FileSupport.closeDescriptor(descriptor)
            throw PipelineError(.io, "cannot resume \(temporaryPath): it is not a regular file")
        }
        if Int64(status.st_size) < committedLength {
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
        guard lstat(temporaryPath, &status) != 0, errno == ENOENT else { return false }
        return stat(path, &status) == 0 && Int64(status.st_size) == length
    }

    /// The bytes of a file name the temporary name keeps: 255 less the dot, the owner, the random part and
    /// the separators.
    static let keptNameBytes = 255 - 1 - 17 - 17 - 4

    static func temporaryPath(for path: String, owner: String?) -> String {
        let random = String(UInt64.random(in: 1 << 60 ... UInt64.max), radix: 16)
        let name = "\(prefix(for: path, owner: owner))\(random).tmp"
        let folder = FileSupport.parentDirectory(of: path)
        return path.contains("/") ? (folder == "/" ? "/\(name)" : "\(folder)/\(name)") : name
    }

    /// `.NAME.OWNER.`: what every temporary file of `owner` for `path` starts with.
    static func prefix(for path: String, owner: String?) -> String {
        var name = Substring(FileSupport.fileName(of: path))
        while name.utf8.count > keptNameBytes { name = name.dropLast() }
        return ".\(name).\(owner ?? "x").".replacingOccurrences(of: "/", with: "_")
    }

    /// Removes the temporary files an earlier, killed run of `owner` left beside `path`.
    static func removeLeftovers(of path: String, owner: String, except kept: String? = nil) {
        let folder = FileSupport.parentDirectory(of: path)
        let prefix = prefix(for: path, owner: owner)
        let keptName = kept.map(FileSupport.fileName)
        guard let directory = opendir(path.contains("/") ? folder : ".") else { return }
        defer { closedir(directory) }
        var leftovers: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix(prefix) && name.hasSuffix(".tmp") && name != keptName { leftovers.append(name) }
        }
        for name in leftovers { _ = unlink(path.contains("/") ? "\(folder)/\(name)" : name) }
    }

    /// Leaves the temporary file in place when this object goes away uncommitted: a checkpoint names it,
    /// and the next run resumes it.
    public func keepForResume() { isKept = true }

    deinit {
        if !isCommitted && !isKept { discard() }
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

    /// Writes the file `path` through `body`, committed only when its bytes changed (`commitIfChanged`);
    /// on an error nothing is left. Gives the file's SHA-256 and size, and whether it was replaced.
    public static func writeIfChanged(path: String, owner: String?, _ body: (OutputFile) throws -> Void) throws
        -> (digest: FileDigest, replaced: Bool)
    {
        let output = try AtomicOutputFile(path: path, owner: owner)
        do {
            try output.startDigest()
            try body(output)
            return try output.commitIfChanged()
        } catch {
            output.discard()
            throw error
        }
    }

    /// Commits unless the file at `path` already holds exactly these bytes, in which case it is left
    /// untouched (not even its time changes). Call `startDigest()` before writing. Gives the file's
    /// SHA-256 and size, and whether it was replaced.
    public func commitIfChanged() throws -> (digest: FileDigest, replaced: Bool) {
        guard let sha256 = try finishDigest() else {
            throw PipelineError(.internal, "commitIfChanged of \(path) without startDigest")
        }
        let digest = FileDigest(path: path, sha256: sha256, bytes: bytesWritten)
        if (try? FileSupport.size(of: path)) == bytesWritten, (try? SHA256Digest.ofFile(path)) == sha256 {
            discard()
            return (digest, false)
        }
        try commit()
        return (digest, true)
    }

    /// Removes the temporary file; the final path is left untouched.
    public func discard() {
        guard !isCommitted && !isDiscarded else { return }
        isDiscarded = true
        abandon()
        _ = unlink(writtenPath)
    }
}
