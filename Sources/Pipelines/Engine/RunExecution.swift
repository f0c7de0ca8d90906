import Foundation

/// One execution of a pipeline: its run record, its stages in order with retries, its run.json.
final class RunExecution {
    private let engine: PipelineEngine
    private let store: StateStore
    private let options: RunOptions
    private let record: RunRecord
    private var results: [StageResult] = []
    private var logger: Logger { engine.logger }
    private var pipeline: Pipeline { engine.pipeline }

    init(engine: PipelineEngine, store: StateStore, identity: RunIdentity, previous: RunRecord?, options: RunOptions)
        throws
    {
        self.engine = engine
        self.store = store
        self.options = options
        let now = Date()
        var generation = previous?.generation ?? 1
        let resumes = previous != nil && !options.restart && previous?.status != .succeeded
        if previous != nil && !resumes { generation += 1 }
        record = RunRecord(
            id: Self.newRunID(at: now), identity: identity.key, instance: "\(identity.key).\(generation)",
            pipeline: engine.pipeline.name, file: engine.pipeline.file, params: identity.params, status: .running,
            resumedFrom: resumes ? previous?.id : nil, startedAt: now, finishedAt: nil, heartbeatAt: now,
            pid: Int(ProcessInfo.processInfo.processIdentifier), host: ProcessInfo.processInfo.hostName, error: nil)
        try store.insert(record)
    }

    func run() throws -> RunSummary {
        let verb = record.resumedFrom.map { "resuming run \($0) as" } ?? "starting"
        logger.info(
            "run.started",
            "\(verb) run \(record.id) of \(pipeline.name) (\(pipeline.stages.count) stages) on \(pipeline.database)")
        do {
            for stage in pipeline.stages { try runStage(stage) }
        } catch {
            let failure = PipelineError.wrapping(error)
            try? store.finish(runID: record.id, status: failure.code == .interrupted ? .interrupted : .failed, error: failure.description)
            writeReport()
            throw failure
        }
        try store.finish(runID: record.id, status: .succeeded, error: nil)
        writeReport()
        let seconds = Date().timeIntervalSince(record.startedAt)
        logger.info("run.finished", "run \(record.id) of \(pipeline.name) finished in \(Self.format(seconds))")
        return RunSummary(
            runID: record.id, alreadyComplete: false, resumed: record.resumedFrom != nil, stages: results, seconds: seconds)
    }

    private func runStage(_ stage: PipelineStage) throws {
        let stageLogger = logger.forStage(stage.id)
        let started = Date()
        try store.startStage(runID: record.id, stageID: stage.id, kind: stage.kind, at: started)
        let state = try store.stageState(instance: record.instance, stageID: stage.id)
        if state?.complete == true {
            stageLogger.info("stage.skipped", "\(stage.kind) already complete in this run; skipped")
            try store.recordStage(
                runID: record.id, stageID: stage.id, status: .complete, attempts: 0, outcome: StageOutcome(),
                milliseconds: 0, error: nil)
            results.append(StageResult(id: stage.id, kind: stage.kind, status: .complete, outcome: StageOutcome(), seconds: 0))
            return
        }
        if state == nil {
            try store.saveStageState(instance: record.instance, stageID: stage.id, complete: false, checkpoint: nil)
        }
        stageLogger.info("stage.started", state == nil ? "\(stage.kind) started" : "\(stage.kind) resuming from its checkpoint")
        var attempt = 1
        while true {
            do {
                let outcome = try attemptStage(stage, logger: stageLogger)
                try finishStage(stage, outcome: outcome, attempts: attempt, started: started, logger: stageLogger)
                return
            } catch {
                var failure = PipelineError.wrapping(error)
                if failure.isTransient, attempt <= stage.settings.retries.count, options.stop.signalNumber == nil {
                    let delay = stage.settings.retries.delay(beforeRetry: attempt)
                    stageLogger.warning(
                        "stage.retrying",
                        "attempt \(attempt) failed (\(failure.message)); retrying in \(Self.format(delay)) from the last checkpoint")
                    engine.resetDatabase()
                    Thread.sleep(forTimeInterval: Self.seconds(delay))
                    attempt += 1
                    continue
                }
                failure.message = "stage '\(stage.id)' (\(stage.kind)): \(failure.message)"
                let status: StageRunStatus = failure.code == .interrupted ? .interrupted : .failed
                try? store.recordStage(
                    runID: record.id, stageID: stage.id, status: status, attempts: attempt, outcome: StageOutcome(),
                    milliseconds: Self.milliseconds(since: started), error: failure.description)
                results.append(
                    StageResult(id: stage.id, kind: stage.kind, status: status, outcome: StageOutcome(),
                        seconds: Date().timeIntervalSince(started)))
                throw failure
            }
        }
    }

    private func attemptStage(_ stage: PipelineStage, logger stageLogger: Logger) throws -> StageOutcome {
        let stored = try store.stageState(instance: record.instance, stageID: stage.id)
        let checkpoints = try Checkpoints(
            chunkSize: stage.settings.chunkSize ?? StageSettings.defaultChunkSize, instance: record.instance,
            stageID: stage.id, store: store, runID: record.id, stop: options.stop, storedCheckpoint: stored?.checkpoint)
        let context = StageContext(
            stageID: stage.id, logger: stageLogger, workspace: engine.workspace, checkpoints: checkpoints,
            openDatabase: { [unowned engine] in try engine.database() })
        let outcome = try stage.stage.run(in: context)
        try store.saveStageState(instance: record.instance, stageID: stage.id, complete: true, checkpoint: nil)
        if context.usedDatabase { try? checkpoints.forget(in: engine.database()) }
        return outcome
    }

    private func finishStage(
        _ stage: PipelineStage, outcome: StageOutcome, attempts: Int, started: Date, logger stageLogger: Logger
    ) throws {
        let seconds = Date().timeIntervalSince(started)
        try store.recordStage(
            runID: record.id, stageID: stage.id, status: .succeeded, attempts: attempts, outcome: outcome,
            milliseconds: Self.milliseconds(since: started), error: nil)
        results.append(StageResult(id: stage.id, kind: stage.kind, status: .succeeded, outcome: outcome, seconds: seconds))
        stageLogger.info("stage.finished", "\(stage.kind) finished in \(Self.format(seconds))", counts: outcome.counts)
    }

    private func writeReport() {
        do {
            try RunReport(run: try store.run(id: record.id) ?? record, stages: try store.stageRuns(runID: record.id))
                .write(to: (engine.workspace.workDirectory as NSString).appendingPathComponent("runs"))
        } catch {
            logger.warning("run.report-failed", "could not write run.json: \(error)")
        }
    }

    /// Sortable and unique enough: UTC time to the millisecond and 4 random hex digits.
    static func newRunID(at date: Date) -> String {
        let stamp = StateTime.text(date).filter { $0.isNumber }.prefix(17)
        return "\(stamp)-\(String(UInt16.random(in: 0...UInt16.max), radix: 16))"
    }

    static func milliseconds(since start: Date) -> Int64 { Int64(Date().timeIntervalSince(start) * 1000) }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ seconds: TimeInterval) -> String { String(format: "%.2fs", seconds) }
    static func format(_ duration: Duration) -> String { format(seconds(duration)) }
}
