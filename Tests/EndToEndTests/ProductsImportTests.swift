import Foundation
import Pipelines
import Testing

/// `products.import` run as a user would, on SQLite and PostgreSQL: every reference CSV, re-imports,
/// edited files, rejects and asset paths.
@Suite(.timeLimit(.minutes(10))) struct ProductsImportTests {
    typealias Backend = ProductsTestStore.Backend

    struct Fixture: Sendable, CustomStringConvertible {
        var path: String
        var products: Int
        var variants: Int
        var rejectedRows: Int
        var description: String { path }
    }

    /// Every reference CSV but invalid-columns.csv (refused whole, below) with what the store gets.
    /// Duplicate SKUs (Vendure allows them; the store keys variants by SKU) reject their product.
    static let fixtures: [Fixture] = [
        Fixture(path: "import-fixtures/e2e-product-import-asset-urls.csv", products: 1, variants: 1, rejectedRows: 0),
        Fixture(path: "import-fixtures/e2e-product-import-multi-languages.csv", products: 1, variants: 3, rejectedRows: 0),
        Fixture(path: "import-fixtures/e2e-products-collections.csv", products: 11, variants: 22, rejectedRows: 1),
        Fixture(path: "import-fixtures/e2e-products-default-search.csv", products: 20, variants: 34, rejectedRows: 0),
        Fixture(path: "import-fixtures/e2e-products-empty.csv", products: 0, variants: 0, rejectedRows: 0),
        Fixture(path: "import-fixtures/e2e-products-full.csv", products: 20, variants: 34, rejectedRows: 0),
        Fixture(path: "import-fixtures/e2e-products-minimal.csv", products: 1, variants: 4, rejectedRows: 0),
        Fixture(path: "import-fixtures/e2e-products-money-handling.csv", products: 2, variants: 2, rejectedRows: 0),
        Fixture(path: "import-fixtures/e2e-products-order-taxes.csv", products: 2, variants: 2, rejectedRows: 1),
        Fixture(path: "import-fixtures/e2e-products-promotions.csv", products: 6, variants: 6, rejectedRows: 0),
        Fixture(path: "import-fixtures/e2e-products-stock-control-multi.csv", products: 2, variants: 7, rejectedRows: 0),
        Fixture(path: "import-fixtures/e2e-products-stock-control.csv", products: 2, variants: 7, rejectedRows: 0),
        Fixture(path: "import-fixtures/product-import-channel.csv", products: 1, variants: 2, rejectedRows: 0),
        Fixture(path: "import-fixtures/product-import-option-values.csv", products: 1, variants: 4, rejectedRows: 0),
        Fixture(path: "import-fixtures/product-import.csv", products: 3, variants: 6, rejectedRows: 5),
        Fixture(path: "parser-fixtures/custom-fields.csv", products: 1, variants: 3, rejectedRows: 0),
        Fixture(path: "parser-fixtures/invalid-option-values.csv", products: 0, variants: 0, rejectedRows: 4),
        Fixture(path: "parser-fixtures/invalid-row-length.csv", products: 2, variants: 2, rejectedRows: 1),
        Fixture(path: "parser-fixtures/multiple-languages.csv", products: 1, variants: 3, rejectedRows: 0),
        Fixture(path: "parser-fixtures/multiple-products-multiple-variants.csv", products: 4, variants: 10, rejectedRows: 0),
        Fixture(path: "parser-fixtures/single-product-multiple-variants.csv", products: 1, variants: 3, rejectedRows: 0),
        Fixture(path: "parser-fixtures/single-product-single-variant.csv", products: 1, variants: 1, rejectedRows: 0),
        Fixture(path: "mock-data/products.csv", products: 54, variants: 88, rejectedRows: 0),
    ]

    @Test(arguments: Backend.allCases)
    func importsEveryReferenceFileTwiceAndTheSecondTimeChangesNothing(backend: Backend) throws {
        for fixture in Self.fixtures {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let store = try ProductsTestStore(backend, in: scratch)
            defer { store.drop() }
            let first = try ProductsRun.importFile("\(vendureReference)/\(fixture.path)", into: store, scratch: scratch)
            #expect(first.status == 0, "\(fixture): \(first.stderr)")
            #expect(try store.count("store_products") == fixture.products, "\(fixture)")
            #expect(try store.count("store_variants") == fixture.variants, "\(fixture)")
            let rejects = scratch.exists("rejects.csv") ? try scratch.read("rejects.csv").split(separator: "\n").count - 1 : 0
            #expect(rejects == fixture.rejectedRows, "\(fixture)")
            #expect(
                ProductsRun.summary(first)?.hasPrefix("products: \(fixture.products) created, 0 updated, 0 unchanged") == true,
                "\(fixture): \(ProductsRun.summary(first) ?? first.stderr)")
            let exported = try ProductsRun.export(store, scratch: scratch)
            let second = try ProductsRun.importFile("\(vendureReference)/\(fixture.path)", into: store, scratch: scratch)
            #expect(second.status == 0, "\(fixture): \(second.stderr)")
            #expect(
                ProductsRun.summary(second)?.hasPrefix(
                    "products: 0 created, 0 updated, \(fixture.products) unchanged, \(fixture.rejectedRows > 0 ? "" : "0 rejected")")
                    == true, "\(fixture): \(ProductsRun.summary(second) ?? second.stderr)")
            #expect(ProductsRun.summary(second)?.contains("variants: 0 created, 0 updated, \(fixture.variants) unchanged") == true)
            #expect(try ProductsRun.export(store, scratch: scratch) == exported, "\(fixture): the second import changed the store")
        }
    }

    @Test(arguments: Backend.allCases)
    func exactValuesMoneyTranslationsAndCustomFields(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        for file in ["e2e-products-money-handling.csv", "e2e-product-import-multi-languages.csv"] {
            #expect(try ProductsRun.importFile("\(vendureReference)/import-fixtures/\(file)", into: store, scratch: scratch).status == 0)
        }
        let prices = try store.rows(
            "SELECT v.sku, p.currency, p.currency_exponent, p.amount_minor FROM store_prices p JOIN store_variants v ON v.id = p.variant_id WHERE v.sku IN ('CW0001', 'EW0001') ORDER BY v.sku")
        #expect(prices == [["CW0001", "USD", "2", "31"], ["EW0001", "USD", "2", "999999900"]])
        let chinese = try store.rows(
            "SELECT t.name FROM store_product_translations t WHERE t.language = 'zh_Hans'")
        #expect(chinese == [["奇妙的纸张拉伸器"]])
        // custom-fields.csv has the same SKUs: its product replaces the translated one, in French only.
        #expect(try ProductsRun.importFile("\(vendureReference)/parser-fixtures/custom-fields.csv", into: store, scratch: scratch,
            with: "language: fr").status == 0)
        let names = try store.rows(
            "SELECT t.language, t.name FROM store_product_translations t JOIN store_variants v ON v.product_id = t.product_id WHERE v.sku = 'PPS14' ORDER BY t.language")
        #expect(names == [["fr", "Perfect Paper Stretcher"]])
        let fields = try store.rows(
            "SELECT name, value FROM store_product_custom_fields WHERE language = 'fr' ORDER BY position")
        #expect(fields == [["keywords", "paper, stretch"], ["customPage", "grid-view"]])
        let volumes = try store.rows(
            "SELECT c.value FROM store_variant_custom_fields c JOIN store_variants v ON v.id = c.variant_id WHERE c.name = 'volumetric' ORDER BY v.sku")
        #expect(volumes == [["243"], ["344"], ["656"]])
    }

    @Test(arguments: Backend.allCases)
    func anEditedFileUpdatesExactlyWhatChanged(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        let original = try String(contentsOfFile: "\(vendureReference)/parser-fixtures/multiple-products-multiple-variants.csv", encoding: .utf8)
        try scratch.write("catalogue.csv", original)
        #expect(try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch).status == 0)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = lines[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let sku = try #require(header.firstIndex(of: "sku")), price = try #require(header.firstIndex(of: "price"))
        let stock = try #require(header.firstIndex(of: "stockOnHand"))
        func edit(_ line: Int, _ column: Int, _ value: String) -> String {
            var cells = lines[line].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[column] = value
            return cells.joined(separator: ",")
        }
        let pricedSKU = lines[1].split(separator: ",", omittingEmptySubsequences: false)[sku].trimmingCharacters(in: .whitespaces)
        let stockedSKU = lines[2].split(separator: ",", omittingEmptySubsequences: false)[sku].trimmingCharacters(in: .whitespaces)
        lines[1] = edit(1, price, "1234.56")
        lines[2] = edit(2, stock, "77")
        var added = lines[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        added[sku] = "NEW-SKU"
        added[try #require(header.firstIndex(of: "optionValues"))] = "Double Imperial"
        lines.insert(added.joined(separator: ","), at: 4)  // after the product's last variant
        try scratch.write("catalogue.csv", lines.joined(separator: "\n"))
        let result = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ProductsRun.summary(result)?.hasPrefix("products: 0 created, 1 updated, 3 unchanged, 0 rejected; variants: 1 created, 2 updated, 8 unchanged") == true,
            "\(ProductsRun.summary(result) ?? result.stderr)")
        #expect(try store.rows(
            "SELECT p.amount_minor FROM store_prices p JOIN store_variants v ON v.id = p.variant_id WHERE v.sku = '\(pricedSKU)'") == [["123456"]])
        #expect(try store.rows(
            "SELECT s.on_hand FROM store_stock_levels s JOIN store_variants v ON v.id = s.variant_id WHERE v.sku = '\(stockedSKU)'") == [["77"]])
        #expect(try store.count("store_variants") == 11)
    }

    @Test func missingColumnsRefuseTheWholeFileBeforeAnythingIsWritten() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(.sqlite, in: scratch)
        let result = try ProductsRun.importFile("\(vendureReference)/parser-fixtures/invalid-columns.csv", into: store, scratch: scratch)
        #expect(result.status == 65)
        #expect(result.stderr.contains("The import file is missing the following columns: \"slug\", \"assets\", \"variantFacets\""))
        #expect(try !Inspect.tableExists(store.locator, "store_products"))
    }

    @Test(arguments: Backend.allCases)
    func pastMaxRejectsNothingIsWrittenAndRejectsHaveLineAndColumn(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        for chunkSize in [0, 1] {
            let result = try ProductsRun.importFile(
                "\(vendureReference)/parser-fixtures/invalid-row-length.csv", into: store, scratch: scratch, with: "max_rejects: 0",
                chunkSize: chunkSize)
            #expect(result.status == 65, "\(result.stderr)")
            #expect(
                try scratch.read("rejects.csv")
                    == "line,column,reason,record\n3,13,\"Invalid Record Length: header length is 14, got 12\",\"Giotto Mega Pencils     ,      , "
                    + "Really mega pencils             ,        ,        , 225400       , 4.16         , standard ,       ,             , 10          , false\"\n")
            #expect(try store.count("store_variants") == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func anAssetPathEscapingTheAssetsFolderIsARejectedRowNeverRead(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        try scratch.write("assets/photo.jpg", "jpeg")
        try scratch.write("secret.txt", "not an asset")
        let header = "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"
        try scratch.write("catalogue.csv", header
            + "Good,good,,photo.jpg|https://example.com/a.jpg,,,,G1,1.00,standard,1,,,\n"
            + "Bad,bad,,../secret.txt,,,,B1,1.00,standard,1,,,\n"
            + "Worse,worse,,,,,,W1,1.00,standard,1,,sub/../../secret.txt,\n")
        let result = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch, with: "assets: assets, max_rejects: 2")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scratch.read("rejects.csv") == """
            line,column,reason,record
            3,4,asset path '../secret.txt' leads outside the assets folder,"Bad,bad,,../secret.txt,,,,B1,1.00,standard,1,,,"
            4,13,asset path 'sub/../../secret.txt' leads outside the assets folder,"Worse,worse,,,,,,W1,1.00,standard,1,,sub/../../secret.txt,"

            """)
        #expect(try store.rows("SELECT sku FROM store_variants") == [["G1"]])
        #expect(try store.rows("SELECT source FROM store_assets ORDER BY source") == [["https://example.com/a.jpg"], ["photo.jpg"]])
    }
}
