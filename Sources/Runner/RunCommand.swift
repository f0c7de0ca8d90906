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
        let pipeline: Pipeline
        switch PipelineFile.load(invocation) {
        case .success(let loaded): pipeline = loaded
        case .failure(let status): return status
        }
        let engine = PipelineEngine(pipeline: pipeline, logger: logger)
        if invocation.dryRun {
            Console.writeOutput(PlanText.render(pipeline: pipeline, plan: engine.plan()))
            return .success
        }
        installSignalHandlers()
        do {
            _ = try engine.run(RunOptions(restart: invocation.restart, rerun: invocation.rerun, stop: stopRequest))
            return .success
        } catch {
            logger.error("run.failed", error.description)
            return ExitStatus(error)
        }
    }

    /// The first SIGINT or SIGTERM asks the run to stop after its current chunk; a second one ends the
    /// process at once (still resumable from the last committed chunk). The signals are also unblocked:
    /// a parent may have started us with them blocked, which exec keeps.
    private func installSignalHandlers() {
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
    static func load(_ invocation: Invocation) -> Result<Pipeline, ExitStatus> {
        do {
            var pipeline = try PipelineLoader(catalog: StageCatalog.all).load(
                path: invocation.files[0], overrides: invocation.params,
                environment: ProcessInfo.processInfo.environment)
            if let state = invocation.state {
                pipeline.state = try DatabaseLocator.parse(state, relativeTo: FileManager.default.currentDirectoryPath)
            }
            Console.secrets = pipeline.secrets
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
        if !pipeline.params.isEmpty {
            lines.append("params: " + pipeline.displayedParams.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
        }
        for (number, stage) in plan.enumerated() {
            lines.append("")
            var heading = "\(number + 1). \(stage.id) (\(stage.kind))"
            if !stage.needs.isEmpty { heading += " needs \(stage.needs.joined(separator: ", "))" }
            if let state = status?.stages[stage.id] { heading += " [\(state.rawValue)]" }
            lines.append(heading)
            for parameter in stage.parameters { lines.append("     \(parameter.name): \(parameter.value)") }
            for read in stage.effects.reads { lines.append("   reads  \(read)") }
            for write in stage.effects.writes { lines.append("   writes \(write)") }
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
        if status == nil { lines.append("dry run: nothing was read or written") }
        return lines.joined(separator: "\n") + "\n"
    }
}
