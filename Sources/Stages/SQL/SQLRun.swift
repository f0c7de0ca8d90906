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
        default: []
        }
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

    private static func readScript(_ file: FilePath) throws -> String {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw PipelineError(.noInput, "no such file: \(file.path)")
        }
        do {
            return try String(contentsOfFile: file.path, encoding: .utf8)
        } catch {
            throw PipelineError(.io, "cannot read \(file.path) as UTF-8 text", cause: error)
        }
    }
}
