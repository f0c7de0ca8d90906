/// An upsert on PostgreSQL at COPY speed: rows are copied into a temporary table of the target's column
/// types, then merged with one `INSERT ... SELECT ... ON CONFLICT DO UPDATE` at `finish()`. Of rows with
/// the same key the last one wins, as it does row by row on SQLite.
final class PostgresUpsertInserter: BulkInserter {
    private let connection: PostgresConnection
    private let staging: String
    private let merge: String
    private let copy: any BulkInserter

    static let rowColumn = "pipeline_row"

    init(connection: PostgresConnection, table: SQLName, columns: [String], key: [String]) throws {
        self.connection = connection
        let quotedColumns = columns.map(SQLName.quote).joined(separator: ", ")
        let quotedKey = key.map(SQLName.quote).joined(separator: ", ")
        let stagingName = SQLName(trusted: "pipeline_upsert_" + table.name.prefix(40))
        staging = stagingName.quoted
        try connection.executeScript(
            """
            CREATE TEMPORARY TABLE \(staging) ON COMMIT DROP AS SELECT \(quotedColumns) FROM \(table.quoted) WITH NO DATA;
            ALTER TABLE \(staging) ADD COLUMN \(Self.rowColumn) bigserial
            """)
        merge = """
            INSERT INTO \(table.quoted) (\(quotedColumns))
            SELECT DISTINCT ON (\(quotedKey)) \(quotedColumns) FROM \(staging) ORDER BY \(quotedKey), \(Self.rowColumn) DESC
            \(PostgresConnection.onConflictClause(columns: columns, key: key))
            """
        copy = try connection.bulkInsert(into: stagingName, columns: columns)
    }

    func insert(_ record: RecordBuffer) throws { try copy.insert(record) }

    func insert(rows values: ArraySlice<SQLValue>) throws { try copy.insert(rows: values) }

    func insert(_ rows: PackedRows) throws { try copy.insert(rows) }

    @discardableResult
    func finish() throws -> Int64 {
        let rows = try copy.finish()
        try connection.executeScript(merge + ";\nDROP TABLE \(staging)")
        return rows
    }
}
