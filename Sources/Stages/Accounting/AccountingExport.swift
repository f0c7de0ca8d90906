import Foundation
import Pipelines

/// `accounting.export`: the store's sales, refunds, payments and payouts of a period as balanced journals
/// in the accountant's format, each source item booked once per book through the export ledger.
///
/// The whole export is one store transaction: the files are written and put in place, then the ledger
/// rows commit. A kill before the commit leaves nothing booked, and the run again makes the same files;
/// a kill after it finds the export in the ledger and writes the files again from it, byte for byte.
public enum AccountingExport: StageKind {
    struct Period: ParameterValue, Equatable {
        var from: CalendarDate
        var to: CalendarDate

        static var typeName: String { "period" }
        static var typeDescription: String { "{ from: YYYY-MM-DD, to: YYYY-MM-DD } (both days included)" }

        static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Period {
            let fields = try ParameterFields(node, allowed: ["from", "to"], in: context)
            guard let from = try fields.value("from", as: CalendarDate.self), let to = try fields.value("to", as: CalendarDate.self) else {
                throw ParameterProblem("a period needs from and to")
            }
            guard from <= to else { throw ParameterProblem("the period's from (\(from.text)) is after its to (\(to.text))") }
            return Period(from: from, to: to)
        }

        var parameterDisplay: String { "{from: \(from.text), to: \(to.text)}" }
    }

    enum Since: String, ParameterChoice { case last }

    public struct Config: Sendable {
        var period: Period?
        var since: Since?
        var until: CalendarDate?
        var grouping: JournalAssembler.Grouping
        var zone: TimeZoneID
        var accounts: AccountMap
        var tolerance: Int64
        var format: JournalFormat
        var file: FilePath
        var book: String?
        var currency: CurrencyCode?
        var dateStyle: JournalFormat.DateStyle?
        var customer: String
        var xeroTaxRate: String
        var prefix: String
        var maxRejects: Int
    }

    public static let name = "accounting.export"
    public static let summary = "Export the store's sales, refunds, payments and payouts as balanced journals (QBO, IIF, Xero, beancount, ledger, GL CSV)"

    static let period = Parameter<Period?>.optional("period", doc: "the days to export, in the shop's timezone: { from, to }")
    static let since = Parameter<Since?>.optional("since", doc: "last: everything not exported yet, up to yesterday (or until)")
    static let until = Parameter<CalendarDate?>.optional("until", doc: "with since: last, the last day to export; default yesterday in the timezone")
    static let group = Parameter<JournalAssembler.Grouping>.optional(
        "group", default: .day, doc: "one journal per order, per day and currency, or per payout (what it settles, its fees and the net to the bank)")
    static let timezone = Parameter<TimeZoneID>.optional("timezone", default: .utc, doc: "the shop's zone: which day an order falls on")
    static let accounts = Parameter<AccountMap>.required("accounts", doc: "the account each part of a journal goes to (docs/accounting.md)")
    static let tolerance = Parameter<Int>.optional(
        "tolerance", default: 1, doc: "minor units an order's total may differ from its parts; booked to accounts.rounding, beyond it the order is rejected"
    ).atLeast(0)
    static let format = Parameter<JournalFormat>.required("format", doc: "qbo-csv, iif, xero-csv, beancount, ledger or gl-csv")
    static let file = Parameter<FilePath>.required(
        "file", doc: "the file to write; {from} and {to} are replaced by the period's days (xero-csv writes FILE-001.csv, FILE-002.csv, …)")
    static let book = Parameter<String?>.optional("book", doc: "the export ledger's book: what was exported is tracked per book; default the stage id")
    static let currency = Parameter<CurrencyCode?>.optional("currency", doc: "export only this currency (Xero's manual journals are in the base currency)")
    static let dateFormat = Parameter<JournalFormat.DateStyle?>.optional(
        "date_format", doc: "mm/dd/yyyy, dd/mm/yyyy or yyyy-mm-dd; default mm/dd/yyyy for QuickBooks, dd/mm/yyyy for Xero")
    static let customer = Parameter<String>.optional("customer", default: "Online sales", doc: "the Name on receivable lines of journals of many orders")
    static let xeroTaxRate = Parameter<String>.optional("xero_tax_rate", default: "Tax Exempt", doc: "the TaxRate of Xero lines, as the organisation names it")
    static let prefix = Parameter<String>.optional("journal_prefix", default: "PL-", doc: "journal numbers are PREFIX + 6 digits (at most 21 characters)")
        .checked("at most 12 characters of letters, digits and -") { text in
            text.count <= 12 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } ? nil : "must be at most 12 letters, digits or '-'"
        }
    static let maxRejects = Parameter<Int>.optional(
        "max_rejects", default: 0, doc: "orders that cannot be booked (beyond the tolerance, a tax or gateway without account) tolerated; they stay unbooked"
    ).atLeast(0)

    public static let parameters = ParameterSet(
        period, since, until, group, timezone, accounts, tolerance, format, file, book, currency, dateFormat, customer, xeroTaxRate, prefix, maxRejects
    ) { period, since, until, group, timezone, accounts, tolerance, format, file, book, currency, dateFormat, customer, xeroTaxRate, prefix, maxRejects in
        Config(
            period: period, since: since, until: until, grouping: group, zone: timezone, accounts: accounts, tolerance: Int64(tolerance), format: format,
            file: file, book: book, currency: currency, dateStyle: dateFormat, customer: customer, xeroTaxRate: xeroTaxRate, prefix: prefix,
            maxRejects: maxRejects)
    }

    static let journals = Counter("journals", unit: "journals", doc: "journals in the export")
    static let entries = Counter("entries", unit: "entries", doc: "source items (and adjustments) booked")
    static let rejected = Counter("rejected", unit: "items", doc: "items that could not be booked")
    public static let counters = [journals, entries, rejected]

    static let filesOutput = Output<JSONValue>("files", doc: "the files written: [{path, sha256, bytes}]")
    static let tieOutOutput = Output<FileDigest>("tie_out", doc: "the tie-out CSV: per account, journals and sources side by side")
    static let exportOutput = Output<JSONValue>("export", doc: "{book, from, to, journals, entries, reused}")
    public static let outputs = [filesOutput.declaration, tieOutOutput.declaration, exportOutput.declaration]

    public static let execution = StageExecution.whole()

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if (config.period == nil) == (config.since == nil) {
            issues.append(ConfigIssue("give either period: { from, to } or since: last", parameter: "period"))
        }
        if config.until != nil && config.since == nil { issues.append(ConfigIssue("until goes with since: last", parameter: "until")) }
        if config.format == .beancount {
            for account in config.accounts.all {
                if let problem = BeancountJournalWriter.problem(withAccount: account) { issues.append(ConfigIssue(problem, parameter: "accounts")) }
            }
        }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["store_orders, store_refunds, store_payments, store_payouts in \(workspace.database)"],
            writes: ["\(config.format.rawValue) file \(config.file.path)", "store_exports, store_export_items in \(workspace.database)"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let database = try context.database()
        let zone = config.zone.timeZone
        let book = config.book ?? context.stageID
        let ledger = ExportLedger(connection: database, book: book)
        let now = try Instant.now()
        let plan = try ExportPlan.make(config, ledger: ledger, now: now, zone: zone)
        let assembler = try JournalAssembler(grouping: config.grouping, customer: config.customer)
        defer { assembler.close() }
        func settings(currencies: [String]) -> JournalWriterSettings {
            JournalWriterSettings(
                path: plan.path(config.file.path), dateStyle: config.dateStyle ?? config.format.defaultDateStyle, accounts: config.accounts,
                currencies: currencies, xeroTaxRate: config.xeroTaxRate, owner: context.checkpoints.key)
        }
        var tieOut = TieOut()
        var rejectedCount = 0
        let files: [FileDigest]
        if let existing = plan.existing {
            context.logger.info("accounting.rewrite", "book '\(book)' already has the export \(existing.from.text) … \(existing.to.text): writing it again from the ledger")
            let writer = try config.format.writer(settings(currencies: existing.currencies))
            do {
                try ledger.journals(
                    of: existing, assembler: assembler, prefix: config.prefix,
                    into: JournalSink(
                        entry: { entry, journal in
                            tieOut.add(entry)
                            try writer.write(entry: entry, in: journal)
                        },
                        journal: { journal in
                            try tieOut.add(journal)
                            try writer.write(journal)
                        }))
                try writer.finish()
                files = try writer.commit()
            } catch {
                writer.discard()
                throw error
            }
        } else {
            let source = EntrySource(
                connection: database, book: book, accounts: config.accounts, zone: zone, tolerance: config.tolerance, currency: config.currency)
            (files, rejectedCount) = try database.inTransaction {
                let first = try ledger.nextJournalNumber()
                let exportID = try ledger.begin(
                    ExportLedger.NewExport(
                        from: plan.from, to: plan.to, format: config.format.rawValue, grouping: config.grouping.rawValue, timezone: config.zone.identifier,
                        firstJournal: first, pipeline: context.run.pipeline, run: context.run.identity, stage: context.stageID,
                        at: now))
                try source.entries(plan.scope(zone: zone, grouping: config.grouping)) { try assembler.add($0) }
                let rejections = source.rejections
                for rejection in rejections.prefix(20) { context.logger.warning("accounting.rejected", rejection.reason) }
                if rejections.count > config.maxRejects {
                    throw PipelineError(
                        .data,
                        "\(rejections.count) item(s) cannot be booked (max_rejects \(config.maxRejects)); nothing was exported. First: \(rejections[0].reason)")
                }
                let currencies = assembler.currencies
                if currencies.count > 1, config.format == .xeroCSV || config.format == .iif {
                    throw PipelineError(
                        .data,
                        "the export holds \(currencies.joined(separator: ", ")): \(config.format.rawValue) journals carry no currency, so give the stage 'currency' and export one currency per stage")
                }
                let writer = try config.format.writer(settings(currencies: currencies))
                do {
                    // On PostgreSQL the ledger rows go in through COPY: no other statement until it finishes.
                    let inserter = try ledger.inserter()
                    var sequence: Int64 = 0
                    let used = try assembler.journals(
                        firstNumber: first, prefix: config.prefix,
                        into: JournalSink(
                            entry: { entry, journal in
                                tieOut.add(entry)
                                sequence += 1
                                try ledger.record(entry, in: journal, export: exportID, sequence: sequence, into: inserter)
                                try writer.write(entry: entry, in: journal)
                            },
                            journal: { journal in
                                try tieOut.add(journal)
                                try writer.write(journal)
                            }))
                    _ = try inserter.finish()
                    try writer.finish()
                    tieOut.takeSources(try SourceTotals(connection: database, accounts: config.accounts).totals(export: exportID))
                    guard tieOut.differences.isEmpty else { throw PipelineError(.internal, "the tie-out differs: \(tieOut.summary)") }
                    let written = try writer.commit()
                    try ledger.finish(exportID, files: filesJSON(written), currencies: currencies, journals: used)
                    return (written, rejections.count)
                } catch {
                    writer.discard()
                    throw error
                }
            }
        }
        let folder = "\(context.workspace.workDirectory)/\(context.stageID)"
        try FilePlacement.createDirectories(folder)
        let tieOutFile = try tieOut.write(to: "\(folder)/tie-out-\(plan.from.text)-\(plan.to.text).csv", owner: context.checkpoints.key)
        context.logger.info(
            "accounting.exported",
            "book '\(book)' \(plan.from.text) … \(plan.to.text) → \(files.map(\.path).joined(separator: ", ")): \(tieOut.summary)")
        let counts: StageCounts = [journals: tieOut.journalCount, entries: tieOut.entries, rejected: Int64(rejectedCount)]
        context.report(counts)
        return StageOutcome(
            counts: counts,
            outputs: [
                filesOutput.value(filesJSON(files)), tieOutOutput.value(tieOutFile),
                exportOutput.value(
                    .object([
                        ("book", .string(book)), ("from", .string(plan.from.text)), ("to", .string(plan.to.text)),
                        ("journals", .number(String(tieOut.journalCount))), ("entries", .number(String(tieOut.entries))),
                        ("reused", .bool(plan.reused)),
                    ])),
            ])
    }

    static func filesJSON(_ files: [FileDigest]) -> JSONValue {
        .array(files.map { .object([("path", .string($0.path)), ("sha256", .string($0.sha256)), ("bytes", .number(String($0.bytes)))]) })
    }
}

/// Which days an export covers, and whether the book already has it.
struct ExportPlan {
    var from: CalendarDate
    var to: CalendarDate
    var existing: ExportLedger.Export?
    var reused: Bool { existing != nil }
    /// `since: last`: items from before `from` not booked yet are taken too (they arrived late).
    var open: Bool

    static func make(_ config: AccountingExport.Config, ledger: ExportLedger, now: Instant, zone: TimeZone) throws -> ExportPlan {
        if let period = config.period {
            let existing = try ledger.export(from: period.from, to: period.to)
            return ExportPlan(from: period.from, to: period.to, existing: existing, open: false)
        }
        let yesterday = Instant.civil(days: Instant.days(of: now.localDate(in: zone)) - 1)
        let to = config.until ?? yesterday
        let latest = try ledger.latest()
        if let latest, latest.to >= to {
            return ExportPlan(from: latest.from, to: latest.to, existing: latest, open: true)
        }
        let earliest = try ledger.earliestUnbooked(zone: zone) ?? to
        let from = latest.map { Instant.civil(days: Instant.days(of: $0.to) + 1) } ?? min(earliest, to)
        return ExportPlan(from: from, to: to, existing: nil, open: true)
    }

    func scope(zone: TimeZone, grouping: JournalAssembler.Grouping) -> EntrySource.Scope {
        let end = Instant.startOfDay(Instant.civil(days: Instant.days(of: to) + 1), in: zone)
        return EntrySource.Scope(start: open ? nil : Instant.startOfDay(from, in: zone), end: end, byPayout: grouping == .payout)
    }

    func path(_ template: String) -> String {
        template.replacingOccurrences(of: "{from}", with: from.text).replacingOccurrences(of: "{to}", with: to.text)
    }
}
