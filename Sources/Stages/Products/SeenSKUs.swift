import CSQLite
import Pipelines

/// The SKUs an import has read so far, each with the line that first used it, for the duplicate-SKU
/// check. They live in a private temporary SQLite database with a small page cache, so memory stays a
/// few MiB however many SKUs a file has; SQLite deletes the file when the set is closed.
///
/// One thread at a time (the connection is opened without SQLite's mutex).
final class SeenSKUs {
    private var database: OpaquePointer?
    private var insert: OpaquePointer?
    private var lookup: OpaquePointer?
    /// Inserts per transaction: each commit writes the dirty pages out, which keeps the cache small.
    private let commitEvery: Int
    private var uncommitted = 0

    /// `cacheKiB`: SQLite's page cache; `commitEvery`: inserts between commits.
    init(cacheKiB: Int = 4096, commitEvery: Int = 100_000) throws {
        self.commitEvery = max(1, commitEvery)
        var opened: OpaquePointer?
        // An empty file name opens a private database in a temporary file, removed when it is closed.
        let status = sqlite3_open_v2("", &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        database = opened
        guard status == SQLITE_OK, opened != nil else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            close()
            throw DatabaseError(
                .connectionFailed, "cannot open the temporary database of the duplicate-SKU check: \(message)",
                resultCode: status)
        }
        do {
            // Scratch data: no journal, no syncing; a crash loses nothing that matters.
            try execute(
                """
                PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;
                PRAGMA cache_size=-\(max(64, cacheKiB));
                CREATE TABLE seen (sku TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID;
                BEGIN
                """)
            insert = try prepare("INSERT INTO seen (sku, line) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
            lookup = try prepare("SELECT line FROM seen WHERE sku = ?1")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the database, which deletes its file. Nothing is committed: the data is thrown away.
    func close() {
        sqlite3_finalize(insert)
        sqlite3_finalize(lookup)
        insert = nil
        lookup = nil
        sqlite3_close_v2(database)
        database = nil
    }

    /// Records that `line` uses `sku`. Returns nil when no earlier line did, else the first line that did
    /// (which stays the one recorded).
    func record(_ sku: String, line: Int) throws -> Int? {
        guard let database, let insert, let lookup else {
            throw DatabaseError(.misuse, "the duplicate-SKU check is closed")
        }
        var text = sku
        let isNew = try text.withUTF8 { bytes -> Bool in
            // SQLITE_STATIC: the bytes outlive the step that reads them.
            try bind(bytes, to: insert)
            sqlite3_bind_int64(insert, 2, Int64(line))
            let status = sqlite3_step(insert)
            sqlite3_reset(insert)
            guard status == SQLITE_DONE else { throw error(status, in: insert) }
            return sqlite3_changes(database) > 0
        }
        if isNew {
            uncommitted += 1
            if uncommitted >= commitEvery {
                try execute("COMMIT; BEGIN")
                uncommitted = 0
            }
            return nil
        }
        return try text.withUTF8 { bytes -> Int in
            try bind(bytes, to: lookup)
            defer { sqlite3_reset(lookup) }
            let status = sqlite3_step(lookup)
            guard status == SQLITE_ROW else {
                throw status == SQLITE_DONE
                    ? DatabaseError(.other, "the duplicate-SKU check lost SKU '\(sku)'") : error(status, in: lookup)
            }
            return Int(sqlite3_column_int64(lookup, 0))
        }
    }

    private func bind(_ bytes: UnsafeBufferPointer<UInt8>, to statement: OpaquePointer) throws {
        // A null pointer would bind NULL, not an empty text.
        let start = UnsafeRawPointer(bytes.baseAddress) ?? UnsafeRawPointer(("" as StaticString).utf8Start)
        let status = sqlite3_bind_text(
            statement, 1, start.assumingMemoryBound(to: CChar.self), Int32(bytes.count), csqlite_static())
        guard status == SQLITE_OK else { throw error(status, in: statement) }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw error(status, sql: sql)
        }
        return statement
    }

    private func execute(_ sql: String) throws {
        let status = sqlite3_exec(database, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw error(status, sql: sql) }
    }

    private func error(_ status: Int32, in statement: OpaquePointer) -> DatabaseError {
        error(status, sql: sqlite3_sql(statement).map { String(cString: $0) })
    }

    private func error(_ status: Int32, sql: String?) -> DatabaseError {
        let message = database.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
        return DatabaseError(
            DatabaseError.Code(sqliteResultCode: status), "duplicate-SKU check: \(message)", resultCode: status,
            statement: sql)
    }
}
