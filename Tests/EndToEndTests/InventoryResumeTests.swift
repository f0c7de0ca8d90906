import Foundation
import Pipelines
import Testing

/// kill -9 anywhere in a fetch, comparison and apply of 20,000 SKUs, run again: every figure changed
/// once, one audit row per change, and the records, report and summary are those of an uninterrupted
/// run (but for the fetch time: a file feed's time is when it was fetched, a fact of the attempt that fetched).
@Suite(.serialized, .timeLimit(.minutes(6))) struct InventoryResumeTests {
    static let variants = 20_000

    /// A store of 20,000 single-variant products kept as template.db; a feed changing every third figure.
    static func prepare(_ scratch: Scratch) throws {
        var products = "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"
        var feed = "SKU,OnHandQuantity,ReservedQuantity\n"
        for index in 0..<variants {
            products += "Item \(index),item-\(index),,,,,,SKU-\(index),1.00,standard,\(index % 500),,,\n"
            feed += "sku-\(index),\(index % 500 + (index % 3 == 0 ? index % 7 + 1 : 0)),0\n"
        }
        try scratch.write("products.csv", products)
        try scratch.write("feed.csv", feed)
        try scratch.write(
            "setup.yaml",
            """
            name: setup
            database: sqlite:template.db
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
            database: sqlite:store.db
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
    }

    static func reset(_ scratch: Scratch) throws {
        for name in ["store.db", "store.db-wal", "store.db-shm", "var", "out"] { try? FileManager.default.removeItem(atPath: scratch.file(name)) }
        try FileManager.default.copyItem(atPath: scratch.file("template.db"), toPath: scratch.file("store.db"))
    }

    /// What a run leaves: the figures, the audit, the report and summary (without the fetch time and the
    /// age measured from it), and the fetched records.
    static func result(_ scratch: Scratch) throws -> [String: String] {
        let store = DatabaseLocator.sqlite(path: scratch.file("store.db"))
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

    @Test func killedReconciliationsResumeToTheSameStoreAndReports() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.prepare(scratch)
        try Self.reset(scratch)
        let killer = KillAndResume(arguments: ["run", "reconcile.yaml"], directory: scratch.path)
        let (first, seconds) = try killer.timedRun()
        #expect(first.status == 0, "\(first.stderr)")
        let expected = try Self.result(scratch)
        let changes = (0..<Self.variants).filter { $0 % 3 == 0 }.count
        #expect(expected["audit"]?.split(separator: ",").count == changes)
        #expect(first.stderr.contains("applied \(changes)"), "\(first.stderr)")
        try killer.killAtRandomPoints(
            14, seed: 7, duration: seconds, reset: { try Self.reset(scratch) },
            check: { kill in
                let resumed = try Self.result(scratch)
                for (name, value) in expected { #expect(resumed[name] == value, "kill \(kill): \(name) differs") }
            })
    }
}
