import Foundation
import Pipelines

/// One reconciliation's comparison, kept in `reconcile.db` in the run's folder until the stage completes:
/// a resumed apply works from the figures the first attempt read, never from figures it changed itself.
/// Table `comparison` has one row per key (a normalised SKU), in key order:
/// `status` equal | different | feed_only | shop_only | untracked, the SKUs as each side wrote them, the
/// shop's figure and the feed's, and the apply's `outcome` (applied | conflict).
final class ReconcileComparison {
    let database: SQLiteConnection
    let path: String

    enum Status: String, CaseIterable {
        case equal, different
        case feedOnly = "feed_only"
        case shopOnly = "shop_only"
        case untracked
    }

    /// Opens the comparison an earlier attempt completed for the same feed and settings, or nil.
    static func reopen(path: String, fingerprint: String, logger: Logger) throws -> ReconcileComparison? {
        guard FileSupport.exists(path) else { return nil }
        let comparison = try ReconcileComparison(path: path, logger: logger)
        if try comparison.meta("fingerprint") == fingerprint, try comparison.meta("complete") == "1" { return comparison }
        comparison.database.close()
        try comparison.remove()
        return nil
    }

    init(path: String, logger: Logger) throws {
        self.path = path
        database = try SQLiteConnection(path: path, logger: logger)
        try database.executeScript("PRAGMA cache_size=-8192; PRAGMA foreign_keys=OFF")
    }

    func remove() throws {
        database.close()
        for suffix in ["", "-wal", "-shm", "-journal"] { try FilePlacement.remove(path + suffix) }
    }

    func meta(_ name: String) throws -> String? {
        guard try database.tableColumns(try SQLName(validating: "meta")) != nil else { return nil }
        var value: String?
        try database.query("SELECT value FROM meta WHERE name = $1", [.text(name)], columns: { _ in }) { value = $0.string(0) }
        return value
    }

    func setMeta(_ name: String, _ value: String) throws {
        try database.execute(
            "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [.text(name), .text(value)])
    }

    enum Selection {
        case status(Status)
        case notEqual
        case all
    }

    /// The selected rows in key order, after `key`, at most `limit`.
    func rows(_ selection: Selection, after key: String? = nil, limit: Int? = nil, _ body: (ComparedRow) throws -> Void) throws {
        var sql = "SELECT key, status, shop_sku, feed_sku, variant_id, has_level, shop_qty, feed_qty, outcome FROM comparison WHERE "
        var parameters: [SQLValue] = []
        switch selection {
        case .status(let status):
            sql += "status = $1"
            parameters.append(.text(status.rawValue))
        case .notEqual: sql += "status <> 'equal'"
        case .all: sql += "1 = 1"
        }
        if let key {
            sql += " AND key > $\(parameters.count + 1)"
            parameters.append(.text(key))
        }
        sql += " ORDER BY key" + (limit.map { " LIMIT \($0)" } ?? "")
        try database.query(sql, parameters, columns: { _ in }) { row in
            try body(
                ComparedRow(
                    key: row.string(0) ?? "", status: Status(rawValue: row.string(1) ?? "") ?? .equal, shopSKU: row.string(2),
                    feedSKU: row.string(3), variantID: row.int64(4), hasLevel: row.int64(5) == 1, shopQuantity: row.int64(6),
                    feedQuantity: row.int64(7), outcome: row.string(8)))
        }
    }

    func setOutcomes(_ outcomes: [(key: String, outcome: String)]) throws {
        try database.inTransaction {
            for (key, outcome) in outcomes {
                try database.execute("UPDATE comparison SET outcome = $1 WHERE key = $2", [.text(outcome), .text(key)])
            }
        }
    }
}

/// One row of the comparison.
struct ComparedRow {
    var key: String
    var status: ReconcileComparison.Status
    var shopSKU: String?
    var feedSKU: String?
    var variantID: Int64?
    var hasLevel: Bool
    var shopQuantity: Int64?
    var feedQuantity: Int64?
    var outcome: String?

    /// Feed figure minus shop figure (a missing shop figure counts as 0).
    var delta: Int64? { feedQuantity.map { $0 - (shopQuantity ?? 0) } }
}
