import Foundation

/// Which slots of a scheduled pipeline to run now, in order: interrupted slots first (their work is half
/// done), then, with `catch_up: all`, the slots missed since the last completed one, then the latest slot.
public struct SlotPlan: Sendable {
    public enum Reason: String, Sendable {
        case resume, catchUp = "catch-up", current
    }

    public var slots: [(slot: Date, reason: Reason)] = []
    /// What people should know: a window not open, missed slots skipped.
    public var notices: [String] = []
    /// Now is outside the schedule's window: nothing runs.
    public var outsideWindow = false
}

public enum SlotPlanner {
    /// `run` runs the latest slot whatever its state (the engine then says it completed, or resumes it);
    /// `due` runs only slots never started or interrupted, and is quiet when nothing is due.
    public enum Mode: Sendable {
        case run, due
    }

    public static func plan(
        _ pipeline: Pipeline, now: Date, mode: Mode, ignoringWindow: Bool = false, logger: Logger
    ) throws -> SlotPlan {
        guard let schedule = pipeline.schedule else {
            throw PipelineError(.internal, "\(pipeline.file) has no schedule")
        }
        var plan = SlotPlan()
        let windowed = !ignoringWindow
        if windowed, !schedule.isInWindow(now) {
            plan.outsideWindow = true
            let next = schedule.slots(after: now, limit: 1).first.map { "; the next slot is \(schedule.displayText($0))" } ?? ""
            plan.notices.append(
                "\(schedule.displayText(now)) is outside the window (\(schedule.window?.summary ?? "")) of \(pipeline.name)'s schedule\(next); nothing to do (--ignore-window runs it anyway)")
            return plan
        }
        guard let current = schedule.latestSlot(atOrBefore: now, windowed: windowed) else {
            let next = schedule.slots(after: now, limit: 1).first.map(schedule.displayText) ?? "none"
            plan.notices.append("\(pipeline.name) has no slot before \(schedule.displayText(now)); the next is \(next)")
            return plan
        }
        let (last, statuses) = try recorded(pipeline, logger: logger)
        let currentText = Schedule.utcText(current)

        for (text, status) in statuses where status == .interrupted || status == .running {
            if let slot = Schedule.slotDate(text), slot < current { plan.slots.append((slot, .resume)) }
        }
        plan.slots.sort { $0.slot < $1.slot }

        let missed = last.flatMap(Schedule.slotDate).map {
            schedule.slots(after: $0, limit: 100_000, until: current.addingTimeInterval(-1), windowed: windowed)
                .filter { statuses[Schedule.utcText($0)] == nil }
        } ?? []
        let currentStatus = last == currentText ? RunStatus.succeeded : statuses[currentText]
        let runsCurrent: Bool
        switch mode {
        case .run: runsCurrent = true
        case .due: runsCurrent = currentStatus == nil || currentStatus == .interrupted || currentStatus == .running
        }
        let late = currentStatus == nil && now >= current.addingTimeInterval(schedule.grace.timeInterval)
        switch schedule.catchUp {
        case .all:
            let kept = missed.suffix(Schedule.catchUpLimit)
            if missed.count > kept.count {
                plan.notices.append("\(missed.count - kept.count) missed slots older than \(schedule.displayText(kept.first ?? current)) are skipped (catch_up: all runs at most \(Schedule.catchUpLimit))")
            }
            plan.slots += kept.map { ($0, .catchUp) }
        case .latest, .none:
            if !missed.isEmpty, runsCurrent {
                plan.notices.append("\(missed.count) missed slot\(missed.count == 1 ? "" : "s") since the last completed one (\(schedule.displayText(missed[0])) onwards) skipped (catch_up: \(schedule.catchUp.rawValue))")
            }
        }
        if runsCurrent {
            if schedule.catchUp == .none, late {
                plan.notices.append("the slot \(schedule.displayText(current)) was missed by more than its grace of \(schedule.grace.text) and is skipped (catch_up: none)")
            } else {
                plan.slots.append((current, .current))
            }
        }
        return plan
    }
}

extension SlotPlanner {
    /// Where a scheduled pipeline's slots stand in the state store.
    public struct History: Sendable {
        public var lastCompleted: Date?
        /// The slots after the last completed one, up to `now`, that did not complete, with the status of
        /// their latest run (nil: never started).
        public var notCompleted: [(slot: Date, status: RunStatus?)] = []
    }

    public static func history(_ pipeline: Pipeline, now: Date, logger: Logger) throws -> History {
        guard let schedule = pipeline.schedule else { throw PipelineError(.internal, "\(pipeline.file) has no schedule") }
        let (last, statuses) = try recorded(pipeline, logger: logger)
        var history = History(lastCompleted: last.flatMap(Schedule.slotDate))
        if let lastCompleted = history.lastCompleted, let current = schedule.latestSlot(atOrBefore: now) {
            history.notCompleted = schedule.slots(after: lastCompleted, limit: 100_000, until: current)
                .map { ($0, statuses[Schedule.utcText($0)]) }.filter { $0.1 != .succeeded }
        }
        return history
    }

    /// The last completed slot of the pipeline's series and the latest status of every slot after it.
    private static func recorded(_ pipeline: Pipeline, logger: Logger) throws -> (last: String?, statuses: [String: RunStatus]) {
        guard let series = try RunIdentity(pipeline: pipeline).series else {
            throw PipelineError(.internal, "a scheduled pipeline without a series")
        }
        guard let store = try StateStore.openIfPresent(locator: pipeline.state, logger: logger) else { return (nil, [:]) }
        let last = try store.lastCompletedSlot(series: series)
        return (last, try store.slotStatuses(series: series, after: last, limit: 10 * Schedule.catchUpLimit))
    }
}

extension Schedule {
    /// A recorded slot (`Schedule.utcText`) as an instant.
    static func slotDate(_ text: String) -> Date? { DateTime(text)?.date }
}
