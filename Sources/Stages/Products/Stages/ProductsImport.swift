import Pipelines

/// `products.import`: reads a Vendure product CSV (or product JSONL) and upserts it into the product
/// store by SKU, in chunks each committed with its checkpoint, through the shared import pipeline.
///
/// Three threads: the whole-file check reads the file with the duplicate-SKU check on, the feed parses
/// it into blocks and their rows, and the stage's own thread stores them. Nothing commits before the
/// check has passed, so past `max_rejects` nothing at all is written. `chunk_size` counts variant rows,
/// and a chunk ends with the block that reaches it (a product is never split). With `chunk_size: 0`
/// everything goes into one transaction.
public enum ProductsImport: StageKind {
    public struct Config: Sendable {
        var file: FilePath
        var format: ProductFormat?
        var assets: FilePath?
        var currency: CurrencyCode
        var language: String
        var maxRejects: Int
        var rejects: FilePath?
        var duplicateSKUs: DuplicateSKUs
        var skipUnchanged: Bool

        /// What, beside a block's bytes, decides how it is read and stored: part of its digest.
        func sourceSettings(_ format: ProductFormat) -> String {
            [
                "pipeline \(ToolVersion.current)", "format \(format.rawValue)", "currency \(currency.code)", "language \(language)",
                "duplicate_skus \(duplicateSKUs.rawValue)", "assets \(assets?.path ?? "")",
            ].joined(separator: "\n")
        }
    }

    public static let name = "products.import"
    public static let summary = "Upsert a Vendure product CSV (or product JSONL) into the product store by SKU"

    static let file = Parameter<FilePath>.required("file", doc: "the Vendure CSV or product JSONL file to read")
    static let format = Parameter<ProductFormat?>.optional(
        "format", doc: "vendure-csv or jsonl; by default from the file's extension")
    static let assets = Parameter<FilePath?>.optional(
        "assets", doc: "the folder asset paths resolve under (URLs are kept as they are)")
    static let currency = Parameter<CurrencyCode>.optional("currency", default: .usd, doc: "the currency of the prices")
    static let language = Parameter<String>.optional("language", default: "en", doc: "the language of untranslated columns")
        .checked("not empty") { $0.isEmpty ? "must not be empty" : nil }
    static let rejects = Parameter<FilePath?>.optional(
        "rejects", doc: "where bad rows are listed; default var/<file name>.rejects.csv")
    static let duplicateSKUs = Parameter<DuplicateSKUs>.optional(
        "duplicate_skus", default: .withinProduct,
        doc: "within-product: variants of one product may share a SKU, told apart by their option values, as Vendure allows; "
            + "reject: a SKU used before in the file is a bad row")

    static let skipUnchanged = Parameter<Bool>.optional(
        "skip_unchanged", default: true,
        doc: "a Vendure CSV block whose bytes (and these settings) are those its product was last imported from is counted "
            + "unchanged without reading the product back, and one that differs from them in prices and stock alone has only "
            + "those read back; false compares every product with the store in full (after the store was edited by hand)")

    public static let parameters = ParameterSet(
        file, format, assets, currency, language, ImportParameters.maxRejects, rejects, duplicateSKUs, skipUnchanged
    ) { file, format, assets, currency, language, maxRejects, rejects, duplicateSKUs, skipUnchanged in
        Config(
            file: file, format: format, assets: assets, currency: currency, language: language, maxRejects: maxRejects,
            rejects: rejects, duplicateSKUs: duplicateSKUs, skipUnchanged: skipUnchanged)
    }

    public static let counters = ProductImportCounts.counters

    static let rejectsOutput = Output<FilePath>("rejects", doc: "the rejects file; only when rows were rejected")
    public static let outputs = [rejectsOutput.declaration]
    public static let events = [ImportEvents.rejects]

    public static let execution = StageExecution.chunked(defaultSize: 20_000, unit: "variant rows")

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        ProductFormat.check(config.format, for: config.file) + ImportParameters.checkRejects(config.rejects, input: config.file)
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["file \(config.file.path)"] + (config.assets.map { ["assets under \($0.path)"] } ?? []),
            writes: ["product store in \(workspace.database)", "rejects file \(rejectsPath(config, in: workspace))"])
    }

    static func rejectsPath(_ config: Config, in workspace: Workspace) -> String {
        ImportParameters.rejectsPath(config.rejects, input: config.file, workDirectory: workspace.workDirectory, fallback: "products")
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let format = ProductFormat.resolve(config.format, for: config.file)
        let rejectsPath = rejectsPath(config, in: context.workspace)
        // Opening the file checks a CSV's header: a file missing columns is refused before the store is touched.
        let source = try ProductImportFeed.open(config, format: format)
        let store: ProductStore
        do {
            store = try ProductStore(connection: context.database(), logger: context.logger)
            store.readsValuesOnly = config.skipUnchanged
        } catch {
            source.close()
            throw error
        }
        let importer = ProductImporter(
            config: config, format: format, source: source, store: store, chunkSize: context.checkpoints.chunkSize,
            logger: context.logger, openReader: context.openReader)
        defer { importer.close() }
        let progress = try store.withStatementJournalsInMemory {
            try ImportPipeline.run(
                importer,
                input: ImportPipeline.Input(
                    file: config.file, target: "the product store", maxRejects: config.maxRejects,
                    rejectsPath: rejectsPath),
                into: store.connection, context: context)
        }
        try importer.finish()
        let counts = progress.counts
        context.logger.info(
            "import.done",
            "imported \(config.file.lastComponent): \(counts.summary)"
                + (counts.rowsRejected > 0 ? "; rejects are listed in \(rejectsPath)" : ""))
        return StageOutcome(
            counts: counts.stageCounts,
            outputs: counts.rowsRejected > 0 ? [rejectsOutput.value(FilePath(rejectsPath))] : [])
    }
}
