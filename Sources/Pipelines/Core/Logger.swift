import Foundation

/// Where log events go is the executable's decision; the library only emits them (as in swift-log).
public protocol LogHandler: Sendable {
    func log(_ event: LogEvent)
    /// Progress of a long step; a handler may draw a bar or drop it.
    func progress(_ progress: ProgressEvent)
}

public enum LogLevel: String, Sendable, Comparable, CaseIterable {
    case debug, info, notice, warning, error

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .notice: 2
        case .warning: 3
        case .error: 4
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

public struct LogEvent: Sendable {
    public var time: Date
    public var level: LogLevel
    public var stage: String?
    /// A short machine-readable name, e.g. `stage.finished`.
    public var event: String
    public var message: String
    public var counts: [(String, Int64)]
    /// The run the event belongs to, and its trace when traces are sent: how logs and traces join.
    public var run: RunTag?

    public init(
        level: LogLevel, stage: String?, event: String, message: String, counts: [(String, Int64)] = [],
        time: Date = Date(), run: RunTag? = nil
    ) {
        self.run = run
        self.time = time
        self.level = level
        self.stage = stage
        self.event = event
        self.message = message
        self.counts = counts
    }
}

public struct ProgressEvent: Sendable {
    public var stage: String
    /// What is counted, e.g. `rows`.
    public var unit: String
    public var count: Int64
    /// Bytes (or units) done and in total, for rate and ETA; total is nil when unknown.
    public var done: Int64
    public var total: Int64?
    public var finished: Bool
    public var run: RunTag?

    public init(
        stage: String, unit: String, count: Int64, done: Int64, total: Int64?, finished: Bool = false, run: RunTag? = nil
    ) {
        self.run = run
        self.stage = stage
        self.unit = unit
        self.count = count
        self.done = done
        self.total = total
        self.finished = finished
    }
}

public struct RunTag: Sendable {
    public var runID: String
    public var traceID: String?
}

/// A logger bound to a run and a stage; cheap to copy.
public struct Logger: Sendable {
    public let handler: any LogHandler
    public var stage: String?
    public var run: RunTag?

    public init(handler: any LogHandler, stage: String? = nil, run: RunTag? = nil) {
        self.handler = handler
        self.stage = stage
        self.run = run
    }

    public func forStage(_ id: String) -> Logger { Logger(handler: handler, stage: id, run: run) }

    public func forRun(_ id: String, traceID: String?) -> Logger {
        Logger(handler: handler, stage: stage, run: RunTag(runID: id, traceID: traceID))
    }

    public func log(_ level: LogLevel, _ event: String, _ message: String, counts: [(String, Int64)] = []) {
        handler.log(LogEvent(level: level, stage: stage, event: event, message: message, counts: counts, run: run))
    }

    public func debug(_ event: String, _ message: String) { log(.debug, event, message) }
    public func info(_ event: String, _ message: String, counts: [(String, Int64)] = []) {
        log(.info, event, message, counts: counts)
    }
    public func notice(_ event: String, _ message: String) { log(.notice, event, message) }
    public func warning(_ event: String, _ message: String) { log(.warning, event, message) }
    public func error(_ event: String, _ message: String) { log(.error, event, message) }
}

/// Drops everything; for tests and library callers that want silence.
public struct SilentLogHandler: LogHandler {
    public init() {}
    public func log(_ event: LogEvent) {}
    public func progress(_ progress: ProgressEvent) {}
}
