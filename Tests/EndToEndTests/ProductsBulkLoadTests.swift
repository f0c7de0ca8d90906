import Foundation
import Pipelines
import Testing

/// An import into an empty PostgreSQL store sets the product tables' indexes and constraints aside and
/// builds them once at the end, as pg_restore does; the schema it leaves is the one the migrations make.
@Suite(.timeLimit(.minutes(5))) struct ProductsBulkLoadTests {
    typealias Backend = ProductsTestStore.Backend

    static let catalogue = vendureReference + "/mock-data/products.csv"

    /// A store migrated by `pipeline db migrate` and nothing else.
    static func migrated(_ backend: Backend, in scratch: Scratch) throws -> ProductsTestStore {
        let store = try ProductsTestStore(backend, in: scratch, name: "migrated")
        let result = try PipelineProcess.run(["db", "migrate", "--database", store.url])
        #expect(result.status == 0, "\(result.stderr)")
        return store
    }

    /// Calls `body` with a scratch folder, an empty store and a reference store `pipeline db migrate` made.
    static func withStores(
        _ backend: Backend, _ body: (Scratch, ProductsTestStore, _ reference: ProductsTestStore) throws -> Void
    ) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let reference = try migrated(backend, in: scratch)
        defer { reference.drop() }
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        try body(scratch, store, reference)
    }

    @Test(arguments: Backend.allCases) func aFreshImportLeavesTheSchemaTheMigrationsMake(backend: Backend) throws {
        try Self.withStores(backend) { scratch, store, reference in
            let first = try ProductsRun.importFile(Self.catalogue, into: store, scratch: scratch, with: "currency: USD", chunkSize: 20)
            #expect(first.status == 0, "\(first.stderr)")
            // PostgreSQL sets its schema aside; SQLite keeps it and checks the foreign keys once at the end.
            #expect(first.stderr.contains("the product store is empty: 53 indexes and constraints are set aside until the import ends") == (backend == .postgres), "\(first.stderr)")
            #expect(first.stderr.contains("the product store is empty: its foreign keys are checked once when the import ends") == (backend == .sqlite), "\(first.stderr)")
            #expect(first.stderr.contains("checked the foreign keys of the 23 product tables") == (backend == .sqlite), "\(first.stderr)")
            #expect(try store.count("store_variants") == 88)
            #expect(try store.schemaObjects() == reference.schemaObjects())

            // Into a store that has products, nothing is set aside.
            let second = try ProductsRun.importFile(Self.catalogue, into: store, scratch: scratch, with: "currency: USD")
            #expect(second.status == 0 && !second.stderr.contains("set aside"), "\(second.stderr)")
            #expect(!second.stderr.contains("foreign keys"), "\(second.stderr)")
        }
    }

    /// A SQLite load given up with its foreign keys unchecked is checked by the next import, which fails
    /// (70, naming the row) while a row refers to nothing, and forgets the load once the check passes.
    @Test func foreignKeysLeftUncheckedAreCheckedByTheNextImport() throws {
        try Self.withStores(.sqlite) { scratch, store, reference in
            #expect(try ProductsRun.importFile(Self.catalogue, into: store, scratch: scratch, with: "currency: USD").status == 0)
            let connection = try store.locator.connect(logger: Logger(handler: SilentLogHandler()))
            try UncheckedForeignKeys.stopChecking(on: connection)
            try connection.inTransaction {
                try UncheckedForeignKeys.record(["store_prices"], in: connection)
                _ = try connection.execute(
                    "INSERT INTO store_prices (variant_id, currency, currency_exponent, amount_minor) VALUES (999999, 'EUR', 2, 100)", [])
            }
            connection.close()

            let broken = try ProductsRun.importFile(Self.catalogue, into: store, scratch: scratch, with: "currency: USD")
            #expect(broken.status == 70, "\(broken.stderr)")
            #expect(broken.stderr.contains("1 rows refer to missing rows (a row of store_prices refers to a missing row of store_variants)"), "\(broken.stderr)")

            _ = try store.rows("DELETE FROM store_prices WHERE variant_id = 999999")
            let again = try ProductsRun.importFile(Self.catalogue, into: store, scratch: scratch, with: "currency: USD")
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stderr.contains("checked the foreign keys of the 23 product tables"), "\(again.stderr)")
            #expect(try store.schemaObjects() == reference.schemaObjects())
        }
    }

    /// A stage after a SQLite bulk load, on the same connection, has its foreign keys checked again.
    @Test func theConnectionChecksForeignKeysAgainAfterTheLoad() throws {
        try Self.withStores(.sqlite) { scratch, store, _ in
            try scratch.write(
                "two.yaml",
                """
                name: two
                database: \(store.url)
                state: sqlite:two-state/state.db
                stages:
                  - id: import
                    uses: products.import
                    with: { file: "\(Self.catalogue)", currency: USD }
                  - id: dangling
                    uses: sql.run
                    needs: [import]
                    with: { sql: "INSERT INTO store_prices (variant_id, currency, currency_exponent, amount_minor) VALUES (999999, 'EUR', 2, 100)" }
                """)
            let result = try PipelineProcess.run(["run", "two.yaml"], in: scratch.path)
            #expect(result.status == 65, "\(result.stderr)")
            #expect(result.stderr.contains("FOREIGN KEY constraint failed"), "\(result.stderr)")
            #expect(try store.count("store_variants") == 88)
            #expect(try store.count("store_prices") == 88)
        }
    }

    /// An import given up while the schema was set aside (then `--restart`ed, or followed by another
    /// import) has it made again before anything else.
    @Test func aSchemaLeftSetAsideIsMadeAgainByTheNextImport() throws {
        try Self.withStores(.postgres) { scratch, store, reference in
            #expect(try ProductsRun.importFile(Self.catalogue, into: store, scratch: scratch, with: "currency: USD").status == 0)
            let connection = try store.locator.connect(logger: Logger(handler: SilentLogHandler()))
            try connection.inTransaction { _ = try SetAsideSchema.setAside(["store_variants", "store_prices"], in: connection) }
            connection.close()
            #expect(try store.schemaObjects() != reference.schemaObjects())

            let again = try ProductsRun.importFile(Self.catalogue, into: store, scratch: scratch, with: "currency: USD")
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stderr.contains("made the indexes and constraints an unfinished import had set aside again"), "\(again.stderr)")
            #expect(try store.schemaObjects() == reference.schemaObjects())
        }
    }
}
