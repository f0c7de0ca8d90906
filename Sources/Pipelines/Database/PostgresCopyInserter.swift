import CPostgres

/// `COPY ... FROM STDIN` in text format, sending about 256 KiB per `PQputCopyData`.
final class PostgresCopyInserter: BulkInserter {
    // Keeps the libpq connection alive while the COPY is in progress.
    private let owner: PostgresConnection
    private let statement: String
    private let columnCount: Int
    private let output = CopyOutputBuffer(capacity: flushThreshold + 64 * 1024)
    private var rows: Int64 = 0
    private let typedRow = RecordBuffer()
    private var inProgress = true

    static let flushThreshold = 256 * 1024

    init(connection: PostgresConnection, statement: String, columnCount: Int) {
        owner = connection
        self.statement = statement
        self.columnCount = columnCount
    }

    deinit {
        if inProgress, let connection = owner.connection {
            _ = endCopy(connection, abortReason: "bulk insert abandoned")
        }
    }

    func insert(_ record: RecordBuffer) throws {
        guard inProgress else { throw DatabaseError(.misuse, "bulk insert already finished", statement: statement) }
        guard record.count == columnCount else {
            throw DatabaseError(
                .misuse, "row \(rows + 1) has \(record.count) fields for \(columnCount) columns", statement: statement)
        }
        CopyText.encodeRow(record, into: output)
        rows += 1
        if output.count >= Self.flushThreshold { try flush() }
    }

    /// Each row as text through `insert(_:)`: COPY's text format carries every type.
    func insert(rows values: ArraySlice<SQLValue>) throws {
        try DatabaseError.requireWholeRows(values.count, columns: columnCount, statement: statement)
        var start = values.startIndex
        while start < values.endIndex {
            typedRow.removeAll()
            for value in values[start..<start + columnCount] {
                switch value {
                case .null: typedRow.appendNull()
                case .integer(let number): typedRow.appendField(String(number))
                case .text(let text): typedRow.appendField(text)
                case .blob(let bytes):
                    bytes.withUnsafeBytes { typedRow.appendBytes($0) }
                    typedRow.endField()
                }
            }
            try insert(typedRow)
            start += columnCount
        }
    }

    func insert(_ packed: PackedRows) throws {
        guard inProgress else { throw DatabaseError(.misuse, "bulk insert already finished", statement: statement) }
        try DatabaseError.requireFitting(packed, columns: columnCount, statement: statement)
        try CopyText.encodeRows(packed, into: output, statement: statement) {
            rows += 1
            if output.count >= Self.flushThreshold { try flush() }
        }
    }

    private func flush() throws {
        guard output.count > 0 else { return }
        let connection = try owner.openConnection(for: statement)
        let status = output.storage.withMemoryRebound(to: CChar.self, capacity: output.count) {
            PQputCopyData(connection, $0, Int32(output.count))
        }
        output.removeAll()
        guard status == 1 else {
            // The server usually stopped the COPY because of an error; its result says which.
            throw endCopy(connection, abortReason: "bulk insert failed")
                ?? PostgresResult.error(nil, connection: connection, statement: statement)
        }
    }

    @discardableResult
    func finish() throws -> Int64 {
        guard inProgress else { throw DatabaseError(.misuse, "bulk insert already finished", statement: statement) }
        try flush()
        let connection = try owner.openConnection(for: statement)
        if let failure = endCopy(connection, abortReason: nil) { throw failure }
        return rows
    }

    /// Ends the COPY (failing it on the server when `abortReason` is given) and reads the results;
    /// returns the first error.
    private func endCopy(_ connection: OpaquePointer, abortReason: String?) -> DatabaseError? {
        inProgress = false
        var failure: DatabaseError?
        if PQputCopyEnd(connection, abortReason) != 1 {
            failure = PostgresResult.error(nil, connection: connection, statement: statement)
        }
        while let result = PQgetResult(connection) {
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK {
                if let tuples = PQcmdTuples(result), let count = Int64(String(cString: tuples)) { rows = count }
            } else if status != PGRES_COPY_IN {
                let error = PostgresResult.error(result, connection: connection, statement: statement)
                if failure == nil || failure?.sqlState == nil { failure = error }
            }
            PQclear(result)
            if status == PGRES_COPY_IN { break }
        }
        return failure
    }
}
