import Foundation
import Pipelines
import Synchronization

/// Human-readable log lines on stderr; a live progress bar when stderr is a terminal,
/// a progress line every few seconds otherwise.
final class TextLogHandler: LogHandler {
    private struct State {
        var barVisible = false
        var lastDraw: [String: Date] = [:]
        var firstSeen: [String: (time: Date, count: Int64, done: Int64)] = [:]
    }

    private let minimum: LogLevel
    private let interactive: Bool
    private let color: Bool
    private let state = Mutex(State())
    private static let plainProgressInterval: TimeInterval = 5
    private static let barInterval: TimeInterval = 0.1

    init(minimum: LogLevel, interactive: Bool, color: Bool) {
        self.minimum = minimum
        self.interactive = interactive
        self.color = color
    }

    func log(_ event: LogEvent) {
        guard event.level >= minimum else { return }
        var line = "\(Self.clock(event.time)) \(levelLabel(event.level))"
        if let stage = event.stage { line += " [\(stage.escapingControlCharacters)]" }
        line += " \(event.message.escapingControlCharacters)"
        let counts = event.counts.filter { $0.1 != 0 }
        if !counts.isEmpty { line += " (" + counts.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + ")" }
        state.withLock { state in
            let clear = state.barVisible ? "\r\u{1B}[K" : ""
            state.barVisible = false
            Console.writeErrorSequences(clear + line + "\n")
        }
    }

    func progress(_ progress: ProgressEvent) {
        let now = Date()
        state.withLock { state in
            let first = state.firstSeen[progress.stage] ?? (now, progress.count, progress.done)
            state.firstSeen[progress.stage] = first
            let interval = interactive ? Self.barInterval : Self.plainProgressInterval
            if !progress.finished, let last = state.lastDraw[progress.stage], now.timeIntervalSince(last) < interval {
                return
            }
            state.lastDraw[progress.stage] = now
            let text = ProgressText(
                progress: progress, started: first.time, startCount: first.count, startDone: first.done, now: now)
            if interactive {
                Console.writeErrorSequences("\r\u{1B}[K" + text.bar(width: 24).escapingControlCharacters + (progress.finished ? "\n" : ""))
                state.barVisible = !progress.finished
            } else if !progress.finished {
                Console.writeErrorSequences(
                    "\(Self.clock(now)) \(levelLabel(.info)) [\(progress.stage.escapingControlCharacters)] "
                        + "\(text.plain.escapingControlCharacters)\n")
            }
        }
    }

    private func levelLabel(_ level: LogLevel) -> String {
        let label = level.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0)
        guard color else { return label }
        let code =
            switch level {
            case .debug: "2"
            case .info: "36"
            case .notice: "34"
            case .warning: "33"
            case .error: "31"
            }
        return "\u{1B}[\(code)m\(label)\u{1B}[0m"
    }

    static func clock(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// Count, rate and ETA of a progress event, as a bar or a plain sentence.
struct ProgressText {
    var progress: ProgressEvent
    /// The first event of the stage: rate and ETA are measured from it.
    var started: Date
    var startCount: Int64
    var startDone: Int64
    var now: Date

    private var elapsed: TimeInterval { now.timeIntervalSince(started) }
    /// Nil until there is enough to measure.
    private var rate: Int64? {
        guard elapsed >= 0.2, progress.count > startCount else { return nil }
        return Int64(Double(progress.count - startCount) / elapsed)
    }

    private var eta: String? {
        guard elapsed >= 0.2, let total = progress.total, total > 0, progress.done > startDone else { return nil }
        let perSecond = Double(progress.done - startDone) / elapsed
        let remaining = Double(max(total - progress.done, 0)) / perSecond
        guard remaining.isFinite else { return nil }
        let seconds = Int(remaining.rounded())
        return String(format: "%d:%02d", seconds / 60, seconds % 60)
    }

    var plain: String {
        var text = "\(progress.count) \(progress.unit)"
        if let rate { text += ", \(rate) \(progress.unit)/s" }
        if let total = progress.total, total > 0 { text += ", \(progress.done * 100 / total)%" }
        if let eta { text += ", ETA \(eta)" }
        return text
    }

    func bar(width: Int) -> String {
        var text = "[\(progress.stage)] "
        if let total = progress.total, total > 0 {
            let filled = Int(min(progress.done, total) * Int64(width) / total)
            text += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
        }
        return text + plain
    }
}
