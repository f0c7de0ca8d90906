import Foundation
import Pipelines

/// Entries → journals. Entries arrive in whatever order the store gives them; they wait in a scratch
/// SQLite table (memory stays flat however many there are) and come back sorted by journal, so each
/// journal is summed and written once. The same grouping runs on entries read back from the ledger, which
/// is why an export written again is byte-identical.
final class JournalAssembler {
    enum Grouping: String, ParameterChoice {
        case order, day, payout
    }

    private let grouping: Grouping
    private let customer: String
    private var scratch: SQLiteScratch?
    private var insert: ScratchStatement?
    private var count: Int64 = 0
    /// The currencies of the entries added, sorted.
    var currencies: [String] { currencySet.sorted() }
    private var currencySet = Set<String>()

    init(grouping: Grouping, customer: String) throws {
        self.grouping = grouping
        self.customer = customer
        let scratch = try SQLiteScratch(purpose: "the export's entries", cacheKiB: 8192)
        self.scratch = scratch
        try scratch.execute(
            "CREATE TABLE entries (journal_key TEXT NOT NULL, rank INTEGER NOT NULL, kind TEXT NOT NULL, source_id INTEGER NOT NULL, revision INTEGER NOT NULL, entry TEXT NOT NULL); BEGIN")
        insert = try scratch.prepare(
            "INSERT INTO entries (journal_key, rank, kind, source_id, revision, entry) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
    }

    deinit { close() }

    func close() {
        insert = nil
        scratch?.close()
        scratch = nil
    }

    /// How entries sort inside a journal: a payout first (it dates a payout journal), then sales,
    /// refunds and payments.
    static func rank(_ kind: SourceKind) -> Int {
        switch kind {
        case .payout: 0
        case .order: 1
        case .refund: 2
        case .payment: 3
        }
    }

    private func journalKey(_ entry: JournalEntry) -> String {
        let sort = "\(Self.rank(entry.kind))|\(String(format: "%019lld", entry.sourceID))|\(String(format: "%09d", entry.revision))"
        switch grouping {
        case .order: return "\(entry.date.text)|\(entry.currency.code)|\(sort)"
        case .day: return "\(entry.date.text)|\(entry.currency.code)"
        case .payout: return "\(entry.payout)|\(entry.currency.code)"
        }
    }

    func add(_ entry: JournalEntry) throws {
        guard let insert else { throw PipelineError(.internal, "the export's entries are closed") }
        count += 1
        currencySet.insert(entry.currency.code)
        let key = Array(journalKey(entry).utf8)
        let kind = Array(entry.kind.rawValue.utf8)
        let json = Array(entry.json.serialized.utf8)
        try key.withUnsafeBytes { key in
            try kind.withUnsafeBytes { kind in
                try json.withUnsafeBytes { json in
                    try insert.bind(text: key, at: 1)
                    try insert.bind(Int64(Self.rank(entry.kind)), at: 2)
                    try insert.bind(text: kind, at: 3)
                    try insert.bind(entry.sourceID, at: 4)
                    try insert.bind(Int64(entry.revision), at: 5)
                    try insert.bind(text: json, at: 6)
                    _ = try insert.step()
                    insert.reset()
                }
            }
        }
    }

    /// The journals, in order, numbered from `firstNumber`; `body` gets each with its entries.
    /// Returns how many numbers were used.
    func journals(firstNumber: Int64, prefix: String, _ body: (Journal) throws -> Void) throws -> Int64 {
        guard let scratch else { throw PipelineError(.internal, "the export's entries are closed") }
        let select = try scratch.prepare("SELECT journal_key, kind, source_id, revision, entry FROM entries ORDER BY journal_key, rank, source_id, revision")
        var number = firstNumber
        var key: String?
        var entries: [JournalEntry] = []
        func flush() throws {
            guard let first = entries.first else { return }
            try body(journal(number: number, prefix: prefix, entries: entries, first: first))
            number += 1
            entries.removeAll(keepingCapacity: true)
        }
        while try select.step() {
            let rowKey = select.withBytes(0) { String(decoding: $0, as: UTF8.self) }
            if rowKey != key {
                try flush()
                key = rowKey
            }
            let kind = SourceKind(rawValue: select.withBytes(1) { String(decoding: $0, as: UTF8.self) }) ?? .order
            let json = select.withBytes(4) { String(decoding: $0, as: UTF8.self) }
            guard let entry = JournalEntry(kind: kind, sourceID: select.int64(2), revision: Int(select.int64(3)), json: json) else {
                throw PipelineError(.internal, "an entry of the export could not be read back")
            }
            entries.append(entry)
        }
        try flush()
        return number - firstNumber
    }

    /// A journal of `entries`, dated and described by the grouping.
    func journal(number: Int64, prefix: String, entries: [JournalEntry], first: JournalEntry) -> Journal {
        let reference = "\(prefix)\(String(format: "%06lld", number))"
        let lines = Journal.lines(of: entries)
        switch grouping {
        case .order:
            return Journal(
                number: number, reference: reference, date: first.date, currency: first.currency, memo: first.memo,
                name: first.name.isEmpty ? customer : first.name, lines: lines, entries: entries)
        case .day:
            return Journal(
                number: number, reference: reference, date: first.date, currency: first.currency,
                memo: "Sales, refunds and payments \(first.date.text) (\(first.currency.code))", name: customer, lines: lines, entries: entries)
        case .payout:
            let payout = entries.first { $0.kind == .payout }
            let date = payout?.date ?? entries.map(\.date).max() ?? first.date
            return Journal(
                number: number, reference: reference, date: date, currency: first.currency,
                memo: payout?.memo
                    ?? (first.payout.isEmpty
                        ? "Changes of sales already exported (\(first.currency.code))" : "Settled by \(first.payout.replacingOccurrences(of: "|", with: " payout "))"),
                name: customer, lines: lines,
                entries: entries)
        }
    }
}
