import Foundation
import Testing

@testable import Pipelines

/// Records every log event, for checking what reached the logger.
final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [LogEvent] = []

    var events: [LogEvent] { lock.withLock { recorded } }

    func log(_ event: LogEvent) { lock.withLock { recorded.append(event) } }
    func progress(_ progress: ProgressEvent) {}
}

enum DatabaseTestSupport {
    static let silentLogger = Logger(handler: SilentLogHandler())

    /// A fresh SQLite file path in a directory of its own, removed by the caller with `removeDirectory`.
    static func temporarySQLitePath(nested: String = "") -> (directory: URL, path: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-db-\(UUID().uuidString)")
        let file = directory.appendingPathComponent(nested).appendingPathComponent("test.db")
        return (directory, file.path)
    }

    static func openSQLite(_ path: String, logger: Logger = silentLogger) throws -> any DatabaseConnection {
        try DatabaseLocator.sqlite(path: path).connect(logger: logger)
    }

    /// The server the Postgres tests use. A missing URL fails the test: these tests never skip silently.
    static func postgresURL() -> String? {
        guard let url = ProcessInfo.processInfo.environment["PIPELINE_TEST_POSTGRES_URL"], !url.isEmpty else {
            Issue.record(
                "PIPELINE_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts a PostgreSQL server")
            return nil
        }
        return url
    }

    static func openPostgres(logger: Logger = silentLogger) throws -> (any DatabaseConnection)? {
        guard let url = postgresURL() else { return nil }
        return try DatabaseLocator.postgres(url: url).connect(logger: logger)
    }

    static func record(_ fields: [String?]) -> RecordBuffer {
        let record = RecordBuffer()
        fill(record, fields)
        return record
    }

    static func fill(_ record: RecordBuffer, _ fields: [String?]) {
        record.removeAll()
        for field in fields {
            if let field { record.appendField(field) } else { record.appendNull() }
        }
    }

    struct Rows {
        var columns: [ColumnInfo] = []
        var values: [[String?]] = []
        var kinds: [[ValueKind]] = []
        var bytes: [[[UInt8]?]] = []
    }

    static func query(_ connection: any DatabaseConnection, _ sql: String, _ parameters: [SQLValue] = []) throws -> Rows {
        var rows = Rows()
        try connection.query(sql, parameters, columns: { rows.columns = $0 }, row: { collect($0, into: &rows) })
        return rows
    }

    static func export(_ connection: any DatabaseConnection, _ sql: String) throws -> Rows {
        var rows = Rows()
        try connection.export(sql, columns: { rows.columns = $0 }, row: { collect($0, into: &rows) })
        return rows
    }

    private static func collect(_ row: any RowView, into rows: inout Rows) {
        let columns = 0..<row.columnCount
        rows.values.append(columns.map { row.string($0) })
        rows.kinds.append(columns.map { row.kind($0) })
        rows.bytes.append(columns.map { column in row.withBytes(column) { $0.map { Array($0) } } })
    }

    static func databaseError(_ body: () throws -> Void) -> DatabaseError? {
        do {
            try body()
            return nil
        } catch let error as DatabaseError {
            return error
        } catch {
            Issue.record("expected a DatabaseError, got \(error)")
            return nil
        }
    }
}
