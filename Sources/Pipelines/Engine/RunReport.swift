import Foundation

/// `var/runs/<run id>.json`: what one execution did, in the spirit of dbt's run_results.json.
struct RunReport: Encodable {
    struct Stage: Encodable {
        var id: String
        var kind: String
        var status: String
        var attempts: Int
        var startedAt: String
        var finishedAt: String?
        var seconds: Double?
        var counts: [String: Int64]
        var outputs: [String: RecordedOutput]
        var error: String?

        enum CodingKeys: String, CodingKey {
            case id, kind, status, attempts, seconds, counts, outputs, error
            case startedAt = "started_at"
            case finishedAt = "finished_at"
        }
    }

    struct Event: Encodable {
        var id: String
        var stage: String
        var name: String
        var payload: JSONValue
        var raisedAt: String

        enum CodingKeys: String, CodingKey {
            case id, stage, name, payload
            case raisedAt = "raised_at"
        }
    }

    struct Notification: Encodable {
        var eventID: String
        var event: String
        var channel: String
        var status: String
        var attempts: Int
        var error: String?

        enum CodingKeys: String, CodingKey {
            case event, channel, status, attempts, error
            case eventID = "event_id"
        }
    }

    var runID: String
    var pipeline: String
    var file: String
    var identity: String
    var params: [String: String]
    var status: String
    var resumedFrom: String?
    var startedAt: String
    var finishedAt: String?
    var seconds: Double?
    var pid: Int
    var host: String
    var error: String?
    var stages: [Stage]
    var events: [Event]
    var notifications: [Notification]

    /// Snake case by hand: a strategy would also rename the keys inside payloads and outputs.
    enum CodingKeys: String, CodingKey {
        case pipeline, file, identity, params, status, seconds, pid, host, error, stages, events, notifications
        case runID = "run_id"
        case resumedFrom = "resumed_from"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    init(run: RunRecord, stages: [StageRunRecord], events: [RecordedEvent], notifications: [OutboxItem]) {
        runID = run.id
        pipeline = run.pipeline
        file = run.file
        identity = run.identity
        params = run.params
        status = run.status.rawValue
        resumedFrom = run.resumedFrom
        startedAt = StateTime.text(run.startedAt)
        finishedAt = run.finishedAt.map(StateTime.text)
        seconds = run.seconds
        pid = run.pid
        host = run.host
        error = run.error
        self.stages = stages.map {
            Stage(
                id: $0.stageID, kind: $0.kind, status: $0.status.rawValue, attempts: $0.attempts,
                startedAt: StateTime.text($0.startedAt), finishedAt: $0.finishedAt.map(StateTime.text),
                seconds: $0.milliseconds.map { Double($0) / 1000 },
                counts: Dictionary($0.counts.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }),
                outputs: $0.outputs.values, error: $0.error)
        }
        self.events = events.map {
            Event(
                id: $0.id, stage: $0.stageID, name: $0.name, payload: (try? JSONValue.parse($0.payload)) ?? .null,
                raisedAt: $0.raisedAt)
        }
        self.notifications = notifications.map {
            Notification(
                eventID: $0.eventID, event: $0.name, channel: $0.channelDisplay, status: $0.status.rawValue,
                attempts: $0.attempts, error: $0.error)
        }
    }

    /// Writes `folder/<run id>.json` in place of what a killed write of it left (one process at a time
    /// runs a run, so the temporary files of its report are that run's own).
    func write(to folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let output = try AtomicOutputFile(path: Self.path(of: runID, in: folder), owner: "run-report")
        try output.write(Array(try encoder.encode(self)) + [0x0A])
        try output.commit()
    }

    /// Where the workspace's run reports go: `runs/` in its work directory.
    static func folder(in workspace: Workspace) -> String {
        (workspace.workDirectory as NSString).appendingPathComponent("runs")
    }

    static func path(of runID: String, in folder: String) -> String { (folder as NSString).appendingPathComponent("\(runID).json") }

    /// The report of `run` as the state store holds it, written to `folder`.
    static func write(_ run: RunRecord, from store: StateStore, to folder: String) throws {
        try RunReport(
            run: try store.run(id: run.id) ?? run, stages: try store.stageRuns(runID: run.id),
            events: try store.events(runID: run.id), notifications: try store.notifications(runID: run.id)
        )
        .write(to: folder)
    }
}
