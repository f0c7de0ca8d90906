import Pipelines

/// A plain-text journal that ledger (`--pedantic`) and hledger (`check -s`) both read: commodities,
/// accounts and the `journal` tag declared first, then one transaction per journal.
final class LedgerJournalWriter: SingleFileJournalWriter {
    let output: DigestedOutput

    init(_ settings: JournalWriterSettings) throws {
        output = try DigestedOutput(path: settings.path, owner: settings.owner)
        var header = ""
        for currency in settings.currencies { header += "commodity \(currency)\n" }
        for account in settings.accounts.all { header += "account \(account)\n" }
        header += "tag journal\n"
        try output.file.write(header)
    }

    static func clean(_ text: String) -> String { String(text.map { $0 == "\n" || $0 == "\r" || $0 == ";" ? " " : $0 }) }

    func write(_ journal: Journal) throws {
        guard !journal.lines.isEmpty else { return }
        let date = journal.date.text.replacingOccurrences(of: "-", with: "/")
        var text = "\n\(date) \(Self.clean(journal.memo))\n    ; journal: \(journal.reference)\n"
        for line in journal.lines { text += "    \(Self.clean(line.account))  \(Money.text(line.amount, journal.currency)) \(journal.currency.code)\n" }
        try output.file.write(text)
    }
}
