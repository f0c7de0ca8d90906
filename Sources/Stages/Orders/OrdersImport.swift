import Foundation
import Pipelines

/// `orders.import`: reads orders (the pipeline's JSONL, or Shopify's orders export) and upserts them
/// into the store by order code, in chunks each committed with its checkpoint, through the shared
/// import pipeline. Orders whose figures do not add up are rejected with line, column and reason.
public enum OrdersImport: StageKind {
    enum Format: String, ParameterChoice {
        case jsonl
        case shopifyCSV = "shopify-csv"
    }

    public struct Config: Sendable {
        var file: FilePath
        var format: Format?
        var reading: OrderReading
        var maxRejects: Int
        var rejects: FilePath?
    }

    public static let name = "orders.import"
    public static let summary = "Upsert orders (JSONL or Shopify's orders export CSV) into the store by order code"

    static let file = Parameter<FilePath>.required("file", doc: "the orders file to read")
    static let format = Parameter<Format?>.optional("format", doc: "jsonl or shopify-csv; by default from the file's extension (.jsonl, .csv)")
    static let currency = Parameter<CurrencyCode?>.optional("currency", doc: "the currency of orders that do not state one")
    static let timezone = Parameter<TimeZoneID>.optional(
        "timezone", default: .utc, doc: "the shop's zone: times written without a UTC offset are read in it")
    static let tolerance = Parameter<Int>.optional(
        "tolerance", default: 1, doc: "how many minor units a total may differ from lines − discounts + shipping + tax (a rounding difference)"
    ).atLeast(0)
    static let rejects = Parameter<FilePath?>.optional("rejects", doc: "where rejected orders are listed; default var/<file name>.rejects.csv")

    public static let parameters = ParameterSet(file, format, currency, timezone, tolerance, ImportParameters.maxRejects, rejects) {
        file, format, currency, timezone, tolerance, maxRejects, rejects in
        Config(
            file: file, format: format,
            reading: OrderReading(currency: currency, zone: timezone.timeZone, tolerance: Int64(tolerance)),
            maxRejects: maxRejects, rejects: rejects)
    }

    static let created = Counter("created", unit: "orders", doc: "orders new to the store")
    static let updated = Counter("updated", unit: "orders", doc: "stored orders that changed")
    static let unchanged = Counter("unchanged", unit: "orders", doc: "stored orders the file states the same")
    static let refunds = Counter("refunds", unit: "refunds", doc: "refunds added or changed")
    static let paymentsLinked = Counter("payments_linked", unit: "payments", doc: "imported payments matched to their order by reference")
    public static let counters = [ImportCounters.read, created, updated, unchanged, refunds, paymentsLinked, ImportCounters.rejected]

    static let rejectsOutput = Output<FilePath>("rejects", doc: "the rejects file; only when orders were rejected")
    public static let outputs = [rejectsOutput.declaration]
    public static let events = [ImportEvents.rejects]

    public static let execution = StageExecution.chunked(defaultSize: 5_000, unit: "order rows")

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        var issues = ImportParameters.checkRejects(config.rejects, input: config.file)
        if config.format == nil, !["jsonl", "ndjson", "csv"].contains(config.file.lastComponent.split(separator: ".").last.map { $0.lowercased() } ?? "") {
            issues.append(ConfigIssue("cannot tell the format from the file's name \(config.file.lastComponent); set format: jsonl or shopify-csv", parameter: "format"))
        }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["file \(config.file.path)"],
            writes: ["store_orders and their lines, taxes, discounts and refunds in \(workspace.database)", "rejects file \(rejectsPath(config, in: workspace))"])
    }

    static func rejectsPath(_ config: Config, in workspace: Workspace) -> String {
        ImportParameters.rejectsPath(config.rejects, input: config.file, workDirectory: workspace.workDirectory, fallback: "orders")
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        guard FileSupport.exists(config.file.path) else { throw PipelineError(.noInput, "the orders file \(config.file.path) does not exist") }
        let format = config.format ?? (config.file.lastComponent.lowercased().hasSuffix(".csv") ? .shopifyCSV : .jsonl)
        // The `changed_at` of what this import changes.
        let now = try Instant.now()
        let reading = config.reading
        let path = config.file.path
        let makeReader: () throws -> any OrderReader = {
            switch format {
            case .jsonl: try OrderJSONLReader(path: path, reading: reading)
            case .shopifyCSV: try ShopifyOrderReader(path: path, reading: reading, seenAt: now)
            }
        }
        let database = try context.database()
        let importer = try OrderImporter(makeReader: makeReader, store: OrderStore(connection: database, now: now), context: context)
        defer { importer.close() }
        let rejectsPath = rejectsPath(config, in: context.workspace)
        let progress = try ImportPipeline.run(
            importer, input: ImportPipeline.Input(file: config.file, target: "the store's orders", maxRejects: config.maxRejects, rejectsPath: rejectsPath),
            into: database, context: context)
        let store = progress.store
        context.logger.info(
            "orders.imported",
            "\(config.file.lastComponent): \(progress.read) orders read, \(store.created) created, \(store.updated) updated, \(store.unchanged) unchanged, "
                + "\(store.refunds) refunds added or changed, \(store.paymentsLinked) payments linked"
                + (progress.rejected > 0 ? ", \(progress.rejected) rejected (listed in \(rejectsPath))" : ""))
        return StageOutcome(
            counts: importer.counts(of: progress), outputs: progress.rejected > 0 ? [rejectsOutput.value(FilePath(rejectsPath))] : [])
    }
}
