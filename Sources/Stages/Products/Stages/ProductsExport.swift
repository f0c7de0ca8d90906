import Pipelines

/// `products.export`: streams the product store to a Vendure CSV or to product JSONL (one product per
/// line, its variants nested), written to a temporary file renamed into place when complete.
///
/// Not resumable by chunks: an interrupted export is redone whole (it keeps no checkpoint), and the file
/// appears only when complete. Memory holds one product at a time.
public enum ProductsExport: StageKind {
    public struct Config: Sendable {
        var file: FilePath
        var format: ProductFormat?
        var currency: CurrencyCode
        var language: String
    }

    public static let name = "products.export"
    public static let summary = "Stream the product store to a Vendure CSV or product JSONL, renamed into place when complete"

    static let file = Parameter<FilePath>.required("file", doc: "the file to write")
    static let format = Parameter<ProductFormat?>.optional(
        "format", doc: "vendure-csv or jsonl; by default from the file's extension")
    static let currency = Parameter<CurrencyCode>.optional("currency", default: .usd, doc: "the currency of the prices to export")
    static let language = Parameter<String>.optional(
        "language", default: "en", doc: "the language written first (untranslated when it is the only one)")

    public static let parameters = ParameterSet(file, format, currency, language) { file, format, currency, language in
        Config(file: file, format: format, currency: currency, language: language)
    }

    static let productsCounter = Counter("products", unit: "products", doc: "products written")
    static let variantsCounter = Counter("variants", unit: "variants", doc: "variants written")
    public static let counters = [productsCounter, variantsCounter]

    static let fileOutput = Output<FileDigest>("file", doc: "the written file, with its SHA-256 and size")
    public static let outputs = [fileOutput.declaration]

    public static let execution = StageExecution.whole()

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        ProductFormat.check(config.format, for: config.file)
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(reads: ["product store in \(workspace.database)"], writes: ["file \(config.file.path)"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let database = try context.database()
        let store = try ProductStore(connection: database, logger: context.logger)
        let output = try AtomicOutputFile(path: config.file.path, owner: context.checkpoints.key)
        let written: (products: Int64, variants: Int64, sha256: String)
        do {
            // One transaction: a consistent snapshot of the store.
            written = try database.inReadTransaction { try write(store, to: output, config, context) }
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
        context.progress(unit: "products", count: written.products, done: written.products, total: nil, finished: true)
        context.logger.info(
            "export.done", "exported \(written.products) products, \(written.variants) variants to \(config.file.path)")
        let file = FileDigest(path: config.file.path, sha256: written.sha256, bytes: try FileSupport.size(of: config.file.path))
        return StageOutcome(
            counts: [productsCounter: written.products, variantsCounter: written.variants],
            outputs: [fileOutput.value(file)])
    }

    private static func write(_ store: ProductStore, to output: AtomicOutputFile, _ config: Config, _ context: StageContext)
        throws -> (products: Int64, variants: Int64, sha256: String)
    {
        try output.startDigest()
        let write: (ProductBlock) throws -> Void
        let flush: () throws -> Void
        switch ProductFormat.resolve(config.format, for: config.file) {
        case .vendureCSV:
            let writer = try ProductCSVWriter(output: output, layout: store.csvLayout(mainLanguage: config.language))
            (write, flush) = (writer.write, writer.flush)
        case .jsonl:
            let writer = ProductJSONLWriter(output: output)
            (write, flush) = (writer.write, writer.flush)
        }
        var products: Int64 = 0
        var variants: Int64 = 0
        try store.products(currency: config.currency.code) { block in
            try write(block)
            products += 1
            variants += Int64(block.variants.count)
            if products % 1024 == 0 {
                context.progress(unit: "products", count: products, done: products, total: nil)
                context.report([productsCounter: products, variantsCounter: variants])
                try context.checkpoints.stopIfRequested()
            }
        }
        try flush()
        return (products, variants, try output.finishDigest() ?? "")
    }
}
