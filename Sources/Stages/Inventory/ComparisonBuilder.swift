import Foundation
import Pipelines

/// Fills a fresh comparison: the feed's records (on a second thread) and the store's variants go into
/// scratch tables keyed by their keys (normalised SKUs, aliases applied), then both are read in key
/// order side by side, each key compared and counted, and kept when it is not equal. Two shop SKUs, or
/// two feed SKUs, that share a key are an error naming both, never a silent merge.
struct ComparisonBuilder {
    var normaliser: SKUNormaliser
    var aliases: SKUAliases
    var compare: InventoryReconcile.Figure
    /// Only feed records of this location count; nil: a SKU's records at every location are summed.
    var feedLocation: String?
    /// Keep equal rows too (for `report_equal`).
    var keepsEqual: Bool
    var logger: Logger

    struct Loaded {
        var shopVariants: Int64 = 0
        var feedRecords: Int64 = 0
        var feedWithoutFigure: Int64 = 0
        var feedOtherLocations: Int64 = 0
        var tally = ReconcileTally()
    }

    func build(_ comparison: ReconcileComparison, store: any DatabaseConnection, locationID: Int64, feedPath: String) throws -> Loaded {
        try comparison.database.execute(ReconcileComparison.schema)
        var clock = ContinuousClock.now
        func lap(_ what: String) {
            logger.debug("inventory.phase", "\(what) in \((ContinuousClock.now - clock).formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 2))))")
            clock = ContinuousClock.now
        }
        let feed = try FeedKeys()
        let worker = WorkerThread<Void>()
        let handoff = ThreadHandoff((feed, self))
        worker.start { [worker] in
            let (feed, builder) = handoff.value
            try feed.load(feedPath, builder: builder, isCancelled: { worker.condition.withLock { worker.isCancelled } })
        }
        let shop = try ShopKeys()
        do {
            try shop.load(store, locationID: locationID, normaliser: normaliser)
        } catch {
            worker.cancelAndWait()
            throw error
        }
        lap("read \(shop.variants) store variants")
        try worker.result()
        lap("read \(feed.records) feed records")
        var loaded = Loaded(
            shopVariants: shop.variants, feedRecords: feed.records, feedWithoutFigure: feed.withoutFigure, feedOtherLocations: feed.otherLocations)
        try comparison.database.execute("BEGIN")
        try merge(shop: shop.scratch, feed: feed.scratch, into: comparison, &loaded)
        try comparison.database.execute("COMMIT")
        lap("compared them")
        return loaded
    }

    /// Both sides in key order, side by side: each key counted, and kept unless equal.
    private func merge(shop shopSide: SQLiteScratch, feed feedSide: SQLiteScratch, into comparison: ReconcileComparison, _ loaded: inout Loaded) throws {
        let shop = try shopSide.prepare("SELECT key, sku, variant_id, tracked, on_hand, has_level FROM shop ORDER BY key")
        let feed = try feedSide.prepare("SELECT key, min(sku), max(sku), sum(qty) FROM feed_rows GROUP BY key ORDER BY key")
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

    var rule: String { normaliser.match.rule + (aliases.shopKeys.isEmpty ? "" : ", aliases") }

    private func feedCollision(_ pairs: [String]) -> PipelineError {
        PipelineError(.data, "the feed has SKUs that are the same after matching (\(rule)): \(pairs.joined(separator: "; "))")
    }
}
