#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads JSON Lines: one object per line, its values put into a record in a fixed column order.
///
/// Strings are decoded, numbers keep their exact text, `true`/`false` become that text, `null` and
/// missing keys become NULL, nested objects and arrays become compact JSON text. Blank lines are
/// skipped. A broken line or an unknown key comes back as a `RowError` (column: byte offset + 1 in the
/// line) and reading carries on with the next line.
public final class JSONLReader {
    public let input: InputFile
    /// The line the next object is read from.
    public var nextLine: Int { lineCounter }
    private var lineCounter = 1
    private var checkedByteOrderMark = false
    private var lastLineLength = 0
    private var columnNames: [[UInt8]] = []
    private var columnIndexByName: [String: Int] = [:]
    private var columnsAreSet = false
    /// For each column, which field of `values` holds its value, or -1 when the key was absent.
    private var valueFieldOfColumn: [Int] = []
    private let values = RecordBuffer()
    private let key = RecordBuffer(capacity: 256)
    /// A line may not be longer, so that a file without line breaks cannot pull itself into memory.
    public var maximumLineBytes = 256 << 20

    public var path: String { input.path }

    /// Where the next record starts.
    public var position: ReaderPosition { ReaderPosition(offset: input.position, line: lineCounter) }

    /// Continues at a position taken from an earlier reader of the same file.
    public func resume(at position: ReaderPosition) throws {
        try input.seek(to: position.offset)
        lineCounter = position.line
        checkedByteOrderMark = true
    }

    /// Without `columns`, the keys of the first valid object (in its order) become the columns.
    public convenience init(path: String, columns: [String]? = nil) throws {
        try self.init(input: InputFile(path: path), columns: columns)
    }

    public init(input: InputFile, columns: [String]? = nil) {
        self.input = input
        if let columns { self.columns = columns }
    }

    /// The column order records are filled in.
    public var columns: [String] {
        get { columnNames.map { String(decoding: $0, as: UTF8.self) } }
        set {
            columnNames = newValue.map { Array($0.utf8) }
            columnIndexByName = [:]
            for (index, name) in newValue.enumerated() where columnIndexByName[name] == nil {
                columnIndexByName[name] = index
            }
            valueFieldOfColumn = Array(repeating: -1, count: newValue.count)
            columnsAreSet = true
        }
    }

    /// The keys, in their order, of the first valid object from here on, without consuming anything; nil
    /// when there is none. Broken lines before it stay to be read as rejected rows: a first line is a row
    /// like any other.
    public func keysOfFirstValidObject() throws -> [String]? {
        var start: ReaderPosition?
        defer { if let start { try? resume(at: start) } }
        while let (line, consumed) = try nextNonBlankLine() {
            if let keys = keys(ofObject: line) { return keys }
            if start == nil { start = position }
            input.consume(consumed)
            lineCounter += 1
        }
        return nil
    }

    private func keys(ofObject line: UnsafeRawBufferPointer) -> [String]? {
        guard var parser = JSONLineParser(line) else { return nil }
        var keys: [String] = []
        var seen: Set<String> = []
        do {
            try parseObject(&parser) { (parser: inout JSONLineParser, keyStart: Int) throws(JSONProblem) in
                let name = String(decoding: key.allBytes, as: UTF8.self)
                guard seen.insert(name).inserted else { throw parser.problem("key '\(name)' appears twice", at: keyStart) }
                keys.append(name)
                values.removeAll()
                try parser.parseValue(into: values)
            }
        } catch {
            return nil
        }
        return keys
    }

    /// Reads the next object into `record` (cleared first, left empty when the status holds an error).
    /// Nil at the end of the input.
    public func next(into record: RecordBuffer) throws -> RecordStatus? {
        if !columnsAreSet, let keys = try keysOfFirstValidObject() { columns = keys }
        guard let (line, consumed) = try nextNonBlankLine(), var parser = JSONLineParser(line) else { return nil }
        let lineNumber = nextLine
        defer {
            input.consume(consumed)
            lastLineLength = consumed
            lineCounter += 1
        }
        record.removeAll()
        values.removeAll()
        // Worked on as a local: mutating a stored array inside the closure costs exclusivity checks.
        var valueFieldOfColumn: [Int] = []
        swap(&valueFieldOfColumn, &self.valueFieldOfColumn)
        defer { swap(&valueFieldOfColumn, &self.valueFieldOfColumn) }
        for column in valueFieldOfColumn.indices { valueFieldOfColumn[column] = -1 }
        do {
            try parseObject(&parser) { (parser: inout JSONLineParser, keyStart: Int) throws(JSONProblem) in
                guard let column = columnIndex(of: key.allBytes) else {
                    throw parser.problem("unknown key '\(String(decoding: key.allBytes, as: UTF8.self))'", at: keyStart)
                }
                guard valueFieldOfColumn[column] < 0 else {
                    throw parser.problem("key '\(String(decoding: columnNames[column], as: UTF8.self))' appears twice", at: keyStart)
                }
                valueFieldOfColumn[column] = values.count
                try parser.parseValue(into: values)
            }
        } catch {
            return RecordStatus(line: lineNumber, error: RowError(line: lineNumber, column: error.offset + 1, reason: error.reason))
        }
        for field in valueFieldOfColumn {
            if field >= 0, let bytes = values.field(field) {
                record.appendBytes(bytes)
                record.endField()
            } else {
                record.appendNull()
            }
        }
        return RecordStatus(line: lineNumber)
    }

    /// The line `next` read last, as it was in the file (without its line break): valid until the next
    /// call of `next`.
    public func lastLineText() -> String { CSVReader.recordText(input.consumedBytes(last: lastLineLength)) }

    /// Parses `{ "key": value, ... }` filling the whole line; `onMember` is called with the key's offset
    /// once the key is decoded into `key` and the parser stands at the value.
    private func parseObject(
        _ parser: inout JSONLineParser, onMember: (inout JSONLineParser, Int) throws(JSONProblem) -> Void
    ) throws(JSONProblem) {
        if let invalid = UTF8Validation.firstInvalidOffset(parser.span(0, parser.count)) {
            throw JSONProblem(offset: invalid, reason: "invalid UTF-8")
        }
        parser.skipWhitespace()
        guard parser.current == UInt8(ascii: "{") else { throw parser.problem("expected a JSON object") }
        parser.index += 1
        parser.skipWhitespace()
        if parser.current == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            while true {
                parser.skipWhitespace()
                let keyStart = parser.index
                guard parser.current == UInt8(ascii: "\"") else { throw parser.problem("expected a key string") }
                key.removeAll()
                try parser.scanString(decodingInto: key)
                parser.skipWhitespace()
                try parser.expect(UInt8(ascii: ":"), "':'")
                parser.skipWhitespace()
                try onMember(&parser, keyStart)
                parser.skipWhitespace()
                if parser.current == UInt8(ascii: ",") {
                    parser.index += 1
                    continue
                }
                try parser.expect(UInt8(ascii: "}"), "',' or '}'")
                break
            }
        }
        parser.skipWhitespace()
        guard parser.isAtEnd else { throw parser.problem("unexpected characters after the object") }
    }

    private func columnIndex(of name: UnsafeRawBufferPointer) -> Int? {
        if columnNames.count > 16 {
            return columnIndexByName[String(decoding: name, as: UTF8.self)]
        }
        for (index, candidate) in columnNames.enumerated() where candidate.count == name.count {
            let matches = candidate.withUnsafeBytes { candidateBytes in
                guard let left = candidateBytes.baseAddress, let right = name.baseAddress else { return true }
                return memcmp(left, right, name.count) == 0
            }
            if matches { return index }
        }
        return nil
    }

    /// The next line that is not blank (without its line break) and the bytes to consume for it; blank
    /// lines before it are consumed. The line stays valid until the input is consumed or refilled.
    private func nextNonBlankLine() throws -> (UnsafeRawBufferPointer, consumed: Int)? {
        if !checkedByteOrderMark {
            while input.available.count < 3 && !input.reachedEndOfFile { try input.fillMore() }
            let bytes = input.available
            if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { input.consume(3) }
            checkedByteOrderMark = true
        }
        var searchedBytes = 0
        while true {
            let window = input.available
            guard let base = window.baseAddress, !window.isEmpty else {
                if input.reachedEndOfFile { return nil }
                try input.fillMore()
                continue
            }
            var lineLength: Int
            var consumed: Int
            if let found = memchr(base + searchedBytes, 0x0A, window.count - searchedBytes) {
                lineLength = base.distance(to: UnsafeRawPointer(found))
                consumed = lineLength + 1
            } else if input.reachedEndOfFile {
                lineLength = window.count
                consumed = lineLength
            } else {
                if window.count >= maximumLineBytes {
                    throw PipelineError(
                        .data, "line longer than \(maximumLineBytes) bytes",
                        location: SourceLocation(file: path, line: nextLine, column: 1))
                }
                searchedBytes = window.count
                try input.fillMore()
                continue
            }
            if lineLength > 0 && window[lineLength - 1] == 0x0D { lineLength -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: window[0..<lineLength])
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                input.consume(consumed)
                lineCounter += 1
                searchedBytes = 0
                continue
            }
            return (line, consumed)
        }
    }
}
