import Foundation

/// Turns a run's events into notifications. Each event a `notify:` rule names is put in the outbox for the
/// rule's channel before anything is sent; the outbox is then delivered at the run's start and end within
/// one time budget, so a dead receiver never holds a nightly job for long. What is not delivered stays in
/// the outbox for the next run. Nothing here changes a run's outcome: failures are logged and recorded.
final class Notifier {
    /// How long one run spends delivering, in all.
    static let budget: Duration = .seconds(20)
    /// A notification still undelivered after this long is given up.
    static let maximumAge: TimeInterval = 7 * 86_400

    struct Event {
        var id: String
        var name: String
        var runID: String
        var stageID: String?
        /// Members after the common ones: status, counts, error, payload.
        var fields: [(String, JSONValue)]
    }

    private let pipeline: Pipeline
    private let store: StateStore
    private let logger: Logger
    private let stop: StopRequest
    private let delivery: ChannelDelivery
    private var spent: Duration = .zero

    init(pipeline: Pipeline, store: StateStore, logger: Logger, stop: StopRequest, environment: [String: String]) {
        self.pipeline = pipeline
        self.store = store
        self.logger = logger
        self.stop = stop
        delivery = ChannelDelivery(environment: environment)
    }

    static func eventID(_ parts: String...) -> String {
        (try? SHA256.hex(of: parts.joined(separator: "\n"))) ?? parts.joined(separator: ".")
    }

    /// The outbox items of `event`: one per channel whose rule names it.
    func items(for event: Event) -> [OutboxItem] {
        let channels = Self.channels(of: pipeline) { $0.matches(event: event.name, stageID: event.stageID) }
        guard !channels.isEmpty else { return [] }
        let time = StateTime.text(Date())
        let body = Self.body(of: event, at: time, pipeline: pipeline)
        return channels.map { Self.item(event, body: body, at: time, for: $0, pipeline: pipeline.name) }
    }

    private static func item(_ event: Event, body: String, at time: String, for channel: NotifyChannel, pipeline: String)
        -> OutboxItem
    {
        OutboxItem(
            eventID: event.id, channel: channel.key, channelDisplay: channel.display, pipeline: pipeline,
            runID: event.runID, name: event.name, body: body, status: .pending, attempts: 0, error: nil, createdAt: time)
    }

    /// The notification as JSON: the same for every channel, and never with a secret of the file in it.
    private static func body(of event: Event, at time: String, pipeline: Pipeline) -> String {
        let body = JSONValue.object(
            [
                ("id", .string(event.id)), ("type", .string(event.name)), ("time", .string(time)),
                ("pipeline", .string(pipeline.name)), ("run_id", .string(event.runID)),
                ("stage", event.stageID.map(JSONValue.string) ?? .null),
            ] + event.fields + [
                ("params", .object(pipeline.displayedParams.map { ($0.name, .string($0.value)) })),
                ("run_record", .string(Self.runRecordPath(pipeline, runID: event.runID))),
            ]
        ).serialized
        return SecretMask.hide(pipeline.secrets, in: body)
    }

    /// The channels of the rules that `include`, each once, in file order.
    private static func channels(of pipeline: Pipeline, where include: (NotifyRule) -> Bool) -> [NotifyChannel] {
        var channels: [NotifyChannel] = []
        for rule in pipeline.notify where include(rule) && !channels.contains(rule.channel) { channels.append(rule.channel) }
        return channels
    }

    static func runRecordPath(_ pipeline: Pipeline, runID: String) -> String {
        RunReport.path(of: runID, in: RunReport.folder(in: pipeline.workspace))
    }

    /// Puts the event in the outbox; a failure to do so is logged, never thrown.
    func record(_ event: Event) {
        do {
            try store.enqueue(items(for: event))
        } catch {
            logger.warning("notify.not-recorded", "could not record \(event.name) for notification: \(error)")
        }
    }

    /// Delivers the pipeline's pending notifications, oldest first, within what is left of the budget.
    func deliver(runID: String) {
        guard !pipeline.notify.isEmpty else { return }
        let channels = Dictionary(pipeline.notify.map { ($0.channel.key, $0.channel) }, uniquingKeysWith: { first, _ in first })
        let pending: [OutboxItem]
        do {
            pending = try store.pendingNotifications(pipeline: pipeline.name)
        } catch {
            logger.warning("notify.outbox-unreadable", "could not read the notification outbox: \(error)")
            return
        }
        for (index, item) in pending.enumerated() {
            if stop.signalNumber != nil || Self.budget - spent < .milliseconds(100) {
                let reason = stop.signalNumber != nil ? "the run was asked to stop" : "the \(Self.budget.text) for notifications is spent"
                logger.warning("notify.deferred", "\(pending.count - index) notification(s) left in the outbox for the next run: \(reason)")
                return
            }
            deliver(item, to: channels[item.channel], runID: runID)
        }
    }

    private func deliver(_ item: OutboxItem, to channel: NotifyChannel?, runID: String) {
        guard let channel else {
            finish(item, .failed, attempts: item.attempts, error: "its channel (\(item.channelDisplay)) is no longer in the file", runID: runID)
            return
        }
        if let created = StateTime.date(item.createdAt), Date().timeIntervalSince(created) > Self.maximumAge {
            finish(item, .failed, attempts: item.attempts, error: "not delivered within 7 days; given up (last: \(item.error ?? "-"))", runID: runID)
            return
        }
        var attempts = item.attempts
        var tries = 0
        while true {
            let started = ContinuousClock.now
            let outcome = delivery.send(item, to: channel, timeout: Self.budget - spent)
            spent += ContinuousClock.now - started
            attempts += 1
            tries += 1
            switch outcome {
            case .delivered(let detail):
                finish(item, .delivered, attempts: attempts, error: nil, runID: runID)
                logger.info("notify.delivered", "\(item.name) to \(channel.display): \(detail)")
                return
            case .failed(let error):
                finish(item, .failed, attempts: attempts, error: error, runID: runID)
                logger.warning("notify.failed", "\(item.name) to \(channel.display) was refused, not sent again: \(error)")
                return
            case .postpone(let error):
                finish(item, .pending, attempts: attempts, error: error, runID: runID)
                logger.warning("notify.failed", "\(item.name) to \(channel.display) not sent: \(error); left in the outbox for the next run")
                return
            case .retry(let error, let after):
                let wait = after ?? backoff(tries)
                guard tries <= channel.retries, spent + wait + .milliseconds(100) < Self.budget, stop.signalNumber == nil else {
                    finish(item, .pending, attempts: attempts, error: error, runID: runID)
                    logger.warning("notify.failed", "\(item.name) to \(channel.display) failed after \(tries) attempt(s): \(error); left in the outbox for the next run")
                    return
                }
                logger.debug("notify.retry", "\(item.name) to \(channel.display): \(error); trying again in \(wait.text)")
                pause(wait)
                spent += wait
            }
        }
    }

    /// 0.5 s doubling per try up to 8 s, with jitter: between half and all of it.
    private func backoff(_ tries: Int) -> Duration {
        let full = min(500 * (1 << min(tries - 1, 4)), 8000)
        return .milliseconds(Int.random(in: full / 2...full))
    }

    /// Sleeps in short steps, so a stop request cuts the wait short.
    private func pause(_ wait: Duration) {
        let end = ContinuousClock.now + wait
        while ContinuousClock.now < end && stop.signalNumber == nil { Thread.sleep(forTimeInterval: 0.05) }
    }

    private func finish(_ item: OutboxItem, _ status: OutboxItem.Status, attempts: Int, error: String?, runID: String) {
        do {
            try store.recordDelivery(item, status: status, attempts: attempts, error: error.map { SecretMask.hide(pipeline.secrets, in: $0) }, by: runID)
        } catch {
            logger.warning("notify.not-recorded", "could not record the delivery of \(item.name): \(error)")
        }
    }

    /// `pipeline notify test`: one test event straight to every channel of the file, not through the
    /// outbox, so a new webhook, mailbox or command can be tried before a night depends on it.
    static func sendTest(_ pipeline: Pipeline, environment: [String: String]) -> [NotificationTestResult] {
        let channels = channels(of: pipeline) { _ in true }
        let runID = "test-" + RunExecution.newRunID(at: Date())
        let event = Event(
            id: eventID(runID, RunEvents.test), name: RunEvents.test, runID: runID, stageID: nil,
            fields: [("status", .string("test"))])
        let time = StateTime.text(Date())
        let body = body(of: event, at: time, pipeline: pipeline)
        let delivery = ChannelDelivery(environment: environment)
        return channels.map { channel in
            let item = item(event, body: body, at: time, for: channel, pipeline: pipeline.name)
            return switch delivery.send(item, to: channel, timeout: channel.timeout) {
            case .delivered(let detail): NotificationTestResult(channel: channel.display, delivered: true, detail: detail)
            case .retry(let error, _), .postpone(let error), .failed(let error):
                NotificationTestResult(channel: channel.display, delivered: false, detail: error)
            }
        }
    }
}

public struct NotificationTestResult: Sendable {
    public var channel: String
    public var delivered: Bool
    public var detail: String
}

public enum NotificationTest {
    public static func run(_ pipeline: Pipeline, environment: [String: String]) -> [NotificationTestResult] {
        Notifier.sendTest(pipeline, environment: environment)
    }
}
