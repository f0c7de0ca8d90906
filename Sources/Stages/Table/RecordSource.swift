import Pipelines

/// The rows of an input file, CSV or JSONL, behind one interface for `table.import`.
final class RecordSource {
    private enum Reader {
        case csv(CSVReader)
        case jsonl(JSONLReader)
    }

    private let reader: Reader
    private let input: InputFile
    private var header: [String]?

    private init(reader: Reader, input: InputFile) {
        self.reader = reader
        self.input = input
    }

    static func open(_ file: FilePath, format: DataFormat) throws -> RecordSource {
        let input = try InputFile(path: file.path)
        switch format {
        case .csv: return RecordSource(reader: .csv(CSVReader(input: input)), input: input)
        case .jsonl: return RecordSource(reader: .jsonl(JSONLReader(input: input)), input: input)
        }
    }

    /// The file's column names: the CSV header, or the keys of the first JSON object.
    func columns() throws -> [String] {
        if let header { return header }
        let line = position.line
        let names: [String]
        switch reader {
        case .csv(let csv):
            names = try csv.readHeader()
        case .jsonl(let jsonl):
            guard let keys = try jsonl.keysOfFirstValidObject(), !keys.isEmpty else {
                throw PipelineError(.data, "\(input.path): no JSON object to take column names from")
            }
            names = keys
        }
        try ColumnNames.check(names, file: input.path, line: line)
        header = names
        return names
    }

    var position: ReaderPosition {
        switch reader {
        case .csv(let csv): csv.position
        case .jsonl(let jsonl): jsonl.position
        }
    }

    /// Continues where an earlier reader of the same file stopped.
    func resume(at position: ReaderPosition, columns: [String]) throws {
        header = columns
        switch reader {
        case .csv(let csv): try csv.resume(at: position)
        case .jsonl(let jsonl):
            jsonl.columns = columns
            try jsonl.resume(at: position)
        }
    }

    func next(into record: RecordBuffer) throws -> RecordStatus? {
        switch reader {
        case .csv(let csv): try csv.next(into: record)
        case .jsonl(let jsonl): try jsonl.next(into: record)
        }
    }

    /// The record read last as it was in the file, for the rejects file.
    func lastRecordText() -> String {
        switch reader {
        case .csv(let csv): csv.lastRecordText()
        case .jsonl(let jsonl): jsonl.lastLineText()
        }
    }

    /// A row error when a CSV record's field count differs from the header's.
    func checkFieldCount(_ record: RecordBuffer, expected: Int, line: Int) -> RowError? {
        guard case .csv = reader, record.count != expected else { return nil }
        return RowError(
            line: line, column: min(record.count, expected) + 1,
            reason: "expected \(expected) fields as in the header, found \(record.count)")
    }

    var bytesRead: Int64 { input.bytesRead }
    var totalBytes: Int64? { input.fileSize }

    func close() { input.close() }
}

extension RowError {
    /// `FILE:LINE:COLUMN: reason`.
    func located(in file: String) -> String { "\(file):\(line):\(column): \(reason)" }
}
