import Foundation

public struct RunOptions: Sendable {
    /// Start the logical run over instead of resuming it.
    public var restart = false
    /// Run an identity again although its last run completed.
    public var rerun = false
    public var stop = StopRequest()

    public init(restart: Bool = false, rerun: Bool = false, stop: StopRequest = StopRequest()) {
        self.restart = restart
        self.rerun = rerun
        self.stop = stop
    }
}

/// Runs a loaded pipeline's stages in dependency order, recording the run in the state store so that an
/// interrupted run resumes where it stopped and two runs of one identity never overlap.
public final class PipelineEngine {
    public let pipeline: Pipeline
    let logger: Logger
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

    /// Runs the pipeline: resumes its identity's interrupted or failed run, skips an identity that already
    /// completed (unless `rerun`), and stops at the first failing stage.
    public func run(_ options: RunOptions) throws(PipelineError) -> RunSummary {
        do {
            let identity = try RunIdentity(pipeline: pipeline)
            let store = try StateStore(locator: pipeline.state, logger: logger)
            guard let lock = try RunLock.acquire(identity: identity, store: store) else {
                throw try lockedError(identity: identity, store: store)
            }
            defer { lock.release() }
            let previous = try store.latestRun(identity: identity.key)
            if let previous, previous.status == .succeeded, !options.rerun {
                logger.notice(
                    "run.already-complete",
                    "\(identity) already completed in run \(previous.id) at \(StateTime.text(previous.finishedAt ?? previous.startedAt)); use --rerun to run it again")
                return RunSummary(runID: previous.id, alreadyComplete: true, resumed: false, stages: [], seconds: 0)
            }
            if let previous, previous.status == .running {
                try store.finish(
                    runID: previous.id, status: .interrupted,
                    error: "process \(previous.pid) on \(previous.host) died without finishing", at: previous.heartbeatAt)
                logger.warning("run.recovered", "run \(previous.id) (pid \(previous.pid) on \(previous.host)) died; resuming it")
            }
            let execution = try RunExecution(
                engine: self, store: store, identity: identity, previous: previous, options: options)
            return try execution.run()
        } catch {
            throw PipelineError.wrapping(error)
        }
    }

    private func lockedError(identity: RunIdentity, store: StateStore) throws -> PipelineError {
        let latest = try store.latestRun(identity: identity.key)
        let holder = latest?.status == .running ? latest : nil
        let who = holder.map {
            "run \($0.id), pid \($0.pid) on \($0.host), started \(StateTime.text($0.startedAt))"
        } ?? "another process"
        return PipelineError(.locked, "\(identity) is already running (\(who)); try again later")
    }

    /// The run's database connection, opened on first use and shared by its stages.
    func database() throws -> any DatabaseConnection {
        if let connection { return connection }
        let opened = try pipeline.database.connect(logger: logger)
        connection = opened
        return opened
    }

    /// Drops the connection after a transient failure, so that a retry reconnects.
    func resetDatabase() {
        connection?.close()
        connection = nil
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
    public var status: StageRunStatus
    public var outcome: StageOutcome
    public var seconds: TimeInterval
}

public struct RunSummary: Sendable {
    public var runID: String
    /// The identity had completed before; nothing ran.
    public var alreadyComplete: Bool
    /// This execution continued an interrupted or failed one.
    public var resumed: Bool
    public var stages: [StageResult]
    public var seconds: TimeInterval
}

/// Where the pipeline's identity stands, for `pipeline plan`.
public struct ResumeStatus: Sendable {
    public enum NextRun: Sendable {
        case start
        case resume(runID: String)
        case complete(runID: String)
    }

    public enum StageProgress: String, Sendable {
        case pending
        case started = "started; resumes from its last checkpoint"
        case complete
    }

    public var identity: RunIdentity
    public var latest: RunRecord?
    public var next: NextRun
    public var stages: [String: StageProgress]
}

extension PipelineEngine {
    /// Reads the state store (without creating it) to tell what a run would do now.
    public func resumeStatus() throws -> ResumeStatus {
        let identity = try RunIdentity(pipeline: pipeline)
        guard let store = try StateStore.openIfPresent(locator: pipeline.state, logger: logger),
            let latest = try store.latestRun(identity: identity.key)
        else {
            return ResumeStatus(identity: identity, latest: nil, next: .start, stages: [:])
        }
        if latest.status == .succeeded {
            let stages = Dictionary(uniqueKeysWithValues: pipeline.stages.map { ($0.id, ResumeStatus.StageProgress.complete) })
            return ResumeStatus(identity: identity, latest: latest, next: .complete(runID: latest.id), stages: stages)
        }
        var stages: [String: ResumeStatus.StageProgress] = [:]
        for stage in pipeline.stages {
            let state = try store.stageState(instance: latest.instance, stageID: stage.id)
            stages[stage.id] = state.map { $0.complete ? .complete : .started } ?? .pending
        }
        return ResumeStatus(identity: identity, latest: latest, next: .resume(runID: latest.id), stages: stages)
    }
}
