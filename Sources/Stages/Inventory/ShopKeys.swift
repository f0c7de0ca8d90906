import Foundation
import Pipelines

/// The store's side of a comparison: its variants with their figure at the location, under their keys,
/// in a private scratch table `shop (key, sku, variant_id, tracked, on_hand, has_level, shared)`. Variants of
/// one product that share a SKU (Vendure allows it) are one row marked `shared`.
final class ShopKeys {
    let scratch: SQLiteScratch
    var variants: Int64 = 0

    init() throws {
        scratch = try SQLiteScratch(purpose: "the store's keys", cacheKiB: 4096)
        try scratch.execute(
            """
            CREATE TABLE shop (
                key TEXT PRIMARY KEY, sku TEXT NOT NULL, variant_id INTEGER NOT NULL, tracked INTEGER NOT NULL,
                on_hand INTEGER, has_level INTEGER NOT NULL, shared INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID
            """)
    }

    func load(_ store: any DatabaseConnection, locationID: Int64, normaliser: SKUNormaliser) throws {
        try scratch.execute("BEGIN")
        let insert = try scratch.prepare(
            "INSERT INTO shop (key, sku, variant_id, tracked, on_hand, has_level) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        // For a second variant under a key: prepared once, a store may share many SKUs.
        let storedSKU = try scratch.prepare("SELECT sku FROM shop WHERE key = ?1")
        let markShared = try scratch.prepare("UPDATE shop SET shared = 1 WHERE key = ?1")
        let owned = RecordBuffer()
        var collisions: [String] = []
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        var count: Int64 = 0
        try store.inReadTransaction {
            try store.query(
                """
                SELECT v.sku, v.id, COALESCE(v.track_inventory, 1), l.on_hand, CASE WHEN l.variant_id IS NULL THEN 0 ELSE 1 END
                FROM store_variants v LEFT JOIN store_stock_levels l ON l.variant_id = v.id AND l.location_id = $1
                """, [.integer(locationID)], columns: { _ in }
            ) { row in
                count += 1
                // Owned copies: bound in place, the bytes must outlive the row.
                owned.removeAll()
                row.withBytes(0) { normaliser.appendKey(of: $0 ?? empty, to: owned) }
                row.withBytes(0) { owned.appendBytes($0 ?? empty) }
                owned.endField()
                try insert.bind(text: owned.field(0) ?? empty, at: 1)
                try insert.bind(text: owned.field(1) ?? empty, at: 2)
                try insert.bind(row.int64(1) ?? 0, at: 3)
                try insert.bind(row.int64(2) ?? 1, at: 4)
                if let onHand = row.int64(3) { try insert.bind(onHand, at: 5) } else { try insert.bindNull(at: 5) }
                try insert.bind(row.int64(4) ?? 0, at: 6)
                do {
                    _ = try insert.step()
                    insert.reset()
                } catch let error as DatabaseError where error.code == .constraint {
                    insert.reset()
                    let key = owned.field(0) ?? empty
                    let sku = owned.string(1) ?? ""
                    try storedSKU.bind(text: key, at: 1)
                    let earlier = try storedSKU.step() ? storedSKU.withBytes(0) { String(decoding: $0, as: UTF8.self) } : ""
                    storedSKU.reset()
                    if earlier == sku {
                        try markShared.bind(text: key, at: 1)
                        _ = try markShared.step()
                        markShared.reset()
                    } else if collisions.count < 10 {
                        collisions.append("'\(earlier)' and '\(sku)'")
                    }
                }
            }
        }
        variants = count
        try scratch.execute("COMMIT")
        guard collisions.isEmpty else {
            throw PipelineError(
                .data,
                "the store has SKUs that are the same after matching (\(normaliser.match.rule)): \(collisions.joined(separator: "; ")); rename one of each, or match with case: exact")
        }
    }

}
