import Foundation
import Pipelines

/// Applies the comparison's differences to the store, compare-and-set: a figure changes only while the
/// store still holds the value the comparison read (or still has none), and each change writes its audit
/// row (`store_inventory_adjustments`) in the same transaction. Chunks commit with their checkpoint, so a
/// resumed apply goes on after the last committed change and never applies one twice.
struct ReconcileApply {
    var store: any DatabaseConnection
    var comparison: ReconcileComparison
    var locationID: Int64
    var location: String
    var audit: AuditFields
    var context: StageContext

    /// What every audit row of this apply shares.
    struct AuditFields {
        var reason: String
        var feedSHA256: String
        var pipeline: String
        var run: String
        var runID: String
        var stage: String
    }

    struct Progress: Codable, Equatable {
        var lastKey: String
        var applied: Int64
        var conflicts: Int64
    }

    func run(total: Int64) throws -> Progress {
        let checkpoints = context.checkpoints
        var progress = try checkpoints.resume(Progress.self, from: store) ?? Progress(lastKey: "", applied: 0, conflicts: 0)
        if !progress.lastKey.isEmpty {
            context.logger.info(
                "inventory.apply-resumed", "resuming the apply after \(progress.applied + progress.conflicts) changes already committed")
        }
        let chunk = checkpoints.isEnabled ? checkpoints.chunkSize : Int(Int32.max)
        while true {
            var rows: [ComparedRow] = []
            try comparison.rows(.status(.different), after: progress.lastKey, limit: chunk) { rows.append($0) }
            guard let last = rows.last else { break }
            let started = Date()
            let before = progress
            try store.inTransaction {
                let appliedAt = StateTime.text(Date())
                var conflicts: [String] = []
                var auditRows: [SQLValue] = []
                var changedVariants: [Int64] = []
                for row in rows {
                    if try apply(row) {
                        progress.applied += 1
                        auditRows += auditRow(row, at: appliedAt)
                        if let id = row.variantID { changedVariants.append(id) }
                    } else {
                        progress.conflicts += 1
                        conflicts.append(row.key)
                    }
                }
                let audit = try store.bulkInsert(into: SQLName(validating: "store_inventory_adjustments"), columns: Self.auditColumns)
                try audit.insert(rows: auditRows[...])
                try audit.finish()
                // Their products no longer hold what the import file says: the next import compares them.
                try ProductSources.forget(productsOfVariants: changedVariants, in: store)
                progress.lastKey = last.key
                if checkpoints.isEnabled { try checkpoints.record(progress, in: store) }
                // The conflicts reach the comparison before the store commits: a crash between the two
                // redoes the chunk, which records them again.
                try comparison.recordConflicts(after: before.lastKey, conflicts)
            }
            context.chunkCommitted(started: started, rows: Int64(rows.count), endOffset: progress.applied + progress.conflicts)
            context.progress(unit: "changes", count: progress.applied + progress.conflicts, done: progress.applied + progress.conflicts, total: total)
            try checkpoints.stopIfRequested()
        }
        return progress
    }

    static let auditColumns = [
        "variant_id", "sku", "location", "before_on_hand", "after_on_hand", "delta", "reason", "feed_sha256", "pipeline", "run", "run_id",
        "stage", "applied_at",
    ]

    /// Changes one figure if the store still holds what the comparison read; false for a conflict.
    private func apply(_ row: ComparedRow) throws -> Bool {
        guard let variantID = row.variantID, let after = row.feedQuantity else { return false }
        if row.hasLevel, let before = row.shopQuantity {
            return try store.execute(
                "UPDATE store_stock_levels SET on_hand = $1 WHERE variant_id = $2 AND location_id = $3 AND on_hand = $4",
                [.integer(after), .integer(variantID), .integer(locationID), .integer(before)]) == 1
        }
        return try store.execute(
            """
            INSERT INTO store_stock_levels (variant_id, location_id, on_hand)
            SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS BIGINT)
            WHERE EXISTS (SELECT 1 FROM store_variants WHERE id = $1)
            AND NOT EXISTS (SELECT 1 FROM store_stock_levels WHERE variant_id = $1 AND location_id = $2)
            """, [.integer(variantID), .integer(locationID), .integer(after)]) == 1
    }

    /// The audit row of an applied change, in `auditColumns` order.
    private func auditRow(_ row: ComparedRow, at appliedAt: String) -> [SQLValue] {
        let after = row.feedQuantity ?? 0
        return [
            .integer(row.variantID ?? 0), .text(row.shopSKU ?? ""), .text(location), row.shopQuantity.map(SQLValue.integer) ?? .null,
            .integer(after), .integer(after - (row.shopQuantity ?? 0)), .text(audit.reason), .text(audit.feedSHA256), .text(audit.pipeline),
            .text(audit.run), .text(audit.runID), .text(audit.stage), .text(appliedAt),
        ]
    }
}
