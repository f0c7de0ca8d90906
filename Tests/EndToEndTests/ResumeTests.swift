import Foundation
import Pipelines
import Testing

/// kill -9 at seeded random points, resume, and compare with an uninterrupted run: the same rows, the
/// same bytes, no duplicates. On SQLite and on PostgreSQL.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ResumeTests {
    static let rows = 40_000
    static let killPoints = 20

    enum Backend: String, CaseIterable {
        case sqlite, postgres
    }

    /// The database URL for a backend; SQLite lives in the scratch folder.
    static func database(_ backend: Backend, in scratch: Scratch) throws -> DatabaseLocator {
        switch backend {
        case .sqlite: .sqlite(path: scratch.file("data/store.db"))
        case .postgres: .postgres(url: try TestDatabase.postgresURL())
        }
    }

    static func url(_ locator: DatabaseLocator) -> String {
        switch locator {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): url
        }
    }

    static func dump(_ locator: DatabaseLocator, _ table: String) throws -> [[String?]] {
        try Inspect.rows(locator, "SELECT id, sku, name, price_minor, qty FROM \(table) ORDER BY CAST(id AS INTEGER)")
    }

    /// `rows.csv` into `table` in chunks of 500, its state in `state/`.
    static func importPipeline(_ name: String, _ database: DatabaseLocator, _ table: String) -> String {
        """
        name: \(name)
        database: \(url(database))
        state: sqlite:state/state.db
        stages:
          - id: load
            uses: table.import
            chunk_size: 500
            with: { file: rows.csv, table: \(table), create: true }
        """
    }

    static func drop(_ locator: DatabaseLocator, _ table: String) throws {
        let connection = try locator.connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        try connection.executeScript("DROP TABLE IF EXISTS \(table)")
    }

    @Test(arguments: Backend.allCases)
    func killedImportsResumeToTheSameTable(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = try Self.database(backend, in: scratch)
        let table = "kill_import_\(UInt32.random(in: 0...UInt32.max))"
        try TestData.writeRows(Self.rows, to: scratch.file("rows.csv"))
        try scratch.write("import.yaml", Self.importPipeline("kill-import", database, table))
        let runner = KillAndResume(arguments: ["run", "import.yaml"], directory: scratch.path)
        let reset = {
            try? FileManager.default.removeItem(atPath: scratch.file("state"))
            try Self.drop(database, table)
        }
        try reset()
        let (baseline, seconds) = try runner.timedRun()
        #expect(baseline.status == 0, "\(baseline.stderr)")
        let expected = try Self.dump(database, table)
        #expect(expected.count == Self.rows)
        try runner.killAtRandomPoints(Self.killPoints, seed: 2024, duration: seconds, reset: reset) { kill in
            let resumed = try Self.dump(database, table)
            #expect(resumed.count == expected.count, "kill \(kill): \(resumed.count) rows")
            #expect(resumed == expected, "kill \(kill): table differs from the uninterrupted import")
        }
        try Self.drop(database, table)
    }

    /// A killed import's checkpoint stays in the target database. When its state store is gone (deleted,
    /// moved, or another machine's store on the same database), a run of a fresh store must load the whole
    /// file, not resume at that checkpoint.
    @Test(arguments: Backend.allCases)
    func aCheckpointLeftByAnotherStateStoreIsNotTaken(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = try Self.database(backend, in: scratch)
        let table = "stale_checkpoint_\(UInt32.random(in: 0...UInt32.max))"
        // Five times the usual rows: the kill must land between the first commit and the last, also when
        // a busy machine is slow to notice the first.
        let rows = Self.rows * 5
        try TestData.writeRows(rows, to: scratch.file("rows.csv"))
        try scratch.write("import.yaml", Self.importPipeline("stale-checkpoint", database, table))
        let committed = { Int((try? Inspect.rows(database, "SELECT count(*) FROM \(table)"))?.first?.first?.flatMap { $0 } ?? "") ?? 0 }
        let killed = try PipelineProcess.start(["run", "import.yaml"], in: scratch.path)
        let deadline = Date().addingTimeInterval(60)
        while killed.process.isRunning && committed() == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        kill(killed.process.processIdentifier, SIGKILL)
        killed.process.waitUntilExit()
        try #require(killed.process.terminationReason == .uncaughtSignal, "the import ended before it was killed")
        let loaded = committed()
        try #require(loaded > 0 && loaded < rows, "\(loaded) rows committed when killed")
        try FileManager.default.removeItem(atPath: scratch.file("state"))
        try Self.drop(database, table)
        let fresh = try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(committed() == rows)
        try Self.drop(database, table)
    }

    @Test(arguments: Backend.allCases)
    func killedExportsResumeToTheSameBytes(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = try Self.database(backend, in: scratch)
        let table = "kill_export_\(UInt32.random(in: 0...UInt32.max))"
        try TestData.writeRows(Self.rows, to: scratch.file("rows.csv"))
        try scratch.write(
            "load.yaml",
            """
            name: load
            database: \(Self.url(database))
            state: sqlite:load-state/state.db
            stages:
              - id: load
                uses: table.import
                with: { file: rows.csv, table: \(table), create: true }
            """)
        #expect(try PipelineProcess.run(["run", "load.yaml"], in: scratch.path).status == 0)
        for format in ["csv", "jsonl"] {
            try scratch.write(
                "export.yaml",
                """
                name: kill-export
                database: \(Self.url(database))
                state: sqlite:state/state.db
                stages:
                  - id: dump
                    uses: table.export
                    chunk_size: 500
                    with:
                      query: "SELECT id, sku, name, price_minor, qty FROM \(table) ORDER BY CAST(id AS INTEGER)"
                      file: out/rows.\(format)
                """)
            let runner = KillAndResume(arguments: ["run", "export.yaml"], directory: scratch.path)
            let reset = {
                try? FileManager.default.removeItem(atPath: scratch.file("state"))
                try? FileManager.default.removeItem(atPath: scratch.file("out"))
            }
            reset()
            let (baseline, seconds) = try runner.timedRun()
            #expect(baseline.status == 0, "\(baseline.stderr)")
            let expected = try Data(contentsOf: URL(fileURLWithPath: scratch.file("out/rows.\(format)")))
            if format == "csv" {
                #expect(expected == (try Data(contentsOf: URL(fileURLWithPath: scratch.file("rows.csv")))))
            }
            try runner.killAtRandomPoints(Self.killPoints, seed: 7, duration: seconds, reset: reset) { kill in
                let resumed = try Data(contentsOf: URL(fileURLWithPath: scratch.file("out/rows.\(format)")))
                #expect(resumed == expected, "kill \(kill): \(format) differs from the uninterrupted export")
                let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.file("out"))
                #expect(leftovers == ["rows.\(format)"], "kill \(kill): \(leftovers)")
            }
        }
        try Self.drop(database, table)
    }
}
