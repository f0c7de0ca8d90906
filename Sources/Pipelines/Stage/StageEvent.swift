/// A named event a stage kind can raise (e.g. `dataset.written`), declared once beside its outputs.
/// A raised event is recorded with the stage run in the state store, with a small JSON payload, for
/// notifications to deliver.
public struct StageEvent: Sendable, Equatable {
    public let name: String
    public let doc: String

    public init(_ name: String, doc: String) {
        self.name = name
        self.doc = doc
    }

    /// Payloads larger than this, as JSON text, are refused (a bug in the stage, not bad input).
    public static let maximumPayloadBytes = 64 * 1024
}

/// An event as recorded: its id is the same when a resumed run raises it again, so it is kept once.
public struct RecordedEvent: Sendable, Equatable {
    public var id: String
    public var runID: String
    public var stageID: String
    public var name: String
    /// Compact JSON.
    public var payload: String
    public var raisedAt: String
}
