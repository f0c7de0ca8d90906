import Foundation
import Pipelines

/// `sql.run`: runs SQL statements in one transaction; all of them take effect or none.
public enum SQLRun: StageKind {
    public struct Config: Sendable {
        var sql: String?
        var file: FilePath?
    }

    public static let name = "sql.run"
    public static let summary = "Run SQL statements (inline or from a file) in one transaction"

    public static var parameters: ParameterSet<Config> {
        ParameterSet(
            defaults: Config(),
            [
                .optional("sql", \.sql, doc: "the statements to run, separated by ';'"),
                .optional("file", \.file, doc: "a .sql file to run instead of `sql`"),
            ])
    }

    public static func check(_ config: Config) -> [ConfigIssue] {
        switch (config.sql, config.file) {
        case (nil, nil): [ConfigIssue("sql.run needs either 'sql' or 'file'")]
        case (.some, .some): [ConfigIssue("give either 'sql' or 'file', not both", parameter: "file")]
        default: []
        }
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(reads: config.file.map { ["file \($0.path)"] } ?? [], writes: ["database \(workspace.database)"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let script: String
        if let file = config.file {
            script = try readScript(file)
        } else {
            script = config.sql ?? ""
        }
        let database = try context.database()
        try database.begin()
        do {
            try database.executeScript(script)
            try database.commit()
        } catch {
            try? database.rollback()
            throw error
        }
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
