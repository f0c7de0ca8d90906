import Foundation
import Pipelines

/// `table.import`: streams a CSV or JSONL file into a table in chunks, each committed with its checkpoint,
/// through the shared import pipeline: the whole file is checked (on a second thread, while the first
/// chunk loads) before anything commits, so that past `max_rejects` nothing at all is written.
public enum TableImport: StageKind {
    /// What a load does with the rows already in the table.
    public enum Mode: String, ParameterChoice {
        /// Adds the file's rows.
        case append
        /// The table holds exactly the file's rows afterwards: loaded beside it, swapped in one transaction.
        case replace
        /// Inserts rows, and updates the stored row of the same `key`.
        case upsert
    }

    public struct Config: Sendable {
        var file: FilePath
        var table: SQLName
        var format: DataFormat?
        var mode: Mode
        var key: [String]?
        var create: Bool
        var maxRejects: Int
        var rejects: FilePath?
        var database: DatabaseName?
    }

    public static let name = "table.import"
    public static let summary = "Stream a CSV or JSONL file into a table; bad rows go to a rejects file"

    static let file = Parameter<FilePath>.required("file", doc: "the CSV or JSONL file to read")
    static let table = Parameter<SQLName>.required("table", doc: "the table to load (name or schema.name)")
    static let format = Parameter<DataFormat?>.optional("format", doc: "csv or jsonl; by default from the file's extension")
    static let mode = Parameter<Mode>.optional(
        "mode", default: .append,
        doc: "append adds the rows; replace makes the table hold exactly the file's rows (one swap at the end); upsert inserts or updates by key")
    static let key = Parameter<[String]?>.optional(
        "key", doc: "mode upsert: the columns that identify a row; the table needs a unique index or primary key on exactly them")
    static let create = Parameter<Bool>.optional(
        "create", default: false,
        doc: "create the table (TEXT columns from the header; with upsert, the key as primary key) when missing")
    static let rejects = Parameter<FilePath?>.optional(
        "rejects", doc: "where bad rows are listed; default var/<table>.rejects.csv")
    static let database = Parameter<DatabaseName?>.optional(
        "database", doc: "a database of the pipeline's databases: to load into; default the pipeline's database")

    public static let parameters = ParameterSet(
        file, table, format, mode, key, create, ImportParameters.maxRejects, rejects, database
    ) { file, table, format, mode, key, create, maxRejects, rejects, database in
        Config(
            file: file, table: table, format: format, mode: mode, key: key, create: create, maxRejects: maxRejects,
            rejects: rejects, database: database)
    }

    public static let counters = [ImportCounters.read, ImportCounters.written, ImportCounters.rejected]

    static let rejectsOutput = Output<FilePath>("rejects", doc: "the rejects file; only when rows were rejected")
    public static let outputs = [rejectsOutput.declaration]
    public static let events = [ImportEvents.rejects]

    /// A chunk of 250,000 rows is a fraction of a second of work: every commit costs PostgreSQL a pause
    /// in the `COPY` stream, which at 20,000 rows made the import 25–29% slower than one transaction
    /// (`bench/run`, checkpoint overhead); at 250,000 it is under 10%, and a resume redoes at most that.
    public static let execution = StageExecution.chunked(defaultSize: 250_000)

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        DataFormat.check(config.format, for: config.file) + ImportParameters.checkRejects(config.rejects, input: config.file)
            + checkKey(config)
    }

    static func checkKey(_ config: Config) -> [ConfigIssue] {
        switch (config.mode, config.key) {
        case (.upsert, nil):
            return [ConfigIssue("mode: upsert needs 'key': the columns that identify a row, e.g. key: [sku]", parameter: "mode")]
        case (.upsert, let key?):
            if key.isEmpty { return [ConfigIssue("'key' needs at least one column", parameter: "key")] }
            if Set(key).count != key.count { return [ConfigIssue("'key' names a column twice", parameter: "key")] }
            return []
        case (_, .some):
            return [ConfigIssue("'key' only applies to mode: upsert", parameter: "key")]
        case (_, nil):
            return []
        }
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["file \(config.file.path)"],
            writes: [
                "table \(config.table) in \(workspace.locator(for: config.database))"
                    + (config.mode == .append ? "" : " (\(config.mode.rawValue)\(config.key.map { " by " + $0.joined(separator: ", ") } ?? ""))"),
                "rejects file \(rejectsPath(config, in: workspace))",
            ])
    }

    static func rejectsPath(_ config: Config, in workspace: Workspace) -> String {
        config.rejects?.path ?? "\(workspace.workDirectory)/\(config.table.name).rejects.csv"
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let format = DataFormat.resolve(config.format, for: config.file)
        let database = try context.database(named: config.database)
        let rejectsPath = rejectsPath(config, in: context.workspace)
        let importer = try TableImporter(config: config, format: format, database: database, context: context)
        defer { importer.close() }
        let progress = try ImportPipeline.run(
            importer,
            input: ImportPipeline.Input(
                file: config.file, target: config.table.description, maxRejects: config.maxRejects,
                rejectsPath: rejectsPath),
            into: database, context: context)
        context.logger.info(
            "import.done",
            "imported \(progress.written) rows from \(config.file.lastComponent) into \(config.table)"
                + (progress.rejected > 0 ? "; \(progress.rejected) rejected, see \(rejectsPath)" : ""))
        return StageOutcome(
            counts: importer.counts(of: progress),
            outputs: progress.rejected > 0 ? [rejectsOutput.value(FilePath(rejectsPath))] : [])
    }
}
