import Foundation
import Testing

@testable import Pipelines

/// Indexes and constraints set aside for a bulk load come back with the same names and definitions, in
/// one transaction or on two connections; a constraint the loaded rows break fails the restore naming it,
/// and what is left to make stays recorded.
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

    /// Restores `database`'s schema on its connection and a second one; returns how many objects, and
    /// how many connections were opened.
    func restoreOnTwoConnections(_ database: StoreTestDatabase) throws -> (objects: Int, opened: Int) {
        var opened = 0
        let objects = try SetAsideSchema.restore(on: database.connection) {
            opened += 1
            return try StoreTestDatabase.open(database.locator, schema: database.schema)
        }
        return (objects, opened)
    }

    /// Makes `schema`, sets `parent` and `child` aside and inserts `rows`; returns the catalogue from
    /// before.
    func setAside(_ database: StoreTestDatabase, thenInsert rows: String) throws -> [[String?]] {
        let connection = database.connection
        try connection.executeScript(Self.schema)
        let before = try catalogue(database)
        try connection.inTransaction { _ = try SetAsideSchema.setAside(["parent", "child"], in: connection) }
        try connection.executeScript(rows)
        return before
    }

    @Test func restoredOnTwoConnectionsTheSchemaIsTheSame() throws {
        try withStoreDatabase(.postgres) { database throws in
            let connection = database.connection
            let before = try setAside(database, thenInsert: "INSERT INTO parent VALUES (1, 'a'), (2, 'b'); INSERT INTO child VALUES (1, 1, 'x'), (2, 1, 'y')")
            let restored = try restoreOnTwoConnections(database)
            #expect(restored.objects == 5 && restored.opened == 1)
            #expect(try catalogue(database) == before)
            #expect(try !SetAsideSchema.isSetAside(in: connection))
            // Both tables analyzed: each has its columns' statistics.
            let analyzed = try database.rows(
                "SELECT DISTINCT tablename::text FROM pg_stats WHERE schemaname = current_schema() AND tablename IN ('parent', 'child') ORDER BY 1")
            #expect(analyzed == [["child"], ["parent"]])
            #expect(try restoreOnTwoConnections(database).objects == 0)
        }
    }

    /// A foreign key the rows break fails on its own: the rest of the schema is made, the key is there
    /// `NOT VALID` and recorded, and once the rows are mended the next restore checks it and no more.
    @Test func aBrokenForeignKeyIsLeftToTheNextRestore() throws {
        try withStoreDatabase(.postgres) { database throws in
            let connection = database.connection
            let before = try setAside(database, thenInsert: "INSERT INTO parent VALUES (1, 'a'); INSERT INTO child VALUES (1, 1, 'x'), (9, 1, 'y')")
            let error = #expect(throws: PipelineError.self) { try restoreOnTwoConnections(database) }
            #expect(error?.code == .data)
            #expect(error?.message.contains("could not make child_parent_id_fkey on child again after the bulk load") == true, "\(String(describing: error))")
            #expect(try SetAsideSchema.isSetAside(in: connection))
            #expect(try database.rows("SELECT convalidated::text FROM pg_constraint WHERE conname = 'child_parent_id_fkey' AND connamespace = current_schema()::regnamespace") == [["false"]])

            try connection.executeScript("DELETE FROM child WHERE parent_id = 9")
            #expect(try restoreOnTwoConnections(database).objects == 1)
            #expect(try catalogue(database) == before)
            #expect(try !SetAsideSchema.isSetAside(in: connection))
        }
    }

    /// A key the rows break fails the restore on two connections naming it: what was built stays, the
    /// rest stays recorded, and once the rows are mended the next restore makes the rest.
    @Test func aBrokenKeyLeavesTheRestRecordedForTheNextRestore() throws {
        try withStoreDatabase(.postgres) { database throws in
            let connection = database.connection
            let before = try setAside(database, thenInsert: "INSERT INTO parent VALUES (1, 'a'), (2, 'a'); INSERT INTO child VALUES (1, 1, 'x')")
            let error = #expect(throws: PipelineError.self) { try restoreOnTwoConnections(database) }
            #expect(error?.message.contains("could not make parent_code_key on parent again after the bulk load") == true, "\(String(describing: error))")
            #expect(try SetAsideSchema.isSetAside(in: connection))
            let recorded = try database.rows("SELECT name, step FROM \(SetAsideSchema.table) ORDER BY seq")
            #expect(recorded.contains(["parent_code_key", "build"]) && recorded.contains(["child_parent_id_fkey", "foreign_key"]), "\(recorded)")

            try connection.executeScript("UPDATE parent SET code = 'b' WHERE id = 2")
            #expect(try restoreOnTwoConnections(database).objects == recorded.filter { $0[1] != "analyze" }.count)
            #expect(try catalogue(database) == before)
            #expect(try !SetAsideSchema.isSetAside(in: connection))
        }
    }

    /// What an earlier version recorded (no `step` column) is restored as well; a foreign key that was
    /// not valid when set aside comes back not valid.
    @Test func recordsWithoutStepsAndKeysNotValidAreRestoredAsTheyWere() throws {
        try withStoreDatabase(.postgres) { database throws in
            let connection = database.connection
            try connection.executeScript(
                Self.schema + "; CREATE TABLE note (parent_id BIGINT); ALTER TABLE note ADD CONSTRAINT note_parent FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID")
            let before = try catalogue(database)
            #expect(before.contains(["note_parent", "FOREIGN KEY (parent_id) REFERENCES parent(id) NOT VALID", "false"]))
            for restoreOnTwo in [false, true] {
                try connection.inTransaction { _ = try SetAsideSchema.setAside(["parent", "child"], in: connection) }
                try connection.executeScript("ALTER TABLE \(SetAsideSchema.table) DROP COLUMN step")
                let objects = try restoreOnTwo ? restoreOnTwoConnections(database).objects : connection.inTransaction { try SetAsideSchema.restore(in: connection) }
                #expect(objects == 6)
                #expect(try catalogue(database) == before)
            }
        }
    }
}
