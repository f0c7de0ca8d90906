import Foundation
import Pipelines

/// The feed's side of a comparison: its records under their keys (normalised SKUs, aliases applied) in a
/// private scratch table `feed_rows (key, location, sku, qty, place)`, one row per key and location.
final class FeedKeys {
    let scratch: SQLiteScratch
    var records: Int64 = 0
    /// Records without the compared figure (the feed gave neither it nor what derives it).
    var withoutFigure: Int64 = 0
    /// Records at other locations than `feed_location`.
    var otherLocations: Int64 = 0

    init() throws {
        scratch = try SQLiteScratch(purpose: "the feed's keys", cacheKiB: 4096)
        try scratch.execute(
            """
            CREATE TABLE feed_rows (
                key TEXT NOT NULL, location TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL, place TEXT NOT NULL,
                PRIMARY KEY (key, location)) WITHOUT ROWID
            """)
    }

    /// Reads the records file inventory.fetch wrote; `isCancelled` ends the reading early.
    func load(_ path: String, builder: ComparisonBuilder, isCancelled: () -> Bool) throws {
        let normaliser = builder.normaliser
        let aliases = builder.aliases
        let feedLocation = builder.feedLocation
        try scratch.execute("BEGIN")
        let insert = try scratch.prepare("INSERT INTO feed_rows (key, location, sku, qty, place) VALUES (?1, ?2, ?3, ?4, ?5)")
        let reader = try CSVReader(path: path)
        guard try reader.readHeader() == FeedRecordsFile.header else {
            throw PipelineError(.data, "\(path) is not a records file of inventory.fetch")
        }
        let input = RecordBuffer()
        let key = RecordBuffer()
        var duplicates: [String] = []
        let figureColumn = builder.compare == .onHand ? 3 : 4
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        while let status = try reader.next(into: input) {
            guard status.isValid, input.count == 6, let sku = input.field(1) else {
                throw PipelineError(.data, "\(path):\(status.line): not a feed record; was the file changed after inventory.fetch wrote it?")
            }
            records += 1
            if records % 65_536 == 0, isCancelled() { throw CancellationError() }
            if let feedLocation, input.string(2) ?? "" != feedLocation {
                otherLocations += 1
                continue
            }
            guard let figure = input.field(figureColumn), figure.count > 0, let quantity = Int64(decimal: figure) else {
                withoutFigure += 1
                continue
            }
            key.removeAll()
            normaliser.appendKey(of: sku, to: key)
            if !aliases.shopKeys.isEmpty, let alias = key.string(0).flatMap({ aliases.shopKeys[$0] }) {
                key.removeAll()
                key.appendField(alias)
            }
            try insert.bind(text: key.field(0) ?? empty, at: 1)
            try insert.bind(text: input.field(2) ?? empty, at: 2)
            try insert.bind(text: sku, at: 3)
            try insert.bind(quantity, at: 4)
            try insert.bind(text: input.field(0) ?? empty, at: 5)
            do {
                _ = try insert.step()
                insert.reset()
            } catch let error as DatabaseError where error.code == .constraint {
                insert.reset()
                if duplicates.count < 10 { duplicates.append(try describeDuplicate(key: key.string(0) ?? "", input: input)) }
            }
        }
        try scratch.execute("COMMIT")
        guard duplicates.isEmpty else {
            throw PipelineError(.data, "the feed lists the same SKU twice (after matching: \(builder.rule)): \(duplicates.joined(separator: "; "))")
        }
    }

    private func describeDuplicate(key: String, input: RecordBuffer) throws -> String {
        let location = input.string(2) ?? ""
        let select = try scratch.prepare("SELECT sku, place FROM feed_rows WHERE key = ?1 AND location = ?2")
        defer { select.reset() }
        var earlier = ""
        try ReconcileComparison.withBytes(key) { key in
            try ReconcileComparison.withBytes(location) { location in
                try select.bind(text: key, at: 1)
                try select.bind(text: location, at: 2)
                if try select.step() {
                    earlier = "'\(select.withBytes(0) { String(decoding: $0, as: UTF8.self) })' (\(select.withBytes(1) { String(decoding: $0, as: UTF8.self) }))"
                }
            }
        }
        let at = location.isEmpty ? "" : " at location '\(location)'"
        return "\(earlier) and '\(input.string(1) ?? "")' (\(input.string(0) ?? ""))\(at)"
    }
}

/// The feed's keys in key order, each key's records at every location summed: the feed's side of the
/// merge. The current group's key and first SKU are owned copies (`current` fields 0 and 1).
final class FeedGroups {
    private let rows: ScratchStatement
    /// Whether `rows` stands on a row not yet taken into a group.
    private var pending: Bool
    let current = RecordBuffer()
    private(set) var quantity: Int64 = 0
    /// Another SKU of the group written differently from the first (a collision), if any.
    private(set) var otherSKU: String?

    init(_ scratch: SQLiteScratch) throws {
        rows = try scratch.prepare("SELECT key, sku, qty FROM feed_rows ORDER BY key")
        pending = try rows.step()
    }

    /// Moves to the next key; false at the end.
    func advance() throws -> Bool {
        guard pending else { return false }
        current.removeAll()
        for column: Int32 in [0, 1] {
            rows.withBytes(column) { current.appendBytes($0) }
            current.endField()
        }
        quantity = rows.int64(2)
        otherSKU = nil
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        while true {
            pending = try rows.step()
            guard pending, rows.withBytes(0, { $0.elementsEqual(current.field(0) ?? empty) }) else { break }
            quantity += rows.int64(2)
            if otherSKU == nil, !rows.withBytes(1, { $0.elementsEqual(current.field(1) ?? empty) }) {
                otherSKU = rows.withBytes(1) { String(decoding: $0, as: UTF8.self) }
            }
        }
        return true
    }

    func close() { rows.reset() }
}
