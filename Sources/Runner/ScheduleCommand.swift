import Foundation
import Pipelines

/// `pipeline schedule show|systemd|cron FILE`: a scheduled pipeline's next slots and what it missed, and
/// the systemd units or the crontab line that run it.
struct ScheduleCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let verb = invocation.files[0]
        let now = invocation.now ?? Date()
        let pipeline: Pipeline
        switch PipelineFile.load(invocation, path: invocation.files[1], slot: SlotChoice(now: now)) {
        case .success(let loaded): pipeline = loaded
        case .failure(let status): return status
        }
        guard let schedule = pipeline.schedule else {
            Console.writeError("pipeline: \(pipeline.file) has no 'schedule'\n")
            return .config
        }
        let logger = Logger(handler: LogOutput.handler(for: invocation))
        do {
            switch verb {
            case "show": Console.writeOutput(try show(pipeline, schedule, now: now, logger: logger))
            case "cron": Console.writeOutput(try units(pipeline).crontab)
            default: try systemd(pipeline, logger: logger)
            }
            return .success
        } catch {
            return ExitStatus.reporting(error)
        }
    }

    private func units(_ pipeline: Pipeline) throws -> ScheduleUnits {
        try ScheduleUnits(pipeline: pipeline, executable: Self.executablePath, user: invocation.user)
    }

    private func systemd(_ pipeline: Pipeline, logger: Logger) throws {
        let units = try units(pipeline)
        let environment = ProcessInfo.processInfo.environment
        let paths: [String]
        if invocation.install {
            let root = invocation.root.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
            paths = try ScheduleInstaller.install(units, root: root, environment: environment, logger: logger)
        } else {
            paths = try ScheduleInstaller.write(units, into: invocation.out ?? FileManager.default.currentDirectoryPath)
        }
        Console.writeOutput(paths.map { $0 + "\n" }.joined())
        if invocation.install { Console.writeOutput("enabled \(units.unitName).timer\n") }
    }

    private func show(_ pipeline: Pipeline, _ schedule: Schedule, now: Date, logger: Logger) throws -> String {
        let count = invocation.count ?? 10
        func slotLine(_ slot: Date, _ note: String = "") -> String {
            "  \(schedule.displayText(slot))   \(Schedule.utcText(slot))" + (note.isEmpty ? "" : "   \(note)")
        }
        var lines = ["pipeline \(pipeline.name) (\(pipeline.file))", "schedule: \(schedule.summary)"]
        let history = try SlotPlanner.history(pipeline, now: now, logger: logger)
        lines.append(
            "last completed slot: "
                + (history.lastCompleted.map { "\(schedule.displayText($0))   \(Schedule.utcText($0))" } ?? "none"))
        if !history.notCompleted.isEmpty {
            lines.append("not completed since then: \(history.notCompleted.count)")
            lines += history.notCompleted.prefix(count).map { slotLine($0.slot, $0.status?.rawValue ?? "not run") }
        }
        let plan = try SlotPlanner.plan(pipeline, now: now, mode: .due, logger: logger)
        if plan.slots.isEmpty {
            lines.append("due at \(schedule.displayText(now)): nothing" + (plan.outsideWindow ? " (outside the window)" : ""))
        } else {
            lines.append("due at \(schedule.displayText(now)):")
            lines += plan.slots.map { slotLine($0.slot, $0.reason.rawValue) }
        }
        for notice in plan.notices where !plan.outsideWindow { lines.append("  note: \(notice)") }
        let from = invocation.from ?? now
        lines.append("next \(count) slots after \(schedule.displayText(from)):")
        lines += schedule.slots(after: from, limit: count).map { slotLine($0) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// This executable, for the units and crontab lines to run.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}
