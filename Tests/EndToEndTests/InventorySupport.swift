import Foundation
import Pipelines
import Testing

/// A product store loaded from Vendure's demo catalogue (88 variants, 100 on hand each; the three of its
/// last product share the SKU 404.038.96), and feeds made from the same SKUs.
struct InventoryScene {
    let scratch: Scratch
    let store: ProductsTestStore

    static let catalogue = vendureReference + "/mock-data/products.csv"

    /// The catalogue's distinct SKUs in file order, with their stock on hand.
    static func catalogueStock() throws -> [(sku: String, onHand: Int)] {
        let reader = try CSVReader(path: catalogue, trimsSpaceAroundQuotes: true)
        let header = try reader.readHeader().map { $0.trimmingCharacters(in: .whitespaces) }
        let skuColumn = try #require(header.firstIndex(of: "sku"))
        let stockColumn = try #require(header.firstIndex(of: "stockOnHand"))
        var seen: Set<String> = []
        var stock: [(String, Int)] = []
        let record = RecordBuffer()
        while try reader.next(into: record) != nil {
            let sku = (record.string(skuColumn) ?? "").trimmingCharacters(in: .whitespaces)
            guard !sku.isEmpty, seen.insert(sku).inserted else { continue }
            stock.append((sku, Int((record.string(stockColumn) ?? "").trimmingCharacters(in: .whitespaces)) ?? 0))
        }
        return stock
    }

    /// A store with the catalogue (and `extraProducts`, Vendure CSV rows under the same header) imported.
    init(_ backend: ProductsTestStore.Backend = .sqlite, extraProducts: String? = nil) throws {
        scratch = try Scratch()
        store = try ProductsTestStore(backend, in: scratch)
        var stages = """
              - id: catalogue
                uses: products.import
                with: { file: "\(Self.catalogue)", currency: USD }
            """
        if let extraProducts {
            try scratch.write(
                "extra.csv",
                "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"
                    + extraProducts)
            stages += """

                  - id: extra
                    uses: products.import
                    with: { file: extra.csv, currency: USD }
                """
        }
        try scratch.write(
            "setup.yaml",
            """
            name: setup
            database: "\(store.url)"
            state: sqlite:var/setup-state.db
            stages:
            \(stages)
            """)
        let result = try PipelineProcess.run(["run", "setup.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
    }

    func remove() {
        store.drop()
        scratch.remove()
    }

    /// Writes `reconcile.yaml`: `fetch` (an inventory.fetch with `fetch`) then `reconcile` (with `reconcile`).
    @discardableResult
    func pipeline(fetch: String, reconcile: String = "", name: String = "reconcile.yaml", reconcileSettings: String = "") throws -> String {
        try scratch.write(
            name,
            """
            name: stock
            database: "\(store.url)"
            state: sqlite:var/state.db
            stages:
              - id: fetch
                uses: inventory.fetch
                with: { \(fetch) }
              - id: reconcile
                uses: inventory.reconcile
            \(reconcileSettings.isEmpty ? "" : "    " + reconcileSettings + "\n")    with: { feed: fetch\(reconcile.isEmpty ? "" : ", " + reconcile) }
            """)
        return name
    }

    /// The store's on-hand figure per SKU at the default location.
    func stock() throws -> [String: String] {
        var figures: [String: String] = [:]
        for row in try Inspect.rows(
            store.locator,
            "SELECT v.sku, l.on_hand FROM store_variants v JOIN store_stock_levels l ON l.variant_id = v.id JOIN store_stock_locations s ON s.id = l.location_id AND s.name = 'default'")
        {
            figures[row[0] ?? ""] = row[1] ?? ""
        }
        return figures
    }

    func adjustments() throws -> [[String?]] {
        try Inspect.rows(
            store.locator,
            "SELECT sku, location, before_on_hand, after_on_hand, delta, reason, feed_sha256, stage FROM store_inventory_adjustments ORDER BY sku")
    }

    /// The reconcile stage's report folder (the run's folder under var/reconcile/).
    func reportFolder() throws -> String {
        let runs = try FileManager.default.contentsOfDirectory(atPath: scratch.file("var/reconcile")).filter { !$0.hasPrefix(".") }
        #expect(runs.count == 1, "\(runs)")
        return scratch.file("var/reconcile/" + (runs.first ?? ""))
    }

    /// report.csv as rows of fields (status, sku, feed_sku, shop, feed, delta, change_percent, outcome).
    func report(in folder: String? = nil) throws -> [[String]] {
        let text = try String(contentsOfFile: (try folder ?? reportFolder()) + "/report.csv", encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    func summary(in folder: String? = nil) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: (try folder ?? reportFolder()) + "/summary.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A feed CSV `SKU,OnHandQuantity,ReservedQuantity` (VeraCore's export) of the catalogue, with
    /// `changes` applied to on hand by SKU and `extra` rows appended.
    static func feedCSV(changes: [String: Int] = [:], drop: Set<String> = [], extra: [String] = []) throws -> String {
        var lines = ["SKU,OnHandQuantity,ReservedQuantity"]
        for (sku, onHand) in try catalogueStock() where !drop.contains(sku) {
            lines.append("\(sku),\(changes[sku] ?? onHand),2")
        }
        return (lines + extra).joined(separator: "\n") + "\n"
    }

    static let veracoreColumns = "columns: veracore"
}
