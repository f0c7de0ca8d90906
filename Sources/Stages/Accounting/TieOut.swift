import Pipelines

/// The tie-out of one export: per currency and account, the sum of the source items' postings (each
/// computed from its order, refund, payment or payout) beside the sum of the journal lines written.
/// They must be equal and every journal must balance; anything else is an internal error, never a file.
struct TieOut {
    struct Key: Hashable, Comparable {
        var currency: String
        var account: String
        static func < (left: Key, right: Key) -> Bool { (left.currency, left.account) < (right.currency, right.account) }
    }

    private(set) var sources: [Key: Int64] = [:]
    private(set) var journals: [Key: Int64] = [:]
    private(set) var exponents: [String: Int] = [:]
    private(set) var entries: Int64 = 0
    private(set) var journalCount: Int64 = 0

    /// What adjustments (revisions ≥ 1) booked: they have no source row to sum.
    private var adjustments: [Key: Int64] = [:]

    /// A source item's postings, as computed from its row.
    mutating func add(_ entry: JournalEntry) {
        entries += 1
        for posting in entry.postings {
            let key = Key(currency: entry.currency.code, account: posting.account)
            sources[key, default: 0] += posting.amount
            if entry.revision > 0 { adjustments[key, default: 0] += posting.amount }
        }
    }

    /// A new export's source side: the SQL sums over the rows it booked (`SourceTotals`), plus its
    /// adjustments. (An export written again compares with the entries as booked.)
    mutating func takeSources(_ totals: [Key: Int64]) {
        sources = totals.merging(adjustments, uniquingKeysWith: +)
    }

    /// A journal's lines, as written.
    mutating func add(_ journal: Journal) throws {
        let balance = journal.lines.reduce(0) { $0 + $1.amount }
        guard balance == 0 else {
            throw PipelineError(.internal, "journal \(journal.reference) does not balance: off by \(Money.text(balance, journal.currency)) \(journal.currency.code)")
        }
        exponents[journal.currency.code] = journal.currency.exponent
        if !journal.lines.isEmpty { journalCount += 1 }
        for line in journal.lines { journals[Key(currency: journal.currency.code, account: line.account), default: 0] += line.amount }
    }

    var keys: [Key] { Set(sources.keys).union(journals.keys).sorted() }
    var differences: [Key] { keys.filter { sources[$0, default: 0] != journals[$0, default: 0] } }

    func write(to path: String, owner: String) throws -> FileDigest {
        try AtomicOutputFile.writeIfChanged(path: path, owner: owner) { output in
            let writer = CSVWriter(output: output)
            try writer.writeHeader(["currency", "account", "debits", "credits", "journals_net", "sources_net", "difference"])
            for key in keys {
                let currency = CurrencyCode(code: key.currency, exponent: exponents[key.currency] ?? 2)
                let net = journals[key, default: 0]
                let source = sources[key, default: 0]
                try writer.writeRow([
                    key.currency, key.account, Money.text(max(net, 0), currency), Money.text(max(-net, 0), currency), Money.text(net, currency),
                    Money.text(source, currency), Money.text(net - source, currency),
                ])
            }
            try writer.flush()
        }.digest
    }

    /// One line for the log: per currency, the debits (= credits) and whether every account ties.
    var summary: String {
        var debits: [String: Int64] = [:]
        for (key, net) in journals where net > 0 { debits[key.currency, default: 0] += net }
        let totals = debits.keys.sorted().map { code in
            "\(Money.text(debits[code] ?? 0, CurrencyCode(code: code, exponent: exponents[code] ?? 2))) \(code)"
        }
        return "\(journalCount) journals from \(entries) entries; debits = credits = \(totals.isEmpty ? "0" : totals.joined(separator: ", ")); "
            + (differences.isEmpty ? "all \(keys.count) accounts tie to their sources" : "\(differences.count) accounts do not tie")
    }
}
