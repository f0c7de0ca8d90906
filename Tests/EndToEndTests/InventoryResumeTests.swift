import Foundation
import Pipelines
import Testing

/// kill -9 anywhere in a fetch, comparison and apply of 20,000 SKUs (SQLite; 6,000 on PostgreSQL), run
/// again: every figure changed once, one audit row per change, and the records, report and summary are
/// those of an uninterrupted run (but for the fetch time: a file feed's time is when it was fetched, a
/// fact of the attempt that fetched).
@Suite(.serialized, .timeLimit(.minutes(6))) struct InventoryResumeTests {
    /// Where the store lives, and how it is put back to its state before the reconciliation.
    struct Store {
        var backend: ProductsTestStore.Backend
        var url: String
        var locator: DatabaseLocator
        var variants: Int

        /// SQLite: a copy of template.db; PostgreSQL: the figures saved beside the store.
        func reset(_ scratch: Scratch) throws {
            for name in ["var", "out"] { try? FileManager.default.removeItem(atPath: scratch.file(name)) }
            switch backend {
            case .sqlite:
                for name in ["store.db", "store.db-wal", "store.db-shm"] { try? FileManager.default.removeItem(atPath: scratch.file(name)) }
                try FileManager.default.copyItem(atPath: scratch.file("template.db"), toPath: scratch.file("store.db"))
            case .postgres:
                let connection = try locator.connect(logger: Logger(handler: SilentLogHandler()))
                defer { connection.close() }
                try connection.executeScript(
                    """
                    CREATE TABLE IF NOT EXISTS saved_levels AS SELECT * FROM store_stock_levels;
                    DELETE FROM store_stock_levels;
                    INSERT INTO store_stock_levels SELECT * FROM saved_levels;
                    DELETE FROM store_inventory_adjustments;
                    DROP TABLE IF EXISTS pipeline_checkpoints
                    """)
            }
        }
    }

    /// A store of single-variant products; a feed changing every third figure.
    static func prepare(_ scratch: Scratch, backend: ProductsTestStore.Backend) throws -> Store {
        let variants = backend == .sqlite ? 20_000 : 6_000
        let store: Store
        switch backend {
        case .sqlite:
            store = Store(backend: backend, url: "sqlite:store.db", locator: .sqlite(path: scratch.file("store.db")), variants: variants)
        case .postgres:
            let url = try TestDatabase.postgresURL()
            store = Store(backend: backend, url: url, locator: .postgres(url: url), variants: variants)
        }
        var products = "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"
        var feed = "SKU,OnHandQuantity,ReservedQuantity\n"
        for index in 0..<store.variants {
            products += "Item \(index),item-\(index),,,,,,SKU-\(index),1.00,standard,\(index % 500),,,\n"
            feed += "sku-\(index),\(index % 500 + (index % 3 == 0 ? index % 7 + 1 : 0)),0\n"
        }
        try scratch.write("products.csv", products)
        try scratch.write("feed.csv", feed)
        try scratch.write(
            "setup.yaml",
            """
            name: setup
            database: "\(backend == .sqlite ? "sqlite:template.db" : store.url)"
            state: sqlite:setup-state.db
            stages:
              - id: import
                uses: products.import
                with: { file: products.csv, currency: USD }
            """)
        let imported = try PipelineProcess.run(["run", "setup.yaml"], in: scratch.path)
        #expect(imported.status == 0, "\(imported.stderr)")
        try scratch.write(
            "reconcile.yaml",
            """
            name: reconcile
            database: "\(store.url)"
            state: sqlite:var/state.db
            stages:
              - id: fetch
                uses: inventory.fetch
                with: { file: feed.csv, columns: veracore }
              - id: reconcile
                uses: inventory.reconcile
                chunk_size: 25
                with: { feed: fetch, apply: true, max_skus_changed_percent: 50%, report: out }
            """)
        return store
    }

    /// What a run leaves: the figures, the audit, the report and summary (without the fetch time and the
    /// age measured from it), and the fetched records.
    static func result(_ scratch: Scratch, _ store: DatabaseLocator) throws -> [String: String] {
        var result: [String: String] = [:]
        result["stock"] = try Inspect.rows(store, "SELECT variant_id, on_hand FROM store_stock_levels ORDER BY variant_id")
            .map { $0.map { $0 ?? "" }.joined(separator: ":") }.joined(separator: ",")
        result["audit"] = try Inspect.rows(
            store, "SELECT sku, before_on_hand, after_on_hand, delta, feed_sha256, run FROM store_inventory_adjustments ORDER BY sku"
        ).map { $0.map { $0 ?? "" }.joined(separator: ":") }.joined(separator: ",")
        result["report"] = try scratch.read("out/report.csv")
        result["summary"] = try scratch.read("out/summary.json")
            .replacingOccurrences(of: #""time":"[^"]*","time_source":"fetch time","fetched_at":"[^"]*","age_seconds":[0-9]+"#, with: "", options: .regularExpression)
        let runs = try FileManager.default.contentsOfDirectory(atPath: scratch.file("var/fetch"))
        #expect(runs.count == 1)
        result["records"] = try scratch.read("var/fetch/\(runs.first ?? "")/records.csv")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: scratch.file("var")).filter { $0.hasSuffix(".tmp") || $0.hasSuffix("reconcile.db") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        return result
    }

    @Test(arguments: ProductsTestStore.Backend.allCases)
    func killedReconciliationsResumeToTheSameStoreAndReports(backend: ProductsTestStore.Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try Self.prepare(scratch, backend: backend)
        try store.reset(scratch)
        let killer = KillAndResume(arguments: ["run", "reconcile.yaml"], directory: scratch.path)
        let (first, seconds) = try killer.timedRun()
        #expect(first.status == 0, "\(first.stderr)")
        let expected = try Self.result(scratch, store.locator)
        let changes = (0..<store.variants).filter { $0 % 3 == 0 }.count
        #expect(expected["audit"]?.split(separator: ",").count == changes)
        #expect(first.stderr.contains("applied \(changes)"), "\(first.stderr)")
        try killer.killAtRandomPoints(
            backend == .sqlite ? 14 : 6, seed: 7, duration: seconds, reset: { try store.reset(scratch) },
            check: { kill in
                let resumed = try Self.result(scratch, store.locator)
                for (name, value) in expected { #expect(resumed[name] == value, "kill \(kill): \(name) differs") }
            })
    }
}
