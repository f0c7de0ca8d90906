import Foundation

/// What makes two runs the same logical run: the pipeline's name and its identifying params, like a
/// Spring Batch job instance. The same identity resumes; different params make a different run.
public struct RunIdentity: Sendable, Hashable, CustomStringConvertible {
    /// SHA-256 of the name and the sorted identifying params, in hex.
    public let key: String
    public let pipeline: String
    /// As recorded and shown: values that went into a secret are `***` (the key is made from the real ones).
    public let params: [String: String]

    /// For a scheduled pipeline: the slot this run belongs to, part of the identity as `SCHEDULED_TIME`.
    public let slot: Date?
    /// For a scheduled pipeline: the key of its runs across slots (the identity without the slot and the
    /// params the schedule sets), under which the scheduler finds the last completed slot.
    public let series: String?

    public static let slotParam = "SCHEDULED_TIME"

    public init(pipeline: Pipeline) throws {
        self.pipeline = pipeline.name
        let identifying = pipeline.params.filter { !pipeline.nonIdentifyingParams.contains($0.name) }
        var values = Dictionary(identifying.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        slot = pipeline.slot
        if let schedule = pipeline.schedule, let slot = pipeline.slot {
            let setBySchedule = Set(schedule.paramNames)
            series = try Self.key(pipeline.name, values.filter { !setBySchedule.contains($0.key) })
            values[Self.slotParam] = Schedule.utcText(slot)
        } else {
            series = nil
        }
        params = SecretMask.params(values, hiding: pipeline.secrets)
        key = try Self.key(pipeline.name, values)
    }

    private static func key(_ name: String, _ values: [String: String]) throws -> String {
        let canonical = ([name] + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            .map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n") }
            .joined(separator: "\n")
        return try SHA256.hex(of: canonical)
    }

    /// The first 12 hex digits, for people.
    public var short: String { String(key.prefix(12)) }

    public var description: String {
        let shown = params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return shown.isEmpty ? pipeline : "\(pipeline) \(shown)"
    }
}
