import Foundation
import Pipelines
import Stages
import Testing

@Suite struct ProductsParserTests {
    static let snapshotFixtures: [(test: String, file: String)] = [
        ("custom fields", "custom-fields.csv"),
        ("multiple products with multiple variants", "multiple-products-multiple-variants.csv"),
        ("single product with a multiple variants", "single-product-multiple-variants.csv"),
        ("single product with a single variant", "single-product-single-variant.csv"),
        ("works with multilingual input", "multiple-languages.csv"),
        ("works with streamed input", "multiple-products-multiple-variants.csv"),
    ]

    @Test(arguments: snapshotFixtures.map(\.test))
    func matchesVendureSnapshot(test: String) throws {
        let snapshot = try SnapshotFile(path: ProductsReference.path("parser-fixtures/expected-parse.snap"))
        let expected = try #require(snapshot.entries["ImportParser > parseProducts > \(test) 1"])
        let file = try #require(Self.snapshotFixtures.first { $0.test == test }?.file)
        let parsed = try parseProductFile(ProductsReference.path("parser-fixtures/\(file)"))
        #expect(parsed.errors == [])
        let actual = SnapshotValue.array(parsed.products.map(SnapshotShape.product))
        let differences = actual.differences(from: SnapshotShape.normalizingPrices(expected))
        #expect(differences == [], "\(file)")
    }

    @Test func columnOrdinalsFollowTheColumnOrder() {
        #expect(ProductColumn.allCases.map(\.ordinal) == Array(ProductColumn.allCases.indices))
    }

    @Test func invalidOptionValuesRejectEachLine() throws {
        let parsed = try parseProductFile(ProductsReference.path("parser-fixtures/invalid-option-values.csv"))
        #expect(parsed.products.isEmpty)
        #expect(parsed.errors.map(\.line) == [2, 3, 4, 5])
        #expect(parsed.errors.allSatisfy { $0.reason.contains("must match the number of optionGroups") && $0.column == 7 })
    }

    @Test func invalidColumnsRejectTheWholeFile() throws {
        let error = #expect(throws: PipelineError.self) {
            try parseProductFile(ProductsReference.path("parser-fixtures/invalid-columns.csv"))
        }
        #expect(error?.code == .data)
        #expect(error?.message == #"The import file is missing the following columns: "slug", "assets", "variantFacets""#)
    }

    @Test func invalidRowLengthKeepsTheGoodProducts() throws {
        let parsed = try parseProductFile(ProductsReference.path("parser-fixtures/invalid-row-length.csv"))
        #expect(parsed.products.map { $0.translations[0].name } == ["Mabef M/02 Studio Easel", "Artists Smock"])
        #expect(parsed.errors.map(\.line) == [3, 4])
        #expect(parsed.errors.first?.reason == "Invalid Record Length: header length is 14, got 12")
        #expect(parsed.errors.first?.column == 13)
        #expect(parsed.errors.last?.reason.hasPrefix("Invalid Record Length: header length is 14, got 1") == true)
        let quiet = try parseProductFile(
            ProductsReference.path("parser-fixtures/invalid-row-length.csv"), options: .init(reportsBlankLines: false))
        #expect(quiet.errors.map(\.line) == [3])
        #expect(quiet.products.count == 2)
    }

    @Test func productBlocksKnowWhereTheyStart() throws {
        let path = ProductsReference.path("parser-fixtures/multiple-products-multiple-variants.csv")
        let parsed = try parseProductFile(path)
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(parsed.products.map(\.line) == [2, 5, 6, 8])
        for block in parsed.products {
            let offset = try #require(block.byteOffset)
            let name = block.translations[0].name
            #expect(bytes[Int(offset)...].starts(with: Array(name.utf8)), "\(name) at \(offset)")
        }
        #expect(parsed.products[0].variants.map(\.line) == [2, 3, 4])
    }

    @Test func everyImportFixtureParses() throws {
        let fixtures = ProductsReference.importFixtures()
        #expect(fixtures.count == 15)
        var counts: [String: (products: Int, variants: Int, errors: [Int])] = [:]
        for fixture in fixtures {
            let parsed = try parseProductFile(fixture)
            counts[URL(fileURLWithPath: fixture).lastPathComponent] = (
                parsed.products.count, parsed.products.reduce(0) { $0 + $1.variants.count }, parsed.errors.map(\.line)
            )
        }
        #expect(counts["e2e-products-empty.csv"]?.products == 0)
        #expect(counts["e2e-products-empty.csv"]?.errors == [])
        // Line 8 is blank; line 13 repeats the SKU of line 12, rejecting the Artists Smock block (9-13).
        #expect(counts["product-import.csv"]?.products == 3)
        #expect(counts["product-import.csv"]?.errors == [8, 9, 10, 11, 12, 13])
        // Vendure's fixtures with a duplicate SKU.
        #expect(counts["e2e-products-order-taxes.csv"]?.errors == [4])
        #expect(counts["e2e-products-collections.csv"]?.errors == [23])
        let withDuplicates: Set = ["product-import.csv", "e2e-products-order-taxes.csv", "e2e-products-collections.csv"]
        for (name, count) in counts where !withDuplicates.contains(name) {
            #expect(count.errors == [], "\(name)")
            #expect(count.products > 0 || name == "e2e-products-empty.csv", "\(name)")
        }
    }

    @Test func moneyHandlingFixtureKeepsExactMinorUnits() throws {
        let parsed = try parseProductFile(ProductsReference.path("import-fixtures/e2e-products-money-handling.csv"))
        #expect(parsed.products.flatMap(\.variants).map(\.price.minorUnits) == [31, 999_999_900])
        let yen = try parseProductFile(ProductsReference.path("import-fixtures/e2e-products-money-handling.csv"), currency: .jpy)
        #expect(yen.products.isEmpty)
        #expect(yen.errors.map(\.column) == [9, 9])
    }

    @Test func optionGroupValuesAreTheDistinctValuesInOrderOfFirstUse() throws {
        // 40 variants over 20 colours, each used twice: past 16 values the parser keeps a set beside the list.
        let colours = (0..<20).map { "c\($0)" }
        var lines = ["name:en,name:de,slug:en,slug:de,description:en,description:de,assets,facets:en,facets:de,"
            + "optionGroups:en,optionGroups:de,optionValues:en,optionValues:de,sku,price,taxCategory,stockOnHand,"
            + "trackInventory,variantAssets,variantFacets:en,variantFacets:de"]
        for index in 0..<40 {
            let colour = colours[(index * 7) % 20]
            let product = index == 0 ? "Chair,Stuhl,chair,stuhl,,,,,,colour|size,Farbe|Größe" : ",,,,,,,,,,"
            lines.append("\(product),\(colour)|s\(index % 3),\(colour)-de|g\(index % 3),SKU\(index),1.00,standard,1,,,,")
        }
        let path = NSTemporaryDirectory() + "option-values-\(UUID().uuidString).csv"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let parsed = try parseProductFile(path)
        #expect(parsed.errors == [])
        let block = try #require(parsed.products.first)
        var firstUse: [String] = []
        for index in 0..<40 where !firstUse.contains(colours[(index * 7) % 20]) { firstUse.append(colours[(index * 7) % 20]) }
        #expect(block.optionGroups[0].translations.map(\.languageCode) == ["en", "de"])
        #expect(block.optionGroups[0].translations[0].values == firstUse)
        #expect(block.optionGroups[0].translations[1].values == firstUse.map { $0 + "-de" })
        #expect(block.optionGroups[1].translations[0].values == ["s0", "s1", "s2"])
        #expect(block.optionGroups[1].translations[1].values == ["g0", "g1", "g2"])
    }

    @Test func mockDataHas54ProductsOver88Rows() throws {
        let path = ProductsReference.path("mock-data/products.csv")
        let lenient = try parseProductFile(path, options: .init(duplicateSKUs: nil))
        #expect(lenient.errors == [])
        #expect(lenient.products.count == 54)
        #expect(lenient.products.reduce(0) { $0 + $1.variants.count } == 88)
        // The demo catalogue's last product gives three variants the SKU 404.038.96: by default they are
        // one product's variants, told apart by their colour; `reject` refuses the product.
        let shared = try parseProductFile(path)
        #expect(shared.errors == [] && shared.products.count == 54)
        #expect(shared.products.last?.variants.map(\.sku) == ["404.038.96", "404.038.96", "404.038.96"])
        let strict = try parseProductFile(path, options: .init(duplicateSKUs: .reject))
        #expect(strict.products.count == 53)
        #expect(strict.errors.map(\.line) == [87, 88, 89])
        #expect(strict.errors.map(\.column) == [1, 8, 8])
    }
}
