import Pipelines

/// QuickBooks Desktop's IIF: tab-separated, `!TRNS`/`!SPL`/`!ENDTRNS` headers, each journal a
/// `GENERAL JOURNAL` transaction whose first line is `TRNS` and the rest `SPL`, signed amounts (debits
/// positive) summing to zero. Tabs and line breaks in text become spaces.
final class IIFJournalWriter: SingleFileJournalWriter {
    let output: DigestedOutput
    private let settings: JournalWriterSettings

    init(_ settings: JournalWriterSettings) throws {
        self.settings = settings
        output = try DigestedOutput(path: settings.path, owner: settings.owner)
        try output.file.write(
            "!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tNAME\tAMOUNT\tDOCNUM\tMEMO\r\n!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tNAME\tAMOUNT\tDOCNUM\tMEMO\r\n!ENDTRNS\r\n")
    }

    private static func clean(_ text: String) -> String {
        String(text.map { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\"" ? " " : $0 })
    }

    func write(_ journal: Journal) throws {
        let date = settings.dateStyle.text(journal.date)
        for (index, line) in journal.lines.enumerated() {
            let name = line.account == settings.accounts.receivable ? Self.clean(journal.name) : ""
            let fields = [
                index == 0 ? "TRNS" : "SPL", "", "GENERAL JOURNAL", date, Self.clean(line.account), name, Money.text(line.amount, journal.currency),
                journal.reference, Self.clean(journal.memo),
            ]
            try output.file.write(fields.joined(separator: "\t") + "\r\n")
        }
        if !journal.lines.isEmpty { try output.file.write("ENDTRNS\r\n") }
    }
}
