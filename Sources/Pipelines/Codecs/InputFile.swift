#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file read through one large buffer. Parsers look at `available`, `consume` what they used, and
/// call `fillMore()` when a record runs past the end of the buffered bytes.
///
/// The buffer only grows when a single record is larger than it, so memory follows the longest
/// record, not the file size.
public final class InputFile {
    public let path: String
    /// The size in bytes when the input is a regular file (nil for pipes), for progress and ETA.
    public let fileSize: Int64?
    /// Bytes read from the file so far (some may still sit unparsed in the buffer).
    public var bytesRead: Int64 { readCount }
    // Stored properties are private: public ones would cost a dynamic exclusivity check per access.
    private var readCount: Int64 = 0

    private var descriptor: Int32
    private let closesDescriptor: Bool
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    /// True once `read` returned 0.
    public var reachedEndOfFile: Bool { endReached }
    private var endReached = false

    public init(path: String, bufferSize: Int = 1 << 20) throws {
        let (descriptor, size) = try FileSupport.openRegularFile(path)
        self.path = path
        self.descriptor = descriptor
        self.closesDescriptor = true
        self.fileSize = size
        capacity = max(bufferSize, 16)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    /// Reads an already open descriptor (e.g. standard input, `0`); it is not closed by this object.
    public init(descriptor: Int32, name: String, bufferSize: Int = 1 << 20) {
        path = name
        self.descriptor = descriptor
        closesDescriptor = false
        fileSize = nil
        capacity = max(bufferSize, 16)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    deinit {
        close()
        buffer.deallocate()
    }

    public func close() {
        if closesDescriptor && descriptor >= 0 { FileSupport.closeDescriptor(descriptor) }
        descriptor = -1
    }

    /// The bytes read but not yet consumed. Invalidated by `fillMore()`.
    @inline(__always)
    public var available: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: buffer + start, count: end - start)
    }

    /// The file offset of the first byte not yet consumed: where the next record starts, between records.
    public var position: Int64 { readCount - Int64(end - start) }

    /// Continues reading at `offset` (a `position` seen earlier). An offset inside the buffered bytes
    /// moves within them; any other drops them and reads from there.
    public func seek(to offset: Int64) throws {
        let buffered = readCount - Int64(end)
        if offset >= buffered && offset <= readCount {
            start = Int(offset - buffered)
            return
        }
        guard lseek(descriptor, off_t(offset), SEEK_SET) == off_t(offset) else {
            throw FileSupport.ioError("seek in", path)
        }
        start = 0
        end = 0
        endReached = false
        readCount = offset
    }

    /// The last `count` bytes consumed, while they are still buffered: until the next `fillMore()` or
    /// `seek`. For showing a record as it was in the file.
    public func consumedBytes(last count: Int) -> UnsafeRawBufferPointer {
        let kept = min(max(count, 0), start)
        return UnsafeRawBufferPointer(start: buffer + start - kept, count: kept)
    }

    /// `count` bytes of the file from `offset`, read again without moving the reading position (`pread`):
    /// a rejected record shown as it was, after its bytes left the buffer. At most 1 MiB.
    public func readBack(offset: Int64, count: Int) -> [UInt8] {
        let wanted = min(max(count, 0), 1 << 20)
        var bytes = [UInt8](repeating: 0, count: wanted)
        let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(offset)) }
        return Array(bytes.prefix(max(read, 0)))
    }

    /// True when everything has been read and consumed.
    public var isAtEnd: Bool { endReached && start == end }

    @inline(__always)
    public func consume(_ count: Int) {
        precondition(count >= 0 && count <= end - start, "consumed more than available")
        start += count
    }

    /// Moves the unconsumed bytes to the front (growing the buffer when they fill it) and reads until the
    /// buffer is full or the file ends. Returns false when no new bytes came: the end of the file.
    @discardableResult
    public func fillMore() throws -> Bool {
        if endReached { return false }
        let pending = end - start
        if pending == capacity {
            capacity *= 2
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            grown.copyMemory(from: buffer + start, byteCount: pending)
            buffer.deallocate()
            buffer = grown
        } else if start > 0 {
            memmove(buffer, buffer + start, pending)
        }
        start = 0
        end = pending
        let before = end
        while end < capacity {
            let count = FileSupport.readSome(descriptor, buffer + end, capacity - end)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSupport.ioError("read", path)
            }
            if count == 0 {
                endReached = true
                break
            }
            end += count
            readCount += Int64(count)
        }
        return end > before
    }

    /// Copies up to `destination.count` bytes out; returns 0 only at the end of the file.
    public func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        if start == end { try fillMore() }
        let count = min(destination.count, end - start)
        if count > 0, let target = destination.baseAddress {
            target.copyMemory(from: buffer + start, byteCount: count)
            start += count
        }
        return count
    }
}
