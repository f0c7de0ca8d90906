import Foundation
import Pipelines

/// `pipeline due FILE...`: for a runner that calls it every minute (cron). Runs the slots of the files'
/// schedules that are due, oldest first across files; prints nothing when nothing is due. A slot another
/// run holds is skipped; a file whose slot fails runs no later slot, and the others go on.
struct DueCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let logger = Logger(handler: LogOutput.handler(for: invocation))
        let now = invocation.now ?? Date()
        RunCommand.installSignalHandlers()
        var result = ExitStatus.success
        var due: [(slot: Date, reason: SlotPlan.Reason, pipeline: Pipeline, file: Int)] = []
        for (index, file) in invocation.files.enumerated() {
            let pipeline: Pipeline
            switch PipelineFile.load(invocation, path: file, slot: SlotChoice(now: now)) {
            case .success(let loaded): pipeline = loaded
            case .failure(let status):
                if result == .success { result = status }
                continue
            }
            guard pipeline.schedule != nil else {
                Console.writeError("pipeline: \(file) has no 'schedule'; `pipeline due` runs scheduled pipelines only\n")
                if result == .success { result = .config }
                continue
            }
            do {
                let plan = try SlotPlanner.plan(pipeline, now: now, mode: .due, logger: logger)
                for notice in plan.notices {
                    if plan.outsideWindow { logger.debug("schedule.outside-window", notice) } else { logger.notice("schedule.skipped", notice) }
                }
                due += plan.slots.map { ($0.slot, $0.reason, pipeline, index) }
            } catch {
                let status = ExitStatus.reporting(error)
                if result == .success { result = status }
            }
        }
        due.sort { ($0.slot, $0.file) < ($1.slot, $1.file) }
        var failedFiles: Set<Int> = []
        for item in due where !failedFiles.contains(item.file) {
            if stopRequest.signalNumber != nil { break }
            let status = RunCommand.runSlot(
                item.slot, reason: item.reason, of: item.pipeline, invocation, now: now, logger: logger, quietWhenLocked: true)
            guard status == .success else {
                failedFiles.insert(item.file)
                if result == .success { result = status }
                continue
            }
        }
        return result
    }
}
