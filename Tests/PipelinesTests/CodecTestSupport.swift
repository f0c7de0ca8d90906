import Foundation
import Pipelines

/// A scratch folder per test, removed when the value goes away.
final class CodecTemporaryFolder {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "codec-tests-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String, _ contents: [UInt8]) -> String {
        let filePath = "\(path)/\(name)"
        _ = FileManager.default.createFile(atPath: filePath, contents: Data(contents))
        return filePath
    }

    func file(_ name: String, _ text: String) -> String { file(name, Array(text.utf8)) }

    func contents(_ name: String) -> String? {
        FileManager.default.contents(atPath: "\(path)/\(name)").map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: "\(path)/\(name)") }

    func names() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: path).sorted()) ?? [] }
}

/// A row held in memory, standing in for a database row in writer tests.
struct CodecTestRow: RowView {
    var values: [(ValueKind, [UInt8]?)]

    init(_ values: [(ValueKind, String?)]) {
        self.values = values.map { ($0.0, $0.1.map { Array($0.utf8) }) }
    }

    init(bytes values: [(ValueKind, [UInt8]?)]) { self.values = values }

    var columnCount: Int { values.count }

    func kind(_ column: Int) -> ValueKind { values[column].1 == nil ? .null : values[column].0 }

    func withBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        guard let bytes = values[column].1 else { return try body(nil) }
        return try bytes.withUnsafeBytes { try body($0) }
    }
}

/// Every record of a CSV file: its fields (nil for NULL), line and error.
struct ReadCSVRecord: Equatable {
    var fields: [String?]
    var line: Int
    var error: RowError?
}

func readAllCSV(_ path: String, delimiter: UInt8 = UInt8(ascii: ","), bufferSize: Int = 1 << 20) throws
    -> [ReadCSVRecord]
{
    let reader = CSVReader(input: try InputFile(path: path, bufferSize: bufferSize), delimiter: delimiter)
    let record = RecordBuffer()
    var records: [ReadCSVRecord] = []
    while let status = try reader.next(into: record) {
        records.append(
            ReadCSVRecord(
                fields: (0..<record.count).map { record.string($0) }, line: status.line, error: status.error))
    }
    return records
}

func fields(of record: RecordBuffer) -> [String?] { (0..<record.count).map { record.string($0) } }
