import Foundation
import Pipelines
import Testing

/// Locks, signals, retries and run records, on the built binary.
@Suite(.serialized, .timeLimit(.minutes(10))) struct RunControlTests {
    /// Enough rows, in chunks of 200, that a run lasts long enough to be caught in the middle on a busy
    /// machine.
    static let rows = 200_000

    static func importPipeline(
        rows: Int, in scratch: Scratch, database: String? = nil, state: String = "sqlite:state/state.db",
        retries: String = ""
    ) throws {
        try TestData.writeRows(rows, to: scratch.file("rows.csv"))
        try scratch.write(
            "import.yaml",
            """
            name: control
            \(database.map { "database: \($0)" } ?? "")
            state: \(state)
            stages:
              - id: load
                uses: table.import
                chunk_size: 200
                \(retries)
                with: { file: rows.csv, table: items, create: true }
            """)
    }

    /// Waits until `condition` holds, polling; false when it never did within `limit` seconds.
    static func wait(upTo limit: TimeInterval, for condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Starts an import on SQLite and returns once its first chunk is committed.
    static func startImportAndWaitForAChunk(in scratch: Scratch) throws -> (PipelineProcess.Running, DatabaseLocator) {
        try importPipeline(rows: rows, in: scratch)
        let store = DatabaseLocator.sqlite(path: scratch.file("var/store.db"))
        let running = try PipelineProcess.start(["run", "import.yaml"], in: scratch.path)
        try #require(wait(upTo: 30) { hasCheckpoint(store) })
        return (running, store)
    }

    /// Runs `body` with `running` stopped (SIGSTOP), so that it is still running, its lock held, whatever
    /// `body` takes: a run that may end first makes a test that expects it running depend on the machine.
    /// It is stopped outside a write transaction on the SQLite state store `state`: stopped inside one, it
    /// would keep every other run out of the state store ("database is locked") for as long as `body` takes.
    static func whilePaused<R>(_ running: PipelineProcess.Running, state: String? = nil, _ body: () throws -> R) throws -> R {
        let pid = running.process.processIdentifier
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        if let state {
            #expect(FileManager.default.fileExists(atPath: state), "no state store at \(state)")
            var attempts = 0
            while try holdsWriteLock(on: state), attempts < 500 {
                kill(pid, SIGCONT)
                Thread.sleep(forTimeInterval: 0.01)
                kill(pid, SIGSTOP)
                attempts += 1
            }
            try #require(attempts < 500, "the run kept the state store's write lock")
        }
        return try body()
    }

    /// Whether another connection holds the write lock of the SQLite database at `path`.
    private static func holdsWriteLock(on path: String) throws -> Bool {
        let connection = try DatabaseLocator.sqlite(path: path).connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        try connection.executeScript("PRAGMA busy_timeout = 0")
        do {
            try connection.begin()
        } catch {
            return true
        }
        try connection.rollback()
        return false
    }

    /// True once the run has committed at least one chunk (its checkpoint row exists).
    static func hasCheckpoint(_ locator: DatabaseLocator) -> Bool {
        (try? Inspect.tableExists(locator, "pipeline_checkpoints")) == true
            && ((try? Inspect.rows(locator, "SELECT count(*) FROM pipeline_checkpoints")) ?? []) != [["0"]]
    }

    @Test(arguments: ["sqlite", "postgres"])
    func aSecondRunOfTheSameIdentityExits75AndNamesTheHolder(state: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let stateURL = state == "sqlite" ? "sqlite:state/state.db" : try TestDatabase.postgresURL()
        try Self.importPipeline(rows: Self.rows, in: scratch, state: stateURL)
        let first = try PipelineProcess.start(["run", "import.yaml"], in: scratch.path)
        let store = DatabaseLocator.sqlite(path: scratch.file("var/store.db"))
        try #require(Self.wait(upTo: 30) { Self.hasCheckpoint(store) })
        let second = try Self.whilePaused(first, state: state == "sqlite" ? scratch.file("state/state.db") : nil) {
            try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        }
        #expect(second.status == 75, "\(second.stderr)")
        #expect(second.stderr.contains("is already running"))
        #expect(second.stderr.contains("pid \(first.process.processIdentifier) on "))
        first.process.waitUntilExit()
        #expect(first.process.terminationStatus == 0)
        #expect(try Inspect.rows(store, "SELECT count(*) FROM items") == [["\(Self.rows)"]])
    }

    @Test func sigtermStopsAfterAChunkAndTheRunResumes() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (running, store) = try Self.startImportAndWaitForAChunk(in: scratch)
        kill(running.process.processIdentifier, SIGTERM)
        let stderr = String(decoding: running.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 143, "\(stderr)")
        #expect(stderr.contains("stopped by signal 15"))
        let partial = try Inspect.rows(store, "SELECT count(*) FROM items")
        #expect(partial != [["\(Self.rows)"]], "the run finished before SIGTERM arrived")

        let runs = try PipelineProcess.run(["runs", "import.yaml"], in: scratch.path)
        #expect(runs.stdout.contains("interrupted"))
        let resumed = try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming run"))
        #expect(try Inspect.rows(store, "SELECT count(*), count(DISTINCT id) FROM items") == [["\(Self.rows)", "\(Self.rows)"]])
    }

    @Test func aSecondSIGINTStopsAtOnceAndTheRunStillResumes() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (running, store) = try Self.startImportAndWaitForAChunk(in: scratch)
        kill(running.process.processIdentifier, SIGINT)
        kill(running.process.processIdentifier, SIGINT)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 130)
        let resumed = try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Inspect.rows(store, "SELECT count(*), count(DISTINCT id) FROM items") == [["\(Self.rows)", "\(Self.rows)"]])
    }

    @Test func aChangedInputIsNotResumed() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (running, _) = try Self.startImportAndWaitForAChunk(in: scratch)
        kill(running.process.processIdentifier, SIGKILL)
        running.process.waitUntilExit()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("rows.csv")))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("999999,SKU-999999,Late,1,1\n".utf8))
        try handle.close()
        let refused = try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("rows.csv changed since the interrupted run read it"))
        let restarted = try PipelineProcess.run(["run", "import.yaml", "--restart"], in: scratch.path)
        #expect(restarted.status == 0, "\(restarted.stderr)")
    }

    @Test func aStaleRunningRecordIsRecoveredWithoutAManualStep() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (running, store) = try Self.startImportAndWaitForAChunk(in: scratch)
        kill(running.process.processIdentifier, SIGKILL)
        running.process.waitUntilExit()
        let state = DatabaseLocator.sqlite(path: scratch.file("state/state.db"))
        #expect(try Inspect.rows(state, "SELECT status FROM pipeline_runs") == [["running"]])

        let plan = try PipelineProcess.run(["plan", "import.yaml"], in: scratch.path)
        #expect(plan.stdout.contains("1. load (table.import) [started; resumes from its last checkpoint]"))
        let resumed = try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("died; resuming it"))
        #expect(
            try Inspect.rows(state, "SELECT status FROM pipeline_runs ORDER BY started_at")
                == [["interrupted"], ["succeeded"]])
        #expect(try Inspect.rows(store, "SELECT count(*), count(DISTINCT id) FROM items") == [["\(Self.rows)", "\(Self.rows)"]])

        // The records: a run.json per run, `runs show` with counts, and the identity now complete.
        let reports = try FileManager.default.contentsOfDirectory(atPath: scratch.file("var/runs"))
        #expect(reports.count == 1)
        let id = try #require(reports.first?.replacingOccurrences(of: ".json", with: ""))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("var/runs/\(id).json")))) as? [String: Any]
        #expect(report?["status"] as? String == "succeeded")
        let stages = report?["stages"] as? [[String: Any]]
        #expect((stages?.first?["counts"] as? [String: Any])?["written"] as? Int == Self.rows)
        let shown = try PipelineProcess.run(["runs", "show", id, "--state", "sqlite:state/state.db"], in: scratch.path)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("status:    succeeded"))
        #expect(shown.stdout.contains("load"))
        #expect(shown.stdout.contains("\(Self.rows)"))
        let again = try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        #expect(again.status == 0)
        #expect(again.stderr.contains("already completed"))
        #expect(try Inspect.rows(store, "SELECT count(*) FROM items") == [["\(Self.rows)"]])

        // Killed while writing its report, the finished run gets it written by the next invocation, and
        // the half-written temporary file goes.
        let written = try scratch.read("var/runs/\(id).json")
        try FileManager.default.removeItem(atPath: scratch.file("var/runs/\(id).json"))
        try scratch.write("var/runs/.\(id).json.run-report.1234abcd.tmp", "{\"run")
        let recovered = try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("var/runs")) == ["\(id).json"])
        #expect(try scratch.read("var/runs/\(id).json") == written)
    }

    @Test func aKilledPostgresBackendIsRetriedAndTheRunCompletes() throws {
        let url = try TestDatabase.postgresURL()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = DatabaseLocator.postgres(url: url)
        let admin = try database.connect(logger: Logger(handler: SilentLogHandler()))
        defer { admin.close() }
        try admin.executeScript("DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS pipeline_checkpoints")
        try Self.importPipeline(
            rows: Self.rows, in: scratch, database: url, retries: "retries: { count: 3, backoff: 100ms }")
        let running = try PipelineProcess.start(["run", "import.yaml"], in: scratch.path)
        try #require(Self.wait(upTo: 30) { Self.hasCheckpoint(database) })
        var terminated = false
        try admin.query(
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name LIKE 'pipeline %' AND datname = current_database() AND pid <> pg_backend_pid()
            """, [], columns: { _ in }
        ) { terminated = terminated || $0.string(0) == "true" }
        #expect(terminated)
        let stderr = String(decoding: running.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("retrying"))
        #expect(try Inspect.rows(database, "SELECT count(*), count(DISTINCT id) FROM items") == [["\(Self.rows)", "\(Self.rows)"]])
        try admin.executeScript("DROP TABLE IF EXISTS items")
    }
}
