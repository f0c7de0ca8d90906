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
        var error: String?
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

    init(run: RunRecord, stages: [StageRunRecord]) {
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
                counts: Dictionary(uniqueKeysWithValues: $0.outcome.counts), error: $0.error)
        }
    }

    func write(to folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let output = try AtomicOutputFile(path: (folder as NSString).appendingPathComponent("\(runID).json"))
        try output.write(Array(try encoder.encode(self)) + [0x0A])
        try output.commit()
    }
}
