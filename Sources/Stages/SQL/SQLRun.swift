import Foundation
import Pipelines

/// `sql.run`: runs SQL statements in one transaction; all of them take effect or none.
public enum SQLRun: StageKind {
    public struct Config: Sendable {
        var sql: String?
        var file: FilePath?
        var database: DatabaseName?
    }

    public static let name = "sql.run"
    public static let summary = "Run SQL statements (inline or from a file) in one transaction"

    static let sql = Parameter<String?>.optional("sql", doc: "the statements to run, separated by ';'")
    static let file = Parameter<FilePath?>.optional("file", doc: "a .sql file to run instead of `sql`")
    static let database = Parameter<DatabaseName?>.optional(
        "database", doc: "a database of the pipeline's databases: to run in; default the pipeline's database")

    public static let parameters = ParameterSet(sql, file, database) { sql, file, database in
        Config(sql: sql, file: file, database: database)
    }

    public static let counters: [Counter] = []
    public static let execution = StageExecution.whole()

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        switch (config.sql, config.file) {
        case (nil, nil): [ConfigIssue("sql.run needs either 'sql' or 'file'")]
        case (.some, .some): [ConfigIssue("give either 'sql' or 'file', not both", parameter: "file")]
        case (let sql?, nil):
            transactionControl(in: sql).map {
                [ConfigIssue("line \($0.line), column \($0.column) of the SQL: \($0.reason)", parameter: "sql")]
            } ?? []
        default: []
        }
    }

    /// Why a statement that would end the stage's transaction early is refused: the statements before it
    /// would stay after a later one failed.
    static func transactionControl(in script: String) -> (reason: String, line: Int, column: Int)? {
        guard let statement = SQLText.statements(script).first(where: \.controlsTransaction) else { return nil }
        let words = statement.leadingWords.prefix(2).joined(separator: " ")
        let reason =
            "'\(words)' would end the stage's transaction early; sql.run runs the whole script in one transaction "
            + "(all or nothing), so leave out BEGIN, COMMIT and ROLLBACK (SAVEPOINT and ROLLBACK TO are fine)"
        return (reason, statement.line, statement.column)
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: config.file.map { ["file \($0.path)"] } ?? [],
            writes: ["database \(workspace.locator(for: config.database))"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let script: String
        if let file = config.file {
            script = try readScript(file)
        } else {
            script = config.sql ?? ""
        }
        let database = try context.database(named: config.database)
        try database.inTransaction { try database.executeScript(script) }
        context.logger.info("sql.done", "ran \(config.file.map { $0.lastComponent } ?? "inline SQL") in one transaction")
        return StageOutcome()
    }

    /// A SQL file's statements: UTF-8 text of at most 64 MiB, without NUL characters (which would end
    /// the text early) or statements that end the transaction.
    private static func readScript(_ file: FilePath) throws -> String {
        let bytes = try FileSupport.readWholeFile(file.path, limit: 64 << 20)
        guard let script = String(validating: bytes, as: UTF8.self) else {
            throw PipelineError(.config, "cannot read \(file.path) as UTF-8 text")
        }
        if let place = SQLText.nulPosition(in: script) {
            throw PipelineError(
                .config, "a NUL character in the SQL; the statements after it would be lost",
                location: SourceLocation(file: file.path, line: place.line, column: place.column))
        }
        if let problem = transactionControl(in: script) {
            throw PipelineError(
                .config, problem.reason,
                location: SourceLocation(file: file.path, line: problem.line, column: problem.column))
        }
        return script
    }
}
