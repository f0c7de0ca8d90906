import Foundation
import Pipelines
import Testing

/// `table.import` with `mode: replace` and `mode: upsert`: a re-run leaves the table as one run does, and
/// so does a kill -9 followed by a resume; on SQLite and on PostgreSQL.
@Suite(.serialized, .timeLimit(.minutes(10))) struct TableLoadModeTests {
    typealias Backend = ResumeTests.Backend

    static func pipeline(_ database: DatabaseLocator, table: String, mode: String, chunk: Int = 2, extra: String = "")
        -> String
    {
        """
        name: modes
        database: \(ResumeTests.url(database))
        state: sqlite:state/state.db
        params: { file: a.csv }
        stages:
          - id: load
            uses: table.import
            chunk_size: \(chunk)
            with: { file: "${file}", table: \(table), mode: \(mode)\(extra) }
        """
    }

    static func rows(_ database: DatabaseLocator, _ table: String) throws -> [String] {
        try Inspect.rows(database, "SELECT sku, qty FROM \(table) ORDER BY sku").map { "\($0[0] ?? "∅")=\($0[1] ?? "∅")" }
    }

    static func create(_ database: DatabaseLocator, _ sql: String) throws {
        let connection = try database.connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        try connection.executeScript(sql)
    }

    @Test(arguments: Backend.allCases)
    func upsertInsertsUpdatesAndARerunChangesNothing(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = try ResumeTests.database(backend, in: scratch)
        let table = "upsert_\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: scratch.file("data"), withIntermediateDirectories: true)
        try Self.create(database, "CREATE TABLE \(table) (sku TEXT PRIMARY KEY, qty INTEGER, note TEXT); INSERT INTO \(table) VALUES ('A', 100, 'kept'), ('Z', 9, 'untouched')")
        // A appears twice, in two chunks, and B twice within one chunk: the last row of a key wins.
        try scratch.write("a.csv", "sku,qty\nA,1\nB,2\nB,3\nA,4\nC,5\n")
        try scratch.write("b.csv", "sku,qty\nC,50\nD,60\n")
        try scratch.write("p.yaml", Self.pipeline(database, table: table, mode: "upsert", extra: ", key: [sku]"))
        let first = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(first.status == 0, "\(first.stderr)")
        let once = try Self.rows(database, table)
        #expect(once == ["A=4", "B=3", "C=5", "Z=9"])
        #expect(try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path).status == 0)
        #expect(try Self.rows(database, table) == once)
        #expect(try PipelineProcess.run(["run", "p.yaml", "--param", "file=b.csv"], in: scratch.path).status == 0)
        #expect(try Self.rows(database, table) == ["A=4", "B=3", "C=50", "D=60", "Z=9"])
        // Columns the file does not have keep their values.
        #expect(try Inspect.rows(database, "SELECT note FROM \(table) WHERE sku = 'A'") == [["kept"]])
        try ResumeTests.drop(database, table)
    }

    @Test(arguments: Backend.allCases)
    func replaceSwapsTheContentsAndAFailedLoadLeavesThemAlone(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = try ResumeTests.database(backend, in: scratch)
        let table = "replace_\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: scratch.file("data"), withIntermediateDirectories: true)
        try Self.create(database, "CREATE TABLE \(table) (sku TEXT NOT NULL, qty INTEGER); INSERT INTO \(table) VALUES ('OLD', 1)")
        try scratch.write("a.csv", "sku,qty\nA,1\nB,2\nC,3\n")
        try scratch.write("bad.csv", "sku,qty\nX,1\nY,not a number\n")
        try scratch.write("p.yaml", Self.pipeline(database, table: table, mode: "replace"))
        #expect(try PipelineProcess.run(["run", "p.yaml"], in: scratch.path).status == 0)
        #expect(try Self.rows(database, table) == ["A=1", "B=2", "C=3"])
        #expect(try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path).status == 0)
        #expect(try Self.rows(database, table) == ["A=1", "B=2", "C=3"])
        let failed = try PipelineProcess.run(["run", "p.yaml", "--param", "file=bad.csv"], in: scratch.path)
        #expect(failed.status == 65)
        #expect(try Self.rows(database, table) == ["A=1", "B=2", "C=3"])
        #expect(try Inspect.tableExists(database, "\(table)__pipeline_replace") == false)
        try ResumeTests.drop(database, table)
    }

    @Test func upsertNeedsAKeyWithAUniqueIndex() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = DatabaseLocator.sqlite(path: scratch.file("data/store.db"))
        try FileManager.default.createDirectory(atPath: scratch.file("data"), withIntermediateDirectories: true)
        try Self.create(database, "CREATE TABLE plain (sku TEXT, qty INTEGER); CREATE UNIQUE INDEX partial ON plain (sku) WHERE qty > 0")
        try scratch.write("a.csv", "sku,qty\nA,1\n")
        try scratch.write("p.yaml", Self.pipeline(database, table: "plain", mode: "upsert", extra: ", key: [sku]"))
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 78)
        #expect(result.stderr.contains(
            "table plain has no primary key or unique index on (sku), which mode: upsert needs; e.g. CREATE UNIQUE INDEX ON plain (sku)"))
        try scratch.write("p.yaml", Self.pipeline(database, table: "plain", mode: "upsert", extra: ", key: [id]"))
        let missingKey = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(missingKey.status == 78)
        #expect(missingKey.stderr.contains("key column 'id' not in \(scratch.path)/a.csv (it has sku, qty)"))
        for (extra, mode, message) in [
            ("", "upsert", "mode: upsert needs 'key'"), (", key: [sku]", "append", "'key' only applies to mode: upsert"),
            (", key: [sku, sku]", "upsert", "'key' names a column twice"),
        ] {
            try scratch.write("p.yaml", Self.pipeline(database, table: "plain", mode: mode, extra: extra))
            let invalid = try PipelineProcess.run(["validate", "p.yaml"], in: scratch.path)
            #expect(invalid.status == 78 && invalid.stderr.contains(message), "\(invalid.stderr)")
        }
        // With create: true the key becomes the new table's primary key.
        try scratch.write("p.yaml", Self.pipeline(database, table: "fresh", mode: "upsert", extra: ", key: [sku], create: true"))
        #expect(try PipelineProcess.run(["run", "p.yaml"], in: scratch.path).status == 0)
        #expect(try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path).status == 0)
        #expect(try Self.rows(database, "fresh") == ["A=1"])
    }

    @Test(arguments: [(Backend.sqlite, "replace"), (.sqlite, "upsert"), (.postgres, "replace"), (.postgres, "upsert")])
    func killedLoadsResumeToTheTableOfOneRun(backend: Backend, mode: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = try ResumeTests.database(backend, in: scratch)
        try FileManager.default.createDirectory(atPath: scratch.file("data"), withIntermediateDirectories: true)
        let table = "kill_\(mode)_\(UInt32.random(in: 0...UInt32.max))"
        try TestData.writeRows(ResumeTests.rows, to: scratch.file("a.csv"))
        try scratch.write(
            "p.yaml", Self.pipeline(database, table: table, mode: mode, chunk: 500, extra: mode == "upsert" ? ", key: [id]" : ""))
        let reset = {
            try? FileManager.default.removeItem(atPath: scratch.file("state"))
            try ResumeTests.drop(database, table)
            try Self.create(
                database,
                """
                CREATE TABLE \(table) (id TEXT PRIMARY KEY, sku TEXT, name TEXT, price_minor TEXT, qty TEXT);
                INSERT INTO \(table) VALUES ('1', 'STALE', 'stale', '0', '0'), ('999999', 'OLD', 'old', '0', '0')
                """)
        }
        let runner = KillAndResume(arguments: ["run", "p.yaml"], directory: scratch.path)
        try reset()
        let (baseline, seconds) = try runner.timedRun()
        #expect(baseline.status == 0, "\(baseline.stderr)")
        let expected = try ResumeTests.dump(database, table)
        #expect(expected.count == ResumeTests.rows + (mode == "upsert" ? 1 : 0))
        #expect(expected.first?[1] == "SKU-000001")
        try runner.killAtRandomPoints(10, seed: 31, duration: seconds, reset: reset) { kill in
            let resumed = try ResumeTests.dump(database, table)
            #expect(resumed == expected, "kill \(kill): \(resumed.count) rows, not those of one run")
        }
        try ResumeTests.drop(database, table)
    }
}
