import Foundation
import Testing

@testable import Pipelines

/// Needs a server: `PIPELINE_TEST_POSTGRES_URL` (set by scripts/test).
@Suite(.timeLimit(.minutes(1))) struct DatabasePostgresPreparedTests {
    typealias Support = DatabaseTestSupport

    func withTable(_ body: (PostgresConnection, String) throws -> Void) throws {
        guard let opened = try Support.openPostgres() else { return }
        let connection = try #require(opened as? PostgresConnection)
        defer { connection.close() }
        let table = "prepared_\(UInt32.random(in: 0...UInt32.max))"
        try connection.executeScript("CREATE TABLE \(table) (id bigint PRIMARY KEY, v text); INSERT INTO \(table) VALUES (1, 'one'), (2, 'two')")
        defer { try? connection.executeScript("DROP TABLE \(table)") }
        try body(connection, table)
    }

    func values(_ connection: PostgresConnection, _ sql: String) throws -> [String?] {
        try Support.query(connection, sql, [.integer(2)]).values.map { $0[0] }
    }

    /// A query is prepared the second time it comes, and gives the same rows prepared as not.
    @Test func aQueryIsPreparedTheSecondTime() throws {
        try withTable { connection, table in
            let sql = "SELECT v FROM \(table) WHERE id <= $1 ORDER BY id"
            #expect(try values(connection, sql) == ["one", "two"])
            #expect(connection.preparedStatements[sql] == nil)
            #expect(try values(connection, sql) == ["one", "two"])
            let name = try #require(connection.preparedStatements[sql])
            #expect(try values(connection, sql) == ["one", "two"])
            #expect(connection.preparedStatements[sql] == name)
            #expect(try Support.query(connection, "SELECT count(*) FROM pg_prepared_statements WHERE name = $1", [.text(name)]).values == [["1"]])
        }
    }

    /// A prepared query whose table changed the type of a column it returns: outside a transaction it
    /// runs again unprepared; inside one the error ends the transaction, and the query works afterwards.
    @Test func aQueryWhoseColumnsChangedRunsAgainUnprepared() throws {
        try withTable { connection, table in
            let sql = "SELECT v FROM \(table) WHERE id <= $1 ORDER BY id"
            _ = try values(connection, sql)
            _ = try values(connection, sql)
            #expect(connection.preparedStatements[sql] != nil)
            try connection.executeScript("ALTER TABLE \(table) ALTER COLUMN v TYPE varchar(10)")
            #expect(try values(connection, sql) == ["one", "two"])
            #expect(connection.preparedStatements[sql] == nil)

            // Seen once more, it is prepared again.
            _ = try values(connection, sql)
            _ = try values(connection, sql)
            #expect(connection.preparedStatements[sql] != nil)
            try connection.executeScript("ALTER TABLE \(table) ALTER COLUMN v TYPE text")
            try connection.begin()
            #expect { try values(connection, sql) } throws: { ($0 as? DatabaseError)?.isStalePlan == true }
            try connection.rollback()
            #expect(connection.preparedStatements[sql] == nil)
            #expect(try values(connection, sql) == ["one", "two"])
            // Prepared again, and another query after it: each under a name of its own, though the
            // statement forgotten in the failed transaction is still on the server.
            let other = "SELECT id FROM \(table) WHERE id <= $1 ORDER BY id"
            for _ in 0..<2 {
                #expect(try values(connection, sql) == ["one", "two"])
                #expect(try values(connection, other) == ["1", "2"])
            }
            #expect(connection.preparedStatements[sql] != nil)
            #expect(connection.preparedStatements[other] != nil)
        }
    }
}
