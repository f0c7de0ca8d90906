import Foundation
import Pipelines
import Testing

/// Products of more variant rows than one part (2,000) through the binary: imported, updated, rejected
/// and killed part by part, always with the outcome of a product stored whole.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ProductsLargeBlockTests {
    typealias Backend = ProductsTestStore.Backend

    @Test(arguments: Backend.allCases)
    func largeProductsImportUpdateAndRoundTripLikeSmallOnes(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 2, variantsEach: 2_300, to: scratch.file("large.csv"))
        // Fewer variants (deleted), other prices (updated).
        try ProductsRun.generate(products: 2, variantsEach: 2_050, to: scratch.file("edited.csv"), priceBump: 1)
        let store = try ProductsTestStore(backend, in: scratch, name: "store")
        defer { store.drop() }
        let first = try ProductsRun.importFile(scratch.file("large.csv"), into: store, scratch: scratch)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(
            ProductsRun.summary(first)
                == "products: 2 created, 0 updated, 0 unchanged, 0 rejected; variants: 4600 created, 0 updated, 0 unchanged, 0 deleted; rows: 4600 read, 0 rejected"
        )
        let again = try ProductsRun.importFile(scratch.file("large.csv"), into: store, scratch: scratch)
        #expect(ProductsRun.summary(again)?.hasPrefix("products: 0 created, 0 updated, 2 unchanged, 0 rejected; variants: 0 created, 0 updated, 4600 unchanged, 0 deleted") == true)
        let exported = try ProductsRun.export(store, scratch: scratch, format: "csv")
        #expect(exported == (try scratch.read("large.csv")))

        let edited = try ProductsRun.importFile(scratch.file("edited.csv"), into: store, scratch: scratch)
        #expect(edited.status == 0, "\(edited.stderr)")
        #expect(ProductsRun.summary(edited)?.hasPrefix("products: 0 created, 2 updated, 0 unchanged, 0 rejected; variants: 0 created, 4100 updated, 0 unchanged, 500 deleted") == true)
        let fresh = try ProductsTestStore(backend, in: scratch, name: "fresh")
        defer { fresh.drop() }
        #expect(try ProductsRun.importFile(scratch.file("edited.csv"), into: fresh, scratch: scratch).status == 0)
        #expect(try ProductsRun.export(store, scratch: scratch) == ProductsRun.export(fresh, scratch: scratch))
        #expect(try store.count("store_options") == 2 * 2_050)
    }

    @Test func aBadRowLateInALargeProductRejectsAllItsRowsAndKeepsTheOthers() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 2, variantsEach: 4_500, to: scratch.file("large.csv"))
        var lines = try scratch.read("large.csv").components(separatedBy: "\n")
        // Line 4,400 (the first product's variant 4,398): an unreadable price.
        lines[4_399] = lines[4_399].replacingOccurrences(of: ",standard,", with: "x,standard,")
        try scratch.write("bad.csv", lines.joined(separator: "\n"))
        let store = try ProductsTestStore(.sqlite, in: scratch)
        defer { store.drop() }
        let result = try ProductsRun.importFile(scratch.file("bad.csv"), into: store, scratch: scratch, with: "max_rejects: 4500")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ProductsRun.summary(result)?.hasPrefix("products: 1 created, 0 updated, 0 unchanged, 1 rejected; variants: 4500 created") == true)
        let rejects = try scratch.read("rejects.csv").components(separatedBy: "\n").filter { !$0.isEmpty }
        #expect(rejects.count == 4_501)
        #expect(rejects[1].hasPrefix("2,1,rejected because line 4400 of the same product was rejected,"))
        #expect(rejects[4_399].hasPrefix("4400,9,"))
        #expect(rejects[4_500].hasPrefix("4501,1,rejected because line 4400"))
        #expect(try store.count("store_variants") == 4_500)
        let tooMany = try ProductsRun.importFile(scratch.file("bad.csv"), into: store, scratch: scratch, with: "max_rejects: 10")
        #expect(tooMany.status == 65 && tooMany.stderr.contains("4500 rejected rows, more than max_rejects 10"))
    }

    @Test(arguments: Backend.allCases)
    func killedImportsOfLargeProductsResumeToTheSameStore(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 2, variantsEach: 2_300, to: scratch.file("large.csv"))
        try ProductsRun.expectKilledImportsResume("large.csv", backend: backend, variants: 4_600, kills: 4, seed: 23, in: scratch)
    }
}
