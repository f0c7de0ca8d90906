import Pipelines

/// `sql.refresh`: refreshes a PostgreSQL materialized view, e.g. a reporting view after the night's
/// imports. SQLite has no materialized views, so the stage is refused at validation on SQLite.
public enum SQLRefresh: StageKind {
    public struct Config: Sendable {
        var view: SQLName
        var concurrently: Bool
        var database: DatabaseName?
    }

    public static let name = "sql.refresh"
    public static let summary = "Refresh a PostgreSQL materialized view (PostgreSQL only)"

    static let view = Parameter<SQLName>.required("view", doc: "the materialized view (name or schema.name)")
    static let concurrently = Parameter<Bool>.optional(
        "concurrently", default: false,
        doc: "refresh without locking out readers (the view needs a unique index)")
    static let database = Parameter<DatabaseName?>.optional(
        "database", doc: "a database of the pipeline's databases: holding the view; default the pipeline's database")

    public static let parameters = ParameterSet(view, concurrently, database) { view, concurrently, database in
        Config(view: view, concurrently: concurrently, database: database)
    }

    public static let counters: [Counter] = []
    public static let execution = StageExecution.whole()

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        guard workspace.locator(for: config.database).dialect != .postgres else { return [] }
        return [
            ConfigIssue(
                "sql.refresh needs PostgreSQL, but \(workspace.describe(config.database)) is SQLite, which has no materialized views",
                at: config.database == nil ? .uses : .parameter("database"))
        ]
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(writes: ["materialized view \(config.view) in \(workspace.locator(for: config.database))"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let database = try context.database(named: config.database)
        var found = false
        let schema = config.view.parts.count == 2 ? config.view.parts[0] : nil
        try database.query(
            "SELECT 1 FROM pg_matviews WHERE matviewname = $1 AND ($2::text IS NULL OR schemaname = $2::text)",
            [.text(config.view.name), schema.map(SQLValue.text) ?? .null], columns: { _ in }, row: { _ in found = true })
        guard found else {
            throw PipelineError(.config, "there is no materialized view \(config.view) in \(database.locator)")
        }
        let verb = config.concurrently ? "REFRESH MATERIALIZED VIEW CONCURRENTLY" : "REFRESH MATERIALIZED VIEW"
        try database.inTransaction { try database.executeScript("\(verb) \(config.view.quoted)") }
        context.logger.info("refresh.done", "refreshed \(config.view)")
        return StageOutcome()
    }
}
