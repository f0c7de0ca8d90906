import CPostgres

/// Reading libpq results: errors with their diagnostic fields, column descriptions, value conversions.
enum PostgresResult {
    static func isSuccess(_ result: OpaquePointer?) -> Bool {
        guard let result else { return false }
        let status = PQresultStatus(result)
        return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
    }

    static func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        PQresultErrorField(result, code).map { String(cString: $0) }
    }

    /// The error of a failed result, or of the connection when there is no result.
    static func error(_ result: OpaquePointer?, connection: OpaquePointer?, statement: String?) -> DatabaseError {
        let connectionBroken = connection.map { PQstatus($0) == CONNECTION_BAD } ?? true
        guard let result, let sqlState = field(result, cpq_diag_sqlstate()) else {
            let text = result.flatMap { PQresultErrorMessage($0) } ?? connection.flatMap { PQerrorMessage($0) }
            var message = text.map { trimmed(String(cString: $0)) } ?? ""
            if message.isEmpty { message = "the database request failed" }
            return DatabaseError(connectionBroken ? .connectionLost : .other, message, statement: statement)
        }
        var message = field(result, cpq_diag_message_primary()) ?? "the database request failed"
        for (label, code) in [("DETAIL", cpq_diag_message_detail()), ("HINT", cpq_diag_message_hint()), ("CONTEXT", cpq_diag_context())] {
            if let text = field(result, code) { message += " (\(label): \(text))" }
        }
        return DatabaseError(DatabaseError.Code(sqlState: sqlState), message, sqlState: sqlState, statement: statement)
    }

    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }

    static func columns(_ result: OpaquePointer) -> [ColumnInfo] {
        (0..<PQnfields(result)).map { index in
            ColumnInfo(
                name: PQfname(result, index).map { String(cString: $0) } ?? "",
                kind: valueKind(typeOID: PQftype(result, index)))
        }
    }

    static func valueKind(typeOID: Oid) -> ValueKind {
        switch typeOID {
        case 20, 21, 23, 26: .integer  // int8, int2, int4, oid
        case 700, 701, 1700: .decimal  // float4, float8, numeric
        case 16: .boolean
        case 17: .binary  // bytea
        default: .text
        }
    }

    /// Calls `body` with a value's bytes as `RowView` promises them: `t`/`f` become `true`/`false`,
    /// bytea text (`\x...` or the old escape format) becomes the raw bytes.
    static func withValue<R>(
        _ text: UnsafeRawBufferPointer, kind: ValueKind, _ body: (UnsafeRawBufferPointer?) throws -> R
    ) rethrows -> R {
        switch kind {
        case .boolean:
            let word: StaticString = text.first == UInt8(ascii: "t") ? "true" : "false"
            return try body(UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
        case .binary:
            return try withUnsafeTemporaryAllocation(byteCount: max(text.count, 1), alignment: 1) { scratch in
                let count = decodeBytea(text, into: scratch)
                return try body(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
            }
        default:
            return try body(text)
        }
    }

    /// Decodes bytea text output into `output` (at least as long as the text); returns the byte count.
    static func decodeBytea(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        if text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") {
            var index = 2
            while index + 1 < text.count {
                guard let high = hexValue(text[index]), let low = hexValue(text[index + 1]) else { break }
                output[written] = high << 4 | low
                written += 1
                index += 2
            }
            return written
        }
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\\"), isOctal(text, from: index + 1) {
                output[written] = (text[index + 1] - 48) << 6 | (text[index + 2] - 48) << 3 | (text[index + 3] - 48)
                index += 4
            } else if byte == UInt8(ascii: "\\"), index + 1 < text.count, text[index + 1] == UInt8(ascii: "\\") {
                output[written] = byte
                index += 2
            } else {
                output[written] = byte
                index += 1
            }
            written += 1
        }
        return written
    }

    private static func isOctal(_ text: UnsafeRawBufferPointer, from start: Int) -> Bool {
        guard start + 2 < text.count else { return false }
        return (start...(start + 2)).allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(text[$0]) }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Row 0 of a single-row-mode result.
struct PostgresResultRow: RowView {
    let result: OpaquePointer
    let kinds: [ValueKind]

    var columnCount: Int { kinds.count }

    func kind(_ column: Int) -> ValueKind {
        PQgetisnull(result, 0, Int32(column)) != 0 ? .null : kinds[column]
    }

    func withBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        let index = Int32(column)
        guard PQgetisnull(result, 0, index) == 0, let value = PQgetvalue(result, 0, index) else { return try body(nil) }
        let text = UnsafeRawBufferPointer(start: value, count: Int(PQgetlength(result, 0, index)))
        return try PostgresResult.withValue(text, kind: kinds[column], body)
    }
}
