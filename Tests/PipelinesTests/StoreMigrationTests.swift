import Foundation
import Testing

@testable import Pipelines
@testable import Stages

@Suite struct StoreMigrationTests {
    static let dialects: [SQLDialect] = [.sqlite, .postgres]

    static let twoSteps: [Migration] = [
        Migration(version: 1, name: "first") { _ in "CREATE TABLE migration_one (x INTEGER)" },
        Migration(version: 2, name: "second") { _ in
            "CREATE TABLE migration_two (y INTEGER); INSERT INTO migration_two (y) VALUES (7)"
        },
    ]

    func runner(_ database: StoreTestDatabase) -> MigrationRunner {
        MigrationRunner(connection: database.connection, logger: StoreTestDatabase.logger)
    }

    @Test(arguments: dialects) func appliesOnceInOrderAndRecords(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let runner = runner(database)
            #expect(try runner.currentVersion(family: "test") == 0)
            #expect(try runner.migrate(family: "test", migrations: Self.twoSteps.reversed()) == [1, 2])
            #expect(try runner.currentVersion(family: "test") == 2)
            let recorded = try runner.appliedMigrations(family: "test")
            #expect(recorded.map(\.version) == [1, 2])
            #expect(recorded.map(\.name) == ["first", "second"])
            #expect(recorded.allSatisfy { $0.appliedAt.hasSuffix("Z") })

            #expect(try runner.migrate(family: "test", migrations: Self.twoSteps) == [])
            #expect(try database.count("migration_two") == 1)
            #expect(try runner.appliedMigrations(family: "test") == recorded)
            #expect(try runner.currentVersion(family: "other") == 0)
        }
    }

    @Test(arguments: dialects) func appliesOnlyTheNewVersionLater(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let runner = runner(database)
            #expect(try runner.migrate(family: "test", migrations: [Self.twoSteps[0]]) == [1])
            #expect(try runner.migrate(family: "test", migrations: Self.twoSteps) == [2])
        }
    }

    @Test(arguments: dialects) func refusesANewerDatabase(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let runner = runner(database)
            try runner.migrate(family: "test", migrations: Self.twoSteps)
            try database.connection.execute(
                "INSERT INTO schema_migrations (family, version, name, applied_at) VALUES ('test', 3, 'future', 'x')", [])
            expectPipelineError(.config, containing: "newer than this pipeline binary knows") {
                try runner.migrate(family: "test", migrations: Self.twoSteps)
            }
        }
    }

    @Test(arguments: dialects) func refusesAGapBelowTheCurrentVersion(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            try database.connection.executeScript(
                """
                CREATE TABLE schema_migrations (family TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,
                    applied_at TEXT NOT NULL, PRIMARY KEY (family, version));
                INSERT INTO schema_migrations VALUES ('test', 2, 'second', 'x')
                """)
            expectPipelineError(.config, containing: "lacks version 1") {
                try runner(database).migrate(family: "test", migrations: Self.twoSteps)
            }
        }
    }

    @Test(arguments: dialects) func aFailingMigrationLeavesThePreviousVersion(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let broken = [
                Self.twoSteps[0],
                Migration(version: 2, name: "broken") { _ in "CREATE TABLE half_done (x INTEGER); CREATE TABLE (" },
            ]
            let runner = runner(database)
            #expect(throws: PipelineError.self) { try runner.migrate(family: "test", migrations: broken) }
            #expect(try runner.currentVersion(family: "test") == 1)
            #expect(try database.connection.tableColumns(SQLName(validating: "migration_one")) != nil)
            #expect(try database.connection.tableColumns(SQLName(validating: "half_done")) == nil)
        }
    }

    @Test func rejectsDuplicateVersions() throws {
        expectPipelineError(.internal, containing: "two migrations with version 1") {
            _ = try MigrationRunner.checkedInOrder([Self.twoSteps[0], Self.twoSteps[0]], family: "test")
        }
    }

    @Test(arguments: dialects) func concurrentMigratorsApplyEachVersionOnce(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let slow = [
                Migration(version: 1, name: "slow") { dialect in
                    dialect == .postgres
                        ? "CREATE TABLE slow_one (x INTEGER); SELECT pg_sleep(0.3)" : "CREATE TABLE slow_one (x INTEGER)"
                }
            ]
            let (locator, schema) = (database.locator, database.schema)
            let results = ConcurrentResults()
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                results.add(
                    Result {
                        let connection = try StoreTestDatabase.open(locator, schema: schema)
                        defer { connection.close() }
                        let runner = MigrationRunner(connection: connection, logger: StoreTestDatabase.logger)
                        return try runner.migrate(family: "test", migrations: slow)
                    })
            }
            let applied = try results.all.map { try $0.get() }
            #expect(applied.flatMap { $0 } == [1])
            #expect(try database.rows("SELECT COUNT(*) FROM schema_migrations").first?.first == "1")
        }
    }

    @Test(arguments: dialects) func createsTheStoreSchema(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let runner = runner(database)
            #expect(try runner.migrate(family: StoreSchema.family, migrations: StoreSchema.migrations) == [1, 2, 3, 4, 5, 6, 7])
            #expect(try database.rows("SELECT name FROM store_stock_locations") == [["default"]])
            let variantColumns = try database.connection.tableColumns(SQLName(validating: "store_variants"))
            #expect(variantColumns?.contains("sku") == true)
            #expect(try runner.migrate(family: StoreSchema.family, migrations: StoreSchema.migrations) == [])
        }
    }
}

extension StoreMigrationTests {
    /// Version 2 rebuilds SQLite's composite-key tables without rowid: a store at version 1 keeps its rows,
    /// constraints and indexes.
    @Test(arguments: dialects) func version2KeepsTheRowsOfAVersion1Store(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let runner = runner(database)
            #expect(try runner.migrate(family: StoreSchema.family, migrations: [StoreSchema.migrations[0]]) == [1])
            try database.connection.executeScript(
                """
                INSERT INTO store_products (id, created_at, updated_at) VALUES (1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
                INSERT INTO store_product_translations VALUES (1, 'en', 0, 'Shirt', 'shirt', 'A shirt');
                INSERT INTO store_product_translations VALUES (1, 'de', 1, 'Hemd', 'hemd', 'Ein Hemd');
                INSERT INTO store_variants (id, product_id, position, sku, tax_category, created_at, updated_at)
                    VALUES (1, 1, 0, 'S-1', 'standard', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
                INSERT INTO store_prices VALUES (1, 'USD', 2, 1999);
                INSERT INTO store_prices VALUES (1, 'JPY', 0, 2500);
                INSERT INTO store_stock_levels (variant_id, location_id, on_hand)
                    SELECT 1, id, 7 FROM store_stock_locations WHERE name = 'default'
                """)
            let tables = ["store_product_translations", "store_prices", "store_stock_levels"]
            let before = try tables.map { try database.rows("SELECT * FROM \($0) ORDER BY 1, 2") }
            #expect(try runner.migrate(family: StoreSchema.family, migrations: StoreSchema.migrations) == [2, 3, 4, 5, 6, 7])
            #expect(try tables.map { try database.rows("SELECT * FROM \($0) ORDER BY 1, 2") } == before)
            if dialect == .sqlite {
                let rowidTables = try database.rows(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'store_%' AND sql NOT LIKE '%WITHOUT ROWID'"
                ).compactMap { $0.first ?? nil }
                #expect(Set(rowidTables) == ["store_products", "store_variants", "store_stock_locations", "store_assets",
                    "store_facets", "store_facet_values", "store_option_groups", "store_options", "store_inventory_adjustments", "store_orders",
                    "store_refunds", "store_payouts", "store_payments", "store_exports", "store_export_items", "store_product_sources"])
                #expect(try database.rows("PRAGMA foreign_key_check").isEmpty)
                #expect(try database.rows("SELECT name FROM sqlite_master WHERE name = 'store_stock_levels_location'").count == 1)
            }
            let orphan = #expect(throws: DatabaseError.self) {
                try database.connection.execute(
                    "INSERT INTO store_prices (variant_id, currency, currency_exponent, amount_minor) VALUES (999999, 'USD', 2, 1)", [])
            }
            #expect(orphan?.code == .constraint)
        }
    }
}

extension StoreMigrationTests {
    /// Version 5 lets variants of one product share a SKU. On SQLite it rebuilds `store_variants`, which
    /// eight tables reference: their rows stay, and their foreign keys (cascades included) still work.
    @Test(arguments: dialects) func version5LetsVariantsShareASKUAndKeepsWhatReferencesThem(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let runner = runner(database)
            #expect(try runner.migrate(family: StoreSchema.family, migrations: Array(StoreSchema.migrations.prefix(4))) == [1, 2, 3, 4])
            let time = "'2026-01-01T00:00:00Z'"
            try database.connection.executeScript(
                """
                INSERT INTO store_products (id, created_at, updated_at) VALUES (1, \(time), \(time));
                INSERT INTO store_option_groups (id, product_id, position, code) VALUES (1, 1, 0, 'color');
                INSERT INTO store_options (id, option_group_id, position, code) VALUES (1, 1, 0, 'mint'), (2, 1, 1, 'pearl');
                INSERT INTO store_variants (id, product_id, position, sku, tax_category, created_at, updated_at)
                    VALUES (1, 1, 0, 'CHAIR', 'standard', \(time), \(time));
                INSERT INTO store_variant_options VALUES (1, 0, 1);
                INSERT INTO store_prices VALUES (1, 'USD', 2, 10000);
                INSERT INTO store_stock_levels (variant_id, location_id, on_hand)
                    SELECT 1, id, 7 FROM store_stock_locations WHERE name = 'default';
                INSERT INTO store_variant_custom_fields VALUES (1, 'en', 'size', 0, 'L')
                """)
            let tables = ["store_variants", "store_variant_options", "store_prices", "store_stock_levels", "store_variant_custom_fields"]
            let before = try tables.map { try database.rows("SELECT * FROM \($0) ORDER BY 1, 2") }
            #expect(try runner.migrate(family: StoreSchema.family, migrations: Array(StoreSchema.migrations.prefix(5))) == [5])
            #expect(try tables.map { try database.rows("SELECT * FROM \($0) ORDER BY 1, 2") } == before)
            try database.connection.executeScript(
                """
                INSERT INTO store_variants (id, product_id, position, sku, tax_category, created_at, updated_at)
                    VALUES (2, 1, 1, 'CHAIR', 'standard', \(time), \(time));
                INSERT INTO store_variant_options VALUES (2, 0, 2)
                """)
            #expect(try database.rows("SELECT COUNT(*) FROM store_variants WHERE sku = 'CHAIR'") == [["2"]])
            let orphan = #expect(throws: DatabaseError.self) {
                try database.connection.execute("INSERT INTO store_prices VALUES (999, 'USD', 2, 1)", [])
            }
            #expect(orphan?.code == .constraint)
            try database.connection.execute("DELETE FROM store_products WHERE id = 1", [])
            #expect(try database.rows("SELECT COUNT(*) FROM store_variant_options") == [["0"]])
            #expect(try database.rows("SELECT COUNT(*) FROM store_prices") == [["0"]])
            if dialect == .sqlite {
                #expect(try database.rows("SELECT name FROM sqlite_master WHERE name IN ('store_variants_sku', 'store_variants_product') ORDER BY name")
                    == [["store_variants_product"], ["store_variants_sku"]])
                #expect(try database.rows("PRAGMA foreign_keys") == [["1"]])
            }
        }
    }
}

final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[Int], any Error>] = []
    func add(_ result: Result<[Int], any Error>) { lock.withLock { results.append(result) } }
    var all: [Result<[Int], any Error>] { lock.withLock { results } }
}
