import CArchive

/// Writes a reproducible archive through libarchive: the caller adds entries in the order they go in
/// (sorted, for a reproducible package), each a regular file with mode 0644, owner 0:0, no owner names
/// and one fixed modification time; gzip gets no timestamp or file name in its header. The same entries
/// give the same bytes on every machine.
public final class ArchiveWriter {
    public enum Format: String, Sendable, CaseIterable {
        case tarGzip = "tar.gz"
        case tarZstandard = "tar.zst"
        case zip
    }

    private var handle: OpaquePointer?
    public let path: String
    private let mtime: Int64
    private let sink: Sink

    /// Where libarchive's output goes: the caller's file, which may hash it as it is written.
    private final class Sink {
        let output: OutputFile
        var error: (any Error)?
        init(_ output: OutputFile) { self.output = output }
    }

    /// Writes into `output` (an `AtomicOutputFile` the caller commits when `close()` returned);
    /// `level` is the compression level.
    public init(output: OutputFile, format: Format, mtime: Int64, level: Int? = nil) throws {
        path = output.writtenPath
        self.mtime = mtime
        sink = Sink(output)
        handle = archive_write_new()
        guard let handle else { throw ArchiveError(.io, "libarchive could not start a writer", archive: path) }
        do {
            switch format {
            case .tarGzip:
                try check(archive_write_set_format_pax_restricted(handle), "set the tar format")
                try check(archive_write_add_filter_gzip(handle), "add gzip")
                // No time (and no name) in the gzip header: the package must not depend on when it was made.
                try check(archive_write_set_filter_option(handle, "gzip", "timestamp", nil), "leave out the gzip timestamp")
                if let level { try check(archive_write_set_filter_option(handle, "gzip", "compression-level", "\(level)"), "set the level") }
            case .tarZstandard:
                try check(archive_write_set_format_pax_restricted(handle), "set the tar format")
                try check(archive_write_add_filter_zstd(handle), "add zstd")
                if let level { try check(archive_write_set_filter_option(handle, "zstd", "compression-level", "\(level)"), "set the level") }
            case .zip:
                try check(archive_write_set_format_zip(handle), "set the zip format")
                try check(archive_write_zip_set_compression_deflate(handle), "set deflate")
            }
            // A file needs no padding after the last block (as archive_write_open_filename decides).
            try check(archive_write_set_bytes_in_last_block(handle, 1), "set the last block")
            let context = Unmanaged.passUnretained(sink).toOpaque()
            try check(archive_write_open2(handle, context, nil, Self.write, nil, nil), "open for writing")
        } catch {
            archive_write_free(handle)
            self.handle = nil
            throw error
        }
    }

    deinit { if let handle { archive_write_free(handle) } }

    /// Adds a regular file of `size` bytes, its contents given by `contents` in pieces.
    public func add(_ name: String, size: Int64, contents: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard let handle else { throw ArchiveError(.io, "the archive is closed", archive: path, entry: name) }
        guard let entry = archive_entry_new() else { throw ArchiveError(.io, "out of memory", archive: path, entry: name) }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, name)
        archive_entry_set_filetype(entry, carchive_ifreg())
        archive_entry_set_perm(entry, 0o644)
        archive_entry_set_size(entry, size)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        archive_entry_set_mtime(entry, time_t(mtime), 0)
        try check(archive_write_header(handle, entry), "write the header", entry: name)
        var written: Int64 = 0
        try contents { bytes in
            guard bytes.count > 0 else { return }
            let result = archive_write_data(handle, bytes.baseAddress, bytes.count)
            guard result == bytes.count else {
                throw ArchiveError(.io, handle: handle, archive: path, entry: name, action: "write the data")
            }
            written += Int64(result)
        }
        guard written == size else {
            throw ArchiveError(.io, "\(written) bytes were written, the header says \(size)", archive: path, entry: name)
        }
    }

    /// Finishes the archive (the compressor's last block, the trailer) and closes the file.
    public func close() throws {
        guard let handle else { return }
        defer {
            archive_write_free(handle)
            self.handle = nil
        }
        try check(archive_write_close(handle), "finish the archive")
    }

    private func check(_ status: Int32, _ action: String, entry: String? = nil) throws {
        guard status < ARCHIVE_OK else { return }
        if let error = sink.error { throw error }
        throw ArchiveError(.io, handle: handle, archive: path, entry: entry, action: action)
    }

    private static let write: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> Int = {
        _, context, buffer, length in
        guard let context else { return -1 }
        let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
        do {
            try sink.output.write(UnsafeRawBufferPointer(start: buffer, count: length))
            return length
        } catch {
            sink.error = error
            return -1
        }
    }
}
