import CArchive

/// Reads an archive (tar, gzip/zstd-compressed tar, zip) that is never trusted: each entry must be a
/// regular file with a relative path that stays inside the archive (no `..`, no absolute path, no link,
/// no device, no directory tricks), named once, its data the size its header says; the whole must stay
/// under a size limit and a compression-ratio limit (bombs). The first broken rule is an `ArchiveError`
/// naming the entry.
public final class ArchiveReader {
    public struct Limits: Sendable {
        public var maximumEntries: Int = 10_000
        public var maximumBytes: Int64 = 8 << 30
        /// Expanded bytes per archive byte, beyond the first MiB.
        public var maximumRatio: Int64 = 200

        public init() {}
    }

    public let path: String
    private var handle: OpaquePointer?
    private let limits: Limits
    private let archiveBytes: Int64

    public init(path: String, limits: Limits = Limits()) throws {
        self.path = path
        self.limits = limits
        archiveBytes = try FileSupport.size(of: path)
        handle = archive_read_new()
        guard let handle else { throw ArchiveError(.io, "libarchive could not start a reader", archive: path) }
        archive_read_support_filter_gzip(handle)
        archive_read_support_filter_zstd(handle)
        archive_read_support_format_tar(handle)
        archive_read_support_format_zip(handle)
        guard archive_read_open_filename(handle, path, 1 << 16) == ARCHIVE_OK else {
            let error = ArchiveError(.malformed, handle: handle, archive: path, action: "open")
            archive_read_free(handle)
            self.handle = nil
            throw error
        }
    }

    deinit { if let handle { archive_read_free(handle) } }

    /// Calls `body` for each entry with its name and size, then `data` for its bytes in pieces.
    public func forEach(
        _ body: (_ name: String, _ size: Int64, _ read: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Void
    ) throws {
        guard let handle else { throw ArchiveError(.io, "the archive is closed", archive: path) }
        var seen: Set<String> = []
        var total: Int64 = 0
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(handle, &entry)
            if status == ARCHIVE_EOF { return }
            guard status == ARCHIVE_OK, let entry else {
                throw ArchiveError(.malformed, handle: handle, archive: path, action: "read the next entry")
            }
            let name = archive_entry_pathname_utf8(entry).map { String(cString: $0) }
                ?? archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            try Self.checkName(name, archive: path)
            guard archive_entry_hardlink(entry) == nil else {
                throw ArchiveError(.refused, "a hard link; a package holds regular files only", archive: path, entry: name)
            }
            let type = UInt32(archive_entry_filetype(entry))
            guard type == carchive_ifreg() else {
                let kind = type == carchive_iflnk() ? "a symbolic link" : type == carchive_ifdir() ? "a folder" : "a device or special file"
                throw ArchiveError(.refused, "\(kind); a package holds regular files only", archive: path, entry: name)
            }
            guard seen.insert(name).inserted else {
                throw ArchiveError(.refused, "the name appears twice", archive: path, entry: name)
            }
            guard seen.count <= limits.maximumEntries else {
                throw ArchiveError(.refused, "more than \(limits.maximumEntries) entries", archive: path, entry: name)
            }
            let size = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : -1
            guard size >= 0 else { throw ArchiveError(.refused, "no size in its header", archive: path, entry: name) }
            var read: Int64 = 0
            try body(name, size) { consume in
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let count = buffer.withUnsafeMutableBytes { archive_read_data(handle, $0.baseAddress, $0.count) }
                    if count == 0 { break }
                    guard count > 0 else { throw ArchiveError(.malformed, handle: handle, archive: path, entry: name, action: "read the data") }
                    read += Int64(count)
                    total += Int64(count)
                    guard read <= size else { throw ArchiveError(.refused, "more data than its header's \(size) bytes", archive: path, entry: name) }
                    try checkTotal(total, entry: name)
                    try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
                }
            }
            // Whatever the body did not read is still counted: a bomb cannot hide in skipped entries.
            if read < size {
                total += size - read
                try checkTotal(total, entry: name)
                archive_read_data_skip(handle)
            }
        }
    }

    private func checkTotal(_ total: Int64, entry: String) throws {
        guard total <= limits.maximumBytes else {
            throw ArchiveError(.refused, "the archive expands beyond \(limits.maximumBytes) bytes", archive: path, entry: entry)
        }
        guard total <= (1 << 20) + archiveBytes * limits.maximumRatio else {
            throw ArchiveError(
                .refused, "the archive expands more than \(limits.maximumRatio) times its size (a compression bomb?)", archive: path,
                entry: entry)
        }
    }

    /// A relative path of plain components: no `..`, `.`, empty or absolute part, no backslash, no NUL.
    static func checkName(_ name: String, archive: String) throws {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains("\\"), !name.contains("\0"),
            parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else { throw ArchiveError(.refused, "a path that is absolute or leaves the folder", archive: archive, entry: name) }
    }
}
