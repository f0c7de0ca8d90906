import Pipelines

/// QuickBooks Online's journal entry import: one row per line, rows of one entry sharing `Journal No`
/// (at most 21 characters). Debits and Credits are never negative and never both on one line; `Name`
/// (the customer) is on the accounts-receivable lines, where QuickBooks requires it.
final class QBOJournalWriter: SingleFileJournalWriter {
    let output: DigestedOutput
    private let writer: CSVWriter
    private let settings: JournalWriterSettings

    init(_ settings: JournalWriterSettings) throws {
        self.settings = settings
        output = try DigestedOutput(path: settings.path, owner: settings.owner)
        writer = CSVWriter(output: output.file)
        try writer.writeHeader(["Journal No", "Journal Date", "Currency", "Account", "Debits", "Credits", "Description", "Name"])
    }

    func write(_ journal: Journal) throws {
        for line in journal.lines {
            let amount = Money.text(abs(line.amount), journal.currency)
            try writer.writeRow([
                journal.reference, settings.dateStyle.text(journal.date), journal.currency.code, line.account, line.amount > 0 ? amount : "",
                line.amount < 0 ? amount : "", journal.memo, line.account == settings.accounts.receivable ? journal.name : "",
            ])
        }
    }
}
