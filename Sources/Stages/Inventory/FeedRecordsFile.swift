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

        init(recordsPath: String, rejectsPath: String, owner: String) throws {
            records = try AtomicOutputFile(path: recordsPath, owner: owner)
            recordsCSV = CSVWriter(output: records)
            rejects = try AtomicOutputFile(path: rejectsPath, owner: owner)
            rejectsCSV = CSVWriter(output: rejects)
            try recordsCSV.writeHeader(FeedRecordsFile.header)
            try rejectsCSV.writeHeader(FeedRecordsFile.rejectsHeader)
            try records.startDigest()
        }

        private let row = RecordBuffer()

        /// Checks one record (`FeedRecord.Field` order) and keeps it, or rejects it with its place.
        func add(_ fields: RecordBuffer, columns: FeedColumns, place: FeedPlace, record: () -> String) throws {
            let checked: FeedRecord
            do {
                checked = try FeedRecord(fields, columns: columns)
            } catch {
                try reject(place: place.text, field: error.field, reason: error.reason, record: record())
                return
            }
            if let derivation = checked.derived { derived[derivation, default: 0] += 1 }
            row.removeAll()
            place.append(to: row)
            for index in [FeedRecord.Field.sku, FeedRecord.Field.location] {
                if let bytes = fields.field(index) { row.appendBytes(bytes) }
                row.endField()
            }
            for figure in [checked.onHand, checked.available, checked.reserved] {
                if let figure {
                    RecordBuffer.appendDecimal(figure, to: row)
                    row.endField()
                } else {
                    row.appendNull()
                }
            }
            try recordsCSV.writeRecord(row)
            kept += 1
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
}
