import Foundation

/// Everything a running stage may use: its logger, the pipeline's database, its checkpoints, the folders
/// it may write in.
public final class StageContext {
    public let stageID: String
    public let logger: Logger
    public let workspace: Workspace
    public let checkpoints: Checkpoints
    private let openDatabase: () throws -> any DatabaseConnection
    private(set) var usedDatabase = false

    init(
        stageID: String, logger: Logger, workspace: Workspace, checkpoints: Checkpoints,
        openDatabase: @escaping () throws -> any DatabaseConnection
    ) {
        self.stageID = stageID
        self.logger = logger
        self.workspace = workspace
        self.checkpoints = checkpoints
        self.openDatabase = openDatabase
    }

    /// The pipeline's database connection, opened on first use and shared by the run's stages.
    public func database() throws -> any DatabaseConnection {
        usedDatabase = true
        return try openDatabase()
    }

    /// Reports progress; the executable decides whether it becomes a bar, a log line or nothing.
    public func progress(unit: String, count: Int64, done: Int64, total: Int64?, finished: Bool = false) {
        logger.handler.progress(
            ProgressEvent(stage: stageID, unit: unit, count: count, done: done, total: total, finished: finished))
    }
}
