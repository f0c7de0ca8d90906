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

    /// Opens `path` (the caller renames it into place when complete); `level` is the compression level.
    public init(path: String, format: Format, mtime: Int64, level: Int? = nil) throws {
        self.path = path
        self.mtime = mtime
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
            try check(archive_write_open_filename(handle, path), "open for writing")
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
        throw ArchiveError(.io, handle: handle, archive: path, entry: entry, action: action)
    }
}
