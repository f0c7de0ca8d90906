import Pipelines

/// `products.import`'s part of the shared import pipeline. A feed thread parses the file into product
/// blocks and their rows while the stage's thread upserts them into the store; which blocks the whole-file
/// check rejected comes from the check (or, after a resume, from the checkpoint). A chunk ends with the
/// block that reaches `chunk_size` variant rows: a product is never split.
final class ProductImporter: ChunkImporter {
    struct Progress: Codable {
        var counts = ProductImportCounts()
        /// The store was empty and its product tables' indexes and constraints are set aside until the
        /// import's last chunk has committed (`SetAsideSchema`, `finish`).
        var schemaSetAside: Bool?
    }

    private let config: ProductsImport.Config
    private let format: ProductFormat
    private let source: ProductSource
    private let store: ProductStore
    private let batchRows: Int
    /// The rows of a chunk, as `loadChunk` is asked for them (the checkpoint's chunk size).
    private let chunkRows: Int
    private let logger: Logger
    private var feed: ProductImportFeed?
    /// The unchanged blocks a first run's check finds, for the feed to seek past.
    private var unchangedRuns: UnchangedRuns?
    /// SQLite: the store's connection checks no foreign keys until `finish` checks all the product
    /// tables' at once (`UncheckedForeignKeys`).
    private var foreignKeysUnchecked = false
    /// A connection of its own for each thread that reads the file, to look blocks up by digest.
    private let openReader: () throws -> any DatabaseConnection
    let startPosition: ReaderPosition

    /// `source` is the opened file (its header checked), read without the duplicate-SKU check.
    init(
        config: ProductsImport.Config, format: ProductFormat, source: ProductSource, store: ProductStore, chunkSize: Int,
        logger: Logger, openReader: @escaping () throws -> any DatabaseConnection
    ) {
        self.config = config
        self.openReader = openReader
        self.logger = logger
        self.format = format
        self.source = source
        self.store = store
        batchRows = chunkSize > 0 ? min(chunkSize, ProductImportFeed.batchRows) : ProductImportFeed.batchRows
        chunkRows = chunkSize > 0 ? chunkSize : Int.max
        startPosition = source.position
    }

    /// Stops the feed thread (and closes the file), or closes the file when no feed was started; an
    /// import that failed leaves the connection checking foreign keys again (a resume checks them all).
    func close() {
        if let feed { feed.close() } else { source.close() }
        if foreignKeysUnchecked { try? UncheckedForeignKeys.resumeChecking(on: store.connection) }
        try? store.endBackgroundCheckpoints(checkpoint: false)
    }

    func initialProgress() -> Progress { Progress() }

    func makeCheckSource() throws -> any ImportCheckSource {
        // The check wants digests only to find unchanged blocks.
        let index = try unchangedIndex()
        let source: ProductSource
        do {
            source = try ProductImportFeed.openForCheck(config, format: format, findsUnchanged: index != nil)
        } catch {
            index?.close()
            throw error
        }
        if let index {
            do {
                try source.skipUnchanged(index)
            } catch {
                source.close()
                throw error
            }
            unchangedRuns = UnchangedRuns()
        }
        return ProductCheckSource(source: source, assets: config.assets, logger: logger, unchanged: unchangedRuns)
    }

    /// What lets a reader skip the blocks the store holds as they are; nil when told not to, or when the
    /// store has no record of any (`ProductSourceIndex`).
    private func unchangedIndex() throws -> ProductSourceIndex? {
        guard config.skipUnchanged, case .vendureCSV = format, !store.assumesNewProducts else { return nil }
        return try ProductSourceIndex.open(try openReader())
    }

    /// A first run: an earlier import abandoned with the schema set aside (`--restart`) gets it back; into
    /// an empty PostgreSQL store, the product tables' indexes and constraints are set aside for the bulk
    /// load, as `pg_restore` loads data before it builds them (SQLite: `begin`).
    func prepareTarget() throws {
        if foreignKeysUnchecked { try UncheckedForeignKeys.record(ProductStore.productTables, in: store.connection) }
        if try SetAsideSchema.restore(in: store.connection) > 0 {
            logger.info("products.schema_restored", "made the indexes and constraints an unfinished import had set aside again")
        }
        // `begin` saw the SQLite store empty outside a transaction; this one holds the write lock.
        if store.connection.dialect == .sqlite, store.assumesNewProducts { store.assumesNewProducts = try store.isEmpty() }
        guard store.connection.dialect == .postgres, try store.isEmpty() else { return }
        let count = try SetAsideSchema.setAside(ProductStore.bulkTables, in: store.connection)
        store.assumesNewProducts = true
        logger.info(
            "products.bulk_load",
            "the product store is empty: \(count) indexes and constraints are set aside until the import ends, then built once")
    }

    func begin(resumingAt position: ReaderPosition?, progress: Progress, rejections: ImportRejections) throws {
        // Unless another import made the schema again meanwhile (and may have stored products since).
        if progress.schemaSetAside == true, try SetAsideSchema.isSetAside(in: store.connection) { store.assumesNewProducts = true }
        // A first run into an empty store is a bulk load: on SQLite decided here, on PostgreSQL confirmed in
        // `prepareTarget`. The feed makes its rows; should the store not be empty after all, they go unused.
        let bulkLoad = try position == nil && store.isEmpty()
        // Into an empty SQLite store (or going on with such a load, or after one given up): foreign keys are
        // checked once at the end. SQLite takes the setting only outside a transaction, so it is made here.
        if store.connection.dialect == .sqlite {
            if try bulkLoad || !UncheckedForeignKeys.pending(in: store.connection).isEmpty {
                try UncheckedForeignKeys.stopChecking(on: store.connection)
                foreignKeysUnchecked = true
            }
            // A first run into an empty store: every product is new (the check rejects SKUs and slugs a file
            // repeats), so nothing is looked up. A resumed run looks its products up.
            store.assumesNewProducts = bulkLoad
            if bulkLoad {
                logger.info(
                    "products.bulk_load", "the product store is empty: its foreign keys are checked once when the import ends, not row by row")
            }
            // The WAL is checkpointed in the background until `finish` (or, for an import that failed,
            // `close`) ends it.
            try store.startBackgroundCheckpoints()
        }
        if let position { try source.resume(at: position) }
        // A first run's check finds the unchanged blocks; a resumed run (no check) looks them up itself.
        if unchangedRuns == nil, let index = try unchangedIndex() { try source.skipUnchanged(index) }
        feed = ProductImportFeed(
            source: source, config: config, batchRows: batchRows, chunkRows: chunkRows, skipping: rejections,
            unchanged: unchangedRuns,
            preparation: bulkLoad ? .init(clock: store.clock, locationID: store.defaultLocationID) : nil)
    }

    func loadChunk(rows: Int, progress: inout Progress) throws -> ChunkEnd {
        guard let feed else { throw PipelineError(.internal, "products.import loaded a chunk before it began") }
        var chunk = ProductImportFeed.ChunkFill(limit: rows)
        var position = startPosition
        progress.schemaSetAside = store.assumesNewProducts && store.connection.dialect == .postgres ? true : nil
        while var batch = try feed.next() {
            progress.counts.rowsRead += Int64(batch.productRows)
            progress.counts.rowsRead += Int64(batch.unchanged.variantsUnchanged)
            progress.counts.add(batch.unchanged)
            // Taken out of the batch, the rows are the only copy: they are resolved in place, not copied.
            if var prepared = batch.prepared.take() {
                progress.counts.add(try store.insert(&prepared))
                batch.prepared = prepared
            }
            if !batch.products.isEmpty { progress.counts.add(try store.upsert(chunk: batch.products)) }
            position = batch.position
            let endsChunk = chunk.add(batch.rows, endsInsideProduct: batch.endsInsideProduct)
            let reachedEnd = batch.reachedEnd
            feed.recycle(batch)
            if reachedEnd || endsChunk { return ChunkEnd(position: position, reachedEnd: reachedEnd) }
        }
        return ChunkEnd(position: position, reachedEnd: true)
    }

    /// After the last chunk committed (or a finished import is run again, after a kill between the two):
    /// checkpoints the rest of the WAL, then builds what an import into the empty store set aside, or checks
    /// the foreign keys it left unchecked: either on two connections side by side.
    func finish() throws {
        try store.endBackgroundCheckpoints(checkpoint: true)
        let connection = store.connection
        let clock = ContinuousClock.now
        func elapsed() -> String {
            (ContinuousClock.now - clock).formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 2)))
        }
        let checked = try UncheckedForeignKeys.check(in: connection, opening: openReader)
        if foreignKeysUnchecked {
            try UncheckedForeignKeys.resumeChecking(on: connection)
            foreignKeysUnchecked = false
        }
        if checked > 0 {
            logger.info("products.foreign_keys_checked", "checked the foreign keys of the \(checked) product tables, in \(elapsed())")
        }
        let count = try SetAsideSchema.restore(on: connection, opening: openReader)
        store.assumesNewProducts = false
        guard count > 0 else { return }
        logger.info("products.schema_restored", "built the \(count) indexes and constraints set aside, in \(elapsed())")
    }

    func absorb(_ verdict: ImportVerdict, into progress: inout Progress) {
        progress.counts.rowsRead += verdict.rowsRejected
        progress.counts.rowsRejected += verdict.rowsRejected
        progress.counts.productsRejected += verdict.itemsRejected
    }

    func counts(of progress: Progress) -> StageCounts { progress.counts.stageCounts }
}
