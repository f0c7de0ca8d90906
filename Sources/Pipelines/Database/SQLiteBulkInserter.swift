import CSQLite

/// Inserts rows through prepared INSERTs kept in the connection's statement cache: `RecordBuffer` rows
/// one at a time with their bytes bound in place, typed rows `rowsPerStatement` at a time (a statement's
/// own cost, about 1.5 µs, is larger than a short row's).
final class SQLiteBulkInserter: BulkInserter {
    static let rowsPerStatement = 64

    // Keeps the database open while the inserter lives, and takes the statements back.
    private let connection: SQLiteConnection
    private let insert: String
    /// After the VALUES, e.g. an ON CONFLICT clause.
    private let suffix: String
    private let columnCount: Int
    private var single: SQLiteStatement?
    private var multiple: SQLiteStatement?
    private var inserted: Int64 = 0

    /// `insert` is `INSERT INTO table (columns) VALUES ` without the values; `suffix` follows them.
    init(connection: SQLiteConnection, insert: String, suffix: String = "", columnCount: Int) throws {
        self.connection = connection
        self.insert = insert
        self.suffix = suffix
        self.columnCount = columnCount
        single = try connection.checkOutStatement(insert + Self.placeholders(rows: 1, columns: columnCount) + suffix)
    }

    deinit { checkIn() }

    private static func placeholders(rows: Int, columns: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
        return Array(repeating: row, count: rows).joined(separator: ",")
    }

    private func checkIn() {
        for statement in [single, multiple].compactMap({ $0 }) { connection.checkIn(statement) }
        single = nil
        multiple = nil
    }

    private func finishedError() -> DatabaseError {
        DatabaseError(.misuse, "bulk insert already finished", statement: insert)
    }

    func insert(_ record: RecordBuffer) throws {
        guard let handle = single?.handle else { throw finishedError() }
        guard record.count == columnCount else {
            throw DatabaseError(
                .misuse, "row \(inserted + 1) has \(record.count) fields for \(columnCount) columns", statement: insert)
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
            guard status == SQLITE_OK else { throw rowError(status, handle, rows: 1) }
        }
        try step(handle, rows: 1)
    }

    func insert(rows values: ArraySlice<SQLValue>) throws {
        guard let single else { throw finishedError() }
        try DatabaseError.requireWholeRows(values.count, columns: columnCount, statement: insert)
        let wide = Self.rowsPerStatement * columnCount
        var start = values.startIndex
        if values.endIndex - start >= wide {
            let statement = try multipleStatement()
            while values.endIndex - start >= wide {
                try bindAndStep(statement, values[start..<start + wide], rows: Self.rowsPerStatement)
                start += wide
            }
        }
        while start < values.endIndex {
            try bindAndStep(single, values[start..<start + columnCount], rows: 1)
            start += columnCount
        }
    }

    /// The rows `rowsPerStatement` at a time, their text bound in place.
    func insert(_ packed: PackedRows) throws {
        guard let single else { throw finishedError() }
        try DatabaseError.requireFitting(packed, columns: columnCount, statement: insert)
        try packed.forEachRun(rowsPerRun: Self.rowsPerStatement) { rows, values, text, textStart in
            guard let handle = (rows == 1 ? single : try multipleStatement()).handle else { throw finishedError() }
            for (index, value) in values.enumerated() {
                let parameter = Int32(index + 1)
                let status: Int32
                switch value.kind {
                case .null: status = sqlite3_bind_null(handle, parameter)
                case .integer: status = sqlite3_bind_int64(handle, parameter, value.number)
                case .reference: throw DatabaseError.unresolvedReference(statement: insert)
                case .text:
                    let bytes = value.text(in: text, from: &textStart)
                    // SQLITE_STATIC: the step below reads the bytes while the rows hold them.
                    status = sqlite3_bind_text64(
                        handle, parameter, (bytes.baseAddress ?? SQLiteStatement.emptyBytes).assumingMemoryBound(to: CChar.self),
                        sqlite3_uint64(bytes.count), csqlite_static(), UInt8(SQLITE_UTF8))
                }
                guard status == SQLITE_OK else { throw rowError(status, handle, rows: rows) }
            }
            try step(handle, rows: rows)
        }
    }

    /// The statement of `rowsPerStatement` rows, prepared when first needed.
    private func multipleStatement() throws -> SQLiteStatement {
        if let multiple { return multiple }
        let statement = try connection.checkOutStatement(
            insert + Self.placeholders(rows: Self.rowsPerStatement, columns: columnCount) + suffix)
        multiple = statement
        return statement
    }

    private func bindAndStep(_ statement: SQLiteStatement, _ values: ArraySlice<SQLValue>, rows: Int) throws {
        guard let handle = statement.handle else { throw finishedError() }
        try statement.bind(values)
        try step(handle, rows: rows)
    }

    private func step(_ handle: OpaquePointer, rows: Int) throws {
        let status = sqlite3_step(handle)
        guard status == SQLITE_DONE else {
            let error = rowError(status, handle, rows: rows)
            sqlite3_reset(handle)
            throw error
        }
        sqlite3_reset(handle)
        inserted += Int64(rows)
    }

    private func rowError(_ status: Int32, _ handle: OpaquePointer, rows: Int) -> DatabaseError {
        var error =
            sqlite3_db_handle(handle).map { SQLiteConnection.error($0, status, statement: insert) }
            ?? DatabaseError(.other, String(cString: sqlite3_errstr(status)), resultCode: status, statement: insert)
        let which = rows == 1 ? "row \(inserted + 1)" : "rows \(inserted + 1) to \(inserted + Int64(rows))"
        error.message = "\(which): \(error.message)"
        return error
    }

    @discardableResult
    func finish() throws -> Int64 {
        guard single != nil else { throw finishedError() }
        checkIn()
        return inserted
    }
}
