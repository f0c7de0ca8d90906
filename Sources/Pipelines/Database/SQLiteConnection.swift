import CSQLite

/// The embedded default database. One connection per thread (opened with `SQLITE_OPEN_NOMUTEX`).
public final class SQLiteConnection: DatabaseConnection {
    public let locator: DatabaseLocator
    public var dialect: SQLDialect { .sqlite }
    private var database: OpaquePointer?
    private let logger: Logger
    /// Prepared statements of `execute` and `query` by SQL text. A statement in use is taken out of the
    /// cache, so a nested call with the same SQL prepares its own.
    private var statementCache: [String: SQLiteStatement] = [:]
    private static let statementCacheLimit = 64

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
        for statement in statementCache.values { statement.finalize() }
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
        let database = try openDatabase(for: sql)
        let statement = try statementCache.removeValue(forKey: sql) ?? SQLiteStatement(database: database, sql: sql)
        defer {
            statement.reset()
            if self.database != nil {
                if statementCache.count >= Self.statementCacheLimit {
                    for cached in statementCache.values { cached.finalize() }
                    statementCache.removeAll()
                }
                statementCache[sql]?.finalize()
                statementCache[sql] = statement
            } else {
                statement.finalize()
            }
        }
        return try body(statement)
    }

    public func begin() throws { try execute("BEGIN IMMEDIATE", []) }
    public func commit() throws { try execute("COMMIT", []) }
    public func rollback() throws { try execute("ROLLBACK", []) }

    public func tableColumns(_ table: SQLName) throws -> [String]? {
        let pragma =
            table.parts.count == 2
            ? "PRAGMA \(SQLName.quote(table.parts[0])).table_info(\(SQLName.quote(table.name)))"
            : "PRAGMA table_info(\(SQLName.quote(table.name)))"
        var names: [String] = []
        try query(pragma, [], columns: { _ in }, row: { row in names.append(row.string(1) ?? "") })
        return names.isEmpty ? nil : names
    }

    public func bulkInsert(into table: SQLName, columns: [String]) throws -> any BulkInserter {
        let quotedColumns = columns.map(SQLName.quote).joined(separator: ",")
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ",")
        let sql = "INSERT INTO \(table.quoted) (\(quotedColumns)) VALUES (\(placeholders))"
        let database = try openDatabase(for: sql)
        guard sqlite3_get_autocommit(database) == 0 else {
            throw DatabaseError(.misuse, "bulk insert needs an open transaction (call begin() first)", statement: sql)
        }
        return SQLiteBulkInserter(
            connection: self, statement: try SQLiteStatement(database: database, sql: sql), columnCount: columns.count)
    }
}

/// Inserts rows with one prepared INSERT, binding the record's bytes in place.
final class SQLiteBulkInserter: BulkInserter {
    // Keeps the database open while the inserter lives.
    private let connection: SQLiteConnection
    private let statement: SQLiteStatement
    private let columnCount: Int
    private var inserted: Int64 = 0

    init(connection: SQLiteConnection, statement: SQLiteStatement, columnCount: Int) {
        self.connection = connection
        self.statement = statement
        self.columnCount = columnCount
    }

    func insert(_ record: RecordBuffer) throws {
        guard let handle = statement.handle else {
            throw DatabaseError(.misuse, "bulk insert already finished", statement: statement.sql)
        }
        guard record.count == columnCount else {
            throw DatabaseError(
                .misuse, "row \(inserted + 1) has \(record.count) fields for \(columnCount) columns",
                statement: statement.sql)
        }
        for index in 0..<columnCount {
            let parameter = Int32(index + 1)
            let status: Int32
            if let field = record.field(index) {
                // SQLITE_STATIC: the step below reads the bytes before the record changes.
                status = sqlite3_bind_text(
                    handle, parameter, (field.baseAddress ?? SQLiteStatement.emptyBytes).assumingMemoryBound(to: CChar.self),
                    Int32(field.count), csqlite_static())
            } else {
                status = sqlite3_bind_null(handle, parameter)
            }
            guard status == SQLITE_OK else { throw rowError(status) }
        }
        let status = sqlite3_step(handle)
        guard status == SQLITE_DONE else {
            let error = rowError(status)
            sqlite3_reset(handle)
            throw error
        }
        sqlite3_reset(handle)
        inserted += 1
    }

    private func rowError(_ status: Int32) -> DatabaseError {
        let database = sqlite3_db_handle(statement.handle)
        var error =
            database.map { SQLiteConnection.error($0, status, statement: statement.sql) }
            ?? DatabaseError(.other, String(cString: sqlite3_errstr(status)), resultCode: status, statement: statement.sql)
        error.message = "row \(inserted + 1): \(error.message)"
        return error
    }

    @discardableResult
    func finish() throws -> Int64 {
        statement.finalize()
        return inserted
    }
}
