import Foundation
import Pipelines

/// The records `inventory.fetch` kept, as CSV (`place,sku,location,on_hand,available,reserved`, blank for a
/// figure the feed did not give): what `inventory.reconcile` reads. Its rejects go beside it
/// (`place,field,reason,record`).
enum FeedRecordsFile {
    static let header = ["place", "sku", "location", "on_hand", "available", "reserved"]
    static let rejectsHeader = ["place", "field", "reason", "record"]

    /// Writes kept records and rejects, each to its own file, committed together by `finish`.
    final class Writer {
        private let records: AtomicOutputFile
        private let recordsCSV: CSVWriter
        private let rejects: AtomicOutputFile
        private let rejectsCSV: CSVWriter
        private(set) var kept: Int64 = 0
        private(set) var rejected: Int64 = 0
        private(set) var derived: [FeedRecord.Derivation: Int64] = [:]
        private var fields: [String?] = Array(repeating: nil, count: 6)

        init(recordsPath: String, rejectsPath: String, owner: String) throws {
            records = try AtomicOutputFile(path: recordsPath, owner: owner)
            recordsCSV = CSVWriter(output: records)
            rejects = try AtomicOutputFile(path: rejectsPath, owner: owner)
            rejectsCSV = CSVWriter(output: rejects)
            try recordsCSV.writeHeader(FeedRecordsFile.header)
            try rejectsCSV.writeHeader(FeedRecordsFile.rejectsHeader)
            try records.startDigest()
        }

        func add(_ fields: FeedFields, columns: FeedColumns, place: String, record: @autoclosure () -> String) throws {
            do {
                let checked = try FeedRecord(fields, columns: columns)
                if let derivation = checked.derived { derived[derivation, default: 0] += 1 }
                self.fields[0] = place
                self.fields[1] = checked.sku
                self.fields[2] = checked.location
                self.fields[3] = checked.onHand.map(String.init)
                self.fields[4] = checked.available.map(String.init)
                self.fields[5] = checked.reserved.map(String.init)
                try recordsCSV.writeRow(self.fields)
                kept += 1
            } catch let problem as FeedRecord.Problem {
                try reject(place: place, field: problem.field, reason: problem.reason, record: record())
            }
        }

        func reject(place: String, field: String, reason: String, record: String) throws {
            try rejectsCSV.writeRow([place, field.isEmpty ? nil : field, reason, String(record.prefix(2000))])
            rejected += 1
        }

        /// Puts both files in place; returns the records file with its digest.
        func finish() throws -> FileDigest {
            try recordsCSV.flush()
            try rejectsCSV.flush()
            try rejects.commit()
            return try records.commitIfChanged().digest
        }

        func discard() {
            records.discard()
            rejects.discard()
        }
    }

    /// Reads the records back, calling `body` with each.
    static func read(_ path: String, _ body: (FeedRecord, _ place: String) throws -> Void) throws {
        let reader = try CSVReader(path: path)
        let header = try reader.readHeader()
        guard header == FeedRecordsFile.header else {
            throw PipelineError(.data, "\(path) is not a feed records file of inventory.fetch (its header is \(header.joined(separator: ",")))")
        }
        let record = RecordBuffer()
        while let status = try reader.next(into: record) {
            guard status.isValid, record.count == 6, let sku = record.string(1) else {
                throw PipelineError(.data, "\(path):\(status.line): not a feed record; was the file changed after inventory.fetch wrote it?")
            }
            try body(
                FeedRecord(
                    sku: sku, location: record.string(2) ?? "", onHand: record.string(3).flatMap { Int64($0) },
                    available: record.string(4).flatMap { Int64($0) }, reserved: record.string(5).flatMap { Int64($0) }),
                record.string(0) ?? "")
        }
    }
}
