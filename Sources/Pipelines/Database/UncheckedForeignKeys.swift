/// SQLite's counterpart of `SetAsideSchema` for a bulk load into empty tables. SQLite can drop no
/// foreign key without rebuilding its table, but a connection can stop checking them row by row
/// (`PRAGMA foreign_keys = OFF`) and check every row of the loaded tables at once afterwards
/// (`PRAGMA foreign_key_check`). On the product bench's 1,000,000 variants the row-by-row checks took
/// 2.5 s of the schema floor's 8.75 s, the check of the whole store afterwards 0.6 s.
///
/// Which tables await their check is recorded in the table `pipeline_unchecked_foreign_keys`, in the
/// transaction of the load's first rows, and forgotten when the check passes: a load given up half-way
/// (`--restart`, or another import) is checked by the next one. The tables are checked in the order
/// recorded, on two connections side by side when the caller can open a second: recorded largest first,
/// the two finish close together. The setting itself belongs to the
/// connection, not the file: other connections go on checking, so none of them can delete a row that a
/// loaded row refers to.
public enum UncheckedForeignKeys {
    public static let table = "pipeline_unchecked_foreign_keys"
    /// Violations named in a failed check, at most.
    static let examples = 3

    /// Stops the connection checking foreign keys. SQLite ignores the setting inside a transaction, so
    /// this is called between transactions, and it fails if the setting did not take.
    public static func stopChecking(on connection: any DatabaseConnection) throws {
        guard connection.dialect == .sqlite else {
            throw PipelineError(.internal, "foreign keys are left unchecked on SQLite only")
        }
        try setChecking(false, on: connection)
    }

    /// Makes the connection check foreign keys again (SQLite's default in this tool); nothing on PostgreSQL.
    public static func resumeChecking(on connection: any DatabaseConnection) throws {
        guard connection.dialect == .sqlite else { return }
        try setChecking(true, on: connection)
    }

    private static func setChecking(_ on: Bool, on connection: any DatabaseConnection) throws {
        try connection.executeScript("PRAGMA foreign_keys = \(on ? "ON" : "OFF")")
        var setting: Int64?
        try connection.query("PRAGMA foreign_keys", [], columns: { _ in }) { setting = $0.int64(0) }
        guard setting == (on ? 1 : 0) else {
            throw PipelineError(
                .internal, "could not turn SQLite's foreign key checks \(on ? "on" : "off"): a transaction is open")
        }
    }

    /// Records, in the caller's open transaction, that rows of `tables` (the largest first) are written
    /// unchecked.
    public static func record(_ tables: [String], in connection: any DatabaseConnection) throws {
        try connection.executeScript("CREATE TABLE IF NOT EXISTS \(table) (table_name TEXT PRIMARY KEY)")
        for name in tables {
            _ = try connection.execute("INSERT INTO \(table) (table_name) VALUES ($1) ON CONFLICT DO NOTHING", [.text(name)])
        }
    }

    /// The tables whose rows await their check, in the order recorded (none on PostgreSQL).
    public static func pending(in connection: any DatabaseConnection) throws -> [String] {
        guard connection.dialect == .sqlite, try connection.tableColumns(SQLName(trusted: table)) != nil else { return [] }
        var tables: [String] = []
        try connection.query("SELECT table_name FROM \(table) ORDER BY rowid", [], columns: { _ in }) { row in
            tables.append(row.string(0) ?? "")
        }
        return tables
    }

    /// Checks every foreign key of the pending tables over all their rows, then forgets them; throws
    /// naming the first violations, and then they stay pending. Returns how many tables were checked.
    /// `open`: a second connection to the database, which checks tables beside `connection`.
    @discardableResult
    public static func check(in connection: any DatabaseConnection, opening open: (() throws -> any DatabaseConnection)? = nil) throws -> Int {
        let tables = try pending(in: connection)
        guard !tables.isEmpty else { return 0 }
        // A second connection only makes the check faster: without one, `connection` checks every table.
        let second = try? open?()
        defer { second?.close() }
        let found = try SideBySide.run(tables, on: connection, second) { table, connection in
            try violations(of: table, on: connection)
        }
        let count = found.reduce(0) { $0 + $1.count }
        guard count == 0 else {
            let violations = found.flatMap(\.examples).prefix(examples)
            throw PipelineError(
                .internal,
                "the foreign keys left unchecked during the bulk load do not hold: \(count) rows refer to missing rows ("
                    + violations.joined(separator: "; ") + (count > violations.count ? "; …" : "") + ")")
        }
        try connection.inTransaction { try connection.executeScript("DROP TABLE \(Self.table)") }
        return tables.count
    }

    /// How many rows of `table` refer to missing rows, and the first few of them.
    private static func violations(of table: String, on connection: any DatabaseConnection) throws -> (count: Int, examples: [String]) {
        let name = try SQLName(validating: table)
        var found: (count: Int, examples: [String]) = (0, [])
        try connection.query("PRAGMA foreign_key_check(\(SQLName.quote(name.name)))", [], columns: { _ in }) { row in
            found.count += 1
            guard found.examples.count < examples else { return }
            let rowid = row.int64(1).map { "row \($0)" } ?? "a row"
            found.examples.append("\(rowid) of \(row.string(0) ?? table) refers to a missing row of \(row.string(2) ?? "?")")
        }
        return found
    }
}
