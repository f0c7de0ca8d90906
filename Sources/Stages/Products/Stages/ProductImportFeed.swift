import Foundation
import Pipelines

/// Reads the file of `products.import` on its own thread and hands the product blocks to the writer in
/// batches, so that parsing and storing run side by side.
///
/// On a first run the feed is also the whole-file check: it lists every rejected row (duplicate SKUs
/// included) in the rejects file and fails past `max_rejects` once it has read the whole file. The writer
/// commits nothing before that verdict, so a failed check leaves the store as it was. After a resume
/// (`resuming`) the check has passed already: the feed skips the blocks it rejected (their first lines
/// are in the checkpoint) and lists nothing.
final class ProductImportFeed: @unchecked Sendable {
    struct Batch {
        var products: [DesiredProduct] = []
        /// Rows read for this batch, rejected ones included.
        var rows = 0
        /// Where the block after this batch starts.
        var position = ReaderPosition(offset: 0, line: 1)
        var reachedEnd = false
    }

    /// What the check found in the whole file.
    struct Verdict {
        /// The counts of the rejected blocks.
        var rejects = ProductImportCounts()
        /// First lines of the rejected blocks.
        var rejectedLines: [Int] = []
    }

    struct Resumption {
        var position: ReaderPosition
        var rejectedLines: [Int]
    }

    /// Variant rows a batch holds at most: enough to amortise a chunk of statements, few enough to keep
    /// memory flat.
    static let batchRows = 5_000
    /// Batches read ahead of the writer.
    static let queueLength = 2

    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var outcome: Result<Verdict, any Error>?
    private var cancelled = false
    private let exited = DispatchSemaphore(value: 0)

    /// Starts reading `source` (already positioned) on a new thread.
    init(
        source: ProductSource, config: ProductsImport.Config, rejectsPath: String, batchRows: Int,
        resuming: Resumption?
    ) {
        let reader = Reader(
            source: source, config: config, rejectsPath: rejectsPath, batchRows: max(batchRows, 1),
            skipping: Set(resuming?.rejectedLines ?? []), checks: resuming == nil)
        Thread { [self] in
            let result = Result { try reader.read(into: self) }
            condition.withLock {
                outcome = result
                condition.broadcast()
            }
            exited.signal()
        }.start()
    }

    /// Opens the file (a CSV's header is checked here).
    static func open(
        _ config: ProductsImport.Config, format: ProductFormat, currency: CurrencyCode, rejectsDuplicateSKUs: Bool
    ) throws -> ProductSource {
        try ProductSource.open(
            config.file, format: format, currency: currency, language: config.language,
            rejectsDuplicateSKUs: rejectsDuplicateSKUs)
    }

    /// The next batch, waiting for it; nil after the batch that reached the end of the file. Throws what
    /// stopped the reading, or the failed check once the check failed.
    func next() throws -> Batch? {
        try condition.withLock {
            while queue.isEmpty {
                switch outcome {
                case .failure(let error): throw error
                case .success: return nil
                case nil: condition.wait()
                }
            }
            condition.broadcast()
            return queue.removeFirst()
        }
    }

    /// The check's verdict once the whole file was read, without waiting; throws a failed check.
    func verdictIfDone() throws -> Verdict? {
        try condition.withLock { try outcome?.get() }
    }

    /// Waits for the check's verdict; throws a failed check.
    func verdict() throws -> Verdict {
        try condition.withLock {
            while outcome == nil { condition.wait() }
            guard let outcome else { throw PipelineError(.internal, "the product feed ended without a verdict") }
            return try outcome.get()
        }
    }

    /// Stops the reading thread and waits until it has exited (it closes the file and the rejects list).
    func close() {
        condition.withLock {
            cancelled = true
            condition.broadcast()
        }
        exited.wait()
        exited.signal()
    }

    /// Called by the reading thread: waits for room in the queue; false once the writer has gone.
    fileprivate func push(_ batch: Batch) -> Bool {
        condition.withLock {
            while queue.count >= Self.queueLength && !cancelled { condition.wait() }
            guard !cancelled else { return false }
            queue.append(batch)
            condition.broadcast()
            return true
        }
    }

    fileprivate var isCancelled: Bool { condition.withLock { cancelled } }
}

/// The reading thread's work.
private struct Reader: @unchecked Sendable {
    let source: ProductSource
    let config: ProductsImport.Config
    let rejectsPath: String
    let batchRows: Int
    var skipping: Set<Int>
    /// Whether rejections are listed, counted and judged (a first run) or only skipped (a resume).
    let checks: Bool

    func read(into feed: ProductImportFeed) throws -> ProductImportFeed.Verdict {
        defer { source.close() }
        var skipping = skipping
        let rejects = checks ? RejectsFile(path: rejectsPath) : nil
        var verdict = ProductImportFeed.Verdict()
        var last: RowError?
        // Past max_rejects nothing will be stored, but the file is read to the end so that every bad row
        // is listed in one go.
        var failing = false
        var batch = ProductImportFeed.Batch()
        do {
            while let item = try source.next() {
                if let rejection = rejection(of: item) {
                    batch.rows += rejection.rows.count
                    if let rejects {
                        verdict.rejects.reject(rejection)
                        for row in rejection.rows { try rejects.add(row.error) }
                        last = rejection.rows.first?.error ?? last
                        failing = verdict.rejects.rowsRejected > Int64(config.maxRejects)
                        if !failing { verdict.rejectedLines.append(rejection.line) }
                    }
                    continue
                }
                guard case .product(let block) = item else { continue }
                batch.rows += block.variants.count
                if skipping.remove(block.line) != nil { continue }
                if !failing { batch.products.append(try DesiredProduct(block)) }
                if batch.rows >= batchRows {
                    batch.position = source.position
                    if !failing, !feed.push(batch) { return verdict }
                    if feed.isCancelled { return verdict }
                    batch = ProductImportFeed.Batch()
                }
            }
            try rejects?.finish()
        } catch {
            try? rejects?.finish()
            throw error
        }
        if failing, let last { throw tooManyRejects(verdict.rejects.rowsRejected, last: last) }
        batch.position = source.position
        batch.reachedEnd = true
        _ = feed.push(batch)
        return verdict
    }

    /// The rows to reject for an item: the reader's own rejection, or a block with an asset path that
    /// does not resolve under `assets`.
    private func rejection(of item: ProductReadItem) -> ProductRejection? {
        switch item {
        case .rejected(let rejection): return rejection
        case .product(let block):
            guard let assets = config.assets else { return nil }
            let columns = source.assetColumns
            var problem: RowError?
            for path in block.assetPaths {
                if case .failure(let failure) = AssetPath.resolve(path, under: assets.path) {
                    problem = RowError(line: block.line, column: columns.product, reason: failure.description)
                    break
                }
            }
            for variant in block.variants where problem == nil {
                for path in variant.assetPaths {
                    if case .failure(let failure) = AssetPath.resolve(path, under: assets.path) {
                        problem = RowError(line: variant.line, column: columns.variant, reason: failure.description)
                        break
                    }
                }
            }
            guard let problem else { return nil }
            let lines = block.variants.map(\.line)
            let rows = (lines.isEmpty ? [block.line] : lines).map { line in
                RejectedRow(
                    fields: [],
                    error: line == problem.line
                        ? problem
                        : RowError(
                            line: line, column: 1,
                            reason: "rejected because line \(problem.line) of the same product was rejected"))
            }
            return ProductRejection(line: block.line, byteOffset: block.byteOffset, rows: rows)
        }
    }

    private func tooManyRejects(_ count: Int64, last: RowError) -> PipelineError {
        PipelineError(
            .data,
            "\(count) rejected rows, more than max_rejects \(config.maxRejects) (last: \(last.located(in: config.file.path))); "
                + "nothing was written to the product store; rejects are listed in \(rejectsPath)")
    }
}
