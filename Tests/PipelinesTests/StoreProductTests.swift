import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// A clock the test moves forward, to see whether a row's updated_at was rewritten.
final class SteppingClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = Date(timeIntervalSince1970: 1_700_000_000)
    func advance() { lock.withLock { now += 3600 } }
    var date: Date { lock.withLock { now } }
}

@Suite struct StoreProductTests {
    static let dialects: [SQLDialect] = [.sqlite, .postgres]

    static func variant(_ sku: String, size: (en: String, de: String), price: Money, stock: Int? = 10) -> ProductVariant {
        ProductVariant(
            sku: sku, price: price, taxCategory: "standard", stockOnHand: stock, trackInventory: sku.hasSuffix("S") ? true : nil,
            assetPaths: ["/assets/\(sku).jpg"],
            facets: [
                FacetAssignment(translations: [
                    FacetValueTranslation(languageCode: "en", facet: "colour", value: "blue"),
                    FacetValueTranslation(languageCode: "de", facet: "Farbe", value: "blau"),
                ])
            ],
            translations: [
                VariantTranslation(
                    languageCode: "en", optionValues: [size.en], customFields: [CustomFieldValue(name: "weight", value: "120")]),
                VariantTranslation(
                    languageCode: "de", optionValues: [size.de], customFields: [CustomFieldValue(name: "weight", value: "120")]),
            ])
    }

    static func shirt(price: Money = Money(minorUnits: 1999, currency: .usd)) -> ProductBlock {
        ProductBlock(
            translations: [
                ProductTranslation(
                    languageCode: "en", name: "Shirt", slug: "shirt", description: "A blue shirt",
                    customFields: [CustomFieldValue(name: "material", value: "cotton"), CustomFieldValue(name: "care", value: "30°")]),
                ProductTranslation(
                    languageCode: "de", name: "Hemd", slug: "hemd", description: "Ein blaues Hemd",
                    customFields: [CustomFieldValue(name: "material", value: "Baumwolle"), CustomFieldValue(name: "care", value: "30°")]),
            ],
            assetPaths: ["https://cdn.example.com/shirt.jpg", "/assets/shirt-back.jpg"],
            facets: [
                FacetAssignment(translations: [
                    FacetValueTranslation(languageCode: "en", facet: "brand", value: "Acme"),
                    FacetValueTranslation(languageCode: "de", facet: "Marke", value: "Acme"),
                ])
            ],
            optionGroups: [
                OptionGroup(translations: [
                    OptionGroupTranslation(languageCode: "en", name: "size", values: ["small", "medium"]),
                    OptionGroupTranslation(languageCode: "de", name: "Größe", values: ["klein", "mittel"]),
                ])
            ],
            variants: [
                variant("SHIRT-S", size: ("small", "klein"), price: price),
                variant("SHIRT-M", size: ("medium", "mittel"), price: Money(minorUnits: 2199, currency: .usd), stock: nil),
            ])
    }

    func withStore(_ dialect: SQLDialect, _ body: (ProductStore, StoreTestDatabase, SteppingClock) throws -> Void) throws {
        try withStoreDatabase(dialect) { database throws in
            let clock = SteppingClock()
            let store = try openStore(database.connection, clock: { clock.date })
            try body(store, database, clock)
        }
    }

    func upsert(_ store: ProductStore, _ block: ProductBlock) throws -> UpsertResult {
        try store.connection.inTransaction { try store.upsert(block) }
    }

    func exported(_ store: ProductStore, currency: String? = nil) throws -> [ProductBlock] {
        var blocks: [ProductBlock] = []
        try store.products(currency: currency) { blocks.append($0) }
        return blocks
    }

    /// A re-import's checkpoints run on a thread of their own while it runs (the automatic checkpoint is
    /// off), and the connection's setting is put back afterwards, also when the import fails.
    @Test func reimportCheckpointsInTheBackgroundAndPutsTheSettingBack() throws {
        try withStore(.sqlite) { store, database, _ throws in
            func setting() throws -> String? { try database.rows("PRAGMA wal_autocheckpoint").first?.first ?? nil }
            #expect(try setting() == "1000")
            #expect(try store.startBackgroundCheckpoints())
            #expect(try setting() == "0")
            _ = try upsert(store, Self.shirt())
            try store.endBackgroundCheckpoints(checkpoint: true)
            #expect(try setting() == "1000")
            #expect(try store.startBackgroundCheckpoints())
            try store.endBackgroundCheckpoints(checkpoint: false)
            #expect(try setting() == "1000")
        }
    }

    @Test(arguments: dialects) func secondIdenticalUpsertWritesNothing(dialect: SQLDialect) throws {
        try withStore(dialect) { store, database, clock throws in
            let first = try upsert(store, Self.shirt())
            #expect(first.productsCreated == 1)
            #expect(first.variantsCreated == 2)
            #expect(first.rowsWritten > 0)
            let before = try database.rows("SELECT id, sku, updated_at FROM store_variants ORDER BY id")
            let productBefore = try database.rows("SELECT updated_at FROM store_products")

            clock.advance()
            let second = try upsert(store, Self.shirt())
            #expect(second.productsUnchanged == 1)
            #expect(second.variantsUnchanged == 2)
            #expect(second.productsCreated + second.productsUpdated + second.variantsCreated + second.variantsUpdated == 0)
            #expect(second.rowsWritten == 0)
            #expect(second.productID == first.productID)
            #expect(try database.rows("SELECT id, sku, updated_at FROM store_variants ORDER BY id") == before)
            #expect(try database.rows("SELECT updated_at FROM store_products") == productBefore)
            #expect(try database.count("store_products") == 1)
        }
    }

    @Test(arguments: dialects) func priceChangeUpdatesExactlyOneVariant(dialect: SQLDialect) throws {
        try withStore(dialect) { store, database, clock throws in
            _ = try upsert(store, Self.shirt())
            let untouched = try database.rows("SELECT updated_at FROM store_variants WHERE sku = 'SHIRT-M'")
            clock.advance()
            let result = try upsert(store, Self.shirt(price: Money(minorUnits: 2499, currency: .usd)))
            #expect(result.productsUpdated == 1)
            #expect(result.variantsUpdated == 1)
            #expect(result.variantsUnchanged == 1)
            #expect(result.variantsCreated == 0)
            #expect(
                try database.rows(
                    "SELECT p.amount_minor FROM store_prices p JOIN store_variants v ON v.id = p.variant_id WHERE v.sku = 'SHIRT-S'")
                    == [["2499"]])
            #expect(try database.rows("SELECT updated_at FROM store_variants WHERE sku = 'SHIRT-M'") == untouched)
        }
    }

    @Test(arguments: dialects) func newVariantIsCreatedAndStockChangesAreStored(dialect: SQLDialect) throws {
        try withStore(dialect) { store, database, _ throws in
            _ = try upsert(store, Self.shirt())
            var block = Self.shirt()
            block.optionGroups[0].translations[0].values.append("large")
            block.optionGroups[0].translations[1].values.append("groß")
            block.variants.append(Self.variant("SHIRT-L", size: ("large", "groß"), price: Money(minorUnits: 2399, currency: .usd)))
            let added = try upsert(store, block)
            #expect(added.variantsCreated == 1)
            #expect(added.variantsUnchanged == 2)
            #expect(added.productsUpdated == 1)

            block.variants[0].stockOnHand = 3
            let restocked = try upsert(store, block)
            #expect(restocked.variantsUpdated == 1)
            #expect(restocked.variantsUnchanged == 2)
            #expect(
                try database.rows(
                    """
                    SELECT v.sku, s.on_hand FROM store_stock_levels s JOIN store_variants v ON v.id = s.variant_id
                    JOIN store_stock_locations l ON l.id = s.location_id WHERE l.name = 'default' ORDER BY v.sku
                    """) == [["SHIRT-L", "10"], ["SHIRT-S", "3"]])
            #expect(try exported(store) == [block])
        }
    }

    @Test(arguments: dialects) func translationsAndCustomFieldsRoundTrip(dialect: SQLDialect) throws {
        try withStore(dialect) { store, database, _ throws in
            let shirt = Self.shirt()
            var mug = ProductBlock(
                translations: [ProductTranslation(languageCode: "en", name: "Mug", slug: "mug", description: "")],
                variants: [
                    ProductVariant(
                        sku: "MUG", price: Money(minorUnits: 500, currency: .eur), taxCategory: "reduced",
                        trackInventory: false, translations: [VariantTranslation(languageCode: "en", optionValues: [])])
                ])
            _ = try upsert(store, shirt)
            _ = try upsert(store, mug)
            #expect(try exported(store) == [shirt, mug])
            #expect(try database.count("store_product_custom_fields") == 4)
            #expect(try database.count("store_variant_custom_fields") == 4)

            mug.translations[0].customFields = [CustomFieldValue(name: "volume", value: "300 ml")]
            let edited = try upsert(store, mug)
            #expect(edited.productsUpdated == 1)
            #expect(edited.variantsUnchanged == 1)
            #expect(try exported(store) == [shirt, mug])
        }
    }

    @Test(arguments: dialects) func moneyStaysExact(dialect: SQLDialect) throws {
        try withStore(dialect) { store, database, _ throws in
            let prices = [
                Money(minorUnits: 123_456_789_012, currency: .jpy),
                Money(minorUnits: 9_007_199_254_740_993, currency: .usd),  // above 2^53: a double would round it
                Money(minorUnits: 1_234_567, currency: .kwd),
            ]
            var blocks: [ProductBlock] = []
            for price in prices {
                let code = price.currency.code
                blocks.append(
                    ProductBlock(
                        translations: [ProductTranslation(languageCode: "en", name: code, slug: code.lowercased(), description: "")],
                        variants: [
                            ProductVariant(
                                sku: "P-\(code)", price: price, taxCategory: "standard",
                                translations: [VariantTranslation(languageCode: "en", optionValues: [])])
                        ]))
                _ = try upsert(store, blocks[blocks.count - 1])
            }
            #expect(
                try database.rows("SELECT currency, currency_exponent, amount_minor FROM store_prices ORDER BY variant_id") == [
                    ["JPY", "0", "123456789012"], ["USD", "2", "9007199254740993"], ["KWD", "3", "1234567"],
                ])
            let back = try exported(store).map { $0.variants[0].price }
            #expect(back == prices)
            #expect(back.map(\.decimalText) == ["123456789012", "90071992547409.93", "1234.567"])
        }
    }

    @Test(arguments: dialects) func pricesInSeveralCurrenciesAreKept(dialect: SQLDialect) throws {
        try withStore(dialect) { store, _, _ throws in
            _ = try upsert(store, Self.shirt())
            var euro = Self.shirt(price: Money(minorUnits: 1899, currency: .eur))
            euro.variants[1].price = Money(minorUnits: 2099, currency: .eur)
            let result = try upsert(store, euro)
            #expect(result.variantsUpdated == 2)
            #expect(try exported(store, currency: "USD") == [Self.shirt()])
            #expect(try exported(store, currency: "EUR") == [euro])
            #expect(throws: PipelineError.self) { try exported(store, currency: "JPY") }
        }
    }

    @Test(arguments: dialects) func matchesBySlugWhenNoSKUIsKnown(dialect: SQLDialect) throws {
        try withStore(dialect) { store, database, _ throws in
            let first = try upsert(store, Self.shirt())
            var renamed = Self.shirt()
            renamed.variants[0].sku = "SHIRT-SMALL"
            renamed.variants[1].sku = "SHIRT-MEDIUM"
            let result = try upsert(store, renamed)
            #expect(result.productID == first.productID)
            #expect(result.variantsCreated == 2)
            #expect(result.variantsDeleted == 2)
            #expect(try database.rows("SELECT sku FROM store_variants ORDER BY position") == [["SHIRT-SMALL"], ["SHIRT-MEDIUM"]])
        }
    }

    @Test(arguments: dialects) func refusesASlugOfAnotherProduct(dialect: SQLDialect) throws {
        try withStore(dialect) { store, _, _ throws in
            _ = try upsert(store, Self.shirt())
            var other = Self.shirt()
            other.translations.removeLast()
            other.variants = [Self.variant("OTHER-S", size: ("small", "klein"), price: Money(minorUnits: 1, currency: .usd))]
            _ = try upsert(store, ProductBlock(translations: [ProductTranslation(languageCode: "en", name: "Other", slug: "other", description: "")], variants: other.variants))
            // OTHER-S now belongs to "other"; claiming the slug "shirt" with it conflicts.
            expectPipelineError(.data, containing: "belongs to another stored product") {
                _ = try upsert(store, other)
            }
        }
    }

    @Test(arguments: dialects) func aSKUOfAnotherProductMovesToTheBlocksProduct(dialect: SQLDialect) throws {
        try withStore(dialect) { store, database, _ throws in
            let shirt = try upsert(store, Self.shirt())
            let large = Self.variant("SHIRT-L", size: ("large", "groß"), price: Money(minorUnits: 2399, currency: .usd))
            let loose = ProductBlock(
                translations: [ProductTranslation(languageCode: "en", name: "Loose", slug: "loose", description: "")],
                variants: [large])
            let other = try upsert(store, loose)
            #expect(other.productID != shirt.productID)

            var block = Self.shirt()
            block.optionGroups[0].translations[0].values.append("large")
            block.optionGroups[0].translations[1].values.append("groß")
            block.variants.append(large)
            let result = try upsert(store, block)
            #expect(result.productID == shirt.productID)
            #expect(result.variantsUpdated == 1)
            #expect(result.variantsUnchanged == 2)
            #expect(try exported(store).first == block)
            #expect(try database.rows("SELECT COUNT(*) FROM store_variants WHERE product_id = $1", [.integer(other.productID ?? 0)]) == [["0"]])
            #expect(try upsert(store, block).rowsWritten == 0)
        }
    }
}
