// TEMPORARY: replaced when the driver branch merges.
public final class SQLiteConnection {
    public init(path: String, logger: Logger) throws { throw PipelineError(.internal, "pending") }
}
