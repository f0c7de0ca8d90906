import Foundation
import Testing

@testable import Pipelines

/// Indexes and constraints set aside for a bulk load come back with the same names and definitions; a
/// constraint the loaded rows break fails the restore naming it, and the transaction keeps nothing.
@Suite(.timeLimit(.minutes(1))) struct SetAsideSchemaTests {
    static let schema = """
        CREATE TABLE parent (id BIGINT PRIMARY KEY, code TEXT NOT NULL UNIQUE);
        CREATE TABLE child (parent_id BIGINT NOT NULL REFERENCES parent (id) ON DELETE CASCADE, n INTEGER NOT NULL,
            label TEXT NOT NULL, PRIMARY KEY (parent_id, n));
        CREATE INDEX child_label ON child (label)
        """

    func catalogue(_ database: StoreTestDatabase) throws -> [[String?]] {
        try database.rows(
            """
            SELECT c.conname, pg_get_constraintdef(c.oid), c.convalidated::text FROM pg_constraint c
            WHERE c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
            UNION ALL SELECT indexname, indexdef, '' FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('parent', 'child')
            ORDER BY 1, 2, 3
            """)
    }

    @Test func sqliteKeepsItsSchema() throws {
        try withStoreDatabase(.sqlite) { database throws in
            try database.connection.executeScript(Self.schema)
            #expect(throws: PipelineError.self) { try SetAsideSchema.setAside(["parent", "child"], in: database.connection) }
            #expect(try !SetAsideSchema.isSetAside(in: database.connection))
        }
    }

    @Test func setAsideAndRestoredTheSchemaIsTheSame() throws {
        try withStoreDatabase(.postgres) { database throws in
            let connection = database.connection
            try connection.executeScript(Self.schema)
            let before = try catalogue(database)
            let count = try connection.inTransaction { try SetAsideSchema.setAside(["parent", "child"], in: connection) }
            #expect(count == 5)
            #expect(try SetAsideSchema.isSetAside(in: connection))
            #expect(try catalogue(database) != before)
            try connection.executeScript("INSERT INTO parent VALUES (1, 'a'); INSERT INTO child VALUES (1, 1, 'x')")
            #expect(try connection.inTransaction { try SetAsideSchema.restore(in: connection) } == count)
            #expect(try catalogue(database) == before)
            #expect(try !SetAsideSchema.isSetAside(in: connection))
            #expect(try connection.inTransaction { try SetAsideSchema.restore(in: connection) } == 0)
        }
    }

    @Test func aBrokenConstraintFailsTheRestoreNamingIt() throws {
        try withStoreDatabase(.postgres) { database throws in
            let connection = database.connection
            try connection.executeScript(Self.schema)
            try connection.inTransaction { _ = try SetAsideSchema.setAside(["parent", "child"], in: connection) }
            try connection.executeScript("INSERT INTO parent VALUES (1, 'a'), (2, 'a'); INSERT INTO child VALUES (9, 1, 'x')")
            let error = #expect(throws: PipelineError.self) { try connection.inTransaction { try SetAsideSchema.restore(in: connection) } }
            #expect(error?.code == .data)
            #expect(error?.message.contains("could not make parent_code_key on parent again after the bulk load") == true, "\(String(describing: error))")
            #expect(try SetAsideSchema.isSetAside(in: connection), "the failed restore rolled back, what was set aside is still recorded")
        }
    }
}
