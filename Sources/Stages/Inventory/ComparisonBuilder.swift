import Foundation
import Pipelines

/// Fills a fresh comparison in one pass over each side: the feed's records go in under their keys
/// (normalised SKUs, aliases applied); then each store variant, under its key, is looked up in them,
/// compared and counted, and kept when it differs; then the feed's keys no variant has. Two shop SKUs,
/// or two feed SKUs, that share a key are an error naming both, never a silent merge.
struct ComparisonBuilder {
    var normaliser: SKUNormaliser
    var aliases: SKUAliases
    var compare: InventoryReconcile.Figure
    /// Only feed records of this location count; nil: a SKU's records at every location are summed.
    var feedLocation: String?
    /// Keep equal rows too (for `report_equal`).
    var keepsEqual: Bool
    var logger: Logger

    static let workTables = """
        CREATE TABLE feed_rows (
            key TEXT NOT NULL, location TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL, place TEXT NOT NULL,
            PRIMARY KEY (key, location)) WITHOUT ROWID;
        CREATE TABLE shop_keys (key TEXT PRIMARY KEY, sku TEXT NOT NULL) WITHOUT ROWID
        """

    struct Loaded {
        var shopVariants: Int64 = 0
        var feedRecords: Int64 = 0
        /// Feed records without the compared figure (the feed gave neither it nor what derives it).
        var feedWithoutFigure: Int64 = 0
        /// Feed records at other locations than `feed_location`.
        var otherLocations: Int64 = 0
        var tally = ReconcileTally()
    }

    func build(_ comparison: ReconcileComparison, store: any DatabaseConnection, locationID: Int64, feedPath: String) throws -> Loaded {
        let scratch = comparison.database
        try scratch.execute(ReconcileComparison.schema + ";\n" + Self.workTables)
        var loaded = Loaded()
        var clock = ContinuousClock.now
        func lap(_ what: String) {
            logger.debug("inventory.phase", "\(what) in \((ContinuousClock.now - clock).formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 2))))")
            clock = ContinuousClock.now
        }
        try scratch.execute("BEGIN")
        try loadFeed(feedPath, into: comparison, &loaded)
        lap("read \(loaded.feedRecords) feed records")
        try compareShop(store, locationID: locationID, into: comparison, &loaded)
        lap("compared \(loaded.shopVariants) store variants")
        try addFeedOnly(comparison, &loaded)
        lap("found the feed's SKUs the store lacks")
        try scratch.execute("COMMIT")
        return loaded
    }

    private func loadFeed(_ path: String, into comparison: ReconcileComparison, _ loaded: inout Loaded) throws {
        let reader = try CSVReader(path: path)
        guard try reader.readHeader() == FeedRecordsFile.header else {
            throw PipelineError(.data, "\(path) is not a records file of inventory.fetch")
        }
        let insert = try comparison.statement("INSERT INTO feed_rows (key, location, sku, qty, place) VALUES (?1, ?2, ?3, ?4, ?5)")
        let input = RecordBuffer()
        let key = RecordBuffer()
        var duplicates: [String] = []
        let figureColumn = compare == .onHand ? 3 : 4
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        while let status = try reader.next(into: input) {
            guard status.isValid, input.count == 6, let sku = input.field(1) else {
                throw PipelineError(.data, "\(path):\(status.line): not a feed record; was the file changed after inventory.fetch wrote it?")
            }
            loaded.feedRecords += 1
            if let feedLocation, input.string(2) ?? "" != feedLocation {
                loaded.otherLocations += 1
                continue
            }
            guard let figure = input.field(figureColumn), figure.count > 0, let quantity = Int64(decimal: figure) else {
                loaded.feedWithoutFigure += 1
                continue
            }
            key.removeAll()
            normaliser.appendKey(of: sku, to: key)
            if !aliases.shopKeys.isEmpty, let alias = key.string(0).flatMap({ aliases.shopKeys[$0] }) {
                key.removeAll()
                key.appendField(alias)
            }
            try insert.bind(text: key.field(0) ?? empty, at: 1)
            try insert.bind(text: input.field(2) ?? empty, at: 2)
            try insert.bind(text: sku, at: 3)
            try insert.bind(quantity, at: 4)
            try insert.bind(text: input.field(0) ?? empty, at: 5)
            do {
                _ = try insert.step()
                insert.reset()
            } catch let error as DatabaseError where error.code == .constraint {
                insert.reset()
                if duplicates.count < 10 { duplicates.append(try describeDuplicate(key: key.string(0) ?? "", input: input, comparison)) }
            }
        }
        guard duplicates.isEmpty else {
            throw PipelineError(.data, "the feed lists the same SKU twice (after matching: \(rule)): \(duplicates.joined(separator: "; "))")
        }
    }

    private func describeDuplicate(key: String, input: RecordBuffer, _ comparison: ReconcileComparison) throws -> String {
        let location = input.string(2) ?? ""
        let select = try comparison.statement("SELECT sku, place FROM feed_rows WHERE key = ?1 AND location = ?2")
        defer { select.reset() }
        var earlier = ""
        try ReconcileComparison.withBytes(key) { key in
            try ReconcileComparison.withBytes(location) { location in
                try select.bind(text: key, at: 1)
                try select.bind(text: location, at: 2)
                if try select.step() {
                    earlier = "'\(select.withBytes(0) { String(decoding: $0, as: UTF8.self) })' (\(select.withBytes(1) { String(decoding: $0, as: UTF8.self) }))"
                }
            }
        }
        let at = location.isEmpty ? "" : " at location '\(location)'"
        return "\(earlier) and '\(input.string(1) ?? "")' (\(input.string(0) ?? ""))\(at)"
    }

    /// Each store variant against the feed's records of its key.
    private func compareShop(_ store: any DatabaseConnection, locationID: Int64, into comparison: ReconcileComparison, _ loaded: inout Loaded) throws {
        let remember = try comparison.statement("INSERT INTO shop_keys (key, sku) VALUES (?1, ?2)")
        let lookup = try comparison.statement("SELECT min(sku), max(sku), sum(qty) FROM feed_rows WHERE key = ?1")
        let keep = try comparison.statement(
            "INSERT INTO comparison (key, status, shop_sku, feed_sku, variant_id, has_level, shop_qty, feed_qty) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        let key = RecordBuffer()
        var storeCollisions: [String] = []
        var feedCollisions: [String] = []
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
                // Owned copies of the key and SKUs: bound in place, they must outlive the row and the lookup.
                key.removeAll()
                row.withBytes(0) { normaliser.appendKey(of: $0 ?? empty, to: key) }
                row.withBytes(0) { key.appendBytes($0 ?? empty) }
                key.endField()
                try remember.bind(text: key.field(0) ?? empty, at: 1)
                try remember.bind(text: key.field(1) ?? empty, at: 2)
                do {
                    _ = try remember.step()
                    remember.reset()
                } catch let error as DatabaseError where error.code == .constraint {
                    remember.reset()
                    if storeCollisions.count < 10 { storeCollisions.append(try describeStoreCollision(key: key.string(0) ?? "", sku: key.string(1) ?? "", comparison)) }
                    return
                }
                try lookup.bind(text: key.field(0) ?? empty, at: 1)
                _ = try lookup.step()
                let inFeed = !lookup.isNull(2)
                let feedQuantity = inFeed ? lookup.int64(2) : nil
                if inFeed {
                    lookup.withBytes(0) { key.appendBytes($0) }
                    key.endField()
                    if lookup.withBytes(0, { first in lookup.withBytes(1) { last in !first.elementsEqual(last) } }), feedCollisions.count < 10 {
                        feedCollisions.append(
                            "'\(lookup.withBytes(0) { String(decoding: $0, as: UTF8.self) })' and '\(lookup.withBytes(1) { String(decoding: $0, as: UTF8.self) })'")
                    }
                } else {
                    key.appendNull()
                }
                lookup.reset()
                let tracked = row.int64(2) != 0
                let shopQuantity = row.int64(3)
                let hasLevel = row.int64(4) == 1
                let status: ReconcileComparison.Status =
                    !tracked ? .untracked : !inFeed ? .shopOnly : hasLevel && shopQuantity == feedQuantity ? .equal : .different
                loaded.tally.add(status, shop: shopQuantity, feed: feedQuantity)
                guard status != .equal || keepsEqual else { return }
                key.appendField(status.rawValue)
                try keep.bind(text: key.field(0) ?? empty, at: 1)
                try keep.bind(text: key.field(3) ?? empty, at: 2)
                try keep.bind(text: key.field(1) ?? empty, at: 3)
                if let feedSKU = key.field(2) { try keep.bind(text: feedSKU, at: 4) } else { try keep.bindNull(at: 4) }
                try keep.bind(row.int64(1) ?? 0, at: 5)
                try keep.bind(hasLevel ? 1 : 0, at: 6)
                if let shopQuantity { try keep.bind(shopQuantity, at: 7) } else { try keep.bindNull(at: 7) }
                if let feedQuantity { try keep.bind(feedQuantity, at: 8) } else { try keep.bindNull(at: 8) }
                _ = try keep.step()
                keep.reset()
            }
        }
        loaded.shopVariants = count
        if !storeCollisions.isEmpty {
            throw PipelineError(
                .data,
                "the store has SKUs that are the same after matching (\(normaliser.match.rule)): \(storeCollisions.joined(separator: "; ")); rename one of each, or match with case: exact")
        }
        if !feedCollisions.isEmpty { throw feedCollision(feedCollisions) }
    }

    /// The feed's keys that no store variant has.
    private func addFeedOnly(_ comparison: ReconcileComparison, _ loaded: inout Loaded) throws {
        let select = try comparison.statement(
            """
            SELECT key, min(sku), max(sku), sum(qty) FROM feed_rows f
            WHERE NOT EXISTS (SELECT 1 FROM shop_keys s WHERE s.key = f.key) GROUP BY key
            """)
        let keep = try comparison.statement("INSERT INTO comparison (key, status, feed_sku, feed_qty) VALUES (?1, 'feed_only', ?2, ?3)")
        defer { select.reset() }
        var collisions: [String] = []
        let owned = RecordBuffer()
        while try select.step() {
            let quantity = select.int64(3)
            if select.withBytes(1, { first in select.withBytes(2) { last in !first.elementsEqual(last) } }), collisions.count < 10 {
                collisions.append(
                    "'\(select.withBytes(1) { String(decoding: $0, as: UTF8.self) })' and '\(select.withBytes(2) { String(decoding: $0, as: UTF8.self) })'")
            }
            loaded.tally.add(.feedOnly, shop: nil, feed: quantity)
            owned.removeAll()
            for column: Int32 in [0, 1] {
                select.withBytes(column) { owned.appendBytes($0) }
                owned.endField()
            }
            try keep.bind(text: owned.field(0) ?? UnsafeRawBufferPointer(start: nil, count: 0), at: 1)
            try keep.bind(text: owned.field(1) ?? UnsafeRawBufferPointer(start: nil, count: 0), at: 2)
            try keep.bind(quantity, at: 3)
            _ = try keep.step()
            keep.reset()
        }
        if !collisions.isEmpty { throw feedCollision(collisions) }
    }

    private var rule: String { normaliser.match.rule + (aliases.shopKeys.isEmpty ? "" : ", aliases") }

    private func feedCollision(_ pairs: [String]) -> PipelineError {
        PipelineError(.data, "the feed has SKUs that are the same after matching (\(rule)): \(pairs.joined(separator: "; "))")
    }

    private func describeStoreCollision(key: String, sku: String, _ comparison: ReconcileComparison) throws -> String {
        let select = try comparison.statement("SELECT sku FROM shop_keys WHERE key = ?1")
        defer { select.reset() }
        var earlier = ""
        try ReconcileComparison.withBytes(key) { key in
            try select.bind(text: key, at: 1)
            if try select.step() { earlier = select.withBytes(0) { String(decoding: $0, as: UTF8.self) } }
        }
        return "'\(earlier)' and '\(sku)'"
    }
}
