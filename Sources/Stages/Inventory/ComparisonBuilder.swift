import Foundation
import Pipelines

/// Fills a fresh comparison: the feed's records and the store's variants go into two tables keyed by
/// their keys (normalised SKUs, aliases applied), then both are read in key order side by side, each key
/// compared and counted, and kept when it is not equal. Two shop SKUs, or two feed SKUs, that share a
/// key are an error naming both, never a silent merge.
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
        CREATE TABLE shop (
            key TEXT PRIMARY KEY, sku TEXT NOT NULL, variant_id INTEGER NOT NULL, tracked INTEGER NOT NULL,
            on_hand INTEGER, has_level INTEGER NOT NULL) WITHOUT ROWID
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
        try loadShop(store, locationID: locationID, into: comparison, &loaded)
        lap("read \(loaded.shopVariants) store variants")
        try merge(comparison, &loaded)
        lap("compared them")
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

    /// The store's variants with their figure at the location, under their keys.
    private func loadShop(_ store: any DatabaseConnection, locationID: Int64, into comparison: ReconcileComparison, _ loaded: inout Loaded) throws {
        let insert = try comparison.statement(
            "INSERT INTO shop (key, sku, variant_id, tracked, on_hand, has_level) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
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
                    if collisions.count < 10 {
                        collisions.append(try describeStoreCollision(key: owned.string(0) ?? "", sku: owned.string(1) ?? "", comparison))
                    }
                }
            }
        }
        loaded.shopVariants = count
        guard collisions.isEmpty else {
            throw PipelineError(
                .data,
                "the store has SKUs that are the same after matching (\(normaliser.match.rule)): \(collisions.joined(separator: "; ")); rename one of each, or match with case: exact")
        }
    }

    /// Both sides in key order, side by side: each key counted, and kept unless equal.
    private func merge(_ comparison: ReconcileComparison, _ loaded: inout Loaded) throws {
        let shop = try comparison.statement("SELECT key, sku, variant_id, tracked, on_hand, has_level FROM shop ORDER BY key")
        let feed = try comparison.statement("SELECT key, min(sku), max(sku), sum(qty) FROM feed_rows GROUP BY key ORDER BY key")
        let keep = try comparison.statement(
            "INSERT INTO comparison (key, status, shop_sku, feed_sku, variant_id, has_level, shop_qty, feed_qty) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        defer {
            shop.reset()
            feed.reset()
        }
        var collisions: [String] = []
        let owned = RecordBuffer()
        var hasShop = try shop.step()
        var hasFeed = try feed.step()
        while hasShop || hasFeed {
            let order = !hasFeed ? -1 : !hasShop ? 1 : shop.withBytes(0) { left in feed.withBytes(0) { right in Self.compare(left, right) } }
            let inShop = order <= 0
            let inFeed = order >= 0
            if inFeed, feed.withBytes(1, { first in feed.withBytes(2) { last in !first.elementsEqual(last) } }), collisions.count < 10 {
                collisions.append(
                    "'\(feed.withBytes(1) { String(decoding: $0, as: UTF8.self) })' and '\(feed.withBytes(2) { String(decoding: $0, as: UTF8.self) })'")
            }
            let shopQuantity = inShop && !shop.isNull(4) ? shop.int64(4) : nil
            let feedQuantity = inFeed ? feed.int64(3) : nil
            let hasLevel = inShop && shop.int64(5) == 1
            let status: ReconcileComparison.Status =
                !inShop ? .feedOnly : shop.int64(3) == 0 ? .untracked : !inFeed ? .shopOnly
                : hasLevel && shopQuantity == feedQuantity ? .equal : .different
            loaded.tally.add(status, shop: shopQuantity, feed: feedQuantity)
            if status != .equal || keepsEqual {
                owned.removeAll()
                (inShop ? shop : feed).withBytes(0) { owned.appendBytes($0) }
                owned.endField()
                owned.appendField(status.rawValue)
                for (present, statement) in [(inShop, shop), (inFeed, feed)] {
                    if present {
                        statement.withBytes(1) { owned.appendBytes($0) }
                        owned.endField()
                    } else {
                        owned.appendNull()
                    }
                }
                for index in 0..<4 {
                    if let bytes = owned.field(index) { try keep.bind(text: bytes, at: Int32(index + 1)) } else { try keep.bindNull(at: Int32(index + 1)) }
                }
                if inShop { try keep.bind(shop.int64(2), at: 5) } else { try keep.bindNull(at: 5) }
                if inShop { try keep.bind(hasLevel ? 1 : 0, at: 6) } else { try keep.bindNull(at: 6) }
                if let shopQuantity { try keep.bind(shopQuantity, at: 7) } else { try keep.bindNull(at: 7) }
                if let feedQuantity { try keep.bind(feedQuantity, at: 8) } else { try keep.bindNull(at: 8) }
                _ = try keep.step()
                keep.reset()
            }
            if inShop { hasShop = try shop.step() }
            if inFeed { hasFeed = try feed.step() }
        }
        if !collisions.isEmpty { throw feedCollision(collisions) }
    }

    /// SQLite's BINARY order: bytes compared unsigned, a prefix first.
    static func compare(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Int {
        let common = min(left.count, right.count)
        if common > 0, let a = left.baseAddress, let b = right.baseAddress {
            let result = memcmp(a, b, common)
            if result != 0 { return result < 0 ? -1 : 1 }
        }
        return left.count == right.count ? 0 : left.count < right.count ? -1 : 1
    }

    private var rule: String { normaliser.match.rule + (aliases.shopKeys.isEmpty ? "" : ", aliases") }

    private func feedCollision(_ pairs: [String]) -> PipelineError {
        PipelineError(.data, "the feed has SKUs that are the same after matching (\(rule)): \(pairs.joined(separator: "; "))")
    }

    private func describeStoreCollision(key: String, sku: String, _ comparison: ReconcileComparison) throws -> String {
        let select = try comparison.statement("SELECT sku FROM shop WHERE key = ?1")
        defer { select.reset() }
        var earlier = ""
        try ReconcileComparison.withBytes(key) { key in
            try select.bind(text: key, at: 1)
            if try select.step() { earlier = select.withBytes(0) { String(decoding: $0, as: UTF8.self) } }
        }
        return "'\(earlier)' and '\(sku)'"
    }
}
