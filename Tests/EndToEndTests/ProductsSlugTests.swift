import Foundation
import Pipelines
import Testing

/// Two products of one file with one slug: the second would replace the first in the store, so it is a
/// rejected row naming the first one's line; in Vendure CSV (also a product of many parts) and in
/// product JSONL.
@Suite(.timeLimit(.minutes(5))) struct ProductsSlugTests {
    typealias Backend = ProductsTestStore.Backend
    static let header =
        "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"

    @Test(arguments: Backend.allCases)
    func aSecondProductWithTheSameSlugIsRejectedNamingTheFirst(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        try scratch.write(
            "catalogue.csv",
            Self.header + """
                Chair,chair,,,,,,C-1,10.00,standard,1,,,
                Table,table,,,,,,T-1,20.00,standard,1,,,
                Chair Two,chair,,,,,,C-2,11.00,standard,1,,,

                """)
        let strict = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch, with: "max_rejects: 0")
        #expect(strict.status == 65)
        #expect(try store.count("store_products") == 0)
        let result = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch, with: "max_rejects: 1")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scratch.read("rejects.csv").contains(
            "4,2,slug 'chair' is already used by the product at line 2; two products cannot share a slug,"))
        #expect(try store.rows("SELECT sku FROM store_variants ORDER BY sku") == [["C-1"], ["T-1"]])
        #expect(try store.rows("SELECT name FROM store_product_translations ORDER BY name") == [["Chair"], ["Table"]])

        // The same in product JSONL: the store exported, and its first line given again with other SKUs.
        let jsonl = try ProductsRun.export(store, scratch: scratch)
        let first = try #require(jsonl.split(separator: "\n").first)
        try scratch.write("again.jsonl", jsonl + first.replacingOccurrences(of: "\"C-1\"", with: "\"C-9\"") + "\n")
        let fresh = try ProductsTestStore(backend, in: scratch, name: "fresh")
        defer { fresh.drop() }
        let fromJSONL = try ProductsRun.importFile(scratch.file("again.jsonl"), into: fresh, scratch: scratch, with: "max_rejects: 1")
        #expect(fromJSONL.status == 0, "\(fromJSONL.stderr)")
        #expect(try scratch.read("rejects.csv").contains("3,1,slug 'chair' is already used by the product at line 1"))
        #expect(try fresh.rows("SELECT sku FROM store_variants ORDER BY sku") == [["C-1"], ["T-1"]])
    }

    @Test func aProductOfManyPartsIsCheckedToo() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(.sqlite, in: scratch)
        defer { store.drop() }
        var text = Self.header + "Chair,chair,,,,,,C-1,10.00,standard,1,,,\n"
        text += "Big Chair,chair,,,,size,s0,B-0,1.00,standard,1,,,\n"
        for index in 1..<2500 { text += ",,,,,,s\(index),B-\(index),1.00,standard,1,,,\n" }
        try scratch.write("catalogue.csv", text)
        let result = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch, with: "max_rejects: 5000")
        #expect(result.status == 0, "\(result.stderr)")
        let rejects = try scratch.read("rejects.csv").split(separator: "\n")
        #expect(rejects.count == 2501)
        #expect(rejects[1].hasPrefix("3,2,slug 'chair' is already used by the product at line 2"))
        #expect(try store.count("store_variants") == 1)
    }
}
