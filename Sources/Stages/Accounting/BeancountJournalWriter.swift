import Pipelines

/// A beancount file: every account the export may use opened first (on 1970-01-01, so any journal date
/// is after it), then one transaction per journal with its number and the currency on every posting.
final class BeancountJournalWriter: SingleFileJournalWriter {
    let output: DigestedOutput

    init(_ settings: JournalWriterSettings) throws {
        output = try DigestedOutput(path: settings.path, owner: settings.owner)
        var header = ""
        for currency in settings.currencies { header += "option \"operating_currency\" \"\(currency)\"\n" }
        header += "\n"
        for account in settings.accounts.all { header += "1970-01-01 open \(account)\n" }
        try output.file.write(header)
    }

    /// Beancount's account names: a root of Assets, Liabilities, Equity, Income or Expenses, then
    /// components starting with a capital letter or digit, of letters, digits and '-'.
    static func problem(withAccount account: String) -> String? {
        let parts = account.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, ["Assets", "Liabilities", "Equity", "Income", "Expenses"].contains(String(parts[0])) else {
            return "'\(account)' is not a beancount account: it must start with Assets:, Liabilities:, Equity:, Income: or Expenses:"
        }
        for part in parts.dropFirst() {
            guard let first = part.first, first.isUppercase || first.isASCIIDigit, part.allSatisfy({ $0.isLetter || $0.isASCIIDigit || $0 == "-" }) else {
                return "'\(account)' is not a beancount account: each part starts with a capital letter or digit and holds only letters, digits and '-'"
            }
        }
        return nil
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: " ") + "\""
    }

    func write(_ journal: Journal) throws {
        guard !journal.lines.isEmpty else { return }
        var text = "\n\(journal.date.text) * \(Self.quoted(journal.name)) \(Self.quoted(journal.memo))\n  journal: \(Self.quoted(journal.reference))\n"
        for line in journal.lines { text += "  \(line.account)  \(Money.text(line.amount, journal.currency)) \(journal.currency.code)\n" }
        try output.file.write(text)
    }
}
