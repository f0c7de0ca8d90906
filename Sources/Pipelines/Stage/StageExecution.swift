/// How the engine runs a stage kind: whether it works in chunks with checkpoints (and how large its
/// chunks are by default) and whether a transient failure may be retried. Settings beside `uses:` that
/// the kind does not use (`chunk_size` on a kind without chunks) are refused at validation.
public struct StageExecution: Sendable, Equatable {
    /// Units per committed chunk by default, or nil when the kind does not work in chunks.
    public var defaultChunkSize: Int?
    /// What a chunk counts, for help: `rows`, `variant rows`.
    public var chunkUnit: String
    /// Whether running the stage again after a transient failure is safe.
    public var retryable: Bool

    /// A stage that commits in chunks, each with its checkpoint.
    public static func chunked(defaultSize: Int, unit: String = "rows", retryable: Bool = true) -> StageExecution {
        StageExecution(defaultChunkSize: defaultSize, chunkUnit: unit, retryable: retryable)
    }

    /// A stage that does its work whole: after a crash it is redone (or finds its work already done).
    public static func whole(retryable: Bool = true) -> StageExecution {
        StageExecution(defaultChunkSize: nil, chunkUnit: "", retryable: retryable)
    }

    public var isChunked: Bool { defaultChunkSize != nil }
}
