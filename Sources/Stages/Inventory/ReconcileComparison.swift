import Foundation
import Pipelines

/// One reconciliation's comparison, kept in `reconcile.db` in the run's folder until the stage completes:
/// a resumed apply works from the figures the first attempt read, never from figures it changed itself.
/// Table `comparison` holds every key (a normalised SKU) whose figures are not equal (every key with
/// `report_equal`), in key order: its status, the SKUs as each side wrote them, the shop's figure and
/// the feed's. Table `conflicts` holds the keys the apply left alone.
final class ReconcileComparison {
    let database: SQLiteScratch
    let path: String
    private var statements: [String: ScratchStatement] = [:]

    enum Status: String, CaseIterable {
        case equal, different
        case feedOnly = "feed_only"
        case shopOnly = "shop_only"
        case untracked
        /// Several variants of one product share the SKU (Vendure allows it): the feed's one figure is
        /// given to none of them.
        case sharedSKU = "shared_sku"
    }

    static let schema = """
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE comparison (
            key TEXT PRIMARY KEY, status TEXT NOT NULL, shop_sku TEXT, feed_sku TEXT, variant_id INTEGER,
            has_level INTEGER, shop_qty INTEGER, feed_qty INTEGER) WITHOUT ROWID;
        CREATE TABLE conflicts (key TEXT PRIMARY KEY) WITHOUT ROWID
        """

    init(path: String) throws {
        self.path = path
        database = try SQLiteScratch(path: path, purpose: "the inventory comparison \(path)", cacheKiB: 4096)
    }

    /// Opens the comparison an earlier attempt completed with the same fingerprint; nil (having removed
    /// whatever was there) when there is none.
    static func reopen(path: String, fingerprint: String) -> ReconcileComparison? {
        guard FileSupport.exists(path) else { return nil }
        if let comparison = try? ReconcileComparison(path: path),
            (try? comparison.meta("complete")) == "1", (try? comparison.meta("fingerprint")) == fingerprint
        {
            return comparison
        }
        remove(path)
        return nil
    }

    static func remove(_ path: String) {
        for suffix in ["", "-journal", "-wal"] { try? FilePlacement.remove(path + suffix) }
    }

    func remove() {
        database.close()
        Self.remove(path)
    }

    /// The prepared statement for `sql`, prepared once.
    func statement(_ sql: String) throws -> ScratchStatement {
        if let prepared = statements[sql] { return prepared }
        let prepared = try database.prepare(sql)
        statements[sql] = prepared
        return prepared
    }

    func meta(_ name: String) throws -> String? {
        let select = try statement("SELECT value FROM meta WHERE name = ?1")
        defer { select.reset() }
        return try Self.withBytes(name) { name in
            try select.bind(text: name, at: 1)
            return try select.step() ? select.withBytes(0) { String(decoding: $0, as: UTF8.self) } : nil
        }
    }

    /// Records the comparison complete, with what it was made from, in one transaction that survives a crash.
    func complete(_ values: [(String, String)]) throws {
        try database.execute("PRAGMA journal_mode=DELETE")
        try database.execute("BEGIN")
        let insert = try statement("INSERT INTO meta (name, value) VALUES (?1, ?2)")
        for (name, value) in values + [("complete", "1")] {
            try Self.withBytes(name) { name in
                try Self.withBytes(value) { value in
                    try insert.bind(text: name, at: 1)
                    try insert.bind(text: value, at: 2)
                    _ = try insert.step()
                    insert.reset()
                }
            }
        }
        try database.execute("COMMIT")
    }

    enum Selection {
        case status(Status)
        case all
    }

    /// The selected rows in key order, after `key`, at most `limit`; with whether each is a conflict.
    func rows(_ selection: Selection, after key: String? = nil, limit: Int = Int(Int32.max), _ body: (ComparedRow) throws -> Void) throws {
        let sql = """
            SELECT c.key, c.status, c.shop_sku, c.feed_sku, c.variant_id, c.has_level, c.shop_qty, c.feed_qty,
                EXISTS (SELECT 1 FROM conflicts x WHERE x.key = c.key)
            FROM comparison c WHERE c.key > ?1 AND (?2 = '' OR c.status = ?2) ORDER BY c.key LIMIT ?3
            """
        let select = try statement(sql)
        defer { select.reset() }
        let status: String
        switch selection {
        case .status(let chosen): status = chosen.rawValue
        case .all: status = ""
        }
        try Self.withBytes(key ?? "") { after in
            try Self.withBytes(status) { status in
                try select.bind(text: after, at: 1)
                try select.bind(text: status, at: 2)
                try select.bind(Int64(limit), at: 3)
                while try select.step() {
                    func text(_ column: Int32) -> String? {
                        select.isNull(column) ? nil : select.withBytes(column) { String(decoding: $0, as: UTF8.self) }
                    }
                    func number(_ column: Int32) -> Int64? { select.isNull(column) ? nil : select.int64(column) }
                    try body(
                        ComparedRow(
                            key: text(0) ?? "", status: Status(rawValue: text(1) ?? "") ?? .equal, shopSKU: text(2), feedSKU: text(3),
                            variantID: number(4), hasLevel: select.int64(5) == 1, shopQuantity: number(6), feedQuantity: number(7),
                            isConflict: select.int64(8) == 1))
                }
            }
        }
    }

    /// Sets the conflicts after `key`: those of a chunk being applied (again, after a crash).
    func recordConflicts(after key: String, _ keys: [String]) throws {
        try database.execute("BEGIN")
        let clear = try statement("DELETE FROM conflicts WHERE key > ?1")
        try Self.withBytes(key) {
            try clear.bind(text: $0, at: 1)
            _ = try clear.step()
            clear.reset()
        }
        let insert = try statement("INSERT INTO conflicts (key) VALUES (?1)")
        for conflict in keys {
            try Self.withBytes(conflict) {
                try insert.bind(text: $0, at: 1)
                _ = try insert.step()
                insert.reset()
            }
        }
        try database.execute("COMMIT")
    }

    /// How many rows of the comparison break a rule on their figures (`?1` is `value`), and the first of
    /// them as `SKU shop → feed`.
    func count(where rule: String, _ value: Int64) throws -> (Int64, String) {
        let count = try statement("SELECT count(*) FROM comparison WHERE status = 'different' AND \(rule)")
        defer { count.reset() }
        try count.bind(value, at: 1)
        guard try count.step(), count.int64(0) > 0 else { return (0, "") }
        let first = try statement(
            "SELECT shop_sku, shop_qty, feed_qty FROM comparison WHERE status = 'different' AND \(rule) ORDER BY key LIMIT 1")
        defer { first.reset() }
        try first.bind(value, at: 1)
        guard try first.step() else { return (count.int64(0), "") }
        let sku = first.withBytes(0) { String(decoding: $0, as: UTF8.self) }
        let shop = first.isNull(1) ? "none" : String(first.int64(1))
        return (count.int64(0), "\(sku) \(shop) → \(first.int64(2))")
    }

    static func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var text = text
        return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
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
    var isConflict = false

    /// Feed figure minus shop figure (a missing shop figure counts as 0); none for a shared SKU, which has
    /// no one figure in the store.
    var delta: Int64? { status == .sharedSKU ? nil : feedQuantity.map { $0 - (shopQuantity ?? 0) } }
}
