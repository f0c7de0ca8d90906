/// The notifications of the engine's own events, with their ids: the same id whenever the same event is
/// raised again (a resumed run completing a stage it had not), so receivers can deduplicate.
extension Notifier.Event {
    static func runStarted(_ record: RunRecord) -> Notifier.Event {
        Notifier.Event(
            id: Notifier.eventID(record.id, RunEvents.started), name: RunEvents.started, runID: record.id, stageID: nil,
            fields: [("status", .string("running")), ("resumed_from", record.resumedFrom.map(JSONValue.string) ?? .null)])
    }

    static func runCompleted(_ record: RunRecord, results: [StageResult]) -> Notifier.Event {
        Notifier.Event(
            id: Notifier.eventID(record.instance, RunEvents.completed), name: RunEvents.completed, runID: record.id,
            stageID: nil, fields: [("status", .string("succeeded")), ("counts", counts(of: results))])
    }

    static func runFailed(_ record: RunRecord, results: [StageResult], error: String) -> Notifier.Event {
        Notifier.Event(
            id: Notifier.eventID(record.id, RunEvents.failed), name: RunEvents.failed, runID: record.id, stageID: nil,
            fields: [("status", .string("failed")), ("error", .string(error)), ("counts", counts(of: results))])
    }

    static func stage(_ name: String, _ result: StageResult, record: RunRecord) -> Notifier.Event {
        Notifier.Event(
            id: Notifier.eventID(record.instance, result.id, name), name: name, runID: record.id, stageID: result.id,
            fields: [
                ("kind", .string(result.kind)), ("status", .string(result.status.rawValue)),
                ("counts", counts(of: result)),
            ])
    }

    /// An event a stage raised: its id is the one the state store keeps it under.
    static func raised(_ event: RecordedEvent, payload: JSONValue) -> Notifier.Event {
        Notifier.Event(
            id: event.id, name: event.name, runID: event.runID, stageID: event.stageID, fields: [("payload", payload)])
    }

    private static func counts(of results: [StageResult]) -> JSONValue {
        .object(results.map { ($0.id, counts(of: $0)) })
    }

    private static func counts(of result: StageResult) -> JSONValue {
        .object(result.counts.map { ($0.counter.name, .number(String($0.value))) })
    }
}
