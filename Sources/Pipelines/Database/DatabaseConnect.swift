import Foundation

extension DatabaseLocator {
    /// Opens a connection: SQLite creates the file and its missing parent directories.
    public func connect(logger: Logger) throws -> any DatabaseConnection {
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
            return try PostgresConnection(url: url, logger: logger)
        }
    }
}
