import Foundation

/// Brings a schema family up to the newest version this binary knows, recording each applied version in
/// `schema_migrations (family, version, name, applied_at)`.
///
/// Every pending migration runs in its own transaction together with its record, so a failure leaves the
/// database at the last version that fully applied. Concurrent migrators are serialized: on PostgreSQL by
/// a transaction-scoped advisory lock per family, on SQLite by `BEGIN IMMEDIATE` (the database write lock).
///
/// `migrate` opens its own transactions: call it outside any transaction of the caller.
public struct MigrationRunner {
    public let connection: any DatabaseConnection
    public let logger: Logger
    private let clock: @Sendable () -> Date

    public static let tableName = "schema_migrations"

    public init(connection: any DatabaseConnection, logger: Logger, clock: @escaping @Sendable () -> Date = Date.init) {
        self.connection = connection
        self.logger = logger
        self.clock = clock
    }

    /// Applies the pending migrations of `family` in version order; returns the versions applied now
    /// (empty when the database was already current).
    ///
    /// Throws `PipelineError.config` when the database holds a version of the family this binary does not
    /// know (typically: written by a newer `pipeline`), or misses a version below its current one.
    @discardableResult
    public func migrate(family: String, migrations: [Migration]) throws -> [Int] {
        let known = try Self.checkedInOrder(migrations, family: family)
        var appliedNow: [Int] = []
        // Only SQLite, and only a family with a migration that rebuilds a referenced table, reads ahead.
        let mayRebuild = connection.dialect == .sqlite && known.contains { $0.rebuildsReferencedTable }
        while true {
            let foreignKeysOff =
                try mayRebuild
                && Self.nextPending(known, recorded: appliedMigrations(family: family).map(\.version), family: family)?
                    .rebuildsReferencedTable == true
            let applied = try withForeignKeysOff(foreignKeysOff) {
                try inMigrationTransaction(family: family) { () throws -> Int? in
                    let recorded = try readApplied(family: family)
                    guard let next = try Self.nextPending(known, recorded: recorded.map(\.version), family: family) else {
                        return nil
                    }
                    try apply(next, family: family)
                    return next.version
                }
            }
            guard let applied else { break }
            appliedNow.append(applied)
        }
        return appliedNow
    }

    /// SQLite: runs `body` (outside any transaction) with foreign keys not enforced when `off`, and
    /// enforced again afterwards; a failure to enforce them again is thrown, never left unnoticed.
    private func withForeignKeysOff<R>(_ off: Bool, _ body: () throws -> R) throws -> R {
        guard off else { return try body() }
        try connection.executeScript("PRAGMA foreign_keys=OFF")
        let result: R
        do {
            result = try body()
        } catch {
            try? connection.executeScript("PRAGMA foreign_keys=ON")
            throw error
        }
        try connection.executeScript("PRAGMA foreign_keys=ON")
        return result
    }

    /// The highest applied version of `family`, 0 when none (or no `schema_migrations` table yet).
    public func currentVersion(family: String) throws -> Int {
        try appliedMigrations(family: family).last?.version ?? 0
    }

    /// The recorded migrations of `family` in version order.
    public func appliedMigrations(family: String) throws -> [AppliedMigration] {
        guard try connection.tableColumns(SQLName(validating: Self.tableName)) != nil else { return [] }
        return try readApplied(family: family)
    }

    // MARK: - Steps

    private func inMigrationTransaction<R>(family: String, _ body: () throws -> R) throws -> R {
        try connection.inTransaction {
            if connection.dialect == .postgres {
                try connection.execute("SELECT pg_advisory_xact_lock($1::bigint)", [.integer(Self.lockKey(family: family))])
            }
            try createTableIfMissing()
            return try body()
        }
    }

    /// Looked up first: PostgreSQL answers `CREATE TABLE IF NOT EXISTS` on an existing table with a notice,
    /// which would be logged by every run (and mailed by cron every minute for `pipeline due`).
    private func createTableIfMissing() throws {
        guard try connection.tableColumns(SQLName(trusted: "schema_migrations")) == nil else { return }
        try connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                family TEXT NOT NULL,
                version INTEGER NOT NULL,
                name TEXT NOT NULL,
                applied_at TEXT NOT NULL,
                PRIMARY KEY (family, version)
            )
            """)
    }

    private func readApplied(family: String) throws -> [AppliedMigration] {
        var applied: [AppliedMigration] = []
        try connection.query(
            "SELECT version, name, applied_at FROM schema_migrations WHERE family = $1 ORDER BY version",
            [.text(family)], columns: { _ in }
        ) { row in
            applied.append(
                AppliedMigration(
                    version: Int(row.int64(0) ?? 0), name: row.string(1) ?? "", appliedAt: row.string(2) ?? ""))
        }
        return applied
    }

    private func apply(_ migration: Migration, family: String) throws {
        do {
            try connection.executeScript(migration.sql(connection.dialect))
            if migration.rebuildsReferencedTable && connection.dialect == .sqlite { try checkForeignKeys() }
            try connection.execute(
                "INSERT INTO schema_migrations (family, version, name, applied_at) VALUES ($1, $2, $3, $4)",
                [.text(family), .integer(Int64(migration.version)), .text(migration.name), .text(timestamp())])
        } catch {
            let cause = PipelineError.wrapping(error, as: .io)
            throw PipelineError(
                cause.code,
                "migration \(family) v\(migration.version) (\(migration.name)) failed: \(cause.message)", cause: error)
        }
        logger.info("migration.applied", "\(family): applied v\(migration.version) \(migration.name)")
    }

    /// SQLite: fails when any row references a row that is not there.
    private func checkForeignKeys() throws {
        var broken: [String] = []
        try connection.query("PRAGMA foreign_key_check", [], columns: { _ in }) { row in
            if broken.count < 5 { broken.append("\(row.string(0) ?? "?") row \(row.int64(1) ?? 0) → \(row.string(2) ?? "?")") }
        }
        guard broken.isEmpty else {
            throw PipelineError(.data, "rows would lose what they reference: \(broken.joined(separator: "; "))")
        }
    }

    private func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: clock())
    }

    // MARK: - Rules

    static func checkedInOrder(_ migrations: [Migration], family: String) throws -> [Migration] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (index, migration) in sorted.enumerated() {
            guard migration.version >= 1 else {
                throw PipelineError(.internal, "\(family) migration '\(migration.name)' has version \(migration.version); versions start at 1")
            }
            if index > 0, sorted[index - 1].version == migration.version {
                throw PipelineError(.internal, "\(family) has two migrations with version \(migration.version)")
            }
        }
        return sorted
    }

    /// The first known migration the database lacks, or nil when it is current; refuses databases this
    /// binary cannot safely migrate.
    static func nextPending(_ known: [Migration], recorded: [Int], family: String) throws -> Migration? {
        let knownVersions = Set(known.map(\.version))
        let newestKnown = known.last?.version ?? 0
        if let unknown = recorded.first(where: { !knownVersions.contains($0) }) {
            if unknown > newestKnown {
                throw PipelineError(
                    .config,
                    "the database's \(family) schema is at version \(recorded.max() ?? unknown), newer than this "
                        + "pipeline binary knows (up to \(newestKnown)); use a newer pipeline with this database")
            }
            throw PipelineError(
                .config,
                "the database's \(family) schema has version \(unknown) recorded, which this pipeline binary does "
                    + "not know (it knows \(known.map(\.version))); the database was migrated by another build")
        }
        let current = recorded.max() ?? 0
        let recordedSet = Set(recorded)
        if let skipped = known.first(where: { $0.version < current && !recordedSet.contains($0.version) }) {
            throw PipelineError(
                .config,
                "the database's \(family) schema is at version \(current) but lacks version \(skipped.version) "
                    + "(\(skipped.name)); it cannot be applied out of order")
        }
        return known.first { $0.version > current }
    }

    /// A stable advisory-lock key per family (FNV-1a 64 of the family name).
    static func lockKey(family: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "schema_migrations:\(family)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
