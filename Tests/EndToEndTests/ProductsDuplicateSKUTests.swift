import Foundation
import Pipelines
import Testing

/// Duplicate SKUs far down a file of many chunks: the check thread reads the whole file beside the
/// feed and the writer, and its verdict decides what commits.
@Suite(.timeLimit(.minutes(10))) struct ProductsDuplicateSKUTests {
    typealias Backend = ProductsTestStore.Backend

    static let products = 2000
    static let chunkSize = 300

    /// Inserts `row` into the CSV `name` so that it becomes line `line`.
    static func insert(_ row: String, atLine line: Int, into name: String, in scratch: Scratch) throws {
        var lines = try scratch.read(name).split(separator: "\n").map(String.init)
        lines.insert(row, at: line - 1)
        try scratch.write(name, lines.joined(separator: "\n") + "\n")
    }

    /// The generated catalogue with a one-variant product "Dup" after product `after`, whose SKU is the
    /// one of product 7's third variant (line 25). Returns the line of the duplicate.
    @discardableResult
    static func writeCatalogue(in scratch: Scratch, duplicateAfter after: Int = 1899) throws -> Int {
        try ProductsRun.generate(products: products, variantsEach: 3, to: scratch.file("catalogue.csv"))
        #expect(try scratch.read("catalogue.csv").split(separator: "\n")[24].contains(",SKU-7-2,"))
        let line = 2 + (after + 1) * 3
        try insert("Dup,dup,,,,,,SKU-7-2,1.00,standard,1,,,", atLine: line, into: "catalogue.csv", in: scratch)
        return line
    }

    /// Imports the catalogue of `writeCatalogue` into a new store with `max_rejects`; `check` gets the
    /// run, the store, the scratch folder and the line of the duplicate.
    static func importCatalogue(
        _ backend: Backend, maxRejects: Int, chunkSize: Int,
        check: (PipelineProcess.Result, ProductsTestStore, Scratch, Int) throws -> Void
    ) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        let line = try writeCatalogue(in: scratch)
        let result = try ProductsRun.importFile(
            scratch.file("catalogue.csv"), into: store, scratch: scratch, with: "max_rejects: \(maxRejects)",
            chunkSize: chunkSize)
        try check(result, store, scratch, line)
    }

    @Test(arguments: Backend.allCases, [chunkSize, 0])
    func pastMaxRejectsADuplicateFarDownLeavesTheStoreEmpty(backend: Backend, chunkSize: Int) throws {
        try Self.importCatalogue(backend, maxRejects: 0, chunkSize: chunkSize) { result, store, scratch, line throws in
            #expect(result.status == 65, "\(result.stderr)")
            #expect(result.stderr.contains("1 rejected rows, more than max_rejects 0"), "\(result.stderr)")
            #expect(try scratch.read("rejects.csv") == "line,column,reason,record\n\(line),8,duplicate SKU 'SKU-7-2': line 25 already uses it in another product (only variants of one product may share a SKU),\"Dup,dup,,,,,,SKU-7-2,1.00,standard,1,,,\"\n")
            #expect(try store.count("store_products") == 0)
            #expect(try store.count("store_variants") == 0)
        }
    }

    @Test(arguments: Backend.allCases, [chunkSize, 0])
    func withinMaxRejectsOnlyTheDuplicateProductIsSkipped(backend: Backend, chunkSize: Int) throws {
        try Self.importCatalogue(backend, maxRejects: 1, chunkSize: chunkSize) { result, store, scratch, line throws in
            #expect(result.status == 0, "\(result.stderr)")
            #expect(
                ProductsRun.summary(result)
                    == "products: 2000 created, 0 updated, 0 unchanged, 1 rejected; variants: 6000 created, 0 updated, "
                    + "0 unchanged, 0 deleted; rows: 6001 read, 1 rejected", "\(result.stderr)")
            #expect(try scratch.read("rejects.csv") == "line,column,reason,record\n\(line),8,duplicate SKU 'SKU-7-2': line 25 already uses it in another product (only variants of one product may share a SKU),\"Dup,dup,,,,,,SKU-7-2,1.00,standard,1,,,\"\n")
            #expect(try store.count("store_products") == 2000)
            #expect(try store.count("store_variants") == 6000)
            #expect(try store.rows(
                "SELECT t.name FROM store_product_translations t JOIN store_variants v ON v.product_id = t.product_id WHERE v.sku = 'SKU-7-2'")
                == [["Product 7"]])
            #expect(try store.rows("SELECT count(*) FROM store_product_translations WHERE name = 'Dup'") == [["0"]])
        }
    }

    /// A duplicate in the first chunk, skipped while the check still runs, and one far down.
    @Test func duplicatesEarlyAndLateAreBothSkipped() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(.sqlite, in: scratch)
        let late = try Self.writeCatalogue(in: scratch)
        try Self.insert("Early,early,,,,,,SKU-3-0,1.00,standard,1,,,", atLine: 2 + 10 * 3, into: "catalogue.csv", in: scratch)
        let result = try ProductsRun.importFile(
            scratch.file("catalogue.csv"), into: store, scratch: scratch, with: "max_rejects: 2", chunkSize: Self.chunkSize)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ProductsRun.summary(result)?.hasPrefix("products: 2000 created, 0 updated, 0 unchanged, 2 rejected;") == true)
        #expect(ProductsRun.summary(result)?.hasSuffix("rows: 6002 read, 2 rejected") == true)
        #expect(try scratch.read("rejects.csv") == """
            line,column,reason,record
            32,8,duplicate SKU 'SKU-3-0': line 11 already uses it in another product (only variants of one product may share a SKU),"Early,early,,,,,,SKU-3-0,1.00,standard,1,,,"
            \(late + 1),8,duplicate SKU 'SKU-7-2': line 25 already uses it in another product (only variants of one product may share a SKU),"Dup,dup,,,,,,SKU-7-2,1.00,standard,1,,,"

            """)
        #expect(try store.count("store_variants") == 6000)
        #expect(try store.rows("SELECT count(*) FROM store_product_translations WHERE name IN ('Dup', 'Early')") == [["0"]])
    }

    /// Stopped after a chunk, the run resumes without a second check: the duplicate's line comes from
    /// the checkpoint, and so do the counts of rejects.
    @Test func aResumedRunStillSkipsTheDuplicateAndCountsIt() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 20_000, variantsEach: 3, to: scratch.file("catalogue.csv"))
        try Self.insert("Dup,dup,,,,,,SKU-7-2,1.00,standard,1,,,", atLine: 2 + 19_000 * 3, into: "catalogue.csv", in: scratch)
        try scratch.write(
            "import.yaml",
            """
            name: resume
            database: sqlite:store.db
            state: sqlite:state/state.db
            stages:
              - id: import
                uses: products.import
                chunk_size: \(Self.chunkSize)
                with: { file: catalogue.csv, rejects: rejects.csv, max_rejects: 1 }
            """)
        let store = DatabaseLocator.sqlite(path: scratch.file("store.db"))
        let running = try PipelineProcess.start(["run", "import.yaml"], in: scratch.path)
        try #require(RunControlTests.wait(upTo: 60) { RunControlTests.hasCheckpoint(store) })
        kill(running.process.processIdentifier, SIGTERM)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 143)
        let partial = try Inspect.rows(store, "SELECT count(*) FROM store_variants")
        #expect(partial != [["60000"]], "the run finished before SIGTERM arrived")
        try? FileManager.default.removeItem(atPath: scratch.file("rejects.csv"))
        let resumed = try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming at line"), "\(resumed.stderr)")
        #expect(
            ProductsRun.summary(resumed)
                == "products: 20000 created, 0 updated, 0 unchanged, 1 rejected; variants: 60000 created, 0 updated, "
                + "0 unchanged, 0 deleted; rows: 60001 read, 1 rejected", "\(resumed.stderr)")
        #expect(try Inspect.rows(store, "SELECT count(*) FROM store_variants") == [["60000"]])
        #expect(try Inspect.rows(store, "SELECT count(*) FROM store_product_translations WHERE name = 'Dup'") == [["0"]])
    }

    /// `Café-1` typed on macOS (NFD: `e` + U+0301) and on Windows (NFC: `é`) is one SKU: the second use is a
    /// duplicate, and what is stored is NFC.
    @Test(arguments: Backend.allCases)
    func skusThatDifferOnlyInUnicodeNormalisationAreOneSKU(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        let decomposed = "Cafe\u{301}-1"
        let composed = "Caf\u{E9}-1"
        #expect(Array(decomposed.utf8) != Array(composed.utf8))
        try scratch.write(
            "catalogue.csv",
            """
            name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets
            Mug,mug,,,,,,\(decomposed),1.00,standard,1,,,
            Cup,cup,,,,,,\(composed),2.00,standard,1,,,

            """)
        let result = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch, with: "max_rejects: 1")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scratch.read("rejects.csv").contains("3,8,duplicate SKU '\(composed)': line 2 already uses it"))
        let stored = try store.rows("SELECT sku FROM store_variants")
        #expect(stored.count == 1)
        #expect(stored.first?.first??.utf8.elementsEqual(composed.utf8) == true)
    }
}
