import Pipelines

/// The work of `products.import` on one file: checking the whole file, then storing chunks of product
/// blocks through `ProductStore.upsert(chunk:)`.
final class ProductImportLoader {
    private let config: ProductsImport.Config
    private let format: ProductFormat
    private let currency: CurrencyCode
    private let store: ProductStore
    private let source: ProductSource

    /// Opens the file (a CSV's header is checked here). The load pass trusts the check pass for
    /// duplicate SKUs (`skipping` lines), so it keeps no set of SKUs; without a check pass it has one.
    init(
        config: ProductsImport.Config, format: ProductFormat, currency: CurrencyCode, store: ProductStore,
        checksDuplicates: Bool
    ) throws {
        self.config = config
        self.format = format
        self.currency = currency
        self.store = store
        source = try Self.open(config, format: format, currency: currency, rejectsDuplicateSKUs: checksDuplicates)
    }

    static func open(
        _ config: ProductsImport.Config, format: ProductFormat, currency: CurrencyCode, rejectsDuplicateSKUs: Bool
    ) throws -> ProductSource {
        try ProductSource.open(
            config.file, format: format, currency: currency, language: config.language,
            rejectsDuplicateSKUs: rejectsDuplicateSKUs)
    }

    /// Variant rows handed to `ProductStore.upsert(chunk:)` at a time, whatever the checkpoint chunk size:
    /// memory stays bounded without checkpoints too.
    static let batchRows = 5_000

    func close() { source.close() }

    var position: ReaderPosition { source.position }

    func resume(at position: ReaderPosition) throws { try source.resume(at: position) }

    /// Reads the whole file once before anything is written: lists every rejected row in the rejects
    /// file and fails past `max_rejects`. Returns the counts of the rejected blocks and their first lines.
    func checkWholeFile(rejectsPath: String) throws -> (counts: ProductImportCounts, rejectedLines: [Int]) {
        let checker = try Self.open(config, format: format, currency: currency, rejectsDuplicateSKUs: true)
        defer { checker.close() }
        let rejects = RejectsFile(path: rejectsPath)
        var counts = ProductImportCounts()
        var lines: [Int] = []
        var last: RowError?
        while let item = try checker.next() {
            guard let rejection = rejection(of: item, in: checker) else { continue }
            counts.reject(rejection)
            lines.append(rejection.line)
            for row in rejection.rows { try rejects.add(row.error) }
            last = rejection.rows.first?.error ?? last
        }
        try rejects.finish()
        if counts.rowsRejected > Int64(config.maxRejects), let last {
            throw tooManyRejects(counts.rowsRejected, last: last, rejectsPath: rejectsPath)
        }
        return (counts, lines)
    }

    /// Stores blocks in the caller's transaction until at least `rows` variant rows were read, advancing
    /// the checkpoint; sets `finished` at the end of the file. Blocks the check pass rejected (their
    /// first line in `checkpoint.rejectedLines`) are skipped; without a check pass (`rejects` given)
    /// rejected blocks are listed and counted here.
    func loadChunk(rows: Int, into checkpoint: inout ProductsImport.Checkpoint, rejects: RejectsFile?) throws {
        var loaded = 0
        var skipping = Set(checkpoint.rejectedLines)
        var batch: [ProductBlock] = []
        var batchRows = 0
        func store(_ blocks: [ProductBlock]) throws {
            guard !blocks.isEmpty else { return }
            checkpoint.counts.add(try self.store.upsert(chunk: blocks))
        }
        while loaded < rows {
            guard let item = try source.next() else {
                checkpoint.finished = true
                break
            }
            if let rejection = rejection(of: item, in: source) {
                loaded += rejection.rows.count
                guard let rejects else { continue }
                checkpoint.counts.reject(rejection)
                for row in rejection.rows { try rejects.add(row.error) }
                if checkpoint.counts.rowsRejected > Int64(config.maxRejects), let last = rejection.rows.first?.error {
                    throw tooManyRejects(checkpoint.counts.rowsRejected, last: last, rejectsPath: rejects.path)
                }
                continue
            }
            guard case .product(let block) = item else { continue }
            loaded += block.variants.count
            if skipping.remove(block.line) != nil { continue }
            checkpoint.counts.rowsRead += Int64(block.variants.count)
            batch.append(block)
            batchRows += block.variants.count
            if batchRows >= Self.batchRows {
                try store(batch)
                batch.removeAll(keepingCapacity: true)
                batchRows = 0
            }
        }
        try store(batch)
        checkpoint.position = source.position
        checkpoint.rejectedLines = checkpoint.rejectedLines.filter { $0 >= checkpoint.position.line }
    }

    /// The rows to reject for an item: the reader's own rejection, or a block with an asset path that
    /// does not resolve under `assets`.
    private func rejection(of item: ProductReadItem, in source: ProductSource) -> ProductRejection? {
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

    private func tooManyRejects(_ count: Int64, last: RowError, rejectsPath: String) -> PipelineError {
        PipelineError(
            .data,
            "\(count) rejected rows, more than max_rejects \(config.maxRejects) (last: \(last.located(in: config.file.path))); "
                + "nothing was written to the product store; rejects are listed in \(rejectsPath)")
    }
}
