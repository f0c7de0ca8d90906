/// Sets tables' indexes and constraints aside for a bulk load into empty tables, and makes them again
/// afterwards, as `pg_restore` loads the data of a dump before it builds its indexes and constraints:
/// one sorted build of each index and one check of each foreign key instead of work on every row.
///
/// What is set aside is recorded, statement by statement, from the definitions the database gives
/// (`pg_get_constraintdef`, `pg_get_indexdef`), in the table `pipeline_set_aside_schema`, in the caller's
/// transaction. `restore` makes the same schema again: same names, same definitions, foreign keys
/// validated (SetAsideSchemaRestore.swift). A crash at any point leaves the schema, or what is left to make
/// of it recorded.
///
/// PostgreSQL only: it sets aside primary keys, unique constraints, foreign keys from and to the tables,
/// and their other indexes. SQLite can drop no constraint without rebuilding its table, and setting aside
/// only its `CREATE INDEX` indexes made a 1,000,000-variant product import no faster (18.4 s against 18.3 s),
/// so it keeps its schema.
public enum SetAsideSchema {
    public static let table = "pipeline_set_aside_schema"
    /// The oid of the connection's schema, in a query.
    static let namespace = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"

    /// PostgreSQL's `maintenance_work_mem` while the set-aside indexes are built.
    static let maintenanceMemory = "256MB"

    /// What a recorded statement does, in the table's `step` column.
    enum Step: String {
        /// Makes an index, a primary key or a unique constraint.
        case build
        /// Adds a foreign key, once every key is built: `NOT VALID`, and a `validate` step then checks
        /// its rows (a key not valid when set aside is added as it was).
        case foreignKey = "foreign_key"
        /// `ALTER TABLE … VALIDATE CONSTRAINT`.
        case validate
        /// `ANALYZE` of a table filled in bulk.
        case analyze
    }

    /// One object set aside: the statement that makes it again, in the order of `seq`.
    struct Entry {
        var name: String
        var table: String
        var drop: String
        var restore: String
        var step = Step.build
    }

    /// Sets aside the indexes and constraints of `tables` (names in the connection's schema) inside the
    /// caller's open transaction; returns how many. The tables should be empty: nothing checks rows
    /// written meanwhile until `restore`.
    @discardableResult
    public static func setAside(_ tables: [String], in connection: any DatabaseConnection) throws -> Int {
        guard connection.dialect == .postgres else {
            throw PipelineError(.internal, "indexes and constraints are set aside on PostgreSQL only")
        }
        let entries = try postgresEntries(tables, connection)
        if try connection.tableColumns(SQLName(trusted: table)) == nil {
            try connection.executeScript(
                "CREATE TABLE \(table) (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, table_name TEXT NOT NULL, restore TEXT NOT NULL, "
                    + "step TEXT NOT NULL DEFAULT '\(Step.build.rawValue)')")
        }
        let first = try nextSeq(connection)
        // Dropped in the order given (foreign keys before the keys they reference), made again in reverse.
        for (index, entry) in entries.enumerated() {
            try connection.executeScript(entry.drop)
            try connection.execute(
                "INSERT INTO \(table) (seq, name, table_name, restore, step) VALUES ($1, $2, $3, $4, $5)",
                [
                    .integer(first + Int64(entries.count - index)), .text(entry.name), .text(entry.table), .text(entry.restore),
                    .text(entry.step.rawValue),
                ])
        }
        return entries.count
    }

    /// Whether anything is set aside (an unfinished bulk load).
    public static func isSetAside(in connection: any DatabaseConnection) throws -> Bool {
        guard try connection.tableColumns(SQLName(trusted: table)) != nil else { return false }
        var any = false
        try connection.query("SELECT 1 FROM \(table) LIMIT 1", [], columns: { _ in }) { _ in any = true }
        return any
    }

    static func nextSeq(_ connection: any DatabaseConnection) throws -> Int64 {
        var largest: Int64 = 0
        try connection.query("SELECT COALESCE(MAX(seq), 0) FROM \(table)", [], columns: { _ in }) { largest = $0.int64(0) ?? 0 }
        return largest
    }

    /// Foreign keys from or to the tables, then their primary keys and unique constraints, then their
    /// other indexes.
    private static func postgresEntries(_ tables: [String], _ connection: any DatabaseConnection) throws -> [Entry] {
        let names = SQLValue.text(SQLValue.textArrayLiteral(tables))
        var entries: [Entry] = []
        try connection.query(
            """
            SELECT c.conname, t.relname, pg_get_constraintdef(c.oid), c.contype::text
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid LEFT JOIN pg_class r ON r.oid = c.confrelid
            WHERE c.connamespace = \(namespace) AND (
                (c.contype = 'f' AND (t.relname = ANY($1::text[]) OR r.relname = ANY($1::text[])))
                OR (c.contype IN ('p', 'u') AND t.relname = ANY($1::text[])))
            ORDER BY c.contype = 'f' DESC, t.relname, c.conname
            """, [names], columns: { _ in }
        ) { row in
            let (name, table, definition) = (row.string(0) ?? "", row.string(1) ?? "", row.string(2) ?? "")
            entries.append(
                Entry(
                    name: name, table: table,
                    drop: "ALTER TABLE \(SQLName.quote(table)) DROP CONSTRAINT \(SQLName.quote(name))",
                    restore: "ALTER TABLE \(SQLName.quote(table)) ADD CONSTRAINT \(SQLName.quote(name)) \(definition)",
                    step: row.string(3) == "f" ? .foreignKey : .build))
        }
        try connection.query(
            """
            SELECT i.relname, t.relname, pg_get_indexdef(i.oid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relnamespace = \(namespace) AND t.relname = ANY($1::text[])
                AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY t.relname, i.relname
            """, [names], columns: { _ in }
        ) { row in
            let (name, table, definition) = (row.string(0) ?? "", row.string(1) ?? "", row.string(2) ?? "")
            entries.append(Entry(name: name, table: table, drop: "DROP INDEX \(SQLName.quote(name))", restore: definition))
        }
        return entries
    }
}
