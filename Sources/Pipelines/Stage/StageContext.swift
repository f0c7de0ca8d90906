import Foundation

/// Everything a running stage may use: its logger, its databases, its checkpoints, the outputs of earlier
/// stages, the folders it may write in; and where it reports counts and raises events.
public final class StageContext {
    public let stageID: String
    public let logger: Logger
    public let workspace: Workspace
    public let checkpoints: Checkpoints
    /// The logical run this stage belongs to, the same for every execution and resume of it: the pipeline's
    /// name and its identity key (`pipeline runs` lists runs by it). Unlike a run id it does not change
    /// when a killed run is resumed, so outputs may record it and stay byte-identical.
    public let run: (pipeline: String, identity: String)
    /// The run was started with `--force`: the stage may go past its safety gates (saying so in its log).
    public let force: Bool
    private let services: StageServices
    private let events: [StageEvent]
    /// The counts reached so far, recorded if the stage fails.
    private(set) var reportedCounts = StageCounts()
    private(set) var usedDatabases: Set<String> = []

    init(
        stageID: String, logger: Logger, workspace: Workspace, checkpoints: Checkpoints, events: [StageEvent],
        run: (pipeline: String, identity: String), force: Bool = false, services: StageServices
    ) {
        self.stageID = stageID
        self.run = run
        self.force = force
        self.logger = logger
        self.workspace = workspace
        self.checkpoints = checkpoints
        self.events = events
        self.services = services
    }

    /// The pipeline's database connection (with the tables of the stage's family migrated), opened on
    /// first use and shared by the run's stages.
    public func database() throws -> any DatabaseConnection {
        try database(named: nil)
    }

    /// A database of the pipeline file's `databases:`, or the pipeline's own for nil. Connections come
    /// from the engine, which drops them after a transient failure so that a retry reconnects.
    public func database(named name: DatabaseName?) throws -> any DatabaseConnection {
        let key = name?.name ?? StageServices.mainDatabase
        usedDatabases.insert(key)
        return try services.connection(key)
    }

    /// A connection of its own to the pipeline's database (after `database()` has migrated it), for a
    /// thread that reads beside the stage's writes; the caller closes it. A PostgreSQL session carries
    /// the run's name, so a later run ends it if this one is killed.
    public func openReader() throws -> any DatabaseConnection {
        _ = try database()
        return try services.openReader(StageServices.mainDatabase)
    }

    /// The outputs an earlier stage recorded (in this execution, or in the one a resume continues).
    public func outputs(of stage: StageReference) throws -> StageOutputs {
        guard let outputs = services.outputs(stage.id) else {
            throw PipelineError(.internal, "stage '\(stage.id)' has no recorded outputs; it has not run before '\(stageID)'")
        }
        return outputs
    }

    /// Records the counts reached so far: a stage that fails later is recorded with them.
    public func report(_ counts: StageCounts) { reportedCounts = counts }

    /// Raises one of the kind's declared events with a small JSON payload, recorded with the stage run.
    /// Raising the same event with the same `key` again in the same logical run (e.g. after a resume)
    /// records it once.
    public func raise(_ event: StageEvent, payload: JSONValue, key: String = "") throws {
        guard events.contains(event) else {
            throw PipelineError(.internal, "stage '\(stageID)' raised event '\(event.name)', which its kind does not declare")
        }
        let text = payload.serialized
        guard text.utf8.count <= StageEvent.maximumPayloadBytes else {
            throw PipelineError(
                .internal, "event '\(event.name)' of stage '\(stageID)' has a payload of \(text.utf8.count) bytes, over the limit of \(StageEvent.maximumPayloadBytes)")
        }
        try services.raise(event.name, text, key)
    }

    /// Reports progress; the executable decides whether it becomes a bar, a log line or nothing.
    public func progress(unit: String, count: Int64, done: Int64, total: Int64?, finished: Bool = false) {
        logger.handler.progress(
            ProgressEvent(
                stage: stageID, unit: unit, count: count, done: done, total: total, finished: finished, run: logger.run))
    }

    /// Marks a committed chunk, for the run's trace: when it started, and what it did.
    public func chunkCommitted(started: Date, rows: Int64, endOffset: Int64) {
        services.chunk(stageID, started, [("pipeline.chunk.rows", .number(String(rows))), ("pipeline.chunk.end_offset", .number(String(endOffset)))])
    }
}

/// What the engine lends a running stage.
struct StageServices {
    static let mainDatabase = ""

    /// Opens (or returns the open) connection of a database by name; `mainDatabase` for the pipeline's own.
    var connection: (String) throws -> any DatabaseConnection
    /// Opens a further connection to a database by name, owned by the caller.
    var openReader: (String) throws -> any DatabaseConnection
    var outputs: (String) -> StageOutputs?
    /// Records an event: name, payload JSON, key.
    var raise: (String, String, String) throws -> Void
    /// A committed chunk of a stage: its start and attributes.
    var chunk: (String, Date, [(String, JSONValue)]) -> Void = { _, _, _ in }
}
