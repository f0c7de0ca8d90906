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
        let shop = try shopSide.prepare("SELECT key, sku, variant_id, tracked, on_hand, has_level, shared FROM shop ORDER BY key")
        let feed = try FeedGroups(feedSide)
        let keep = try comparison.statement(
            "INSERT INTO comparison (key, status, shop_sku, feed_sku, variant_id, has_level, shop_qty, feed_qty) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        defer {
            shop.reset()
            feed.close()
        }
        var collisions: [String] = []
        let owned = RecordBuffer()
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        var hasShop = try shop.step()
        var hasFeed = try feed.advance()
        while hasShop || hasFeed {
            let order = !hasFeed ? -1 : !hasShop ? 1 : shop.withBytes(0) { Self.compare($0, feed.current.field(0) ?? empty) }
            let inShop = order <= 0
            let inFeed = order >= 0
            if inFeed, let other = feed.otherSKU, collisions.count < 10 { collisions.append("'\(feed.current.string(1) ?? "")' and '\(other)'") }
            // A shared SKU's row stands for several variants: none of their figures, nor ids, is its own.
            let isShared = inShop && shop.int64(6) == 1
            let shopQuantity = inShop && !isShared && !shop.isNull(4) ? shop.int64(4) : nil
            let feedQuantity = inFeed ? feed.quantity : nil
            let hasLevel = inShop && !isShared && shop.int64(5) == 1
            let status: ReconcileComparison.Status =
                !inShop ? .feedOnly : isShared ? .sharedSKU : shop.int64(3) == 0 ? .untracked : !inFeed ? .shopOnly
                : hasLevel && shopQuantity == feedQuantity ? .equal : .different
            loaded.tally.add(status, shop: shopQuantity, feed: feedQuantity)
            if status != .equal || keepsEqual {
                owned.removeAll()
                if inShop {
                    for column: Int32 in [0, 1] {
                        shop.withBytes(column) { owned.appendBytes($0) }
                        owned.endField()
                    }
                } else {
                    owned.appendBytes(feed.current.field(0) ?? empty)
                    owned.endField()
                    owned.appendNull()
                }
                owned.appendField(status.rawValue)
                try keep.bind(text: owned.field(0) ?? empty, at: 1)
                try keep.bind(text: owned.field(2) ?? empty, at: 2)
                if let shopSKU = owned.field(1) { try keep.bind(text: shopSKU, at: 3) } else { try keep.bindNull(at: 3) }
                if inFeed { try keep.bind(text: feed.current.field(1) ?? empty, at: 4) } else { try keep.bindNull(at: 4) }
                if inShop && !isShared { try keep.bind(shop.int64(2), at: 5) } else { try keep.bindNull(at: 5) }
                if inShop { try keep.bind(hasLevel ? 1 : 0, at: 6) } else { try keep.bindNull(at: 6) }
                if let shopQuantity { try keep.bind(shopQuantity, at: 7) } else { try keep.bindNull(at: 7) }
                if let feedQuantity { try keep.bind(feedQuantity, at: 8) } else { try keep.bindNull(at: 8) }
                _ = try keep.step()
                keep.reset()
            }
            if inShop { hasShop = try shop.step() }
            if inFeed { hasFeed = try feed.advance() }
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
