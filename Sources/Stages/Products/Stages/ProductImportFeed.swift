import Foundation
import Pipelines

/// Reads the file of `products.import` on its own thread and hands the product blocks, with the rows each
/// asks for, to the writer in batches, so that parsing and storing run side by side.
///
/// It reads without the duplicate-SKU check and lists nothing: which blocks are rejected comes from the
/// run's whole-file check, or, after a resume, from the checkpoint (`ImportRejections`).
final class ProductImportFeed: @unchecked Sendable {
    struct Batch {
        var products: [DesiredProduct] = []
        /// Blocks the store holds as they are, not read further (`UnchangedProduct`), as an upsert counts them.
        var unchanged = UpsertResult()
        /// Rows read for this batch, rejected ones included.
        var rows = 0
        /// The variant rows of `products`: what the batch holds in memory.
        var productRows = 0
        /// Where the block after this batch starts.
        var position = ReaderPosition(offset: 0, line: 1)
        var reachedEnd = false
        /// The batch ends with a part of a product that is not its last: the chunk goes on.
        var endsInsideProduct = false
        /// For a bulk load (`RowPreparation`), the products with the rows they make, in place of `products`,
        /// while no block of the batch comes in parts or cannot make its rows.
        var prepared: PreparedProducts?
    }

    /// Where the writer's chunk ends: at the first batch that brings it to `limit` rows, unless that
    /// batch ends inside a product stored in parts. The feed ends its batches there too.
    struct ChunkFill {
        let limit: Int
        private var rows = 0

        init(limit: Int) { self.limit = limit }

        /// Whether `batchRows` more rows reach the limit.
        func reachesLimit(adding batchRows: Int) -> Bool { rows + batchRows >= limit }

        /// Counts a batch; true when it ends the chunk (the count then starts again).
        mutating func add(_ batchRows: Int, endsInsideProduct: Bool) -> Bool {
            let ends = reachesLimit(adding: batchRows) && !endsInsideProduct
            rows = ends ? 0 : rows + batchRows
            return ends
        }
    }

    /// What the feed needs to make a bulk load's rows (`Batch.prepared`): the store's clock and default
    /// stock location.
    struct RowPreparation: Sendable {
        var clock: @Sendable () -> Date
        var locationID: Int64
    }

    /// Variant rows of products read in full a batch holds at most: enough to amortise a chunk of
    /// statements, few enough to keep memory flat. Rows of unchanged products cost nothing to hold: a
    /// batch takes them up to the end of the chunk, so that a re-import stores its few changed products
    /// a chunk at a time, not a few at a time.
    static let batchRows = 5_000
    /// Batches read ahead of the writer.
    static let queueLength = 2

    private let worker = WorkerThread<Void>()
    private var condition: NSCondition { worker.condition }
    /// Batches read ahead of the writer; under `condition`, like `stored`.
    private var queue: [Batch] = []
    /// Batches the writer has stored, freed by the reading thread: freeing many small objects is work
    /// the writer's thread, the import's bottleneck, need not do.
    private var stored: [Batch] = []

    /// Starts reading `source` (a parser without the duplicate-SKU check, already positioned at the start
    /// of a chunk of `chunkRows` rows) on a new thread; it seeks past the runs of unchanged blocks the
    /// check hands over in `unchanged`.
    init(
        source: ProductSource, config: ProductsImport.Config, batchRows: Int, chunkRows: Int, skipping: ImportRejections,
        unchanged: UnchangedRuns?, preparation: RowPreparation?
    ) {
        let reader = Reader(
            source: source, config: config, batchRows: max(batchRows, 1), chunkRows: max(chunkRows, 1), skipping: skipping,
            unchanged: unchanged, preparation: preparation)
        worker.start { [self] in
            defer { reader.source.close() }
            try reader.read(into: self)
        }
    }

    /// Opens the file (a CSV's header is checked here) for the feed: blocks get their digest
    /// (`ProductBlock.source`), and those read in full their shape, which the store keeps.
    static func open(_ config: ProductsImport.Config, format: ProductFormat) throws -> ProductSource {
        try ProductSource.open(
            config.file, format: format, currency: config.currency, language: config.language, duplicateSKUs: nil,
            assets: config.assets, sourceSettings: config.sourceSettings(format), shapeDigests: true)
    }

    /// Opens the file for the whole-file check; `findsUnchanged`: blocks get their digest, to be matched
    /// with the stored ones, and a block that changes prices and stock alone is checked as such.
    static func openForCheck(_ config: ProductsImport.Config, format: ProductFormat, findsUnchanged: Bool) throws -> ProductSource {
        try ProductSource.open(
            config.file, format: format, currency: config.currency, language: config.language,
            duplicateSKUs: config.duplicateSKUs, assets: config.assets,
            sourceSettings: findsUnchanged ? config.sourceSettings(format) : nil, checksValuesAlone: findsUnchanged)
    }

    /// The next batch, waiting for it; nil after the batch that reached the end of the file. Throws what
    /// stopped the reading (a failed check among it).
    func next() throws -> Batch? {
        try condition.withLock {
            while queue.isEmpty {
                switch worker.outcome {
                case .failure(let error): throw error
                case .success: return nil
                case nil: condition.wait()
                }
            }
            condition.broadcast()
            return queue.removeFirst()
        }
    }

    /// Hands a stored batch back, for the reading thread to free.
    func recycle(_ batch: Batch) {
        condition.withLock { stored.append(batch) }
    }

    /// Stops the reading thread and waits until it has exited.
    func close() { worker.cancelAndWait() }

    /// Called by the reading thread: waits for room in the queue; false once the writer has gone.
    fileprivate func push(_ batch: Batch) -> Bool {
        var freed: [Batch] = []
        defer { freed.removeAll() }
        return condition.withLock {
            while queue.count >= Self.queueLength && !worker.isCancelled { condition.wait() }
            guard !worker.isCancelled else { return false }
            queue.append(batch)
            swap(&freed, &stored)
            condition.broadcast()
            return true
        }
    }
}

/// The reading thread's work.
private struct Reader: @unchecked Sendable {
    let source: ProductSource
    let config: ProductsImport.Config
    let batchRows: Int
    /// Where the writer ends its chunks (`ProductImporter.loadChunk`): a batch ends there too.
    let chunkRows: Int
    let skipping: ImportRejections
    let unchanged: UnchangedRuns?
    let preparation: ProductImportFeed.RowPreparation?

    func read(into feed: ProductImportFeed) throws {
        var batch = ProductImportFeed.Batch()
        /// The writer's chunk, as far as the batches handed over so far fill it.
        var chunk = ProductImportFeed.ChunkFill(limit: chunkRows)
        /// Hands the batch over once it holds `batchRows` rows of products or reaches the end of the
        /// chunk; false once the writer has gone.
        func handOverIfFull(endsInsideProduct: Bool = false) -> Bool {
            guard batch.productRows >= batchRows || chunk.reachesLimit(adding: batch.rows) else { return true }
            _ = chunk.add(batch.rows, endsInsideProduct: endsInsideProduct)
            batch.position = source.position
            batch.endsInsideProduct = endsInsideProduct
            defer { batch = ProductImportFeed.Batch() }
            return feed.push(batch)
        }
        func countUnchanged(products: Int, variantRows: Int) {
            batch.unchanged.productsUnchanged += products
            batch.unchanged.variantsUnchanged += variantRows
        }
        while true {
            if let run = unchanged?.run(at: source.position.line) {
                batch.rows += run.variantRows
                countUnchanged(products: run.products, variantRows: run.variantRows)
                try source.resume(at: run.end)
                guard handOverIfFull() else { return }
                continue
            }
            guard let item = try source.next() else { break }
            // Rejected items were listed by the check; here they only count towards the chunk.
            if let rejection = ProductImportRejection.of(item, in: source, assets: config.assets) {
                batch.rows += rejection.rows.count
                continue
            }
            var endsInsideProduct = false
            switch item {
            case .rejected: continue
            case .unchanged(let unchanged):
                batch.rows += unchanged.variantRows
                if try skipping.isRejected(line: unchanged.line) { continue }
                countUnchanged(products: 1, variantRows: unchanged.variantRows)
            case .product(let block):
                batch.rows += block.variants.count
                if try skipping.isRejected(line: block.line) { continue }
                try add(block, to: &batch, valuesOf: block.part == nil ? unchanged?.valuesOf(blockAt: block.line) : nil)
                batch.productRows += block.variants.count
                endsInsideProduct = block.part.map { !$0.isLast } ?? false
            }
            guard handOverIfFull(endsInsideProduct: endsInsideProduct) else { return }
        }
        batch.position = source.position
        batch.reachedEnd = true
        _ = feed.push(batch)
    }

    /// Adds a block read in full to the batch. In a bulk load its rows are made here, unless the batch has
    /// a block in parts (stored part by part) or one whose rows cannot be made: the batch's blocks then go
    /// to the writer as products, and such a block's error (`ProductRows(desired:)`) stops the reading.
    /// `valuesOf`: the stored product whose prices and stock levels alone the check found the block changes.
    private func add(_ block: ProductBlock, to batch: inout ProductImportFeed.Batch, valuesOf productID: Int64?) throws {
        if let preparation, batch.products.isEmpty, block.part == nil {
            if batch.prepared == nil {
                batch.prepared = PreparedProducts(now: Instant(preparation.clock()).iso, locationID: preparation.locationID)
            }
            do {
                try batch.prepared?.add(block)
                return
            } catch {
                // `DesiredProduct` below refuses the block with the message users see.
            }
        }
        if let prepared = batch.prepared.take() { batch.products = try prepared.blocks.map { try DesiredProduct($0) } }
        var product = try DesiredProduct(block)
        product.valuesOf = productID
        batch.products.append(product)
    }
}
