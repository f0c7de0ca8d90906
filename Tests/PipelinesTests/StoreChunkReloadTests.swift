import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// Chunks of blocks that are already stored: `upsert(chunk:)` reads their products ahead, set-based, and
/// must still store exactly what `upsert` block by block does.
extension StoreBulkTests {
    @Test(arguments: StoreProductTests.dialects) func blocksOfOneChunkTouchingTheSameProduct(dialect: SQLDialect) throws {
        try withStores(dialect) { single, bulk, clock throws in
            var cheaper = Self.product(1)
            cheaper.variants[0].price = Money(minorUnits: 5, currency: .usd)
            var renamedFacet = Self.product(2)
            renamedFacet.facets[0].translations[1].facet = "Hersteller"
            let next = [
                cheaper,
                renamedFacet,
                // The facet under its old German name again.
                Self.product(3),
                // Product 1 again by its SKU P1-S: P1-M and P1-L go, P1-XL comes.
                Self.product(1, sizes: ["S", "XL"]),
                Self.product(1),
                // New SKUs under product 1's English slug: product 1 again, all its variants replaced.
                Self.product(9, slug: "shirt-1", sizes: ["XS"]),
                Self.product(1, sizes: ["S", "M"]),
            ]
            let result = try expectSameOutcome(
                single, bulk, clock, stored: (1...4).map { Self.product($0) }, then: next)
            #expect(result.productsUpdated == 7)
            #expect(result.variantsDeleted == 7)
        }
    }

    @Test(arguments: StoreProductTests.dialects) func blocksOfOneChunkMovingVariantsBetweenProducts(dialect: SQLDialect) throws {
        try withStores(dialect) { single, bulk, clock throws in
            let stored = (1...3).map { Self.product($0) }
            // P2-S moves to product 1.
            var first = Self.product(1)
            first.variants.append(stored[1].variants[0])
            // Product 2 without P2-S: its read-ahead copy still has it.
            let second = Self.product(2, sizes: ["M", "L"])
            // P1-M moves from product 1, changed by `first`, to product 3.
            var third = Self.product(3)
            third.variants.append(stored[0].variants[1])
            // P2-S moves back to product 2.
            let fourth = Self.product(2, sizes: ["M", "L", "S"])
            let result = try expectSameOutcome(
                single, bulk, clock, stored: stored, then: [first, second, third, fourth, Self.product(1)])
            #expect(result.productsUpdated == 5)
        }
    }

    @Test(arguments: StoreProductTests.dialects) func unchangedChunkWritesNothingWithAFewStatements(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let connection = CountingConnection(database.connection)
            let store = try openStore(connection)
            // 600 variants: more than one SQLite batch of ids.
            let blocks = (1...200).map { Self.product($0) }
            #expect(try chunk(store, blocks).productsCreated == 200)
            let before = try contents(store)

            func unchanged(_ blocks: [ProductBlock]) throws -> Int {
                connection.statements = 0
                let result = try chunk(store, blocks)
                #expect(result.productsUnchanged == blocks.count)
                #expect(result.variantsUnchanged == 3 * blocks.count)
                #expect(result.rowsWritten == 0)
                return connection.statements
            }
            let few = try unchanged(Array(blocks.prefix(10)))
            #expect(try unchanged(Array(blocks.prefix(40))) == few)
            #expect(few < 40)
            _ = try unchanged(blocks)
            #expect(try contents(store) == before)
        }
    }

    @Test(arguments: StoreProductTests.dialects) func productsReadTogetherEqualProductsReadAlone(dialect: SQLDialect) throws {
        try withStores(dialect) { _, bulk, _ throws in
            var blocks = (1...30).map { Self.product($0) }
            blocks[4].variants[0].price = Money(minorUnits: 7, currency: .eur)
            _ = try chunk(bulk, blocks)
            _ = try chunk(bulk, [StoreProductTests.shirt()])
            var ids: [Int64] = []
            try bulk.read("SELECT id FROM store_products", []) { ids.append($0.storeInteger(0)) }
            let together = try bulk.loadProducts(ids + [999_999], withFacetNames: true)
            #expect(together.count == ids.count + 1)
            #expect(together[999_999]?.rows == ProductRows())
            for id in ids {
                let alone = try bulk.loadProduct(id, withFacetNames: true)
                let read = together[id]
                #expect(read?.rows == alone.rows)
                #expect(read?.variantIDs == alone.variantIDs)
                #expect(read?.groupIDs == alone.groupIDs)
                #expect(read?.optionIDs == alone.optionIDs)
                #expect(alone.rows.variants.count >= 2)
                #expect(!alone.rows.facetNames.isEmpty)
            }
        }
    }
}

/// Forwards to a connection, counting the statements sent (transaction control aside).
final class CountingConnection: DatabaseConnection {
    let base: any DatabaseConnection
    var statements = 0

    init(_ base: any DatabaseConnection) { self.base = base }

    var locator: DatabaseLocator { base.locator }
    var dialect: SQLDialect { base.dialect }

    func executeScript(_ sql: String) throws {
        statements += 1
        try base.executeScript(sql)
    }

    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int64 {
        statements += 1
        return try base.execute(sql, parameters)
    }

    func query(
        _ sql: String, _ parameters: [SQLValue], columns: ([ColumnInfo]) throws -> Void, row: (any RowView) throws -> Void
    ) throws {
        statements += 1
        try base.query(sql, parameters, columns: columns, row: row)
    }

    func export(_ sql: String, columns: ([ColumnInfo]) throws -> Void, row: (any RowView) throws -> Void) throws {
        statements += 1
        try base.export(sql, columns: columns, row: row)
    }

    func begin() throws { try base.begin() }
    func commit() throws { try base.commit() }
    func rollback() throws { try base.rollback() }
    func beginReadOnly() throws { try base.beginReadOnly() }
    func endReadOnly() throws { try base.endReadOnly() }
    func tableColumns(_ table: SQLName) throws -> [String]? { try base.tableColumns(table) }
    func columnTypes(of table: SQLName) throws -> [String: String] { try base.columnTypes(of: table) }
    var canceller: StatementCanceller { base.canceller }

    func bulkInsert(into table: SQLName, columns: [String]) throws -> any BulkInserter {
        statements += 1
        return try base.bulkInsert(into: table, columns: columns)
    }

    func bulkUpsert(into table: SQLName, columns: [String], key: [String]) throws -> any BulkInserter {
        statements += 1
        return try base.bulkUpsert(into: table, columns: columns, key: key)
    }

    func uniqueKeys(of table: SQLName) throws -> [[String]] { try base.uniqueKeys(of: table) }

    func close() { base.close() }
}
