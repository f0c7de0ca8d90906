/// A streaming RFC 4180 reader that follows PostgreSQL's `COPY ... CSV` conventions: an unquoted empty
/// field is NULL, a quoted empty field (`""`) is the empty string.
///
/// Records end at LF, CRLF or a lone CR (old Mac exports; PostgreSQL's COPY and Python's csv accept
/// all three); inside quotes all of them are data. A UTF-8 byte order mark at the start is skipped. Blank
/// lines are skipped unless `skipsBlankLines` is false (then they are one NULL field). Broken records
/// (invalid UTF-8, stray quotes, a quote left open at the end of the file) come back with a `RowError`
/// and reading carries on with the next record. Checking the field count is the caller's job.
///
/// With `trimsSpaceAroundQuotes`, spaces and tabs before an opening quote and after a closing quote are
/// padding, not data (csv-parse's `trim`, as in Vendure's files: `a , "b, c"  ,d`); the quoted text is
/// the field. Padding around unquoted fields is kept: trimming those is the caller's choice.
public final class CSVReader {
    public let input: InputFile
    public let delimiter: UInt8
    public let skipsBlankLines: Bool
    public let trimsSpaceAroundQuotes: Bool
    /// The line the next record starts at.
    public var nextLine: Int { lineCounter }
    private var lineCounter = 1
    private var checkedByteOrderMark = false
    private var lastRecordLength = 0
    /// A record may not be longer, so that a quote left open cannot pull the whole file into memory.
    public var maximumRecordBytes = 256 << 20

    public var path: String { input.path }

    /// Where the next record starts.
    public var position: ReaderPosition { ReaderPosition(offset: input.position, line: lineCounter) }

    /// Continues at a position taken from an earlier reader of the same file.
    public func resume(at position: ReaderPosition) throws {
        try input.seek(to: position.offset)
        lineCounter = position.line
        checkedByteOrderMark = true
    }

    public convenience init(
        path: String, delimiter: UInt8 = UInt8(ascii: ","), skipsBlankLines: Bool = true, trimsSpaceAroundQuotes: Bool = false
    ) throws {
        try self.init(
            input: InputFile(path: path), delimiter: delimiter, skipsBlankLines: skipsBlankLines,
            trimsSpaceAroundQuotes: trimsSpaceAroundQuotes)
    }

    public init(
        input: InputFile, delimiter: UInt8 = UInt8(ascii: ","), skipsBlankLines: Bool = true,
        trimsSpaceAroundQuotes: Bool = false
    ) {
        precondition(
            delimiter != Self.quote && delimiter != Self.lineFeed && delimiter != Self.carriageReturn,
            "the CSV delimiter cannot be a quote or a line break")
        self.input = input
        self.delimiter = delimiter
        self.skipsBlankLines = skipsBlankLines
        self.trimsSpaceAroundQuotes = trimsSpaceAroundQuotes
    }

    /// Reads the next record into `record` (cleared first). Nil at the end of the input. When the status
    /// holds an error, the record's fields are incomplete and should not be used.
    public func next(into record: RecordBuffer) throws -> RecordStatus? {
        if !checkedByteOrderMark { try skipByteOrderMark() }
        while true {
            let window = input.available
            if window.isEmpty {
                if input.reachedEndOfFile { return nil }
                try input.fillMore()
                continue
            }
            // A record that runs past the buffered bytes is parsed again from its start after refilling.
            guard let parsed = parse(window, atEndOfFile: input.reachedEndOfFile, into: record) else {
                if window.count >= maximumRecordBytes {
                    throw PipelineError(
                        .data, "record longer than \(maximumRecordBytes) bytes (is a quote left open?)",
                        location: SourceLocation(file: path, line: nextLine, column: 1))
                }
                try input.fillMore()
                continue
            }
            input.consume(parsed.consumed)
            lastRecordLength = parsed.consumed
            let line = nextLine
            lineCounter += parsed.lineBreaks
            if parsed.isBlank && skipsBlankLines { continue }
            let error = parsed.problem.map { RowError(line: line, column: $0.column, reason: $0.reason.rawValue) }
            return RecordStatus(line: line, error: error)
        }
    }

    /// The record at the reader's position when it is plain (`CSVPlainScan`), with its fields `first` and
    /// `second`, found without copying it and not yet consumed (`skip`); nil when it is not (or when
    /// `firstMustBeEmpty` and its field `first` holds more than padding): `next(into:)` then reads it.
    public func peekPlainRecord(_ first: Int, _ second: Int, firstMustBeEmpty: Bool = false) throws -> CSVPlainRecord? {
        if !checkedByteOrderMark { try skipByteOrderMark() }
        while true {
            let window = input.available
            let outcome = CSVPlainScan.scan(
                window, first: first, second: second, firstMustBeEmpty: firstMustBeEmpty, delimiter: delimiter,
                trimsPadding: trimsSpaceAroundQuotes)
            switch outcome {
            case .notPlain: return nil
            case .plain(let length, let lineBreaks, let firstRange, let secondRange):
                func field(_ range: Range<Int>?) -> UnsafeRawBufferPointer? { range.map { UnsafeRawBufferPointer(rebasing: window[$0]) } }
                return CSVPlainRecord(
                    line: lineCounter, length: length, lineBreaks: lineBreaks, offset: input.position, first: field(firstRange),
                    second: field(secondRange))
            case .needsMore:
                if input.reachedEndOfFile || window.count >= maximumRecordBytes { return nil }
                try input.fillMore()
            }
        }
    }

    /// Consumes the record `peekPlainRecord` found, as `next(into:)` would have.
    public func skip(_ record: CSVPlainRecord) {
        precondition(record.offset == input.position, "skipped a record peeked elsewhere")
        input.consume(record.length)
        lastRecordLength = record.length
        lineCounter += record.lineBreaks
    }

    /// The record `next` returned last, as it was in the file (without its line break): valid until the
    /// next call of `next`.
    public func lastRecordText() -> String { Self.recordText(input.consumedBytes(last: lastRecordLength)) }

    /// The bytes of the record that started at `offset` and took `length` bytes, read back from the file.
    public func recordText(offset: Int64, length: Int) -> String {
        input.readBack(offset: offset, count: length).withUnsafeBytes { Self.recordText($0) }
    }

    /// A record's bytes as text, without its line break.
    static func recordText(_ bytes: UnsafeRawBufferPointer) -> String {
        var bytes = bytes[...]
        while let last = bytes.last, last == lineFeed || last == carriageReturn { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads the first record as column names: it must exist, be valid, and hold distinct non-empty names.
    public func readHeader() throws -> [String] {
        let record = RecordBuffer()
        guard let status = try next(into: record) else {
            throw PipelineError(.data, "\(path): the file is empty, expected a header line")
        }
        func headerError(_ reason: String, column: Int) -> PipelineError {
            PipelineError(
                .data, "invalid CSV header: \(reason)",
                location: SourceLocation(file: path, line: status.line, column: column))
        }
        if let error = status.error { throw headerError(error.reason, column: error.column) }
        var names: [String] = []
        var seen: Set<String> = []
        for index in 0..<record.count {
            let name = record.string(index) ?? ""
            if name.isEmpty { throw headerError("column \(index + 1) has no name", column: index + 1) }
            if !seen.insert(name).inserted {
                throw headerError("column name '\(name)' appears twice", column: index + 1)
            }
            names.append(name)
        }
        return names
    }

    // MARK: - Parsing

    static let quote = UInt8(ascii: "\"")
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    enum Problem: String {
        case invalidUTF8 = "invalid UTF-8"
        case quoteInUnquotedField = "quote inside an unquoted field"
        case textAfterClosingQuote = "characters after a closing quote"
        case unterminatedQuote = "quoted field not closed before the end of the file"
    }

    struct ParsedRecord {
        var consumed: Int
        var lineBreaks: Int
        var isBlank: Bool
        var problem: (column: Int, reason: Problem)?
    }

    private func skipByteOrderMark() throws {
        while input.available.count < 3 && !input.reachedEndOfFile { try input.fillMore() }
        let bytes = input.available
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { input.consume(3) }
        checkedByteOrderMark = true
    }

    /// Parses one record at the start of `window`; nil when it may continue past the window's end.
    private func parse(_ window: UnsafeRawBufferPointer, atEndOfFile: Bool, into record: RecordBuffer)
        -> ParsedRecord?
    {
        record.removeAll()
        guard let base = window.baseAddress else { return nil }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        let count = window.count
        let delimiter = self.delimiter
        let trimsPadding = trimsSpaceAroundQuotes
        let space = Self.space, tab = Self.tab
        let quote = Self.quote, lineFeed = Self.lineFeed, carriageReturn = Self.carriageReturn
        var index = 0
        var column = 1
        var lineBreaks = 0
        var problem: (column: Int, reason: Problem)?

        @inline(__always) func span(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: bytes + start, count: end - start)
        }

        fields: while true {
            // After a bad closing quote the rest of the field is skipped like unquoted data.
            var skippingField = false
            if trimsPadding && index < count && (bytes[index] == space || bytes[index] == tab) {
                // Padding before an opening quote is dropped; before anything else it is data.
                var probe = index + 1
                while probe < count && (bytes[probe] == space || bytes[probe] == tab) { probe += 1 }
                if probe == count && !atEndOfFile { return nil }
                if probe < count && bytes[probe] == quote { index = probe }
            }
            if index < count && bytes[index] == quote {
                index += 1
                var segmentStart = index
                while true {
                    while index < count {
                        let byte = bytes[index]
                        if byte == quote { break }
                        if byte == lineFeed { lineBreaks += 1 }
                        if byte == carriageReturn && (index + 1 == count || bytes[index + 1] != lineFeed) {
                            lineBreaks += 1
                        }
                        index += 1
                    }
                    if index == count {
                        guard atEndOfFile else { return nil }
                        record.appendBytes(span(segmentStart, index))
                        record.endField()
                        problem = problem ?? (column, .unterminatedQuote)
                        break fields
                    }
                    record.appendBytes(span(segmentStart, index))
                    if index + 1 == count && !atEndOfFile { return nil }
                    if index + 1 < count && bytes[index + 1] == quote {
                        record.appendByte(quote)
                        index += 2
                        segmentStart = index
                        continue
                    }
                    index += 1
                    break
                }
                record.endField()
                if trimsPadding {
                    while index < count && (bytes[index] == space || bytes[index] == tab) { index += 1 }
                }
                if index == count {
                    guard atEndOfFile else { return nil }
                    break fields
                }
                let byte = bytes[index]
                if byte == delimiter {
                    index += 1
                    column += 1
                    continue fields
                }
                if byte == lineFeed {
                    index += 1
                    lineBreaks += 1
                    break fields
                }
                if byte == carriageReturn {
                    if index + 1 == count && !atEndOfFile { return nil }
                    index += index + 1 < count && bytes[index + 1] == lineFeed ? 2 : 1
                    lineBreaks += 1
                    break fields
                }
                problem = problem ?? (column, .textAfterClosingQuote)
                skippingField = true
            }

            let fieldStart = index
            while true {
                while index < count {
                    let byte = bytes[index]
                    if byte == delimiter { break }
                    if byte <= quote && (byte == quote || byte == lineFeed || byte == carriageReturn) { break }
                    index += 1
                }
                if index == count {
                    guard atEndOfFile else { return nil }
                    if !skippingField { Self.endUnquotedField(span(fieldStart, index), record) }
                    break fields
                }
                let byte = bytes[index]
                if byte == quote {
                    problem = problem ?? (column, .quoteInUnquotedField)
                    index += 1
                    continue
                }
                if byte == carriageReturn {
                    if index + 1 == count && !atEndOfFile { return nil }
                    if !skippingField { Self.endUnquotedField(span(fieldStart, index), record) }
                    index += index + 1 < count && bytes[index + 1] == lineFeed ? 2 : 1
                    lineBreaks += 1
                    break fields
                }
                if !skippingField { Self.endUnquotedField(span(fieldStart, index), record) }
                index += 1
                if byte == delimiter {
                    column += 1
                    continue fields
                }
                lineBreaks += 1
                break fields
            }
        }

        if problem == nil && !UTF8Validation.isASCII(record.allBytes) {
            // Per field, so that a sequence split by a delimiter is not mistaken for a valid one.
            for field in 0..<record.count {
                if let bytes = record.field(field), !UTF8Validation.isValid(bytes) {
                    problem = (field + 1, .invalidUTF8)
                    break
                }
            }
        }
        let isBlank = problem == nil && record.count == 1 && record.isNull(0)
        return ParsedRecord(consumed: index, lineBreaks: lineBreaks, isBlank: isBlank, problem: problem)
    }

    @inline(__always)
    private static func endUnquotedField(_ bytes: UnsafeRawBufferPointer, _ record: RecordBuffer) {
        if bytes.isEmpty {
            record.appendNull()
        } else {
            record.appendBytes(bytes)
            record.endField()
        }
    }
}
