import Foundation
import Pipelines

/// The accountant's systems an export writes for.
enum JournalFormat: String, ParameterChoice {
    case qboCSV = "qbo-csv"
    case iif
    case xeroCSV = "xero-csv"
    case beancount
    case ledger
    case glCSV = "gl-csv"

    /// How dates are written where the importer follows the company's locale.
    enum DateStyle: String, ParameterChoice {
        case monthFirst = "mm/dd/yyyy"
        case dayFirst = "dd/mm/yyyy"
        case iso = "yyyy-mm-dd"

        func text(_ date: CalendarDate) -> String {
            switch self {
            case .monthFirst: String(format: "%02d/%02d/%04d", date.month, date.day, date.year)
            case .dayFirst: String(format: "%02d/%02d/%04d", date.day, date.month, date.year)
            case .iso: date.text
            }
        }
    }

    var defaultDateStyle: DateStyle {
        switch self {
        case .qboCSV, .iif: .monthFirst
        case .xeroCSV: .dayFirst
        case .beancount, .ledger, .glCSV: .iso
        }
    }
}

/// What every writer needs besides the journals.
struct JournalWriterSettings {
    var path: String
    var dateStyle: JournalFormat.DateStyle
    var accounts: AccountMap
    var currencies: [String]
    var xeroTaxRate: String
    var owner: String
}

/// Writes journals into the files of one format. Files are temporary until `commit`.
protocol JournalWriter: AnyObject {
    /// Each source item as it is folded into its journal (only a writer of item-level rows wants it).
    func write(entry: JournalEntry, in journal: Journal) throws
    func write(_ journal: Journal) throws
    /// Finishes the files; they are put in place by `commit`.
    func finish() throws
    func commit() throws -> [FileDigest]
    func discard()
}

extension JournalWriter {
    func write(entry: JournalEntry, in journal: Journal) throws {}
}

extension JournalFormat {
    func writer(_ settings: JournalWriterSettings) throws -> any JournalWriter {
        switch self {
        case .qboCSV: try QBOJournalWriter(settings)
        case .iif: try IIFJournalWriter(settings)
        case .xeroCSV: XeroJournalWriter(settings)
        case .beancount: try BeancountJournalWriter(settings)
        case .ledger: try LedgerJournalWriter(settings)
        case .glCSV: try GLJournalWriter(settings)
        }
    }
}

/// A writer of one file: finishing flushes it, committing puts it in place with its SHA-256.
protocol SingleFileJournalWriter: JournalWriter {
    var output: DigestedOutput { get }
}

extension SingleFileJournalWriter {
    func finish() throws { try output.file.flush() }
    func commit() throws -> [FileDigest] { try output.commit() }
    func discard() { output.file.discard() }
}

/// One output file written with its SHA-256, for the writers that write a single file.
final class DigestedOutput {
    let file: AtomicOutputFile

    init(path: String, owner: String) throws {
        try FilePlacement.createDirectories(FileSupport.parentDirectory(of: path))
        file = try AtomicOutputFile(path: path, owner: owner)
        try file.startDigest()
    }

    func commit() throws -> [FileDigest] { [try file.commitIfChanged().digest] }
}

extension Money {
    /// Decimal text of `units` in `currency`.
    static func text(_ units: Int64, _ currency: CurrencyCode) -> String { Money(minorUnits: units, currency: currency).decimalText }
}
