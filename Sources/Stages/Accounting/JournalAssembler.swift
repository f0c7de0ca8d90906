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
            """
            CREATE TABLE entries (journal_key TEXT NOT NULL, rank INTEGER NOT NULL, kind TEXT NOT NULL, source_id INTEGER NOT NULL,
                revision INTEGER NOT NULL, day INTEGER NOT NULL, currency TEXT NOT NULL, exponent INTEGER NOT NULL, reference TEXT NOT NULL,
                name TEXT NOT NULL, memo TEXT NOT NULL, payout TEXT NOT NULL, digest TEXT NOT NULL, postings TEXT NOT NULL);
            BEGIN
            """)
        insert = try scratch.prepare(
            "INSERT INTO entries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")
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

    /// `value` as `width` decimal digits (values here are never negative).
    private static func padded(_ value: Int64, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private func journalKey(_ entry: JournalEntry) -> String {
        switch grouping {
        case .order:
            return "\(entry.date.text)|\(entry.currency.code)|\(Self.rank(entry.kind))|\(Self.padded(entry.sourceID, width: 19))|\(Self.padded(Int64(entry.revision), width: 9))"
        case .day: return "\(entry.date.text)|\(entry.currency.code)"
        case .payout: return "\(entry.payout)|\(entry.currency.code)"
        }
    }

    private static let fieldSeparator = "\u{1F}"
    private static let postingSeparator = "\u{1E}"

    func add(_ entry: JournalEntry) throws {
        guard let insert else { throw PipelineError(.internal, "the export's entries are closed") }
        count += 1
        currencySet.insert(entry.currency.code)
        let postings = entry.postings.map { "\($0.account)\(Self.fieldSeparator)\($0.amount)" }.joined(separator: Self.postingSeparator)
        // One buffer for all the texts: the statement reads them in place until it has stepped.
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        for text in [
            journalKey(entry), entry.kind.rawValue, entry.currency.code, entry.reference, entry.name, entry.memo, entry.payout, entry.digest, postings,
        ] {
            let start = buffer.count
            buffer.append(contentsOf: text.utf8)
            ranges.append(start..<buffer.count)
        }
        try buffer.withUnsafeBytes { bytes in
            func text(_ index: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[ranges[index]]) }
            try insert.bind(text: text(0), at: 1)
            try insert.bind(Int64(Self.rank(entry.kind)), at: 2)
            try insert.bind(text: text(1), at: 3)
            try insert.bind(entry.sourceID, at: 4)
            try insert.bind(Int64(entry.revision), at: 5)
            try insert.bind(Instant.days(of: entry.date), at: 6)
            try insert.bind(text: text(2), at: 7)
            try insert.bind(Int64(entry.currency.exponent), at: 8)
            for (offset, column) in (3...8).enumerated() { try insert.bind(text: text(column), at: Int32(9 + offset)) }
            _ = try insert.step()
            insert.reset()
        }
    }

    /// The entries in journal order into `sink`, journals numbered from `firstNumber`. Returns how many
    /// numbers were used.
    func journals(firstNumber: Int64, prefix: String, into sink: JournalSink) throws -> Int64 {
        guard let scratch else { throw PipelineError(.internal, "the export's entries are closed") }
        let select = try scratch.prepare(
            """
            SELECT journal_key, kind, source_id, revision, day, currency, exponent, reference, name, memo, payout, digest, postings
            FROM entries ORDER BY journal_key, rank, source_id, revision
            """)
        let folder = JournalFolder(assembler: self, prefix: prefix, sink: sink)
        var number = firstNumber - 1
        var key: String?
        func text(_ column: Int32) -> String { select.withBytes(column) { String(decoding: $0, as: UTF8.self) } }
        while try select.step() {
            let rowKey = text(0)
            let starts = rowKey != key
            if starts {
                key = rowKey
                number += 1
            }
            let postings = try select.withBytes(12) { try Self.postings(in: $0) }
            try folder.add(
                JournalEntry(
                    kind: SourceKind(rawValue: text(1)) ?? .order, sourceID: select.int64(2), revision: Int(select.int64(3)),
                    reference: text(7), date: Instant.civil(days: select.int64(4)),
                    currency: CurrencyCode(code: text(5), exponent: Int(select.int64(6))), name: text(8), memo: text(9), payout: text(10),
                    digest: text(11), postings: postings),
                startsJournal: starts ? number : nil)
        }
        try folder.close()
        return number - firstNumber + 1
    }

    /// Postings written as `account` 0x1F `amount`, separated by 0x1E (also how the orders query gives an
    /// order's taxes by name).
    static func postings(in bytes: UnsafeRawBufferPointer) throws -> [Posting] {
        var postings: [Posting] = []
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x1E { end += 1 }
            guard let split = bytes[start..<end].firstIndex(of: 0x1F),
                let amount = Int64(decimal: UnsafeRawBufferPointer(rebasing: bytes[(split + 1)..<end]))
            else { throw PipelineError(.internal, "an entry of the export could not be read back") }
            postings.append(Posting(account: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<split]), as: UTF8.self), amount: amount))
            start = end + 1
        }
        return postings
    }

    /// A journal's header from its first entry (a payout journal's first entry is its payout, when the
    /// payout is booked with it); its lines come as its entries are folded in.
    func header(number: Int64, prefix: String, first: JournalEntry) -> Journal {
        let digits = String(number)
        let reference = prefix + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        let (memo, name): (String, String)
        switch grouping {
        case .order: (memo, name) = (first.memo, first.name.isEmpty ? customer : first.name)
        case .day: (memo, name) = ("Sales, refunds and payments \(first.date.text) (\(first.currency.code))", customer)
        case .payout:
            memo =
                first.kind == .payout
                ? first.memo
                : first.payout.isEmpty
                    ? "Changes of sales already exported (\(first.currency.code))" : "Settled by \(first.payout.replacingOccurrences(of: "|", with: " payout "))"
            name = customer
        }
        return Journal(number: number, reference: reference, date: first.date, currency: first.currency, memo: memo, name: name, lines: [])
    }
}

/// Where journals go as they are made: each entry with its journal's header, then each journal summed.
struct JournalSink {
    var entry: (JournalEntry, Journal) throws -> Void
    var journal: (Journal) throws -> Void
}

/// Folds entries that arrive journal by journal into journals: only the running sums of the open journal
/// are kept, so a day of a hundred thousand orders costs no more memory than a day of ten.
final class JournalFolder {
    private let assembler: JournalAssembler
    private let prefix: String
    private let sink: JournalSink
    private var open: Journal?
    private var sums: [String: Int64] = [:]

    init(assembler: JournalAssembler, prefix: String, sink: JournalSink) {
        self.assembler = assembler
        self.prefix = prefix
        self.sink = sink
    }

    /// `startsJournal`: the number of the journal this entry opens, nil when it continues the open one.
    func add(_ entry: JournalEntry, startsJournal number: Int64?) throws {
        if let number {
            try close()
            open = assembler.header(number: number, prefix: prefix, first: entry)
        }
        guard let open else { throw PipelineError(.internal, "an entry came before its journal") }
        for posting in entry.postings { sums[posting.account, default: 0] += posting.amount }
        try sink.entry(entry, open)
    }

    func close() throws {
        guard var journal = open else { return }
        journal.lines = Journal.lines(sums: sums)
        open = nil
        sums.removeAll(keepingCapacity: true)
        try sink.journal(journal)
    }
}
