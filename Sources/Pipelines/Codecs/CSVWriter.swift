/// Writes CSV that `CSVReader` and PostgreSQL `COPY ... CSV` read back unchanged: NULL is written as
/// nothing and the empty string as `""`. Fields are quoted only when they must be: they contain the
/// delimiter, a quote, CR or LF, are empty, start or end with a space or tab, or are exactly `\.`
/// (PostgreSQL's end-of-data marker). Binary values are written as PostgreSQL bytea hex: `\x0a1b`.
/// A one-column row holding NULL becomes an empty line: read such files with `skipsBlankLines: false`.
public final class CSVWriter {
    public let output: OutputFile
    public let delimiter: UInt8
    public let usesCRLF: Bool
    public var rowsWritten: Int64 { rowCount }
    private var rowCount: Int64 = 0

    public init(output: OutputFile, delimiter: UInt8 = UInt8(ascii: ","), usesCRLF: Bool = false) {
        precondition(
            delimiter != CSVReader.quote && delimiter != CSVReader.lineFeed && delimiter != CSVReader.carriageReturn,
            "the CSV delimiter cannot be a quote or a line break")
        self.output = output
        self.delimiter = delimiter
        self.usesCRLF = usesCRLF
    }

    /// The header line; it does not count as a row.
    public func writeHeader(_ names: [String]) throws {
        try writeFields(names)
    }

    public func writeRow(_ fields: [String?]) throws {
        try writeFields(fields)
        rowCount += 1
    }

    public func writeRecord(_ record: RecordBuffer) throws {
        for index in 0..<record.count {
            if index > 0 { try output.writeByte(delimiter) }
            try writeField(record.field(index))
        }
        try endLine()
        rowCount += 1
    }

    public func writeRow(_ row: some RowView) throws {
        for column in 0..<row.columnCount {
            if column > 0 { try output.writeByte(delimiter) }
            let isBinary = row.kind(column) == .binary
            try row.withBytes(column) { bytes in
                if isBinary, let bytes {
                    try writeHex(bytes)
                } else {
                    try writeField(bytes)
                }
            }
        }
        try endLine()
        rowCount += 1
    }

    /// Writes everything buffered to the file.
    public func flush() throws { try output.flush() }

    private func writeFields(_ fields: [String?]) throws {
        for (index, field) in fields.enumerated() {
            if index > 0 { try output.writeByte(delimiter) }
            guard var text = field else { continue }
            try text.withUTF8 { try writeField(UnsafeRawBufferPointer($0)) }
        }
        try endLine()
    }

    private func endLine() throws {
        if usesCRLF { try output.writeByte(CSVReader.carriageReturn) }
        try output.writeByte(CSVReader.lineFeed)
    }

    /// Writes one field's bytes (nil for NULL), quoting when needed.
    private func writeField(_ field: UnsafeRawBufferPointer?) throws {
        guard let field else { return }
        guard needsQuotes(field) else {
            try output.write(field)
            return
        }
        let quote = CSVReader.quote
        try output.writeByte(quote)
        var segmentStart = 0
        for index in 0..<field.count where field[index] == quote {
            // Writing the quote twice: once ending this segment, once starting the next.
            try output.write(UnsafeRawBufferPointer(rebasing: field[segmentStart...index]))
            segmentStart = index
        }
        try output.write(UnsafeRawBufferPointer(rebasing: field[segmentStart...]))
        try output.writeByte(quote)
    }

    private func needsQuotes(_ field: UnsafeRawBufferPointer) -> Bool {
        guard let first = field.first, let last = field.last else { return true }
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return true }
        if field.count == 2 && first == UInt8(ascii: "\\") && last == UInt8(ascii: ".") { return true }
        let delimiter = self.delimiter
        for byte in field {
            if byte == delimiter { return true }
            if byte <= CSVReader.quote
                && (byte == CSVReader.quote || byte == CSVReader.lineFeed || byte == CSVReader.carriageReturn)
            {
                return true
            }
        }
        return false
    }

    private func writeHex(_ bytes: UnsafeRawBufferPointer) throws {
        try output.writeByte(UInt8(ascii: "\\"))
        try output.writeByte(UInt8(ascii: "x"))
        for byte in bytes {
            try output.writeByte(Self.hexDigits[Int(byte >> 4)])
            try output.writeByte(Self.hexDigits[Int(byte & 0x0F)])
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
