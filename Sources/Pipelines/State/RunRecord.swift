import Foundation

public enum RunStatus: String, Sendable {
    case running, succeeded, failed, interrupted
}

/// One execution of a pipeline, as kept in the state store.
public struct RunRecord: Sendable {
    public var id: String
    public var identity: String
    /// `identity.generation.first-run-id`: the logical run this execution works on. A resumed execution
    /// shares it with the one it resumes; `--restart` and `--rerun` start a new generation.
    public var instance: String
    public var pipeline: String
    public var file: String
    public var params: [String: String]
    public var status: RunStatus
    public var resumedFrom: String?
    public var startedAt: Date
    public var finishedAt: Date?
    public var heartbeatAt: Date
    public var pid: Int
    public var host: String
    public var error: String?
    /// For a scheduled pipeline: the key of its runs across slots, and the slot (UTC, `Schedule.utcText`).
    public var series: String? = nil
    public var slot: String? = nil

    /// The second part of the instance (instances made before the run id was added have two parts).
    public var generation: Int {
        let parts = instance.split(separator: ".")
        return parts.count > 1 ? Int(parts[1]) ?? 1 : 1
    }

    public var seconds: TimeInterval? { finishedAt.map { max($0.timeIntervalSince(startedAt), 0) } }
}

public enum StageRunStatus: String, Sendable {
    case running, succeeded, failed, interrupted
    /// Complete in an earlier execution of the same logical run; not run again.
    case complete
}

/// One stage of one execution.
public struct StageRunRecord: Sendable {
    public var runID: String
    public var stageID: String
    public var kind: String
    public var status: StageRunStatus
    public var attempts: Int
    public var startedAt: Date
    public var finishedAt: Date?
    public var milliseconds: Int64?
    /// The stage's counters in the order its kind declares them.
    public var counts: [RecordedCount]
    /// The outputs recorded with the stage's completion in this logical run.
    public var outputs: StageOutputs
    public var error: String?
}

/// One counter value of a stage run.
public struct RecordedCount: Sendable, Equatable {
    public var name: String
    public var unit: String
    public var value: Int64

    public init(name: String, unit: String, value: Int64) {
        self.name = name
        self.unit = unit
        self.value = value
    }
}

/// Timestamps in the state store: ISO 8601 in UTC with milliseconds, so text order is time order.
public enum StateTime {
    public static func text(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    public static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        return try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// Where a stage stands in one logical run (an instance).
struct StageState: Sendable {
    var complete: Bool
    var checkpoint: String?
    var outputs: StageOutputs
}
