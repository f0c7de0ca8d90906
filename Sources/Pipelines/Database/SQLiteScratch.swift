import CSQLite

/// A private SQLite database, in a temporary file that SQLite removes when it is closed or in a file of
/// the caller's: scratch space for sets that must not grow memory with their input (the duplicate-SKU
/// check, an inventory comparison). No journal, no syncing (a caller that needs a write to survive a
/// crash sets `journal_mode` itself), an exclusive lock and a page cache of `cacheKiB`; one thread at a time.
///
/// Statements bind bytes in place (`ScratchStatement.bind(text:at:)`), without a copy per value: the
/// point of a scratch set is to be cheap per row.
public final class SQLiteScratch {
    private var database: OpaquePointer?
    private var statements: [ScratchStatement] = []
    /// Names the database in errors, e.g. "the duplicate-SKU check".
    let purpose: String

    /// `path` "" (the default) is a private temporary file, removed when the database is closed; any
    /// other path is a file that stays, for work a resumed run takes up again.
    public init(path: String = "", purpose: String, cacheKiB: Int) throws {
        self.purpose = purpose
        var opened: OpaquePointer?
        let status = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        database = opened
        guard status == SQLITE_OK, opened != nil else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            close()
            throw DatabaseError(
                .connectionFailed, "cannot open the temporary database of \(purpose): \(message)", resultCode: status)
        }
        do {
            try execute(
                """
                PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;
                PRAGMA cache_size=-\(max(64, cacheKiB))
                """)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the database, which deletes its file.
    public func close() {
        for statement in statements { statement.finalize() }
        statements = []
        sqlite3_close_v2(database)
        database = nil
    }

    /// Runs statements separated by `;`, without parameters or results.
    public func execute(_ sql: String) throws {
        let database = try open(for: sql)
        let status = sqlite3_exec(database, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw error(status, sql: sql) }
    }

    /// Prepares one statement; it is finalized when the database closes.
    public func prepare(_ sql: String) throws -> ScratchStatement {
        let database = try open(for: sql)
        var prepared: OpaquePointer?
        let status = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard status == SQLITE_OK, let prepared else {
            sqlite3_finalize(prepared)
            throw error(status, sql: sql)
        }
        let statement = ScratchStatement(handle: prepared, scratch: self, sql: sql)
        statements.append(statement)
        return statement
    }

    private func open(for sql: String) throws -> OpaquePointer {
        guard let database else { throw DatabaseError(.misuse, "\(purpose) is closed", statement: sql) }
        return database
    }

    func error(_ status: Int32, sql: String?) -> DatabaseError {
        let message = database.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
        return DatabaseError(
            DatabaseError.Code(sqliteResultCode: status), "\(purpose): \(message)", resultCode: status, statement: sql)
    }
}

/// A prepared statement of a `SQLiteScratch` database.
public final class ScratchStatement {
    private var handle: OpaquePointer?
    private unowned let scratch: SQLiteScratch
    private let sql: String

    init(handle: OpaquePointer, scratch: SQLiteScratch, sql: String) {
        self.handle = handle
        self.scratch = scratch
        self.sql = sql
    }

    func finalize() {
        sqlite3_finalize(handle)
        handle = nil
    }

    private func live() throws -> OpaquePointer {
        guard let handle else { throw DatabaseError(.misuse, "\(scratch.purpose) is closed", statement: sql) }
        return handle
    }

    /// Binds text read in place: `bytes` must stay unchanged until the statement is stepped and reset.
    public func bind(text bytes: UnsafeRawBufferPointer, at index: Int32) throws {
        let handle = try live()
        // A null pointer would bind NULL, not an empty text.
        let start = bytes.baseAddress ?? SQLiteStatement.emptyBytes
        let status = sqlite3_bind_text(
            handle, index, start.assumingMemoryBound(to: CChar.self), Int32(bytes.count), csqlite_static())
        guard status == SQLITE_OK else { throw scratch.error(status, sql: sql) }
    }

    /// Binds a blob read in place: `bytes` must stay unchanged until the statement is stepped and reset.
    public func bind(blob bytes: UnsafeRawBufferPointer, at index: Int32) throws {
        let handle = try live()
        let start = bytes.baseAddress ?? SQLiteStatement.emptyBytes
        let status = sqlite3_bind_blob(handle, index, start, Int32(bytes.count), csqlite_static())
        guard status == SQLITE_OK else { throw scratch.error(status, sql: sql) }
    }

    public func bindNull(at index: Int32) throws {
        let status = sqlite3_bind_null(try live(), index)
        guard status == SQLITE_OK else { throw scratch.error(status, sql: sql) }
    }

    public func bind(_ value: Int64, at index: Int32) throws {
        let status = sqlite3_bind_int64(try live(), index, value)
        guard status == SQLITE_OK else { throw scratch.error(status, sql: sql) }
    }

    /// Steps once: true when a row is available, false when done.
    public func step() throws -> Bool {
        switch sqlite3_step(try live()) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let status: throw scratch.error(status, sql: sql)
        }
    }

    public func reset() { sqlite3_reset(handle) }

    /// Whether the current row's value in `column` is NULL.
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    /// The current row's integer in `column`.
    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// The current row's bytes in `column`, valid during the call.
    public func withBytes<R>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: start ?? SQLiteStatement.emptyBytes, count: count))
    }
}
