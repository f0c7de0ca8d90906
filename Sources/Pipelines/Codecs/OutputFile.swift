#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file written through one large buffer. Call `close()` (or `commit()` on an `AtomicOutputFile`)
/// to see write errors; deinit only makes a best effort.
public class OutputFile {
    /// The path of the file being written (for an atomic file: its temporary file).
    public let writtenPath: String
    /// The file's length so far, including bytes still in the buffer (when appending or resuming, counting
    /// what the file already held). A checkpoint records it after `sync()` to `truncate(to:)` on resume.
    public var bytesWritten: Int64 { length }

    // Stored properties are private: public ones would cost a dynamic exclusivity check per access.
    private var length: Int64
    private var descriptor: Int32
    private let closesDescriptor: Bool
    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int
    private var used = 0
    /// The SHA-256 of every byte handed to the operating system, when asked for.
    private var digest: SHA256Digest?

    /// Opens (creating parent folders) and truncates the file, or appends to it.
    public convenience init(path: String, append: Bool = false, bufferSize: Int = 1 << 20) throws {
        try FileSupport.createDirectories(FileSupport.parentDirectory(of: path))
        let descriptor = try Self.openForWriting(path, flags: append ? O_APPEND : O_TRUNC)
        var status = stat()
        let size = fstat(descriptor, &status) == 0 && append ? Int64(status.st_size) : 0
        self.init(descriptor: descriptor, path: path, closes: true, alreadyWritten: size, bufferSize: bufferSize)
    }

    /// Writes to standard output, which is flushed but never closed.
    public static func standardOutput(bufferSize: Int = 1 << 16) -> OutputFile {
        OutputFile(descriptor: 1, path: "standard output", closes: false, alreadyWritten: 0, bufferSize: bufferSize)
    }

    init(descriptor: Int32, path: String, closes: Bool, alreadyWritten: Int64, bufferSize: Int) {
        self.descriptor = descriptor
        writtenPath = path
        closesDescriptor = closes
        length = alreadyWritten
        capacity = max(bufferSize, 64)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    deinit {
        if descriptor >= 0 {
            try? flush()
            closeDescriptor()
        }
        buffer.deallocate()
    }

    static func openForWriting(_ path: String, flags: Int32) throws -> Int32 {
        try FileSupport.openDescriptor(path, O_WRONLY | O_CREAT | flags, missingIsNoInput: false)
    }

    public var isOpen: Bool { descriptor >= 0 }

    @inline(__always)
    public final func write(_ bytes: UnsafeRawBufferPointer) throws {
        let count = bytes.count
        guard count > 0, let source = bytes.baseAddress else { return }
        if used + count > capacity {
            try flush()
            if count >= capacity {
                try ensureOpen()
                try FileSupport.writeAll(descriptor, bytes, path: writtenPath)
                digest?.update(bytes)
                length += Int64(count)
                return
            }
        }
        (buffer + used).copyMemory(from: source, byteCount: count)
        used += count
        length += Int64(count)
    }

    @inline(__always)
    public final func writeByte(_ byte: UInt8) throws {
        if used == capacity { try flush() }
        buffer.storeBytes(of: byte, toByteOffset: used, as: UInt8.self)
        used += 1
        length += 1
    }

    public final func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    public final func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Hands the buffered bytes to the operating system (no fsync).
    public final func flush() throws {
        guard used > 0 else { return }
        try ensureOpen()
        let bytes = UnsafeRawBufferPointer(start: buffer, count: used)
        try FileSupport.writeAll(descriptor, bytes, path: writtenPath)
        digest?.update(bytes)
        used = 0
    }

    /// Starts a SHA-256 of the file's bytes: of those it already holds (read back from disk) and of
    /// everything written from now on; `finishDigest()` gives it.
    public final func startDigest() throws {
        try flush()
        try ensureOpen()
        let digest = try SHA256Digest()
        if length > 0 { try digest.update(fromFile: writtenPath, length: length) }
        self.digest = digest
    }

    /// The SHA-256 started by `startDigest()`, after flushing; nil when none was started.
    public final func finishDigest() throws -> String? {
        try flush()
        defer { digest = nil }
        return try digest?.finish()
    }

    /// Flushes and asks the operating system to put the bytes on disk.
    public final func sync() throws {
        try flush()
        try ensureOpen()
        if fsync(descriptor) != 0 && errno != EINVAL { throw FileSupport.ioError("sync", writtenPath) }
    }

    /// Flushes and closes. Closing twice does nothing.
    public func close() throws {
        guard descriptor >= 0 else { return }
        defer { closeDescriptor() }
        try flush()
    }

    /// Drops unflushed bytes and closes without reporting errors.
    final func abandon() {
        used = 0
        closeDescriptor()
    }

    /// Cuts the file back to `length` bytes (e.g. to the last checkpoint) and continues writing there.
    public final func truncate(to length: Int64) throws {
        try flush()
        try ensureOpen()
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw FileSupport.ioError("truncate", writtenPath) }
        guard lseek(descriptor, off_t(length), SEEK_SET) >= 0 else { throw FileSupport.ioError("seek in", writtenPath) }
        self.length = length
    }

    private func ensureOpen() throws {
        guard descriptor >= 0 else { throw PipelineError(.internal, "write to closed file \(writtenPath)") }
    }

    private func closeDescriptor() {
        if closesDescriptor && descriptor >= 0 { FileSupport.closeDescriptor(descriptor) }
        descriptor = -1
    }
}
