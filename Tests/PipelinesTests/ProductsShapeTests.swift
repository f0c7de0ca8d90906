import Foundation
import Pipelines
import Testing

@testable import Stages

/// A block's shape (`BlockSource.shape`): the digest of everything in it but its price and stock cells,
/// by which a store compares a block that changes those alone on them alone.
@Suite(.timeLimit(.minutes(1)))
struct ProductsShapeTests {
    static let header = "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets"

    /// The block of `rows` (after the header) with its digest and shape, as the feed reads it.
    static func source(_ rows: [String], shapes: Bool = true) throws -> BlockSource? {
        let folder = CodecTemporaryFolder()
        let path = folder.file("block.csv", ([header] + rows).joined(separator: "\n") + "\n")
        let options = ProductCSVParser.Options(sourceSettings: "settings", shapeDigests: shapes)
        let parsed = try parseProductFile(path, options: options)
        #expect(parsed.rejections.isEmpty, "\(parsed.errors)")
        return parsed.products.first?.source
    }

    static let block = [
        "Chair,chair,\"Oak, nice\",,,size,s,CH-1,10.00,standard,5,,,",
        ",,,,,,m,CH-2,11.00,standard,,,,",
    ]

    @Test func pricesAndStockChangeTheDigestButNotTheShape() throws {
        let original = try #require(try Self.source(Self.block))
        let repriced = try #require(try Self.source([
            "Chair,chair,\"Oak, nice\",,,size,s,CH-1,12.50,standard,7,,,",
            ",,,,,,m,CH-2,11.00,standard,3,,,",
        ]))
        #expect(original.shape != nil)
        #expect(repriced.digest != original.digest)
        #expect(repriced.shape == original.shape)
    }

    @Test func anyOtherCellChangesTheShape() throws {
        let original = try #require(try Self.source(Self.block)?.shape)
        let changes = [
            // Another cell of a variant row, a product cell, a quoted cell's bytes.
            [Self.block[0], ",,,,,,m,CH-2,11.00,reduced,,,,"],
            [Self.block[0].replacingOccurrences(of: "Chair,chair", with: "Chair,chairs"), Self.block[1]],
            [Self.block[0].replacingOccurrences(of: "\"Oak, nice\"", with: "\"Oak,  nice\""), Self.block[1]],
            // Bytes moved from one cell to the next: the cells' lengths are part of the shape.
            [Self.block[0].replacingOccurrences(of: "CH-1,10.00,standard", with: "CH-1s,10.00,tandard"), Self.block[1]],
            // A row more.
            Self.block + [",,,,,,l,CH-3,11.00,standard,,,,"],
        ]
        for rows in changes {
            #expect(try Self.source(rows)?.shape != original, "\(rows)")
        }
    }

    @Test func onlyTheFeedMakesShapes() throws {
        let source = try #require(try Self.source(Self.block, shapes: false))
        #expect(source.shape == nil)
    }

    /// The whole-file check's reader (`checksValuesAlone`) over a store holding `original`: an unchanged
    /// block is `.unchanged`, one repriced `.unchanged` with `valuesChanged`, one with another cell
    /// changed read in full, and one with a bad price read in full and rejected.
    @Test(arguments: [SQLDialect.sqlite, .postgres]) func theCheckTakesABlockOfAStoredShapeAsItsProducts(dialect: SQLDialect) throws {
        try withStoreDatabase(dialect) { database throws in
            let folder = CodecTemporaryFolder()
            let original = [
                "Chair,chair,,,,size,s,CH-1,10.00,standard,5,,,", ",,,,,,m,CH-2,11.00,standard,,,,",
                "Table,table,,,,,,TA-1,20.00,standard,1,,,",
                "Lamp,lamp,,,,,,LA-1,30.00,standard,1,,,",
                "Desk,desk,,,,,,DE-1,40.00,standard,1,,,",
            ]
            var changed = original
            changed[1] = ",,,,,,m,CH-2,12.00,standard,9,,,"
            changed[3] = "Lamp,lamp,,,,,,LA-1,30.00,reduced,1,,,"
            changed[4] = "Desk,desk,,,,,,DE-1,forty,standard,1,,,"
            let options = ProductCSVParser.Options(reportsBlankLines: false, sourceSettings: "settings", shapeDigests: true)
            let stored = try parseProductFile(folder.file("original.csv", ([Self.header] + original).joined(separator: "\n") + "\n"), options: options)
            let store = try openStore(database.connection)
            _ = try database.connection.inTransaction { try store.upsert(chunk: stored.products) }
            let checking = ProductCSVParser.Options(
                reportsBlankLines: false, duplicateSKUs: .withinProduct, sourceSettings: "settings", checksValuesAlone: true)
            let parser = try ProductCSVParser(
                path: folder.file("changed.csv", ([Self.header] + changed).joined(separator: "\n") + "\n"), currency: .usd, options: checking)
            defer { parser.close() }
            let index = try #require(try ProductSourceIndex.open(try StoreTestDatabase.open(database.locator, schema: database.schema)))
            try parser.skipUnchanged(index)
            var items: [String] = []
            while let item = try parser.next() {
                switch item {
                case .unchanged(let block): items.append("\(block.line) \(block.valuesChanged ? "values" : "unchanged")")
                case .product(let block): items.append("\(block.line) read")
                case .rejected(let rejection): items.append("\(rejection.line) rejected")
                }
            }
            #expect(items == ["2 values", "4 unchanged", "5 read", "6 rejected"])
        }
    }

    /// The writer takes a block the check vouched for (`DesiredProduct.valuesOf`) to be its product's
    /// without looking it up: the store comes out the same as when it looks it up, and the same when the
    /// product named is not the block's (the store does not bear it out, so the block is stored as any
    /// other).
    @Test(arguments: [SQLDialect.sqlite, .postgres]) func aBlockVouchedForStoresAsOneLookedUp(dialect: SQLDialect) throws {
        let folder = CodecTemporaryFolder()
        let options = ProductCSVParser.Options(reportsBlankLines: false, sourceSettings: "settings", shapeDigests: true)
        let original = Self.block + ["Table,table,,,,,,TA-1,20.00,standard,1,,,"]
        var changed = original
        changed[1] = ",,,,,,m,CH-2,12.00,standard,9,,,"
        let stored = try parseProductFile(folder.file("original.csv", ([Self.header] + original).joined(separator: "\n") + "\n"), options: options)
        let repriced = try parseProductFile(folder.file("changed.csv", ([Self.header] + changed).joined(separator: "\n") + "\n"), options: options)
        var contents: [String: [String: [[String?]]]] = [:]
        let cases: [(name: String, vouchedFor: Int64?, alone: Bool)] = [
            ("looked up", nil, false), ("vouched for", 1, false), ("another's", 2, false),
            // No other block of the chunk names the product vouched for: the store's variants tell.
            ("looked up alone", nil, true), ("another's alone", 2, true),
        ]
        for (name, vouchedFor, alone) in cases {
            try withStoreDatabase(dialect) { database throws in
                let clock = SteppingClock()
                let store = try openStore(database.connection, clock: { clock.date })
                _ = try database.connection.inTransaction { try store.upsert(chunk: stored.products) }
                clock.advance()
                store.readsValuesOnly = true
                var products = try repriced.products.prefix(alone ? 1 : 2).map { try DesiredProduct($0) }
                products[0].valuesOf = vouchedFor
                let result = try database.connection.inTransaction { try store.upsert(chunk: products) }
                let counts: [Int] = StoreBulkTests().counts(result)
                // Created, updated, unchanged products; created, updated, unchanged, deleted variants.
                #expect(counts == (alone ? [0, 1, 0, 0, 1, 1, 0] : [0, 1, 1, 0, 1, 2, 0]), "\(name)")
                contents[name] = try StoreBulkTests().contents(store)
            }
        }
        #expect(contents["vouched for"] == contents["looked up"])
        #expect(contents["another's"] == contents["looked up"])
        #expect(contents["another's alone"] == contents["looked up alone"])
    }
}
