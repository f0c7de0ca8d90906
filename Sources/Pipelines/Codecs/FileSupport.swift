#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which file a path leads to, so that two paths to one file (a link, `..`, a second name) are told apart
/// from two files.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
}

/// Small wrappers over POSIX file calls shared by the input and output files.
public enum FileSupport {
    /// The size of the file at `path`.
    public static func size(of path: String) throws -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { throw PipelineError(.noInput, "no such file: \(path)") }
            throw ioError("read the size of", path)
        }
        return Int64(status.st_size)
    }

    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    static func ioError(_ action: String, _ path: String, _ code: Int32 = errno) -> PipelineError {
        PipelineError(.io, "cannot \(action) \(path): \(describe(code))", isTransient: code == EAGAIN || code == EINTR)
    }

    static func closeDescriptor(_ descriptor: Int32) { _ = close(descriptor) }

    /// `open(2)`, retried on EINTR. A missing file is `.noInput` when `missingIsNoInput`, any other
    /// failure `.io`.
    static func openDescriptor(_ path: String, _ flags: Int32, missingIsNoInput: Bool = true) throws -> Int32 {
        var descriptor: Int32
        repeat {
            descriptor = open(path, flags | O_CLOEXEC, 0o666)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            if errno == ENOENT, missingIsNoInput { throw PipelineError(.noInput, "no such file: \(path)") }
            throw ioError("open", path)
        }
        return descriptor
    }

    /// Opens an existing file for reading and refuses anything but a regular file, without blocking on
    /// a FIFO or a device while it looks (the open is non-blocking; reads after it block as usual).
    /// Gives the descriptor and the file's size.
    static func openRegularFile(_ path: String) throws -> (descriptor: Int32, size: Int64) {
        let descriptor = try openDescriptor(path, O_RDONLY | O_NONBLOCK)
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = ioError("inspect", path)
            closeDescriptor(descriptor)
            throw error
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            closeDescriptor(descriptor)
            throw PipelineError(.noInput, "cannot read \(path): it is \(kindName(status.st_mode)), not a regular file")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return (descriptor, Int64(status.st_size))
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a folder"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFSOCK: "a socket"
        case S_IFCHR, S_IFBLK: "a device"
        default: "not a regular file"
        }
    }

    /// The whole of a regular file of at most `limit` bytes.
    public static func readWholeFile(_ path: String, limit: Int) throws -> [UInt8] {
        let contents = try readStart(of: path, count: limit + 1)
        guard contents.count <= limit else {
            throw PipelineError(.data, "\(path) is larger than the limit of \(ByteCount(Int64(limit)).parameterDisplay)")
        }
        return contents
    }

    /// The first `count` bytes of a regular file (all of it when it is shorter).
    static func readStart(of path: String, count limit: Int) throws -> [UInt8] {
        let descriptor = try openRegularFile(path).descriptor
        defer { closeDescriptor(descriptor) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while contents.count < limit {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, min($0.count, limit - contents.count)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError("read", path)
            }
            if count == 0 { break }
            contents.append(contentsOf: chunk[..<count])
        }
        return contents
    }

    /// Whether something (not following a final link) has the name `path`.
    public static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    /// The identity of the file at `path` (its device and inode, following links), nil when there is none.
    public static func identity(of path: String) -> FileIdentity? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    /// Whether two paths name one file: the same path, or (for files that exist) a link or a second name.
    public static func isSameFile(_ first: String, _ second: String) -> Bool {
        first == second || identity(of: first).map { $0 == identity(of: second) } == true
    }

    /// Creates a new file for writing, never through a link; nil when something already has the name.
    static func createExclusively(_ path: String) throws -> Int32? {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
        } while descriptor < 0 && errno == EINTR
        if descriptor < 0 && errno == EEXIST { return nil }
        guard descriptor >= 0 else { throw ioError("create", path) }
        return descriptor
    }

    static func readSome(_ descriptor: Int32, _ target: UnsafeMutableRawPointer, _ count: Int) -> Int {
        read(descriptor, target, count)
    }

    /// Writes all bytes, retrying after interrupts and short writes.
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(descriptor, next, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw ioError("write", path)
            }
            next += written
            remaining -= written
        }
    }

    /// The folder part of a path (`.` for a bare name).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Like `mkdir -p`.
    static func createDirectories(_ path: String) throws {
        if path.isEmpty || path == "." || path == "/" { return }
        var status = stat()
        if stat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw PipelineError(.io, "cannot create folder \(path): a file of that name exists")
            }
            return
        }
        try createDirectories(parentDirectory(of: path))
        if mkdir(path, 0o777) != 0 && errno != EEXIST {
            throw ioError("create folder", path)
        }
    }

    /// Makes a completed rename durable; file systems that cannot sync folders are tolerated.
    static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ioError("open folder", path) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 && errno != EINVAL && errno != EBADF {
            throw ioError("sync folder", path)
        }
    }
}
