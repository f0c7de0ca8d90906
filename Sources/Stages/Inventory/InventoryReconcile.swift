import Foundation
import Pipelines

/// `inventory.reconcile`: compares a fetched feed with the store's stock at one location, writes the
/// report, and with `apply: true` corrects the store behind its safety gates (compare-and-set, one
/// audit row per change).
public enum InventoryReconcile: StageKind {
    /// Which of the feed's figures the store's on-hand figure should equal.
    enum Figure: String, ParameterChoice {
        case onHand = "on_hand"
        case available
    }

    public struct Config: Sendable {
        var feed: StageReference
        var compare: Figure
        var location: String
        var feedLocation: String?
        var skuMatch: SKUMatch
        var apply: Bool
        var report: FilePath?
        var reportEqual: Bool
        var limits: LimitValues
        var reason: String
    }

    struct LimitValues: Sendable {
        var minFeedRows: Int?
        var maxFeedAge: Duration?
        var maxSKUsChangedPercent: Percentage?
        var maxChangeUnits: Int?
        var maxChangePercent: Percentage?
    }

    public static let name = "inventory.reconcile"
    public static let summary = "Compare a fetched stock feed with the store, report the differences, and apply them behind safety gates"

    static let feed = Parameter<StageReference>.stage(
        "feed", outputs: [OutputRequirement("records", .file), OutputRequirement("feed", .json)], doc: "the inventory.fetch stage")
    static let compare = Parameter<Figure>.optional(
        "compare", default: .onHand, doc: "the feed's figure the store's on hand should equal: on_hand, or available (on hand − reserved)")
    static let location = Parameter<String>.optional("location", default: StoreSchema.defaultStockLocation, doc: "the store's stock location")
    static let feedLocation = Parameter<String?>.optional(
        "feed_location", doc: "only the feed's records at this location; default: a SKU's records at every location are summed")
    static let skuMatch = Parameter<SKUMatch>.optional(
        "sku_match", default: SKUMatch(), doc: "how SKUs match: { trim: true, case: fold|exact, aliases: FILE (feed_sku,shop_sku) }")
    static let apply = Parameter<Bool>.optional("apply", default: false, doc: "correct the store's figures (otherwise only report)")
    static let report = Parameter<FilePath?>.optional(
        "report", doc: "the folder for report.csv and summary.json; default the run's folder var/STAGE/RUN-KEY/")
    static let reportEqual = Parameter<Bool>.optional("report_equal", default: false, doc: "list equal SKUs in report.csv too")
    static let minFeedRows = Parameter<Int?>.optional("min_feed_rows", doc: "gate: the fewest feed records an apply accepts").checked("0 or more") { ($0 ?? 0) < 0 ? "must be 0 or more" : nil }
    static let maxFeedAge = Parameter<Duration?>.optional(
        "max_feed_age", default: .seconds(26 * 3600), doc: "gate: the oldest feed an apply accepts: its age when fetched (fetch time − the feed's own time)")
    static let maxSKUsChangedPercent = Parameter<Percentage?>.optional(
        "max_skus_changed_percent", default: .percent(20), doc: "gate: the largest share of compared SKUs an apply may change")
    static let maxChangeUnits = Parameter<Int?>.optional("max_change_units", doc: "gate: the largest change of one figure, in units")
        .checked("0 or more") { ($0 ?? 0) < 0 ? "must be 0 or more" : nil }
    static let maxChangePercent = Parameter<Percentage?>.optional(
        "max_change_percent", doc: "gate: the largest change of one figure, in % of the shop's figure (figures of 0 are left to max_change_units)")
    static let reason = Parameter<String>.optional("reason", default: "daily warehouse count", doc: "the reason each audit row records")

    public static let parameters = ParameterSet(
        feed, compare, location, feedLocation, skuMatch, apply, report, reportEqual, minFeedRows, maxFeedAge, maxSKUsChangedPercent,
        maxChangeUnits, maxChangePercent, reason
    ) {
        feed, compare, location, feedLocation, skuMatch, apply, report, reportEqual, minFeedRows, maxFeedAge, maxSKUsChangedPercent,
            maxChangeUnits, maxChangePercent, reason in
        Config(
            feed: feed, compare: compare, location: location, feedLocation: feedLocation, skuMatch: skuMatch, apply: apply, report: report,
            reportEqual: reportEqual,
            limits: LimitValues(
                minFeedRows: minFeedRows, maxFeedAge: maxFeedAge, maxSKUsChangedPercent: maxSKUsChangedPercent, maxChangeUnits: maxChangeUnits,
                maxChangePercent: maxChangePercent),
            reason: reason)
    }

    static let equal = Counter("equal", unit: "SKUs", doc: "SKUs whose figures agree")
    static let different = Counter("different", unit: "SKUs", doc: "tracked SKUs in both whose figures differ")
    static let feedOnly = Counter("feed_only", unit: "SKUs", doc: "SKUs only in the feed")
    static let shopOnly = Counter("shop_only", unit: "SKUs", doc: "tracked SKUs only in the store")
    static let untracked = Counter("untracked", unit: "SKUs", doc: "store SKUs with track_inventory off")
    static let sharedSKU = Counter(
        "shared_sku", unit: "SKUs", doc: "SKUs several variants of one product share; never applied, the feed has one figure for them")
    static let applied = Counter("applied", unit: "changes", doc: "figures changed, each with its audit row")
    static let conflicts = Counter("conflicts", unit: "changes", doc: "figures changed in the store meanwhile, left alone")
    public static let counters = [equal, different, feedOnly, shopOnly, untracked, sharedSKU, applied, conflicts]

    static let reportOutput = Output<FileDigest>("report", doc: "report.csv")
    static let summaryOutput = Output<JSONValue>("summary", doc: "the summary: counts and totals per status, gates, apply")
    public static let outputs = [reportOutput.declaration, summaryOutput.declaration]

    public static let execution = StageExecution.chunked(defaultSize: 5_000, unit: "changes")

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["records of stage \(config.feed.id)", "store_variants, store_stock_levels in \(workspace.database)"],
            writes: ["report.csv, summary.json in \(config.report?.path ?? "\(workspace.workDirectory)/<stage id>/<run key>")"]
                + (config.apply ? ["store_stock_levels, store_inventory_adjustments in \(workspace.database)"] : []))
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let feedOutputs = try context.outputs(of: config.feed)
        guard let records = feedOutputs[InventoryFetch.recordsOutput], let provenance = feedOutputs[InventoryFetch.feedOutput] else {
            throw PipelineError(.internal, "stage '\(config.feed.id)' recorded no feed records")
        }
        guard (try? SHA256Digest.ofFile(records.path)) == records.sha256 else {
            throw PipelineError(
                .data, "\(records.path) is not the records file stage '\(config.feed.id)' wrote (missing or changed); run the pipeline with --restart")
        }
        let store = try context.database()
        let locationID = try stockLocation(config.location, in: store)
        let folder = FeedFolder(workDirectory: context.workspace.workDirectory, stage: context.stageID, key: context.checkpoints.key)
        try FilePlacement.createDirectories(folder.path)
        let session = try ReconcileSession.open(
            config: config, context: context, store: store, locationID: locationID, records: records, provenance: provenance,
            path: "\(folder.path)/reconcile.db")
        defer { session.close() }
        var outcome = session.state
        let tripped = outcome.gates.filter(\.tripped)
        for gate in tripped {
            context.logger.warning("inventory.gate", "\(gate.name): \(gate.message)")
        }
        let refused = config.apply && !tripped.isEmpty && !context.force
        if config.apply, !refused {
            if !tripped.isEmpty { context.logger.warning("inventory.forced", "applying despite \(tripped.count) tripped gate(s): the run has --force") }
            let progress = try ReconcileApply(
                store: store, comparison: session.comparison, locationID: locationID, location: config.location,
                audit: .init(
                    reason: config.reason, feedSHA256: provenance["sha256"]?.text ?? records.sha256, pipeline: context.run.pipeline,
                    run: context.run.identity, runID: context.logger.run?.runID ?? "", stage: context.stageID),
                context: context
            ).run(total: outcome.tally[.different].count)
            outcome.applied = progress.applied
            outcome.conflicts = progress.conflicts
        }
        let reportFolder = config.report?.path ?? folder.path
        try FilePlacement.createDirectories(reportFolder)
        let report = try ReconcileReport.writeCSV(
            session.comparison, to: "\(reportFolder)/report.csv", applied: config.apply && !refused, owner: context.checkpoints.key)
        let summary = outcome.summary(config: config, forced: config.apply && !tripped.isEmpty && context.force, refused: refused)
        try AtomicOutputFile.writeIfChanged(path: "\(reportFolder)/summary.json", owner: context.checkpoints.key) {
            try $0.write(summary.serialized + "\n")
        }
        let tally = outcome.tally
        let counts: StageCounts = [
            equal: tally[.equal].count, different: tally[.different].count, feedOnly: tally[.feedOnly].count,
            shopOnly: tally[.shopOnly].count, untracked: tally[.untracked].count, sharedSKU: tally[.sharedSKU].count,
            applied: outcome.applied, conflicts: outcome.conflicts,
        ]
        context.report(counts)
        context.logger.info(
            "inventory.reconciled",
            "\(tally[.equal].count) equal, \(tally[.different].count) different (net \(tally[.different].delta) units), \(tally[.feedOnly].count) only in the feed, \(tally[.shopOnly].count) only in the store, \(tally[.untracked].count) untracked"
                + (tally[.sharedSKU].count > 0 ? ", \(tally[.sharedSKU].count) shared by variants of one product (not applied)" : "")
                + "; report \(reportFolder)/report.csv")
        if outcome.conflicts > 0 {
            context.logger.warning("inventory.conflicts", "\(outcome.conflicts) figures changed in the store since they were read; left alone (see report.csv)")
        }
        if refused {
            throw PipelineError(
                .data,
                "apply refused by \(tripped.count) safety gate(s): " + tripped.map { "\($0.name): \($0.message)" }.joined(separator: "; ")
                    + ". The report is in \(reportFolder); run again with --force to apply anyway")
        }
        session.finish()
        return StageOutcome(counts: counts, outputs: [reportOutput.value(report), summaryOutput.value(summary)])
    }

    static func stockLocation(_ name: String, in store: any DatabaseConnection) throws -> Int64 {
        var id: Int64?
        var names: [String] = []
        try store.query("SELECT id, name FROM store_stock_locations ORDER BY name", [], columns: { _ in }) { row in
            if row.string(1) == name { id = row.int64(0) }
            if names.count < 20 { names.append(row.string(1) ?? "") }
        }
        guard let id else {
            throw PipelineError(
                .config, "the store has no stock location '\(name)' (it has: \(names.joined(separator: ", ")))" + Suggestion.hint(for: name, among: names))
        }
        return id
    }
}
