import Foundation

extension DatabaseLocator {
    /// Opens a connection: SQLite creates the file and its missing parent directories. A PostgreSQL
    /// session is named `applicationName` unless the URL names it.
    public func connect(logger: Logger, applicationName: String = PostgresConnection.defaultApplicationName) throws
        -> any DatabaseConnection
    {
        switch self {
        case .sqlite(let path):
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty, path != ":memory:" {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw DatabaseError(
                        .connectionFailed, "cannot create the directory \(directory) for \(redacted)", cause: error)
                }
            }
            return try SQLiteConnection(path: path, logger: logger)
        case .postgres(let url):
            return try PostgresConnection(url: url, logger: logger, applicationName: applicationName)
        }
    }
}

extension DatabaseLocator {
    /// The PostgreSQL session name of a run's connections.
    public static func sessionName(ofRun runID: String) -> String { "pipeline \(runID)" }

    /// Ends the server sessions a killed run left behind (libpq connections of a process killed with
    /// SIGKILL live on until the server notices), waiting up to `timeout` for them to go: a resumed run
    /// must not meet the dead run's locks and transactions. SQLite needs nothing: its locks die with the
    /// process. Gives how many sessions were ended.
    public func endSessions(ofRun runID: String, logger: Logger, timeout: Duration = .seconds(10)) throws -> Int {
        guard case .postgres = self else { return 0 }
        let connection = try connect(logger: logger)
        defer { connection.close() }
        let name = Self.sessionName(ofRun: runID)
        var ended = 0
        try connection.query(
            """
            SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
            WHERE application_name = $1 AND pid <> pg_backend_pid()) terminated WHERE ended
            """, [.text(name)], columns: { _ in }
        ) { ended = Int($0.int64(0) ?? 0) }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var left: Int64 = 0
            try connection.query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", [.text(name)], columns: { _ in }
            ) { left = $0.int64(0) ?? 0 }
            if left == 0 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return ended
    }
}
