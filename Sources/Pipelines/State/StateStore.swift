import Foundation

/// Runs, stage runs and checkpoints, kept in SQLite (the default, `var/state.db`) or PostgreSQL so that
/// several machines can share them. Its schema is versioned (`schema_migrations`, family `state`).
public final class StateStore {
    public let locator: DatabaseLocator
    let connection: any DatabaseConnection
    private let logger: Logger

    public init(locator: DatabaseLocator, logger: Logger) throws {
        self.locator = locator
        self.logger = logger
        connection = try locator.connect(logger: logger)
        try MigrationRunner(connection: connection, logger: logger)
            .migrate(family: StateSchema.family, migrations: StateSchema.migrations)
    }

    deinit { connection.close() }

    /// The store, or nil when it is a SQLite file that does not exist yet (nothing has run).
    public static func openIfPresent(locator: DatabaseLocator, logger: Logger) throws -> StateStore? {
        if case .sqlite(let path) = locator, !FileManager.default.fileExists(atPath: path) { return nil }
        return try StateStore(locator: locator, logger: logger)
    }

    // MARK: - Runs

    public func latestRun(identity: String) throws -> RunRecord? {
        try runs(where: "identity = $1", [.text(identity)], limit: 1).first
    }

    public func run(id: String) throws -> RunRecord? {
        try runs(where: "id = $1", [.text(id)], limit: 1).first
    }

    /// The newest runs first, optionally of one pipeline.
    public func recentRuns(pipeline: String?, limit: Int) throws -> [RunRecord] {
        guard let pipeline else { return try runs(where: "1 = 1", [], limit: limit) }
        return try runs(where: "pipeline = $1", [.text(pipeline)], limit: limit)
    }

    /// The latest slot of `series` whose run completed.
    public func lastCompletedSlot(series: String) throws -> String? {
        var slot: String?
        try connection.query(
            "SELECT max(slot) FROM pipeline_runs WHERE series = $1 AND status = 'succeeded'", [.text(series)],
            columns: { _ in }
        ) { row in slot = row.string(0) }
        return slot
    }

    /// The status of the latest run of each slot of `series` after `slot` (all slots when nil), by slot.
    public func slotStatuses(series: String, after slot: String?, limit: Int) throws -> [String: RunStatus] {
        var statuses: [String: RunStatus] = [:]
        try connection.query(
            """
            SELECT slot, status FROM pipeline_runs WHERE series = $1 AND slot > $2
            ORDER BY slot DESC, started_at DESC, id DESC LIMIT \(max(limit, 1))
            """, [.text(series), .text(slot ?? "")], columns: { _ in }
        ) { row in
            guard let slot = row.string(0), statuses[slot] == nil else { return }
            statuses[slot] = RunStatus(rawValue: row.string(1) ?? "") ?? .failed
        }
        return statuses
    }

    func insert(_ run: RunRecord) throws {
        try connection.execute(
            """
            INSERT INTO pipeline_runs (id, identity, instance, pipeline, file, params, status, resumed_from,
                started_at, heartbeat_at, pid, host, series, slot)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            """,
            [
                .text(run.id), .text(run.identity), .text(run.instance), .text(run.pipeline), .text(run.file),
                .text(Self.json(run.params)), .text(run.status.rawValue), run.resumedFrom.map(SQLValue.text) ?? .null,
                .text(StateTime.text(run.startedAt)), .text(StateTime.text(run.heartbeatAt)),
                .integer(Int64(run.pid)), .text(run.host), run.series.map(SQLValue.text) ?? .null,
                run.slot.map(SQLValue.text) ?? .null,
            ])
    }

    func finish(runID: String, status: RunStatus, error: String?, at time: Date = Date()) throws {
        try connection.execute(
            "UPDATE pipeline_runs SET status = $1, error = $2, finished_at = $3, heartbeat_at = $3 WHERE id = $4",
            [.text(status.rawValue), error.map(SQLValue.text) ?? .null, .text(StateTime.text(time)), .text(runID)])
    }

    func heartbeat(runID: String) throws {
        try connection.execute(
            "UPDATE pipeline_runs SET heartbeat_at = $1 WHERE id = $2", [.text(StateTime.text(Date())), .text(runID)])
    }

    private func runs(where condition: String, _ parameters: [SQLValue], limit: Int) throws -> [RunRecord] {
        var records: [RunRecord] = []
        try connection.query(
            """
            SELECT id, identity, instance, pipeline, file, params, status, resumed_from, started_at, finished_at,
                heartbeat_at, pid, host, error, series, slot
            FROM pipeline_runs WHERE \(condition) ORDER BY started_at DESC, id DESC LIMIT \(max(limit, 1))
            """, parameters, columns: { _ in }
        ) { row in
            records.append(
                RunRecord(
                    id: row.string(0) ?? "", identity: row.string(1) ?? "", instance: row.string(2) ?? "",
                    pipeline: row.string(3) ?? "", file: row.string(4) ?? "",
                    params: Self.params(row.string(5)), status: RunStatus(rawValue: row.string(6) ?? "") ?? .failed,
                    resumedFrom: row.string(7), startedAt: StateTime.date(row.string(8)) ?? Date.distantPast,
                    finishedAt: StateTime.date(row.string(9)), heartbeatAt: StateTime.date(row.string(10)) ?? Date.distantPast,
                    pid: Int(row.int64(11) ?? 0), host: row.string(12) ?? "", error: row.string(13),
                    series: row.string(14), slot: row.string(15)))
        }
        return records
    }

    // MARK: - Stage runs

    func startStage(runID: String, stageID: String, kind: String, at time: Date) throws {
        try connection.execute(
            """
            INSERT INTO pipeline_stage_runs (run_id, stage_id, kind, status, attempts, started_at)
            VALUES ($1, $2, $3, 'running', 1, $4)
            """, [.text(runID), .text(stageID), .text(kind), .text(StateTime.text(time))])
    }

    /// Records how a stage run ended, with its counters (in `declared` order), in one transaction.
    func recordStage(
        runID: String, stageID: String, status: StageRunStatus, attempts: Int, counts: StageCounts,
        declared: [Counter], milliseconds: Int64?, error: String?, at time: Date = Date()
    ) throws {
        try connection.inTransaction {
            try connection.execute(
                """
                UPDATE pipeline_stage_runs SET status = $1, attempts = $2, finished_at = $3, milliseconds = $4, error = $5
                WHERE run_id = $6 AND stage_id = $7
                """,
                [
                    .text(status.rawValue), .integer(Int64(attempts)), .text(StateTime.text(time)),
                    milliseconds.map(SQLValue.integer) ?? .null, error.map(SQLValue.text) ?? .null, .text(runID),
                    .text(stageID),
                ])
            try connection.execute(
                "DELETE FROM pipeline_stage_counters WHERE run_id = $1 AND stage_id = $2", [.text(runID), .text(stageID)])
            for (position, entry) in counts.ordered(by: declared).enumerated() {
                try connection.execute(
                    """
                    INSERT INTO pipeline_stage_counters (run_id, stage_id, position, name, unit, value)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    """,
                    [
                        .text(runID), .text(stageID), .integer(Int64(position + 1)), .text(entry.counter.name),
                        .text(entry.counter.unit), .integer(entry.value),
                    ])
            }
        }
    }

    public func stageRuns(runID: String) throws -> [StageRunRecord] {
        var records: [StageRunRecord] = []
        var instance = ""
        try connection.query(
            """
            SELECT s.stage_id, s.kind, s.status, s.attempts, s.started_at, s.finished_at, s.milliseconds, s.error,
                r.instance
            FROM pipeline_stage_runs s JOIN pipeline_runs r ON r.id = s.run_id
            WHERE s.run_id = $1 ORDER BY s.started_at, s.stage_id
            """, [.text(runID)], columns: { _ in }
        ) { row in
            instance = row.string(8) ?? ""
            records.append(
                StageRunRecord(
                    runID: runID, stageID: row.string(0) ?? "", kind: row.string(1) ?? "",
                    status: StageRunStatus(rawValue: row.string(2) ?? "") ?? .failed, attempts: Int(row.int64(3) ?? 1),
                    startedAt: StateTime.date(row.string(4)) ?? Date.distantPast, finishedAt: StateTime.date(row.string(5)),
                    milliseconds: row.int64(6), counts: [], outputs: StageOutputs(), error: row.string(7)))
        }
        for index in records.indices {
            records[index].counts = try counts(runID: runID, stageID: records[index].stageID)
            records[index].outputs = try stageState(instance: instance, stageID: records[index].stageID)?.outputs ?? StageOutputs()
        }
        return records
    }

    /// A stage run's counters in declaration order.
    func counts(runID: String, stageID: String) throws -> [RecordedCount] {
        var counts: [RecordedCount] = []
        try connection.query(
            "SELECT name, unit, value FROM pipeline_stage_counters WHERE run_id = $1 AND stage_id = $2 ORDER BY position",
            [.text(runID), .text(stageID)], columns: { _ in }
        ) { row in counts.append(RecordedCount(name: row.string(0) ?? "", unit: row.string(1) ?? "", value: row.int64(2) ?? 0)) }
        return counts
    }

    /// The counters of the run that completed a stage of `instance`, for `plan`.
    public func completedCounts(instance: String, stageID: String) throws -> [RecordedCount] {
        var runID: String?
        try connection.query(
            """
            SELECT s.run_id FROM pipeline_stage_runs s JOIN pipeline_runs r ON r.id = s.run_id
            WHERE r.instance = $1 AND s.stage_id = $2 AND s.status = 'succeeded'
            ORDER BY s.started_at DESC LIMIT 1
            """, [.text(instance), .text(stageID)], columns: { _ in }
        ) { runID = $0.string(0) }
        guard let runID else { return [] }
        return try counts(runID: runID, stageID: stageID)
    }

    // MARK: - Stage states, checkpoints and outputs

    /// Whether the stage finished in this logical run, its last checkpoint, and the outputs it recorded.
    func stageState(instance: String, stageID: String) throws -> StageState? {
        var state: StageState?
        try connection.query(
            "SELECT status, checkpoint, outputs FROM pipeline_stage_states WHERE instance = $1 AND stage_id = $2",
            [.text(instance), .text(stageID)], columns: { _ in }
        ) { row in
            state = StageState(
                complete: row.string(0) == "succeeded", checkpoint: row.string(1), outputs: Self.outputs(row.string(2)))
        }
        return state
    }

    /// Saves a stage's state; a complete stage's outputs are recorded in the same statement.
    func saveStageState(
        instance: String, stageID: String, complete: Bool, checkpoint: String?, outputs: StageOutputs = StageOutputs()
    ) throws {
        try connection.execute(
            """
            INSERT INTO pipeline_stage_states (instance, stage_id, status, checkpoint, updated_at, outputs)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (instance, stage_id) DO UPDATE
            SET status = excluded.status, checkpoint = excluded.checkpoint, updated_at = excluded.updated_at,
                outputs = excluded.outputs
            """,
            [
                .text(instance), .text(stageID), .text(complete ? "succeeded" : "running"),
                checkpoint.map(SQLValue.text) ?? .null, .text(StateTime.text(Date())),
                outputs.isEmpty ? .null : .text(Self.json(outputs.values)),
            ])
    }

    // MARK: - Events

    /// Records an event once: a second event with the same id (raised again by a resumed run) is ignored.
    func recordEvent(_ event: RecordedEvent, instance: String) throws {
        try connection.execute(
            """
            INSERT INTO pipeline_stage_events (id, run_id, instance, stage_id, name, payload, raised_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING
            """,
            [
                .text(event.id), .text(event.runID), .text(instance), .text(event.stageID), .text(event.name),
                .text(event.payload), .text(event.raisedAt),
            ])
    }

    /// The events recorded by a run, in the order they were raised.
    public func events(runID: String) throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        try connection.query(
            """
            SELECT id, stage_id, name, payload, raised_at FROM pipeline_stage_events WHERE run_id = $1
            ORDER BY raised_at, id
            """, [.text(runID)], columns: { _ in }
        ) { row in
            events.append(
                RecordedEvent(
                    id: row.string(0) ?? "", runID: runID, stageID: row.string(1) ?? "", name: row.string(2) ?? "",
                    payload: row.string(3) ?? "null", raisedAt: row.string(4) ?? ""))
        }
        return events
    }

    // MARK: - JSON

    static func json<Value: Encodable>(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func outputs(_ text: String?) -> StageOutputs {
        guard let text, let decoded = try? JSONDecoder().decode([String: RecordedOutput].self, from: Data(text.utf8)) else {
            return StageOutputs()
        }
        return StageOutputs(decoded)
    }

    static func params(_ text: String?) -> [String: String] {
        guard let text, let decoded = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            return [:]
        }
        return decoded
    }
}
