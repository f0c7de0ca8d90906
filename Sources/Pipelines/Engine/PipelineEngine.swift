import Foundation

/// Runs a loaded pipeline's stages in dependency order on one database connection.
public final class PipelineEngine {
    public let pipeline: Pipeline
    private let logger: Logger
    private var connection: (any DatabaseConnection)?

    public init(pipeline: Pipeline, logger: Logger) {
        self.pipeline = pipeline
        self.logger = logger
    }

    deinit { connection?.close() }

    public var workspace: Workspace {
        Workspace(
            database: pipeline.database, baseDirectory: pipeline.baseDirectory,
            workDirectory: (pipeline.baseDirectory as NSString).appendingPathComponent("var"))
    }

    /// What a run would do, without touching anything.
    public func plan() -> [PlannedStage] {
        pipeline.stages.map { stage in
            PlannedStage(
                id: stage.id, kind: stage.kind, needs: stage.needs, parameters: stage.stage.resolvedParameters,
                effects: stage.stage.effects(in: workspace))
        }
    }

    /// Runs every stage; stops at the first failure, whose error names the stage.
    public func run() throws(PipelineError) -> RunSummary {
        let started = Date()
        logger.info("run.started", "running \(pipeline.name) (\(pipeline.stages.count) stages) on \(pipeline.database)")
        var results: [StageResult] = []
        for stage in pipeline.stages {
            let stageLogger = logger.forStage(stage.id)
            let context = StageContext(
                stageID: stage.id, logger: stageLogger, workspace: workspace,
                openDatabase: { [unowned self] in try self.database() })
            let stageStarted = Date()
            stageLogger.info("stage.started", "\(stage.kind) started")
            do {
                let outcome = try stage.stage.run(in: context)
                let seconds = Date().timeIntervalSince(stageStarted)
                stageLogger.info(
                    "stage.finished", "\(stage.kind) finished in \(Self.format(seconds))", counts: outcome.counts)
                results.append(StageResult(id: stage.id, kind: stage.kind, outcome: outcome, seconds: seconds))
            } catch {
                var failure = PipelineError.wrapping(error)
                failure.message = "stage '\(stage.id)' (\(stage.kind)): \(failure.message)"
                throw failure
            }
        }
        let summary = RunSummary(stages: results, seconds: Date().timeIntervalSince(started))
        logger.info("run.finished", "\(pipeline.name) finished in \(Self.format(summary.seconds))")
        return summary
    }

    private func database() throws -> any DatabaseConnection {
        if let connection { return connection }
        let opened = try pipeline.database.connect(logger: logger)
        connection = opened
        return opened
    }

    static func format(_ seconds: TimeInterval) -> String {
        String(format: "%.2fs", seconds)
    }
}

public struct PlannedStage: Sendable {
    public var id: String
    public var kind: String
    public var needs: [String]
    public var parameters: [(name: String, value: String)]
    public var effects: StageEffects
}

public struct StageResult: Sendable {
    public var id: String
    public var kind: String
    public var outcome: StageOutcome
    public var seconds: TimeInterval
}

public struct RunSummary: Sendable {
    public var stages: [StageResult]
    public var seconds: TimeInterval
}
