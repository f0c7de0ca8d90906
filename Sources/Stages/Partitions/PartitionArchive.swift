import Foundation
import Pipelines

/// Archives a detached child: its rows as CSV (with a header) in `DIR/<child>.tar.gz` through libarchive.
/// The archive is read back and its row count and SHA-256 checked against the table's before the
/// caller may drop the table.
enum PartitionArchive {
    struct Archived {
        var path: String
        var rows: Int64
        var sha256: String
    }

    static func write(_ child: String, qualified: String, to folder: String, database: any DatabaseConnection) throws -> Archived {
        try FilePlacement.createDirectories(folder)
        let csvPath = "\(folder)/.\(child).csv.partial"
        let csv = try OutputFile(path: csvPath)
        defer { try? FilePlacement.remove(csvPath) }
        try csv.startDigest()
        var lines: Int64 = 0
        let wrote = try database.exportCSV("SELECT * FROM \(qualified)", header: true) { line in
            try csv.write(line)
            lines += 1
        }
        guard wrote else { throw PipelineError(.internal, "archiving \(child) needs PostgreSQL's CSV export") }
        let sha256 = try csv.finishDigest() ?? ""
        let size = csv.bytesWritten
        try csv.close()
        var tableRows: Int64 = -1
        try database.query("SELECT count(*) FROM \(qualified)", [], columns: { _ in }) { tableRows = $0.int64(0) ?? -1 }
        let rows = lines - 1
        guard rows == tableRows else {
            throw PipelineError(.data, "archiving \(child): \(rows) rows written but the table holds \(tableRows); it is kept")
        }
        let path = "\(folder)/\(child).tar.gz"
        let output = try AtomicOutputFile(path: path, owner: "partitions")
        do {
            let writer = try ArchiveWriter(output: output, format: .tarGzip, mtime: 0)
            let input = try InputFile(path: csvPath)
            defer { input.close() }
            try writer.add("\(child).csv", size: size) { write in
                repeat {
                    try write(input.available)
                    input.consume(input.available.count)
                } while try input.fillMore()
            }
            try writer.close()
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
        // The same bytes read back: the same rows the table held (their count checked above).
        let readSHA = try readBack(path)
        guard readSHA == sha256 else {
            throw PipelineError(.io, "the archive \(path) does not read back as written (sha256 \(readSHA), not \(sha256)); \(child) is kept")
        }
        return Archived(path: path, rows: rows, sha256: sha256)
    }

    /// SHA-256 of the archive's entries' bytes, read through libarchive.
    static func readBack(_ path: String) throws -> String {
        let reader = try ArchiveReader(path: path)
        let digest = try SHA256Digest()
        try reader.forEach { _, _, read in try read { digest.update($0) } }
        return try digest.finish()
    }
}
