import Foundation
import Pipelines
import Testing

/// Export → import round trips and kill -9 during an import, on SQLite and PostgreSQL.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ProductsRoundTripTests {
    typealias Backend = ProductsTestStore.Backend

    static let roundTripFiles = [
        "mock-data/products.csv", "import-fixtures/e2e-products-full.csv", "import-fixtures/e2e-product-import-multi-languages.csv",
        "parser-fixtures/custom-fields.csv", "parser-fixtures/multiple-languages.csv",
        "parser-fixtures/multiple-products-multiple-variants.csv", "import-fixtures/e2e-products-money-handling.csv",
    ]

    @Test(arguments: Backend.allCases)
    func exportingAnImportAndImportingThatExportGivesAnIdenticalStore(backend: Backend) throws {
        for file in Self.roundTripFiles {
            for format in ["csv", "jsonl"] {
                let scratch = try Scratch()
                defer { scratch.remove() }
                let first = try ProductsTestStore(backend, in: scratch, name: "first")
                defer { first.drop() }
                let second = try ProductsTestStore(backend, in: scratch, name: "second")
                defer { second.drop() }
                #expect(try ProductsRun.importFile("\(vendureReference)/\(file)", into: first, scratch: scratch).status == 0)
                let exported = try ProductsRun.export(first, scratch: scratch, format: format)
                try scratch.write("exported.\(format)", exported)
                let reimport = try ProductsRun.importFile(scratch.file("exported.\(format)"), into: second, scratch: scratch)
                #expect(reimport.status == 0, "\(file) \(format): \(reimport.stderr)")
                #expect(!scratch.exists("rejects.csv"), "\(file) \(format): the export has rejected rows")
                #expect(
                    try ProductsRun.export(second, scratch: scratch) == ProductsRun.export(first, scratch: scratch),
                    "\(file) via \(format): the stores differ")
                #expect(try ProductsRun.export(second, scratch: scratch, format: "csv") == exported || format == "jsonl")
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func killedImportsResumeToTheSameStore(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 2000, variantsEach: 3, to: scratch.file("big.csv"))
        try ProductsRun.expectKilledImportsResume("big.csv", backend: backend, variants: 6000, kills: 5, seed: 11, in: scratch)
    }
}
