import Pipelines

/// `products.import`: reads a Vendure product CSV (or product JSONL) and upserts it into the product
/// store by SKU, in chunks each committed with its checkpoint.
///
/// Three threads: `ProductImportCheck` checks the whole file, `ProductImportFeed` parses it into blocks
/// and their rows, and the stage's own thread stores them. Nothing commits before the check has passed,
/// so past `max_rejects` nothing at all is written. `chunk_size` counts variant rows, and a chunk ends
/// with the block that reaches it (a product is never split). With `chunk_size: 0` everything goes into
/// one transaction.
public enum ProductsImport: StageKind {
    public struct Config: Sendable {
        var file = FilePath("")
        var format: ProductFormat?
        var assets: FilePath?
        var currency = "USD"
        var language = "en"
        var maxRejects = 0
        var rejects: FilePath?
    }

    public static let name = "products.import"
    public static let summary = "Upsert a Vendure product CSV (or product JSONL) into the product store by SKU"

    public static var parameters: ParameterSet<Config> {
        ParameterSet(
            defaults: Config(),
            [
                .required("file", \.file, doc: "the Vendure CSV or product JSONL file to read"),
                .optional("format", \.format, doc: "vendure-csv or jsonl; by default from the file's extension"),
                .optional("assets", \.assets, doc: "the folder asset paths resolve under (URLs are kept as they are)"),
                .optional("currency", \.currency, doc: "ISO 4217 code of the prices"),
                .optional("language", \.language, doc: "the language of untranslated columns"),
                .optional("max_rejects", \.maxRejects, doc: "bad rows tolerated before the stage fails with 65"),
                .optional("rejects", \.rejects, doc: "where bad rows are listed; default var/<file name>.rejects.csv"),
            ])
    }

    public static func check(_ config: Config) -> [ConfigIssue] {
        var issues = ProductFormat.check(config.format, for: config.file) + ProductFormat.checkCurrency(config.currency)
        if config.maxRejects < 0 { issues.append(ConfigIssue("max_rejects must be 0 or more", parameter: "max_rejects")) }
        if config.language.isEmpty { issues.append(ConfigIssue("language must not be empty", parameter: "language")) }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["file \(config.file.path)"] + (config.assets.map { ["assets under \($0.path)"] } ?? []),
            writes: ["product store in \(workspace.database)", "rejects file \(rejectsPath(config, in: workspace))"])
    }

    static func rejectsPath(_ config: Config, in workspace: Workspace) -> String {
        if let rejects = config.rejects { return rejects.path }
        let stem = config.file.lastComponent.split(separator: ".").first.map(String.init) ?? "products"
        return "\(workspace.workDirectory)/\(stem).rejects.csv"
    }

    /// Where an import stands: committed with each chunk in the target database.
    struct Checkpoint: Codable {
        /// Where the next product block starts.
        var position: ReaderPosition
        var counts = ProductImportCounts()
        var input: InputFingerprint
        /// First lines of the blocks the check pass rejected, from `position` on.
        var rejectedLines: [Int] = []
        var finished = false
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        guard let currency = CurrencyCode(config.currency) else {
            throw PipelineError(.config, "unknown currency '\(config.currency)'")
        }
        let format = ProductFormat.resolve(config.format, for: config.file)
        let checkpoints = context.checkpoints
        let fingerprint = try InputFingerprint(of: config.file.path)
        let rejectsPath = rejectsPath(config, in: context.workspace)
        // Opening the file checks a CSV's header: a file missing columns is refused before the store is touched.
        let source = try ProductImportFeed.open(config, format: format, currency: currency, rejectsDuplicateSKUs: false)
        let start = source.position
        let store: ProductStore
        let saved: Checkpoint?
        let check: ProductImportCheck?
        do {
            let database = try context.database()
            store = try ProductStore(connection: database, logger: context.logger)
            saved = try checkpoints.resume(Checkpoint.self, from: database)
            if let saved {
                try saved.input.requireSame(as: fingerprint, path: config.file.path)
                if saved.finished {
                    source.close()
                    return saved.counts.outcome
                }
                context.logger.info(
                    "import.resumed", "resuming at line \(saved.position.line) after \(saved.counts.rowsRead) rows")
                try source.resume(at: saved.position)
            }
            // A first run checks the whole file on one thread while another feeds the writer; a resumed
            // run's check passed before its first commit.
            check = try saved == nil
                ? ProductImportCheck(
                    source: ProductImportFeed.open(config, format: format, currency: currency, rejectsDuplicateSKUs: true),
                    config: config, rejectsPath: rejectsPath)
                : nil
        } catch {
            source.close()
            throw error
        }
        let feed = ProductImportFeed(
            source: source, config: config,
            batchRows: checkpoints.isEnabled ? min(checkpoints.chunkSize, ProductImportFeed.batchRows) : ProductImportFeed.batchRows,
            skipping: check.map { .checkedBy($0) } ?? .lines(Set(saved?.rejectedLines ?? [])))
        // The check first: a feed waiting for it to get past a line then stops waiting.
        defer {
            check?.close()
            feed.close()
        }
        let checkpoint = saved ?? Checkpoint(position: start, input: fingerprint)
        return try store.withStatementJournalsInMemory {
            try storeBatches(
                of: feed, checkedBy: check, into: store, from: checkpoint, config: config, context: context,
                rejectsPath: rejectsPath)
        }
    }

    /// Stores the feed's batches from `checkpoint` on. Until the check has passed every batch goes into
    /// the first transaction; without checkpoints that transaction is the only one.
    private static func storeBatches(
        of feed: ProductImportFeed, checkedBy check: ProductImportCheck?, into store: ProductStore,
        from start: Checkpoint, config: Config, context: StageContext, rejectsPath: String
    ) throws -> StageOutcome {
        let database = store.connection
        let checkpoints = context.checkpoints
        var checkpoint = start
        var checked = check == nil
        var rowsInTransaction = 0
        try database.begin()
        do {
            while let batch = try feed.next() {
                checkpoint.counts.rowsRead += Int64(batch.products.reduce(0) { $0 + $1.block.variants.count })
                if !batch.products.isEmpty { checkpoint.counts.add(try store.upsert(chunk: batch.products)) }
                feed.recycle(batch.products)
                checkpoint.position = batch.position
                checkpoint.finished = batch.reachedEnd
                rowsInTransaction += batch.rows
                if !checked, let check, let verdict = try batch.reachedEnd ? check.verdict() : check.verdictIfDone() {
                    checkpoint.counts.merge(rejects: verdict.rejects)
                    checkpoint.rejectedLines = verdict.rejectedLines
                    checked = true
                }
                guard checked, checkpoints.isEnabled, rowsInTransaction >= checkpoints.chunkSize || batch.reachedEnd else {
                    continue
                }
                checkpoint.rejectedLines.removeAll { $0 < checkpoint.position.line }
                try checkpoints.record(checkpoint, in: database)
                try database.commit()
                rowsInTransaction = 0
                context.progress(
                    unit: "rows", count: checkpoint.counts.rowsRead, done: checkpoint.position.offset,
                    total: checkpoint.input.size, finished: checkpoint.finished)
                if checkpoint.finished { break }
                try checkpoints.stopIfRequested()
                try database.begin()
            }
            if !checkpoints.isEnabled { try database.commit() }
        } catch {
            try? database.rollback()
            throw error
        }
        let counts = checkpoint.counts
        context.logger.info(
            "import.done",
            "imported \(config.file.lastComponent): \(counts.summary)"
                + (counts.rowsRejected > 0 ? "; rejects are listed in \(rejectsPath)" : ""))
        return counts.outcome
    }
}
