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

    func insert(_ run: RunRecord) throws {
        try connection.execute(
            """
            INSERT INTO pipeline_runs (id, identity, instance, pipeline, file, params, status, resumed_from,
                started_at, heartbeat_at, pid, host)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """,
            [
                .text(run.id), .text(run.identity), .text(run.instance), .text(run.pipeline), .text(run.file),
                .text(Self.json(run.params)), .text(run.status.rawValue), run.resumedFrom.map(SQLValue.text) ?? .null,
                .text(StateTime.text(run.startedAt)), .text(StateTime.text(run.heartbeatAt)),
                .integer(Int64(run.pid)), .text(run.host),
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
                heartbeat_at, pid, host, error
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
                    pid: Int(row.int64(11) ?? 0), host: row.string(12) ?? "", error: row.string(13)))
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

    func recordStage(
        runID: String, stageID: String, status: StageRunStatus, attempts: Int, outcome: StageOutcome,
        milliseconds: Int64?, error: String?, at time: Date = Date()
    ) throws {
        try connection.execute(
            """
            UPDATE pipeline_stage_runs SET status = $1, attempts = $2, finished_at = $3, milliseconds = $4,
                read_rows = $5, written_rows = $6, rejected_rows = $7, skipped_rows = $8, error = $9
            WHERE run_id = $10 AND stage_id = $11
            """,
            [
                .text(status.rawValue), .integer(Int64(attempts)), .text(StateTime.text(time)),
                milliseconds.map(SQLValue.integer) ?? .null, .integer(outcome.read), .integer(outcome.written),
                .integer(outcome.rejected), .integer(outcome.skipped), error.map(SQLValue.text) ?? .null,
                .text(runID), .text(stageID),
            ])
    }

    public func stageRuns(runID: String) throws -> [StageRunRecord] {
        var records: [StageRunRecord] = []
        try connection.query(
            """
            SELECT stage_id, kind, status, attempts, started_at, finished_at, milliseconds, read_rows, written_rows,
                rejected_rows, skipped_rows, error
            FROM pipeline_stage_runs WHERE run_id = $1 ORDER BY started_at, stage_id
            """, [.text(runID)], columns: { _ in }
        ) { row in
            records.append(
                StageRunRecord(
                    runID: runID, stageID: row.string(0) ?? "", kind: row.string(1) ?? "",
                    status: StageRunStatus(rawValue: row.string(2) ?? "") ?? .failed, attempts: Int(row.int64(3) ?? 1),
                    startedAt: StateTime.date(row.string(4)) ?? Date.distantPast, finishedAt: StateTime.date(row.string(5)),
                    milliseconds: row.int64(6),
                    outcome: StageOutcome(
                        read: row.int64(7) ?? 0, written: row.int64(8) ?? 0, rejected: row.int64(9) ?? 0,
                        skipped: row.int64(10) ?? 0),
                    error: row.string(11)))
        }
        return records
    }

    // MARK: - Stage states and checkpoints

    /// Whether the stage finished in this logical run, and its last checkpoint.
    func stageState(instance: String, stageID: String) throws -> (complete: Bool, checkpoint: String?)? {
        var state: (Bool, String?)?
        try connection.query(
            "SELECT status, checkpoint FROM pipeline_stage_states WHERE instance = $1 AND stage_id = $2",
            [.text(instance), .text(stageID)], columns: { _ in }
        ) { row in state = (row.string(0) == "succeeded", row.string(1)) }
        return state
    }

    func saveStageState(instance: String, stageID: String, complete: Bool, checkpoint: String?) throws {
        try connection.execute(
            """
            INSERT INTO pipeline_stage_states (instance, stage_id, status, checkpoint, updated_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (instance, stage_id) DO UPDATE
            SET status = excluded.status, checkpoint = excluded.checkpoint, updated_at = excluded.updated_at
            """,
            [
                .text(instance), .text(stageID), .text(complete ? "succeeded" : "running"),
                checkpoint.map(SQLValue.text) ?? .null, .text(StateTime.text(Date())),
            ])
    }

    // MARK: - JSON

    static func json(_ params: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(params)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func params(_ text: String?) -> [String: String] {
        guard let text, let decoded = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            return [:]
        }
        return decoded
    }
}
