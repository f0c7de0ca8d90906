import Foundation
import Pipelines

/// Fills a fresh comparison: the store's variants (with their figure at the location) and the feed's
/// records, each under its normalised key, then joins them. Two shop SKUs, or two feed SKUs, that
/// share a key are an error naming both, never a silent merge.
struct ComparisonBuilder {
    var normaliser: SKUNormaliser
    var aliases: SKUAliases
    var compare: InventoryReconcile.Figure
    /// Only feed records of this location count; nil: a SKU's records at every location are summed.
    var feedLocation: String?
    var logger: Logger

    static let schema = """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE shop (
            key TEXT PRIMARY KEY, sku TEXT NOT NULL, variant_id INTEGER NOT NULL, tracked INTEGER NOT NULL,
            on_hand INTEGER, has_level INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE feed_rows (
            key TEXT NOT NULL, location TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL, place TEXT NOT NULL,
            PRIMARY KEY (key, location)) WITHOUT ROWID;
        CREATE TABLE comparison (
            key TEXT PRIMARY KEY, status TEXT NOT NULL, shop_sku TEXT, feed_sku TEXT, variant_id INTEGER,
            has_level INTEGER, shop_qty INTEGER, feed_qty INTEGER, outcome TEXT) WITHOUT ROWID
        """

    struct Loaded {
        var shopVariants: Int64 = 0
        var feedRecords: Int64 = 0
        /// Feed records without the compared figure (the feed gave neither it nor what derives it).
        var feedWithoutFigure: Int64 = 0
        /// Feed records at other locations than `feed_location`.
        var otherLocations: Int64 = 0
    }

    func build(_ comparison: ReconcileComparison, store: any DatabaseConnection, locationID: Int64, feedPath: String) throws -> Loaded {
        let scratch = comparison.database
        try scratch.executeScript(Self.schema)
        var loaded = Loaded()
        try scratch.inTransaction {
            loaded.shopVariants = try loadShop(into: scratch, from: store, locationID: locationID)
            (loaded.feedRecords, loaded.feedWithoutFigure, loaded.otherLocations) = try loadFeed(feedPath, into: scratch)
            try checkFeedCollisions(scratch)
            try scratch.executeScript(
                """
                CREATE TABLE feed (key TEXT PRIMARY KEY, sku TEXT NOT NULL, qty INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO feed (key, sku, qty) SELECT key, min(sku), sum(qty) FROM feed_rows GROUP BY key;
                INSERT INTO comparison (key, status, shop_sku, feed_sku, variant_id, has_level, shop_qty, feed_qty)
                    SELECT s.key,
                        CASE WHEN s.tracked = 0 THEN 'untracked' WHEN f.key IS NULL THEN 'shop_only'
                             WHEN s.has_level = 1 AND s.on_hand = f.qty THEN 'equal' ELSE 'different' END,
                        s.sku, f.sku, s.variant_id, s.has_level, s.on_hand, f.qty
                    FROM shop s LEFT JOIN feed f ON f.key = s.key;
                INSERT INTO comparison (key, status, feed_sku, feed_qty)
                    SELECT f.key, 'feed_only', f.sku, f.qty FROM feed f WHERE NOT EXISTS (SELECT 1 FROM shop s WHERE s.key = f.key);
                DROP TABLE feed; DROP TABLE feed_rows; DROP TABLE shop
                """)
        }
        return loaded
    }

    private func loadShop(into scratch: SQLiteConnection, from store: any DatabaseConnection, locationID: Int64) throws -> Int64 {
        let inserter = try scratch.bulkInsert(into: try SQLName(validating: "shop"), columns: ["key", "sku", "variant_id", "tracked", "on_hand", "has_level"])
        let record = RecordBuffer()
        var count: Int64 = 0
        var collisions: [(String, String)] = []
        try store.inReadTransaction {
            try store.query(
                """
                SELECT v.sku, v.id, COALESCE(v.track_inventory, 1), l.on_hand, CASE WHEN l.variant_id IS NULL THEN 0 ELSE 1 END
                FROM store_variants v LEFT JOIN store_stock_levels l ON l.variant_id = v.id AND l.location_id = $1
                """, [.integer(locationID)], columns: { _ in }
            ) { row in
                record.removeAll()
                row.withBytes(0) { normaliser.appendKey(of: $0 ?? UnsafeRawBufferPointer(start: nil, count: 0), to: record) }
                for column in 0..<5 {
                    row.withBytes(column) { bytes in
                        if let bytes { record.appendBytes(bytes); record.endField() } else { record.appendNull() }
                    }
                }
                do {
                    try inserter.insert(record)
                    count += 1
                } catch let error as DatabaseError where error.code == .constraint {
                    let sku = row.string(0) ?? ""
                    if collisions.count < 10 { collisions.append((record.string(0) ?? "", sku)) }
                }
            }
        }
        try inserter.finish()
        if !collisions.isEmpty {
            let pairs = try collisions.map { key, sku in
                "'\(try firstSKU(in: "shop", key: key, scratch: scratch))' and '\(sku)'"
            }
            throw PipelineError(
                .data,
                "the store has SKUs that are the same after matching (\(normaliser.match.rule)): \(pairs.joined(separator: "; ")); rename one of each, or match with case: exact")
        }
        return count
    }

    private func loadFeed(_ path: String, into scratch: SQLiteConnection) throws -> (Int64, Int64, Int64) {
        let reader = try CSVReader(path: path)
        guard try reader.readHeader() == FeedRecordsFile.header else {
            throw PipelineError(.data, "\(path) is not a records file of inventory.fetch")
        }
        let inserter = try scratch.bulkInsert(into: try SQLName(validating: "feed_rows"), columns: ["key", "location", "sku", "qty", "place"])
        let input = RecordBuffer()
        let record = RecordBuffer()
        var counts: (records: Int64, withoutFigure: Int64, otherLocations: Int64) = (0, 0, 0)
        var duplicates: [String] = []
        let figureColumn = compare == .onHand ? 3 : 4
        while let status = try reader.next(into: input) {
            guard status.isValid, input.count == 6, let sku = input.field(1) else {
                throw PipelineError(.data, "\(path):\(status.line): not a feed record; was the file changed after inventory.fetch wrote it?")
            }
            counts.records += 1
            if let feedLocation, input.string(2) != feedLocation {
                counts.otherLocations += 1
                continue
            }
            guard let figure = input.field(figureColumn), figure.count > 0 else {
                counts.withoutFigure += 1
                continue
            }
            record.removeAll()
            normaliser.appendKey(of: sku, to: record)
            if let alias = record.string(0).flatMap({ aliases.shopKeys[$0] }) {
                record.removeAll()
                record.appendField(alias)
            }
            for column in [2, 1] {
                if let bytes = input.field(column) { record.appendBytes(bytes) }
                record.endField()
            }
            record.appendBytes(figure)
            record.endField()
            if let place = input.field(0) { record.appendBytes(place) }
            record.endField()
            do {
                try inserter.insert(record)
            } catch let error as DatabaseError where error.code == .constraint {
                if duplicates.count < 10 {
                    let key = record.string(0) ?? ""
                    let location = record.string(1) ?? ""
                    var earlier = ""
                    try scratch.query(
                        "SELECT sku, place FROM feed_rows WHERE key = $1 AND location = $2", [.text(key), .text(location)], columns: { _ in }
                    ) { earlier = "'\($0.string(0) ?? "")' (\($0.string(1) ?? ""))" }
                    let at = location.isEmpty ? "" : " at location '\(location)'"
                    duplicates.append("\(earlier) and '\(input.string(1) ?? "")' (\(input.string(0) ?? ""))\(at)")
                }
            }
        }
        try inserter.finish()
        if !duplicates.isEmpty {
            throw PipelineError(
                .data,
                "the feed lists the same SKU twice (after matching: \(normaliser.match.rule)\(aliases.shopKeys.isEmpty ? "" : ", aliases")): \(duplicates.joined(separator: "; "))")
        }
        return (counts.records, counts.withoutFigure, counts.otherLocations)
    }

    /// Two feed SKUs written differently that share a key at different locations.
    private func checkFeedCollisions(_ scratch: SQLiteConnection) throws {
        var collisions: [String] = []
        try scratch.query(
            "SELECT min(sku), max(sku) FROM feed_rows GROUP BY key HAVING min(sku) <> max(sku) LIMIT 10", [], columns: { _ in }
        ) { collisions.append("'\($0.string(0) ?? "")' and '\($0.string(1) ?? "")'") }
        guard !collisions.isEmpty else { return }
        throw PipelineError(
            .data,
            "the feed has SKUs that are the same after matching (\(normaliser.match.rule)\(aliases.shopKeys.isEmpty ? "" : ", aliases")): \(collisions.joined(separator: "; "))")
    }

    private func firstSKU(in table: String, key: String, scratch: SQLiteConnection) throws -> String {
        var sku = ""
        try scratch.query("SELECT sku FROM \(table) WHERE key = $1", [.text(key)], columns: { _ in }) { sku = $0.string(0) ?? "" }
        return sku
    }
}
