import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// A database of its own per test: a fresh SQLite file, or a fresh schema on the test PostgreSQL server
/// (`PIPELINE_TEST_POSTGRES_URL`, set by scripts/test; missing fails the test, it never skips).
final class StoreTestDatabase {
    struct MissingServer: Error {}

    let dialect: SQLDialect
    let locator: DatabaseLocator
    let connection: any DatabaseConnection
    private let cleanup: () -> Void
    /// The PostgreSQL schema all of this test's connections use.
    let schema: String?

    static let logger = Logger(handler: SilentLogHandler())

    init(_ dialect: SQLDialect) throws {
        self.dialect = dialect
        switch dialect {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-store-\(UUID().uuidString)")
            locator = .sqlite(path: directory.appendingPathComponent("store.db").path)
            schema = nil
            cleanup = { try? FileManager.default.removeItem(at: directory) }
        case .postgres:
            guard let url = ProcessInfo.processInfo.environment["PIPELINE_TEST_POSTGRES_URL"], !url.isEmpty else {
                Issue.record(
                    "PIPELINE_TEST_POSTGRES_URL is not set: run the tests with scripts/test or scripts/postgres-server")
                throw MissingServer()
            }
            locator = .postgres(url: url)
            let name = "store_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            schema = name
            let admin = try locator.connect(logger: Self.logger)
            try admin.executeScript("CREATE SCHEMA \(name)")
            admin.close()
            cleanup = {
                if let admin = try? DatabaseLocator.postgres(url: url).connect(logger: StoreTestDatabase.logger) {
                    try? admin.executeScript("DROP SCHEMA \(name) CASCADE")
                    admin.close()
                }
            }
        }
        connection = try Self.open(locator, schema: schema)
    }

    /// A connection to the same database as `connection` (for concurrency tests).
    static func open(_ locator: DatabaseLocator, schema: String?) throws -> any DatabaseConnection {
        let connection = try locator.connect(logger: logger)
        if let schema { try connection.executeScript("SET search_path TO \(schema)") }
        return connection
    }

    func close() {
        connection.close()
        cleanup()
    }

    func rows(_ sql: String, _ parameters: [SQLValue] = []) throws -> [[String?]] {
        var rows: [[String?]] = []
        try connection.query(sql, parameters, columns: { _ in }) { row in
            rows.append((0..<row.columnCount).map { row.string($0) })
        }
        return rows
    }

    func count(_ table: String) throws -> Int {
        Int(try rows("SELECT COUNT(*) FROM \(table)").first?.first.flatMap { $0 }.flatMap { Int($0) } ?? -1)
    }
}

/// Runs `body` with a fresh database of `dialect`, closing and removing it afterwards.
func withStoreDatabase(_ dialect: SQLDialect, _ body: (StoreTestDatabase) throws -> Void) throws {
    let database = try StoreTestDatabase(dialect)
    defer { database.close() }
    try body(database)
}

/// The product store on `connection`, its tables migrated first as the engine does before a products stage.
func openStore(
    _ connection: any DatabaseConnection, clock: @escaping @Sendable () -> Date = Date.init
) throws -> ProductStore {
    try StoreSchema.schema.migrate(connection, logger: StoreTestDatabase.logger)
    return try ProductStore(connection: connection, logger: StoreTestDatabase.logger, clock: clock)
}

func expectPipelineError(_ code: PipelineError.Code, containing text: String, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a PipelineError(\(code))")
    } catch let error as PipelineError {
        #expect(error.code == code)
        #expect(error.message.contains(text), "message: \(error.message)")
    } catch {
        Issue.record("expected a PipelineError(\(code)), got \(error)")
    }
}
