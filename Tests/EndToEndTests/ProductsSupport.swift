import Foundation
import Pipelines
import Testing

let vendureReference = PipelineProcess.packageRoot + "/../shared/reference/vendure"

/// A fresh, empty product store for one test: a SQLite file in the scratch folder, or a PostgreSQL
/// schema of its own (the store's table names are fixed, so tests cannot share one schema).
struct ProductsTestStore {
    enum Backend: String, CaseIterable {
        case sqlite, postgres
    }

    let locator: DatabaseLocator
    let url: String
    private let schema: String?

    init(_ backend: Backend, in scratch: Scratch, name: String = "store") throws {
        switch backend {
        case .sqlite:
            let path = scratch.file("\(name).db")
            locator = .sqlite(path: path)
            url = "sqlite:\(path)"
            schema = nil
        case .postgres:
            let server = try TestDatabase.postgresURL()
            let schema = "products_e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let admin = try DatabaseLocator.postgres(url: server).connect(logger: Logger(handler: SilentLogHandler()))
            defer { admin.close() }
            try admin.executeScript("CREATE SCHEMA \(schema)")
            url = server + "?options=-csearch_path%3D\(schema)"
            locator = .postgres(url: url)
            self.schema = schema
        }
    }

    func drop() {
        guard let schema, case .postgres(let url) = locator,
            let admin = try? DatabaseLocator.postgres(url: url).connect(logger: Logger(handler: SilentLogHandler()))
        else { return }
        try? admin.executeScript("DROP SCHEMA \(schema) CASCADE")
        admin.close()
    }

    func rows(_ sql: String) throws -> [[String?]] { try Inspect.rows(locator, sql) }

    /// Changes the store as a user editing it by hand would.
    func execute(_ sql: String) throws {
        let connection = try locator.connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        try connection.executeScript(sql)
    }

    func count(_ table: String) throws -> Int { Int(try rows("SELECT COUNT(*) FROM \(table)")[0][0] ?? "") ?? -1 }

    /// The store tables' constraints and indexes as the catalogue holds them (validation included), to
    /// compare two stores' schemas; on SQLite the tables' and indexes' SQL.
    func schemaObjects() throws -> [[String?]] {
        guard schema != nil else {
            return try rows("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name LIKE 'store%' OR name LIKE 'pipeline_set_aside%' ORDER BY type, name")
        }
        let constraints = try rows(
            """
            SELECT c.conname, t.relname, pg_get_constraintdef(c.oid), c.convalidated::text FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid WHERE c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
                AND (t.relname LIKE 'store%' OR t.relname LIKE 'pipeline_set_aside%')
            ORDER BY 1, 2
            """)
        let indexes = try rows(
            """
            SELECT indexname, tablename, replace(indexdef, current_schema() || '.', '') FROM pg_indexes
            WHERE schemaname = current_schema() AND (tablename LIKE 'store%' OR tablename LIKE 'pipeline_set_aside%') ORDER BY 1
            """)
        let tables = try rows(
            "SELECT table_name, column_name, is_nullable, data_type, is_identity FROM information_schema.columns WHERE table_schema = current_schema() "
                + "AND (table_name LIKE 'store%' OR table_name LIKE 'pipeline_set_aside%') ORDER BY 1, 2")
        return constraints + indexes + tables
    }
}

/// Writes and runs pipelines around `products.import` / `products.export`.
enum ProductsRun {
    /// Runs an import of `file` into `store` (a fresh state store each time) and returns the result.
    @discardableResult
    static func importFile(
        _ file: String, into store: ProductsTestStore, scratch: Scratch, with extra: String = "max_rejects: 1000",
        chunkSize: Int? = nil, name: String = "import"
    ) throws -> PipelineProcess.Result {
        try scratch.write(
            "\(name).yaml",
            """
            name: \(name)
            database: \(store.url)
            state: sqlite:\(name)-state/state.db
            stages:
              - id: import
                uses: products.import
            \(chunkSize.map { "    chunk_size: \($0)\n" } ?? "")    with: { file: "\(file)", rejects: rejects.csv, \(extra) }
            """)
        let result = try PipelineProcess.run(["run", "\(name).yaml"], in: scratch.path)
        try? FileManager.default.removeItem(atPath: scratch.file("\(name)-state"))
        return result
    }

    /// The whole store exported to `format` (jsonl or csv), as text: two stores are identical when
    /// their exports are.
    static func export(_ store: ProductsTestStore, scratch: Scratch, format: String = "jsonl") throws -> String {
        let name = "export-\(UUID().uuidString.prefix(8))"
        try scratch.write(
            "\(name).yaml",
            """
            name: export
            database: \(store.url)
            state: sqlite:\(name)-state/state.db
            stages:
              - id: export
                uses: products.export
                with: { file: out/\(name).\(format) }
            """)
        let result = try PipelineProcess.run(["run", "\(name).yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        defer {
            try? FileManager.default.removeItem(atPath: scratch.file("\(name)-state"))
            try? FileManager.default.removeItem(atPath: scratch.file("out/\(name).\(format)"))
        }
        return try scratch.read("out/\(name).\(format)")
    }

    /// The counts from the import's summary line: `products: 1 created, ...`.
    static func summary(_ result: PipelineProcess.Result) -> String? {
        let text = result.stdout + result.stderr
        guard let range = text.range(of: "products: [^;]*; variants: [^;]*; rows: [0-9]+ read, [0-9]+ rejected", options: .regularExpression)
        else { return nil }
        return String(text[range])
    }

    /// A Vendure CSV of `products` products with `variantsEach` variants each.
    static func generate(products: Int, variantsEach: Int, to path: String, priceBump: Int = 0) throws {
        var text = "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"
        for product in 0..<products {
            for variant in 0..<variantsEach {
                let price = "\(10 + (product * 7 + variant) % 990 + priceBump).\(String(format: "%02d", (product + variant) % 100))"
                if variant == 0 {
                    text += "Product \(product),product-\(product),\"Item \(product), nice\",,category:c\(product % 10),size,"
                } else {
                    text += ",,,,,,"
                }
                text += "s\(variant),SKU-\(product)-\(variant),\(price),standard,\(product % 50),,,\n"
            }
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

extension ProductsRun {
    /// Imports `file` (in `scratch`, chunks of 300 variant rows) once uninterrupted, then `kills` times
    /// killed at a random point and run again to the end: each resumed store holds `variants` variants and
    /// exports the same as the uninterrupted one, with the same schema (and the same rows of `query`).
    /// With `earlier`, each store first gets that file, uninterrupted.
    static func expectKilledImportsResume(
        _ file: String, backend: ProductsTestStore.Backend, variants: Int, kills: Int, seed: UInt64, in scratch: Scratch,
        after earlier: String? = nil, sameRows query: String? = nil
    ) throws {
        let baseline = try ProductsTestStore(backend, in: scratch, name: "baseline")
        defer { baseline.drop() }
        if let earlier { #expect(try importFile(scratch.file(earlier), into: baseline, scratch: scratch, chunkSize: 300).status == 0) }
        let started = Date()
        let uninterrupted = try importFile(scratch.file(file), into: baseline, scratch: scratch, chunkSize: 300)
        let seconds = Date().timeIntervalSince(started)
        #expect(uninterrupted.status == 0, "\(uninterrupted.stderr)")
        #expect(try baseline.count("store_variants") == variants)
        let expected = try export(baseline, scratch: scratch)
        var store = try ProductsTestStore(backend, in: scratch, name: "killed")
        defer { store.drop() }
        let runner = KillAndResume(arguments: ["run", "killed.yaml"], directory: scratch.path)
        let reset = {
            store.drop()
            try? FileManager.default.removeItem(atPath: scratch.file("killed.db"))
            try? FileManager.default.removeItem(atPath: scratch.file("killed-state"))
            store = try ProductsTestStore(backend, in: scratch, name: "killed")
            if let earlier { #expect(try importFile(scratch.file(earlier), into: store, scratch: scratch, chunkSize: 300).status == 0) }
            try scratch.write(
                "killed.yaml",
                """
                name: killed
                database: \(store.url)
                state: sqlite:killed-state/state.db
                stages:
                  - id: import
                    uses: products.import
                    chunk_size: 300
                    with: { file: \(file) }
                """)
        }
        let schema = try baseline.schemaObjects()
        let rows = try query.map(baseline.rows)
        try runner.killAtRandomPoints(kills, seed: seed, duration: seconds, reset: reset) { kill in
            let stored = try store.count("store_variants")
            let resumed = try export(store, scratch: scratch)
            #expect(stored == variants, "kill \(kill)")
            #expect(resumed == expected, "kill \(kill): store differs from the uninterrupted import")
            #expect(try store.schemaObjects() == schema, "kill \(kill): the schema differs from the uninterrupted import's")
            #expect(try query.map(store.rows) == rows, "kill \(kill): \(query ?? "") differs from the uninterrupted import's")
        }
    }
}
