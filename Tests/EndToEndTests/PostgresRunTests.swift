import Foundation
import Pipelines
import Testing

@Suite(.serialized, .timeLimit(.minutes(10))) struct PostgresRunTests {
    @Test func importAndExportMatchTheSQLiteRunByteForByte() throws {
        let url = try TestDatabase.postgresURL()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let table = "items_\(UInt32.random(in: 0...UInt32.max))"
        let file = try scratch.write(
            "p.yaml",
            """
            name: postgres-round-trip
            database: ${DATABASE_URL:-sqlite:var/store.db}
            stages:
              - id: load
                uses: table.import
                with: { file: \(fixtures)/items.csv, table: \(table), create: true }
              - id: csv
                uses: table.export
                with: { query: "SELECT * FROM \(table) ORDER BY id::int", file: out/items.csv }
              - id: jsonl
                uses: table.export
                with: { query: "SELECT id::int AS id, name, price_minor::bigint AS price, stock IS NULL AS unknown FROM \(table) ORDER BY 1", file: out/items.jsonl }
            """)
        let postgres = try PipelineProcess.run(["run", file], environment: ["DATABASE_URL": url])
        #expect(postgres.status == 0, "\(postgres.stderr)")
        let original = try String(contentsOfFile: fixtures + "/items.csv", encoding: .utf8)
        #expect(try scratch.read("out/items.csv") == original)
        let jsonl = try scratch.read("out/items.jsonl").split(separator: "\n")
        #expect(jsonl.count == 10)
        #expect(jsonl[0] == #"{"id":1,"name":"Laptop 13 inch 8GB","price":129900,"unknown":false}"#)
        #expect(jsonl[6] == #"{"id":7,"name":"USB Cable (2 m)","price":549,"unknown":true}"#)
        _ = try Inspect.rows(.postgres(url: url), "SELECT 1")
    }

    @Test func rejectedCopyLeavesTheTableAsItWas() throws {
        let url = try TestDatabase.postgresURL()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let table = "typed_\(UInt32.random(in: 0...UInt32.max))"
        let csv = try scratch.write("typed.csv", "id,qty\n1,5\n2,five\n3,7\n")
        let file = try scratch.write(
            "p.yaml",
            """
            name: typed
            database: \(url)
            stages:
              - id: schema
                uses: sql.run
                with: { sql: "CREATE TABLE \(table) (id int PRIMARY KEY, qty int NOT NULL); INSERT INTO \(table) VALUES (100, 1)" }
              - id: load
                uses: table.import
                with: { file: \(csv), table: \(table) }
            """)
        let result = try PipelineProcess.run(["run", file])
        #expect(result.status == 65, "\(result.stderr)")
        // Caught before COPY (which would say 22P02), with its line and column.
        #expect(result.stderr.contains("typed.csv:3:2: 'five' is not a whole number, as column qty (integer) needs"))
        #expect(try Inspect.rows(.postgres(url: url), "SELECT id FROM \(table)") == [["100"]])
    }

    @Test func passwordsNeverAppearInOutput() throws {
        let url = try TestDatabase.postgresURL()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let secret = "Pa55-word-that-must-not-leak"
        guard let components = URLComponents(string: url), let host = components.host, let port = components.port else {
            Issue.record("cannot read host and port from \(url)")
            return
        }
        let wrong = "postgresql://pipeline_pw:\(secret)@\(host):\(port)/pipeline_test"
        let file = try scratch.write(
            "p.yaml",
            """
            name: secret
            database: ${DATABASE_URL}
            stages:
              - id: s
                uses: sql.run
                with: { sql: "SELECT 1" }
            notify:
              - on: [run.failed]
                command: [sh, -c, "cat >> events.jsonl; echo >> events.jsonl"]
            metrics: { textfile: var/metrics }
            """)
        var results: [PipelineProcess.Result] = []
        for arguments in [["run", file], ["run", file, "--dry-run"], ["run", file, "--log-format", "json"]] {
            let result = try PipelineProcess.run(arguments, environment: ["DATABASE_URL": wrong])
            #expect(!result.stdout.contains(secret))
            #expect(!result.stderr.contains(secret))
            #expect((result.stdout + result.stderr).contains("pipeline_pw:***@"))
            if !arguments.contains("--dry-run") { #expect(result.status == 74, "\(result.stderr)") }
            results.append(result)
        }
        // Nor in the notifications, the outbox, the run records or the metrics.
        let events = try scratch.read("events.jsonl")
        #expect(events.contains("run.failed") && events.contains("pipeline_pw:***@") && !events.contains(secret))
        #expect(scratch.exists("var/metrics/pipeline_secret.prom"))
        try NotifyWebhookTests.expectNoSecret([secret], in: scratch, outputs: results)
    }
}
