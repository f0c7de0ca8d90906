#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Puts many small files in place, each appearing whole or not at all: written (or linked) under a
/// temporary name `.NAME.place.RANDOM.tmp` beside the target, then renamed. Unlike `AtomicOutputFile`
/// nothing is synced per file: a caller placing thousands of files syncs the file system once with
/// `syncAll()` before it records them as done. A kill leaves at most temporary files,
/// which `isTemporary(name:)` recognises for removal.
public enum FilePlacement {
    static let owner = "place"

    /// Whether a file name is a temporary file of this placement (or of an `AtomicOutputFile`).
    public static func isTemporary(name: String) -> Bool { name.hasPrefix(".") && name.hasSuffix(".tmp") }

    /// A temporary name beside `path` (`.NAME.place.RANDOM.tmp`) for a file written by other means
    /// (a library writing to a path) and then moved into place.
    public static func temporaryPath(for path: String) -> String {
        AtomicOutputFile.temporaryPath(for: path, owner: owner)
    }

    /// The modification time of a file, in seconds since 1970.
    public static func modificationTime(of path: String) throws -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else { throw FileSupport.ioError("inspect", path) }
        return Int64(status.st_mtim.tv_sec)
    }

    /// Writes `bytes` as the file `path` (its folder must exist), replacing what is there.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        var descriptor: Int32 = -1
        let temporary = try createTemporary(for: path) { name in
            guard let created = try FileSupport.createExclusively(name) else { return false }
            descriptor = created
            return true
        }
        do {
            try FileSupport.writeAll(descriptor, bytes, path: temporary)
            guard close(descriptor) == 0 else { throw FileSupport.ioError("close", temporary) }
        } catch {
            _ = unlink(temporary)
            throw error
        }
        try rename(temporary, to: path)
    }

    /// Makes `path` a second name of the file `source` (following a link at `source`), replacing what is
    /// there. Returns false, changing nothing, when the two lie on different file systems.
    public static func hardLink(_ source: String, to path: String) throws -> Bool {
        struct CrossDevice: Error {}
        let temporary: String
        do {
            temporary = try createTemporary(for: path) { name in
                if linkat(AT_FDCWD, source, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0 { return true }
                switch errno {
                case EEXIST: return false
                case EXDEV: throw CrossDevice()
                case let code: throw FileSupport.ioError("link \(source) as", path, code)
                }
            }
        } catch is CrossDevice {
            return false
        }
        try rename(temporary, to: path)
        return true
    }

    /// Renames `source` to `path` (same file system), replacing what is there.
    public static func move(_ source: String, to path: String) throws {
        guard Glibc.rename(source, path) == 0 else { throw FileSupport.ioError("rename \(source) to", path) }
    }

    /// Copies a file's bytes to a new file `path` (not through a link), streaming.
    public static func copy(_ source: String, to path: String) throws {
        let input = try InputFile(path: source)
        defer { input.close() }
        guard let descriptor = try FileSupport.createExclusively(path) else {
            throw PipelineError(.io, "cannot create \(path): something has that name")
        }
        defer { close(descriptor) }
        repeat {
            let bytes = input.available
            try FileSupport.writeAll(descriptor, bytes, path: path)
            input.consume(bytes.count)
        } while try input.fillMore()
    }

    /// Points the symbolic link `path` at `target` (relative to the link's folder) with one rename, so
    /// that a reader sees the old target or the new one, never none.
    public static func replaceSymbolicLink(at path: String, pointingTo target: String) throws {
        let temporary = try createTemporary(for: path) { name in
            if symlink(target, name) == 0 { return true }
            guard errno == EEXIST else { throw FileSupport.ioError("create the link", name) }
            return false
        }
        try rename(temporary, to: path)
    }

    /// Removes a file; a file already gone is fine.
    public static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw FileSupport.ioError("remove", path) }
    }

    /// Removes an empty folder; returns false when it is not empty (or gone).
    @discardableResult
    public static func removeEmptyDirectory(_ path: String) -> Bool { rmdir(path) == 0 }

    /// Like `mkdir -p`.
    public static func createDirectories(_ path: String) throws { try FileSupport.createDirectories(path) }

    /// Puts everything written so far on disk, once for all the files placed (`sync(2)`; Glibc exposes
    /// `syncfs` only to C code built with _GNU_SOURCE).
    public static func syncAll() { sync() }

    /// The entries of a folder (without `.` and `..`) with whether each is a folder, a regular file or
    /// something else; nil when the folder does not exist.
    public static func entries(of directory: String) throws -> [(name: String, kind: EntryKind)]? {
        guard let handle = opendir(directory) else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw FileSupport.ioError("list", directory)
        }
        defer { closedir(handle) }
        var result: [(String, EntryKind)] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            var status = stat()
            let kind: EntryKind
            if lstat("\(directory)/\(name)", &status) != 0 {
                kind = .other
            } else {
                switch status.st_mode & S_IFMT {
                case S_IFDIR: kind = .directory
                case S_IFREG: kind = .file(size: Int64(status.st_size))
                default: kind = .other
                }
            }
            result.append((name, kind))
        }
        return result.sorted { $0.0 < $1.0 }
    }

    public enum EntryKind: Equatable, Sendable {
        case directory
        case file(size: Int64)
        case other
    }

    /// Gives `create` fresh temporary names beside `path` until it makes one (true) rather than finding
    /// the name taken (false); gives that name. `create` throws its other failures.
    private static func createTemporary(for path: String, _ create: (String) throws -> Bool) throws -> String {
        for _ in 0..<8 {
            let temporary = AtomicOutputFile.temporaryPath(for: path, owner: owner)
            if try create(temporary) { return temporary }
        }
        throw PipelineError(.io, "cannot create a temporary name beside \(path): every name tried exists")
    }

    /// Renames a temporary file into place, removing it when that fails.
    private static func rename(_ source: String, to path: String) throws {
        guard Glibc.rename(source, path) == 0 else {
            let code = errno
            _ = unlink(source)
            throw FileSupport.ioError("rename \(source) to", path, code)
        }
    }
}
