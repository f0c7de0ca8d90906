import Foundation
import Pipelines

/// `partitions.maintain`: keeps PostgreSQL tables partitioned by time: premade children ahead of now
/// (catching up on skipped runs), a default partition, rows that landed in the default moved into
/// their own child, and children past the retention detached, dropped or archived. Each table is
/// maintained on its own: one table's failure is reported and the others still get maintained.
public enum PartitionsMaintain: StageKind {
    public struct Config: Sendable {
        var tables: [PartitionTableConfig]
        var timezone: TimeZoneID
        var lockTimeout: Duration
        var retries: Int
        var maxNewPerRun: Int
        var database: DatabaseName?
    }

    public static let name = "partitions.maintain"
    public static let summary = "Keep PostgreSQL time-partitioned tables maintained: premake, default rows, retention (PostgreSQL only)"

    static let tables = Parameter<[PartitionTableConfig]>.required(
        "tables", doc: "the tables: { table, column, interval, premake, start, retention, on_expire, archive_dir, naming, template }"
    ).checked("at least one") { $0.isEmpty ? "give at least one table" : nil }
    static let timezone = Parameter<TimeZoneID>.optional("timezone", default: .utc, doc: "the zone whose calendar the intervals follow")
    static let lockTimeout = Parameter<Duration>.optional(
        "lock_timeout", default: .seconds(5), doc: "the longest a DDL statement waits for its locks before it is tried again")
    static let retries = Parameter<Int>.optional("retries", default: 5, doc: "tries after the first when lock_timeout expires").within(0...100)
    static let maxNewPerRun = Parameter<Int>.optional(
        "max_new_per_run", default: 60, doc: "children one run may make, and how far ahead of now (in intervals) default rows get a child"
    ).within(1...10_000)
    static let database = Parameter<DatabaseName?>.optional(
        "database", doc: "a database of the pipeline's databases: holding the tables; default the pipeline's database")

    public static let parameters = ParameterSet(tables, timezone, lockTimeout, retries, maxNewPerRun, database) {
        tables, timezone, lockTimeout, retries, maxNewPerRun, database in
        Config(tables: tables, timezone: timezone, lockTimeout: lockTimeout, retries: retries, maxNewPerRun: maxNewPerRun, database: database)
    }

    static let created = Counter("created", unit: "partitions", doc: "children created")
    static let moved = Counter("moved", unit: "rows", doc: "rows moved out of default partitions")
    static let detached = Counter("detached", unit: "partitions", doc: "children detached past the retention")
    static let dropped = Counter("dropped", unit: "partitions", doc: "children dropped past the retention")
    static let archived = Counter("archived", unit: "partitions", doc: "children archived past the retention")
    static let capped = Counter("capped", unit: "rows", doc: "default rows left there, beyond max_new_per_run intervals ahead")
    static let converted = Counter("converted", unit: "rows", doc: "rows moved from a plain table into the partitioned set made in its place")
    static let failed = Counter("failed", unit: "tables", doc: "tables whose maintenance failed (the others went on)")
    public static let counters = [created, moved, detached, dropped, archived, capped, converted, failed]

    public static let execution = StageExecution.whole()

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if workspace.locator(for: config.database).dialect != .postgres {
            issues.append(
                ConfigIssue(
                    "partitions.maintain needs PostgreSQL, but \(workspace.describe(config.database)) is SQLite, which has no partitioned tables",
                    at: config.database == nil ? .uses : .parameter("database")))
        }
        var seen: Set<String> = []
        for table in config.tables where !seen.insert(table.table.description).inserted {
            issues.append(ConfigIssue("\(table.table) is listed twice", parameter: "tables"))
        }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: config.tables.map { "the catalogue of \($0.table)" },
            writes: config.tables.map { "children of \($0.table) in \(workspace.locator(for: config.database))" })
    }

    public static func preview(_ config: Config, in context: PreviewContext) throws -> [String] {
        let settings = settings(config)
        return try config.tables.flatMap { table in
            try context.reading(config.database) { database in
                try TableMaintenance(config: table, settings: settings, database: database, logger: context.logger, isStopRequested: { false })
                    .describe()
            }
        }
    }

    static func settings(_ config: Config) -> MaintenanceSettings {
        MaintenanceSettings(
            zone: config.timezone.timeZone, zoneName: config.timezone.identifier, lockTimeout: config.lockTimeout, retries: config.retries, maxNewPerRun: config.maxNewPerRun, now: Date())
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let database = try context.database(named: config.database)
        let settings = settings(config)
        var total = TableMaintenance.Outcome()
        var failures: [(String, PipelineError)] = []
        for table in config.tables {
            let maintenance = TableMaintenance(
                config: table, settings: settings, database: database, logger: context.logger,
                isStopRequested: { [checkpoints = context.checkpoints] in checkpoints.isStopRequested })
            do {
                let outcome = try maintenance.run()
                total.created += outcome.created
                total.moved += outcome.moved
                total.detached += outcome.detached
                total.dropped += outcome.dropped
                total.archived += outcome.archived
                total.cappedRows += outcome.cappedRows
                total.converted += outcome.converted
            } catch {
                let failure = PipelineError.wrapping(error, as: .io)
                if failure.code == .interrupted { throw failure }
                context.logger.error("partitions.failed", "\(table.table): \(failure.message)")
                failures.append((table.table.description, failure))
            }
        }
        let counts: StageCounts = [
            created: total.created, moved: total.moved, detached: total.detached, dropped: total.dropped, archived: total.archived,
            capped: total.cappedRows, converted: total.converted, failed: Int64(failures.count),
        ]
        context.report(counts)
        if let first = failures.first {
            let code = failures.allSatisfy { $0.1.code == .locked } ? PipelineError.Code.locked : first.1.code
            throw PipelineError(
                code,
                "maintenance failed for \(failures.count) of \(config.tables.count) tables (the others were maintained): "
                    + failures.map { "\($0.0): \($0.1.message)" }.joined(separator: "; "))
        }
        return StageOutcome(counts: counts)
    }
}
