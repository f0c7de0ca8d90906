import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// A product block larger than `partRows` comes out of the parser in parts and goes into the store part
/// by part, with the same outcome as the block read and stored whole.
@Suite(.timeLimit(.minutes(2))) struct ProductPartsTests {
    static let header =
        "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"

    /// One product of `variants` rows (size and colour options, values reused across rows), between two
    /// small ones. `skip` leaves rows out; `shift` changes which option values the rows use; `sharedSKUs`
    /// gives each two rows in a row one SKU.
    static func file(
        variants: Int, skip: (Int) -> Bool = { _ in false }, shift: Int = 0, badLine: Int? = nil, sharedSKUs: Bool = false
    ) throws -> String {
        var text = header + "First,first,a,,,,,F1,1.00,standard,1,,,\n"
        var wroteProduct = false
        for index in 0..<variants where !skip(index) {
            let lead = wroteProduct ? ",,,,,," : "Big,big,\"a big one\",,category:big,size|colour,"
            wroteProduct = true
            let price = text.split(separator: "\n").count + 1 == badLine ? "x" : "\(index % 90 + 1).\(String(format: "%02d", index % 100))"
            text += "\(lead)s\((index + shift) % 11)|c\((index * 7 + shift) % 13)-\(index),BIG-\(sharedSKUs ? index / 2 : index),\(price),standard,\(index % 50),,,\n"
        }
        text += "Last,last,z,,,,,L1,2.00,standard,1,,,\n"
        let path = NSTemporaryDirectory() + "parts-\(UUID().uuidString).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func parse(_ path: String, partRows: Int) throws -> ParsedProductFile {
        try parseProductFile(path, options: .init(partRows: partRows))
    }

    /// Vendure's `parseStringArray` splits on the code unit `|`, and a facet at its first `:`, whatever
    /// follows them (a combining mark too).
    @Test func listsSplitOnTheBarByteAndFacetsOnTheColonByte() throws {
        #expect(ProductRowReader.list("") == [])
        #expect(ProductRowReader.list("one") == ["one"])
        #expect(ProductRowReader.list(" a | |b|\tc d ||") == ["a", "b", "c d"])
        #expect(ProductRowReader.list("é|\u{301}x|ü") == ["é", "\u{301}x", "ü"])
        for text in ["", "|", " | \t|", "one", " a | |b|\tc d ||", "é|\u{301}x|ü", " \u{301}| ", "\t\u{301}\t", "a||b|"] {
            #expect(ProductRowReader.listCount(text) == ProductRowReader.list(text).count, "\(text.debugDescription)")
        }
        let folder = try LanguageFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("facets.csv").path
        try """
            name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets
            Hat,hat,,,"colour:\u{301}red|size : a:b ",,,H1,1.00,standard,1,,,
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let parsed = try parseProductFile(file)
        let facets = parsed.products.first?.facets.flatMap(\.translations).map { "\($0.facet)=\($0.value)" }
        #expect(facets == ["colour=\u{301}red", "size=a:b"])
    }

    @Test func aLargeBlockComesInPartsWithTheWholeBlocksContent() throws {
        let path = try Self.file(variants: 23)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let whole = try Self.parse(path, partRows: 1_000)
        let parts = try Self.parse(path, partRows: 5)
        #expect(whole.products.count == 3 && whole.rejections.isEmpty && parts.rejections.isEmpty)
        let big = parts.products.filter { $0.line == 3 }
        #expect(big.map(\.variants.count) == [5, 5, 5, 5, 3])
        #expect(big.map { $0.part } == (0..<5).map { BlockPart(index: $0, firstVariant: $0 * 5, isLast: $0 == 4) })
        #expect(big.flatMap(\.variants) == whole.products[1].variants)
        #expect(parts.products.first?.part == nil && parts.products.last?.part == nil)
        #expect(parts.products.last?.line == 26)
        for part in big {
            var expected = part
            ProductCSVParser.fillOptionGroupValues(&expected)
            #expect(part.optionGroups == expected.optionGroups)
            #expect(part.translations == whole.products[1].translations && part.facets == whole.products[1].facets)
        }
    }

    @Test func aBadRowRejectsTheWholeLargeBlockInParts() throws {
        let path = try Self.file(variants: 23, badLine: 20)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let whole = try Self.parse(path, partRows: 1_000)
        let parts = try Self.parse(path, partRows: 5)
        #expect(parts.products.map(\.line) == [2, 26])
        #expect(parts.rejections.map(\.continuesItem) == [false, true, true, true, true])
        #expect(parts.rejections.allSatisfy { $0.line == 3 })
        #expect(parts.errors == whole.errors)
        #expect(parts.errors.count == 23)
        #expect(parts.errors.filter { $0.reason == "rejected because line 20 of the same product was rejected" }.count == 22)
        #expect(parts.rejections.flatMap(\.rows).map(\.record) == whole.rejections.flatMap(\.rows).map(\.record))
    }

    @Test func aDuplicateSKUInsideALargeBlockIsFoundOnceAndNamed() throws {
        var text = Self.header + "Big,big,b,,,,,D1,1.00,standard,1,,,\n"
        for index in 2...12 { text += ",,,,,,,D\(index == 9 ? 3 : index),1.00,standard,1,,,\n" }
        let path = NSTemporaryDirectory() + "parts-\(UUID().uuidString).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let parts = try Self.parse(path, partRows: 4)
        #expect(parts.errors == (try Self.parse(path, partRows: 100)).errors)
        #expect(
            parts.errors.filter { !$0.reason.hasPrefix("rejected because") }.map(\.reason) == [
                "duplicate SKU 'D3': line 4 of the same product already uses it and the product has no options to tell them apart"
            ], "\(parts.errors)")
    }

    @Test(arguments: StoreProductTests.dialects, [false, true])
    func partsStoreWhatTheWholeBlockStores(dialect: SQLDialect, sharedSKUs: Bool) throws {
        let first = try Self.file(variants: 40, sharedSKUs: sharedSKUs)
        // A third of the variants gone, every option value moved: deletions, updates and option positions.
        let second = try Self.file(variants: 40, skip: { $0 % 3 == 1 }, shift: 4, sharedSKUs: sharedSKUs)
        defer { for path in [first, second] { try? FileManager.default.removeItem(atPath: path) } }
        func importBoth(partRows: Int) throws -> (results: [UpsertResult], products: [ProductBlock]) {
            var outcome: (results: [UpsertResult], products: [ProductBlock]) = ([], [])
            try withStoreDatabase(dialect) { database in
                let store = try openStore(database.connection)
                for path in [first, second] {
                    let parsed = try Self.parse(path, partRows: partRows)
                    #expect(parsed.rejections.isEmpty)
                    var result = try store.connection.inTransaction { try store.upsert(chunk: parsed.products) }
                    result.productID = nil
                    result.rowsWritten = 0
                    outcome.results.append(result)
                }
                try store.products { outcome.products.append($0.ignoringSourcePositions()) }
            }
            return outcome
        }
        let whole = try importBoth(partRows: 1_000)
        let parts = try importBoth(partRows: 6)
        #expect(parts.results == whole.results)
        #expect(parts.products == whole.products)
        #expect(whole.results.last?.variantsDeleted == 13 && whole.results.last?.productsUpdated == 1)
        #expect(parts.products.count == 3)
    }
}
