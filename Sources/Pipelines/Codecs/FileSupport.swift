#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

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

    static func parentDirectory(of path: String) -> String {
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
