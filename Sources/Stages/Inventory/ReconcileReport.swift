import Foundation
import Pipelines

/// The reconciliation's report: `report.csv` (every key that is not equal, or every key with
/// `report_equal`, in key order: status, both SKUs, both figures, delta, change in % of the shop's
/// figure, and the apply's outcome) and `summary.json` (counts and totals per status, the gates, the
/// apply). Neither holds a wall-clock time of its own, so a resumed run writes the same bytes.
enum ReconcileReport {
    static let header = ["status", "sku", "feed_sku", "shop", "feed", "delta", "change_percent", "outcome"]

    /// `applied`: whether the apply ran, so that each different row is `applied` or `conflict`.
    static func writeCSV(_ comparison: ReconcileComparison, to path: String, applied: Bool, owner: String) throws -> FileDigest {
        let output = try AtomicOutputFile(path: path, owner: owner)
        do {
            try output.startDigest()
            let writer = CSVWriter(output: output)
            try writer.writeHeader(header)
            func write(_ row: ComparedRow) throws {
                try writer.writeRow([
                    row.status.rawValue, row.shopSKU, row.feedSKU, row.shopQuantity.map(String.init), row.feedQuantity.map(String.init),
                    row.shopSKU != nil && row.feedSKU != nil ? row.delta.map(String.init) : nil, percent(row),
                    applied && row.status == .different ? (row.isConflict ? "conflict" : "applied") : nil,
                ])
            }
            try comparison.rows(.all, write)
            try writer.flush()
            return try output.commitIfChanged().digest
        } catch {
            output.discard()
            throw error
        }
    }

    /// The change in percent of the shop's figure, one decimal, rounded half away from zero; blank when
    /// the shop's figure is 0 or missing.
    static func percent(_ row: ComparedRow) -> String? {
        guard row.shopSKU != nil, row.feedSKU != nil, let shop = row.shopQuantity, shop > 0, let delta = row.delta else { return nil }
        let tenths = (Int128(delta) * 1000 * 2 + (delta >= 0 ? Int128(shop) : -Int128(shop))) / (Int128(shop) * 2)
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths < 0 ? -tenths : tenths
        return "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }
}
