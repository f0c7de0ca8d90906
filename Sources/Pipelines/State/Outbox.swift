import Foundation

/// A notification waiting for, or past, its delivery to one channel.
public struct OutboxItem: Sendable, Equatable {
    public enum Status: String, Sendable {
        case pending, delivered, failed
    }

    public var eventID: String
    /// `NotifyChannel.key` of the channel it goes to.
    public var channel: String
    public var channelDisplay: String
    public var pipeline: String
    /// The run that raised the event.
    public var runID: String
    public var name: String
    /// The notification as JSON, exactly as it is sent.
    public var body: String
    public var status: Status
    public var attempts: Int
    public var error: String?
    public var createdAt: String
}

/// The outbox: a notification is recorded here before it is sent and marked when it is delivered, so a
/// crash in between sends it again at the next run (at least once, with the same event id) and an
/// unreachable receiver never loses one.
extension StateStore {
    /// Adds the items; an item already there (the same event for the same channel) is left as it is.
    func enqueue(_ items: [OutboxItem]) throws {
        guard !items.isEmpty else { return }
        try connection.inTransaction {
            for item in items {
                try connection.execute(
                    """
                    INSERT INTO pipeline_outbox (event_id, channel, channel_display, pipeline, run_id, name, body, status,
                    attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8)
                    ON CONFLICT (event_id, channel) DO NOTHING
                    """,
                    [
                        .text(item.eventID), .text(item.channel), .text(item.channelDisplay), .text(item.pipeline),
                        .text(item.runID), .text(item.name), .text(item.body), .text(item.createdAt),
                    ])
            }
        }
    }

    /// The pipeline's undelivered notifications, oldest first.
    func pendingNotifications(pipeline: String, limit: Int = 1000) throws -> [OutboxItem] {
        try outbox(where: "pipeline = $1 AND status = 'pending'", [.text(pipeline)], limit: limit)
    }

    /// The notifications a run raised or tried to deliver, in the order they were raised.
    public func notifications(runID: String) throws -> [OutboxItem] {
        try outbox(where: "run_id = $1 OR attempted_by = $1", [.text(runID)], limit: 10_000)
    }

    /// Records an attempt (or several) by `runID` and where it left the item.
    func recordDelivery(
        _ item: OutboxItem, status: OutboxItem.Status, attempts: Int, error: String?, by runID: String
    ) throws {
        let now = StateTime.text(Date())
        try connection.execute(
            """
            UPDATE pipeline_outbox SET status = $1, attempts = $2, error = $3, attempted_at = $4, attempted_by = $5,
            delivered_at = $6 WHERE event_id = $7 AND channel = $8
            """,
            [
                .text(status.rawValue), .integer(Int64(attempts)), error.map(SQLValue.text) ?? .null, .text(now),
                .text(runID), status == .delivered ? .text(now) : .null, .text(item.eventID), .text(item.channel),
            ])
    }

    private func outbox(where condition: String, _ values: [SQLValue], limit: Int) throws -> [OutboxItem] {
        var items: [OutboxItem] = []
        try connection.query(
            """
            SELECT event_id, channel, channel_display, pipeline, run_id, name, body, status, attempts, error, created_at
            FROM pipeline_outbox WHERE \(condition) ORDER BY created_at, event_id, channel LIMIT \(limit)
            """, values, columns: { _ in }
        ) { row in
            items.append(
                OutboxItem(
                    eventID: row.string(0) ?? "", channel: row.string(1) ?? "", channelDisplay: row.string(2) ?? "",
                    pipeline: row.string(3) ?? "", runID: row.string(4) ?? "", name: row.string(5) ?? "",
                    body: row.string(6) ?? "{}", status: OutboxItem.Status(rawValue: row.string(7) ?? "") ?? .pending,
                    attempts: Int(row.int64(8) ?? 0), error: row.string(9), createdAt: row.string(10) ?? ""))
        }
        return items
    }
}
