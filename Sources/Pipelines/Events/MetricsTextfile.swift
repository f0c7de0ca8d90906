import Foundation

/// A run's figures in Prometheus's text format, for node_exporter's textfile collector: one file per
/// pipeline (`pipeline_NAME.prom`), replaced atomically after every run. Gauges hold the last run's
/// values; `pipeline_runs_total` counts the runs the state store has recorded, by status.
enum MetricsTextfile {
    struct Figures {
        var pipeline: String
        var run: RunRecord
        var stages: [StageRunRecord]
        var lastSuccess: Date?
        var runTotals: [String: Int64]
    }

    static func fileName(for pipeline: String) -> String {
        "pipeline_" + String(pipeline.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" }) + ".prom"
    }

    static func render(_ figures: Figures) -> String {
        var text = ""
        let pipeline = "pipeline=\"\(escape(figures.pipeline))\""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            guard !samples.isEmpty else { return }
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name){\(pipeline)\(sample.labels)} \(sample.value)\n" }
        }
        let run = figures.run
        family("pipeline_last_run_start_timestamp_seconds", "gauge", "When the last run started, in seconds since the epoch.",
            [("", seconds(run.startedAt))])
        family("pipeline_last_run_end_timestamp_seconds", "gauge", "When the last run ended, in seconds since the epoch.",
            run.finishedAt.map { [("", seconds($0))] } ?? [])
        family("pipeline_last_run_duration_seconds", "gauge", "Wall time of the last run.",
            run.seconds.map { [("", decimal($0))] } ?? [])
        family("pipeline_last_run_success", "gauge", "1 when the last run succeeded, else 0.",
            [("", run.status == .succeeded ? "1" : "0")])
        family("pipeline_last_run_status", "gauge", "The last run's status: 1 for the status it ended with, 0 for the others.",
            [RunStatus.succeeded, .failed, .interrupted].map { (",status=\"\($0.rawValue)\"", run.status == $0 ? "1" : "0") })
        family("pipeline_last_success_timestamp_seconds", "gauge", "When the last successful run ended, in seconds since the epoch.",
            figures.lastSuccess.map { [("", seconds($0))] } ?? [])
        family("pipeline_runs_total", "counter", "Runs recorded in the state store, by the status they ended with.",
            figures.runTotals.sorted { $0.key < $1.key }.map { (",status=\"\(escape($0.key))\"", String($0.value)) })
        let stages = figures.stages
        func stageLabel(_ stage: StageRunRecord) -> String { ",stage=\"\(escape(stage.stageID))\",kind=\"\(escape(stage.kind))\"" }
        family("pipeline_stage_last_duration_seconds", "gauge", "Wall time of each stage in the last run.",
            stages.compactMap { stage in stage.milliseconds.map { (stageLabel(stage), decimal(Double($0) / 1000)) } })
        family("pipeline_stage_last_attempts", "gauge", "Attempts each stage took in the last run (0: complete in an earlier run).",
            stages.map { (stageLabel($0), String($0.attempts)) })
        family("pipeline_stage_last_success", "gauge", "1 when the stage succeeded (or was complete already) in the last run, else 0.",
            stages.map { (stageLabel($0), $0.status == .succeeded || $0.status == .complete ? "1" : "0") })
        family("pipeline_stage_last_items", "gauge", "What each stage counted in the last run (rows read, written, rejected, ...), by counter and unit.",
            stages.flatMap { stage in
                stage.counts.map { (stageLabel(stage) + ",counter=\"\(escape($0.name))\",unit=\"\(escape($0.unit))\"", String($0.value)) }
            })
        return text
    }

    /// Writes the run's file into `folder` (or to `file`) atomically: the collector never reads half a file.
    static func write(_ figures: Figures, folder: String?, file: String?) throws {
        for path in [folder.map { ($0 as NSString).appendingPathComponent(fileName(for: figures.pipeline)) }, file].compactMap({ $0 }) {
            let output = try AtomicOutputFile(path: path)
            try output.write(Array(render(figures).utf8))
            try output.commit()
        }
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func seconds(_ date: Date) -> String { decimal(date.timeIntervalSince1970) }

    private static func decimal(_ value: Double) -> String { String(format: "%.3f", value) }
}

extension StateStore {
    /// For the metrics: when the pipeline's last successful run ended, and its runs counted by status.
    func metricsTotals(pipeline: String) throws -> (lastSuccess: Date?, runs: [String: Int64]) {
        var lastSuccess: Date?
        try connection.query(
            "SELECT max(finished_at) FROM pipeline_runs WHERE pipeline = $1 AND status = 'succeeded'", [.text(pipeline)],
            columns: { _ in }
        ) { lastSuccess = StateTime.date($0.string(0)) }
        var runs: [String: Int64] = [:]
        try connection.query(
            "SELECT status, count(*) FROM pipeline_runs WHERE pipeline = $1 AND status <> 'running' GROUP BY status",
            [.text(pipeline)], columns: { _ in }
        ) { row in runs[row.string(0) ?? "unknown"] = row.int64(1) ?? 0 }
        return (lastSuccess, runs)
    }
}
