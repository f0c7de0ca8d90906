#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import Pipelines
import Stages

/// Asked to stop by the first SIGINT or SIGTERM; a second one ends the process at once.
let stopRequest = StopRequest()

struct RunCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let logger = Logger(handler: LogOutput.handler(for: invocation))
        let now = invocation.now ?? Date()
        let pipeline: Pipeline
        switch PipelineFile.load(invocation, slot: SlotChoice(now: now, slot: invocation.slot)) {
        case .success(let loaded): pipeline = loaded
        case .failure(let status): return status
        }
        if invocation.dryRun {
            let engine = PipelineEngine(pipeline: pipeline, logger: logger)
            Console.writeOutput(PlanText.render(pipeline: pipeline, plan: engine.plan(preview: true)))
            return .success
        }
        Self.installSignalHandlers()
        guard pipeline.schedule != nil, invocation.slot == nil else {
            return Self.status(of: Self.run(pipeline, invocation, logger: logger), logger: logger)
        }
        do {
            let plan = try SlotPlanner.plan(
                pipeline, now: now, mode: .run, ignoringWindow: invocation.ignoreWindow, logger: logger)
            for notice in plan.notices {
                logger.notice(plan.outsideWindow ? "schedule.outside-window" : "schedule.skipped", notice)
            }
            for (slot, reason) in plan.slots {
                let status = Self.runSlot(slot, reason: reason, of: pipeline, invocation, now: now, logger: logger)
                guard status == .success else { return status }
            }
            return .success
        } catch {
            return ExitStatus.reporting(error)
        }
    }

    /// Runs one slot of a scheduled pipeline: the file loaded again for it, so that its params follow the slot.
    static func runSlot(
        _ slot: Date, reason: SlotPlan.Reason, of pipeline: Pipeline, _ invocation: Invocation, now: Date,
        logger: Logger, quietWhenLocked: Bool = false
    ) -> ExitStatus {
        let slotted: Pipeline
        switch PipelineFile.load(invocation, path: pipeline.file, slot: SlotChoice(now: now, slot: slot)) {
        case .success(let loaded): slotted = loaded
        case .failure(let status): return status
        }
        if reason != .current, let schedule = pipeline.schedule {
            logger.info("schedule.slot", "running the \(reason.rawValue) slot \(schedule.displayText(slot)) of \(pipeline.name)")
        }
        let result = run(slotted, invocation, logger: logger)
        if quietWhenLocked, case .failure(let error) = result, error.code == .locked {
            logger.debug("schedule.locked", error.description)
            return .success
        }
        return status(of: result, logger: logger)
    }

    static func run(_ pipeline: Pipeline, _ invocation: Invocation, logger: Logger) -> Result<RunSummary, PipelineError> {
        let engine = PipelineEngine(pipeline: pipeline, logger: logger)
        do {
            return .success(
                try engine.run(
                    RunOptions(
                        restart: invocation.restart, rerun: invocation.rerun, force: invocation.force, stop: stopRequest,
                        metricsFile: invocation.metricsFile.map {
                            ParameterContext(baseDirectory: FileManager.default.currentDirectoryPath).resolve($0)
                        })))
        } catch {
            return .failure(error)
        }
    }

    static func status(of result: Result<RunSummary, PipelineError>, logger: Logger) -> ExitStatus {
        guard case .failure(let error) = result else { return .success }
        var logger = logger
        logger.run = error.run
        logger.error("run.failed", error.description)
        return ExitStatus(error)
    }

    /// The first SIGINT or SIGTERM asks the run to stop after its current chunk; a second one ends the
    /// process at once (still resumable from the last committed chunk). The signals are also unblocked:
    /// a parent may have started us with them blocked, which exec keeps.
    static func installSignalHandlers() {
        _ = stopRequest
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for number in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { received in
                if !stopRequest.request(signal: received) { _exit(128 + received) }
            }
            sigemptyset(&action.sa_mask)
            sigaction(number, &action, nil)
            sigaddset(&unblocked, number)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    }
}

/// Loading a pipeline file for a command, with `--state` applied and errors printed.
enum PipelineFile {
    static func load(_ invocation: Invocation, path: String? = nil, slot: SlotChoice = SlotChoice())
        -> Result<Pipeline, ExitStatus>
    {
        do {
            var pipeline = try PipelineLoader(catalog: StageCatalog.all).load(
                path: path ?? invocation.files[0], overrides: invocation.params,
                environment: ProcessInfo.processInfo.environment, slot: slot)
            if let state = invocation.state {
                pipeline.state = try DatabaseLocator.parse(state, relativeTo: FileManager.default.currentDirectoryPath)
            }
            Console.secrets += pipeline.secrets.filter { !Console.secrets.contains($0) }
            return .success(pipeline)
        } catch let error as DiagnosticList {
            Console.writeError(error.description + "\n")
            return .failure(ExitStatus(error.code))
        } catch {
            return .failure(ExitStatus.reporting(error))
        }
    }
}

enum LogOutput {
    static func handler(for invocation: Invocation) -> any LogHandler {
        let minimum: LogLevel = invocation.verbose ? .debug : .info
        return switch invocation.logFormat {
        case .json: JSONLogHandler(minimum: minimum)
        case .text: TextLogHandler(minimum: minimum, interactive: Console.errorIsTerminal, color: Console.colorEnabled)
        }
    }
}

/// The `--dry-run` plan: stages in order, their resolved params, what each reads and writes, its counters
/// and outputs; with the state store's status (`pipeline plan`), what complete stages recorded.
enum PlanText {
    static func render(pipeline: Pipeline, plan: [PlannedStage], status: ResumeStatus? = nil) -> String {
        var lines = ["pipeline \(pipeline.name) (\(pipeline.file))", "database: \(pipeline.database)", "state: \(pipeline.state)"]
        for (name, locator) in pipeline.databases.sorted(by: { $0.key < $1.key }) { lines.append("database \(name): \(locator)") }
        if let description = pipeline.description { lines.append("description: \(description)") }
        if let schedule = pipeline.schedule, let slot = pipeline.slot {
            lines.append("schedule: \(schedule.summary)")
            lines.append("slot: \(schedule.displayText(slot)) (\(Schedule.utcText(slot)))")
        }
        if !pipeline.params.isEmpty {
            lines.append("params: " + pipeline.displayedParams.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
        }
        for rule in pipeline.notify {
            let place = rule.stageID.map { " (stage \($0))" } ?? ""
            lines.append("notify\(place): \(rule.events.joined(separator: ", ")) → \(rule.channel.display)")
        }
        if let folder = pipeline.metricsDirectory { lines.append("metrics: textfile in \(folder)") }
        if let endpoint = pipeline.tracesEndpoint { lines.append("traces: \(Transfer.peer(of: endpoint.text))") }
        for (number, stage) in plan.enumerated() {
            lines.append("")
            var heading = "\(number + 1). \(stage.id) (\(stage.kind))"
            if !stage.needs.isEmpty { heading += " needs \(stage.needs.joined(separator: ", "))" }
            if let state = status?.stages[stage.id] { heading += " [\(state.rawValue)]" }
            lines.append(heading)
            for parameter in stage.parameters { lines.append("     \(parameter.name): \(parameter.value)") }
            for read in stage.effects.reads { lines.append("   reads  \(read)") }
            for write in stage.effects.writes { lines.append("   writes \(write)") }
            if !stage.preview.isEmpty {
                lines.append("   would now:")
                lines += stage.preview.map { "     " + $0 }
            }
            if let counts = status?.counts[stage.id], !counts.isEmpty {
                lines.append("   counted " + RunsCommand.counts(counts))
            } else if !stage.counters.isEmpty {
                lines.append("   counts " + stage.counters.map { "\($0.name) (\($0.unit))" }.joined(separator: ", "))
            }
            let recorded = status?.outputs[stage.id] ?? StageOutputs()
            for output in stage.outputs {
                let value = recorded[output.name].map { " = " + RunsCommand.output($0) } ?? ""
                lines.append("   output \(output.name) (\(output.type.rawValue))\(value)")
            }
        }
        lines.append("")
        if status == nil {
            lines.append(
                plan.contains { !$0.preview.isEmpty }
                    ? "dry run: nothing was written (the database was read, read-only, to show what would run)"
                    : "dry run: nothing was read or written")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
