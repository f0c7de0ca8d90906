import Foundation

/// A stage's handle on its checkpoints. Stages work in chunks of `chunkSize` rows; after each chunk they
/// record where they are, together with the chunk's output:
/// - output in the database: `record(_:in:)` inside the chunk's own transaction, so the rows and the
///   position commit together (table `pipeline_checkpoints` in that database);
/// - output in files: `record(_:)` after the file's bytes are on disk, in the state store.
/// A resumed run hands the stage its last recorded state through `resume`.
public final class Checkpoints {
    /// Rows per chunk; 0 means one chunk and no checkpoints (the stage is redone whole after a crash).
    public let chunkSize: Int
    /// Identifies the logical run and stage in checkpoint tables and temporary file names.
    public let key: String
    let instance: String
    let stageID: String
    private let store: StateStore
    private let runID: String
    private let stop: StopRequest
    private let storedCheckpoint: String?
    /// Whether `pipeline_checkpoints` is known to exist in the target database.
    private var createdTable = false

    init(
        chunkSize: Int, instance: String, stageID: String, store: StateStore, runID: String, stop: StopRequest,
        storedCheckpoint: String?
    ) throws {
        self.chunkSize = chunkSize
        self.instance = instance
        self.stageID = stageID
        self.store = store
        self.runID = runID
        self.stop = stop
        self.storedCheckpoint = storedCheckpoint
        key = String(try SHA256.hex(of: instance + "\n" + stageID).prefix(16))
    }

    public var isEnabled: Bool { chunkSize > 0 }

    /// The state recorded in the state store by an earlier, interrupted execution.
    public func resume<State: Decodable>(_ type: State.Type) throws -> State? {
        guard isEnabled, let storedCheckpoint else { return nil }
        return try Self.decode(type, storedCheckpoint)
    }

    /// Records a state whose output is already durable (files fsynced).
    public func record<State: Encodable>(_ state: State) throws {
        try store.saveStageState(instance: instance, stageID: stageID, complete: false, checkpoint: Self.encode(state))
        try store.heartbeat(runID: runID)
    }

    /// The state recorded in `database` together with the rows it describes.
    public func resume<State: Decodable>(_ type: State.Type, from database: any DatabaseConnection) throws -> State? {
        guard isEnabled, try database.tableColumns(Self.table) != nil else { return nil }
        var text: String?
        try database.query(
            "SELECT state FROM pipeline_checkpoints WHERE instance = $1 AND stage_id = $2",
            [.text(instance), .text(stageID)], columns: { _ in }
        ) { text = $0.string(0) }
        return try text.map { try Self.decode(type, $0) }
    }

    /// Records a state inside the caller's open transaction on `database`, so that it commits (or rolls
    /// back) with the chunk's rows.
    public func record<State: Encodable>(_ state: State, in database: any DatabaseConnection) throws {
        if !createdTable {
            if try database.tableColumns(Self.table) == nil {
                try database.executeScript(
                    """
                    CREATE TABLE pipeline_checkpoints (
                        instance TEXT NOT NULL, stage_id TEXT NOT NULL, state TEXT NOT NULL, updated_at TEXT NOT NULL,
                        PRIMARY KEY (instance, stage_id))
                    """)
            }
            createdTable = true
        }
        try database.execute(
            """
            INSERT INTO pipeline_checkpoints (instance, stage_id, state, updated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (instance, stage_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
            """, [.text(instance), .text(stageID), .text(Self.encode(state)), .text(StateTime.text(Date()))])
        try store.heartbeat(runID: runID)
    }

    /// Removes the stage's row from `pipeline_checkpoints` once the state store knows the stage is complete.
    func forget(in database: any DatabaseConnection) throws {
        guard try database.tableColumns(Self.table) != nil else { return }
        try database.execute(
            "DELETE FROM pipeline_checkpoints WHERE instance = $1 AND stage_id = $2", [.text(instance), .text(stageID)])
    }

    /// Whether SIGINT or SIGTERM asked the run to stop, e.g. to cut a wait short.
    public var isStopRequested: Bool { stop.signalNumber != nil }

    /// Throws `.interrupted` when SIGINT or SIGTERM asked the run to stop. Call between chunks, after
    /// the chunk's checkpoint is committed.
    public func stopIfRequested() throws {
        guard let signal = stop.signalNumber else { return }
        throw PipelineError.stopped(by: signal)
    }

    private static let table = SQLName.checkpoints

    private static func encode<State: Encodable>(_ state: State) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do {
            return String(decoding: try encoder.encode(state), as: UTF8.self)
        } catch {
            throw PipelineError(.internal, "cannot encode a checkpoint", cause: error)
        }
    }

    private static func decode<State: Decodable>(_ type: State.Type, _ text: String) throws -> State {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw PipelineError(
                .internal, "the recorded checkpoint cannot be read by this version; run again with --restart", cause: error)
        }
    }
}

extension SQLName {
    static let checkpoints = SQLName(trusted: "pipeline_checkpoints")
}

extension PipelineError {
    /// The run stopped between chunks at a signal's request; the exit status is 128 + the signal.
    public static func stopped(by signal: Int32) -> PipelineError {
        PipelineError(.interrupted, "stopped by signal \(signal) after the last committed chunk; run again to resume",
            signal: signal)
    }
}
