/// The one database interface that stages and the state store use. Two real drivers implement it:
/// SQLite (`SQLiteConnection`) and PostgreSQL (`PostgresConnection`).
public protocol DatabaseConnection: AnyObject {
    var locator: DatabaseLocator { get }
    var dialect: SQLDialect { get }

    /// Runs one or more statements separated by `;`, with no parameters and no results.
    func executeScript(_ sql: String) throws

    /// Runs one statement with bound parameters; returns the number of rows changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int64

    /// Runs `statements` in order, as `execute` would one by one; returns the rows they changed. The
    /// first that fails throws its error, and none after it runs. PostgreSQL sends them in few round
    /// trips (libpq's pipeline mode) instead of one each; the caller has a transaction open.
    @discardableResult
    func executeBatch(_ statements: [BoundStatement]) throws -> Int64

    /// Streams a query's rows: `columns` is called once before the first row (also when there are none),
    /// then `row` once per row. The row view is only valid inside the call. Memory does not grow with the
    /// number of rows.
    func query(
        _ sql: String, _ parameters: [SQLValue], columns: ([ColumnInfo]) throws -> Void,
        row: (any RowView) throws -> Void) throws

    /// Like `query` without parameters, on the fastest bulk path the driver has
    /// (PostgreSQL: `COPY (query) TO STDOUT`).
    func export(
        _ sql: String, columns: ([ColumnInfo]) throws -> Void, row: (any RowView) throws -> Void) throws

    /// The rows of `sql` as CSV written by the database itself, where it can (PostgreSQL:
    /// `COPY (sql) TO STDOUT WITH (FORMAT csv)`): each call of `line` gets one whole row, the header
    /// first when asked. Returns false, having read nothing, where the driver has no such path or the
    /// database's CSV would differ from `CSVWriter`'s values (PostgreSQL writes booleans as t/f).
    func exportCSV(_ sql: String, header: Bool, line: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool

    func begin() throws
    func commit() throws
    func rollback() throws
    /// Starts a transaction in which the database refuses every write (PostgreSQL: `READ ONLY` with a
    /// repeatable-read snapshot; SQLite: `query_only`); `endReadOnly()` rolls it back.
    func beginReadOnly() throws
    func endReadOnly() throws

    /// The table's column names in order, or nil when there is no such table.
    func tableColumns(_ table: SQLName) throws -> [String]?

    /// The declared type of each of the table's columns, by name (SQLite: as written in CREATE TABLE;
    /// PostgreSQL: `format_type`, e.g. `integer`, `numeric(10,2)`); empty when there is no such table.
    func columnTypes(of table: SQLName) throws -> [String: String]

    /// A writer for many rows into `table(columns)`: a reused prepared INSERT on SQLite,
    /// `COPY ... FROM STDIN` on PostgreSQL. Must run inside a transaction the caller opened.
    func bulkInsert(into table: SQLName, columns: [String]) throws -> any BulkInserter

    /// Like `bulkInsert`, but a row whose `key` columns match a stored row updates it (the last of such rows
    /// wins): `INSERT ... ON CONFLICT (key) DO UPDATE` on SQLite; on PostgreSQL a COPY into a temporary
    /// table merged at `finish()`. The table needs a unique index on exactly `key` (`uniqueKeys`).
    func bulkUpsert(into table: SQLName, columns: [String], key: [String]) throws -> any BulkInserter

    /// The column lists of the table's primary key and unique indexes that `ON CONFLICT` can use
    /// (whole columns, not partial).
    func uniqueKeys(of table: SQLName) throws -> [[String]]

    /// Cancels the running statement from another thread (see `StatementCanceller`).
    var canceller: StatementCanceller { get }

    func close()
}

extension DatabaseConnection {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. The one place
    /// that pairs `begin` with `commit` and `rollback`; do not nest it.
    public func inTransaction<R>(_ body: () throws -> R) throws -> R {
        try begin()
        let result: R
        do {
            result = try body()
        } catch {
            try? rollback()
            throw error
        }
        do {
            try commit()
        } catch {
            try? rollback()
            throw error
        }
        return result
    }

    /// Runs `body` in a transaction that is always rolled back: a consistent snapshot to read from.
    /// The database refuses writes in it, so a query given as an export cannot change anything.
    public func inReadTransaction<R>(_ body: () throws -> R) throws -> R {
        try beginReadOnly()
        defer { try? endReadOnly() }
        return try body()
    }

    public func exportCSV(_ sql: String, header: Bool, line: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        false
    }

    public func executeBatch(_ statements: [BoundStatement]) throws -> Int64 {
        try statements.reduce(0) { changed, statement in changed + (try execute(statement.sql, statement.parameters)) }
    }

    /// ` ON CONFLICT (key) DO UPDATE SET c = excluded.c, ...` for the columns outside the key.
    static func onConflictClause(columns: [String], key: [String]) -> String {
        let updated = columns.filter { !key.contains($0) }
        let target = " ON CONFLICT (\(key.map(SQLName.quote).joined(separator: ", ")))"
        guard !updated.isEmpty else { return target + " DO NOTHING" }
        return target + " DO UPDATE SET "
            + updated.map { "\(SQLName.quote($0)) = excluded.\(SQLName.quote($0))" }.joined(separator: ", ")
    }
}

public protocol BulkInserter: AnyObject {
    /// Inserts one row; the record holds one field per column (NULL fields become SQL NULL).
    func insert(_ record: RecordBuffer) throws
    /// Inserts rows of typed values, one value per column a row, row after row.
    func insert(rows values: ArraySlice<SQLValue>) throws
    /// Inserts packed rows (`PackedRows`), which cost less to add and to insert than `SQLValue`s.
    func insert(_ rows: PackedRows) throws
    /// Flushes and ends the bulk operation; returns the number of rows inserted.
    @discardableResult
    func finish() throws -> Int64
}

extension DatabaseError {
    /// The misuse error of `BulkInserter.insert(rows:)` given values that do not make whole rows.
    static func requireWholeRows(_ count: Int, columns: Int, statement: String) throws {
        guard count % columns != 0 else { return }
        throw DatabaseError(.misuse, "\(count) values do not make rows of \(columns) columns", statement: statement)
    }
}

public enum SQLDialect: String, Sendable {
    case sqlite, postgres
}

/// A statement with its parameters, for `DatabaseConnection.executeBatch`.
public struct BoundStatement: Sendable {
    public var sql: String
    public var parameters: [SQLValue]

    public init(_ sql: String, _ parameters: [SQLValue]) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// A bound parameter. There is deliberately no floating-point case: money and quantities are integers
/// or decimal text.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

extension SQLValue {
    /// A PostgreSQL array literal of `values`, every element quoted (`"` and `\` escaped), for a bound
    /// `text[]` parameter.
    public static func textArrayLiteral(_ values: some Sequence<String>) -> String {
        var literal = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }
}

/// What kind of value a result column holds, for writers that keep types (JSONL).
public enum ValueKind: Sendable, Hashable {
    case null, integer, decimal, boolean, text, binary
}

public struct ColumnInfo: Sendable, Hashable {
    public var name: String
    /// The declared kind where the driver knows it (PostgreSQL always; SQLite per value, see `RowView.kind`).
    public var kind: ValueKind?

    public init(name: String, kind: ValueKind?) {
        self.name = name
        self.kind = kind
    }
}

/// One row during a streaming read.
public protocol RowView {
    var columnCount: Int { get }
    /// The kind of this row's value in the column; `.null` for NULL.
    func kind(_ column: Int) -> ValueKind
    /// The value's text form as UTF-8 bytes (integers and decimals in decimal notation, booleans as
    /// `true`/`false`, binary as the raw bytes); nil for NULL. Valid only during the call.
    func withBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R
    /// The value as a whole number; nil for NULL and for text that is not one (`Int64(_:)`'s rules).
    func int64(_ column: Int) -> Int64?
}

extension RowView {
    public func string(_ column: Int) -> String? {
        withBytes(column) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    public func int64(_ column: Int) -> Int64? {
        withBytes(column) { bytes in bytes.flatMap { Int64(decimal: $0) } }
    }
}

extension Int64 {
    /// `Int64(_: String)` on ASCII bytes, without making a string: an optional sign and decimal digits.
    public init?(decimal bytes: UnsafeRawBufferPointer) {
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative || digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
        }
        self = value
    }
}
