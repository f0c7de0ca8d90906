import Foundation

/// Making a schema set aside again, in three steps: the indexes, primary keys and unique constraints;
/// then the foreign keys, added `NOT VALID`; then each foreign key's rows checked (`VALIDATE
/// CONSTRAINT`) and each table analyzed (an `analyze` step recorded for each at the start). Inside a transaction (`restore(in:)`) they run one after
/// another. Outside one (`restore(on:opening:)`) the first and the last run table by table on two
/// connections side by side, as `pg_restore --jobs 2` would: a check, or an index on a table too small
/// for the server's parallel build, keeps one core busy while the others idle. There each statement
/// commits with the removal of its record, so that a crash leaves what is left to do recorded.
extension SetAsideSchema {
    /// A recorded statement, as the restore reads it back.
    struct Record: Sendable {
        var seq: Int64
        var name: String
        var table: String
        var statement: String
        var step: Step
    }

    /// Makes everything set aside again inside the caller's open transaction, and forgets it; returns how
    /// many objects. A constraint the rows break fails here, naming it, and the transaction rolls back.
    @discardableResult
    public static func restore(in connection: any DatabaseConnection) throws -> Int {
        guard let columns = try connection.tableColumns(SQLName(trusted: table)) else { return 0 }
        let recorded = try readRecords(connection, columns: columns)
        try setMaintenanceMemory(connection)
        for record in recorded where record.step == .build { try run(record, on: connection) }
        try addForeignKeys(connection)
        for record in try records(connection) { try run(record, on: connection) }
        try connection.executeScript("DROP TABLE \(table)")
        return objects(recorded)
    }

    /// As `restore(in:)`, outside any transaction, its first and last steps on `connection` and a
    /// second connection `open` makes, side by side. A constraint the rows break fails naming it, its
    /// record kept with what is left.
    @discardableResult
    public static func restore(on connection: any DatabaseConnection, opening open: () throws -> any DatabaseConnection) throws -> Int {
        guard let columns = try connection.tableColumns(SQLName(trusted: table)) else { return 0 }
        let recorded = try connection.inTransaction { try readRecords(connection, columns: columns) }
        // A second connection only makes the restore faster: without one (a server at its connection
        // limit, say), `connection` does it all. None is opened when nothing is left but the record.
        let second = recorded.isEmpty ? nil : try? open()
        defer { second?.close() }
        try runSideBySide(try tableJobs(recorded.filter { $0.step == .build }, connection), on: connection, second)
        try connection.inTransaction { try addForeignKeys(connection) }
        try runSideBySide(try tableJobs(try records(connection), connection), on: connection, second)
        try connection.inTransaction { try connection.executeScript("DROP TABLE \(table)") }
        return objects(recorded)
    }

    /// The indexes and constraints among `records`: those made, or only checked when an earlier
    /// restore made them.
    private static func objects(_ records: [Record]) -> Int { records.filter { $0.step != .analyze }.count }

    /// The records, those made before the `step` column existed given theirs, with an `analyze` step for
    /// each table, recorded at the start.
    private static func readRecords(_ connection: any DatabaseConnection, columns: [String]) throws -> [Record] {
        if !columns.contains("step") {
            try connection.executeScript(
                """
                ALTER TABLE \(table) ADD COLUMN step TEXT NOT NULL DEFAULT '\(Step.build.rawValue)';
                UPDATE \(table) SET step = '\(Step.foreignKey.rawValue)' WHERE restore LIKE '% ADD CONSTRAINT % FOREIGN KEY (%'
                """)
        }
        let recorded = try records(connection)
        guard !recorded.isEmpty, !recorded.contains(where: { $0.step == .analyze }) else { return recorded }
        // The planner has no statistics of tables filled in bulk yet (autovacuum takes its time): without
        // them the next lookups scan whole tables. pg_restore leaves this to its user; a pipeline's next
        // stage runs at once.
        var seq = try nextSeq(connection)
        for name in Set(recorded.map(\.table)).sorted() {
            seq += 1
            _ = try connection.execute(
                "INSERT INTO \(table) (seq, name, table_name, restore, step) VALUES ($1, $2, $2, $3, $4)",
                [.integer(seq), .text(name), .text("ANALYZE \(SQLName.quote(name))"), .text(Step.analyze.rawValue)])
        }
        return try records(connection)
    }

    /// Index builds sort whole tables: more memory than the default 64 MB keeps the sorts off disk. SET
    /// LOCAL: this transaction only.
    private static func setMaintenanceMemory(_ connection: any DatabaseConnection) throws {
        try connection.executeScript("SET LOCAL maintenance_work_mem = '\(maintenanceMemory)'")
    }

    /// Adds the recorded foreign keys in the caller's transaction, once all keys are built: those valid
    /// when set aside `NOT VALID`, each recorded as a `validate` step.
    private static func addForeignKeys(_ connection: any DatabaseConnection) throws {
        for record in try records(connection) where record.step == .foreignKey {
            guard !record.statement.hasSuffix(" NOT VALID") else {
                try run(record, on: connection)
                continue
            }
            try execute(record.statement + " NOT VALID", of: record, on: connection)
            let validate = "ALTER TABLE \(SQLName.quote(record.table)) VALIDATE CONSTRAINT \(SQLName.quote(record.name))"
            _ = try connection.execute(
                "UPDATE \(table) SET step = $1, restore = $2 WHERE seq = $3",
                [.text(Step.validate.rawValue), .text(validate), .integer(record.seq)])
        }
    }

    /// What is recorded, in the order of `seq`.
    private static func records(_ connection: any DatabaseConnection) throws -> [Record] {
        var records: [Record] = []
        try connection.query("SELECT seq, name, table_name, restore, step FROM \(table) ORDER BY seq", [], columns: { _ in }) { row in
            records.append(
                Record(
                    seq: row.int64(0) ?? 0, name: row.string(1) ?? "", table: row.string(2) ?? "", statement: row.string(3) ?? "",
                    step: Step(rawValue: row.string(4) ?? "") ?? .build))
        }
        return records
    }

    /// Runs a recorded statement and removes its record.
    private static func run(_ record: Record, on connection: any DatabaseConnection) throws {
        try execute(record.statement, of: record, on: connection)
        _ = try connection.execute("DELETE FROM \(table) WHERE seq = $1", [.integer(record.seq)])
    }

    private static func execute(_ statement: String, of record: Record, on connection: any DatabaseConnection) throws {
        do {
            try connection.executeScript(statement)
        } catch {
            let cause = PipelineError.wrapping(error, as: .data)
            let what = record.step == .analyze ? "analyze \(record.table)" : "make \(record.name) on \(record.table) again"
            throw PipelineError(cause.code, "could not \(what) after the bulk load: \(cause.message)", cause: error)
        }
    }

    /// `records` table by table, largest table first: a table's statements run one after another on one
    /// connection (each would wait for the other's lock), different tables' side by side.
    private static func tableJobs(_ records: [Record], _ connection: any DatabaseConnection) throws -> [[Record]] {
        let byTable = Dictionary(grouping: records, by: \.table)
        guard !byTable.isEmpty else { return [] }
        var sizes: [String: Int64] = [:]
        try connection.query(
            """
            SELECT relname, pg_total_relation_size(oid) FROM pg_class
            WHERE relnamespace = \(namespace) AND relname = ANY($1::text[])
            """, [.text(SQLValue.textArrayLiteral(byTable.keys))], columns: { _ in }
        ) { row in sizes[row.string(0) ?? ""] = row.int64(1) }
        return byTable.sorted { first, second in
            let (a, b) = (sizes[first.key] ?? 0, sizes[second.key] ?? 0)
            return a != b ? a > b : first.key < second.key
        }.map(\.value)
    }

    /// Runs the jobs side by side, each statement in a transaction of its own.
    private static func runSideBySide(_ jobs: [[Record]], on connection: any DatabaseConnection, _ second: (any DatabaseConnection)?) throws {
        _ = try SideBySide.run(jobs, on: connection, second) { job, connection in
            for record in job {
                try connection.inTransaction {
                    if record.step == .build { try setMaintenanceMemory(connection) }
                    try run(record, on: connection)
                }
            }
        }
    }
}
