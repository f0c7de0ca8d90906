import Foundation
import Pipelines
import Synchronization

/// One JSON object per line on stderr: time, level, stage, event, message, counts.
final class JSONLogHandler: LogHandler {
    private let minimum: LogLevel
    private let lastProgress = Mutex<[String: Date]>([:])
    private static let progressInterval: TimeInterval = 5

    init(minimum: LogLevel) { self.minimum = minimum }

    func log(_ event: LogEvent) {
        guard event.level >= minimum else { return }
        emit(
            time: event.time, level: event.level, stage: event.stage, event: event.event, message: event.message,
            counts: event.counts, run: event.run)
    }

    func progress(_ progress: ProgressEvent) {
        let now = Date()
        let due = lastProgress.withLock { last -> Bool in
            if !progress.finished, let previous = last[progress.stage], now.timeIntervalSince(previous) < Self.progressInterval {
                return false
            }
            last[progress.stage] = now
            return true
        }
        guard due else { return }
        var counts: [(String, Int64)] = [(progress.unit, progress.count), ("done", progress.done)]
        if let total = progress.total { counts.append(("total", total)) }
        var message = "\(progress.count) \(progress.unit)"
        if let total = progress.total, total > 0 { message += ", \(min(progress.done, total) * 100 / total)%" }
        if progress.finished { message += ", done" }
        emit(time: now, level: .info, stage: progress.stage, event: "progress", message: message, counts: counts, run: progress.run)
    }

    /// Text a command writes to stderr outside the log (a diagnostic, a usage error), one object a line.
    static func lines(of text: String, level: LogLevel, event: String) -> String {
        text.split(separator: "\n").map { text in
            line(time: Date(), level: level, stage: nil, event: event, message: String(text), counts: []) + "\n"
        }.joined()
    }

    private func emit(
        time: Date, level: LogLevel, stage: String?, event: String, message: String?, counts: [(String, Int64)],
        run: RunTag? = nil
    ) {
        Console.writeErrorSequences(
            Self.line(time: time, level: level, stage: stage, event: event, message: message, counts: counts, run: run)
                + "\n")
    }

    private static func line(
        time: Date, level: LogLevel, stage: String?, event: String, message: String?, counts: [(String, Int64)],
        run: RunTag? = nil
    ) -> String {
        var line = "{\"time\":\(JSONString.quoted(time.formatted(.iso8601))),\"level\":\"\(level.rawValue)\""
        if let run {
            line += ",\"run_id\":\(JSONString.quoted(run.runID))"
            if let trace = run.traceID { line += ",\"trace_id\":\(JSONString.quoted(trace))" }
        }
        line += ",\"stage\":" + (stage.map(JSONString.quoted) ?? "null")
        line += ",\"event\":\(JSONString.quoted(event))"
        if let message { line += ",\"message\":\(JSONString.quoted(message))" }
        line += ",\"counts\":{" + counts.map { "\(JSONString.quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}}"
        return line
    }
}
