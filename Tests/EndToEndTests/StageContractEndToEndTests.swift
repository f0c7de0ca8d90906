import Foundation
import Pipelines
import Testing

/// The stage contract through the built binary: outputs passed between stages and handed back on a
/// resume, checks against the workspace, per-kind settings, named databases, family commands, counters,
/// outputs and events in every record.
@Suite(.timeLimit(.minutes(5))) struct StageContractEndToEndTests {
    /// Loads the fixture, exports it, and imports the export again through the export's `file` output.
    func chain(copyCreate: Bool = true, extra: String = "") -> String {
        """
        name: chain
        stages:
          - id: load
            uses: table.import
            with: { file: \(fixtures)/items.csv, table: items, create: true }
          - id: dump
            uses: table.export
            with: { query: "SELECT * FROM items ORDER BY id", file: out/items.csv }
          - id: again
            uses: table.import
            with: { file: "${stages.dump.outputs.file}", table: copy, create: \(copyCreate) }
        \(extra)
        """
    }

    @Test func anOutputOfOneStageIsAParameterOfTheNext() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("p.yaml", chain())
        let dry = try PipelineProcess.run(["run", file, "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("     file: ${stages.dump.outputs.file}"))
        #expect(dry.stdout.contains("   output file (file)"))
        let result = try PipelineProcess.run(["run", file])
        #expect(result.status == 0, "\(result.stderr)")
        let copied = try Inspect.rows(.sqlite(path: scratch.file("var/store.db")), "SELECT count(*), sum(price_minor) FROM copy")
        #expect(copied == [["10", "654791"]])
        let plan = try PipelineProcess.run(["plan", file])
        let digest = try sha256(of: scratch.file("out/items.csv"))
        #expect(plan.stdout.contains("   output file (file) = \(scratch.path)/out/items.csv (sha256 \(digest), "), "\(plan.stdout)")
        #expect(plan.stdout.contains("   output rows (number) = 10"))
    }

    @Test func aResumeSkipsTheCompletedStageAndStillHandsItsOutputOn() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("p.yaml", chain(copyCreate: false))
        let first = try PipelineProcess.run(["run", file])
        #expect(first.status == 78, "\(first.stderr)")
        #expect(first.stderr.contains("table copy does not exist"))
        // Fixed by hand; and the export's source is gone, so running `dump` again could not succeed.
        let store = DatabaseLocator.sqlite(path: scratch.file("var/store.db"))
        let connection = try store.connect(logger: Logger(handler: SilentLogHandler()))
        try connection.executeScript(
            "CREATE TABLE copy (id TEXT, sku TEXT, name TEXT, price_minor TEXT, currency TEXT, stock TEXT); DROP TABLE items")
        connection.close()
        let second = try PipelineProcess.run(["run", file])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("[dump] table.export already complete in this run; skipped"))
        #expect(try Inspect.rows(store, "SELECT count(*) FROM copy") == [["10"]])
        let runs = try PipelineProcess.run(["runs", file])
        let runID = try #require(runs.stdout.split(separator: "\n").dropFirst().first?.split(separator: " ").first)
        let shown = try PipelineProcess.run(["runs", "show", String(runID), "--state", "sqlite:" + scratch.file("var/state.db")])
        #expect(shown.stdout.contains("dump outputs:\n  file: \(scratch.path)/out/items.csv (sha256 "), "\(shown.stdout)")
        #expect(shown.stdout.contains("read 10 rows, written 10 rows, rejected 0 rows"))
    }

    @Test func validationRefusesWhatTheContractForbidsWithItsPlace() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "bad.yaml",
            """
            name: bad
            stages:
              - id: load
                uses: table.import
                with: { file: \(fixtures)/items.csv, table: items, create: true }
              - id: dump
                uses: table.export
                with: { table: items, file: "out/${stages.load.outputs.reject}.csv" }
              - id: view
                uses: sql.refresh
                with: { view: daily_sales }
              - id: schema
                uses: sql.run
                chunk_size: 100
                with: { sql: "SELECT 1" }
            """)
        let result = try PipelineProcess.run(["validate", file])
        #expect(result.status == 78)
        #expect(
            result.stderr.split(separator: "\n").map(String.init) == [
                "\(file):8:38: stage 'load' (table.import) has no output 'reject' (did you mean 'rejects'?); it declares: rejects",
                "\(file):10:11: sql.refresh needs PostgreSQL, but the pipeline's database (sqlite:\(scratch.path)/var/store.db) is SQLite, which has no materialized views",
                "\(file):14:5: 'chunk_size' does not apply to sql.run: it does its work whole, without chunks",
            ], "\(result.stderr)")
    }

    @Test func stagesReadAndWriteNamedDatabases() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "p.yaml",
            """
            name: named
            databases:
              shop: sqlite:shop.db
            stages:
              - id: fill
                uses: sql.run
                with:
                  database: shop
                  sql: "CREATE TABLE orders (code TEXT, total_minor INTEGER); INSERT INTO orders VALUES ('A1', 1250), ('A2', 990)"
              - id: copy
                uses: table.export
                with: { database: shop, query: "SELECT * FROM orders ORDER BY code", file: out/orders.csv }
              - id: load
                uses: table.import
                with: { file: "${stages.copy.outputs.file}", table: orders, create: true }
            """)
        let result = try PipelineProcess.run(["run", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scratch.read("out/orders.csv") == "code,total_minor\nA1,1250\nA2,990\n")
        #expect(try Inspect.rows(.sqlite(path: scratch.file("var/store.db")), "SELECT count(*) FROM orders") == [["2"]])
        let wrong = try scratch.write("w.yaml", try scratch.read("p.yaml").replacingOccurrences(of: "database: shop, query", with: "database: shops, query"))
        let refused = try PipelineProcess.run(["validate", wrong])
        #expect(refused.status == 78)
        #expect(refused.stderr.contains("w.yaml:12:23: parameter 'database': unknown database 'shops' (did you mean 'shop'?); declared: shop"), "\(refused.stderr)")
    }

    @Test func countersOutputsAndEventsReachEveryRecord() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "p.yaml",
            """
            name: records
            stages:
              - id: load
                uses: table.import
                with: { file: \(fixtures)/items-with-bad-rows.csv, table: items, create: true, max_rejects: 10 }
            """)
        let result = try PipelineProcess.run(["run", file, "--log-format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let finished = try #require(
            result.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .first { $0["event"] as? String == "stage.finished" })
        let counts = try #require(finished["counts"] as? [String: Int])
        #expect(Set(counts.keys) == ["read", "written", "rejected"])
        #expect(counts["rejected"] ?? 0 > 0)
        let reports = try FileManager.default.contentsOfDirectory(atPath: scratch.file("var/runs"))
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("var/runs/\(reports[0])"))))
                as? [String: Any])
        let stage = try #require((report["stages"] as? [[String: Any]])?.first)
        #expect((stage["counts"] as? [String: Int])?["rejected"] == counts["rejected"])
        #expect(((stage["outputs"] as? [String: Any])?["rejects"] as? [String: Any])?["text"] as? String == scratch.file("var/items.rejects.csv"))
        let event = try #require((report["events"] as? [[String: Any]])?.first)
        #expect(event["name"] as? String == "import.rejects")
        #expect((event["payload"] as? [String: Any])?["rejected"] as? Int == counts["rejected"])
        let shown = try PipelineProcess.run(["runs", "show", report["run_id"] as? String ?? "", "--state", "sqlite:" + scratch.file("var/state.db")])
        #expect(shown.stdout.contains("events:\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains(" load import.rejects {\"file\":"))
    }

    @Test func stagesDescribesEverythingAKindDeclares() throws {
        let products = try PipelineProcess.run(["stages", "products.import"])
        #expect(products.status == 0)
        for line in [
            "  currency (currency, default USD)", "      type: an ISO 4217 currency code such as USD, JPY or KWD",
            "  chunk_size (int, default 20000; 0 or more)", "      variant rows per committed chunk and checkpoint; 0 = one chunk, no checkpoints",
            "  variants_created (variants): variants new to the store", "  rejects (path): the rejects file; only when rows were rejected",
            "  import.rejects: the import rejected rows", "schema family 'store'",
        ] {
            #expect(products.stdout.contains(line), "\(line) in \(products.stdout)")
        }
        let refresh = try PipelineProcess.run(["stages", "sql.refresh"])
        #expect(refresh.stdout.contains("  none: sql.refresh does its work whole and is not retried") == false)
        #expect(refresh.stdout.contains("  retries ({count, backoff}, default {count: 0, backoff: 1s})"))
        #expect(!refresh.stdout.contains("chunk_size"))
        let list = try PipelineProcess.run(["stages"])
        #expect(list.stdout.contains("products: the product store and Vendure's product CSV\n  products.import"))
    }

    @Test func familyCommandsRunThroughTheRunner() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let empty = try PipelineProcess.run(["products", "status", "--database", "sqlite:" + scratch.file("empty.db")])
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(empty.stdout.contains("no product store"))
        let migrated = try PipelineProcess.run(["db", "migrate", "--database", "sqlite:" + scratch.file("empty.db")])
        #expect(migrated.stdout.contains("applied store schema versions 1, 2, 3, 4, 5, 6, 7; now at 7"), "\(migrated.stdout)")
        let status = try PipelineProcess.run(["products", "status"], in: scratch.path, environment: ["DATABASE_URL": "sqlite:empty.db"])
        #expect(status.stdout == "product store in sqlite:\(scratch.path)/empty.db, schema version 7\nproducts  0\nvariants  0\nprices    0\nassets    0\n")
        let wrong = try PipelineProcess.run(["products", "stats"])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("unknown products command 'stats' (did you mean 'status'?)"))
        let help = try PipelineProcess.run(["--help"])
        #expect(help.stdout.contains("  pipeline products status [--database URL]"))
        #expect(try PipelineProcess.run(["prodcts", "status"]).stderr.contains("did you mean 'products'?"))
    }

    @Test func aPostgreSQLOnlyStageRunsOnANamedPostgreSQLDatabase() throws {
        let url = try TestDatabase.postgresURL()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "p.yaml",
            """
            name: refresh
            databases:
              reports: "\(url)"
            stages:
              - id: setup
                uses: sql.run
                with:
                  database: reports
                  sql: |
                    CREATE TABLE sales (day date, total_minor bigint);
                    CREATE MATERIALIZED VIEW daily AS SELECT day, sum(total_minor) AS total_minor FROM sales GROUP BY day;
                    CREATE UNIQUE INDEX daily_day ON daily (day);
                    INSERT INTO sales VALUES ('2026-12-01', 1250), ('2026-12-01', 750);
              - id: refresh
                uses: sql.refresh
                with: { view: daily, database: reports, concurrently: true }
            """)
        let result = try PipelineProcess.run(["run", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Inspect.rows(.postgres(url: url), "SELECT total_minor FROM daily") == [["2000"]])
        let missing = try scratch.write(
            "m.yaml",
            """
            name: refresh-missing
            databases:
              reports: "\(url)"
            stages:
              - id: refresh
                uses: sql.refresh
                with: { view: weekly, database: reports }
            """)
        let failed = try PipelineProcess.run(["run", missing])
        #expect(failed.status == 78)
        #expect(failed.stderr.contains("there is no materialized view weekly in"))
    }

    @Test func stockReportExampleRefreshesItsViewOnPostgreSQL() throws {
        let url = try TestDatabase.postgresURL()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let example = try String(contentsOfFile: PipelineProcess.packageRoot + "/pipelines/stock-report.yaml", encoding: .utf8)
        let file = try scratch.write("pipelines/stock-report.yaml", example)
        try FileManager.default.copyItem(atPath: fixtures, toPath: scratch.file("fixtures"))
        let result = try PipelineProcess.run(["run", file], environment: ["DATABASE_URL": url])
        #expect(result.status == 0, "\(result.stderr)")
        let usd = 129900 * 12 + 139900 * 3 + 32999 * 40 + 14374 * 7 + 1659 * 120 + 108720 * 1
        #expect(
            try scratch.read("pipelines/out/stock-value.csv")
                == "currency,items,stock_value_minor\nEUR,1,89820\nJPY,1,99000\nUSD,8,\(usd)\n")
        let onSQLite = try PipelineProcess.run(["validate", file], environment: ["DATABASE_URL": "sqlite:store.db"])
        #expect(onSQLite.status == 78)
        #expect(onSQLite.stderr.contains("sql.refresh needs PostgreSQL"), "\(onSQLite.stderr)")
    }

    func sha256(of path: String) throws -> String {
        try SHA256Digest.ofFile(path)
    }
}
