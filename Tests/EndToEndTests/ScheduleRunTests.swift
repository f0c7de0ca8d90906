import Foundation
import Pipelines
import Testing

/// Scheduled runs through the binary with a fixed clock (`--now`): windows, catch-up after downtime,
/// overlapping starts, and an interrupted slot resumed by the next timer tick.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ScheduleRunTests {
    /// Every 30 minutes in Los Angeles business hours; each run records its slot and param.
    static let pollSchedule = """
        every: 30m
          timezone: America/Los_Angeles
          window: { days: Mon-Fri, hours: "09:00-19:00" }
          params: { day: "${SCHEDULED_DATE}" }
        """

    /// Each run records its pipeline and slot in `polls`; by default every 30 minutes in Los Angeles
    /// business hours.
    static func pollPipeline(
        in scratch: Scratch, catchUp: String = "latest", name: String = "poll", file: String = "poll.yaml",
        state: String = "sqlite:var/state.db", schedule: String = pollSchedule
    ) throws {
        try scratch.write(
            file,
            """
            name: \(name)
            state: \(state)
            params: { day: "2000-01-01" }
            schedule:
              \(schedule)
              catch_up: \(catchUp)
            stages:
              - id: note
                uses: sql.run
                with:
                  sql: "CREATE TABLE IF NOT EXISTS polls (n INTEGER PRIMARY KEY, pipeline TEXT, day TEXT, slot TEXT); INSERT INTO polls (pipeline, day, slot) VALUES ('\(name)', '${day}', '${SCHEDULED_TIME}')"
            """)
    }

    static func polls(_ scratch: Scratch) throws -> [String] {
        try Inspect.rows(.sqlite(path: scratch.file("var/store.db")), "SELECT pipeline, slot FROM polls ORDER BY n")
            .map { "\($0[0] ?? "") \($0[1] ?? "")" }
    }

    static func run(_ arguments: [String], _ scratch: Scratch) throws -> PipelineProcess.Result {
        try PipelineProcess.run(arguments, in: scratch.path)
    }

    @Test func outsideItsWindowARunExitsZeroWithANoticeAndTouchesNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.pollPipeline(in: scratch)
        // Saturday 5 December 2026, 10:00 in Los Angeles.
        let result = try Self.run(["run", "poll.yaml", "--now", "2026-12-05T10:00:00-08:00"], scratch)
        #expect(result.status == 0)
        #expect(result.stderr.contains(
            "Sat 2026-12-05 10:00 -08:00 is outside the window (Mon,Tue,Wed,Thu,Fri 09:00-19:00) of poll's schedule; the next slot is Mon 2026-12-07 09:00 -08:00"))
        #expect(!scratch.exists("var/store.db"))
        // Friday 19:00 is outside too: the window's end is exclusive.
        #expect(try Self.run(["run", "poll.yaml", "--now", "2026-12-04T19:00:00-08:00"], scratch).stderr.contains("outside the window"))
        let forced = try Self.run(["run", "poll.yaml", "--now", "2026-12-05T10:00:00-08:00", "--ignore-window"], scratch)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try Self.polls(scratch) == ["poll 2026-12-05T10:00:00-08:00"])
    }

    @Test func aSlotRunsOnceAndItsIdentityIsTheSlot() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.pollPipeline(in: scratch)
        #expect(try Self.run(["run", "poll.yaml", "--now", "2026-12-07T10:05:00-08:00"], scratch).status == 0)
        let again = try Self.run(["run", "poll.yaml", "--now", "2026-12-07T10:25:00-08:00"], scratch)
        #expect(again.status == 0)
        #expect(again.stderr.contains("poll SCHEDULED_TIME=2026-12-07T18:00:00Z day=2026-12-07 already completed"))
        #expect(try Self.run(["due", "poll.yaml", "--now", "2026-12-07T10:26:00-08:00"], scratch).stderr.isEmpty)
        #expect(try Self.run(["run", "poll.yaml", "--now", "2026-12-07T10:31:00-08:00"], scratch).status == 0)
        #expect(try Self.polls(scratch) == ["poll 2026-12-07T10:00:00-08:00", "poll 2026-12-07T10:30:00-08:00"])
        let slot = try Self.run(["run", "poll.yaml", "--slot", "2026-12-01T18:00:00Z"], scratch)
        #expect(slot.status == 0)
        #expect(try Self.polls(scratch).last == "poll 2026-12-01T10:00:00-08:00")
        let notASlot = try Self.run(["run", "poll.yaml", "--slot", "2026-12-01T18:10:00Z"], scratch)
        #expect(notASlot.status == 78)
        #expect(notASlot.stderr.contains("2026-12-01T18:10:00Z is not a slot of this schedule"))
    }

    @Test(arguments: [
        ("latest", "2026-12-07T12:10:00-08:00", ["poll 2026-12-07T12:00:00-08:00"]),
        ("all", "2026-12-07T12:10:00-08:00", [
            "poll 2026-12-07T10:30:00-08:00", "poll 2026-12-07T11:00:00-08:00", "poll 2026-12-07T11:30:00-08:00",
            "poll 2026-12-07T12:00:00-08:00",
        ]),
        ("none", "2026-12-07T12:05:00-08:00", ["poll 2026-12-07T12:00:00-08:00"]),
        ("none", "2026-12-07T12:20:00-08:00", []),
    ])
    func catchUpAfterDowntime(policy: String, now: String, expected: [String]) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.pollPipeline(in: scratch, catchUp: policy)
        #expect(try Self.run(["run", "poll.yaml", "--now", "2026-12-07T10:00:00-08:00"], scratch).status == 0)
        // Down from 10:10 to `now`: the timers of 10:30 … 12:00 never fired.
        let result = try Self.run(["due", "poll.yaml", "--now", now], scratch)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Self.polls(scratch) == ["poll 2026-12-07T10:00:00-08:00"] + expected)
        if policy == "none" && expected.isEmpty {
            #expect(result.stderr.contains("the slot Mon 2026-12-07 12:00 -08:00 was missed by more than its grace of 10m and is skipped (catch_up: none)"))
        }
        if policy == "latest" {
            #expect(result.stderr.contains("3 missed slots since the last completed one (Mon 2026-12-07 10:30 -08:00 onwards) skipped (catch_up: latest)"))
        }
        let shown = try Self.run(["schedule", "show", "poll.yaml", "--now", now, "--count", "2"], scratch)
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("last completed slot: Mon 2026-12-07 "))
        #expect(shown.stdout.contains("due at Mon 2026-12-07 \(now.dropFirst(11).prefix(5)) -08:00: nothing"))
        // Slots after the last completed one that never ran are listed.
        #expect(shown.stdout.contains("  Mon 2026-12-07 11:00 -08:00   2026-12-07T19:00:00Z   not run") == expected.isEmpty)
    }

    @Test func slotsAreFoundInAPostgreSQLStateStoreToo() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.pollPipeline(in: scratch, catchUp: "all", state: try TestDatabase.postgresURL())
        #expect(try Self.run(["run", "poll.yaml", "--now", "2026-12-07T10:00:00-08:00"], scratch).status == 0)
        #expect(try Self.run(["due", "poll.yaml", "--now", "2026-12-07T11:05:00-08:00"], scratch).status == 0)
        #expect(try Self.run(["due", "poll.yaml", "--now", "2026-12-07T11:06:00-08:00"], scratch).stderr.isEmpty)
        #expect(try Self.polls(scratch) == [
            "poll 2026-12-07T10:00:00-08:00", "poll 2026-12-07T10:30:00-08:00", "poll 2026-12-07T11:00:00-08:00",
        ])
    }

    @Test func dueRunsTheSlotsOfSeveralFilesOldestFirstAndIsQuietWhenNothingIsDue() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.pollPipeline(in: scratch, name: "poll")
        try Self.pollPipeline(
            in: scratch, name: "nightly", file: "nightly.yaml", schedule: "at: \"11:45\"\n  timezone: America/Los_Angeles")
        let now = "2026-12-07T12:01:00-08:00"
        #expect(try Self.run(["due", "poll.yaml", "nightly.yaml", "--now", now], scratch).status == 0)
        #expect(try Self.polls(scratch) == ["nightly 2026-12-07T11:45:00-08:00", "poll 2026-12-07T12:00:00-08:00"])
        let quiet = try Self.run(["due", "poll.yaml", "nightly.yaml", "--now", now], scratch)
        #expect(quiet.status == 0)
        #expect(quiet.stderr.isEmpty && quiet.stdout.isEmpty)
        let unscheduled = try Self.run(["due", "\(fixtures)/../pipelines/demo.yaml"], scratch)
        #expect(unscheduled.status == 78)
        #expect(unscheduled.stderr.contains("has no 'schedule'"))
    }

    /// A daily import big enough to be caught in the middle.
    static func importPipeline(in scratch: Scratch) throws {
        try TestData.writeRows(RunControlTests.rows, to: scratch.file("rows.csv"))
        try scratch.write(
            "nightly.yaml",
            """
            name: nightly
            schedule: { at: "02:00", timezone: America/Los_Angeles }
            stages:
              - id: load
                uses: table.import
                chunk_size: 200
                with: { file: rows.csv, table: items, create: true }
            """)
    }

    @Test func aSecondTimerIntoARunningSlotExits75AndDueSkipsIt() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.importPipeline(in: scratch)
        let now = "2026-12-07T02:00:01-08:00"
        let running = try PipelineProcess.start(["run", "nightly.yaml", "--now", now], in: scratch.path)
        defer { running.process.waitUntilExit() }
        let store = DatabaseLocator.sqlite(path: scratch.file("var/store.db"))
        try #require(RunControlTests.wait(upTo: 30) { RunControlTests.hasCheckpoint(store) })
        let (second, due) = try RunControlTests.whilePaused(running, state: scratch.file("var/state.db")) {
            (
                try Self.run(["run", "nightly.yaml", "--now", "2026-12-07T02:00:02-08:00"], scratch),
                try Self.run(["due", "nightly.yaml", "--now", "2026-12-07T02:01:00-08:00"], scratch)
            )
        }
        #expect(second.status == 75)
        #expect(second.stderr.contains("nightly SCHEDULED_TIME=2026-12-07T10:00:00Z is already running (run "))
        #expect(due.status == 0)
        #expect(due.stderr.isEmpty)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 0)
        #expect(try Inspect.rows(store, "SELECT count(*) FROM items") == [["\(RunControlTests.rows)"]])
    }

    @Test func anInterruptedSlotIsResumedByTheNextTimerTickBeforeTheNextSlot() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.importPipeline(in: scratch)
        let store = DatabaseLocator.sqlite(path: scratch.file("var/store.db"))
        let running = try PipelineProcess.start(["run", "nightly.yaml", "--now", "2026-12-07T02:00:00-08:00"], in: scratch.path)
        try #require(RunControlTests.wait(upTo: 30) { RunControlTests.hasCheckpoint(store) })
        kill(running.process.processIdentifier, SIGKILL)
        running.process.waitUntilExit()
        // The next day's timer: the killed slot resumes first, then the day's own slot runs.
        let next = try Self.run(["run", "nightly.yaml", "--now", "2026-12-08T02:00:00-08:00"], scratch)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("running the resume slot Mon 2026-12-07 02:00 -08:00 of nightly"))
        #expect(next.stderr.contains("died; resuming it"))
        #expect(try Inspect.rows(store, "SELECT count(*), count(DISTINCT id) FROM items") == [
            ["\(2 * RunControlTests.rows)", "\(RunControlTests.rows)"]
        ])
        let state = DatabaseLocator.sqlite(path: scratch.file("var/state.db"))
        #expect(try Inspect.rows(state, "SELECT slot, status, resumed_from IS NOT NULL FROM pipeline_runs ORDER BY started_at") == [
            ["2026-12-07T10:00:00Z", "interrupted", "0"], ["2026-12-07T10:00:00Z", "succeeded", "1"],
            ["2026-12-08T10:00:00Z", "succeeded", "0"],
        ])
    }

    @Test func theScheduledExamplesRun() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for name in ["demo", "nightly-stock", "tracking-poll"] {
            let text = try String(contentsOfFile: PipelineProcess.packageRoot + "/pipelines/\(name).yaml", encoding: .utf8)
            try scratch.write("pipelines/\(name).yaml", text)
        }
        try FileManager.default.copyItem(atPath: fixtures, toPath: scratch.file("fixtures"))
        let folder = scratch.file("pipelines")
        #expect(try PipelineProcess.run(["run", "demo.yaml"], in: folder).status == 0)
        let nightly = try PipelineProcess.run(["run", "nightly-stock.yaml", "--now", "2026-12-08T02:00:03-08:00"], in: folder)
        #expect(nightly.status == 0, "\(nightly.stderr)")
        #expect(try scratch.read("pipelines/out/stock-differences-2026-12-08.csv") == """
            sku,stored,counted
            A44223,120,5
            B0754345,40,7
            C0002341,7,118
            L2201316,0,40
            L2201508,3,2
            Z9999,,4

            """)
        let events = try scratch.read("pipelines/var/events.jsonl").split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(events.map { $0["type"] as? String } == ["run.completed"])
        #expect((events.first?["params"] as? [String: String])?["day"] == "2026-12-08")
        #expect(try scratch.read("pipelines/var/metrics/pipeline_nightly_stock.prom").contains("pipeline_last_run_success{pipeline=\"nightly-stock\"} 1"))
        let saturday = try PipelineProcess.run(["run", "tracking-poll.yaml", "--now", "2026-12-12T10:05:00-08:00"], in: folder)
        #expect(saturday.status == 0 && saturday.stderr.contains("outside the window"))
        let poll = try PipelineProcess.run(["run", "tracking-poll.yaml", "--now", "2026-12-07T10:05:00-08:00"], in: folder)
        #expect(poll.status == 0, "\(poll.stderr)")
        #expect(try scratch.read("pipelines/out/shipment-status.csv").hasPrefix("order_code,carrier,tracking_number,status,status_at\nT1001,UPS,"))
        #expect(try Inspect.rows(.sqlite(path: scratch.file("pipelines/var/store.db")), "SELECT DISTINCT polled_at FROM shipment_status") == [
            ["2026-12-07T18:00:00Z"]
        ])
    }
}
