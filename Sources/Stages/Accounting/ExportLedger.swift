import Foundation
import Pipelines

/// The export ledger in the store (`store_exports`, `store_export_items`): per book, every export made
/// (its period, files and journal numbers) and every source item booked into it with the entry as
/// booked. It decides what a new export takes (what is not booked yet) and lets an export be written
/// again exactly.
struct ExportLedger {
    struct Export {
        var id: Int64
        var from: CalendarDate
        var to: CalendarDate
        var files: JSONValue
        /// The currencies of its journals, which ledger and beancount files declare first.
        var currencies: [String]
        var journals: Int64
        var firstJournal: Int64
    }

    let connection: any DatabaseConnection
    let book: String

    private static let columns = "id, period_from, period_to, files, journals, first_journal, currencies"

    private func exports(where condition: String, _ parameters: [SQLValue]) throws -> [Export] {
        var found: [Export] = []
        try connection.query(
            "SELECT \(Self.columns) FROM store_exports WHERE book = $1 AND \(condition) ORDER BY period_to DESC, id DESC LIMIT 1",
            [.text(book)] + parameters, columns: { _ in }
        ) { row in
            guard let from = CalendarDate(Substring(row.string(1) ?? "")), let to = CalendarDate(Substring(row.string(2) ?? "")) else { return }
            found.append(
                Export(
                    id: row.int64(0) ?? 0, from: from, to: to, files: (try? JSONValue.parse(row.string(3) ?? "")) ?? .array([]),
                    currencies: (row.string(6) ?? "").split(separator: ",").map(String.init), journals: row.int64(4) ?? 0,
                    firstJournal: row.int64(5) ?? 1))
        }
        return found
    }

    func export(from: CalendarDate, to: CalendarDate) throws -> Export? {
        try exports(where: "period_from = $2 AND period_to = $3", [.text(from.text), .text(to.text)]).first
    }

    /// The export reaching furthest.
    func latest() throws -> Export? { try exports(where: "1 = 1", []).first }

    func nextJournalNumber() throws -> Int64 {
        var next: Int64 = 1
        try connection.query(
            "SELECT COALESCE(MAX(first_journal + journals), 1) FROM store_exports WHERE book = $1", [.text(book)], columns: { _ in }
        ) { next = $0.int64(0) ?? 1 }
        return next
    }

    struct NewExport {
        var from: CalendarDate
        var to: CalendarDate
        var format: String
        var grouping: String
        var timezone: String
        var firstJournal: Int64
        var pipeline: String
        var run: String
        var stage: String
        var at: Instant
    }

    func begin(_ export: NewExport) throws -> Int64 {
        var id: Int64?
        try connection.query(
            """
            INSERT INTO store_exports (book, period_from, period_to, format, grouping, timezone, files, currencies, journals, first_journal, pipeline, run, stage,
                exported_at)
            VALUES ($1, $2, $3, $4, $5, $6, '[]', '', 0, $7, $8, $9, $10, $11) RETURNING id
            """,
            [
                .text(book), .text(export.from.text), .text(export.to.text), .text(export.format), .text(export.grouping), .text(export.timezone),
                .integer(export.firstJournal), .text(export.pipeline), .text(export.run), .text(export.stage), .text(export.at.iso),
            ], columns: { _ in }, row: { id = $0.int64(0) })
        guard let id else { throw PipelineError(.internal, "recording the export returned no id") }
        return id
    }

    func finish(_ id: Int64, files: JSONValue, currencies: [String], journals: Int64) throws {
        _ = try connection.execute(
            "UPDATE store_exports SET files = $1, currencies = $2, journals = $3 WHERE id = $4",
            [.text(files.serialized), .text(currencies.joined(separator: ",")), .integer(journals), .integer(id)])
    }

    /// Records one entry as booked into `journal`.
    func record(_ entry: JournalEntry, in journal: Journal, export: Int64, sequence: Int64, into inserter: any BulkInserter) throws {
        try inserter.insert(rows: [
            .integer(export), .text(book), .text(entry.kind.rawValue), .integer(entry.sourceID), .integer(Int64(entry.revision)), .integer(journal.number),
            .text(journal.date.text), .integer(sequence), .text(entry.digest), .text(entry.json.serialized),
        ][...])
    }

    func inserter() throws -> any BulkInserter {
        try connection.bulkInsert(
            into: SQLName(validating: "store_export_items"),
            columns: ["export_id", "book", "source_kind", "source_id", "revision", "journal", "posted_on", "sequence", "source_digest", "entry"])
    }

    /// The entries of an export as booked, journal by journal, into `sink`.
    func journals(of export: Export, assembler: JournalAssembler, prefix: String, into sink: JournalSink) throws {
        let folder = JournalFolder(assembler: assembler, prefix: prefix, sink: sink)
        var number: Int64?
        var entries: [JournalEntry] = []
        var numbers: [Int64] = []
        // Entries are read in batches: the sink writes files, not the database, but a query's rows
        // must not wait on anything that might.
        func drain() throws {
            for (entry, journal) in zip(entries, numbers) {
                try folder.add(entry, startsJournal: journal != number ? journal : nil)
                number = journal
            }
            entries.removeAll(keepingCapacity: true)
            numbers.removeAll(keepingCapacity: true)
        }
        var after: Int64 = 0
        while true {
            try connection.query(
                "SELECT source_kind, source_id, revision, journal, entry, sequence FROM store_export_items WHERE export_id = $1 AND sequence > $2 ORDER BY sequence LIMIT 10000",
                [.integer(export.id), .integer(after)], columns: { _ in }
            ) { row in
                let kind = SourceKind(rawValue: row.string(0) ?? "") ?? .order
                guard let entry = JournalEntry(kind: kind, sourceID: row.int64(1) ?? 0, revision: Int(row.int64(2) ?? 0), json: row.string(4) ?? "") else {
                    throw PipelineError(.data, "the export ledger's entry for \(kind.rawValue) \(row.int64(1) ?? 0) cannot be read (was it edited by hand?)")
                }
                entries.append(entry)
                numbers.append(row.int64(3) ?? 0)
                after = row.int64(5) ?? after
            }
            if entries.isEmpty { break }
            try drain()
        }
        try folder.close()
    }

    /// The first day anything unbooked happened, for a first `since: last` export.
    func earliestUnbooked(zone: TimeZone) throws -> CalendarDate? {
        var earliest: String?
        let time = { (column: String) in StoreTime.text(column, connection.dialect) }
        for (table, column) in [("store_orders", "placed_at"), ("store_refunds", "refunded_at"), ("store_payments", "paid_at"), ("store_payouts", "paid_at")] {
            try connection.query("SELECT \(time("MIN(\(column))")) FROM \(table)", [], columns: { _ in }) { row in
                if let text = row.string(0), earliest.map({ text < $0 }) ?? true { earliest = text }
            }
        }
        return earliest.flatMap { Instant.parse($0, zone: .gmt) }?.localDate(in: zone)
    }
}
