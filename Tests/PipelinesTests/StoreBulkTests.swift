import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// `ProductStore.upsert(chunk:)` stores exactly what `upsert` block by block does.
@Suite struct StoreBulkTests {
    static let tables = [
        "store_products", "store_product_translations", "store_variants", "store_prices", "store_stock_levels",
        "store_assets", "store_product_assets", "store_variant_assets", "store_facets", "store_facet_translations",
        "store_facet_values", "store_facet_value_translations", "store_product_facet_values",
        "store_variant_facet_values", "store_option_groups", "store_option_group_translations", "store_options",
        "store_option_translations", "store_variant_options", "store_product_custom_fields",
        "store_variant_custom_fields",
    ]

    /// A product with a size option, facets, assets and custom fields; `n` makes its SKUs and slug unique.
    static func product(_ n: Int, slug: String? = nil, sizes: [String] = ["S", "M", "L"]) -> ProductBlock {
        var block = StoreProductTests.shirt()
        block.translations[0].slug = slug ?? "shirt-\(n)"
        block.translations[1].slug = "hemd-\(n)"
        block.assetPaths = ["/assets/p\(n).jpg", "/assets/shared.jpg"]
        block.facets[0].translations[0].value = "brand-\(n % 3)"
        block.optionGroups[0].translations[0].values = sizes
        block.optionGroups[0].translations[1].values = sizes.map { $0.lowercased() }
        block.variants = sizes.enumerated().map { index, size in
            var variant = StoreProductTests.variant(
                "P\(n)-\(size)", size: (size, size.lowercased()),
                price: Money(minorUnits: Int64(1000 * n + index), currency: .usd), stock: index == 1 ? nil : n + index)
            variant.assetPaths = index == 0 ? ["/assets/shared.jpg"] : []
            return variant
        }
        return block
    }

    func withStores(
        _ dialect: SQLDialect, _ body: (_ single: ProductStore, _ bulk: ProductStore, SteppingClock) throws -> Void
    ) throws {
        try withStoreDatabase(dialect) { singleDatabase throws in
            try withStoreDatabase(dialect) { bulkDatabase throws in
                let clock = SteppingClock()
                let single = try openStore(singleDatabase.connection, clock: { clock.date })
                let bulk = try openStore(bulkDatabase.connection, clock: { clock.date })
                try body(single, bulk, clock)
            }
        }
    }

    func oneByOne(_ store: ProductStore, _ blocks: [ProductBlock]) throws -> UpsertResult {
        try store.connection.inTransaction {
            var total = UpsertResult()
            for block in blocks { total += try store.upsert(block) }
            return total
        }
    }

    func chunk(_ store: ProductStore, _ blocks: [ProductBlock]) throws -> UpsertResult {
        try store.connection.inTransaction { try store.upsert(chunk: blocks) }
    }

    /// Every store table's rows, ids included, in a stable order.
    func contents(_ store: ProductStore) throws -> [String: [[String?]]] {
        var tables: [String: [[String?]]] = [:]
        for table in Self.tables {
            var rows: [[String?]] = []
            try store.connection.query("SELECT * FROM \(table)", [], columns: { _ in }) { row in
                rows.append((0..<row.columnCount).map { row.string($0) })
            }
            tables[table] = rows.sorted { $0.map { $0 ?? "NULL" }.lexicographicallyPrecedes($1.map { $0 ?? "NULL" }) }
        }
        return tables
    }

    func counts(_ result: UpsertResult) -> [Int] {
        [
            result.productsCreated, result.productsUpdated, result.productsUnchanged, result.variantsCreated,
            result.variantsUpdated, result.variantsUnchanged, result.variantsDeleted,
        ]
    }

    /// Stores `blocks` in both stores, then upserts `next` one by one and as one chunk and compares everything.
    func expectSameOutcome(
        _ single: ProductStore, _ bulk: ProductStore, _ clock: SteppingClock, stored blocks: [ProductBlock],
        then next: [ProductBlock]
    ) throws -> UpsertResult {
        _ = try oneByOne(single, blocks)
        _ = try chunk(bulk, blocks)
        clock.advance()
        let expected = try oneByOne(single, next)
        let result = try chunk(bulk, next)
        #expect(counts(result) == counts(expected))
        #expect(result.rowsWritten == expected.rowsWritten)
        #expect(try contents(bulk) == contents(single))
        var exportedSingle: [ProductBlock] = []
        var exportedBulk: [ProductBlock] = []
        try single.products(currency: nil) { exportedSingle.append($0) }
        try bulk.products(currency: nil) { exportedBulk.append($0) }
        #expect(exportedBulk == exportedSingle)
        return result
    }

    @Test(arguments: StoreProductTests.dialects) func newProductsThenTheSameChunkAgain(dialect: SQLDialect) throws {
        try withStores(dialect) { single, bulk, clock throws in
            let blocks = (1...12).map { Self.product($0) }
            let expected = try oneByOne(single, blocks)
            let created = try chunk(bulk, blocks)
            #expect(counts(created) == counts(expected))
            #expect(counts(created) == [12, 0, 0, 36, 0, 0, 0])
            #expect(created.rowsWritten == expected.rowsWritten)
            #expect(try contents(bulk) == contents(single))

            clock.advance()
            let before = try contents(bulk)
            let again = try chunk(bulk, blocks)
            #expect(counts(again) == [0, 0, 12, 0, 0, 36, 0])
            #expect(again.rowsWritten == 0)
            #expect(try contents(bulk) == before)
        }
    }

    @Test(arguments: StoreProductTests.dialects) func mixedChunkMatchesOneByOne(dialect: SQLDialect) throws {
        try withStores(dialect) { single, bulk, clock throws in
            var changed = Self.product(2, sizes: ["S", "M", "XL"])
            changed.variants[0].price = Money(minorUnits: 1, currency: .usd)
            let blocks = [
                Self.product(5), changed, Self.product(6), Self.product(1),
                // New SKUs, but the slug of product 6 earlier in the same chunk: stored into product 6.
                Self.product(7, slug: "shirt-6"), Self.product(8),
            ]
            let result = try expectSameOutcome(
                single, bulk, clock, stored: (1...4).map { Self.product($0) }, then: blocks)
            #expect(result.productsCreated == 3)
            #expect(result.variantsDeleted == 4)
        }
    }

    @Test(arguments: StoreProductTests.dialects) func oddSKUsAndSlugsAreFoundAgain(dialect: SQLDialect) throws {
        try withStores(dialect) { _, bulk, _ throws in
            let odd = [#"a"b"#, #"back\slash"#, "comma,{brace}", "NULL", "", " spaced ", "ünï"]
            let blocks = odd.enumerated().map { index, text in
                var block = Self.product(index, slug: "slug-\(text)", sizes: ["S"])
                block.variants[0].sku = "sku-\(text)"
                return block
            }
            #expect(try chunk(bulk, blocks).productsCreated == odd.count)
            let again = try chunk(bulk, blocks)
            #expect(again.productsUnchanged == odd.count)
            #expect(again.rowsWritten == 0)
            #expect(SQLValue.textArrayLiteral([#"x"y"#, #"\"#, ""]) == #"{"x\"y","\\",""}"#)
        }
    }
}
