/// What a stage's `preview` may use for `--dry-run`: the workspace and its databases, each opened on first
/// use and read inside a transaction the database refuses writes in.
public final class PreviewContext {
    public let workspace: Workspace
    public let logger: Logger
    private var connections: [String: any DatabaseConnection] = [:]

    init(workspace: Workspace, logger: Logger) {
        self.workspace = workspace
        self.logger = logger
    }

    /// Runs `body` with the database (`nil`: the pipeline's own) in a read-only transaction.
    public func reading<R>(_ name: DatabaseName?, _ body: (any DatabaseConnection) throws -> R) throws -> R {
        let key = name?.name ?? ""
        let connection: any DatabaseConnection
        if let open = connections[key] {
            connection = open
        } else {
            connection = try workspace.locator(for: name).connect(logger: logger)
            connections[key] = connection
        }
        return try connection.inReadTransaction { try body(connection) }
    }

    func close() {
        for connection in connections.values { connection.close() }
        connections = [:]
    }
}
