import Foundation
import Testing

@testable import Pipelines

/// The engine's side of the contract: outputs handed on (also from the state store on a resume), counters
/// and events recorded, undeclared counters refused.
@Suite(.timeLimit(.minutes(2))) struct StageEngineTests {
    let yaml = """
        name: contract
        stages:
          - id: make
            uses: test.produce
            with: { path: things.txt, count: 4 }
          - id: use
            uses: test.consume
            with: { source: make, file: "${stages.make.outputs.path}", fail_while: stop }
        """

    func withFolder(_ body: (String) throws -> Void) throws {
        let folder = try LanguageFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder.path)
    }

    @Test func outputsPassToLaterStagesAndComeBackFromTheStateStoreOnAResume() throws {
        try withFolder { folder in
            let pipeline = try ContractKinds.load(yaml, in: folder)
            let stop = folder + "/stop"
            FileManager.default.createFile(atPath: stop, contents: nil)
            let first = PipelineEngine(pipeline: pipeline, logger: Logger(handler: SilentLogHandler()))
            #expect(throws: PipelineError.self) { _ = try first.run(RunOptions()) }
            // The consumer now runs; the producer, complete, is skipped and its outputs come from the state store.
            try FileManager.default.removeItem(atPath: stop)
            let handler = RecordingLogHandler()
            let summary = try PipelineEngine(pipeline: pipeline, logger: Logger(handler: handler)).run(RunOptions())
            #expect(summary.resumed)
            #expect(summary.stages.map(\.status) == [.complete, .succeeded])
            #expect(summary.stages[0].outputs[ContractKinds.pathOutput]?.path == folder + "/things.txt")
            #expect(summary.stages[1].counts.map(\.value) == [4])
            #expect(handler.events.contains { $0.event == "stage.skipped" && $0.stage == "make" })
            let finished = try #require(handler.events.first { $0.event == "stage.finished" && $0.stage == "use" })
            #expect(finished.counts.map(\.0) == ["consumed"])
            #expect(finished.counts.map(\.1) == [4])

            let store = try StateStore(locator: pipeline.state, logger: Logger(handler: SilentLogHandler()))
            let runs = try store.recentRuns(pipeline: "contract", limit: 5)
            #expect(runs.map(\.status) == [.succeeded, .failed])
            let failed = try store.stageRuns(runID: runs[1].id)
            #expect(failed.map(\.counts) == [[RecordedCount(name: "made", unit: "things", value: 4)], [RecordedCount(name: "consumed", unit: "things", value: 0)]])
            #expect(failed[0].outputs["count"] == RecordedOutput(type: .number, text: "4"))
            #expect(failed[0].outputs["info"]?.text == #"{"kind":"things"}"#)
            let events = try store.events(runID: runs[1].id)
            #expect(events.map(\.name) == ["things.made"])
            #expect(events.first?.payload == #"{"count":4}"#)
            #expect(try store.events(runID: runs[0].id).isEmpty)

            let report = try String(contentsOfFile: "\(folder)/var/runs/\(runs[1].id).json", encoding: .utf8)
            #expect(report.contains(#""payload" : {"#))
            #expect(report.contains(#""made" : 4"#))
            #expect(report.contains(#""started_at""#))
        }
    }

    @Test func plansShowDeclaredAndRecordedOutputs() throws {
        try withFolder { folder in
            let pipeline = try ContractKinds.load(yaml, in: folder)
            let engine = PipelineEngine(pipeline: pipeline, logger: Logger(handler: SilentLogHandler()))
            let plan = engine.plan()
            #expect(plan[0].outputs.map(\.name) == ["path", "count", "info"])
            #expect(plan[1].effects.reads == ["what the outputs of make name, once they are recorded"])
            _ = try engine.run(RunOptions())
            let status = try engine.resumeStatus()
            #expect(status.outputs["make"]?["count"]?.text == "4")
            #expect(status.counts["use"] == [RecordedCount(name: "consumed", unit: "things", value: 4)])
        }
    }

    @Test func aCounterTheKindDoesNotDeclareIsABug() throws {
        try withFolder { folder in
            let pipeline = try ContractKinds.load("name: liar\nstages:\n  - id: lie\n    uses: test.liar\n", in: folder)
            do {
                _ = try PipelineEngine(pipeline: pipeline, logger: Logger(handler: SilentLogHandler())).run(RunOptions())
                Issue.record("expected a failure")
            } catch let error as PipelineError {
                #expect(error.code == .internal)
                #expect(error.message.contains("reported counters it does not declare: invented"))
            }
        }
    }

    @Test func theStateStoreMigratesRecordedCountsToOpenCounters() throws {
        try withFolder { folder in
            let connection = try DatabaseLocator.sqlite(path: folder + "/state.db").connect(logger: Logger(handler: SilentLogHandler()))
            defer { connection.close() }
            let runner = MigrationRunner(connection: connection, logger: Logger(handler: SilentLogHandler()))
            try runner.migrate(family: StateSchema.family, migrations: [StateSchema.migrations[0]])
            try connection.executeScript(
                """
                INSERT INTO pipeline_runs (id, identity, instance, pipeline, file, params, status, started_at, heartbeat_at, pid, host)
                VALUES ('r1', 'i', 'i.1', 'p', 'p.yaml', '{}', 'succeeded', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1, 'h');
                INSERT INTO pipeline_stage_runs (run_id, stage_id, kind, status, attempts, started_at, read_rows, written_rows, rejected_rows)
                VALUES ('r1', 'load', 'table.import', 'succeeded', 1, '2026-01-01T00:00:00.000Z', 12, 10, 2);
                """)
            #expect(try runner.migrate(family: StateSchema.family, migrations: StateSchema.migrations) == [2, 3, 4])
            let store = try StateStore(locator: .sqlite(path: folder + "/state.db"), logger: Logger(handler: SilentLogHandler()))
            #expect(
                try store.stageRuns(runID: "r1").first?.counts == [
                    RecordedCount(name: "read", unit: "rows", value: 12), RecordedCount(name: "written", unit: "rows", value: 10),
                    RecordedCount(name: "rejected", unit: "rows", value: 2),
                ])
            // Runs from before schedules belong to no slot.
            let old = try #require(try store.run(id: "r1"))
            #expect(old.series == nil && old.slot == nil && old.status == .succeeded)
        }
    }
}
