import Foundation
import Testing

@testable import Pipelines

@Suite struct DatabaseSQLiteTests {
    typealias Support = DatabaseTestSupport

    /// Runs `body` with a connection to a new SQLite file (in a nested directory that `connect` creates).
    func withDatabase(_ body: (any DatabaseConnection) throws -> Void) throws {
        let (directory, path) = Support.temporarySQLitePath(nested: "a/b")
        defer { try? FileManager.default.removeItem(at: directory) }
        let connection = try Support.openSQLite(path)
        defer { connection.close() }
        try body(connection)
    }

    @Test func opensInWALModeWithForeignKeys() throws {
        try withDatabase { db throws in
            #expect(db.dialect == .sqlite)
            #expect(try Support.query(db, "PRAGMA journal_mode").values == [["wal"]])
            #expect(try Support.query(db, "PRAGMA foreign_keys").values == [["1"]])
        }
    }

    /// The statement cache keeps a statement while it is in use: the same SQL run again inside it (a
    /// query per row of the same query) gets a statement of its own, and both are reused afterwards.
    @Test func sameStatementNestedInItsOwnRows() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)")
            let select = "SELECT id FROM t WHERE id >= $1 ORDER BY id"
            for _ in 0..<3 {
                var pairs: [[Int64]] = []
                try db.query(select, [.integer(2)], columns: { _ in }) { outer in
                    let id = outer.int64(0) ?? 0
                    var inner: [Int64] = []
                    try db.query(select, [.integer(id)], columns: { _ in }) { inner.append($0.int64(0) ?? 0) }
                    pairs.append([id] + inner)
                }
                #expect(pairs == [[2, 2, 3], [3, 3]])
            }
        }
    }

    /// A statement still checked out when its connection closes (a bulk inserter's) is finalized when it
    /// comes back, not used after the close.
    @Test func statementCheckedInAfterClose() throws {
        let (directory, path) = Support.temporarySQLitePath(nested: "c")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let connection = try SQLiteConnection(path: path, logger: Support.silentLogger)
        try connection.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        let statement = try connection.checkOutStatement("INSERT INTO t VALUES (1)")
        _ = try connection.query("SELECT count(*) FROM t", [], columns: { _ in }) { _ in }
        connection.close()
        connection.checkIn(statement)
        #expect(statement.handle == nil)
    }

    /// Checked on two connections, the tables are named in the order recorded, as one connection names
    /// them, whichever connection checked each.
    @Test func uncheckedForeignKeysCheckedOnTwoConnectionsAreNamedInOrder() throws {
        let (directory, path) = Support.temporarySQLitePath(nested: "fk")
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = try Support.openSQLite(path)
        defer { db.close() }
        try db.executeScript(
            """
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE a (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
            CREATE TABLE b (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
            CREATE TABLE c (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))
            """)
        try UncheckedForeignKeys.stopChecking(on: db)
        try db.inTransaction {
            try UncheckedForeignKeys.record(["c", "b", "a", "parent"], in: db)
            try db.executeScript("INSERT INTO a VALUES (1, 7), (2, 8); INSERT INTO c VALUES (1, 5), (2, 6)")
        }
        var opened = 0
        let twoConnections = #expect(throws: PipelineError.self) {
            try UncheckedForeignKeys.check(in: db) {
                opened += 1
                return try Support.openSQLite(path)
            }
        }
        let oneConnection = #expect(throws: PipelineError.self) { try UncheckedForeignKeys.check(in: db) }
        #expect(opened == 1)
        #expect(twoConnections?.message == oneConnection?.message)
        #expect(
            twoConnections?.message.contains(
                "4 rows refer to missing rows (row 1 of c refers to a missing row of parent; row 2 of c refers to a missing row of parent; "
                    + "row 1 of a refers to a missing row of parent; …)") == true, "\(String(describing: twoConnections))")
        try db.inTransaction { try db.executeScript("DELETE FROM a; DELETE FROM c") }
        #expect(try UncheckedForeignKeys.check(in: db) { try Support.openSQLite(path) } == 4)
        #expect(try UncheckedForeignKeys.pending(in: db).isEmpty)
    }

    /// A bulk load's foreign keys left unchecked are checked at once afterwards, naming what is broken.
    @Test func uncheckedForeignKeysAreCheckedAtTheEnd() throws {
        try withDatabase { db throws in
            try db.executeScript(
                """
                CREATE TABLE parent (id INTEGER PRIMARY KEY);
                CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id));
                INSERT INTO parent VALUES (1)
                """)
            // SQLite ignores the setting inside a transaction: that is refused, not silently kept.
            do {
                try db.inTransaction { try UncheckedForeignKeys.stopChecking(on: db) }
                Issue.record("the checks were turned off inside a transaction")
            } catch let error as PipelineError {
                #expect(error.message.contains("a transaction is open"), "\(error.message)")
            }
            try UncheckedForeignKeys.stopChecking(on: db)
            try db.inTransaction {
                try UncheckedForeignKeys.record(["parent", "child"], in: db)
                _ = try db.execute("INSERT INTO child VALUES (1, 1), (2, 7), (3, 8)", [])
            }
            #expect(try UncheckedForeignKeys.pending(in: db) == ["parent", "child"], "in the order recorded")
            do {
                try UncheckedForeignKeys.check(in: db)
                Issue.record("two rows refer to missing parents, and the check passed")
            } catch let error as PipelineError {
                #expect(error.code == .internal)
                #expect(error.message.contains("2 rows refer to missing rows (row 2 of child refers to a missing row of parent; row 3 of child"), "\(error.message)")
            }
            #expect(try UncheckedForeignKeys.pending(in: db) == ["parent", "child"], "a failed check leaves the tables pending")
            try db.inTransaction { _ = try db.execute("DELETE FROM child WHERE id > 1", []) }
            #expect(try UncheckedForeignKeys.check(in: db) == 2)
            #expect(try UncheckedForeignKeys.pending(in: db).isEmpty)
            #expect(try db.tableColumns(SQLName(trusted: UncheckedForeignKeys.table)) == nil, "the record goes with the check")
            #expect(try UncheckedForeignKeys.check(in: db) == 0)
            try UncheckedForeignKeys.resumeChecking(on: db)
            #expect(try Support.query(db, "PRAGMA foreign_keys").values == [["1"]])
            #expect(throws: DatabaseError.self) { try db.execute("INSERT INTO child VALUES (4, 9)", []) }
        }
    }

    @Test func roundTripsParametersAndKinds() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
            let changed = try db.execute(
                "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                [.integer(Int64.min), .text("2.5"), .text("héllo\t\"x\""), .blob([0, 1, 255]), .null])
            #expect(changed == 1)
            let rows = try Support.query(db, "SELECT i, r, s, b, n FROM t WHERE i = ?", [.integer(Int64.min)])
            #expect(rows.columns == ["i", "r", "s", "b", "n"].map { ColumnInfo(name: $0, kind: nil) })
            #expect(rows.values.first?[0...2] == ["\(Int64.min)", "2.5", "héllo\t\"x\""])
            #expect(rows.bytes.first?[3] == [0, 1, 255])
            #expect(rows.kinds == [[.integer, .decimal, .text, .binary, .null]])
            #expect(rows.bytes.first?[4] == .some(nil))
        }
    }

    /// SQLite's own text of a REAL ("%!.15g") dropped digits; floats now read back to the same double.
    @Test func floatsGoOutInTheirShortestExactText() throws {
        try withDatabase { db throws in
            let rows = try Support.query(db, "SELECT 0.1 + 0.2, 1e308 * 10, 3.0, -0.0")
            #expect(rows.kinds == [[.decimal, .decimal, .decimal, .decimal]])
            #expect(rows.values == [["0.30000000000000004", "Inf", "3.0", "-0.0"]])
        }
    }

    @Test func keepsNullApartFromEmptyText() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (k INTEGER, v TEXT)")
            try db.execute("INSERT INTO t VALUES (1, ?), (2, ?)", [.text(""), .null])
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "t"), columns: ["k", "v"])
            try inserter.insert(Support.record(["3", ""]))
            try inserter.insert(Support.record(["4", nil]))
            #expect(try inserter.finish() == 2)
            try db.commit()
            let rows = try Support.query(db, "SELECT v IS NULL, v FROM t ORDER BY k")
            #expect(rows.values == [["0", ""], ["1", nil], ["0", ""], ["1", nil]])
            #expect(rows.kinds.map { $0[1] } == [.text, .null, .text, .null])
        }
    }

    @Test func bulkInsertStreamsManyRowsAndRollbackUndoesThem() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT)")
            try db.execute("INSERT INTO t VALUES (0, 'kept', NULL)", [])
            let table = try SQLName(validating: "main.t")
            let record = RecordBuffer()

            try db.begin()
            var inserter = try db.bulkInsert(into: table, columns: ["id", "name", "note"])
            for id in 1...100 {
                Support.fill(record, ["\(id)", "row \(id)", nil])
                try inserter.insert(record)
            }
            try inserter.finish()
            try db.rollback()
            #expect(try Support.query(db, "SELECT count(*) FROM t").values == [["1"]])

            try db.begin()
            inserter = try db.bulkInsert(into: table, columns: ["id", "name", "note"])
            for id in 1...50_000 {
                Support.fill(record, ["\(id)", "row \(id)", id.isMultiple(of: 2) ? "even" : nil])
                try inserter.insert(record)
            }
            #expect(try inserter.finish() == 50_000)
            try db.commit()

            var count = 0
            var sum: Int64 = 0
            try db.query("SELECT id, note FROM t ORDER BY id", [], columns: { _ in }) { row in
                count += 1
                sum += row.int64(0) ?? 0
                #expect(row.kind(0) == .integer)
            }
            #expect(count == 50_001)
            #expect(sum == 50_000 * 50_001 / 2)
        }
    }

    @Test func bulkInsertOfTypedRowsKeepsTypesAcrossMultiRowStatements() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT, data BLOB)")
            // 64-row statements and single rows after them; text of every length, empty, non-ASCII and NULL.
            let count = 2 * 64 + 5
            var values: [SQLValue] = []
            for id in 1...count {
                values += [
                    .integer(Int64(id)), .text(String(repeating: "é", count: id % 7) + "\(id)"),
                    id.isMultiple(of: 3) ? .null : .text(id.isMultiple(of: 2) ? "" : "odd"), .blob([UInt8(id % 256)]),
                ]
            }
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "t"), columns: ["id", "name", "note", "data"])
            try inserter.insert(rows: values[...])
            #expect(try inserter.finish() == Int64(count))
            try db.commit()

            var read: [SQLValue] = []
            try db.query("SELECT id, name, note, data FROM t ORDER BY id", [], columns: { _ in }) { row in
                #expect(row.kind(0) == .integer)
                read += [
                    .integer(row.int64(0) ?? -1), .text(row.string(1) ?? "?"),
                    row.kind(2) == .null ? .null : .text(row.string(2) ?? "?"),
                    .blob(row.withBytes(3) { Array($0 ?? UnsafeRawBufferPointer(start: nil, count: 0)) }),
                ]
            }
            #expect(read == values)
        }
    }

    @Test func bulkInsertOfPackedRowsReadsBackAsTheTypedRowsWould() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT, n INTEGER)")
            // 64-row statements and single rows after them; text of every length, empty, non-ASCII and NULL.
            let count = 2 * 64 + 5
            var packed = PackedRows(columnCount: 4)
            var expected: [[String?]] = []
            for id in 1...count {
                let name = String(repeating: "é", count: id % 7) + "\(id)"
                let note: String? = id.isMultiple(of: 3) ? nil : (id.isMultiple(of: 2) ? "" : "odd\ttab")
                let number: Int64? = id.isMultiple(of: 5) ? nil : (id == 7 ? Int64.min : -Int64(id))
                Int64(id).append(to: &packed)
                name.append(to: &packed)
                note.append(to: &packed)
                number.append(to: &packed)
                expected.append(["\(id)", name, note, number.map { "\($0)" }])
            }
            #expect(packed.rowCount == count)
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "t"), columns: ["id", "name", "note", "n"])
            try inserter.insert(packed)
            #expect(try inserter.finish() == Int64(count))
            try db.commit()
            let queried = try Support.query(db, "SELECT id, name, note, n FROM t ORDER BY id")
            #expect(queried.values == expected)
            try db.query("SELECT typeof(id), typeof(n) FROM t WHERE id = 1", [], columns: { _ in }) { row in
                #expect(row.string(0) == "integer" && row.string(1) == "integer")
            }
            packed.removeAll()
            #expect(packed.isEmpty)
        }
    }

    @Test func packedRowsReferencesMustBeResolvedBeforeTheyAreInserted() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY, parent INTEGER)")
            var packed = PackedRows(columnCount: 2)
            for index in 0..<3 {
                packed.appendReference(slot: 0, index: index)
                packed.appendReference(slot: 1, index: 2 - index)
            }
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "t"), columns: ["id", "parent"])
            let unresolved = Support.databaseError { try inserter.insert(packed) }
            #expect(unresolved?.code == .misuse)
            let ids: [[Int64]] = [[10, 11, 12], [7, 8, 9]]
            packed.resolveReferences { slot, index in ids[Int(slot)][index] }
            try inserter.insert(packed)
            try inserter.finish()
            try db.commit()
            let queried = try Support.query(db, "SELECT id, parent FROM t ORDER BY id")
            #expect(queried.values == [["10", "9"], ["11", "8"], ["12", "7"]])
        }
    }

    @Test func bulkInsertOfTypedRowsNamesTheRowsOfAFailingStatement() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "t"), columns: ["id"])
            let ids = (1...64).map { SQLValue.integer($0) } + [.integer(70), .integer(70)]
            let error = Support.databaseError { try inserter.insert(rows: ids[...]) }
            #expect(error?.code == .constraint)
            #expect(error?.message.hasPrefix("row 66: ") == true)
            let duplicates = (1...64).map { SQLValue.integer($0) }
            let first = Support.databaseError { try inserter.insert(rows: duplicates[...]) }
            #expect(first?.message.hasPrefix("rows 66 to 129: ") == true)
            try db.rollback()

            try db.executeScript("CREATE TABLE pairs (a INTEGER, b INTEGER)")
            try db.begin()
            let pairs = try db.bulkInsert(into: SQLName(validating: "pairs"), columns: ["a", "b"])
            let odd = Support.databaseError { try pairs.insert(rows: [.integer(1), .integer(2), .integer(3)][...]) }
            #expect(odd?.code == .misuse)
            try db.rollback()
        }
    }

    @Test func int64ReadsIntegersDirectlyAndTextByInt64sRules() throws {
        try withDatabase { db throws in
            var read: [[Int64?]] = []
            try db.query(
                "SELECT 9223372036854775807, -9223372036854775808, '42', '+7', '-0', ' 1', '1.5', '9223372036854775808', NULL, 2.0, ''",
                [], columns: { _ in }
            ) { row in read.append((0..<row.columnCount).map { row.int64($0) }) }
            #expect(read == [[Int64.max, Int64.min, 42, 7, 0, nil, nil, nil, nil, nil, nil]])
        }
    }

    @Test func bulkInsertNeedsATransaction() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (a TEXT)")
            let error = Support.databaseError { _ = try db.bulkInsert(into: SQLName(validating: "t"), columns: ["a"]) }
            #expect(error?.code == .misuse)
        }
    }

    @Test func constraintViolationIsDataError() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            try db.execute("INSERT INTO t VALUES (1, 'a')", [])
            let error = Support.databaseError { try db.execute("INSERT INTO t VALUES (?, 'b')", [.integer(1)]) }
            #expect(error?.code == .constraint)
            #expect(error?.resultCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
            #expect(error?.pipelineError.code == .data)
            #expect(error?.statement == "INSERT INTO t VALUES (?, 'b')")

            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "t"), columns: ["id", "v"])
            try inserter.insert(Support.record(["2", "ok"]))
            let bulkError = Support.databaseError { try inserter.insert(Support.record(["3", nil])) }
            #expect(bulkError?.code == .constraint)
            #expect(bulkError?.message.hasPrefix("row 2:") == true)
            try db.rollback()
        }
    }

    @Test func syntaxErrorIsConfigError() throws {
        try withDatabase { db throws in
            let error = Support.databaseError { try db.executeScript("SELEC 1") }
            #expect(error?.code == .syntax)
            #expect(error?.pipelineError.code == .config)
            #expect(error?.message.contains("syntax error") == true)
            let missing = Support.databaseError { _ = try Support.query(db, "SELECT * FROM nowhere") }
            #expect(missing?.pipelineError.code == .config)
        }
    }

    @Test func executeTakesOneStatement() throws {
        try withDatabase { db throws in
            let error = Support.databaseError { try db.execute("SELECT 1; SELECT 2", []) }
            #expect(error?.code == .misuse)
            #expect(try db.execute("SELECT 1;", []) == 0)
        }
    }

    @Test func busyDatabaseIsLocked() throws {
        let (directory, path) = Support.temporarySQLitePath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try Support.openSQLite(path)
        let second = try Support.openSQLite(path)
        try first.executeScript("CREATE TABLE t (a INTEGER); PRAGMA busy_timeout = 0")
        try second.executeScript("PRAGMA busy_timeout = 0")
        try first.begin()
        let error = Support.databaseError { try second.begin() }
        #expect(error?.code == .busy)
        #expect(error?.isTransient == true)
        #expect(error?.pipelineError.code == .locked)
        try first.rollback()
    }

    @Test func tableColumnsInOrder() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (zeta TEXT, alpha INTEGER, \"odd name\" BLOB)")
            #expect(try db.tableColumns(SQLName(validating: "t")) == ["zeta", "alpha", "odd name"])
            #expect(try db.tableColumns(SQLName(validating: "main.t")) == ["zeta", "alpha", "odd name"])
            #expect(try db.tableColumns(SQLName(validating: "missing")) == nil)
        }
    }

    @Test func queryWithoutRowsStillReportsColumns() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (a TEXT, b TEXT)")
            var reported: [String]?
            try db.export("SELECT a, b FROM t", columns: { reported = $0.map(\.name) }, row: { _ in Issue.record("no rows") })
            #expect(reported == ["a", "b"])
        }
    }

    @Test func nestedQueriesWithTheSameSQL() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2)")
            var pairs: [[Int64]] = []
            try db.query("SELECT a FROM t ORDER BY a", [], columns: { _ in }) { outer in
                let a = outer.int64(0) ?? 0
                try db.query("SELECT a FROM t ORDER BY a", [], columns: { _ in }) { inner in
                    pairs.append([a, inner.int64(0) ?? 0])
                }
            }
            #expect(pairs == [[1, 1], [1, 2], [2, 1], [2, 2]])
        }
    }

    @Test func closedConnectionIsMisuse() throws {
        try withDatabase { db throws in
            db.close()
            #expect(Support.databaseError { try db.executeScript("SELECT 1") }?.code == .misuse)
        }
    }
}

/// `$N` placeholders bind by their number, wherever they first appear in the statement.
@Suite(.timeLimit(.minutes(1))) struct SQLiteNumberedParameterTests {
    @Test func numberedParametersBindByNumberNotByFirstAppearance() throws {
        let connection = try DatabaseLocator.sqlite(path: ":memory:").connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        var row: [String] = []
        try connection.query("SELECT $2, $3, $1, $2", [.text("one"), .text("two"), .text("three")], columns: { _ in }) { view in
            row = (0..<4).map { view.string($0) ?? "" }
        }
        #expect(row == ["two", "three", "one", "two"])
        try connection.query("SELECT ?, ?", [.integer(1), .integer(2)], columns: { _ in }) { view in row = [view.string(0) ?? "", view.string(1) ?? ""] }
        #expect(row == ["1", "2"])
    }
}
