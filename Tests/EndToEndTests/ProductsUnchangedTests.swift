import Foundation
import Pipelines
import Testing

/// `products.import` skipping the blocks the store holds as they are (`skip_unchanged`): whatever it
/// skips, the store, the counts and the rejects must be those of the import that compares every block.
@Suite(.timeLimit(.minutes(5)))
struct ProductsUnchangedTests {
    typealias Backend = ProductsTestStore.Backend

    /// The file's lines grouped into product blocks (the header apart).
    static func blocks(of text: String) -> (header: String, blocks: [[String]]) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var blocks: [[String]] = []
        for line in lines.dropFirst() {
            if line.hasPrefix(",") { blocks[blocks.count - 1].append(line) } else { blocks.append([line]) }
        }
        return (lines[0], blocks)
    }

    static func write(_ header: String, _ blocks: [[String]], to path: String) throws {
        try ([header] + blocks.joined()).joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Two stores given the same original file, then `changed`: one skipping unchanged blocks, one
    /// comparing them all. Returns both results of the second import.
    static func importBoth(
        _ backend: Backend, original: String, changed: String, in scratch: Scratch,
        editing edit: (ProductsTestStore) throws -> Void = { _ in }
    ) throws -> (skipping: PipelineProcess.Result, comparing: PipelineProcess.Result, same: Bool) {
        let skipping = try ProductsTestStore(backend, in: scratch, name: "skipping")
        let comparing = try ProductsTestStore(backend, in: scratch, name: "comparing")
        defer {
            skipping.drop()
            comparing.drop()
        }
        for store in [skipping, comparing] {
            let first = try ProductsRun.importFile(original, into: store, scratch: scratch, with: "max_rejects: 0")
            #expect(first.status == 0, "\(first.stderr)")
            try edit(store)
        }
        try? FileManager.default.removeItem(atPath: scratch.file("rejects.csv"))
        let skipped = try ProductsRun.importFile(changed, into: skipping, scratch: scratch, with: "max_rejects: 100", name: "skip")
        let skippedRejects = try? scratch.read("rejects.csv")
        try? FileManager.default.removeItem(atPath: scratch.file("rejects.csv"))
        let compared = try ProductsRun.importFile(
            changed, into: comparing, scratch: scratch, with: "max_rejects: 100, skip_unchanged: false", name: "compare")
        let comparedRejects = try? scratch.read("rejects.csv")
        #expect(skippedRejects == comparedRejects)
        let same = try ProductsRun.export(skipping, scratch: scratch) == ProductsRun.export(comparing, scratch: scratch)
        return (skipped, compared, same)
    }

    /// The import that skipped blocks succeeded, and stored and counted what the one comparing every block
    /// did; with `summary`, those counts.
    static func expectSameAsComparing(
        _ outcome: (skipping: PipelineProcess.Result, comparing: PipelineProcess.Result, same: Bool), summary: String? = nil,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        #expect(outcome.skipping.status == 0, "\(outcome.skipping.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.same, "the store that skipped blocks differs from the one that compared them", sourceLocation: sourceLocation)
        #expect(ProductsRun.summary(outcome.skipping) != nil, sourceLocation: sourceLocation)
        #expect(ProductsRun.summary(outcome.skipping) == ProductsRun.summary(outcome.comparing), sourceLocation: sourceLocation)
        if let summary { #expect(ProductsRun.summary(outcome.skipping) == summary, sourceLocation: sourceLocation) }
    }

    /// `importBoth` of a catalogue of 80 products of 2 variants each and of the file `change` makes of its
    /// blocks and of those of the catalogue repriced, expecting the same stores and counts; the rejects.
    static func rejectsOfBoth(
        _ backend: Backend, in scratch: Scratch, change: (_ original: [[String]], _ repriced: [[String]]) -> [[String]]
    ) throws -> String {
        try ProductsRun.generate(products: 80, variantsEach: 2, to: scratch.file("original.csv"))
        try ProductsRun.generate(products: 80, variantsEach: 2, to: scratch.file("repriced.csv"), priceBump: 1)
        let (header, original) = Self.blocks(of: try scratch.read("original.csv"))
        let repriced = Self.blocks(of: try scratch.read("repriced.csv")).blocks
        try Self.write(header, change(original, repriced), to: scratch.file("changed.csv"))
        let outcome = try Self.importBoth(backend, original: scratch.file("original.csv"), changed: scratch.file("changed.csv"), in: scratch)
        Self.expectSameAsComparing(outcome)
        return try scratch.read("rejects.csv")
    }

    @Test(arguments: Backend.allCases) func anUnchangedFileIsSkippedWhole(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 300, variantsEach: 3, to: scratch.file("catalogue.csv"))
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        let first = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try store.count("store_product_sources") == 300)
        let before = try ProductsRun.export(store, scratch: scratch)
        let again = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(
            ProductsRun.summary(again)
                == "products: 0 created, 0 updated, 300 unchanged, 0 rejected; variants: 0 created, 0 updated, 900 unchanged, 0 deleted; rows: 900 read, 0 rejected")
        #expect(try ProductsRun.export(store, scratch: scratch) == before)
    }

    @Test(arguments: Backend.allCases) func editsInsertionsRemovalsAndMovesStoreWhatComparingStores(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 200, variantsEach: 3, to: scratch.file("original.csv"))
        let (header, original) = Self.blocks(of: try scratch.read("original.csv"))
        var changed = original
        changed[10][1] = changed[10][1].replacingOccurrences(of: ",standard,", with: ",reduced,")
        changed[60][0] = changed[60][0].replacingOccurrences(of: "Product 60,", with: "Product sixty,")
        changed.remove(at: 100)
        changed.removeSubrange(120..<130)
        changed.insert(["New one,new-one,,,,,,NEW-1,5.00,standard,1,,,"], at: 140)
        changed.append(changed.remove(at: 20))
        try Self.write(header, changed, to: scratch.file("changed.csv"))
        let outcome = try Self.importBoth(backend, original: scratch.file("original.csv"), changed: scratch.file("changed.csv"), in: scratch)
        Self.expectSameAsComparing(
            outcome,
            summary: "products: 1 created, 2 updated, 187 unchanged, 0 rejected; variants: 1 created, 1 updated, 566 unchanged, 0 deleted; rows: 568 read, 0 rejected")
    }

    /// Blocks the check cannot tell unchanged from hashes alone (a variant's SKU not ASCII, variants sharing
    /// a SKU), or whose rows span lines (a quoted cell with a line break, a blank line inside): still
    /// unchanged, the shared SKU still reported.
    @Test(arguments: Backend.allCases) func unusualUnchangedBlocksAreSkippedAsBefore(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 30, variantsEach: 2, to: scratch.file("generated.csv"))
        var (header, blocks) = Self.blocks(of: try scratch.read("generated.csv"))
        blocks[3][1] = blocks[3][1].replacingOccurrences(of: "SKU-3-1", with: "SKÜ-3-1")
        blocks[5] = [
            "Shared,shared,,,,colour,red,SHARED-1,5.00,standard,1,,,", ",,,,,,blue,SHARED-1,5.00,standard,1,,,",
        ]
        blocks[7][0] = blocks[7][0].replacingOccurrences(of: "\"Item 7, nice\"", with: "\"Item 7,\nover two lines\"")
        blocks[9].insert("", at: 1)
        try Self.write(header, blocks, to: scratch.file("catalogue.csv"))
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        let first = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch)
        #expect(first.status == 0, "\(first.stderr)")
        let before = try ProductsRun.export(store, scratch: scratch)
        let again = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(
            ProductsRun.summary(again)
                == "products: 0 created, 0 updated, 30 unchanged, 0 rejected; variants: 0 created, 0 updated, 60 unchanged, 0 deleted; rows: 60 read, 0 rejected")
        #expect(again.stderr.contains("gives the SKU 'SHARED-1' to several variants"), "\(again.stderr)")
        #expect(try ProductsRun.export(store, scratch: scratch) == before)
    }

    /// Blocks changing prices and stock levels alone, one changing its tax category beside its price, and
    /// one whose product lost a variant by hand since (its stored variants are no longer its block's, so
    /// it is compared in full and the variant made again): the store and counts of comparing them all.
    @Test(arguments: Backend.allCases) func pricesAndStockChangedAloneStoreWhatComparingStores(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 60, variantsEach: 3, to: scratch.file("original.csv"))
        try ProductsRun.generate(products: 60, variantsEach: 3, to: scratch.file("repriced.csv"), priceBump: 1)
        let (header, original) = Self.blocks(of: try scratch.read("original.csv"))
        let repriced = Self.blocks(of: try scratch.read("repriced.csv")).blocks
        var changed = original
        changed[5][1] = repriced[5][1]
        changed[6][0] = changed[6][0].replacingOccurrences(of: ",standard,6,", with: ",standard,60,")
        changed[7][2] = changed[7][2].replacingOccurrences(of: ",standard,7,", with: ",standard,,")
        changed[8] = repriced[8].map { $0.replacingOccurrences(of: ",standard,8,", with: ",standard,9,") }
        changed[9][0] = repriced[9][0].replacingOccurrences(of: ",standard,", with: ",reduced,")
        changed[40][2] = repriced[40][2]
        try Self.write(header, changed, to: scratch.file("changed.csv"))
        let outcome = try Self.importBoth(
            backend, original: scratch.file("original.csv"), changed: scratch.file("changed.csv"), in: scratch
        ) { store in
            try store.execute("DELETE FROM store_variants WHERE sku = 'SKU-40-1'")
        }
        Self.expectSameAsComparing(
            outcome,
            summary: "products: 0 created, 6 updated, 54 unchanged, 0 rejected; variants: 1 created, 8 updated, 171 unchanged, 0 deleted; rows: 180 read, 0 rejected")
    }

    /// The whole-file check takes a block whose shape is a stored product's as that product's, as it takes
    /// an unchanged block: a bad price or stock figure in it, its SKU taken by a block read in full before
    /// or after it, and its slug taken by another are rejected as when every block is read.
    @Test(arguments: Backend.allCases) func blocksChangingValuesAloneAreCheckedAsBefore(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let rejects = try Self.rejectsOfBoth(backend, in: scratch) { original, repriced in
            var changed = repriced
            changed[3][1] = changed[3][1].replacingOccurrences(of: ",standard,3,", with: ",standard,many,")
            changed[4][0] = changed[4][0].replacingOccurrences(of: "SKU-4-0,", with: "SKU-4-0,x")
            // Blocks 10 and 70 repriced; block 5 (before) takes 10's SKU, block 75 (after) 70's, block 76 the slug of 60.
            changed[5] = original[5].map { $0.replacingOccurrences(of: "SKU-5-1", with: "SKU-10-1") }
            changed[75] = original[75].map { $0.replacingOccurrences(of: "SKU-75-0", with: "SKU-70-1") }
            changed[76] = original[76].map { $0.replacingOccurrences(of: "product-76,", with: "product-60,") }
            return changed
        }
        #expect(rejects.contains("stockOnHand 'many' is not a whole number"), "\(rejects)")
        #expect(rejects.contains("bad price"), "\(rejects)")
        #expect(rejects.contains("duplicate SKU 'SKU-10-1'"), "\(rejects)")
        #expect(rejects.contains("duplicate SKU 'SKU-70-1': line 143 already uses it"), "\(rejects)")
        #expect(rejects.contains("slug 'product-60' is already used by the product at line 122"), "\(rejects)")
    }

    /// A block changing its prices alone has only its product's prices and stock read back: the rest of
    /// the product is taken to be as its block made it, like an unchanged block's, so an edit by hand
    /// there stays until an import with `skip_unchanged: false`.
    @Test(arguments: Backend.allCases) func aBlockChangingItsPricesAloneHasOnlyItsValuesReadBack(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 20, variantsEach: 2, to: scratch.file("original.csv"))
        try ProductsRun.generate(products: 20, variantsEach: 2, to: scratch.file("repriced.csv"), priceBump: 1)
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        #expect(try ProductsRun.importFile(scratch.file("original.csv"), into: store, scratch: scratch).status == 0)
        let description = "SELECT description FROM store_product_translations WHERE slug = 'product-3'"
        try store.execute("UPDATE store_product_translations SET description = 'edited by hand' WHERE slug = 'product-3'")
        let repriced = try ProductsRun.importFile(scratch.file("repriced.csv"), into: store, scratch: scratch)
        #expect(repriced.status == 0, "\(repriced.stderr)")
        #expect(
            ProductsRun.summary(repriced)
                == "products: 0 created, 20 updated, 0 unchanged, 0 rejected; variants: 0 created, 40 updated, 0 unchanged, 0 deleted; rows: 40 read, 0 rejected")
        #expect(try store.rows(description) == [["edited by hand"]])
        let prices = "SELECT amount_minor FROM store_prices JOIN store_variants v ON v.id = variant_id WHERE sku = 'SKU-3-1'"
        #expect(try store.rows(prices) == [["3304"]])
        let compared = try ProductsRun.importFile(
            scratch.file("repriced.csv"), into: store, scratch: scratch, with: "max_rejects: 0, skip_unchanged: false")
        #expect(compared.status == 0, "\(compared.stderr)")
        #expect(try store.rows(description) == [["Item 3, nice"]])
    }

    /// A SKU or slug an unchanged block shares with a changed one is a rejected row, whichever comes
    /// first: the later one, as when every block is read.
    @Test(arguments: Backend.allCases) func aChangedBlockTakingAnUnchangedBlocksSKUIsRejectedAsBefore(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let rejects = try Self.rejectsOfBoth(backend, in: scratch) { original, _ in
            var changed = original
            // Before the unchanged block 50: block 5 takes its SKU. After the unchanged blocks 10 and 20: block
            // 70 takes the one's slug, block 75 the SKU of the other's second row (the line the message names).
            changed[5][1] = changed[5][1].replacingOccurrences(of: "SKU-5-1", with: "SKU-50-1")
            changed[70][0] = changed[70][0].replacingOccurrences(of: "product-70,", with: "product-10,")
            changed[75][0] = changed[75][0].replacingOccurrences(of: "SKU-75-0", with: "SKU-20-1")
            return changed
        }
        #expect(rejects.contains("duplicate SKU 'SKU-50-1'"), "\(rejects)")
        #expect(rejects.contains("slug 'product-10' is already used by the product at line"), "\(rejects)")
        #expect(rejects.contains("duplicate SKU 'SKU-20-1': line 43 already uses it"), "\(rejects)")
    }

    /// `inventory.reconcile` changing a figure makes the next import of the same file compare that
    /// product and put the file's figure back.
    @Test(arguments: Backend.allCases) func aFigureChangedByTheInventoryIsPutBackByTheNextImport(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 20, variantsEach: 2, to: scratch.file("catalogue.csv"))
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        #expect(try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch).status == 0)
        let before = try ProductsRun.export(store, scratch: scratch)
        try scratch.write("feed.csv", "SKU,OnHandQuantity,ReservedQuantity\nSKU-3-1,777,0\n")
        try scratch.write(
            "reconcile.yaml",
            """
            name: reconcile
            database: \(store.url)
            state: sqlite:reconcile-state/state.db
            stages:
              - id: fetch
                uses: inventory.fetch
                with: { file: feed.csv, columns: veracore }
              - id: reconcile
                uses: inventory.reconcile
                with: { feed: fetch, apply: true, max_skus_changed_percent: 100% }
            """)
        let reconcile = try PipelineProcess.run(["run", "reconcile.yaml"], in: scratch.path)
        #expect(reconcile.status == 0, "\(reconcile.stderr)")
        #expect(try store.rows("SELECT on_hand FROM store_stock_levels JOIN store_variants ON store_variants.id = variant_id WHERE sku = 'SKU-3-1'") == [["777"]])
        let again = try ProductsRun.importFile(scratch.file("catalogue.csv"), into: store, scratch: scratch)
        #expect(
            ProductsRun.summary(again)
                == "products: 0 created, 1 updated, 19 unchanged, 0 rejected; variants: 0 created, 1 updated, 39 unchanged, 0 deleted; rows: 40 read, 0 rejected")
        #expect(try ProductsRun.export(store, scratch: scratch) == before)
    }

    /// A re-import that skips most blocks, killed anywhere and run again, leaves the store (and its
    /// record of where each product came from) of an uninterrupted one.
    @Test(.timeLimit(.minutes(5)), arguments: Backend.allCases) func aKilledSkippingImportResumesToTheSameStore(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 1_500, variantsEach: 3, to: scratch.file("original.csv"))
        try ProductsRun.generate(products: 1_500, variantsEach: 3, to: scratch.file("repriced.csv"), priceBump: 1)
        let (header, original) = Self.blocks(of: try scratch.read("original.csv"))
        let repriced = Self.blocks(of: try scratch.read("repriced.csv")).blocks
        // Every tenth product repriced, a few removed, one new.
        var changed = original.indices.map { $0 % 10 == 0 ? repriced[$0] : original[$0] }
        changed.removeSubrange(700..<705)
        changed.insert(["New one,new-one,,,,,,NEW-1,5.00,standard,1,,,"], at: 900)
        try Self.write(header, changed, to: scratch.file("changed.csv"))
        let sources = "SELECT p.digest, p.line, t.slug FROM store_product_sources p JOIN store_product_translations t ON t.product_id = p.product_id ORDER BY t.slug"
        try ProductsRun.expectKilledImportsResume(
            "changed.csv", backend: backend, variants: 4_501, kills: 3, seed: backend == .sqlite ? 61 : 62, in: scratch,
            after: "original.csv", sameRows: sources)
    }
}
