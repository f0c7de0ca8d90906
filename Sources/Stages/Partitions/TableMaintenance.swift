import Foundation
import Pipelines

/// The settings every table of a `partitions.maintain` stage shares.
struct MaintenanceSettings {
    var zone: TimeZone
    /// The zone as the pipeline file names it (Foundation calls UTC "GMT").
    var zoneName: String
    var lockTimeout: Duration
    var retries: Int
    var maxNewPerRun: Int
    var now: Date
}

/// One table's maintenance: read the catalogue, work out the plan, and carry it out step by step, each
/// step a transaction of its own whose DDL waits at most `lock_timeout` for its locks (and is tried
/// again, with backoff, when that expires). An advisory lock per table keeps two maintainers apart.
final class TableMaintenance {
    let config: PartitionTableConfig
    let settings: MaintenanceSettings
    let database: any DatabaseConnection
    let logger: Logger
    let isStopRequested: () -> Bool

    struct Outcome {
        var created: Int64 = 0
        var moved: Int64 = 0
        var detached: Int64 = 0
        var dropped: Int64 = 0
        var archived: Int64 = 0
        var cappedRows: Int64 = 0
        /// Rows moved from a plain table into the partitioned set made in its place.
        var converted: Int64 = 0
    }

    init(config: PartitionTableConfig, settings: MaintenanceSettings, database: any DatabaseConnection, logger: Logger, isStopRequested: @escaping () -> Bool) {
        self.config = config
        self.settings = settings
        self.database = database
        self.logger = logger
        self.isStopRequested = isStopRequested
    }

    var calendar: Calendar { PartitionInterval.calendar(settings.zone) }
    var name: String { config.table.description }

    /// What the table is and what the next run would do: the catalogue, the plan, and its steps.
    struct Survey {
        var catalog: PartitionCatalog
        var plan: PartitionPlan
        var defaultRows: Int64
        var steps: [PartitionDDL.Step]
        var expired: [PartitionCatalog.Child]
        /// The default partition's rows per interval start.
        var waiting: [Date: Int64]
    }

    func survey() throws -> Survey {
        let catalog = try PartitionCatalog.read(config.table, zone: settings.zone.identifier, in: database)
        guard catalog.exists else { throw PipelineError(.config, "there is no table \(name)") }
        guard catalog.isPartitioned else {
            throw PipelineError(
                .config,
                "\(name) is not a partitioned table; give the table a start to turn it into one, or create it with PARTITION BY RANGE (\(config.column))")
        }
        guard catalog.column == config.column, catalog.keyType != nil else {
            throw PipelineError(
                .config,
                "\(name) is partitioned by \(catalog.column.map { "'\($0)'" } ?? "something other than one column's range"), not by a timestamp, timestamptz or date range on '\(config.column)'")
        }
        let waiting = try defaultRows(catalog)
        let plan = PartitionPlan.make(
            PartitionPlan.Inputs(
                parent: catalog.table.name, interval: config.interval, naming: config.naming, calendar: calendar, premake: config.premake,
                start: config.start?.date, now: settings.now, maxNewPerRun: settings.maxNewPerRun,
                children: catalog.children.map { PartitionChild(name: $0.name, from: $0.from, to: $0.to) }, hasDefault: catalog.defaultPartition != nil,
                defaultRows: waiting))
        let inherited = try PartitionDDL.inherited(from: catalog, template: config.template, in: database)
        let ddl = PartitionDDL(catalog: catalog, config: config, zone: settings.zone, templateIndexes: inherited.indexes, grants: inherited.grants)
        var steps: [PartitionDDL.Step] = []
        if plan.createsDefault { steps.append(ddl.createDefault()) }
        for child in plan.creates { steps.append(ddl.create(child, drain: plan.drains.contains(child.from))) }
        let expired = expiredChildren(catalog)
        for child in expired {
            switch config.onExpire {
            case .detach: steps.append(ddl.detach(child.name))
            case .drop: steps += [ddl.detach(child.name), ddl.drop(child.name)]
            case .archive: steps += [ddl.detach(child.name), ddl.archive(child.name, to: config.archiveDirectory?.path ?? "."), ddl.drop(child.name)]
            }
        }
        return Survey(
            catalog: catalog, plan: plan, defaultRows: waiting.reduce(0) { $0 + $1.rows }, steps: steps, expired: expired,
            waiting: Dictionary(waiting.map { ($0.start, $0.rows) }, uniquingKeysWith: +))
    }

    /// The survey in words, for `--dry-run` and `pipeline partitions status`: the children with their
    /// bounds and row estimates, the default partition, the premake horizon, and each step of the next run
    /// with its statements.
    func describe() throws -> [String] {
        let before = try PartitionCatalog.read(config.table, zone: settings.zone.identifier, in: database)
        if before.exists, !before.isPartitioned, config.start != nil {
            let conversion = PartitionConversion(maintenance: self)
            return ["\(name): a plain table; the next run turns it into a partitioned set:"]
                + (try conversion.statements(before)).map { "    \($0);" }
                + ["    -- then makes its children from start, moves its rows into them interval by interval, and drops \(PartitionConversion.oldName(before.table.name))"]
        }
        let survey = try survey()
        let catalog = survey.catalog
        let horizon = config.interval.advance(config.interval.start(of: settings.now, in: calendar), by: config.premake + 1, in: calendar)
        var lines = [
            "\(name): by \(config.interval.rawValue) on \(config.column) in \(settings.zoneName), \(catalog.children.count) children, premake horizon \(catalog.literal(horizon, zone: settings.zone))"
        ]
        for child in catalog.children {
            lines.append("  \(child.name)  \(catalog.literal(child.from, zone: settings.zone)) to \(catalog.literal(child.to, zone: settings.zone))  ~\(child.estimatedRows) rows")
        }
        for other in catalog.otherChildren { lines.append("  \(other)  (bounds this maintenance does not manage)") }
        lines.append("  default: \(catalog.defaultPartition.map { "\($0), \(survey.defaultRows) rows" } ?? "none yet")")
        if let capped = survey.plan.capped {
            lines.append("  \(capped.rows) default rows beyond max_new_per_run, \(StateTime.text(capped.first)) to \(StateTime.text(capped.last)), stay there")
        }
        if survey.steps.isEmpty { lines.append("  next run: nothing to do") } else { lines.append("  next run:") }
        for step in survey.steps {
            lines.append("    -- \(step.what)")
            lines += step.statements.map { "    \($0);" }
        }
        if !survey.expired.isEmpty {
            lines.append("    -- (children past the retention go once a run finds them as quiet as the run before)")
        }
        return lines
    }

    /// Children wholly older than the retention, the newest child never among them.
    func expiredChildren(_ catalog: PartitionCatalog) -> [PartitionCatalog.Child] {
        guard let retention = config.retention, let newest = catalog.children.last else { return [] }
        let cutoff = retention.unit.advance(settings.now, by: -retention.count, in: calendar)
        // As pg_partman: a child goes when its end lies before now − retention.
        return catalog.children.filter { $0.to < cutoff && $0.name != newest.name }
    }

    /// The default partition's rows per interval of the table's key.
    func defaultRows(_ catalog: PartitionCatalog) throws -> [(start: Date, rows: Int64, first: Date, last: Date)] {
        guard let defaultPartition = catalog.defaultPartition else { return [] }
        let column = SQLName.quote(config.column)
        let unit = config.interval.rawValue
        let instant: String =
            switch catalog.keyType ?? .timestamptz {
            case .timestamptz: column
            case .timestamp: "(\(column) AT TIME ZONE CAST($1 AS TEXT))"
            case .date: "(CAST(\(column) AS timestamp) AT TIME ZONE CAST($1 AS TEXT))"
            }
        var groups: [(start: Date, rows: Int64, first: Date, last: Date)] = []
        try database.query(
            """
            SELECT extract(epoch FROM date_trunc('\(unit)', \(instant), CAST($1 AS TEXT)))::float8::text, count(*),
                extract(epoch FROM min(\(instant)))::float8::text, extract(epoch FROM max(\(instant)))::float8::text
            FROM \(catalog.qualified(defaultPartition)) WHERE \(column) IS NOT NULL GROUP BY 1
            """, [.text(settings.zone.identifier)], columns: { _ in }
        ) { row in
            guard let first = row.string(2).flatMap(Double.init), let last = row.string(3).flatMap(Double.init) else { return }
            let start = config.interval.start(of: Date(timeIntervalSince1970: first), in: calendar)
            groups.append((start, row.int64(1) ?? 0, Date(timeIntervalSince1970: first), Date(timeIntervalSince1970: last)))
        }
        return groups
    }

    func run() throws -> Outcome {
        try withAdvisoryLock {
            var outcome = Outcome()
            let conversion = PartitionConversion(maintenance: self)
            let before = try PartitionCatalog.read(config.table, zone: settings.zone.identifier, in: database)
            if before.exists, !before.isPartitioned, config.start != nil {
                try perform(PartitionDDL.Step(action: .convert, what: "turn \(name) into a partitioned set", statements: try conversion.statements(before)))
                logger.info("partitions.converted", "\(name) is now a partitioned set; its rows are in \(PartitionConversion.oldName(before.table.name)) until they are moved")
            }
            try maintainOnce(&outcome)
            let after = try PartitionCatalog.read(config.table, zone: settings.zone.identifier, in: database)
            if after.isPartitioned, try conversion.oldTableExists(after) {
                outcome.converted += try conversion.moveRows(after)
                // Rows of intervals without a child went to the default partition: their children now.
                try maintainOnce(&outcome, retention: false)
            }
            logger.info(
                "partitions.maintained",
                "\(name): \(outcome.created) children created, \(outcome.moved) rows moved out of the default partition, \(outcome.converted) rows moved in from the plain table, \(outcome.detached) detached, \(outcome.archived) archived, \(outcome.dropped) dropped")
            return outcome
        }
    }

    /// One pass: the survey's plan carried out; without `retention`, its creations only.
    private func maintainOnce(_ outcome: inout Outcome, retention: Bool = true) throws {
        let survey = try survey()
        if let capped = survey.plan.capped {
            outcome.cappedRows = capped.rows
            logger.warning(
                "partitions.capped",
                "\(name): \(capped.rows) rows in the default partition lie more than max_new_per_run (\(settings.maxNewPerRun)) intervals ahead (\(StateTime.text(capped.first)) to \(StateTime.text(capped.last))); they stay there and no partitions are made for them")
        }
        let activity = PartitionActivity(database: database)
        try activity.prepare()
        var quiet: Set<String> = []
        for child in survey.expired where retention {
            if try activity.isQuiet(survey.catalog.qualified(child.name), key: "\(name) \(child.name)") {
                quiet.insert(child.name)
            } else {
                logger.info("partitions.kept", "\(name): \(child.name) is past the retention but was written to since the last run; kept until a run finds it quiet")
            }
        }
        // Children a killed run detached but did not finish removing.
        for child in try activity.expiring(table: name) where retention && !survey.catalog.children.contains(where: { $0.name == child }) {
            try finishRemoving(child, catalog: survey.catalog, activity: activity, outcome: &outcome)
        }
        for step in survey.steps {
            if isStopRequested() { throw PipelineError.stopped(by: SIGTERM) }
            switch step.action {
            case .detach(let child):
                guard quiet.contains(child) else { continue }
                try activity.markExpiring(key: "\(name) \(child)")
                try perform(step)
                logger.debug("partitions.step", "\(name): \(step.what)")
                outcome.detached += 1
                try finishRemoving(child, catalog: survey.catalog, activity: activity, outcome: &outcome)
            case .archive, .drop:
                continue  // done with the detach, above
            case .createDefault:
                try perform(step)
                logger.debug("partitions.step", "\(name): \(step.what)")
            case .create(let child, let drain):
                try perform(step)
                logger.debug("partitions.step", "\(name): \(step.what)")
                outcome.created += 1
                if drain { outcome.moved += survey.waiting[child.from] ?? 0 }
            case .convert:
                try perform(step)
            }
        }
    }

    /// After its detach: archives (`archive`) and drops (`archive`, `drop`) a child, then forgets it.
    func finishRemoving(_ child: String, catalog: PartitionCatalog, activity: PartitionActivity, outcome: inout Outcome) throws {
        let key = "\(name) \(child)"
        let exists = try PartitionCatalog.exists(catalog.qualified(child), in: database)
        if exists, config.onExpire == .archive {
            let archived = try PartitionArchive.write(
                child, qualified: catalog.qualified(child), to: config.archiveDirectory?.path ?? ".", database: database)
            logger.info("partitions.archived", "\(name): \(child): \(archived.rows) rows in \(archived.path) (sha256 \(archived.sha256.prefix(16))…)")
            outcome.archived += 1
        }
        if exists, config.onExpire != .detach {
            let ddl = PartitionDDL(catalog: catalog, config: config, zone: settings.zone)
            try perform(ddl.drop(child))
            logger.debug("partitions.step", "\(name): drop \(child)")
            outcome.dropped += 1
        }
        try activity.forget(key: key)
    }

    /// Runs a step's statements in one transaction, each DDL waiting at most `lock_timeout` for its locks;
    /// when that expires the step is rolled back and tried again after a backoff.
    func perform(_ step: PartitionDDL.Step) throws {
        var attempt = 0
        while true {
            do {
                try database.inTransaction {
                    try database.executeScript("SET LOCAL lock_timeout = '\(max(settings.lockTimeout.milliseconds, 1))ms'")
                    for statement in step.statements { try database.executeScript(statement) }
                }
                return
            } catch let error as DatabaseError where error.code == .locked {
                attempt += 1
                guard attempt <= settings.retries, !isStopRequested() else {
                    throw PipelineError(
                        .locked, "\(name): could not \(step.what): its locks were held longer than lock_timeout (\(settings.lockTimeout.parameterDisplay)) \(attempt) times; run again later")
                }
                let wait = Self.backoff(before: attempt + 1)
                logger.info("partitions.waiting", "\(name): \(step.what) waited lock_timeout for its locks; trying again in \(wait) ms (try \(attempt + 1) of \(settings.retries + 1))")
                Thread.sleep(forTimeInterval: Double(wait) / 1000)
            }
        }
    }

    /// The wait in milliseconds before try `next` (2 or more): between half and all of 250 ms × 2^(next − 1),
    /// at most 10 s.
    static func backoff(before next: Int) -> Int {
        let ceiling = min(250 * (1 << min(next - 1, 6)), 10_000)
        return Int.random(in: ceiling / 2...ceiling)
    }

    /// Runs `body` holding the table's advisory lock; another maintainer of the table makes it wait
    /// (with the same retries) and then skip with 75.
    func withAdvisoryLock<R>(_ body: () throws -> R) throws -> R {
        let key = "pipeline partitions \(name)"
        var attempt = 0
        while true {
            var taken = false
            try database.query("SELECT pg_try_advisory_lock(hashtext(CAST($1 AS TEXT)))::int", [.text(key)], columns: { _ in }) {
                taken = $0.int64(0) == 1
            }
            if taken { break }
            attempt += 1
            guard attempt <= settings.retries, !isStopRequested() else {
                throw PipelineError(.locked, "\(name): another maintenance of this table is running; left to it")
            }
            Thread.sleep(forTimeInterval: Double(Self.backoff(before: attempt + 1)) / 1000)
        }
        defer { _ = try? database.execute("SELECT pg_advisory_unlock(hashtext(CAST($1 AS TEXT)))", [.text(key)]) }
        return try body()
    }
}
