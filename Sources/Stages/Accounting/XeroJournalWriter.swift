import Foundation
import Pipelines

/// Xero's manual journal import: `*Narration, *Date, Description, *AccountCode, *TaxRate, *Amount`,
/// signed amounts (debits positive). Xero takes at most 300 lines per file, so journals go into
/// numbered files `NAME-001.csv`, `NAME-002.csv`, …; a journal is never split across two.
/// Rows of one journal share their narration, which starts with the journal's number.
final class XeroJournalWriter: JournalWriter {
    static let linesPerFile = 300

    private let settings: JournalWriterSettings
    private var outputs: [DigestedOutput] = []
    private var writer: CSVWriter?
    private var linesInFile = 0

    init(_ settings: JournalWriterSettings) { self.settings = settings }

    private func path(_ number: Int) -> String {
        let url = URL(fileURLWithPath: settings.path)
        let ext = url.pathExtension.isEmpty ? "csv" : url.pathExtension
        return url.deletingPathExtension().path + String(format: "-%03d.", number) + ext
    }

    private func startFile() throws {
        try writer?.flush()
        let output = try DigestedOutput(path: path(outputs.count + 1), owner: settings.owner)
        outputs.append(output)
        let writer = CSVWriter(output: output.file)
        try writer.writeHeader(["*Narration", "*Date", "Description", "*AccountCode", "*TaxRate", "*Amount"])
        self.writer = writer
        linesInFile = 0
    }

    func write(_ journal: Journal) throws {
        guard !journal.lines.isEmpty else { return }
        guard journal.lines.count <= Self.linesPerFile else {
            throw PipelineError(.data, "journal \(journal.reference) has \(journal.lines.count) lines, more than the \(Self.linesPerFile) Xero takes in one file")
        }
        if writer == nil || linesInFile + journal.lines.count > Self.linesPerFile { try startFile() }
        let narration = "\(journal.reference) \(journal.memo)"
        for line in journal.lines {
            try writer?.writeRow([
                narration, settings.dateStyle.text(journal.date), journal.name, line.account, settings.xeroTaxRate,
                Money.text(line.amount, journal.currency),
            ])
        }
        linesInFile += journal.lines.count
    }

    func finish() throws {
        if writer == nil { try startFile() }
        try writer?.flush()
    }

    func commit() throws -> [FileDigest] { try outputs.flatMap { try $0.commit() } }
    func discard() { outputs.forEach { $0.file.discard() } }
}
