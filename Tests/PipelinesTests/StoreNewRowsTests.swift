import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// New products' rows made from their blocks (`NewProductRowsBuilder.addProduct(block:)`, what bulk loads
/// and new products of a chunk write) store exactly what `upsert` block by block stores through
/// `ProductRows(desired:)`, and refuse exactly the blocks it refuses.
@Suite(.timeLimit(.minutes(2))) struct StoreNewRowsTests {
    let bulk = StoreBulkTests()

    /// The whole blocks of `fixture` the store can represent, without those whose SKUs or slugs an earlier
    /// block took (the whole-file check of an import rejects those).
    static func distinctBlocks(_ fixture: String) throws -> [ProductBlock] {
        var skus = Set<String>()
        var slugs = Set<String>()
        return try parseProductFile(fixture, options: .init(duplicateSKUs: nil)).products.filter { block in
            guard (try? ProductRows(desired: block)) != nil else { return false }
            let blockSKUs = Set(block.variants.map(\.sku))
            let blockSlugs = Set(block.translations.map { "\($0.languageCode)/\($0.slug)" })
            guard block.part == nil, skus.isDisjoint(with: blockSKUs), slugs.isDisjoint(with: blockSlugs) else { return false }
            skus.formUnion(blockSKUs)
            slugs.formUnion(blockSlugs)
            return true
        }
    }

    /// Stores `blocks` one by one in `single` and as one prepared bulk batch in `prepared`, then compares
    /// every table, ids included.
    func expectPreparedAsOneByOne(_ blocks: [ProductBlock], _ single: ProductStore, _ prepared: ProductStore, _ clock: SteppingClock)
        throws
    {
        let expected = try bulk.oneByOne(single, blocks)
        prepared.assumesNewProducts = true
        var batch = PreparedProducts(now: Instant(clock.date).iso, locationID: prepared.defaultLocationID)
        for block in blocks { try batch.add(block) }
        let result = try prepared.connection.inTransaction { try prepared.insert(&batch) }
        prepared.assumesNewProducts = false
        #expect(bulk.counts(result) == bulk.counts(expected))
        #expect(try Self.contents(prepared) == Self.contents(single))
    }

    /// A facet value by its codes, in place of its id.
    static let facetValueCodes = "(SELECT f.code || '/' || v.code FROM store_facet_values v JOIN store_facets f ON f.id = v.facet_id WHERE v.id = facet_value_id)"

    /// Every table as `StoreBulkTests.contents` gives it, but facet values named by their codes: storing a
    /// product alone, the store makes the facet values its variants name new in the order of the variants'
    /// keys, not their positions, and so numbers them otherwise.
    static func contents(_ store: ProductStore) throws -> [String: [[String?]]] {
        var tables = try StoreBulkTests().contents(store)
        let byCode = [
            "store_facet_values": "SELECT f.code, v.code FROM store_facet_values v JOIN store_facets f ON f.id = v.facet_id",
            "store_facet_value_translations": "SELECT \(facetValueCodes), language, name FROM store_facet_value_translations",
            "store_product_facet_values": "SELECT product_id, position, \(facetValueCodes) FROM store_product_facet_values",
            "store_variant_facet_values": "SELECT variant_id, position, \(facetValueCodes) FROM store_variant_facet_values",
        ]
        for (table, select) in byCode {
            var rows: [[String?]] = []
            try store.connection.query(select, [], columns: { _ in }) { row in rows.append((0..<row.columnCount).map { row.string($0) }) }
            tables[table] = rows.sorted { $0.map { $0 ?? "" }.lexicographicallyPrecedes($1.map { $0 ?? "" }) }
        }
        return tables
    }

    @Test(arguments: ProductsFormatTests.allFixtures())
    func everyReferenceFileStoresAsOneByOne(fixture: String) throws {
        let blocks = try Self.distinctBlocks(fixture)
        for dialect in StoreProductTests.dialects {
            try bulk.withStores(dialect) { single, prepared, clock throws in
                try expectPreparedAsOneByOne(blocks, single, prepared, clock)
            }
        }
    }

    /// A bulk load's batch meeting a store that is not empty after all (another import wrote first) is
    /// stored block by block, as any batch: the product already stored is updated, not inserted again.
    @Test(arguments: StoreProductTests.dialects) func aPreparedBatchIntoAStoreWithProductsIsUpserted(dialect: SQLDialect) throws {
        try bulk.withStores(dialect) { single, prepared, clock throws in
            let first = StoreBulkTests.product(1)
            _ = try bulk.oneByOne(single, [first])
            _ = try bulk.oneByOne(prepared, [first])
            clock.advance()
            var repriced = first
            repriced.variants[0].price = Money(minorUnits: 1, currency: .usd)
            let blocks = [repriced, StoreBulkTests.product(2)]
            let expected = try bulk.oneByOne(single, blocks)
            var batch = PreparedProducts(now: Instant(clock.date).iso, locationID: prepared.defaultLocationID)
            for block in blocks { try batch.add(block) }
            let result = try prepared.connection.inTransaction { try prepared.insert(&batch) }
            #expect(bulk.counts(result) == bulk.counts(expected))
            #expect(result.productsCreated == 1 && result.productsUpdated == 1)
            #expect(try Self.contents(prepared) == Self.contents(single))
        }
    }

    @Test(arguments: StoreProductTests.dialects) func facetNamesFirstWithinABlockLastAcrossBlocks(dialect: SQLDialect) throws {
        var first = StoreBulkTests.product(1)
        var second = StoreBulkTests.product(2)
        first.facets[0].translations[1].value = "Acme GmbH"
        // The variant's facet names the same value as the product's, with another German name: the product's counts.
        first.variants[0].facets = [first.facets[0]]
        first.variants[0].facets[0].translations[1].value = "Acme AG"
        second.facets[0] = first.facets[0]
        second.facets[0].translations[1].facet = "Hersteller"
        second.facets[0].translations.append(FacetValueTranslation(languageCode: "fr", facet: "Marque", value: "Acme SA"))
        // Languages in another order, an option group named twice in one language, a value used twice.
        var third = StoreBulkTests.product(3, sizes: ["S", "M"])
        third.translations.reverse()
        third.optionGroups[0].translations.append(OptionGroupTranslation(languageCode: "de", name: "Größe", values: ["kl", "mi"]))
        third.optionGroups[0].translations[1].values = ["s", "m", "s"]
        try bulk.withStores(dialect) { single, prepared, clock throws in
            try expectPreparedAsOneByOne([first, second, third], single, prepared, clock)
        }
    }

    @Test(arguments: [3, 40]) func sharedSKUsAreRefusedOnlyWithTheSameOptions(variants: Int) throws {
        let sizes = (0..<variants).map { "size-\($0)" }
        var shared = StoreBulkTests.product(1, sizes: sizes)
        for index in shared.variants.indices { shared.variants[index].sku = index % 2 == 0 ? "EVEN" : "P1-\(index)" }
        _ = try ProductRows(desired: shared)
        #expect(try NewProductRowsBuilder(now: "now", locationID: 1).adding(shared).count(.variant) == variants)

        var twice = shared
        twice.variants[variants - 1] = twice.variants[variants - 3]
        #expect(throws: PipelineError.self) { try ProductRows(desired: twice) }
        #expect(throws: PipelineError.self) { try NewProductRowsBuilder(now: "now", locationID: 1).adding(twice) }
    }

    /// Blocks the store cannot represent, each refused by both descriptions of a block's rows.
    static func unrepresentable() -> [(String, ProductBlock)] {
        let good = StoreBulkTests.product(1)
        func changed(_ change: (inout ProductBlock) -> Void) -> ProductBlock {
            var block = good
            change(&block)
            return block
        }
        return [
            ("no translation", changed { $0.translations = [] }),
            ("a language twice", changed { $0.translations[1].languageCode = "en" }),
            ("an option group without a name", changed { $0.optionGroups[0].translations = [] }),
            ("an option group twice", changed { $0.optionGroups.append($0.optionGroups[0]) }),
            ("a variant without an option value", changed { $0.variants[1].translations[0].optionValues = [] }),
            ("a variant with an empty option value", changed { $0.variants[1].translations[0].optionValues = [""] }),
            ("a value that is not the group's", changed { $0.variants[1].translations[0].optionValues = ["XXL"] }),
            ("a product facet without a name", changed { $0.facets[0].translations = [] }),
            ("a variant facet without a name", changed { $0.variants[2].facets = [FacetAssignment(translations: [])] }),
            ("a SKU twice with the same options", changed { $0.variants[2] = $0.variants[0] }),
        ]
    }

    @Test func whatProductRowsRefusesTheNewRowsRefuse() throws {
        _ = try ProductRows(desired: StoreBulkTests.product(1))
        _ = try NewProductRowsBuilder(now: "now", locationID: 1).adding(StoreBulkTests.product(1))
        for (what, block) in Self.unrepresentable() {
            #expect(throws: PipelineError.self, "ProductRows: \(what)") { try ProductRows(desired: block) }
            #expect(throws: PipelineError.self, "new rows: \(what)") { try NewProductRowsBuilder(now: "now", locationID: 1).adding(block) }
        }
    }
}

extension NewProductRowsBuilder {
    fileprivate func adding(_ block: ProductBlock) throws -> Self {
        var rows = self
        try rows.addProduct(block: block)
        return rows
    }
}
