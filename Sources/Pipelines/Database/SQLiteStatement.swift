import CSQLite

/// One prepared SQLite statement. Finalized on `finalize()` or deinit, whichever comes first.
final class SQLiteStatement {
    private(set) var handle: OpaquePointer?
    let sql: String
    private let database: OpaquePointer
    private var boundText: [UInt8] = []
    private var cachedSlots: [Int32]?
    /// In use by its connection's caller (`SQLiteConnection.checkOutStatement`).
    var isCheckedOut = false

    init(database: OpaquePointer, sql: String) throws {
        self.database = database
        self.sql = sql
        var prepared: OpaquePointer?
        // The tail points into the C string, so it is read while that string is alive.
        let (status, hasMore) = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let status = sqlite3_prepare_v3(database, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, &tail)
            return (status, tail.map { !Self.isBlank($0) } ?? false)
        }
        guard status == SQLITE_OK, let prepared else {
            sqlite3_finalize(prepared)
            throw SQLiteConnection.error(database, status, statement: sql)
        }
        handle = prepared
        if hasMore {
            finalize()
            throw DatabaseError(
                .misuse, "execute and query take one statement; use executeScript for several", statement: sql)
        }
    }

    deinit { finalize() }

    func finalize() {
        sqlite3_finalize(handle)
        handle = nil
    }

    private static func isBlank(_ text: UnsafePointer<CChar>) -> Bool {
        var cursor = text
        while cursor.pointee != 0 {
            switch UInt8(bitPattern: cursor.pointee) {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ";"): break
            default: return false
            }
            cursor += 1
        }
        return true
    }

    /// Binds `parameters` in order. Their text is copied once into `boundText`, which SQLite reads in
    /// place (SQLITE_STATIC): it stays unchanged until the next `bind`, and `reset` clears the bindings.
    func bind(_ parameters: some Collection<SQLValue>) throws {
        guard let handle else { throw DatabaseError(.misuse, "statement is finalized", statement: sql) }
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard parameters.count == expected else {
            throw DatabaseError(
                .misuse, "statement takes \(expected) parameters, got \(parameters.count)", statement: sql)
        }
        boundText.removeAll(keepingCapacity: true)
        for case .text(let text) in parameters { boundText.append(contentsOf: text.utf8) }
        let slots = parameterSlots(handle, count: expected)
        let status = boundText.withUnsafeBytes { bytes in
            let base = bytes.baseAddress ?? Self.emptyBytes
            var offset = 0
            for (position, value) in parameters.enumerated() {
                let index = slots[position]
                let status: Int32
                switch value {
                case .null:
                    status = sqlite3_bind_null(handle, index)
                case .integer(let number):
                    status = sqlite3_bind_int64(handle, index, number)
                case .text(let text):
                    let count = text.utf8.count
                    status = sqlite3_bind_text64(
                        handle, index, (base + offset).assumingMemoryBound(to: CChar.self), sqlite3_uint64(count),
                        csqlite_static(), UInt8(SQLITE_UTF8))
                    offset += count
                case .blob(let bytes):
                    status = bytes.withUnsafeBytes {
                        sqlite3_bind_blob64(
                            handle, index, $0.baseAddress ?? Self.emptyBytes, sqlite3_uint64($0.count), csqlite_transient())
                    }
                }
                guard status == SQLITE_OK else { return status }
            }
            return SQLITE_OK
        }
        guard status == SQLITE_OK else { throw SQLiteConnection.error(database, status, statement: sql) }
    }

    /// SQLite numbers parameters in the order they first appear in the text, so `$2 … $1` would swap
    /// them: the index of each `$N` is looked up by its name (a statement of `?` keeps its order).
    private func parameterSlots(_ handle: OpaquePointer, count: Int) -> [Int32] {
        if let slots = cachedSlots { return slots }
        var slots = Array(Int32(1)...Int32(max(count, 1))).prefix(count).map { $0 }
        for position in 0..<count {
            let index = sqlite3_bind_parameter_index(handle, "$\(position + 1)")
            if index > 0 { slots[position] = index }
        }
        cachedSlots = slots
        return slots
    }

    /// A non-null pointer for empty values: a null pointer would bind SQL NULL instead of an empty value.
    static var emptyBytes: UnsafeRawPointer { UnsafeRawPointer(("" as StaticString).utf8Start) }

    /// Steps once; true when a row is available, false when done.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let status: throw SQLiteConnection.error(database, status, statement: sql)
        }
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    var columns: [ColumnInfo] {
        (0..<sqlite3_column_count(handle)).map { index in
            ColumnInfo(name: sqlite3_column_name(handle, index).map { String(cString: $0) } ?? "", kind: nil)
        }
    }
}

/// The current row of a stepping SQLite statement.
struct SQLiteRow: RowView {
    let statement: OpaquePointer
    let columnCount: Int

    func kind(_ column: Int) -> ValueKind {
        switch sqlite3_column_type(statement, Int32(column)) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .decimal
        case SQLITE_BLOB: .binary
        case SQLITE_NULL: .null
        default: .text
        }
    }

    /// The shortest decimal text that reads back as `value`; `Inf`, `-Inf` and `NaN` as SQLite writes them.
    static func shortestText(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "Inf" }
        return value.description
    }

    func int64(_ column: Int) -> Int64? {
        switch sqlite3_column_type(statement, Int32(column)) {
        case SQLITE_NULL: nil
        case SQLITE_INTEGER: sqlite3_column_int64(statement, Int32(column))
        default: withBytes(column) { bytes in bytes.flatMap { Int64(decimal: $0) } }
        }
    }

    func withBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        let index = Int32(column)
        switch sqlite3_column_type(statement, index) {
        case SQLITE_NULL:
            return try body(nil)
        case SQLITE_BLOB:
            let start = sqlite3_column_blob(statement, index)
            let count = Int(sqlite3_column_bytes(statement, index))
            return try body(UnsafeRawBufferPointer(start: start ?? SQLiteStatement.emptyBytes, count: count))
        case SQLITE_FLOAT:
            // SQLite's own text of a REAL ("%!.15g") drops digits (0.30000000000000004 becomes 0.3) and the
            // sign of -0.0; Swift's shortest form reads back to the same double.
            var text = Self.shortestText(sqlite3_column_double(statement, index))
            return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        default:
            let start = sqlite3_column_text(statement, index)
            let count = Int(sqlite3_column_bytes(statement, index))
            return try body(UnsafeRawBufferPointer(start: start.map(UnsafeRawPointer.init) ?? SQLiteStatement.emptyBytes, count: count))
        }
    }
}
