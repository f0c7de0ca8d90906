import Foundation

public struct RunOptions: Sendable {
    /// Start the logical run over instead of resuming it.
    public var restart = false
    /// Run an identity again although its last run completed.
    public var rerun = false
    /// Let stages go past their safety gates (`--force`).
    public var force = false
    public var stop = StopRequest()
    /// A Prometheus textfile to write after the run, besides the file's `metrics: { textfile }`.
    public var metricsFile: String?

    public init(
        restart: Bool = false, rerun: Bool = false, force: Bool = false, stop: StopRequest = StopRequest(), metricsFile: String? = nil
    ) {
        self.restart = restart
        self.rerun = rerun
        self.force = force
        self.stop = stop
        self.metricsFile = metricsFile
    }
}

/// Runs a loaded pipeline's stages in dependency order, recording the run in the state store so that an
/// interrupted run resumes where it stopped and two runs of one identity never overlap.
public final class PipelineEngine {
    public let pipeline: Pipeline
    let logger: Logger
    /// Open connections by database name (`StageServices.mainDatabase` for the pipeline's own).
    private var connections: [String: any DatabaseConnection] = [:]
    /// What the running run's PostgreSQL sessions are called (`pipeline RUN-ID`).
    var sessionName = PostgresConnection.defaultApplicationName
    /// The running run's stop request, which cancels the connections' statements when it comes.
    private var stop: StopRequest?
    /// Schema families migrated on the pipeline's database by this process.
    private var migratedSchemas: Set<String> = []

    public init(pipeline: Pipeline, logger: Logger) {
        self.pipeline = pipeline
        self.logger = logger
    }

    deinit { resetDatabases() }

    public var workspace: Workspace { pipeline.workspace }

    /// What a run would do, without touching anything.
    /// The stages with what each reads and writes; with `preview`, also what the kinds that look at the
    /// database first would do now (read-only; a failure to look is shown in place of it).
    public func plan(preview: Bool = false) -> [PlannedStage] {
        let context = PreviewContext(workspace: workspace, logger: logger)
        defer { context.close() }
        return pipeline.stages.map { stage in
            let effects: StageEffects
            var lines: [String] = []
            switch stage.binding {
            case .ready(let bound):
                effects = bound.effects(in: workspace)
                if preview {
                    do {
                        lines = try bound.preview(in: context)
                    } catch {
                        lines = ["(could not look: \(PipelineError.wrapping(error).description))"]
                    }
                }
            case .deferred:
                let stages = Set(stage.references.map(\.stage)).sorted().joined(separator: ", ")
                effects = StageEffects(reads: ["what the outputs of \(stages) name, once they are recorded"])
            }
            return PlannedStage(
                id: stage.id, kind: stage.kind, needs: stage.needs, parameters: stage.resolvedParameters,
                effects: effects, counters: stage.descriptor.counters, outputs: stage.descriptor.outputs, preview: lines)
        }
    }

    /// Runs the pipeline: resumes its identity's interrupted or failed run, skips an identity that already
    /// completed (unless `rerun`), and stops at the first failing stage.
    public func run(_ options: RunOptions) throws(PipelineError) -> RunSummary {
        stop = options.stop
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
                // What its run could not deliver (a crash, a receiver down) goes out now.
                Notifier(pipeline: pipeline, store: store, logger: logger, stop: options.stop, environment: ProcessInfo.processInfo.environment)
                    .deliver(runID: previous.id)
                // So does its report, when the process was killed while writing it.
                if !FileManager.default.fileExists(atPath: RunReport.path(of: previous.id, in: RunReport.folder(in: workspace))) {
                    do {
                        try RunReport.write(previous, from: store, to: RunReport.folder(in: workspace))
                    } catch {
                        logger.warning("run.report-failed", "could not write the report of run \(previous.id): \(error)")
                    }
                }
                return RunSummary(runID: previous.id, alreadyComplete: true, resumed: false, stages: [], seconds: 0)
            }
            if let previous, previous.status == .running {
                try store.finish(
                    runID: previous.id, status: .interrupted,
                    error: "process \(previous.pid) on \(previous.host) died without finishing", at: previous.heartbeatAt)
                logger.warning("run.recovered", "run \(previous.id) (pid \(previous.pid) on \(previous.host)) died; resuming it")
                endSessions(ofRun: previous.id)
            }
            let execution = try RunExecution(
                engine: self, store: store, identity: identity, previous: previous, options: options)
            return try execution.run()
        } catch {
            throw PipelineError.wrapping(error)
        }
    }

    /// Ends what a died run left open on the pipeline's PostgreSQL servers; a failure (no right to end
    /// another session) is only logged: the resumed run may still succeed, or fail with the server's reason.
    private func endSessions(ofRun runID: String) {
        for locator in [pipeline.database] + pipeline.databases.values.sorted(by: { $0.redacted < $1.redacted }) {
            do {
                let ended = try locator.endSessions(ofRun: runID, logger: logger)
                if ended > 0 { logger.info("run.sessions-ended", "ended \(ended) session(s) of run \(runID) on \(locator.redacted)") }
            } catch {
                logger.warning("run.sessions-left", "cannot end the sessions of run \(runID) on \(locator.redacted): \(error)")
            }
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

    /// A connection of the run, opened on first use and shared by its stages: the pipeline's own database
    /// for `StageServices.mainDatabase` (with the schema of `kind`'s family migrated), else a database of
    /// the file's `databases:`.
    func database(named name: String, for kind: StageDescriptor) throws -> any DatabaseConnection {
        let connection: any DatabaseConnection
        if let open = connections[name] {
            connection = open
        } else {
            connection = try openConnection(named: name)
            stop?.cancelsOnStop(connection.canceller)
            connections[name] = connection
        }
        if name == StageServices.mainDatabase, let schema = kind.schema, !migratedSchemas.contains(schema.name) {
            try schema.migrate(connection, logger: logger)
            migratedSchemas.insert(schema.name)
        }
        return connection
    }

    /// A new connection to a database of the run, in the run's session name; not kept.
    func openConnection(named name: String) throws -> any DatabaseConnection {
        let locator = name == StageServices.mainDatabase ? pipeline.database : pipeline.databases[name]
        guard let locator else { throw PipelineError(.internal, "no database named '\(name)' in \(pipeline.file)") }
        return try locator.connect(logger: logger, applicationName: sessionName)
    }

    /// Drops every connection after a transient failure, so that a retry reconnects.
    func resetDatabases() {
        for connection in connections.values { connection.close() }
        connections = [:]
        migratedSchemas = []
    }
}

public struct PlannedStage: Sendable {
    public var id: String
    public var kind: String
    public var needs: [String]
    public var parameters: [(name: String, value: String)]
    public var effects: StageEffects
    public var counters: [Counter]
    public var outputs: [OutputDeclaration]
    /// What the stage would do now, as its kind's `preview` read it from the database.
    public var preview: [String] = []
}

public struct StageResult: Sendable {
    public var id: String
    public var kind: String
    public var status: StageRunStatus
    public var counts: [(counter: Counter, value: Int64)]
    public var outputs: StageOutputs
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
    /// For complete stages: the counters of the run that completed them and the outputs they recorded.
    public var counts: [String: [RecordedCount]] = [:]
    public var outputs: [String: StageOutputs] = [:]
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
        let next: ResumeStatus.NextRun = latest.status == .succeeded ? .complete(runID: latest.id) : .resume(runID: latest.id)
        var status = ResumeStatus(identity: identity, latest: latest, next: next, stages: [:])
        for stage in pipeline.stages {
            let state = try store.stageState(instance: latest.instance, stageID: stage.id)
            status.stages[stage.id] = state.map { $0.complete ? .complete : .started } ?? .pending
            guard let state, state.complete else { continue }
            status.outputs[stage.id] = state.outputs
            status.counts[stage.id] = try store.completedCounts(instance: latest.instance, stageID: stage.id)
        }
        return status
    }
}
