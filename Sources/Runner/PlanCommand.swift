import Pipelines

/// `pipeline plan FILE`: the plan, and where the pipeline's identity stands in the state store.
struct PlanCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let pipeline: Pipeline
        switch PipelineFile.load(invocation) {
        case .success(let loaded): pipeline = loaded
        case .failure(let status): return status
        }
        let engine = PipelineEngine(pipeline: pipeline, logger: Logger(handler: LogOutput.handler(for: invocation)))
        do {
            let status = try engine.resumeStatus()
            var text = PlanText.render(pipeline: pipeline, plan: engine.plan(), status: status)
            text += "identity: \(status.identity) (\(status.identity.short))\n"
            switch status.next {
            case .start: text += "next run: starts afresh\n"
            case .resume(let runID): text += "next run: resumes run \(runID) (\(status.latest?.status.rawValue ?? "?"))\n"
            case .complete(let runID): text += "next run: nothing to do, run \(runID) completed (use --rerun)\n"
            }
            Console.writeOutput(text)
            return .success
        } catch {
            return ExitStatus.reporting(error)
        }
    }
}
