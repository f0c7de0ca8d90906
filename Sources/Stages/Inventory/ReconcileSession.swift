import Foundation
import Pipelines

/// A reconciliation's comparison with what was learnt when it was made (feed time and age, counts),
/// reopened by a resumed run as long as the feed and the matching settings are the same.
final class ReconcileSession {
    let comparison: ReconcileComparison
    private(set) var state: ReconcileState

    private init(comparison: ReconcileComparison, state: ReconcileState) {
        self.comparison = comparison
        self.state = state
    }

    static func open(
        config: InventoryReconcile.Config, context: StageContext, store: any DatabaseConnection, locationID: Int64, records: FileDigest,
        provenance: JSONValue, path: String
    ) throws -> ReconcileSession {
        let aliasDigest = try config.skuMatch.aliases.map { try SHA256Digest.ofFile($0.path) } ?? ""
        let fingerprint = try SHA256.hex(
            of: [
                records.sha256, config.compare.rawValue, config.location, config.feedLocation ?? "", config.skuMatch.parameterDisplay, aliasDigest,
                String(config.reportEqual),
            ]
                .joined(separator: "\n"))
        let comparison: ReconcileComparison
        var made: ReconcileState.Made
        if let reopened = ReconcileComparison.reopen(path: path, fingerprint: fingerprint),
            let text = try reopened.meta("made"), let decoded = try? JSONDecoder().decode(ReconcileState.Made.self, from: Data(text.utf8))
        {
            comparison = reopened
            made = decoded
            context.logger.info("inventory.comparison-reused", "using the comparison an earlier attempt of this run made")
        } else {
            ReconcileComparison.remove(path)
            comparison = try ReconcileComparison(path: path)
            let normaliser = SKUNormaliser(match: config.skuMatch)
            let builder = ComparisonBuilder(
                normaliser: normaliser, aliases: try SKUAliases(config.skuMatch.aliases?.path, normaliser: normaliser), compare: config.compare,
                feedLocation: config.feedLocation, keepsEqual: config.reportEqual, logger: context.logger)
            let loaded: ComparisonBuilder.Loaded
            do {
                loaded = try builder.build(comparison, store: store, locationID: locationID, feedPath: records.path)
            } catch {
                comparison.remove()
                throw error
            }
            // The feed's age when it was fetched: a resumed apply keeps the decision the first attempt made.
            let feedTime = provenance["feed_time"]?.text ?? ""
            let fetchedAt = StateTime.date(provenance["fetched_at"]?.text) ?? Date()
            let age = StateTime.date(feedTime).map { fetchedAt.timeIntervalSince($0) } ?? 0
            made = ReconcileState.Made(
                feedSHA256: provenance["sha256"]?.text ?? records.sha256, feedTime: feedTime, feedTimeSource: provenance["feed_time_source"]?.text ?? "",
                fetchedAt: provenance["fetched_at"]?.text ?? "", feedAgeSeconds: Int64(max(age, 0)), shopVariants: loaded.shopVariants,
                feedRecords: loaded.feedRecords, feedWithoutFigure: loaded.feedWithoutFigure, feedOtherLocations: loaded.feedOtherLocations,
                tally: loaded.tally)
            try comparison.complete([
                ("made", String(decoding: try JSONEncoder().encode(made), as: UTF8.self)), ("fingerprint", fingerprint),
            ])
            if loaded.feedWithoutFigure > 0 {
                context.logger.warning(
                    "inventory.no-figure", "\(loaded.feedWithoutFigure) feed records have no \(config.compare.rawValue) figure and were left out")
            }
        }
        let limits = ReconcileGate.Limits(
            minFeedRows: config.limits.minFeedRows, maxFeedAge: config.limits.maxFeedAge,
            maxSKUsChangedPercent: config.limits.maxSKUsChangedPercent, maxChangeUnits: config.limits.maxChangeUnits.map(Int64.init),
            maxChangePercent: config.limits.maxChangePercent)
        let gates = try ReconcileGate.evaluate(
            limits, feedRecords: made.feedRecords, feedAge: .seconds(made.feedAgeSeconds), tally: made.tally, comparison: comparison)
        return ReconcileSession(comparison: comparison, state: ReconcileState(made: made, gates: gates))
    }

    func close() { comparison.database.close() }

    /// Removes the comparison once the stage has done its work.
    func finish() { comparison.remove() }
}

/// What a reconciliation knows: how its comparison was made, the gates, and what the apply did.
struct ReconcileState {
    struct Made: Codable {
        var feedSHA256: String
        var feedTime: String
        var feedTimeSource: String
        var fetchedAt: String
        var feedAgeSeconds: Int64
        var shopVariants: Int64
        var feedRecords: Int64
        var feedWithoutFigure: Int64
        var feedOtherLocations: Int64
        var tally: ReconcileTally
    }

    var made: Made
    var gates: [ReconcileGate]
    var applied: Int64 = 0
    var conflicts: Int64 = 0

    var tally: ReconcileTally { made.tally }

    func summary(config: InventoryReconcile.Config, forced: Bool, refused: Bool) -> JSONValue {
        func number(_ value: Int64) -> JSONValue { .number(String(value)) }
        let statuses = ReconcileComparison.Status.allCases.map { status -> (String, JSONValue) in
            let totals = tally[status]
            return (
                status.rawValue,
                .object([("skus", number(totals.count)), ("shop_units", number(totals.shop)), ("feed_units", number(totals.feed)), ("delta_units", number(totals.delta))])
            )
        }
        return .object([
            (
                "feed",
                .object([
                    ("sha256", .string(made.feedSHA256)), ("time", .string(made.feedTime)), ("time_source", .string(made.feedTimeSource)),
                    ("fetched_at", .string(made.fetchedAt)), ("age_seconds", number(made.feedAgeSeconds)), ("records", number(made.feedRecords)),
                    ("without_figure", number(made.feedWithoutFigure)), ("other_locations", number(made.feedOtherLocations)),
                ])
            ),
            ("compare", .string(config.compare.rawValue)),
            ("location", .string(config.location)),
            ("sku_match", .string(config.skuMatch.rule + (config.skuMatch.aliases == nil ? "" : ", aliases"))),
            ("store_variants", number(made.shopVariants)),
            ("statuses", .object(statuses)),
            (
                "gates",
                .array(
                    gates.map {
                        .object([("gate", .string($0.name)), ("limit", .string($0.limit)), ("value", .string($0.value)), ("tripped", .bool($0.tripped))])
                    })
            ),
            (
                "apply",
                .object([
                    ("requested", .bool(config.apply)), ("refused", .bool(refused)), ("forced", .bool(forced)), ("applied", number(applied)),
                    ("conflicts", number(conflicts)), ("reason", .string(config.reason)),
                ])
            ),
        ])
    }
}
