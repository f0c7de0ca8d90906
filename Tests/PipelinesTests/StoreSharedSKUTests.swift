import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// Variants of one product that share a SKU, as Vendure allows (its demo catalogue's Modern Cafe Chair):
/// stored apart, matched by SKU and option values, and a SKU still belongs to one product.
@Suite(.timeLimit(.minutes(2))) struct StoreSharedSKUTests {
    static func chair(_ colours: [(name: String, cents: Int64)], sku: String = "404.038.96", slug: String = "modern-cafe-chair")
        -> ProductBlock
    {
        ProductBlock(
            translations: [ProductTranslation(languageCode: "en", name: "Modern Cafe Chair", slug: slug, description: "")],
            optionGroups: [OptionGroup(translations: [OptionGroupTranslation(languageCode: "en", name: "color", values: colours.map(\.name))])],
            variants: colours.map { colour in
                ProductVariant(
                    sku: sku, price: Money(minorUnits: colour.cents, currency: .usd), taxCategory: "standard", stockOnHand: 100,
                    translations: [VariantTranslation(languageCode: "en", optionValues: [colour.name])])
            })
    }

    static let colours: [(name: String, cents: Int64)] = [("mustard", 10_000), ("mint", 10_000), ("pearl", 10_000)]

    func upsert(_ store: ProductStore, _ block: ProductBlock) throws -> UpsertResult {
        try store.connection.inTransaction { try store.upsert(block) }
    }

    func exported(_ store: ProductStore) throws -> [ProductBlock] {
        var blocks: [ProductBlock] = []
        try store.products { blocks.append($0) }
        return blocks
    }

    /// Variant ids by their colour.
    func ids(_ database: StoreTestDatabase) throws -> [String: String] {
        let rows = try database.rows(
            """
            SELECT o.code, v.id FROM store_variants v JOIN store_variant_options l ON l.variant_id = v.id
            JOIN store_options o ON o.id = l.option_id
            """)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0[0] ?? "", $0[1] ?? "") })
    }

    @Test(arguments: StoreProductTests.dialects) func sharedSKUVariantsAreStoredAndMatchedByTheirOptions(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let store = try openStore(database.connection)
            let created = try upsert(store, Self.chair(Self.colours))
            #expect(created.productsCreated == 1 && created.variantsCreated == 3)
            #expect(try exported(store) == [Self.chair(Self.colours)])
            #expect(try upsert(store, Self.chair(Self.colours)).rowsWritten == 0)
            let before = try ids(database)

            // Mint gets dearer: that variant, found by its colour, is updated and the others are left alone.
            var repriced = Self.colours
            repriced[1].cents = 12_500
            let updated = try upsert(store, Self.chair(repriced))
            #expect(updated.variantsUpdated == 1 && updated.variantsUnchanged == 2 && updated.variantsCreated == 0)
            #expect(try ids(database) == before)
            #expect(try exported(store) == [Self.chair(repriced)])

            // Pearl is dropped: exactly that variant goes.
            let dropped = try upsert(store, Self.chair(Array(repriced.prefix(2))))
            #expect(dropped.variantsDeleted == 1 && dropped.variantsUnchanged == 2)
            #expect(try ids(database) == before.filter { $0.key != "pearl" })

            // Its option renamed, a variant keeps its row: matched by the SKU among those left.
            let renamed = try upsert(store, Self.chair([("mustard", 10_000), ("sage", 12_500)]))
            #expect(renamed.variantsUpdated == 1 && renamed.variantsCreated == 0 && renamed.variantsDeleted == 0)
            #expect(try ids(database)["sage"] == before["mint"])
        }
    }

    @Test(arguments: StoreProductTests.dialects) func theBulkPathStoresSharedSKUsAsOneByOne(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let store = try openStore(database.connection)
            let other = ProductBlock(
                translations: [ProductTranslation(languageCode: "en", name: "Stool", slug: "stool", description: "")],
                variants: [ProductVariant(sku: "STOOL", price: Money(minorUnits: 5_000, currency: .usd), taxCategory: "standard", translations: [])])
            let chunk = try store.connection.inTransaction { try store.upsert(chunk: [other, Self.chair(Self.colours)]) }
            #expect(chunk.productsCreated == 2 && chunk.variantsCreated == 4)
            #expect(try exported(store).last == Self.chair(Self.colours))
            let again = try store.connection.inTransaction { try store.upsert(chunk: [other, Self.chair(Self.colours)]) }
            #expect(again.rowsWritten == 0 && again.variantsUnchanged == 4)
        }
    }

    /// A SKU belongs to one product: a block of another product that claims it takes over one variant
    /// and the others with that SKU go, so the SKU is never in two products.
    @Test(arguments: StoreProductTests.dialects) func aSharedSKUClaimedByAnotherProductLeavesTheFirst(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let store = try openStore(database.connection)
            let chair = try upsert(store, Self.chair(Self.colours))
            var stool = Self.chair([("oak", 5_000)], sku: "STOOL", slug: "stool")
            let stored = try upsert(store, stool)
            stool.optionGroups[0].translations[0].values.append("mint")
            stool.variants.append(Self.chair([("mint", 9_900)]).variants[0])
            let claim = try upsert(store, stool)
            #expect(claim.productID == stored.productID && claim.productID != chair.productID)
            #expect(claim.variantsUpdated == 1 && claim.variantsUnchanged == 1 && claim.variantsDeleted == 2)
            #expect(
                try database.rows("SELECT product_id, COUNT(*) FROM store_variants WHERE sku = '404.038.96' GROUP BY product_id")
                    == [["\(stored.productID ?? 0)", "1"]])
        }
    }

    @Test func twoVariantsWithOneSKUAndTheSameOptionsAreRefused() throws {
        let twice = Self.chair([("mint", 10_000), ("mint", 10_000)])
        let error = #expect(throws: PipelineError.self) { try ProductRows(desired: twice) }
        #expect(error?.message.contains("lists the SKU '404.038.96' twice with the same option values (mint)") == true, "\(String(describing: error))")
    }

    /// The import's check: within a product a SKU may come again with other option values (a warning
    /// counts it); in another product, or with the same values, it is a bad row; `reject` refuses all.
    @Test func theFileCheckAllowsASKUAgainOnlyWithinItsProduct() throws {
        let header = "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"
        let text = header
            + "Chair,chair,,,,color,mint,C-1,1.00,standard,1,,,\n"
            + ",,,,,,pearl,C-1,1.00,standard,1,,,\n"
            + "Stool,stool,,,,,,C-1,1.00,standard,1,,,\n"
            + "Bench,bench,,,,color,oak,B-1,1.00,standard,1,,,\n"
            + ",,,,,,oak,B-1,1.00,standard,1,,,\n"
        let path = NSTemporaryDirectory() + "shared-\(UUID().uuidString).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let parser = try ProductCSVParser(path: path, currency: .usd)
        var products: [ProductBlock] = []
        var errors: [RowError] = []
        while let item = try parser.next() {
            switch item {
            case .product(let block): products.append(block)
            case .rejected(let rejection): errors += rejection.errors.filter { !$0.reason.hasPrefix("rejected because") }
            case .unchanged: Issue.record("no block can be unchanged without a store")
            }
        }
        #expect(parser.skuCheck?.shared.count == 1 && parser.skuCheck?.shared.examples.first?.sku == "C-1")
        parser.close()
        #expect(products.map(\.line) == [2])
        #expect(errors.map(\.line) == [4, 6] && errors.allSatisfy { $0.column == 8 })
        #expect(errors.first?.reason == "duplicate SKU 'C-1': line 2 already uses it in another product (only variants of one product may share a SKU)")
        #expect(errors.last?.reason == "duplicate variant: line 5 already has the SKU 'B-1' with the same option values (oak)")

        let strict = try parseProductFile(path, options: .init(duplicateSKUs: .reject))
        #expect(strict.products.isEmpty)
        #expect(strict.errors.filter { $0.reason.hasPrefix("duplicate") }.map(\.line) == [3, 4, 6])
    }
}
