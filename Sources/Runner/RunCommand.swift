import Foundation
import Pipelines
import Stages

struct RunCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let logger = Logger(handler: makeLogHandler())
        let pipeline: Pipeline
        do {
            pipeline = try PipelineLoader(catalog: StageCatalog.all).load(
                path: invocation.files[0], overrides: invocation.params,
                environment: ProcessInfo.processInfo.environment)
        } catch {
            Console.writeError(error.description + "\n")
            return ExitStatus(error.code)
        }
        let engine = PipelineEngine(pipeline: pipeline, logger: logger)
        if invocation.dryRun {
            Console.writeOutput(PlanText.render(pipeline: pipeline, plan: engine.plan()))
            return .success
        }
        do {
            _ = try engine.run()
            return .success
        } catch {
            logger.error("run.failed", error.description)
            return ExitStatus(error.code)
        }
    }

    private func makeLogHandler() -> any LogHandler {
        let minimum: LogLevel = invocation.verbose ? .debug : .info
        return switch invocation.logFormat {
        case .json: JSONLogHandler(minimum: minimum)
        case .text: TextLogHandler(minimum: minimum, interactive: Console.errorIsTerminal, color: Console.colorEnabled)
        }
    }
}

/// The `--dry-run` plan: stages in order, their resolved params, what each reads and writes.
enum PlanText {
    static func render(pipeline: Pipeline, plan: [PlannedStage]) -> String {
        var lines = ["pipeline \(pipeline.name) (\(pipeline.file))", "database: \(pipeline.database)"]
        if let description = pipeline.description { lines.append("description: \(description)") }
        if !pipeline.params.isEmpty {
            lines.append("params: " + pipeline.params.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
        }
        for (number, stage) in plan.enumerated() {
            lines.append("")
            var heading = "\(number + 1). \(stage.id) (\(stage.kind))"
            if !stage.needs.isEmpty { heading += " needs \(stage.needs.joined(separator: ", "))" }
            lines.append(heading)
            for parameter in stage.parameters { lines.append("     \(parameter.name): \(parameter.value)") }
            for read in stage.effects.reads { lines.append("   reads  \(read)") }
            for write in stage.effects.writes { lines.append("   writes \(write)") }
        }
        lines.append("")
        lines.append("dry run: nothing was read or written")
        return lines.joined(separator: "\n") + "\n"
    }
}
