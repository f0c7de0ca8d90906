import Foundation
import Pipelines
import Testing

/// partitions.maintain through the built binary on the PostgreSQL 15 the tests start, in scenarios after
/// pg_partman's own tests: premake, catch-up, default rows, far-future rows, retention, long names, time
/// zones, two maintainers, a lock held on the parent, and one failing table among good ones.
@Suite(.serialized, .timeLimit(.minutes(5))) struct PartitionsMaintainTests {
    static let monthly = "tables:\n  - { table: public.journal_entries, column: created_at, interval: month, premake: 4, naming: p4 }"

    @Test func aNewSetGetsPremakeMonthsEachSideAndADefault() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        let role = "reader_\(UInt32.random(in: 0...UInt32.max))"
        try scene.sql(
            PartitionScene.journalEntries + """
                ;
                CREATE TABLE public.journal_template (id bigint, created_at timestamptz, amount_minor bigint);
                CREATE INDEX journal_template_amount ON public.journal_template (amount_minor);
                CREATE ROLE \(role);
                GRANT SELECT, INSERT ON public.journal_entries TO \(role)
                """)
        try scene.pipeline(Self.monthly.replacingOccurrences(of: "naming: p4 }", with: "naming: p4, template: public.journal_template }"))
        let result = try scene.run()
        #expect(result.status == 0, "\(result.stderr)")
        let names = try scene.children("public.journal_entries").map { String($0.split(separator: " ")[0]) }
        #expect(names == PartitionScene.months(-4, 4).map { "journal_entries_p\($0)" } + ["journal_entries_default"])
        #expect(!names.contains("journal_entries_p\(PartitionScene.months(5, 5)[0])"))
        #expect(!names.contains("journal_entries_p\(PartitionScene.months(-5, -5)[0])"))
        // The parent's privileges and the template's index reach every new child (the primary key comes
        // from the parent through PostgreSQL itself).
        let child = "journal_entries_p\(PartitionScene.months(2, 2)[0])"
        #expect(try scene.rows("SELECT privilege_type FROM information_schema.role_table_grants WHERE table_name = '\(child)' AND grantee = '\(role)' ORDER BY 1") == [["INSERT"], ["SELECT"]])
        let indexes = try scene.rows("SELECT indexdef FROM pg_indexes WHERE tablename = '\(child)' ORDER BY 1").map { $0[0] }
        #expect(indexes.contains { $0.contains("(amount_minor)") } && indexes.contains { $0.contains("UNIQUE") && $0.contains("(id, created_at)") }, "\(indexes)")
        #expect(try scene.rows("SELECT privilege_type FROM information_schema.role_table_grants WHERE table_name = 'journal_entries_default' AND grantee = '\(role)' ORDER BY 1").count == 2)
        let again = try scene.run()
        #expect(again.status == 0 && again.stderr.contains("partitions.maintain finished"), "\(again.stderr)")
        #expect(try scene.children("public.journal_entries").count == names.count, "a second run makes nothing")
        // Rows go where they belong, and the set reads back through the parent.
        try scene.sql("INSERT INTO journal_entries (created_at, amount_minor) VALUES (now(), 100)")
        #expect(try scene.rows("SELECT tableoid::regclass::text FROM journal_entries") == [["journal_entries_p\(PartitionScene.months(0, 0)[0])"]])
    }

    @Test func skippedMonthsAreCaughtUpAndDefaultRowsMovedAndFarFutureRowsCapped() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try scene.sql(PartitionScene.journalEntries)
        // Made six months ago, maintained no more since: the newest child is three months back.
        let old = PartitionScene.months(-6, -3)
        for (index, month) in old.enumerated() where index < old.count - 1 {
            let next = old[index + 1].replacingOccurrences(of: "_", with: "-")
            try scene.sql(
                "CREATE TABLE journal_entries_p\(month) PARTITION OF journal_entries FOR VALUES FROM ('\(month.replacingOccurrences(of: "_", with: "-"))-01 00:00:00+00') TO ('\(next)-01 00:00:00+00')")
        }
        try scene.sql("CREATE TABLE journal_entries_default PARTITION OF journal_entries DEFAULT")
        let lastMonth = PartitionScene.months(-1, -1)[0].replacingOccurrences(of: "_", with: "-")
        try scene.sql(
            """
            INSERT INTO journal_entries (created_at, amount_minor) VALUES
                ('\(lastMonth)-15 10:00:00+00', 1), ('\(lastMonth)-20 10:00:00+00', 2), ('2019-02-03 00:00:00+00', 3), ('2206-05-01 00:00:00+00', 4)
            """)
        try scene.pipeline(Self.monthly + "\nmax_new_per_run: 120")
        let result = try scene.run()
        #expect(result.status == 0, "\(result.stderr)")
        let names = try scene.children("public.journal_entries").map { String($0.split(separator: " ")[0]) }
        #expect(names == (["2019_02"] + PartitionScene.months(-6, 4)).map { "journal_entries_p\($0)" } + ["journal_entries_default"])
        #expect(result.stderr.contains("moved 3"), "\(result.stderr)")
        #expect(result.stderr.contains("1 rows in the default partition lie more than max_new_per_run (120) intervals ahead (2206-05-01"), "\(result.stderr)")
        #expect(try scene.rows("SELECT tableoid::regclass::text, amount_minor FROM journal_entries ORDER BY amount_minor") == [
            ["journal_entries_p\(PartitionScene.months(-1, -1)[0])", "1"], ["journal_entries_p\(PartitionScene.months(-1, -1)[0])", "2"],
            ["journal_entries_p2019_02", "3"], ["journal_entries_default", "4"],
        ])
    }

    @Test(arguments: ["detach", "drop", "archive"])
    func childrenPastTheRetentionGoOnceQuiet(action: String) throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try scene.sql(PartitionScene.journalEntries)
        let start = PartitionScene.months(-8, -8)[0].replacingOccurrences(of: "_", with: "-")
        try scene.pipeline(
            "tables:\n  - { table: public.journal_entries, column: created_at, interval: month, premake: 2, naming: p4, start: \"\(start)-01T00:00:00Z\", retention: \"3 months\", on_expire: \(action), archive_dir: archive }")
        let first = try scene.run()
        #expect(first.status == 0, "\(first.stderr)")
        let oldest = PartitionScene.months(-8, -8)[0]
        try scene.sql("INSERT INTO journal_entries (created_at, amount_minor) VALUES ('\(oldest.replacingOccurrences(of: "_", with: "-"))-02 00:00:00+00', 7), ('\(oldest.replacingOccurrences(of: "_", with: "-"))-03 00:00:00+00', 8)")
        // Written to since the last run: kept. Then quiet: gone.
        let second = try scene.run()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("journal_entries_p\(oldest) is past the retention but was written to since the last run"), "\(second.stderr)")
        let third = try scene.run()
        #expect(third.status == 0, "\(third.stderr)")
        let names = try scene.children("public.journal_entries").map { String($0.split(separator: " ")[0]) }
        // A month goes once its end lies before now − 3 months (as in pg_partman): the fourth month back
        // too, the third stays.
        let expiredMonths = PartitionScene.months(-8, -4)
        for month in expiredMonths { #expect(!names.contains("journal_entries_p\(month)"), "\(month)") }
        #expect(names.contains("journal_entries_p\(PartitionScene.months(-3, -3)[0])"))
        let standing = try scene.rows("SELECT count(*) FROM pg_class WHERE relname = 'journal_entries_p\(oldest)'")[0][0]
        #expect(standing == (action == "detach" ? "1" : "0"))
        if action == "archive" {
            let listing = try ExternalTool.run(["bsdtar", "-xOf", scene.scratch.file("archive/journal_entries_p\(oldest).tar.gz")])
            #expect(listing.status == 0, "\(listing.stderr)")
            let lines = listing.stdout.split(separator: "\n")
            #expect(lines.first == "id,created_at,amount_minor")
            #expect(lines.count == 3, "\(listing.stdout)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scene.scratch.file("archive")).count == expiredMonths.count)
        }
    }

    @Test func longNamesAndZonesFollowPgPartman() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        let long = "ledger_" + String(repeating: "x", count: 53)
        try scene.sql(
            """
            CREATE TABLE public.\(long) (id bigint NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
            CREATE TABLE public.audit_logs (id bigint NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
            CREATE TABLE public.workflow_logs (id bigint NOT NULL, run_at timestamp NOT NULL) PARTITION BY RANGE (run_at)
            """)
        try scene.pipeline(
            """
            tables:
              - { table: public.\(long), column: created_at, interval: month, premake: 1, naming: p4 }
              - { table: public.audit_logs, column: created_at, interval: month, premake: 1 }
              - { table: public.workflow_logs, column: run_at, interval: month, premake: 1 }
            timezone: America/Los_Angeles
            """)
        let result = try scene.run()
        #expect(result.status == 0, "\(result.stderr)")
        let longChildren = try scene.children("public.\(long)").map { String($0.split(separator: " ")[0]) }
        let month = PartitionScene.months(0, 0, zone: "America/Los_Angeles")[0]
        #expect(longChildren.contains(String(long.prefix(54)) + "_p" + month))
        #expect(longChildren.last == String(long.prefix(55)) + "_default")
        #expect(longChildren.allSatisfy { $0.utf8.count <= 63 })
        // A month in Los Angeles starts at 08:00 or 07:00 UTC; p5 names are the first day.
        let audit = try scene.children("public.audit_logs")
        let current = month.replacingOccurrences(of: "_", with: "")
        let line = try #require(audit.first { $0.hasPrefix("audit_logs_p\(current)01 ") })
        #expect(line.contains(" 08:00:00+00') TO ") || line.contains(" 07:00:00+00') TO "), "\(line)")
        // A timestamp without zone gets the wall-clock midnight.
        #expect(try scene.children("public.workflow_logs").contains { $0.hasPrefix("workflow_logs_p\(current)01 FOR VALUES FROM ('\(month.replacingOccurrences(of: "_", with: "-"))-01 00:00:00')") })

        try scene.sql("CREATE TABLE public.nairobi (id bigint NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)")
        try scene.pipeline("tables:\n  - { table: public.nairobi, column: created_at, interval: day, premake: 1 }\ntimezone: Africa/Nairobi", name: "nairobi.yaml")
        let nairobi = try scene.run(name: "nairobi.yaml")
        #expect(nairobi.status == 0, "\(nairobi.stderr)")
        #expect(try scene.children("public.nairobi").dropLast().allSatisfy { $0.contains(" 21:00:00+00') TO (") }, "days start at 21:00 UTC")
    }

    @Test func aTableThatFailsDoesNotStopTheOthers() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try scene.sql(PartitionScene.journalEntries + ";\nCREATE TABLE public.plain (id bigint)")
        try scene.pipeline(
            """
            tables:
              - { table: public.missing, column: created_at, interval: month }
              - { table: public.plain, column: id, interval: month }
              - { table: public.journal_entries, column: created_at, interval: month, premake: 1 }
            """)
        let result = try scene.run()
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("maintenance failed for 2 of 3 tables (the others were maintained): public.missing: there is no table public.missing; public.plain: public.plain is not a partitioned table"), "\(result.stderr)")
        #expect(try scene.children("public.journal_entries").count == 4)
    }

    @Test func sqliteIsRefusedAtValidationAndDryRunShowsTheDDL() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try scene.scratch.write(
            "lite.yaml",
            "name: lite\ndatabase: sqlite:var/lite.db\nstages:\n  - id: maintain\n    uses: partitions.maintain\n    with: { tables: [{ table: t, column: c, interval: month }] }\n")
        let lite = try PipelineProcess.run(["validate", "lite.yaml"], in: scene.scratch.path)
        #expect(lite.status == 78)
        #expect(lite.stderr.contains("partitions.maintain needs PostgreSQL, but the pipeline's database"), "\(lite.stderr)")
        try scene.sql(PartitionScene.journalEntries)
        try scene.pipeline(Self.monthly)
        let dry = try PipelineProcess.run(["run", "maintain.yaml", "--dry-run"], in: scene.scratch.path)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("CREATE TABLE \"public\".\"journal_entries_default\" PARTITION OF \"public\".\"journal_entries\" DEFAULT;"), "\(dry.stdout)")
        #expect(dry.stdout.contains("ALTER TABLE \"public\".\"journal_entries\" ATTACH PARTITION \"public\".\"journal_entries_p\(PartitionScene.months(4, 4)[0])\""))
        #expect(try scene.children("public.journal_entries").isEmpty, "a dry run makes nothing")
        let status = try PipelineProcess.run(["partitions", "status", "maintain.yaml"], in: scene.scratch.path)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.hasPrefix("stage maintain:\npublic.journal_entries: by month on created_at in UTC, 0 children"), "\(status.stdout)")
    }

    /// Another maintainer holds the table's advisory lock: this one waits its retries, then leaves the
    /// table to it (75), doing nothing twice.
    @Test func twoMaintainersAtOnceNeverBothWork() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try scene.sql(PartitionScene.journalEntries)
        let holder = try scene.locator.connect(logger: Logger(handler: SilentLogHandler()))
        defer { holder.close() }
        try holder.executeScript("SELECT pg_advisory_lock(hashtext('pipeline partitions public.journal_entries'))")
        try scene.pipeline(Self.monthly + "\nretries: 1")
        let blocked = try scene.run()
        #expect(blocked.status == 75, "\(blocked.stderr)")
        #expect(blocked.stderr.contains("another maintenance of this table is running; left to it"), "\(blocked.stderr)")
        #expect(try scene.children("public.journal_entries").isEmpty)
        try holder.executeScript("SELECT pg_advisory_unlock_all()")
        #expect(try scene.run().status == 0)
    }

    /// A long transaction holds the parent while a child must be detached: the DETACH waits at most
    /// lock_timeout each try, so an insert made meanwhile goes through; once the transaction ends the
    /// maintenance finishes.
    @Test func aLongTransactionOnTheParentDelaysMaintenanceButNotInserts() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try scene.sql(PartitionScene.journalEntries)
        let start = PartitionScene.months(-8, -8)[0].replacingOccurrences(of: "_", with: "-")
        let config = "tables:\n  - { table: public.journal_entries, column: created_at, interval: month, premake: 1, start: \"\(start)-01T00:00:00Z\", retention: \"3 months\" }\nlock_timeout: 200ms\nretries: 40"
        try scene.pipeline(config)
        #expect(try scene.run().status == 0)
        #expect(try scene.run().status == 0, "the expired children are recorded quiet")
        let reader = try scene.locator.connect(logger: Logger(handler: SilentLogHandler()))
        defer { reader.close() }
        try reader.begin()
        try reader.query("SELECT count(*) FROM journal_entries", [], columns: { _ in }) { _ in }
        let log = scene.scratch.file("maintenance.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let maintenance = Process()
        maintenance.executableURL = URL(fileURLWithPath: PipelineProcess.binary)
        maintenance.arguments = ["run", "maintain.yaml", "--rerun"]
        maintenance.currentDirectoryURL = URL(fileURLWithPath: scene.scratch.path)
        maintenance.standardOutput = FileHandle.nullDevice
        maintenance.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try maintenance.run()
        // Wait until the DETACH has given up at least once, then insert: it must not queue behind it for good.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !((try? String(contentsOfFile: log, encoding: .utf8))?.contains("waited lock_timeout for its locks") ?? false) {
            Thread.sleep(forTimeInterval: 0.05)
        }
        try scene.sql("SET statement_timeout = '20s'; INSERT INTO journal_entries (created_at, amount_minor) VALUES (now(), 1)")
        #expect(maintenance.isRunning, "the maintenance is still waiting for the reader")
        try reader.rollback()
        maintenance.waitUntilExit()
        #expect(maintenance.terminationStatus == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(try scene.rows("SELECT count(*) FROM journal_entries")[0][0] == "1")
        #expect(!(try scene.children("public.journal_entries").contains { $0.hasPrefix("journal_entries_p\(PartitionScene.months(-8, -8)[0].replacingOccurrences(of: "_", with: "")) ") }))
    }
}

/// Side by side with pg_partman 4.7.2 (Debian's postgresql-15-partman): the same table maintained by
/// `partman.create_parent` and by `partitions.maintain` with `naming: p4` gets the same children with
/// the same bounds; and `partitions.maintain` takes over pg_partman's set without changing a name or a bound.
@Suite(.serialized, .timeLimit(.minutes(5))) struct PartitionsPgPartmanTests {
    @Test(arguments: [("monthly", "month"), ("weekly", "week"), ("daily", "day"), ("quarterly", "quarter"), ("yearly", "year")])
    func pgPartmanAndMaintainMakeTheSameChildren(partman: String, interval: String) throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try scene.sql(
            """
            CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman;
            CREATE TABLE public.by_partman (id bigint NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
            CREATE TABLE public.by_pipeline (id bigint NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
            SET timezone = 'UTC';
            SELECT partman.create_parent('public.by_partman', 'created_at', 'native', '\(partman)', p_premake := 4);
            SELECT partman.run_maintenance('public.by_partman')
            """)
        try scene.pipeline("tables:\n  - { table: public.by_pipeline, column: created_at, interval: \(interval), premake: 4, naming: p4 }")
        let result = try scene.run()
        #expect(result.status == 0, "\(result.stderr)")
        let partmanChildren = try scene.children("public.by_partman").map { $0.replacingOccurrences(of: "by_partman", with: "T") }
        let pipelineChildren = try scene.children("public.by_pipeline").map { $0.replacingOccurrences(of: "by_pipeline", with: "T") }
        #expect(partmanChildren.count >= 9)
        #expect(pipelineChildren == partmanChildren)

        // Taking over pg_partman's set: nothing renamed, nothing moved; two more premade like pg_partman would.
        try scene.pipeline("tables:\n  - { table: public.by_partman, column: created_at, interval: \(interval), premake: 6, naming: p4 }", name: "takeover.yaml")
        let takeover = try scene.run(name: "takeover.yaml")
        #expect(takeover.status == 0, "\(takeover.stderr)")
        let after = try scene.children("public.by_partman").map { $0.replacingOccurrences(of: "by_partman", with: "T") }
        #expect(Array(after.dropLast(3)) == Array(partmanChildren.dropLast()), "every child pg_partman made is as it was")
        #expect(after.last == partmanChildren.last, "the same default partition")
        #expect(after.count == partmanChildren.count + 2)
        // pg_partman, asked for premake 6 on a copy, names and bounds the two new children the same way.
        try scene.sql(
            """
            CREATE TABLE public.copy (id bigint NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
            SET timezone = 'UTC';
            SELECT partman.create_parent('public.copy', 'created_at', 'native', '\(partman)', p_premake := 6)
            """)
        let copy = try scene.children("public.copy").map { $0.replacingOccurrences(of: "copy", with: "T") }
        #expect(Array(after.dropLast().suffix(2)) == Array(copy.dropLast().suffix(2)))
    }
}

/// kill -9 anywhere in a maintenance of three tables (five months of days each, rows waiting in their
/// default partitions), run again: the same children and rows as an uninterrupted run.
@Suite(.serialized, .timeLimit(.minutes(6))) struct PartitionsResumeTests {
    static let tables = ["journal_entries", "audit_logs", "workflow_logs"]

    static func reset(_ scene: PartitionScene) throws {
        try? FileManager.default.removeItem(atPath: scene.scratch.file("archive"))
        try? FileManager.default.removeItem(atPath: scene.scratch.file("var"))
        var script = "DROP TABLE IF EXISTS pipeline_partition_activity;"
        for table in tables {
            script += """
                DROP TABLE IF EXISTS public.\(table) CASCADE;
                CREATE TABLE public.\(table) (id bigint NOT NULL, created_at timestamptz NOT NULL, note text) PARTITION BY RANGE (created_at);
                CREATE TABLE public.\(table)_default PARTITION OF public.\(table) DEFAULT;
                INSERT INTO public.\(table) SELECT g, now() - g * interval '1 hour', 'row ' || g FROM generate_series(1, 1500) g;
                """
        }
        try scene.sql(script)
    }

    static func result(_ scene: PartitionScene) throws -> [String: String] {
        var result: [String: String] = [:]
        for table in tables {
            result[table] = try scene.children("public.\(table)").joined(separator: "\n")
            result[table + " rows"] = try scene.rows("SELECT tableoid::regclass::text, count(*) FROM public.\(table) GROUP BY 1 ORDER BY 1").map { $0.joined(separator: " ") }.joined(separator: ",")
        }
        return result
    }

    @Test func killedMaintenanceResumesToTheSameSets() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try scene.pipeline(
            "tables:\n" + Self.tables.map { "  - { table: public.\($0), column: created_at, interval: day, premake: 10, start: \"\(Self.startText)\" }" }.joined(separator: "\n")
                + "\nmax_new_per_run: 1000")
        try Self.reset(scene)
        let killer = KillAndResume(arguments: ["run", "maintain.yaml", "--rerun"], directory: scene.scratch.path)
        let (first, seconds) = try killer.timedRun()
        #expect(first.status == 0, "\(first.stderr)")
        let expected = try Self.result(scene)
        #expect(expected["journal_entries"]?.split(separator: "\n").count ?? 0 > 150)
        #expect(!(expected["journal_entries rows"]?.contains("default") ?? true), "every row moved out of the default")
        try killer.killAtRandomPoints(
            6, seed: 3, duration: seconds, reset: { try Self.reset(scene) },
            check: { kill in
                let resumed = try Self.result(scene)
                for (name, value) in expected { #expect(resumed[name] == value, "kill \(kill): \(name) differs") }
            })
    }

    /// 150 days back.
    static var startText: String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date().addingTimeInterval(-150 * 86_400))
    }
}

/// pipelines/erp-partitions.yaml as its description tells it, on the test server.
@Suite(.serialized, .timeLimit(.minutes(3))) struct PartitionsExampleTests {
    @Test func theExampleMaintainsTheThreeTables() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try FileManager.default.copyItem(atPath: PipelineProcess.packageRoot + "/pipelines/erp-partitions.yaml", toPath: scene.scratch.file("erp.yaml"))
        let environment = ["DATABASE_URL": scene.url]
        let dry = try PipelineProcess.run(["run", "erp.yaml", "--dry-run", "--ignore-window"], in: scene.scratch.path, environment: environment)
        #expect(dry.status == 0, "\(dry.stderr)")
        let run = try PipelineProcess.run(["run", "erp.yaml", "--ignore-window"], in: scene.scratch.path, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        for table in ["journal_entries", "audit_logs", "workflow_logs"] {
            #expect(try scene.children("public.\(table)").count == 10, "\(table)")
        }
        let status = try PipelineProcess.run(["partitions", "status", "erp.yaml"], in: scene.scratch.path, environment: environment)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("public.workflow_logs: by month on run_at in Africa/Nairobi, 9 children"), "\(status.stdout)")
        #expect(status.stdout.contains("next run: nothing to do"), "\(status.stdout)")
    }
}

/// A plain table with `start` becomes a partitioned set: its rows moved interval by interval, its
/// identity and serial sequences carried on, its grants and indexes kept; tables that cannot be
/// converted safely are refused, naming why.
@Suite(.serialized, .timeLimit(.minutes(3))) struct PartitionsConversionTests {
    @Test func aPlainTableBecomesAPartitionedSet() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        let role = "auditor_\(UInt32.random(in: 0...UInt32.max))"
        try scene.sql(
            """
            CREATE TABLE public.ledger (id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT NULL, amount bigint NOT NULL, PRIMARY KEY (id, created_at));
            CREATE INDEX ledger_amount ON public.ledger (amount);
            CREATE TABLE public.events (id bigserial, created_at timestamptz NOT NULL, kind text NOT NULL, PRIMARY KEY (id, created_at));
            CREATE ROLE \(role); GRANT SELECT ON public.ledger TO \(role);
            INSERT INTO public.ledger (created_at, amount) SELECT now() - g * interval '11 hours', g FROM generate_series(1, 500) g;
            INSERT INTO public.events (created_at, kind) SELECT now() - g * interval '13 hours', 'k' || g FROM generate_series(1, 400) g;
            """)
        let start = PartitionScene.months(-10, -10)[0].replacingOccurrences(of: "_", with: "-") + "-01T00:00:00Z"
        try scene.pipeline(
            """
            tables:
              - { table: public.ledger, column: created_at, interval: month, premake: 2, start: "\(start)" }
              - { table: public.events, column: created_at, interval: month, premake: 2, start: "\(start)" }
            """)
        let dry = try PipelineProcess.run(["run", "maintain.yaml", "--dry-run"], in: scene.scratch.path)
        #expect(dry.stdout.contains("public.ledger: a plain table; the next run turns it into a partitioned set:"), "\(dry.stdout)")
        let result = try scene.run()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("500 rows moved in from the plain table"), "\(result.stderr)")
        #expect(try scene.rows("SELECT relkind::text FROM pg_class WHERE oid IN ('public.ledger'::regclass, 'public.events'::regclass)") == [["p"], ["p"]])
        #expect(try scene.rows("SELECT count(*), sum(amount) FROM public.ledger") == [["500", "125250"]])
        #expect(try scene.rows("SELECT count(*) FROM public.ledger_default") == [["0"]])
        #expect(try scene.rows("SELECT to_regclass('public.ledger_unpartitioned') IS NULL, to_regclass('public.events_unpartitioned') IS NULL") == [["true", "true"]])
        // The sequences go on after the moved rows' ids.
        try scene.sql("INSERT INTO public.ledger (created_at, amount) VALUES (now(), 1); INSERT INTO public.events (created_at, kind) VALUES (now(), 'new')")
        #expect(try scene.rows("SELECT max(id) FROM public.ledger") == [["501"]])
        #expect(try scene.rows("SELECT max(id) FROM public.events") == [["401"]])
        #expect(try scene.rows("SELECT privilege_type FROM information_schema.role_table_grants WHERE table_name = 'ledger' AND grantee = '\(role)'") == [["SELECT"]])
        let child = "ledger_p\(PartitionScene.months(-2, -2)[0].replacingOccurrences(of: "_", with: ""))01"
        #expect(try scene.rows("SELECT count(*) FROM pg_indexes WHERE tablename = '\(child)' AND indexdef LIKE '%(amount)%'") == [["1"]])
        #expect(try scene.run().status == 0, "a second run has nothing to convert")
    }

    @Test func tablesThatCannotBeConvertedSafelyAreRefused() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        try scene.sql(
            """
            CREATE TABLE public.accounts (id bigint PRIMARY KEY, opened_at timestamptz NOT NULL);
            CREATE TABLE public.postings (id bigint PRIMARY KEY, account_id bigint REFERENCES public.accounts (id));
            CREATE VIEW public.recent AS SELECT * FROM public.postings
            """)
        try scene.pipeline("tables:\n  - { table: public.accounts, column: opened_at, interval: month, start: \"2026-01-01T00:00:00Z\" }")
        let refused = try scene.run()
        #expect(refused.status == 78, "\(refused.stderr)")
        #expect(refused.stderr.contains("public.accounts cannot be turned into a partitioned set: the foreign key postings_account_id_fkey of postings points at it; its key accounts_pkey does not include opened_at"), "\(refused.stderr)")
        try scene.pipeline("tables:\n  - { table: public.accounts, column: opened_at, interval: month }")
        let plain = try scene.run()
        #expect(plain.stderr.contains("public.accounts is not a partitioned table; give the table a start to turn it into one"), "\(plain.stderr)")
        #expect(try scene.rows("SELECT relkind::text FROM pg_class WHERE oid = 'public.accounts'::regclass") == [["r"]])
    }

    /// kill -9 anywhere in a conversion (the rename, the moves, the drop), run again: every row once, in
    /// the child of its day, and no old table left.
    @Test func killedConversionsResume() throws {
        let scene = try PartitionScene()
        defer { scene.remove() }
        let reset = {
            try? FileManager.default.removeItem(atPath: scene.scratch.file("var"))
            try scene.sql(
                """
                DROP TABLE IF EXISTS public.ledger, public.ledger_unpartitioned CASCADE; DROP TABLE IF EXISTS pipeline_partition_activity;
                CREATE TABLE public.ledger (id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT NULL, amount bigint NOT NULL, PRIMARY KEY (id, created_at));
                INSERT INTO public.ledger (created_at, amount) SELECT now() - g * interval '1 hour', g FROM generate_series(1, 3000) g
                """)
        }
        try reset()
        let start = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-150 * 86_400))
        try scene.pipeline("tables:\n  - { table: public.ledger, column: created_at, interval: day, premake: 3, start: \"\(start)\" }\nmax_new_per_run: 1000")
        let killer = KillAndResume(arguments: ["run", "maintain.yaml", "--rerun"], directory: scene.scratch.path)
        let (first, seconds) = try killer.timedRun()
        #expect(first.status == 0, "\(first.stderr)")
        let check = "SELECT count(*), sum(amount), count(*) FILTER (WHERE tableoid = 'public.ledger_default'::regclass), to_regclass('public.ledger_unpartitioned') IS NULL FROM public.ledger"
        let expected = try scene.rows(check)
        #expect(expected == [["3000", "4501500", "0", "true"]])
        let children = try scene.children("public.ledger")
        try killer.killAtRandomPoints(
            5, seed: 11, duration: seconds, reset: reset,
            check: { kill in
                let rows = try scene.rows(check)
                let resumed = try scene.children("public.ledger")
                #expect(rows == expected, "kill \(kill)")
                #expect(resumed == children, "kill \(kill)")
            })
    }
}
