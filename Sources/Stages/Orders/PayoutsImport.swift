import Foundation
import Pipelines

/// `payouts.import`: gateway payments and payouts (settlements) into the store, in one transaction:
/// the pipeline's JSONL, Paystack's API responses, or Stripe's balance export. A payment is matched to
/// its order by reference; payments no order matches are listed in `unmatched.csv`, never dropped.
public enum PayoutsImport: StageKind {
    enum Format: String, ParameterChoice {
        case jsonl
        case paystackJSON = "paystack-json"
        case stripeBalanceCSV = "stripe-balance-csv"
    }

    public struct Config: Sendable {
        var file: FilePath
        var format: Format
        var maxRejects: Int
        var rejects: FilePath?
    }

    public static let name = "payouts.import"
    public static let summary = "Upsert gateway payments and payouts (JSONL, Paystack API responses, Stripe balance CSV) into the store"

    static let file = Parameter<FilePath>.required("file", doc: "the file to read")
    static let format = Parameter<Format>.required("format", doc: "jsonl, paystack-json or stripe-balance-csv")
    static let rejects = Parameter<FilePath?>.optional("rejects", doc: "where rejected records are listed; default var/<file name>.rejects.csv")

    public static let parameters = ParameterSet(file, format, ImportParameters.maxRejects, rejects) { file, format, maxRejects, rejects in
        Config(file: file, format: format, maxRejects: maxRejects, rejects: rejects)
    }

    static let created = Counter("created", unit: "records", doc: "payments and payouts new to the store")
    static let updated = Counter("updated", unit: "records", doc: "stored payments and payouts that changed")
    static let unchanged = Counter("unchanged", unit: "records", doc: "stored payments and payouts the file states the same")
    static let payouts = Counter("payouts", unit: "payouts", doc: "payouts (settlements) read")
    static let unmatched = Counter("unmatched", unit: "payments", doc: "payments and refunds in the store that no order matches")
    public static let counters = [ImportCounters.read, created, updated, unchanged, payouts, unmatched, ImportCounters.rejected]

    static let unmatchedOutput = Output<FileDigest>("unmatched", doc: "unmatched.csv: the payments no order matches")
    static let rejectsOutput = Output<FilePath>("rejects", doc: "the rejects file; only when records were rejected")
    public static let outputs = [unmatchedOutput.declaration, rejectsOutput.declaration]
    public static let events = [ImportEvents.rejects]

    public static let execution = StageExecution.whole()

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        ImportParameters.checkRejects(config.rejects, input: config.file)
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["file \(config.file.path)", "store_orders in \(workspace.database)"],
            writes: ["store_payments, store_payouts in \(workspace.database)", "\(workspace.workDirectory)/<stage id>/unmatched.csv"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        guard FileSupport.exists(config.file.path) else { throw PipelineError(.noInput, "the payments file \(config.file.path) does not exist") }
        let reader: any GatewayRecordReader =
            switch config.format {
            case .jsonl: try GatewayJSONLReader(path: config.file.path)
            case .paystackJSON: try PaystackReader(path: config.file.path)
            case .stripeBalanceCSV: try StripeBalanceReader(path: config.file.path)
            }
        defer { reader.close() }
        let database = try context.database()
        let store = PaymentStore(connection: database)
        let rejectsPath = ImportParameters.rejectsPath(
            config.rejects, input: config.file, workDirectory: context.workspace.workDirectory, fallback: "payouts")
        let rejectsFile = RejectsFile(path: rejectsPath, owner: context.checkpoints.key)
        var result = PaymentStore.Result()
        var read: Int64 = 0
        var rejected: Int64 = 0
        try database.inTransaction {
            while let item = try reader.next() {
                read += 1
                switch item.record {
                case .success(.payment(let payment)): try store.upsert(payment, into: &result)
                case .success(.payout(let payout)): try store.upsert(payout, into: &result)
                case .failure(let problem):
                    rejected += 1
                    try rejectsFile.add(RowError(line: item.line, column: 1, reason: "\(item.place): \(problem.reason)"), record: problem.record)
                    if rejected > config.maxRejects {
                        try? rejectsFile.finish()
                        throw PipelineError(
                            .data,
                            "\(config.file.path) \(item.place): \(problem.reason)" + (config.maxRejects > 0 ? " (more than max_rejects \(config.maxRejects) rejected)" : "")
                                + "; nothing was written. Rejects so far are in \(rejectsPath)")
                    }
                }
            }
        }
        try rejectsFile.finish()
        let folder = "\(context.workspace.workDirectory)/\(context.stageID)"
        try FilePlacement.createDirectories(folder)
        var unmatchedCount: Int64 = 0
        let unmatchedFile = try AtomicOutputFile.writeIfChanged(path: "\(folder)/unmatched.csv", owner: context.checkpoints.key) { output in
            let writer = CSVWriter(output: output)
            try writer.writeHeader(["gateway", "id", "kind", "reference", "amount", "currency", "at"])
            try database.query(
                """
                SELECT gateway, external_id, kind, reference, amount_minor, currency, currency_exponent, \(StoreTime.text("paid_at", database.dialect))
                FROM store_payments WHERE order_id IS NULL AND kind IN ('payment', 'refund') ORDER BY paid_at, gateway, external_id
                """, [], columns: { _ in }
            ) { row in
                unmatchedCount += 1
                let currency = CurrencyCode(code: row.string(5) ?? "", exponent: Int(row.int64(6) ?? 2))
                try writer.writeRow([
                    row.string(0), row.string(1), row.string(2), row.string(3), Money(minorUnits: row.int64(4) ?? 0, currency: currency).decimalText,
                    currency.code, row.string(7),
                ])
            }
            try writer.flush()
        }
        let counts: StageCounts = [
            ImportCounters.read: read, created: result.created, updated: result.updated, unchanged: result.unchanged, payouts: result.payouts,
            unmatched: unmatchedCount, ImportCounters.rejected: rejected,
        ]
        context.report(counts)
        context.logger.info(
            "payouts.imported",
            "\(config.file.lastComponent): \(read) records, \(result.created) created, \(result.updated) updated, \(result.unchanged) unchanged, \(result.payouts) payouts"
                + (rejected > 0 ? ", \(rejected) rejected (listed in \(rejectsPath))" : ""))
        if unmatchedCount > 0 {
            context.logger.warning("payouts.unmatched", "\(unmatchedCount) payments match no order by reference: listed in \(folder)/unmatched.csv")
        }
        try ImportPipeline.raiseRejects(rejected, file: config.file, rejectsPath: rejectsPath, context: context)
        return StageOutcome(
            counts: counts, outputs: [unmatchedOutput.value(unmatchedFile.digest)] + (rejected > 0 ? [rejectsOutput.value(FilePath(rejectsPath))] : []))
    }
}
