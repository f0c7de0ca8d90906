import Foundation
import Pipelines
import Stages
import Testing

@Suite struct ProductsMoneyTests {
    @Test func parsesWithTheCurrencyExponent() throws {
        #expect(try Money.parse("45.3", currency: .usd).minorUnits == 4530)
        #expect(try Money.parse("8999", currency: .usd).minorUnits == 899_900)
        #expect(try Money.parse("1500", currency: .jpy).minorUnits == 1500)
        #expect(try Money.parse("1.234", currency: .kwd).minorUnits == 1234)
        #expect(try Money.parse("0.31", currency: .usd).minorUnits == 31)
        #expect(CurrencyCode("kwd")?.exponent == 3)
        #expect(CurrencyCode("CLF")?.exponent == 4)
        #expect(CurrencyCode("XYZ") == nil)
    }

    @Test func rejectsWhatIsNotAnExactPrice() {
        #expect(throws: MoneyParseError.tooManyFractionDigits("1.5", currency: .jpy)) { try Money.parse("1.5", currency: .jpy) }
        #expect(throws: MoneyParseError.tooManyFractionDigits("0.311", currency: .usd)) { try Money.parse("0.311", currency: .usd) }
        #expect(throws: MoneyParseError.negative("-1")) { try Money.parse("-1", currency: .usd) }
        #expect(throws: MoneyParseError.empty) { try Money.parse("", currency: .usd) }
        for text in ["abc", "1,5", "1.", ".5", "1e3", "1.2.3", " 1"] {
            #expect(throws: MoneyParseError.notANumber(text)) { try Money.parse(text, currency: .usd) }
        }
        #expect(throws: MoneyParseError.tooLarge("99999999999999999999")) { try Money.parse("99999999999999999999", currency: .usd) }
    }

    @Test func formatsBackToDecimalText() throws {
        #expect(Money(minorUnits: 4530, currency: .usd).decimalText == "45.30")
        #expect(Money(minorUnits: 5, currency: .usd).decimalText == "0.05")
        #expect(Money(minorUnits: 1500, currency: .jpy).decimalText == "1500")
        #expect(Money(minorUnits: 1, currency: .kwd).decimalText == "0.001")
        for text in ["0.00", "45.30", "123456789.99"] { #expect(try Money.parse(text, currency: .usd).decimalText == text) }
    }
}

@Suite struct ProductsFormatTests {
    static let header =
        "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"

    func parse(_ text: String, currency: CurrencyCode = .usd) throws -> ParsedProductFile {
        let folder = CodecTemporaryFolder()
        return try parseProductFile(folder.file("products.csv", text), currency: currency)
    }

    @Test func duplicateSKURejectsTheLaterProduct() throws {
        let parsed = try parse(Self.header + "A,,,,,,,S1,1,standard,,,,\nB,,,,,size,s,S1,1,standard,,,,\n,,,,,,m,S2,1,standard,,,,\n")
        #expect(parsed.products.map(\.translations.first?.name) == ["A"])
        #expect(parsed.errors.map(\.line) == [3, 4])
        #expect(parsed.errors.first?.column == 8)
        #expect(parsed.errors.last?.reason == "rejected because line 3 of the same product was rejected")
    }

    @Test func badFacetSyntaxIsABadRow() throws {
        let parsed = try parse(
            Self.header + "A,,,,brand,,,S1,1,standard,,,,\nB,,,,,,,S2,1,standard,,,,colour:\nC,,,,:x,,,S3,1,standard,,,,\nD,,,,a:b:c,,,S4,1,s,,,,\n")
        #expect(parsed.errors.map(\.line) == [2, 3, 4])
        #expect(parsed.errors.map(\.column) == [5, 14, 5])
        #expect(parsed.products.first?.facets.first?.translations.first?.value == "b:c")
    }

    @Test func pricesUseTheCurrencyExponent() throws {
        let yen = try parse(Self.header + "A,,,,,,,S1,1500,standard,,,,\nB,,,,,,,S2,15.5,standard,,,,\n", currency: .jpy)
        #expect(yen.products.map(\.variants[0].price.minorUnits) == [1500])
        #expect(yen.errors.map(\.column) == [9])
        let dinar = try parse(Self.header + "A,,,,,,,S1,1.250,standard,,,,\nB,,,,,,,S2,,standard,,,,\n", currency: .kwd)
        #expect(dinar.products.map(\.variants[0].price.minorUnits) == [1250])
        #expect(dinar.errors.map(\.reason) == ["bad price: the price is empty"])
    }

    @Test func missingSKUAndBrokenCSVAreBadRows() throws {
        let parsed = try parse(Self.header + "A,,,,,,,,1,standard,,,,\nB,,,,,,,S2,1,standard,,maybe,,\n\"C,,,,,,,S3,1,standard,,,,\n")
        #expect(parsed.errors.map(\.line) == [2, 3, 4])
        #expect(parsed.errors.map(\.column) == [8, 12, 1])
    }

    @Test func paddedAndQuotedCellsAreTrimmed() throws {
        let parsed = try parse(
            "  \"name\" , slug ,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"
                + " \"Crème Brûlée, Deluxe\"  , , \" said \"\"hi\"\" \" ,,,,,  S1 , 2.50 ,standard,  7 ,TRUE,,\n")
        #expect(parsed.errors == [])
        let block = try #require(parsed.products.first)
        #expect(block.translations[0].name == "Crème Brûlée, Deluxe")
        #expect(block.translations[0].slug == "creme-brulee-deluxe")
        #expect(block.translations[0].description == "said \"hi\"")
        #expect(block.variants[0].stockOnHand == 7)
        #expect(block.variants[0].trackInventory == true)
    }

    @Test func emptyFileHeaderOnlyGivesNothing() throws {
        let parsed = try parse(Self.header)
        #expect(parsed.products.isEmpty && parsed.errors.isEmpty)
    }

    static func allFixtures() -> [String] {
        ProductsReference.importFixtures() + ["mock-data/products.csv"].map(ProductsReference.path)
            + ["custom-fields", "multiple-languages", "multiple-products-multiple-variants", "single-product-multiple-variants",
               "single-product-single-variant"].map { ProductsReference.path("parser-fixtures/\($0).csv") }
    }

    @Test(arguments: allFixtures())
    func csvWriterRoundTrips(fixture: String) throws {
        let original = try parseProductFile(fixture, options: .init(duplicateSKUs: nil)).products
        let folder = CodecTemporaryFolder()
        let path = "\(folder.path)/out.csv"
        let output = try OutputFile(path: path)
        let writer = try ProductCSVWriter(output: output, layout: .covering(original))
        for block in original { try writer.write(block) }
        try output.close()
        let again = try parseProductFile(path, options: .init(duplicateSKUs: nil))
        #expect(again.errors == [])
        #expect(again.products.map { $0.ignoringSourcePositions() } == original.map { $0.ignoringSourcePositions() })
    }

    @Test(arguments: allFixtures())
    func jsonlRoundTrips(fixture: String) throws {
        let original = try parseProductFile(fixture, options: .init(duplicateSKUs: nil)).products
        let folder = CodecTemporaryFolder()
        let path = "\(folder.path)/out.jsonl"
        let output = try OutputFile(path: path)
        let writer = ProductJSONLWriter(output: output)
        for block in original { try writer.write(block) }
        try output.close()
        let reader = try ProductJSONLReader(path: path)
        var again: [ProductBlock] = []
        while let item = try reader.next() {
            guard case .product(let block) = item else {
                Issue.record("rejected: \(item)")
                continue
            }
            again.append(block)
        }
        #expect(again.map { $0.ignoringSourcePositions() } == original.map { $0.ignoringSourcePositions() })
        #expect(again.map(\.line) == Array((0..<original.count).map { $0 + 1 }))
        // Writing what was read gives the same bytes.
        let copyPath = "\(folder.path)/copy.jsonl"
        let copy = try OutputFile(path: copyPath)
        let copyWriter = ProductJSONLWriter(output: copy)
        for block in again { try copyWriter.write(block) }
        try copy.close()
        #expect(FileManager.default.contents(atPath: copyPath) == FileManager.default.contents(atPath: path))
    }

    @Test func jsonlRejectsLinesThatAreNotProducts() throws {
        let folder = CodecTemporaryFolder()
        let path = folder.file("bad.jsonl", "{\"variants\":[{\"sku\":\"A\",\"price\":\"1.999\",\"currency\":\"USD\",\"taxCategory\":\"s\"}]}\n{oops\n")
        let reader = try ProductJSONLReader(path: path)
        var lines: [Int] = []
        while let item = try reader.next() {
            if case .rejected(let rejection) = item { lines.append(rejection.line) }
        }
        #expect(lines == [1, 2])
    }

    @Test func jsonlRejectsALineReusingASKU() throws {
        let folder = CodecTemporaryFolder()
        func line(_ skus: String...) -> String {
            let variants = skus.map { "{\"sku\":\"\($0)\",\"price\":\"1.00\",\"currency\":\"USD\",\"taxCategory\":\"s\"}" }
            return "{\"variants\":[\(variants.joined(separator: ","))]}\n"
        }
        let path = folder.file("dup.jsonl", line("A", "B") + line("C") + line("D", "B"))
        for checks in [true, false] {
            let reader = try ProductJSONLReader(path: path, duplicateSKUs: checks ? .withinProduct : nil)
            defer { reader.close() }
            var errors: [RowError] = []
            var products = 0
            while let item = try reader.next() {
                switch item {
                case .rejected(let rejection): errors += rejection.errors
                case .product: products += 1
                case .unchanged: Issue.record("no block can be unchanged without a store")
                }
            }
            #expect(products == (checks ? 2 : 3))
            let reason = "duplicate SKU 'B': line 1 already uses it in another product (only variants of one product may share a SKU)"
            #expect(errors == (checks ? [RowError(line: 3, column: 1, reason: reason)] : []))
        }
    }

    @Test func assetPathsStayInsideTheirFolder() throws {
        let folder = CodecTemporaryFolder()
        _ = folder.file("a.jpg", "x")
        try FileManager.default.createSymbolicLink(atPath: "\(folder.path)/out.jpg", withDestinationPath: "/etc/hostname")
        #expect(AssetPath.resolve("https://x.test/a.jpg", under: folder.path) == .success(.url("https://x.test/a.jpg")))
        #expect(AssetPath.resolve("sub/../a.jpg", under: folder.path) == .success(.file("\(folder.path)/a.jpg")))
        #expect(AssetPath.resolve("/etc/passwd", under: folder.path) == .failure(.absolutePath("/etc/passwd")))
        #expect(AssetPath.resolve("../a.jpg", under: folder.path) == .failure(.escapesDirectory("../a.jpg")))
        #expect(AssetPath.resolve("out.jpg", under: folder.path) == .failure(.escapesDirectory("out.jpg")))
        #expect(AssetPath.resolve("b.jpg", under: folder.path) == .failure(.missing("b.jpg")))
        let assets = ProductsReference.path("mock-data/assets")
        let mock = try parseProductFile(ProductsReference.path("mock-data/products.csv"), options: .init(duplicateSKUs: nil))
        for path in mock.products.flatMap(\.assetPaths) {
            guard case .success(.file) = AssetPath.resolve(path, under: assets) else {
                Issue.record("\(path) not found")
                continue
            }
        }
    }
}
