import Pipelines

/// The photos an extraction left out, as CSV: one row per photo with its product, SKU, asset, a reason
/// code and a sentence. Reasons: `missing`, `outside-assets`, `unreadable`, `download-refused`, `empty`,
/// `not-an-image`, `truncated`, `malformed`, `too-small`, `too-large`, `no-label`, `duplicate`,
/// `conflict`, `label-too-small`. Rewritten only when its contents change.
enum PhotoReport {
    static let columns = ["product_id", "product", "sku", "asset_id", "asset", "reason", "detail"]

    static func write(from scratch: PhotoScratch, to path: String, owner: String) throws -> (file: FileDigest, rows: Int64) {
        var rows: Int64 = 0
        let (digest, _) = try AtomicOutputFile.writeIfChanged(path: path, owner: owner) { output in
            let writer = CSVWriter(output: output)
            try writer.writeHeader(columns)
            try scratch.each(
                """
                SELECT c.product_id, c.product_name, c.sku, c.asset_id, c.asset, e.reason, e.detail
                FROM excluded e JOIN candidates c ON c.seq = e.seq ORDER BY e.seq
                """
            ) { row in
                try writer.writeRow([
                    String(row.int64(0) ?? 0), row.string(1), row.string(2), String(row.int64(3) ?? 0), row.string(4), row.string(5),
                    row.string(6),
                ])
            }
            rows = writer.rowsWritten
        }
        return (digest, rows)
    }
}
