import Foundation
import Testing

@testable import Pipelines

/// Needs a server: `PIPELINE_TEST_POSTGRES_URL` (set by scripts/test). Each test fails when it is missing.
@Suite struct DatabasePostgresTests {
    typealias Support = DatabaseTestSupport

    /// Returns false when there is no server (the test has then already failed).
    @discardableResult
    func withDatabase(logger: Logger = Support.silentLogger, _ body: (any DatabaseConnection) throws -> Void) throws
        -> Bool
    {
        guard let connection = try Support.openPostgres(logger: logger) else { return false }
        defer { connection.close() }
        try body(connection)
        return true
    }

    static let trickyValues: [String?] = [
        "plain", "", nil, "tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "ünïcødé ✓ 日本",
        "trailing\\", "\\x41 not hex", "multi\t\t\\\\\n",
    ]

    /// A killed run's server session lives on with its locks; the run that resumes it ends that session
    /// (found by its application_name) before it starts, and never touches other sessions.
    @Test func theSessionsOfADeadRunAreEndedAndNoOthers() throws {
        guard let url = Support.postgresURL() else {
            Issue.record("PIPELINE_TEST_POSTGRES_URL is not set")
            return
        }
        let locator = DatabaseLocator.postgres(url: url)
        let table = "dead_run_\(UInt32.random(in: 0...UInt32.max))"
        let deadRun = "20261206000000000-dead"
        let dead = try locator.connect(logger: Support.silentLogger, applicationName: DatabaseLocator.sessionName(ofRun: deadRun))
        let bystander = try locator.connect(logger: Support.silentLogger, applicationName: DatabaseLocator.sessionName(ofRun: "other"))
        defer {
            dead.close()
            bystander.close()
        }
        try bystander.executeScript("CREATE TABLE \(table) (x integer)")
        try dead.begin()
        try dead.executeScript("LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE")
        #expect(try locator.endSessions(ofRun: deadRun, logger: Support.silentLogger) == 1)
        // The lock went with the session: another session gets the table at once.
        try bystander.executeScript("SET lock_timeout = '2s'; INSERT INTO \(table) VALUES (1); DROP TABLE \(table)")
        #expect(try locator.endSessions(ofRun: "nobody", logger: Support.silentLogger) == 0)
    }

    /// `executeBatch` in pipeline mode: statements run in order across several pipelines, the rows they
    /// change are counted, and a failing one throws its own error and leaves the connection usable.
    @Test func aBatchRunsInOrderAndAFailureLeavesTheConnectionUsable() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TEMP TABLE batch (id integer PRIMARY KEY, v text)")
            let count = PostgresConnection.pipelineDepth * 2 + 7
            var statements = (0..<count).map { BoundStatement("INSERT INTO batch (id, v) VALUES ($1, $2)", [.integer(Int64($0)), .text("a\($0)")]) }
            statements.append(BoundStatement("UPDATE batch SET v = v || 'b' WHERE id < $1", [.integer(10)]))
            try db.begin()
            #expect(try db.executeBatch(statements) == Int64(count + 10))
            try db.commit()
            var values: [String] = []
            try db.query("SELECT v FROM batch WHERE id IN (0, 9, 10) ORDER BY id", [], columns: { _ in }) { values.append($0.string(0) ?? "") }
            #expect(values == ["a0b", "a9b", "a10"])
            // Sent as a pipeline of statements prepared once each on the session, not one by one.
            var prepared: [String] = []
            try db.query("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'pipeline_%'", [], columns: { _ in }) {
                prepared.append($0.string(0) ?? "")
            }
            #expect(prepared.count == 2, "\(prepared)")

            try db.begin()
            let failing = [
                BoundStatement("UPDATE batch SET v = 'x' WHERE id = $1", [.integer(1)]),
                BoundStatement("INSERT INTO batch (id, v) VALUES ($1, $2)", [.integer(2), .text("twice")]),
                BoundStatement("UPDATE batch SET v = 'y' WHERE id = $1", [.integer(3)]),
            ]
            #expect {
                try db.executeBatch(failing)
            } throws: { error in
                let error = error as? DatabaseError
                return error?.sqlState == "23505" && error?.statement?.hasPrefix("INSERT INTO batch") == true
            }
            try db.rollback()
            values = []
            try db.query("SELECT v FROM batch WHERE id IN (1, 3) ORDER BY id", [], columns: { _ in }) { values.append($0.string(0) ?? "") }
            #expect(values == ["a1b", "a3b"])
        }
    }

    @Test func copyInAndOutKeepTrickyText() throws {
        try withDatabase { db throws in
            #expect(db.dialect == .postgres)
            try db.executeScript("CREATE TEMP TABLE tricky (id integer, v text)")
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "tricky"), columns: ["id", "v"])
            for (id, value) in Self.trickyValues.enumerated() {
                try inserter.insert(Support.record(["\(id)", value]))
            }
            #expect(try inserter.finish() == Int64(Self.trickyValues.count))
            try db.commit()

            let exported = try Support.export(db, "SELECT id, v FROM tricky ORDER BY id;")
            #expect(exported.columns == [ColumnInfo(name: "id", kind: .integer), ColumnInfo(name: "v", kind: .text)])
            #expect(exported.values.map { $0[1] } == Self.trickyValues)
            #expect(exported.kinds.map { $0[1] } == Self.trickyValues.map { $0 == nil ? .null : .text })

            let queried = try Support.query(db, "SELECT id, v FROM tricky ORDER BY id")
            #expect(queried.values == exported.values)
            #expect(queried.columns == exported.columns)
        }
    }

    @Test func bulkInsertOfTypedRowsCopiesEveryType() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TEMP TABLE typed (id bigint, v text, b bytea)")
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "typed"), columns: ["id", "v", "b"])
            let values: [SQLValue] = Self.trickyValues.enumerated().flatMap { id, value -> [SQLValue] in
                [.integer(Int64(id) - 1), value.map(SQLValue.text) ?? .null, .null]
            }
            try inserter.insert(rows: values[...])
            #expect(try inserter.finish() == Int64(Self.trickyValues.count))
            try db.commit()
            let queried = try Support.query(db, "SELECT id, v FROM typed ORDER BY id")
            #expect(queried.values.map { $0[0] } == (0..<Self.trickyValues.count).map { "\($0 - 1)" })
            #expect(queried.values.map { $0[1] } == Self.trickyValues)
        }
    }

    @Test func bulkInsertOfPackedRowsCopiesEveryType() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TEMP TABLE packed (id bigint, v text, n bigint)")
            var packed = PackedRows(columnCount: 3)
            let numbers: [Int64?] = Self.trickyValues.indices.map { $0 == 1 ? Int64.min : ($0 == 2 ? nil : Int64.max - Int64($0)) }
            for (id, value) in Self.trickyValues.enumerated() {
                Int64(id - 1).append(to: &packed)
                value.append(to: &packed)
                numbers[id].append(to: &packed)
            }
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "packed"), columns: ["id", "v", "n"])
            try inserter.insert(packed)
            #expect(try inserter.finish() == Int64(Self.trickyValues.count))
            try db.commit()
            let queried = try Support.query(db, "SELECT id, v, n FROM packed ORDER BY id")
            #expect(queried.values.map { $0[0] } == (0..<Self.trickyValues.count).map { "\($0 - 1)" })
            #expect(queried.values.map { $0[1] } == Self.trickyValues)
            #expect(queried.values.map { $0[2] } == numbers.map { $0.map { "\($0)" } })
        }
    }

    @Test func csvExportPassesTheServersRowsThroughExceptWithBooleans() throws {
        try withDatabase { db throws in
            var lines: [String] = []
            let passed = try db.exportCSV(
                "SELECT 1 AS id, 'a,b' AS name, NULL::text AS note, '' AS empty UNION ALL SELECT 2, 'c\"d', 'x', 'y' ORDER BY 1;",
                header: true
            ) { lines.append(String(decoding: $0, as: UTF8.self)) }
            #expect(passed)
            #expect(lines == ["id,name,note,empty\n", "1,\"a,b\",,\"\"\n", "2,\"c\"\"d\",x,y\n"])
            var called = false
            #expect(try !db.exportCSV("SELECT true AS flag", header: false) { _ in called = true })
            #expect(!called)
        }
    }

    @Test func kindsAndTextForms() throws {
        try withDatabase { db throws in
            let sql = """
                SELECT 1::int2 AS a, 2::int4 AS b, 3::int8 AS c, 1.50::numeric AS d, 0.25::float8 AS e,
                  true AS f, false AS g, '\\x00ff41'::bytea AS h, 'text'::varchar AS i, NULL::int AS j,
                  '2024-01-02'::date AS k, E'tab\\there'::text AS l
                """
            for rows in [try Support.query(db, sql), try Support.export(db, sql)] {
                #expect(rows.columns.map(\.kind) == [
                    .integer, .integer, .integer, .decimal, .decimal, .boolean, .boolean, .binary, .text, .integer,
                    .text, .text,
                ])
                #expect(rows.kinds == [[
                    .integer, .integer, .integer, .decimal, .decimal, .boolean, .boolean, .binary, .text, .null, .text,
                    .text,
                ]])
                #expect(rows.values.first?[0...6] == ["1", "2", "3", "1.50", "0.25", "true", "false"])
                #expect(rows.bytes.first?[7] == [0x00, 0xff, 0x41])
                #expect(rows.values.first?[8...] == ["text", nil, "2024-01-02", "tab\there"])
            }
        }
    }

    @Test func parametersRoundTrip() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TEMP TABLE p (i int8, t text, b bytea, n text)")
            let changed = try db.execute(
                "INSERT INTO p VALUES ($1, $2, $3, $4), ($1, $2, $3, $4)",
                [.integer(Int64.min), .text("ü\t'\"\\"), .blob([0, 1, 0xfe]), .null])
            #expect(changed == 2)
            #expect(try db.execute("UPDATE p SET n = $1", [.text("")]) == 2)
            let rows = try Support.query(db, "SELECT i, t, b, n FROM p WHERE i = $1", [.integer(Int64.min)])
            #expect(rows.values.count == 2)
            #expect(rows.values.first?[0...1] == ["\(Int64.min)", "ü\t'\"\\"])
            #expect(rows.bytes.first?[2] == [0, 1, 0xfe])
            #expect(rows.values.first?[3] == "")
        }
    }

    @Test func singleRowModeStreams200kRows() throws {
        try withDatabase { db throws in
            var columns: [ColumnInfo] = []
            var count = 0
            var sum: Int64 = 0
            try db.query(
                "SELECT n, repeat('x', 20) AS pad FROM generate_series(1, $1::int) AS n", [.integer(200_000)],
                columns: { columns = $0 }
            ) { row in
                count += 1
                sum += row.int64(0) ?? 0
            }
            #expect(columns.map(\.name) == ["n", "pad"])
            #expect(count == 200_000)
            #expect(sum == 200_000 * 200_001 / 2)

            var exported = 0
            try db.export("SELECT n FROM generate_series(1, 200000) AS n", columns: { _ in }) { _ in exported += 1 }
            #expect(exported == 200_000)
        }
    }

    @Test func zeroRowsStillReportColumns() throws {
        try withDatabase { db throws in
            for read in [{ try Support.query(db, "SELECT 1 AS one WHERE false") }, { try Support.export(db, "SELECT 1 AS one WHERE false") }] {
                let rows = try read()
                #expect(rows.columns == [ColumnInfo(name: "one", kind: .integer)])
                #expect(rows.values.isEmpty)
            }
        }
    }

    @Test func stoppingEarlyLeavesTheConnectionUsable() throws {
        struct Enough: Error {}
        try withDatabase { db throws in
            for sql in ["SELECT n FROM generate_series(1, 1000000) AS n"] {
                #expect(throws: Enough.self) {
                    try db.query(sql, [], columns: { _ in }) { _ in throw Enough() }
                }
                #expect(throws: Enough.self) {
                    try db.export(sql, columns: { _ in }) { _ in throw Enough() }
                }
            }
            #expect(try Support.query(db, "SELECT 42").values == [["42"]])
        }
    }

    @Test func badValueInCopyIsDataErrorWithContext() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TEMP TABLE numbers (n integer, label text)")
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "numbers"), columns: ["n", "label"])
            let record = RecordBuffer()
            for row in 1...20 {
                Support.fill(record, [row == 17 ? "seventeen" : "\(row)", "row \(row)"])
                try inserter.insert(record)
            }
            let error = Support.databaseError { try inserter.finish() }
            #expect(error?.code == .dataException)
            #expect(error?.sqlState == "22P02")
            #expect(error?.pipelineError.code == .data)
            #expect(error?.message.contains("line 17") == true)
            #expect(error?.message.contains("seventeen") == true)
            try db.rollback()
            #expect(try Support.query(db, "SELECT count(*) FROM numbers").values == [["0"]])
        }
    }

    @Test func bulkInsertAcrossManyBuffers() throws {
        try withDatabase { db throws in
            try db.executeScript("CREATE TEMP TABLE big (id int8, body text)")
            try db.begin()
            let inserter = try db.bulkInsert(into: SQLName(validating: "big"), columns: ["id", "body"])
            let record = RecordBuffer()
            let body = String(repeating: "a\tb\\c\n", count: 20)
            for id in 1...30_000 {
                Support.fill(record, ["\(id)", body])
                try inserter.insert(record)
            }
            #expect(try inserter.finish() == 30_000)
            try db.commit()
            let rows = try Support.query(db, "SELECT count(*), sum(id), bool_and(body = $1) FROM big", [.text(body)])
            #expect(rows.values == [["30000", "450015000", "true"]])
        }
    }

    @Test func errorsMapToPipelineCodes() throws {
        try withDatabase { db throws in
            let syntax = Support.databaseError { try db.executeScript("SELEC 1") }
            #expect(syntax?.sqlState == "42601")
            #expect(syntax?.pipelineError.code == .config)
            let missing = Support.databaseError { _ = try Support.query(db, "SELECT * FROM no_such_table") }
            #expect(missing?.code == .syntax)
            #expect(missing?.sqlState == "42P01")

            try db.executeScript("CREATE TEMP TABLE u (id int PRIMARY KEY)")
            try db.execute("INSERT INTO u VALUES ($1)", [.integer(1)])
            let duplicate = Support.databaseError { try db.execute("INSERT INTO u VALUES ($1)", [.integer(1)]) }
            #expect(duplicate?.code == .constraint)
            #expect(duplicate?.sqlState == "23505")
            #expect(duplicate?.pipelineError.code == .data)
            #expect(duplicate?.message.contains("DETAIL") == true)

            try db.begin()
            _ = Support.databaseError { try db.executeScript("SELECT 1/0") }
            let rolledBack = Support.databaseError { try db.commit() }
            #expect(rolledBack != nil)
            #expect(try db.tableColumns(SQLName(validating: "u")) == nil)  // temp tables are not in current_schema()
        }
    }

    @Test func tableColumnsInOrdinalOrder() throws {
        try withDatabase { db throws in
            let name = "pipeline_test_columns_\(UInt32.random(in: 0...UInt32.max))"
            try db.executeScript("CREATE TABLE public.\(name) (zeta text, alpha int, \"Odd Name\" bytea)")
            defer { try? db.executeScript("DROP TABLE public.\(name)") }
            #expect(try db.tableColumns(SQLName(validating: name)) == ["zeta", "alpha", "Odd Name"])
            #expect(try db.tableColumns(SQLName(validating: "public.\(name)")) == ["zeta", "alpha", "Odd Name"])
            #expect(try db.tableColumns(SQLName(validating: "other_schema.\(name)")) == nil)
        }
    }

    @Test func noticesReachTheLogger() throws {
        let handler = RecordingLogHandler()
        let ran = try withDatabase(logger: Logger(handler: handler, stage: "load")) { db throws in
            try db.executeScript("DO $$ BEGIN RAISE NOTICE 'hello from %', 'plpgsql'; RAISE WARNING 'careful'; END $$")
        }
        guard ran else { return }
        let notices = handler.events.filter { $0.event == "database.notice" }
        #expect(notices.map(\.message) == ["hello from plpgsql", "careful"])
        #expect(notices.map(\.level) == [.notice, .warning])
        #expect(notices.allSatisfy { $0.stage == "load" })
    }

    /// Assumes pg_hba.conf asks `pipeline_pw` for a password on 127.0.0.1 (scram-sha-256); see scripts/test.
    @Test func wrongPasswordIsIOErrorWithoutThePassword() throws {
        guard let url = Support.postgresURL(), var components = URLComponents(string: url) else { return }
        let setup = try DatabaseLocator.postgres(url: url).connect(logger: Support.silentLogger)
        try setup.executeScript("""
            DO $$ BEGIN
              CREATE ROLE pipeline_pw LOGIN PASSWORD 'right-secret';
            EXCEPTION WHEN duplicate_object THEN NULL;
            END $$
            """)
        setup.close()

        let secret = "wrong-Secret-4711"
        components.user = "pipeline_pw"
        components.password = secret
        guard let wrongURL = components.string else { return }
        let error = Support.databaseError {
            _ = try DatabaseLocator.postgres(url: wrongURL).connect(logger: Support.silentLogger)
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.pipelineError.code == .io)
        #expect(error?.isTransient == false)
        let text = error.map { "\($0) \($0.pipelineError)" } ?? ""
        #expect(!text.contains(secret))
        #expect(text.contains("pipeline_pw:***@"))
        #expect(text.contains("password authentication failed"))
    }
}
