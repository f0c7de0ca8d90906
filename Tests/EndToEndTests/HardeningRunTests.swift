import Foundation
import Pipelines
import Testing

/// Runs under hostile conditions: signals in the middle of an export, FIFOs, long names, secrets that
/// once leaked into logs, records and the state store.
@Suite(.timeLimit(.minutes(8))) struct HardeningRunTests {
    static func exportPipeline(rows: Int, in scratch: Scratch, chunk: Int = 500) throws {
        try TestData.writeRows(rows, to: scratch.file("items.csv"))
        try scratch.write(
            "load.yaml",
            "name: load\ndatabase: sqlite:var/db.sqlite\nstages:\n"
                + "  - { id: load, uses: table.import, with: { file: items.csv, table: items, create: true } }\n"
                + "  - { id: products, uses: products.import, with: { file: catalogue.csv, max_rejects: 0 } }\n")
        try scratch.write(
            "export.yaml",
            "name: export\ndatabase: sqlite:var/db.sqlite\nstages:\n"
                + "  - id: dump\n    uses: table.export\n    chunk_size: \(chunk)\n"
                + "    with: { query: \"SELECT * FROM items ORDER BY CAST(id AS INTEGER)\", file: out/items.csv }\n")
    }

    /// Names of files in `folder` other than `kept`: temporary files left behind.
    static func leftovers(_ scratch: Scratch, _ folder: String, kept: Set<String>) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: scratch.file(folder))) ?? []).filter { !kept.contains($0) }
    }

    static func start(_ arguments: [String], in scratch: Scratch, waitingFor marker: String) throws -> PipelineProcess.Running {
        let running = try PipelineProcess.start(arguments, in: scratch.path)
        // Stderr is read until the stage has started, so that the signal lands inside it.
        var seen = ""
        let handle = running.stderr.fileHandleForReading
        while !seen.contains(marker) {
            let data = handle.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        return running
    }

    /// SIGTERM or SIGINT during a table export once made the resume exit 66 (the temporary file was gone).
    @Test func signalsDuringAnExportResumeToTheSameBytes() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.exportPipeline(rows: 150_000, in: scratch)
        try ProductsRun.generate(products: 1, variantsEach: 1, to: scratch.file("catalogue.csv"))
        #expect(try PipelineProcess.run(["run", "load.yaml"], in: scratch.path).status == 0)
        #expect(try PipelineProcess.run(["run", "export.yaml"], in: scratch.path).status == 0)
        let expected = try scratch.read("out/items.csv")
        var generator = SeededGenerator(seed: 10)
        for (signal, status) in [(SIGTERM, 143), (SIGINT, 130), (SIGKILL, -1), (SIGTERM, 143)] {
            let running = try Self.start(["run", "export.yaml", "--rerun"], in: scratch, waitingFor: "[dump] table.export ")
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.3, using: &generator))
            kill(running.process.processIdentifier, signal)
            running.process.waitUntilExit()
            if status > 0 && running.process.terminationReason == .exit {
                // It may have finished first; a stop must say 128 + the signal.
                #expect([0, Int32(status)].contains(running.process.terminationStatus))
            }
            let resumed = try PipelineProcess.run(["run", "export.yaml"], in: scratch.path)
            #expect(resumed.status == 0, "after signal \(signal): \(resumed.stderr)")
            #expect(try scratch.read("out/items.csv") == expected)
            #expect(Self.leftovers(scratch, "out", kept: ["items.csv"]).isEmpty)
        }
    }

    /// products.export once ignored SIGTERM, and a kill -9 left its temporary file behind for good.
    @Test func productsExportStopsOnSIGTERMAndLeavesNoTemporaryFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try ProductsRun.generate(products: 30_000, variantsEach: 1, to: scratch.file("catalogue.csv"))
        try Self.exportPipeline(rows: 10, in: scratch)
        #expect(try PipelineProcess.run(["run", "load.yaml"], in: scratch.path).status == 0)
        try scratch.write(
            "products.yaml",
            "name: products\ndatabase: sqlite:var/db.sqlite\nstages:\n  - { id: out, uses: products.export, with: { file: out/catalogue.csv } }\n")
        #expect(try PipelineProcess.run(["run", "products.yaml"], in: scratch.path).status == 0)
        let expected = try scratch.read("out/catalogue.csv")
        try FileManager.default.removeItem(atPath: scratch.file("out/catalogue.csv"))
        var stoppedBySIGTERM = false
        // Each run is killed while its stage is running (its first log line is there), not after it ended.
        for signal in [SIGTERM, SIGKILL, SIGTERM, SIGKILL] {
            let running = try Self.start(["run", "products.yaml", "--rerun"], in: scratch, waitingFor: "[out] products.export ")
            Thread.sleep(forTimeInterval: 0.05)
            kill(running.process.processIdentifier, signal)
            running.process.waitUntilExit()
            if signal == SIGTERM && running.process.terminationStatus == 143 {
                stoppedBySIGTERM = true
                let rest = String(decoding: running.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                #expect(!scratch.exists("out/catalogue.csv"), "\(rest)")
            }
        }
        #expect(stoppedBySIGTERM, "products.export ran to its end despite SIGTERM")
        let resumed = try PipelineProcess.run(["run", "products.yaml"], in: scratch.path)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try scratch.read("out/catalogue.csv") == expected)
        #expect(Self.leftovers(scratch, "out", kept: ["catalogue.csv", "items.csv"]).isEmpty)
    }

    @Test func fifosAreRefusedAtOnce() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        #expect(mkfifo(scratch.file("p.yaml"), 0o600) == 0)
        #expect(mkfifo(scratch.file("in.csv"), 0o600) == 0)
        let validate = try PipelineProcess.run(["validate", "p.yaml"], in: scratch.path)
        #expect(validate.status == 66)
        #expect(validate.stderr == "p.yaml:1:1: cannot read p.yaml: it is a FIFO (named pipe), not a regular file\n")
        try scratch.write("q.yaml", "name: q\ndatabase: sqlite:var/db.sqlite\nstages:\n  - { id: l, uses: table.import, with: { file: in.csv, table: t, create: true } }\n")
        let run = try PipelineProcess.run(["run", "q.yaml"], in: scratch.path)
        #expect(run.status == 66)
        #expect(run.stderr.contains("in.csv: it is a FIFO (named pipe), not a regular file"))
    }

    @Test func anOutputNameOfTwoHundredFortyNineBytesIsWritten() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let name = String(repeating: "n", count: 245) + ".csv"
        try scratch.write("p.yaml", "name: long\nstages:\n  - { id: d, uses: table.export, with: { query: \"SELECT 1 AS one\", file: \(name) } }\n")
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scratch.read(name) == "one\n1\n")
    }

    /// A password with `/`, `?` and `@`, spliced in by `--param`, shows nowhere: not in logs, `plan`,
    /// `--dry-run`, `runs`, the run report or the bytes of the state store.
    @Test func aSplicedPasswordShowsNowhere() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        guard let server = ProcessInfo.processInfo.environment["PIPELINE_TEST_POSTGRES_PASSWORD_URL"],
            let components = URLComponents(string: server), let host = components.host, let port = components.port
        else {
            Issue.record("PIPELINE_TEST_POSTGRES_PASSWORD_URL is not set: run the tests with scripts/test")
            return
        }
        try scratch.write(
            "p.yaml",
            "name: secret\nparams: { PW: unset }\ndatabase: \"postgresql://pipeline_pw:${PW}@\(host):\(port)/pipeline_test?sslmode=disable\"\n"
                + "stages:\n  - { id: s, uses: sql.run, with: { sql: \"SELECT 1\" } }\n")
        let password = "s3cret-pw"
        var shown = ""
        for arguments in [["validate", "p.yaml"], ["plan", "p.yaml"], ["run", "p.yaml", "--dry-run"], ["run", "p.yaml"], ["runs", "p.yaml"]] {
            let result = try PipelineProcess.run(arguments + ["-p", "PW=\(password)"].filter { _ in arguments[0] != "runs" }, in: scratch.path)
            shown += result.stdout + result.stderr
            if arguments == ["run", "p.yaml"] { #expect(result.status == 0, "\(result.stderr)") }
        }
        // A wrong password's failure, too.
        shown += try PipelineProcess.run(["run", "p.yaml", "-p", "PW=wrong/pa?ss@word"], in: scratch.path).stderr
        #expect(shown.contains("***"))
        for secret in [password, "wrong/pa?ss@word", "pa?ss", "wrong%2Fpa"] { #expect(!shown.contains(secret), "'\(secret)' shown") }
        let enumerator = FileManager.default.enumerator(atPath: scratch.file("var"))
        while let file = enumerator?.nextObject() as? String {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: scratch.file("var/" + file)))) ?? Data()
            #expect(bytes.range(of: Data(password.utf8)) == nil, "the password is in var/\(file)")
        }
    }

    /// After the README's demo, `runs` from another folder found nothing and `runs show RUN FILE` was
    /// refused: both take the pipeline file, and say where they looked when there is nothing.
    @Test func runsAndRunsShowTakeThePipelineFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("pipelines/p.yaml", "name: p\nstages:\n  - { id: d, uses: table.export, with: { query: \"SELECT 1 AS one\", file: out.csv } }\n")
        #expect(try PipelineProcess.run(["run", "pipelines/p.yaml"], in: scratch.path).status == 0)
        let listed = try PipelineProcess.run(["runs", "pipelines/p.yaml"], in: scratch.path)
        #expect(listed.status == 0)
        guard let id = listed.stdout.split(separator: "\n").dropFirst().first?.split(separator: " ").first else {
            Issue.record("no run listed: \(listed.stdout)")
            return
        }
        let shown = try PipelineProcess.run(["runs", "show", String(id), "pipelines/p.yaml"], in: scratch.path)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("status:    succeeded"))
        let here = scratch.file("var/state.db")
        for arguments in [["runs"], ["runs", "show", String(id)]] {
            let nothing = try PipelineProcess.run(arguments, in: scratch.path)
            #expect(nothing.status == 66, "\(arguments)")
            #expect(nothing.stderr.contains("no state store at sqlite:\(here)"), "\(nothing.stderr)")
            #expect(nothing.stderr.contains("give the pipeline file"))
        }
    }

    /// A retry's backoff (up to an hour) once slept through SIGTERM: signals work in every wait.
    @Test func aSignalDuringARetryBackoffStopsTheRunAtOnce() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch.file("var"), withIntermediateDirectories: true)
        // Another process holds the database's write lock: the stage fails with "busy", a transient error.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = [
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
                + "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(120)",
            scratch.file("var/db.sqlite"),
        ]
        let ready = Pipe()
        holder.standardOutput = ready
        try holder.run()
        defer { holder.terminate() }
        _ = ready.fileHandleForReading.availableData
        try scratch.write(
            "p.yaml",
            "name: busy\ndatabase: sqlite:var/db.sqlite\nstages:\n  - id: s\n    uses: sql.run\n"
                + "    retries: { count: 3, backoff: 1h }\n    with: { sql: \"CREATE TABLE t (a)\" }\n")
        let running = try Self.start(["run", "p.yaml"], in: scratch, waitingFor: "retrying in")
        // Had the backoff been slept through, this would wait an hour: the suite's time limit fails it.
        kill(running.process.processIdentifier, SIGTERM)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 143)
    }

    /// A long statement once held a stop back until it ended: the stop request cancels it, and the run
    /// stops resumable (had it not, this would run for an hour: the suite's time limit fails it).
    @Test(arguments: ["sqlite", "postgres"])
    func aStopCancelsALongRunningStatement(database: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let locator = database == "sqlite" ? "sqlite:var/db.sqlite" : try TestDatabase.postgresURL()
        let sql =
            database == "sqlite"
            ? "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000000) SELECT count(*) FROM c"
            : "SELECT pg_sleep(3600)"
        try scratch.write(
            "p.yaml", "name: long\ndatabase: \"\(locator)\"\nstages:\n  - { id: s, uses: sql.run, with: { sql: \"\(sql)\" } }\n")
        let running = try Self.start(["run", "p.yaml"], in: scratch, waitingFor: "[s] sql.run started")
        Thread.sleep(forTimeInterval: 0.3)
        kill(running.process.processIdentifier, SIGTERM)
        let rest = String(decoding: running.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 143, "\(rest)")
        #expect(rest.contains("stopped by signal 15"), "\(rest)")
    }
}
