import Pipelines

/// `products.export`: streams the product store to a Vendure CSV or to product JSONL (one product per
/// line, its variants nested), written to a temporary file renamed into place when complete.
///
/// Not resumable by chunks: an interrupted export is redone whole (it keeps no checkpoint), and the file
/// appears only when complete. Memory holds one product at a time.
public enum ProductsExport: StageKind {
    public struct Config: Sendable {
        var file = FilePath("")
        var format: ProductFormat?
        var currency = "USD"
        var language = "en"
    }

    public static let name = "products.export"
    public static let summary = "Stream the product store to a Vendure CSV or product JSONL, renamed into place when complete"

    public static var parameters: ParameterSet<Config> {
        ParameterSet(
            defaults: Config(),
            [
                .required("file", \.file, doc: "the file to write"),
                .optional("format", \.format, doc: "vendure-csv or jsonl; by default from the file's extension"),
                .optional("currency", \.currency, doc: "ISO 4217 code of the prices to export"),
                .optional("language", \.language, doc: "the language written first (untranslated when it is the only one)"),
            ])
    }

    public static func check(_ config: Config) -> [ConfigIssue] {
        ProductFormat.check(config.format, for: config.file) + ProductFormat.checkCurrency(config.currency)
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(reads: ["product store in \(workspace.database)"], writes: ["file \(config.file.path)"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        guard let currency = CurrencyCode(config.currency) else {
            throw PipelineError(.config, "unknown currency '\(config.currency)'")
        }
        let database = try context.database()
        let store = try ProductStore(connection: database, logger: context.logger)
        let output = try AtomicOutputFile(path: config.file.path)
        var products: Int64 = 0
        var variants: Int64 = 0
        do {
            // One transaction: a consistent snapshot of the store.
            try database.begin()
            defer { try? database.rollback() }
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
            try store.products(currency: currency.code) { block in
                try write(block)
                products += 1
                variants += Int64(block.variants.count)
                if products % 1024 == 0 { context.progress(unit: "products", count: products, done: products, total: nil) }
            }
            try flush()
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
        context.progress(unit: "products", count: products, done: products, total: nil, finished: true)
        context.logger.info("export.done", "exported \(products) products, \(variants) variants to \(config.file.path)")
        return StageOutcome(read: variants, written: variants)
    }
}
