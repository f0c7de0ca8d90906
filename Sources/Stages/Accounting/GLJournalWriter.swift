import Pipelines

/// A general-ledger CSV: one row per posting of each source item, so every figure ties to its order,
/// refund, payment or payout; a journal's rows sum to its lines.
final class GLJournalWriter: SingleFileJournalWriter {
    let output: DigestedOutput
    private let writer: CSVWriter

    init(_ settings: JournalWriterSettings) throws {
        output = try DigestedOutput(path: settings.path, owner: settings.owner)
        writer = CSVWriter(output: output.file)
        try writer.writeHeader(["journal", "date", "currency", "account", "debit", "credit", "source_kind", "source_id", "reference", "revision", "memo"])
    }

    func write(entry: JournalEntry, in journal: Journal) throws {
        for posting in entry.postings {
            let amount = Money.text(abs(posting.amount), journal.currency)
            try writer.writeRow([
                journal.reference, journal.date.text, journal.currency.code, posting.account, posting.amount > 0 ? amount : "",
                posting.amount < 0 ? amount : "", entry.kind.rawValue, String(entry.sourceID), entry.reference, String(entry.revision), entry.memo,
            ])
        }
    }

    /// The rows were written entry by entry.
    func write(_ journal: Journal) throws {}
}
