import Foundation

/// One execution of a pipeline: its run record, its stages in order with retries, the outputs they hand
/// on, its run.json.
final class RunExecution {
    private let engine: PipelineEngine
    private let store: StateStore
    private let options: RunOptions
    private let record: RunRecord
    private var results: [StageResult] = []
    private let notifier: Notifier
    private let tracer: Tracer?
    /// The engine's logger with this run's id (and trace id) on every event.
    private let logger: Logger
    /// The outputs of the stages completed in this logical run, by stage id.
    private var outputs: [String: StageOutputs] = [:]
    private var pipeline: Pipeline { engine.pipeline }

    init(engine: PipelineEngine, store: StateStore, identity: RunIdentity, previous: RunRecord?, options: RunOptions)
        throws
    {
        self.engine = engine
        self.store = store
        self.options = options
        let now = Date()
        let id = Self.newRunID(at: now)
        let resumed = previous.flatMap { !options.restart && $0.status != .succeeded ? $0 : nil }
        // A new logical run's instance is unique to this state store, not only to the identity: checkpoints
        // committed in a target database are matched by instance, so a row that another store's run left
        // there (a state store deleted or moved, two machines on one database) is never taken for this run's.
        let instance = resumed?.instance ?? "\(identity.key).\((previous?.generation ?? 0) + 1).\(id)"
        record = RunRecord(
            id: id, identity: identity.key, instance: instance, pipeline: engine.pipeline.name,
            file: engine.pipeline.file, params: identity.params, status: .running, resumedFrom: resumed?.id,
            startedAt: now, finishedAt: nil, heartbeatAt: now, pid: Int(ProcessInfo.processInfo.processIdentifier),
            host: ProcessInfo.processInfo.hostName, error: nil, series: identity.series,
            slot: identity.slot.map(Schedule.utcText))
        try store.insert(record)
        let environment = ProcessInfo.processInfo.environment
        tracer = TraceEndpoint.resolve(file: engine.pipeline.tracesEndpoint, environment: environment).map {
            Tracer(endpoint: $0, traceParent: environment["TRACEPARENT"])
        }
        engine.sessionName = DatabaseLocator.sessionName(ofRun: id)
        logger = engine.logger.forRun(id, traceID: tracer?.traceID)
        notifier = Notifier(pipeline: engine.pipeline, store: store, logger: logger, stop: options.stop, environment: environment)
    }

    func run() throws -> RunSummary {
        let verb = record.resumedFrom.map { "resuming run \($0) as" } ?? "starting"
        logger.info(
            "run.started",
            "\(verb) run \(record.id) of \(pipeline.name) (\(pipeline.stages.count) stages) on \(pipeline.database)")
        notifier.record(.runStarted(record))
        notifier.deliver(runID: record.id)
        do {
            for stage in pipeline.stages { try runStage(stage) }
        } catch {
            let failure = PipelineError.wrapping(error)
            let message = SecretMask.hide(pipeline.secrets, in: failure.description)
            let interrupted = failure.code == .interrupted
            // In the outbox before the run's status is final: a crash in between resumes the run, which
            // records the same event again (kept once), so it is never lost.
            if !interrupted { notifier.record(.runFailed(record, results: results, error: message)) }
            try? store.finish(runID: record.id, status: interrupted ? .interrupted : .failed, error: message)
            finishRun(interrupted ? .interrupted : .failed, error: message)
            var tagged = failure
            tagged.run = logger.run
            throw tagged
        }
        notifier.record(.runCompleted(record, results: results))
        try store.finish(runID: record.id, status: .succeeded, error: nil)
        finishRun(.succeeded, error: nil)
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
        if let state, state.complete {
            stageLogger.info("stage.skipped", "\(stage.kind) already complete in this run; skipped")
            outputs[stage.id] = state.outputs
            try store.recordStage(
                runID: record.id, stageID: stage.id, status: .complete, attempts: 0, counts: StageCounts(),
                declared: [], milliseconds: 0, error: nil)
            results.append(
                StageResult(id: stage.id, kind: stage.kind, status: .complete, counts: [], outputs: state.outputs, seconds: 0))
            return
        }
        if state == nil {
            try store.saveStageState(instance: record.instance, stageID: stage.id, complete: false, checkpoint: nil)
        }
        stageLogger.info("stage.started", state == nil ? "\(stage.kind) started" : "\(stage.kind) resuming from its checkpoint")
        tracer?.stageStarted(stage.id)
        var attempt = 1
        var reached = StageCounts()
        while true {
            do {
                let bound = try bind(stage)
                let outcome = try attemptStage(stage, bound, logger: stageLogger, reached: &reached)
                try finishStage(stage, outcome: outcome, attempts: attempt, started: started, logger: stageLogger)
                return
            } catch {
                var failure = PipelineError.wrapping(error)
                if failure.isTransient, stage.descriptor.execution.retryable, attempt <= stage.settings.retries.count,
                    options.stop.signalNumber == nil
                {
                    let delay = stage.settings.retries.delay(beforeRetry: attempt)
                    stageLogger.warning(
                        "stage.retrying",
                        "attempt \(attempt) failed (\(failure.message)); retrying in \(Self.format(delay)) from the last checkpoint")
                    engine.resetDatabases()
                    // In short steps, so that SIGINT or SIGTERM during a long backoff stops the run at once.
                    let wakeUp = Date().addingTimeInterval(delay.timeInterval)
                    while Date() < wakeUp && options.stop.signalNumber == nil {
                        Thread.sleep(forTimeInterval: min(0.1, wakeUp.timeIntervalSinceNow))
                    }
                    if let signal = options.stop.signalNumber {
                        failure = PipelineError.stopped(by: signal)
                    } else {
                        attempt += 1
                        continue
                    }
                }
                // A statement cancelled by a stop request fails like any other: it is the stop.
                if failure.code != .interrupted, let signal = options.stop.signalNumber {
                    failure = PipelineError.stopped(by: signal)
                }
                if failure.code != .interrupted, let place = stage.parameterPlace(mentionedIn: failure.description, baseDirectory: pipeline.baseDirectory)
                {
                    failure.message += " (\(place))"
                }
                failure.message = "stage '\(stage.id)' (\(stage.kind)): \(failure.message)"
                let status: StageRunStatus = failure.code == .interrupted ? .interrupted : .failed
                tracer?.stageEnded(
                    stage.id, kind: stage.kind, counts: reached.ordered(by: stage.descriptor.counters).map { ($0.counter.name, $0.value) },
                    error: SecretMask.hide(pipeline.secrets, in: failure.description))
                try? store.recordStage(
                    runID: record.id, stageID: stage.id, status: status, attempts: attempt, counts: reached,
                    declared: stage.descriptor.counters, milliseconds: Self.milliseconds(since: started),
                    error: SecretMask.hide(pipeline.secrets, in: failure.description))
                results.append(
                    StageResult(
                        id: stage.id, kind: stage.kind, status: status,
                        counts: reached.ordered(by: stage.descriptor.counters).map { ($0.counter, $0.value) },
                        outputs: StageOutputs(), seconds: Date().timeIntervalSince(started)))
                throw failure
            }
        }
    }

    /// The stage with its references to earlier outputs resolved; a value that does not fit is a
    /// configuration error with its place.
    private func bind(_ stage: PipelineStage) throws -> any BoundStage {
        do {
            return try stage.resolve(outputs: outputs)
        } catch {
            throw PipelineError(.config, error.description)
        }
    }

    private func attemptStage(
        _ stage: PipelineStage, _ bound: any BoundStage, logger stageLogger: Logger, reached: inout StageCounts
    ) throws -> StageOutcome {
        let stored = try store.stageState(instance: record.instance, stageID: stage.id)
        let checkpoints = try Checkpoints(
            chunkSize: stage.chunkSize, instance: record.instance, stageID: stage.id, store: store, runID: record.id,
            stop: options.stop, storedCheckpoint: stored?.checkpoint)
        let instance = record.instance
        let runID = record.id
        let services = StageServices(
            connection: { [unowned engine] name in try engine.database(named: name, for: stage.descriptor) },
            openReader: { [unowned engine] name in try engine.openConnection(named: name) },
            outputs: { [unowned self] id in self.outputs[id] },
            raise: { [store, notifier] name, payload, key in
                let id = try SHA256.hex(of: [instance, stage.id, name, key].joined(separator: "\n"))
                let event = RecordedEvent(
                    id: id, runID: runID, stageID: stage.id, name: name, payload: payload, raisedAt: StateTime.text(Date()))
                try store.recordEvent(event, instance: instance)
                notifier.record(.raised(event, payload: (try? JSONValue.parse(payload)) ?? .null))
            },
            chunk: { [tracer] stageID, started, attributes in tracer?.chunk(of: stageID, started: started, attributes: attributes) })
        let context = StageContext(
            stageID: stage.id, logger: stageLogger, workspace: engine.workspace, checkpoints: checkpoints,
            events: stage.descriptor.events, run: (record.pipeline, record.identity), force: options.force, services: services)
        defer { reached = context.reportedCounts }
        let outcome = try bound.run(in: context)
        context.report(outcome.counts)
        let recorded = try Self.checked(outcome, of: stage)
        try store.saveStageState(
            instance: record.instance, stageID: stage.id, complete: true, checkpoint: nil, outputs: recorded)
        outputs[stage.id] = recorded
        for name in context.usedDatabases { try? checkpoints.forget(in: engine.database(named: name, for: stage.descriptor)) }
        return outcome
    }

    /// The outcome's outputs, after checking that counters and outputs are the ones the kind declares.
    static func checked(_ outcome: StageOutcome, of stage: PipelineStage) throws -> StageOutputs {
        let undeclared = outcome.counts.undeclared(among: stage.descriptor.counters)
        guard undeclared.isEmpty else {
            throw PipelineError(
                .internal, "\(stage.kind) reported counters it does not declare: \(undeclared.joined(separator: ", "))")
        }
        var values: [String: RecordedOutput] = [:]
        for output in outcome.outputs {
            guard let declared = stage.descriptor.output(named: output.name), declared.type == output.value.type else {
                throw PipelineError(
                    .internal, "\(stage.kind) produced output '\(output.name)' of type \(output.value.type.rawValue), which it does not declare")
            }
            if output.value.type == .json, output.value.text.utf8.count > RecordedOutput.maximumJSONBytes {
                throw PipelineError(
                    .internal, "\(stage.kind) produced a JSON output '\(output.name)' over \(RecordedOutput.maximumJSONBytes) bytes")
            }
            values[output.name] = output.value
        }
        return StageOutputs(values)
    }

    private func finishStage(
        _ stage: PipelineStage, outcome: StageOutcome, attempts: Int, started: Date, logger stageLogger: Logger
    ) throws {
        let seconds = Date().timeIntervalSince(started)
        try store.recordStage(
            runID: record.id, stageID: stage.id, status: .succeeded, attempts: attempts, counts: outcome.counts,
            declared: stage.descriptor.counters, milliseconds: Self.milliseconds(since: started), error: nil)
        let counts = outcome.counts.ordered(by: stage.descriptor.counters).map { ($0.counter, $0.value) }
        let result = StageResult(
            id: stage.id, kind: stage.kind, status: .succeeded, counts: counts,
            outputs: outputs[stage.id] ?? StageOutputs(), seconds: seconds)
        results.append(result)
        tracer?.stageEnded(stage.id, kind: stage.kind, counts: counts.map { ($0.0.name, $0.1) }, error: nil)
        notifier.record(.stage(RunEvents.stageCompleted, result, record: record))
        if counts.contains(where: { $0.0.name == ImportCounters.rejected.name && $0.1 > 0 }) {
            notifier.record(.stage(RunEvents.stageRejects, result, record: record))
        }
        stageLogger.info(
            "stage.finished", "\(stage.kind) finished in \(Self.format(seconds))",
            counts: counts.map { ($0.0.name, $0.1) })
    }

    /// Delivers what is in the outbox (within its time budget), sends the trace, then writes run.json and
    /// the metrics.
    private func finishRun(_ status: RunStatus, error: String?) {
        notifier.deliver(runID: record.id)
        tracer?.finish(pipeline: pipeline, runID: record.id, status: status, error: error, logger: logger)
        writeReport()
        writeMetrics()
    }

    private func writeMetrics() {
        guard pipeline.metricsDirectory != nil || options.metricsFile != nil else { return }
        do {
            let totals = try store.metricsTotals(pipeline: pipeline.name)
            let figures = MetricsTextfile.Figures(
                pipeline: pipeline.name, run: try store.run(id: record.id) ?? record,
                stages: try store.stageRuns(runID: record.id), lastSuccess: totals.lastSuccess, runTotals: totals.runs)
            try MetricsTextfile.write(figures, folder: pipeline.metricsDirectory, file: options.metricsFile)
        } catch {
            logger.warning("run.metrics-failed", "could not write the metrics textfile: \(error)")
        }
    }

    private func writeReport() {
        do {
            try RunReport.write(record, from: store, to: RunReport.folder(in: engine.workspace))
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

    static func format(_ seconds: TimeInterval) -> String { String(format: "%.2fs", seconds) }
    static func format(_ duration: Duration) -> String { format(duration.timeInterval) }
}
