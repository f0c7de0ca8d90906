/// Writes rows as JSON Lines, `{"column":value,...}` per line, keeping value kinds: integers and
/// decimals as bare numbers (their exact text; text that is not a JSON number, such as `NaN`, becomes a
/// string), booleans as `true`/`false`, NULL as `null`, text as an escaped string, and binary as a
/// standard base64 string (with `=` padding).
public final class JSONLWriter {
    public let output: OutputFile
    public let columns: [ColumnInfo]
    public var rowsWritten: Int64 { rowCount }
    private var rowCount: Int64 = 0
    /// `{"first":` and `,"next":` for each column, encoded once.
    private let memberPrefixes: [[UInt8]]

    public init(output: OutputFile, columns: [ColumnInfo]) {
        self.output = output
        self.columns = columns
        memberPrefixes = columns.enumerated().map { index, column in
            var prefix: [UInt8] = [index == 0 ? UInt8(ascii: "{") : UInt8(ascii: ",")]
            JSONString.append(Array(column.name.utf8), to: &prefix)
            prefix.append(UInt8(ascii: ":"))
            return prefix
        }
    }

    public func writeRow(_ row: some RowView) throws {
        for column in memberPrefixes.indices {
            try output.write(memberPrefixes[column])
            guard column < row.columnCount else {
                try writeValue(nil, kind: .null)
                continue
            }
            let kind = row.kind(column)
            try row.withBytes(column) { bytes in try writeValue(bytes, kind: kind) }
        }
        try endRow()
    }

    /// Writes a record whose fields are all text (or NULL), e.g. one read from CSV.
    public func writeRecord(_ record: RecordBuffer) throws {
        for column in memberPrefixes.indices {
            try output.write(memberPrefixes[column])
            try writeValue(column < record.count ? record.field(column) : nil, kind: .text)
        }
        try endRow()
    }

    public func flush() throws { try output.flush() }

    private func endRow() throws {
        if memberPrefixes.isEmpty { try output.writeByte(UInt8(ascii: "{")) }
        try output.writeByte(UInt8(ascii: "}"))
        try output.writeByte(UInt8(ascii: "\n"))
        rowCount += 1
    }

    private func writeValue(_ bytes: UnsafeRawBufferPointer?, kind: ValueKind) throws {
        guard let bytes, kind != .null else {
            try output.write(Self.null)
            return
        }
        switch kind {
        case .integer, .decimal:
            if Self.isJSONNumber(bytes) { try output.write(bytes) } else { try writeString(bytes) }
        case .boolean:
            let isTrue = bytes.first.map { [UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "1")].contains($0) }
            try output.write(isTrue == true ? Self.true : Self.false)
        case .binary:
            try writeBase64(bytes)
        case .text, .null:
            try writeString(bytes)
        }
    }

    private static let null = Array("null".utf8)
    private static let `true` = Array("true".utf8)
    private static let `false` = Array("false".utf8)

    static func isJSONNumber(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var parser = JSONLineParser(bytes), !bytes.isEmpty else { return false }
        do {
            try parser.scanNumber()
        } catch {
            return false
        }
        return parser.isAtEnd
    }

    private func writeString(_ bytes: UnsafeRawBufferPointer) throws {
        guard UTF8Validation.isValid(bytes) else {
            // Invalid UTF-8 (possible in SQLite text) would make the line invalid JSON: repair it.
            var repaired: [UInt8] = []
            JSONString.append(Array(String(decoding: bytes, as: UTF8.self).utf8), to: &repaired)
            try output.write(repaired)
            return
        }
        try output.writeByte(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            try output.write(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
            try output.write(JSONString.escape(byte))
            runStart = index + 1
        }
        try output.write(UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
        try output.writeByte(UInt8(ascii: "\""))
    }

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private func writeBase64(_ bytes: UnsafeRawBufferPointer) throws {
        let alphabet = Self.base64Alphabet
        try output.writeByte(UInt8(ascii: "\""))
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let first = UInt32(bytes[index])
            let second = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let third = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = first << 16 | second << 8 | third
            try output.writeByte(alphabet[Int(group >> 18 & 0x3F)])
            try output.writeByte(alphabet[Int(group >> 12 & 0x3F)])
            try output.writeByte(remaining > 1 ? alphabet[Int(group >> 6 & 0x3F)] : UInt8(ascii: "="))
            try output.writeByte(remaining > 2 ? alphabet[Int(group & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        try output.writeByte(UInt8(ascii: "\""))
    }
}
