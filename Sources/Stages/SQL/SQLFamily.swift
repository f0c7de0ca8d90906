import Pipelines

/// SQL run as written, in the pipeline's databases.
enum SQLFamily {
    static let family = StageFamily(
        name: "sql", summary: "SQL statements and materialized views",
        kinds: [StageDescriptor(SQLRun.self), StageDescriptor(SQLRefresh.self)])
}
