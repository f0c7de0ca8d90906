import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// How `ProductImportFeed` cuts the file into batches: at `batchRows` rows of products read in full, and
/// at the ends of the writer's chunks, where the writer commits.
@Suite(.timeLimit(.minutes(1))) struct ProductsFeedBatchTests {
    /// `products` products of `variants` rows each.
    static func file(products: Int, variants: Int) throws -> String {
        try file(variants: Array(repeating: variants, count: products))
    }

    /// A product for each count, of that many variant rows.
    static func file(variants counts: [Int]) throws -> String {
        var text = ProductPartsTests.header
        for (product, variants) in counts.enumerated() {
            for variant in 0..<variants {
                let lead = variant == 0 ? "P\(product),p-\(product),d,,,size," : ",,,,,,"
                text += "\(lead)s\(variant),SKU-\(product)-\(variant),1.00,standard,1,,,\n"
            }
        }
        let path = NSTemporaryDirectory() + "feed-\(UUID().uuidString).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The rows and product rows of each batch the feed hands over.
    static func batches(_ path: String, batchRows: Int, chunkRows: Int) throws -> [(rows: Int, productRows: Int)] {
        try preparedBatches(path, batchRows: batchRows, chunkRows: chunkRows, preparing: false).map { ($0.rows, $0.productRows) }
    }

    /// Each batch's rows and product rows, and whether the feed made its rows (`preparing`: as for a bulk load).
    static func preparedBatches(
        _ path: String, batchRows: Int, chunkRows: Int, preparing: Bool
    ) throws -> [(rows: Int, productRows: Int, prepared: Bool)] {
        let config = ProductsImport.Config(
            file: FilePath(path), format: .vendureCSV, assets: nil, currency: .usd, language: "en", maxRejects: 0,
            rejects: nil, duplicateSKUs: .withinProduct, skipUnchanged: false)
        let source = try ProductImportFeed.open(config, format: .vendureCSV)
        let feed = ProductImportFeed(
            source: source, config: config, batchRows: batchRows, chunkRows: chunkRows, skipping: .lines([]), unchanged: nil,
            preparation: preparing ? .init(clock: Date.init, locationID: 1) : nil)
        defer { feed.close() }
        var batches: [(rows: Int, productRows: Int, prepared: Bool)] = []
        while let batch = try feed.next() {
            batches.append((batch.rows, batch.productRows, batch.prepared != nil))
            if let prepared = batch.prepared {
                #expect(batch.products.isEmpty)
                #expect(batch.productRows == prepared.blocks.reduce(0) { $0 + $1.variants.count })
                #expect(batch.productRows == prepared.rows.count(.variant))
                #expect(prepared.blocks.count == prepared.rows.count(.product))
            } else {
                #expect(batch.productRows == batch.products.reduce(0) { $0 + $1.block.variants.count })
            }
            feed.recycle(batch)
            if batch.reachedEnd { break }
        }
        return batches
    }

    /// Products read in full end a batch at `batchRows` of their rows, before the chunk's end.
    @Test func productsEndABatchAtBatchRows() throws {
        let path = try Self.file(products: 10, variants: 3)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let batches = try Self.batches(path, batchRows: 6, chunkRows: 1_000)
        #expect(batches.map(\.rows) == [6, 6, 6, 6, 6, 0])
        #expect(batches.map(\.productRows) == [6, 6, 6, 6, 6, 0])
    }

    /// A batch also ends where the writer's chunk ends (the first block past `chunkRows` rows), counted
    /// as the writer counts: from the end of the last chunk.
    @Test func theChunksEndEndsABatch() throws {
        let path = try Self.file(products: 10, variants: 3)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let batches = try Self.batches(path, batchRows: 1_000, chunkRows: 7)
        #expect(batches.map(\.rows) == [9, 9, 9, 3])
        let mixed = try Self.batches(path, batchRows: 6, chunkRows: 10)
        // 6 rows (batchRows), then 6 more end the chunk at 12; again from there.
        #expect(mixed.map(\.rows) == [6, 6, 6, 6, 6, 0])
        let chunkFirst = try Self.batches(path, batchRows: 9, chunkRows: 4)
        #expect(chunkFirst.map(\.rows) == [6, 6, 6, 6, 6, 0])
    }

    /// For a bulk load the feed makes each batch's rows, except a batch with a product in parts (2,000
    /// variant rows a part), whose products the writer stores part by part.
    @Test func aBulkLoadsBatchesComeWithTheirRowsUnlessAProductComesInParts() throws {
        let path = try Self.file(variants: [2, 2_100, 3, 3])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let batches = try Self.preparedBatches(path, batchRows: 6, chunkRows: 100_000, preparing: true)
        #expect(batches.map(\.productRows) == [2_002, 100, 6, 0])
        #expect(batches.map(\.prepared) == [false, false, true, false])
    }
}
