import Foundation
import Pipelines

/// `table.import`: streams a CSV or JSONL file into a table in one transaction. Bad rows go to a
/// rejects file; past `max_rejects` nothing is written.
public enum TableImport: StageKind {
    public struct Config: Sendable {
        var file = FilePath("")
        var table = SQLName.unset
        var format: DataFormat?
        var create = false
        var maxRejects = 0
        var rejects: FilePath?
    }

    public static let name = "table.import"
    public static let summary = "Stream a CSV or JSONL file into a table; bad rows go to a rejects file"

    public static var parameters: ParameterSet<Config> {
        ParameterSet(
            defaults: Config(),
            [
                .required("file", \.file, doc: "the CSV or JSONL file to read"),
                .required("table", \.table, doc: "the table to load (name or schema.name)"),
                .optional("format", \.format, doc: "csv or jsonl; by default from the file's extension"),
                .optional("create", \.create, doc: "create the table (TEXT columns from the header) when missing"),
                .optional("max_rejects", \.maxRejects, doc: "bad rows tolerated before the stage fails with 65"),
                .optional("rejects", \.rejects, doc: "where bad rows are listed; default var/<table>.rejects.csv"),
            ])
    }

    public static func check(_ config: Config) -> [ConfigIssue] {
        var issues = DataFormat.check(config.format, for: config.file)
        if config.maxRejects < 0 { issues.append(ConfigIssue("max_rejects must be 0 or more", parameter: "max_rejects")) }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["file \(config.file.path)"],
            writes: ["table \(config.table) in \(workspace.database)", "rejects file \(rejectsPath(config, in: workspace))"])
    }

    static func rejectsPath(_ config: Config, in workspace: Workspace) -> String {
        config.rejects?.path ?? "\(workspace.workDirectory)/\(config.table.name).rejects.csv"
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let source = try RecordSource.open(config.file, format: DataFormat.resolve(config.format, for: config.file))
        defer { source.close() }
        let rejectsPath = rejectsPath(config, in: context.workspace)
        let rejects = RejectsFile(path: rejectsPath)
        let database = try context.database()
        try database.begin()
        do {
            let columns = try prepareTable(config, source: source, database: database)
            let outcome = try load(config, source: source, columns: columns, into: database, rejects: rejects, context: context)
            try database.commit()
            try rejects.finish()
            context.logger.info(
                "import.done",
                "imported \(outcome.written) rows from \(config.file.lastComponent) into \(config.table)"
                    + (outcome.rejected > 0 ? "; \(outcome.rejected) rejected, see \(rejectsPath)" : ""))
            return outcome
        } catch {
            try? database.rollback()
            try? rejects.finish()
            throw error
        }
    }

    /// Creates the table when asked to, and checks the file's columns against it.
    private static func prepareTable(_ config: Config, source: RecordSource, database: any DatabaseConnection) throws
        -> [String]
    {
        let fileColumns = try source.columns()
        guard let tableColumns = try database.tableColumns(config.table) else {
            guard config.create else {
                throw PipelineError(.config, "table \(config.table) does not exist (set create: true to create it)")
            }
            let definitions = fileColumns.map { "\(SQLName.quote($0)) TEXT" }.joined(separator: ", ")
            try database.executeScript("CREATE TABLE \(config.table.quoted) (\(definitions))")
            return fileColumns
        }
        let missing = fileColumns.filter { !tableColumns.contains($0) }
        guard missing.isEmpty else {
            throw PipelineError(
                .data,
                "\(config.file.path): column\(missing.count == 1 ? "" : "s") \(missing.map { "'\($0)'" }.joined(separator: ", ")) not in table \(config.table) (it has \(tableColumns.joined(separator: ", ")))")
        }
        return fileColumns
    }

    private static func load(
        _ config: Config, source: RecordSource, columns: [String], into database: any DatabaseConnection,
        rejects: RejectsFile, context: StageContext
    ) throws -> StageOutcome {
        let inserter = try database.bulkInsert(into: config.table, columns: columns)
        let record = RecordBuffer()
        var outcome = StageOutcome()
        let progressEvery: Int64 = 50_000
        while let status = try source.next(into: record) {
            outcome.read += 1
            if let problem = status.error ?? source.checkFieldCount(record, expected: columns.count, line: status.line) {
                outcome.rejected += 1
                try rejects.add(problem)
                if outcome.rejected > Int64(config.maxRejects) {
                    throw PipelineError(
                        .data,
                        "\(outcome.rejected) rejected rows, more than max_rejects \(config.maxRejects) (last: \(problem.located(in: config.file.path))); "
                            + "nothing was written to \(config.table); rejects are listed in \(rejects.path)")
                }
                continue
            }
            try inserter.insert(record)
            outcome.written += 1
            if outcome.read % progressEvery == 0 {
                context.progress(unit: "rows", count: outcome.read, done: source.bytesRead, total: source.totalBytes)
            }
        }
        try inserter.finish()
        context.progress(unit: "rows", count: outcome.read, done: source.bytesRead, total: source.totalBytes, finished: true)
        return outcome
    }
}
