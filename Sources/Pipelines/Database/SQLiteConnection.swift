import CSQLite

/// The embedded default database. One connection per thread (opened with `SQLITE_OPEN_NOMUTEX`).
public final class SQLiteConnection: DatabaseConnection {
    public let locator: DatabaseLocator
    public var dialect: SQLDialect { .sqlite }
    private var database: OpaquePointer?
    let logger: Logger
    /// Prepared statements of `execute` and `query` by SQL text. A statement in use is taken out of the
    /// cache, so a nested call with the same SQL prepares its own.
    private var statementCache: [String: SQLiteStatement] = [:]
    private static let statementCacheLimit = 256
    public private(set) var canceller = StatementCanceller()
    /// While `startBackgroundCheckpoints` is in effect: the thread that checkpoints the WAL.
    var backgroundCheckpointer: SQLiteCheckpointer?

    public init(path: String, logger: Logger) throws {
        locator = .sqlite(path: path)
        self.logger = logger
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &opened, flags, nil)
        guard status == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            throw DatabaseError(
                .connectionFailed, "cannot open \(locator.redacted): \(message)", resultCode: status)
        }
        database = opened
        canceller = StatementCanceller(sqlite: opened)
        sqlite3_extended_result_codes(opened, 1)
        sqlite3_busy_timeout(opened, 5000)
        do {
            try executeScript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
        } catch {
            close()
            throw error
        }
        logger.debug("database.open", "opened \(locator.redacted)")
    }

    deinit { close() }

    public func close() {
        canceller.invalidate()
        try? endBackgroundCheckpoints(checkpoint: false)
        // A statement still checked out is finalized when it is checked in.
        for statement in statementCache.values where !statement.isCheckedOut { statement.finalize() }
        statementCache.removeAll()
        sqlite3_close_v2(database)
        database = nil
    }

    func openDatabase(for sql: String) throws -> OpaquePointer {
        guard let database else { throw DatabaseError(.misuse, "the SQLite connection is closed", statement: sql) }
        return database
    }

    static func error(_ database: OpaquePointer, _ status: Int32, statement: String?) -> DatabaseError {
        let extended = sqlite3_extended_errcode(database)
        // The connection's last error may belong to another call when `status` came from elsewhere.
        let code = (extended & 0xff) == (status & 0xff) ? extended : status
        let message = (extended & 0xff) == (status & 0xff)
            ? String(cString: sqlite3_errmsg(database)) : String(cString: sqlite3_errstr(status))
        return DatabaseError(
            DatabaseError.Code(sqliteResultCode: code), message, resultCode: code, statement: statement)
    }

    public func executeScript(_ sql: String) throws {
        if sql.utf8.contains(0) {
            throw DatabaseError(.misuse, "the SQL holds a NUL character; the statements after it would be lost", statement: sql)
        }
        let database = try openDatabase(for: sql)
        var errorText: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(database, sql, nil, nil, &errorText)
        guard status != SQLITE_OK else { return }
        var error = Self.error(database, status, statement: sql)
        if let errorText {
            error.message = String(cString: errorText)
            sqlite3_free(errorText)
        }
        throw error
    }

    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int64 {
        let database = try openDatabase(for: sql)
        return try withCachedStatement(sql) { statement in
            try statement.bind(parameters)
            while try statement.step() {}
            return sqlite3_changes64(database)
        }
    }

    public func query(
        _ sql: String, _ parameters: [SQLValue], columns: ([ColumnInfo]) throws -> Void,
        row: (any RowView) throws -> Void
    ) throws {
        try withCachedStatement(sql) { statement in
            try statement.bind(parameters)
            let columnInfo = statement.columns
            try columns(columnInfo)
            guard let handle = statement.handle else { return }
            let view = SQLiteRow(statement: handle, columnCount: columnInfo.count)
            while try statement.step() {
                try row(view)
            }
        }
    }

    public func export(
        _ sql: String, columns: ([ColumnInfo]) throws -> Void, row: (any RowView) throws -> Void
    ) throws {
        try query(sql, [], columns: columns, row: row)
    }

    private func withCachedStatement<R>(_ sql: String, _ body: (SQLiteStatement) throws -> R) throws -> R {
        let statement = try checkOutStatement(sql)
        defer { checkIn(statement) }
        return try body(statement)
    }

    /// The prepared statement for `sql`, from the cache (or prepared); hand it back with `checkIn`.
    ///
    /// A cached statement stays in the cache while checked out, so that a use costs two lookups of its
    /// SQL and no removal (removing from a dictionary keyed by long strings hashes its neighbours again).
    /// The same SQL run again while it is out (a query per row of another) gets a statement of its own.
    func checkOutStatement(_ sql: String) throws -> SQLiteStatement {
        let database = try openDatabase(for: sql)
        if let cached = statementCache[sql], !cached.isCheckedOut {
            cached.isCheckedOut = true
            return cached
        }
        let statement = try SQLiteStatement(database: database, sql: sql)
        statement.isCheckedOut = true
        return statement
    }

    /// Resets `statement` and keeps it for the next use of its SQL (finalizes it once the connection is closed).
    func checkIn(_ statement: SQLiteStatement) {
        statement.reset()
        statement.isCheckedOut = false
        guard database != nil else {
            statement.finalize()
            return
        }
        if let cached = statementCache[statement.sql] {
            if cached !== statement { statement.finalize() }
            return
        }
        if statementCache.count >= Self.statementCacheLimit {
            statementCache = statementCache.filter { _, cached in
                if cached.isCheckedOut { return true }
                cached.finalize()
                return false
            }
        }
        statementCache[statement.sql] = statement
    }

    public func begin() throws { try execute("BEGIN IMMEDIATE", []) }
    public func commit() throws { try execute("COMMIT", []) }
    public func rollback() throws { try execute("ROLLBACK", []) }

    public func beginReadOnly() throws {
        try executeScript("PRAGMA query_only = ON; BEGIN DEFERRED")
    }

    public func endReadOnly() throws {
        defer { try? executeScript("PRAGMA query_only = OFF") }
        try rollback()
    }

    public func tableColumns(_ table: SQLName) throws -> [String]? {
        let names = try tableInfo(table).map(\.name)
        return names.isEmpty ? nil : names
    }

    public func columnTypes(of table: SQLName) throws -> [String: String] {
        Dictionary(try tableInfo(table).map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
    }

    private func tableInfo(_ table: SQLName) throws -> [(name: String, type: String)] {
        let pragma =
            table.parts.count == 2
            ? "PRAGMA \(SQLName.quote(table.parts[0])).table_info(\(SQLName.quote(table.name)))"
            : "PRAGMA table_info(\(SQLName.quote(table.name)))"
        var columns: [(name: String, type: String)] = []
        try query(pragma, [], columns: { _ in }, row: { row in columns.append((row.string(1) ?? "", row.string(2) ?? "")) })
        return columns
    }

    public func bulkInsert(into table: SQLName, columns: [String]) throws -> any BulkInserter {
        try bulkInserter(into: table, columns: columns, suffix: "")
    }

    public func bulkUpsert(into table: SQLName, columns: [String], key: [String]) throws -> any BulkInserter {
        try bulkInserter(into: table, columns: columns, suffix: Self.onConflictClause(columns: columns, key: key))
    }

    private func bulkInserter(into table: SQLName, columns: [String], suffix: String) throws -> any BulkInserter {
        let quotedColumns = columns.map(SQLName.quote).joined(separator: ",")
        let insert = "INSERT INTO \(table.quoted) (\(quotedColumns)) VALUES "
        let database = try openDatabase(for: insert)
        guard sqlite3_get_autocommit(database) == 0 else {
            throw DatabaseError(.misuse, "bulk insert needs an open transaction (call begin() first)", statement: insert)
        }
        return try SQLiteBulkInserter(connection: self, insert: insert, suffix: suffix, columnCount: columns.count)
    }

    public func uniqueKeys(of table: SQLName) throws -> [[String]] {
        let schema = table.parts.count == 2 ? SQLName.quote(table.parts[0]) + "." : ""
        var keys: [[String]] = []
        var primaryKey: [(position: Int64, name: String)] = []
        try query("PRAGMA \(schema)table_info(\(SQLName.quote(table.name)))", [], columns: { _ in }) { row in
            if let position = row.int64(5), position > 0 { primaryKey.append((position, row.string(1) ?? "")) }
        }
        if !primaryKey.isEmpty { keys.append(primaryKey.sorted { $0.position < $1.position }.map(\.name)) }
        var indexes: [String] = []
        try query("PRAGMA \(schema)index_list(\(SQLName.quote(table.name)))", [], columns: { _ in }) { row in
            if row.int64(2) == 1, row.int64(4) == 0, let name = row.string(1) { indexes.append(name) }
        }
        for index in indexes {
            var columns: [String?] = []
            try query("PRAGMA \(schema)index_info(\(SQLName.quote(index)))", [], columns: { _ in }) { row in
                columns.append(row.string(2))
            }
            // An expression index has NULL names: ON CONFLICT cannot name it by columns.
            if !columns.isEmpty, columns.allSatisfy({ $0 != nil }) { keys.append(columns.compactMap { $0 }) }
        }
        return keys
    }
}
