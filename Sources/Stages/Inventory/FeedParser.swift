import Foundation
import Pipelines

/// The formats a feed comes in.
enum FeedFormat: String, ParameterChoice {
    case csv, json, jsonl

    /// The format a file's or URL's extension names, else CSV.
    static func guess(from path: String) -> FeedFormat {
        let name = (URLComponents(string: path)?.path ?? path).lowercased()
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") { return .jsonl }
        if name.hasSuffix(".json") { return .json }
        return .csv
    }
}

/// Reads one page of a feed (a file, or one HTTP response kept as a file) through the columns into the
/// records writer.
struct FeedParser {
    var format: FeedFormat
    var columns: FeedColumns
    /// Where the records are in a JSON document.
    var recordSteps: [String]
    var maximumPageBytes: Int

    struct Page {
        /// Records read (kept or rejected).
        var records: Int64
        /// The JSON document, for next-page fields and the feed's timestamp.
        var document: JSONValue?
    }

    /// `place` prefixes where a record was (`page 2, ` for feeds of several pages).
    func parse(_ path: String, name: String, pagePrefix: String, into writer: FeedRecordsFile.Writer) throws -> Page {
        switch format {
        case .csv: return Page(records: try parseCSV(path, name: name, pagePrefix: pagePrefix, into: writer))
        case .jsonl: return Page(records: try parseJSONL(path, pagePrefix: pagePrefix, into: writer))
        case .json: return try parseJSON(path, name: name, pagePrefix: pagePrefix, into: writer)
        }
    }

    private func parseCSV(_ path: String, name: String, pagePrefix: String, into writer: FeedRecordsFile.Writer) throws -> Int64 {
        if try FileSupport.size(of: path) == 0 { return 0 }
        let reader = try CSVReader(path: path)
        let header = try reader.readHeader()
        func index(_ column: String?) -> Int? { column.flatMap { header.firstIndex(of: $0) } }
        guard let skuIndex = index(columns.sku) else {
            throw PipelineError(
                .data, "\(name) has no column '\(columns.sku)' for the SKU (its columns: \(header.prefix(20).joined(separator: ", ")))"
                    + Suggestion.hint(for: columns.sku, among: header))
        }
        let onHandIndex = index(columns.onHand)
        let availableIndex = index(columns.available)
        guard onHandIndex != nil || availableIndex != nil else {
            let wanted = [columns.onHand, columns.available].compactMap { $0 }.map { "'\($0)'" }.joined(separator: " or ")
            throw PipelineError(.data, "\(name) has no quantity column \(wanted) (its columns: \(header.prefix(20).joined(separator: ", ")))")
        }
        let indexes = [skuIndex, onHandIndex, availableIndex, index(columns.reserved), index(columns.location)]
        let record = RecordBuffer()
        let fields = RecordBuffer()
        var place = FeedPlace(page: pagePrefix, unit: "line")
        var count: Int64 = 0
        while let status = try reader.next(into: record) {
            count += 1
            place.number = status.line
            if let error = status.error {
                try writer.reject(place: "\(place.text), column \(error.column)", field: "", reason: error.reason, record: reader.lastRecordText())
                continue
            }
            fields.removeAll()
            for index in indexes {
                if let index, index < record.count, let bytes = record.field(index) {
                    fields.appendBytes(bytes)
                    fields.endField()
                } else {
                    fields.appendNull()
                }
            }
            try writer.add(fields, columns: columns, place: place, record: { reader.lastRecordText() })
        }
        return count
    }

    private func parseJSONL(_ path: String, pagePrefix: String, into writer: FeedRecordsFile.Writer) throws -> Int64 {
        let reader = try LineReader(path: path)
        defer { reader.close() }
        var count: Int64 = 0
        var place = FeedPlace(page: pagePrefix, unit: "line")
        let fields = RecordBuffer()
        while let line = try reader.next() {
            guard line.contains(where: { !FeedRecord.isSpace($0) }) else { continue }
            count += 1
            place.number = reader.lineNumber
            do {
                try add(try JSONValue.parse(utf8: line), place: place, fields: fields, into: writer)
            } catch let error as JSONValueError {
                try writer.reject(place: place.text, field: "", reason: "not JSON: \(error.description)", record: String(decoding: line, as: UTF8.self))
            }
        }
        return count
    }

    private func parseJSON(_ path: String, name: String, pagePrefix: String, into writer: FeedRecordsFile.Writer) throws -> Page {
        let bytes = try FileSupport.readWholeFile(path, limit: maximumPageBytes)
        let document: JSONValue
        do {
            document = try JSONValue.parse(utf8: bytes)
        } catch {
            throw PipelineError(.data, "\(name) is not JSON: \(error.description)")
        }
        let records: [JSONValue]
        do {
            records = try FeedJSON.records(in: document, at: recordSteps)
        } catch {
            throw PipelineError(.data, "\(name): no records at \(Self.pathText(recordSteps)): \(error.problem)")
        }
        var place = FeedPlace(page: pagePrefix, unit: "record")
        let fields = RecordBuffer()
        for (offset, record) in records.enumerated() {
            place.number = offset + 1
            try add(record, place: place, fields: fields, into: writer)
        }
        return Page(records: Int64(records.count), document: document)
    }

    private func add(_ record: JSONValue, place: FeedPlace, fields: RecordBuffer, into writer: FeedRecordsFile.Writer) throws {
        guard case .object = record else {
            try writer.reject(place: place.text, field: "", reason: "not an object", record: record.serialized)
            return
        }
        FeedJSON.fill(fields, from: record, columns: columns)
        try writer.add(fields, columns: columns, place: place, record: { record.serialized })
    }

    static func pathText(_ steps: [String]) -> String { "$" + steps.map { ".\($0)" }.joined() }
}
