import Foundation

/// Everything a running stage may use: its logger, the pipeline's database, the folders it may write in.
public final class StageContext {
    public let stageID: String
    public let logger: Logger
    public let workspace: Workspace
    private let openDatabase: () throws -> any DatabaseConnection

    public init(
        stageID: String, logger: Logger, workspace: Workspace,
        openDatabase: @escaping () throws -> any DatabaseConnection
    ) {
        self.stageID = stageID
        self.logger = logger
        self.workspace = workspace
        self.openDatabase = openDatabase
    }

    /// The pipeline's database connection, opened on first use and shared by the run's stages.
    public func database() throws -> any DatabaseConnection { try openDatabase() }

    /// Reports progress; the executable decides whether it becomes a bar, a log line or nothing.
    public func progress(unit: String, count: Int64, done: Int64, total: Int64?, finished: Bool = false) {
        logger.handler.progress(
            ProgressEvent(stage: stageID, unit: unit, count: count, done: done, total: total, finished: finished))
    }
}
