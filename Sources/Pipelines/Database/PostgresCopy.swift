import CPostgres

extension PostgresConnection {
    /// `COPY (sql) TO STDOUT` in text format. Column names and kinds come from describing the statement
    /// first, because COPY itself returns no column descriptions.
    public func export(
        _ sql: String, columns: ([ColumnInfo]) throws -> Void, row: (any RowView) throws -> Void
    ) throws {
        let connection = try openConnection(for: sql)
        let body = SQLText.withoutTrailingSemicolons(sql)
        let columnInfo = try describe(body, connection: connection)
        try columns(columnInfo)

        let record = RecordBuffer()
        let view = CopyRowView(record: record, kinds: columnInfo.map { $0.kind ?? .text })
        try copyOut("COPY (\(body)) TO STDOUT", connection: connection, statement: sql) { line in
            CopyText.decodeRow(line, into: record)
            guard record.count == view.columnCount || view.columnCount == 0 else {
                throw DatabaseError(
                    .other, "COPY row has \(record.count) fields for \(view.columnCount) columns", statement: sql)
            }
            try row(view)
        }
    }

    /// `COPY (sql) TO STDOUT WITH (FORMAT csv)`, the server's bytes passed through row by row.
    public func exportCSV(_ sql: String, header: Bool, line: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        let connection = try openConnection(for: sql)
        let body = SQLText.withoutTrailingSemicolons(sql)
        guard try !describe(body, connection: connection).contains(where: { $0.kind == .boolean }) else { return false }
        try copyOut(
            "COPY (\(body)) TO STDOUT WITH (FORMAT csv, HEADER \(header ? "true" : "false"))", connection: connection,
            statement: sql, row: line)
        return true
    }

    /// Runs a `COPY ... TO STDOUT` and hands each row's bytes to `row`.
    private func copyOut(
        _ copy: String, connection: OpaquePointer, statement sql: String, row: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let started = PQexec(connection, copy)
        let startedStatus = started.map(PQresultStatus)
        guard startedStatus == PGRES_COPY_OUT else {
            defer { PQclear(started) }
            throw PostgresResult.error(started, connection: connection, statement: sql)
        }
        PQclear(started)
        do {
            var line: UnsafeMutablePointer<CChar>?
            while case let length = PQgetCopyData(connection, &line, 0), length >= 0, let data = line {
                defer { PQfreemem(data) }
                try row(UnsafeRawBufferPointer(start: data, count: Int(length)))
            }
        } catch {
            cancelCopyOut(connection)
            throw error
        }
        var failure: DatabaseError?
        while let result = PQgetResult(connection) {
            if !PostgresResult.isSuccess(result), failure == nil {
                failure = PostgresResult.error(result, connection: connection, statement: sql)
            }
            PQclear(result)
        }
        if let failure { throw failure }
    }

    private func describe(_ sql: String, connection: OpaquePointer) throws -> [ColumnInfo] {
        let prepared = PQprepare(connection, "", sql, 0, nil)
        defer { PQclear(prepared) }
        guard PostgresResult.isSuccess(prepared) else {
            throw PostgresResult.error(prepared, connection: connection, statement: sql)
        }
        let description = PQdescribePrepared(connection, "")
        defer { PQclear(description) }
        guard PostgresResult.isSuccess(description), let description else {
            throw PostgresResult.error(description, connection: connection, statement: sql)
        }
        return PostgresResult.columns(description)
    }

    private func cancelCopyOut(_ connection: OpaquePointer) {
        if let cancel = PQgetCancel(connection) {
            var errorText = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancel, &errorText, Int32(errorText.count))
            PQfreeCancel(cancel)
        }
        var line: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(connection, &line, 0) >= 0 {
            PQfreemem(line)
            line = nil
        }
        drainResults(connection)
    }

}

/// The text format of COPY: fields separated by tabs, rows ended by newlines, `\N` for NULL, and
/// backslash escapes for the separators and backslash itself.
enum CopyText {
    private static let backslash = UInt8(ascii: "\\")
    private static let tab = UInt8(ascii: "\t")
    private static let newline = UInt8(ascii: "\n")

    /// Splits one COPY line (with or without its newline) into `record`'s fields, undoing escapes.
    static func decodeRow(_ line: UnsafeRawBufferPointer, into record: RecordBuffer) {
        record.removeAll()
        var end = line.count
        if end > 0, line[end - 1] == newline { end -= 1 }
        var index = 0
        while true {
            if end - index >= 2, line[index] == backslash, line[index + 1] == UInt8(ascii: "N"),
                index + 2 == end || line[index + 2] == tab
            {
                record.appendNull()
                index += 2
            } else {
                var runStart = index
                while index < end, line[index] != tab {
                    guard line[index] == backslash else {
                        index += 1
                        continue
                    }
                    record.appendBytes(UnsafeRawBufferPointer(rebasing: line[runStart..<index]))
                    index += 1
                    if index < end { index = appendEscape(line, at: index, end: end, into: record) }
                    runStart = index
                }
                record.appendBytes(UnsafeRawBufferPointer(rebasing: line[runStart..<index]))
                record.endField()
            }
            guard index < end else { return }
            index += 1  // the tab
        }
    }

    /// Appends the byte an escape stands for; `index` is just after the backslash. Returns the index
    /// after the escape.
    private static func appendEscape(
        _ line: UnsafeRawBufferPointer, at index: Int, end: Int, into record: RecordBuffer
    ) -> Int {
        let letter = line[index]
        switch letter {
        case UInt8(ascii: "b"): record.appendByte(8)
        case UInt8(ascii: "f"): record.appendByte(12)
        case UInt8(ascii: "n"): record.appendByte(10)
        case UInt8(ascii: "r"): record.appendByte(13)
        case UInt8(ascii: "t"): record.appendByte(9)
        case UInt8(ascii: "v"): record.appendByte(11)
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var value: UInt8 = 0
            var next = index
            while next < end, next < index + 3, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(line[next]) {
                value = value &<< 3 | (line[next] - UInt8(ascii: "0"))
                next += 1
            }
            record.appendByte(value)
            return next
        case UInt8(ascii: "x"):
            var value: UInt8 = 0
            var next = index + 1
            while next < end, next < index + 3, let digit = PostgresResult.hexValue(line[next]) {
                value = value << 4 | digit
                next += 1
            }
            guard next > index + 1 else {
                record.appendByte(letter)
                return index + 1
            }
            record.appendByte(value)
            return next
        default:
            record.appendByte(letter)
        }
        return index + 1
    }

    /// Appends one row in COPY text format to `output`.
    static func encodeRow(_ record: RecordBuffer, into output: CopyOutputBuffer) {
        for index in 0..<record.count {
            if index > 0 { output.append(tab) }
            guard let field = record.field(index) else {
                output.append(backslash)
                output.append(UInt8(ascii: "N"))
                continue
            }
            appendEscaped(field, into: output)
        }
        output.append(newline)
    }

    /// Appends the packed rows in COPY text format to `output`, calling `rowEnded` after each row.
    static func encodeRows(
        _ rows: PackedRows, into output: CopyOutputBuffer, statement: String, rowEnded: () throws -> Void
    ) throws {
        try rows.forEachRun(rowsPerRun: 1) { _, values, text, textStart in
            for (index, value) in values.enumerated() {
                if index > 0 { output.append(tab) }
                switch value.kind {
                case .null:
                    output.append(backslash)
                    output.append(UInt8(ascii: "N"))
                case .integer: output.appendDecimal(value.number)
                case .reference: throw DatabaseError.unresolvedReference(statement: statement)
                case .text: appendEscaped(value.text(in: text, from: &textStart), into: output)
                }
            }
            output.append(newline)
            try rowEnded()
        }
    }

    /// A field's bytes with COPY's escapes.
    private static func appendEscaped(_ field: UnsafeRawBufferPointer, into output: CopyOutputBuffer) {
        output.reserve(field.count * 2)
        for byte in field {
            switch byte {
            case backslash: output.appendUnchecked(backslash, backslash)
            case tab: output.appendUnchecked(backslash, UInt8(ascii: "t"))
            case newline: output.appendUnchecked(backslash, UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): output.appendUnchecked(backslash, UInt8(ascii: "r"))
            default: output.appendUnchecked(byte)
            }
        }
    }
}

/// A growable byte buffer for COPY data.
final class CopyOutputBuffer {
    private(set) var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        storage = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    func removeAll() { count = 0 }

    func append(_ byte: UInt8) {
        reserve(1)
        appendUnchecked(byte)
    }

    /// Appends without growing; call `reserve` first.
    func appendUnchecked(_ byte: UInt8) {
        storage[count] = byte
        count += 1
    }

    /// `value` in decimal, without making a string.
    func appendDecimal(_ value: Int64) {
        reserve(20)
        if value < 0 { appendUnchecked(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var position = count + digits
        count = position
        repeat {
            position -= 1
            storage[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    func appendUnchecked(_ first: UInt8, _ second: UInt8) {
        storage[count] = first
        storage[count + 1] = second
        count += 2
    }

    func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var newCapacity = capacity * 2
        while newCapacity < count + extra { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: storage, count: count)
        storage.deallocate()
        storage = grown
        capacity = newCapacity
    }
}

/// A COPY row decoded into a record buffer.
struct CopyRowView: RowView {
    let record: RecordBuffer
    let kinds: [ValueKind]

    var columnCount: Int { kinds.count }

    func kind(_ column: Int) -> ValueKind { record.isNull(column) ? .null : kinds[column] }

    func withBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        guard let field = record.field(column) else { return try body(nil) }
        return try PostgresResult.withValue(field, kind: kinds[column], body)
    }
}
